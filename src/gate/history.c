/*
 * history.c: the rule that says whether a history is enough for a window, and the chain
 * `check` reads history through: journal samples, Prometheus, then two fresh samples
 * (gate/history.h).
 */
#include "gate/history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "gate/gate.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The lower median of the times between consecutive points: the sampling interval, which
 * a gap (a watcher stopped for an hour) does not stretch as an average would. */
static double median_step(const expr_series *s) {
  size_t n = s->n - 1;
  double *d = malloc(n * sizeof *d);
  if (!d) return (s->points[s->n - 1].t - s->points[0].t) / (double)n;
  for (size_t i = 0; i < n; i++) d[i] = s->points[i + 1].t - s->points[i].t;
  qsort(d, n, sizeof *d, cmp_double);
  double step = d[(n - 1) / 2];
  free(d);
  return step;
}

gate_history_fit gate_history_judge(const expr_matrix *m, double window, double now, expr_history_use use) {
  gate_history_fit f;
  memset(&f, 0, sizeof f);
  f.series = m->n;
  f.min_points = m->n ? SIZE_MAX : 0;
  size_t longest = 0;
  bool any = false;
  for (size_t i = 0; i < m->n; i++) {
    const expr_series *s = &m->v[i];
    if (s->n < f.min_points) f.min_points = s->n;
    if (s->n > f.points) {
      f.points = s->n;
      longest = i;
    }
    if (s->n == 0) continue;
    if (!any || s->points[0].t < f.oldest) f.oldest = s->points[0].t;
    if (!any || s->points[s->n - 1].t > f.newest) f.newest = s->points[s->n - 1].t;
    any = true;
    for (size_t k = 1; k < s->n; k++)
      if (s->points[k].t - s->points[k - 1].t > f.gap) f.gap = s->points[k].t - s->points[k - 1].t;
  }
  if (!any) {
    f.slack = 0.05 * window;
    return f;
  }
  f.span = f.newest - f.oldest;
  f.age = now - f.newest;
  if (f.points >= 2) f.step = median_step(&m->v[longest]);
  f.slack = fmax(2.0 * f.step, 0.05 * window);
  bool change = use == EXPR_HISTORY_CHANGE;
  size_t need = change ? 2 : 1;
  if (f.min_points < need) return f;
  if (f.span + f.slack >= window && f.age <= f.slack && (change || f.gap <= f.slack)) {
    f.cover = GATE_HISTORY_COVERS;
  } else if (change && f.points >= GATE_HISTORY_MIN_STEPS + 1 && f.span >= GATE_RATE_GAP &&
             f.age <= fmax(2.0 * f.step, GATE_RATE_GAP)) {
    f.cover = GATE_HISTORY_PARTIAL;
  }
  return f;
}

static void describe(char *out, size_t n, const char *name, const gate_history_fit *f, double window,
                     bool partial) {
  char span[32], win[32];
  /* Whole seconds: the sampling times' milliseconds are noise here. */
  gg_format_duration(f->span >= 1 ? round(f->span) : f->span, span, sizeof span);
  gg_format_duration(window, win, sizeof win);
  snprintf(out, n, "%s, %zu point%s over %s%s%s", name, f->points, f->points == 1 ? "" : "s", span,
           partial ? ", not " : "", partial ? win : "");
}

gg_status gate_history_read(const gate_history_chain *c, const expr_selector *sel, double window,
                            expr_history_use use, const expr_ctx *ctx, expr_matrix *out, char *origin,
                            size_t n, gg_error *err) {
  expr_matrix partial;
  memset(&partial, 0, sizeof partial);
  gate_history_fit pfit;
  memset(&pfit, 0, sizeof pfit);
  const char *pname = NULL;
  double best_span = 0;
  char tried[512] = "";
  size_t tl = 0;
  if (origin && n) origin[0] = '\0';
  for (size_t i = 0; i < c->n; i++) {
    const gate_history_candidate *cand = &c->cand[i];
    if (!cand->src || !cand->src->range) continue;
    expr_matrix m;
    memset(&m, 0, sizeof m);
    gg_error e;
    gg_error_clear(&e);
    gg_status st = cand->src->range(cand->src->user, sel, window, use, ctx, &m, &e);
    if (st == GG_OK) st = expr_matrix_filter(&m, sel, &e);
    if (st != GG_OK) {
      /* Not this candidate's series, or it cannot answer: the next one may. */
      if (st != GG_ERR_NOT_FOUND && tl < sizeof tried) {
        int w = snprintf(tried + tl, sizeof tried - tl, "%s%s: %s", tl ? "; " : "", cand->name,
                         gg_error_message(&e));
        if (w > 0) tl += (size_t)w;
      }
      expr_matrix_release(&m);
      continue;
    }
    gate_history_fit f = gate_history_judge(&m, window, ctx->now, use);
    if (f.span > best_span) best_span = f.span;
    if (f.cover == GATE_HISTORY_COVERS) {
      expr_matrix_release(&partial);
      *out = m;
      out->range_start = ctx->now - window;
      out->range_end = ctx->now;
      if (origin) describe(origin, n, cand->name, &f, window, false);
      return GG_OK;
    }
    if (f.cover == GATE_HISTORY_PARTIAL && (!pname || f.span > pfit.span)) {
      expr_matrix_release(&partial);
      partial = m;
      pfit = f;
      pname = cand->name;
      continue;
    }
    expr_matrix_release(&m);
  }
  if (pname) {
    *out = partial;
    out->range_start = pfit.oldest;
    out->range_end = pfit.newest;
    if (origin) describe(origin, n, pname, &pfit, window, true);
    return GG_OK;
  }
  if (use == EXPR_HISTORY_CHANGE && c->fresh) {
    gg_status st = c->fresh(c->fresh_user, sel, out, err);
    if (st == GG_OK && origin) {
      char gap[32], win[32];
      gg_format_duration(GATE_RATE_GAP, gap, sizeof gap);
      gg_format_duration(window, win, sizeof win);
      snprintf(origin, n, "%s of fresh samples, not %s", gap, win);
    }
    return st;
  }
  char have[32], want[32];
  gg_format_duration(best_span, have, sizeof have);
  gg_format_duration(window, want, sizeof want);
  return gg_error_set(err, GG_ERR_NO_DATA, "insufficient history: have %s of %s%s%s%s", have, want,
                      tl ? " (" : "", tried, tl ? ")" : "");
}
