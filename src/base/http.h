/*
 * http.h: an HTTP client on libcurl for probes, notifications and tests.
 *
 * Every request has a total timeout and a cap on the body kept; a body over the cap is
 * an error (GG_ERR_TOO_BIG), not a silent truncation. A non-2xx status is not an error
 * here: the response carries it and the caller decides. Transport failures (refused,
 * DNS, TLS, timeout) are errors whose message names the URL and libcurl's reason, with
 * any userinfo in the URL redacted.
 *
 * gg_http_global_init must be called once before threads start (curl_global_init).
 *
 * Each request uses its own libcurl easy handle, so requests may run concurrently from
 * any threads. Only http and https URLs are accepted; redirects are not followed.
 */
#ifndef GG_HTTP_H
#define GG_HTTP_H

#include <stddef.h>

#include "base/error.h"

typedef struct {
  double timeout;             /* seconds, total; <= 0 means 5 s */
  size_t max_body;            /* 0 means GG_BUF_HTTP_BODY_MAX */
  const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
} gg_http_opts;

typedef struct {
  long status; /* HTTP status code */
  char *body;  /* NUL-terminated; you own it (free()) */
  size_t body_len;
  char *content_type; /* may be NULL; you own it */
  double elapsed;     /* seconds, whole request */
} gg_http_response;

/* Initialise libcurl once (later calls only report the first result). Requests call it
 * too, but calling it from main before any thread starts is what libcurl requires. */
gg_status gg_http_global_init(gg_error *err) GG_WUR;

/* GET url. GG_OK when any HTTP response arrived (resp is then filled and yours to
 * release); GG_ERR_CONNECT (refused, DNS, TLS, reset), GG_ERR_TIMEOUT, GG_ERR_TOO_BIG
 * (body over max_body) or GG_ERR_INVALID (bad URL) otherwise, with resp owning nothing
 * (only resp->elapsed is set). Messages read "GET http://host/path: Connection refused". */
gg_status gg_http_get(const char *url, const gg_http_opts *opts, gg_http_response *resp,
                      gg_error *err) GG_WUR;

/* POST body (len bytes) with the given content type (NULL: application/json). */
gg_status gg_http_post(const char *url, const char *content_type, const void *body, size_t len,
                       const gg_http_opts *opts, gg_http_response *resp, gg_error *err) GG_WUR;

/* Generic: method "GET", "POST", "PUT", "DELETE", "HEAD" (NULL: POST with a body, GET
 * without); body may be NULL, content_type as for gg_http_post. Results as gg_http_get. */
gg_status gg_http_request(const char *method, const char *url, const char *content_type, const void *body,
                          size_t len, const gg_http_opts *opts, gg_http_response *resp, gg_error *err) GG_WUR;

/* Free what a response owns and empty it. NULL-safe; twice is harmless. */
void gg_http_response_release(gg_http_response *resp);

/* Copy url into out with any "user:password@" or "token@" (with or without a scheme)
 * replaced by "***@" and the values of query parameters that look secret replaced by "***":
 * a name containing token, key, password, passwd, secret, sig or auth, in any case
 * (access_token, api_key, X-Amz-Signature). Truncated to n bytes including the NUL; returns
 * out. For a comma-separated list of URLs see gg_secret_redact_urls (base/secret.h). */
char *gg_http_redact_url(const char *url, char *out, size_t n);

#endif
