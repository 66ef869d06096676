/*
 * internal.h: what the files of src/gate share.
 */
#ifndef GG_GATE_INTERNAL_H
#define GG_GATE_INTERNAL_H

#include <pthread.h>

#include "expr/expr.h"
#include "gate/gate.h"
#include "probe/probe.h"

#define GATE_MAX_SECRETS 64

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

/* Fill ctx for an evaluation at `now`: calendar, defines, sources (journal, then the
 * probes when given) and history. srcs must have room for two sources and outlive ctx. */
void gate_env_ctx(gate_env *env, probe_ctx *probes, double now, expr_ctx *ctx, expr_series_source *srcs);

/* A copy of text with every secret of the plan replaced by "<redacted>"; you own it.
 * NULL text gives "". */
char *gate_env_scrub(const gate_env *env, const char *text);

#endif
