/*
 * normalize-service: the workers (one per configured binding), the PostgreSQL writer and
 * the HTTP endpoints.
 *
 * A worker owns its pull subscription and its PostgreSQL connection, so bindings never
 * wait on each other. Its loop: (re)check the binding every `recheck`; fetch a batch;
 * classify each message (rows, or poison → DLQ then term); insert all rows in one
 * statement per kind, in one transaction; ack after the commit. If the insert fails
 * because the database is unreachable, the worker keeps the batch, marks the database
 * down (the circuit is open: nothing more is fetched), tells JetStream the messages are
 * in progress so they are not redelivered, and retries the connection until it is back.
 */
#include <libpq-fe.h>
#include <math.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "normalize/normalize.h"
#include "svc/natsopts.h"
#include "svc/service.h"

#define DB_RETRY_INTERVAL 1.0  /* seconds between reconnection attempts */
#define DLQ_NAK_DELAY_MS 5000  /* a poison message whose DLQ publish failed comes back after this */
#define DATA_ERROR_NAK_MS 2000 /* a batch PostgreSQL refused (not an outage) comes back after this */
#define INPROGRESS_MAX 5.0     /* at most this long between in-progress signals for a held batch */
#define ERROR_TEXT_MAX 256

/* Per-message results: X(constant suffix, the `result` label of the messages counters). */
#define RESULT_MAP(X) X(SUCCESS, "success") X(DUPLICATE, "duplicate") X(DLQ, "dlq") X(ERROR, "error")

enum {
#define RESULT_ENUM(name, text) RES_##name,
  RESULT_MAP(RESULT_ENUM)
#undef RESULT_ENUM
      RES_COUNT
};
static const char *const result_names[RES_COUNT] = {
#define RESULT_NAME(name, text) text,
    RESULT_MAP(RESULT_NAME)
#undef RESULT_NAME
};

typedef struct worker worker;

struct normalize {
  const normalize_config *cfg;
  natsConnection *nc;
  jsCtx *js;
  gg_httpd *http;
  gg_httpd_route routes[2];
  gg_metrics *metrics;
  gg_metric_series *hrv[RES_COUNT], *oura[RES_COUNT];
  gg_metric_series *oura_rows_inserted, *oura_rows_duplicate;
  gg_metric_series *db_up_gauge;
  gg_metric *m_batch, *m_fetched, *m_bindings;
  atomic_bool stopping;
  atomic_bool db_up;
  worker *workers;
};

/* One message of a batch in hand. */
typedef struct {
  natsMsg *msg;
  json_t *root;
  normalize_kind kind;
  bool valid;
  uint64_t seq;
  uint64_t delivered; /* how many times JetStream has delivered it, this time included */
  size_t first_row, nrows;
} item;

struct worker {
  normalize *svc;
  const normalize_binding_spec *spec;
  pthread_t thread;
  bool started;
  natsSubscription *sub;
  atomic_bool bound;
  double ack_wait;     /* seconds, of the bound consumer */
  int64_t max_deliver; /* of the bound consumer; <= 0: unlimited */
  double next_check;
  bool busy; /* the last fetch returned messages */
  PGconn *pg;
  gg_metric_series *bound_gauge, *batch_hist, *fetched;
  /* the batch in hand */
  item *items;
  size_t nitems;
  gg_hrv_row *rows;
  uint64_t *row_seq;
  size_t nrows, rows_cap;
};

static void sleep_for(double seconds) {
  struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
  nanosleep(&ts, NULL);
}

/* ---- PostgreSQL ---------------------------------------------------------------- */

static void ignore_notice(void *arg, const char *message) {}

/* libpq's messages span lines; a log line must not. */
static void one_line(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    char c = (*r == '\n' || *r == '\t' || *r == '\r') ? ' ' : *r == '"' ? '\'' : *r;
    if (c == ' ' && (w == s || w[-1] == ' ')) continue;
    *w++ = c;
  }
  while (w > s && w[-1] == ' ') w--;
  *w = '\0';
}

static PGconn *pg_connect(const char *url, char *why, size_t n) {
  const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
  const char *vals[] = {url, "3", "normalize-service", NULL};
  PGconn *pg = PQconnectdbParams(keys, vals, 1);
  if (pg && PQstatus(pg) == CONNECTION_OK) {
    PQsetNoticeProcessor(pg, ignore_notice, NULL);
    return pg;
  }
  snprintf(why, n, "%s", pg ? PQerrorMessage(pg) : "out of memory");
  one_line(why);
  PQfinish(pg);
  return NULL;
}

