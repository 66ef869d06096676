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

#endif
