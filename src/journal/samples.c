/*
 * samples.c: series history for `*_over_time`, `rate` and the report's charts. Written by `watch`,
 * outside the hash chain (volume), pruned by the retention stored in the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "journal/journal_int.h"

double journal_retention(journal *j) {
  journal_stmt *st = NULL;
  double r = JOURNAL_DEFAULT_RETENTION;
  if (journal_prepare(j, "SELECT value FROM meta WHERE key = 'retention'", &st, NULL) != GG_OK) return r;
  if (journal_step(st) == JOURNAL_ROW) {
    const char *v = (const char *)journal_column_text(st, 0);
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (v && end && *end == '\0' && d > 0) r = d;
  }
  journal_finalize(st);
  return r;
}

void journal_set_samples_cap(journal *j, long long rows) {
  j->samples_cap = rows > 0 ? rows : JOURNAL_SAMPLES_MAX_ROWS;
}

gg_status journal_set_retention(journal *j, double seconds, gg_error *err) {
  gg_status s = journal_need_writable(j, "set retention", err);
  if (s != GG_OK) return s;
  if (!(seconds > 0)) return gg_error_set(err, GG_ERR_INVALID, "sample retention must be positive");
  journal_stmt *st = NULL;
  s = journal_prepare(j,
                      "INSERT INTO meta (key, value) VALUES ('retention', ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      &st, err);
  if (s != GG_OK) return s;
  char text[64];
  snprintf(text, sizeof text, "%.3f", seconds);
  journal_bind_text(st, 1, text);
  if (journal_step(st) != JOURNAL_DONE) s = journal_sql_fail(j, err, "set retention");
  journal_finalize(st);
  return s;
}

/* Canonical labels text: "{}" for NULL, the canonical form of a JSON object otherwise. */
static gg_status canonical_labels(const char *labels, char **out, gg_error *err) {
  *out = NULL;
  json_t *v = json_loads(labels ? labels : "{}", 0, NULL);
  if (!v || !json_is_object(v)) {
    json_decref(v);
    return gg_error_set(err, GG_ERR_INVALID, "sample labels '%s' are not a JSON object", labels);
  }
  *out = journal_canonical(v);
  json_decref(v);
  if (!*out) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  return GG_OK;
}

gg_status journal_samples_add(journal *j, const journal_sample *samples, size_t n, gg_error *err) {
  gg_status s = journal_need_writable(j, "write samples", err);
  if (s != GG_OK) return s;
  double retention = journal_retention(j);
  journal_stmt *st = NULL;
  s = journal_begin(j, err);
  if (s != GG_OK) return s;
  s = journal_prepare(j, "INSERT INTO samples (name, labels, time, value) VALUES (?, ?, ?, ?)", &st, err);
  if (s != GG_OK) goto out;
  for (size_t i = 0; i < n; i++) {
    if (!samples[i].name || !samples[i].name[0]) {
      s = gg_error_set(err, GG_ERR_INVALID, "sample %zu has no series name", i);
      goto out;
    }
    char *labels = NULL;
    s = canonical_labels(samples[i].labels, &labels, err);
    if (s != GG_OK) goto out;
    journal_reset(st);
    journal_bind_text(st, 1, samples[i].name);
    journal_bind_text(st, 2, labels);
    journal_bind_double(st, 3, samples[i].time);
    journal_bind_double(st, 4, samples[i].value);
    free(labels);
    if (journal_step(st) != JOURNAL_DONE) {
      s = journal_sql_fail(j, err, "write sample");
      goto out;
    }
  }
  journal_finalize(st);
  st = NULL;
  s = journal_prepare(j, "DELETE FROM samples WHERE time < ?", &st, err);
  if (s != GG_OK) goto out;
  journal_bind_double(st, 1, gg_clock_now() - retention);
  if (journal_step(st) != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "prune samples");
    goto out;
  }
  journal_finalize(st);
  st = NULL;
  /* And never more than the row cap, whatever the retention: the oldest go first (rowids grow
   * with every insert, so this is a range delete on the primary key). */
  s = journal_prepare(j, "DELETE FROM samples WHERE rowid <= (SELECT max(rowid) FROM samples) - ?", &st, err);
  if (s != GG_OK) goto out;
  journal_bind_int64(st, 1, j->samples_cap);
  if (journal_step(st) != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "cap samples");
    goto out;
  }
  journal_finalize(st);
  st = NULL;
  return journal_commit(j, err);
out:
  journal_finalize(st);
  journal_rollback(j);
  return s;
}

void journal_sample_rows_free(journal_sample_row *rows, size_t n) {
  if (!rows) return;
  for (size_t i = 0; i < n; i++) free(rows[i].labels);
  free(rows);
}

gg_status journal_samples_query(journal *j, const char *name, double from, double to,
                                journal_sample_row **out, size_t *n, gg_error *err) {
  *out = NULL;
  *n = 0;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT labels, time, value FROM samples WHERE name = ? AND time >= ? AND"
                                " time <= ? ORDER BY labels, time",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, name);
  journal_bind_double(st, 2, from);
  journal_bind_double(st, 3, to);
  journal_sample_row *arr = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = journal_step(st)) == JOURNAL_ROW) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      journal_sample_row *na = realloc(arr, ncap * sizeof *na);
      if (!na) {
        s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
        goto out;
      }
      arr = na;
      cap = ncap;
    }
    journal_sample_row *r = &arr[len++];
    r->labels = journal_col_strdup(st, 0);
    r->time = journal_column_double(st, 1);
    r->value = journal_column_double(st, 2);
    if (!r->labels) {
      s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      goto out;
    }
  }
  if (rc != JOURNAL_DONE) s = journal_sql_fail(j, err, "read samples");
out:
  journal_finalize(st);
  if (s != GG_OK) {
    journal_sample_rows_free(arr, len);
    arr = NULL;
    len = 0;
  }
  *out = arr;
  *n = len;
  return s;
}