static gg_status apply_schema(const char *url, gg_error *err) {
  char why[256];
  PGconn *pg = pg_connect(url, why, sizeof why);
  if (!pg) return gg_error_set(err, GG_ERR_PG, "connect to PostgreSQL: %s", why);
  /* Two instances starting together must not race on CREATE TABLE IF NOT EXISTS. */
  static const char *const steps[] = {"BEGIN", "SELECT pg_advisory_xact_lock(741852963)",
                                      normalize_schema_sql, "COMMIT"};
  gg_status st = GG_OK;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0] && st == GG_OK; i++) {
    PGresult *r = PQexec(pg, steps[i]);
    ExecStatusType t = PQresultStatus(r);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
      st = gg_error_set(err, GG_ERR_PG, "apply schema: %s", PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(pg);
  return st;
}

/* Whether a failure means "the database is not there" rather than "it refused this data". */
static bool pg_unavailable(PGconn *pg, const PGresult *r) {
  if (!pg || PQstatus(pg) != CONNECTION_OK) return true;
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (!state) return true; /* no SQLSTATE: the failure was on the client side of the wire */
  return strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0;
}

static const char insert_sql[] =
    "INSERT INTO hrv_data (msg_id, athlete_id, measured_at, rmssd_ms, source, stream, stream_seq)"
    " SELECT u.i, u.a, to_timestamp(u.t), u.r, u.s, $6, u.q"
    " FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::text[], $7::int8[])"
    " AS u(i, a, t, r, s, q) ON CONFLICT (msg_id) DO NOTHING";

typedef enum { DB_OK, DB_DOWN, DB_REFUSED } db_outcome;

/* Insert the rows of one kind; *inserted gets how many were new. */
static db_outcome insert_kind(worker *w, normalize_kind kind, long long *inserted, char *why, size_t n) {
  gg_buf a[6];
  for (int i = 0; i < 6; i++) {
    gg_buf_init(&a[i], 0);
  }
  gg_status st = GG_OK;
  for (int i = 0; i < 6; i++) st = st == GG_OK ? gg_buf_puts(&a[i], "{") : st;
  bool first = true;
  for (size_t k = 0; k < w->nitems && st == GG_OK; k++) {
    const item *it = &w->items[k];
    if (!it->valid || it->kind != kind) continue;
    for (size_t j = it->first_row; j < it->first_row + it->nrows && st == GG_OK; j++) {
      const gg_hrv_row *r = &w->rows[j];
      const char *sep = first ? "" : ",";
      first = false;
      st = gg_buf_puts(&a[0], sep);
      if (st == GG_OK) st = normalize_pg_array_quote(&a[0], r->msg_id);
      if (st == GG_OK) st = gg_buf_puts(&a[1], sep);
      if (st == GG_OK) st = normalize_pg_array_quote(&a[1], r->athlete_id);
      if (st == GG_OK) st = gg_buf_printf(&a[2], "%s%.6f", sep, r->measured_at);
      if (st == GG_OK) st = gg_buf_printf(&a[3], "%s%.17g", sep, r->rmssd_ms);
      if (st == GG_OK) st = gg_buf_puts(&a[4], sep);
      if (st == GG_OK) st = normalize_pg_array_quote(&a[4], r->source);
      if (st == GG_OK) st = gg_buf_printf(&a[5], "%s%llu", sep, (unsigned long long)w->row_seq[j]);
    }
  }
  for (int i = 0; i < 6; i++) st = st == GG_OK ? gg_buf_puts(&a[i], "}") : st;
  db_outcome out = DB_OK;
  *inserted = 0;
  if (st != GG_OK) {
    snprintf(why, n, "build insert: %s", gg_status_message(st));
    out = DB_REFUSED;
    goto done;
  }
  if (first) goto done; /* no rows of this kind */
  const char *params[7] = {a[0].data, a[1].data, a[2].data, a[3].data, a[4].data, w->spec->stream, a[5].data};
  PGresult *r = PQexecParams(w->pg, insert_sql, 7, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) == PGRES_COMMAND_OK) {
    *inserted = strtoll(PQcmdTuples(r), NULL, 10);
  } else {
    snprintf(why, n, "%s", PQresultErrorMessage(r));
    one_line(why);
    out = pg_unavailable(w->pg, r) ? DB_DOWN : DB_REFUSED;
  }
  PQclear(r);
done:
  for (int i = 0; i < 6; i++) gg_buf_release(&a[i]);
  return out;
}

