/*
 * timeline.c: the migration on one time axis, as an inline SVG (see html.h): a lane a phase,
 * its bar coloured by what it was doing, a mark a decision, cutover, rule firing and rollback.
 * Drawn on the server like the charts, so the page needs no script and no network.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "html/html.h"

#define TL_LEFT 150.0
#define TL_RIGHT 12.0
#define TL_TOP 8.0
#define TL_LANE 28.0
#define TL_FOOT 34.0

static size_t lane_of(const html_timeline *tl, const char *lane) {
  for (size_t i = 0; lane && i < tl->nlanes; i++)
    if (strcmp(tl->lanes[i], lane) == 0) return i;
  return 0;
}

static void clock_text(double t, char *out, size_t n) {
  char iso[40];
  gg_time_format(t, iso, sizeof iso);
  snprintf(out, n, "%.5s %.5s", iso + 5, iso + 11); /* 12-01 21:44 (UTC) */
}

typedef struct {
  gg_buf *b;
  gg_status st;
  double t0, span, pw;
} tl_pen;

static double tx(const tl_pen *p, double t) {
  double x = TL_LEFT + (t - p->t0) / p->span * p->pw;
  return fmin(fmax(x, TL_LEFT), TL_LEFT + p->pw);
}

static void put(tl_pen *p, const char *fmt, ...) GG_PRINTF(2, 3);
static void put(tl_pen *p, const char *fmt, ...) {
  if (p->st != GG_OK) return;
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  p->st = gg_buf_puts(p->b, text);
}

static void esc(tl_pen *p, const char *text) {
  if (p->st == GG_OK) p->st = html_escape(p->b, text);
}

/* The bars of one lane: amber from a start to its completion (or the end), green from a
 * completion to the next start, rollback or failure (or the end). */
static void lane_bars(tl_pen *p, const html_timeline *tl, size_t lane, double y) {
  double from = NAN;
  const char *color = NULL;
  for (size_t i = 0; i <= tl->nevents; i++) {
    const html_tl_event *e = i < tl->nevents ? &tl->events[i] : NULL;
    if (e && lane_of(tl, e->lane) != lane) continue;
    bool ends = !e || e->kind == HTML_TL_STARTED || e->kind == HTML_TL_COMPLETED ||
                e->kind == HTML_TL_ROLLED_BACK || e->kind == HTML_TL_FAILED;
    if (!ends) continue;
    double t = e ? e->t : tl->t1;
    if (color && !isnan(from))
      put(p, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" rx=\"3\" fill=\"%s\"/>", tx(p, from),
          y - 6, fmax(tx(p, t) - tx(p, from), 2.0), color);
    if (!e) break;
    from = t;
    color = e->kind == HTML_TL_STARTED ? "#f59e0b" : e->kind == HTML_TL_COMPLETED ? "#16a34a" : NULL;
  }
}

