/*
 * select.c: the routing of a selector to the jobs that answer it, and the copying of
 * their samples into the caller's vector.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "probe/internal.h"

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
    probe_job *job = probe_job_lookup(ctx, JOB_NATS_STREAM, stream, NULL, timeout);
    return list_add(streams, job, err);
  }
  probe_job *all = probe_job_get(ctx, JOB_NATS_STREAMS, NULL, NULL, timeout);
  if (!all) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (all->status != GG_OK) return job_failed(all, err);
  for (size_t i = 0; i < all->n_names; i++) {
    gg_status st =
        list_add(streams, probe_job_lookup(ctx, JOB_NATS_STREAM, all->names[i], NULL, timeout), err);
    if (st != GG_OK) return st;
  }
  return GG_OK;
}

static gg_status stream_missing(probe_ctx *ctx, const char *stream, gg_error *err) {
  char servers[512];
  probe_nats_servers_text(ctx, servers, sizeof servers);
  return gg_error_set(err, GG_ERR_NO_DATA, "stream '%s' not found (nats %s)", stream, servers);
}

static gg_status select_stream(probe_ctx *ctx, const expr_selector *sel, double timeout, expr_vector *out,
                               gg_error *err) {
  job_list streams = {0};
  gg_status st = streams_of(ctx, sel, timeout, &streams, err);
  if (st != GG_OK) goto out;
  probe_job_run_all(ctx, streams.v, streams.n);
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
          &subj, probe_job_lookup(ctx, JOB_NATS_SUBJECTS, streams.v[i]->a, subject ? subject : ">", timeout),
          err);
    if (st == GG_OK) {
      probe_job_run_all(ctx, subj.v, subj.n);
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
    st = list_add(&streams, probe_job_lookup(ctx, JOB_NATS_STREAM, stream, NULL, timeout), err);
  } else {
    st = streams_of(ctx, sel, timeout, &streams, err);
  }
  if (st != GG_OK) goto out;
  if (consumer) {
    for (size_t i = 0; i < streams.n && st == GG_OK; i++)
      st = list_add(&consumers, probe_job_lookup(ctx, JOB_NATS_CONSUMER, streams.v[i]->a, consumer, timeout),
                    err);
  } else {
    job_list names = {0};
    for (size_t i = 0; i < streams.n && st == GG_OK; i++)
      st = list_add(&names, probe_job_lookup(ctx, JOB_NATS_CONSUMERS, streams.v[i]->a, NULL, timeout), err);
    if (st == GG_OK) probe_job_run_all(ctx, names.v, names.n);
    for (size_t i = 0; i < names.n && st == GG_OK; i++) {
      probe_job *nj = names.v[i];
      if (nj->status != GG_OK) {
        st = job_failed(nj, err);
        break;
      }
      for (size_t k = 0; k < nj->n_names && st == GG_OK; k++)
        st =
            list_add(&consumers, probe_job_lookup(ctx, JOB_NATS_CONSUMER, nj->a, nj->names[k], timeout), err);
    }
    free(names.v);
  }
  if (st != GG_OK) goto out;
  probe_job_run_all(ctx, consumers.v, consumers.n);
  if (strcmp(sel->name, "nats.consumer.exists") != 0)
    for (size_t i = 0; i < consumers.n; i++)
      if (consumers.v[i]->status == GG_OK && consumers.v[i]->missing) {
        char servers[512];
        probe_nats_servers_text(ctx, servers, sizeof servers);
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
  if (kind == JOB_MON_UP || kind == JOB_MON_CURRENT || kind == JOB_MON_JSZ || kind == JOB_MON_ROUTEZ) {
    if (probe_sys_wanted(ctx, timeout)) {
      /* No monitor URL answers: one request through the system account answers for all. */
      job_kind sys = kind == JOB_MON_UP        ? JOB_SYS_UP
                     : kind == JOB_MON_CURRENT ? JOB_SYS_CURRENT
                     : kind == JOB_MON_JSZ     ? JOB_SYS_JSZ
                                               : JOB_SYS_ROUTEZ;
      st = list_add(&jobs, probe_job_lookup(ctx, sys, NULL, NULL, timeout), err);
      if (st != GG_OK) goto out;
      probe_job_run_all(ctx, jobs.v, jobs.n);
      st = collect(&jobs, sel->name, out, err);
      goto out;
    }
    if (cfg->n_monitor_urls == 0) {
      st = gg_error_set(err, GG_ERR_NO_DATA,
                        "'%s' needs NATS monitoring URLs (connect.nats.monitor) or the system account "
                        "(connect.nats.system)",
                        sel->name);
      goto out;
    }
    for (size_t i = 0; i < cfg->n_monitor_urls && st == GG_OK; i++)
      st = list_add(&jobs, probe_job_lookup(ctx, kind, cfg->monitor_urls[i], NULL, timeout), err);
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
        st = list_add(&jobs, probe_job_lookup(ctx, kind, cfg->databases[i].name, NULL, timeout), err);
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
      st = list_add(&jobs, probe_job_lookup(ctx, kind, t->name, NULL, timeout), err);
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
  probe_job_run_all(ctx, jobs.v, jobs.n);
  st = collect(&jobs, sel->name, out, err);
