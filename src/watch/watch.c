/*
 * watch.c: the watcher's loop. Each tick: refresh the phases from the journal, fetch every
 * series the rules name, and those the plan's criteria and checkpoints take rate() or
 * *_over_time() of (so `check` finds their history), concurrently, journal those samples, evaluate the rules
 * (firing.c) and the due checkpoints (checkpoint.c), and update the metrics and the state the HTTP views
 * read.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "gate/env.h"
#include "probe/probe.h"
#include "watch/internal.h"

/* ---- charts in memory ---- */

void watch_chart_add(watch_series_chart *c, const char *label, double t, double v, size_t cap) {
  watch_line *l = NULL;
  for (size_t i = 0; i < c->nlines; i++)
    if (strcmp(c->lines[i].label, label) == 0) l = &c->lines[i];
  if (!l) {
    if (c->nlines >= WATCH_LINES_MAX) return;
    l = &c->lines[c->nlines];
    memset(l, 0, sizeof *l);
    l->label = strdup(label);
    l->t = calloc(cap, sizeof *l->t);
    l->v = calloc(cap, sizeof *l->v);
    if (!l->label || !l->t || !l->v) {
      free(l->label);
      free(l->t);
      free(l->v);
      return;
    }
    l->cap = cap;
    c->nlines++;
  }
  size_t at = (l->start + l->n) % l->cap;
  l->t[at] = t;
  l->v[at] = v;
  if (l->n < l->cap)
    l->n++;
  else
    l->start = (l->start + 1) % l->cap;
}

void watch_chart_release(watch_series_chart *c) {
  for (size_t i = 0; i < c->nlines; i++) {
    free(c->lines[i].label);
    free(c->lines[i].t);
    free(c->lines[i].v);
  }
  c->nlines = 0;
  free(c->title);
  c->title = NULL;
}

/* ---- what to sample ---- */

static bool journal_series_name(const char *name) {
  return strncmp(name, "phase.", 6) == 0 || strncmp(name, "event.", 6) == 0 ||
         strcmp(name, "attested") == 0 || strcmp(name, "retro.completed") == 0 ||
         strncmp(name, "rehearsal.", 10) == 0;
}

typedef struct {
  watch *w;
  int depth;
  bool nomem;
} collect_ctx;

static void add_want(watch *w, const expr_node *n, bool *nomem) {
  for (size_t i = 0; i < w->nwants; i++)
    if (w->wants[i] == n) return;
  const expr_node **nw = realloc(w->wants, (w->nwants + 1) * sizeof *nw);
  if (!nw) {
    *nomem = true;
    return;
  }
  w->wants = nw;
  w->wants[w->nwants++] = n;
}

static void collect(collect_ctx *c, const expr_node *n) {
  if (!n || c->depth > 16) return;
  if (expr_node_kind(n) == EXPR_SELECTOR) {
    const char *name = expr_node_text(n);
    const plan_define *d = plan_find_define(c->w->p, name);
    if (d) {
      add_want(c->w, d->expr.ast, &c->nomem);
      c->depth++;
      collect(c, d->expr.ast);
      c->depth--;
      return;
    }
    if (journal_series_name(name)) return;
    char *text = expr_print(n);
    if (!text) {
      c->nomem = true;
      return;
    }
    for (size_t i = 0; i < c->w->nsels; i++)
      if (strcmp(c->w->sel_text[i], text) == 0) {
        free(text);
        return;
      }
    if (c->w->nsels >= WATCH_SERIES_MAX) {
      free(text);
      return;
    }
    const expr_node **ns = realloc(c->w->sels, (c->w->nsels + 1) * sizeof *ns);
    char **nt = ns ? realloc(c->w->sel_text, (c->w->nsels + 1) * sizeof *nt) : NULL;
    if (ns) c->w->sels = ns;
    if (!ns || !nt) {
      free(text);
      c->nomem = true;
      return;
    }
    c->w->sel_text = nt;
    c->w->sels[c->w->nsels] = n;
    c->w->sel_text[c->w->nsels++] = text;
    return;
  }
  if (expr_node_kind(n) == EXPR_CALL) {
    const char *f = expr_node_text(n);
    if (strcmp(f, "sql") == 0 || strcmp(f, "promql") == 0) return; /* no selectors inside */
  }
  for (size_t i = 0; i < expr_node_child_count(n); i++) collect(c, expr_node_child(n, i));
}

