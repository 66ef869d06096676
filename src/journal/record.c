/*
 * record.c: approvals, attestations, marks, phase state and the journal-backed series. All of it
 * is written as chained events and read back through the views of the schema.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "journal/journal_int.h"

/* ---- writing ------------------------------------------------------------------------------------ */

static gg_status set_str(json_t *obj, const char *key, const char *value, gg_error *err) {
  if (!value) return GG_OK;
  json_t *v = json_string(value);
  if (!v || json_object_set_new(obj, key, v) != 0)
    return gg_error_set(err, GG_ERR_INVALID, "'%s' is not valid UTF-8 text", key);
  return GG_OK;
}

static gg_status need_text(const char *what, const char *value, gg_error *err) {
  if (!value || !value[0]) return gg_error_set(err, GG_ERR_INVALID, "%s must not be empty", what);
  return GG_OK;
}

static long long latest_evaluation_seq(journal *j, const char *phase) {
  journal_stmt *st = NULL;
  long long seq = 0;
  if (journal_prepare(j, "SELECT max(seq) FROM events WHERE kind = 'evaluation' AND phase IS ?", &st, NULL) !=
      GG_OK)
    return 0;
  journal_bind_phase(st, 1, phase);
  if (journal_step(st) == JOURNAL_ROW) seq = journal_column_int64(st, 0);
  journal_finalize(st);
  return seq;
}

gg_status journal_approval_content(journal *j, const char *phase, const char *role, const char *by,
                                   const char *decision, const char *plan_hash, const json_t *plan_values,
                                   const char *note, json_t **out, gg_error *err) {
  *out = NULL;
  gg_status s = need_text("the approved phase", phase, err);
  if (s == GG_OK) s = need_text("the approving role", role, err);
  if (s == GG_OK) s = need_text("the approver's name (--by)", by, err);
  if (s != GG_OK) return s;
  if (!decision) decision = "go";
  if (strcmp(decision, "go") != 0 && strcmp(decision, "no-go") != 0 && strcmp(decision, "defer") != 0)
    return gg_error_set(err, GG_ERR_INVALID, "decision '%s' is not one of go, no-go, defer", decision);
  json_t *c = json_object();
  if (!c) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  s = set_str(c, "role", role, err);
  if (s == GG_OK) s = set_str(c, "decision", decision, err);
  if (s == GG_OK) s = set_str(c, "plan_hash", plan_hash ? plan_hash : "", err);
  if (s == GG_OK) s = set_str(c, "note", note, err);
  long long eval = latest_evaluation_seq(j, phase);
  if (s == GG_OK && eval > 0) json_object_set_new(c, "evaluation_seq", json_integer(eval));
  if (s == GG_OK && plan_values) json_object_set_new(c, "plan_values", json_deep_copy(plan_values));
  if (s == GG_OK)
    *out = c;
  else
    json_decref(c);
  return s;
}

gg_status journal_approve(journal *j, const char *phase, const char *role, const char *by,
                          const char *decision, const char *plan_hash, const char *note, long long *seq,
                          gg_error *err) {
  return journal_approve_values(j, phase, role, by, decision, plan_hash, NULL, note, seq, err);
}

gg_status journal_approve_values(journal *j, const char *phase, const char *role, const char *by,
                                 const char *decision, const char *plan_hash, const json_t *plan_values,
                                 const char *note, long long *seq, gg_error *err) {
  json_t *c = NULL;
  gg_status s = journal_approval_content(j, phase, role, by, decision, plan_hash, plan_values, note, &c, err);
  if (s == GG_OK) s = journal_append(j, JOURNAL_APPROVAL, phase, by, c, seq, err);
  json_decref(c);
  return s;
}

gg_status journal_attestation_content(const char *item, const char *by, double valid_for,
                                      const char *plan_hash, const char *note, json_t **out, gg_error *err) {
  *out = NULL;
  gg_status s = need_text("the attested item", item, err);
  if (s == GG_OK) s = need_text("the attesting person's name (--by)", by, err);
  if (s != GG_OK) return s;
  json_t *c = json_object();
  if (!c) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  s = set_str(c, "item", item, err);
  if (s == GG_OK) s = set_str(c, "plan_hash", plan_hash ? plan_hash : "", err);
  if (s == GG_OK) s = set_str(c, "note", note, err);
  if (s == GG_OK && valid_for > 0) json_object_set_new(c, "valid_for", json_integer(llround(valid_for)));
  if (s == GG_OK)
    *out = c;
  else
    json_decref(c);
  return s;
}

