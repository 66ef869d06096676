/*
 * ingest-service: request handling and the asynchronous publish path.
 *
 * A POST is validated on an HTTP worker thread, published with js_PublishMsgAsync and left
 * suspended. nats.c calls ack_handler (on its own thread) with the ack or the error for
 * that message; the request is found again by its message pointer in `pending`. Retries
 * do not sleep on nats.c's thread: they go to a queue ordered by due time that the retry
 * thread republishes from.
 */
#include <math.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "ingest/internal.h"
#include "svc/natsopts.h"
#include "svc/payload.h"
#include "svc/service.h"

#define PENDING_BUCKETS 8192u
#define RETRY_FIRST 0.01 /* seconds; a subject cutover's gap is a few milliseconds */
#define RETRY_MAX 0.5

enum { ROUTE_HRV, ROUTE_OURA, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_COUNT };
static const char *const route_names[ROUTE_COUNT] = {"/v1/hrv", "/webhooks/oura", "/health", "/metrics"};

typedef struct pub_ctx {
  gg_httpd_req *req;
  natsMsg *msg;
  int route;
  bool new_side; /* sent to the new topology's subject by the traffic split */
  int attempts;
  double started; /* monotonic */
  double deadline;
  double due; /* when queued for retry */
  char last_error[160];
  struct pub_ctx *next; /* in a pending bucket or the retry queue */
} pub_ctx;

struct ingest {
  const ingest_config *cfg;
  natsConnection *nc;
  jsCtx *js;
  gg_httpd *http;
  gg_metrics *metrics;
  gg_metric *m_requests, *m_published, *m_retries, *m_latency, *m_split, *m_share, *m_share_ok;
  gg_metric_series *s_inflight, *s_connected;
  ingest_shift shift[2]; /* the traffic split of core (HRV) and vendor (Oura) */
  gg_httpd_route routes[ROUTE_COUNT];

  pthread_mutex_t lock;
  pthread_cond_t cond; /* retry queue changed, or stopping, or inflight dropped */
  pub_ctx *pending[PENDING_BUCKETS];
  pub_ctx *retries; /* sorted by due */
  size_t inflight;
  bool stopping;
  bool retry_thread_started;
  pthread_t retry_thread;
};

static size_t bucket_of(const natsMsg *m) {
  uintptr_t p = (uintptr_t)m;
  p ^= p >> 17;
  p *= 0x9E3779B97F4A7C15ull;
  return (size_t)(p >> 40) % PENDING_BUCKETS;
}

/* Under svc->lock. */
static void pending_put(ingest *svc, pub_ctx *c) {
  size_t b = bucket_of(c->msg);
  c->next = svc->pending[b];
  svc->pending[b] = c;
}

/* Under svc->lock. */
static pub_ctx *pending_take(ingest *svc, const natsMsg *m) {
  for (pub_ctx **pp = &svc->pending[bucket_of(m)]; *pp; pp = &(*pp)->next) {
    if ((*pp)->msg == m) {
      pub_ctx *c = *pp;
      *pp = c->next;
      c->next = NULL;
      return c;
    }
  }
  return NULL;
}

/* httpd calls this for every answer, its own 404/405/413 included. */
static void count_request(void *closure, const char *path, unsigned status) {
  ingest *svc = closure;
  char code[8];
  snprintf(code, sizeof code, "%u", status);
  gg_metrics_inc(gg_metrics_series(svc->m_requests, (const char *const[]){*path ? path : "other", code}), 1);
}

static void respond_json(gg_httpd_req *req, unsigned status, const char *json, const char *const *headers) {
  gg_httpd_respond(req, status, "application/json", json, strlen(json), headers);
}

static void respond_problem(gg_httpd_req *req, unsigned status, const char *error, const char *problem,
                            const char *const *headers) {
  json_t *o = json_pack("{s:s,s:s}", "error", error, "problem", problem);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  respond_json(req, status, s ? s : "{\"error\":\"internal\"}", headers);
  free(s);
  json_decref(o);
}

