/*
 * eval.c: evaluating an AST against an expr_ctx — name resolution, vectors and
 * broadcasting, comparisons that keep their members, boolean logic.
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "expr/internal.h"

#define DEFINE_DEPTH_MAX 32
#define QUOTE_MAX 160

void expr_ctx_init(expr_ctx *ctx) {
  memset(ctx, 0, sizeof *ctx);
  ctx->now = gg_clock_now();
}

static gg_status nomem(gg_error *err) {
  return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
}

/* ---- selectors and defines ---- */

static const expr_define *find_define(const expr_ctx *ctx, const char *name) {
  for (size_t i = 0; i < ctx->n_defines; i++)
    if (ctx->defines[i].name && strcmp(ctx->defines[i].name, name) == 0) return &ctx->defines[i];
  return NULL;
}

void expr_resolved_selector_release(resolved_selector *r) {
  free(r->m);
  memset(r, 0, sizeof *r);
}

static gg_status add_matchers(resolved_selector *r, const expr_node *sel) {
  if (!sel->n_matchers) return GG_OK;
  expr_matcher *grown = realloc(r->m, (r->sel.n_matchers + sel->n_matchers) * sizeof *grown);
  if (!grown) return GG_ERR_NOMEM;
  r->m = grown;
  memcpy(r->m + r->sel.n_matchers, sel->matchers, sel->n_matchers * sizeof *grown);
  r->sel.n_matchers += sel->n_matchers;
  r->sel.matchers = r->m;
  return GG_OK;
}

gg_status expr_eval_resolve_selector(const expr_node *n, const expr_ctx *ctx, resolved_selector *r,
                                     gg_error *err) {
  memset(r, 0, sizeof *r);
  const char *seen[DEFINE_DEPTH_MAX];
  size_t n_seen = 0;
  const expr_node *cur = n;
  for (;;) {
    if (add_matchers(r, cur) != GG_OK) {
      expr_resolved_selector_release(r);
      return nomem(err);
    }
    r->sel.name = cur->text;
    const expr_define *d = find_define(ctx, cur->text);
    bool followed = false;
    for (size_t i = 0; i < n_seen; i++)
      if (strcmp(seen[i], cur->text) == 0) followed = true;
    if (!d || !d->expr || followed) return GG_OK;
    if (n_seen == DEFINE_DEPTH_MAX) {
      expr_resolved_selector_release(r);
      return gg_error_set(err, GG_ERR_EXPR, "defines nested more than %d deep at '%s'", DEFINE_DEPTH_MAX,
                          cur->text);
    }
    seen[n_seen++] = cur->text;
    if (d->expr->kind != EXPR_SELECTOR) {
      r->expr = d->expr;
      r->define_name = d->name;
      return GG_OK;
    }
    cur = d->expr;
  }
}

typedef struct {
  regex_t *rx; /* one per matcher, compiled for the regex ones */
  bool *compiled;
  size_t n;
} matcher_set;

static void matcher_set_release(matcher_set *ms) {
  for (size_t i = 0; i < ms->n; i++)
    if (ms->compiled[i]) regfree(&ms->rx[i]);
  free(ms->rx);
  free(ms->compiled);
}

static gg_status matcher_set_init(matcher_set *ms, const expr_selector *sel, gg_error *err) {
  ms->n = sel->n_matchers;
  ms->rx = calloc(ms->n ? ms->n : 1, sizeof *ms->rx);
  ms->compiled = calloc(ms->n ? ms->n : 1, sizeof *ms->compiled);
  if (!ms->rx || !ms->compiled) {
    ms->n = 0;
    matcher_set_release(ms);
    return nomem(err);
  }
  for (size_t i = 0; i < ms->n; i++) {
    const expr_matcher *m = &sel->matchers[i];
    if (m->op != EXPR_MATCH_RE && m->op != EXPR_MATCH_NOT_RE) continue;
    size_t len = strlen(m->value) + 5;
    char *pattern = malloc(len);
    if (!pattern) {
      matcher_set_release(ms);
      return nomem(err);
    }
    snprintf(pattern, len, "^(%s)$", m->value);
    int rc = regcomp(&ms->rx[i], pattern, REG_EXTENDED | REG_NOSUB);
    free(pattern);
    if (rc != 0) {
      matcher_set_release(ms);
      return gg_error_set(err, GG_ERR_EXPR, "invalid regular expression \"%s\"", m->value);
    }
    ms->compiled[i] = true;
  }
  return GG_OK;
}