static db_outcome exec_simple(PGconn *pg, const char *sql, char *why, size_t n) {
  PGresult *r = PQexec(pg, sql);
  db_outcome out = DB_OK;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    snprintf(why, n, "%s", PQresultErrorMessage(r));
    one_line(why);
    out = pg_unavailable(pg, r) ? DB_DOWN : DB_REFUSED;
  }
  PQclear(r);
  return out;
}

/* Commit the batch's rows: one statement per kind present, in one transaction. */
static db_outcome store_batch(worker *w, long long *hrv_new, long long *oura_new, char *why, size_t n) {
  bool has[2] = {false, false};
  for (size_t k = 0; k < w->nitems; k++)
    if (w->items[k].valid && w->items[k].nrows) has[w->items[k].kind] = true;
  *hrv_new = *oura_new = 0;
  if (!has[0] && !has[1]) return DB_OK;
  if (!w->pg || PQstatus(w->pg) != CONNECTION_OK) {
    snprintf(why, n, "not connected");
    return DB_DOWN;
  }
  bool both = has[0] && has[1];
  db_outcome o = both ? exec_simple(w->pg, "BEGIN", why, n) : DB_OK;
  if (o == DB_OK && has[0]) o = insert_kind(w, NORMALIZE_HRV, hrv_new, why, n);
  if (o == DB_OK && has[1]) o = insert_kind(w, NORMALIZE_OURA, oura_new, why, n);
  if (both) {
    char ignored[64];
    if (o == DB_OK)
      o = exec_simple(w->pg, "COMMIT", why, n);
    else if (PQstatus(w->pg) == CONNECTION_OK)
      (void)exec_simple(w->pg, "ROLLBACK", ignored, sizeof ignored);
  }
  return o;
}

/* ---- the batch in hand --------------------------------------------------------- */

static gg_status reserve_rows(worker *w, size_t extra) {
  if (w->nrows + extra <= w->rows_cap) return GG_OK;
  size_t cap = w->rows_cap ? w->rows_cap : 1024;
  while (cap < w->nrows + extra) cap *= 2;
  gg_hrv_row *r = realloc(w->rows, cap * sizeof *r);
  if (!r) return GG_ERR_NOMEM;
  w->rows = r;
  uint64_t *q = realloc(w->row_seq, cap * sizeof *q);
  if (!q) return GG_ERR_NOMEM;
  w->row_seq = q;
  w->rows_cap = cap;
  return GG_OK;
}

static void header_safe(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) *s = ' ';
}

/* Publish a poison message to <dlq>.<subject> and wait for the ack. */
static bool publish_dlq(worker *w, natsMsg *msg, uint64_t stream_seq, uint64_t delivered, const char *error) {
  normalize *svc = w->svc;
  char subject[512], seq[32], deliveries[32], id[160], err_text[ERROR_TEXT_MAX];
  snprintf(subject, sizeof subject, "%s.%s", svc->cfg->dlq_prefix, natsMsg_GetSubject(msg));
  snprintf(seq, sizeof seq, "%llu", (unsigned long long)stream_seq);
  snprintf(deliveries, sizeof deliveries, "%llu", (unsigned long long)delivered);
  snprintf(id, sizeof id, "dlq:%s:%s", w->spec->stream, seq);
  snprintf(err_text, sizeof err_text, "%s", error);
  header_safe(err_text);
  natsMsg *d = NULL;
  natsStatus s = natsMsg_Create(&d, subject, NULL, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  if (s == NATS_OK) s = natsMsgHeader_Set(d, "Nats-Msg-Id", id);
  if (s == NATS_OK) s = natsMsgHeader_Set(d, "Dlq-Original-Stream", w->spec->stream);
  if (s == NATS_OK) s = natsMsgHeader_Set(d, "Dlq-Original-Sequence", seq);
  if (s == NATS_OK) s = natsMsgHeader_Set(d, "Dlq-Original-Subject", natsMsg_GetSubject(msg));
  if (s == NATS_OK) s = natsMsgHeader_Set(d, "Dlq-Delivery-Count", deliveries);
  if (s == NATS_OK) s = natsMsgHeader_Set(d, "Dlq-Error", err_text);
  jsPubAck *pa = NULL;
  jsErrCode code = 0;
  if (s == NATS_OK) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 5000;
    s = js_PublishMsg(&pa, svc->js, d, &po, &code);
  }
  jsPubAck_Destroy(pa);
  natsMsg_Destroy(d);
  if (s != NATS_OK)
    gg_warn("dlq publish failed", "subject=%s err=\"%s\" jserr=%d", subject, natsStatus_GetText(s),
            (int)code);
  return s == NATS_OK;
}

