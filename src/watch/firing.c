/*
 * firing.c: what a rule's evaluation leads to. The condition is evaluated against the
 * tick's prefetched probes and the journal; the rule is armed while a phase it applies to is
 * running or completed; each transition is journaled, and a firing rolls back (through the
 * executor, once per phase run, retried while the lease is held), raises an advisory that is
 * repeated until acknowledged, or notifies.
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

/* ---- phases ---- */

static bool rule_applies(const plan_rule *r, const char *phase) {
  if (r->nphases == 0) return true;
  for (size_t i = 0; i < r->nphases; i++)
    if (strcmp(r->phases[i], phase) == 0) return true;
  return false;
}

/* The most recent running or completed phase the rule applies to; NULL when none.
 * Only phases run since the latest rollback count: once a phase was rolled back (by a rule or
 * by a person), the phases completed before it stay as they are until someone decides — one
 * fault must not unwind the whole migration phase after phase. */
static const plan_phase *rule_target(watch *w, const plan_rule *r, double *started) {
  const plan_phase *best = NULL;
  double best_t = -1, latest_rollback = 0;
  for (size_t i = 0; i < w->p->nphases; i++)
    latest_rollback = fmax(latest_rollback, w->phases[i].rolled_back_at);
  for (size_t i = 0; i < w->p->nphases; i++) {
    const journal_phase_info *pi = &w->phases[i];
    if (pi->state != JOURNAL_STATE_RUNNING && pi->state != JOURNAL_STATE_COMPLETED) continue;
    if (!rule_applies(r, w->p->phases[i].id)) continue;
    double t = fmax(pi->started_at, pi->completed_at);
    if (t <= latest_rollback) continue;
    if (t > best_t) {
      best_t = t;
      best = &w->p->phases[i];
      *started = pi->started_at;
    }
  }
  return best;
}

/* ---- notifications ---- */

void watch_notify(watch *w, const char *text, json_t *event) {
  json_t *payload = watch_notify_payload(w->p->migration, text, event);
  if (payload) watch_notifier_send(w->nt, payload);
  json_decref(payload);
}

static void pending_say(watch *w, const gg_error *err) {
  size_t n = json_array_size(w->pending);
  pthread_mutex_lock(&w->mu);
  snprintf(w->last_error, sizeof w->last_error,
           "journal unreachable: %zu event%s waiting, retried every tick: %s", n, n == 1 ? "" : "s",
           gg_error_message(err));
  pthread_mutex_unlock(&w->mu);
}

bool watch_journal_flush(watch *w) {
  size_t done = 0;
  gg_error err;
  gg_error_clear(&err);
  while (json_array_size(w->pending) > 0) {
    json_t *e = json_array_get(w->pending, 0);
    journal_kind kind = (journal_kind)json_integer_value(json_object_get(e, "kind"));
    const char *phase = json_string_value(json_object_get(e, "phase"));
    if (journal_append_at(w->j, json_real_value(json_object_get(e, "time")), kind, phase, w->actor,
                          json_object_get(e, "content"), NULL, &err) != GG_OK) {
      gg_warn("journal still unreachable", "waiting=%zu err=\"%s\"", json_array_size(w->pending),
              gg_error_message(&err));
      pending_say(w, &err);
      return false;
    }
    json_array_remove(w->pending, 0);
    done++;
  }
  if (done > 0) {
    gg_info("journal reachable again", "appended=%zu", done);
    pthread_mutex_lock(&w->mu);
    w->last_error[0] = '\0';
    pthread_mutex_unlock(&w->mu);
  }
  return true;
}

