/*
 * functions.c: the function table of the language and each function's evaluation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "expr/internal.h"

#define QUOTE_MAX 160
#define FILES_MATCHING_MAX 1000000

static gg_status nomem(gg_error *err) {
  return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
}

/* ---- aggregations ---- */

typedef enum { AGG_MIN, AGG_MAX, AGG_SUM, AGG_AVG, AGG_COUNT } agg_kind;

static gg_status aggregate(const expr_node *call, const expr_ctx *ctx, int depth, agg_kind kind,
                           expr_value *out, gg_error *err) {
  expr_value arg;
  gg_status s = kind == AGG_COUNT ? expr_eval_node_raw(call->kids[0], ctx, depth + 1, &arg, err)
                                  : expr_eval_node(call->kids[0], ctx, depth + 1, &arg, err);
  if (s != GG_OK) return s;
  expr_value_init(out);
  out->unit = kind == AGG_COUNT ? 0 : arg.unit;
  if (arg.kind == EXPR_VAL_NUM) {
    out->num = kind == AGG_COUNT ? 1 : arg.num;
  } else if (arg.kind == EXPR_VAL_VEC) {
    double acc = kind == AGG_MIN ? INFINITY : (kind == AGG_MAX ? -INFINITY : 0);
    for (size_t i = 0; i < arg.vec.n; i++) {
      double v = arg.vec.v[i].value;
      switch (kind) {
        case AGG_MIN:
          acc = v < acc || isnan(v) ? v : acc;
          break;
        case AGG_MAX:
          acc = v > acc || isnan(v) ? v : acc;
          break;
        case AGG_SUM:
        case AGG_AVG:
          acc += v;
          break;
        case AGG_COUNT:
          acc += 1;
          break;
      }
    }
    if (kind == AGG_AVG) acc /= (double)arg.vec.n; /* n > 0: expr_eval_node refused empty vectors */
    out->num = acc;
  } else {
    char q[QUOTE_MAX];
    expr_node_quote(call, q, sizeof q);
    expr_value_release(&arg);
    return gg_error_set(err, GG_ERR_EXPR, "%s() takes a vector or a number in '%s'", call->text, q);
  }
  expr_value_release(&arg);
  return GG_OK;
}

static gg_status fn_min(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return aggregate(c, x, d, AGG_MIN, o, e);
}
static gg_status fn_max(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return aggregate(c, x, d, AGG_MAX, o, e);
}
static gg_status fn_sum(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return aggregate(c, x, d, AGG_SUM, o, e);
}
static gg_status fn_avg(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return aggregate(c, x, d, AGG_AVG, o, e);
}
static gg_status fn_count(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return aggregate(c, x, d, AGG_COUNT, o, e);
}

static gg_status fn_abs(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                        gg_error *err) {
  gg_status s = expr_eval_node(call->kids[0], ctx, depth + 1, out, err);
  if (s != GG_OK) return s;
  if (out->kind == EXPR_VAL_NUM) {
    out->num = fabs(out->num);
  } else if (out->kind == EXPR_VAL_VEC) {
    for (size_t i = 0; i < out->vec.n; i++) out->vec.v[i].value = fabs(out->vec.v[i].value);
  } else {
    expr_value_release(out);
    return gg_error_set(err, GG_ERR_EXPR, "abs() takes a vector or a number");
  }
  return GG_OK;
}

static gg_status fn_absent(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                           gg_error *err) {
  expr_value arg;
  gg_status s = expr_eval_node_raw(call->kids[0], ctx, depth + 1, &arg, err);
  if (s != GG_OK) return s;
  expr_value_init(out);
  out->kind = EXPR_VAL_BOOL;
  out->truth = arg.kind == EXPR_VAL_VEC && arg.vec.n == 0;
  out->n_failed = out->truth ? 0 : 1;
  expr_value_release(&arg);
  return GG_OK;
}

