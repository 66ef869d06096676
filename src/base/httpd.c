#include "base/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"

/* Descriptors kept free for everything else the process opens (NATS, logs, files). */
#define FD_RESERVE 128
/* How often the deadlines are checked. */
#define REAP_INTERVAL_NS (100 * 1000 * 1000)

typedef enum { PHASE_HEADERS, PHASE_BODY, PHASE_BUSY } conn_phase;

/* One open connection (MHD's socket context), on the server's list in accept order so
 * that the oldest connection still sending headers is found first. Guarded by the
 * server's conns_lock. */
typedef struct conn_slot {
  struct conn_slot *prev, *next;
  int fd;
  conn_phase phase;
  double since; /* when the phase began (gg_clock_mono) */
  bool over;    /* let in over the limit: its requests are answered 503 */
  bool closing; /* shut down by the server; MHD closes it on its next look */
} conn_slot;

struct gg_httpd {
  struct MHD_Daemon *daemon;
  gg_httpd_route *routes;
  size_t nroutes;
  size_t max_body;
  const char *health_path;
  uint16_t port;
  int quiesced_fd; /* the listen socket handed back by MHD_quiesce_daemon, or -1 */
  void (*on_answer)(void *closure, const char *path, unsigned status);
  void *on_answer_closure;
  pthread_mutex_t lock;
  size_t suspended;
  /* Connections: the limit and its headroom, the deadlines, and the reaper that keeps them. */
  unsigned limit, headroom;
  double header_timeout, body_timeout;
  pthread_mutex_t conns_lock;
  conn_slot *head, *tail;
  unsigned live; /* open and not closing */
  pthread_t reaper;
  bool reaper_started;
  bool reaper_stop;
  pthread_cond_t reaper_cond;
};

typedef enum { REQ_READING, REQ_HANDLING, REQ_SUSPENDED, REQ_RESUMED, REQ_SENT } req_state;

struct gg_httpd_req {
  gg_httpd *server;
  struct MHD_Connection *conn;
  const gg_httpd_route *route;
  const char *method;
  const char *path;
  unsigned early_status; /* 404/405/413 decided before the body was read */
  bool too_big;
  gg_buf body;
  pthread_mutex_t lock;
  req_state state;
  struct MHD_Response *resp; /* the answer, once given */
  unsigned status;
};

const char *gg_httpd_req_method(const gg_httpd_req *req) {
  return req->method;
}

const char *gg_httpd_req_path(const gg_httpd_req *req) {
  return req->path;
}