gg_status journal_attest(journal *j, const char *phase, const char *item, const char *by, double valid_for,
                         const char *plan_hash, const char *note, long long *seq, gg_error *err) {
  json_t *c = NULL;
  gg_status s = journal_attestation_content(item, by, valid_for, plan_hash, note, &c, err);
  if (s == GG_OK) s = journal_append(j, JOURNAL_ATTESTATION, phase, by, c, seq, err);
  json_decref(c);
  return s;
}

gg_status journal_mark_content(const char *mark_kind, double at, const char *note, json_t **out,
                               gg_error *err) {
  *out = NULL;
  if (!mark_kind || (strcmp(mark_kind, "deployment") != 0 && strcmp(mark_kind, "incident") != 0))
    return gg_error_set(err, GG_ERR_INVALID, "mark '%s' is not one of deployment, incident",
                        mark_kind ? mark_kind : "");
  if (at <= 0) at = gg_clock_now();
  char when[40];
  gg_time_format(at, when, sizeof when);
  json_t *c = json_object();
  if (!c) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  gg_status s = set_str(c, "mark", mark_kind, err);
  if (s == GG_OK) s = set_str(c, "at", when, err);
  if (s == GG_OK) json_object_set_new(c, "at_ms", json_integer(llround(at * 1000.0)));
  if (s == GG_OK) s = set_str(c, "note", note, err);
  if (s == GG_OK)
    *out = c;
  else
    json_decref(c);
  return s;
}

gg_status journal_mark(journal *j, const char *mark_kind, double at, const char *by, const char *note,
                       long long *seq, gg_error *err) {
  json_t *c = NULL;
  gg_status s = journal_mark_content(mark_kind, at, note, &c, err);
  if (s == GG_OK) s = journal_append(j, JOURNAL_MARK, JOURNAL_NO_PHASE, by, c, seq, err);
  json_decref(c);
  return s;
}

/* ---- sign-offs ------------------------------------------------------------------------------------ */

void journal_signoffs_free(journal_signoff *s, size_t n) {
  if (!s) return;
  for (size_t i = 0; i < n; i++) {
    free(s[i].phase);
    free(s[i].role);
    free(s[i].by);
    free(s[i].os_user);
    free(s[i].host);
    free(s[i].decision);
    free(s[i].plan_hash);
    free(s[i].note);
  }
  free(s);
}

/* Rows: seq, time_ms, phase, by_name, os_user, host, role|item, decision|NULL, plan_hash, note,
 * expires_ms|NULL. */
static gg_status collect_signoffs(journal *j, journal_stmt *st, bool approvals, const char *plan_hash,
                                  double now, journal_signoff **out, size_t *n, gg_error *err) {
  journal_signoff *arr = NULL;
  size_t len = 0, cap = 0;
  gg_status s = GG_OK;
  int rc;
  while ((rc = journal_step(st)) == JOURNAL_ROW) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      journal_signoff *na = realloc(arr, ncap * sizeof *na);
      if (!na) {
        s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
        goto out;
      }
      arr = na;
      cap = ncap;
    }
    journal_signoff *o = &arr[len++];
    memset(o, 0, sizeof *o);
    o->seq = journal_column_int64(st, 0);
    o->time = (double)journal_column_int64(st, 1) / 1000.0;
    o->phase = journal_col_strdup(st, 2);
    o->by = journal_col_strdup(st, 3);
    o->os_user = journal_col_strdup(st, 4);
    o->host = journal_col_strdup(st, 5);
    o->role = journal_col_strdup(st, 6);
    o->decision = journal_col_strdup(st, 7);
    o->plan_hash = journal_col_strdup(st, 8);
    o->note = journal_col_strdup(st, 9);
    if (!o->plan_hash) o->plan_hash = strdup("");
    if (!o->by || !o->os_user || !o->host || !o->role || !o->plan_hash) {
      s = gg_error_set(err, GG_ERR_NOMEM, "out of memory (or a damaged row %lld)", o->seq);
      goto out;
    }
    if (approvals) {
      o->void_plan_changed = plan_hash && strcmp(plan_hash, o->plan_hash) != 0;
      o->in_force = !o->void_plan_changed;
    } else {
      o->expires =
          journal_column_type(st, 10) == JOURNAL_NULL ? 0 : (double)journal_column_int64(st, 10) / 1000.0;
      o->in_force = o->expires == 0 || now < o->expires;
    }
  }
  if (rc != JOURNAL_DONE) s = journal_sql_fail(j, err, "read sign-offs");