static bool matcher_set_match(const matcher_set *ms, const expr_selector *sel, const expr_labels *l) {
  for (size_t i = 0; i < ms->n; i++) {
    const expr_matcher *m = &sel->matchers[i];
    const char *v = expr_labels_get(l, m->label);
    if (!v) v = ""; /* as in PromQL, a missing label matches "" */
    bool ok = true;
    switch (m->op) {
      case EXPR_MATCH_EQ:
        ok = strcmp(v, m->value) == 0;
        break;
      case EXPR_MATCH_NE:
        ok = strcmp(v, m->value) != 0;
        break;
      case EXPR_MATCH_RE:
        ok = regexec(&ms->rx[i], v, 0, NULL, 0) == 0;
        break;
      case EXPR_MATCH_NOT_RE:
        ok = regexec(&ms->rx[i], v, 0, NULL, 0) != 0;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

gg_status expr_eval_filter_vector(expr_vector *v, const expr_selector *sel, gg_error *err) {
  if (!sel->n_matchers) return GG_OK;
  matcher_set ms;
  gg_status s = matcher_set_init(&ms, sel, err);
  if (s != GG_OK) return s;
  size_t w = 0;
  for (size_t i = 0; i < v->n; i++) {
    if (matcher_set_match(&ms, sel, &v->v[i].labels)) {
      v->v[w++] = v->v[i];
    } else {
      expr_labels_release(&v->v[i].labels);
    }
  }
  v->n = w;
  matcher_set_release(&ms);
  return GG_OK;
}

gg_status expr_eval_filter_matrix(expr_matrix *m, const expr_selector *sel, gg_error *err) {
  if (!sel->n_matchers) return GG_OK;
  matcher_set ms;
  gg_status s = matcher_set_init(&ms, sel, err);
  if (s != GG_OK) return s;
  size_t w = 0;
  for (size_t i = 0; i < m->n; i++) {
    if (matcher_set_match(&ms, sel, &m->v[i].labels)) {
      m->v[w++] = m->v[i];
    } else {
      expr_labels_release(&m->v[i].labels);
      free(m->v[i].points);
    }
  }
  m->n = w;
  matcher_set_release(&ms);
  return GG_OK;
}

gg_status expr_vector_filter(expr_vector *v, const expr_selector *sel, gg_error *err) {
  return expr_eval_filter_vector(v, sel, err);
}

gg_status expr_matrix_filter(expr_matrix *m, const expr_selector *sel, gg_error *err) {
  return expr_eval_filter_matrix(m, sel, err);
}

static gg_status query_sources(const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                               gg_error *err) {
  for (size_t i = 0; i < ctx->n_sources; i++) {
    const expr_series_source *src = &ctx->sources[i];
    if (!src->select) continue;
    gg_status s = src->select(src->user, sel, ctx, out, err);
    if (s == GG_ERR_NOT_FOUND) {
      expr_vector_release(out);
      gg_error_clear(err);
      continue;
    }
    if (s != GG_OK) {
      expr_vector_release(out);
      if (err && !err->msg[0]) gg_error_set(err, s, "%s", gg_status_message(s));
      gg_error_prefix(err, "series '%s': ", sel->name);
      return s;
    }
    return expr_eval_filter_vector(out, sel, err);
  }
  return gg_error_set(err, GG_ERR_NOT_FOUND,
                      "unknown series '%s' (not a define, a built-in series or a target metric)", sel->name);
}

static gg_status eval_selector(const expr_node *n, const expr_ctx *ctx, int depth, expr_value *out,
                               gg_error *err) {
  resolved_selector r;
  gg_status s = expr_eval_resolve_selector(n, ctx, &r, err);
  if (s != GG_OK) return s;
  out->kind = EXPR_VAL_VEC;
  if (r.expr) {
    if (depth > EXPR_DEPTH_MAX * 4) { /* a define cycle: each define adds <= EXPR_DEPTH_MAX levels */
      gg_error_set(err, GG_ERR_EXPR, "define '%s' refers to itself through other defines",
                   r.define_name ? r.define_name : "?");
      expr_resolved_selector_release(&r);
      return GG_ERR_EXPR;
    }
    expr_value inner;
    expr_value_init(&inner);
    s = expr_eval_node_raw(r.expr, ctx, depth + 1, &inner, err);
    if (s == GG_OK && r.sel.n_matchers) {
      if (inner.kind != EXPR_VAL_VEC) {
        s = gg_error_set(err, GG_ERR_EXPR, "'%s' has label matchers but define '%s' is not a vector", n->text,
                         r.define_name);
      } else {
        s = expr_eval_filter_vector(&inner.vec, &r.sel, err);
      }
    }
    if (s == GG_OK) {
      *out = inner;
    } else {
      expr_value_release(&inner);
    }
  } else {
    s = query_sources(&r.sel, ctx, &out->vec, err);
  }
  expr_resolved_selector_release(&r);
  return s;
}

/* ---- arithmetic ---- */

static const char *kind_name(expr_value_kind k) {
  static const char *const words[EXPR_VAL_COUNT] = {
#define EXPR_VALUE_KIND_WORD(name, key, word) word,
      EXPR_VALUE_KIND_MAP(EXPR_VALUE_KIND_WORD)
#undef EXPR_VALUE_KIND_WORD
  };
  return (unsigned)k < EXPR_VAL_COUNT ? words[k] : "value";
}

static char arith_unit(expr_op op, char a, char b) {
  switch (op) {
    case EXPR_OP_ADD:
    case EXPR_OP_SUB:
    case EXPR_OP_MOD:
      return a ? a : b;
    case EXPR_OP_MUL:
      return a && b ? 0 : (a ? a : b);
    case EXPR_OP_DIV:
      return b ? 0 : a; /* a ratio of two sizes is a plain number */
    default:
      return 0;
  }
}

/* One arithmetic step; GG_ERR_RANGE for division by zero, GG_ERR_INVALID for NaN,
 * GG_ERR_OVERFLOW when finite operands give an infinite result. */
static gg_status arith(expr_op op, double a, double b, double *r) {
  switch (op) {
    case EXPR_OP_ADD:
      *r = a + b;
      break;
    case EXPR_OP_SUB:
      *r = a - b;
      break;
    case EXPR_OP_MUL:
      *r = a * b;
      break;
    case EXPR_OP_DIV:
      if (b == 0) return GG_ERR_RANGE;
      *r = a / b;
      break;
    case EXPR_OP_MOD:
      if (b == 0) return GG_ERR_RANGE;
      *r = fmod(a, b);
      break;
    default:
      return GG_ERR_INVALID;
  }
  if (isnan(*r)) return GG_ERR_INVALID;
  /* Finite operands with an infinite result overflowed: +Inf would pass every '>' comparison. */
  if (isinf(*r) && isfinite(a) && isfinite(b)) return GG_ERR_OVERFLOW;
  return GG_OK;
}

static gg_status arith_error(gg_status why, const expr_node *n, const expr_labels *l, gg_error *err) {
  char q[QUOTE_MAX], lab[256] = "";
  expr_node_quote(n, q, sizeof q);
  if (l && l->n) {
    char tmp[240];
    snprintf(lab, sizeof lab, " for %s", expr_labels_format(l, tmp, sizeof tmp));
  }
  if (why == GG_ERR_RANGE) return gg_error_set(err, GG_ERR_EXPR, "division by zero in '%s'%s", q, lab);
  if (why == GG_ERR_OVERFLOW)
    return gg_error_set(err, GG_ERR_EXPR, "'%s' overflows (the result is too large to be a number)%s", q,
                        lab);
  return gg_error_set(err, GG_ERR_EXPR, "'%s' is not a number%s", q, lab);
}

static gg_status eval_arith(const expr_node *n, expr_value *l, expr_value *r, expr_value *out,
                            gg_error *err) {
  if (l->kind != EXPR_VAL_NUM && l->kind != EXPR_VAL_VEC) {
    char q[QUOTE_MAX];
    return gg_error_set(err, GG_ERR_EXPR, "cannot apply '%s' to a %s in '%s'", expr_op_text(n->op),
                        kind_name(l->kind), expr_node_quote(n, q, sizeof q));
  }
  if (r->kind != EXPR_VAL_NUM && r->kind != EXPR_VAL_VEC) {
    char q[QUOTE_MAX];
    return gg_error_set(err, GG_ERR_EXPR, "cannot apply '%s' to a %s in '%s'", expr_op_text(n->op),
                        kind_name(r->kind), expr_node_quote(n, q, sizeof q));
  }
  out->unit = arith_unit(n->op, l->unit, r->unit);
  gg_status s;
  if (l->kind == EXPR_VAL_NUM && r->kind == EXPR_VAL_NUM) {
    out->kind = EXPR_VAL_NUM;
    s = arith(n->op, l->num, r->num, &out->num);
    return s == GG_OK ? GG_OK : arith_error(s, n, NULL, err);
  }
  out->kind = EXPR_VAL_VEC;
  if (l->kind == EXPR_VAL_VEC && r->kind == EXPR_VAL_VEC) {
    bool one_to_one = l->vec.n == 1 && r->vec.n == 1;
    for (size_t i = 0; i < l->vec.n; i++) {
      const expr_sample *a = &l->vec.v[i];
      const expr_sample *b = NULL;
      for (size_t j = 0; j < r->vec.n; j++) {
        if (!one_to_one && !expr_labels_equal_ignoring_name(&a->labels, &r->vec.v[j].labels)) continue;
        if (b) {
          char q[QUOTE_MAX], tmp[240];
          return gg_error_set(err, GG_ERR_EXPR, "right side of '%s' has several members with labels %s",
                              expr_node_quote(n, q, sizeof q),
                              expr_labels_format(&a->labels, tmp, sizeof tmp));
        }
        b = &r->vec.v[j];
      }
      if (!b) continue;
      double v = 0;
      if ((s = arith(n->op, a->value, b->value, &v)) != GG_OK) return arith_error(s, n, &a->labels, err);
      expr_labels l2;
      if (expr_labels_without_name(&l2, &a->labels) != GG_OK) return nomem(err);
      s = expr_vector_add_labels(&out->vec, v, a->ts > b->ts ? a->ts : b->ts, &l2);
      expr_labels_release(&l2);
      if (s != GG_OK) return nomem(err);
    }
    if (out->vec.n == 0) {
      char q[QUOTE_MAX];
      return gg_error_set(err, GG_ERR_NO_DATA, "no data for '%s': no label set appears on both sides",
                          expr_node_quote(n, q, sizeof q));
    }
    return GG_OK;
  }
  const expr_vector *vec = l->kind == EXPR_VAL_VEC ? &l->vec : &r->vec;
  for (size_t i = 0; i < vec->n; i++) {
    const expr_sample *m = &vec->v[i];
    double a = l->kind == EXPR_VAL_VEC ? m->value : l->num;
    double b = r->kind == EXPR_VAL_VEC ? m->value : r->num;
    double v = 0;
    if ((s = arith(n->op, a, b, &v)) != GG_OK) return arith_error(s, n, &m->labels, err);
    expr_labels l2;
    if (expr_labels_without_name(&l2, &m->labels) != GG_OK) return nomem(err);
    s = expr_vector_add_labels(&out->vec, v, m->ts, &l2);
    expr_labels_release(&l2);
    if (s != GG_OK) return nomem(err);
  }
  return GG_OK;
}

/* ---- comparisons ---- */

static bool compare(expr_op op, double a, double b) {
  switch (op) {
    case EXPR_OP_LT:
      return a < b;
    case EXPR_OP_LE:
      return a <= b;
    case EXPR_OP_GT:
      return a > b;
    case EXPR_OP_GE:
      return a >= b;
    case EXPR_OP_EQ:
      return a == b;
    case EXPR_OP_NE:
      return !isnan(a) && !isnan(b) && a != b;
    default:
      return false;
  }
}

static gg_status add_member(expr_value *out, const expr_labels *l, double a, double b, expr_op op,
                            char unit) {
  expr_member *grown = realloc(out->members, (out->n_members + 1) * sizeof *grown);
  if (!grown) return GG_ERR_NOMEM;
  out->members = grown;
  expr_member *m = &out->members[out->n_members];
  memset(m, 0, sizeof *m);
  if (l && expr_labels_without_name(&m->labels, l) != GG_OK) return GG_ERR_NOMEM;
  m->value = a;
  m->threshold = b;
  m->op = op;
  m->unit = unit;
  m->ok = compare(op, a, b);
  if (!m->ok) out->n_failed++;
  out->n_members++;
  return GG_OK;
}

static gg_status eval_compare(const expr_node *n, expr_value *l, expr_value *r, expr_value *out,
                              gg_error *err) {
  out->kind = EXPR_VAL_BOOL;
  char unit = l->unit ? l->unit : r->unit;
  out->unit = unit;
  char q[QUOTE_MAX];
  if (l->kind == EXPR_VAL_STR || r->kind == EXPR_VAL_STR || l->kind == EXPR_VAL_BOOL ||
      r->kind == EXPR_VAL_BOOL) {
    if (l->kind != r->kind)
      return gg_error_set(err, GG_ERR_EXPR, "cannot compare a %s with a %s in '%s'", kind_name(l->kind),
                          kind_name(r->kind), expr_node_quote(n, q, sizeof q));
    int c = 0;
    if (l->kind == EXPR_VAL_STR) {
      c = strcmp(l->str, r->str);
    } else {
      if (n->op != EXPR_OP_EQ && n->op != EXPR_OP_NE)
        return gg_error_set(err, GG_ERR_EXPR, "booleans compare only with == and != in '%s'",
                            expr_node_quote(n, q, sizeof q));
      c = (int)l->truth - (int)r->truth;
    }
    out->truth = compare(n->op, (double)c, 0);
    out->n_failed = out->truth ? 0 : 1;
    return GG_OK;
  }
  gg_status s = GG_OK;
  if (l->kind == EXPR_VAL_NUM && r->kind == EXPR_VAL_NUM) {
    s = add_member(out, NULL, l->num, r->num, n->op, unit);
  } else if (l->kind == EXPR_VAL_VEC && r->kind == EXPR_VAL_VEC) {
    bool one_to_one = l->vec.n == 1 && r->vec.n == 1;
    for (size_t i = 0; s == GG_OK && i < l->vec.n; i++) {
      for (size_t j = 0; s == GG_OK && j < r->vec.n; j++) {
        if (one_to_one || expr_labels_equal_ignoring_name(&l->vec.v[i].labels, &r->vec.v[j].labels))
          s = add_member(out, &l->vec.v[i].labels, l->vec.v[i].value, r->vec.v[j].value, n->op, unit);
      }
    }
    if (s == GG_OK && out->n_members == 0)
      return gg_error_set(err, GG_ERR_NO_DATA, "no data for '%s': no label set appears on both sides",
                          expr_node_quote(n, q, sizeof q));
  } else {
    const expr_vector *vec = l->kind == EXPR_VAL_VEC ? &l->vec : &r->vec;
    for (size_t i = 0; s == GG_OK && i < vec->n; i++) {
      double a = l->kind == EXPR_VAL_VEC ? vec->v[i].value : l->num;
      double b = r->kind == EXPR_VAL_VEC ? vec->v[i].value : r->num;
      s = add_member(out, &vec->v[i].labels, a, b, n->op, unit);
    }
  }
  if (s != GG_OK) return nomem(err);
  out->truth = out->n_failed == 0 && out->n_members > 0;
  return GG_OK;
}

/* ---- booleans ---- */

static expr_op negate_op(expr_op op) {
  switch (op) {
    case EXPR_OP_LT:
      return EXPR_OP_GE;
    case EXPR_OP_LE:
      return EXPR_OP_GT;
    case EXPR_OP_GT:
      return EXPR_OP_LE;
    case EXPR_OP_GE:
      return EXPR_OP_LT;
    case EXPR_OP_EQ:
      return EXPR_OP_NE;
    case EXPR_OP_NE:
      return EXPR_OP_EQ;
    default:
      return op;
  }
}

static gg_status need_bool(const expr_node *n, const expr_value *v, const char *what, gg_error *err) {
  if (v->kind == EXPR_VAL_BOOL) return GG_OK;
  char q[QUOTE_MAX];
  return gg_error_set(err, GG_ERR_EXPR, "'%s' takes booleans (a comparison), got a %s in '%s'", what,
                      kind_name(v->kind), expr_node_quote(n, q, sizeof q));
}

static gg_status eval_logic(const expr_node *n, expr_value *l, expr_value *r, expr_value *out,
                            gg_error *err) {
  gg_status s = need_bool(n, l, expr_op_text(n->op), err);
  if (s == GG_OK) s = need_bool(n, r, expr_op_text(n->op), err);
  if (s != GG_OK) return s;
  out->kind = EXPR_VAL_BOOL;
  out->truth = n->op == EXPR_OP_AND ? (l->truth && r->truth) : (l->truth || r->truth);
  size_t total = l->n_members + r->n_members;
  if (total) {
    out->members = malloc(total * sizeof *out->members);
    if (!out->members) return nomem(err);
    if (l->n_members) memcpy(out->members, l->members, l->n_members * sizeof *out->members);
    if (r->n_members) memcpy(out->members + l->n_members, r->members, r->n_members * sizeof *out->members);
    out->n_members = total;
    out->n_failed = l->n_failed + r->n_failed;
    /* The members' labels moved into out. */
    free(l->members);
    free(r->members);
    l->members = r->members = NULL;
    l->n_members = r->n_members = 0;
  }
  out->unit = l->unit ? l->unit : r->unit;
  return GG_OK;
}

/* ---- the walk ---- */

/* A comparison, possibly under `not`s: its members are one comparison's. */
static bool is_comparison(const expr_node *n) {
  while (n->kind == EXPR_NOT) n = n->kids[0];
  return n->kind == EXPR_BINARY && n->op >= EXPR_OP_LT && n->op <= EXPR_OP_NE;
}

gg_status expr_eval_node_raw(const expr_node *n, const expr_ctx *ctx, int depth, expr_value *out,
                             gg_error *err) {
  expr_value_init(out);
  if (depth > EXPR_DEPTH_MAX * 8) return gg_error_set(err, GG_ERR_EXPR, "expression nested too deeply");
  gg_status s = GG_OK;
  switch (n->kind) {
    case EXPR_NUM:
      out->num = n->value;
      out->unit = n->unit_kind;
      return GG_OK;
    case EXPR_STR:
      out->kind = EXPR_VAL_STR;
      out->str = strdup(n->text);
      return out->str ? GG_OK : nomem(err);
    case EXPR_SELECTOR:
      s = eval_selector(n, ctx, depth, out, err);
      break;
    case EXPR_CALL:
      s = n->fn->eval(n, ctx, depth, out, err);
      break;
    case EXPR_NEG: {
      if ((s = expr_eval_node(n->kids[0], ctx, depth + 1, out, err)) != GG_OK) break;
      if (out->kind == EXPR_VAL_NUM) {
        out->num = -out->num;
      } else if (out->kind == EXPR_VAL_VEC) {
        for (size_t i = 0; i < out->vec.n; i++) out->vec.v[i].value = -out->vec.v[i].value;
      } else {
        char q[QUOTE_MAX];
        s = gg_error_set(err, GG_ERR_EXPR, "cannot negate a %s in '%s'", kind_name(out->kind),
                         expr_node_quote(n, q, sizeof q));
      }
      break;
    }
    case EXPR_NOT: {
      if ((s = expr_eval_node(n->kids[0], ctx, depth + 1, out, err)) != GG_OK) break;
      if ((s = need_bool(n, out, "not", err)) != GG_OK) break;
      out->n_failed = 0;
      for (size_t i = 0; i < out->n_members; i++) {
        expr_member *m = &out->members[i];
        m->op = negate_op(m->op);
        m->ok = !m->ok;
        if (!m->ok) out->n_failed++;
      }
      /* On a comparison `not` works member by member: `not v > 20GB` holds when every
       * member is <= 20GB. On anything else it negates the truth value. */
      if (is_comparison(n->kids[0]) && out->n_members) {
        out->truth = out->n_failed == 0;
      } else {
        out->truth = !out->truth;
        if (!out->n_members) out->n_failed = out->truth ? 0 : 1;
      }
      break;
    }
    case EXPR_BINARY: {
      expr_value l, r;
      expr_value_init(&l);
      expr_value_init(&r);
      s = expr_eval_node(n->kids[0], ctx, depth + 1, &l, err);
      if (s == GG_OK) s = expr_eval_node(n->kids[1], ctx, depth + 1, &r, err);
      if (s == GG_OK) {
        switch (n->op) {
          case EXPR_OP_AND:
          case EXPR_OP_OR:
            s = eval_logic(n, &l, &r, out, err);
            break;
          case EXPR_OP_LT:
          case EXPR_OP_LE:
          case EXPR_OP_GT:
          case EXPR_OP_GE:
          case EXPR_OP_EQ:
          case EXPR_OP_NE:
            s = eval_compare(n, &l, &r, out, err);
            break;
          default:
            s = eval_arith(n, &l, &r, out, err);
            break;
        }
      }
      expr_value_release(&l);
      expr_value_release(&r);
      break;
    }
  }
  if (s != GG_OK) expr_value_release(out);
  return s;
}

gg_status expr_eval_node(const expr_node *n, const expr_ctx *ctx, int depth, expr_value *out, gg_error *err) {
  gg_status s = expr_eval_node_raw(n, ctx, depth, out, err);
  if (s == GG_OK && out->kind == EXPR_VAL_VEC && out->vec.n == 0) {
    char q[QUOTE_MAX];
    expr_value_release(out);
    return gg_error_set(err, GG_ERR_NO_DATA, "no data for '%s'", expr_node_quote(n, q, sizeof q));
  }
  return s;
}

gg_status expr_eval(const expr_node *node, const expr_ctx *ctx, expr_value *out, gg_error *err) {
  expr_value_init(out);
  if (!node || !ctx) return gg_error_set(err, GG_ERR_INVALID, "nothing to evaluate");
  return expr_eval_node(node, ctx, 0, out, err);
}
