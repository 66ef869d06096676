/* Rendering the report document as Markdown, as one self-contained HTML page, and as JSON.
 * Markdown and HTML share one small writer (headings, paragraphs, tables), so both show the
 * same facts in the same order; only the markup differs. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html/html.h"
#include "report/internal.h"
#include "report/report.h"

/* The writer (writer.c) under the short names this file has always used. */
typedef report_writer writer;
#define w_raw report_w_raw
#define w_text report_w_text
#define w_fmt report_w_fmt
#define w_heading report_w_heading
#define w_para_open report_w_para_open
#define w_para_close report_w_para_close
#define w_strong report_w_strong
#define w_table report_w_table
#define w_row report_w_row
#define w_table_end report_w_table_end
#define result_class report_result_class
#define jstr report_jstr
#define jtext report_jtext
#define count report_count

char *report_format_ms(double ms, char *out, size_t n) {
  if (isnan(ms) || ms < 0)
    snprintf(out, n, "-");
  else if (ms < 1000)
    snprintf(out, n, "%.1f ms", ms);
  else if (ms < 60000)
    snprintf(out, n, "%.2f s", ms / 1000.0);
  else
    snprintf(out, n, "%dm%02ds", (int)(ms / 60000.0), (int)fmod(ms / 1000.0, 60.0));
  return out;
}

gg_status report_md_cell(gg_buf *out, const char *text) {
  if (!text || !*text) return gg_buf_puts(out, "-");
  gg_status st = GG_OK;
  for (const char *s = text; *s && st == GG_OK; s++) {
    if (*s == '|')
      st = gg_buf_puts(out, "\\|");
    else if (*s == '\n' || *s == '\r')
      st = gg_buf_puts(out, " ");
    else
      st = gg_buf_append(out, s, 1);
  }
  return st;
}

/* ---- sections ---- */

static void header(writer *w, const json_t *doc) {
  char title[512];
  snprintf(title, sizeof title, "Migration report: %s", jstr(doc, "migration"));
  w_heading(w, 1, title);
  report_section_state(w, doc);
  if (*jstr(doc, "description")) {
    w_para_open(w, NULL);
    w_text(w, jstr(doc, "description"));
    w_para_close(w);
  }
  json_t *jo = json_object_get(doc, "journal");
  bool damaged = json_is_object(jo) && !json_is_true(json_object_get(jo, "intact"));
  if (damaged) {
    char msg[1024];
    snprintf(msg, sizeof msg,
             "JOURNAL DAMAGED at row %lld: %s. The facts below come from a journal whose chain "
             "does not verify; do not rely on them before investigating (gonogo journal verify).",
             (long long)json_integer_value(json_object_get(jo, "bad_seq")), jstr(jo, "what"));
    w_para_open(w, "alarm");
    if (!w->html) w_raw(w, "> ");
    w_strong(w, "bad", msg);
    w_para_close(w);
  }
  report_section_summary(w, doc);
  const char *heads[] = {"Fact", "Value"};
  w_table(w, heads, 2);
  const char *rows[][2] = {{"Migration", jstr(doc, "migration")},
                           {"Plan", jstr(doc, "plan")},
                           {"Plan hash", jstr(doc, "plan_hash")},
                           {"Generated", jstr(doc, "generated_at")}};
  for (size_t i = 0; i < 4; i++) w_row(w, rows[i], 2);
  char integrity[1024];
  if (!json_is_object(jo)) {
    const char *r1[] = {"Journal", "none (nothing recorded yet)"};
    w_row(w, r1, 2);
  } else {
    const char *r1[] = {"Journal", jstr(jo, "path")};
    w_row(w, r1, 2);
    if (damaged)
      snprintf(integrity, sizeof integrity, "DAMAGED at row %lld: %s",
               (long long)json_integer_value(json_object_get(jo, "bad_seq")), jstr(jo, "what"));
    else if (*jstr(jo, "anchor"))
      snprintf(
          integrity, sizeof integrity,
          "intact: %lld events, head %s (check it later with `gonogo journal verify PLAN --expect-head %s`)",
          (long long)json_integer_value(json_object_get(jo, "events")), jstr(jo, "anchor"),
          jstr(jo, "anchor"));
    else
      snprintf(integrity, sizeof integrity, "intact: no events yet");
    const char *r2[] = {"Integrity", integrity};
    w_row(w, r2, 2);
  }
  w_table_end(w);
}