/* Finish a publish: answer the request, account, free. Not under svc->lock. */
static void finish(ingest *svc, pub_ctx *c, unsigned status, const char *body, const char *const *headers) {
  respond_json(c->req, status, body, headers);
  natsMsg_Destroy(c->msg);
  free(c);
  pthread_mutex_lock(&svc->lock);
  svc->inflight--;
  gg_metrics_set(svc->s_inflight, (double)svc->inflight);
  if (svc->stopping) pthread_cond_broadcast(&svc->cond);
  pthread_mutex_unlock(&svc->lock);
}

static void fail_unavailable(ingest *svc, pub_ctx *c) {
  gg_warn("publish failed", "subject=%s attempts=%d err=\"%s\"", natsMsg_GetSubject(c->msg), c->attempts,
          c->last_error);
  json_t *o = json_pack("{s:s,s:s,s:i}", "error", "publish failed", "problem", c->last_error, "attempts",
                        c->attempts);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  finish(svc, c, 503, s ? s : "{\"error\":\"publish failed\"}",
         (const char *const[]){"Retry-After", "1", NULL});
  free(s);
  json_decref(o);
}

/* Whether a failed attempt may succeed when repeated: no stream bound to the subject yet
 * (a cutover in progress), no ack in time, or the connection being re-established. */
static bool retryable(natsStatus s, jsErrCode code) {
  return s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT || s == NATS_CONNECTION_CLOSED ||
         s == NATS_STALE_CONNECTION || s == NATS_CONNECTION_DISCONNECTED || s == NATS_NOT_YET_CONNECTED ||
         code == 503 || (s == NATS_ERR && code == 0);
}

static const char *retry_reason(natsStatus s) {
  if (s == NATS_NO_RESPONDERS) return "no_responders";
  if (s == NATS_TIMEOUT) return "timeout";
  return "other";
}

/* Queue c for another attempt after backoff, or fail it when the budget is spent. */
static void retry_or_fail(ingest *svc, pub_ctx *c, natsStatus s) {
  double now = gg_clock_mono();
  double backoff = RETRY_FIRST * pow(2, c->attempts - 1);
  if (backoff > RETRY_MAX) backoff = RETRY_MAX;
  if (now + backoff >= c->deadline) {
    fail_unavailable(svc, c);
    return;
  }
  gg_metrics_inc(gg_metrics_series(svc->m_retries, (const char *const[]){retry_reason(s)}), 1);
  c->due = now + backoff;
  pthread_mutex_lock(&svc->lock);
  pub_ctx **pp = &svc->retries;
  while (*pp && (*pp)->due <= c->due) pp = &(*pp)->next;
  c->next = *pp;
  *pp = c;
  pthread_cond_broadcast(&svc->cond);
  pthread_mutex_unlock(&svc->lock);
}

static void attempt(ingest *svc, pub_ctx *c) {
  c->attempts++;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  double left = c->deadline - gg_clock_mono();
  double wait = svc->cfg->publish_timeout < left ? svc->cfg->publish_timeout : left;
  po.MaxWait = (int64_t)(wait * 1000) > 10 ? (int64_t)(wait * 1000) : 10;
  natsMsg *m = c->msg;
  pthread_mutex_lock(&svc->lock);
  pending_put(svc, c);
  pthread_mutex_unlock(&svc->lock);
  natsStatus s = js_PublishMsgAsync(svc->js, &m, &po);
  if (s == NATS_OK) return;
  /* The library did not take the message; unless its answer already came, it is ours. */
  pthread_mutex_lock(&svc->lock);
  pub_ctx *mine = pending_take(svc, c->msg);
  pthread_mutex_unlock(&svc->lock);
  if (!mine) return;
  snprintf(c->last_error, sizeof c->last_error, "%s", natsStatus_GetText(s));
  if (retryable(s, 0))
    retry_or_fail(svc, c, s);
  else
    fail_unavailable(svc, c);
}