out:
  if (s != GG_OK) {
    journal_signoffs_free(arr, len);
    arr = NULL;
    len = 0;
  }
  *out = arr;
  *n = len;
  return s;
}

gg_status journal_approvals(journal *j, const char *phase, const char *current_plan_hash,
                            journal_signoff **out, size_t *n, gg_error *err) {
  *out = NULL;
  *n = 0;
  journal_stmt *st = NULL;
  gg_status s =
      journal_prepare(j,
                      "SELECT seq, time_ms, phase, by_name, os_user, host, role, decision, plan_hash,"
                      " note, NULL FROM approvals a WHERE phase IS ?1 AND seq = (SELECT max(b.seq)"
                      " FROM approvals b WHERE b.phase IS a.phase AND b.role = a.role) ORDER BY role",
                      &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  s = collect_signoffs(j, st, true, current_plan_hash, 0, out, n, err);
  journal_finalize(st);
  return s;
}

gg_status journal_attestations(journal *j, const char *phase, double now, journal_signoff **out, size_t *n,
                               gg_error *err) {
  *out = NULL;
  *n = 0;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT seq, time_ms, phase, by_name, os_user, host, item, NULL, plan_hash,"
                                " note, expires_ms FROM attestations a WHERE (?2 = 1 OR phase IS ?1) AND"
                                " seq = (SELECT max(b.seq) FROM attestations b WHERE b.item = a.item AND"
                                " (?2 = 1 OR b.phase IS ?1)) ORDER BY item",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase == JOURNAL_ANY_PHASE ? NULL : phase);
  journal_bind_int64(st, 2, phase == JOURNAL_ANY_PHASE);
  s = collect_signoffs(j, st, false, NULL, now, out, n, err);
  journal_finalize(st);
  return s;
}

/* ---- marks ---------------------------------------------------------------------------------------- */

void journal_marks_free(journal_mark_info *m, size_t n) {
  if (!m) return;
  for (size_t i = 0; i < n; i++) {
    free(m[i].kind);
    free(m[i].by);
    free(m[i].note);
  }
  free(m);
}

gg_status journal_marks(journal *j, const char *mark_kind, journal_mark_info **out, size_t *n,
                        gg_error *err) {
  *out = NULL;
  *n = 0;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT seq, mark, at_ms, by_name, note FROM marks WHERE ?1 IS NULL OR"
                                " mark = ?1 ORDER BY at_ms, seq",
                                &st, err);
  if (s != GG_OK) return s;
  if (mark_kind)
    journal_bind_text(st, 1, mark_kind);
  else
    journal_bind_null(st, 1);
  journal_mark_info *arr = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = journal_step(st)) == JOURNAL_ROW) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      journal_mark_info *na = realloc(arr, ncap * sizeof *na);
      if (!na) {
        s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
        goto out;
      }
      arr = na;
      cap = ncap;
    }
    journal_mark_info *m = &arr[len++];
    memset(m, 0, sizeof *m);
    m->seq = journal_column_int64(st, 0);
    m->kind = journal_col_strdup(st, 1);
    m->at = (double)journal_column_int64(st, 2) / 1000.0;
    m->by = journal_col_strdup(st, 3);
    m->note = journal_col_strdup(st, 4);
    if (!m->kind || !m->by) {
      s = gg_error_set(err, GG_ERR_NOMEM, "out of memory (or a damaged mark %lld)", m->seq);
      goto out;
    }
  }
  if (rc != JOURNAL_DONE) s = journal_sql_fail(j, err, "read marks");