static gg_status fn_age(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                        gg_error *err) {
  gg_status s = expr_eval_node(call->kids[0], ctx, depth + 1, out, err);
  if (s != GG_OK) return s;
  if (out->kind == EXPR_VAL_NUM) {
    out->num = ctx->now - out->num;
  } else if (out->kind == EXPR_VAL_VEC) {
    for (size_t i = 0; i < out->vec.n; i++) out->vec.v[i].value = ctx->now - out->vec.v[i].value;
  } else {
    expr_value_release(out);
    return gg_error_set(err, GG_ERR_EXPR, "age() takes timestamps (a vector or a number)");
  }
  out->unit = 'd';
  return GG_OK;
}

/* ---- history: rate, increase, delta, *_over_time ---- */

typedef enum { H_RATE, H_INCREASE, H_DELTA, H_MIN, H_MAX, H_AVG } history_fn;

/* Prometheus' extrapolatedRate (promql/functions.go): the change over the sampled
 * interval, corrected for counter resets, extrapolated to the range boundaries unless
 * the series starts or ends well inside it. Returns the extrapolated change. */
static double extrapolated_change(const expr_point *p, size_t n, double start, double end, bool counter) {
  double result = p[n - 1].v - p[0].v;
  if (counter) {
    for (size_t i = 1; i < n; i++)
      if (p[i].v < p[i - 1].v) result += p[i - 1].v;
  }
  double to_start = p[0].t - start;
  double to_end = end - p[n - 1].t;
  double sampled = p[n - 1].t - p[0].t;
  if (sampled <= 0) return result;
  double avg_step = sampled / (double)(n - 1);
  if (counter && result > 0 && p[0].v >= 0) {
    double to_zero = sampled * (p[0].v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  double threshold = avg_step * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? (to_start > 0 ? to_start : 0) : avg_step / 2;
  interval += to_end < threshold ? (to_end > 0 ? to_end : 0) : avg_step / 2;
  return result * (interval / sampled);
}

static gg_status history(const expr_node *call, const expr_ctx *ctx, int depth, history_fn fn,
                         expr_value *out, gg_error *err) {
  char q[QUOTE_MAX];
  expr_node_quote(call, q, sizeof q);
  expr_value w;
  gg_status s = expr_eval_node(call->kids[1], ctx, depth + 1, &w, err);
  if (s != GG_OK) return s;
  double window = w.num;
  bool ok = w.kind == EXPR_VAL_NUM && window > 0 && isfinite(window);
  expr_value_release(&w);
  if (!ok)
    return gg_error_set(err, GG_ERR_EXPR, "the window of '%s' must be a positive duration such as 5m", q);
  resolved_selector r;
  if ((s = expr_eval_resolve_selector(call->kids[0], ctx, &r, err)) != GG_OK) return s;
  if (r.expr) {
    s = gg_error_set(err, GG_ERR_EXPR, "%s() needs a series, but '%s' is defined as an expression",
                     call->text, r.define_name);
    expr_resolved_selector_release(&r);
    return s;
  }
  if (!ctx->history || !ctx->history->range) {
    expr_resolved_selector_release(&r);
    return gg_error_set(err, GG_ERR_NO_DATA, "'%s' needs history and none is available here", q);
  }
  expr_history_use use = fn <= H_DELTA ? EXPR_HISTORY_CHANGE : EXPR_HISTORY_OVER_TIME;
  expr_matrix m;
  memset(&m, 0, sizeof m);
  s = ctx->history->range(ctx->history->user, &r.sel, window, use, ctx, &m, err);
  if (s == GG_OK) s = expr_eval_filter_matrix(&m, &r.sel, err);
  expr_resolved_selector_release(&r);
  if (s != GG_OK) {
    expr_matrix_release(&m);
    gg_error_prefix(err, "%s: ", q);
    return s;
  }
  double start = m.range_start, end = m.range_end;
  if (start == 0 && end == 0) {
    start = ctx->now - window;
    end = ctx->now;
  }
  expr_value_init(out);
  out->kind = EXPR_VAL_VEC;
  for (size_t i = 0; s == GG_OK && i < m.n; i++) {
    const expr_series *ser = &m.v[i];
    size_t need = use == EXPR_HISTORY_CHANGE ? 2 : 1;
    if (ser->n < need) {
      char lab[240];
      s = gg_error_set(err, GG_ERR_NO_DATA, "%s: insufficient history for %s: have %zu sample%s, need %zu", q,
                       expr_labels_format(&ser->labels, lab, sizeof lab), ser->n, ser->n == 1 ? "" : "s",
                       need);
      break;
    }
    double v = 0;
    switch (fn) {
      case H_RATE:
      case H_INCREASE: {
        double span = end - start;
        if (span <= 0) span = window;
        double per_second = extrapolated_change(ser->points, ser->n, start, end, true) / span;
        v = fn == H_RATE ? per_second : per_second * window;
        break;
      }
      case H_DELTA: {
        double span = end - start;
        if (span <= 0) span = window;
        v = extrapolated_change(ser->points, ser->n, start, end, false) / span * window;
        break;
      }
      case H_MIN:
      case H_MAX:
      case H_AVG: {
        double acc = ser->points[0].v;
        for (size_t k = 1; k < ser->n; k++) {
          double x = ser->points[k].v;
          if (fn == H_MIN && x < acc) acc = x;
          if (fn == H_MAX && x > acc) acc = x;
          if (fn == H_AVG) acc += x;
        }
        v = fn == H_AVG ? acc / (double)ser->n : acc;
        break;
      }
    }
    expr_labels l2;
    if (expr_labels_without_name(&l2, &ser->labels) != GG_OK) {
      s = nomem(err);
      break;
    }
    if (expr_vector_add_labels(&out->vec, v, ser->points[ser->n - 1].t, &l2) != GG_OK) s = nomem(err);
    expr_labels_release(&l2);
  }
  expr_matrix_release(&m);
  if (s != GG_OK) expr_value_release(out);
  return s;
}

static gg_status fn_rate(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return history(c, x, d, H_RATE, o, e);
}
static gg_status fn_increase(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return history(c, x, d, H_INCREASE, o, e);
}
static gg_status fn_delta(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return history(c, x, d, H_DELTA, o, e);
}
static gg_status fn_min_over_time(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return history(c, x, d, H_MIN, o, e);
}
static gg_status fn_max_over_time(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return history(c, x, d, H_MAX, o, e);
}
static gg_status fn_avg_over_time(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return history(c, x, d, H_AVG, o, e);
}

/* ---- calendar ---- */

static gg_status local_now(const expr_node *call, const expr_ctx *ctx, struct tm *tm, gg_error *err) {
  if (!expr_calendar_local_tm(ctx->now, tm))
    return gg_error_set(err, GG_ERR_RANGE, "%s(): cannot convert now (%.3f) to local time", call->text,
                        ctx->now);
  return GG_OK;
}

static gg_status fn_now(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                        gg_error *err) {
  expr_value_init(out);
  out->num = ctx->now;
  return GG_OK;
}

static gg_status fn_hour(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                         gg_error *err) {
  struct tm tm;
  expr_value_init(out);
  gg_status s = local_now(call, ctx, &tm, err);
  if (s == GG_OK) out->num = tm.tm_hour;
  return s;
}

static gg_status fn_weekday(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                            gg_error *err) {
  struct tm tm;
  expr_value_init(out);
  gg_status s = local_now(call, ctx, &tm, err);
  if (s == GG_OK) out->num = tm.tm_wday == 0 ? 7 : tm.tm_wday;
  return s;
}

static gg_status fn_holiday(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                            gg_error *err) {
  expr_value_init(out);
  out->kind = EXPR_VAL_BOOL;
  out->truth = expr_calendar_is_holiday(ctx->calendar, ctx->now);
  out->n_failed = out->truth ? 0 : 1;
  return GG_OK;
}

static gg_status window_value(const expr_node *call, const expr_ctx *ctx, const expr_window *w,
                              expr_value *out, gg_error *err) {
  struct tm tm;
  expr_value_init(out);
  gg_status s = local_now(call, ctx, &tm, err);
  if (s != GG_OK) return s;
  out->kind = EXPR_VAL_BOOL;
  out->truth = expr_window_contains(w, &tm);
  out->n_failed = out->truth ? 0 : 1;
  return GG_OK;
}

static gg_status fn_in_window(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                              gg_error *err) {
  expr_window *w = NULL;
  gg_status s = expr_window_parse(call->kids[0]->text, &w, NULL, err);
  if (s != GG_OK) return s;
  s = window_value(call, ctx, w, out, err);
  expr_window_free(w);
  return s;
}

static gg_status fn_frozen(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                           gg_error *err) {
  expr_value_init(out);
  out->kind = EXPR_VAL_BOOL;
  out->truth = expr_calendar_is_frozen(ctx->calendar, ctx->now);
  out->n_failed = out->truth ? 0 : 1;
  return GG_OK;
}

static gg_status fn_window(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                           gg_error *err) {
  const char *name = call->kids[0]->text;
  const expr_window *w = expr_calendar_window(ctx->calendar, name);
  if (!w)
    return gg_error_set(err, GG_ERR_INVALID, "window(\"%s\"): no calendar.windows entry of that name", name);
  return window_value(call, ctx, w, out, err);
}

static gg_status fn_off_hours(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                              gg_error *err) {
  const expr_window *w = expr_calendar_off_hours(ctx->calendar);
  if (!w) return gg_error_set(err, GG_ERR_INVALID, "off_hours() needs calendar.off_hours in the plan");
  return window_value(call, ctx, w, out, err);
}

/* ---- the file system ---- */

static gg_status fn_files_matching(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                                   gg_error *err) {
  const char *re = call->kids[0]->text;
  const char *dir = call->kids[1]->text;
  expr_value_init(out);
  regex_t rx;
  if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
    return gg_error_set(err, GG_ERR_EXPR, "files_matching(): invalid regular expression \"%s\"", re);
  gg_status s = GG_OK;
  DIR *d = opendir(dir);
  if (!d) {
    s = gg_error_set(err, GG_ERR_IO, "files_matching(): cannot open directory '%s': %s", dir,
                     strerror(errno));
    goto out;
  }
  double count = 0;
  size_t seen = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno)
        s = gg_error_set(err, GG_ERR_IO, "files_matching(): read directory '%s': %s", dir, strerror(errno));
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (++seen > FILES_MATCHING_MAX) {
      s = gg_error_set(err, GG_ERR_TOO_BIG, "files_matching(): more than %d entries in '%s'",
                       FILES_MATCHING_MAX, dir);
      break;
    }
    if (regexec(&rx, e->d_name, 0, NULL, 0) != 0) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    count += 1;
  }
  closedir(d);
  out->num = count;
out:
  regfree(&rx);
  return s;
}

