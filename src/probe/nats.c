/*
 * nats.c: JetStream through nats.c: account, stream and consumer info.
 *
 * One connection per evaluation context, made on first use with every option the plan
 * may give (several URLs, user/password, token, credentials file, TLS CA/cert/key). A
 * failed connect is remembered so twenty probes do not each wait for it again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "probe/internal.h"
#include "probe/natsconn.h"

void probe_nats_servers_text(const probe_ctx *ctx, char *out, size_t n) {
  size_t w = 0;
  out[0] = '\0';
  const probe_config *cfg = ctx->cfg;
  if (cfg->n_nats_servers == 0) {
    snprintf(out, n, "(no servers configured)");
    return;
  }
  for (size_t i = 0; i < cfg->n_nats_servers && w + 1 < n; i++) {
    char red[512];
    gg_http_redact_url(cfg->nats_servers[i], red, sizeof red);
    int k = snprintf(out + w, n - w, "%s%s", i ? "," : "", red);
    if (k < 0) break;
    w += (size_t)k;
  }
}

/* "what (nats URLs): status text: last error" into err; what is a printf format. */
static gg_status nats_fail(probe_ctx *ctx, gg_error *err, natsStatus s, jsErrCode jerr, const char *fmt, ...)
    GG_PRINTF(5, 6);
