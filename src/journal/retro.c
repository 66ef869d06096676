/*
 * retro.c: the retrospective's entries (went well, improve, action items) and its closing, as
 * chained events, and the retro.completed series the T+14d checkpoint reads.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "journal/journal_int.h"

const char *journal_retro_kind_name(journal_retro_kind k) {
  switch (k) {
#define JOURNAL_RETRO_CASE(name, word) \
  case JOURNAL_RETRO_##name:           \
    return word;
    JOURNAL_RETRO_MAP(JOURNAL_RETRO_CASE)
#undef JOURNAL_RETRO_CASE
  }
  return "?";
}

static gg_status put_str(json_t *obj, const char *key, const char *value, gg_error *err) {
  json_t *v = json_string(value);
  if (!v || json_object_set_new(obj, key, v) != 0)
    return gg_error_set(err, GG_ERR_INVALID, "retro %s is not valid UTF-8 text", key);
  return GG_OK;
}

gg_status journal_retro_add(journal *j, journal_retro_kind kind, const char *text, const char *owner,
                            double due, const char *by, long long *seq, gg_error *err) {
  const char *name = journal_retro_kind_name(kind);
  if (!text || !text[0])
    return gg_error_set(err, GG_ERR_INVALID, "retro %s: the text must not be empty", name);
  if (!by || !by[0])
    return gg_error_set(err, GG_ERR_INVALID, "retro %s: who records it (--by) must not be empty", name);
  bool item = kind == JOURNAL_RETRO_ACTION_ITEM;
  if (item && (!owner || !owner[0]))
    return gg_error_set(err, GG_ERR_INVALID, "retro action-item '%s': it needs an owner (--owner NAME)",
                        text);
  if (item && due <= 0)
    return gg_error_set(err, GG_ERR_INVALID, "retro action-item '%s': it needs a due date (--due DATE)",
                        text);
  if (!item && ((owner && owner[0]) || due > 0))
    return gg_error_set(err, GG_ERR_INVALID, "retro %s: only an action-item has an owner and a due date",
                        name);
  json_t *c = json_object();
  if (!c) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  gg_status s = put_str(c, "entry", name, err);
  if (s == GG_OK) s = put_str(c, "text", text, err);
  if (s == GG_OK && item) s = put_str(c, "owner", owner, err);
  if (s == GG_OK && item) {
    char when[40];
    s = put_str(c, "due", gg_time_format(due, when, sizeof when), err);
  }
  if (s == GG_OK) s = journal_append(j, JOURNAL_RETRO_ENTRY, JOURNAL_NO_PHASE, by, c, seq, err);
  json_decref(c);
  return s;
}

static gg_status count_kind(journal *j, const char *kind, long long *n, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j, "SELECT count(*) FROM events WHERE kind = ?", &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, kind);
  *n = 0;
  if (journal_step(st) == JOURNAL_ROW)
    *n = journal_column_int64(st, 0);
  else
    s = journal_sql_fail(j, err, "count retro events");
  journal_finalize(st);
  return s;
}

gg_status journal_retro_complete(journal *j, const char *by, const char *note, long long *seq,
                                 gg_error *err) {
  if (!by || !by[0])
    return gg_error_set(err, GG_ERR_INVALID, "retro --complete: who closes it (--by) must not be empty");
  long long n = 0;
  gg_status s = count_kind(j, "retro_entry", &n, err);
  if (s != GG_OK) return s;
  json_t *c = json_pack("{s:I}", "entries", (json_int_t)n);
  if (!c) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (note) s = put_str(c, "note", note, err);
  if (s == GG_OK) s = journal_append(j, JOURNAL_RETRO_COMPLETED, JOURNAL_NO_PHASE, by, c, seq, err);
  json_decref(c);
  return s;
}

gg_status journal_series_retro_completed(journal *j, double *value, gg_error *err) {
  long long n = 0;
  gg_status s = count_kind(j, "retro_completed", &n, err);
  *value = s == GG_OK && n > 0 ? 1 : 0;
  return s;
}