const char *gg_httpd_req_header(const gg_httpd_req *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *gg_httpd_req_query(const gg_httpd_req *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *gg_httpd_req_body(const gg_httpd_req *req, size_t *len) {
  if (len) *len = req->body.len;
  return gg_buf_str(&req->body);
}

static struct MHD_Response *make_response(const char *content_type, const void *body, size_t len,
                                          const char *const *headers) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, len ? (void *)body : (void *)"", MHD_RESPMEM_MUST_COPY);
  if (!r) return NULL;
  if (content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
    MHD_add_response_header(r, headers[i], headers[i + 1]);
  return r;
}

void gg_httpd_respond(gg_httpd_req *req, unsigned status, const char *content_type, const void *body,
                      size_t len, const char *const *headers) {
  struct MHD_Response *r = make_response(content_type, body, len, headers);
  if (!r) {
    /* Out of memory: answer with an empty 500 built from a static buffer. */
    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    status = 500;
  }
  pthread_mutex_lock(&req->lock);
  req->resp = r;
  req->status = status;
  if (req->state == REQ_SUSPENDED) {
    req->state = REQ_RESUMED;
    pthread_mutex_lock(&req->server->lock);
    req->server->suspended--;
    pthread_mutex_unlock(&req->server->lock);
    MHD_resume_connection(req->conn);
  }
  pthread_mutex_unlock(&req->lock);
}

void gg_httpd_respond_json(gg_httpd_req *req, unsigned status, const char *json) {
  gg_httpd_respond(req, status, "application/json", json, strlen(json), NULL);
}

static enum MHD_Result send_answer(gg_httpd_req *req) {
  struct MHD_Response *r = req->resp;
  req->resp = NULL;
  req->state = REQ_SENT;
  enum MHD_Result ret = r ? MHD_queue_response(req->conn, req->status, r) : MHD_NO;
  gg_httpd *h = req->server;
  if (h->on_answer) h->on_answer(h->on_answer_closure, req->route ? req->route->path : "", req->status);
  if (r) MHD_destroy_response(r);
  return ret;
}

static void answer_error(gg_httpd_req *req, unsigned status) {
  char body[160];
  const char *what = status == 400   ? "bad request framing"
                     : status == 404 ? "not found"
                     : status == 405 ? "method not allowed"
                     : status == 413 ? "request body too large"
                     : status == 501 ? "transfer coding not implemented"
                     : status == 503 ? "too many connections"
                                     : "error";
  int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", what);
  /* An answer given before the body is read closes the connection (MHD reads no body
   * after it); saying so tells the client not to reuse it. */
  const char *allow[] = {"Allow", req->route ? req->route->method : "", NULL};
  const char *closing[] = {"Connection", "close", status == 503 ? "Retry-After" : NULL, "1", NULL};
  req->resp = make_response("application/json", body, (size_t)n,
                            status == 405                                     ? allow
                            : status == 400 || status == 501 || status == 503 ? closing
                                                                              : NULL);
  req->status = status;
}

static const gg_httpd_route *find_route(const gg_httpd *h, const char *method, const char *path,
                                        const gg_httpd_route **path_match) {
  *path_match = NULL;
  for (size_t i = 0; i < h->nroutes; i++) {
    if (strcmp(h->routes[i].path, path) != 0) continue;
    if (!*path_match) *path_match = &h->routes[i];
    if (strcmp(h->routes[i].method, method) == 0) return &h->routes[i];
  }
  return NULL;
}

/* Close a connection from outside MHD: shutting the socket down makes MHD see the end of
 * the stream on its next look and close it. Only while the slot is on the list (MHD
 * closes the descriptor after it has told us the connection closed, never before), so
 * the descriptor cannot be another connection's by then. */
static void slot_shut(gg_httpd *h, conn_slot *s) {
  if (s->closing) return;
  s->closing = true;
  h->live--;
  shutdown(s->fd, SHUT_RDWR);
}

static conn_slot *slot_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* Admission: below the limit every connection is welcome. At the limit the oldest one
 * still waiting for its headers gives way (a slowloris client, or a kept-alive one that
 * is idle and can reconnect), so a flood of slow clients cannot lock anyone out. When
 * all are busy with requests, the new one is let into the headroom, where it gets a
 * clear 503 instead of a connection nobody serves; past that it is closed at once. */
static void admit(gg_httpd *h, conn_slot *s) {
  if (h->live >= h->limit) {
    conn_slot *victim = h->head;
    while (victim && (victim->closing || victim->phase != PHASE_HEADERS)) victim = victim->next;
    if (victim) {
      slot_shut(h, victim);
    } else if (h->live >= h->limit + h->headroom) {
      s->closing = true;
      shutdown(s->fd, SHUT_RDWR);
    } else {
      s->over = true;
    }
  }
  s->prev = h->tail;
  if (h->tail)
    h->tail->next = s;
  else
    h->head = s;
  h->tail = s;
  if (!s->closing) h->live++;
}

/* MHD's own messages (a client that went away mid-request, and so on) come by the
 * thousand under a flood: they are debug lines, formatted only when debug is on. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) GG_PRINTF(2, 0);
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  if (gg_log_threshold > GG_LOG_DEBUG) return;
  char line[256];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  gg_debug("http server", "detail=\"%s\"", line);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  gg_httpd *h = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn_slot *s = calloc(1, sizeof *s);
    if (!s) {
      if (ci) shutdown(ci->connect_fd, SHUT_RDWR);
      return;
    }
    s->fd = ci ? ci->connect_fd : -1;
    s->phase = PHASE_HEADERS;
    s->since = gg_clock_mono();
    pthread_mutex_lock(&h->conns_lock);
    admit(h, s);
    pthread_mutex_unlock(&h->conns_lock);
    *socket_context = s;
    return;
  }
  conn_slot *s = *socket_context;
  if (!s) return;
  pthread_mutex_lock(&h->conns_lock);
  if (s->prev)
    s->prev->next = s->next;
  else
    h->head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else
    h->tail = s->prev;
  if (!s->closing) h->live--;
  pthread_mutex_unlock(&h->conns_lock);
  free(s);
  *socket_context = NULL;
}

/* Move a connection to a phase; false when the server has already shut it down. */
static bool slot_enter(gg_httpd *h, struct MHD_Connection *conn, conn_phase phase) {
  conn_slot *s = slot_of(conn);
  if (!s) return true;
  pthread_mutex_lock(&h->conns_lock);
  bool open = !s->closing;
  s->phase = phase;
  s->since = gg_clock_mono();
  pthread_mutex_unlock(&h->conns_lock);
  return open;
}

static void *reaper_main(void *arg) {
  gg_httpd *h = arg;
  pthread_mutex_lock(&h->conns_lock);
  while (!h->reaper_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += REAP_INTERVAL_NS;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&h->reaper_cond, &h->conns_lock, &ts);
    double now = gg_clock_mono();
    for (conn_slot *s = h->head; s; s = s->next) {
      if (s->closing) continue;
      if ((s->phase == PHASE_HEADERS && now - s->since > h->header_timeout) ||
          (s->phase == PHASE_BODY && now - s->since > h->body_timeout))
        slot_shut(h, s);
    }
  }
  pthread_mutex_unlock(&h->conns_lock);
  return NULL;
}

