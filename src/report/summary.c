/*
 * summary.c: the report's first sections: the migration's state in one line, right under the
 * title, then the executive summary: one row a phase (state, decision and who signed, cutover gaps, rollback
 * time, rules fired), the overrides in red and the rules that fired. Everything below it is detail.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "report/internal.h"
#include "report/report.h"

/* The phase the migration's state is about: a rollback that did not finish, else the latest
 * rollback or failure, else a running phase, else the latest completed one; NULL when none ran. */
static const json_t *headline_phase(const json_t *doc, const char **word, const char **cls) {
  static const struct {
    const char *state, *word, *cls;
  } order[] = {{"rollback incomplete", "ROLLBACK INCOMPLETE", "bad"},
               {"rolled back", "ROLLED BACK", "bad"},
               {"failed", "FAILED", "bad"},
               {"running", "RUNNING", "warn"},
               {"completed", "COMPLETED", "ok"}};
  for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
    const json_t *best = NULL;
    size_t i;
    const json_t *ph;
    json_array_foreach(json_object_get(doc, "phases"), i, ph) {
      if (strcmp(report_jstr(ph, "state"), order[k].state) == 0) best = ph; /* the last in plan order */
    }
    if (best) {
      *word = order[k].word;
      *cls = order[k].cls;
      return best;
    }
  }
  *word = "NOT STARTED";
  *cls = "warn";
  return NULL;
}

static void state_line(report_writer *w, const json_t *doc) {
  const char *word, *cls;
  const json_t *ph = headline_phase(doc, &word, &cls);
  report_w_para_open(w, strcmp(cls, "bad") == 0  ? "state bad"
                        : strcmp(cls, "ok") == 0 ? "state ok"
                                                 : "state warn");
  report_w_strong(w, cls, word);
  if (ph) {
    const char *state = report_jstr(ph, "state");
    const char *at = strcmp(state, "completed") == 0 ? report_jstr(ph, "completed_at")
                     : strcmp(state, "running") == 0 ? report_jstr(ph, "started_at")
                     : strcmp(state, "failed") == 0  ? report_jstr(ph, "failed_at")
                                                     : report_jstr(ph, "rolled_back_at");
    report_w_fmt(w, " · phase %s (%s)", report_jstr(ph, "id"), report_jstr(ph, "name"));
    if (*at) report_w_fmt(w, " at %s", at);
    const char *reason = report_jstr(ph, "reason");
    const char *rule = strncmp(reason, "rule '", 6) == 0 ? strstr(reason + 6, "' fired") : NULL;
    if (rule) /* the rule's name here; what it saw is in the phase's section */
      report_w_fmt(w, " · by rule '%.*s'", (int)(rule - reason - 6), reason + 6);
    else if (*reason)
      report_w_fmt(w, " · %s", reason);
    const json_t *rbs = json_object_get(ph, "rollbacks");
    const json_t *last = json_array_get(rbs, json_array_size(rbs) ? json_array_size(rbs) - 1 : 0);
    if (strcmp(cls, "bad") == 0 && json_is_integer(json_object_get(last, "carried_back"))) {
      long long n = (long long)json_integer_value(json_object_get(last, "carried_back"));
      report_w_fmt(w, " · carried back %lld message%s", n, n == 1 ? "" : "s");
    }
    if (strcmp(cls, "bad") == 0)
      report_w_fmt(w, " · next: investigate, then gonogo check %s --phase %s", report_jstr(doc, "plan"),
                   report_jstr(ph, "id"));
  } else {
    report_w_fmt(w, " · next: gonogo check %s --phase N", report_jstr(doc, "plan"));
  }
  report_w_para_close(w);
}

/* "ops: alice (go); dba: bob (go)" from the approvals in force. */
static void signed_by(const json_t *ph, char *out, size_t n) {
  size_t off = 0, i;
  const json_t *a;
  out[0] = '\0';
  json_array_foreach(json_object_get(ph, "approvals"), i, a) {
    if (!*report_jstr(a, "by") || off >= n) continue;
    off += (size_t)snprintf(out + off, n - off, "%s%s: %s (%s%s)", off ? "; " : "", report_jstr(a, "role"),
                            report_jstr(a, "by"), report_jstr(a, "decision"),
                            strcmp(report_jstr(a, "status"), "in force") == 0 ? "" : ", void");
  }
}

