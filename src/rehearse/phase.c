/*
 * phase.c: one phase of a rehearsal: prepare, soak, check (reported), run, rollback under
 * traffic, run again; and the node killed for one cutover.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act/act.h"
#include "base/clock.h"
#include "gate/gate.h"
#include "rehearse/internal.h"

static void nap(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
  nanosleep(&ts, NULL);
}

/* Why an item of the check is only reported: what it is about. */
static const char *item_class(const gate_item *it) {
  if (strcmp(it->kind, "attest") == 0 || strcmp(it->kind, "approval") == 0) return "a sign-off";
  if (strcmp(it->kind, "run") == 0) return "a command of the live environment, not run";
  const char *w = it->what ? it->what : "";
  if (strstr(w, "rehearsal.passed")) return "the rehearsal itself";
  if (strstr(w, "off_hours(") || strstr(w, "holiday(") || strstr(w, "weekday(") || strstr(w, "hour(") ||
      strstr(w, "in_window("))
    return "the calendar";
  return "the sandbox, not production";
}

/* Evaluate the phase as `check` would, on the sandbox, and record what did not pass. */
static void check_phase(reh *h, const plan_phase *ph, rehearse_phase *rp) {
  gate_opts go = {.journal = h->j, .skip_run = true};
  gate_report gr;
  gg_error err;
  gg_error_clear(&err);
  if (gate_check(h->p, ph->id, &go, &gr, &err) != GG_OK) {
    char line[600];
    snprintf(line, sizeof line, "not evaluated: %s", gg_error_message(&err));
    rp->check = strdup(line);
    return;
  }
  if (gate_record(h->j, &gr, "gonogo rehearse", &err) != GG_OK)
    rehearse_say(h, "warning: could not journal the check of phase %s: %s", ph->id, gg_error_message(&err));
  size_t passed = 0;
  for (size_t i = 0; i < gr.nitems; i++) {
    const gate_item *it = &gr.items[i];
    if (it->result == GATE_PASS) {
      passed++;
      continue;
    }
    if (rehearse_list_add(&rp->not_enforced, &rp->nnot_enforced, "%s %s '%s': %s (%s)",
                          gate_section_name(it->section), it->kind, it->name, gate_result_name(it->result),
                          item_class(it)) != GG_OK)
      break;
  }
  char line[256];
  snprintf(line, sizeof line, "%s on the sandbox: %zu of %zu items pass, the rest reported, not enforced",
           gate_decision_name(gr.decision), passed, gr.nitems);
  rp->check = strdup(line);
  rehearse_say(h, "phase %s check: %s", ph->id, line);
  gate_report_release(&gr);
}

/* Run the phase (or its prepare); false with rp->failure set when it did not complete. */
static bool run_once(reh *h, const plan_phase *ph, bool prepare, rehearse_phase *rp, const char *what) {
  act_run_opts o = {
      .actor = "gonogo rehearse", .prepare_only = prepare, .progress = rehearse_on_progress, .ud = h};
  act_summary s;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = act_run_phase(h->p, h->j, ph->id, &o, &s, &err);
  if (s.gap_ms > rp->gap_ms) rp->gap_ms = s.gap_ms;
  bool ok = st == GG_OK;
  if (!ok) {
    char line[1200];
    snprintf(line, sizeof line, "%s: %s%s", what, gg_error_message(&err),
             s.rolled_back ? " (rolled back by itself)" : "");
    rp->failure = strdup(line);
  } else if (!prepare) {
    rehearse_say(h, "phase %s %s: completed in %.1f s%s", ph->id, what, s.elapsed,
                 s.gap_ms >= 0 ? "" : " (no cutover)");
  }
  act_summary_release(&s);
  return ok;
}

static bool rollback(reh *h, const plan_phase *ph, rehearse_phase *rp) {
  gg_error err;
  gg_error_clear(&err);
  double t0 = gg_clock_mono();
  gg_status st = act_rollback_phase(h->p, h->j, ph->id, "rehearsal: rollback under traffic",
                                    "gonogo rehearse", true, rehearse_on_progress, h, &err);
  rp->rollback_s = gg_clock_mono() - t0;
  journal_phase_info pi;
  if (st == GG_OK && journal_phase(h->j, ph->id, &pi, &err) == GG_OK) {
    rp->carried_back = pi.carried_back;
    if (pi.state != JOURNAL_STATE_ROLLED_BACK) {
      char line[1200];
      snprintf(line, sizeof line, "rollback under traffic left the phase %s%s%s",
               journal_phase_state_name(pi.state), pi.reason[0] ? ": " : "", pi.reason);
      rp->failure = strdup(line);
      return false;
    }
    rehearse_say(h, "phase %s rollback under traffic: %.1f s, %lld carried back", ph->id, rp->rollback_s,
                 pi.carried_back < 0 ? 0 : pi.carried_back);
    return true;
  }
  char line[1200];
  snprintf(line, sizeof line, "rollback under traffic: %s", gg_error_message(&err));
  rp->failure = strdup(line);
  return false;
}

