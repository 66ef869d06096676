/*
 * gate.h: decide a phase GO / NO-GO / DEFER from live facts (DESIGN §3).
 *
 * gate_check evaluates, for one phase: the plan's preflight criteria, the phase's
 * `requires` (completed, and stable for the soak window), its go criteria (expect, run,
 * attest, canary), its no-go conditions and its approvals. Every item ends PASS, FAIL,
 * WAIT or ERROR with the evidence it rests on: the observed values against the
 * threshold, the members of a vector that fail, the tail of a command's output, who
 * still has to act. The decision:
 *
 *   NO-GO  any go item (preflight, requires, go, approval) FAIL or ERROR, or any no-go
 *          condition holds (outcome no-go) or is ERROR;
 *   DEFER  otherwise, anything WAIT (an attestation or approval not given, a soak window,
 *          a calendar window, a no-go condition with outcome defer that holds);
 *   GO     otherwise.
 *
 * The gate prefetches every series the phase's expressions name concurrently through the
 * probes. Items that may wait on something else (a command, a canary, a rate() that may
 * take two fresh samples) then run each on a thread of its own, side by side; the rest
 * read the prefetched values in place, which takes microseconds. So a phase is decided in
 * about the time of its slowest probe or command. rate()/increase()/delta() and
 * *_over_time() read the journal's samples, then Prometheus's, and rates without enough of
 * either take two fresh samples GATE_RATE_GAP seconds apart (gate/history.h); each item
 * says where its history came from.
 *
 * The I/O (probes, commands, canaries, the journal) and the decision are apart:
 * gate_decide turns evaluated items into the decision and touches nothing else, and
 * gate_opts can replace the probes by caller-given series and history sources, so the
 * whole of DESIGN §3's table can be tested without a network.
 *
 * Whether an approval or an attestation is in force is decided by src/signoff (see
 * signoff.h), the judge `status` and `report` use too; the gate maps its verdicts to
 * results: in force PASS, not given / void / expired / defer WAIT (an optional role not
 * given or void PASS), no-go FAIL.
 *
 * For a WAIT whose condition depends only on the calendar or the soak window, the gate
 * computes the earliest time it can pass; the report's `earliest` is the latest of those.
 *
 * The gate reads from the plan and the journal and never writes: gate_record journals a
 * report (the whole evaluation, then the decision).
 */
#ifndef GG_GATE_H
#define GG_GATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "expr/expr.h"
#include "gate/env.h"
#include "journal/journal.h"
#include "plan/plan.h"

#define GATE_RATE_GAP 3.0 /* seconds between the two fresh samples of a rate() in `check` */

typedef enum { GATE_PASS = 0, GATE_FAIL, GATE_WAIT, GATE_ERROR } gate_result;

/* The decision; its value is `check`'s exit code (the Nagios convention). */
typedef enum { GATE_GO = 0, GATE_DEFER = 1, GATE_NOGO = 2 } gate_decision;

typedef enum {
  GATE_SEC_PREFLIGHT = 0,
  GATE_SEC_REQUIRES,
  GATE_SEC_GO,
  GATE_SEC_NOGO,
  GATE_SEC_APPROVAL,
} gate_section;

/* "PASS", "FAIL", "WAIT", "ERROR". */
const char *gate_result_name(gate_result r);
/* "GO", "DEFER", "NO-GO". */
const char *gate_decision_name(gate_decision d);
/* "preflight", "requires", "go", "no-go", "approval". */
const char *gate_section_name(gate_section s);

/* One evaluated item. Every string is owned by the report. */
typedef struct {
  gate_section section;
  char *name; /* as the plan names it */
  char *kind; /* "expect", "run", "attest", "canary", "when", "completed", "stable_for", "approval" */
  char *what; /* the expression, command, item or role */
  gate_result result;
  char *observed;  /* what was seen, formatted for people: "12.1 GB", "exit 2", "given by alice" */
  char *threshold; /* what was wanted: "> 20 GB"; "" when it does not apply */
  char **members;  /* failing members: `n2: 12.1 GB, want > 20 GB`; may be empty */
  size_t nmembers;
  char *message;        /* why it is FAIL/WAIT/ERROR, or the output tail of a command; "" when none */
  double elapsed;       /* seconds this item took (its probes, command or canary) */
  double earliest;      /* WAIT: earliest time (epoch seconds) it can pass; 0 when not computable */
  bool blocking;        /* for no-go items: the condition holds */
  plan_outcome outcome; /* no-go items */
  json_t *evidence;     /* the full observed values (members with labels, output...), owned */
  /* Set by gate_apply_overrides: a person took responsibility for this item. The decision then
   * treats it as passed; `result` keeps what was observed. */
  bool overridden;
  char *override_reason; /* owned; NULL unless overridden */
} gate_item;