typedef struct {
  unsigned content_length; /* headers seen */
  const char *first_length;
  bool lengths_differ;
  bool transfer_encoding; /* any Transfer-Encoding header */
  unsigned chunked;       /* times chunked was applied */
  bool chunked_last;      /* the last coding of all is chunked */
  bool other_coding;      /* a coding other than chunked */
  bool empty_coding;      /* a Transfer-Encoding header naming nothing */
} framing;

static enum MHD_Result on_header_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
  framing *f = cls;
  if (!key || !value) return MHD_YES;
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
    if (f->content_length++ == 0)
      f->first_length = value;
    else if (strcmp(f->first_length, value) != 0)
      f->lengths_differ = true;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    /* A list of codings, possibly over several headers, applied in order. */
    f->transfer_encoding = true;
    unsigned tokens = 0;
    for (const char *p = value;;) {
      while (*p == ' ' || *p == '\t') p++;
      const char *end = strchr(p, ',');
      size_t n = end ? (size_t)(end - p) : strlen(p);
      while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
      if (n > 0) {
        tokens++;
        f->chunked_last = n == 7 && strncasecmp(p, "chunked", 7) == 0;
        if (f->chunked_last)
          f->chunked++;
        else
          f->other_coding = true;
      }
      if (!end) break;
      p = end + 1;
    }
    if (tokens == 0) f->empty_coding = true;
  }
  return MHD_YES;
}

/* 0 when the request's body framing is unambiguous, else the status to answer before
 * closing the connection (RFC 9112 §6.1, §6.3): 400 when the length cannot be known for
 * sure (Content-Length beside Transfer-Encoding, lengths that disagree, chunked missing,
 * applied twice or not last, Transfer-Encoding in HTTP/1.0), 501 for a coding we do not
 * decode. MHD itself goes by the first Content-Length, and by Transfer-Encoding over
 * Content-Length, so these must be caught before it reads the body. */