/* ---- routed to the sources ---- */

static gg_status routed(const expr_node *call, const expr_ctx *ctx, bool is_sql, expr_value *out,
                        gg_error *err) {
  char q[QUOTE_MAX];
  expr_node_quote(call, q, sizeof q);
  expr_value_init(out);
  out->kind = EXPR_VAL_VEC;
  const char *db = is_sql ? call->kids[0]->text : NULL;
  const char *query = call->kids[is_sql ? 1 : 0]->text;
  for (size_t i = 0; i < ctx->n_sources; i++) {
    const expr_series_source *src = &ctx->sources[i];
    gg_status s;
    if (is_sql) {
      if (!src->sql) continue;
      s = src->sql(src->user, db, query, ctx, &out->vec, err);
    } else {
      if (!src->promql) continue;
      s = src->promql(src->user, query, ctx, &out->vec, err);
    }
    if (s == GG_ERR_NOT_FOUND) {
      expr_vector_release(&out->vec);
      gg_error_clear(err);
      continue;
    }
    if (s != GG_OK) {
      expr_value_release(out);
      if (err && !err->msg[0]) gg_error_set(err, s, "%s", gg_status_message(s));
      gg_error_prefix(err, "%s: ", q);
      return s;
    }
    return GG_OK;
  }
  expr_value_release(out);
  if (is_sql) return gg_error_set(err, GG_ERR_UNSUPPORTED, "%s: no database '%s' is configured", q, db);
  return gg_error_set(err, GG_ERR_UNSUPPORTED, "%s: no Prometheus is configured (connect.prometheus)", q);
}