static gg_status nats_fail(probe_ctx *ctx, gg_error *err, natsStatus s, jsErrCode jerr, const char *fmt,
                           ...) {
  char what[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  char servers[512];
  probe_nats_servers_text(ctx, servers, sizeof servers);
  gg_status code = s == NATS_TIMEOUT ? GG_ERR_TIMEOUT : GG_ERR_NATS;
  if (jerr)
    return gg_error_set(err, code, "%s (nats %s): %s (jetstream error %d)", what, servers,
                        probe_nats_reason(s), (int)jerr);
  return gg_error_set(err, code, "%s (nats %s): %s", what, servers, probe_nats_reason(s));
}

static gg_status nats_connect(probe_ctx *ctx, gg_error *err) {
  natsOptions *opts = NULL;
  gg_status st = probe_nats_options(ctx->cfg, false, "gonogo-probe", ctx->timeout, &opts, err);
  if (st != GG_OK) return st;
  natsStatus s = natsOptions_SetMaxReconnect(opts, 2);
  const char *step = "connect";
  if (s == NATS_OK) s = natsConnection_Connect(&ctx->nc, opts);
  if (s == NATS_OK) {
    step = "open the JetStream context";
    s = natsConnection_JetStream(&ctx->js, ctx->nc, NULL);
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    st = nats_fail(ctx, err, s, 0, "%s", step);
    probe_nats_close(ctx);
    return st;
  }
  return GG_OK;
}

gg_status probe_nats_get_js(probe_ctx *ctx, jsCtx **js, natsConnection **nc, gg_error *err) {
  pthread_mutex_lock(&ctx->nats_lock);
  if (!ctx->nats_tried) {
    ctx->nats_tried = true;
    gg_error_clear(&ctx->nats_err);
    ctx->nats_status = nats_connect(ctx, &ctx->nats_err);
  }
  gg_status st = ctx->nats_status;
  if (st != GG_OK && err) *err = ctx->nats_err;
  *js = ctx->js;
  if (nc) *nc = ctx->nc;
  pthread_mutex_unlock(&ctx->nats_lock);
  return st;
}

void probe_nats_close(probe_ctx *ctx) {
  jsCtx_Destroy(ctx->js);
  ctx->js = NULL;
  if (ctx->nc) natsConnection_Destroy(ctx->nc);
  ctx->nc = NULL;
}

/* The connection and the request options (the job's timeout) every JetStream job starts with;
 * false (job->status and job->err set) when there is no connection. */
static bool job_start(probe_ctx *ctx, probe_job *job, jsCtx **js, jsOptions *o) {
  if ((job->status = probe_nats_get_js(ctx, js, NULL, &job->err)) != GG_OK) return false;
  jsOptions_Init(o);
  o->Wait = (int64_t)(job->timeout * 1000);
  return true;
}

/* A stream the job reads from does not exist: no data (not an error of the connection). */
static void stream_not_found(probe_ctx *ctx, probe_job *job) {
  char servers[512];
  probe_nats_servers_text(ctx, servers, sizeof servers);
  job->status = gg_error_set(&job->err, GG_ERR_NO_DATA, "stream '%s' not found (nats %s)", job->a, servers);
}

/* One metric of a stream (labels: stream) or of a consumer (labels: stream, consumer). */
typedef struct {
  const char *name;
  double value;
} metric;

static bool not_found(natsStatus s, jsErrCode jerr) {
  return s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr || jerr == JSConsumerNotFoundErr;
}

static double ns_to_s(int64_t ns) {
  return ns > 0 ? (double)ns / 1e9 : 0;
}

static bool take_names(probe_job *job, char **list, int count) {
  job->names = calloc(count > 0 ? (size_t)count : 1, sizeof *job->names);
  if (!job->names) return false;
  for (int i = 0; i < count; i++) {
    job->names[i] = strdup(list[i]);
    if (!job->names[i]) return false;
    job->n_names++;
  }
  return true;
}

void probe_nats_run_account(probe_ctx *ctx, probe_job *job) {
  jsCtx *js;
  jsOptions o;
  if (!job_start(ctx, job, &js, &o)) return;
  jsAccountInfo *ai = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetAccountInfo(&ai, js, &o, &jerr);
  double now = gg_clock_now();
  if (s == NATS_OK) {
    probe_job_add(job, "nats.jetstream.enabled", 1, now, NULL);
    jsAccountInfo_Destroy(ai);
  } else if (jerr == JSNotEnabledErr || jerr == JSNotEnabledForAccountErr) {
    probe_job_add(job, "nats.jetstream.enabled", 0, now, NULL);
  } else {
    job->status = nats_fail(ctx, &job->err, s, jerr, "jetstream account info");
  }
}

void probe_nats_run_streams(probe_ctx *ctx, probe_job *job) {
  jsCtx *js;
  jsOptions o;
  if (!job_start(ctx, job, &js, &o)) return;
  jsStreamNamesList *list = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_StreamNames(&list, js, &o, &jerr);
  if (s == NATS_NOT_FOUND) return; /* no streams at all */
  if (s != NATS_OK) {
    job->status = nats_fail(ctx, &job->err, s, jerr, "list streams");
    return;
  }
  if (!take_names(job, list->List, list->Count))
    job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
  jsStreamNamesList_Destroy(list);
}

void probe_nats_run_stream(probe_ctx *ctx, probe_job *job) {
  jsCtx *js;
  jsOptions o;
  if (!job_start(ctx, job, &js, &o)) return;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, js, job->a, &o, &jerr);
  double now = gg_clock_now();
  const char *st = job->a;
  if (s != NATS_OK) {
    if (not_found(s, jerr)) {
      job->missing = true;
      probe_job_add(job, "nats.stream.exists", 0, now, "stream", st, NULL);
    } else {
      job->status = nats_fail(ctx, &job->err, s, jerr, "stream info of '%s'", st);
    }
    return;
  }
  const jsStreamState *ss = &si->State;
  double current = 1;
  if (si->Cluster) {
    current = si->Cluster->Leader && *si->Cluster->Leader ? 1 : 0;
    for (int i = 0; i < si->Cluster->ReplicasLen; i++)
      if (si->Cluster->Replicas[i] && si->Cluster->Replicas[i]->Current) current++;
  }
  const metric m[] = {
      {"nats.stream.exists", 1},
      {"nats.stream.messages", (double)ss->Msgs},
      {"nats.stream.bytes", (double)ss->Bytes},
      {"nats.stream.first_seq", (double)ss->FirstSeq},
      {"nats.stream.last_seq", (double)ss->LastSeq},
      {"nats.stream.last_ts", ns_to_s(ss->LastTime)},
      {"nats.stream.consumers", (double)ss->Consumers},
      {"nats.stream.replicas_current", current},
  };
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    probe_job_add(job, m[i].name, m[i].value, now, "stream", st, NULL);
  if (si->Config && !take_names(job, (char **)si->Config->Subjects, si->Config->SubjectsLen))
    job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
  jsStreamInfo_Destroy(si);
}