static void ack_handler(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
  ingest *svc = closure;
  pthread_mutex_lock(&svc->lock);
  pub_ctx *c = pending_take(svc, msg);
  pthread_mutex_unlock(&svc->lock);
  if (!c) {
    /* Not ours any more (answered already); the message is ours to destroy. */
    natsMsg_Destroy(msg);
    return;
  }
  if (pa) {
    double dt = gg_clock_mono() - c->started;
    const char *root = c->route == ROUTE_HRV ? "core" : "vendor";
    gg_metrics_observe(gg_metrics_series(svc->m_latency, (const char *const[]){root}), dt);
    gg_metrics_inc(gg_metrics_series(svc->m_published, (const char *const[]){root}), 1);
    gg_metrics_inc(gg_metrics_series(svc->m_split, (const char *const[]){root, c->new_side ? "new" : "old"}),
                   1);
    /* The hot path: formatted directly. Stream names have no characters JSON must escape
     * but '"' and '\\' (JetStream forbids whitespace and control characters); those few
     * go through jansson. */
    const char *stream = pa->Stream ? pa->Stream : "";
    char fast[256] = "{\"status\":\"accepted\"}";
    char *slow = NULL;
    if (strpbrk(stream, "\"\\") || strlen(stream) > 200) {
      json_t *o = json_pack("{s:s,s:s,s:I,s:b}", "status", "accepted", "stream", stream, "seq",
                            (json_int_t)pa->Sequence, "duplicate", pa->Duplicate);
      slow = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
      json_decref(o);
    } else {
      snprintf(fast, sizeof fast, "{\"status\":\"accepted\",\"stream\":\"%s\",\"seq\":%llu,\"duplicate\":%s}",
               stream, (unsigned long long)pa->Sequence, pa->Duplicate ? "true" : "false");
    }
    finish(svc, c, 202, slow ? slow : fast, NULL);
    free(slow);
    return;
  }
  natsStatus s = pae ? pae->Err : NATS_ERR;
  jsErrCode code = pae ? pae->ErrCode : 0;
  snprintf(c->last_error, sizeof c->last_error, "%s%s%s",
           pae && pae->ErrText && *pae->ErrText ? pae->ErrText : natsStatus_GetText(s), code ? " jserr=" : "",
           "");
  if (code) {
    size_t n = strlen(c->last_error);
    snprintf(c->last_error + n, sizeof c->last_error - n, "%d", (int)code);
  }
  gg_debug("publish attempt failed", "subject=%s attempt=%d err=\"%s\"", natsMsg_GetSubject(msg), c->attempts,
           c->last_error);
  if (retryable(s, code))
    retry_or_fail(svc, c, s);
  else
    fail_unavailable(svc, c);
}

static void *retry_main(void *arg) {
  ingest *svc = arg;
  pthread_mutex_lock(&svc->lock);
  for (;;) {
    if (!svc->retries) {
      if (svc->stopping && svc->inflight == 0) break;
      pthread_cond_wait(&svc->cond, &svc->lock);
      continue;
    }
    double now = gg_clock_mono();
    pub_ctx *c = svc->retries;
    if (c->due > now) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      double wake = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + (c->due - now);
      ts.tv_sec = (time_t)wake;
      ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
      pthread_cond_timedwait(&svc->cond, &svc->lock, &ts);
      continue;
    }
    svc->retries = c->next;
    c->next = NULL;
    pthread_mutex_unlock(&svc->lock);
    attempt(svc, c);
    pthread_mutex_lock(&svc->lock);
  }
  pthread_mutex_unlock(&svc->lock);
  return NULL;
}

static bool check_common(ingest *svc, gg_httpd_req *req, const char **body, size_t *len) {
  *body = gg_httpd_req_body(req, len);
  if (!ingest_content_type_ok(gg_httpd_req_header(req, "Content-Type"))) {
    respond_problem(req, 415, "unsupported media type", "Content-Type must be application/json", NULL);
    return false;
  }
  if (svc->cfg->hmac_secret && !ingest_signature_ok(svc->cfg->hmac_secret, svc->cfg->hmac_secret_len, *body,
                                                    *len, gg_httpd_req_header(req, "X-Signature"))) {
    respond_problem(req, 401, "unauthorized", "X-Signature must be sha256=<hex HMAC-SHA256 of the body>",
                    NULL);
    return false;
  }
  return true;
}

