/*
 * lessons.c: the report's last section, "Lessons Learned (Post-Migration)" as the plan's source
 * document lays it out: the facts for the discussion drafted from the record (time per phase,
 * cutover gaps, rollbacks and why, overrides, rules that fired, checkpoint results), then what
 * `gonogo retro` recorded: what went well, what could be improved, action items (owner, due).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "report/internal.h"
#include "report/report.h"

/* Seconds from member a to member b of o (ISO times); NAN when either is missing. */
static double span(const json_t *o, const char *a, const char *b) {
  double ta = 0, tb = 0;
  if (gg_time_parse(report_jstr(o, a), &ta, NULL) != GG_OK ||
      gg_time_parse(report_jstr(o, b), &tb, NULL) != GG_OK)
    return NAN;
  return tb - ta;
}

static void add_fact(json_t *facts, const char *topic, const char *fmt, ...) GG_PRINTF(3, 4);
static void add_fact(json_t *facts, const char *topic, const char *fmt, ...) {
  char text[1500];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  json_array_append_new(facts, json_pack("{s:s, s:s}", "topic", topic, "text", text));
}

/* Time from start to completion (or to the rollback), and the rollback against its estimate. */
static void phase_times(json_t *facts, const json_t *ph, const char *name) {
  char d[64], est[64];
  double ran = span(ph, "started_at", "completed_at");
  if (isfinite(ran) && ran >= 0)
    add_fact(facts, "time", "%s: started %s, completed after %s", name, report_jstr(ph, "started_at"),
             report_format_ms(ran * 1000, d, sizeof d));
  else if (*report_jstr(ph, "started_at"))
    add_fact(facts, "time", "%s: started %s, now %s", name, report_jstr(ph, "started_at"),
             report_jstr(ph, "state"));
  double undo_ms = 0;
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(ph, "actions"), i, a) {
    if (strcmp(report_jstr(a, "mode"), "inverse") == 0 && json_is_number(json_object_get(a, "elapsed_ms")))
      undo_ms += json_number_value(json_object_get(a, "elapsed_ms"));
  }
  const json_t *r;
  json_array_foreach(json_object_get(ph, "rollbacks"), i, r) {
    bool failed = strcmp(report_jstr(r, "event"), "phase_failed") == 0;
    char carried[64] = "";
    if (json_is_integer(json_object_get(r, "carried_back")))
      snprintf(carried, sizeof carried, "; %lld message%s carried back",
               (long long)json_integer_value(json_object_get(r, "carried_back")),
               json_integer_value(json_object_get(r, "carried_back")) == 1 ? "" : "s");
    add_fact(facts, "rollback", "%s: %s at %s by %s: %s%s", name, failed ? "failed" : "rolled back",
             report_jstr(r, "at"), report_jstr(r, "by"), report_jstr(r, "reason"), carried);
  }
  if (undo_ms > 0) {
    const json_t *rb = json_object_get(ph, "rollback_plan");
    const json_t *e = json_object_get(rb, "estimate_s");
    est[0] = '\0';
    if (json_is_number(e)) report_format_ms(json_number_value(e) * 1000, est, sizeof est);
    add_fact(facts, "rollback", "%s: undoing its actions took %s%s%s%s", name,
             report_format_ms(undo_ms, d, sizeof d), est[0] ? " (the plan estimates " : "", est,
             est[0] ? ")" : "");
  }
}