/* The selectors inside rate(), increase(), delta() and *_over_time() of n, through defines:
 * what `check` needs history of (the rules' selectors are all sampled anyway). */
static void collect_ranges(collect_ctx *c, const expr_node *n) {
  if (!n || c->depth > 16) return;
  if (expr_node_kind(n) == EXPR_SELECTOR) {
    const plan_define *d = plan_find_define(c->w->p, expr_node_text(n));
    if (!d) return;
    c->depth++;
    collect_ranges(c, d->expr.ast);
    c->depth--;
    return;
  }
  if (expr_node_kind(n) == EXPR_CALL) {
    static const char *const ranged[] = {"rate",          "increase",      "delta",
                                         "min_over_time", "max_over_time", "avg_over_time"};
    const char *f = expr_node_text(n);
    for (size_t i = 0; i < sizeof ranged / sizeof ranged[0]; i++)
      if (strcmp(f, ranged[i]) == 0 && expr_node_child_count(n) > 0) {
        collect(c, expr_node_child(n, 0));
        return;
      }
  }
  for (size_t i = 0; i < expr_node_child_count(n); i++) collect_ranges(c, expr_node_child(n, i));
}

static void collect_criteria(collect_ctx *c, const plan_criterion *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i].kind == PLAN_CRIT_EXPECT) collect_ranges(c, v[i].expect.ast);
}

/* Besides the rules' series, the history the plan's other criteria read: the preflight, each
 * phase's go criteria and no-go conditions, and the checkpoints. Same interval, the same
 * selector once (by its text), within WATCH_SERIES_MAX. */
static void collect_plan_ranges(collect_ctx *c) {
  const plan *p = c->w->p;
  size_t first = c->w->nsels;
  collect_criteria(c, p->preflight, p->npreflight);
  for (size_t i = 0; i < p->nphases; i++) {
    collect_criteria(c, p->phases[i].go, p->phases[i].ngo);
    for (size_t k = 0; k < p->phases[i].nno_go; k++) collect_ranges(c, p->phases[i].no_go[k].when.ast);
  }
  for (size_t i = 0; i < p->nvalidation; i++)
    collect_criteria(c, p->validation[i].items, p->validation[i].nitems);
  /* Prefetched with the rules' conditions, so a tick still fetches everything at once. */
  for (size_t i = first; i < c->w->nsels; i++) add_want(c->w, c->w->sels[i], &c->nomem);
}

/* Whether a sample's labels pass the selector's = and != matchers (the probes may answer more). */
static bool matches(const expr_selector *sel, const expr_labels *l) {
  for (size_t i = 0; i < sel->n_matchers; i++) {
    const expr_matcher *m = &sel->matchers[i];
    const char *v = expr_labels_get(l, m->label);
    if (m->op == EXPR_MATCH_EQ && strcmp(v ? v : "", m->value) != 0) return false;
    if (m->op == EXPR_MATCH_NE && strcmp(v ? v : "", m->value) == 0) return false;
  }
  return true;
}

static char *labels_json(const expr_labels *l) {
  json_t *o = json_object();
  if (!o) return NULL;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, "__name__") != 0)
      json_object_set_new(o, l->v[i].name, json_string(l->v[i].value));
  char *s = journal_canonical(o);
  json_decref(o);
  return s;
}

/* ---- the tick ---- */

static const char *const phase_states[] = {"not started", "prepared", "decided",     "running",
                                           "completed",   "failed",   "rolled back", "rollback incomplete"};