/* The largest measured publish gap of the phase's forward actions, and the time its rollback's
 * undo took (inverse actions), formatted; "-" when none. */
static void gaps(const json_t *ph, char *gap, size_t gn, char *undo, size_t un) {
  double max_gap = -1, undo_ms = 0;
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(ph, "actions"), i, a) {
    const json_t *g = json_object_get(a, "gap_ms"), *e = json_object_get(a, "elapsed_ms");
    bool inverse = strcmp(report_jstr(a, "mode"), "inverse") == 0;
    if (!inverse && json_is_number(g) && json_number_value(g) > max_gap) max_gap = json_number_value(g);
    if (inverse && json_is_number(e)) undo_ms += json_number_value(e);
  }
  report_format_ms(max_gap, gap, gn);
  if (undo_ms > 0)
    report_format_ms(undo_ms, undo, un);
  else if (report_count(ph, "rollbacks"))
    snprintf(undo, un, "nothing to undo");
  else
    snprintf(undo, un, "-");
}

static void phase_rows(report_writer *w, const json_t *doc) {
  const char *heads[] = {"Phase", "State", "Decision", "Signed by", "Cutover gap", "Rollback", "Rules fired"};
  report_w_table(w, heads, 7);
  size_t i;
  const json_t *ph;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    char name[256], who[1024], gap[32], undo[64], fired[16], decision[64];
    snprintf(name, sizeof name, "%s · %s", report_jstr(ph, "id"), report_jstr(ph, "name"));
    signed_by(ph, who, sizeof who);
    gaps(ph, gap, sizeof gap, undo, sizeof undo);
    snprintf(fired, sizeof fired, "%zu", report_count(ph, "rule_firings"));
    const json_t *d = json_object_get(ph, "decision");
    snprintf(decision, sizeof decision, "%s%s", json_is_object(d) ? report_jstr(d, "decision") : "",
             json_is_true(json_object_get(ph, "overridden")) ? " (OVERRIDE)" : "");
    const char *cells[] = {name, report_jstr(ph, "state"), decision, who, gap, undo, fired};
    report_w_row(w, cells, 7);
  }
  report_w_table_end(w);
}

static void overrides_and_firings(report_writer *w, const json_t *doc) {
  size_t i, k, n = 0;
  const json_t *ph, *o;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    json_array_foreach(json_object_get(ph, "overrides"), k, o) {
      if (n++ == 0) report_w_list_open(w);
      char text[1200], what[900];
      report_override_what(o, what, sizeof what);
      snprintf(text, sizeof text, "OVERRIDE of phase %s by %s at %s: %s", report_jstr(ph, "id"),
               report_jstr(o, "by"), report_jstr(o, "at"), what);
      report_w_item(w, "bad", text);
    }
    json_array_foreach(json_object_get(ph, "rule_firings"), k, o) {
      if (n++ == 0) report_w_list_open(w);
      char text[1200];
      snprintf(text, sizeof text, "rule '%s' fired at %s (then %s) during phase %s", report_jstr(o, "rule"),
               report_jstr(o, "at"), report_jstr(o, "then"), report_jstr(ph, "id"));
      report_w_item(w, strcmp(report_jstr(o, "then"), "rollback") == 0 ? "bad" : NULL, text);
    }
  }
  if (n) report_w_list_close(w);
}

void report_section_state(report_writer *w, const json_t *doc) {
  state_line(w, doc);
}

void report_section_summary(report_writer *w, const json_t *doc) {
  if (w->html) report_w_raw(w, "<section id=\"summary\">");
  report_w_heading(w, 2, "Executive summary");
  phase_rows(w, doc);
  overrides_and_firings(w, doc);
  if (w->html) report_w_raw(w, "</section>\n");
}
