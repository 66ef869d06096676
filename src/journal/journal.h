/*
 * journal.h: the tamper-evident record of one migration (DESIGN §8).
 *
 * One SQLite file per migration (default `.gonogo/<migration>.db` beside the plan). Everything
 * gonogo learns or does is appended to `events`: evaluations, decisions, approvals, attestations,
 * marks, action intents and outcomes, phase transitions, rule state changes, checkpoints,
 * overrides, lock changes and notes. Each event row is chained to the one before by SHA-256, so
 * `journal_verify` finds an edited, deleted, inserted or reordered row. The report, `status` and
 * the soak criteria read the journal back through the queries below; they are views over the
 * chained events, so what they say is what the chain says.
 *
 * Two tables live outside the chain on purpose: `samples` (series history written by `watch`,
 * pruned by retention, too voluminous to chain) and `lease` (the mutable lock; every change of it
 * is journaled as a lock_taken / lock_released / lock_broken event).
 *
 * CANONICAL ENCODING AND HASH. For an event row the canonical encoding is the JSON text of the
 * object
 *
 *   {"actor":A,"content":C,"host":H,"kind":K,"os_user":U,"phase":P,"prev":PREV,"seq":N,"time_ms":T}
 *
 * serialised by jansson with JSON_COMPACT | JSON_SORT_KEYS (keys sorted bytewise at every level,
 * no whitespace, non-ASCII as UTF-8, reals with 17 significant digits), where A, H, K, U are strings,
 * C is the event's content (a JSON object, itself in the same canonical form), P is the phase id
 * (a string, as the plan names it) or null, PREV is the previous row's hash (64 lower-case hex digits; 64
 * zeros for seq 1), N the sequence number (1, 2, 3, ... without gaps) and T the event time in integer
 * milliseconds since the epoch. The row's hash is the lower-case hex SHA-256 of that text. The content column
 * stores C's canonical text exactly, so the hash can be recomputed from the stored columns alone.
 * The chain makes tampering evident, not impossible: someone who rewrites every later hash and the
 * recorded head passes verify. So the head is also anchored outside the file: every commit that
 * appended writes "SEQ HASH" to `PATH.head` beside the journal (only ever forwards), every report
 * and `journal verify` print it, and `journal verify --expect-head SEQ:HASH` checks a head kept
 * elsewhere (a ticket, a report). A chain shortened behind gonogo's back (rows deleted at the end
 * and the recorded head rewritten) then fails verify against any anchor taken before.
 *
 * CONCURRENCY. Appends from any number of processes are serialised by SQLite: each append is one
 * BEGIN IMMEDIATE transaction that reads the last row's seq and hash inside the transaction, so no
 * two rows share a predecessor. The file is in WAL mode with a busy timeout, so readers never block
 * writers and a writer waits (up to JOURNAL_BUSY_TIMEOUT_MS) rather than failing. A process killed
 * mid-append leaves the transaction uncommitted: the chain is intact without it.
 *
 * SHARED JOURNAL. journal_open also takes a PostgreSQL URL (postgres: or postgresql:, any libpq
 * URL; its search_path may name a schema): the same tables, views and chain in a database a team
 * shares (pg.c). Every query goes through one statement seam (journal_int.h, stmt.c), so what is
 * computed over the events is the same on both backends, and the canonical encoding and hashes
 * are identical (journal_copy moves rows as they are). Appends take a transaction-scoped advisory
 * lock before reading the head, so writers on any number of hosts form one chain; the head anchor
 * is the forward-only table head_anchor; triggers refuse UPDATE, DELETE and TRUNCATE of events
 * (verify does not rely on them). journal_path is the URL with its credentials masked.
 *
 * A journal handle is not thread-safe; use one handle per thread.
 *
 * CONTENT CONVENTIONS. Content is free-form JSON, but the queries below read these members, so
 * writers must use them:
 *   evaluation, decision   "decision": "GO" | "NO-GO" | "DEFER" (case-insensitive); an evaluation
 *                          also carries every criterion's result and observed values
 *   override               a human GO over a NO-GO: "reason" (and the --by name as the actor)
 *   phase_rolled_back,     "reason": why (the rule that fired, the action that failed, --reason)
 *   phase_failed
 *   rule_firing            "rule": name, "then": "rollback" | "advise" | "notify" — a firing with
 *                          then = rollback is an automatic trigger and restarts phase.stable_for
 *   approval, attestation, mark, lock_*   written by journal_approve / _attest / _mark / _lock_*
 *   retro_entry, retro_completed          written by journal_retro_add / _retro_complete
 * Approvals, attestations and marks should be written through their functions below, which fix
 * their members ("role", "decision", "plan_hash", "item", "valid_for", "mark", "at", "at_ms").
 */
