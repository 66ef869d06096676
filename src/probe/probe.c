/*
 * probe.c: the evaluation context, the job cache, concurrency, and the routing of a
 * selector to the jobs that answer it.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "probe/internal.h"

/* Threads started at once by one job_run_all or one prefetch. */
#define PROBE_MAX_THREADS 32

static const char *const builtin_names[] = {"nats.server.up",
                                            "nats.server.storage_free",
                                            "nats.server.memory_free",
                                            "nats.server.route_rtt",
                                            "nats.meta.leader_present",
                                            "nats.meta.peers_current",
                                            "nats.meta.cluster_size",
                                            "nats.jetstream.enabled",
                                            "nats.stream.exists",
                                            "nats.stream.messages",
                                            "nats.stream.bytes",
                                            "nats.stream.first_seq",
                                            "nats.stream.last_seq",
                                            "nats.stream.last_ts",
                                            "nats.stream.consumers",
                                            "nats.stream.replicas_current",
                                            "nats.stream.subject_messages",
                                            "nats.stream.has_subject",
                                            "nats.consumer.exists",
                                            "nats.consumer.num_pending",
                                            "nats.consumer.num_ack_pending",
                                            "nats.consumer.num_redelivered",
                                            "nats.consumer.num_waiting",
                                            "nats.consumer.ack_floor",
                                            "nats.consumer.delivered",
                                            "nats.consumer.last_active",
                                            "pg.up",
                                            "pg.connect_time",
                                            "pg.ping",
                                            "pg.connections",
                                            "pg.max_connections",
                                            "pg.pool_utilization",
                                            "pg.xact_commit",
                                            "pg.rows_inserted",
                                            "http.up",
                                            "http.status",
                                            "http.latency",
                                            "alerts.firing",
                                            "file.age",
                                            "fs.free",
                                            NULL};

static const char *const builtin_prefixes[] = {"nats.", "pg.", "http.", "alerts.", "file.", "fs.", NULL};

bool probe_is_builtin(const char *name) {
  for (size_t i = 0; builtin_prefixes[i]; i++)
    if (strncmp(name, builtin_prefixes[i], strlen(builtin_prefixes[i])) == 0) return true;
  return false;
}

static bool builtin_known(const char *name) {
  for (size_t i = 0; builtin_names[i]; i++)
    if (strcmp(name, builtin_names[i]) == 0) return true;
  return false;
}

probe_ctx *probe_ctx_new(const probe_config *cfg) {
  probe_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  ctx->cfg = cfg;
  ctx->timeout = cfg->timeout > 0 ? cfg->timeout : PROBE_DEFAULT_TIMEOUT;
  if (cfg->n_databases) {
    ctx->pg = calloc(cfg->n_databases, sizeof *ctx->pg);
    if (!ctx->pg) {
      free(ctx);
      return NULL;
    }
    for (size_t i = 0; i < cfg->n_databases; i++) pthread_mutex_init(&ctx->pg[i].lock, NULL);
  }
  pthread_mutex_init(&ctx->lock, NULL);
  pthread_mutex_init(&ctx->nats_lock, NULL);
  return ctx;
}

static void job_free(probe_job *job) {
  free(job->a);
  free(job->b);
  expr_vector_release(&job->vec);
  json_decref(job->doc);
  for (size_t i = 0; i < job->n_names; i++) free(job->names[i]);
  free(job->names);
  pthread_mutex_destroy(&job->lock);
  free(job);
}

void probe_ctx_forget(probe_ctx *ctx) {
  if (!ctx) return;
  probe_job *job = ctx->jobs;
  while (job) {
    probe_job *next = job->next;
    job_free(job);
    job = next;
  }
  ctx->jobs = NULL;
  for (size_t i = 0; i < ctx->n_notes; i++) free(ctx->notes[i]);
  free(ctx->notes);
  ctx->notes = NULL;
  ctx->n_notes = 0;
}

void probe_ctx_free(probe_ctx *ctx) {
  if (!ctx) return;
  probe_ctx_forget(ctx);
  nats_close(ctx);
  pg_close_all(ctx);
  if (ctx->pg)
    for (size_t i = 0; i < ctx->cfg->n_databases; i++) pthread_mutex_destroy(&ctx->pg[i].lock);
  free(ctx->pg);
  pthread_mutex_destroy(&ctx->lock);
  pthread_mutex_destroy(&ctx->nats_lock);
  free(ctx);
}

