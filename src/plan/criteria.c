/*
 * criteria.c: criteria (`expect:`, `run:`, `attest:`, `canary:`), as preflight, go, verify and
 * checkpoint items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

/* `signed_by: ROLE` of an attest item: the role must exist and list keys (roles load first). */
static void load_signed_by(plan_loader *l, const ynode *it, plan_criterion *cr, const char *where) {
  plan_load_str(l, it, "signed_by", false, where, &cr->signed_by);
  if (!cr->signed_by) return;
  const ynode *at = plan_ynode_get(it, "signed_by");
  const plan_role *r = plan_find_role(l->p, cr->signed_by);
  if (!r)
    perr(l->c, at, "%s: signed_by '%s' is not a role of 'roles'", where, cr->signed_by);
  else if (r->nkeys == 0)
    perr(l->c, at, "%s: signed_by '%s': that role lists no keys (give it keys: [FILE.pub])", where,
         cr->signed_by);
}

static void load_criterion(plan_loader *l, ynode *it, plan_criterion *cr, const char *section) {
  static const char *const keys[] = {"name",   "expect",  "run",       "attest",
                                     "canary", "timeout", "valid_for", "signed_by"};
  static const char *const ckeys[] = {"post",         "target", "publish", "body",
                                      "content_type", "expect", "within"};
  char where[200];
  cr->pos = plan_load_pos(it);
  cr->valid_for = -1;
  if (!plan_load_want_map(l, it, "a criterion")) return;
  plan_load_str(l, it, "name", true, "a criterion", &cr->name);
  snprintf(where, sizeof where, "%s criterion '%s'", section, cr->name ? cr->name : "?");
  plan_load_check_keys(l, it, keys, PLAN_COUNT(keys), where);
  static const char *const kinds[] = {"expect", "run", "attest", "canary"};
  const char *have[4];
  size_t nhave = 0;
  for (int k = 0; k < 4; k++)
    if (plan_ynode_get(it, kinds[k])) {
      have[nhave++] = kinds[k];
      cr->kind = (plan_crit_kind)k;
    }
  if (nhave != 1) {
    if (nhave == 0)
      perr(l->c, it, "%s needs exactly one of expect, run, attest, canary (has none)", where);
    else
      perr(l->c, it, "%s needs exactly one of expect, run, attest, canary (has %s and %s)", where, have[0],
           have[1]);
    return;
  }
  switch (cr->kind) {
    case PLAN_CRIT_EXPECT:
      plan_load_expr(l, it, "expect", true, where, &cr->expect);
      cr->timeout = plan_load_dur(l, it, "timeout", 5);
      break;
    case PLAN_CRIT_RUN:
      plan_load_str(l, it, "run", true, where, &cr->run);
      cr->run_shown = plan_load_shown(l, it, "run");
      cr->timeout = plan_load_dur(l, it, "timeout", 60);
      break;
    case PLAN_CRIT_ATTEST:
      plan_load_str(l, it, "attest", true, where, &cr->attest);
      cr->valid_for = plan_load_dur(l, it, "valid_for", -1);
      load_signed_by(l, it, cr, where);
      break;
    case PLAN_CRIT_CANARY: {
      ynode *cv = plan_ynode_get(it, "canary");
      cr->timeout = plan_load_dur(l, it, "timeout", 5);
      if (!plan_load_want_map(l, cv, "'canary'")) break;
      plan_load_check_keys(l, cv, ckeys, PLAN_COUNT(ckeys), "canary");
      char *post = NULL;
      plan_load_str(l, cv, "post", false, "canary", &post);
      plan_load_str(l, cv, "publish", false, "canary", &cr->canary_subject);
      plan_load_str(l, cv, "target", false, "canary", &cr->canary_target);
      if ((post != NULL) == (cr->canary_subject != NULL)) {
        perr(l->c, cv,
             "canary of %s needs exactly one of 'post' (an HTTP URL or path) and 'publish' (a subject)",
             where);
      } else if (post && post[0] == '/') {
        if (!cr->canary_target) {
          perr(l->c, cv, "canary 'post: %s' is a path: name the 'target' it is sent to", post);
        } else {
          const plan_target *t = plan_find_target(l->p, cr->canary_target);
          if (!t) {
            const ynode *tn = plan_ynode_get(cv, "target");
            perr(l->c, tn, "canary target '%s' is not in connect.targets", cr->canary_target);
          } else if (t->url) {
            size_t n = strlen(t->url) + strlen(post) + 1;
            cr->canary_url = plan_load_alloc(l, n, 1);
            if (cr->canary_url) snprintf(cr->canary_url, n, "%s%s", t->url, post);
          }
        }
      } else if (post) {
        cr->canary_url = plan_load_dup(l, post);
      }
      free(post);
      plan_load_str(l, cv, "body", false, "canary", &cr->canary_body);
      if (!cr->canary_body) cr->canary_body = plan_load_dup(l, "");
      plan_load_str(l, cv, "content_type", false, "canary", &cr->canary_content_type);
      if (!cr->canary_content_type) cr->canary_content_type = plan_load_dup(l, "application/json");
      plan_load_expr(l, cv, "expect", true, "canary", &cr->expect);
      cr->within = plan_load_dur(l, cv, "within", 30);
      break;
    }
  }
  if (cr->kind != PLAN_CRIT_ATTEST && plan_ynode_get(it, "valid_for"))
    perr(l->c, plan_ynode_get(it, "valid_for"), "'valid_for' applies to 'attest' criteria only");
  if (cr->kind != PLAN_CRIT_ATTEST && plan_ynode_get(it, "signed_by"))
    perr(l->c, plan_ynode_get(it, "signed_by"), "'signed_by' applies to 'attest' criteria only");
}

void plan_load_criteria(plan_loader *l, ynode *v, const char *what, plan_criterion **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char quoted[64];
  snprintf(quoted, sizeof quoted, "'%s'", what);
  if (!v || !plan_load_want_seq(l, v, quoted)) return;
  *out = plan_load_alloc(l, v->n, sizeof **out);
  for (size_t i = 0; *out && i < v->n; i++) load_criterion(l, v->items[i], &(*out)[(*n)++], what);
}
