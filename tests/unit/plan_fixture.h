/*
 * plan_fixture.h: a plan loaded from text for the unit tests of the plan's sections, with its
 * diagnostics kept, so a test can assert on the one error a bad input gives and where.
 */
#ifndef GG_TEST_PLAN_FIXTURE_H
#define GG_TEST_PLAN_FIXTURE_H

#include "plan/plan.h"

typedef struct {
  plan *p; /* NULL when the text did not load */
  plan_diags d;
  gg_status st;
} plan_fixture;

/* Load `text` as "plan.yaml"; release with plan_fixture_release. */
void plan_fixture_load(plan_fixture *l, const char *text);
void plan_fixture_release(plan_fixture *l);

/* The first error of the load; NULL when there is none. */
const plan_diag *plan_fixture_first_error(const plan_fixture *l);

#endif
