/*
 * internal.h: what the files of src/watch share (the watcher's state, for the HTTP views).
 */
#ifndef GG_WATCH_INTERNAL_H
#define GG_WATCH_INTERNAL_H

#include <pthread.h>

#include "base/httpd.h"
#include "base/metrics.h"
#include "gate/gate.h"
#include "html/html.h"
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

/* One thing on the timeline, copied out of the journal by the watcher thread (timeline.c). */
typedef struct {
  double t;
  html_tl_kind kind;
  bool severe;
  char lane[64];   /* the phase id ("" when none) */
  char label[320]; /* the tooltip */
} watch_tl_event;

#define WATCH_TIMELINE_MAX 512 /* the latest events kept for the timeline; older ones drop off */

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

  /* events the journal refused (its database unreachable), oldest first, appended again with
   * their own times before anything newer: [{kind, phase, content, time}]. Watcher thread only. */
  json_t *pending;
  /* samples the journal refused, oldest first, their labels owned (backlog.c) */
  journal_sample *backlog;
  size_t nbacklog, backlog_cap, backlog_dropped, backlog_written;

  gg_metrics *metrics;
  gg_metric *m_rule_state, *m_rule_error, *m_phase_state, *m_last_eval, *m_eval_duration, *m_evals,
      *m_samples, *m_rollbacks, *m_notifications, *m_checkpoints, *m_probe_errors;

  /* everything below is read by the HTTP threads under mu */
  pthread_mutex_t mu;
  watch_rule_rt *rules;
  size_t nrules;
  journal_phase_info *phases; /* per plan phase */
  json_t **shifts;            /* per plan phase: its latest "shift" note (DESIGN §14); NULL none */
  long long shift_seq;        /* the journal seq read up to for shift notes */
  watch_cp_rt *cps;
  size_t ncps, cps_cap;
  watch_series_chart *charts; /* raw sampled series, one per selector */
  size_t ncharts;
  double started, last_eval, last_duration;
  unsigned long evals;
  watch_tl_event *tl; /* the timeline, oldest first */
  size_t ntl;
  long long tl_seq; /* the last journal row read into it (watcher thread only) */
  char last_error[512];
};

/* Evaluate rule rr at `now` from the tick's probes, step its state and act on the transition
 * (firing.c). Watcher thread only. */
void watch_rule_eval(watch *w, watch_rule_rt *rr, probe_ctx *probes, double now);

/* Evaluate the checkpoints due at `now` that have not been (checkpoint.c). Watcher thread only. */
void watch_checkpoints(watch *w, double now);

/* Queue a notification: text plus the event (borrowed) for every webhook. */
void watch_notify(watch *w, const char *text, json_t *event);

/* At most this many events wait for an unreachable journal (each a few hundred bytes). */
#define WATCH_PENDING_MAX 100000

/* Append to the journal; a failure is logged and shown on the page, never fatal: the event is
 * kept and appended (with its own time, in order) once the journal answers again. */
void watch_journal(watch *w, journal_kind kind, const char *phase, json_t *content);

/* Samples a tick kept while the journal did not answer: at most this many are held (the oldest
 * dropped first, counted and said when it answers again), and at most a batch is appended a tick. */
#define WATCH_SAMPLE_BACKLOG 200000
#define WATCH_SAMPLE_BATCH 20000
/* Record a tick's samples s[0..n) (their labels, malloc'd, become the backlog's): held behind
 * any the journal refused earlier, then appended oldest first. An error when the journal refused
 * them (saying how many are held): they stay held for the next tick. */
gg_status watch_samples_record(watch *w, journal_sample *s, size_t n, gg_error *err) GG_WUR;
/* At exit: append what is held (said when the journal still refuses), then free it. */
void watch_samples_release(watch *w);

/* Append what waits for the journal, oldest first; false while the journal still refuses.
 * Called at every tick. Watcher thread only. */
bool watch_journal_flush(watch *w);

/* rr->value and rr->members from an evaluated condition. */
void watch_format_observation(watch_rule_rt *rr, const expr_value *v);

/* Read the journal's new rows into the timeline (timeline.c). Watcher thread only; a failure to
 * read is logged and tried again next tick. */
void watch_timeline_refresh(watch *w);

/* Sections of the dashboard (page.c), each appending to b with w->mu held. */
gg_status watch_page_banner(watch *w, gg_buf *b, double now) GG_WUR;
/* The banner's facts as JSON for /api/state: state, severity, phase, since, by, carried_back,
 * firing_rule, firing and pending counts, next. You own it. */
json_t *watch_headline_json(watch *w);
gg_status watch_page_timeline(watch *w, gg_buf *b, double now) GG_WUR;
gg_status watch_page_rules(watch *w, gg_buf *b, double t0, double t1) GG_WUR;
/* An SVG chart of c over [t0, t1] (http.c). */
gg_status watch_chart_svg(gg_buf *b, const watch_series_chart *c, double t0, double t1) GG_WUR;

/* Serve /, /metrics, /health, /api/state (http.c). */
gg_status watch_http_start(watch *w, gg_error *err) GG_WUR;

/* The state JSON, with w->mu held. */
json_t *watch_state_locked(watch *w);

/* Append a point to a chart's line `label` (created when new; capped at WATCH_LINES_MAX). */
void watch_chart_add(watch_series_chart *c, const char *label, double t, double v, size_t cap);
void watch_chart_release(watch_series_chart *c);

/* page.c and http.c write HTML into `gg_buf *b`, keeping the first failure in `gg_status st`:
 * P(fmt, ...) appends formatted markup, E(text) appends escaped text; both do nothing once st
 * is not GG_OK. */
#define P(...)                                           \
  do {                                                   \
    if (st == GG_OK) st = gg_buf_printf(b, __VA_ARGS__); \
  } while (0)
#define E(text)                                   \
  do {                                            \
    if (st == GG_OK) st = html_escape(b, (text)); \
  } while (0)

#endif
