/*
 * copy.c: moving a migration's journal between backends (a file to the team's database, or
 * back) with every row as it is, so the hashes, the head and any anchor taken before still hold.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/journal.h"
#include "journal/journal_int.h"

/* Rows of samples copied per statement batch (one transaction for all of them). */
#define COPY_SAMPLES_BATCH 1000

static gg_status insert_row(journal *to, const journal_event *ev, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s =
      journal_prepare(to,
                      "INSERT INTO events (seq, time_ms, kind, phase, actor, os_user, host, content,"
                      " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &st, err);
  if (s != GG_OK) return s;
  journal_bind_int64(st, 1, ev->seq);
  journal_bind_int64(st, 2, llround(ev->time * 1000.0));
  journal_bind_text(st, 3, ev->kind);
  journal_bind_phase(st, 4, ev->phase);
  journal_bind_text(st, 5, ev->actor);
  journal_bind_text(st, 6, ev->os_user);
  journal_bind_text(st, 7, ev->host);
  journal_bind_text(st, 8, ev->content);
  journal_bind_text(st, 9, ev->prev_hash);
  journal_bind_text(st, 10, ev->hash);
  if (journal_step(st) != JOURNAL_DONE) s = journal_sql_fail(to, err, "copy an event");
  journal_finalize(st);
  return s;
}

static gg_status record_head(journal *to, long long seq, const char *hash, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(to,
                                "INSERT INTO meta (key, value) VALUES ('head_seq', ?), ('head_hash', ?)"
                                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                &st, err);
  if (s != GG_OK) return s;
  char text[32];
  snprintf(text, sizeof text, "%lld", seq);
  journal_bind_text(st, 1, text);
  journal_bind_text(st, 2, hash);
  if (journal_step(st) != JOURNAL_DONE) s = journal_sql_fail(to, err, "record the chain head");
  journal_finalize(st);
  to->pending_seq = seq;
  snprintf(to->pending_hash, sizeof to->pending_hash, "%s", hash);
  return s;
}

/* Every sample, in insertion order, into `to` (inside its open transaction). */
static gg_status copy_samples(journal *from, journal *to, long long *copied, gg_error *err) {
  journal_stmt *rd = NULL, *wr = NULL;
  gg_status s =
      journal_prepare(from, "SELECT name, labels, time, value FROM samples ORDER BY rowid", &rd, err);
  if (s == GG_OK)
    s = journal_prepare(to, "INSERT INTO samples (name, labels, time, value) VALUES (?, ?, ?, ?)", &wr, err);
  int rc = JOURNAL_DONE;
  while (s == GG_OK && (rc = journal_step(rd)) == JOURNAL_ROW) {
    journal_reset(wr);
    journal_bind_text(wr, 1, (const char *)journal_column_text(rd, 0));
    journal_bind_text(wr, 2, (const char *)journal_column_text(rd, 1));
    journal_bind_double(wr, 3, journal_column_double(rd, 2));
    journal_bind_double(wr, 4, journal_column_double(rd, 3));
    if (journal_step(wr) != JOURNAL_DONE) s = journal_sql_fail(to, err, "copy a sample");
    (*copied)++;
  }
  if (s == GG_OK && rc != JOURNAL_DONE) s = journal_sql_fail(from, err, "read samples");
  journal_finalize(rd);
  journal_finalize(wr);
  return s;
}

gg_status journal_copy(journal *from, journal *to, journal_copy_result *res, gg_error *err) {
  memset(res, 0, sizeof *res);
  gg_status s = journal_need_writable(to, "copy into", err);
  if (s != GG_OK) return s;
  s = journal_verify(from, &res->source, err);
  if (s != GG_OK) return gg_error_prefix(err, "verify the source: ");
  if (!res->source.ok)
    return gg_error_set(err, GG_ERR_TAMPERED, "journal '%s' is damaged at row %lld: %s; not copied",
                        from->path, res->source.bad_seq, res->source.what);
  journal_event *ev = NULL;
  size_t n = 0;
  s = journal_events(from, NULL, &ev, &n, err);
  if (s != GG_OK) return s;
  s = journal_begin(to, err);
  if (s != GG_OK) goto done;
  journal_filter one = journal_filter_all();
  one.limit = 1;
  journal_event *have = NULL;
  size_t nhave = 0;
  s = journal_events(to, &one, &have, &nhave, err);
  journal_events_free(have, nhave);
  if (s == GG_OK && nhave > 0)
    s = gg_error_set(err, GG_ERR_EXISTS,
                     "journal '%s' already has events: copy only into a new journal (nothing was copied)",
                     to->path);
  for (size_t i = 0; s == GG_OK && i < n; i++) s = insert_row(to, &ev[i], err);
  if (s == GG_OK && n > 0) s = record_head(to, ev[n - 1].seq, ev[n - 1].hash, err);
  if (s == GG_OK) s = copy_samples(from, to, &res->samples, err);
  if (s == GG_OK) {
    char text[64];
    snprintf(text, sizeof text, "%.3f", journal_retention(from));
    journal_stmt *st = NULL;
    s = journal_prepare(to,
                        "INSERT INTO meta (key, value) VALUES ('retention', ?) ON CONFLICT (key) DO UPDATE"
                        " SET value = excluded.value",
                        &st, err);
    if (s == GG_OK) {
      journal_bind_text(st, 1, text);
      if (journal_step(st) != JOURNAL_DONE) s = journal_sql_fail(to, err, "copy the retention");
    }
    journal_finalize(st);
  }
  if (s != GG_OK) {
    journal_rollback(to);
    goto done;
  }
  s = journal_commit(to, err);
  if (s != GG_OK) goto done;
  res->events = (long long)n;
  s = journal_verify(to, &res->dest, err);
  if (s != GG_OK) {
    gg_error_prefix(err, "verify the copy: ");
  } else if (!res->dest.ok || res->dest.head_seq != res->source.head_seq ||
             strcmp(res->dest.head_hash, res->source.head_hash) != 0) {
    s = gg_error_set(err, GG_ERR_TAMPERED, "the copy in '%s' does not verify%s%s", to->path,
                     res->dest.ok ? "" : ": ", res->dest.ok ? " (its head differs)" : res->dest.what);
  }
done:
  journal_events_free(ev, n);
  return s;
}