/* Cutover gaps, overrides, rule firings and checkpoint results of one phase. */
static void phase_events(json_t *facts, const json_t *ph, const char *name) {
  char d[64];
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(ph, "actions"), i, a) {
    const json_t *gap = json_object_get(a, "gap_ms");
    if (json_is_number(gap) && json_number_value(gap) >= 0)
      add_fact(facts, "cutover", "%s: %s: publish gap %s (%s)", name,
               *report_jstr(a, "describe") ? report_jstr(a, "describe") : report_jstr(a, "action"),
               report_format_ms(json_number_value(gap), d, sizeof d), report_jstr(a, "mode"));
  }
  json_array_foreach(json_object_get(ph, "overrides"), i, a) {
    char what[900];
    report_override_what(a, what, sizeof what);
    add_fact(facts, "override", "%s: OVERRIDE by %s at %s: %s", name, report_jstr(a, "by"),
             report_jstr(a, "at"), what);
  }
  json_array_foreach(json_object_get(ph, "rule_firings"), i, a) {
    add_fact(facts, "rule", "%s: rule '%s' fired at %s (then %s)", name, report_jstr(a, "rule"),
             report_jstr(a, "at"), report_jstr(a, "then"));
  }
  json_array_foreach(json_object_get(ph, "checkpoints"), i, a) {
    add_fact(facts, "checkpoint", "%s: checkpoint '%s': %s", name, report_jstr(a, "checkpoint"),
             report_jstr(a, "result"));
  }
}

static json_t *draft_facts(const json_t *doc) {
  json_t *facts = json_array();
  size_t i;
  const json_t *ph;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    if (!*report_jstr(ph, "started_at") && !report_count(ph, "rollbacks") && !report_count(ph, "overrides"))
      continue; /* never ran: nothing happened to learn from */
    char name[256];
    snprintf(name, sizeof name, "phase %s (%s)", report_jstr(ph, "id"), report_jstr(ph, "name"));
    phase_times(facts, ph, name);
    phase_events(facts, ph, name);
  }
  json_array_foreach(json_object_get(doc, "rule_firings"), i, ph) {
    add_fact(facts, "rule", "rule '%s' fired at %s (then %s), no phase applied", report_jstr(ph, "rule"),
             report_jstr(ph, "at"), report_jstr(ph, "then"));
  }
  return facts;
}

static gg_status retro_events(journal *j, json_t *retro, gg_error *err) {
  journal_filter f = journal_filter_all();
  f.kind = "retro_entry";
  journal_event *evs = NULL;
  size_t n = 0;
  gg_status st = journal_events(j, &f, &evs, &n, err);
  if (st != GG_OK) return st;
  json_t *entries = json_object_get(retro, "entries");
  for (size_t i = 0; i < n; i++) {
    json_t *c = journal_event_content(&evs[i]);
    if (!c) continue;
    char when[40];
    json_object_set_new(c, "by", json_string(evs[i].actor));
    json_object_set_new(c, "at", json_string(gg_time_format(evs[i].time, when, sizeof when)));
    json_object_set_new(c, "seq", json_integer(evs[i].seq));
    json_array_append_new(entries, c);
  }
  journal_events_free(evs, n);
  journal_event *last = NULL;
  st = journal_last_event(j, JOURNAL_RETRO_COMPLETED, JOURNAL_NO_PHASE, &last, err);
  if (st == GG_ERR_NOT_FOUND) {
    gg_error_clear(err);
    return GG_OK;
  }
  if (st != GG_OK) return st;
  json_t *c = journal_event_content(last);
  json_t *done = json_object();
  char when[40];
  json_object_set_new(done, "by", json_string(last->actor));
  json_object_set_new(done, "at", json_string(gg_time_format(last->time, when, sizeof when)));
  if (c && json_is_string(json_object_get(c, "note")))
    json_object_set(done, "note", json_object_get(c, "note"));
  json_decref(c);
  json_object_set_new(retro, "completed", done);
  journal_events_free(last, 1);
  return GG_OK;
}

gg_status report_gather_retro(const plan *p, journal *j, json_t *doc, gg_error *err) {
  (void)p;
  json_t *retro = json_pack("{s:o, s:o, s:o}", "facts", draft_facts(doc), "entries", json_array(),
                            "completed", json_null());
  if (!retro) return gg_error_set(err, GG_ERR_NOMEM, "gather the retrospective");
  gg_status st = j ? retro_events(j, retro, err) : GG_OK;
  if (st != GG_OK) {
    json_decref(retro);
    return gg_error_prefix(err, "read the retrospective: ");
  }
  json_object_set_new(doc, "retro", retro);
  return GG_OK;
}

