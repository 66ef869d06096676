/* Integration tests of `gonogo validate` and `gonogo show` on the real binary (GONOGO_BIN):
 * the example plan validates, a broken plan reports every error at its position, and `show`
 * presents the risk assessment's key facts without revealing secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/spawn.h"
#include "support.h"

static const char *bin;
static char example[4096];
static char broken[4096];
static char orders[4096];

typedef support_run_result ran;

static ran run(const char *const *argv, const char *const *env) {
  gg_spawn_opts opts = {.timeout = 60, .max_output = 4u << 20, .env = env};
  return support_run(argv, &opts);
}

static void expect_has(const char *text, const char *needle) {
  if (!strstr(text, needle)) {
    fprintf(stderr, "missing '%s' in:\n%s\n", needle, text);
    fail();
  }
}

static void test_validate_example(void **state) {
  const char *argv[] = {bin, "validate", example, NULL};
  ran r = run(argv, NULL);
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, "ok: athlete-ally-3-stream, 4 phases, 110 criteria, 21 rules\n");
  free(r.out);
}

static void test_validate_broken(void **state) {
  const char *argv[] = {bin, "validate", broken, NULL};
  ran r = run(argv, NULL);
  assert_int_equal(r.code, 3);
  char at[4200];
  snprintf(at, sizeof at, "%s:7:39: 'replicas' must be an integer, not 'three'\n", broken);
  expect_has(r.out, at);
  snprintf(at, sizeof at, "%s:11:5: unknown key 'aprovals' in phase '1'\n", broken);
  expect_has(r.out, at);
  expect_has(r.out, "    did you mean 'approvals'?\n");
  snprintf(at, sizeof at, "%s:13:46: malformed expression in 'expect': ", broken);
  expect_has(r.out, at);
  snprintf(at, sizeof at, "%s:15:24: create_stream names unknown stream 'NEX'\n", broken);
  expect_has(r.out, at);
  expect_has(r.out, "    did you mean 'NEW'?\n");
  snprintf(at, sizeof at, "gonogo: plan '%s' has 4 errors\n", broken);
  expect_has(r.out, at);
  free(r.out);
}

static void test_show_phase2_facts(void **state) {
  const char *argv[] = {bin, "show", example, "--phase", "2", NULL};
  const char *env[] = {"PG_URL=postgresql://migrator:s3cr3t-pw@127.0.0.1:5432/athlete_ally", NULL};
  ran r = run(argv, env);
  assert_int_equal(r.code, 0);
  expect_has(r.out, "phase 2: Migrate core subjects\n");
  expect_has(r.out, "  overall risk: HIGH (declared)\n");
  expect_has(r.out, "    [ ] phase 1 stable for 1d");
  /* The risk table with computed inherent levels. */
  expect_has(r.out, "HRV processing stops                   MEDIUM      HIGH      HIGH      MEDIUM");
  expect_has(r.out, "Message loss during subject migration  LOW         CRITICAL  HIGH      LOW");
  /* Go criteria and no-go conditions of the document's phase 2. */
  static const char *const go[] = {"AA_CORE_HOT stream created",
                                   "Old consumer has num_pending = 0 (fully drained)",
                                   "Database responsive (ping < 50ms)",
                                   "All 30 integration tests passing",
                                   "Staging environment verified (HRV flow works)",
                                   "On-call engineer available for 4-hour window"};
  for (size_t i = 0; i < sizeof go / sizeof go[0]; i++) expect_has(r.out, go[i]);
  static const char *const nogo[] = {
      "Phase 1 unstable -> NO-GO",           "Old consumer has ANY pending messages -> NO-GO",
      "Database connection errors -> NO-GO", "High traffic period (>100 msg/min) -> DEFER",
      "Recent incident (<48h ago) -> DEFER", "Holiday or weekend (prefer weekday) -> DEFER"};
  for (size_t i = 0; i < sizeof nogo / sizeof nogo[0]; i++) expect_has(r.out, nogo[i]);
  /* Approvers, the Engineering Manager optional. */
  expect_has(r.out, "    [ ] Platform Team Lead (platform-lead)\n");
  expect_has(r.out, "    [ ] Backend Team Lead (backend-lead)\n");
  expect_has(r.out, "    [ ] On-Call Engineer (on-call)\n");
  expect_has(r.out, "    [ ] Engineering Manager (engineering-manager) optional\n");
  /* Actions with their inverses, the rollback estimate. */
  expect_has(r.out,
             "move subjects core.> from ATHLETE_ALLY_EVENTS to AA_CORE_HOT\n"
             "         rollback: move subjects core.> back from AA_CORE_HOT to ATHLETE_ALLY_EVENTS\n");
  expect_has(r.out, "  rollback: moderate, estimate 5m (add subjects back + redeploy)\n");
  /* Rules and checkpoints follow; the secret does not appear, its source does. */
  expect_has(r.out, "Error rate > 50% for 5 minutes -> rollback");
  expect_has(r.out, "T+14d: Long-term (T+14 days) after phase 2");
  expect_has(r.out, "main = <secret ${PG_URL}>");
  assert_null(strstr(r.out, "s3cr3t-pw"));
  assert_null(strstr(r.out, "phase 3: Deprecate legacy stream"));
  free(r.out);
}