out:
  journal_finalize(st);
  if (s != GG_OK) {
    journal_marks_free(arr, len);
    arr = NULL;
    len = 0;
  }
  *out = arr;
  *n = len;
  return s;
}

/* ---- phase state ------------------------------------------------------------------------------- */

const char *journal_phase_state_name(journal_phase_state s) {
  switch (s) {
    case JOURNAL_STATE_NOT_STARTED:
      return "not started";
    case JOURNAL_STATE_PREPARED:
      return "prepared";
    case JOURNAL_STATE_DECIDED:
      return "decided";
    case JOURNAL_STATE_RUNNING:
      return "running";
    case JOURNAL_STATE_COMPLETED:
      return "completed";
    case JOURNAL_STATE_FAILED:
      return "failed";
    case JOURNAL_STATE_ROLLED_BACK:
      return "rolled back";
    case JOURNAL_STATE_ROLLBACK_INCOMPLETE:
      return "rollback incomplete";
  }
  return "?";
}

/* The latest lifecycle event of a phase: its kind, seq and time (seq 0 when none). */
typedef struct {
  long long seq;
  double time;
  journal_kind kind;
} lifecycle;

/* Whether a rollback began (its "rollback started" note, act/run.c) after lifecycle event seq. */
static gg_status rollback_begun_after(journal *j, const char *phase, long long seq, bool *begun,
                                      gg_error *err) {
  *begun = false;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT 1 FROM events WHERE phase IS ? AND kind = 'note' AND seq > ?"
                                " AND json_extract(content, '$.note') = 'rollback started' LIMIT 1",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  journal_bind_int64(st, 2, seq);
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW)
    *begun = true;
  else if (rc != JOURNAL_DONE)
    s = journal_sql_fail(j, err, "read phase rollback");
  journal_finalize(st);
  return s;
}

static gg_status latest_lifecycle(journal *j, const char *phase, lifecycle *lc, gg_error *err) {
  memset(lc, 0, sizeof *lc);
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT seq, time_ms, kind FROM phase_lifecycle WHERE phase IS ?"
                                " ORDER BY seq DESC LIMIT 1",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    lc->seq = journal_column_int64(st, 0);
    lc->time = (double)journal_column_int64(st, 1) / 1000.0;
    const char *k = (const char *)journal_column_text(st, 2);
    if (!k || journal_kind_parse(k, &lc->kind, NULL) != GG_OK) lc->seq = 0;
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read phase state");
  }
  journal_finalize(st);
  return s;
}

