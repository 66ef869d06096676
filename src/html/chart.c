/*
 * chart.c: inline SVG line charts for the watch dashboard and the HTML report, rendered on
 * the server so the page needs no script and no external asset (see html.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/units.h"
#include "html/html.h"

static const char *const palette[] = {"#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d"};

static void format_value(double v, char unit, char *out, size_t n) {
  if (unit == 'd') {
    gg_format_duration(v, out, n);
  } else if (unit == 's') {
    gg_format_size(v, out, n);
  } else if (unit == '%') {
    snprintf(out, n, "%.4g%%", v * 100);
  } else {
    snprintf(out, n, "%.4g", v);
  }
}

static void format_clock(double t, char *out, size_t n) {
  /* HH:MM:SS UTC: the date is in the page's header, the time is what a chart needs. */
  char iso[40];
  gg_time_format(t, iso, sizeof iso); /* 2026-11-28T07:14:18.250Z */
  snprintf(out, n, "%.8s", strlen(iso) >= 19 ? iso + 11 : iso);
}

gg_status html_svg_chart(gg_buf *out, const html_chart *c) {
  const int w = c->width > 0 ? c->width : 600, h = c->height > 0 ? c->height : 180;
  const double left = 64, right = 8, top = 22, bottom = 22;
  double lo = INFINITY, hi = -INFINITY;
  size_t points = 0;
  for (size_t i = 0; i < c->nlines; i++)
    for (size_t k = 0; k < c->lines[i].n; k++) {
      double v = c->lines[i].v[k], t = c->lines[i].t[k];
      if (isnan(v) || !isfinite(v) || t < c->t0 || t > c->t1) continue;
      lo = fmin(lo, v);
      hi = fmax(hi, v);
      points++;
    }
  if (c->has_threshold && isfinite(c->threshold)) {
    lo = fmin(lo, c->threshold);
    hi = fmax(hi, c->threshold);
  }
  if (!isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) {
    double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  double span = c->t1 - c->t0 > 0 ? c->t1 - c->t0 : 1;
  double pw = w - left - right, ph = h - top - bottom;
#define X(t) (left + ((t)-c->t0) / span * pw)
#define Y(v) (top + (hi - (v)) / (hi - lo) * ph)
  gg_status st = gg_buf_printf(out,
                               "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
                               "xmlns=\"http://www.w3.org/2000/svg\"><title>",
                               w, h);
  if (st == GG_OK) st = html_escape(out, c->title);
  if (st == GG_OK)
    st = gg_buf_printf(out,
                       "</title><rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
                       "stroke=\"#ddd\"/><text x=\"4\" y=\"14\" font-size=\"12\" font-weight=\"bold\">",
                       left, top, pw, ph);
  if (st == GG_OK) st = html_escape(out, c->title);
  if (st == GG_OK) st = gg_buf_puts(out, "</text>");
  char a[48], b[48];
  format_value(hi, c->unit, a, sizeof a);
  format_value(lo, c->unit, b, sizeof b);
  if (st == GG_OK)
    st = gg_buf_printf(out,
                       "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">%s</text>"
                       "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">%s</text>",
                       left - 4, top + 10, a, left - 4, top + ph, b);
  format_clock(c->t0, a, sizeof a);
  format_clock(c->t1, b, sizeof b);
  if (st == GG_OK)
    st = gg_buf_printf(out,
                       "<text x=\"%.0f\" y=\"%d\" font-size=\"10\">%s</text>"
                       "<text x=\"%.0f\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>",
                       left, h - 6, a, w - right, h - 6, b);
  if (st == GG_OK && c->has_threshold && isfinite(c->threshold)) {
    format_value(c->threshold, c->unit, a, sizeof a);
    st = gg_buf_printf(
        out,
        "<line class=\"threshold\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#dc2626\" "
        "stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#dc2626\" "
        "text-anchor=\"end\">threshold %s</text>",
        left, left + pw, Y(c->threshold), Y(c->threshold), left + pw - 2, Y(c->threshold) - 3, a);
  }
  for (size_t i = 0; i < c->nlines && st == GG_OK; i++) {
    const html_chart_line *l = &c->lines[i];
    const char *color = palette[i % (sizeof palette / sizeof palette[0])];
    bool open = false;
    for (size_t k = 0; k < l->n && st == GG_OK; k++) {
      double v = l->v[k], t = l->t[k];
      bool ok = !isnan(v) && isfinite(v) && t >= c->t0 && t <= c->t1;
      if (!ok) {
        if (open) st = gg_buf_puts(out, "\"/>");
        open = false;
        continue;
      }
      if (!open)
        st =
            gg_buf_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", color);
      if (st == GG_OK) st = gg_buf_printf(out, "%s%.1f,%.1f", open ? " " : "", X(t), Y(v));
      open = true;
    }
    if (open && st == GG_OK) st = gg_buf_puts(out, "\"/>");
    if (st == GG_OK && l->label && l->label[0] && c->nlines > 1) {
      st = gg_buf_printf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" fill=\"%s\">", left + 4,
                         top + 12 + 11.0 * (double)i, color);
      if (st == GG_OK) st = html_escape(out, l->label);
      if (st == GG_OK) st = gg_buf_puts(out, "</text>");
    }
  }
  if (st == GG_OK && points == 0)
    st = gg_buf_printf(
        out,
        "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" fill=\"#888\" text-anchor=\"middle\">no data</text>",
        left + pw / 2, top + ph / 2);
  if (st == GG_OK) st = gg_buf_puts(out, "</svg>");
#undef X
#undef Y
  return st;
}
