#include "base/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"

#define GG_HTTP_DEFAULT_TIMEOUT 5.0
#define REDACTED "***"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result = CURLE_OK;

static void global_init(void) {
  init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

gg_status gg_http_global_init(gg_error *err) {
  pthread_once(&init_once, global_init);
  if (init_result != CURLE_OK)
    return gg_error_set(err, GG_ERR_HTTP, "initialise libcurl: %s", curl_easy_strerror(init_result));
  return GG_OK;
}

/* ---- URL redaction ---- */

/* Query parameter names that carry secrets: matched case-insensitively anywhere in the
 * name, so access_token, api_key, X-Amz-Signature and db_password are all caught. */
static const char *const secret_words[] = {"token", "key", "password", "passwd", "secret", "sig", "auth"};

static bool contains_ci(const char *s, size_t len, const char *word) {
  size_t w = strlen(word);
  for (size_t i = 0; i + w <= len; i++) {
    if (strncasecmp(s + i, word, w) == 0) return true;
  }
  return false;
}

static bool secret_param(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof secret_words / sizeof secret_words[0]; i++) {
    if (contains_ci(name, len, secret_words[i])) return true;
  }
  return false;
}

char *gg_http_redact_url(const char *url, char *out, size_t n) {
  if (!out || n == 0) return out;
  out[0] = '\0';
  if (!url) return out;
  gg_buf b;
  gg_buf_init(&b, 0);
  bool ok = true;
  const char *p = url;
  /* The authority follows "scheme://", or starts the text when there is no scheme (nats.c
   * takes "user:pass@host:4222" as a server). */
  const char *scheme = strstr(url, "://");
  const char *auth = scheme ? scheme + 3 : url;
  size_t auth_len = strcspn(auth, "/?#");
  const char *at = NULL;
  for (size_t i = 0; i < auth_len; i++) {
    if (auth[i] == '@') at = auth + i; /* the last '@': a password may hold one */
  }
  ok = gg_buf_append(&b, url, (size_t)(auth - url)) == GG_OK;
  if (at) {
    ok = ok && gg_buf_puts(&b, REDACTED) == GG_OK;
    p = at;
  } else {
    p = auth;
  }
  const char *q = strchr(p, '?');
  if (!q) {
    ok = ok && gg_buf_puts(&b, p) == GG_OK;
  } else {
    ok = ok && gg_buf_append(&b, p, (size_t)(q + 1 - p)) == GG_OK;
    p = q + 1;
    size_t query_len = strcspn(p, "#");
    const char *end = p + query_len;
    while (ok && p < end) {
      size_t plen = strcspn(p, "&");
      if (p + plen > end) plen = (size_t)(end - p);
      const char *eq = memchr(p, '=', plen);
      if (eq && secret_param(p, (size_t)(eq - p))) {
        ok = gg_buf_append(&b, p, (size_t)(eq + 1 - p)) == GG_OK && gg_buf_puts(&b, REDACTED) == GG_OK;
      } else {
        ok = gg_buf_append(&b, p, plen) == GG_OK;
      }
      p += plen;
      if (ok && p < end && *p == '&') {
        ok = gg_buf_puts(&b, "&") == GG_OK;
        p++;
      }
    }
    ok = ok && gg_buf_puts(&b, end) == GG_OK; /* the fragment, if any */
  }
  /* On ENOMEM show nothing rather than something unredacted. */
  snprintf(out, n, "%s", ok ? gg_buf_str(&b) : "<url>");
  gg_buf_release(&b);
  return out;
}

/* ---- requests ---- */

typedef struct {
  gg_buf body;
  bool too_big;
} sink;

static size_t on_write(char *data, size_t size, size_t nmemb, void *user) {
  sink *s = user;
  size_t n = size * nmemb;
  gg_status st = gg_buf_append(&s->body, data, n);
  if (st == GG_ERR_TOO_BIG) s->too_big = true;
  return st == GG_OK ? n : 0; /* anything short of n makes libcurl abort the transfer */
}

/* libcurl's reason for a failed transfer, as short and specific as it can be had: the
 * OS error for a refused connection ("Connection refused"), else the error buffer. */
static const char *reason(CURL *curl, CURLcode rc, const char *errbuf) {
  long os_errno = 0;
  if (rc == CURLE_COULDNT_CONNECT && curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
      os_errno != 0)
    return strerror((int)os_errno);
  return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

static gg_status map_error(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return GG_ERR_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return GG_ERR_CONNECT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return GG_ERR_INVALID;
    case CURLE_OUT_OF_MEMORY:
      return GG_ERR_NOMEM;
    default:
      return GG_ERR_HTTP;
  }
}

