/*
 * defines.c: a plan's named expressions may use each other, but never in a cycle. A cycle would
 * pass `validate` and fail only at evaluation, at 3 a.m.; the loader reports it where the first
 * define of the cycle is written, with the path that closes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

enum { UNSEEN = 0, ON_PATH, DONE };

typedef struct {
  const plan *p;
  unsigned char *state;
  size_t *path; /* indices of the defines on the current path */
  size_t depth;
  bool reported;
  plan_ctx *c;
} walk;

static size_t define_index(const plan *p, const char *name) {
  for (size_t i = 0; i < p->ndefines; i++)
    if (strcmp(p->defines[i].name, name) == 0) return i;
  return (size_t)-1;
}

static void visit(walk *w, size_t i);

typedef struct {
  walk *w;
} refs_user;

static bool on_node(const expr_node *n, void *user) {
  walk *w = ((refs_user *)user)->w;
  if (expr_node_kind(n) != EXPR_SELECTOR) return true;
  size_t k = define_index(w->p, expr_node_text(n));
  if (k != (size_t)-1) visit(w, k);
  return !w->reported;
}

static void report(walk *w, size_t from) {
  char route[1024] = "";
  size_t used = 0;
  for (size_t i = from; i < w->depth && used < sizeof route; i++) {
    int n = snprintf(route + used, sizeof route - used, "%s -> ", w->p->defines[w->path[i]].name);
    if (n < 0) break;
    used += (size_t)n;
  }
  const plan_define *d = &w->p->defines[w->path[from]];
  plan_diag_add(w->c, PLAN_DIAG_ERROR, d->expr.pos.line, d->expr.pos.col,
                "a define may use other defines, but none may lead back to itself",
                "define '%s' refers to itself: %s%s", d->name, route, d->name);
  w->reported = true;
}

static void visit(walk *w, size_t i) {
  if (w->reported || w->state[i] == DONE) return;
  if (w->state[i] == ON_PATH) {
    size_t from = 0;
    while (from < w->depth && w->path[from] != i) from++;
    report(w, from);
    return;
  }
  w->state[i] = ON_PATH;
  w->path[w->depth++] = i;
  refs_user u = {w};
  if (w->p->defines[i].expr.ast) expr_walk(w->p->defines[i].expr.ast, on_node, &u);
  w->depth--;
  w->state[i] = DONE;
}

void plan_check_define_cycles(plan_ctx *c, const plan *p) {
  if (p->ndefines == 0) return;
  walk w = {.p = p, .c = c};
  w.state = calloc(p->ndefines, 1);
  w.path = calloc(p->ndefines, sizeof *w.path);
  if (!w.state || !w.path) {
    plan_diag_add(c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < p->ndefines; i++) {
    w.reported = false; /* one report per cycle: its members are DONE after it */
    visit(&w, i);
  }
out:
  free(w.state);
  free(w.path);
}