/* Classify every fetched message: rows for the valid ones, the DLQ for poison. */
static void classify(worker *w, natsMsgList *list) {
  normalize *svc = w->svc;
  w->nitems = 0;
  w->nrows = 0;
  for (int i = 0; i < list->Count; i++) {
    natsMsg *m = list->Msgs[i];
    item *it = &w->items[w->nitems++];
    memset(it, 0, sizeof *it);
    it->msg = m;
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
      it->seq = meta->Sequence.Stream;
      it->delivered = meta->NumDelivered;
    }
    gg_payload_problem prob = {{0}, {0}, {0}};
    size_t room = GG_PAYLOAD_OURA_ITEMS_MAX;
    gg_status st = reserve_rows(w, room);
    /* The new side of a traffic shift carries the canonical subject behind a prefix. */
    const char *subj = natsMsg_GetSubject(m);
    size_t plen = strlen(svc->cfg->shift_prefix);
    if (plen && strncmp(subj, svc->cfg->shift_prefix, plen) == 0) subj += plen;
    if (st == GG_OK)
      st = normalize_message(subj, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &it->root, &it->kind,
                             &w->rows[w->nrows], room, &it->nrows, &prob);
    if (st == GG_OK) {
      it->valid = true;
      it->first_row = w->nrows;
      for (size_t j = 0; j < it->nrows; j++) w->row_seq[w->nrows + j] = it->seq;
      w->nrows += it->nrows;
    } else {
      bool oura = strncmp(subj, "vendor.", 7) == 0;
      char error[ERROR_TEXT_MAX];
      if (st == GG_ERR_INVALID)
        snprintf(error, sizeof error, "%s%s%s: %s", prob.error, prob.field[0] ? " " : "", prob.field,
                 prob.problem);
      else
        snprintf(error, sizeof error, "%s", gg_status_message(st));
      if (st == GG_ERR_INVALID && publish_dlq(w, m, it->seq, it->delivered, error)) {
        natsMsg_Term(m, NULL);
        gg_metrics_inc(oura ? svc->oura[RES_DLQ] : svc->hrv[RES_DLQ], 1);
        gg_info("message to dlq", "stream=%s seq=%llu subject=%s err=\"%s\"", w->spec->stream,
                (unsigned long long)it->seq, natsMsg_GetSubject(m), error);
      } else {
        natsMsg_NakWithDelay(m, DLQ_NAK_DELAY_MS, NULL);
        gg_metrics_inc(oura ? svc->oura[RES_ERROR] : svc->hrv[RES_ERROR], 1);
      }
    }
    jsMsgMetaData_Destroy(meta);
  }
}

static void release_items(worker *w) {
  for (size_t k = 0; k < w->nitems; k++) json_decref(w->items[k].root);
  w->nitems = 0;
  w->nrows = 0;
}

static void set_db_up(normalize *svc, bool up, const char *why) {
  bool was = atomic_exchange(&svc->db_up, up);
  gg_metrics_set(svc->db_up_gauge, up ? 1 : 0);
  if (was && !up) gg_warn("database unavailable: holding the batch, not fetching", "err=\"%s\"", why);
  if (!was && up) gg_info("database available again", "%s", "");
}

static bool ensure_db(worker *w, char *why, size_t n) {
  if (w->pg && PQstatus(w->pg) == CONNECTION_OK) return true;
  PQfinish(w->pg);
  w->pg = pg_connect(w->svc->cfg->pg_url, why, n);
  return w->pg != NULL;
}

