/*
 * page.c: the dashboard's sections that answer "where are we, what now" at a glance: the state
 * banner (one line: state, phase, when and how long ago, by which rule, what was carried back,
 * the next step as a command), the timeline of the migration, and the rules that are pending or
 * firing with their charts first, every other rule folded below. http.c assembles the page.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/units.h"
#include "html/html.h"
#include "watch/internal.h"

/* ---- the banner ---- */

typedef struct {
  const char *word; /* "ROLLED BACK" */
  const char *cls;  /* "bad", "warn", "ok", "dim" */
  size_t phase;     /* index into the plan's phases; SIZE_MAX for none */
  double at;        /* when the phase got there; 0 unknown */
} headline;

/* The phase the migration's state is about: a rollback that did not finish, else the latest
 * rollback or failure, else a running phase, else the latest completed one. */
static headline pick_headline(const watch *w) {
  static const struct {
    journal_phase_state state;
    const char *word, *cls;
  } order[] = {{JOURNAL_STATE_ROLLBACK_INCOMPLETE, "ROLLBACK INCOMPLETE", "bad"},
               {JOURNAL_STATE_ROLLED_BACK, "ROLLED BACK", "bad"},
               {JOURNAL_STATE_FAILED, "FAILED", "bad"},
               {JOURNAL_STATE_RUNNING, "RUNNING", "warn"},
               {JOURNAL_STATE_COMPLETED, "COMPLETED", "ok"}};
  headline h = {"NOT STARTED", "dim", SIZE_MAX, 0};
  for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
    double best_at = -1;
    for (size_t i = 0; i < w->p->nphases; i++) {
      const journal_phase_info *pi = &w->phases[i];
      if (pi->state != order[k].state) continue;
      double at = pi->state == JOURNAL_STATE_ROLLED_BACK ? pi->rolled_back_at
                  : pi->state == JOURNAL_STATE_FAILED    ? pi->failed_at
                  : pi->state == JOURNAL_STATE_COMPLETED ? pi->completed_at
                                                         : pi->started_at;
      if (at >= best_at) {
        best_at = at;
        h = (headline){order[k].word, order[k].cls, i, at};
      }
    }
    if (h.phase != SIZE_MAX) return h;
  }
  return h;
}

/* "rule 'X' fired: ..." names the rule; copy X into out, else the reason cut short. */
static void by_what(const char *reason, char *out, size_t n) {
  const char *a = strstr(reason, "rule '");
  const char *z = a ? strstr(a + 6, "' fired") : NULL;
  if (a && z) {
    snprintf(out, n, "by rule '%.*s'", (int)(z - a - 6), a + 6);
    return;
  }
  size_t cut = strlen(reason);
  if (cut > 120) /* at a character's start, never inside a UTF-8 sequence */
    for (cut = 120; cut > 0 && ((unsigned char)reason[cut] & 0xC0) == 0x80;) cut--;
  snprintf(out, n, "%.*s%s", (int)cut, reason, reason[cut] ? "…" : "");
}

/* The first firing rule (rollback before advise before notify), or NULL. */
static const watch_rule_rt *firing_rule(const watch *w) {
  const watch_rule_rt *best = NULL;
  for (size_t i = 0; i < w->nrules; i++) {
    const watch_rule_rt *rr = &w->rules[i];
    if (!rr->armed || rr->t.state != WATCH_RULE_FIRING) continue;
    if (!best || rr->rule->then < best->rule->then) best = rr;
  }
  return best;
}