out:
  free(jobs.v);
  return st;
}

static gg_status select_one(probe_ctx *ctx, const expr_selector *sel, job_kind kind, const char *a,
                            double timeout, expr_vector *out, gg_error *err) {
  probe_job *job = probe_job_get(ctx, kind, a, NULL, timeout);
  if (!job) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  job_list one = {&job, 1, 1};
  return collect(&one, sel->name, out, err);
}

gg_status probe_select_timed(probe_ctx *ctx, const expr_selector *sel, double timeout, expr_vector *out,
                             gg_error *err) {
  const char *name = sel->name;
  if (!probe_is_builtin(name)) return select_per(ctx, sel, JOB_SCRAPE, timeout, out, err);
  if (!probe_builtin_known(name)) return gg_error_set(err, GG_ERR_NOT_FOUND, "unknown series '%s'", name);
  if (strcmp(name, "nats.server.up") == 0) return select_per(ctx, sel, JOB_MON_UP, timeout, out, err);
  if (strcmp(name, "nats.jetstream.current") == 0)
    return select_per(ctx, sel, JOB_MON_CURRENT, timeout, out, err);
  if (strcmp(name, "nats.server.route_rtt") == 0)
    return select_per(ctx, sel, JOB_MON_ROUTEZ, timeout, out, err);
  if (strncmp(name, "nats.server.", 12) == 0) return select_per(ctx, sel, JOB_MON_JSZ, timeout, out, err);
  if (strncmp(name, "nats.meta.", 10) == 0) {
    if (probe_sys_wanted(ctx, timeout)) return select_one(ctx, sel, JOB_SYS_META, NULL, timeout, out, err);
    if (ctx->cfg->n_monitor_urls == 0)
      return gg_error_set(err, GG_ERR_NO_DATA,
                          "'%s' needs NATS monitoring URLs (connect.nats.monitor) or the system account "
                          "(connect.nats.system)",
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

gg_status probe_select(probe_ctx *ctx, const expr_selector *sel, expr_vector *out, gg_error *err) {
  size_t from = out->n;
  gg_status st = probe_select_timed(ctx, sel, 0, out, err);
  if (st == GG_OK) st = probe_filter_matchers(sel, out, from, err);
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

gg_status probe_single_job(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout,
                           expr_vector *out, gg_error *err) {
  probe_job *job = probe_job_get(ctx, kind, a, b, timeout);
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
  return probe_single_job(ctx, JOB_PROMQL, query, NULL, 0, out, err);
}

gg_status probe_sql(probe_ctx *ctx, const char *db, const char *query, expr_vector *out, gg_error *err) {
  return probe_single_job(ctx, JOB_SQL, db, query, 0, out, err);
}