/* Commit the batch in hand, waiting out a database outage; then ack. */
static void commit_batch(worker *w, double fetched_at) {
  normalize *svc = w->svc;
  char why[512] = "";
  long long hrv_new = 0, oura_new = 0;
  double last_progress = gg_clock_mono();
  double progress_every = w->ack_wait > 0 ? fmin(w->ack_wait / 3, INPROGRESS_MAX) : INPROGRESS_MAX;
  db_outcome o;
  for (;;) {
    o = ensure_db(w, why, sizeof why) ? store_batch(w, &hrv_new, &oura_new, why, sizeof why) : DB_DOWN;
    if (o != DB_DOWN) break;
    set_db_up(svc, false, why);
    /* Keep the batch: no redelivery, no delivery counted, nothing to the DLQ. */
    double retry_at = gg_clock_mono() + DB_RETRY_INTERVAL;
    while (!atomic_load(&svc->stopping) && gg_clock_mono() < retry_at) {
      if (gg_clock_mono() - last_progress >= progress_every) {
        for (size_t k = 0; k < w->nitems; k++)
          if (w->items[k].valid) natsMsg_InProgress(w->items[k].msg, NULL);
        last_progress = gg_clock_mono();
      }
      sleep_for(0.1);
    }
    if (atomic_load(&svc->stopping)) {
      /* Hand the batch back: another instance (or this one, restarted) takes it. */
      for (size_t k = 0; k < w->nitems; k++)
        if (w->items[k].valid) natsMsg_Nak(w->items[k].msg, NULL);
      gg_warn("stopping with the database down: batch handed back", "stream=%s count=%zu", w->spec->stream,
              w->nitems);
      return;
    }
  }
  if (o == DB_REFUSED) {
    /* Not an outage: PostgreSQL refused the statement. Try again later; on the last
     * delivery JetStream allows, the DLQ keeps the message rather than letting it drop. */
    gg_log_error("insert refused", "stream=%s err=\"%s\"", w->spec->stream, why);
    char error[ERROR_TEXT_MAX];
    snprintf(error, sizeof error, "database refused the batch: %.200s", why);
    for (size_t k = 0; k < w->nitems; k++) {
      item *it = &w->items[k];
      if (!it->valid) continue;
      bool oura = it->kind == NORMALIZE_OURA;
      if (w->max_deliver > 0 && it->delivered >= (uint64_t)w->max_deliver &&
          publish_dlq(w, it->msg, it->seq, it->delivered, error)) {
        natsMsg_Term(it->msg, NULL);
        gg_metrics_inc(oura ? svc->oura[RES_DLQ] : svc->hrv[RES_DLQ], 1);
      } else {
        natsMsg_NakWithDelay(it->msg, DATA_ERROR_NAK_MS, NULL);
        gg_metrics_inc(oura ? svc->oura[RES_ERROR] : svc->hrv[RES_ERROR], 1);
      }
    }
    return;
  }
  set_db_up(svc, true, "");
  long long hrv_rows = 0, oura_rows = 0, oura_msgs = 0;
  for (size_t k = 0; k < w->nitems; k++) {
    const item *it = &w->items[k];
    if (!it->valid) continue;
    natsMsg_Ack(it->msg, NULL);
    if (it->kind == NORMALIZE_HRV)
      hrv_rows += (long long)it->nrows;
    else {
      oura_rows += (long long)it->nrows;
      oura_msgs++;
    }
  }
  gg_metrics_inc(svc->hrv[RES_SUCCESS], (double)hrv_new);
  gg_metrics_inc(svc->hrv[RES_DUPLICATE], (double)(hrv_rows - hrv_new));
  gg_metrics_inc(svc->oura[RES_SUCCESS], (double)oura_msgs);
  gg_metrics_inc(svc->oura_rows_inserted, (double)oura_new);
  gg_metrics_inc(svc->oura_rows_duplicate, (double)(oura_rows - oura_new));
  gg_metrics_observe(w->batch_hist, gg_clock_mono() - fetched_at);
}

/* ---- bindings ------------------------------------------------------------------ */

static void unbind(worker *w, const char *reason) {
  if (!w->sub) return;
  natsSubscription_Unsubscribe(w->sub);
  natsSubscription_Destroy(w->sub);
  w->sub = NULL;
  atomic_store(&w->bound, false);
  gg_metrics_set(w->bound_gauge, 0);
  gg_info("binding released", "stream=%s consumer=%s reason=\"%s\"", w->spec->stream, w->spec->consumer,
          reason);
}