/* The next step as a command, for the headline and what fires. */
static void next_step(const watch *w, const headline *h, const watch_rule_rt *fr, char *out, size_t n) {
  const char *pf = w->p->file ? w->p->file : "PLAN";
  const char *id = h->phase != SIZE_MAX ? w->p->phases[h->phase].id : "N";
  const journal_phase_info *pi = h->phase != SIZE_MAX ? &w->phases[h->phase] : NULL;
  if (pi && pi->state == JOURNAL_STATE_ROLLBACK_INCOMPLETE)
    snprintf(out, n, "finish the rollback: gonogo rollback %s --phase %s --reason TEXT", pf, id);
  else if (pi && (pi->state == JOURNAL_STATE_ROLLED_BACK || pi->state == JOURNAL_STATE_FAILED))
    snprintf(out, n, "investigate, then gonogo check %s --phase %s", pf, id);
  else if (fr && fr->rule->then == PLAN_THEN_ADVISE && !fr->acked)
    snprintf(out, n,
             "decide: gonogo rollback %s --phase %s --reason TEXT, or gonogo watch %s --ack '%s' --by NAME",
             pf, fr->phase[0] ? fr->phase : id, pf, fr->rule->name);
  else if (pi && pi->state == JOURNAL_STATE_RUNNING)
    snprintf(out, n, "let it finish: gonogo status %s", pf);
  else if (pi && h->phase + 1 < w->p->nphases)
    snprintf(out, n, "gonogo check %s --phase %s", pf, w->p->phases[h->phase + 1].id);
  else if (pi)
    snprintf(out, n, "the checkpoints, then the retrospective: gonogo retro %s", pf);
  else
    snprintf(out, n, "gonogo check %s --phase %s", pf, w->p->nphases ? w->p->phases[0].id : "N");
}

/* What the banner says, for the page and /api/state alike. */
typedef struct {
  headline h;
  const watch_rule_rt *fr; /* the firing rule it names, or NULL */
  const char *cls;         /* the severity: the headline's, raised by what fires or is pending */
  size_t pending, firing;
  char by[200];   /* "by rule 'X'" (or the reason) for a rollback or failure; "" otherwise */
  char next[600]; /* the next step, a command */
} banner_facts;

static banner_facts banner_of(const watch *w) {
  banner_facts f = {.h = pick_headline(w), .fr = firing_rule(w)};
  for (size_t i = 0; i < w->nrules; i++) {
    if (!w->rules[i].armed) continue;
    f.pending += w->rules[i].t.state == WATCH_RULE_PENDING;
    f.firing += w->rules[i].t.state == WATCH_RULE_FIRING;
  }
  f.cls = f.h.cls;
  if (f.fr && strcmp(f.cls, "bad") != 0) f.cls = f.fr->rule->then == PLAN_THEN_ROLLBACK ? "bad" : "warn";
  if (!f.fr && f.pending && strcmp(f.cls, "ok") == 0) f.cls = "warn";
  if (f.h.phase != SIZE_MAX && w->phases[f.h.phase].reason[0] && strcmp(f.h.cls, "bad") == 0)
    by_what(w->phases[f.h.phase].reason, f.by, sizeof f.by);
  next_step(w, &f.h, f.fr, f.next, sizeof f.next);
  return f;
}

json_t *watch_headline_json(watch *w) {
  banner_facts f = banner_of(w);
  static const char *const severity[] = {"bad", "critical", "warn", "warning", "ok", "ok", "dim", "none"};
  const char *sev = "none";
  for (size_t i = 0; i < sizeof severity / sizeof severity[0]; i += 2)
    if (strcmp(f.cls, severity[i]) == 0) sev = severity[i + 1];
  json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "state", f.h.word, "severity", sev, "next", f.next,
                        "firing", (json_int_t)f.firing, "pending", (json_int_t)f.pending);
  if (f.h.phase != SIZE_MAX) {
    const journal_phase_info *pi = &w->phases[f.h.phase];
    char t[40];
    json_object_set_new(o, "phase", json_string(w->p->phases[f.h.phase].id));
    if (f.h.at > 0) json_object_set_new(o, "since", json_string(gg_time_format(f.h.at, t, sizeof t)));
    if (f.by[0]) json_object_set_new(o, "by", json_string(f.by));
    if (pi->state == JOURNAL_STATE_ROLLED_BACK && pi->carried_back >= 0)
      json_object_set_new(o, "carried_back", json_integer(pi->carried_back));
  }
  if (f.fr) json_object_set_new(o, "firing_rule", json_string(f.fr->rule->name));
  return o;
}

