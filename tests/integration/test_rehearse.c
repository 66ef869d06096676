/* Integration tests of `gonogo rehearse` (src/rehearse) on the real binary (GONOGO_BIN): each
 * rehearsal brings up a sandbox of its own (never the one NATS_URL names), drives the reference
 * services through tests/integration/plans/rehearse.yaml (one cutover, R5 lowered to R3) and
 * takes it down. A passing rehearsal sets rehearsal.passed{phase="1"}; an edited plan voids it;
 * a deliberately lossy cutover (the failpoint act.cutover.lose) fails it with the lost ids named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/spawn.h"
#include "support.h"

static const char *bin;
static char dir[64];
static char plan_path[128];
static char journal_path[128];
static char *plan_text;

static support_run_result run(const char *const *argv, const char *const *env, double timeout) {
  gg_spawn_opts opts = {.timeout = timeout, .max_output = 4u << 20, .env = env};
  return support_run(argv, &opts);
}

static void expect_has(const char *text, const char *needle) {
  if (!strstr(text, needle)) {
    fprintf(stderr, "missing '%s' in:\n%s\n", needle, text);
    fail();
  }
}

static void write_plan(const char *from, const char *to) {
  char *text = strdup(plan_text);
  assert_non_null(text);
  if (from) {
    char *at = strstr(text, from);
    assert_non_null(at);
    size_t len = strlen(text) - strlen(from) + strlen(to) + 1;
    char *edited = malloc(len);
    assert_non_null(edited);
    snprintf(edited, len, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    free(text);
    text = edited;
  }
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  free(text);
}

/* rehearsal.passed{phase="1"} as `gonogo eval` reads it from the journal: 1, 0, or -1. */
static int passed(void) {
  const char *argv[] = {bin,         "eval",       plan_path, "rehearsal.passed{phase=\"1\"}",
                        "--journal", journal_path, NULL};
  support_run_result r = run(argv, NULL, 60);
  int v = r.code != 0 ? -1 : strstr(r.out, "{phase=\"1\"} 1") ? 1 : strstr(r.out, "{phase=\"1\"} 0") ? 0 : -1;
  if (v < 0) fprintf(stderr, "eval rehearsal.passed: exit %d:\n%s\n", r.code, r.out);
  free(r.out);
  return v;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gg-it-rehearse-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_path, sizeof journal_path, "%s/journal.db", dir);
  write_plan(NULL, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_passing_rehearsal_then_edited_plan(void **state) {
  (void)state;
  const char *argv[] = {bin,      "rehearse", plan_path,   "--soak",     "1s",
                        "--rate", "150",      "--journal", journal_path, NULL};
  support_run_result r = run(argv, NULL, 400);
  int code = r.code;
  if (code != 0) {
    fprintf(stderr, "%s\n", r.out);
    free(r.out);
  }
  assert_int_equal(code, 0);
  expect_has(r.out, "ATHLETE_ALLY_EVENTS: R5 -> R3"); /* what it changed to build it locally */
  expect_has(r.out, "killed and back");               /* the cutover with a node killed */
  expect_has(r.out, " 0 lost, 0 duplicated");
  expect_has(r.out, "rehearsal passed");
  free(r.out);
  assert_int_equal(passed(), 1);
  /* An edited plan has another hash: the rehearsal no longer counts for it. */
  write_plan("one cutover, rehearsed", "one cutover, rehearsed, then edited");
  assert_int_equal(passed(), 0);
  write_plan(NULL, NULL); /* the plan as rehearsed counts again */
  assert_int_equal(passed(), 1);
}

static void test_lossy_cutover_fails_naming_ids(void **state) {
  (void)state;
  const char *argv[] = {bin,      "rehearse", plan_path,   "--soak",     "1s",
                        "--rate", "150",      "--journal", journal_path, NULL};
  const char *env[] = {"GONOGO_FAILPOINTS=act.cutover.lose=on", NULL};
  support_run_result r = run(argv, env, 400);
  int code = r.code;
  if (code != 2) {
    fprintf(stderr, "%s\n", r.out);
    free(r.out);
  }
  assert_int_equal(code, 2);
  expect_has(r.out, "failpoint act.cutover.lose: purged 'AA_CORE_HOT'");
  expect_has(r.out, "phase 1 lost ");
  expect_has(r.out, " rehearse-"); /* the ids themselves */
  expect_has(r.out, "gonogo: rehearse: phase 1 failed: ");
  free(r.out);
  assert_int_equal(passed(), 0);
}

int main(void) {
  bin = support_need_env("test_rehearse", "GONOGO_BIN");
  plan_text = support_source_file("test_rehearse", "tests/integration/plans/rehearse.yaml");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_passing_rehearsal_then_edited_plan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lossy_cutover_fails_naming_ids, setup, teardown),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  free(plan_text);
  return failed;
}