/* Whether the consumer exists; GG_ERR_NATS when that could not be found out. */
static gg_status consumer_exists(worker *w, bool *exists, double *ack_wait, int64_t *max_deliver) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 2000;
  jsConsumerInfo *ci = NULL;
  jsErrCode code = 0;
  natsStatus s = js_GetConsumerInfo(&ci, w->svc->js, w->spec->stream, w->spec->consumer, &jo, &code);
  *exists = s == NATS_OK;
  if (s == NATS_OK) {
    *ack_wait = (double)ci->Config->AckWait / 1e9;
    *max_deliver = ci->Config->MaxDeliver;
  }
  jsConsumerInfo_Destroy(ci);
  if (s == NATS_OK || s == NATS_NOT_FOUND || code == 10014 || code == 10059) {
    *exists = s == NATS_OK;
    return GG_OK;
  }
  return GG_ERR_NATS;
}

static void check_binding(worker *w) {
  bool exists = false;
  double ack_wait = 0;
  int64_t max_deliver = 0;
  if (consumer_exists(w, &exists, &ack_wait, &max_deliver) != GG_OK)
    return; /* unknown: keep things as they are */
  if (!exists) {
    unbind(w, "stream or consumer no longer exists");
    return;
  }
  if (w->sub) return;
  jsOptions jo;
  jsOptions_Init(&jo);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = w->spec->stream;
  so.Consumer = w->spec->consumer;
  jsErrCode code = 0;
  natsStatus s = js_PullSubscribe(&w->sub, w->svc->js, NULL, w->spec->consumer, &jo, &so, &code);
  if (s != NATS_OK) {
    w->sub = NULL;
    gg_warn("bind failed", "stream=%s consumer=%s err=\"%s\" jserr=%d", w->spec->stream, w->spec->consumer,
            natsStatus_GetText(s), (int)code);
    return;
  }
  w->ack_wait = ack_wait;
  w->max_deliver = max_deliver;
  atomic_store(&w->bound, true);
  gg_metrics_set(w->bound_gauge, 1);
  gg_info("binding acquired", "stream=%s consumer=%s", w->spec->stream, w->spec->consumer);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  normalize *svc = w->svc;
  const normalize_config *cfg = svc->cfg;
  double last_fetch_warn = 0;
  while (!atomic_load(&svc->stopping)) {
    double now = gg_clock_mono();
    /* While messages flow the binding evidently exists; consumer info requests also slow
     * a busy pull consumer down on nats-server 2.9, so only idle bindings are re-checked. */
    if (now >= w->next_check && !w->busy) {
      check_binding(w);
      w->next_check = now + cfg->recheck;
    }
    if (!w->sub) {
      sleep_for(fmin(0.1, cfg->recheck));
      continue;
    }
    char why[256];
    if (!ensure_db(w, why, sizeof why)) {
      /* Circuit open: fetch nothing while the database is away. */
      set_db_up(svc, false, why);
      sleep_for(DB_RETRY_INTERVAL);
      continue;
    }
    natsMsgList list = {0};
    jsErrCode code = 0;
    natsStatus s =
        natsSubscription_Fetch(&list, w->sub, cfg->batch, (int64_t)(cfg->fetch_wait * 1000), &code);
    double fetched_at = gg_clock_mono();
    w->busy = list.Count > 0;
    if (list.Count > 0) {
      gg_metrics_inc(w->fetched, list.Count);
      classify(w, &list);
      double classified_at = gg_clock_mono();
      commit_batch(w, fetched_at);
      release_items(w);
      gg_debug("batch", "stream=%s count=%d fetch_ms=%.1f classify_ms=%.1f commit_ack_ms=%.1f",
               w->spec->stream, list.Count, (fetched_at - now) * 1000, (classified_at - fetched_at) * 1000,
               (gg_clock_mono() - classified_at) * 1000);
    } else if (s != NATS_OK && s != NATS_TIMEOUT) {
      if (s == NATS_NOT_FOUND || code == 10014 || code == 10059) {
        unbind(w, "fetch: consumer not found");
      } else if (now - last_fetch_warn > 5) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s", nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
        one_line(detail);
        gg_warn("fetch failed", "stream=%s consumer=%s err=\"%s\" detail=\"%s\" jserr=%d", w->spec->stream,
                w->spec->consumer, natsStatus_GetText(s), detail, (int)code);
        last_fetch_warn = now;
        w->next_check = 0; /* look at the binding again now */
      }
      if (s != NATS_NOT_FOUND) sleep_for(0.2);
    }
    natsMsgList_Destroy(&list);
  }
  unbind(w, "stopping");
  PQfinish(w->pg);
  w->pg = NULL;
  return NULL;
}