gg_status watch_page_banner(watch *w, gg_buf *b, double now) {
  gg_status st = GG_OK;
  banner_facts f = banner_of(w);
  const headline h = f.h;
  char t[40], ago[32];
  P("<div id=\"banner\" class=\"banner %s\" role=\"status\"><strong class=\"word\">%s</strong>", f.cls,
    h.word);
  if (h.phase != SIZE_MAX) {
    const plan_phase *ph = &w->p->phases[h.phase];
    const journal_phase_info *pi = &w->phases[h.phase];
    P(" · phase ");
    E(ph->id);
    P(" (");
    E(ph->name);
    P(")");
    if (h.at > 0) {
      char iso[40];
      gg_time_format(h.at, iso, sizeof iso);
      P(" at %.5s UTC <span class=\"ago\">(%s ago)</span>", iso + 11,
        gg_format_duration(fmax(0, floor(now - h.at)), ago, sizeof ago));
    }
    if (f.by[0]) {
      P(" · ");
      E(f.by);
    }
    if (pi->state == JOURNAL_STATE_ROLLED_BACK && pi->carried_back >= 0)
      P(" · carried back %lld message%s", pi->carried_back, pi->carried_back == 1 ? "" : "s");
    if (pi->state == JOURNAL_STATE_ROLLED_BACK && pi->kept[0])
      P(" · <span title=\"what the rollback kept\">kept some</span>");
  }
  if (f.fr) {
    P(" · <span class=\"firing\">FIRING: ");
    E(f.fr->rule->name);
    P(" (%s)</span>", plan_then_name(f.fr->rule->then));
  }
  if (f.firing > 1 || f.pending) P(" · %zu firing, %zu pending", f.firing, f.pending);
  P("<br><span class=\"next\">next: <code>");
  E(f.next);
  P("</code></span> <span class=\"ago\">updated %.8s UTC</span></div>",
    gg_time_format(now, t, sizeof t) + 11);
  return st;
}

/* ---- the timeline ---- */

gg_status watch_page_timeline(watch *w, gg_buf *b, double now) {
  gg_status st = GG_OK;
  const char **lanes = calloc(w->p->nphases + 1, sizeof *lanes);
  const char **names = calloc(w->p->nphases + 1, sizeof *names);
  html_tl_event *evs = calloc(w->ntl + 1, sizeof *evs);
  if (!lanes || !names || !evs) st = GG_ERR_NOMEM;
  for (size_t i = 0; st == GG_OK && i < w->p->nphases; i++) {
    lanes[i] = w->p->phases[i].id;
    names[i] = w->p->phases[i].name;
  }
  double t0 = now;
  for (size_t i = 0; st == GG_OK && i < w->ntl; i++) {
    const watch_tl_event *e = &w->tl[i];
    evs[i] =
        (html_tl_event){.t = e->t, .kind = e->kind, .lane = e->lane, .label = e->label, .severe = e->severe};
    if (e->t < t0) t0 = e->t;
  }
  if (st == GG_OK) {
    double span = fmax(now - t0, 60);
    html_timeline tl = {.lanes = lanes,
                        .names = names,
                        .nlanes = w->p->nphases,
                        .events = evs,
                        .nevents = w->ntl,
                        .t0 = now - span * 1.03,
                        .t1 = now,
                        .width = 900};
    P("<h2>Timeline</h2>");
    if (st == GG_OK) st = html_svg_timeline(b, &tl);
  }
  free(lanes);
  free(names);
  free(evs);
  return st;
}

/* ---- the rules ---- */

static bool rule_active(const watch_rule_rt *rr) {
  return rr->armed && (rr->t.state == WATCH_RULE_PENDING || rr->t.state == WATCH_RULE_FIRING);
}

/* What a rule last saw: its error, its members or its value, and what its firing did. */
static gg_status rule_value(const watch_rule_rt *rr, gg_buf *b) {
  gg_status st = GG_OK;
  if (rr->error[0]) {
    P("<span class=\"bad\">ERROR</span> ");
    E(rr->error);
  } else if (rr->nmembers > 1) {
    for (size_t k = 0; k < rr->nmembers; k++) {
      P("%s", k ? "<br>" : "");
      E(rr->members[k]);
    }
  } else {
    E(rr->value);
  }
  if (rr->action[0]) {
    P("<br><span class=\"dim\">");
    E(rr->action);
    P("</span>");
  }
  return st;
}

