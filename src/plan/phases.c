/*
 * phases.c: the `phases:` section: requirements, risks, rollback, approvals, go and no-go
 * conditions, actions and verification, then the references between phases.
 */
#include <stdio.h>
#include <string.h>

#include "plan/internal.h"

/* requires: {phase, stable_for}, or a list of them. */
static void load_requires(plan_loader *l, ynode *v, plan_phase *ph) {
  ynode *rq = plan_ynode_get(v, "requires");
  if (rq && !(rq->kind == YN_SCALAR && rq->is_null)) {
    static const char *const rkeys[] = {"phase", "stable_for"};
    size_t cnt = rq->kind == YN_SEQ ? rq->n : 1;
    ph->requires = plan_load_alloc(l, cnt, sizeof *ph->requires);
    for (size_t i = 0; ph->requires && i < cnt; i++) {
      ynode *r = rq->kind == YN_SEQ ? rq->items[i] : rq;
      if (!plan_load_want_map(l, r, "'requires'")) continue;
      plan_load_check_keys(l, r, rkeys, PLAN_COUNT(rkeys), "requires");
      plan_requirement *req = &ph->requires[ph->nrequires++];
      req->pos = plan_load_pos(plan_load_key_node(r, "phase"));
      plan_load_str(l, r, "phase", true, "requires", &req->phase);
      req->stable_for = plan_load_dur(l, r, "stable_for", 0);
    }
  }
}

/* risks: each with probability, impact, residual and mitigation. */
static void load_risks(plan_loader *l, ynode *v, plan_phase *ph) {
  ynode *rk = plan_ynode_get(v, "risks");
  if (rk && plan_load_want_seq(l, rk, "'risks'")) {
    static const char *const rkeys[] = {"risk", "probability", "impact", "mitigation", "residual"};
    ph->risks = plan_load_alloc(l, rk->n, sizeof *ph->risks);
    for (size_t i = 0; ph->risks && i < rk->n; i++) {
      ynode *r = rk->items[i];
      if (!plan_load_want_map(l, r, "a risk")) continue;
      plan_risk *risk = &ph->risks[ph->nrisks++];
      risk->pos = plan_load_pos(r);
      plan_load_str(l, r, "risk", true, "a risk", &risk->risk);
      char rwhere[200];
      snprintf(rwhere, sizeof rwhere, "risk '%s'", risk->risk ? risk->risk : "?");
      plan_load_check_keys(l, r, rkeys, PLAN_COUNT(rkeys), rwhere);
      plan_load_level(l, r, "probability", PLAN_LEVEL_HIGH, true, rwhere, &risk->probability);
      plan_load_level(l, r, "impact", PLAN_LEVEL_CRITICAL, true, rwhere, &risk->impact);
      plan_load_level(l, r, "residual", PLAN_LEVEL_CRITICAL, true, rwhere, &risk->residual);
      plan_load_str(l, r, "mitigation", false, rwhere, &risk->mitigation);
      if (!risk->mitigation) risk->mitigation = plan_load_dup(l, "");
    }
  }
}

/* rollback: {complexity, estimate, note}. */
static void load_rollback(plan_loader *l, ynode *v, plan_phase *ph) {
  ynode *rb = plan_ynode_get(v, "rollback");
  if (rb && plan_load_want_map(l, rb, "'rollback'")) {
    static const char *const bkeys[] = {"complexity", "estimate", "note"};
    static const char *const cplx[] = {"trivial", "simple", "moderate", "complex"};
    plan_load_check_keys(l, rb, bkeys, PLAN_COUNT(bkeys), "rollback");
    plan_load_str(l, rb, "complexity", false, "rollback", &ph->rollback_complexity);
    if (ph->rollback_complexity) {
      bool ok = false;
      for (size_t i = 0; i < PLAN_COUNT(cplx); i++) ok |= strcmp(ph->rollback_complexity, cplx[i]) == 0;
      if (!ok)
        perr(l->c, plan_ynode_get(rb, "complexity"),
             "rollback complexity must be trivial, simple, moderate or complex, not '%s'",
             ph->rollback_complexity);
    }
    ph->rollback_estimate = plan_load_dur(l, rb, "estimate", -1);
    plan_load_str(l, rb, "note", false, "rollback", &ph->rollback_note);
  }
}

