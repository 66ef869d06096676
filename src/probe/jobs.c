/*
 * jobs.c: the job cache of a context: a job per (kind, a, b), run at most once, by the
 * first asker, while later askers wait on its mutex; several at once on threads.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "probe/internal.h"

void probe_job_free(probe_job *job) {
  free(job->a);
  free(job->b);
  expr_vector_release(&job->vec);
  json_decref(job->doc);
  for (size_t i = 0; i < job->n_names; i++) free(job->names[i]);
  free(job->names);
  pthread_mutex_destroy(&job->lock);
  free(job);
}

gg_status probe_job_add(probe_job *job, const char *name, double value, double ts, ...) {
  expr_labels l = {0};
  gg_status st = expr_labels_set(&l, "__name__", name);
  va_list ap;
  va_start(ap, ts);
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (!k || st != GG_OK) break;
    const char *v = va_arg(ap, const char *);
    st = expr_labels_set(&l, k, v ? v : "");
  }
  va_end(ap);
  if (st == GG_OK) st = expr_vector_add_labels(&job->vec, value, ts, &l);
  expr_labels_release(&l);
  if (st != GG_OK) {
    job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory storing probe results");
  }
  return st;
}

static bool str_eq(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcmp(a, b) == 0;
}

probe_job *probe_job_lookup(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout) {
  pthread_mutex_lock(&ctx->lock);
  probe_job *job = ctx->jobs;
  for (; job; job = job->next)
    if (job->kind == kind && str_eq(job->a, a) && str_eq(job->b, b)) break;
  if (!job) {
    job = calloc(1, sizeof *job);
    if (job) {
      job->kind = kind;
      job->a = a ? strdup(a) : NULL;
      job->b = b ? strdup(b) : NULL;
      if ((a && !job->a) || (b && !job->b)) {
        free(job->a);
        free(job->b);
        free(job);
        job = NULL;
      } else {
        job->timeout = timeout > 0 ? timeout : ctx->timeout;
        pthread_mutex_init(&job->lock, NULL);
        job->next = ctx->jobs;
        ctx->jobs = job;
      }
    }
  }
  pthread_mutex_unlock(&ctx->lock);
  return job;
}

static void job_dispatch(probe_ctx *ctx, probe_job *job) {
  switch (job->kind) {
    case JOB_MON_UP:
      probe_natsmon_run_up(ctx, job);
      break;
    case JOB_MON_CURRENT:
      probe_natsmon_run_current(ctx, job);
      break;
    case JOB_MON_VARZ:
      probe_natsmon_run_varz(ctx, job);
      break;
    case JOB_MON_JSZ:
      probe_natsmon_run_jsz(ctx, job);
      break;
    case JOB_MON_ROUTEZ:
      probe_natsmon_run_routez(ctx, job);
      break;
    case JOB_MON_META:
      probe_natsmon_run_meta(ctx, job);
      break;
    case JOB_SYS_PING:
      probe_sys_run_ping(ctx, job);
      break;
    case JOB_SYS_UP:
      probe_sys_run_up(ctx, job);
      break;
    case JOB_SYS_CURRENT:
      probe_sys_run_current(ctx, job);
      break;
    case JOB_SYS_JSZ:
      probe_sys_run_jsz(ctx, job);
      break;
    case JOB_SYS_ROUTEZ:
      probe_sys_run_routez(ctx, job);
      break;
    case JOB_SYS_META:
      probe_sys_run_meta(ctx, job);
      break;
    case JOB_NATS_ACCOUNT:
      probe_nats_run_account(ctx, job);
      break;
    case JOB_NATS_STREAMS:
      probe_nats_run_streams(ctx, job);
      break;
    case JOB_NATS_STREAM:
      probe_nats_run_stream(ctx, job);
      break;
    case JOB_NATS_SUBJECTS:
      probe_nats_run_subjects(ctx, job);
      break;
    case JOB_NATS_CONSUMERS:
      probe_nats_run_consumers(ctx, job);
      break;
    case JOB_NATS_CONSUMER:
      probe_nats_run_consumer(ctx, job);
      break;
    case JOB_PG:
      probe_pg_run(ctx, job);
      break;
    case JOB_SQL:
      probe_pg_run_sql(ctx, job);
      break;
    case JOB_HTTP_HEALTH:
      probe_http_run_health(ctx, job);
      break;
    case JOB_SCRAPE:
      probe_http_run_scrape(ctx, job);
      break;
    case JOB_PROMQL:
      probe_promql_run(ctx, job);
      break;
    case JOB_ALERTS:
      probe_alerts_run(ctx, job);
      break;
    case JOB_FILE:
      probe_files_run_age(ctx, job);
      break;
    case JOB_FS:
      probe_files_run_fs(ctx, job);
      break;
  }
}

static void job_ensure(probe_ctx *ctx, probe_job *job) {
  pthread_mutex_lock(&job->lock);
  if (!job->done) {
    double t0 = gg_clock_mono();
    job->status = GG_OK;
    gg_error_clear(&job->err);
    job_dispatch(ctx, job);
    job->elapsed = gg_clock_mono() - t0;
    job->done = true;
  }
  pthread_mutex_unlock(&job->lock);
}

probe_job *probe_job_get(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout) {
  probe_job *job = probe_job_lookup(ctx, kind, a, b, timeout);
  if (job) job_ensure(ctx, job);
  return job;
}

typedef struct {
  probe_ctx *ctx;
  probe_job *job;
} job_thread_arg;

static void *job_thread(void *p) {
  job_thread_arg *arg = p;
  job_ensure(arg->ctx, arg->job);
  return NULL;
}

void probe_job_run_all(probe_ctx *ctx, probe_job **jobs, size_t n) {
  if (n == 1) {
    job_ensure(ctx, jobs[0]);
    return;
  }
  for (size_t base = 0; base < n; base += PROBE_MAX_THREADS) {
    size_t m = n - base < PROBE_MAX_THREADS ? n - base : PROBE_MAX_THREADS;
    pthread_t th[PROBE_MAX_THREADS];
    job_thread_arg args[PROBE_MAX_THREADS];
    bool started[PROBE_MAX_THREADS];
    for (size_t i = 0; i < m; i++) {
      args[i].ctx = ctx;
      args[i].job = jobs[base + i];
      started[i] = pthread_create(&th[i], NULL, job_thread, &args[i]) == 0;
      if (!started[i]) job_ensure(ctx, jobs[base + i]);
    }
    for (size_t i = 0; i < m; i++)
      if (started[i]) pthread_join(th[i], NULL);
  }
}