static void phase_state(writer *w, const json_t *ph) {
  const char *state = jstr(ph, "state");
  w_para_open(w, NULL);
  w_text(w, "State: ");
  /* The class directly (result_class of "ok" / "failed" / "WAIT"): GCC -O2 folds the constant
   * word into result_class's comparisons and rejects them (-Wstring-compare). */
  bool bad = strcmp(state, "rolled back") == 0 || strcmp(state, "failed") == 0 ||
             strcmp(state, "rollback incomplete") == 0;
  w_strong(w, strcmp(state, "completed") == 0 ? "ok" : bad ? "bad" : "warn", state);
  if (strcmp(state, "completed") == 0) w_fmt(w, " at %s", jstr(ph, "completed_at"));
  if (strcmp(state, "running") == 0) w_fmt(w, " since %s", jstr(ph, "started_at"));
  if (strcmp(state, "prepared") == 0) w_fmt(w, " at %s", jstr(ph, "prepared_at"));
  if (strcmp(state, "rolled back") == 0)
    w_fmt(w, " at %s: %s", jstr(ph, "rolled_back_at"), jstr(ph, "reason"));
  if (strcmp(state, "rolled back") == 0 && *jstr(ph, "kept")) w_fmt(w, "; kept: %s", jstr(ph, "kept"));
  if (strcmp(state, "failed") == 0) w_fmt(w, " at %s: %s", jstr(ph, "failed_at"), jstr(ph, "reason"));
  if (strcmp(state, "rollback incomplete") == 0) w_fmt(w, ": %s", jstr(ph, "reason"));
  if (strcmp(state, "decided") == 0 && *jstr(ph, "reason")) w_fmt(w, " (after: %s)", jstr(ph, "reason"));
  /* A traffic shift (DESIGN §14): where its latest step left the share. */
  json_t *steps = json_object_get(ph, "shift_steps");
  json_t *last = json_array_get(steps, json_array_size(steps) ? json_array_size(steps) - 1 : 0);
  if (last)
    w_fmt(w, ". Traffic shift %s: %g%% to the new topology (step %lld/%lld, %s at %s)", jstr(last, "kv"),
          json_number_value(json_object_get(last, "share")),
          (long long)json_integer_value(json_object_get(last, "step")),
          (long long)json_integer_value(json_object_get(last, "steps")), jstr(last, "state"),
          jstr(last, "at"));
  w_para_close(w);
}

static void risks(writer *w, const json_t *ph) {
  w_para_open(w, NULL);
  w_text(w, "Overall risk: ");
  w_strong(w, NULL, jstr(ph, "risk"));
  json_t *rb = json_object_get(ph, "rollback_plan");
  if (*jstr(rb, "complexity") || json_object_get(rb, "estimate_s")) {
    char est[64] = "";
    if (json_object_get(rb, "estimate_s"))
      report_format_ms(json_number_value(json_object_get(rb, "estimate_s")) * 1000.0, est, sizeof est);
    w_fmt(w, "; rollback: %s%s%s", *jstr(rb, "complexity") ? jstr(rb, "complexity") : "",
          est[0] ? ", estimated " : "", est);
  }
  w_para_close(w);
  if (!count(ph, "risks")) return;
  const char *heads[] = {"Risk", "Probability", "Impact", "Inherent", "Mitigation", "Residual"};
  w_table(w, heads, 6);
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(ph, "risks"), i, r) {
    const char *cells[] = {jstr(r, "risk"),     jstr(r, "probability"), jstr(r, "impact"),
                           jstr(r, "inherent"), jstr(r, "mitigation"),  jstr(r, "residual")};
    w_row(w, cells, 6);
  }
  w_table_end(w);
}

/* The latest evaluation of a phase. With `all` false (the phase's own section) only the rows that
 * differ from the plan-wide preflight: the phase's own criteria, and preflight rows that did not
 * pass; the rest is counted and left to the appendix, where `all` shows every row. */