void watch_journal(watch *w, journal_kind kind, const char *phase, json_t *content) {
  gg_error err;
  gg_error_clear(&err);
  double now = gg_clock_now();
  if (watch_journal_flush(w) &&
      journal_append_at(w->j, now, kind, phase, w->actor, content, NULL, &err) == GG_OK)
    return;
  if (!w->pending) w->pending = json_array();
  if (!gg_error_message(&err)[0]) gg_error_set(&err, GG_ERR_CONNECT, "earlier events are still waiting");
  if (w->pending && json_array_size(w->pending) < WATCH_PENDING_MAX) {
    json_t *e = json_pack("{s:i, s:s?, s:O?, s:f}", "kind", (int)kind, "phase", phase, "content", content,
                          "time", now);
    if (e) json_array_append_new(w->pending, e);
    gg_warn("journal append failed, event kept to append later", "kind=%s waiting=%zu err=\"%s\"",
            journal_kind_name(kind), json_array_size(w->pending), gg_error_message(&err));
    pending_say(w, &err);
    return;
  }
  gg_log_error("journal append failed", "kind=%s err=\"%s\"", journal_kind_name(kind),
               gg_error_message(&err));
  pthread_mutex_lock(&w->mu);
  snprintf(w->last_error, sizeof w->last_error, "%s", gg_error_message(&err));
  pthread_mutex_unlock(&w->mu);
}

/* ---- rules ---- */

static json_t *rule_event(watch *w, watch_rule_rt *rr, const char *kind) {
  json_t *e = json_object();
  json_object_set_new(e, "kind", json_string(kind));
  json_object_set_new(e, "rule", json_string(rr->rule->name));
  json_object_set_new(e, "then", json_string(plan_then_name(rr->rule->then)));
  json_object_set_new(e, "expr", json_string(rr->rule->when.text));
  json_object_set_new(e, "for", json_real(rr->rule->for_));
  json_object_set_new(e, "value", json_string(rr->error[0] ? rr->error : rr->value));
  if (rr->phase[0]) json_object_set_new(e, "phase", json_string(rr->phase));
  json_t *m = json_array();
  for (size_t i = 0; i < rr->nmembers; i++) json_array_append_new(m, json_string(rr->members[i]));
  json_object_set_new(e, "members", m);
  (void)w;
  return e;
}

/* What the latest firing did, for the page; the HTTP threads read it under mu. */
static void set_action(watch *w, watch_rule_rt *rr, const char *fmt, ...) GG_PRINTF(3, 4);
static void set_action(watch *w, watch_rule_rt *rr, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&w->mu);
  vsnprintf(rr->action, sizeof rr->action, fmt, ap);
  pthread_mutex_unlock(&w->mu);
  va_end(ap);
}

