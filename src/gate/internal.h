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
#include "gate/history.h"
#include "probe/probe.h"
#include "signoff/signoff.h"

#define GATE_MAX_SECRETS 64
#define GATE_MAX_SOURCES 8            /* the journal, the probes or the caller's sources */
#define GATE_PROM_HISTORY_TIMEOUT 2.0 /* seconds: a Prometheus history only saves a fresh pair's wait */
#define GATE_HISTORY_NOTES 6          /* where histories came from, kept per item */

struct gate_env {
  const plan *p;
  journal *j; /* borrowed; may be NULL */
  pthread_mutex_t jlock;
  expr_series_source jsrc;           /* the journal's own source (not thread-safe) */
  expr_history_source jhist;         /* the journal's samples, judged as `watch` reads them */
  expr_history_source jraw;          /* the journal's samples, raw (judged by gate/history.h) */
  expr_series_source locked_journal; /* jsrc behind jlock */
  expr_history_source locked_jraw;   /* jraw behind jlock */
  expr_history_source prom;          /* Prometheus, for scraped target metrics */
  expr_history_source history;       /* by the mode: the chain of gate/history.h, or jhist */
  gate_history_mode mode;
  bool no_fresh_pairs; /* the chain takes no fresh pair (--no-rate-samples) */
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
  gate_history_chain hchain;    /* where the items' histories come from */
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
  expr_history_source hist; /* run->hchain, noting where each history came from */
  char notes[GATE_HISTORY_NOTES][240];
  size_t nnotes;
} gate_job;

/* ---- env.c ---- */

/* The history chain of gate/history.h over env: the journal's samples, then (live) Prometheus
 * and the fresh pairs unless --no-rate-samples. */
void gate_env_history_chain(gate_env *env, bool live, gate_history_chain *out);
/* Read a history by env's mode: through chain as of the present (check), or the journal's
 * samples as `watch` reads them. origin as gate_history_read's ("" for the latter). */
gg_status gate_env_history_read(gate_env *env, const gate_history_chain *chain, const expr_selector *sel,
                                double window, expr_history_use use, const expr_ctx *ctx, expr_matrix *out,
                                char *origin, size_t n, gg_error *err) GG_WUR;

/* ---- items.c ---- */

/* Evaluate the job's item into job->item (result, observed, message, evidence...). */
void gate_item_expect(gate_job *job);
void gate_item_nogo(gate_job *job);
void gate_item_requirement(gate_job *job);
void gate_item_attest(gate_job *job);
void gate_item_approval(gate_job *job);

/* Fill ctx to evaluate at `now` against the run's sources: the journal, then the probes
 * (or the caller's sources); history likewise. srcs needs GATE_MAX_SOURCES. */
void gate_job_ctx(gate_job *job, double now, probe_ctx *probes, expr_ctx *ctx, expr_series_source *srcs);

/* Say in the item where its histories came from: "history: …" appended to its message,
 * evidence.history the list. Nothing when it read none. */
void gate_item_history(gate_job *job);

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
