/*
 * act.h: execute a phase's actions on the live cluster, roll them back, resume them (DESIGN §7).
 *
 * Every action observes first, acts only when needed and verifies after, so running it twice
 * changes nothing the second time. Before acting it journals an `action_intent` event, after it
 * an `action_outcome` event; a phase is framed by `phase_started` and `phase_completed` (or
 * `phase_prepared` for --prepare, `phase_failed` / `phase_rolled_back`). The migration's lease is
 * held throughout and renewed by a thread; an action does not start once it is lost. Journal
 * content written here (read back by resume and rollback, and by the report):
 *
 *   action_intent   {"section":"prepare"|"actions", "index":N, "action":KIND, "describe":TEXT,
 *                    "mode":"forward"|"inverse", "observed":{...}, "reason":TEXT (inverse)}
 *                    `observed` is the state before acting: "exists", "config" (a stream's
 *                    managed fields), "messages", "previous" (KV), "baseline" (move_subjects:
 *                    per-side message counts, and the publisher counter when one is named)
 *   action_outcome  {"section","index","action","mode","elapsed_ms", "result":"ok"|"noop"|"failed",
 *                    "error":TEXT, "undo":{...}, "gap_ms":G (move_subjects), "drift":[...],
 *                    "refused":N (delete_stream), "diff":[...] (update_stream), ...}
 *                    `undo` holds what the inverse needs ("created", "config", "previous"), and
 *                    "unknown": true when a request failed without the server refusing it (a
 *                    timeout): the outcome is not known, so the rollback undoes it too and its
 *                    inverse observes the cluster first ("found": "absent" | "exists as planned"
 *                    | "exists with another configuration"; only the second is undone).
 *   phase_started   {"prepare":BOOL}
 *   phase_prepared / phase_completed  {"gap_ms":G (-1 none), "changes":N}
 *   phase_failed    {"reason":TEXT}
 *   phase_rolled_back  {"reason":TEXT, "carried_back":N (messages carried back to old streams),
 *                    "kept":[TEXT...] (what the rollback left in place and why: each inverse's
 *                    "kept_note", "consumer S/C: 27 messages still pending after 30 s (...)")}
 *   note            {"note":"rollback started", "reason":TEXT} when a rollback begins (resume
 *                    finishes a rollback it finds begun, never turns it forward; until
 *                    phase_rolled_back the phase is "rollback incomplete", see journal_phase)
 *   note            {"note":"shift", "section", "index", "kv":"B/K", "step":N (1-based), "steps":M,
 *                    "share":PCT, "state":"set"|"held"|"passed"|"reverted"|"rolled back", "at":T,
 *                    "detail":TEXT} at every step of a shift (resume continues from the latest)
 *   note            {"note":"carry-back", "state":"started"|"done", "stream":NEW, "to":OLD,
 *                    "subjects":[...], "first":SEQ, "last":SEQ, "found":N, "republished":N,
 *                    "duplicates":N, "ms":T} around the carry-back of a move_subjects inverse
 *
 * "This run of a phase" is every event after its latest phase_started. An action is done when it
 * has a forward outcome ok/noop there (resume never repeats it), in flight when it has an intent
 * and no outcome (resume re-observes it: creations seen absent in the intent count as created).
 * Rollback undoes this run's done and in-flight actions newest first, in three passes: first all
 * but creations — the inverse of move_subjects puts the subjects back and then carries back
 * (carryback.c) what reached the new stream during the phase and its consumers had not
 * acknowledged, delivered-but-unacknowledged included, republished to the original subjects with
 * their Nats-Msg-Id and each acknowledged by the old stream — then the consumers the run created
 * (deleted at once when their subjects were carried back; otherwise once drained, kept and said
 * so after 30 s), then the streams it created (deleted when every message in them was consumed
 * by the phase or carried back; otherwise kept and the rollback stops: "rollback incomplete").
 * `exec` has no observable state: an exec killed in flight is run again by resume.
 *
 * The library never prints: long waits and steps report through an act_progress_fn.
 */
#ifndef GG_ACT_H
#define GG_ACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "journal/journal.h"
#include "plan/plan.h"

typedef void (*act_progress_fn)(void *ud, const char *line); /* library never prints */

/* Hold a shift step (DESIGN §14) for `seconds` while the phase's monitor rules are evaluated;
 * act does not link watch, so the CLI wires this to watch_holder_hold. On GG_OK, fired (cap
 * bytes) is "" when the hold ran its time, or the reason of a `rollback` rule that fired (the
 * hold ends at once: the shift sets the share to 0 and the phase rolls back). */
typedef gg_status (*act_hold_fn)(void *ud, const plan *p, journal *j, const char *phase, double seconds,
                                 char *fired, size_t cap, gg_error *err);