static unsigned framing_problem(struct MHD_Connection *conn, const char *version) {
  framing f = {0};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header_line, &f);
  if (f.lengths_differ) return 400;
  if (!f.transfer_encoding) return 0;
  if (f.content_length > 0 || f.empty_coding || !f.chunked_last || f.chunked > 1) return 400;
  if (version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0) return 400;
  return f.other_coding ? 501 : 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  gg_httpd *h = cls;
  gg_httpd_req *req = *con_cls;
  if (!req) {
    /* The headers are in: the body's deadline starts now. */
    if (!slot_enter(h, conn, PHASE_BODY)) return MHD_NO;
    conn_slot *slot = slot_of(conn);
    pthread_mutex_lock(&h->conns_lock);
    bool over = slot && slot->over;
    pthread_mutex_unlock(&h->conns_lock);
    req = calloc(1, sizeof *req);
    if (!req) return MHD_NO;
    req->server = h;
    req->conn = conn;
    req->method = method;
    req->path = url;
    pthread_mutex_init(&req->lock, NULL);
    *con_cls = req;
    const gg_httpd_route *any;
    req->route = find_route(h, method, url, &any);
    size_t cap = req->route && req->route->max_body ? req->route->max_body : h->max_body;
    gg_buf_init(&req->body, cap);
    unsigned refuse = framing_problem(conn, version);
    if (!refuse && over && !(h->health_path && strcmp(url, h->health_path) == 0)) refuse = 503;
    if (refuse) {
      /* Answered now, before a byte of the body: MHD then closes the connection after the
       * answer, so nothing that follows on it is taken for a request. */
      if (!req->route) req->route = any;
      answer_error(req, refuse);
      return send_answer(req);
    }
    if (!req->route) {
      req->route = any;
      req->early_status = any ? 405 : 404;
    } else {
      const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && *end == '\0' && n > cap) req->early_status = 413;
      }
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!req->early_status && !req->too_big &&
        gg_buf_append(&req->body, upload_data, *upload_data_size) != GG_OK)
      req->too_big = true;
    *upload_data_size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock(&req->lock);
  if (req->state == REQ_RESUMED || req->state == REQ_SENT) {
    enum MHD_Result ret = req->state == REQ_RESUMED ? send_answer(req) : MHD_YES;
    pthread_mutex_unlock(&req->lock);
    return ret;
  }
  if (req->state != REQ_READING) { /* called again while suspended: nothing to do yet */
    pthread_mutex_unlock(&req->lock);
    return MHD_YES;
  }
  /* The body is in: past the deadlines (a suspended request is bounded by its handler). A
   * connection shut down for its deadline meanwhile is not handled: nobody could hear the
   * answer. */
  if (!slot_enter(h, conn, PHASE_BUSY)) {
    pthread_mutex_unlock(&req->lock);
    return MHD_NO;
  }
  if (req->early_status || req->too_big) {
    answer_error(req, req->too_big ? 413 : req->early_status);
    enum MHD_Result ret = send_answer(req);
    pthread_mutex_unlock(&req->lock);
    return ret;
  }
  req->state = REQ_HANDLING;
  pthread_mutex_unlock(&req->lock);

  req->route->handler(req, req->route->closure);

  pthread_mutex_lock(&req->lock);
  enum MHD_Result ret = MHD_YES;
  if (req->resp) {
    ret = send_answer(req);
  } else {
    req->state = REQ_SUSPENDED;
    pthread_mutex_lock(&h->lock);
    h->suspended++;
    pthread_mutex_unlock(&h->lock);
    MHD_suspend_connection(conn);
  }
  pthread_mutex_unlock(&req->lock);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  /* A kept-alive connection now waits for its next request: the header deadline again. */
  slot_enter(cls, conn, PHASE_HEADERS);
  gg_httpd_req *req = *con_cls;
  if (!req) return;
  if (req->resp) MHD_destroy_response(req->resp);
  gg_buf_release(&req->body);
  pthread_mutex_destroy(&req->lock);
  free(req);
  *con_cls = NULL;
}

static gg_status parse_listen(const char *listen, struct sockaddr_in *sa, gg_error *err) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  if (!colon)
    return gg_error_set(err, GG_ERR_INVALID, "listen address '%s': expected HOST:PORT", listen ? listen : "");
  char host[64];
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host)
    return gg_error_set(err, GG_ERR_INVALID, "listen address '%s': host too long", listen);
  memcpy(host, listen, hl);
  host[hl] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end || port < 0 || port > 65535)
    return gg_error_set(err, GG_ERR_INVALID, "listen address '%s': bad port", listen);
  sa->sin_port = htons((uint16_t)port);
  if (hl == 0 || strcmp(host, "*") == 0) {
    sa->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (strcmp(host, "localhost") == 0) {
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
    return gg_error_set(err, GG_ERR_INVALID, "listen address '%s': '%s' is not an IPv4 address", listen,
                        host);
  }
  return GG_OK;
}

/* The open files this process may have, raised toward the hard limit when fewer than
 * `need`. */
static rlim_t fd_room(rlim_t need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return RLIM_INFINITY;
  if (rl.rlim_cur >= need) return rl.rlim_cur;
  rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
  struct rlimit raised = {want, rl.rlim_max};
  return setrlimit(RLIMIT_NOFILE, &raised) == 0 ? want : rl.rlim_cur;
}

static void set_limit(gg_httpd *h, unsigned limit) {
  h->limit = limit;
  h->headroom = limit / 8 > 16 ? limit / 8 : 16;
}