void probe_note(probe_ctx *ctx, const char *fmt, ...) {
  char buf[GG_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&ctx->lock);
  char *copy = strdup(buf);
  char **grown = copy ? realloc(ctx->notes, (ctx->n_notes + 1) * sizeof *grown) : NULL;
  if (grown) {
    ctx->notes = grown;
    ctx->notes[ctx->n_notes++] = copy;
  } else {
    free(copy);
  }
  pthread_mutex_unlock(&ctx->lock);
}

size_t probe_ctx_note_count(probe_ctx *ctx) {
  pthread_mutex_lock(&ctx->lock);
  size_t n = ctx->n_notes;
  pthread_mutex_unlock(&ctx->lock);
  return n;
}

const char *probe_ctx_note(probe_ctx *ctx, size_t i) {
  pthread_mutex_lock(&ctx->lock);
  const char *s = i < ctx->n_notes ? ctx->notes[i] : NULL;
  pthread_mutex_unlock(&ctx->lock);
  return s;
}

gg_status job_add(probe_job *job, const char *name, double value, double ts, ...) {
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

probe_job *job_lookup(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout) {
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
    case JOB_MON_HEALTH:
      natsmon_run_health(ctx, job);
      break;
    case JOB_MON_VARZ:
      natsmon_run_varz(ctx, job);
      break;
    case JOB_MON_JSZ:
      natsmon_run_jsz(ctx, job);
      break;
    case JOB_MON_ROUTEZ:
      natsmon_run_routez(ctx, job);
      break;
    case JOB_MON_META:
      natsmon_run_meta(ctx, job);
      break;
    case JOB_NATS_ACCOUNT:
      nats_run_account(ctx, job);
      break;
    case JOB_NATS_STREAMS:
      nats_run_streams(ctx, job);
      break;
    case JOB_NATS_STREAM:
      nats_run_stream(ctx, job);
      break;
    case JOB_NATS_SUBJECTS:
      nats_run_subjects(ctx, job);
      break;
    case JOB_NATS_CONSUMERS:
      nats_run_consumers(ctx, job);
      break;
    case JOB_NATS_CONSUMER:
      nats_run_consumer(ctx, job);
      break;
    case JOB_PG:
      pg_run(ctx, job);
      break;
    case JOB_SQL:
      pg_run_sql(ctx, job);
      break;
    case JOB_HTTP_HEALTH:
      http_run_health(ctx, job);
      break;
    case JOB_SCRAPE:
      http_run_scrape(ctx, job);
      break;
    case JOB_PROMQL:
      promql_run(ctx, job);
      break;
    case JOB_ALERTS:
      alerts_run(ctx, job);
      break;
    case JOB_FILE:
      files_run_age(ctx, job);
      break;
    case JOB_FS:
      files_run_fs(ctx, job);
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

probe_job *job_get(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout) {
  probe_job *job = job_lookup(ctx, kind, a, b, timeout);
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

void job_run_all(probe_ctx *ctx, probe_job **jobs, size_t n) {
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

const probe_target *probe_find_target(const probe_ctx *ctx, const char *name) {
  for (size_t i = 0; i < ctx->cfg->n_targets; i++)
    if (ctx->cfg->targets[i].name && strcmp(ctx->cfg->targets[i].name, name) == 0)
      return &ctx->cfg->targets[i];
  return NULL;
}

int probe_find_db(const probe_ctx *ctx, const char *name) {
  for (size_t i = 0; i < ctx->cfg->n_databases; i++)
    if (ctx->cfg->databases[i].name && strcmp(ctx->cfg->databases[i].name, name) == 0) return (int)i;
  return -1;
}

/* ------------------------------------------------------------------------------------
 * Routing a selector
 * ---------------------------------------------------------------------------------- */

/* The value of an `label="v"` matcher, or NULL. */
static const char *eq_matcher(const expr_selector *sel, const char *label) {
  for (size_t i = 0; i < sel->n_matchers; i++)
    if (sel->matchers[i].op == EXPR_MATCH_EQ && strcmp(sel->matchers[i].label, label) == 0)
      return sel->matchers[i].value;
  return NULL;
}

typedef struct {
  probe_job **v;
  size_t n;
  size_t cap;
} job_list;

static gg_status list_add(job_list *l, probe_job *job, gg_error *err) {
  if (!job) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    probe_job **grown = realloc(l->v, cap * sizeof *grown);
    if (!grown) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    l->v = grown;
    l->cap = cap;
  }
  l->v[l->n++] = job;
  return GG_OK;
}

/* Add sample s to out without its __name__ label (the name is the caller's, not a label). */
static gg_status add_without_name(expr_vector *out, const expr_sample *s, gg_error *err) {
  expr_labels l = {0};
  gg_status st = GG_OK;
  for (size_t j = 0; j < s->labels.n && st == GG_OK; j++)
    if (strcmp(s->labels.v[j].name, "__name__") != 0)
      st = expr_labels_set(&l, s->labels.v[j].name, s->labels.v[j].value);
  if (st == GG_OK) st = expr_vector_add_labels(out, s->value, s->ts, &l);
  expr_labels_release(&l);
  if (st != GG_OK) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  return GG_OK;
}

static gg_status job_failed(const probe_job *job, gg_error *err) {
  if (err) {
    *err = job->err;
    if (err->code == GG_OK) err->code = job->status;
  }
  return job->status;
}

/* Copy the samples named `name` from the jobs into out (without __name__). */
static gg_status collect(const job_list *jobs, const char *name, expr_vector *out, gg_error *err) {
  for (size_t i = 0; i < jobs->n; i++) {
    const probe_job *job = jobs->v[i];
    if (job->status != GG_OK) {
      /* A failed job may still answer some names (pg.up is 0 when the connect failed). */
      bool has = false;
      for (size_t k = 0; k < job->vec.n && !has; k++) {
        const char *n = expr_labels_get(&job->vec.v[k].labels, "__name__");
        has = n && strcmp(n, name) == 0;
      }
      if (!has) return job_failed(job, err);
    }
    for (size_t k = 0; k < job->vec.n; k++) {
      const expr_sample *s = &job->vec.v[k];
      const char *n = expr_labels_get(&s->labels, "__name__");
      if (!n || strcmp(n, name) != 0) continue;
      gg_status st = add_without_name(out, s, err);
      if (st != GG_OK) return st;
    }
  }
  return GG_OK;
}

/* The streams a selector names: its stream="x" matcher, or every stream. */
static gg_status streams_of(probe_ctx *ctx, const expr_selector *sel, double timeout, job_list *streams,
                            gg_error *err) {
  const char *stream = eq_matcher(sel, "stream");
  if (stream) {
    probe_job *job = job_lookup(ctx, JOB_NATS_STREAM, stream, NULL, timeout);
    return list_add(streams, job, err);
  }
  probe_job *all = job_get(ctx, JOB_NATS_STREAMS, NULL, NULL, timeout);
  if (!all) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (all->status != GG_OK) return job_failed(all, err);
  for (size_t i = 0; i < all->n_names; i++) {
    gg_status st = list_add(streams, job_lookup(ctx, JOB_NATS_STREAM, all->names[i], NULL, timeout), err);
    if (st != GG_OK) return st;
  }
  return GG_OK;
}

static gg_status stream_missing(probe_ctx *ctx, const char *stream, gg_error *err) {
  char servers[512];
  nats_servers_text(ctx, servers, sizeof servers);
  return gg_error_set(err, GG_ERR_NO_DATA, "stream '%s' not found (nats %s)", stream, servers);
}

static gg_status select_stream(probe_ctx *ctx, const expr_selector *sel, double timeout, expr_vector *out,
                               gg_error *err) {
  job_list streams = {0};
  gg_status st = streams_of(ctx, sel, timeout, &streams, err);
  if (st != GG_OK) goto out;
  job_run_all(ctx, streams.v, streams.n);
  for (size_t i = 0; i < streams.n; i++)
    if (streams.v[i]->status != GG_OK) {
      st = job_failed(streams.v[i], err);
      goto out;
    }
  bool exists = strcmp(sel->name, "nats.stream.exists") == 0;
  if (!exists)
    for (size_t i = 0; i < streams.n; i++)
      if (streams.v[i]->missing) {
        st = stream_missing(ctx, streams.v[i]->a, err);
        goto out;
      }
  if (strcmp(sel->name, "nats.stream.has_subject") == 0) {
    const char *subject = eq_matcher(sel, "subject");
    for (size_t i = 0; i < streams.n && st == GG_OK; i++) {
      probe_job *job = streams.v[i];
      if (subject) {
        bool covered = false;
        for (size_t k = 0; k < job->n_names; k++)
          covered = covered || probe_subject_covers(job->names[k], subject);
        st =
            expr_vector_add(out, covered ? 1 : 0, gg_clock_now(), "stream", job->a, "subject", subject, NULL);
      } else {
        for (size_t k = 0; k < job->n_names && st == GG_OK; k++)
          st = expr_vector_add(out, 1, gg_clock_now(), "stream", job->a, "subject", job->names[k], NULL);
      }
    }
    if (st != GG_OK) st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (strcmp(sel->name, "nats.stream.subject_messages") == 0) {
    const char *subject = eq_matcher(sel, "subject");
    job_list subj = {0};
    for (size_t i = 0; i < streams.n && st == GG_OK; i++)
      st = list_add(
          &subj, job_lookup(ctx, JOB_NATS_SUBJECTS, streams.v[i]->a, subject ? subject : ">", timeout), err);
    if (st == GG_OK) {
      job_run_all(ctx, subj.v, subj.n);
      st = collect(&subj, sel->name, out, err);
    }
    free(subj.v);
    goto out;
  }
  st = collect(&streams, sel->name, out, err);
out:
  free(streams.v);
  return st;
}

static gg_status select_consumer(probe_ctx *ctx, const expr_selector *sel, double timeout, expr_vector *out,
                                 gg_error *err) {
  job_list streams = {0}, consumers = {0};
  gg_status st = GG_OK;
  const char *consumer = eq_matcher(sel, "consumer");
  const char *stream = eq_matcher(sel, "stream");
  if (stream) {
    st = list_add(&streams, job_lookup(ctx, JOB_NATS_STREAM, stream, NULL, timeout), err);
  } else {
    st = streams_of(ctx, sel, timeout, &streams, err);
  }
  if (st != GG_OK) goto out;
  if (consumer) {
    for (size_t i = 0; i < streams.n && st == GG_OK; i++)
      st = list_add(&consumers, job_lookup(ctx, JOB_NATS_CONSUMER, streams.v[i]->a, consumer, timeout), err);
  } else {
    job_list names = {0};
    for (size_t i = 0; i < streams.n && st == GG_OK; i++)
      st = list_add(&names, job_lookup(ctx, JOB_NATS_CONSUMERS, streams.v[i]->a, NULL, timeout), err);
    if (st == GG_OK) job_run_all(ctx, names.v, names.n);
    for (size_t i = 0; i < names.n && st == GG_OK; i++) {
      probe_job *nj = names.v[i];
      if (nj->status != GG_OK) {
        st = job_failed(nj, err);
        break;
      }
      for (size_t k = 0; k < nj->n_names && st == GG_OK; k++)
        st = list_add(&consumers, job_lookup(ctx, JOB_NATS_CONSUMER, nj->a, nj->names[k], timeout), err);
    }
    free(names.v);
  }
  if (st != GG_OK) goto out;
  job_run_all(ctx, consumers.v, consumers.n);
  if (strcmp(sel->name, "nats.consumer.exists") != 0)
    for (size_t i = 0; i < consumers.n; i++)
      if (consumers.v[i]->status == GG_OK && consumers.v[i]->missing) {
        char servers[512];
        nats_servers_text(ctx, servers, sizeof servers);
        st = gg_error_set(err, GG_ERR_NO_DATA, "consumer '%s' of stream '%s' not found (nats %s)",
                          consumers.v[i]->b, consumers.v[i]->a, servers);
        goto out;
      }
  st = collect(&consumers, sel->name, out, err);
out:
  free(streams.v);
  free(consumers.v);
  return st;
}

/* One job per monitor URL, or one job per target with a URL of the wanted kind. */
static gg_status select_per(probe_ctx *ctx, const expr_selector *sel, job_kind kind, double timeout,
                            expr_vector *out, gg_error *err) {
  job_list jobs = {0};
  gg_status st = GG_OK;
  const probe_config *cfg = ctx->cfg;
  if (kind == JOB_MON_HEALTH || kind == JOB_MON_JSZ || kind == JOB_MON_ROUTEZ) {
    if (cfg->n_monitor_urls == 0) {
      st = gg_error_set(err, GG_ERR_NO_DATA, "'%s' needs NATS monitoring URLs (connect.nats.monitor)",
                        sel->name);
      goto out;
    }
    for (size_t i = 0; i < cfg->n_monitor_urls && st == GG_OK; i++)
      st = list_add(&jobs, job_lookup(ctx, kind, cfg->monitor_urls[i], NULL, timeout), err);
  } else if (kind == JOB_PG) {
    const char *db = eq_matcher(sel, "db");
    if (db && probe_find_db(ctx, db) < 0) {
      st = gg_error_set(err, GG_ERR_NO_DATA, "no database '%s' in connect.databases", db);
      goto out;
    }
    if (!db && cfg->n_databases == 0) {
      st = gg_error_set(err, GG_ERR_NO_DATA, "'%s' needs a database in connect.databases", sel->name);
      goto out;
    }
    for (size_t i = 0; i < cfg->n_databases && st == GG_OK; i++)
      if (!db || strcmp(db, cfg->databases[i].name) == 0)
        st = list_add(&jobs, job_lookup(ctx, kind, cfg->databases[i].name, NULL, timeout), err);
  } else { /* JOB_HTTP_HEALTH, JOB_SCRAPE */
    const char *target = eq_matcher(sel, "target");
    if (target) {
      const probe_target *t = probe_find_target(ctx, target);
      if (!t) {
        st = gg_error_set(err, GG_ERR_NO_DATA, "no target '%s' in connect.targets", target);
        goto out;
      }
    }
    for (size_t i = 0; i < cfg->n_targets && st == GG_OK; i++) {
      const probe_target *t = &cfg->targets[i];
      if (target && strcmp(target, t->name) != 0) continue;
      const char *url = kind == JOB_SCRAPE ? t->metrics : t->health;
      if (!url || !*url) {
        if (target) {
          st = gg_error_set(err, GG_ERR_NO_DATA, "target '%s' has no %s URL", target,
                            kind == JOB_SCRAPE ? "metrics" : "health");
          goto out;
        }
        continue;
      }
      st = list_add(&jobs, job_lookup(ctx, kind, t->name, NULL, timeout), err);
    }
    if (st == GG_OK && jobs.n == 0) {
      if (kind == JOB_SCRAPE) {
        st = gg_error_set(err, GG_ERR_NOT_FOUND, "unknown series '%s'", sel->name);
      } else {
        st = gg_error_set(err, GG_ERR_NO_DATA, "'%s' needs a target with a health URL in connect.targets",
                          sel->name);
      }
      goto out;
    }
  }
  if (st != GG_OK) goto out;
  job_run_all(ctx, jobs.v, jobs.n);
  st = collect(&jobs, sel->name, out, err);
out:
  free(jobs.v);
  return st;
}

static gg_status select_one(probe_ctx *ctx, const expr_selector *sel, job_kind kind, const char *a,
                            double timeout, expr_vector *out, gg_error *err) {
  probe_job *job = job_get(ctx, kind, a, NULL, timeout);
  if (!job) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  job_list one = {&job, 1, 1};
  return collect(&one, sel->name, out, err);
}

static gg_status select_timed(probe_ctx *ctx, const expr_selector *sel, double timeout, expr_vector *out,
                              gg_error *err) {
  const char *name = sel->name;
  if (!probe_is_builtin(name)) return select_per(ctx, sel, JOB_SCRAPE, timeout, out, err);
  if (!builtin_known(name)) return gg_error_set(err, GG_ERR_NOT_FOUND, "unknown series '%s'", name);
  if (strcmp(name, "nats.server.up") == 0) return select_per(ctx, sel, JOB_MON_HEALTH, timeout, out, err);
  if (strcmp(name, "nats.server.route_rtt") == 0)
    return select_per(ctx, sel, JOB_MON_ROUTEZ, timeout, out, err);
  if (strncmp(name, "nats.server.", 12) == 0) return select_per(ctx, sel, JOB_MON_JSZ, timeout, out, err);
  if (strncmp(name, "nats.meta.", 10) == 0) {
    if (ctx->cfg->n_monitor_urls == 0)
      return gg_error_set(err, GG_ERR_NO_DATA, "'%s' needs NATS monitoring URLs (connect.nats.monitor)",
                          name);
    return select_one(ctx, sel, JOB_MON_META, NULL, timeout, out, err);
  }
  if (strcmp(name, "nats.jetstream.enabled") == 0)
    return select_one(ctx, sel, JOB_NATS_ACCOUNT, NULL, timeout, out, err);
  if (strncmp(name, "nats.stream.", 12) == 0) return select_stream(ctx, sel, timeout, out, err);
  if (strncmp(name, "nats.consumer.", 14) == 0) return select_consumer(ctx, sel, timeout, out, err);
  if (strncmp(name, "pg.", 3) == 0) return select_per(ctx, sel, JOB_PG, timeout, out, err);
  if (strncmp(name, "http.", 5) == 0) return select_per(ctx, sel, JOB_HTTP_HEALTH, timeout, out, err);
  if (strcmp(name, "alerts.firing") == 0) return select_one(ctx, sel, JOB_ALERTS, NULL, timeout, out, err);
  if (strcmp(name, "file.age") == 0 || strcmp(name, "fs.free") == 0) {
    const char *path = eq_matcher(sel, "path");
    if (!path)
      return gg_error_set(err, GG_ERR_INVALID, "'%s' needs a path: %s{path=\"/some/file\"}", name, name);
    return select_one(ctx, sel, strcmp(name, "file.age") == 0 ? JOB_FILE : JOB_FS, path, timeout, out, err);
  }
  return gg_error_set(err, GG_ERR_NOT_FOUND, "unknown series '%s'", name);
}

/* Keep only the samples of `v` from index `from` on that satisfy every matcher. */
static gg_status filter_matchers(const expr_selector *sel, expr_vector *v, size_t from, gg_error *err) {
  regex_t *res = sel->n_matchers ? calloc(sel->n_matchers, sizeof *res) : NULL;
  bool *compiled = sel->n_matchers ? calloc(sel->n_matchers, sizeof *compiled) : NULL;
  gg_status st = GG_OK;
  if (sel->n_matchers && (!res || !compiled)) {
    st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < sel->n_matchers; i++) {
    const expr_matcher *m = &sel->matchers[i];
    if (m->op != EXPR_MATCH_RE && m->op != EXPR_MATCH_NOT_RE) continue;
    size_t len = strlen(m->value) + 5;
    char *anchored = malloc(len);
    if (!anchored) {
      st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      goto out;
    }
    snprintf(anchored, len, "^(%s)$", m->value);
    int rc = regcomp(&res[i], anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
      st = gg_error_set(err, GG_ERR_EXPR, "invalid regular expression '%s' for label '%s'", m->value,
                        m->label);
      goto out;
    }
    compiled[i] = true;
  }
  size_t w = from;
  for (size_t r = from; r < v->n; r++) {
    bool keep = true;
    for (size_t i = 0; i < sel->n_matchers && keep; i++) {
      const expr_matcher *m = &sel->matchers[i];
      const char *have = expr_labels_get(&v->v[r].labels, m->label);
      if (!have) have = ""; /* an absent label matches "" (PromQL) */
      switch (m->op) {
        case EXPR_MATCH_EQ:
          keep = strcmp(have, m->value) == 0;
          break;
        case EXPR_MATCH_NE:
          keep = strcmp(have, m->value) != 0;
          break;
        case EXPR_MATCH_RE:
          keep = regexec(&res[i], have, 0, NULL, 0) == 0;
          break;
        case EXPR_MATCH_NOT_RE:
          keep = regexec(&res[i], have, 0, NULL, 0) != 0;
          break;
      }
    }
    if (keep)
      v->v[w++] = v->v[r];
    else
      expr_labels_release(&v->v[r].labels);
  }
  v->n = w;
out:
  for (size_t i = 0; compiled && i < sel->n_matchers; i++)
    if (compiled[i]) regfree(&res[i]);
  free(res);
  free(compiled);
  return st;
}

gg_status probe_select(probe_ctx *ctx, const expr_selector *sel, expr_vector *out, gg_error *err) {
  size_t from = out->n;
  gg_status st = select_timed(ctx, sel, 0, out, err);
  if (st == GG_OK) st = filter_matchers(sel, out, from, err);
  if (st == GG_OK && strcmp(sel->name, "alerts.firing") == 0 && out->n == from) {
    /* No alert with the asked name firing is a 0, so `alerts.firing{alertname="x"} == 0` reads naturally. */
    bool named = false;
    expr_labels l = {0};
    for (size_t i = 0; i < sel->n_matchers && st == GG_OK; i++)
      if (sel->matchers[i].op == EXPR_MATCH_EQ) {
        named = named || strcmp(sel->matchers[i].label, "alertname") == 0;
        st = expr_labels_set(&l, sel->matchers[i].label, sel->matchers[i].value);
      }
    if (st == GG_OK && named) st = expr_vector_add_labels(out, 0, gg_clock_now(), &l);
    expr_labels_release(&l);
    if (st != GG_OK) st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  return st;
}

static gg_status single_job(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout,
                            expr_vector *out, gg_error *err) {
  probe_job *job = job_get(ctx, kind, a, b, timeout);
  if (!job) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (job->status != GG_OK) return job_failed(job, err);
  for (size_t i = 0; i < job->vec.n; i++) {
    const expr_sample *s = &job->vec.v[i];
    gg_status st = add_without_name(out, s, err);
    if (st != GG_OK) return st;
  }
  return GG_OK;
}

gg_status probe_promql(probe_ctx *ctx, const char *query, expr_vector *out, gg_error *err) {
  return single_job(ctx, JOB_PROMQL, query, NULL, 0, out, err);
}

gg_status probe_sql(probe_ctx *ctx, const char *db, const char *query, expr_vector *out, gg_error *err) {
  return single_job(ctx, JOB_SQL, db, query, 0, out, err);
}

/* ------------------------------------------------------------------------------------
 * The series source adapter
 * ---------------------------------------------------------------------------------- */

static gg_status src_select(void *user, const expr_selector *sel, const expr_ctx *ectx, expr_vector *out,
                            gg_error *err) {
  (void)ectx;
  return probe_select(user, sel, out, err);
}

static gg_status src_promql(void *user, const char *query, const expr_ctx *ectx, expr_vector *out,
                            gg_error *err) {
  (void)ectx;
  return probe_promql(user, query, out, err);
}

static gg_status src_sql(void *user, const char *db, const char *query, const expr_ctx *ectx,
                         expr_vector *out, gg_error *err) {
  (void)ectx;
  return probe_sql(user, db, query, out, err);
}

void probe_ctx_source(probe_ctx *ctx, expr_series_source *src) {
  memset(src, 0, sizeof *src);
  src->name = "probes";
  src->select = src_select;
  src->promql = src_promql;
  src->sql = src_sql;
  src->user = ctx;
}

/* ------------------------------------------------------------------------------------
 * Prefetch
 * ---------------------------------------------------------------------------------- */

typedef struct {
  probe_ctx *ctx;
  int what; /* 0 selector, 1 promql, 2 sql */
  expr_selector sel;
  const char *a;
  const char *b;
  double timeout;
} fetch_item;

typedef struct {
  fetch_item *v;
  size_t n;
  size_t cap;
  double timeout;
  probe_ctx *ctx;
  bool nomem;
} fetch_list;

static void fetch_add(fetch_list *l, fetch_item item) {
  if (l->nomem) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    fetch_item *grown = realloc(l->v, cap * sizeof *grown);
    if (!grown) {
      l->nomem = true;
      return;
    }
    l->v = grown;
    l->cap = cap;
  }
  l->v[l->n++] = item;
}

static bool collect_node(const expr_node *node, void *user) {
  fetch_list *l = user;
  fetch_item item = {.ctx = l->ctx, .timeout = l->timeout};
  if (expr_node_kind(node) == EXPR_SELECTOR) {
    item.what = 0;
    expr_node_selector(node, &item.sel);
    fetch_add(l, item);
  } else if (expr_node_kind(node) == EXPR_CALL) {
    const char *fn = expr_node_text(node);
    size_t nc = expr_node_child_count(node);
    if (strcmp(fn, "promql") == 0 && nc == 1 && expr_node_kind(expr_node_child(node, 0)) == EXPR_STR) {
      item.what = 1;
      item.a = expr_node_text(expr_node_child(node, 0));
      fetch_add(l, item);
    } else if (strcmp(fn, "sql") == 0 && nc == 2 && expr_node_kind(expr_node_child(node, 1)) == EXPR_STR) {
      const expr_node *db = expr_node_child(node, 0);
      if (expr_node_kind(db) == EXPR_STR || expr_node_kind(db) == EXPR_SELECTOR) {
        item.what = 2;
        item.a = expr_node_text(db);
        item.b = expr_node_text(expr_node_child(node, 1));
        fetch_add(l, item);
      }
      return false; /* the db name is not a series */
    }
  }
  return true;
}

static void *fetch_thread(void *p) {
  fetch_item *item = p;
  expr_vector v = {0};
  gg_error e;
  gg_error_clear(&e);
  gg_status st;
  double t0 = gg_clock_mono();
  if (item->what == 0)
    st = select_timed(item->ctx, &item->sel, item->timeout, &v, &e);
  else if (item->what == 1)
    st = single_job(item->ctx, JOB_PROMQL, item->a, NULL, item->timeout, &v, &e);
  else
    st = single_job(item->ctx, JOB_SQL, item->a, item->b, item->timeout, &v, &e);
  (void)st; /* failures stay in the jobs and are reported when the evaluator asks */
  expr_vector_release(&v);
  double took = gg_clock_mono() - t0;
  pthread_mutex_lock(&item->ctx->lock);
  if (took > item->ctx->slowest) {
    item->ctx->slowest = took;
    snprintf(item->ctx->slowest_what, sizeof item->ctx->slowest_what, "%s",
             item->what == 0   ? item->sel.name
             : item->what == 1 ? "promql()"
                               : "sql()");
  }
  pthread_mutex_unlock(&item->ctx->lock);
  return NULL;
}

double probe_ctx_slowest(probe_ctx *ctx, char *what, size_t n) {
  pthread_mutex_lock(&ctx->lock);
  double s = ctx->slowest;
  if (what && n) snprintf(what, n, "%s", ctx->slowest_what);
  pthread_mutex_unlock(&ctx->lock);
  return s;
}

/* expr_walk stops at a false return, so sql()'s arguments are skipped by walking the
 * tree by hand. */
static void walk(const expr_node *node, fetch_list *l) {
  if (!collect_node(node, l)) return;
  for (size_t i = 0; i < expr_node_child_count(node); i++) walk(expr_node_child(node, i), l);
}

gg_status probe_prefetch(probe_ctx *ctx, const probe_want *wants, size_t n, gg_error *err) {
  fetch_list l = {.ctx = ctx};
  for (size_t i = 0; i < n; i++) {
    if (!wants[i].expr) continue;
    l.timeout = wants[i].timeout;
    walk(wants[i].expr, &l);
  }
  if (l.nomem) {
    free(l.v);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory collecting the series to fetch");
  }
  for (size_t base = 0; base < l.n; base += PROBE_MAX_THREADS) {
    size_t m = l.n - base < PROBE_MAX_THREADS ? l.n - base : PROBE_MAX_THREADS;
    pthread_t th[PROBE_MAX_THREADS];
    bool started[PROBE_MAX_THREADS];
    for (size_t i = 0; i < m; i++) {
      started[i] = pthread_create(&th[i], NULL, fetch_thread, &l.v[base + i]) == 0;
      if (!started[i]) fetch_thread(&l.v[base + i]);
    }
    for (size_t i = 0; i < m; i++)
      if (started[i]) pthread_join(th[i], NULL);
  }
  free(l.v);
  return GG_OK;
}
