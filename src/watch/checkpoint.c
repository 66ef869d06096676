/*
 * checkpoint.c: validation checkpoints. Each one applies at T+at after a phase completes and is
 * evaluated once per completion (a watcher restarted later finds it in the journal), its items
 * fetched concurrently; the result is journaled as a `checkpoint` event and a failure notifies.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "gate/env.h"
#include "probe/probe.h"
#include "watch/internal.h"

static bool cp_applies(const plan_checkpoint *c, const char *phase) {
  if (c->nphases == 0) return true;
  for (size_t i = 0; i < c->nphases; i++)
    if (strcmp(c->phases[i], phase) == 0) return true;
  return false;
}

/* ---- checkpoints ---- */

static const char *item_eval(watch *w, const plan_criterion *c, probe_ctx *probes, double now, char *detail,
                             size_t n) {
  gg_error err;
  gg_error_clear(&err);
  if (c->kind == PLAN_CRIT_EXPECT) {
    expr_ctx ctx;
    expr_series_source srcs[2];
    gate_env_ctx(w->env, probes, now, &ctx, srcs);
    expr_value v;
    expr_value_init(&v);
    gg_status st = expr_eval(c->expect.ast, &ctx, &v, &err);
    const char *res;
    if (st != GG_OK) {
      char *msg = gate_env_scrub(w->env, gg_error_message(&err));
      snprintf(detail, n, "%s", msg ? msg : "");
      free(msg);
      res = "ERROR";
    } else {
      watch_rule_rt tmp;
      memset(&tmp, 0, sizeof tmp);
      watch_format_observation(&tmp, &v);
      snprintf(detail, n, "%s", tmp.value);
      bool ok = v.kind == EXPR_VAL_BOOL ? v.truth : v.kind == EXPR_VAL_NUM && v.num != 0;
      res = ok ? "PASS" : "FAIL";
    }
    expr_value_release(&v);
    return res;
  }
  if (c->kind == PLAN_CRIT_RUN) {
    probe_run_result r = {0};
    if (probe_run(c->run, c->timeout, w->p->workdir, &r, &err) != GG_OK) {
      snprintf(detail, n, "%s", gg_error_message(&err));
      return "ERROR";
    }
    snprintf(detail, n, "%s", r.summary);
    bool ok = r.ok;
    probe_run_result_release(&r);
    return ok ? "PASS" : "FAIL";
  }
  if (c->kind == PLAN_CRIT_ATTEST) {
    double v = 0;
    if (journal_series_attested(w->j, c->attest, now, &v, &err) != GG_OK) {
      snprintf(detail, n, "%s", gg_error_message(&err));
      return "ERROR";
    }
    snprintf(detail, n, "%s", v > 0 ? "attested" : "not attested");
    return v > 0 ? "PASS" : "FAIL";
  }
  snprintf(detail, n, "canaries are evaluated by `gonogo check`, not by the watcher");
  return "ERROR";
}

/* Whether the checkpoint was journaled for this completion (by an earlier watcher); its
 * result into result[n]. */
static bool cp_journaled(watch *w, const char *phase, const char *name, double since, char *result,
                         size_t rn) {
  journal_filter f = journal_filter_all();
  f.any_phase = false;
  f.phase = phase;
  f.kind = "checkpoint";
  f.since = since;
  journal_event *evs = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  bool found = false;
  if (journal_events(w->j, &f, &evs, &n, &err) != GG_OK) return false;
  for (size_t i = 0; i < n && !found; i++) {
    json_t *c = journal_event_content(&evs[i]);
    const char *cp = c ? json_string_value(json_object_get(c, "checkpoint")) : NULL;
    found = cp && strcmp(cp, name) == 0;
    if (found) {
      const char *r = json_string_value(json_object_get(c, "result"));
      snprintf(result, rn, "%s", r ? r : "DONE");
    }
    json_decref(c);
  }
  journal_events_free(evs, n);
  return found;
}

static watch_cp_rt *cp_slot(watch *w, const char *phase, const plan_checkpoint *cp, double completed_at) {
  for (size_t i = 0; i < w->ncps; i++)
    if (w->cps[i].cp == cp && strcmp(w->cps[i].phase, phase) == 0) {
      if (w->cps[i].completed_at != completed_at) { /* the phase completed again: a new countdown */
        w->cps[i].completed_at = completed_at;
        w->cps[i].due = completed_at + cp->at;
        w->cps[i].result[0] = w->cps[i].detail[0] = '\0';
      }
      return &w->cps[i];
    }
  if (w->ncps == w->cps_cap) {
    size_t nc = w->cps_cap ? w->cps_cap * 2 : 8;
    watch_cp_rt *a = realloc(w->cps, nc * sizeof *a);
    if (!a) return NULL;
    w->cps = a;
    w->cps_cap = nc;
  }
  watch_cp_rt *s = &w->cps[w->ncps++];
  memset(s, 0, sizeof *s);
  snprintf(s->phase, sizeof s->phase, "%s", phase);
  s->cp = cp;
  s->completed_at = completed_at;
  s->due = completed_at + cp->at;
  return s;
}

