/*
 * check.c: what a plan names that it does not declare, found before the night it matters.
 * Every expression's series are checked against the built-in table (src/expr/series.c): an
 * unknown nats.* / pg.* / http.* name, a label the series does not carry, a database, target,
 * window or phase the plan does not declare are errors; a stream or consumer it does not declare
 * is a warning (it may exist outside the migration). The topology is then played forward phase
 * by phase: two streams holding overlapping subjects after a phase (JetStream refuses the second)
 * is a warning at the action that made them overlap, and a consumer filter outside its stream's
 * subjects is an error (JetStream refuses to create it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

#define NAMES_MAX 512

typedef struct {
  plan_ctx *c;
  const plan *p;
  const plan_expr *e;
} expr_walk_ctx;

static int file_col(const plan_expr *e, const expr_node *n) {
  int col = expr_node_column(n);
  return e->exact && col > 0 ? e->pos.col + col - 1 : e->pos.col;
}

static void diag(expr_walk_ctx *w, const expr_node *n, plan_severity sev, const char *suggestion,
                 const char *fmt, ...) GG_PRINTF(5, 6);
static void diag(expr_walk_ctx *w, const expr_node *n, plan_severity sev, const char *suggestion,
                 const char *fmt, ...) {
  char hint[200], msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (suggestion) snprintf(hint, sizeof hint, "did you mean '%s'?", suggestion);
  plan_diag_add(w->c, sev, w->e->pos.line, file_col(w->e, n), suggestion ? hint : NULL, "%s", msg);
}

/* Names for suggestions; NULL-safe arrays of borrowed strings. */
static size_t stream_names(const plan *p, const char **out) {
  size_t n = 0;
  for (size_t i = 0; i < p->topology.nstreams && n < NAMES_MAX; i++) out[n++] = p->topology.streams[i].name;
  return n;
}

static void check_value(expr_walk_ctx *w, const expr_node *n, const char *series, const expr_selector *sel,
                        const expr_matcher *m) {
  const plan *p = w->p;
  const char *names[NAMES_MAX];
  size_t k = 0;
  if (m->op != EXPR_MATCH_EQ) return;
  if (strcmp(m->label, "stream") == 0) {
    if (plan_find_stream(p, m->value)) return;
    k = stream_names(p, names);
    diag(w, n, PLAN_DIAG_WARNING, plan_suggest(m->value, names, k),
         "stream '%s' (in %s) is not declared in topology.streams", m->value, series);
  } else if (strcmp(m->label, "consumer") == 0) {
    const char *stream = NULL;
    for (size_t i = 0; i < sel->n_matchers; i++)
      if (strcmp(sel->matchers[i].label, "stream") == 0 && sel->matchers[i].op == EXPR_MATCH_EQ)
        stream = sel->matchers[i].value;
    bool known = false;
    for (size_t i = 0; i < p->topology.nconsumers; i++) {
      const plan_consumer *pc = &p->topology.consumers[i];
      if (strcmp(pc->name, m->value) == 0 && (!stream || strcmp(pc->stream, stream) == 0))
        known = true;
      else if (k < NAMES_MAX && (!stream || strcmp(pc->stream, stream) == 0))
        names[k++] = pc->name;
    }
    if (!known)
      diag(w, n, PLAN_DIAG_WARNING, plan_suggest(m->value, names, k),
           "consumer '%s' (in %s) is not declared in topology.consumers", m->value, series);
  } else if (strcmp(m->label, "db") == 0) {
    for (size_t i = 0; i < p->connect.ndatabases; i++) {
      if (strcmp(p->connect.databases[i].name, m->value) == 0) return;
      if (k < NAMES_MAX) names[k++] = p->connect.databases[i].name;
    }
    diag(w, n, PLAN_DIAG_ERROR, plan_suggest(m->value, names, k),
         "database '%s' (in %s) is not declared in connect.databases", m->value, series);
  } else if (strcmp(m->label, "target") == 0) {
    for (size_t i = 0; i < p->connect.ntargets; i++) {
      if (strcmp(p->connect.targets[i].name, m->value) == 0) return;
      if (k < NAMES_MAX) names[k++] = p->connect.targets[i].name;
    }
    diag(w, n, PLAN_DIAG_ERROR, plan_suggest(m->value, names, k),
         "target '%s' (in %s) is not declared in connect.targets", m->value, series);
  } else if (strcmp(m->label, "phase") == 0 && strncmp(series, "phase.", 6) == 0) {
    for (size_t i = 0; i < p->nphases; i++) {
      if (strcmp(p->phases[i].id, m->value) == 0) return;
      if (k < NAMES_MAX) names[k++] = p->phases[i].id;
    }
    diag(w, n, PLAN_DIAG_ERROR, plan_suggest(m->value, names, k),
         "phase '%s' (in %s) is not a phase of the plan", m->value, series);
  }
}

