/*
 * http.c: what the watcher serves. /metrics (its own state in Prometheus format), /health
 * (200 while evaluations keep coming, 503 when they stall), /api/state (JSON) and / (the
 * dashboard: the state banner, the timeline and the pending and firing rules first (page.c),
 * then phases, checkpoints and the charts of every watched series, folded; rendered on the
 * server as HTML with inline SVG, refreshing itself, no external assets).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/units.h"
#include "html/html.h"
#include "watch/internal.h"

#define WATCH_PAGE_MAX (8u << 20)

static json_t *line_json(const watch_line *l) {
  json_t *pts = json_array();
  for (size_t k = 0; k < l->n; k++) {
    size_t at = (l->start + k) % l->cap;
    json_array_append_new(pts,
                          json_pack("[f, o]", l->t[at], isnan(l->v[at]) ? json_null() : json_real(l->v[at])));
  }
  return json_pack("{s:s, s:o}", "labels", l->label, "points", pts);
}

static json_t *chart_json(const watch_series_chart *c) {
  json_t *lines = json_array();
  for (size_t i = 0; i < c->nlines; i++) json_array_append_new(lines, line_json(&c->lines[i]));
  json_t *o = json_pack("{s:s, s:o}", "title", c->title ? c->title : "", "series", lines);
  if (c->has_threshold) json_object_set_new(o, "threshold", json_real(c->threshold));
  return o;
}

json_t *watch_state_locked(watch *w) {
  char t[40];
  json_t *s = json_object();
  json_object_set_new(s, "migration", json_string(w->p->migration));
  json_object_set_new(s, "plan_hash", json_string(w->p->hash));
  json_object_set_new(s, "interval", json_real(w->interval));
  json_object_set_new(s, "started", json_string(gg_time_format(w->started, t, sizeof t)));
  json_object_set_new(s, "evaluations", json_integer((json_int_t)w->evals));
  json_object_set_new(
      s, "last_evaluation",
      w->last_eval > 0 ? json_string(gg_time_format(w->last_eval, t, sizeof t)) : json_null());
  json_object_set_new(s, "last_evaluation_seconds", json_real(w->last_duration));
  json_object_set_new(s, "last_error", json_string(w->last_error));
  json_object_set_new(s, "headline", watch_headline_json(w)); /* what the page's banner says */

  json_t *phases = json_array();
  for (size_t i = 0; i < w->p->nphases; i++) {
    const journal_phase_info *pi = &w->phases[i];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", w->p->phases[i].id, "name", w->p->phases[i].name,
                          "state", journal_phase_state_name(pi->state), "decision", pi->decision);
    if (pi->completed_at > 0)
      json_object_set_new(o, "completed_at", json_string(gg_time_format(pi->completed_at, t, sizeof t)));
    if (pi->rolled_back_at > 0)
      json_object_set_new(o, "rolled_back_at", json_string(gg_time_format(pi->rolled_back_at, t, sizeof t)));
    if (pi->reason[0]) json_object_set_new(o, "reason", json_string(pi->reason));
    if (w->shifts && w->shifts[i]) json_object_set_new(o, "shift", json_deep_copy(w->shifts[i]));
    json_array_append_new(phases, o);
  }
  json_object_set_new(s, "phases", phases);

  json_t *rules = json_array();
  for (size_t i = 0; i < w->nrules; i++) {
    const watch_rule_rt *rr = &w->rules[i];
    json_t *members = json_array();
    for (size_t k = 0; k < rr->nmembers; k++) json_array_append_new(members, json_string(rr->members[k]));
    json_t *o =
        json_pack("{s:s, s:s, s:f, s:s, s:s, s:b, s:o}", "name", rr->rule->name, "when", rr->rule->when.text,
                  "for", rr->rule->for_, "then", plan_then_name(rr->rule->then), "state",
                  watch_rule_state_name(rr->t.state), "armed", rr->armed, "members", members);
    json_object_set_new(o, "value", json_string(rr->value));
    json_object_set_new(o, "error", rr->error[0] ? json_string(rr->error) : json_null());
    json_object_set_new(o, "phase", rr->phase[0] ? json_string(rr->phase) : json_null());
    if (rr->t.active_since > 0)
      json_object_set_new(o, "active_since", json_string(gg_time_format(rr->t.active_since, t, sizeof t)));
    if (rr->t.fired_at > 0)
      json_object_set_new(o, "fired_at", json_string(gg_time_format(rr->t.fired_at, t, sizeof t)));
    if (rr->action[0]) json_object_set_new(o, "action", json_string(rr->action));
    if (rr->rule->then == PLAN_THEN_ADVISE) json_object_set_new(o, "acknowledged", json_boolean(rr->acked));
    json_object_set_new(o, "chart", chart_json(&rr->chart));
    json_array_append_new(rules, o);
  }
  json_object_set_new(s, "rules", rules);

  json_t *cps = json_array();
  for (size_t i = 0; i < w->ncps; i++) {
    const watch_cp_rt *c = &w->cps[i];
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s}", "phase", c->phase, "name", c->cp->name, "due",
                  gg_time_format(c->due, t, sizeof t), "result", c->result[0] ? c->result : "pending");
    if (c->detail[0]) json_object_set_new(o, "detail", json_string(c->detail));
    json_array_append_new(cps, o);
  }
  json_object_set_new(s, "checkpoints", cps);

  json_t *series = json_array();
  for (size_t i = 0; i < w->ncharts; i++) json_array_append_new(series, chart_json(&w->charts[i]));
  json_object_set_new(s, "series", series);

  watch_notifier_stats ns;
  watch_notifier_get_stats(w->nt, &ns);
  json_object_set_new(s, "notifications",
                      json_pack("{s:I, s:I, s:I, s:I, s:s}", "sent", (json_int_t)ns.sent, "failed",
                                (json_int_t)ns.failed, "retries", (json_int_t)ns.retries, "queued",
                                (json_int_t)ns.queued, "last_error", ns.last_error));
  return s;
}

