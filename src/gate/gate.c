/*
 * gate.c: gate_check — lay out a phase's items, read the sign-offs once, prefetch every
 * series concurrently, evaluate the items (those that may wait on a thread each), and
 * decide (DESIGN §3). See gate.h for the rules; the items themselves are in items.c and
 * exec.c, the decision in decide.c.
 */
#include "gate/gate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/units.h"
#include "gate/internal.h"

typedef struct {
  const gate_env *env;
  int depth;
  bool found;
} change_walk;

static bool calls_change_fn(const expr_node *n, void *user);

static bool expr_calls_change(const gate_env *env, const expr_node *x, int depth) {
  change_walk w = {env, depth, false};
  if (x && depth < 8) expr_walk(x, calls_change_fn, &w);
  return w.found;
}

static bool calls_change_fn(const expr_node *n, void *user) {
  change_walk *w = user;
  if (expr_node_kind(n) == EXPR_CALL) {
    const char *f = expr_node_text(n);
    if (strcmp(f, "rate") == 0 || strcmp(f, "increase") == 0 || strcmp(f, "delta") == 0) w->found = true;
  } else if (expr_node_kind(n) == EXPR_SELECTOR) {
    for (size_t i = 0; i < w->env->ndefines; i++)
      if (strcmp(w->env->defines[i].name, expr_node_text(n)) == 0 &&
          expr_calls_change(w->env, w->env->defines[i].expr, w->depth + 1))
        w->found = true;
  }
  return !w->found;
}

/* Whether an item may wait on something other than the prefetched values: a command, a
 * canary, or a rate() (directly or through a define) that may take two fresh samples
 * seconds apart. Those run on threads of their own so they wait side by side. */
static bool job_waits(const gate_job *job) {
  const gate_env *env = job->run->env;
  if (job->nogo) return expr_calls_change(env, job->nogo->when.ast, 0);
  if (!job->crit) return false;
  if (job->crit->kind == PLAN_CRIT_EXPECT) return expr_calls_change(env, job->crit->expect.ast, 0);
  return job->crit->kind == PLAN_CRIT_RUN || job->crit->kind == PLAN_CRIT_CANARY;
}

static void *run_job(void *arg) {
  gate_job *job = arg;
  double t0 = gg_clock_mono();
  if (job->nogo) {
    gate_item_nogo(job);
  } else if (job->req) {
    gate_item_requirement(job);
  } else if (job->approval) {
    gate_item_approval(job);
  } else if (job->crit) {
    switch (job->crit->kind) {
      case PLAN_CRIT_EXPECT:
        gate_item_expect(job);
        break;
      case PLAN_CRIT_RUN:
        gate_item_run(job);
        break;
      case PLAN_CRIT_ATTEST:
        gate_item_attest(job);
        break;
      case PLAN_CRIT_CANARY:
        gate_item_canary(job);
        break;
    }
  }
  gate_item_history(job);
  job->item->elapsed = gg_clock_mono() - t0;
  return NULL;
}

/* ---- laying out the items ---- */

static gate_item *new_item(gate_report *r, gate_section sec, const char *name, const char *kind,
                           const char *what) {
  gate_item *it = &r->items[r->nitems++];
  memset(it, 0, sizeof *it);
  it->section = sec;
  it->name = gate_strdup(name);
  it->kind = gate_strdup(kind);
  it->what = gate_strdup(what);
  it->observed = gate_strdup("");
  it->threshold = gate_strdup("");
  it->message = gate_strdup("");
  it->result = GATE_ERROR;
  return it;
}

static const char *crit_kind(const plan_criterion *c) {
  static const char *const k[] = {"expect", "run", "attest", "canary"};
  return k[c->kind];
}

static const char *crit_what(const plan_criterion *c) {
  switch (c->kind) {
    case PLAN_CRIT_EXPECT:
    case PLAN_CRIT_CANARY:
      return c->expect.text;
    case PLAN_CRIT_RUN:
      return c->run_shown;
    case PLAN_CRIT_ATTEST:
      return c->attest;
  }
  return "";
}