#ifndef GG_JOURNAL_H
#define GG_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* The schema version this build writes (PRAGMA user_version). Older files are migrated forward
 * on open; newer ones are refused with GG_ERR_UNSUPPORTED. */
#define JOURNAL_SCHEMA_VERSION 1

#define JOURNAL_BUSY_TIMEOUT_MS 15000
/* Phases are named by the plan's phase ids ("2"). NULL means "not about a phase"; JOURNAL_ANY_PHASE
 * (a distinct pointer, compared by address) means "whatever the phase" where a function says so. */
#define JOURNAL_NO_PHASE ((const char *)0)
extern const char journal_any_phase[];
#define JOURNAL_ANY_PHASE ((const char *)journal_any_phase)
#define JOURNAL_HASH_HEX 65 /* 64 hex digits + NUL */

/* Event kinds, stored as their names. */
#define JOURNAL_KIND_MAP(X)                 \
  X(EVALUATION, "evaluation")               \
  X(DECISION, "decision")                   \
  X(APPROVAL, "approval")                   \
  X(ATTESTATION, "attestation")             \
  X(MARK, "mark")                           \
  X(ACTION_INTENT, "action_intent")         \
  X(ACTION_OUTCOME, "action_outcome")       \
  X(PHASE_PREPARED, "phase_prepared")       \
  X(PHASE_STARTED, "phase_started")         \
  X(PHASE_COMPLETED, "phase_completed")     \
  X(PHASE_FAILED, "phase_failed")           \
  X(PHASE_ROLLED_BACK, "phase_rolled_back") \
  X(RULE_PENDING, "rule_pending")           \
  X(RULE_FIRING, "rule_firing")             \
  X(RULE_RESOLVED, "rule_resolved")         \
  X(CHECKPOINT, "checkpoint")               \
  X(OVERRIDE, "override")                   \
  X(LOCK_TAKEN, "lock_taken")               \
  X(LOCK_RELEASED, "lock_released")         \
  X(LOCK_BROKEN, "lock_broken")             \
  X(NOTE, "note")                           \
  X(RETRO_ENTRY, "retro_entry")             \
  X(RETRO_COMPLETED, "retro_completed")     \
  X(REHEARSAL, "rehearsal")

typedef enum {
#define JOURNAL_KIND_ENUM(name, text) JOURNAL_##name,
  JOURNAL_KIND_MAP(JOURNAL_KIND_ENUM)
#undef JOURNAL_KIND_ENUM
      JOURNAL_KIND_COUNT
} journal_kind;

/* "phase_completed" for JOURNAL_PHASE_COMPLETED; a static string ("?" when out of range). */
const char *journal_kind_name(journal_kind kind);

/* The kind named `text`; GG_ERR_INVALID (listing the kinds) when unknown. */
gg_status journal_kind_parse(const char *text, journal_kind *out, gg_error *err) GG_WUR;

typedef struct journal journal;

/* ---- opening ---------------------------------------------------------------------------- */

enum {
  JOURNAL_OPEN_CREATE = 1,   /* create the file (and its parent directory) when missing */
  JOURNAL_OPEN_READONLY = 2, /* never write: no migration, no appends (verify, log, status) */
};