/* ---- HTTP ---------------------------------------------------------------------- */

static void on_health(gg_httpd_req *req, void *closure) {
  normalize *svc = closure;
  bool nats_ok = natsConnection_Status(svc->nc) == NATS_CONN_STATUS_CONNECTED;
  const char *keys[] = {"dbname", "connect_timeout", NULL};
  const char *vals[] = {svc->cfg->pg_url, "2", NULL};
  bool db_ok = PQpingParams(keys, vals, 1) == PQPING_OK && atomic_load(&svc->db_up);
  json_t *bindings = json_array();
  size_t nbound = 0;
  for (size_t i = 0; i < svc->cfg->nbindings; i++) {
    bool b = atomic_load(&svc->workers[i].bound);
    nbound += b;
    json_array_append_new(bindings, json_pack("{s:s,s:s,s:b}", "stream", svc->cfg->bindings[i].stream,
                                              "consumer", svc->cfg->bindings[i].consumer, "bound", b));
  }
  bool ok = nats_ok && db_ok && nbound > 0;
  json_t *o =
      json_pack("{s:s,s:s,s:s,s:o}", "status", ok ? "ok" : "degraded", "nats",
                nats_ok ? "connected" : "disconnected", "db", db_ok ? "up" : "down", "bindings", bindings);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  gg_httpd_respond_json(req, ok ? 200 : 503, s ? s : "{}");
  free(s);
}

static void on_metrics(gg_httpd_req *req, void *closure) {
  normalize *svc = closure;
  gg_service_respond_metrics(req, svc->metrics);
}

/* ---- lifecycle ----------------------------------------------------------------- */

static gg_status register_metrics(normalize *svc, gg_error *err) {
  static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  gg_metrics *m = svc->metrics = gg_metrics_new();
  if (!m) return gg_error_set(err, GG_ERR_NOMEM, "metrics: out of memory");
  gg_metric *hrv =
      gg_metrics_counter(m, "normalize_hrv_messages_total", "HRV reading messages handled, by result", 1,
                         (const char *const[]){"result"});
  gg_metric *oura =
      gg_metrics_counter(m, "normalize_oura_messages_total", "Oura documents handled, by result", 1,
                         (const char *const[]){"result"});
  gg_metric *rows = gg_metrics_counter(m, "normalize_oura_rows_total", "Rows from Oura documents, by result",
                                       1, (const char *const[]){"result"});
  svc->m_batch =
      gg_metrics_histogram(m, "normalize_batch_seconds", "Time from fetch to ack of one batch", 1,
                           (const char *const[]){"stream"}, sizeof bounds / sizeof bounds[0], bounds);
  svc->m_fetched = gg_metrics_counter(m, "normalize_fetched_total", "Messages fetched, by stream", 1,
                                      (const char *const[]){"stream"});
  svc->m_bindings = gg_metrics_gauge(m, "normalize_bindings", "1 while the binding is consumed", 2,
                                     (const char *const[]){"stream", "consumer"});
  gg_metric *db = gg_metrics_gauge(m, "normalize_db_up", "1 while PostgreSQL accepts writes", 0, NULL);
  if (!hrv || !oura || !rows || !svc->m_batch || !svc->m_fetched || !svc->m_bindings || !db)
    return gg_error_set(err, GG_ERR_NOMEM, "metrics: out of memory");
  for (int r = 0; r < RES_COUNT; r++) {
    svc->hrv[r] = gg_metrics_series(hrv, (const char *const[]){result_names[r]});
    svc->oura[r] = gg_metrics_series(oura, (const char *const[]){result_names[r]});
  }
  svc->oura_rows_inserted = gg_metrics_series(rows, (const char *const[]){"inserted"});
  svc->oura_rows_duplicate = gg_metrics_series(rows, (const char *const[]){"duplicate"});
  svc->db_up_gauge = gg_metrics_series(db, NULL);
  return GG_OK;
}

