/*
 * rehearse.h: prove a plan on a local replica before production (`gonogo rehearse`, #14).
 *
 * A rehearsal brings up its own sandbox (src/sandbox) in a temporary directory, creates the
 * plan's legacy topology there (the plan's `existing: true` entries, or with from_live the live
 * cluster's own stream and consumer configurations read through the plan's `connect:`; no data
 * is copied), starts the reference services (ingest-service, normalize-service) against it, or
 * the plan's own `rehearsal.services` commands when it names some (in the plan's workdir, with
 * the sandbox's environment plus free ports, each waited for until ready, stopped at the end),
 * and posts HRV readings (or the plan's `rehearsal.publish` body) at a steady rate, each with a
 * unique event id, for the whole rehearsal. It
 * never connects to what the caller's environment points at (NATS_URL, PG_URL): the plan is
 * loaded again with the sandbox's settings in place of those variables.
 *
 * Then, for every phase in order: its prepare actions; the soak since the previous phase
 * (the plan's `requires.stable_for`, compressed to `soak`); `check` (every item evaluated and
 * reported; attestations, approvals, calendar windows, `run:` commands and rehearsal.passed
 * itself are reported as not enforced, since they are about the production environment, and
 * so is the rest: a rehearsal proves the actions, their rollback and the traffic, not that the
 * sandbox looks like production); the run (its actions and verify criteria, through act); a
 * rollback under the same traffic; and the run again, so the next phase starts from the forward
 * state. One cutover (the last phase that moves subjects, on its second run) starts with the
 * node that leads the most streams killed; it is brought back while the cutover waits for its
 * replicas. A phase the plan says cannot be done here (`gonogo plan` would print '!': a
 * delete_stream refusing the rehearsal's own messages) is reported skipped.
 *
 * At the end every id is counted: published (ingest answered 202), consumed (a row in hrv_data,
 * or an id `rehearsal.consumed.sql` returns),
 * lost (published, no row), duplicated (more than one copy across the plan's streams that no
 * carry-back accounts for, such as a publish retried into the other stream across a cutover:
 * the sink is idempotent, so a duplicate never shows as a second row, but it is a message
 * delivered twice). A carry-back's copies (header Gonogo-Carried-From) are deliberate and
 * journaled as carried_back. Each id belongs to the phase during which it was posted.
 *
 * Nothing here prints: lines go through the progress callback.
 */
#ifndef GG_REHEARSE_H
#define GG_REHEARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "journal/journal.h"
#include "plan/plan.h"

typedef void (*rehearse_progress_fn)(void *ud, const char *line);

typedef struct {
  double soak;        /* seconds: soak windows compressed to this (default 10) */
  double rate;        /* messages per second posted; <= 0: REHEARSE_DEFAULT_RATE */
  bool from_live;     /* copy the live cluster's legacy stream and consumer configurations */
  bool keep;          /* keep the sandbox running and its directory afterwards */
  const char *dir;    /* the sandbox directory; NULL: a new one under TMPDIR (removed unless keep) */
  const char *bindir; /* where ingest-service and normalize-service are; NULL: beside gonogo's
                         build tree (../ingest, ../normalize of /proc/self/exe), else PATH */
  rehearse_progress_fn progress; /* one line per step; may be NULL */
  /* A status line every second while traffic runs ("published, pending, rate, ETA"), for a
   * terminal to redraw in place; may be NULL. */
  rehearse_progress_fn status;
  void *ud;
} rehearse_opts;

#define REHEARSE_DEFAULT_RATE 500.0 /* when the live rate cannot be read */
#define REHEARSE_MIN_RATE 10.0 /* a live rate lower than this is raised to it: a rehearsal needs traffic */
#define REHEARSE_DEFAULT_SOAK 10.0
/* Free ports offered to the plan's rehearsal.services as REHEARSAL_PORT_1.. (besides INGEST_PORT
 * and NORMALIZE_PORT, the ports of INGEST_URL and NORMALIZE_URL). */
#define REHEARSE_SPARE_PORTS 4
/* Ids named per phase in a result and its journal event (the first ones). */
#define REHEARSE_IDS_NAMED 20

typedef enum { REHEARSE_PASSED = 0, REHEARSE_FAILED, REHEARSE_SKIPPED } rehearse_outcome;

/* "passed", "failed", "skipped". */
const char *rehearse_outcome_name(rehearse_outcome o);

/* One phase of a rehearsal. Strings owned by the result. */
typedef struct {
  char *phase;
  char *name;
  rehearse_outcome outcome;
  char *failure;       /* why it failed or was skipped; NULL when it passed */
  char *check;         /* the check's decision on the sandbox and what it rests on, one line */
  char **not_enforced; /* the items reported, not enforced ("attest team-notified: WAIT") */
  size_t nnot_enforced;
  long published, consumed, lost, duplicated, refused;
  char *lost_ids[REHEARSE_IDS_NAMED]; /* the first lost ids */
  size_t nlost_ids;
  char *dup_ids[REHEARSE_IDS_NAMED]; /* the first duplicated ids */
  size_t ndup_ids;
  double gap_ms;          /* largest publish gap of its cutovers (first and second run); -1 none */
  double rollback_s;      /* how long the rollback under traffic took; -1 when not rolled back */
  long long carried_back; /* messages the rollback carried back; -1 unknown */
  char *node_killed;      /* the node killed for this phase's second cutover; NULL when none */
  double elapsed;         /* seconds this phase took */
} rehearse_phase;

typedef struct {
  rehearse_phase *phases;
  size_t nphases;
  long published, consumed, lost, duplicated, refused;
  char nats_version[32]; /* the sandbox's nats-server version */
  char **adjustments;    /* what was changed to build the topology locally ("AA_CORE_HOT: R5 -> R3") */
  size_t nadjustments;
  double rate;    /* the rate used */
  double elapsed; /* seconds, the whole rehearsal */
  char dir[512];  /* the sandbox directory (removed at the end unless keep) */
  bool passed;    /* every phase passed or was skipped, and nothing was lost or duplicated */
} rehearse_result;

void rehearse_result_release(rehearse_result *r);

/* Rehearse plan `live` (as loaded in the caller's environment: its hash is what the rehearsal
 * is recorded for) read from `path`. GG_OK when the rehearsal ran to the end, whether it passed
 * or not (r->passed); an error when it could not be set up (a topology that cannot be built
 * locally, a missing program, the sandbox not coming up), naming what and why. You own *r
 * (rehearse_result_release), filled as far as it got whatever the status. */
gg_status rehearse_run(const plan *live, const char *path, const rehearse_opts *opts, rehearse_result *r,
                       gg_error *err) GG_WUR;

/* Journal one `rehearsal` event per phase of r into j (the plan's journal) with the plan's hash:
 *   {"plan_hash", "result": "passed"|"failed"|"skipped", "failure", "published", "consumed",
 *    "lost", "duplicated", "refused", "lost_ids": [...], "duplicated_ids": [...], "gap_ms",
 *    "rollback_s", "carried_back", "node_killed", "check", "not_enforced": [...], "soak", "rate",
 *    "nats_server": VERSION, "adjustments": [...], "elapsed"} (the event's time is when). */
gg_status rehearse_journal(journal *j, const plan *live, const rehearse_result *r, double soak,
                           gg_error *err) GG_WUR;

#endif
