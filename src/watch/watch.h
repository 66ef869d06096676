/*
 * watch.h: watching a migration after a cutover (DESIGN §9).
 *
 * A watcher samples, every monitor.interval, what the plan's monitor rules and its due
 * validation checkpoints need (all selectors fetched concurrently through the probes, each
 * with a timeout), journals the samples so rate() and *_over_time() have history, and
 * evaluates the rules with Prometheus alerting semantics (see watch_rule_step). A rule is
 * armed only while a phase it applies to is running or completed; on firing it:
 *
 *   rollback  rolls back the most recent running or completed phase once, through the
 *             rollback callback (the executor, which takes the lease for the rollback only),
 *             journals and notifies;
 *   advise    journals, notifies, and reminds every advise_repeat seconds until a person
 *             acknowledges it (watch_acknowledge journals a note) or the phase is rolled back;
 *   notify    notifies.
 *
 * Checkpoints are evaluated once each at T+at after each phase completes, journaled as
 * `checkpoint` events; a failing one notifies. Notifications are JSON webhooks (a
 * Slack-compatible `text` plus the full event) delivered by a separate thread with retries,
 * so a slow receiver never delays sampling. An optional HTTP server serves /metrics,
 * /health, /api/state and the dashboard page /.
 *
 * Threads: the watcher's own thread (watch_tick / watch_run) is the only one that touches
 * the plan's journal handle; the HTTP server's threads read a snapshot under a mutex; the
 * notifier thread only sends HTTP. Library code never prints: it logs key=value lines.
 */
#ifndef GG_WATCH_H
#define GG_WATCH_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "journal/journal.h"
#include "plan/plan.h"

/* ---- the rule state machine (pure; the clock is passed in) ---------------------------- */

/* Rule states: X(constant suffix, name in /api/state, /metrics and the journal). */
#define WATCH_RULE_STATE_MAP(X) X(INACTIVE, "inactive") X(PENDING, "pending") X(FIRING, "firing")

typedef enum {
#define WATCH_RULE_STATE_ENUM(name, text) WATCH_RULE_##name,
  WATCH_RULE_STATE_MAP(WATCH_RULE_STATE_ENUM)
#undef WATCH_RULE_STATE_ENUM
} watch_rule_state;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define WATCH_RULE_STATE_COUNT (0 WATCH_RULE_STATE_MAP(GG_COUNT_ONE))

/* "inactive", "pending", "firing". */
const char *watch_rule_state_name(watch_rule_state s);

/* What one evaluation of a rule's condition gave. */
typedef enum { WATCH_OBS_FALSE = 0, WATCH_OBS_TRUE, WATCH_OBS_ERROR } watch_obs;

/* What a step changed. */
typedef enum {
  WATCH_TRANS_NONE = 0,
  WATCH_TRANS_PENDING,  /* inactive -> pending */
  WATCH_TRANS_FIRING,   /* inactive or pending -> firing */
  WATCH_TRANS_RESOLVED, /* firing -> inactive */
  WATCH_TRANS_CLEARED,  /* pending -> inactive before `for:` elapsed (a flap) */
} watch_transition;

typedef struct {
  watch_rule_state state;
  double active_since; /* when the condition started holding (pending/firing); 0 inactive */
  double fired_at;     /* when it last went firing; 0 never */
} watch_rule_tracker;

/* Advance t by one evaluation at `now`. for_ is the rule's `for:` in seconds. TRUE starts or
 * continues the hold: inactive goes pending (firing at once when for_ <= 0), pending goes
 * firing once now - active_since >= for_. FALSE ends it: pending is cleared, firing resolved.
 * ERROR counts as FALSE, unless hold_on_error, when it keeps the state as it is (the for:
 * clock keeps running but an ERROR alone never completes it: firing needs a TRUE). */
watch_transition watch_rule_step(watch_rule_tracker *t, double for_, bool hold_on_error, watch_obs obs,
                                 double now);

/* ---- notifications ---------------------------------------------------------------------- */

/* The webhook body: {"text": text, "migration": migration, "source": "gonogo watch",
 * "event": event}. event is borrowed (the payload takes its own reference). You own the
 * result (json_decref); NULL on ENOMEM. */
json_t *watch_notify_payload(const char *migration, const char *text, json_t *event);

typedef struct watch_notifier watch_notifier;

typedef struct {
  int attempts;     /* tries per webhook and message; <= 0: 5 */
  double backoff;   /* seconds before the first retry, doubled each time; <= 0: 1 */
  double timeout;   /* per request, seconds; <= 0: 5 */
  size_t queue_max; /* messages waiting at most (the oldest is dropped past it); 0: 256 */
} watch_notifier_opts;

/* Start the delivery thread for the plan's webhooks (borrowed: they must outlive the
 * notifier). URLs only ever appear in logs as their secret labels. With no webhooks the
 * notifier accepts messages and drops them. You own *out (watch_notifier_free). */
gg_status watch_notifier_new(const plan_notify *hooks, size_t n, const watch_notifier_opts *opts,
                             watch_notifier **out, gg_error *err) GG_WUR;

/* Queue payload (borrowed; a copy of its text is queued) for every webhook. Never blocks on
 * the network. */
void watch_notifier_send(watch_notifier *nt, json_t *payload);