static void publish_request(ingest *svc, gg_httpd_req *req, int route, bool new_side, const char *subject,
                            const char *msg_id, const char *body, size_t len) {
  pthread_mutex_lock(&svc->lock);
  bool refuse = svc->stopping || svc->inflight >= svc->cfg->max_inflight;
  bool stopping = svc->stopping;
  if (!refuse) {
    svc->inflight++;
    gg_metrics_set(svc->s_inflight, (double)svc->inflight);
  }
  pthread_mutex_unlock(&svc->lock);
  if (refuse) {
    respond_problem(req, 503, "unavailable", stopping ? "shutting down" : "too many requests in flight",
                    (const char *const[]){"Retry-After", "1", NULL});
    return;
  }
  pub_ctx *c = calloc(1, sizeof *c);
  natsMsg *m = NULL;
  if (!c || natsMsg_Create(&m, subject, NULL, body, (int)len) != NATS_OK ||
      natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id) != NATS_OK) {
    natsMsg_Destroy(m);
    free(c);
    pthread_mutex_lock(&svc->lock);
    svc->inflight--;
    pthread_mutex_unlock(&svc->lock);
    respond_problem(req, 500, "internal", "out of memory", NULL);
    return;
  }
  c->req = req;
  c->msg = m;
  c->route = route;
  c->new_side = new_side;
  c->started = gg_clock_mono();
  c->deadline = c->started + svc->cfg->publish_budget;
  attempt(svc, c);
}

static void bad_request(gg_httpd_req *req, const gg_payload_problem *prob) {
  gg_buf b;
  gg_buf_init(&b, 4096);
  const char *body = gg_payload_problem_json(prob, &b) == GG_OK ? gg_buf_str(&b) : "{\"error\":\"invalid\"}";
  respond_json(req, 400, body, NULL);
  gg_buf_release(&b);
}

/* The subject of a message of `root` with this id: the canonical one, or the shift prefix
 * before it when that root's split sends the id to the new topology (a root that is not split
 * is at 0 %). Returns whether it did. The prefix is at most 200 bytes and the token is bounded
 * by the payload checks, so n = 320 always fits. */
static bool split_subject(ingest *svc, ingest_root root, const char *id, const char *token, char *out,
                          size_t n) {
  double share[2] = {0, 0};
  if (svc->shift[root].enabled) share[root] = atomic_load(&svc->shift[root].percent);
  return ingest_shift_subject(share, root, svc->cfg->shift_prefix, id, token, out, n);
}

static void on_hrv(gg_httpd_req *req, void *closure) {
  ingest *svc = closure;
  const char *body;
  size_t len;
  if (!check_common(svc, req, &body, &len)) return;
  json_t *root;
  gg_hrv_reading r;
  gg_payload_problem prob;
  if (gg_payload_parse_hrv(body, len, &root, &r, &prob) != GG_OK) {
    bad_request(req, &prob);
    return;
  }
  char subject[320];
  bool new_side = split_subject(svc, INGEST_ROOT_CORE, r.event_id, r.athlete_id, subject, sizeof subject);
  publish_request(svc, req, ROUTE_HRV, new_side, subject, r.event_id, body, len);
  json_decref(root);
}

static void on_oura(gg_httpd_req *req, void *closure) {
  ingest *svc = closure;
  const char *body;
  size_t len;
  if (!check_common(svc, req, &body, &len)) return;
  json_t *root;
  gg_oura_doc d;
  gg_payload_problem prob;
  if (gg_payload_parse_oura(body, len, &root, &d, &prob) != GG_OK) {
    bad_request(req, &prob);
    return;
  }
  char subject[320];
  bool new_side = split_subject(svc, INGEST_ROOT_VENDOR, d.event_id, d.event_type, subject, sizeof subject);
  publish_request(svc, req, ROUTE_OURA, new_side, subject, d.event_id, body, len);
  json_decref(root);
}

