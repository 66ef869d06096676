/*
 * series.c: journal-backed series and sample history for the expression evaluator.
 */
#include "journal/series.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "journal/journal_int.h"

/* The value of the equality matcher on `label`, or NULL. */
static const char *eq_matcher(const expr_selector *sel, const char *label) {
  for (size_t i = 0; i < sel->n_matchers; i++)
    if (sel->matchers[i].op == EXPR_MATCH_EQ && strcmp(sel->matchers[i].label, label) == 0)
      return sel->matchers[i].value;
  return NULL;
}

/* Collect the distinct values of the first column of `sql` into a NULL-terminated array. */
static gg_status distinct_values(journal *j, const char *sql, char ***out, gg_error *err) {
  *out = NULL;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j, sql, &st, err);
  if (s != GG_OK) return s;
  char **arr = calloc(1, sizeof *arr);
  size_t n = 0;
  int rc = JOURNAL_DONE;
  while (arr && (rc = journal_step(st)) == JOURNAL_ROW) {
    char **na = realloc(arr, (n + 2) * sizeof *na);
    if (!na) break;
    arr = na;
    arr[n] = journal_col_strdup(st, 0);
    if (!arr[n]) break;
    arr[++n] = NULL;
  }
  if (!arr || (rc != JOURNAL_DONE && rc != JOURNAL_ROW))
    s = arr ? journal_sql_fail(j, err, "list series labels")
            : gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  else if (rc == JOURNAL_ROW)
    s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  journal_finalize(st);
  if (s != GG_OK) {
    for (size_t i = 0; arr && arr[i]; i++) free(arr[i]);
    free(arr);
    return s;
  }
  *out = arr;
  return GG_OK;
}