static void evaluation(writer *w, const json_t *ph, bool all) {
  json_t *e = json_object_get(ph, "evaluation");
  if (!all) w_heading(w, 3, "Latest evaluation");
  if (!json_is_object(e)) {
    w_para_open(w, NULL);
    w_text(w, "Never evaluated.");
    w_para_close(w);
    return;
  }
  w_para_open(w, NULL);
  w_fmt(w, "Evaluated at %s by %s: ", jstr(e, "at"), jstr(e, "by"));
  w_strong(w, result_class(jstr(e, "decision")), jstr(e, "decision"));
  char reasons[1024];
  jtext(e, "reasons", reasons, sizeof reasons);
  if (reasons[0]) w_fmt(w, " (%s)", reasons);
  w_para_close(w);
  const char *heads[] = {"Section", "Criterion", "Result", "Observed", "Threshold", "Failing", "Message"};
  w_table(w, heads, 7);
  size_t i, same = 0;
  json_t *it;
  json_array_foreach(json_object_get(e, "items"), i, it) {
    if (!all && strcmp(jstr(it, "section"), "preflight") == 0 && strcmp(jstr(it, "result"), "PASS") == 0) {
      same++;
      continue;
    }
    char failing[1024];
    jtext(it, "failing", failing, sizeof failing);
    const char *cells[] = {jstr(it, "section"),   jstr(it, "name"), jstr(it, "result"), jstr(it, "observed"),
                           jstr(it, "threshold"), failing,          jstr(it, "message")};
    w_row(w, cells, 7);
  }
  w_table_end(w);
  if (same) {
    w_para_open(w, "dim");
    w_fmt(w, "%zu plan-wide preflight items passed (every row is in the appendix).", same);
    w_para_close(w);
  }
}

/* The full evidence: every phase's latest evaluation, row by row. */
static void appendix(writer *w, const json_t *doc) {
  if (w->html) w_raw(w, "<section id=\"appendix\">");
  w_heading(w, 2, "Appendix: full evidence");
  size_t i;
  json_t *ph;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    if (!json_is_object(json_object_get(ph, "evaluation"))) continue;
    char title[512];
    snprintf(title, sizeof title, "Phase %s: latest evaluation, every row", jstr(ph, "id"));
    w_heading(w, 3, title);
    evaluation(w, ph, true);
  }
  if (w->html) w_raw(w, "</section>\n");
}

/* " (signed)" / " (BAD SIGNATURE: why)" for an event object with a "signature" member, else "". */
static const char *signed_text(const json_t *o, char *buf, size_t n) {
  const json_t *s = json_object_get(o, "signature");
  if (!s)
    snprintf(buf, n, "%s", "");
  else if (json_is_true(json_object_get(s, "ok")))
    snprintf(buf, n, " (signed)");
  else
    snprintf(buf, n, " (BAD SIGNATURE: %s)", jstr(s, "why"));
  return buf;
}

static void decision(writer *w, const json_t *ph) {
  json_t *d = json_object_get(ph, "decision");
  w_heading(w, 3, "Decision");
  w_para_open(w, NULL);
  if (!json_is_object(d)) {
    w_text(w, "No decision recorded.");
  } else {
    w_text(w, "Decision: ");
    w_strong(w, result_class(jstr(d, "decision")), jstr(d, "decision"));
    w_fmt(w, " at %s by %s", jstr(d, "at"), jstr(d, "by"));
  }
  w_para_close(w);
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(ph, "overrides"), i, o) {
    char text[1500], sig[300];
    signed_text(o, sig, sizeof sig);
    const json_t *items = json_object_get(o, "items");
    if (json_array_size(items) == 0) { /* a journal from before overrides named their items */
      snprintf(text, sizeof text, "OVERRIDE of %s by %s%s at %s: %s",
               *jstr(o, "overridden") ? jstr(o, "overridden") : "NO-GO", jstr(o, "by"), sig, jstr(o, "at"),
               jstr(o, "reason"));
      w_para_open(w, "override");
      w_strong(w, "bad", text);
      w_para_close(w);
      continue;
    }
    size_t k;
    const json_t *it;
    json_array_foreach(items, k, it) {
      snprintf(text, sizeof text, "OVERRIDE by %s%s at %s of %s %s '%s': %s", jstr(o, "by"), sig,
               jstr(o, "at"), jstr(it, "section"), jstr(it, "result"), jstr(it, "name"), jstr(it, "reason"));
      w_para_open(w, "override");
      w_strong(w, "bad", text);
      w_para_close(w);
    }
  }
}

