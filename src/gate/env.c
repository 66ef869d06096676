/*
 * env.c: what an evaluation needs from the plan — the probe configuration from
 * `connect:`, the calendar, the `define:` entries — and the journal as a series and
 * history source, made safe to share between the gate's threads (a journal handle is
 * not thread-safe, so every call into it holds env->jlock).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "gate/internal.h"
#include "journal/series.h"

static bool tz_set;
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the journal, locked ---- */

static gg_status locked_select(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                               gg_error *err) {
  gate_env *env = user;
  pthread_mutex_lock(&env->jlock);
  gg_status st = env->jsrc.select(env->jsrc.user, sel, ctx, out, err);
  pthread_mutex_unlock(&env->jlock);
  return st;
}

/* Two fresh samples GATE_RATE_GAP apart, through private probe contexts so the shared
 * one keeps its cached values. */
static gg_status fresh_pair(void *user, const expr_selector *sel, expr_matrix *out, gg_error *err) {
  gate_env *env = user;
  expr_vector a = {0}, b = {0};
  gg_status st = GG_OK;
  probe_ctx *c1 = probe_ctx_new(&env->cfg);
  probe_ctx *c2 = probe_ctx_new(&env->cfg);
  if (!c1 || !c2) {
    st = gg_error_set(err, GG_ERR_NOMEM, "two fresh samples of '%s'", sel->name);
    goto out;
  }
  double t1 = gg_clock_now();
  if ((st = probe_select(c1, sel, &a, err)) != GG_OK) goto out;
  usleep((useconds_t)(GATE_RATE_GAP * 1e6));
  double t2 = gg_clock_now();
  if ((st = probe_select(c2, sel, &b, err)) != GG_OK) goto out;
  for (size_t i = 0; i < a.n && st == GG_OK; i++) {
    for (size_t k = 0; k < b.n; k++) {
      char la[512], lb[512];
      expr_labels_format(&a.v[i].labels, la, sizeof la);
      expr_labels_format(&b.v[k].labels, lb, sizeof lb);
      if (strcmp(la, lb) != 0) continue;
      expr_point pts[2] = {{t1, a.v[i].value}, {t2, b.v[k].value}};
      if (expr_matrix_add(out, &a.v[i].labels, pts, 2) != GG_OK)
        st = gg_error_set(err, GG_ERR_NOMEM, "two fresh samples of '%s'", sel->name);
      break;
    }
  }
  out->range_start = t1;
  out->range_end = t2;
out:
  expr_vector_release(&a);
  expr_vector_release(&b);
  probe_ctx_free(c1);
  probe_ctx_free(c2);
  return st;
}

/* The journal's raw samples, behind the lock (a candidate of the history chain). */
static gg_status locked_raw(void *user, const expr_selector *sel, double window, expr_history_use use,
                            const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  gate_env *env = user;
  pthread_mutex_lock(&env->jlock);
  gg_status st = env->jraw.range(env->jraw.user, sel, window, use, ctx, out, err);
  pthread_mutex_unlock(&env->jlock);
  return st;
}

/* Prometheus, for metrics scraped from the plan's targets (a candidate of the chain). It
 * only saves the fresh pair's wait, so it gets at most GATE_PROM_HISTORY_TIMEOUT. */
static gg_status prom_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                            const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  gate_env *env = user;
  (void)use;
  double t =
      env->cfg.timeout > 0 ? fmin(env->cfg.timeout, GATE_PROM_HISTORY_TIMEOUT) : GATE_PROM_HISTORY_TIMEOUT;
  return probe_prom_history(&env->cfg, sel, window, ctx->now, t, out, err);
}

void gate_env_history_chain(gate_env *env, bool live, gate_history_chain *out) {
  memset(out, 0, sizeof *out);
  if (env->j) out->cand[out->n++] = (gate_history_candidate){"journal samples", &env->locked_jraw};
  if (!live) return;
  if (env->cfg.prometheus_url && env->cfg.prometheus_url[0])
    out->cand[out->n++] = (gate_history_candidate){"prometheus", &env->prom};
  if (!env->no_fresh_pairs) {
    out->fresh = fresh_pair;
    out->fresh_user = env;
  }
}