/* The latest "shift" note of each phase (a traffic shift's share, step and state), read
 * incrementally: only the notes journaled since the previous tick. */
static gg_status read_shifts(watch *w, gg_error *err) {
  journal_filter f = journal_filter_all();
  f.kind = "note";
  f.after_seq = w->shift_seq;
  journal_event *ev = NULL;
  size_t n = 0;
  gg_status st = journal_events(w->j, &f, &ev, &n, err);
  if (st != GG_OK) return st;
  for (size_t k = 0; k < n; k++) {
    w->shift_seq = ev[k].seq;
    if (!ev[k].phase || !strstr(ev[k].content, "\"shift\"")) continue;
    json_t *c = journal_event_content(&ev[k]);
    const char *note = json_string_value(json_object_get(c, "note"));
    for (size_t i = 0; note && strcmp(note, "shift") == 0 && i < w->p->nphases; i++)
      if (strcmp(w->p->phases[i].id, ev[k].phase) == 0) {
        pthread_mutex_lock(&w->mu);
        json_decref(w->shifts[i]);
        w->shifts[i] = json_incref(c);
        pthread_mutex_unlock(&w->mu);
      }
    json_decref(c);
  }
  journal_events_free(ev, n);
  return GG_OK;
}

gg_status watch_tick(watch *w, gg_error *err) {
  double t0 = gg_clock_mono();
  double now = gg_clock_now();
  gg_status st = GG_OK;

  /* what waited for the journal goes first, in order */
  if (json_array_size(w->pending) > 0) (void)watch_journal_flush(w);

  /* phases: a journal that cannot be read keeps the state last read, and the watch goes on */
  for (size_t i = 0; i < w->p->nphases; i++) {
    journal_phase_info info;
    memset(&info, 0, sizeof info);
    gg_error rerr;
    gg_error_clear(&rerr);
    if (journal_phase(w->j, w->p->phases[i].id, &info, &rerr) != GG_OK) {
      gg_warn("journal read failed, phase state as last read", "phase=%s err=\"%s\"", w->p->phases[i].id,
              gg_error_message(&rerr));
      pthread_mutex_lock(&w->mu);
      snprintf(w->last_error, sizeof w->last_error, "journal unreadable: %s", gg_error_message(&rerr));
      pthread_mutex_unlock(&w->mu);
      continue;
    }
    pthread_mutex_lock(&w->mu);
    w->phases[i] = info;
    pthread_mutex_unlock(&w->mu);
    for (int s = 0; s < (int)(sizeof phase_states / sizeof phase_states[0]); s++)
      gg_metrics_set(
          gg_metrics_series(w->m_phase_state, (const char *[]){w->p->phases[i].id, phase_states[s]}),
          (int)info.state == s);
  }

  /* a traffic shift's latest step: like the phases, kept as last read when the journal is down */
  {
    gg_error serr;
    gg_error_clear(&serr);
    if (read_shifts(w, &serr) != GG_OK)
      gg_warn("journal read failed, shift state as last read", "err=\"%s\"", gg_error_message(&serr));
  }

  /* sample */
  probe_ctx *probes = probe_ctx_new(&w->cfg);
  if (!probes) return gg_error_set(err, GG_ERR_NOMEM, "probe context");
  probe_want *wants = calloc(w->nwants + 1, sizeof *wants);
  if (!wants) {
    probe_ctx_free(probes);
    return gg_error_set(err, GG_ERR_NOMEM, "probe wants");
  }
  for (size_t i = 0; i < w->nwants; i++) wants[i] = (probe_want){w->wants[i], w->cfg.timeout};
  gg_error perr;
  gg_error_clear(&perr);
  if (probe_prefetch(probes, wants, w->nwants, &perr) != GG_OK)
    gg_warn("prefetch failed", "err=\"%s\"", gg_error_message(&perr));
  free(wants);

  journal_sample *samples = NULL;
  size_t ns = 0, cap = 0;
  for (size_t i = 0; i < w->nsels; i++) {
    expr_selector sel;
    expr_node_selector(w->sels[i], &sel);
    expr_vector v = {0};
    gg_error_clear(&perr);
    gg_status ps = probe_select(probes, &sel, &v, &perr);
    pthread_mutex_lock(&w->mu);
    watch_series_chart *c = &w->charts[i];
    if (ps != GG_OK) {
      gg_metrics_inc(gg_metrics_series(w->m_probe_errors, (const char *[]){w->sel_text[i]}), 1);
      for (size_t k = 0; k < c->nlines; k++)
        watch_chart_add(c, c->lines[k].label, now, NAN, w->o.history_points);
    }
    for (size_t k = 0; ps == GG_OK && k < v.n && ns < WATCH_SERIES_MAX; k++) {
      if (!matches(&sel, &v.v[k].labels)) continue;
      char *lj = labels_json(&v.v[k].labels);
      if (!lj) continue;
      if (ns == cap) {
        size_t nc = cap ? cap * 2 : 32;
        journal_sample *a = realloc(samples, nc * sizeof *a);
        if (!a) {
          free(lj);
          break;
        }
        samples = a;
        cap = nc;
      }
      samples[ns] = (journal_sample){.name = sel.name, .labels = lj, .time = now, .value = v.v[k].value};
      ns++;
      char lab[256];
      expr_labels_format(&v.v[k].labels, lab, sizeof lab);
      watch_chart_add(c, lab, now, v.v[k].value, w->o.history_points);
    }
    pthread_mutex_unlock(&w->mu);
    expr_vector_release(&v);
  }
  gg_metrics_inc(gg_metrics_series(w->m_samples, NULL), (double)ns);
  st = watch_samples_record(w, samples, ns, err); /* the labels (lj) are the backlog's now */
  free(samples);

  /* rules */
  for (size_t i = 0; i < w->nrules; i++) watch_rule_eval(w, &w->rules[i], probes, now);
  probe_ctx_free(probes);

  /* the rules may have rolled a phase back: the checkpoints read the phases again */
  gg_error jerr;
  gg_error_clear(&jerr);
  for (size_t i = 0; i < w->p->nphases; i++) {
    journal_phase_info info;
    memset(&info, 0, sizeof info);
    if (journal_phase(w->j, w->p->phases[i].id, &info, &jerr) != GG_OK) continue;
    pthread_mutex_lock(&w->mu);
    w->phases[i] = info;
    pthread_mutex_unlock(&w->mu);
  }
  watch_timeline_refresh(w);
  watch_checkpoints(w, now);

  double took = gg_clock_mono() - t0;
  pthread_mutex_lock(&w->mu);
  w->last_eval = now;
  w->last_duration = took;
  w->evals++;
  pthread_mutex_unlock(&w->mu);
  gg_metrics_set(gg_metrics_series(w->m_last_eval, NULL), now);
  gg_metrics_observe(gg_metrics_series(w->m_eval_duration, NULL), took);
  gg_metrics_inc(gg_metrics_series(w->m_evals, NULL), 1);
  watch_notifier_stats ns_stats;
  watch_notifier_get_stats(w->nt, &ns_stats);
  gg_metrics_set(gg_metrics_series(w->m_notifications, (const char *[]){"sent"}), (double)ns_stats.sent);
  gg_metrics_set(gg_metrics_series(w->m_notifications, (const char *[]){"failed"}), (double)ns_stats.failed);
  gg_metrics_set(gg_metrics_series(w->m_notifications, (const char *[]){"queued"}), (double)ns_stats.queued);
  return st;
}