/* The latest time of each lifecycle kind of `phase`. */
static gg_status phase_times(journal *j, const char *phase, journal_phase_info *out, gg_error *err) {
  journal_stmt *st = NULL;
  /* The latest time (and reason) of each lifecycle kind. */
  gg_status s =
      journal_prepare(j,
                      "SELECT p.kind, p.time_ms, p.reason FROM phase_lifecycle p WHERE p.phase IS ?1"
                      " AND p.seq = (SELECT max(q.seq) FROM phase_lifecycle q WHERE q.phase IS ?1"
                      " AND q.kind = p.kind)",
                      &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  int rc;
  while ((rc = journal_step(st)) == JOURNAL_ROW) {
    const char *k = (const char *)journal_column_text(st, 0);
    double t = (double)journal_column_int64(st, 1) / 1000.0;
    const char *reason = (const char *)journal_column_text(st, 2);
    if (!k) continue;
    if (strcmp(k, "phase_prepared") == 0) out->prepared_at = t;
    if (strcmp(k, "phase_started") == 0) out->started_at = t;
    if (strcmp(k, "phase_completed") == 0) out->completed_at = t;
    if (strcmp(k, "phase_failed") == 0) out->failed_at = t;
    if (strcmp(k, "phase_rolled_back") == 0) out->rolled_back_at = t;
    (void)reason;
  }
  journal_finalize(st);
  st = NULL;
  if (rc != JOURNAL_DONE) return journal_sql_fail(j, err, "read phase state");
  return GG_OK;
}

/* The latest decision (an evaluation, decision or override event) into out; its seq. */
static gg_status latest_decision(journal *j, const char *phase, journal_phase_info *out,
                                 long long *decision_seq, gg_error *err) {
  journal_stmt *st = NULL;
  int rc;
  /* The latest decision: an evaluation or decision event, or an override (a GO by a human). */
  gg_status s = journal_prepare(j,
                                "SELECT seq, time_ms, kind, json_extract(content, '$.decision') FROM events"
                                " WHERE phase IS ? AND kind IN ('evaluation', 'decision', 'override')"
                                " ORDER BY seq DESC LIMIT 1",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  *decision_seq = 0;
  rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    const char *k = (const char *)journal_column_text(st, 2);
    const char *d = (const char *)journal_column_text(st, 3);
    out->overridden = k && strcmp(k, "override") == 0;
    if (out->overridden && !d) d = "GO";
    if (d) {
      *decision_seq = journal_column_int64(st, 0);
      out->decided_at = (double)journal_column_int64(st, 1) / 1000.0;
      size_t i = 0;
      for (; d[i] && i + 1 < sizeof out->decision; i++)
        out->decision[i] = (char)(d[i] >= 'a' && d[i] <= 'z' ? d[i] - 'a' + 'A' : d[i]);
      out->decision[i] = '\0';
    }
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read phase decision");
  }
  journal_finalize(st);
  st = NULL;
  if (s != GG_OK) return s;

  return GG_OK;
}

static journal_phase_state state_of(const lifecycle *lc) {
  journal_phase_state state;
  switch (lc->seq ? lc->kind : JOURNAL_NOTE) {
    case JOURNAL_PHASE_STARTED:
      state = JOURNAL_STATE_RUNNING;
      break;
    case JOURNAL_PHASE_COMPLETED:
      state = JOURNAL_STATE_COMPLETED;
      break;
    case JOURNAL_PHASE_FAILED:
      state = JOURNAL_STATE_FAILED;
      break;
    case JOURNAL_PHASE_ROLLED_BACK:
      state = JOURNAL_STATE_ROLLED_BACK;
      break;
    case JOURNAL_PHASE_PREPARED:
      state = JOURNAL_STATE_PREPARED;
      break;
    default:
      state = JOURNAL_STATE_NOT_STARTED;
      break;
  }
  return state;
}

/* Why a rollback is incomplete: the error of its latest failed inverse after lifecycle seq. */
static gg_status incomplete_reason(journal *j, const char *phase, long long after, journal_phase_info *out,
                                   gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s;
  s = journal_prepare(j,
                      "SELECT json_extract(content, '$.error') FROM events WHERE phase IS ? AND seq > ?"
                      " AND kind = 'action_outcome' AND json_extract(content, '$.mode') = 'inverse'"
                      " AND json_extract(content, '$.result') = 'failed' ORDER BY seq DESC LIMIT 1",
                      &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  journal_bind_int64(st, 2, after);
  if (journal_step(st) == JOURNAL_ROW && journal_column_text(st, 0))
    snprintf(out->reason, sizeof out->reason, "%s", (const char *)journal_column_text(st, 0));
  journal_finalize(st);
  st = NULL;
  return GG_OK;
}

/* What the rollback (or failure) event at seq says: its reason, what it carried back, what it kept. */
static gg_status rollback_details(journal *j, long long seq, journal_phase_info *out, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s;
  {
    /* The dialects join a JSON array differently. */
    s = journal_prepare(
        j,
        journal_is_pg(j)
            ? "SELECT json_extract(content, '$.reason'), json_extract(content, '$.carried_back'),"
              " (SELECT string_agg(k, '; ') FROM jsonb_array_elements_text(CASE WHEN"
              " jsonb_typeof(content::jsonb -> 'kept') = 'array' THEN content::jsonb -> 'kept'"
              " ELSE '[]'::jsonb END) AS k) FROM events WHERE seq = ?"
            : "SELECT json_extract(content, '$.reason'), json_extract(content, '$.carried_back'),"
              " (SELECT group_concat(value, '; ') FROM json_each(content, '$.kept'))"
              " FROM events WHERE seq = ?",
        &st, err);
    if (s != GG_OK) return s;
    journal_bind_int64(st, 1, seq);
    if (journal_step(st) == JOURNAL_ROW) {
      if (journal_column_text(st, 0))
        snprintf(out->reason, sizeof out->reason, "%s", (const char *)journal_column_text(st, 0));
      if (journal_column_type(st, 1) != JOURNAL_NULL) out->carried_back = journal_column_int64(st, 1);
      if (journal_column_text(st, 2))
        snprintf(out->kept, sizeof out->kept, "%s", (const char *)journal_column_text(st, 2));
    }
    journal_finalize(st);
  }
  return GG_OK;
}

gg_status journal_phase(journal *j, const char *phase, journal_phase_info *out, gg_error *err) {
  memset(out, 0, sizeof *out);
  gg_status s = phase_times(j, phase, out, err);
  if (s != GG_OK) return s;
  lifecycle lc;
  if ((s = latest_lifecycle(j, phase, &lc, err)) != GG_OK) return s;
  long long decision_seq = 0;
  if ((s = latest_decision(j, phase, out, &decision_seq, err)) != GG_OK) return s;
  out->state = state_of(&lc);
  /* A rollback begun after a run and not finished: never "completed" or "running" while the
   * subjects may be back on the old stream. */
  out->carried_back = -1;
  if (out->state == JOURNAL_STATE_COMPLETED || out->state == JOURNAL_STATE_RUNNING ||
      out->state == JOURNAL_STATE_FAILED) {
    bool begun = false;
    if ((s = rollback_begun_after(j, phase, lc.seq, &begun, err)) != GG_OK) return s;
    if (begun) {
      out->state = JOURNAL_STATE_ROLLBACK_INCOMPLETE;
      return incomplete_reason(j, phase, lc.seq, out, err);
    }
  }
  /* A decision after the last lifecycle event is a new attempt, also after a rollback or failure. */
  journal_phase_state was = out->state;
  if ((was == JOURNAL_STATE_NOT_STARTED || was == JOURNAL_STATE_PREPARED ||
       was == JOURNAL_STATE_ROLLED_BACK || was == JOURNAL_STATE_FAILED) &&
      decision_seq > lc.seq)
    out->state = JOURNAL_STATE_DECIDED;
  if (was == JOURNAL_STATE_ROLLED_BACK || was == JOURNAL_STATE_FAILED)
    return rollback_details(j, lc.seq, out, err);
  return GG_OK;
}

bool journal_phase_checkpoints_cancelled(const journal_phase_info *pi) {
  if (pi->state == JOURNAL_STATE_ROLLBACK_INCOMPLETE) return true;
  if (pi->state == JOURNAL_STATE_RUNNING || pi->state == JOURNAL_STATE_COMPLETED) return false;
  return pi->rolled_back_at > 0 && pi->rolled_back_at >= pi->completed_at &&
         pi->rolled_back_at >= pi->started_at;
}

/* ---- series ------------------------------------------------------------------------------------ */

gg_status journal_series_phase_completed(journal *j, const char *phase, double *value, gg_error *err) {
  lifecycle lc;
  gg_status s = latest_lifecycle(j, phase, &lc, err);
  if (s != GG_OK) return s;
  bool begun = false;
  if (lc.seq && lc.kind == JOURNAL_PHASE_COMPLETED &&
      (s = rollback_begun_after(j, phase, lc.seq, &begun, err)) != GG_OK)
    return s;
  *value = lc.seq && lc.kind == JOURNAL_PHASE_COMPLETED && !begun ? 1.0 : 0.0;
  return GG_OK;
}

gg_status journal_series_phase_completed_age(journal *j, const char *phase, double now, double *value,
                                             gg_error *err) {
  lifecycle lc;
  gg_status s = latest_lifecycle(j, phase, &lc, err);
  if (s != GG_OK) return s;
  if (!lc.seq || lc.kind != JOURNAL_PHASE_COMPLETED)
    return gg_error_set(err, GG_ERR_NO_DATA, "phase '%s' is not completed (%s)", phase,
                        lc.seq ? journal_kind_name(lc.kind) : "never started");
  *value = now - lc.time;
  return GG_OK;
}

gg_status journal_series_phase_stable_for(journal *j, const char *phase, double now, double *value,
                                          gg_error *err) {
  lifecycle lc;
  gg_status s = latest_lifecycle(j, phase, &lc, err);
  if (s != GG_OK) return s;
  *value = 0;
  if (!lc.seq || lc.kind != JOURNAL_PHASE_COMPLETED) return GG_OK;
  journal_stmt *st = NULL;
  s = journal_prepare(j,
                      "SELECT max(time_ms) FROM events WHERE kind = 'rule_firing' AND seq > ?1 AND"
                      " json_extract(content, '$.then') = 'rollback' AND (phase IS NULL OR phase = ?2)",
                      &st, err);
  if (s != GG_OK) return s;
  journal_bind_int64(st, 1, lc.seq);
  journal_bind_phase(st, 2, phase);
  double since = lc.time;
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW && journal_column_type(st, 0) != JOURNAL_NULL) {
    double t = (double)journal_column_int64(st, 0) / 1000.0;
    if (t > since) since = t;
  } else if (rc != JOURNAL_ROW) {
    s = journal_sql_fail(j, err, "read rule triggers");
  }
  journal_finalize(st);
  if (s == GG_OK) *value = now > since ? now - since : 0;
  return s;
}

gg_status journal_series_event_age(journal *j, const char *kind, double now, double *value, gg_error *err) {
  bool mark = strcmp(kind, "deployment") == 0 || strcmp(kind, "incident") == 0;
  journal_kind k;
  if (!mark) {
    gg_status ks = journal_kind_parse(kind, &k, err);
    if (ks != GG_OK) return gg_error_prefix(err, "event.age: ");
  }
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(
      j,
      mark ? "SELECT max(at_ms) FROM marks WHERE mark = ?" : "SELECT max(time_ms) FROM events WHERE kind = ?",
      &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, kind);
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW && journal_column_type(st, 0) != JOURNAL_NULL)
    *value = now - (double)journal_column_int64(st, 0) / 1000.0;
  else if (rc == JOURNAL_ROW)
    s = gg_error_set(err, GG_ERR_NO_DATA, "event.age: the journal has no %s %s", kind,
                     mark ? "mark" : "event");
  else
    s = journal_sql_fail(j, err, "read event times");
  journal_finalize(st);
  return s;
}