static gg_status fn_promql(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return routed(c, x, false, o, e);
}
static gg_status fn_sql(const expr_node *c, const expr_ctx *x, int d, expr_value *o, gg_error *e) {
  return routed(c, x, true, o, e);
}

/* ---- the table ---- */

static const expr_function functions[] = {
    {"min", 1, 1, 0, 0, fn_min},
    {"max", 1, 1, 0, 0, fn_max},
    {"sum", 1, 1, 0, 0, fn_sum},
    {"avg", 1, 1, 0, 0, fn_avg},
    {"count", 1, 1, 0, 0, fn_count},
    {"abs", 1, 1, 0, 0, fn_abs},
    {"absent", 1, 1, 0, 0, fn_absent},
    {"rate", 2, 2, 0, 1u, fn_rate},
    {"increase", 2, 2, 0, 1u, fn_increase},
    {"delta", 2, 2, 0, 1u, fn_delta},
    {"min_over_time", 2, 2, 0, 1u, fn_min_over_time},
    {"max_over_time", 2, 2, 0, 1u, fn_max_over_time},
    {"avg_over_time", 2, 2, 0, 1u, fn_avg_over_time},
    {"age", 1, 1, 0, 0, fn_age},
    {"now", 0, 0, 0, 0, fn_now},
    {"hour", 0, 0, 0, 0, fn_hour},
    {"weekday", 0, 0, 0, 0, fn_weekday},
    {"holiday", 0, 0, 0, 0, fn_holiday},
    {"in_window", 1, 1, 1u, 0, fn_in_window},
    {"off_hours", 0, 0, 0, 0, fn_off_hours},
    {"frozen", 0, 0, 0, 0, fn_frozen},
    {"window", 1, 1, 1u, 0, fn_window},
    {"files_matching", 2, 2, 3u, 0, fn_files_matching},
    {"promql", 1, 1, 1u, 0, fn_promql},
    {"sql", 2, 2, 2u, 0, fn_sql},
};