gg_status watch_run(watch *w, volatile sig_atomic_t *stop, gg_error *err) {
  double next = gg_clock_mono();
  while (!*stop) {
    gg_error e;
    gg_error_clear(&e);
    if (watch_tick(w, &e) != GG_OK) {
      gg_log_error("evaluation failed", "err=\"%s\"", gg_error_message(&e));
      pthread_mutex_lock(&w->mu);
      snprintf(w->last_error, sizeof w->last_error, "%s", gg_error_message(&e));
      pthread_mutex_unlock(&w->mu);
    }
    next += w->interval;
    double now = gg_clock_mono();
    if (next < now) next = now; /* a slow tick (a rollback) does not cause a burst */
    while (!*stop && gg_clock_mono() < next) {
      double left = next - gg_clock_mono();
      if (left > 0.1) left = 0.1;
      if (left > 0) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
  }
  (void)err;
  return GG_OK;
}

/* ---- lifecycle ---- */

gg_status watch_new(const plan *p, journal *j, const watch_opts *opts, watch **out, gg_error *err) {
  watch *w = calloc(1, sizeof *w);
  if (!w) return gg_error_set(err, GG_ERR_NOMEM, "watcher");
  gg_status st = GG_OK;
  pthread_mutex_init(&w->mu, NULL);
  w->p = p;
  w->j = j;
  if (opts) w->o = *opts;
  if (w->o.history_points == 0) w->o.history_points = 720;
  w->actor = w->o.actor ? w->o.actor : "gonogo watch";
  w->interval = w->o.interval > 0 ? w->o.interval : p->monitor.interval > 0 ? p->monitor.interval : 15;
  w->started = gg_clock_now();
  if ((st = gate_env_new(p, j, &w->env, err)) != GG_OK) goto out;
  gate_env_set_history_mode(w->env, GATE_HISTORY_SAMPLED); /* the samples the watcher journals */
  w->cfg = *gate_env_probe_config(w->env);
  w->cfg.timeout =
      w->o.probe_timeout > 0 ? w->o.probe_timeout : fmax(1.0, fmin(w->interval, PROBE_DEFAULT_TIMEOUT));

  w->rules = calloc(p->monitor.nrules + 1, sizeof *w->rules);
  w->phases = calloc(p->nphases + 1, sizeof *w->phases);
  w->shifts = calloc(p->nphases + 1, sizeof *w->shifts);
  if (!w->rules || !w->phases) {
    st = gg_error_set(err, GG_ERR_NOMEM, "watcher");
    goto out;
  }
  w->nrules = p->monitor.nrules;
  collect_ctx cc = {.w = w};
  for (size_t i = 0; i < w->nrules; i++) {
    w->rules[i].rule = &p->monitor.rules[i];
    w->rules[i].chart.title = strdup(p->monitor.rules[i].name);
    add_want(w, p->monitor.rules[i].when.ast, &cc.nomem);
    collect(&cc, p->monitor.rules[i].when.ast);
  }
  collect_plan_ranges(&cc);
  w->charts = calloc(w->nsels + 1, sizeof *w->charts);
  if (w->charts) w->ncharts = w->nsels;
  if (cc.nomem || !w->charts) {
    st = gg_error_set(err, GG_ERR_NOMEM, "watcher");
    goto out;
  }
  for (size_t i = 0; i < w->nsels; i++) w->charts[i].title = strdup(w->sel_text[i]);

  w->metrics = gg_metrics_new();
  if (!w->metrics) {
    st = gg_error_set(err, GG_ERR_NOMEM, "metrics");
    goto out;
  }
  w->m_rule_state =
      gg_metrics_gauge(w->metrics, "gonogo_watch_rule_state", "Rule state: 0 inactive, 1 pending, 2 firing.",
                       1, (const char *[]){"rule"});
  w->m_rule_error =
      gg_metrics_gauge(w->metrics, "gonogo_watch_rule_error",
                       "1 when the rule's latest evaluation was an ERROR.", 1, (const char *[]){"rule"});
  w->m_phase_state =
      gg_metrics_gauge(w->metrics, "gonogo_watch_phase_state", "1 for the phase's current state.", 2,
                       (const char *[]){"phase", "state"});
  w->m_last_eval = gg_metrics_gauge(w->metrics, "gonogo_watch_last_evaluation_timestamp_seconds",
                                    "When the rules were last evaluated.", 0, NULL);
  w->m_eval_duration = gg_metrics_histogram(w->metrics, "gonogo_watch_evaluation_duration_seconds",
                                            "How long one sampling and evaluation took.", 0, NULL, 9,
                                            (const double[]){0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  w->m_evals = gg_metrics_counter(w->metrics, "gonogo_watch_evaluations_total", "Evaluations done.", 0, NULL);
  w->m_samples = gg_metrics_counter(w->metrics, "gonogo_watch_samples_total", "Samples journaled.", 0, NULL);
  w->m_rollbacks = gg_metrics_counter(w->metrics, "gonogo_watch_rollbacks_total", "Automatic rollbacks.", 1,
                                      (const char *[]){"result"});
  w->m_notifications = gg_metrics_gauge(w->metrics, "gonogo_watch_notifications",
                                        "Webhook deliveries by outcome.", 1, (const char *[]){"result"});
  w->m_checkpoints = gg_metrics_counter(w->metrics, "gonogo_watch_checkpoints_total",
                                        "Checkpoints evaluated.", 1, (const char *[]){"result"});
  w->m_probe_errors = gg_metrics_counter(w->metrics, "gonogo_watch_probe_errors_total",
                                         "Sampling failures per selector.", 1, (const char *[]){"selector"});
  for (size_t i = 0; i < w->nrules; i++)
    gg_metrics_set(gg_metrics_series(w->m_rule_state, (const char *[]){w->rules[i].rule->name}), 0);

  if ((st = watch_notifier_new(p->connect.notify, p->connect.nnotify, &w->o.notify, &w->nt, err)) != GG_OK)
    goto out;
  if (w->o.listen && w->o.listen[0] && (st = watch_http_start(w, err)) != GG_OK) goto out;
out:
  if (st != GG_OK) {
    watch_free(w);
    return st;
  }
  *out = w;
  return GG_OK;
}

uint16_t watch_port(const watch *w) {
  return w->httpd ? gg_httpd_port(w->httpd) : 0;
}

json_t *watch_state(watch *w) {
  pthread_mutex_lock(&w->mu);
  json_t *s = watch_state_locked(w);
  pthread_mutex_unlock(&w->mu);
  return s;
}

size_t watch_firing_count(watch *w) {
  size_t n = 0;
  pthread_mutex_lock(&w->mu);
  for (size_t i = 0; i < w->nrules; i++) n += w->rules[i].t.state == WATCH_RULE_FIRING;
  pthread_mutex_unlock(&w->mu);
  return n;
}

void watch_free(watch *w) {
  if (!w) return;
  if (json_array_size(w->pending) > 0 && !watch_journal_flush(w))
    gg_log_error("journal unreachable at exit: events not recorded", "count=%zu",
                 json_array_size(w->pending));
  json_decref(w->pending);
  watch_samples_release(w);
  gg_httpd_stop(w->httpd);
  watch_notifier_free(w->nt, 5.0);
  for (size_t i = 0; i < w->nrules; i++) watch_chart_release(&w->rules[i].chart);
  for (size_t i = 0; i < w->ncharts; i++) watch_chart_release(&w->charts[i]);
  for (size_t i = 0; i < w->nsels; i++) free(w->sel_text[i]);
  free(w->sel_text);
  free(w->sels);
  free(w->wants);
  free(w->charts);
  free(w->rules);
  free(w->phases);
  for (size_t i = 0; w->shifts && i < w->p->nphases; i++) json_decref(w->shifts[i]);
  free(w->shifts);
  free(w->cps);
  free(w->tl);
  gg_metrics_free(w->metrics);
  gate_env_free(w->env);
  pthread_mutex_destroy(&w->mu);
  free(w);
}