static void on_health(gg_httpd_req *req, void *closure) {
  ingest *svc = closure;
  bool connected = natsConnection_Status(svc->nc) == NATS_CONN_STATUS_CONNECTED;
  bool js_ok = false;
  char jserr[128] = "";
  if (connected) {
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 1000;
    jsAccountInfo *ai = NULL;
    jsErrCode code = 0;
    natsStatus s = js_GetAccountInfo(&ai, svc->js, &o, &code);
    js_ok = s == NATS_OK;
    if (!js_ok) snprintf(jserr, sizeof jserr, "%s", natsStatus_GetText(s));
    jsAccountInfo_Destroy(ai);
  }
  gg_metrics_set(svc->s_connected, connected ? 1 : 0);
  pthread_mutex_lock(&svc->lock);
  size_t inflight = svc->inflight;
  pthread_mutex_unlock(&svc->lock);
  bool ok = connected && js_ok;
  json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "status", ok ? "ok" : "degraded", "nats",
                        connected ? "connected" : "disconnected", "jetstream",
                        js_ok ? "ok" : (jserr[0] ? jserr : "unavailable"), "inflight", (json_int_t)inflight);
  if (o && (svc->shift[0].enabled || svc->shift[1].enabled)) {
    json_t *sh = json_object();
    for (int r = 0; r < 2; r++)
      if (svc->shift[r].enabled)
        json_object_set_new(sh, svc->shift[r].root, ingest_shift_json(&svc->shift[r]));
    json_object_set_new(o, "shift", sh);
  }
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  respond_json(req, ok ? 200 : 503, s ? s : "{}", NULL);
  free(s);
}

static void on_metrics(gg_httpd_req *req, void *closure) {
  ingest *svc = closure;
  gg_metrics_set(svc->s_connected, natsConnection_Status(svc->nc) == NATS_CONN_STATUS_CONNECTED ? 1 : 0);
  for (int r = 0; r < 2; r++) {
    ingest_shift *sh = &svc->shift[r];
    if (!sh->enabled) continue;
    pthread_mutex_lock(&sh->mu);
    bool good = strcmp(sh->state, "ok") == 0 || strcmp(sh->state, "unset") == 0;
    pthread_mutex_unlock(&sh->mu);
    gg_metrics_set(gg_metrics_series(svc->m_share, (const char *const[]){sh->root, sh->kv}),
                   atomic_load(&sh->percent) / 100.0);
    gg_metrics_set(gg_metrics_series(svc->m_share_ok, (const char *const[]){sh->root, sh->kv}), good ? 1 : 0);
  }
  gg_service_respond_metrics(req, svc->metrics);
}

static gg_status connect_nats(ingest *svc, gg_error *err) {
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = gg_nats_set_servers(o, svc->cfg->nats_url);
  if (s == NATS_OK) s = natsOptions_SetName(o, "ingest-service");
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, 64 << 20);
  if (s == NATS_OK) s = gg_nats_log_connection(o);
  if (s == NATS_OK && gg_nats_auth_apply(o, &svc->cfg->nats_auth, err) != GG_OK) {
    natsOptions_Destroy(o);
    return err ? err->code : GG_ERR_NATS;
  }
  if (s == NATS_OK) s = natsConnection_Connect(&svc->nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    char shown[512];
    return gg_error_set(err, GG_ERR_CONNECT, "connect to NATS '%s' (auth %s): %s",
                        gg_secret_redact_urls(svc->cfg->nats_url, shown, sizeof shown),
                        svc->cfg->nats_auth.method, gg_nats_reason(s));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = ack_handler;
  jo.PublishAsync.AckHandlerClosure = svc;
  jo.PublishAsync.MaxPending = (int64_t)svc->cfg->max_inflight;
  jo.PublishAsync.StallWait = 1000;
  s = natsConnection_JetStream(&svc->js, svc->nc, &jo);
  if (s != NATS_OK)
    return gg_error_set(err, GG_ERR_NATS, "create JetStream context: %s", natsStatus_GetText(s));
  return GG_OK;
}