/* Open (and with JOURNAL_OPEN_CREATE create) the journal at `path`: an SQLite file (a plain path
 * or "sqlite:PATH") or a PostgreSQL database ("postgres:" or "postgresql:" URLs, any libpq
 * URL; see SHARED JOURNAL), migrating an older schema forward. An unreachable database is
 * GG_ERR_CONNECT (nothing is done then); one without a journal is GG_ERR_NOT_FOUND without CREATE. Errors:
 * GG_ERR_NOT_FOUND when missing without CREATE; GG_ERR_UNSUPPORTED for a file written by a newer gonogo (the
 * message names both versions); GG_ERR_INVALID for an SQLite file that is not a journal; GG_ERR_STATE for an
 * older file opened READONLY (it needs migrating); GG_ERR_SQLITE otherwise, naming the path. On success you
 * own *out (journal_close). */
gg_status journal_open(const char *path, int flags, journal **out, gg_error *err) GG_WUR;

/* Open another handle on the journal j is open on (a renewing thread's, a second connection):
 * the same file or database, with the credentials j was opened with. */
gg_status journal_reopen(const journal *j, int flags, journal **out, gg_error *err) GG_WUR;

/* Whether the journal is shared (PostgreSQL) rather than a file on this machine. */
bool journal_is_shared(const journal *j);

/* Close; releases nothing else (a held lease stays until released or expired). NULL-safe. */
void journal_close(journal *j);

/* The path the journal was opened with, or for PostgreSQL its URL with the credentials masked
 * (the user and password replaced by three asterisks): what to print; owned by j. */
const char *journal_path(const journal *j);

/* The schema version of the open file. */
int journal_schema_version(const journal *j);

/* The default path for a plan: `<dir of plan_path>/.gonogo/<migration>.db`. `migration` must be
 * a plain name (letters, digits, '-', '_', '.'; not starting with '.'); GG_ERR_INVALID otherwise.
 * You own *out (free()). */
gg_status journal_default_path(const char *plan_path, const char *migration, char **out,
                               gg_error *err) GG_WUR;

/* ---- appending ---------------------------------------------------------------------------- */

/* Append one event at time gg_clock_now(). `phase` is JOURNAL_NO_PHASE when the event is not
 * about a phase. `actor` is who acted (the --by name, or the component: "gonogo run"); NULL means
 * the OS user. The OS user and host are recorded by the journal itself. `content` is a JSON object
 * (borrowed; NULL means {}); it must not contain secrets. On success *seq (if not NULL) is the new
 * row's sequence number. GG_ERR_INVALID for a non-object content; GG_ERR_SQLITE on failure
 * (nothing is appended then). */
gg_status journal_append(journal *j, journal_kind kind, const char *phase, const char *actor, json_t *content,
                         long long *seq, gg_error *err) GG_WUR;

/* journal_append with the event's time given (seconds since the epoch; <= 0: now): for an
 * event that happened while the journal could not be reached and is appended later (watch). */
gg_status journal_append_at(journal *j, double time, journal_kind kind, const char *phase, const char *actor,
                            json_t *content, long long *seq, gg_error *err) GG_WUR;

/* Canonical text of a JSON value (see above). You own the result (free()); NULL on ENOMEM. */
char *journal_canonical(const json_t *value);

/* The canonical encoding of a row from its fields (content_canonical is C's canonical text) and
 * its hash into hash_hex[JOURNAL_HASH_HEX]. GG_ERR_INVALID when content_canonical is not JSON.
 * Exposed so tests and external auditors can recompute hashes. */
gg_status journal_row_hash(long long seq, long long time_ms, const char *kind, const char *phase,
                           const char *actor, const char *os_user, const char *host,
                           const char *content_canonical, const char *prev_hex,
                           char hash_hex[JOURNAL_HASH_HEX], gg_error *err) GG_WUR;

/* ---- reading events ------------------------------------------------------------------------ */

typedef struct {
  long long seq;
  double time; /* seconds since the epoch (millisecond precision) */
  char *kind;  /* name as stored */
  char *phase; /* NULL when none */
  char *actor;
  char *os_user;
  char *host;
  char *content; /* canonical JSON text of the content object */
  char prev_hash[JOURNAL_HASH_HEX];
  char hash[JOURNAL_HASH_HEX];
} journal_event;