/* ---- the page ---- */

gg_status watch_chart_svg(gg_buf *b, const watch_series_chart *c, double t0, double t1) {
  html_chart_line lines[WATCH_LINES_MAX];
  double *bufs[WATCH_LINES_MAX * 2];
  size_t nb = 0;
  gg_status st = GG_OK;
  for (size_t i = 0; i < c->nlines; i++) {
    const watch_line *l = &c->lines[i];
    double *tt = malloc((l->n + 1) * sizeof *tt), *vv = malloc((l->n + 1) * sizeof *vv);
    bufs[nb++] = tt;
    bufs[nb++] = vv;
    if (!tt || !vv) {
      st = GG_ERR_NOMEM;
      break;
    }
    for (size_t k = 0; k < l->n; k++) {
      size_t at = (l->start + k) % l->cap;
      tt[k] = l->t[at];
      vv[k] = l->v[at];
    }
    lines[i] = (html_chart_line){.label = l->label, .t = tt, .v = vv, .n = l->n};
  }
  if (st == GG_OK) {
    html_chart ch = {.title = c->title ? c->title : "",
                     .lines = lines,
                     .nlines = c->nlines,
                     .has_threshold = c->has_threshold,
                     .threshold = c->threshold,
                     .unit = c->unit,
                     .t0 = t0,
                     .t1 = t1,
                     .width = 600,
                     .height = 170};
    st = html_svg_chart(b, &ch);
  }
  for (size_t i = 0; i < nb; i++) free(bufs[i]);
  return st;
}

static const char *state_class(const char *s) {
  if (strcmp(s, "firing") == 0 || strcmp(s, "FAIL") == 0 || strcmp(s, "ERROR") == 0 ||
      strcmp(s, "rolled back") == 0 || strcmp(s, "failed") == 0)
    return "bad";
  if (strcmp(s, "pending") == 0 || strcmp(s, "running") == 0 || strcmp(s, "pending ") == 0) return "warn";
  if (strcmp(s, "inactive") == 0 || strcmp(s, "PASS") == 0 || strcmp(s, "completed") == 0) return "ok";
  if (strcmp(s, "rollback incomplete") == 0) return "bad";
  return "dim";
}