static gg_status register_metrics(ingest *svc, gg_error *err) {
  static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  gg_metrics *m = svc->metrics = gg_metrics_new();
  if (!m) return gg_error_set(err, GG_ERR_NOMEM, "metrics: out of memory");
  svc->m_requests =
      gg_metrics_counter(m, "ingest_requests_total", "HTTP requests answered, by route and status", 2,
                         (const char *const[]){"route", "status"});
  svc->m_published =
      gg_metrics_counter(m, "ingest_published_total", "Messages acknowledged by JetStream, by subject root",
                         1, (const char *const[]){"subject_root"});
  svc->m_retries =
      gg_metrics_counter(m, "ingest_publish_retries_total", "Publish attempts repeated, by reason", 1,
                         (const char *const[]){"reason"});
  svc->m_latency = gg_metrics_histogram(m, "ingest_publish_latency_seconds",
                                        "Time from request to JetStream ack, retries included", 1,
                                        (const char *const[]){"subject_root"},
                                        sizeof latency_bounds / sizeof latency_bounds[0], latency_bounds);
  svc->m_split =
      gg_metrics_counter(m, "ingest_shift_published_total",
                         "Messages acknowledged, by subject root and topology (old or new side of the split)",
                         2, (const char *const[]){"subject_root", "topology"});
  svc->m_share = gg_metrics_gauge(
      m, "ingest_shift_share", "Share of a subject root's traffic sent to the new topology (0..1), by KV key",
      2, (const char *const[]){"subject_root", "key"});
  svc->m_share_ok = gg_metrics_gauge(m, "ingest_shift_value_ok",
                                     "1 when the share in force is the KV key's current value, 0 when kept",
                                     2, (const char *const[]){"subject_root", "key"});
  if (!svc->m_split || !svc->m_share || !svc->m_share_ok)
    return gg_error_set(err, GG_ERR_NOMEM, "metrics: out of memory");
  for (int r = 0; r < 2; r++)
    for (int t = 0; t < 2; t++)
      gg_metrics_series(svc->m_split, (const char *const[]){r ? "vendor" : "core", t ? "new" : "old"});
  gg_metric *inflight = gg_metrics_gauge(m, "ingest_inflight", "Requests awaiting a JetStream ack", 0, NULL);
  gg_metric *conn = gg_metrics_gauge(m, "ingest_nats_connected", "1 when connected to NATS", 0, NULL);
  svc->s_inflight = gg_metrics_series(inflight, NULL);
  svc->s_connected = gg_metrics_series(conn, NULL);
  if (!svc->m_requests || !svc->m_published || !svc->m_retries || !svc->m_latency || !svc->s_inflight ||
      !svc->s_connected)
    return gg_error_set(err, GG_ERR_NOMEM, "metrics: out of memory");
  /* Make the usual series visible from the start. */
  for (int r = 0; r < 2; r++) {
    const char *root = r == 0 ? "core" : "vendor";
    gg_metrics_series(svc->m_published, (const char *const[]){root});
    gg_metrics_series(svc->m_latency, (const char *const[]){root});
  }
  gg_metrics_series(svc->m_retries, (const char *const[]){"no_responders"});
  gg_metrics_series(svc->m_retries, (const char *const[]){"timeout"});
  /* The answers an operator alerts on exist at 0 from the start, so "no 5xx in the last hour"
   * is a 0, not "no data" (the Prometheus practice of initialising known label values). */
  static const char *const routes[] = {"/v1/hrv", "/webhooks/oura"};
  static const char *const codes[] = {"202", "400", "500", "503"};
  for (size_t r = 0; r < 2; r++)
    for (size_t c = 0; c < 4; c++)
      gg_metrics_series(svc->m_requests, (const char *const[]){routes[r], codes[c]});
  return GG_OK;
}