typedef struct {
  bool any_phase;      /* true: all phases; false: only `phase` (NULL = unphased events) */
  const char *phase;   /* borrowed */
  const char *kind;    /* NULL: every kind */
  double since;        /* only events at or after this time; 0 = from the start */
  long long after_seq; /* only events with seq > after_seq */
  size_t limit;        /* 0 = no limit */
} journal_filter;

/* A filter that matches everything. */
journal_filter journal_filter_all(void);

/* Events matching f in seq order. You own *out (journal_events_free(*out, *n)). */
gg_status journal_events(journal *j, const journal_filter *f, journal_event **out, size_t *n,
                         gg_error *err) GG_WUR;

/* Free an array from journal_events / journal_last_event. NULL-safe. */
void journal_events_free(journal_event *events, size_t n);

/* The most recent event of `kind` for `phase` (JOURNAL_NO_PHASE, or JOURNAL_ANY_PHASE); GG_ERR_NOT_FOUND
 * when there is none. You own *out (journal_events_free(*out, 1)). */
gg_status journal_last_event(journal *j, journal_kind kind, const char *phase, journal_event **out,
                             gg_error *err) GG_WUR;

/* Parse an event's content; you own the result (json_decref). NULL on a broken row. */
json_t *journal_event_content(const journal_event *ev);

/* ---- verifying ------------------------------------------------------------------------------ */

typedef struct {
  bool ok;
  long long rows;    /* rows checked */
  long long bad_seq; /* first bad row's seq (0 when ok) */
  char what[512];    /* what is wrong with it ("content does not match its hash (row edited)") */
  char head_hash[JOURNAL_HASH_HEX]; /* hash of the last row ("" when empty) */
  long long head_seq;               /* seq of the last row (0 when empty) */
  bool anchored;                    /* the head file beside the journal was found and checked */
} journal_verify_result;

/* Walk the chain in seq order and check, for every row: seq follows the previous one (a gap
 * means deleted rows), prev_hash equals the previous row's hash (deleted, inserted or reordered
 * rows), the content is canonical JSON, and the recomputed hash equals the stored one (edited
 * row). Finally the chain head recorded at each append must equal the last row (rows deleted or
 * appended at the end behind the journal's back). Returns GG_OK whenever the check could run;
 * the verdict is in *res. GG_ERR_SQLITE if the file cannot be read. */
gg_status journal_verify(journal *j, journal_verify_result *res, gg_error *err) GG_WUR;

/* Parse "SEQ:HASH" (an anchor as `journal verify` prints it) into *seq and hash (JOURNAL_HASH_HEX
 * bytes); GG_ERR_INVALID naming what is wrong. */
gg_status journal_anchor_parse(const char *text, long long *seq, char *hash, gg_error *err) GG_WUR;

/* Check an anchor kept elsewhere against a verified chain: row `seq` must exist and have `hash`.
 * A chain that ends before `seq` was shortened. Updates *res (ok, bad_seq, what) the way
 * journal_verify does; call it after journal_verify. GG_ERR_SQLITE if the file cannot be read. */
gg_status journal_verify_anchor(journal *j, long long seq, const char *hash, const char *source,
                                journal_verify_result *res, gg_error *err) GG_WUR;

/* The path of the head anchor beside the journal ("PATH.head"); you own it. NULL on ENOMEM and for
 * a PostgreSQL journal, whose anchor is the table head_anchor. */
char *journal_anchor_path(const journal *j);

/* ---- copying between backends ------------------------------------------------------------ */

typedef struct {
  journal_verify_result source; /* the source's verdict (copying needs it intact) */
  journal_verify_result dest;   /* the copy's, after it was written */
  long long events;             /* rows copied */
  long long samples;
} journal_copy_result;

