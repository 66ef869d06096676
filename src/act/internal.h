/*
 * internal.h: what the files of src/act share. Not installed; callers use act.h.
 */
#ifndef GG_ACT_INTERNAL_H
#define GG_ACT_INTERNAL_H

#include <jansson.h>
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "act/act.h"
#include "gate/gate.h"

/* Seconds the inverse of create_consumer waits for the consumer to drain before deleting it. */
#define ACT_CONSUMER_UNDO_DRAIN 30.0
/* Seconds a subject change rides out "subjects overlap" right after the same subjects left another
 * stream (act_stream_update). */
#define ACT_OVERLAP_WAIT 5.0
/* Seconds between two progress lines of a wait (a line when it starts, then one this often). */
#define ACT_PROGRESS_EVERY 5.0

/* One execution: the plan, the journal, the NATS connection and where progress goes. */
typedef struct {
  const plan *p;
  journal *j;
  const char *phase; /* the phase acted on */
  const char *actor;
  act_progress_fn progress;
  void *ud;
  natsConnection *nc;
  jsCtx *js;
  gate_env *env; /* made on first use (wait until, verify criteria, publisher counters) */
  act_summary *sum;
  const _Atomic bool *lease_lost; /* set by the renewing thread when the lease was lost; may be NULL */
  long carried;                   /* messages carried back by this process's rollback (carryback.c) */
  bool moved_subjects;            /* a move changed stream subjects: checkpoint the meta layer at the end */
  act_hold_fn hold;               /* a shift step's hold with the monitor rules; NULL: a plain wait */
  void *hold_ud;
} act_ctx;

/* When a move changed subjects since the last checkpoint: make every node snapshot its meta
 * layer now (peers.h; 2.5 s), saying so; a failure is said, never fatal. */
void act_meta_checkpoint_now(act_ctx *ctx);

/* Connect ctx->nc / ctx->js from the plan's connect.nats settings (once). */
gg_status act_connect(act_ctx *ctx, gg_error *err) GG_WUR;
/* Close what act_connect and the gate environment opened. */
void act_ctx_release(act_ctx *ctx);
/* The gate environment, made on first use. */
gg_status act_env(act_ctx *ctx, gate_env **out, gg_error *err) GG_WUR;

/* printf-like progress line (nothing when no callback). */
void act_say(act_ctx *ctx, const char *fmt, ...) GG_PRINTF(2, 3);
/* Append a change line to the summary; said through progress when there is none (rollback). */
void act_change(act_ctx *ctx, const char *fmt, ...) GG_PRINTF(2, 3);

/* Whether a failed JetStream API request may still have taken effect: it timed out, or the
 * connection failed under it, rather than being refused by the server (a JetStream error code) or
 * finding no responder. The forward outcome of such a request records "undo": {"unknown": true,
 * ...} and its inverse observes the cluster instead of trusting the error. */
bool act_outcome_unknown(natsStatus s, jsErrCode jerr);

/* A nats.c failure as a gg_status with "what: text (jetstream error code)". */
gg_status act_nats_error(gg_error *err, natsStatus s, jsErrCode jerr, const char *fmt, ...) GG_PRINTF(4, 5);

/* ---- configurations (config.c; pure, unit-tested) ---- */

/* Differences between what the plan sets for a stream and a live config, one line per field
 * ("max_age: 0s -> 7d", "replicas: 1 -> 3"), fields the plan leaves unset not compared. With
 * ignore_subjects, subjects are not compared. Appends to *lines (you own them: free each, then
 * the array). Returns the number of lines added, or -1 on ENOMEM. */
int act_stream_diff(const plan_stream *want, const jsStreamConfig *have, bool ignore_subjects, char ***lines,
                    size_t *n);
/* The same for a consumer; every field the plan sets is compared. */
int act_consumer_diff(const plan_consumer *want, const jsConsumerConfig *have, char ***lines, size_t *n);

/* Fill cfg from the plan's stream settings (defaults where unset). subjects/nsubjects are the
 * subjects to create with (borrowed); cfg borrows every string. */
void act_stream_config_from_plan(const plan_stream *ps, const char **subjects, int nsubjects,
                                 jsStreamConfig *cfg);
/* Overlay the fields the plan sets onto cfg (a copy of the live config); subjects too when the
 * plan lists some. */
void act_stream_config_overlay(const plan_stream *ps, jsStreamConfig *cfg);
void act_consumer_config_from_plan(const plan_consumer *pc, jsConsumerConfig *cfg);

/* The managed fields of a stream config as JSON (name, subjects, replicas, storage, retention,
 * discard, max_age_ns, max_bytes, max_msgs, max_msgs_per_subject, max_msg_size, duplicates_ns),
 * so an inverse can restore them. You own the reference. */
