/* writer.c: the small writer Markdown and HTML share (headings, paragraphs, emphasis, lists,
 * tables), and helpers to read the report document, for every file that renders a section. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "html/html.h"
#include "report/internal.h"
#include "report/report.h"

void report_w_raw(report_writer *w, const char *s) {
  if (w->st == GG_OK) w->st = gg_buf_puts(w->b, s);
}

void report_w_text(report_writer *w, const char *s) {
  if (w->st != GG_OK) return;
  if (w->html)
    w->st = html_escape(w->b, s ? s : "");
  else
    w->st = gg_buf_puts(w->b, s ? s : "");
}

void report_w_fmt(report_writer *w, const char *fmt, ...) {
  char text[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  report_w_text(w, text);
}

void report_w_heading(report_writer *w, int level, const char *text) {
  if (w->html) {
    char tag[8];
    snprintf(tag, sizeof tag, "h%d", level);
    report_w_raw(w, "<");
    report_w_raw(w, tag);
    report_w_raw(w, ">");
    report_w_text(w, text);
    report_w_raw(w, "</");
    report_w_raw(w, tag);
    report_w_raw(w, ">\n");
  } else {
    for (int i = 0; i < level; i++) report_w_raw(w, "#");
    report_w_raw(w, " ");
    report_w_text(w, text);
    report_w_raw(w, "\n\n");
  }
}

void report_w_para_open(report_writer *w, const char *cls) {
  if (!w->html) return;
  report_w_raw(w, "<p");
  if (cls) {
    report_w_raw(w, " class=\"");
    report_w_raw(w, cls);
    report_w_raw(w, "\"");
  }
  report_w_raw(w, ">");
}

void report_w_para_close(report_writer *w) {
  report_w_raw(w, w->html ? "</p>\n" : "\n\n");
}

/* Emphasis: strong (md **x**, html <strong class=cls>). */
void report_w_strong(report_writer *w, const char *cls, const char *text) {
  if (w->html) {
    report_w_raw(w, "<strong");
    if (cls) {
      report_w_raw(w, " class=\"");
      report_w_raw(w, cls);
      report_w_raw(w, "\"");
    }
    report_w_raw(w, ">");
    report_w_text(w, text);
    report_w_raw(w, "</strong>");
  } else {
    report_w_raw(w, "**");
    report_w_text(w, text);
    report_w_raw(w, "**");
  }
}

void report_w_table(report_writer *w, const char *const *heads, size_t n) {
  if (w->html) {
    report_w_raw(w, "<div class=\"scroll\"><table><tr>");
    for (size_t i = 0; i < n; i++) {
      report_w_raw(w, "<th>");
      report_w_text(w, heads[i]);
      report_w_raw(w, "</th>");
    }
    report_w_raw(w, "</tr>\n");
  } else {
    report_w_raw(w, "|");
    for (size_t i = 0; i < n; i++) {
      report_w_raw(w, " ");
      if (w->st == GG_OK) w->st = report_md_cell(w->b, heads[i]);
      report_w_raw(w, " |");
    }
    report_w_raw(w, "\n|");
    for (size_t i = 0; i < n; i++) report_w_raw(w, "---|");
    report_w_raw(w, "\n");
  }
}

/* A result word gets its colour class in HTML. */
const char *report_result_class(const char *s) {
  static const char *const words[] = {"PASS",    "FAIL",    "WAIT",   "ERROR", "GO",       "NO-GO",
                                      "DEFER",   "ok",      "failed", "noop",  "in force", "void",
                                      "missing", "expired", "defer",  "no-go"};
  static const char *const classes[] = {"ok",  "bad", "warn", "bad", "ok",   "bad", "warn", "ok",
                                        "bad", "",    "ok",   "bad", "warn", "bad", "warn", "bad"};
  for (size_t i = 0; s && i < sizeof words / sizeof words[0]; i++)
    if (strcmp(s, words[i]) == 0) return classes[i];
  return NULL;
}

void report_w_row(report_writer *w, const char *const *cells, size_t n) {
  if (w->html) {
    report_w_raw(w, "<tr>");
    for (size_t i = 0; i < n; i++) {
      const char *cls = report_result_class(cells[i]);
      report_w_raw(w, cls && *cls ? "<td class=\"" : "<td>");
      if (cls && *cls) {
        report_w_raw(w, cls);
        report_w_raw(w, "\">");
      }
      report_w_text(w, cells[i] && *cells[i] ? cells[i] : "-");
      report_w_raw(w, "</td>");
    }
    report_w_raw(w, "</tr>\n");
  } else {
    report_w_raw(w, "|");
    for (size_t i = 0; i < n; i++) {
      report_w_raw(w, " ");
      if (w->st == GG_OK) w->st = report_md_cell(w->b, cells[i]);
      report_w_raw(w, " |");
    }
    report_w_raw(w, "\n");
  }
}

void report_w_table_end(report_writer *w) {
  report_w_raw(w, w->html ? "</table></div>\n" : "\n");
}

/* ---- reading the document ---- */

const char *report_jstr(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

/* A member as text: strings as they are, numbers compactly, arrays joined by ", ". */
void report_jtext(const json_t *o, const char *key, char *out, size_t n) {
  json_t *v = json_object_get(o, key);
  out[0] = '\0';
  if (json_is_string(v)) {
    snprintf(out, n, "%s", json_string_value(v));
  } else if (json_is_integer(v)) {
    snprintf(out, n, "%lld", (long long)json_integer_value(v));
  } else if (json_is_real(v)) {
    snprintf(out, n, "%.6g", json_real_value(v));
  } else if (json_is_boolean(v)) {
    snprintf(out, n, "%s", json_is_true(v) ? "yes" : "no");
  } else if (json_is_array(v)) {
    size_t i, off = 0;
    json_t *x;
    json_array_foreach(v, i, x) {
      const char *s = json_string_value(x);
      if (!s || off >= n) continue;
      off += (size_t)snprintf(out + off, n - off, "%s%s", i ? ", " : "", s);
    }
  }
}

size_t report_count(const json_t *o, const char *key) {
  return json_array_size(json_object_get(o, key));
}

void report_w_list_open(report_writer *w) {
  if (w->html) report_w_raw(w, "<ul>\n");
}

void report_w_item(report_writer *w, const char *cls, const char *text) {
  if (w->html) {
    report_w_raw(w, cls ? "<li class=\"" : "<li>");
    if (cls) {
      report_w_raw(w, cls);
      report_w_raw(w, "\">");
    }
    report_w_text(w, text);
    report_w_raw(w, "</li>\n");
  } else {
    report_w_raw(w, "- ");
    if (cls && strcmp(cls, "bad") == 0) {
      report_w_raw(w, "**");
      report_w_text(w, text);
      report_w_raw(w, "**");
    } else {
      report_w_text(w, text);
    }
    report_w_raw(w, "\n");
  }
}

void report_w_list_close(report_writer *w) {
  report_w_raw(w, w->html ? "</ul>\n" : "\n");
}

void report_override_what(const json_t *o, char *out, size_t n) {
  const json_t *items = json_object_get(o, "items");
  size_t i, off = 0;
  const json_t *it;
  out[0] = '\0';
  json_array_foreach(items, i, it) {
    if (off >= n) break;
    off += (size_t)snprintf(out + off, n - off, "%s%s %s '%s': %s", i ? "; " : "", report_jstr(it, "section"),
                            report_jstr(it, "result"), report_jstr(it, "name"), report_jstr(it, "reason"));
  }
  if (!out[0]) snprintf(out, n, "%s", report_jstr(o, "reason")); /* older journals: the whole decision */
}