/* Copy every event of `from` (rows as they are: seq, time, fields, hashes), its samples and its
 * retention into `to`, which must hold no events yet, in one transaction; then verify the copy
 * and compare heads. GG_ERR_TAMPERED when the source does not verify (nothing is copied) or the
 * copy does not; GG_ERR_EXISTS when `to` already has events. */
gg_status journal_copy(journal *from, journal *to, journal_copy_result *res, gg_error *err) GG_WUR;

/* ---- approvals, attestations, marks ---------------------------------------------------------- */

/* Record an approval of `phase` by `role`. by: the person (--by); decision: "go", "no-go" or
 * "defer"; plan_hash: the plan's content hash (binds the approval to that plan); note may be NULL.
 * The latest evaluation's seq for the phase (if any) is recorded with it. */
gg_status journal_approve(journal *j, const char *phase, const char *role, const char *by,
                          const char *decision, const char *plan_hash, const char *note, long long *seq,
                          gg_error *err) GG_WUR;

/* journal_approve, keeping the plan's resolved values (plan_values, borrowed; NULL: none) in
 * the approval as "plan_values", so a later plan change can be explained key by key. */
gg_status journal_approve_values(journal *j, const char *phase, const char *role, const char *by,
                                 const char *decision, const char *plan_hash, const json_t *plan_values,
                                 const char *note, long long *seq, gg_error *err) GG_WUR;

/* Record an attestation of `item` for `phase` by `by`, valid for `valid_for` seconds (<= 0: no
 * expiry). plan_hash is recorded for the report; attestations do not void on a plan change. */
gg_status journal_attest(journal *j, const char *phase, const char *item, const char *by, double valid_for,
                         const char *plan_hash, const char *note, long long *seq, gg_error *err) GG_WUR;

/* Record a mark: kind "deployment" or "incident" (GG_ERR_INVALID otherwise), at time `at`
 * (seconds since the epoch; the append time when <= 0), note may be NULL. */
gg_status journal_mark(journal *j, const char *mark_kind, double at, const char *by, const char *note,
                       long long *seq, gg_error *err) GG_WUR;

/* The content journal_approve / _attest / _mark append, for a caller that adds to it before
 * appending (a signature: journal/sign.h) with the same kind, phase and actor (`by`; for a mark
 * the actor, NULL meaning the OS user). Same checks and errors as those functions; on success
 * you own *out (json_decref). */
gg_status journal_approval_content(journal *j, const char *phase, const char *role, const char *by,
                                   const char *decision, const char *plan_hash, const json_t *plan_values,
                                   const char *note, json_t **out, gg_error *err) GG_WUR;
gg_status journal_attestation_content(const char *item, const char *by, double valid_for,
                                      const char *plan_hash, const char *note, json_t **out,
                                      gg_error *err) GG_WUR;
gg_status journal_mark_content(const char *mark_kind, double at, const char *note, json_t **out,
                               gg_error *err) GG_WUR;

typedef struct {
  long long seq;
  double time; /* when recorded */
  char *phase; /* NULL when none */
  char *role;  /* approvals: the role; attestations: the item */
  char *by;
  char *os_user;
  char *host;
  char *decision;         /* approvals: "go" / "no-go" / "defer"; attestations: NULL */
  char *plan_hash;        /* may be "" */
  char *note;             /* NULL when none */
  double expires;         /* attestations: expiry time, 0 = never; approvals: 0 */
  bool in_force;          /* approvals: plan_hash matches; attestations: not expired */
  bool void_plan_changed; /* approvals: recorded against another plan hash */
} journal_signoff;

/* Whether a sign-off counts for a phase is decided by src/signoff (signoff.h) against the plan
 * (phase scope, valid_for, the decision), for check, status and report alike; in_force and
 * void_plan_changed below are the record's own view and must not be used to decide that. */

/* The latest approval per role for `phase`, ordered by role. in_force / void_plan_changed are
 * computed against current_plan_hash (NULL: not checked, in_force = true). You own *out
 * (journal_signoffs_free). */