static void do_rollback(watch *w, watch_rule_rt *rr, double started, json_t *ev) {
  char reason[600], text[1200];
  snprintf(reason, sizeof reason, "rule '%s' fired: %s (%s)", rr->rule->name, rr->rule->when.text, rr->value);
  if (strcmp(rr->rolled_phase, rr->phase) == 0 && rr->rolled_started == started) {
    set_action(w, rr, "phase %s already rolled back by this rule", rr->phase);
    return;
  }
  if (!w->o.rollback) {
    set_action(w, rr, "cannot roll back phase %s: no executor", rr->phase);
    json_t *c = json_pack("{s:s, s:s, s:s}", "rule", rr->rule->name, "rollback", "unavailable", "error",
                          "this watcher has no executor");
    watch_journal(w, JOURNAL_NOTE, rr->phase, c);
    json_decref(c);
    return;
  }
  gg_info("rolling back", "rule=\"%s\" phase=%s", rr->rule->name, rr->phase);
  gg_error err;
  gg_error_clear(&err);
  double t0 = gg_clock_mono();
  gg_status st = w->o.rollback(w->o.rollback_ud, w->p, w->j, rr->phase, reason, &err);
  double took = gg_clock_mono() - t0;
  if (st == GG_ERR_LOCKED) {
    /* Someone holds the lease (the run of this very phase, or an operator's rollback): try
     * again at the next evaluations while the rule keeps firing. */
    bool first = !rr->retry_rollback;
    rr->retry_rollback = true;
    rr->retry_started = started;
    char *msg = gate_env_scrub(w->env, gg_error_message(&err));
    set_action(w, rr, "rollback of phase %s waits for the lease: %s", rr->phase, msg ? msg : "");
    gg_warn("rollback waits for the lease", "rule=\"%s\" phase=%s err=\"%s\"", rr->rule->name, rr->phase,
            msg ? msg : "");
    if (first) {
      snprintf(text, sizeof text,
               ":hourglass: gonogo %s: rollback of phase %s waits for the lease (%s); retrying every %.0f s",
               w->p->migration, rr->phase, msg ? msg : "", w->interval);
      json_object_set_new(ev, "kind", json_string("rollback"));
      json_object_set_new(ev, "rollback", json_string("waiting"));
      watch_notify(w, text, ev);
    }
    free(msg);
    return;
  }
  rr->retry_rollback = false;
  snprintf(rr->rolled_phase, sizeof rr->rolled_phase, "%s", rr->phase);
  rr->rolled_started = started;
  json_object_set_new(ev, "rollback_seconds", json_real(took));
  if (st == GG_OK) {
    /* How many messages the rollback carried back to the old stream (its phase_rolled_back). */
    journal_phase_info after;
    gg_error e2;
    bool have = journal_phase(w->j, rr->phase, &after, &e2) == GG_OK;
    long long carried = have ? after.carried_back : -1;
    const char *kept = have ? after.kept : "";
    if (carried < 0) carried = 0;
    gg_metrics_inc(gg_metrics_series(w->m_rollbacks, (const char *[]){"ok"}), 1);
    set_action(w, rr, "rolled back phase %s in %.0f ms, %lld messages carried back%s%s", rr->phase,
               took * 1000, carried, kept[0] ? "; kept: " : "", kept);
    json_object_set_new(ev, "rollback", json_string("ok"));
    json_object_set_new(ev, "carried_back", json_integer((json_int_t)carried));
    if (kept[0]) json_object_set_new(ev, "kept", json_string(kept));
    snprintf(
        text, sizeof text,
        ":leftwards_arrow_with_hook: gonogo %s: rolled back phase %s in %.0f ms (%lld messages carried back) "
        "because %s%s%s",
        w->p->migration, rr->phase, took * 1000, carried, reason, kept[0] ? "; kept: " : "", kept);
    gg_info("rolled back", "rule=\"%s\" phase=%s seconds=%.3f carried_back=%lld kept=\"%s\"", rr->rule->name,
            rr->phase, took, carried, kept);
  } else {
    char *msg = gate_env_scrub(w->env, gg_error_message(&err));
    gg_metrics_inc(gg_metrics_series(w->m_rollbacks, (const char *[]){"failed"}), 1);
    set_action(w, rr, "rollback of phase %s failed: %s", rr->phase, msg ? msg : "");
    json_object_set_new(ev, "rollback", json_string("failed"));
    json_object_set_new(ev, "error", json_string(msg ? msg : ""));
    snprintf(text, sizeof text,
             ":x: gonogo %s: rollback of phase %s FAILED (%s) after rule '%s' fired — act now",
             w->p->migration, rr->phase, msg ? msg : "", rr->rule->name);
    gg_log_error("rollback failed", "rule=\"%s\" phase=%s err=\"%s\"", rr->rule->name, rr->phase,
                 msg ? msg : "");
    json_t *c =
        json_pack("{s:s, s:s, s:s}", "rule", rr->rule->name, "rollback", "failed", "error", msg ? msg : "");
    watch_journal(w, JOURNAL_NOTE, rr->phase, c);
    json_decref(c);
    free(msg);
  }
  json_object_set_new(ev, "kind", json_string("rollback"));
  watch_notify(w, text, ev);
}