/* Roll back phase `phase_id`: the inverses of its completed actions in reverse order, each
 * verified; journals phase_rolled_back with {"reason": reason}. When take_lock, takes the
 * migration's lease for the duration (GG_ERR_LOCKED if held by another live actor). A phase
 * already rolled back (or never run) is GG_OK with nothing done. */
gg_status act_rollback_phase(const plan *p, journal *j, const char *phase_id, const char *reason,
                             const char *actor, bool take_lock, act_progress_fn progress, void *ud,
                             gg_error *err) GG_WUR;
/* (A caller that already holds the lease on j — `watch` — passes take_lock false: taking it
 * again through the same handle would renew it, and releasing it at the end would drop it.)
 * The same with a stale lease taken over (journaled lock_broken) when break_lock: what
 * `gonogo rollback --break-lock` uses after a killed run. */
gg_status act_rollback_phase_ex(const plan *p, journal *j, const char *phase_id, const char *reason,
                                const char *actor, bool take_lock, bool break_lock, act_progress_fn progress,
                                void *ud, gg_error *err) GG_WUR;

/* What a run, rollback or resume did, for the summary; every string owned by the summary. */
typedef struct {
  char **changes; /* one line per action: "moved core.> ATHLETE_ALLY_EVENTS -> AA_CORE_HOT (gap 4.1 ms)" */
  size_t nchanges;
  double gap_ms;    /* largest measured move_subjects gap, -1 when none moved */
  char *continuity; /* the verify_continuity result line; NULL when none ran */
  bool completed;   /* the phase (or its prepare) completed */
  bool rolled_back; /* it failed and was rolled back */
  char *failure;    /* why it failed; NULL when it did not */
  double elapsed;   /* seconds */
} act_summary;

/* Free every string of the summary; NULL-safe, leaves it zeroed. */
void act_summary_release(act_summary *s);

typedef struct {
  const char *actor;        /* recorded as the journal actor ("gonogo run" when NULL) */
  bool prepare_only;        /* run the phase's prepare actions, journal phase_prepared */
  bool break_lock;          /* take over a stale lease (journaled) */
  act_progress_fn progress; /* may be NULL */
  void *ud;
  act_hold_fn hold; /* a shift step's hold; NULL: a plain wait without monitor rules */
  void *hold_ud;
} act_run_opts;

/* Run phase `phase_id`'s actions (or, with prepare_only, its prepare actions). The caller has
 * decided GO (or journaled an override): this does not evaluate the gate. The phase's verify
 * criteria are checked after the actions (through the gate's evaluator). On an action or verify
 * failure the phase is rolled back when on_failure is rollback (the default), else journaled
 * phase_failed and left. Returns GG_OK when the phase completed; the failure's status otherwise
 * (the summary says whether it was rolled back). GG_ERR_LOCKED when the lease is held;
 * GG_ERR_STATE when the phase is already running or completed. You own *out
 * (act_summary_release), filled whatever the status. */
gg_status act_run_phase(const plan *p, journal *j, const char *phase_id, const act_run_opts *opts,
                        act_summary *out, gg_error *err) GG_WUR;

/* Finish what a killed `gonogo run` or `rollback` left: finds the phase whose latest lifecycle
 * event is phase_started without a completion (or an interrupted rollback), re-observes the action
 * that was in flight, then finishes the phase (forward) or its rollback, as the journal shows was
 * intended — never both, never twice. *phase_out (may be NULL) receives the phase id (you own it,
 * free()); NULL and GG_OK when nothing was in flight. */
gg_status act_resume(const plan *p, journal *j, const act_run_opts *opts, char **phase_out, act_summary *out,
                     gg_error *err) GG_WUR;

/* One line of `gonogo plan`: what an action would change against the live cluster. */
typedef struct {
  char sign;   /* '+' create, '~' update, '-' delete, '>' move, '=' nothing to do, '?' observe only,
                  '!' cannot be done (drift, refusal) */
  char *text;  /* "create stream AA_CORE_HOT (R3, file, core.> after cutover)" */
  char **diff; /* field diffs "max_age: 0s -> 7d"; may be empty */
  size_t ndiff;
} act_plan_line;

/* Observe the cluster and describe what running phase `phase_id` (its prepare actions when
 * prepare_only, otherwise prepare then actions) would do; changes nothing. You own *out
 * (act_plan_lines_free(*out, *n)). */
gg_status act_plan_phase(const plan *p, const char *phase_id, bool prepare_only, act_plan_line **out,
                         size_t *n, gg_error *err) GG_WUR;
void act_plan_lines_free(act_plan_line *lines, size_t n);

#endif
