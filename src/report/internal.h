/*
 * internal.h: what the files of src/report share: the writer that renders a section as Markdown
 * or HTML (writer.c), and the sections that live in files of their own (summary.c, lessons.c).
 * A section is a function of the writer and the document, so a new one is one function and one
 * line in render.c's body().
 */
#ifndef GG_REPORT_INTERNAL_H
#define GG_REPORT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "journal/journal.h"
#include "plan/plan.h"
#include "report/report.h"

typedef struct {
  gg_buf *b;
  bool html;
  gg_status st; /* the first failure; every writer call after it does nothing */
} report_writer;

void report_w_raw(report_writer *w, const char *s);  /* markup as it is */
void report_w_text(report_writer *w, const char *s); /* text, escaped for HTML */
void report_w_fmt(report_writer *w, const char *fmt, ...) GG_PRINTF(2, 3);
void report_w_heading(report_writer *w, int level, const char *text);
void report_w_para_open(report_writer *w, const char *cls); /* cls may be NULL */
void report_w_para_close(report_writer *w);
void report_w_strong(report_writer *w, const char *cls, const char *text);
void report_w_table(report_writer *w, const char *const *heads, size_t n);
void report_w_row(report_writer *w, const char *const *cells, size_t n);
void report_w_table_end(report_writer *w);
void report_w_list_open(report_writer *w);
/* One list item; cls "bad" is red in HTML and bold in Markdown; may be NULL. */
void report_w_item(report_writer *w, const char *cls, const char *text);
void report_w_list_close(report_writer *w);
/* The HTML class of a result word ("PASS" ok, "FAIL" bad, ...); NULL for other text. */
const char *report_result_class(const char *s);

/* What an override overrode: "preflight ERROR 'X': why; ..." from its items (its reason when it
 * names none), into out (n bytes). */
void report_override_what(const json_t *o, char *out, size_t n);

/* A string member ("" when absent), a member as text (arrays joined by ", "), an array's size. */
const char *report_jstr(const json_t *o, const char *key);
void report_jtext(const json_t *o, const char *key, char *out, size_t n);
size_t report_count(const json_t *o, const char *key);

/* Sections in files of their own. */
void report_section_state(report_writer *w, const json_t *doc);   /* summary.c: under the title */
void report_section_summary(report_writer *w, const json_t *doc); /* summary.c: before the facts */
void report_section_lessons(report_writer *w, const json_t *doc); /* lessons.c: last */

/* Gather the retrospective into doc["retro"]: its entries, whether it was closed, and the facts
 * drafted from the rest of doc (phases, firings) for the discussion (lessons.c). j may be NULL. */
gg_status report_gather_retro(const plan *p, journal *j, json_t *doc, gg_error *err) GG_WUR;

/* doc["rehearsals"]: the latest rehearsal event of each of p's phases, with its figures and
 * whether it counts (passed, this plan's hash, younger than rehearsal_valid_for at now). */
gg_status report_gather_rehearsals(const plan *p, journal *j, double now, json_t *doc, gg_error *err) GG_WUR;

#endif