static void test_show_json(void **state) {
  const char *argv[] = {bin, "show", example, "--json", NULL};
  const char *env[] = {"PG_URL=postgresql://migrator:s3cr3t-pw@127.0.0.1:5432/athlete_ally", NULL};
  ran r = run(argv, env);
  assert_int_equal(r.code, 0);
  assert_null(strstr(r.out, "s3cr3t-pw"));
  json_error_t je;
  json_t *j = json_loads(r.out, 0, &je);
  assert_non_null(j);
  assert_int_equal(strlen(json_string_value(json_object_get(j, "hash"))), 64);
  json_t *phases = json_object_get(j, "phases");
  assert_int_equal(json_array_size(phases), 4);
  json_t *p2 = json_array_get(phases, 2);
  assert_string_equal(json_string_value(json_object_get(p2, "risk")), "HIGH");
  json_t *ap = json_object_get(p2, "approvals");
  assert_int_equal(json_array_size(ap), 4);
  assert_true(json_is_true(json_object_get(json_array_get(ap, 3), "optional")));
  json_t *act = json_array_get(json_object_get(p2, "actions"), 0);
  assert_string_equal(json_string_value(json_object_get(act, "inverse")),
                      "move subjects core.> back from AA_CORE_HOT to ATHLETE_ALLY_EVENTS");
  json_t *db = json_object_get(json_object_get(json_object_get(j, "connect"), "databases"), "main");
  assert_string_equal(json_string_value(db), "<secret ${PG_URL}>");
  json_decref(j);
  free(r.out);
}

static void test_show_unknown_phase(void **state) {
  const char *argv[] = {bin, "show", example, "--phase", "9", NULL};
  ran r = run(argv, NULL);
  assert_int_equal(r.code, 3);
  expect_has(r.out, "has no phase '9'");
  free(r.out);
}

/* `--` ends the options (issue #19.11): an expression that starts with '-' is an argument
 * after it, and an unknown option without it. */
static void test_eval_double_dash(void **state) {
  const char *argv[] = {bin, "eval", example, "--", "-1 * 2", NULL};
  ran r = run(argv, NULL);
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, "-2\n");
  free(r.out);
  const char *bare[] = {bin, "eval", example, "-1", NULL};
  r = run(bare, NULL);
  assert_int_equal(r.code, 3);
  expect_has(r.out, "gonogo eval: unknown option '-1'\n");
  free(r.out);
}

/* `validate --json`: the same diagnostics, each with its position, and exit 3. */
static void test_validate_json(void **state) {
  const char *argv[] = {bin, "validate", "--json", broken, NULL};
  ran r = run(argv, NULL);
  assert_int_equal(r.code, 3);
  json_error_t je;
  json_t *o = json_loads(r.out, JSON_DISABLE_EOF_CHECK, &je);
  if (!o) fprintf(stderr, "not JSON: %s\n%s\n", je.text, r.out);
  assert_non_null(o);
  assert_false(json_is_true(json_object_get(o, "valid")));
  assert_int_equal(json_integer_value(json_object_get(o, "errors")), 4);
  json_t *diags = json_object_get(o, "diagnostics");
  bool found = false;
  size_t i;
  json_t *d;
  json_array_foreach(diags, i, d) {
    const char *msg = json_string_value(json_object_get(d, "message"));
    if (msg && strcmp(msg, "unknown key 'aprovals' in phase '1'") == 0) {
      found = true;
      assert_int_equal(json_integer_value(json_object_get(d, "line")), 11);
      assert_int_equal(json_integer_value(json_object_get(d, "column")), 5);
      assert_string_equal(json_string_value(json_object_get(d, "severity")), "error");
      assert_string_equal(json_string_value(json_object_get(d, "hint")), "did you mean 'approvals'?");
    }
  }
  assert_true(found);
  json_decref(o);
  free(r.out);
}