/* approvals: roles declared under `roles:`, each once; `optional` defaults to the role's. */
static void load_approvals(plan_loader *l, ynode *v, plan_phase *ph) {
  ynode *ap = plan_ynode_get(v, "approvals");
  if (ap && plan_load_want_seq(l, ap, "'approvals'")) {
    static const char *const akeys[] = {"role", "optional"};
    ph->approvals = plan_load_alloc(l, ap->n, sizeof *ph->approvals);
    for (size_t i = 0; ph->approvals && i < ap->n; i++) {
      ynode *a = ap->items[i];
      plan_approval *pa = &ph->approvals[ph->napprovals];
      pa->pos = plan_load_pos(a);
      bool has_optional = false;
      if (a->kind == YN_SCALAR) {
        pa->role = plan_load_dup(l, a->text);
      } else if (plan_load_want_map(l, a, "an approval")) {
        plan_load_check_keys(l, a, akeys, PLAN_COUNT(akeys), "an approval");
        plan_load_str(l, a, "role", true, "an approval", &pa->role);
        has_optional = plan_ynode_get(a, "optional") != NULL;
        pa->optional = plan_load_bool(l, a, "optional", false);
      }
      if (!pa->role) continue;
      for (size_t j = 0; j < ph->napprovals; j++)
        if (strcmp(ph->approvals[j].role, pa->role) == 0) {
          perr(l->c, a, "phase '%s' lists approval role '%s' twice", ph->id ? ph->id : "?", pa->role);
          break;
        }
      ph->napprovals++;
      const plan_role *role = plan_find_role(l->p, pa->role);
      if (!role) {
        const char *names[64];
        size_t nn = 0;
        for (size_t j = 0; j < l->p->nroles && nn < 64; j++) names[nn++] = l->p->roles[j].name;
        const char *sg = plan_suggest(pa->role, names, nn);
        char hint[200];
        if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
        plan_diag_add(l->c, PLAN_DIAG_ERROR, a->line, a->col, sg ? hint : "declare it under 'roles'",
                      "approval names undeclared role '%s'", pa->role);
      } else if (!has_optional) {
        pa->optional = role->optional;
      }
    }
  }
}

/* no_go: {name, when, outcome: no-go | defer}. */
static void load_no_go(plan_loader *l, ynode *v, plan_phase *ph) {
  ynode *ng = plan_ynode_get(v, "no_go");
  if (ng && plan_load_want_seq(l, ng, "'no_go'")) {
    static const char *const nkeys[] = {"name", "when", "outcome"};
    ph->no_go = plan_load_alloc(l, ng->n, sizeof *ph->no_go);
    for (size_t i = 0; ph->no_go && i < ng->n; i++) {
      ynode *c = ng->items[i];
      if (!plan_load_want_map(l, c, "a no-go condition")) continue;
      plan_nogo *g = &ph->no_go[ph->nno_go++];
      g->pos = plan_load_pos(c);
      plan_load_str(l, c, "name", true, "a no-go condition", &g->name);
      char cwhere[200];
      snprintf(cwhere, sizeof cwhere, "no-go condition '%s'", g->name ? g->name : "?");
      plan_load_check_keys(l, c, nkeys, PLAN_COUNT(nkeys), cwhere);
      plan_load_expr(l, c, "when", true, cwhere, &g->when);
      ynode *o = plan_ynode_get(c, "outcome");
      const char *os = o ? plan_load_scalar(l, o, "outcome") : NULL;
      if (os) {
        if (!strcmp(os, "defer"))
          g->outcome = PLAN_OUTCOME_DEFER;
        else if (!strcmp(os, "no-go") || !strcmp(os, "no_go") || !strcmp(os, "nogo"))
          g->outcome = PLAN_OUTCOME_NOGO;
        else
          perr(l->c, o, "'outcome' must be no-go or defer, not '%s'", os);
      }
    }
  }
}