gg_status ingest_start(const ingest_config *cfg, ingest **out, gg_error *err) {
  ingest *svc = calloc(1, sizeof *svc);
  if (!svc) return gg_error_set(err, GG_ERR_NOMEM, "start ingest: out of memory");
  svc->cfg = cfg;
  gg_nats_closing(false);
  pthread_mutex_init(&svc->lock, NULL);
  pthread_cond_init(&svc->cond, NULL);
  gg_status st = ingest_shift_init(&svc->shift[0], "core", cfg->shift_core, err);
  if (st == GG_OK) st = ingest_shift_init(&svc->shift[1], "vendor", cfg->shift_vendor, err);
  if (st == GG_OK) st = register_metrics(svc, err);
  if (st == GG_OK) st = connect_nats(svc, err);
  for (int r = 0; r < 2 && st == GG_OK; r++) st = ingest_shift_start(&svc->shift[r], svc->js, err);
  if (st != GG_OK) goto fail;
  if (pthread_create(&svc->retry_thread, NULL, retry_main, svc) != 0) {
    st = gg_error_set(err, GG_ERR_SYSTEM, "start ingest: cannot start the retry thread");
    goto fail;
  }
  svc->retry_thread_started = true;
  gg_httpd_handler handlers[ROUTE_COUNT] = {on_hrv, on_oura, on_health, on_metrics};
  for (int r = 0; r < ROUTE_COUNT; r++)
    svc->routes[r] = (gg_httpd_route){r < 2 ? "POST" : "GET", route_names[r], handlers[r], svc, 0};
  gg_httpd_opts ho = {.listen = cfg->listen,
                      .max_body = cfg->max_body,
                      .threads = cfg->threads,
                      .connection_limit = cfg->max_connections,
                      .header_timeout = cfg->header_timeout,
                      .body_timeout = cfg->body_timeout,
                      .health_path = "/health",
                      .routes = svc->routes,
                      .nroutes = ROUTE_COUNT,
                      .on_answer = count_request,
                      .on_answer_closure = svc};
  if ((st = gg_httpd_start(&ho, &svc->http, err)) != GG_OK) goto fail;
  char shown[512];
  gg_info("ingest-service listening", "addr=%s port=%u nats=%s nats_auth=%s", cfg->listen,
          (unsigned)gg_httpd_port(svc->http), gg_secret_redact_urls(cfg->nats_url, shown, sizeof shown),
          cfg->nats_auth.method);
  *out = svc;
  return GG_OK;
fail:
  ingest_stop(svc);
  return st;
}

uint16_t ingest_port(const ingest *svc) {
  return gg_httpd_port(svc->http);
}

void ingest_stop(ingest *svc) {
  if (!svc) return;
  if (svc->http) gg_httpd_quiesce(svc->http);
  pthread_mutex_lock(&svc->lock);
  svc->stopping = true;
  pthread_cond_broadcast(&svc->cond);
  /* Every request in flight is answered by its ack, its retry running out, or the budget. */
  double until = gg_clock_mono() + svc->cfg->publish_budget + svc->cfg->publish_timeout + 1;
  while (svc->inflight > 0 && gg_clock_mono() < until) {
    pthread_mutex_unlock(&svc->lock);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&svc->lock);
  }
  size_t left = svc->inflight;
  pthread_mutex_unlock(&svc->lock);
  if (left) {
    /* An answer never came: MHD cannot stop with suspended connections and nats.c may still
     * call back, so leave everything in place; the process is about to exit anyway. */
    gg_log_error("stopping with requests unanswered", "count=%zu", left);
    return;
  }
  if (svc->retry_thread_started) pthread_join(svc->retry_thread, NULL);
  gg_httpd_stop(svc->http);
  for (int r = 0; r < 2; r++) ingest_shift_release(&svc->shift[r]);
  jsCtx_Destroy(svc->js);
  gg_nats_closing(true);
  if (svc->nc) {
    natsConnection_Close(svc->nc);
    natsConnection_Destroy(svc->nc);
  }
  gg_metrics_free(svc->metrics);
  pthread_cond_destroy(&svc->cond);
  pthread_mutex_destroy(&svc->lock);
  free(svc);
}
