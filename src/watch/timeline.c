/*
 * timeline.c: what the dashboard's timeline shows, copied out of the journal by the watcher
 * thread (the HTTP threads never touch the journal handle): phase starts, completions,
 * rollbacks and failures, decisions and overrides, cutovers with their gap, rule firings.
 * Each tick reads only the rows after the last one read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "watch/internal.h"

/* What an event is on the timeline; false when it is not shown there. */
static bool classify(const journal_event *ev, json_t *c, watch_tl_event *out) {
  char when[40];
  gg_time_format(ev->time, when, sizeof when);
  const char *phase = ev->phase ? ev->phase : "";
  const char *reason = json_string_value(json_object_get(c, "reason"));
  memset(out, 0, sizeof *out);
  out->t = ev->time;
  snprintf(out->lane, sizeof out->lane, "%s", phase);
  if (strcmp(ev->kind, "phase_started") == 0) {
    out->kind = HTML_TL_STARTED;
    snprintf(out->label, sizeof out->label, "phase %s started %s by %s", phase, when, ev->actor);
  } else if (strcmp(ev->kind, "phase_completed") == 0) {
    out->kind = HTML_TL_COMPLETED;
    snprintf(out->label, sizeof out->label, "phase %s completed %s", phase, when);
  } else if (strcmp(ev->kind, "phase_rolled_back") == 0 || strcmp(ev->kind, "phase_failed") == 0) {
    bool failed = strcmp(ev->kind, "phase_failed") == 0;
    out->kind = failed ? HTML_TL_FAILED : HTML_TL_ROLLED_BACK;
    snprintf(out->label, sizeof out->label, "phase %s %s %s by %s: %s", phase,
             failed ? "failed" : "rolled back", when, ev->actor, reason ? reason : "");
  } else if (strcmp(ev->kind, "decision") == 0 || strcmp(ev->kind, "override") == 0) {
    bool override = strcmp(ev->kind, "override") == 0;
    const char *d = json_string_value(json_object_get(c, "decision"));
    out->kind = HTML_TL_DECISION;
    out->severe = override || (d && strcmp(d, "GO") != 0);
    snprintf(out->label, sizeof out->label, "%s%s for phase %s %s by %s%s%s", override ? "OVERRIDE: " : "",
             d ? d : "?", phase, when, ev->actor, reason ? ": " : "", reason ? reason : "");
  } else if (strcmp(ev->kind, "action_outcome") == 0) {
    const json_t *gap = json_object_get(c, "gap_ms");
    if (!json_is_number(gap) || json_number_value(gap) < 0) return false;
    const char *mode = json_string_value(json_object_get(c, "mode"));
    out->kind = HTML_TL_CUTOVER;
    snprintf(out->label, sizeof out->label, "%s %s of phase %s %s: publish gap %.1f ms",
             mode && strcmp(mode, "inverse") == 0 ? "undo of" : "",
             json_string_value(json_object_get(c, "action")) ? json_string_value(json_object_get(c, "action"))
                                                             : "cutover",
             phase, when, json_number_value(gap));
  } else if (strcmp(ev->kind, "rule_firing") == 0) {
    const char *rule = json_string_value(json_object_get(c, "rule"));
    const char *then = json_string_value(json_object_get(c, "then"));
    out->kind = HTML_TL_FIRING;
    out->severe = then && strcmp(then, "rollback") == 0;
    snprintf(out->label, sizeof out->label, "rule '%s' fired %s (then %s)", rule ? rule : "?", when,
             then ? then : "?");
  } else {
    return false;
  }
  return true;
}

static void push(watch *w, const watch_tl_event *e) {
  if (w->ntl == WATCH_TIMELINE_MAX) {
    memmove(w->tl, w->tl + 1, (WATCH_TIMELINE_MAX - 1) * sizeof *w->tl);
    w->ntl--;
  }
  w->tl[w->ntl++] = *e;
}

void watch_timeline_refresh(watch *w) {
  if (!w->tl && !(w->tl = calloc(WATCH_TIMELINE_MAX, sizeof *w->tl))) return;
  journal_filter f = journal_filter_all();
  f.after_seq = w->tl_seq;
  journal_event *evs = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  if (journal_events(w->j, &f, &evs, &n, &err) != GG_OK) {
    gg_warn("timeline read failed", "err=\"%s\"", gg_error_message(&err));
    return;
  }
  pthread_mutex_lock(&w->mu);
  for (size_t i = 0; i < n; i++) {
    watch_tl_event e;
    json_t *c = journal_event_content(&evs[i]);
    if (c && classify(&evs[i], c, &e)) push(w, &e);
    json_decref(c);
    w->tl_seq = evs[i].seq;
  }
  pthread_mutex_unlock(&w->mu);
  journal_events_free(evs, n);
}