static void load_phase(plan_loader *l, ynode *v, plan_phase *ph) {
  static const char *const keys[] = {"id",      "name",     "description", "requires",  "risk",
                                     "risks",   "rollback", "approvals",   "go",        "no_go",
                                     "prepare", "actions",  "verify",      "on_failure"};
  ph->pos = plan_load_pos(v);
  ph->rollback_estimate = -1;
  if (!plan_load_want_map(l, v, "a phase")) return;
  plan_load_str(l, v, "id", true, "a phase", &ph->id);
  char where[160];
  snprintf(where, sizeof where, "phase '%s'", ph->id ? ph->id : "?");
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), where);
  plan_load_str(l, v, "name", true, where, &ph->name);
  plan_load_str(l, v, "description", false, where, &ph->description);
  if (!ph->description) ph->description = plan_load_dup(l, "");
  load_requires(l, v, ph);
  load_risks(l, v, ph);
  ph->risk_declared = plan_load_level(l, v, "risk", PLAN_LEVEL_CRITICAL, false, where, &ph->risk);
  ph->risk_pos = plan_load_pos(plan_load_key_node(v, "risk"));
  load_rollback(l, v, ph);
  load_approvals(l, v, ph);
  plan_load_criteria(l, plan_ynode_get(v, "go"), "go", &ph->go, &ph->ngo);
  load_no_go(l, v, ph);
  plan_load_actions(l, plan_ynode_get(v, "prepare"), "'prepare'", &ph->prepare, &ph->nprepare);
  plan_load_actions(l, plan_ynode_get(v, "actions"), "'actions'", &ph->actions, &ph->nactions);
  plan_load_criteria(l, plan_ynode_get(v, "verify"), "verify", &ph->verify, &ph->nverify);
  ynode *of = plan_ynode_get(v, "on_failure");
  const char *ofs = of ? plan_load_scalar(l, of, "on_failure") : NULL;
  if (ofs) {
    if (!strcmp(ofs, "rollback"))
      ph->on_failure = PLAN_ON_FAILURE_ROLLBACK;
    else if (!strcmp(ofs, "stop"))
      ph->on_failure = PLAN_ON_FAILURE_STOP;
    else
      perr(l->c, of, "'on_failure' must be rollback or stop, not '%s'", ofs);
  }
}

void plan_load_phase_refs(plan_loader *l, ynode *v, const char *what, char ***out, size_t *n) {
  plan_load_strlist(l, v, what, false, out, n);
  for (size_t i = 0; i < *n; i++)
    if (!plan_find_phase(l->p, (*out)[i])) {
      const ynode *at = v->kind == YN_SEQ && i < v->n ? v->items[i] : v;
      perr(l->c, at, "'%s' names unknown phase '%s'", what, (*out)[i]);
    }
}

void plan_load_phases(plan_loader *l, ynode *v, const ynode *root) {
  if (!v) {
    plan_load_missing(l, root, "phases", "the plan");
    return;
  }
  if (!plan_load_want_seq(l, v, "'phases'")) return;
  plan *p = l->p;
  p->phases = plan_load_alloc(l, v->n, sizeof *p->phases);
  for (size_t i = 0; p->phases && i < v->n; i++) {
    plan_phase *ph = &p->phases[p->nphases];
    load_phase(l, v->items[i], ph);
    if (ph->id) {
      const plan_phase *prev = plan_find_phase(p, ph->id);
      if (prev && prev != ph)
        perr(l->c, plan_ynode_get(v->items[i], "id"), "duplicate phase id '%s' (first at line %d)", ph->id,
             prev->pos.line);
    } else {
      ph->id = plan_load_dup(l, "");
    }
    p->nphases++;
  }
  /* Second pass: references between phases, risk warnings. */
  for (size_t i = 0; i < p->nphases; i++) {
    plan_phase *ph = &p->phases[i];
    for (size_t r = 0; r < ph->nrequires; r++) {
      plan_requirement *req = &ph->requires[r];
      if (!req->phase) continue;
      if (!plan_find_phase(p, req->phase))
        plan_diag_add(l->c, PLAN_DIAG_ERROR, req->pos.line, req->pos.col, NULL,
                      "phase '%s' requires unknown phase '%s'", ph->id, req->phase);
      else if (strcmp(req->phase, ph->id) == 0)
        plan_diag_add(l->c, PLAN_DIAG_ERROR, req->pos.line, req->pos.col, NULL, "phase '%s' requires itself",
                      ph->id);
    }
    plan_level highest = PLAN_LEVEL_LOW;
    for (size_t r = 0; r < ph->nrisks; r++) {
      plan_risk *risk = &ph->risks[r];
      risk->inherent = plan_risk_level(&p->risk_matrix, risk->probability, risk->impact);
      if (risk->residual > highest) highest = risk->residual;
    }
    if (!ph->risk_declared) {
      ph->risk = highest;
    } else if (ph->risk < highest) {
      plan_diag_add(l->c, PLAN_DIAG_WARNING, ph->risk_pos.line, ph->risk_pos.col, NULL,
                    "phase '%s' declares overall risk %s, lower than its highest residual risk %s", ph->id,
                    plan_level_name(ph->risk), plan_level_name(highest));
    }
  }
}