static void check_selector(expr_walk_ctx *w, const expr_node *n) {
  expr_selector sel;
  expr_node_selector(n, &sel);
  if (plan_find_define(w->p, sel.name)) return;
  const expr_series_info *info = expr_series_find(sel.name);
  if (!info && expr_series_reserved(sel.name)) {
    size_t count = 0;
    const expr_series_info *all = expr_series_builtin(&count);
    const char *names[NAMES_MAX];
    size_t k = 0;
    for (size_t i = 0; i < count && k < NAMES_MAX; i++) names[k++] = all[i].name;
    diag(w, n, PLAN_DIAG_ERROR, plan_suggest(sel.name, names, k),
         "unknown series '%s' (docs/plan-reference.md lists the built-in series)", sel.name);
    return;
  }
  for (size_t i = 0; i < sel.n_matchers; i++) {
    const expr_matcher *m = &sel.matchers[i];
    if (info && strcmp(m->label, "__name__") != 0 && !expr_series_has_label(info, m->label)) {
      const char *labels[EXPR_SERIES_LABELS_MAX];
      size_t k = 0;
      while (k < EXPR_SERIES_LABELS_MAX && info->labels[k]) {
        labels[k] = info->labels[k];
        k++;
      }
      diag(w, n, PLAN_DIAG_ERROR, plan_suggest(m->label, labels, k), "series '%s' has no label '%s'",
           sel.name, m->label);
      continue;
    }
    check_value(w, n, sel.name, &sel, m);
  }
}

static void check_call(expr_walk_ctx *w, const expr_node *n) {
  const char *fn = expr_node_text(n);
  const plan *p = w->p;
  const char *names[NAMES_MAX];
  size_t k = 0;
  if (expr_node_child_count(n) < 1 || expr_node_kind(expr_node_child(n, 0)) != EXPR_STR) return;
  const expr_node *arg = expr_node_child(n, 0);
  const char *name = expr_node_text(arg);
  if (strcmp(fn, "sql") == 0) {
    for (size_t i = 0; i < p->connect.ndatabases; i++) {
      if (strcmp(p->connect.databases[i].name, name) == 0) return;
      if (k < NAMES_MAX) names[k++] = p->connect.databases[i].name;
    }
    diag(w, arg, PLAN_DIAG_ERROR, plan_suggest(name, names, k),
         "sql() names database '%s', which is not declared in connect.databases", name);
  } else if (strcmp(fn, "window") == 0) {
    for (size_t i = 0; i < p->calendar.nwindows; i++) {
      if (strcmp(p->calendar.window_names[i], name) == 0) return;
      if (k < NAMES_MAX) names[k++] = p->calendar.window_names[i];
    }
    diag(w, arg, PLAN_DIAG_ERROR, plan_suggest(name, names, k),
         "window() names '%s', which is not declared in calendar.windows", name);
  }
}

static bool on_node(const expr_node *n, void *user) {
  expr_walk_ctx *w = user;
  if (expr_node_kind(n) == EXPR_SELECTOR) check_selector(w, n);
  if (expr_node_kind(n) == EXPR_CALL) check_call(w, n);
  return true;
}

static void check_expr(plan_ctx *c, const plan *p, const plan_expr *e) {
  if (!e->ast) return;
  expr_walk_ctx w = {c, p, e};
  expr_walk(e->ast, on_node, &w);
}

static void check_criteria(plan_ctx *c, const plan *p, const plan_criterion *v, size_t n) {
  for (size_t i = 0; i < n; i++) check_expr(c, p, &v[i].expect);
}

static void check_actions(plan_ctx *c, const plan *p, const plan_action *v, size_t n) {
  for (size_t i = 0; i < n; i++) check_expr(c, p, &v[i].until_expr);
}

void plan_check_names(plan_ctx *c, const plan *p) {
  for (size_t i = 0; i < p->ndefines; i++) check_expr(c, p, &p->defines[i].expr);
  check_criteria(c, p, p->preflight, p->npreflight);
  for (size_t i = 0; i < p->nphases; i++) {
    const plan_phase *ph = &p->phases[i];
    check_criteria(c, p, ph->go, ph->ngo);
    check_criteria(c, p, ph->verify, ph->nverify);
    for (size_t k = 0; k < ph->nno_go; k++) check_expr(c, p, &ph->no_go[k].when);
    check_actions(c, p, ph->prepare, ph->nprepare);
    check_actions(c, p, ph->actions, ph->nactions);
  }
  for (size_t i = 0; i < p->monitor.nrules; i++) check_expr(c, p, &p->monitor.rules[i].when);
  for (size_t i = 0; i < p->nvalidation; i++)
    check_criteria(c, p, p->validation[i].items, p->validation[i].nitems);
}
