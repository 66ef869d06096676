/* plan_fixture.c: see plan_fixture.h. */
#include "plan_fixture.h"

#include <string.h>

void plan_fixture_load(plan_fixture *l, const char *text) {
  plan_diags_init(&l->d);
  gg_error err;
  gg_error_clear(&err);
  l->p = NULL;
  l->st = plan_load_buffer("plan.yaml", text, strlen(text), NULL, &l->p, &l->d, &err);
}

void plan_fixture_release(plan_fixture *l) {
  plan_free(l->p);
  plan_diags_release(&l->d);
}

const plan_diag *plan_fixture_first_error(const plan_fixture *l) {
  for (size_t i = 0; i < l->d.count; i++)
    if (l->d.items[i].severity == PLAN_DIAG_ERROR) return &l->d.items[i];
  return NULL;
}
