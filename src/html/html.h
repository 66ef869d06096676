/*
 * html.h: HTML text escaping and inline SVG line charts, for every page gonogo renders (the
 * watch dashboard and the HTML report). Pure: base only, no network, no database, so the
 * report links it without pulling in what watch needs to sample.
 *
 * The SVG has a viewBox and width 100%, so it scales to a phone's width; it needs no script
 * and no external asset.
 */
#ifndef GG_HTML_H
#define GG_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

/* Append text to out escaped for HTML (&, <, >, ", '). NULL is "". */
gg_status html_escape(gg_buf *out, const char *text) GG_WUR;

typedef struct {
  const char *label; /* legend text, e.g. `{stream="X"}`; may be "" */
  const double *t;   /* times (epoch seconds), ascending */
  const double *v;   /* values; NaN marks a gap (an ERROR sample) */
  size_t n;
} html_chart_line;

typedef struct {
  const char *title;
  const html_chart_line *lines;
  size_t nlines;
  bool has_threshold; /* draw a dashed horizontal line at threshold */
  double threshold;
  char unit;         /* 'd' seconds, 's' bytes, '%' fraction, 0 plain: axis labels */
  double t0, t1;     /* the time window drawn */
  int width, height; /* the SVG's viewBox; it scales to the page width */
} html_chart;

/* Append an inline <svg> chart of c to out: one polyline per line (gaps at NaN), the
 * threshold dashed in red, min/max value labels on the y axis, start/end times on the x axis,
 * and "no data" when there is nothing to draw. Text is escaped for HTML. */
gg_status html_svg_chart(gg_buf *out, const html_chart *c) GG_WUR;

/* ---- the timeline: one lane a phase, what happened to it along one time axis ---- */

typedef enum {
  HTML_TL_STARTED,     /* a phase started (its lane turns amber until it completes) */
  HTML_TL_COMPLETED,   /* completed (green from here) */
  HTML_TL_ROLLED_BACK, /* rolled back (red mark, the lane ends) */
  HTML_TL_FAILED,      /* failed (red mark, the lane ends) */
  HTML_TL_DECISION,    /* a GO / NO-GO / DEFER or an override (a diamond) */
  HTML_TL_CUTOVER,     /* a cutover with its measured gap (a triangle) */
  HTML_TL_FIRING,      /* a rule fired (an orange circle; red when it rolls back) */
} html_tl_kind;

typedef struct {
  double t; /* epoch seconds */
  html_tl_kind kind;
  const char *lane;  /* the phase id; a lane not in `lanes` goes on the first */
  const char *label; /* the tooltip (<title>) and, for a rollback, the text beside it */
  bool severe;       /* a decision that is NO-GO or an override, a firing that rolls back */
} html_tl_event;

typedef struct {
  const char *const *lanes; /* phase ids, in the plan's order */
  const char *const *names; /* phase names (may be NULL) */
  size_t nlanes;
  const html_tl_event *events; /* in time order */
  size_t nevents;
  double t0, t1; /* the window; t1 is "now" (a running phase's bar reaches it) */
  int width;     /* the viewBox width (default 900); the height follows the lanes */
} html_timeline;

/* Append an inline <svg class="timeline"> of tl to out: one lane a phase with its bar (amber
 * while running, green once completed, ending at a rollback or failure), a mark a decision,
 * cutover and rule firing, each with a <title> tooltip, times at both ends and a legend.
 * "nothing has happened yet" when there are no events. Text is escaped. */
gg_status html_svg_timeline(gg_buf *out, const html_timeline *tl) GG_WUR;

#endif