/* One phase's evaluation in the making: the items in report order, the jobs that fill them
 * and the expressions to prefetch. */
typedef struct {
  gate_report *out;
  gate_job *jobs;
  probe_want *wants;
  size_t nwants;
} layout;

static gate_job *add_job(layout *l, gate_section sec, const char *name, const char *kind, const char *what) {
  gate_job *job = &l->jobs[l->out->nitems];
  memset(job, 0, sizeof *job);
  job->item = new_item(l->out, sec, name, kind, what);
  return job;
}

static void add_criterion(layout *l, gate_section sec, const plan_criterion *c) {
  add_job(l, sec, c->name, crit_kind(c), crit_what(c))->crit = c;
  if (c->kind == PLAN_CRIT_EXPECT) l->wants[l->nwants++] = (probe_want){c->expect.ast, c->timeout};
}

/* Lay out the items in the order the report shows them. */
static void lay_out(layout *l, const plan *p, const plan_phase *ph) {
  for (size_t i = 0; i < p->npreflight; i++) add_criterion(l, GATE_SEC_PREFLIGHT, &p->preflight[i]);
  for (size_t i = 0; i < ph->nrequires; i++) {
    const plan_requirement *rq = &ph->requires[i];
    char name[128], dur[32];
    snprintf(name, sizeof name, "Phase %s completed", rq->phase);
    add_job(l, GATE_SEC_REQUIRES, name, "completed", rq->phase)->req = rq;
    if (rq->stable_for > 0) {
      gg_format_duration(rq->stable_for, dur, sizeof dur);
      snprintf(name, sizeof name, "Phase %s stable for %s", rq->phase, dur);
      gate_job *job = add_job(l, GATE_SEC_REQUIRES, name, "stable_for", rq->phase);
      job->req = rq;
      job->req_stable = true;
    }
  }
  for (size_t i = 0; i < ph->ngo; i++) add_criterion(l, GATE_SEC_GO, &ph->go[i]);
  for (size_t i = 0; i < ph->nno_go; i++) {
    const plan_nogo *ng = &ph->no_go[i];
    gate_job *job = add_job(l, GATE_SEC_NOGO, ng->name, "when", ng->when.text);
    job->nogo = ng;
    job->item->outcome = ng->outcome;
    l->wants[l->nwants++] = (probe_want){ng->when.ast, 0};
  }
  for (size_t i = 0; i < ph->napprovals; i++) {
    const plan_approval *a = &ph->approvals[i];
    const plan_role *role = plan_find_role(p, a->role);
    char name[256];
    snprintf(name, sizeof name, "Approval: %s%s", role && role->title ? role->title : a->role,
             a->optional ? " (optional)" : "");
    add_job(l, GATE_SEC_APPROVAL, name, "approval", a->role)->approval = a;
  }
}

/* ---- evaluating ---- */

/* Items that may wait run on threads of their own, side by side; everything else reads
 * what the prefetch fetched (or the journal's book), microseconds each, in place. */
static void evaluate(gate_job *jobs, size_t n) {
  pthread_t *threads = calloc(n + 1, sizeof *threads);
  bool *started = calloc(n + 1, sizeof *started);
  for (size_t i = 0; i < n; i++) {
    if (!job_waits(&jobs[i])) continue;
    if (threads && started && pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0)
      started[i] = true;
    else
      run_job(&jobs[i]); /* no thread to be had: do it here */
  }
  for (size_t i = 0; i < n; i++)
    if (!job_waits(&jobs[i])) run_job(&jobs[i]);
  for (size_t i = 0; started && i < n; i++)
    if (started[i]) pthread_join(threads[i], NULL);
  free(threads);
  free(started);
}

