/*
 * env.h: the evaluation environment `eval`, `run` and `watch` share with the gate.
 *
 * A gate_env holds what evaluating an expression needs from a plan: the probe
 * configuration built from `connect:`, the calendar, the `define:` entries, the plan's
 * revealed secrets (to scrub them out of anything recorded), and the journal as a series
 * source and a history source. The journal handle is not thread-safe; the environment
 * wraps it in a mutex, so the sources it hands out may be used from several threads.
 *
 * Everything an environment points to (the plan, the journal, the secrets' values) is
 * borrowed: the plan and the journal must outlive it.
 */
#ifndef GG_GATE_ENV_H
#define GG_GATE_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "expr/expr.h"
#include "journal/journal.h"
#include "plan/plan.h"
#include "probe/probe.h"

typedef struct gate_env gate_env;

/* Everything an evaluation needs from the plan: probe configuration, calendar, defines,
 * the journal as series and history source (j may be NULL: journal series are then
 * unknown and history is unavailable). One per process (the calendar sets the process's
 * time zone the first time). p and j are borrowed. You own *out (gate_env_free). */
gg_status gate_env_new(const plan *p, journal *j, gate_env **out, gg_error *err) GG_WUR;
void gate_env_free(gate_env *env); /* NULL-safe */

/* The probe configuration from the plan's `connect:`; owned by env (its strings by the
 * plan). Copy it to change a field such as the timeout. */
const probe_config *gate_env_probe_config(const gate_env *env);

/* Where rate(), increase(), delta() and *_over_time() read their history. */
typedef enum {
  /* The default, what `check`, `eval` and `run` do: the chain of gate/history.h, as of the
   * present — journal samples that cover the window, Prometheus for scraped target metrics,
   * the longest recent partial history, then two fresh samples GATE_RATE_GAP apart. */
  GATE_HISTORY_CHECK = 0,
  /* What `watch` wants: the samples it journals itself, as journal_history_source judges
   * them (a rate from any two points per series; *_over_time needs the window), nothing
   * else. */
  GATE_HISTORY_SAMPLED,
} gate_history_mode;

void gate_env_set_history_mode(gate_env *env, gate_history_mode mode);

/* Fill ctx for an evaluation at `now`: calendar, defines, sources (the journal, then the
 * probes when given) and history. srcs must have room for two sources; ctx borrows srcs,
 * env and probes, which must outlive it. */
void gate_env_ctx(gate_env *env, probe_ctx *probes, double now, expr_ctx *ctx, expr_series_source *srcs);

/* A copy of text with every secret of the plan replaced by "<redacted>"; you own it
 * (free()). NULL text gives "". NULL on ENOMEM. */
char *gate_env_scrub(const gate_env *env, const char *text);

/* Evaluate one expression live, as `gonogo eval` does, at `now`, every probe with the
 * given timeout (seconds). You own *out (expr_value_release). */
gg_status gate_eval(gate_env *env, const expr_node *expr, double now, double timeout, expr_value *out,
                    gg_error *err) GG_WUR;

#endif