/* The checkpoints still to come of a phase that was rolled back: cancelled, not pending. */
static void cp_cancel(watch *w, const char *phase) {
  pthread_mutex_lock(&w->mu);
  for (size_t i = 0; i < w->ncps; i++)
    if (strcmp(w->cps[i].phase, phase) == 0 && !w->cps[i].result[0]) {
      snprintf(w->cps[i].result, sizeof w->cps[i].result, "%s", JOURNAL_CHECKPOINT_CANCELLED);
      gg_info("checkpoint cancelled", "phase=%s checkpoint=\"%s\"", phase, w->cps[i].cp->name);
    }
  pthread_mutex_unlock(&w->mu);
}

void watch_checkpoints(watch *w, double now) {
  for (size_t pi = 0; pi < w->p->nphases; pi++) {
    const plan_phase *ph = &w->p->phases[pi];
    const journal_phase_info *info = &w->phases[pi];
    if (journal_phase_checkpoints_cancelled(info)) cp_cancel(w, ph->id);
    if (info->state != JOURNAL_STATE_COMPLETED) continue;
    for (size_t ci = 0; ci < w->p->nvalidation; ci++) {
      const plan_checkpoint *cp = &w->p->validation[ci];
      if (!cp_applies(cp, ph->id)) continue;
      pthread_mutex_lock(&w->mu);
      watch_cp_rt *slot = cp_slot(w, ph->id, cp, info->completed_at);
      bool todo = slot && !slot->result[0] && now >= slot->due;
      pthread_mutex_unlock(&w->mu);
      if (!todo) continue;
      char earlier[32];
      if (cp_journaled(w, ph->id, cp->name, info->completed_at, earlier, sizeof earlier)) {
        pthread_mutex_lock(&w->mu);
        snprintf(slot->result, sizeof slot->result, "%s", earlier);
        snprintf(slot->detail, sizeof slot->detail, "evaluated earlier (see the journal)");
        pthread_mutex_unlock(&w->mu);
        continue;
      }
      /* Fetch every series of the checkpoint's items concurrently, then evaluate. */
      probe_want *wants = calloc(cp->nitems + 1, sizeof *wants);
      probe_ctx *probes = probe_ctx_new(&w->cfg);
      gg_error err;
      gg_error_clear(&err);
      size_t nw = 0;
      for (size_t k = 0; wants && k < cp->nitems; k++)
        if (cp->items[k].kind == PLAN_CRIT_EXPECT)
          wants[nw++] = (probe_want){cp->items[k].expect.ast, cp->items[k].timeout};
      if (probes && wants && probe_prefetch(probes, wants, nw, &err) != GG_OK)
        gg_warn("checkpoint prefetch failed", "err=\"%s\"", gg_error_message(&err));
      json_t *items = json_array();
      const char *overall = "PASS";
      char summary[512] = "";
      size_t off = 0;
      for (size_t k = 0; k < cp->nitems; k++) {
        char detail[512];
        const char *res = item_eval(w, &cp->items[k], probes, now, detail, sizeof detail);
        json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "name", cp->items[k].name, "result", res,
                                               "observed", detail));
        if (strcmp(res, "FAIL") == 0 && strcmp(overall, "PASS") == 0) overall = "FAIL";
        if (strcmp(res, "ERROR") == 0) overall = strcmp(overall, "FAIL") == 0 ? "FAIL" : "ERROR";
        if (off < sizeof summary)
          off += (size_t)snprintf(summary + off, sizeof summary - off, "%s%s %s (%s)", k ? "; " : "", res,
                                  cp->items[k].name, detail);
      }
      probe_ctx_free(probes);
      free(wants);
      json_t *ev = json_pack("{s:s, s:f, s:f, s:f, s:s, s:o, s:b}", "checkpoint", cp->name, "at", cp->at,
                             "due", slot->due, "completed_at", info->completed_at, "result", overall, "items",
                             items, "late", now - slot->due > 2 * w->interval);
      watch_journal(w, JOURNAL_CHECKPOINT, ph->id, ev);
      gg_metrics_inc(gg_metrics_series(w->m_checkpoints, (const char *[]){overall}), 1);
      gg_info("checkpoint", "phase=%s checkpoint=\"%s\" result=%s", ph->id, cp->name, overall);
      if (strcmp(overall, "PASS") != 0) {
        char text[1000];
        json_object_set_new(ev, "kind", json_string("checkpoint"));
        json_object_set_new(ev, "phase", json_string(ph->id));
        snprintf(text, sizeof text, ":x: gonogo %s: checkpoint %s after phase %s: %s — %s", w->p->migration,
                 cp->name, ph->id, overall, summary);
        watch_notify(w, text, ev);
      }
      json_decref(ev);
      pthread_mutex_lock(&w->mu);
      snprintf(slot->result, sizeof slot->result, "%s", overall);
      snprintf(slot->detail, sizeof slot->detail, "%s", summary);
      pthread_mutex_unlock(&w->mu);
    }
  }
}