gg_status gate_check(const plan *p, const char *phase_id, const gate_opts *opts, gate_report *out,
                     gg_error *err) {
  memset(out, 0, sizeof *out);
  const plan_phase *ph = plan_find_phase(p, phase_id);
  if (!ph) return gg_error_set(err, GG_ERR_NOT_FOUND, "the plan has no phase '%s'", phase_id);
  gate_opts none = {0};
  if (!opts) opts = &none;

  gate_env *env = NULL;
  gg_status st = gate_env_new(p, opts->journal, &env, err);
  if (st != GG_OK) return st;
  env->no_fresh_pairs = opts->skip_rate_samples;

  out->phase = gate_strdup(ph->id);
  out->phase_name = gate_strdup(ph->name);
  out->plan_hash = gate_strdup(p->hash);
  out->started = gg_clock_now();
  out->at_given = opts->at > 0;
  out->now = opts->at > 0 ? opts->at : out->started;
  double t0 = gg_clock_mono();

  size_t max = p->npreflight + 2 * ph->nrequires + ph->ngo + ph->nno_go + ph->napprovals;
  gate_run run = {.env = env, .opts = opts, .p = p, .phase = ph, .now = out->now};
  signoff_book *book = NULL;
  layout l = {.out = out};
  out->items = calloc(max + 1, sizeof *out->items);
  l.jobs = calloc(max + 1, sizeof *l.jobs);
  l.wants = calloc(max + 1, sizeof *l.wants);
  if (!opts->sources) run.probes = probe_ctx_new(&env->cfg);
  /* Live: journal samples, Prometheus, fresh pairs. With the caller's sources: the journal's
   * samples alone, unless the caller gives a history of its own. */
  gate_env_history_chain(env, !opts->sources, &run.hchain);
  if (!out->items || !l.jobs || !l.wants || (!opts->sources && !run.probes)) {
    st = gg_error_set(err, GG_ERR_NOMEM, "check phase '%s'", phase_id);
    goto out;
  }
  lay_out(&l, p, ph);

  /* The sign-offs, read once: forty attest items must not mean forty queries. */
  gg_error_clear(&run.signoff_err);
  if (env->j) {
    pthread_mutex_lock(&env->jlock);
    run.signoff_status = signoff_book_load(env->j, p, out->now, &book, &run.signoff_err);
    pthread_mutex_unlock(&env->jlock);
    run.signoffs = book;
  }
  if (run.probes) {
    double tp = gg_clock_mono();
    if ((st = probe_prefetch(run.probes, l.wants, l.nwants, err)) != GG_OK) goto out;
    out->probes = gg_clock_mono() - tp;
    out->slowest_probe =
        probe_ctx_slowest(run.probes, out->slowest_probe_what, sizeof out->slowest_probe_what);
  }
  for (size_t i = 0; i < out->nitems; i++) l.jobs[i].run = &run;
  evaluate(l.jobs, out->nitems);

  out->elapsed = gg_clock_mono() - t0;
  for (size_t i = 0; i < out->nitems; i++)
    if (out->items[i].elapsed > out->slowest) out->slowest = out->items[i].elapsed;
  gate_decide(out);
out:
  signoff_book_free(book);
  probe_ctx_free(run.probes);
  free(l.wants);
  free(l.jobs);
  gate_env_free(env);
  if (st != GG_OK) gate_report_release(out);
  return st;
}

void gate_report_release(gate_report *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nitems; i++) {
    gate_item *it = &r->items[i];
    free(it->name);
    free(it->kind);
    free(it->what);
    free(it->observed);
    free(it->threshold);
    free(it->message);
    for (size_t k = 0; k < it->nmembers; k++) free(it->members[k]);
    free(it->members);
    json_decref(it->evidence);
    free(it->override_reason);
  }
  free(r->items);
  for (size_t i = 0; i < r->nreasons; i++) free(r->reasons[i]);
  free(r->reasons);
  for (size_t i = 0; i < r->npending; i++) free(r->pending[i]);
  free(r->pending);
  free(r->phase);
  free(r->phase_name);
  free(r->plan_hash);
  memset(r, 0, sizeof *r);
}