/* The attestations of o (a phase, or the plan-wide preflight) as a table under a heading. */
/* A sign-off's status cell: "in force, signed (keys/alice.pub)". */
static const char *signoff_status(const json_t *a, char *buf, size_t n) {
  const char *key = jstr(a, "key");
  if (*key)
    snprintf(buf, n, "%s, signed (%s)", jstr(a, "status"), key);
  else
    snprintf(buf, n, "%s%s", jstr(a, "status"), json_is_true(json_object_get(a, "signed")) ? ", signed" : "");
  return buf;
}

static void attestations(writer *w, const json_t *o, int level) {
  if (!count(o, "attestations")) return;
  w_heading(w, level, "Attestations");
  const char *heads[] = {"Item", "Status", "By", "When", "Expires", "Note"};
  w_table(w, heads, 6);
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(o, "attestations"), i, a) {
    char status[256];
    const char *cells[] = {jstr(a, "item"),    signoff_status(a, status, sizeof status),
                           jstr(a, "by"),      jstr(a, "at"),
                           jstr(a, "expires"), *jstr(a, "why") ? jstr(a, "why") : jstr(a, "note")};
    w_row(w, cells, 6);
  }
  w_table_end(w);
}

/* The preflight gates every phase: its attestations once, before the phases. */
static void preflight(writer *w, const json_t *doc) {
  const json_t *pre = json_object_get(doc, "preflight");
  if (!pre || !count(pre, "attestations")) return;
  if (w->html) w_raw(w, "<section>");
  w_heading(w, 2, "Preflight (gates every phase)");
  attestations(w, pre, 3);
  if (w->html) w_raw(w, "</section>\n");
}

static void signoffs(writer *w, const json_t *ph) {
  if (count(ph, "approvals")) {
    w_heading(w, 3, "Approvals");
    const char *heads[] = {"Role", "Status", "By", "When", "Decision", "Note"};
    w_table(w, heads, 6);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ph, "approvals"), i, a) {
      char status[256], why[768];
      signoff_status(a, status, sizeof status);
      snprintf(why, sizeof why, "%s%s%s", jstr(a, "why"), *jstr(a, "changed") ? ": " : "",
               jstr(a, "changed"));
      const char *cells[] = {jstr(a, "role"),     status,
                             jstr(a, "by"),       jstr(a, "at"),
                             jstr(a, "decision"), *jstr(a, "why") ? why : jstr(a, "note")};
      w_row(w, cells, 6);
    }
    w_table_end(w);
  }
  attestations(w, ph, 3);
}

static void actions(writer *w, const json_t *ph) {
  if (count(ph, "actions")) {
    w_heading(w, 3, "Actions run");
    const char *heads[] = {"When", "Action", "Mode", "Result", "Elapsed", "Publish gap", "Error"};
    w_table(w, heads, 7);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ph, "actions"), i, a) {
      char elapsed[64] = "", gap[64] = "";
      if (json_is_number(json_object_get(a, "elapsed_ms")))
        report_format_ms(json_number_value(json_object_get(a, "elapsed_ms")), elapsed, sizeof elapsed);
      if (json_is_number(json_object_get(a, "gap_ms")) &&
          json_number_value(json_object_get(a, "gap_ms")) >= 0)
        report_format_ms(json_number_value(json_object_get(a, "gap_ms")), gap, sizeof gap);
      const char *cells[] = {jstr(a, "at"),   *jstr(a, "describe") ? jstr(a, "describe") : jstr(a, "action"),
                             jstr(a, "mode"), jstr(a, "result"),
                             elapsed,         gap,
                             jstr(a, "error")};
      w_row(w, cells, 7);
    }
    w_table_end(w);
  }
  if (count(ph, "rollbacks")) {
    w_heading(w, 3, "Rollbacks and failures");
    const char *heads[] = {"When", "Event", "By", "Reason", "Kept"};
    w_table(w, heads, 5);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ph, "rollbacks"), i, r) {
      const char *ev = strcmp(jstr(r, "event"), "phase_failed") == 0 ? "failed" : "rolled back";
      char kept[2048] = "";
      size_t k, off = 0;
      json_t *it;
      json_array_foreach(json_object_get(r, "kept"), k, it) {
        if (off >= sizeof kept) break;
        off += (size_t)snprintf(kept + off, sizeof kept - off, "%s%s", k ? "; " : "",
                                json_string_value(it) ? json_string_value(it) : "");
      }
      const char *cells[] = {jstr(r, "at"), ev, jstr(r, "by"), jstr(r, "reason"), kept};
      w_row(w, cells, 5);
    }
    w_table_end(w);
  }
}