/* "11-28 07:45:00" (UTC): what fits a phone's table cell; the full time is in /api/state. */
static const char *short_time(double t, char *out, size_t n) {
  char iso[40];
  gg_time_format(t, iso, sizeof iso); /* 2026-11-28T07:45:00.466Z */
  snprintf(out, n, "%.5s %.8s", iso + 5, iso + 11);
  return out;
}

/* The document head, up to the body. */
static gg_status page_head(watch *w, gg_buf *b) {
  gg_status st = GG_OK;
  double refresh = w->interval < 5 ? 5 : w->interval;
  P("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta http-equiv=\"refresh\" content=\"%.0f\"><title>gonogo watch · ",
    refresh);
  E(w->p->migration);
  P("</title><style>"
    "body{font-family:system-ui,-apple-system,sans-serif;margin:0 auto;max-width:960px;padding:8px "
    "12px;color:#111}"
    "h1{font-size:1.1em;margin:.5em 0 .2em}h2{font-size:1.05em;margin:1em 0 .3em;border-bottom:1px solid "
    "#ddd}"
    "table{border-collapse:collapse;width:100%%;font-size:.9em}td,th{text-align:left;padding:3px 6px;"
    "border-bottom:1px solid #eee;vertical-align:top}.ok{color:#15803d}.bad{color:#b91c1c;font-weight:bold}"
    ".warn{color:#b45309;font-weight:bold}.dim{color:#666;font-weight:normal}code{font-size:.85em;word-break:"
    "break-all}"
    "td{overflow-wrap:anywhere}td.ok,td.bad,td.warn{overflow-wrap:normal}.dim{overflow-wrap:anywhere}"
    ".chart{display:block;max-width:100%%;margin:4px 0 10px}.meta{color:#555;font-size:.85em}"
    ".banner{padding:10px 14px;border-radius:6px;color:#fff;font-size:1.05em;line-height:1.5;margin-top:4px}"
    ".banner.bad{background:#b91c1c}.banner.warn{background:#b45309}.banner.ok{background:#15803d}"
    ".banner.dim{background:#475569}.banner .word{font-size:1.15em;letter-spacing:.03em}"
    ".banner code{background:rgba(255,255,255,.18);padding:1px 5px;border-radius:3px;color:#fff}"
    ".banner .ago{opacity:.85;font-size:.9em}.banner .firing{font-weight:bold}"
    ".timeline{display:block;max-width:100%%}"
    ".rule{border:1px solid #eee;border-left:5px solid #b45309;padding:6px 8px;margin:6px 0}"
    ".rule.firing{border-left-color:#b91c1c}.rulehead{margin-bottom:2px}.value{font-size:.9em;margin:2px 0}"
    "details{margin:.8em 0}summary{cursor:pointer;color:#333;font-weight:600}"
    "@media (max-width:600px){td,th{padding:2px 3px}.wide{display:none}}"
    "</style></head><body>");
  return st;
}

/* The migration's name and the line of facts about the watcher, below the banner. */
static gg_status page_title(watch *w, gg_buf *b) {
  gg_status st = GG_OK;
  char t[40], d[32];
  P("<h1>gonogo watch · ");
  E(w->p->migration);
  P("</h1><p class=\"meta\">");
  E(w->p->description);
  gg_format_duration(w->interval, d, sizeof d);
  P("<br>interval %s · %lu evaluations · last %s UTC (%.0f ms)", d, w->evals,
    w->last_eval > 0 ? short_time(w->last_eval, t, sizeof t) : "never", w->last_duration * 1000);
  if (w->last_error[0]) {
    P(" · <span class=\"bad\">");
    E(w->last_error);
    P("</span>");
  }
  P("</p>");
  return st;
}