static void on_firing(watch *w, watch_rule_rt *rr, double started) {
  json_t *ev = rule_event(w, rr, "rule_firing");
  watch_journal(w, JOURNAL_RULE_FIRING, rr->phase, ev);
  gg_warn("rule firing", "rule=\"%s\" then=%s phase=%s value=\"%s\"", rr->rule->name,
          plan_then_name(rr->rule->then), rr->phase, rr->value);
  char text[1400];
  pthread_mutex_lock(&w->mu);
  rr->acked = false;
  rr->acked_by[0] = '\0';
  pthread_mutex_unlock(&w->mu);
  switch (rr->rule->then) {
    case PLAN_THEN_ROLLBACK:
      snprintf(text, sizeof text,
               ":rotating_light: gonogo %s: rule '%s' firing (%s: %s) after phase %s — rolling back",
               w->p->migration, rr->rule->name, rr->rule->when.text, rr->value, rr->phase);
      watch_notify(w, text, ev);
      do_rollback(w, rr, started, ev);
      break;
    case PLAN_THEN_ADVISE:
      snprintf(text, sizeof text,
               ":warning: gonogo %s: advisory '%s' (%s: %s) after phase %s. Decide: `gonogo rollback PLAN "
               "--phase %s "
               "--reason ...`, or acknowledge: `gonogo watch PLAN --ack '%s' --by NAME`",
               w->p->migration, rr->rule->name, rr->rule->when.text, rr->value, rr->phase, rr->phase,
               rr->rule->name);
      watch_notify(w, text, ev);
      rr->last_notified = gg_clock_now();
      set_action(w, rr, "advisory raised; waiting for a person");
      break;
    case PLAN_THEN_NOTIFY:
      snprintf(text, sizeof text, ":information_source: gonogo %s: rule '%s' firing (%s: %s) after phase %s",
               w->p->migration, rr->rule->name, rr->rule->when.text, rr->value, rr->phase);
      watch_notify(w, text, ev);
      set_action(w, rr, "notified");
      break;
  }
  json_decref(ev);
}

/* Advisories: remind until acknowledged (a journaled note naming the rule after it fired). */
static void advise_followup(watch *w, watch_rule_rt *rr, double now) {
  if (rr->acked) return;
  journal_filter f = journal_filter_all();
  f.kind = "note";
  f.since = rr->t.fired_at;
  journal_event *evs = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  if (journal_events(w->j, &f, &evs, &n, &err) == GG_OK) {
    for (size_t i = 0; i < n && !rr->acked; i++) {
      json_t *c = journal_event_content(&evs[i]);
      const char *ack = c ? json_string_value(json_object_get(c, "acknowledge")) : NULL;
      if (ack && strcmp(ack, rr->rule->name) == 0) {
        pthread_mutex_lock(&w->mu);
        rr->acked = true;
        snprintf(rr->acked_by, sizeof rr->acked_by, "%s", evs[i].actor ? evs[i].actor : "");
        pthread_mutex_unlock(&w->mu);
        set_action(w, rr, "advisory acknowledged by %s", rr->acked_by);
        gg_info("advisory acknowledged", "rule=\"%s\" by=\"%s\"", rr->rule->name, rr->acked_by);
      }
      json_decref(c);
    }
    journal_events_free(evs, n);
  }
  if (rr->acked) return;
  double repeat = w->o.advise_repeat > 0 ? w->o.advise_repeat : WATCH_DEFAULT_ADVISE_REPEAT;
  if (now - rr->last_notified < repeat) return;
  rr->last_notified = now;
  json_t *ev = rule_event(w, rr, "advisory_reminder");
  char text[1200];
  snprintf(text, sizeof text,
           ":warning: gonogo %s: advisory '%s' still firing (%s) after phase %s and not acknowledged "
           "(`gonogo watch PLAN --ack '%s' --by NAME`)",
           w->p->migration, rr->rule->name, rr->value, rr->phase, rr->rule->name);
  watch_notify(w, text, ev);
  json_decref(ev);
}