typedef struct {
  char *phase; /* phase id */
  char *phase_name;
  char *plan_hash;
  gate_decision decision;
  gate_item *items;
  size_t nitems;
  char **reasons; /* one line per item the decision rests on */
  size_t nreasons;
  char **pending; /* who must act: "approval by platform-lead (Platform Team Lead)", "attest
                     on-call-available" */
  size_t npending;
  double earliest;      /* DEFER: earliest time every calendar/soak wait can pass; 0 unknown or none */
  double now;           /* the time calendar and soak criteria were evaluated as of */
  bool at_given;        /* `now` came from --at (live probes still read the present) */
  double started;       /* when the evaluation began (real time) */
  double elapsed;       /* seconds, whole evaluation */
  double slowest;       /* seconds, the slowest single item (its own work after the prefetch) */
  double probes;        /* seconds, the concurrent prefetch of every series */
  double slowest_probe; /* seconds, the slowest single probe of the prefetch */
  char slowest_probe_what[160];
} gate_report;

typedef struct {
  journal *journal;       /* borrowed; NULL: journal series and approvals are unavailable (ERROR) */
  double at;              /* > 0: evaluate calendar and soak criteria as of this time */
  bool skip_run;          /* do not run `run:` commands (bench: measure the probes alone); items say so */
  bool skip_rate_samples; /* do not take two fresh samples for rate(): ERROR instead (bench) */
  /* The live systems, replaceable (tests). With `sources` set the gate opens no probe context:
   * expressions read the journal's series, then these sources in order, and their history
   * from `history` (NULL: none, rate() and *_over_time are ERROR); canary items are ERROR
   * (there is nothing to send to); `run:` commands still run. All borrowed; they must be
   * safe to call from several threads at once. */
  const expr_series_source *sources;
  size_t n_sources;
  const expr_history_source *history;
} gate_opts;

/* Evaluate phase `phase_id` of p. GG_ERR_NOT_FOUND when the plan has no such phase;
 * otherwise GG_OK with *out filled (whatever the decision). You own *out
 * (gate_report_release). */
gg_status gate_check(const plan *p, const char *phase_id, const gate_opts *opts, gate_report *out,
                     gg_error *err) GG_WUR;

void gate_report_release(gate_report *r);

/* The decision of DESIGN §3 from the evaluated items r->items[0..nitems) alone: sets
 * r->decision, r->reasons (one line per item the decision rests on), r->pending (who must
 * act) and r->earliest (DEFER: the latest of the items' computable `earliest`, the time by
 * which every calendar and soak wait can pass; 0 when there is none). Pure: no I/O. Items
 * must have non-NULL strings (as gate_check fills them); earlier reasons and pending are
 * freed first. */
void gate_decide(gate_report *r);

/* One override an operator gives (`run --override-item ITEM=REASON`): the item and why. */
typedef struct {
  const char *item;   /* an item's name as the plan writes it (case-insensitive), its slug
                         ("nats-metrics-exporter-running"), or "approval:ROLE" / "attest:ITEM" */
  const char *reason; /* non-empty */
} gate_override;

/* The slug of an item name: lower-case letters and digits, every other run of characters one
 * '-', none at the ends ("NATS nodes healthy (3 UP)" -> "nats-nodes-healthy-3-up"). Into out. */
char *gate_item_slug(const char *name, char *out, size_t n);

/* Scope overrides to the items they name: each override must match exactly one item of r that
 * did not pass (FAIL, ERROR or WAIT, or a no-go condition that holds); that item is marked
 * overridden with its reason, and the decision is taken again (gate_decide), so anything not
 * named still decides. GG_ERR_NOT_FOUND names an override that matches no item (listing the
 * slugs of the items that could be overridden), GG_ERR_INVALID one that matches an item that
 * passed or more than one item; r is unchanged then. */
gg_status gate_apply_overrides(gate_report *r, const gate_override *ov, size_t n, gg_error *err) GG_WUR;

/* The report as JSON: the same facts as the human view. You own the reference. */
json_t *gate_report_json(const gate_report *r);

/* Journal the report: one `evaluation` event with every item, then a `decision` event.
 * actor: who asked ("gonogo check", or the operator). */
gg_status gate_record(journal *j, const gate_report *r, const char *actor, gg_error *err) GG_WUR;

/* Format a value for people: "12.1 GB", "250ms", "80%", "3"; writes into out, returns out. */
char *gate_format_number(double v, char unit, char *out, size_t n);

#endif