static void free_values(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

typedef enum {
  S_COMPLETED,
  S_COMPLETED_AGE,
  S_STABLE_FOR,
  S_EVENT_AGE,
  S_ATTESTED,
  S_RETRO,
  S_REHEARSAL
} series_id;

static gg_status series_value(journal *j, series_id id, const char *key, double now, double *v,
                              gg_error *err) {
  switch (id) {
    case S_COMPLETED:
      return journal_series_phase_completed(j, key, v, err);
    case S_COMPLETED_AGE:
      return journal_series_phase_completed_age(j, key, now, v, err);
    case S_STABLE_FOR:
      return journal_series_phase_stable_for(j, key, now, v, err);
    case S_EVENT_AGE:
      return journal_series_event_age(j, key, now, v, err);
    case S_ATTESTED:
      return journal_series_attested(j, key, now, v, err);
    case S_RETRO:
      return journal_series_retro_completed(j, v, err);
    case S_REHEARSAL:
      return journal_series_rehearsal_passed(j, key, now, v, err);
  }
  return gg_error_set(err, GG_ERR_INVALID, "unknown journal series");
}

static gg_status select_series(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                               gg_error *err) {
  journal *j = user;
  series_id id;
  const char *label, *list_sql;
  if (strcmp(sel->name, "phase.completed") == 0)
    id = S_COMPLETED;
  else if (strcmp(sel->name, "phase.completed_age") == 0)
    id = S_COMPLETED_AGE;
  else if (strcmp(sel->name, "phase.stable_for") == 0)
    id = S_STABLE_FOR;
  else if (strcmp(sel->name, "event.age") == 0)
    id = S_EVENT_AGE;
  else if (strcmp(sel->name, "attested") == 0)
    id = S_ATTESTED;
  else if (strcmp(sel->name, "retro.completed") == 0)
    id = S_RETRO;
  else if (strcmp(sel->name, "rehearsal.passed") == 0)
    id = S_REHEARSAL;
  else
    return gg_error_set(err, GG_ERR_NOT_FOUND, "unknown series '%s'", sel->name);
  if (id == S_RETRO) { /* one sample, no labels: the migration has one retrospective */
    double v = 0;
    gg_status s = series_value(j, id, NULL, ctx->now, &v, err);
    if (s == GG_OK && (s = expr_vector_add(out, v, ctx->now, NULL)) != GG_OK)
      gg_error_set(err, s, "out of memory");
    return s;
  }
  if (id == S_EVENT_AGE) {
    label = "kind";
    list_sql = "SELECT DISTINCT kind FROM events UNION SELECT DISTINCT mark FROM marks ORDER BY 1";
  } else if (id == S_ATTESTED) {
    label = "item";
    list_sql = "SELECT DISTINCT item FROM attestations WHERE item IS NOT NULL ORDER BY 1";
  } else if (id == S_REHEARSAL) {
    label = "phase";
    list_sql = "SELECT DISTINCT phase FROM events WHERE kind = 'rehearsal' AND phase IS NOT NULL ORDER BY 1";
  } else {
    label = "phase";
    list_sql = "SELECT DISTINCT phase FROM phase_lifecycle WHERE phase IS NOT NULL ORDER BY 1";
  }
  char *one[2] = {NULL, NULL};
  char **keys = one;
  const char *want = eq_matcher(sel, label);
  if (want) {
    one[0] = (char *)want;
  } else {
    gg_status s = distinct_values(j, list_sql, &keys, err);
    if (s != GG_OK) return s;
  }
  gg_status s = GG_OK;
  for (size_t i = 0; keys[i]; i++) {
    double v = 0;
    gg_error inner;
    gg_error_clear(&inner);
    gg_status vs = series_value(j, id, keys[i], ctx->now, &v, &inner);
    if (vs == GG_ERR_NO_DATA && id == S_EVENT_AGE && want) {
      /* Asked for one kind the journal has never seen: the journal knows for certain that it
       * never happened, so the time since is infinite (`event.age{kind="incident"} < 48h`
       * is false, not "no data"). */
      v = INFINITY;
      vs = GG_OK;
    }
    if (vs == GG_ERR_NO_DATA) continue; /* no sample: the evaluator reports "no data" */
    if (vs != GG_OK) {
      s = gg_error_set(err, vs, "%s{%s=\"%s\"}: %s", sel->name, label, keys[i], gg_error_message(&inner));
      break;
    }
    s = expr_vector_add(out, v, ctx->now, label, keys[i], NULL);
    if (s != GG_OK) {
      gg_error_set(err, s, "out of memory");
      break;
    }
  }
  if (keys != one) free_values(keys);
  return s;
}

expr_series_source journal_series_source(journal *j) {
  expr_series_source src = {.name = "journal", .select = select_series, .user = j};
  return src;
}

/* ---- history -------------------------------------------------------------------------------------- */

static gg_status labels_from_json(const char *text, expr_labels *out, gg_error *err) {
  json_t *obj = json_loads(text, 0, NULL);
  if (!obj || !json_is_object(obj)) {
    json_decref(obj);
    return gg_error_set(err, GG_ERR_INVALID, "stored sample labels '%s' are not a JSON object", text);
  }
  const char *k;
  json_t *v;
  gg_status s = GG_OK;
  json_object_foreach(obj, k, v) {
    char *dumped = json_is_string(v) ? NULL : journal_canonical(v);
    s = expr_labels_set(out, k, json_is_string(v) ? json_string_value(v) : (dumped ? dumped : ""));
    free(dumped);
    if (s != GG_OK) {
      gg_error_set(err, s, "out of memory");
      break;
    }
  }
  json_decref(obj);
  return s;
}

static gg_status history_points(journal *j, const expr_selector *sel, double window, const expr_ctx *ctx,
                                expr_matrix *out, gg_error *err) {
  journal_sample_row *rows = NULL;
  size_t n = 0;
  gg_status s = journal_samples_query(j, sel->name, ctx->now - window, ctx->now, &rows, &n, err);
  if (s != GG_OK) return s;
  expr_point *pts = n ? malloc(n * sizeof *pts) : NULL;
  if (n && !pts) {
    journal_sample_rows_free(rows, n);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < n && s == GG_OK;) {
    size_t k = i, np = 0;
    for (; k < n && strcmp(rows[k].labels, rows[i].labels) == 0; k++) {
      pts[np].t = rows[k].time;
      pts[np].v = rows[k].value;
      np++;
    }
    /* Rows come ordered by labels then time, so each group is oldest first. */
    expr_labels labels = {0};
    s = labels_from_json(rows[i].labels, &labels, err);
    if (s == GG_OK) {
      s = expr_matrix_add(out, &labels, pts, np);
      if (s != GG_OK) gg_error_set(err, s, "out of memory");
    }
    expr_labels_release(&labels);
    i = k;
  }
  free(pts);
  journal_sample_rows_free(rows, n);
  /* Only the label sets the selector asks for: a new member of another selector with the
   * same name must not make this one's history short. */
  if (s == GG_OK) s = expr_matrix_filter(out, sel, err);
  if (s != GG_OK) return s;
  out->range_start = ctx->now - window;
  out->range_end = ctx->now;
  return GG_OK;
}

static gg_status history_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                               const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  gg_status s = history_points(user, sel, window, ctx, out, err);
  if (s != GG_OK) return s;
  double oldest = ctx->now;
  size_t min_points = out->n ? SIZE_MAX : 0;
  for (size_t i = 0; i < out->n; i++) {
    if (out->v[i].n && out->v[i].points[0].t < oldest) oldest = out->v[i].points[0].t;
    if (out->v[i].n < min_points) min_points = out->v[i].n;
  }
  double have = out->n ? ctx->now - oldest : 0;
  double slack = fmax(60.0, window * 0.05);
  bool enough =
      use == EXPR_HISTORY_OVER_TIME ? out->n > 0 && have + slack >= window : out->n > 0 && min_points >= 2;
  if (!enough) {
    char h[32], w[32];
    gg_format_duration(have, h, sizeof h);
    gg_format_duration(window, w, sizeof w);
    return gg_error_set(err, GG_ERR_NO_DATA, "insufficient history: have %s of %s", h, w);
  }
  return GG_OK;
}

static gg_status history_raw(void *user, const expr_selector *sel, double window, expr_history_use use,
                             const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  (void)use;
  return history_points(user, sel, window, ctx, out, err);
}

expr_history_source journal_history_source(journal *j) {
  expr_history_source src = {.range = history_range, .user = j};
  return src;
}

expr_history_source journal_history_source_raw(journal *j) {
  expr_history_source src = {.range = history_raw, .user = j};
  return src;
}