/* A pending or firing rule: a card with its expression, since when, its value and its chart. */
static gg_status active_rule(const watch_rule_rt *rr, gg_buf *b, double t0, double t1) {
  gg_status st = GG_OK;
  char d[32], since[40];
  bool firing = rr->t.state == WATCH_RULE_FIRING;
  P("<div class=\"rule %s\"><div class=\"rulehead\"><span class=\"%s\">%s</span> <strong>",
    firing ? "firing" : "pending", firing ? "bad" : "warn", firing ? "FIRING" : "pending");
  E(rr->rule->name);
  gg_format_duration(rr->rule->for_, d, sizeof d);
  P("</strong> · then %s", plan_then_name(rr->rule->then));
  if (rr->t.active_since > 0) {
    gg_time_format(rr->t.active_since, since, sizeof since);
    P(" · holding since %.8s UTC", since + 11);
  }
  if (rr->rule->then == PLAN_THEN_ADVISE && rr->acked) {
    P(" · acknowledged by ");
    E(rr->acked_by);
  }
  P("</div><code>");
  E(rr->rule->when.text);
  P("</code> for %s<div class=\"value\">", d);
  if (st == GG_OK) st = rule_value(rr, b);
  P("</div>");
  if (st == GG_OK) st = watch_chart_svg(b, &rr->chart, t0, t1);
  P("</div>");
  return st;
}

/* The other rules, folded: one row each, with why it is quiet (idle, inactive, an error). */
static gg_status other_rules(watch *w, gg_buf *b, size_t idle, size_t errors, size_t inactive, double t0,
                             double t1) {
  gg_status st = GG_OK;
  char d[32];
  P("<details id=\"other-rules\"><summary>%zu other rules: %zu inactive, %zu idle (no running or completed "
    "phase), "
    "%zu cannot evaluate</summary><table><tr><th>rule</th><th>state</th><th>value</th><th "
    "class=\"wide\">then</th></tr>",
    idle + errors + inactive, inactive, idle, errors);
  for (size_t i = 0; i < w->nrules; i++) {
    const watch_rule_rt *rr = &w->rules[i];
    if (rule_active(rr)) continue;
    const char *sn = rr->armed ? watch_rule_state_name(rr->t.state) : "idle";
    P("<tr><td>");
    E(rr->rule->name);
    P("<br><code>");
    E(rr->rule->when.text);
    gg_format_duration(rr->rule->for_, d, sizeof d);
    P("</code> for %s</td><td class=\"%s\">%s</td><td>", d, rr->error[0] ? "bad" : "dim", sn);
    if (st == GG_OK) st = rule_value(rr, b);
    P("</td><td class=\"wide\">%s</td></tr>", plan_then_name(rr->rule->then));
  }
  P("</table>");
  for (size_t i = 0; i < w->nrules && st == GG_OK; i++)
    if (!rule_active(&w->rules[i])) st = watch_chart_svg(b, &w->rules[i].chart, t0, t1);
  P("</details>");
  return st;
}

gg_status watch_page_rules(watch *w, gg_buf *b, double t0, double t1) {
  gg_status st = GG_OK;
  size_t firing = 0, pending = 0, idle = 0, errors = 0, inactive = 0;
  for (size_t i = 0; i < w->nrules; i++) {
    const watch_rule_rt *rr = &w->rules[i];
    if (rule_active(rr))
      firing += rr->t.state == WATCH_RULE_FIRING, pending += rr->t.state == WATCH_RULE_PENDING;
    else if (!rr->armed)
      idle++;
    else if (rr->error[0])
      errors++;
    else
      inactive++;
  }
  P("<h2>Rules: %zu firing, %zu pending</h2>", firing, pending);
  if (firing + pending == 0) P("<p class=\"ok quiet\">No rule is pending or firing.</p>");
  /* firing first, then pending */
  for (int pass = 0; pass < 2 && st == GG_OK; pass++)
    for (size_t i = 0; i < w->nrules && st == GG_OK; i++) {
      const watch_rule_rt *rr = &w->rules[i];
      if (rule_active(rr) && (rr->t.state == WATCH_RULE_FIRING) == (pass == 0))
        st = active_rule(rr, b, t0, t1);
    }
  if (st == GG_OK && idle + errors + inactive) st = other_rules(w, b, idle, errors, inactive, t0, t1);
  return st;
}

#undef P
#undef E
