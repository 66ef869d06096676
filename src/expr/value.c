/*
 * value.c: label sets, vectors, matrices and expression values.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/internal.h"

static const char *const value_kind_names[EXPR_VAL_COUNT] = {
#define EXPR_VALUE_KIND_KEY(name, key, word) key,
    EXPR_VALUE_KIND_MAP(EXPR_VALUE_KIND_KEY)
#undef EXPR_VALUE_KIND_KEY
};

const char *expr_value_kind_name(expr_value_kind k) {
  return (unsigned)k < EXPR_VAL_COUNT ? value_kind_names[k] : "?";
}

void expr_value_init(expr_value *v) {
  memset(v, 0, sizeof *v);
  v->kind = EXPR_VAL_NUM;
}

void expr_value_release(expr_value *v) {
  if (!v) return;
  free(v->str);
  expr_vector_release(&v->vec);
  for (size_t i = 0; i < v->n_members; i++) expr_labels_release(&v->members[i].labels);
  free(v->members);
  expr_value_init(v);
}

void expr_labels_release(expr_labels *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].name);
    free(l->v[i].value);
  }
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

const char *expr_labels_get(const expr_labels *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, name) == 0) return l->v[i].value;
  return NULL;
}

gg_status expr_labels_set(expr_labels *l, const char *name, const char *value) {
  size_t at = 0;
  while (at < l->n && strcmp(l->v[at].name, name) < 0) at++;
  char *v = strdup(value);
  if (!v) return GG_ERR_NOMEM;
  if (at < l->n && strcmp(l->v[at].name, name) == 0) {
    free(l->v[at].value);
    l->v[at].value = v;
    return GG_OK;
  }
  char *k = strdup(name);
  expr_label *grown = k ? realloc(l->v, (l->n + 1) * sizeof *grown) : NULL;
  if (!grown) {
    free(k);
    free(v);
    return GG_ERR_NOMEM;
  }
  l->v = grown;
  memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof *grown);
  l->v[at].name = k;
  l->v[at].value = v;
  l->n++;
  return GG_OK;
}

gg_status expr_labels_copy(expr_labels *dst, const expr_labels *src) {
  dst->v = NULL;
  dst->n = 0;
  for (size_t i = 0; i < src->n; i++) {
    if (expr_labels_set(dst, src->v[i].name, src->v[i].value) != GG_OK) {
      expr_labels_release(dst);
      return GG_ERR_NOMEM;
    }
  }
  return GG_OK;
}

gg_status expr_labels_without_name(expr_labels *dst, const expr_labels *src) {
  dst->v = NULL;
  dst->n = 0;
  for (size_t i = 0; i < src->n; i++) {
    if (strcmp(src->v[i].name, "__name__") == 0) continue;
    if (expr_labels_set(dst, src->v[i].name, src->v[i].value) != GG_OK) {
      expr_labels_release(dst);
      return GG_ERR_NOMEM;
    }
  }
  return GG_OK;
}

bool expr_labels_equal_ignoring_name(const expr_labels *a, const expr_labels *b) {
  size_t i = 0, j = 0;
  for (;;) {
    while (i < a->n && strcmp(a->v[i].name, "__name__") == 0) i++;
    while (j < b->n && strcmp(b->v[j].name, "__name__") == 0) j++;
    if (i == a->n || j == b->n) return i == a->n && j == b->n;
    if (strcmp(a->v[i].name, b->v[j].name) != 0 || strcmp(a->v[i].value, b->v[j].value) != 0) return false;
    i++;
    j++;
  }
}

char *expr_labels_format(const expr_labels *l, char *out, size_t n) {
  if (n == 0) return out;
  size_t w = 0;
  int k = snprintf(out, n, "{");
  w = k > 0 ? (size_t)k : 0;
  for (size_t i = 0; i < l->n && w < n; i++) {
    k = snprintf(out + w, n - w, "%s%s=\"%s\"", i ? ", " : "", l->v[i].name, l->v[i].value);
    if (k < 0) break;
    w += (size_t)k;
  }
  if (w < n) snprintf(out + w, n - w, "}");
  return out;
}

void expr_vector_release(expr_vector *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) expr_labels_release(&v->v[i].labels);
  free(v->v);
  v->v = NULL;
  v->n = 0;
  v->cap = 0;
}

static expr_sample *vector_push(expr_vector *v) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 4;
    expr_sample *grown = realloc(v->v, cap * sizeof *grown);
    if (!grown) return NULL;
    v->v = grown;
    v->cap = cap;
  }
  expr_sample *s = &v->v[v->n];
  memset(s, 0, sizeof *s);
  return s;
}

gg_status expr_vector_add_labels(expr_vector *v, double value, double ts, const expr_labels *l) {
  expr_sample *s = vector_push(v);
  if (!s) return GG_ERR_NOMEM;
  if (l && expr_labels_copy(&s->labels, l) != GG_OK) return GG_ERR_NOMEM;
  s->value = value;
  s->ts = ts;
  v->n++;
  return GG_OK;
}

gg_status expr_vector_add(expr_vector *v, double value, double ts, ...) {
  expr_sample *s = vector_push(v);
  if (!s) return GG_ERR_NOMEM;
  va_list ap;
  va_start(ap, ts);
  gg_status st = GG_OK;
  for (;;) {
    const char *name = va_arg(ap, const char *);
    if (!name) break;
    const char *val = va_arg(ap, const char *);
    if (st == GG_OK) st = expr_labels_set(&s->labels, name, val ? val : "");
  }
  va_end(ap);
  if (st != GG_OK) {
    expr_labels_release(&s->labels);
    return st;
  }
  s->value = value;
  s->ts = ts;
  v->n++;
  return GG_OK;
}

void expr_matrix_release(expr_matrix *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    expr_labels_release(&m->v[i].labels);
    free(m->v[i].points);
  }
  free(m->v);
  m->v = NULL;
  m->n = 0;
  m->cap = 0;
}

gg_status expr_matrix_add(expr_matrix *m, const expr_labels *labels, const expr_point *points, size_t n) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 4;
    expr_series *grown = realloc(m->v, cap * sizeof *grown);
    if (!grown) return GG_ERR_NOMEM;
    m->v = grown;
    m->cap = cap;
  }
  expr_series *s = &m->v[m->n];
  memset(s, 0, sizeof *s);
  if (labels && expr_labels_copy(&s->labels, labels) != GG_OK) return GG_ERR_NOMEM;
  if (n) {
    s->points = malloc(n * sizeof *points);
    if (!s->points) {
      expr_labels_release(&s->labels);
      return GG_ERR_NOMEM;
    }
    memcpy(s->points, points, n * sizeof *points);
  }
  s->n = n;
  m->n++;
  return GG_OK;
}