/* A phase's traffic shift (DESIGN §14): the share in force, the step, its state. */
static gg_status page_shift(const json_t *n, gg_buf *b) {
  gg_status st = GG_OK;
  const char *state = json_string_value(json_object_get(n, "state"));
  P("<br><span class=\"dim\">traffic shift ");
  E(json_string_value(json_object_get(n, "kv")) ? json_string_value(json_object_get(n, "kv")) : "");
  P(": <b>%g%%</b> to the new topology (step %lld/%lld, ", json_number_value(json_object_get(n, "share")),
    (long long)json_integer_value(json_object_get(n, "step")),
    (long long)json_integer_value(json_object_get(n, "steps")));
  E(state ? state : "?");
  P(")</span>");
  return st;
}

/* One row a phase: its state (with why, and what a rollback kept), decision and since when. */
static gg_status page_phases(watch *w, gg_buf *b) {
  gg_status st = GG_OK;
  char t[40];
  P("<h2>Phases</h2><table><tr><th>phase</th><th>state</th><th "
    "class=\"wide\">decision</th><th>since</th></tr>");
  for (size_t i = 0; i < w->p->nphases; i++) {
    const journal_phase_info *pi = &w->phases[i];
    const char *sn = journal_phase_state_name(pi->state);
    double since = fmax(fmax(pi->completed_at, pi->rolled_back_at), fmax(pi->started_at, pi->failed_at));
    P("<tr><td>");
    E(w->p->phases[i].id);
    P(" · ");
    E(w->p->phases[i].name);
    P("</td><td class=\"%s\">%s", state_class(sn), sn);
    if (pi->reason[0] && (pi->state == JOURNAL_STATE_ROLLED_BACK || pi->state == JOURNAL_STATE_FAILED)) {
      P("<br><span class=\"dim\">");
      E(pi->reason);
      P("</span>");
    }
    if (pi->kept[0] && pi->state == JOURNAL_STATE_ROLLED_BACK) {
      P("<br><span class=\"warn\">kept: ");
      E(pi->kept);
      P("</span>");
    }
    if (st == GG_OK && w->shifts && w->shifts[i]) st = page_shift(w->shifts[i], b);
    P("</td><td class=\"wide\">%s</td><td>%s</td></tr>", pi->decision[0] ? pi->decision : "-",
      since > 0 ? short_time(since, t, sizeof t) : "-");
  }
  P("</table>");

  return st;
}

/* The validation checkpoints scheduled after completed phases. */
static gg_status page_checkpoints(watch *w, gg_buf *b) {
  gg_status st = GG_OK;
  char t[40];
  P("<h2>Checkpoints</h2>");
  if (w->ncps == 0)
    P("<p class=\"dim\">none scheduled (a checkpoint starts counting when a phase completes)</p>");
  else {
    P("<table><tr><th>phase</th><th>checkpoint</th><th>due</th><th>result</th></tr>");
    for (size_t i = 0; i < w->ncps; i++) {
      const watch_cp_rt *c = &w->cps[i];
      const char *r = c->result[0] ? c->result : "pending";
      P("<tr><td>");
      E(c->phase);
      P("</td><td>");
      E(c->cp->name);
      P("</td><td>%s</td><td class=\"%s\">%s", short_time(c->due, t, sizeof t), state_class(r), r);
      if (c->detail[0]) {
        P("<br><span class=\"dim\">");
        E(c->detail);
        P("</span>");
      }
      P("</td></tr>");
    }
    P("</table>");
  }

  return st;
}

/* The window the charts draw: the watcher's history, at least ten intervals. */
static void chart_window(watch *w, double *t0, double *t1) {
  *t1 = w->last_eval > 0 ? w->last_eval : gg_clock_now();
  *t0 = fmax(w->started, *t1 - w->interval * (double)w->o.history_points);
  if (*t1 - *t0 < w->interval * 10) *t0 = *t1 - w->interval * 10;
}

/* The charts of every sampled series, folded, then the footer. */
static gg_status page_charts(watch *w, gg_buf *b) {
  gg_status st = GG_OK;
  double t0, t1;
  chart_window(w, &t0, &t1);
  P("<details id=\"series\"><summary>%zu sampled series</summary>", w->ncharts);
  for (size_t i = 0; i < w->ncharts && st == GG_OK; i++) st = watch_chart_svg(b, &w->charts[i], t0, t1);
  P("</details>");
  watch_notifier_stats ns;
  watch_notifier_get_stats(w->nt, &ns);
  P("<p class=\"meta\">notifications: %lu sent, %lu failed, %zu queued · <a "
    "href=\"/api/state\">/api/state</a> · "
    "<a href=\"/metrics\">/metrics</a> · plan %.12s</p></body></html>\n",
    ns.sent, ns.failed, ns.queued, w->p->hash);
  return st;
}

