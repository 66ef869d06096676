/*
 * test_plan_shift.c: the `shift:` action (DESIGN §14) as the loader reads it: its fields, its
 * description and inverse, and every bad input as one error at the line and column it concerns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan/plan.h"
#include "plan_fixture.h"

#define HEAD                                                \
  "migration: t\n"                                          \
  "connect:\n"                                              \
  "  targets:\n"                                            \
  "    ingest: { metrics: 'http://127.0.0.1:1/metrics' }\n" \
  "    grafana: { health: 'http://127.0.0.1:2/health' }\n"  \
  "topology:\n"                                             \
  "  streams:\n"                                            \
  "    OLD: { existing: true, subjects: [core.>] }\n"       \
  "    NEW: { subjects: [core.>] }\n"                       \
  "phases:\n"                                               \
  "  - id: 2\n"                                             \
  "    name: shift\n"                                       \
  "    actions:\n" /* line 13 */

/* One error, on line 14 (the action's), at the column where `at` starts in it. */
static void expect_error(const char *action, const char *at, const char *message) {
  int line = 14, col = (int)(strstr(action, at) - action) + 1;
  char text[4096];
  snprintf(text, sizeof text, HEAD "%s", action);
  plan_fixture l;
  plan_fixture_load(&l, text);
  const plan_diag *dg = plan_fixture_first_error(&l);
  if (!dg) fail_msg("no error for:\n%s", action);
  if (l.d.errors != 1 || strcmp(dg->message, message) != 0 || dg->line != line || dg->col != col)
    fail_msg("%zu errors, first %d:%d '%s'; want %d:%d '%s'", l.d.errors, dg->line, dg->col, dg->message,
             line, col, message);
  assert_int_equal(l.st, GG_ERR_PLAN);
  plan_fixture_release(&l);
}

static void test_shift_loads(void **state) {
  (void)state;
  plan_fixture l;
  plan_fixture_load(&l, HEAD
                    "      - shift:\n"
                    "          kv: traffic/core\n"
                    "          steps: [10%, 50%, 100%]\n"
                    "          hold: 1h\n"
                    "          drain: NEW/hrv-shift\n"
                    "          gate:\n"
                    "            - { name: lag small, expect: 'x < 100' }\n"
                    "      - kv_put: { bucket: traffic, key: core, value: '0', create: true }\n");
  if (l.st != GG_OK)
    for (size_t i = 0; i < l.d.count; i++) fprintf(stderr, "%s\n", l.d.items[i].message);
  assert_int_equal(l.st, GG_OK);
  const plan_action *a = &l.p->phases[0].actions[0];
  assert_int_equal(a->kind, PLAN_ACT_SHIFT);
  assert_string_equal(a->bucket, "traffic");
  assert_string_equal(a->key, "core");
  assert_int_equal(a->nsteps, 3);
  assert_true(a->steps[0] == 10 && a->steps[1] == 50 && a->steps[2] == 100);
  assert_true(a->hold == 3600);
  assert_int_equal(a->ngate, 1);
  assert_string_equal(a->target, "ingest");
  assert_string_equal(a->stream, "NEW");
  assert_string_equal(a->consumer, "hrv-shift");
  char buf[512];
  assert_string_equal(plan_action_describe(a, buf, sizeof buf),
                      "shift traffic/core: 10% -> 50% -> 100%, holding 1h each (gated)");
  assert_string_equal(plan_action_inverse(a, buf, sizeof buf), "set traffic/core to 0%, drain NEW/hrv-shift");
  assert_true(l.p->phases[0].actions[1].create_bucket);
  plan_fixture_release(&l);
}

