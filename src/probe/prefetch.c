/*
 * prefetch.c: before an evaluation, walk its expressions and fetch every selector,
 * promql() and sql() at once, a thread each, so a check costs its slowest probe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "probe/internal.h"

typedef struct {
  probe_ctx *ctx;
  int what; /* 0 selector, 1 promql, 2 sql */
  expr_selector sel;
  const char *a;
  const char *b;
  double timeout;
} fetch_item;

typedef struct {
  fetch_item *v;
  size_t n;
  size_t cap;
  double timeout;
  probe_ctx *ctx;
  bool nomem;
} fetch_list;

static void fetch_add(fetch_list *l, fetch_item item) {
  if (l->nomem) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    fetch_item *grown = realloc(l->v, cap * sizeof *grown);
    if (!grown) {
      l->nomem = true;
      return;
    }
    l->v = grown;
    l->cap = cap;
  }
  l->v[l->n++] = item;
}

static bool collect_node(const expr_node *node, void *user) {
  fetch_list *l = user;
  fetch_item item = {.ctx = l->ctx, .timeout = l->timeout};
  if (expr_node_kind(node) == EXPR_SELECTOR) {
    item.what = 0;
    expr_node_selector(node, &item.sel);
    fetch_add(l, item);
  } else if (expr_node_kind(node) == EXPR_CALL) {
    const char *fn = expr_node_text(node);
    size_t nc = expr_node_child_count(node);
    if (strcmp(fn, "promql") == 0 && nc == 1 && expr_node_kind(expr_node_child(node, 0)) == EXPR_STR) {
      item.what = 1;
      item.a = expr_node_text(expr_node_child(node, 0));
      fetch_add(l, item);
    } else if (strcmp(fn, "sql") == 0 && nc == 2 && expr_node_kind(expr_node_child(node, 1)) == EXPR_STR) {
      const expr_node *db = expr_node_child(node, 0);
      if (expr_node_kind(db) == EXPR_STR || expr_node_kind(db) == EXPR_SELECTOR) {
        item.what = 2;
        item.a = expr_node_text(db);
        item.b = expr_node_text(expr_node_child(node, 1));
        fetch_add(l, item);
      }
      return false; /* the db name is not a series */
    }
  }
  return true;
}

static void *fetch_thread(void *p) {
  fetch_item *item = p;
  expr_vector v = {0};
  gg_error e;
  gg_error_clear(&e);
  gg_status st;
  double t0 = gg_clock_mono();
  if (item->what == 0)
    st = probe_select_timed(item->ctx, &item->sel, item->timeout, &v, &e);
  else if (item->what == 1)
    st = probe_single_job(item->ctx, JOB_PROMQL, item->a, NULL, item->timeout, &v, &e);
  else
    st = probe_single_job(item->ctx, JOB_SQL, item->a, item->b, item->timeout, &v, &e);
  (void)st; /* failures stay in the jobs and are reported when the evaluator asks */
  expr_vector_release(&v);
  double took = gg_clock_mono() - t0;
  pthread_mutex_lock(&item->ctx->lock);
  if (took > item->ctx->slowest) {
    item->ctx->slowest = took;
    snprintf(item->ctx->slowest_what, sizeof item->ctx->slowest_what, "%s",
             item->what == 0   ? item->sel.name
             : item->what == 1 ? "promql()"
                               : "sql()");
  }
  pthread_mutex_unlock(&item->ctx->lock);
  return NULL;
}

/* expr_walk stops at a false return, so sql()'s arguments are skipped by walking the
 * tree by hand. */
static void walk(const expr_node *node, fetch_list *l) {
  if (!collect_node(node, l)) return;
  for (size_t i = 0; i < expr_node_child_count(node); i++) walk(expr_node_child(node, i), l);
}

gg_status probe_prefetch(probe_ctx *ctx, const probe_want *wants, size_t n, gg_error *err) {
  fetch_list l = {.ctx = ctx};
  for (size_t i = 0; i < n; i++) {
    if (!wants[i].expr) continue;
    l.timeout = wants[i].timeout;
    walk(wants[i].expr, &l);
  }
  if (l.nomem) {
    free(l.v);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory collecting the series to fetch");
  }
  for (size_t base = 0; base < l.n; base += PROBE_MAX_THREADS) {
    size_t m = l.n - base < PROBE_MAX_THREADS ? l.n - base : PROBE_MAX_THREADS;
    pthread_t th[PROBE_MAX_THREADS];
    bool started[PROBE_MAX_THREADS];
    for (size_t i = 0; i < m; i++) {
      started[i] = pthread_create(&th[i], NULL, fetch_thread, &l.v[base + i]) == 0;
      if (!started[i]) fetch_thread(&l.v[base + i]);
    }
    for (size_t i = 0; i < m; i++)
      if (started[i]) pthread_join(th[i], NULL);
  }
  free(l.v);
  return GG_OK;
}
