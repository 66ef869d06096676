/*
 * history.h: where `check` reads the history of a rate(), increase(), delta() or
 * *_over_time() (DESIGN §5), and the rule that says whether a history is enough.
 *
 * The candidates are asked in order — the journal's samples (written by `watch`), then
 * Prometheus (for metrics it scrapes from the plan's targets) — and each answer, the raw
 * points of [now - window, now] the selector accepts, is judged by gate_history_judge:
 *
 *   step   the sampling step: the (lower) median time between consecutive points of the
 *          series with the most points, which a gap does not stretch
 *   slack  max(2 x step, 5% of the window): how much of the window may go unobserved
 *   COVERS every series has 2 points (1 for *_over_time), the points of all series span
 *          at least window - slack, the newest is at most slack old and, for
 *          *_over_time, no two consecutive points of a series are more than slack apart
 *   PARTIAL (rate/increase/delta only) every series has 2 points, the longest at least
 *          GATE_HISTORY_MIN_STEPS + 1, the span is at least GATE_RATE_GAP and the newest
 *          point at most max(2 x step, GATE_RATE_GAP) old: a recent, shorter stretch
 *
 * The first candidate that COVERS is read as it is, over [now - window, now] (Prometheus'
 * own semantics). Otherwise the PARTIAL answer with the longest span stands for the
 * window as two fresh samples would, only longer: the rate over its span, increase and
 * delta that rate times the window. Otherwise rate/increase/delta take two fresh samples
 * GATE_RATE_GAP apart (when the chain has them), and *_over_time is GG_ERR_NO_DATA
 * "insufficient history: have X of Y", X the longest span any candidate had.
 *
 * The origin says which was read, for the item's evidence: "journal samples, 41 points
 * over 10m", "prometheus, 301 points over 5m", "journal samples, 5 points over 1m, not
 * 1h", "3s of fresh samples, not 1h".
 */
#ifndef GG_GATE_HISTORY_H
#define GG_GATE_HISTORY_H

#include <stddef.h>

#include "base/error.h"
#include "expr/expr.h"

#define GATE_HISTORY_MIN_STEPS 4 /* sampling steps a partial history needs at least */

typedef enum { GATE_HISTORY_NONE = 0, GATE_HISTORY_PARTIAL, GATE_HISTORY_COVERS } gate_history_cover;

/* What a history answer holds, and whether it is enough. */
typedef struct {
  gate_history_cover cover;
  size_t series;     /* label sets */
  size_t points;     /* points of the series with the most */
  size_t min_points; /* points of the series with the fewest */
  double oldest, newest;
  double span;  /* newest - oldest, all series together; 0 without points */
  double step;  /* the sampling step, a median (0 with fewer than two points) */
  double age;   /* now - newest */
  double gap;   /* the longest time between two consecutive points of one series */
  double slack; /* max(2 x step, 5% of the window) */
} gate_history_fit;

/* Judge m (points within [now - window, now], oldest first per series) as the rule above
 * says. Pure. */
gate_history_fit gate_history_judge(const expr_matrix *m, double window, double now, expr_history_use use);

/* The candidates, in order, and the fresh pair. */
typedef struct {
  const char *name;               /* "journal samples", "prometheus" */
  const expr_history_source *src; /* raw points, judged here; NULL: skipped */
} gate_history_candidate;

typedef struct {
  gate_history_candidate cand[2];
  size_t n;
  /* Two fresh samples of sel GATE_RATE_GAP apart into out (range [t1, t2]); NULL: none
   * (`--no-rate-samples`, or a caller without live probes). */
  gg_status (*fresh)(void *user, const expr_selector *sel, expr_matrix *out, gg_error *err);
  void *fresh_user;
} gate_history_chain;

/* The history of sel for `use` over window, as of ctx->now, by the rule above: out filled
 * (empty on entry; yours whatever the status) and origin[0..n) saying where it came from.
 * GG_ERR_NO_DATA "insufficient history: have X of Y" when nothing is enough; a candidate's
 * own error (Prometheus unreachable) only moves on to the next and is named in that
 * message. */
gg_status gate_history_read(const gate_history_chain *c, const expr_selector *sel, double window,
                            expr_history_use use, const expr_ctx *ctx, expr_matrix *out, char *origin,
                            size_t n, gg_error *err) GG_WUR;

#endif