gg_status gate_env_history_read(gate_env *env, const gate_history_chain *chain, const expr_selector *sel,
                                double window, expr_history_use use, const expr_ctx *ctx, expr_matrix *out,
                                char *origin, size_t n, gg_error *err) {
  if (env->mode == GATE_HISTORY_SAMPLED) {
    if (origin && n) origin[0] = '\0';
    if (!env->j)
      return gg_error_set(err, GG_ERR_NO_DATA, "insufficient history for '%s': no journal", sel->name);
    pthread_mutex_lock(&env->jlock);
    gg_status st = env->jhist.range(env->jhist.user, sel, window, use, ctx, out, err);
    pthread_mutex_unlock(&env->jlock);
    return st;
  }
  /* Live series have a live history: read it as of the present, also under --at. */
  expr_ctx now = *ctx;
  now.now = gg_clock_now();
  return gate_history_read(chain, sel, window, use, &now, out, origin, n, err);
}

static gg_status env_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                           const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  gate_env *env = user;
  gate_history_chain chain;
  gate_env_history_chain(env, true, &chain);
  return gate_env_history_read(env, &chain, sel, window, use, ctx, out, NULL, 0, err);
}

/* ---- building the environment ---- */

static const char *secret_or_null(const gg_secret *s) {
  return gg_secret_present(s) ? gg_secret_reveal(s) : NULL;
}

gg_status gate_env_new(const plan *p, journal *j, gate_env **out, gg_error *err) {
  gate_env *env = calloc(1, sizeof *env);
  gg_status st = GG_OK;
  if (!env) return gg_error_set(err, GG_ERR_NOMEM, "gate environment");
  pthread_mutex_init(&env->jlock, NULL);
  env->p = p;
  env->j = j;
  const plan_connect *c = &p->connect;
  probe_config *cfg = &env->cfg;
  cfg->nats_servers = (const char *const *)c->nats.servers;
  cfg->n_nats_servers = c->nats.nservers;
  cfg->nats_user = c->nats.user;
  cfg->nats_password = secret_or_null(&c->nats.password);
  cfg->nats_token = secret_or_null(&c->nats.token);
  cfg->nats_creds = c->nats.credentials;
  cfg->nats_nkey = c->nats.nkey;
  cfg->nats_tls_ca = c->nats.tls_ca;
  cfg->nats_tls_cert = c->nats.tls_cert;
  cfg->nats_tls_key = c->nats.tls_key;
  cfg->nats_sys_user = c->nats.sys_user;
  cfg->nats_sys_password = secret_or_null(&c->nats.sys_password);
  cfg->nats_sys_creds = c->nats.sys_creds;
  cfg->nats_expect_servers = c->nats.expect_servers;
  cfg->monitor_urls = (const char *const *)c->nats.monitor;
  cfg->n_monitor_urls = c->nats.nmonitor;
  cfg->prometheus_url = c->prometheus;
  cfg->alertmanager_url = c->alertmanager;
  env->dbs = calloc(c->ndatabases + 1, sizeof *env->dbs);
  env->targets = calloc(c->ntargets + 1, sizeof *env->targets);
  env->defines = calloc(p->ndefines + 1, sizeof *env->defines);
  if (!env->dbs || !env->targets || !env->defines) {
    st = gg_error_set(err, GG_ERR_NOMEM, "gate environment");
    goto out;
  }
  for (size_t i = 0; i < c->ndatabases; i++) {
    env->dbs[i].name = c->databases[i].name;
    env->dbs[i].url = gg_secret_reveal(&c->databases[i].url);
  }
  cfg->databases = env->dbs;
  cfg->n_databases = c->ndatabases;
  for (size_t i = 0; i < c->ntargets; i++) {
    env->targets[i].name = c->targets[i].name;
    env->targets[i].health = c->targets[i].health;
    env->targets[i].metrics = c->targets[i].metrics;
  }
  cfg->targets = env->targets;
  cfg->n_targets = c->ntargets;
  for (size_t i = 0; i < p->ndefines; i++) {
    env->defines[i].name = p->defines[i].name;
    env->defines[i].expr = p->defines[i].expr.ast;
  }
  env->ndefines = p->ndefines;

  /* The calendar: the time zone is process-wide, set once before threads start. */
  pthread_mutex_lock(&tz_lock);
  if (!tz_set) {
    st = expr_calendar_set_timezone(p->calendar.timezone ? p->calendar.timezone : "UTC", err);
    tz_set = st == GG_OK;
  }
  pthread_mutex_unlock(&tz_lock);
  if (st != GG_OK) goto out;
  env->cal = expr_calendar_new();
  if (!env->cal) {
    st = gg_error_set(err, GG_ERR_NOMEM, "calendar");
    goto out;
  }
  for (size_t i = 0; i < p->calendar.nholidays && st == GG_OK; i++)
    st = expr_calendar_add_holiday(env->cal, p->calendar.holidays[i], err);
  for (size_t i = 0; i < p->calendar.nfreezes && st == GG_OK; i++)
    st = expr_calendar_add_freeze(env->cal, p->calendar.freezes[i], err);
  for (size_t i = 0; i < p->calendar.nwindows && st == GG_OK; i++)
    st = expr_calendar_add_window(env->cal, p->calendar.window_names[i], p->calendar.window_specs[i], NULL,
                                  err);
  if (st == GG_OK && p->calendar.off_hours)
    st = expr_calendar_set_off_hours(env->cal, p->calendar.off_hours, NULL, err);
  if (st != GG_OK) goto out;

  if (j) {
    journal_set_plan(j, p->hash, p->rehearsal_valid_for); /* rehearsal.passed compares with this plan */
    env->jsrc = journal_series_source(j);
    env->jhist = journal_history_source(j);
    env->jraw = journal_history_source_raw(j);
  }
  env->locked_journal = (expr_series_source){.name = "journal", .select = locked_select, .user = env};
  env->locked_jraw = (expr_history_source){.range = locked_raw, .user = env};
  env->prom = (expr_history_source){.range = prom_range, .user = env};
  env->history = (expr_history_source){.range = env_range, .user = env};

  /* Secrets the plan holds, to scrub from anything we record. */
  const gg_secret *secrets[64];
  size_t ns = 0;
  secrets[ns++] = &c->nats.password;
  secrets[ns++] = &c->nats.token;
  secrets[ns++] = &c->nats.sys_password;
  for (size_t i = 0; i < c->ndatabases && ns < 48; i++) secrets[ns++] = &c->databases[i].url;
  for (size_t i = 0; i < c->nnotify && ns < 64; i++) secrets[ns++] = &c->notify[i].webhook;
  for (size_t i = 0; i < ns; i++)
    if (gg_secret_present(secrets[i]) && env->nsecrets < GATE_MAX_SECRETS)
      env->secrets[env->nsecrets++] = gg_secret_reveal(secrets[i]);
out:
  if (st != GG_OK) {
    gate_env_free(env);
    return st;
  }
  *out = env;
  return GG_OK;
}