/* ---- rendering ---- */

static void entries_of(report_writer *w, const json_t *retro, const char *kind, const char *title) {
  report_w_heading(w, 3, title);
  size_t i, n = 0;
  const json_t *e;
  json_array_foreach(json_object_get(retro, "entries"), i, e) {
    if (strcmp(report_jstr(e, "entry"), kind) != 0) continue;
    if (n++ == 0) report_w_list_open(w);
    char text[1200];
    snprintf(text, sizeof text, "%s (%s)", report_jstr(e, "text"), report_jstr(e, "by"));
    report_w_item(w, NULL, text);
  }
  if (n) {
    report_w_list_close(w);
    return;
  }
  report_w_para_open(w, "dim");
  report_w_fmt(w, "None recorded: gonogo retro PLAN --%s TEXT --by NAME", kind);
  report_w_para_close(w);
}

static void action_items(report_writer *w, const json_t *retro) {
  report_w_heading(w, 3, "Action Items");
  size_t i, n = 0;
  const json_t *e;
  json_array_foreach(json_object_get(retro, "entries"), i, e) {
    if (strcmp(report_jstr(e, "entry"), "action-item") != 0) continue;
    if (n++ == 0) {
      const char *heads[] = {"Action item", "Owner", "Due", "Recorded by"};
      report_w_table(w, heads, 4);
    }
    char due[16];
    snprintf(due, sizeof due, "%.10s", report_jstr(e, "due"));
    const char *cells[] = {report_jstr(e, "text"), report_jstr(e, "owner"), due, report_jstr(e, "by")};
    report_w_row(w, cells, 4);
  }
  if (n) {
    report_w_table_end(w);
    return;
  }
  report_w_para_open(w, "dim");
  report_w_text(w, "None recorded: gonogo retro PLAN --action-item TEXT --owner NAME --due DATE --by NAME");
  report_w_para_close(w);
}

void report_section_lessons(report_writer *w, const json_t *doc) {
  const json_t *retro = json_object_get(doc, "retro");
  if (!json_is_object(retro)) return;
  if (w->html) report_w_raw(w, "<section id=\"lessons\">");
  report_w_heading(w, 2, "Lessons Learned (Post-Migration)");
  const json_t *done = json_object_get(retro, "completed");
  report_w_para_open(w, NULL);
  if (json_is_object(done)) {
    report_w_strong(w, "ok", "Retrospective completed");
    report_w_fmt(w, " by %s at %s%s%s", report_jstr(done, "by"), report_jstr(done, "at"),
                 *report_jstr(done, "note") ? ": " : "", report_jstr(done, "note"));
  } else {
    report_w_strong(w, "warn", "Retrospective not completed");
    report_w_text(w, " (close it with gonogo retro PLAN --complete --by NAME)");
  }
  report_w_para_close(w);
  report_w_heading(w, 3, "Facts from the record");
  const json_t *facts = json_object_get(retro, "facts");
  if (json_array_size(facts) == 0) {
    report_w_para_open(w, "dim");
    report_w_text(w, "No phase has run yet.");
    report_w_para_close(w);
  } else {
    report_w_list_open(w);
    size_t i;
    const json_t *f;
    json_array_foreach(facts, i, f) {
      const char *topic = report_jstr(f, "topic");
      report_w_item(w, strcmp(topic, "override") == 0 || strcmp(topic, "rollback") == 0 ? "bad" : NULL,
                    report_jstr(f, "text"));
    }
    report_w_list_close(w);
  }
  entries_of(w, retro, "went-well", "What Went Well");
  entries_of(w, retro, "improve", "What Could Be Improved");
  action_items(w, retro);
  if (w->html) report_w_raw(w, "</section>\n");
}

gg_status report_render_lessons_md(const json_t *doc, gg_buf *out, gg_error *err) {
  report_writer w = {.b = out, .html = false, .st = GG_OK};
  report_section_lessons(&w, doc);
  if (w.st != GG_OK) return gg_error_set(err, w.st, "render the lessons learned");
  return GG_OK;
}