typedef struct {
  unsigned long sent;    /* deliveries answered 2xx */
  unsigned long failed;  /* deliveries given up after every attempt */
  unsigned long retries; /* attempts after the first */
  unsigned long dropped; /* messages dropped because the queue was full */
  size_t queued;         /* deliveries waiting */
  char last_error[256];  /* the latest failure, URLs redacted; "" when none */
} watch_notifier_stats;

void watch_notifier_get_stats(watch_notifier *nt, watch_notifier_stats *out);

/* Wait up to `drain` seconds for queued deliveries, then stop the thread and free. NULL-safe. */
void watch_notifier_free(watch_notifier *nt, double drain);

/* ---- one watcher per migration ------------------------------------------------------------ */

/* Take the watcher's exclusive lock for the journal at journal_path: `<journal_path>.watch.pid`,
 * locked with flock and holding this process's pid. GG_ERR_LOCKED naming the pid of the watcher
 * that holds it. *fd receives the open descriptor (the lock lives while it is open); release with
 * watch_pidlock_release. */
gg_status watch_pidlock_acquire(const char *journal_path, int *fd, gg_error *err) GG_WUR;
void watch_pidlock_release(const char *journal_path, int fd);

/* ---- the watcher --------------------------------------------------------------------------- */

/* Roll back phase `phase` because of `reason` (the rule that fired). Called on the watcher's
 * thread with its journal handle. */
typedef gg_status (*watch_rollback_fn)(void *ud, const plan *p, journal *j, const char *phase,
                                       const char *reason, gg_error *err);

typedef struct {
  const char *listen;         /* "127.0.0.1:9180"; NULL or "": no HTTP server */
  double interval;            /* seconds; <= 0: the plan's monitor.interval */
  double advise_repeat;       /* seconds between reminders of an unacknowledged advisory; <= 0: 15m */
  double probe_timeout;       /* per probe; <= 0: min(interval, 5 s), at least 1 s */
  watch_rollback_fn rollback; /* NULL: a rollback rule journals that it cannot roll back */
  void *rollback_ud;
  const char *actor; /* journaled as the actor; NULL: "gonogo watch" */
  watch_notifier_opts notify;
  size_t history_points; /* points kept in memory per chart line; 0: 720 */
} watch_opts;

typedef struct watch watch;

/* A watcher for plan p on journal j (both borrowed; they must outlive it). Starts the notifier
 * and, when opts->listen is set, the HTTP server (err names the address when it cannot bind).
 * You own *out (watch_free). */
gg_status watch_new(const plan *p, journal *j, const watch_opts *opts, watch **out, gg_error *err) GG_WUR;

/* One evaluation at gg_clock_now(): sample, journal the samples, evaluate and act on the rules,
 * evaluate due checkpoints, refresh the snapshot. Probe failures are not errors (they are the
 * rules' ERROR); an error here is a journal failure. */
gg_status watch_tick(watch *w, gg_error *err) GG_WUR;

/* Tick every interval until *stop becomes non-zero (checked at least every 100 ms), then return
 * GG_OK. A tick's error is logged and the loop goes on. */
gg_status watch_run(watch *w, volatile sig_atomic_t *stop, gg_error *err) GG_WUR;

/* The HTTP server's port (0 when none). */
uint16_t watch_port(const watch *w);

/* A copy of the current state, as /api/state serves it: migration, interval, last evaluation,
 * phases (state, decision, times), rules (state, since, last value, error, members),
 * checkpoints (due, result), notifier stats. You own the reference. */
json_t *watch_state(watch *w);

/* Number of rules currently firing. */
size_t watch_firing_count(watch *w);

/* Stop the HTTP server and the notifier (draining for up to 5 s) and free. NULL-safe. */
void watch_free(watch *w);

/* ---- a shift step's hold (hold.c, DESIGN §14) ----------------------------------------------- */

/* The monitor rules during the holds of a shift: a watcher (no HTTP server) on the caller's
 * thread and journal handle, every `interval` seconds (<= 0: the plan's monitor.interval),
 * kept across the steps so `for:` windows span them. Its rollback callback hands a firing
 * `rollback` rule back to the caller, which holds the lease and rolls back itself. You own
 * *out (watch_holder_free). */
typedef struct watch_holder watch_holder;
gg_status watch_holder_new(const plan *p, journal *j, double interval, watch_holder **out,
                           gg_error *err) GG_WUR;
/* Evaluate for `seconds`, or until a rollback rule fires: then fired (cap bytes) gets its
 * reason ("rule 'X' fired: EXPR (VALUE)") and the hold ends at once; "" when it ran its time. */
gg_status watch_holder_hold(watch_holder *h, double seconds, char *fired, size_t cap, gg_error *err) GG_WUR;
void watch_holder_free(watch_holder *h);

/* Acknowledge the advisory `rule` (a rule name of the plan): journals a `note` with
 * {"acknowledge": rule, "note": note} by `by`, after which a running watcher stops reminding
 * about it until it resolves and fires again. GG_ERR_NOT_FOUND when the plan has no such rule. */
gg_status watch_acknowledge(const plan *p, journal *j, const char *rule, const char *by, const char *note,
                            gg_error *err) GG_WUR;

#endif