void probe_nats_run_subjects(probe_ctx *ctx, probe_job *job) {
  jsCtx *js;
  jsOptions o;
  if (!job_start(ctx, job, &js, &o)) return;
  o.Stream.Info.SubjectsFilter = job->b;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, js, job->a, &o, &jerr);
  double now = gg_clock_now();
  if (s != NATS_OK) {
    if (not_found(s, jerr))
      stream_not_found(ctx, job);
    else
      job->status = nats_fail(ctx, &job->err, s, jerr, "subjects '%s' of stream '%s'", job->b, job->a);
    return;
  }
  bool literal = strpbrk(job->b, "*>") == NULL;
  bool seen = false;
  const jsStreamStateSubjects *subs = si->State.Subjects;
  for (int i = 0; subs && i < subs->Count; i++) {
    probe_job_add(job, "nats.stream.subject_messages", (double)subs->List[i].Msgs, now, "stream", job->a,
                  "subject", subs->List[i].Subject, NULL);
    if (strcmp(subs->List[i].Subject, job->b) == 0) seen = true;
  }
  /* A literal subject with no messages is a count of zero, not missing data. */
  if (literal && !seen)
    probe_job_add(job, "nats.stream.subject_messages", 0, now, "stream", job->a, "subject", job->b, NULL);
  jsStreamInfo_Destroy(si);
}

void probe_nats_run_consumers(probe_ctx *ctx, probe_job *job) {
  jsCtx *js;
  jsOptions o;
  if (!job_start(ctx, job, &js, &o)) return;
  jsConsumerNamesList *list = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_ConsumerNames(&list, js, job->a, &o, &jerr);
  if (s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) return; /* a stream without consumers */
  if (s != NATS_OK) {
    if (not_found(s, jerr))
      stream_not_found(ctx, job);
    else
      job->status = nats_fail(ctx, &job->err, s, jerr, "list consumers of stream '%s'", job->a);
    return;
  }
  if (!take_names(job, list->List, list->Count))
    job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
  jsConsumerNamesList_Destroy(list);
}

void probe_nats_run_consumer(probe_ctx *ctx, probe_job *job) {
  jsCtx *js;
  jsOptions o;
  if (!job_start(ctx, job, &js, &o)) return;
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetConsumerInfo(&ci, js, job->a, job->b, &o, &jerr);
  double now = gg_clock_now();
  const char *st = job->a, *cn = job->b;
  if (s != NATS_OK) {
    if (not_found(s, jerr)) {
      job->missing = true;
      probe_job_add(job, "nats.consumer.exists", 0, now, "stream", st, "consumer", cn, NULL);
    } else {
      job->status = nats_fail(ctx, &job->err, s, jerr, "consumer info of '%s' on stream '%s'", cn, st);
    }
    return;
  }
  const metric m[] = {
      {"nats.consumer.exists", 1},
      {"nats.consumer.num_pending", (double)ci->NumPending},
      {"nats.consumer.num_ack_pending", (double)ci->NumAckPending},
      {"nats.consumer.num_redelivered", (double)ci->NumRedelivered},
      {"nats.consumer.num_waiting", (double)ci->NumWaiting},
      {"nats.consumer.ack_floor", (double)ci->AckFloor.Stream},
      {"nats.consumer.delivered", (double)ci->Delivered.Stream},
      {"nats.consumer.last_active", ns_to_s(ci->Delivered.Last)},
  };
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    probe_job_add(job, m[i].name, m[i].value, now, "stream", st, "consumer", cn, NULL);
  jsConsumerInfo_Destroy(ci);
}

/* Token-wise NATS subject matching: `pattern` covers `subject` when every subject the
 * latter can stand for is matched by the former. */
bool probe_subject_covers(const char *pattern, const char *subject) {
  const char *p = pattern, *s = subject;
  for (;;) {
    size_t pl = strcspn(p, "."), sl = strcspn(s, ".");
    if (pl == 1 && p[0] == '>') return sl > 0 || *s != '\0';
    if (sl == 1 && s[0] == '>') return false; /* only '>' covers '>' */
    if (pl == 1 && p[0] == '*') {
      if (sl == 0) return false;
    } else {
      if (sl == 1 && s[0] == '*') return false;
      if (pl != sl || strncmp(p, s, pl) != 0) return false;
    }
    p += pl;
    s += sl;
    if (*p == '\0' || *s == '\0') return *p == '\0' && *s == '\0';
    p++;
    s++;
  }
}