#define N_FUNCTIONS (sizeof functions / sizeof functions[0])

const expr_function *expr_function_find(const char *name, size_t len) {
  for (size_t i = 0; i < N_FUNCTIONS; i++)
    if (strlen(functions[i].name) == len && memcmp(functions[i].name, name, len) == 0) return &functions[i];
  return NULL;
}

/* Spelled out rather than filled from the table at run time, so it needs no lock;
 * the unit tests check that the two lists agree. */
static const char *const function_names[] = {
    "min",      "max",     "sum",           "avg",           "count",          "abs",    "absent", "rate",
    "increase", "delta",   "min_over_time", "max_over_time", "avg_over_time",  "age",    "now",    "hour",
    "weekday",  "holiday", "in_window",     "off_hours",     "files_matching", "promql", "sql",    "frozen",
    "window",   NULL};

const char *const *expr_function_names(void) {
  return function_names;
}

static size_t edit_distance(const char *a, size_t n, const char *b) {
  size_t m = strlen(b);
  if (n > 40 || m > 40) return 99;
  size_t row[41];
  for (size_t j = 0; j <= m; j++) row[j] = j;
  for (size_t i = 1; i <= n; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[m];
}

const char *expr_function_suggest(const char *name, size_t len) {
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; i < N_FUNCTIONS; i++) {
    size_t d = edit_distance(name, len, functions[i].name);
    if (d < best_d) {
      best_d = d;
      best = functions[i].name;
    }
  }
  return best;
}