/* The dashboard: one section a helper, each appending to b. */
static gg_status render_page(watch *w, gg_buf *b) {
  double now = gg_clock_now(), t0, t1;
  chart_window(w, &t0, &t1);
  gg_status st = page_head(w, b);
  if (st == GG_OK) st = watch_page_banner(w, b, now);
  if (st == GG_OK) st = page_title(w, b);
  if (st == GG_OK) st = watch_page_timeline(w, b, now);
  if (st == GG_OK) st = watch_page_rules(w, b, t0, t1);
  if (st == GG_OK) st = page_phases(w, b);
  if (st == GG_OK) st = page_checkpoints(w, b);
  if (st == GG_OK) st = page_charts(w, b);
  return st;
}

#undef P
#undef E

static void on_page(gg_httpd_req *req, void *closure) {
  watch *w = closure;
  gg_buf b;
  gg_buf_init(&b, WATCH_PAGE_MAX);
  pthread_mutex_lock(&w->mu);
  gg_status st = render_page(w, &b);
  pthread_mutex_unlock(&w->mu);
  if (st == GG_OK)
    gg_httpd_respond(req, 200, "text/html; charset=utf-8", b.data, b.len, NULL);
  else
    gg_httpd_respond(req, 500, "text/plain", "page too large\n", 15, NULL);
  gg_buf_release(&b);
}

static void on_state(gg_httpd_req *req, void *closure) {
  watch *w = closure;
  json_t *s = watch_state(w);
  char *text = s ? json_dumps(s, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
  json_decref(s);
  if (text)
    gg_httpd_respond_json(req, 200, text);
  else
    gg_httpd_respond(req, 500, "text/plain", "out of memory\n", 14, NULL);
  free(text);
}

static void on_metrics(gg_httpd_req *req, void *closure) {
  watch *w = closure;
  gg_buf b;
  gg_buf_init(&b, WATCH_PAGE_MAX);
  if (gg_metrics_render(w->metrics, &b) == GG_OK)
    gg_httpd_respond(req, 200, GG_METRICS_CONTENT_TYPE, b.data, b.len, NULL);
  else
    gg_httpd_respond(req, 500, "text/plain", "metrics too large\n", 18, NULL);
  gg_buf_release(&b);
}

static void on_health(gg_httpd_req *req, void *closure) {
  watch *w = closure;
  pthread_mutex_lock(&w->mu);
  double last = w->last_eval, interval = w->interval, started = w->started;
  pthread_mutex_unlock(&w->mu);
  double now = gg_clock_now();
  /* healthy while evaluations keep coming (three intervals of slack, and a rollback's minute) */
  double ref = last > 0 ? last : started;
  bool ok = now - ref <= 3 * interval + 60;
  char body[256];
  char t[40];
  snprintf(body, sizeof body, "{\"status\":\"%s\",\"last_evaluation\":\"%s\"}", ok ? "ok" : "stalled",
           last > 0 ? gg_time_format(last, t, sizeof t) : "");
  gg_httpd_respond_json(req, ok ? 200 : 503, body);
}

gg_status watch_http_start(watch *w, gg_error *err) {
  gg_httpd_route routes[] = {
      {"GET", "/", on_page, w, 0},
      {"GET", "/api/state", on_state, w, 0},
      {"GET", "/metrics", on_metrics, w, 0},
      {"GET", "/health", on_health, w, 0},
  };
  gg_httpd_opts o = {.listen = w->o.listen, .threads = 2, .routes = routes, .nroutes = 4, .max_body = 4096};
  gg_status st = gg_httpd_start(&o, &w->httpd, err);
  if (st != GG_OK) gg_error_prefix(err, "dashboard: ");
  return st;
}