/* Wait until the phases this one requires have been stable for the (compressed) soak. */
static void soak(reh *h, const plan_phase *ph) {
  for (size_t k = 0; k < ph->nrequires; k++) {
    journal_phase_info pi;
    gg_error err;
    gg_error_clear(&err);
    if (journal_phase(h->j, ph->requires[k].phase, &pi, &err) != GG_OK || !pi.completed_at) continue;
    double left = pi.completed_at + ph->requires[k].stable_for - gg_clock_now();
    if (left > 0) {
      rehearse_say(h, "phase %s: soak of phase %s, %.0f s", ph->id, ph->requires[k].phase, ceil(left));
      nap(left + 0.2);
    }
  }
}

/* A line of `gonogo plan` that says the phase cannot be done here; NULL when it can. */
static char *cannot(reh *h, const plan_phase *ph) {
  act_plan_line *lines = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  if (act_plan_phase(h->p, ph->id, false, &lines, &n, &err) != GG_OK) return NULL;
  char *why = NULL;
  for (size_t i = 0; i < n && !why; i++)
    if (lines[i].sign == '!') why = strdup(lines[i].text);
  act_plan_lines_free(lines, n);
  return why;
}

typedef struct {
  reh *h;
  int node;
  gg_status st;
  gg_error err;
} node_job;

static void *bring_back(void *arg) {
  node_job *nj = arg;
  nap(3);
  gg_error_clear(&nj->err);
  nj->st = sandbox_start_node(&nj->h->so, nj->node, &nj->err);
  return NULL;
}

/* The second run with the node that leads the most streams killed, brought back 3 s later
 * while the cutover waits for its replicas. */
static bool run_with_node_down(reh *h, const plan_phase *ph, rehearse_phase *rp) {
  char name[32];
  int node = rehearse_busiest_node(h, name, sizeof name);
  if (node <= 0) {
    rehearse_say(h, "phase %s: no stream leader found; the second run keeps every node up", ph->id);
    return run_once(h, ph, false, rp, "second run");
  }
  gg_error err;
  gg_error_clear(&err);
  if (sandbox_kill_node(&h->so, node, &err) != GG_OK) {
    rehearse_say(h, "warning: kill node %s: %s", name, gg_error_message(&err));
    return run_once(h, ph, false, rp, "second run");
  }
  rp->node_killed = strdup(name);
  rehearse_say(h, "phase %s second run: node %s (the most stream leaders) killed; back in 3 s", ph->id, name);
  node_job nj = {.h = h, .node = node};
  pthread_t t;
  bool threaded = pthread_create(&t, NULL, bring_back, &nj) == 0;
  if (!threaded) nj.st = sandbox_start_node(&h->so, node, &nj.err);
  bool ok = run_once(h, ph, false, rp, "second run (a node killed)");
  if (threaded) pthread_join(t, NULL);
  if (nj.st != GG_OK) {
    char line[800];
    snprintf(line, sizeof line, "node %s did not come back: %s", name, gg_error_message(&nj.err));
    if (!rp->failure) rp->failure = strdup(line);
    return false;
  }
  rehearse_say(h, "phase %s: node %s is back", ph->id, name);
  return ok;
}

void rehearse_do_phase(reh *h, size_t i, bool kill_node) {
  const plan_phase *ph = &h->p->phases[i];
  rehearse_phase *rp = &h->r->phases[i];
  double t0 = gg_clock_mono();
  rehearse_traffic_set_phase(h->traffic, (int)i);
  h->current = (int)i;
  rehearse_say(h, "phase %s — %s", ph->id, ph->name);
  bool ok = true;
  h->step = "prepare";
  if (ph->nprepare) ok = run_once(h, ph, true, rp, "prepare");
  char *why = ok ? cannot(h, ph) : NULL;
  if (why) {
    rp->outcome = REHEARSE_SKIPPED;
    size_t len = strlen(why) + 64;
    rp->failure = malloc(len);
    if (rp->failure) snprintf(rp->failure, len, "cannot be done here: %s", why);
    free(why);
    rehearse_say(h, "phase %s skipped: %s", ph->id, rp->failure ? rp->failure : "cannot be done here");
    rp->elapsed = gg_clock_mono() - t0;
    return;
  }
  h->step = "soak";
  if (ok) soak(h, ph);
  h->step = "check";
  if (ok) check_phase(h, ph, rp);
  h->step = "run";
  if (ok) ok = run_once(h, ph, false, rp, "first run");
  h->step = "rollback";
  if (ok) ok = rollback(h, ph, rp);
  h->step = "run again";
  if (ok) ok = kill_node ? run_with_node_down(h, ph, rp) : run_once(h, ph, false, rp, "second run");
  rp->outcome = ok ? REHEARSE_PASSED : REHEARSE_FAILED;
  if (!ok) rehearse_say(h, "phase %s failed: %s", ph->id, rp->failure ? rp->failure : "?");
  rp->elapsed = gg_clock_mono() - t0;
}