json_t *act_stream_config_json(const jsStreamConfig *cfg);
/* Apply such JSON onto cfg; subject strings are borrowed from `j` (keep it alive while cfg is
 * used); *subjects_out receives an array you free(). */
gg_status act_stream_config_apply_json(const json_t *j, jsStreamConfig *cfg, const char ***subjects_out,
                                       gg_error *err) GG_WUR;

/* The subjects a created stream gets: its topology subjects minus those some move_subjects in
 * the plan brings to it; when none remain, its own name (the placeholder). *out is an array of
 * borrowed strings you free(); *placeholder says the name was used. */
gg_status act_initial_subjects(const plan *p, const plan_stream *ps, const char ***out, int *n,
                               bool *placeholder, gg_error *err) GG_WUR;

/* Whether subject list `have` holds `s` exactly. */
bool act_has_subject(const char *const *have, int n, const char *s);

/* ---- observing (observe.c) ---- */

/* GG_OK with *si NULL when the stream does not exist. filter: subjects filter or NULL. You own *si. */
gg_status act_stream_get(act_ctx *ctx, const char *name, const char *filter, jsStreamInfo **si,
                         gg_error *err) GG_WUR;
/* GG_OK with *ci NULL when the consumer (or its stream) does not exist. You own *ci. */
gg_status act_consumer_get(act_ctx *ctx, const char *stream, const char *name, jsConsumerInfo **ci,
                           gg_error *err) GG_WUR;

/* js_UpdateStream with a complete configuration, which makes applying it again the same change:
 * it rides out a leader election (no answer, no responders, "JetStream system temporarily
 * unavailable") for up to ACT_ELECTION_WAIT seconds, and with overlap_wait > 0 also "subjects
 * overlap with an existing stream" (10065) for that many seconds: the removal of the same
 * subjects from another stream, answered a moment ago by that stream's leader, may not be
 * applied yet by the meta leader, which checks the overlap. *info (may be NULL) as
 * js_UpdateStream; *je the last JetStream error code. */
natsStatus act_stream_update(act_ctx *ctx, jsStreamInfo **info, const jsStreamConfig *cfg,
                             double overlap_wait, jsErrCode *je) GG_WUR;

/* Messages stored in `stream` on the given subject patterns (0 when the stream is missing). */
gg_status act_subject_total(act_ctx *ctx, const char *stream, char **subjects, size_t n, uint64_t *total,
                            gg_error *err) GG_WUR;
/* The plan's topology entry for stream `name`; NULL (and err set) when it has none. */
const plan_stream *act_topo_stream(act_ctx *ctx, const char *name, gg_error *err);
/* GG_ERR_STATE "WHAT differs from the plan (drift): line; line". */
gg_status act_drift_error(const char *what, char **lines, size_t n, gg_error *err);
/* Free n lines and the array (NULL-safe). */
void act_lines_free(char **lines, size_t n);
/* The current value of a publisher counter series (summed over a vector), through the gate. */
gg_status act_counter_value(act_ctx *ctx, const char *series, double *out, gg_error *err) GG_WUR;

/* ---- the action families: forward and inverse of each (one file a family) ----
 * Each fills `out` (the outcome: "result", "undo", ...) and returns the status; `prior` is the
 * intent of a killed attempt or NULL; `undo` is what the forward outcome recorded. */

/* stream.c */
gg_status act_create_stream_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                    gg_error *err) GG_WUR;
gg_status act_create_stream_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                    gg_error *err) GG_WUR;
gg_status act_update_stream_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                    gg_error *err) GG_WUR;
gg_status act_delete_stream_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                    gg_error *err) GG_WUR;
/* Restore a stream's managed fields from journaled JSON; recreate it (empty) when missing: the
 * inverse of update_stream and of delete_stream. */
gg_status act_stream_restore(act_ctx *ctx, const char *name, const json_t *config, json_t *out,
                             gg_error *err) GG_WUR;
/* cutover.c */
gg_status act_move_subjects_forward(act_ctx *ctx, const plan_action *a, const json_t *prior,
                                    const json_t *observed, json_t *out, gg_error *err) GG_WUR;
gg_status act_move_subjects_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                    gg_error *err) GG_WUR;
/* consumer.c */
gg_status act_create_consumer_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                      gg_error *err) GG_WUR;
gg_status act_create_consumer_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                      gg_error *err) GG_WUR;
/* drain.c, continuity.c */
gg_status act_drain_forward(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) GG_WUR;
gg_status act_verify_continuity_forward(act_ctx *ctx, const plan_action *a, json_t *out,
                                        gg_error *err) GG_WUR;
