/*
 * internal.h: what the files of src/gate share; private to src/gate (other modules use
 * gate/gate.h and gate/env.h).
 *
 *   env.c       the evaluation environment (gate/env.h)
 *   gate.c      gate_check: lay out the items, prefetch, evaluate (threads), decide
 *   items.c     the items read from values and the journal: expect, no-go, requires,
 *               attestations, approvals
 *   exec.c      the items that act on the world: run (a command) and canary
 *   decide.c    gate_decide: items → GO / NO-GO / DEFER (pure)
 *   record.c    the report as JSON and into the journal
 *   format.c    formatting values and strings for people
 */
#ifndef GG_GATE_INTERNAL_H
#define GG_GATE_INTERNAL_H

#include <pthread.h>

#include "expr/expr.h"
#include "gate/env.h"
#include "gate/gate.h"
#include "probe/probe.h"
#include "signoff/signoff.h"

#define GATE_MAX_SECRETS 64
#define GATE_MAX_SOURCES 8 /* the journal, the probes or the caller's sources */

struct gate_env {
  const plan *p;
  journal *j; /* borrowed; may be NULL */
  pthread_mutex_t jlock;
  expr_series_source jsrc;           /* the journal's own source (not thread-safe) */
  expr_history_source jhist;         /* the journal's samples */
  expr_series_source locked_journal; /* jsrc behind jlock */
  expr_history_source history;       /* jhist behind jlock, with fresh pairs for rate() */
  bool no_fresh_pairs;
  probe_config cfg;
  probe_database *dbs;
  probe_target *targets;
  expr_define *defines;
  size_t ndefines;
  expr_calendar *cal;
  const char *secrets[GATE_MAX_SECRETS]; /* revealed values, borrowed from the plan */
  size_t nsecrets;
};

/* What every item of one evaluation shares; read-only once the items run. */
typedef struct {
  gate_env *env;
  probe_ctx *probes; /* NULL when the caller gave the sources (opts->sources) */
  const gate_opts *opts;
  const plan *p;
  const plan_phase *phase;
  double now;
  const signoff_book *signoffs; /* NULL when there is no journal or it could not be read */
  gg_status signoff_status;     /* why signoffs is NULL (GG_OK: no journal) */
  gg_error signoff_err;
} gate_run;

/* One item to evaluate: exactly one of crit, nogo, req, approval is set. */
typedef struct {
  const gate_run *run;
  gate_item *item;
  const plan_criterion *crit; /* preflight / go */
  const plan_nogo *nogo;
  const plan_requirement *req;
  bool req_stable; /* the stable_for half of a requirement */
  const plan_approval *approval;
} gate_job;

/* ---- items.c ---- */

/* Evaluate the job's item into job->item (result, observed, message, evidence...). */
void gate_item_expect(gate_job *job);
void gate_item_nogo(gate_job *job);
void gate_item_requirement(gate_job *job);
void gate_item_attest(gate_job *job);
void gate_item_approval(gate_job *job);

/* Fill ctx to evaluate at `now` against the run's sources: the journal, then the probes
 * (or the caller's sources); history likewise. srcs needs GATE_MAX_SOURCES. */
void gate_job_ctx(const gate_job *job, double now, probe_ctx *probes, expr_ctx *ctx,
                  expr_series_source *srcs);

/* Set the result; observed and message replace the item's when not NULL. */
void gate_item_set(gate_item *it, gate_result r, const char *observed, const char *message);
/* ERROR with the (scrubbed) message of e. */
void gate_item_error(gate_job *job, const gg_error *e);
/* Describe v into it->observed, it->threshold and it->members (for a no-go condition,
 * list_ok_members lists the members for which it holds). */
void gate_item_describe(gate_item *it, const expr_value *v, bool list_ok_members);

/* ---- exec.c ---- */

void gate_item_run(gate_job *job);
void gate_item_canary(gate_job *job);

/* ---- format.c ---- */

/* A copy of s ("" for NULL); you own it. */
char *gate_strdup(const char *s);
/* A formatted copy; you own it ("" when it cannot be had). */
char *gate_printf(const char *fmt, ...) GG_PRINTF(1, 2);
/* `AA_CORE_HOT/normalize-hrv-durable` for the label values, or the label set itself. */
void gate_format_labels(const expr_labels *l, char *out, size_t n);

#endif