gg_status gg_httpd_start(const gg_httpd_opts *opts, gg_httpd **out, gg_error *err) {
  struct sockaddr_in sa;
  gg_status st = parse_listen(opts->listen, &sa, err);
  if (st != GG_OK) return st;
  gg_httpd *h = calloc(1, sizeof *h);
  if (!h) return gg_error_set(err, GG_ERR_NOMEM, "start http server: out of memory");
  h->quiesced_fd = -1;
  pthread_mutex_init(&h->lock, NULL);
  pthread_mutex_init(&h->conns_lock, NULL);
  pthread_cond_init(&h->reaper_cond, NULL);
  set_limit(h, opts->connection_limit ? opts->connection_limit : 1024);
  h->header_timeout = opts->header_timeout > 0 ? opts->header_timeout : 10;
  h->body_timeout = opts->body_timeout > 0 ? opts->body_timeout : 30;
  h->max_body = opts->max_body ? opts->max_body : GG_HTTPD_BODY_MAX;
  h->health_path = opts->health_path;
  h->on_answer = opts->on_answer;
  h->on_answer_closure = opts->on_answer_closure;
  h->nroutes = opts->nroutes;
  if (opts->nroutes) {
    h->routes = calloc(opts->nroutes, sizeof *h->routes);
    if (!h->routes) {
      gg_httpd_stop(h);
      return gg_error_set(err, GG_ERR_NOMEM, "start http server: out of memory");
    }
    memcpy(h->routes, opts->routes, opts->nroutes * sizeof *h->routes);
  }
  /* MHD's own limit sits a further headroom above ours: connections we have shut down
   * stay counted until MHD closes them, and at its limit MHD stops accepting, which
   * leaves clients waiting in the listen backlog. */
  rlim_t need = (rlim_t)h->limit + 2 * h->headroom + FD_RESERVE;
  rlim_t room = fd_room(need);
  if (room < need && !opts->connection_limit && room > FD_RESERVE + 48) {
    /* The default limit shrinks to what the open-file limit holds; a chosen one does not. */
    set_limit(h, (unsigned)((room - FD_RESERVE) * 4 / 5));
    need = (rlim_t)h->limit + 2 * h->headroom + FD_RESERVE;
  }
  if (room < need) {
    unsigned limit = h->limit;
    gg_httpd_stop(h);
    return gg_error_set(err, GG_ERR_INVALID,
                        "listen on '%s': %u connections need %llu open files, the limit is %llu (ulimit -n)",
                        opts->listen, limit, (unsigned long long)need, (unsigned long long)room);
  }
  unsigned mhd_limit = h->limit + 2 * h->headroom;
  unsigned threads = opts->threads > 1 ? opts->threads : 1;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  struct MHD_OptionItem options[] = {
      {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, h}, /* first, or MHD logs some itself */
      {MHD_OPTION_SOCK_ADDR, 0, &sa},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
      {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
      {MHD_OPTION_CONNECTION_LIMIT, mhd_limit, NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, opts->connection_timeout ? opts->connection_timeout : 30, NULL},
      /* MHD warns about a pool of one: leave the option out then. */
      {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
      {MHD_OPTION_END, 0, NULL},
  };
  h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
  if (!h->daemon) {
    gg_httpd_stop(h);
    return gg_error_set(err, GG_ERR_SYSTEM, "listen on '%s': cannot start http server (address in use?)",
                        opts->listen);
  }
  if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
    gg_httpd_stop(h);
    return gg_error_set(err, GG_ERR_SYSTEM, "listen on '%s': cannot start the connection reaper",
                        opts->listen);
  }
  h->reaper_started = true;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : ntohs(sa.sin_port);
  *out = h;
  return GG_OK;
}

uint16_t gg_httpd_port(const gg_httpd *h) {
  return h->port;
}

void gg_httpd_quiesce(gg_httpd *h) {
  if (!h || !h->daemon || h->quiesced_fd >= 0) return;
  MHD_socket fd = MHD_quiesce_daemon(h->daemon);
  h->quiesced_fd = fd == MHD_INVALID_SOCKET ? -2 : fd;
}

void gg_httpd_connections(gg_httpd *h, unsigned *in_headers, unsigned *past_headers) {
  unsigned a = 0, b = 0;
  pthread_mutex_lock(&h->conns_lock);
  for (const conn_slot *s = h->head; s; s = s->next) {
    if (s->closing) continue;
    if (s->phase == PHASE_HEADERS)
      a++;
    else
      b++;
  }
  pthread_mutex_unlock(&h->conns_lock);
  if (in_headers) *in_headers = a;
  if (past_headers) *past_headers = b;
}

size_t gg_httpd_suspended(gg_httpd *h) {
  pthread_mutex_lock(&h->lock);
  size_t n = h->suspended;
  pthread_mutex_unlock(&h->lock);
  return n;
}

void gg_httpd_stop(gg_httpd *h) {
  if (!h) return;
  if (h->reaper_started) {
    pthread_mutex_lock(&h->conns_lock);
    h->reaper_stop = true;
    pthread_cond_signal(&h->reaper_cond);
    pthread_mutex_unlock(&h->conns_lock);
    pthread_join(h->reaper, NULL);
  }
  if (h->daemon) MHD_stop_daemon(h->daemon);
  if (h->quiesced_fd >= 0) close(h->quiesced_fd);
  pthread_cond_destroy(&h->reaper_cond);
  pthread_mutex_destroy(&h->conns_lock);
  pthread_mutex_destroy(&h->lock);
  free(h->routes);
  free(h);
}