void watch_format_observation(watch_rule_rt *rr, const expr_value *v) {
  rr->nmembers = 0;
  rr->value[0] = '\0';
  if (v->kind == EXPR_VAL_BOOL && v->n_members > 0) {
    size_t off = 0;
    for (size_t i = 0; i < v->n_members; i++) {
      const expr_member *m = &v->members[i];
      char lab[256], num[48];
      expr_labels_format(&m->labels, lab, sizeof lab);
      gate_format_number(m->value, m->unit, num, sizeof num);
      if (rr->nmembers < WATCH_MEMBERS_MAX)
        snprintf(rr->members[rr->nmembers++], sizeof rr->members[0], "%s%s%s (%s)",
                 strcmp(lab, "{}") == 0 ? "" : lab, strcmp(lab, "{}") == 0 ? "" : ": ", num,
                 m->ok ? "holds" : "not");
      if (off < sizeof rr->value)
        off += (size_t)snprintf(rr->value + off, sizeof rr->value - off, "%s%s", i ? ", " : "", num);
    }
  } else if (v->kind == EXPR_VAL_BOOL) {
    snprintf(rr->value, sizeof rr->value, "%s", v->truth ? "true" : "false");
  } else if (v->kind == EXPR_VAL_NUM) {
    gate_format_number(v->num, v->unit, rr->value, sizeof rr->value);
  } else {
    snprintf(rr->value, sizeof rr->value, "(%s)", v->kind == EXPR_VAL_STR ? "string" : "vector");
  }
}