/* steps.c */
gg_status act_wait_forward(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) GG_WUR;
/* Run cmd (timeout <= 0: 60 s); its exit and output tail into out; GG_ERR_CHILD when it fails. */
/* Run cmd (secrets expanded); messages and the journal name it as `shown` (plan_action's
 * run_shown), and the output kept in out is scrubbed of the plan's secrets. */
/* Whether a create's inverse has anything of its own to undo: the forward journaled it as
 * created, or its outcome was unknown and `observe` finds the object as the phase would have made
 * it. When not, *ours is false and out says "noop" (with `kept` said when it was only bound to).
 * observe: the action family's check of an unknown outcome (records "found" in out). */
gg_status act_undo_is_ours(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                           const char *kept,
                           gg_status (*observe)(act_ctx *, const plan_action *, json_t *, bool *, gg_error *),
                           bool *ours, gg_error *err) GG_WUR;

gg_status act_exec_command(act_ctx *ctx, const char *cmd, const char *shown, double timeout, json_t *out,
                           gg_error *err) GG_WUR;
gg_status act_kv_put_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *observed,
                             json_t *out, gg_error *err) GG_WUR;
gg_status act_kv_put_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                             gg_error *err) GG_WUR;

/* shift.c: the gradual traffic shift and its inverse (0 %, then drain the new side). */
gg_status act_shift_forward(act_ctx *ctx, const plan_action *a, const json_t *observed, json_t *out,
                            gg_error *err) GG_WUR;
gg_status act_shift_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                            gg_error *err) GG_WUR;
/* This run's latest "shift" note of the action at (section, index) (run.c); NULL when none. You
 * own the reference. */
json_t *act_run_shift_note(act_ctx *ctx, const char *section, size_t index);
/* Check one criterion now, as the phase's verify does (run.c): expect until true within its
 * timeout, run, canary; an attestation is GG_ERR_UNSUPPORTED. */
gg_status act_verify_criterion(act_ctx *ctx, const plan_criterion *c, gg_error *err) GG_WUR;

/* ---- carry-back (carryback.c) ---- */

/* After the inverse of move_subjects `a` has put its subjects back on a->from: republish to their
 * original subjects, headers and Nats-Msg-Id kept, what reached a->to during the phase and the
 * phase's consumers did not acknowledge; each republish acknowledged by a->from and counted.
 * undo: the forward move's undo record ("to_last_seq"). Journals "carry-back" notes (started,
 * done) and sets out's "carried". GG_OK with nothing done when a->to does not exist. */
gg_status act_carry_back(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                         gg_error *err) GG_WUR;
/* Whether a consumer filter (NULL or "" = everything) overlaps any of the subject patterns. */
bool act_filter_overlaps(const char *filter, char *const *subjects, size_t n);
/* Whether subject (or filter) lies within one of the patterns of the JSON string array. */
bool act_subject_in(const char *subject, const json_t *patterns);

/* This run of the phase's "carry-back" notes for `stream` (run.c). With a move action: its latest
 * note in that state ("started", "done"). Without, state "done": every move carried back from the
 * stream merged — {"stream", "subjects": all of theirs, "last": the highest end, "found": the
 * total}. NULL when none. You own the reference. */
json_t *act_run_carry(act_ctx *ctx, const char *stream, const char *state, const plan_action *a);
/* Messages carried back by this run of the phase: the latest "done" note of each move (run.c). */
long act_run_carried_total(act_ctx *ctx);
/* Journal a note for the phase (takes content); a failure is said through progress. */
void act_journal_note(act_ctx *ctx, json_t *content);

/* ---- dispatch (actions.c; act_observe in observe.c) ---- */

/* Execute action `a` forward. prior: the intent of an earlier attempt that has no outcome (the
 * run was killed in it), or NULL. On return *outcome (owned) holds the outcome content without
 * section/index (result, undo, ...), even on failure. dry: observe only. */
gg_status act_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *intent_observed,
                      json_t **outcome, gg_error *err) GG_WUR;
/* Observe what the action would need to undo, before acting: written into the intent. */
json_t *act_observe(act_ctx *ctx, const plan_action *a);
/* Execute the inverse of a completed action given its undo record; verified. */
gg_status act_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t **outcome,
                      gg_error *err) GG_WUR;

/* The baseline journaled by this phase's latest move_subjects from -> to (run.c); you own it. */
json_t *act_run_baseline(act_ctx *ctx, const char *from, const char *to);

/* For `gonogo plan`: what the action would do now. */
gg_status act_describe_live(act_ctx *ctx, const plan_action *a, act_plan_line *line, gg_error *err) GG_WUR;

/* Strings */
char *act_strdup_printf(const char *fmt, ...) GG_PRINTF(1, 2);
int act_lines_add(char ***lines, size_t *n, char *line); /* takes line; -1 on ENOMEM */

#endif