static void mark(tl_pen *p, const html_tl_event *e, double y) {
  double x = tx(p, e->t);
  switch (e->kind) {
    case HTML_TL_DECISION:
      put(p, "<path class=\"decision\" d=\"M%.1f %.1fl6 6-6 6-6-6z\" fill=\"%s\" stroke=\"#fff\"><title>", x,
          y - 6, e->severe ? "#dc2626" : "#2563eb");
      break;
    case HTML_TL_CUTOVER:
      put(p, "<path class=\"cutover\" d=\"M%.1f %.1fl6 10h-12z\" fill=\"#7c3aed\" stroke=\"#fff\"><title>", x,
          y - 5);
      break;
    case HTML_TL_FIRING:
      put(p, "<circle class=\"firing\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" stroke=\"#fff\"><title>",
          x, y, e->severe ? "#dc2626" : "#ea580c");
      break;
    case HTML_TL_ROLLED_BACK:
    case HTML_TL_FAILED:
      put(p,
          "<path class=\"rollback\" d=\"M%.1f %.1fl5 5m0-5l-5 5M%.1f %.1fl-5-5m0 5l5-5\" stroke=\"#b91c1c\" "
          "stroke-width=\"3\"><title>",
          x - 5, y - 5, x + 5, y + 5);
      break;
    case HTML_TL_STARTED:
    case HTML_TL_COMPLETED:
      put(p, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#fff\" stroke=\"#444\"><title>", x, y);
      break;
  }
  esc(p, e->label);
  put(p, "</title></%s>",
      e->kind == HTML_TL_FIRING || e->kind == HTML_TL_STARTED || e->kind == HTML_TL_COMPLETED ? "circle"
                                                                                              : "path");
  if (e->kind == HTML_TL_ROLLED_BACK || e->kind == HTML_TL_FAILED) {
    /* beside the mark where there is room (right, else left), haloed so a bar under it stays readable */
    bool room_right = x + 90 < TL_LEFT + p->pw;
    put(p,
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#b91c1c\" font-weight=\"bold\" "
        "text-anchor=\"%s\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">%s</text>",
        room_right ? x + 9 : x - 9, y + 4, room_right ? "start" : "end",
        e->kind == HTML_TL_FAILED ? "failed" : "rolled back");
  }
}

static void legend(tl_pen *p, double y) {
  put(p,
      "<g font-size=\"11\" fill=\"#444\"><rect x=\"%.0f\" y=\"%.1f\" width=\"14\" height=\"8\" "
      "fill=\"#f59e0b\"/>"
      "<text x=\"%.0f\" y=\"%.1f\">running</text><rect x=\"%.0f\" y=\"%.1f\" width=\"14\" height=\"8\" "
      "fill=\"#16a34a\"/><text x=\"%.0f\" y=\"%.1f\">completed</text>",
      TL_LEFT, y - 8, TL_LEFT + 18, y, TL_LEFT + 80, y - 8, TL_LEFT + 98, y);
  put(p,
      "<path d=\"M%.0f %.1fl5 5-5 5-5-5z\" fill=\"#2563eb\"/><text x=\"%.0f\" y=\"%.1f\">decision</text>"
      "<path d=\"M%.0f %.1fl5 9h-10z\" fill=\"#7c3aed\"/><text x=\"%.0f\" y=\"%.1f\">cutover</text>"
      "<circle cx=\"%.0f\" cy=\"%.1f\" r=\"4\" fill=\"#ea580c\"/><text x=\"%.0f\" y=\"%.1f\">rule "
      "fired</text>"
      "<path d=\"M%.0f %.1fl8 8m0-8l-8 8\" stroke=\"#b91c1c\" stroke-width=\"3\"/><text x=\"%.0f\" "
      "y=\"%.1f\">rollback</text></g>",
      TL_LEFT + 185, y - 9, TL_LEFT + 195, y, TL_LEFT + 265, y - 9, TL_LEFT + 275, y, TL_LEFT + 340, y - 4,
      TL_LEFT + 350, y, TL_LEFT + 420, y - 8, TL_LEFT + 434, y);
}

gg_status html_svg_timeline(gg_buf *out, const html_timeline *tl) {
  int w = tl->width > 0 ? tl->width : 900;
  size_t lanes = tl->nlanes ? tl->nlanes : 1;
  double h = TL_TOP + TL_LANE * (double)lanes + TL_FOOT;
  double t0 = tl->t0, t1 = tl->t1 > tl->t0 ? tl->t1 : tl->t0 + 60;
  tl_pen p = {.b = out, .st = GG_OK, .t0 = t0, .span = t1 - t0, .pw = w - TL_LEFT - TL_RIGHT};
  put(&p,
      "<svg class=\"timeline\" viewBox=\"0 0 %d %.0f\" width=\"100%%\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>timeline of the migration</title>",
      w, h);
  for (size_t i = 0; i < tl->nlanes; i++) {
    double y = TL_TOP + TL_LANE * ((double)i + 0.5);
    put(&p,
        "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/><text x=\"4\" y=\"%.1f\" "
        "font-size=\"12\">",
        TL_LEFT, TL_LEFT + p.pw, y, y, y + 4);
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", tl->lanes[i], tl->names && tl->names[i] ? " · " : "",
             tl->names && tl->names[i] ? tl->names[i] : "");
    if (strlen(name) > 22) { /* cut at a character's start, never inside a UTF-8 sequence */
      size_t cut = 20;
      while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80) cut--;
      memcpy(name + cut, "…", sizeof "…");
    }
    esc(&p, name);
    put(&p, "</text>");
    lane_bars(&p, tl, i, y);
  }
  for (size_t i = 0; i < tl->nevents; i++) {
    const html_tl_event *e = &tl->events[i];
    if (e->t < t0 || e->t > t1) continue;
    mark(&p, e, TL_TOP + TL_LANE * ((double)lane_of(tl, e->lane) + 0.5));
  }
  double axis = TL_TOP + TL_LANE * (double)lanes;
  char a[32], b[32];
  clock_text(t0, a, sizeof a);
  clock_text(t1, b, sizeof b);
  put(&p,
      "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" fill=\"#666\">%s</text><text x=\"%.0f\" y=\"%.1f\" "
      "font-size=\"10\" fill=\"#666\" text-anchor=\"end\">%s UTC</text>",
      TL_LEFT, axis + 10, a, TL_LEFT + p.pw, axis + 10, b);
  if (tl->nevents == 0)
    put(&p,
        "<text x=\"%.0f\" y=\"%.1f\" font-size=\"12\" fill=\"#888\" text-anchor=\"middle\">nothing has "
        "happened yet</text>",
        TL_LEFT + p.pw / 2, TL_TOP + TL_LANE * (double)lanes / 2 + 4);
  legend(&p, axis + 28);
  put(&p, "</svg>");
  return p.st;
}