gg_status journal_approvals(journal *j, const char *phase, const char *current_plan_hash,
                            journal_signoff **out, size_t *n, gg_error *err) GG_WUR;

/* The latest attestation per item (any phase when phase is JOURNAL_ANY_PHASE), ordered by item;
 * in_force means not expired at `now`. You own *out (journal_signoffs_free). */
gg_status journal_attestations(journal *j, const char *phase, double now, journal_signoff **out, size_t *n,
                               gg_error *err) GG_WUR;

void journal_signoffs_free(journal_signoff *s, size_t n);

typedef struct {
  long long seq;
  char *kind; /* "deployment" / "incident" */
  double at;
  char *by;
  char *note; /* NULL when none */
} journal_mark_info;

/* Marks of `mark_kind` (NULL: all) in time order. You own *out (journal_marks_free). */
gg_status journal_marks(journal *j, const char *mark_kind, journal_mark_info **out, size_t *n,
                        gg_error *err) GG_WUR;
void journal_marks_free(journal_mark_info *m, size_t n);

/* ---- phase state ------------------------------------------------------------------------------ */

typedef enum {
  JOURNAL_STATE_NOT_STARTED = 0,
  JOURNAL_STATE_PREPARED,
  JOURNAL_STATE_DECIDED, /* an evaluation or decision after the last lifecycle event (if any, prepared,
                            rolled back or failed: a rolled-back phase that is checked again is decided) */
  JOURNAL_STATE_RUNNING,
  JOURNAL_STATE_COMPLETED,
  JOURNAL_STATE_FAILED,
  JOURNAL_STATE_ROLLED_BACK,
  JOURNAL_STATE_ROLLBACK_INCOMPLETE, /* a rollback began after the latest lifecycle event (a note
                                        "rollback started") and has not journaled phase_rolled_back:
                                        it stopped on what it could not undo, or is under way */
} journal_phase_state;

/* "not started", "prepared", "decided", "running", "completed", "failed", "rolled back",
 * "rollback incomplete". */
const char *journal_phase_state_name(journal_phase_state s);

typedef struct {
  journal_phase_state state;
  char decision[16];      /* latest decision ("GO", "NO-GO", "DEFER"), "" when none */
  double decided_at;      /* 0 when none */
  bool overridden;        /* the latest decision was an override of a NO-GO */
  double prepared_at;     /* latest phase_prepared, 0 when none */
  double started_at;      /* latest phase_started, 0 when none */
  double completed_at;    /* latest phase_completed, 0 when none */
  double failed_at;       /* latest phase_failed, 0 when none */
  double rolled_back_at;  /* latest phase_rolled_back, 0 when none */
  char reason[512];       /* the reason of the rollback or failure that is the latest lifecycle event ("");
                             for a rollback incomplete, what remains: the error of its latest failed
                             inverse action ("" while it is under way) */
  long long carried_back; /* the latest phase_rolled_back's "carried_back" (messages carried back to the
                             old stream); -1 when it has none */
  char kept[1024];        /* what the latest phase_rolled_back kept (its "kept" notes joined by "; ":
                             "consumer S/C: 27 messages still pending after 30 s (...)"); "" when nothing */
} journal_phase_info;

/* Whether the validation checkpoints of the phase's latest completion are cancelled: a rollback of
 * it has finished (or begun: "rollback incomplete") since, and it has not run again. Their
 * results read "cancelled (phase rolled back)" wherever they are shown. */
bool journal_phase_checkpoints_cancelled(const journal_phase_info *pi);
#define JOURNAL_CHECKPOINT_CANCELLED "cancelled (phase rolled back)"

/* The state of `phase` from its lifecycle events (phase_prepared / started / completed / failed /
 * rolled_back; the latest one wins) and its latest evaluation or decision (content "decision":
 * "GO"/"NO-GO"/"DEFER" in any case). Phase events carry {"reason": TEXT} for a rollback or failure. */
gg_status journal_phase(journal *j, const char *phase, journal_phase_info *out, gg_error *err) GG_WUR;

/* ---- series for the expression language (DESIGN §6) ---------------------------------------- */

