/*
 * internal.h: what the files of src/watch share (the watcher's state, for the HTTP views).
 */
#ifndef GG_WATCH_INTERNAL_H
#define GG_WATCH_INTERNAL_H

#include <pthread.h>

#include "base/httpd.h"
#include "base/metrics.h"
#include "gate/gate.h"
#include "probe/probe.h"
#include "watch/watch.h"

#define WATCH_SERIES_MAX 256 /* series journaled and charted per evaluation (a cap on samples rows) */
#define WATCH_LINES_MAX 16   /* lines per chart */
#define WATCH_MEMBERS_MAX 8  /* members shown per rule */
#define WATCH_DEFAULT_ADVISE_REPEAT (15.0 * 60.0) /* reminders of an unacknowledged advisory */

/* One chart's line: a ring of points, oldest first once unrolled. */
typedef struct {
  char *label;
  double *t, *v;
  size_t n, cap, start;
} watch_line;

typedef struct {
  char *title;
  watch_line lines[WATCH_LINES_MAX];
  size_t nlines;
  bool has_threshold;
  double threshold;
  char unit;
} watch_series_chart;

typedef struct {
  const plan_rule *rule;
  watch_rule_tracker t;
  bool armed;
  char phase[64];  /* the phase a firing acts on ("" when none) */
  char value[512]; /* the latest observation, formatted */
  char error[512]; /* the latest ERROR ("" when it evaluated) */
  char members[WATCH_MEMBERS_MAX][192];
  size_t nmembers;
  double last_eval;
  /* advise */
  bool acked;
  char acked_by[128];
  double last_notified;
  /* rollback: what was rolled back for this rule (a phase is rolled back once) */
  char rolled_phase[64];
  double rolled_started;
  bool retry_rollback; /* the lease was held: try again while firing */
  double retry_started;
  char action[256]; /* what the latest firing did, for the page */
  watch_series_chart chart;
} watch_rule_rt;

typedef struct {
  char phase[64];
  const plan_checkpoint *cp;
  double due;
  double completed_at;
  char result[32]; /* "" not yet, "PASS", "FAIL", "ERROR", JOURNAL_CHECKPOINT_CANCELLED */
  char detail[512];
} watch_cp_rt;

struct watch {
  const plan *p;
  journal *j;
  watch_opts o;
  gate_env *env;
  probe_config cfg; /* env's, with the watcher's timeout */
  double interval;
  const char *actor;
  watch_notifier *nt;
  gg_httpd *httpd;

  /* what is sampled: selector nodes of the rules (through defines) and those the plan's
   * criteria, no-go conditions and checkpoints read history of, deduplicated by text */
  const expr_node **sels;
  char **sel_text;
  size_t nsels;
  const expr_node **wants; /* rule conditions and the defines they use, for prefetch */
  size_t nwants;

  gg_metrics *metrics;
  gg_metric *m_rule_state, *m_rule_error, *m_phase_state, *m_last_eval, *m_eval_duration, *m_evals,
      *m_samples, *m_rollbacks, *m_notifications, *m_checkpoints, *m_probe_errors;

  /* everything below is read by the HTTP threads under mu */
  pthread_mutex_t mu;
  watch_rule_rt *rules;
  size_t nrules;
  journal_phase_info *phases; /* per plan phase */
  json_t **shifts;            /* per plan phase: its latest "shift" note (DESIGN §13); NULL none */
  long long shift_seq;        /* the journal seq read up to for shift notes */
  watch_cp_rt *cps;
  size_t ncps, cps_cap;
  watch_series_chart *charts; /* raw sampled series, one per selector */
  size_t ncharts;
  double started, last_eval, last_duration;
  unsigned long evals;
  char last_error[512];
};

/* Evaluate rule rr at `now` from the tick's probes, step its state and act on the transition
 * (firing.c). Watcher thread only. */
void watch_rule_eval(watch *w, watch_rule_rt *rr, probe_ctx *probes, double now);

/* Evaluate the checkpoints due at `now` that have not been (checkpoint.c). Watcher thread only. */
void watch_checkpoints(watch *w, double now);

/* Queue a notification: text plus the event (borrowed) for every webhook. */
void watch_notify(watch *w, const char *text, json_t *event);

/* Append to the journal; a failure is logged and shown on the page, never fatal. */
void watch_journal(watch *w, journal_kind kind, const char *phase, json_t *content);

/* rr->value and rr->members from an evaluated condition. */
void watch_format_observation(watch_rule_rt *rr, const expr_value *v);

/* Serve /, /metrics, /health, /api/state (http.c). */
gg_status watch_http_start(watch *w, gg_error *err) GG_WUR;

/* The state JSON, with w->mu held. */
json_t *watch_state_locked(watch *w);

/* Append a point to a chart's line `label` (created when new; capped at WATCH_LINES_MAX). */
void watch_chart_add(watch_series_chart *c, const char *label, double t, double v, size_t cap);
void watch_chart_release(watch_series_chart *c);

#endif
