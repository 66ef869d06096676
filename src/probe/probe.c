/*
 * probe.c: the evaluation context (its lifecycle, notes and configuration lookups), the
 * names of the built-in series, and the adapter that makes a context a series source.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"

/* The names themselves live in one table, src/expr/series.c, which the plan loader and
 * the plan reference read too. */
bool probe_is_builtin(const char *name) {
  return expr_series_reserved(name);
}

bool probe_builtin_known(const char *name) {
  const expr_series_info *s = expr_series_find(name);
  return s && strcmp(s->source, "journal") != 0;
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
  pthread_mutex_init(&ctx->sys_lock, NULL);
  return ctx;
}

void probe_ctx_forget(probe_ctx *ctx) {
  if (!ctx) return;
  probe_job *job = ctx->jobs;
  while (job) {
    probe_job *next = job->next;
    probe_job_free(job);
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
  probe_nats_close(ctx);
  probe_sys_close(ctx);
  probe_pg_close_all(ctx);
  if (ctx->pg)
    for (size_t i = 0; i < ctx->cfg->n_databases; i++) pthread_mutex_destroy(&ctx->pg[i].lock);
  free(ctx->pg);
  pthread_mutex_destroy(&ctx->lock);
  pthread_mutex_destroy(&ctx->nats_lock);
  pthread_mutex_destroy(&ctx->sys_lock);
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

double probe_ctx_slowest(probe_ctx *ctx, char *what, size_t n) {
  pthread_mutex_lock(&ctx->lock);
  double s = ctx->slowest;
  if (what && n) snprintf(what, n, "%s", ctx->slowest_what);
  pthread_mutex_unlock(&ctx->lock);
  return s;
}