/* The README's second example: validates clean (text and JSON) and shows. */
static void test_orders_example(void **state) {
  const char *v[] = {bin, "validate", orders, NULL};
  ran r = run(v, NULL);
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, "ok: orders-split, 3 phases, 11 criteria, 2 rules\n");
  free(r.out);
  const char *vj[] = {bin, "validate", "--json", orders, NULL};
  r = run(vj, NULL);
  assert_int_equal(r.code, 0);
  json_t *o = json_loads(r.out, JSON_DISABLE_EOF_CHECK, NULL);
  assert_non_null(o);
  assert_true(json_is_true(json_object_get(o, "valid")));
  assert_int_equal(json_integer_value(json_object_get(o, "warnings")), 0);
  assert_int_equal(json_array_size(json_object_get(o, "diagnostics")), 0);
  json_decref(o);
  free(r.out);
  const char *sh[] = {bin, "show", orders, "--phase", "1", NULL};
  r = run(sh, NULL);
  assert_int_equal(r.code, 0);
  expect_has(r.out, "phase 1: Move orders\n");
  expect_has(r.out, "move subjects orders.> from ORDERS to ORDERS_HOT");
  free(r.out);
}

/* `plan --json` says what `plan` prints, against the live sandbox (nothing exists yet: the
 * prepare actions would create both streams). */
static void test_plan_json(void **state) {
  if (!getenv("NATS_URL")) skip();
  const char *argv[] = {bin, "plan", orders, "--phase", "1", "--prepare", "--json", NULL};
  ran r = run(argv, NULL);
  assert_int_equal(r.code, 0);
  json_t *o = json_loads(r.out, JSON_DISABLE_EOF_CHECK, NULL);
  if (!o) fprintf(stderr, "not JSON:\n%s\n", r.out);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "phase")), "1");
  json_t *lines = json_object_get(o, "lines");
  assert_int_equal(json_array_size(lines), 2);
  json_t *first = json_array_get(lines, 0);
  assert_string_equal(json_string_value(json_object_get(first, "sign")), "+");
  assert_string_equal(json_string_value(json_object_get(first, "change")), "create");
  expect_has(json_string_value(json_object_get(first, "text")), "create stream ORDERS_DLQ");
  assert_int_equal(json_integer_value(json_object_get(o, "changes")), 2);
  assert_int_equal(json_integer_value(json_object_get(o, "blocked")), 0);
  json_decref(o);
  free(r.out);
}

/* The facts checked here are the plan's defaults: unset every ${VAR} the example reads, so a
 * rehearsal's settings in the environment (SOAK_PHASE1=20s, as `make demo` exports while it
 * runs this test as a go criterion) do not change them. */
static void unset_plan_variables(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    for (char *p = strstr(line, "${"); p; p = strstr(p + 2, "${")) {
      char name[128];
      size_t n = 0;
      for (const char *q = p + 2;
           n + 1 < sizeof name && ((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_'); q++)
        name[n++] = *q;
      name[n] = '\0';
      if (n) unsetenv(name);
    }
  }
  fclose(f);
}

int main(void) {
  bin = getenv("GONOGO_BIN");
  const char *src = getenv("GONOGO_SOURCE_DIR");
  if (!bin || !src) {
    fprintf(stderr, "GONOGO_BIN and GONOGO_SOURCE_DIR must be set (ctest sets them)\n");
    return 1;
  }
  snprintf(example, sizeof example, "%s/examples/athlete-ally/plan.yaml", src);
  snprintf(broken, sizeof broken, "%s/tests/unit/plans/broken.yaml", src);
  snprintf(orders, sizeof orders, "%s/examples/orders/plan.yaml", src);
  unset_plan_variables(example);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validate_example),   cmocka_unit_test(test_validate_broken),
      cmocka_unit_test(test_show_phase2_facts),  cmocka_unit_test(test_show_json),
      cmocka_unit_test(test_show_unknown_phase), cmocka_unit_test(test_eval_double_dash),
      cmocka_unit_test(test_validate_json),      cmocka_unit_test(test_orders_example),
      cmocka_unit_test(test_plan_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