/* phase.completed{phase}: 1 when the phase's latest lifecycle event is phase_completed and no
 * rollback has begun since, else 0. */
gg_status journal_series_phase_completed(journal *j, const char *phase, double *value, gg_error *err) GG_WUR;

/* phase.completed_age{phase}: now - completion time. GG_ERR_NO_DATA (message says why) when the
 * phase is not completed. */
gg_status journal_series_phase_completed_age(journal *j, const char *phase, double now, double *value,
                                             gg_error *err) GG_WUR;

/* phase.stable_for{phase}: seconds since the later of the completion and the last automatic trigger
 * after it (a rule_firing event whose content has "then":"rollback"); 0 when the phase is not
 * completed (never completed, or rolled back / failed / restarted since). */
gg_status journal_series_phase_stable_for(journal *j, const char *phase, double now, double *value,
                                          gg_error *err) GG_WUR;

/* event.age{kind}: now - time of the latest event of that kind. For kind "deployment" or
 * "incident" the latest mark of that kind (its `at`). GG_ERR_NO_DATA when there is none. */
gg_status journal_series_event_age(journal *j, const char *kind, double now, double *value,
                                   gg_error *err) GG_WUR;

/* attested{item}: 1 when the item's latest attestation is in force at `now`, else 0. */
gg_status journal_series_attested(journal *j, const char *item, double now, double *value,
                                  gg_error *err) GG_WUR;

/* retro.completed: 1 when a retrospective has been closed (a retro_completed event), else 0. */
gg_status journal_series_retro_completed(journal *j, double *value, gg_error *err) GG_WUR;

/* ---- the retrospective (lessons learned) ----------------------------------------------------- */

/* The three kinds of entry of the plan's "Lessons Learned (Post-Migration)": X(constant, word). */
#define JOURNAL_RETRO_MAP(X) X(WENT_WELL, "went-well") X(IMPROVE, "improve") X(ACTION_ITEM, "action-item")

typedef enum {
#define JOURNAL_RETRO_ENUM(name, word) JOURNAL_RETRO_##name,
  JOURNAL_RETRO_MAP(JOURNAL_RETRO_ENUM)
#undef JOURNAL_RETRO_ENUM
} journal_retro_kind;

/* "went-well", "improve", "action-item" ("?" out of range). */
const char *journal_retro_kind_name(journal_retro_kind k);

/* Record one entry (a retro_entry event, content {"entry", "text", and for an action item "owner"
 * and "due"}). text and by must not be empty; an action item needs an owner and a due date
 * (`due`, seconds since the epoch, > 0), which other entries must not have. GG_ERR_INVALID
 * naming what is missing. */
gg_status journal_retro_add(journal *j, journal_retro_kind kind, const char *text, const char *owner,
                            double due, const char *by, long long *seq, gg_error *err) GG_WUR;

/* Close the retrospective (a retro_completed event with the number of entries so far and the
 * note, which may be NULL); retro.completed reads 1 from then on. */
gg_status journal_retro_complete(journal *j, const char *by, const char *note, long long *seq,
                                 gg_error *err) GG_WUR;
/* The plan the handle serves series for: its content hash (64 hex characters, copied) and how
 * long a rehearsal stays valid (seconds; <= 0: JOURNAL_REHEARSAL_VALID_FOR). Until it is set,
 * rehearsal.passed reads 0 (no plan to compare the rehearsal with). The gate sets it
 * (gate_env_new). */
#define JOURNAL_REHEARSAL_VALID_FOR (7.0 * 86400.0)
void journal_set_plan(journal *j, const char *plan_hash, double rehearsal_valid_for);

/* rehearsal.passed{phase}: 1 when the phase's latest `rehearsal` event says "result":"passed",
 * its "plan_hash" is the plan set by journal_set_plan and it is younger than the plan's
 * rehearsal_valid_for at `now`; else 0 (a changed plan voids it, as for approvals). */
gg_status journal_series_rehearsal_passed(journal *j, const char *phase, double now, double *value,
                                          gg_error *err) GG_WUR;