static void test_shift_bad_input(void **state) {
  (void)state;
  expect_error("      - shift: { kv: traffic/core, steps: [10%, 5%], hold: 1m }\n", "5%]",
               "shift steps must rise: 5% after 10%");
  expect_error("      - shift: { kv: traffic/core, steps: [50%, 50%], hold: 1m }\n", "50%]",
               "shift steps must rise: 50% after 50%");
  expect_error("      - shift: { kv: traffic/core, steps: [10%, 150%], hold: 1m }\n", "150%",
               "shift step 150% is outside the share a step can set (above 0% up to 100%)");
  expect_error("      - shift: { kv: traffic/core, steps: [0%, 100%], hold: 1m }\n", "0%",
               "shift step 0% is outside the share a step can set (above 0% up to 100%)");
  expect_error("      - shift: { kv: traffic/core, steps: [10, 100%], hold: 1m }\n", "10,",
               "shift step '10' is not a percentage (write it like 10%)");
  expect_error("      - shift: { kv: traffic, steps: [10%], hold: 1m }\n", "traffic,",
               "shift kv 'traffic' must be BUCKET/KEY");
  expect_error("      - shift: { kv: traffic/core, steps: [], hold: 1m }\n", "[]",
               "shift steps: at least one step is needed (e.g. [10%, 50%, 100%])");
  expect_error(
      "      - shift: { kv: traffic/core, steps: [10%], hold: 1m, target: grafana }\n", "grafana",
      "shift target 'grafana' must be a target of connect.targets with a metrics URL (it reports the share "
      "in force)");
  expect_error("      - shift: { kv: traffic/core, steps: [10%], hold: 1m, drain: NOPE/c }\n", "NOPE",
               "shift names unknown stream 'NOPE'");
}

static plan *load_example(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/examples/athlete-ally/%s", GONOGO_SOURCE_DIR, name);
  plan_diags d;
  plan_diags_init(&d);
  gg_error err;
  gg_error_clear(&err);
  plan *p = NULL;
  gg_status st = plan_load_file(path, NULL, &p, &d, &err);
  for (size_t i = 0; st != GG_OK && i < d.count; i++) fprintf(stderr, "%s: %s\n", name, d.items[i].message);
  plan_diags_release(&d);
  assert_int_equal(st, GG_OK);
  return p;
}

/* plan-shift.yaml is plan.yaml with phase 2 as the gradual shift: the same phases otherwise,
 * the same preflight, rules and checkpoints, one consumer more (the new side). */
static void test_example_shift_plan(void **state) {
  (void)state;
  plan *a = load_example("plan.yaml"), *b = load_example("plan-shift.yaml");
  assert_int_equal(a->nphases, b->nphases);
  assert_int_equal(a->npreflight, b->npreflight);
  assert_int_equal(a->monitor.nrules, b->monitor.nrules);
  assert_int_equal(a->nvalidation, b->nvalidation);
  assert_int_equal(a->topology.nconsumers + 1, b->topology.nconsumers);
  for (size_t i = 0; i < a->nphases; i++) {
    if (strcmp(a->phases[i].id, "2") == 0) continue;
    assert_int_equal(a->phases[i].nactions, b->phases[i].nactions);
    assert_int_equal(a->phases[i].ngo, b->phases[i].ngo);
    for (size_t k = 0; k < a->phases[i].nactions; k++)
      assert_int_equal(a->phases[i].actions[k].kind, b->phases[i].actions[k].kind);
  }
  const plan_phase *ph = plan_find_phase(b, "2");
  const plan_action *sh = NULL;
  for (size_t k = 0; k < ph->nactions; k++)
    if (ph->actions[k].kind == PLAN_ACT_SHIFT) sh = &ph->actions[k];
  assert_non_null(sh);
  assert_int_equal(sh->nsteps, 3);
  assert_true(sh->steps[0] == 10 && sh->steps[1] == 50 && sh->steps[2] == 100);
  assert_string_equal(sh->consumer, "normalize-hrv-shift");
  plan_free(a);
  plan_free(b);
}

static void test_shift_not_in_prepare(void **state) {
  (void)state;
  plan_fixture l;
  plan_fixture_load(&l,
                    "migration: t\n"
                    "connect: { targets: { ingest: { metrics: 'http://127.0.0.1:1/metrics' } } }\n"
                    "phases:\n"
                    "  - id: 2\n"
                    "    name: shift\n"
                    "    prepare:\n"
                    "      - shift: { kv: traffic/core, steps: [10%], hold: 1m }\n");
  assert_int_equal(l.st, GG_ERR_PLAN);
  assert_int_equal(l.d.errors, 1);
  assert_string_equal(l.d.items[0].message,
                      "a shift cannot be a prepare action (it moves traffic; put it in actions)");
  assert_int_equal(l.d.items[0].line, 7);
  plan_fixture_release(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shift_loads),
      cmocka_unit_test(test_shift_bad_input),
      cmocka_unit_test(test_example_shift_plan),
      cmocka_unit_test(test_shift_not_in_prepare),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