void watch_rule_eval(watch *w, watch_rule_rt *rr, probe_ctx *probes, double now) {
  expr_ctx ctx;
  expr_series_source srcs[2];
  gate_env_ctx(w->env, probes, now, &ctx, srcs);
  expr_value v;
  expr_value_init(&v);
  gg_error err;
  gg_error_clear(&err);
  watch_obs obs;
  gg_status st = expr_eval(rr->rule->when.ast, &ctx, &v, &err);
  pthread_mutex_lock(&w->mu);
  rr->last_eval = now;
  if (st == GG_OK) {
    rr->error[0] = '\0';
    watch_format_observation(rr, &v);
    obs = (v.kind == EXPR_VAL_BOOL  ? v.truth
           : v.kind == EXPR_VAL_NUM ? v.num != 0
                                    : false)
              ? WATCH_OBS_TRUE
              : WATCH_OBS_FALSE;
    if (v.kind == EXPR_VAL_BOOL && v.n_members > 0) {
      rr->chart.has_threshold = true;
      rr->chart.threshold = v.members[0].threshold;
      rr->chart.unit = v.members[0].unit;
      for (size_t i = 0; i < v.n_members; i++) {
        char lab[256];
        expr_labels_format(&v.members[i].labels, lab, sizeof lab);
        watch_chart_add(&rr->chart, lab, now, v.members[i].value, w->o.history_points);
      }
    }
  } else {
    char *msg = gate_env_scrub(w->env, gg_error_message(&err));
    snprintf(rr->error, sizeof rr->error, "%s", msg ? msg : gg_status_message(st));
    free(msg);
    obs = WATCH_OBS_ERROR;
    for (size_t i = 0; i < rr->chart.nlines; i++)
      watch_chart_add(&rr->chart, rr->chart.lines[i].label, now, NAN, w->o.history_points);
  }
  pthread_mutex_unlock(&w->mu);
  expr_value_release(&v);

  double started = 0;
  const plan_phase *target = rule_target(w, rr->rule, &started);
  watch_transition tr;
  pthread_mutex_lock(&w->mu);
  rr->armed = target != NULL;
  if (target) {
    snprintf(rr->phase, sizeof rr->phase, "%s", target->id);
    tr = watch_rule_step(&rr->t, rr->rule->for_, rr->rule->on_error_hold, obs, now);
  } else {
    /* Nothing to watch for: a firing rule resolves (its phase was rolled back, failed or
     * restarted), a pending one clears. */
    tr = watch_rule_step(&rr->t, rr->rule->for_, false, WATCH_OBS_FALSE, now);
  }
  pthread_mutex_unlock(&w->mu);
  gg_metrics_set(gg_metrics_series(w->m_rule_state, (const char *[]){rr->rule->name}), (double)rr->t.state);
  gg_metrics_set(gg_metrics_series(w->m_rule_error, (const char *[]){rr->rule->name}),
                 obs == WATCH_OBS_ERROR);
  if (obs == WATCH_OBS_ERROR) gg_debug("rule error", "rule=\"%s\" err=\"%s\"", rr->rule->name, rr->error);

  json_t *ev = NULL;
  switch (tr) {
    case WATCH_TRANS_PENDING:
      ev = rule_event(w, rr, "rule_pending");
      watch_journal(w, JOURNAL_RULE_PENDING, rr->phase, ev);
      gg_info("rule pending", "rule=\"%s\" phase=%s value=\"%s\"", rr->rule->name, rr->phase, rr->value);
      break;
    case WATCH_TRANS_FIRING:
      on_firing(w, rr, started);
      break;
    case WATCH_TRANS_RESOLVED:
    case WATCH_TRANS_CLEARED: {
      ev = rule_event(w, rr, "rule_resolved");
      json_object_set_new(ev, "from", json_string(tr == WATCH_TRANS_RESOLVED ? "firing" : "pending"));
      if (!target)
        json_object_set_new(ev, "reason", json_string("no running or completed phase to watch"));
      else if (obs == WATCH_OBS_ERROR)
        json_object_set_new(ev, "reason", json_string(rr->error));
      watch_journal(w, JOURNAL_RULE_RESOLVED, rr->phase[0] ? rr->phase : NULL, ev);
      gg_info("rule resolved", "rule=\"%s\" from=%s", rr->rule->name,
              tr == WATCH_TRANS_RESOLVED ? "firing" : "pending");
      if (tr == WATCH_TRANS_RESOLVED) {
        char text[800];
        snprintf(text, sizeof text, ":white_check_mark: gonogo %s: rule '%s' resolved%s", w->p->migration,
                 rr->rule->name, target ? "" : " (no running or completed phase left)");
        watch_notify(w, text, ev);
      }
      break;
    }
    case WATCH_TRANS_NONE:
      break;
  }
  json_decref(ev);
  if (rr->t.state == WATCH_RULE_FIRING && rr->rule->then == PLAN_THEN_ADVISE) advise_followup(w, rr, now);
  if (tr == WATCH_TRANS_NONE && rr->t.state == WATCH_RULE_FIRING && rr->rule->then == PLAN_THEN_ROLLBACK &&
      rr->retry_rollback && target && rr->retry_started == started) {
    json_t *rev = rule_event(w, rr, "rule_firing");
    do_rollback(w, rr, started, rev);
    json_decref(rev);
  }
  if (rr->t.state != WATCH_RULE_FIRING) rr->retry_rollback = false;
}

gg_status watch_acknowledge(const plan *p, journal *j, const char *rule, const char *by, const char *note,
                            gg_error *err) {
  const plan_rule *r = NULL;
  for (size_t i = 0; i < p->monitor.nrules && !r; i++)
    if (strcmp(p->monitor.rules[i].name, rule) == 0) r = &p->monitor.rules[i];
  if (!r) {
    gg_buf names;
    gg_buf_init(&names, 4096);
    for (size_t i = 0; i < p->monitor.nrules; i++)
      if (gg_buf_printf(&names, "%s'%s'", i ? ", " : "", p->monitor.rules[i].name) != GG_OK) break;
    gg_error_set(err, GG_ERR_NOT_FOUND, "no monitor rule '%s' in the plan (rules: %s)", rule,
                 names.len ? gg_buf_str(&names) : "none");
    gg_buf_release(&names);
    return GG_ERR_NOT_FOUND;
  }
  json_t *c = json_pack("{s:s, s:s, s:s}", "acknowledge", rule, "then", plan_then_name(r->then), "note",
                        note ? note : "");
  gg_status st = journal_append(j, JOURNAL_NOTE, JOURNAL_NO_PHASE, by, c, NULL, err);
  json_decref(c);
  return st;
}