/* ---- samples (series history; outside the chain) ---------------------------------------------- */

#define JOURNAL_DEFAULT_RETENTION (30.0 * 86400.0)
/* At most this many sample rows are kept (about 300 MB), the oldest pruned first, so a long
 * watch with many series cannot fill the disk whatever the retention says. */
#ifndef JOURNAL_SAMPLES_MAX_ROWS
#define JOURNAL_SAMPLES_MAX_ROWS 2000000
#endif

typedef struct {
  const char *name;   /* series name */
  const char *labels; /* canonical JSON object text of the labels ("{}" when none; NULL = "{}") */
  double time;
  double value;
} journal_sample;

/* Write n samples in one transaction, then delete samples older than now - retention and the
 * oldest beyond JOURNAL_SAMPLES_MAX_ROWS.
 * GG_ERR_INVALID for a labels text that is not a JSON object. */
gg_status journal_samples_add(journal *j, const journal_sample *s, size_t n, gg_error *err) GG_WUR;

typedef struct {
  char *labels; /* canonical JSON object text */
  double time;
  double value;
} journal_sample_row;

/* Samples of `name` with from <= time <= to, ordered by labels then time. You own *out
 * (journal_sample_rows_free). */
gg_status journal_samples_query(journal *j, const char *name, double from, double to,
                                journal_sample_row **out, size_t *n, gg_error *err) GG_WUR;
void journal_sample_rows_free(journal_sample_row *rows, size_t n);

/* Retention in seconds (stored in the file; default JOURNAL_DEFAULT_RETENTION). */
gg_status journal_set_retention(journal *j, double seconds, gg_error *err) GG_WUR;
/* The row cap this handle applies when it adds samples (<= 0: JOURNAL_SAMPLES_MAX_ROWS). */
void journal_set_samples_cap(journal *j, long long rows);
double journal_retention(journal *j);

/* ---- the lease lock ---------------------------------------------------------------------------- */

typedef struct {
  char holder[128]; /* what holds it: "gonogo run phase 2 (alice)" */
  char host[256];
  long pid;
  double since;   /* when taken */
  double expires; /* lease end; renewed while held */
} journal_lease;

#define JOURNAL_LEASE_TTL 60.0 /* seconds; holders renew at a third of it */

/* Take the migration's lease for ttl seconds (<= 0: JOURNAL_LEASE_TTL). Held by someone else and
 * live: GG_ERR_LOCKED naming the holder, pid, host and since when (and *other, if not NULL, is
 * filled). Stale (expired, or its pid gone on this host): GG_ERR_LOCKED saying so and that
 * --break-lock takes it over, unless break_stale, which takes it and journals lock_broken with the
 * previous holder; a live lease is never broken. Taking it journals lock_taken. Taking a lease this
 * handle already holds renews it. */
gg_status journal_lock_acquire(journal *j, const char *holder, double ttl, bool break_stale,
                               journal_lease *other, gg_error *err) GG_WUR;

/* Extend the lease this handle holds to now + ttl. GG_ERR_LOCKED when it was lost (broken or
 * taken by someone else). */
gg_status journal_lock_renew(journal *j, double ttl, gg_error *err) GG_WUR;

/* Give up the lease this handle holds (journals lock_released). GG_OK if not held. */
gg_status journal_lock_release(journal *j, gg_error *err) GG_WUR;

/* Let handle `dst` (another handle on the same file, e.g. a renewing thread's) renew and release the
 * lease `src` holds. Both then act for the same lease. */
void journal_lock_share(journal *dst, const journal *src);

/* The current lease, if any: *held false when free. *stale says whether it is expired or its pid
 * is gone on this host. */
gg_status journal_lock_get(journal *j, bool *held, bool *stale, journal_lease *out, gg_error *err) GG_WUR;

/* ---- identity ---------------------------------------------------------------------------------- */

/* The OS user name (or "uid N") and host name this process records; static strings. */
const char *journal_os_user(void);
const char *journal_host(void);

#endif