gg_status journal_series_attested(journal *j, const char *item, double now, double *value, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(
      j, "SELECT expires_ms FROM attestations WHERE item = ? ORDER BY seq DESC LIMIT 1", &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, item);
  int rc = journal_step(st);
  *value = 0;
  if (rc == JOURNAL_ROW)
    *value = journal_column_type(st, 0) == JOURNAL_NULL || now * 1000.0 < (double)journal_column_int64(st, 0)
                 ? 1
                 : 0;
  else if (rc != JOURNAL_DONE)
    s = journal_sql_fail(j, err, "read attestations");
  journal_finalize(st);
  return s;
}

void journal_set_plan(journal *j, const char *plan_hash, double rehearsal_valid_for) {
  snprintf(j->plan_hash, sizeof j->plan_hash, "%s", plan_hash ? plan_hash : "");
  j->rehearsal_valid_for = rehearsal_valid_for > 0 ? rehearsal_valid_for : JOURNAL_REHEARSAL_VALID_FOR;
}

gg_status journal_series_rehearsal_passed(journal *j, const char *phase, double now, double *value,
                                          gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT time_ms, json_extract(content, '$.result'), json_extract(content, "
                                "'$.plan_hash') FROM events WHERE kind = 'rehearsal' AND phase IS ? "
                                "ORDER BY seq DESC LIMIT 1",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_phase(st, 1, phase);
  int rc = journal_step(st);
  *value = 0;
  if (rc == JOURNAL_ROW) {
    double at = (double)journal_column_int64(st, 0) / 1000.0;
    const char *result = (const char *)journal_column_text(st, 1);
    const char *hash = (const char *)journal_column_text(st, 2);
    double valid = j->rehearsal_valid_for > 0 ? j->rehearsal_valid_for : JOURNAL_REHEARSAL_VALID_FOR;
    if (result && strcmp(result, "passed") == 0 && hash && j->plan_hash[0] &&
        strcmp(hash, j->plan_hash) == 0 && now - at <= valid)
      *value = 1;
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read rehearsals");
  }
  journal_finalize(st);
  return s;
}
