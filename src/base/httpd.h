/*
 * httpd.h: a small HTTP server on libmicrohttpd for the services and `gonogo watch`.
 *
 * A server listens on one address and dispatches by exact path to routes. A route's
 * handler runs once the whole body has arrived (capped: a body over the route's cap is
 * answered 413 by the server, never seen by the handler; an unknown path 404, a known
 * path with another method 405 with Allow). The handler answers with gg_httpd_respond,
 * either before it returns or later, from any thread: a request not answered when its
 * handler returns is suspended (it holds no thread) and resumed when the answer comes.
 * That is how ingest-service waits for JetStream acks without a thread per request.
 *
 * Handlers run on the server's threads (a pool of `threads`), so they must not block
 * for long. Each request is answered exactly once; after gg_httpd_respond the request
 * pointer must not be used again.
 *
 * Slow clients cannot hold the server: a connection has header_timeout seconds from its
 * accept (or from the end of its previous request) to send complete headers, then
 * body_timeout seconds for the body, however steadily it sends bytes; then it is closed.
 * At most connection_limit connections are open: at the limit a new connection displaces
 * the oldest one still waiting for its headers (a slow or idle client: nothing is lost),
 * and when every connection is busy with a request it is let into a headroom of a
 * further limit/8 where its request is answered 503 {"error":"too many connections"} and
 * closed (except on health_path, which answers as usual, so that a probe tells a flood
 * from a failure); past the headroom it is closed at once. A client never waits on a
 * connection nobody serves.
 *
 * Request framing is checked before any handler runs (RFC 9112 §6): a request with both
 * Content-Length and Transfer-Encoding, with Content-Length headers that disagree, or
 * with a Transfer-Encoding whose last coding is not a single chunked is answered 400 and
 * the connection closed, so that nothing after it on the connection is read as another
 * request (request smuggling); codings other than chunked are answered 501.
 */
#ifndef GG_HTTPD_H
#define GG_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* The default body cap when neither the route nor the options say. */
#define GG_HTTPD_BODY_MAX (1u << 20)

typedef struct gg_httpd gg_httpd;
typedef struct gg_httpd_req gg_httpd_req;

/* Called with the complete request; must (eventually) call gg_httpd_respond once. */
typedef void (*gg_httpd_handler)(gg_httpd_req *req, void *closure);

typedef struct {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* exact match, e.g. "/v1/hrv" */
  gg_httpd_handler handler;
  void *closure;
  size_t max_body; /* 0: the server's max_body */
} gg_httpd_route;

typedef struct {
  const char *listen;          /* "127.0.0.1:8081", "0.0.0.0:80", "127.0.0.1:0" (any free port) */
  size_t max_body;             /* 0: GG_HTTPD_BODY_MAX */
  unsigned threads;            /* worker threads; 0 or 1: one */
  unsigned connection_limit;   /* open connections at most (see above); 0: 1024 */
  unsigned connection_timeout; /* idle seconds before a connection is closed; 0: 30 */
  double header_timeout;       /* seconds to send complete headers; 0: 10 */
  double body_timeout;         /* seconds to send the body once the headers are in; 0: 30 */
  /* A path answered as usual even over the connection limit, so that a health check tells
   * a flood from a failure; NULL: none. Not copied. */
  const char *health_path;
  const gg_httpd_route *routes; /* copied (the strings are not: they must outlive the server) */
  size_t nroutes;
  /* Called once per answered request, on the thread that sends it, with the route's path
   * ("" for an unknown path) and the status: for request counters. May be NULL. */
  void (*on_answer)(void *closure, const char *path, unsigned status);
  void *on_answer_closure;
} gg_httpd_opts;

/* Start serving. On error (bad address, port in use, a connection limit the open-file
 * limit cannot hold even after raising it to the hard limit) err names the address and
 * the reason. You own *out; stop it with gg_httpd_stop. */
gg_status gg_httpd_start(const gg_httpd_opts *opts, gg_httpd **out, gg_error *err) GG_WUR;

/* The port actually bound (useful with port 0). */
uint16_t gg_httpd_port(const gg_httpd *h);

/* Stop accepting new connections; requests already in progress continue. Idempotent. */
void gg_httpd_quiesce(gg_httpd *h);

/* Requests that are suspended (handler returned, answer not yet given). */
size_t gg_httpd_suspended(gg_httpd *h);

/* Open connections (not closing) still sending their headers, and those past them (sending a
 * body or being answered): what the connection limit weighs. For tests and metrics. */
void gg_httpd_connections(gg_httpd *h, unsigned *in_headers, unsigned *past_headers);

/* Stop and free the server. Suspended requests must all have been answered first (the
 * caller waits for its own pending work; gg_httpd_suspended tells). NULL-safe. */
void gg_httpd_stop(gg_httpd *h);

/* Request accessors; the strings are owned by the request and valid until it is answered. */
const char *gg_httpd_req_method(const gg_httpd_req *req);
const char *gg_httpd_req_path(const gg_httpd_req *req);
/* A request header (case-insensitive name), or NULL. */
const char *gg_httpd_req_header(const gg_httpd_req *req, const char *name);
/* A query-string argument ("?since=5m" → "5m" for "since"), decoded, or NULL. */
const char *gg_httpd_req_query(const gg_httpd_req *req, const char *name);
/* The body (NUL-terminated for convenience; len excludes the NUL). Never NULL. */
const char *gg_httpd_req_body(const gg_httpd_req *req, size_t *len);

/* Answer the request: status, content type (NULL: none), body (copied; may be NULL when
 * len is 0), and extra headers as NULL-terminated name/value pairs
 * ({"Retry-After", "2", NULL}; may be NULL). Any thread, exactly once. */
void gg_httpd_respond(gg_httpd_req *req, unsigned status, const char *content_type, const void *body,
                      size_t len, const char *const *headers);

/* Convenience: answer with a JSON body given as a C string. */
void gg_httpd_respond_json(gg_httpd_req *req, unsigned status, const char *json);

#endif
