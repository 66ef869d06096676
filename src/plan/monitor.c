/*
 * monitor.c: the `monitor:` rules and the `validation:` checkpoints.
 */
#include <stdio.h>
#include <string.h>

#include "base/units.h"
#include "plan/internal.h"

void plan_load_monitor(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"interval", "rules"};
  static const char *const rkeys[] = {"name", "when", "for", "then", "phases", "on_error"};
  plan_monitor *m = &l->p->monitor;
  m->interval = 15;
  if (!v || !plan_load_want_map(l, v, "'monitor'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "monitor");
  m->interval = plan_load_dur(l, v, "interval", 15);
  if (m->interval <= 0) perr(l->c, plan_ynode_get(v, "interval"), "'interval' must be more than 0");
  ynode *rs = plan_ynode_get(v, "rules");
  if (!rs || !plan_load_want_seq(l, rs, "'rules'")) return;
  m->rules = plan_load_alloc(l, rs->n, sizeof *m->rules);
  for (size_t i = 0; m->rules && i < rs->n; i++) {
    ynode *r = rs->items[i];
    if (!plan_load_want_map(l, r, "a monitor rule")) continue;
    plan_rule *rule = &m->rules[m->nrules++];
    rule->pos = plan_load_pos(r);
    plan_load_str(l, r, "name", true, "a monitor rule", &rule->name);
    char where[200];
    snprintf(where, sizeof where, "monitor rule '%s'", rule->name ? rule->name : "?");
    plan_load_check_keys(l, r, rkeys, PLAN_COUNT(rkeys), where);
    plan_load_expr(l, r, "when", true, where, &rule->when);
    rule->for_ = plan_load_dur(l, r, "for", 0);
    ynode *t = plan_ynode_get(r, "then");
    const char *ts = t ? plan_load_scalar(l, t, "then") : NULL;
    if (!t) {
      plan_load_missing(l, r, "then", where);
    } else if (ts) {
      static const char *const thens[] = {"rollback", "advise", "notify"};
      bool ok = false;
      for (int k = 0; k < 3; k++)
        if (!strcmp(ts, thens[k])) rule->then = (plan_then)k, ok = true;
      if (!ok) {
        const char *sg = plan_suggest(ts, thens, 3);
        char hint[100];
        if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
        plan_diag_add(l->c, PLAN_DIAG_ERROR, t->line, t->col, sg ? hint : NULL,
                      "'then' must be rollback, advise or notify, not '%s'", ts);
      }
    }
    ynode *oe = plan_ynode_get(r, "on_error");
    const char *oes = oe ? plan_load_scalar(l, oe, "on_error") : NULL;
    if (oes) {
      if (!strcmp(oes, "hold"))
        rule->on_error_hold = true;
      else if (strcmp(oes, "ignore") != 0)
        plan_diag_add(l->c, PLAN_DIAG_ERROR, oe->line, oe->col, NULL,
                      "'on_error' must be hold or ignore, not '%s'", oes);
    }
    ynode *ph = plan_ynode_get(r, "phases");
    if (ph) plan_load_phase_refs(l, ph, "phases", &rule->phases, &rule->nphases);
  }
}

void plan_load_validation(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"at", "name", "phases", "expect"};
  if (!v || !plan_load_want_seq(l, v, "'validation'")) return;
  plan *p = l->p;
  p->validation = plan_load_alloc(l, v->n, sizeof *p->validation);
  for (size_t i = 0; p->validation && i < v->n; i++) {
    ynode *c = v->items[i];
    if (!plan_load_want_map(l, c, "a checkpoint")) continue;
    plan_checkpoint *cp = &p->validation[p->nvalidation++];
    cp->pos = plan_load_pos(c);
    plan_load_check_keys(l, c, keys, PLAN_COUNT(keys), "a checkpoint");
    ynode *at = plan_ynode_get(c, "at");
    if (!at)
      plan_load_missing(l, c, "at", "a checkpoint");
    else
      cp->at = plan_load_dur_of(l, at, "at", 0);
    plan_load_str(l, c, "name", false, "a checkpoint", &cp->name);
    if (!cp->name) {
      char d[32], nm[40];
      snprintf(nm, sizeof nm, "T+%s", gg_format_duration(cp->at, d, sizeof d));
      cp->name = plan_load_dup(l, nm);
    }
    ynode *ph = plan_ynode_get(c, "phases");
    if (ph) plan_load_phase_refs(l, ph, "phases", &cp->phases, &cp->nphases);
    ynode *ex = plan_ynode_get(c, "expect");
    if (!ex) plan_load_missing(l, c, "expect", "a checkpoint");
    plan_load_criteria(l, ex, "checkpoint", &cp->items, &cp->nitems);
  }
}