gg_status normalize_start(const normalize_config *cfg, normalize **out, gg_error *err) {
  normalize *svc = calloc(1, sizeof *svc);
  if (!svc) return gg_error_set(err, GG_ERR_NOMEM, "start normalize: out of memory");
  svc->cfg = cfg;
  gg_nats_closing(false);
  atomic_init(&svc->stopping, false);
  atomic_init(&svc->db_up, true);
  gg_status st = register_metrics(svc, err);
  if (st == GG_OK) st = apply_schema(cfg->pg_url, err);
  if (st != GG_OK) goto fail;
  gg_metrics_set(svc->db_up_gauge, 1);
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = gg_nats_set_servers(o, cfg->nats_url);
  if (s == NATS_OK) s = natsOptions_SetName(o, "normalize-service");
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s == NATS_OK) s = gg_nats_log_connection(o);
  if (s == NATS_OK && (st = gg_nats_auth_apply(o, &cfg->nats_auth, err)) != GG_OK) {
    natsOptions_Destroy(o);
    goto fail;
  }
  if (s == NATS_OK) s = natsConnection_Connect(&svc->nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    char shown[512];
    st = gg_error_set(err, GG_ERR_CONNECT, "connect to NATS '%s' (auth %s): %s",
                      gg_secret_redact_urls(cfg->nats_url, shown, sizeof shown), cfg->nats_auth.method,
                      gg_nats_reason(s));
    goto fail;
  }
  if ((s = natsConnection_JetStream(&svc->js, svc->nc, NULL)) != NATS_OK) {
    st = gg_error_set(err, GG_ERR_NATS, "create JetStream context: %s", natsStatus_GetText(s));
    goto fail;
  }
  svc->workers = calloc(cfg->nbindings, sizeof *svc->workers);
  if (!svc->workers) {
    st = gg_error_set(err, GG_ERR_NOMEM, "start normalize: out of memory");
    goto fail;
  }
  for (size_t i = 0; i < cfg->nbindings; i++) {
    worker *w = &svc->workers[i];
    w->svc = svc;
    w->spec = &cfg->bindings[i];
    atomic_init(&w->bound, false);
    w->items = calloc((size_t)cfg->batch, sizeof *w->items);
    w->bound_gauge =
        gg_metrics_series(svc->m_bindings, (const char *const[]){w->spec->stream, w->spec->consumer});
    w->batch_hist = gg_metrics_series(svc->m_batch, (const char *const[]){w->spec->stream});
    w->fetched = gg_metrics_series(svc->m_fetched, (const char *const[]){w->spec->stream});
    if (!w->items) {
      st = gg_error_set(err, GG_ERR_NOMEM, "start normalize: out of memory");
      goto fail;
    }
  }
  for (size_t i = 0; i < cfg->nbindings; i++) {
    if (pthread_create(&svc->workers[i].thread, NULL, worker_main, &svc->workers[i]) != 0) {
      st = gg_error_set(err, GG_ERR_SYSTEM, "start normalize: cannot start a worker thread");
      goto fail;
    }
    svc->workers[i].started = true;
  }
  svc->routes[0] = (gg_httpd_route){"GET", "/health", on_health, svc, 0};
  svc->routes[1] = (gg_httpd_route){"GET", "/metrics", on_metrics, svc, 0};
  gg_httpd_opts ho = {.listen = cfg->listen, .threads = 1, .routes = svc->routes, .nroutes = 2};
  if ((st = gg_httpd_start(&ho, &svc->http, err)) != GG_OK) goto fail;
  gg_info("normalize-service listening", "addr=%s port=%u bindings=%zu batch=%d nats_auth=%s", cfg->listen,
          (unsigned)gg_httpd_port(svc->http), cfg->nbindings, cfg->batch, cfg->nats_auth.method);
  *out = svc;
  return GG_OK;
fail:
  normalize_stop(svc);
  return st;
}

uint16_t normalize_port(const normalize *svc) {
  return gg_httpd_port(svc->http);
}

void normalize_stop(normalize *svc) {
  if (!svc) return;
  atomic_store(&svc->stopping, true);
  for (size_t i = 0; svc->workers && i < svc->cfg->nbindings; i++)
    if (svc->workers[i].started) pthread_join(svc->workers[i].thread, NULL);
  gg_httpd_stop(svc->http);
  if (svc->nc) natsConnection_Flush(svc->nc); /* the acks of the last batch */
  for (size_t i = 0; svc->workers && i < svc->cfg->nbindings; i++) {
    free(svc->workers[i].items);
    free(svc->workers[i].rows);
    free(svc->workers[i].row_seq);
  }
  free(svc->workers);
  jsCtx_Destroy(svc->js);
  gg_nats_closing(true);
  if (svc->nc) {
    natsConnection_Close(svc->nc);
    natsConnection_Destroy(svc->nc);
  }
  gg_metrics_free(svc->metrics);
  free(svc);
}
