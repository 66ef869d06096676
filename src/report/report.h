/*
 * report.h: the filled-in checklist of a migration (DESIGN §1 point 4, §10 `gonogo report`).
 *
 * The report is the risk assessment's go/no-go document with every box filled in from the
 * journal: for each phase its risks, its state, the latest evaluation item by item with the
 * observed values, the decision and any override, the approvals and attestations, the
 * actions run (with the measured cutover gap), rollbacks, checkpoints and rule firings; the
 * marks; charts of the sampled series; and, first of all, whether the journal's chain is intact.
 *
 * The facts are gathered once into one JSON document (report_gather); Markdown and HTML are
 * rendered from that document, and the JSON output is the document itself, so the three say the
 * same. The plan's secrets never reach the document: nothing of `connect` is copied.
 */
#ifndef GG_REPORT_H
#define GG_REPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/error.h"
#include "journal/journal.h"
#include "plan/plan.h"

/* At most this many sampled series are charted, and this many points per series are kept
 * (evenly thinned beyond it), so a long watch keeps the report small. */
#define REPORT_SERIES_MAX 32
#define REPORT_POINTS_MAX 600

typedef struct {
  const char *plan_path; /* as given on the command line (shown in the header) */
  double now;            /* the generation time (seconds since the epoch) */
  bool with_points;      /* include every series' points ("t", "v" arrays; needed for HTML charts) */
} report_opts;

/* Gather the report of plan p from journal j (NULL: no journal yet, every phase not started)
 * into one JSON document. Reads only. On GG_OK you own *out (json_decref). GG_ERR_SQLITE /
 * GG_ERR_NOMEM with err naming what was being read. */
gg_status report_gather(const plan *p, journal *j, const report_opts *opts, json_t **out,
                        gg_error *err) GG_WUR;

/* Render the document as Markdown / as one self-contained HTML page (inline CSS and SVG, no
 * external reference), appending to out. */
gg_status report_render_md(const json_t *doc, gg_buf *out, gg_error *err) GG_WUR;
gg_status report_render_html(const json_t *doc, gg_buf *out, gg_error *err) GG_WUR;

/* The document's "Lessons Learned (Post-Migration)" section alone, as Markdown (what `gonogo
 * retro PLAN` prints), appending to out. */
gg_status report_render_lessons_md(const json_t *doc, gg_buf *out, gg_error *err) GG_WUR;

/* The document as indented JSON without the series' points, appending to out. */
gg_status report_render_json(const json_t *doc, gg_buf *out, gg_error *err) GG_WUR;

/* Append text to out as one Markdown table cell: '|' escaped, newlines as spaces, "-" when
 * text is NULL or empty. */
gg_status report_md_cell(gg_buf *out, const char *text) GG_WUR;

/* Format milliseconds for people into out (n bytes): "4.2 ms", "1.50 s", "2m05s". Returns out. */
char *report_format_ms(double ms, char *out, size_t n);

#endif