static void firings_table(writer *w, const json_t *arr) {
  const char *heads[] = {"When", "Rule", "Then", "Value", "Members"};
  w_table(w, heads, 5);
  size_t i;
  json_t *f;
  json_array_foreach(arr, i, f) {
    char members[1024];
    jtext(f, "members", members, sizeof members);
    const char *cells[] = {jstr(f, "at"), jstr(f, "rule"), jstr(f, "then"), jstr(f, "value"), members};
    w_row(w, cells, 5);
  }
  w_table_end(w);
}

static void watching(writer *w, const json_t *ph) {
  if (count(ph, "checkpoints")) {
    w_heading(w, 3, "Checkpoints");
    const char *heads[] = {"When", "Checkpoint", "Result", "Items"};
    w_table(w, heads, 4);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(ph, "checkpoints"), i, c) {
      char items[1500] = "";
      size_t k, off = 0;
      json_t *it;
      json_array_foreach(json_object_get(c, "items"), k, it) {
        if (off >= sizeof items) break;
        off += (size_t)snprintf(items + off, sizeof items - off, "%s%s %s (%s)", k ? "; " : "",
                                jstr(it, "result"), jstr(it, "name"), jstr(it, "observed"));
      }
      const char *cells[] = {jstr(c, "at"), jstr(c, "checkpoint"), jstr(c, "result"), items};
      w_row(w, cells, 4);
    }
    w_table_end(w);
  }
  if (count(ph, "rule_firings")) {
    w_heading(w, 3, "Rule firings");
    firings_table(w, json_object_get(ph, "rule_firings"));
  }
}

static void marks(writer *w, const json_t *doc) {
  w_heading(w, 2, "Marks (deployments, incidents)");
  if (!count(doc, "marks")) {
    w_para_open(w, NULL);
    w_text(w, "None recorded.");
    w_para_close(w);
    return;
  }
  const char *heads[] = {"When", "Kind", "By", "Note"};
  w_table(w, heads, 4);
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(doc, "marks"), i, m) {
    char by[400], sig[300];
    snprintf(by, sizeof by, "%s%s", jstr(m, "by"), signed_text(m, sig, sizeof sig));
    const char *cells[] = {jstr(m, "at"), jstr(m, "kind"), by, jstr(m, "note")};
    w_row(w, cells, 4);
  }
  w_table_end(w);
}