void gate_env_free(gate_env *env) {
  if (!env) return;
  expr_calendar_free(env->cal);
  free(env->dbs);
  free(env->targets);
  free(env->defines);
  pthread_mutex_destroy(&env->jlock);
  free(env);
}

void gate_env_ctx(gate_env *env, probe_ctx *probes, double now, expr_ctx *ctx, expr_series_source *srcs) {
  expr_ctx_init(ctx);
  ctx->now = now;
  ctx->calendar = env->cal;
  ctx->defines = env->defines;
  ctx->n_defines = env->ndefines;
  size_t n = 0;
  if (env->j) srcs[n++] = env->locked_journal;
  if (probes) probe_ctx_source(probes, &srcs[n++]);
  ctx->sources = srcs;
  ctx->n_sources = n;
  ctx->history = &env->history;
}

char *gate_env_scrub(const gate_env *env, const char *text) {
  if (!text) return strdup("");
  char *s = strdup(text);
  for (size_t i = 0; s && i < env->nsecrets; i++) {
    const char *sec = env->secrets[i];
    size_t len = strlen(sec);
    if (len < 4) continue; /* too short to scrub without mangling ordinary text */
    char *hit;
    while ((hit = strstr(s, sec)) != NULL) {
      const char *mask = "<redacted>";
      size_t ml = strlen(mask), total = strlen(s) - len + ml + 1;
      char *t = malloc(total);
      if (!t) break;
      size_t pre = (size_t)(hit - s);
      memcpy(t, s, pre);
      memcpy(t + pre, mask, ml);
      memcpy(t + pre + ml, hit + len, strlen(hit + len) + 1);
      free(s);
      s = t;
    }
  }
  return s;
}

gg_status gate_eval(gate_env *env, const expr_node *expr, double now, double timeout, expr_value *out,
                    gg_error *err) {
  probe_config cfg = env->cfg;
  cfg.timeout = timeout;
  probe_ctx *probes = probe_ctx_new(&cfg);
  if (!probes) return gg_error_set(err, GG_ERR_NOMEM, "probe context");
  probe_want want = {.expr = expr, .timeout = timeout};
  gg_status st = probe_prefetch(probes, &want, 1, err);
  if (st == GG_OK) {
    expr_ctx ctx;
    expr_series_source srcs[2];
    gate_env_ctx(env, probes, now, &ctx, srcs);
    st = expr_eval(expr, &ctx, out, err);
  }
  probe_ctx_free(probes);
  return st;
}

const probe_config *gate_env_probe_config(const gate_env *env) {
  return &env->cfg;
}

void gate_env_set_history_mode(gate_env *env, gate_history_mode mode) {
  env->mode = mode;
}