gg_status gg_http_request(const char *method, const char *url, const char *content_type, const void *body,
                          size_t len, const gg_http_opts *opts, gg_http_response *resp, gg_error *err) {
  static const gg_http_opts defaults = {0, 0, NULL};
  if (!opts) opts = &defaults;
  memset(resp, 0, sizeof *resp);
  if (!method) method = body ? "POST" : "GET";
  char shown[1024];
  gg_http_redact_url(url, shown, sizeof shown);
  if (!url || !*url) return gg_error_set(err, GG_ERR_INVALID, "%s: empty url", method);

  gg_status st = gg_http_global_init(err);
  if (st != GG_OK) return st;

  double timeout = opts->timeout > 0 ? opts->timeout : GG_HTTP_DEFAULT_TIMEOUT;
  sink s = {.too_big = false};
  gg_buf_init(&s.body, opts->max_body ? opts->max_body : GG_BUF_HTTP_BODY_MAX);
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  char *ctype = NULL;
  const char *ct = NULL;
  bool ok = true;
  double start = 0;
  CURLcode rc = CURLE_OK;
  CURL *curl = curl_easy_init();
  if (!curl) {
    st = gg_error_set(err, GG_ERR_NOMEM, "%s %s: cannot create a libcurl handle", method, shown);
    goto out;
  }

  /* Build the header list: the caller's, then ours. "Expect:" stops libcurl waiting a
   * second for "100 Continue" before sending a larger POST body. */
  for (const char *const *h = opts->headers; ok && h && *h; h++) {
    struct curl_slist *next = curl_slist_append(headers, *h);
    if (next) headers = next;
    ok = next != NULL;
  }
  if (ok && body) {
    char line[256];
    snprintf(line, sizeof line, "Content-Type: %s", content_type ? content_type : "application/json");
    struct curl_slist *next = curl_slist_append(headers, line);
    if (next) headers = next;
    ok = next != NULL;
    next = ok ? curl_slist_append(headers, "Expect:") : NULL;
    if (next) headers = next;
    ok = ok && next != NULL;
  }
  if (!ok) {
    st = gg_error_set(err, GG_ERR_NOMEM, "%s %s: out of memory", method, shown);
    goto out;
  }

  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  /* At least 1 ms: 0 would mean no timeout at all to libcurl. */
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout < 0.001 ? 1L : (long)(timeout * 1000));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "gonogo/0.1");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (body || strcmp(method, "POST") == 0) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
  }
  if (strcmp(method, "GET") == 0 && !body) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "POST") != 0) {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  }

  start = gg_clock_mono();
  rc = curl_easy_perform(curl);
  resp->elapsed = gg_clock_mono() - start;
  if (rc != CURLE_OK) {
    if (s.too_big) {
      st = gg_error_set(err, GG_ERR_TOO_BIG, "%s %s: response body exceeds %zu bytes", method, shown,
                        s.body.max);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
      char d[32];
      st = gg_error_set(err, GG_ERR_TIMEOUT, "%s %s: timed out after %s", method, shown,
                        gg_format_duration(timeout, d, sizeof d));
    } else {
      st = gg_error_set(err, map_error(rc), "%s %s: %s", method, shown, reason(curl, rc, errbuf));
    }
    goto out;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
  if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
    ctype = strdup(ct);
    if (!ctype) {
      st = gg_error_set(err, GG_ERR_NOMEM, "%s %s: out of memory", method, shown);
      goto out;
    }
  }
  resp->body_len = s.body.len;
  resp->body = gg_buf_detach(&s.body);
  if (!resp->body) {
    st = gg_error_set(err, GG_ERR_NOMEM, "%s %s: out of memory", method, shown);
    goto out;
  }
  resp->content_type = ctype;
  ctype = NULL;

out:
  if (st != GG_OK) {
    double elapsed = resp->elapsed;
    memset(resp, 0, sizeof *resp);
    resp->elapsed = elapsed;
  }
  free(ctype);
  gg_buf_release(&s.body);
  curl_slist_free_all(headers);
  if (curl) curl_easy_cleanup(curl);
  return st;
}

gg_status gg_http_get(const char *url, const gg_http_opts *opts, gg_http_response *resp, gg_error *err) {
  return gg_http_request("GET", url, NULL, NULL, 0, opts, resp, err);
}

gg_status gg_http_post(const char *url, const char *content_type, const void *body, size_t len,
                       const gg_http_opts *opts, gg_http_response *resp, gg_error *err) {
  return gg_http_request("POST", url, content_type, body ? body : "", body ? len : 0, opts, resp, err);
}

void gg_http_response_release(gg_http_response *resp) {
  if (!resp) return;
  free(resp->body);
  free(resp->content_type);
  resp->body = NULL;
  resp->content_type = NULL;
  resp->body_len = 0;
}