static void chart(writer *w, const json_t *s) {
  json_t *t = json_object_get(s, "t"), *v = json_object_get(s, "v");
  size_t n = json_array_size(t);
  if (!n || json_array_size(v) != n || w->st != GG_OK) return;
  double *tt = calloc(n, sizeof *tt), *vv = calloc(n, sizeof *vv);
  if (!tt || !vv) {
    w->st = GG_ERR_NOMEM;
  } else {
    for (size_t i = 0; i < n; i++) {
      tt[i] = json_number_value(json_array_get(t, i));
      json_t *x = json_array_get(v, i);
      vv[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    char title[512];
    snprintf(title, sizeof title, "%s%s", jstr(s, "name"),
             strcmp(jstr(s, "labels"), "{}") ? jstr(s, "labels") : "");
    html_chart_line line = {.label = jstr(s, "labels"), .t = tt, .v = vv, .n = n};
    html_chart c = {.title = title,
                    .lines = &line,
                    .nlines = 1,
                    .t0 = tt[0],
                    .t1 = tt[n - 1] > tt[0] ? tt[n - 1] : tt[0] + 1,
                    .width = 640,
                    .height = 200};
    w->st = html_svg_chart(w->b, &c);
  }
  free(tt);
  free(vv);
}

static void series(writer *w, const json_t *doc) {
  if (!count(doc, "series")) return;
  w_heading(w, 2, "Sampled series");
  const char *heads[] = {"Series", "Labels", "Samples", "From", "To", "Min", "Max", "Last"};
  w_table(w, heads, 8);
  size_t i;
  json_t *s;
  json_array_foreach(json_object_get(doc, "series"), i, s) {
    char n[32], lo[32], hi[32], last[32];
    jtext(s, "samples", n, sizeof n);
    jtext(s, "min", lo, sizeof lo);
    jtext(s, "max", hi, sizeof hi);
    jtext(s, "last", last, sizeof last);
    const char *cells[] = {
        jstr(s, "name"), jstr(s, "labels"), n, jstr(s, "from"), jstr(s, "to"), lo, hi, last};
    w_row(w, cells, 8);
  }
  w_table_end(w);
  if (!w->html) return;
  json_array_foreach(json_object_get(doc, "series"), i, s) {
    w_raw(w, "<div class=\"chart\">");
    chart(w, s);
    w_raw(w, "</div>\n");
  }
}

/* The latest rehearsal of each phase (`gonogo rehearse`): what the checklist's staging items
 * rest on. A self-contained section: its facts are doc["rehearsals"] (rehearsal.c). */
static void rehearsals(writer *w, const json_t *doc) {
  if (!count(doc, "rehearsals")) return;
  w_heading(w, 2, "Rehearsals (gonogo rehearse)");
  const char *heads[] = {"Phase",      "When",        "Result",   "Published",  "Consumed", "Lost",
                         "Duplicated", "Publish gap", "Rollback", "Counts now", "Notes"};
  w_table(w, heads, 11);
  size_t i;
  json_t *r;
  long pub = 0, con = 0, lost = 0, dup = 0;
  json_array_foreach(json_object_get(doc, "rehearsals"), i, r) {
    char np[32], nc[32], nl[32], nd[32], gap[32] = "-", rb[32] = "-", notes[1024];
    jtext(r, "published", np, sizeof np);
    jtext(r, "consumed", nc, sizeof nc);
    jtext(r, "lost", nl, sizeof nl);
    jtext(r, "duplicated", nd, sizeof nd);
    pub += (long)json_integer_value(json_object_get(r, "published"));
    con += (long)json_integer_value(json_object_get(r, "consumed"));
    lost += (long)json_integer_value(json_object_get(r, "lost"));
    dup += (long)json_integer_value(json_object_get(r, "duplicated"));
    if (json_is_number(json_object_get(r, "gap_ms")))
      report_format_ms(json_number_value(json_object_get(r, "gap_ms")), gap, sizeof gap);
    if (json_is_number(json_object_get(r, "rollback_s")))
      report_format_ms(json_number_value(json_object_get(r, "rollback_s")) * 1000.0, rb, sizeof rb);
    char ids[512];
    jtext(r, "lost_ids", ids, sizeof ids);
    const char *node = jstr(r, "node_killed"), *failure = jstr(r, "failure");
    snprintf(notes, sizeof notes, "%s%s%s%s%s%s%s", *node ? "node " : "", node,
             *node ? " killed and back" : "", *node && *failure ? "; " : "", failure, *ids ? "; lost: " : "",
             ids);
    const char *counts = json_is_true(json_object_get(r, "counts")) ? "yes"
                         : *jstr(r, "why_not")                      ? jstr(r, "why_not")
                                                                    : "no";
    const char *cells[] = {jstr(r, "phase"), jstr(r, "at"), jstr(r, "result"), np, nc, nl, nd, gap, rb,
                           counts,           notes};
    w_row(w, cells, 11);
  }
  w_table_end(w);
  w_para_open(w, NULL);
  w_fmt(w, "Totals: %ld published, %ld consumed, %ld lost, %ld duplicated.", pub, con, lost, dup);
  w_para_close(w);
}

static void body(writer *w, const json_t *doc) {
  header(w, doc);
  rehearsals(w, doc);
  preflight(w, doc);
  size_t i;
  json_t *ph;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    char title[512];
    snprintf(title, sizeof title, "Phase %s: %s", jstr(ph, "id"), jstr(ph, "name"));
    if (w->html) w_raw(w, "<section>");
    w_heading(w, 2, title);
    if (*jstr(ph, "description")) {
      w_para_open(w, NULL);
      w_text(w, jstr(ph, "description"));
      w_para_close(w);
    }
    phase_state(w, ph);
    risks(w, ph);
    evaluation(w, ph, false);
    decision(w, ph);
    signoffs(w, ph);
    actions(w, ph);
    watching(w, ph);
    if (w->html) w_raw(w, "</section>\n");
  }
  if (count(doc, "rule_firings")) {
    w_heading(w, 2, "Rule firings not tied to a phase");
    firings_table(w, json_object_get(doc, "rule_firings"));
  }
  marks(w, doc);
  appendix(w, doc);
  series(w, doc);
  report_section_lessons(w, doc);
}

gg_status report_render_md(const json_t *doc, gg_buf *out, gg_error *err) {
  writer w = {.b = out, .html = false, .st = GG_OK};
  body(&w, doc);
  if (w.st != GG_OK) return gg_error_set(err, w.st, "render the report as markdown");
  return GG_OK;
}

static const char CSS[] =
    "body{font-family:-apple-system,system-ui,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;"
    "padding:12px;color:#1b1b1b;line-height:1.4}"
    "h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:1.6em}"
    "h3{font-size:1.05em;margin-bottom:4px}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9em;margin:4px 0 10px}"
    "th,td{border:1px solid #ddd;padding:3px "
    "6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f4f4f4}"
    "td.ok{color:#11772d;font-weight:600}td.bad{color:#b00020;font-weight:700}td.warn{color:#8a5a00;font-"
    "weight:600}"
    /* a result word or a section name reads whole; the long cells wrap instead */
    "td.ok,td.bad,td.warn,td:first-child{overflow-wrap:normal;white-space:nowrap}"
    "strong.bad,.override strong{color:#b00020}strong.ok{color:#11772d}strong.warn{color:#8a5a00}"
    ".alarm{background:#fde7ea;border:2px solid #b00020;padding:8px}"
    ".override{background:#fde7ea;border-left:4px solid #b00020;padding:6px}"
    ".chart svg{display:block;max-width:100%;height:auto}.dim{color:#666}"
    ".state{font-size:1.1em;padding:8px 10px;border-radius:4px;background:#f4f4f4;border-left:6px solid #888}"
    ".state.bad{background:#fde7ea;border-left-color:#b00020}.state.ok{background:#e8f5ec;border-left-color:#"
    "11772d}"
    ".state.warn{background:#fdf3e1;border-left-color:#8a5a00}#summary td,#summary th{overflow-wrap:normal}"
    "li.bad{color:#b00020;font-weight:600}"
    "@media(max-width:600px){body{padding:6px}table{font-size:.8em}}";

gg_status report_render_html(const json_t *doc, gg_buf *out, gg_error *err) {
  writer w = {.b = out, .html = true, .st = GG_OK};
  w_raw(&w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
  w_fmt(&w, "gonogo report: %s", jstr(doc, "migration"));
  w_raw(&w, "</title><style>");
  w_raw(&w, CSS);
  w_raw(&w, "</style></head><body>\n");
  body(&w, doc);
  w_raw(&w, "<p class=\"meta\">Generated by gonogo report.</p></body></html>\n");
  if (w.st != GG_OK) return gg_error_set(err, w.st, "render the report as html");
  return GG_OK;
}

gg_status report_render_json(const json_t *doc, gg_buf *out, gg_error *err) {
  json_t *copy = json_deep_copy(doc);
  if (!copy) return gg_error_set(err, GG_ERR_NOMEM, "render the report as json");
  size_t i;
  json_t *s;
  json_array_foreach(json_object_get(copy, "series"), i, s) {
    json_object_del(s, "t");
    json_object_del(s, "v");
  }
  char *text = json_dumps(copy, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(copy);
  gg_status st = text ? gg_buf_puts(out, text) : GG_ERR_NOMEM;
  if (st == GG_OK) st = gg_buf_puts(out, "\n");
  free(text);
  if (st != GG_OK) return gg_error_set(err, st, "render the report as json");
  return GG_OK;
}
