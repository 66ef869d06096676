/*
 * test_plan_rehearsal.c: the `rehearsal:` section (DESIGN §13) as the loader reads it: its
 * services, publish target and count query, and every bad input as one error at the line and
 * column it concerns.
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

#define HEAD                                              \
  "migration: t\n"                                        \
  "connect:\n"                                            \
  "  databases: { main: 'postgres://127.0.0.1/x' }\n"     \
  "  targets:\n"                                          \
  "    ingest: { health: 'http://127.0.0.1:1/health' }\n" \
  "phases:\n"                                             \
  "  - { id: 1, name: one }\n"                            \
  "rehearsal:\n" /* line 8 */

/* One error, on line 9 (the section's one line), at the column where `at` starts in it; message
 * NULL: any message (an expression's parse error). */
static void expect_error(const char *section, const char *at, const char *message) {
  int line = 9, col = (int)(strstr(section, at) - section) + 1;
  char text[4096];
  snprintf(text, sizeof text, HEAD "%s\n", section);
  plan_fixture l;
  plan_fixture_load(&l, text);
  const plan_diag *dg = plan_fixture_first_error(&l);
  if (!dg) fail_msg("no error for:\n%s", section);
  if (l.d.errors != 1 || (message && strcmp(dg->message, message) != 0) || dg->line != line || dg->col < col)
    fail_msg("%zu errors, first %d:%d '%s'; want %d:%d '%s'", l.d.errors, dg->line, dg->col, dg->message,
             line, col, message ? message : "(any)");
  if (message && dg->col != col) fail_msg("'%s' at column %d, want %d", message, dg->col, col);
  assert_int_equal(l.st, GG_ERR_PLAN);
  plan_fixture_release(&l);
}

static void test_rehearsal_loads(void **state) {
  (void)state;
  plan_fixture l;
  plan_fixture_load(
      &l, HEAD
      "  services:\n"
      "    - { name: sink, run: 'exec ./sink', ready: 'http.up{target=\"ingest\"} == 1' }\n"
      "    - name: ingest\n"
      "      run: 'exec \"$INGEST_BIN\"'\n"
      "      ready: 'http://127.0.0.1:1/health'\n"
      "      ready_timeout: 2m\n"
      "      env: { INGEST_LISTEN: '127.0.0.1:1', X_2: y }\n"
      "  publish: { url: 'http://127.0.0.1:1/v1/hrv', body: '{\"event_id\":\"{{id}}\",\"at\":\"{{now}}\"}' "
      "}\n"
      "  consumed: { db: main, sql: 'SELECT msg_id FROM hrv_data' }\n");
  if (l.st != GG_OK) fail_msg("%s", l.d.count ? l.d.items[0].message : "load failed");
  const plan_rehearsal *r = &l.p->rehearsal;
  assert_int_equal(r->nservices, 2);
  assert_string_equal(r->services[0].name, "sink");
  assert_null(r->services[0].ready_url);
  assert_non_null(r->services[0].ready.ast);
  assert_string_equal(r->services[1].run, "exec \"$INGEST_BIN\"");
  assert_string_equal(r->services[1].ready_url, "http://127.0.0.1:1/health");
  assert_null(r->services[1].ready.ast);
  assert_true(r->services[0].ready_timeout == PLAN_REHEARSAL_READY_TIMEOUT); /* default 30 s */
  assert_true(r->services[1].ready_timeout == 120);
  assert_int_equal(r->services[1].nenv, 2);
  assert_string_equal(r->services[1].env_names[0], "INGEST_LISTEN");
  assert_string_equal(r->services[1].env_values[1], "y");
  assert_string_equal(r->publish_url, "http://127.0.0.1:1/v1/hrv");
  assert_non_null(strstr(r->publish_body, "{{id}}"));
  assert_string_equal(r->consumed_db, "main");
  assert_string_equal(r->consumed_sql, "SELECT msg_id FROM hrv_data");
  plan_fixture_release(&l);
}

static void test_no_section_is_the_reference_services(void **state) {
  (void)state;
  plan_fixture l;
  plan_fixture_load(&l, "migration: t\nphases:\n  - { id: 1, name: one }\n");
  assert_int_equal(l.st, GG_OK);
  assert_int_equal(l.p->rehearsal.nservices, 0);
  assert_null(l.p->rehearsal.publish_url);
  assert_null(l.p->rehearsal.consumed_sql);
  plan_fixture_release(&l);
}

static void test_rehearsal_errors(void **state) {
  (void)state;
  expect_error("  servics: []", "servics", "unknown key 'servics' in rehearsal");
  expect_error("  services: []", "[]",
               "'rehearsal.services' is empty (leave it out for the reference services)");
  expect_error("  services: [{ name: a, run: x }]", "{ name", "rehearsal service 'a' is missing 'ready'");
  expect_error("  services: [{ name: a, ready: 'http://h/' }]", "{ name",
               "rehearsal service 'a' is missing 'run'");
  expect_error(
      "  services: [{ name: a/b, run: x, ready: 'http://h/' }]", "a/b",
      "rehearsal service 'a/b': a name must be up to 31 letters, digits, '-', '_' and '.' (it names its "
      "log file)");
  expect_error(
      "  services: [{ name: a, run: x, ready: 'http://h/' }, { name: a, run: y, ready: 'http://h/' }]",
      "a, run: y", "rehearsal service 'a' is named twice in rehearsal.services");
  expect_error("  services: [{ name: a, run: x, ready: 'up ==' }]", "up ==", NULL);
  expect_error("  services: [{ name: a, run: x, ready: 'http://h/', env: { 1X: y } }]", "1X",
               "rehearsal service 'a': env name '1X' is not a variable name (letters, digits, '_')");
  expect_error("  services: [{ name: a, run: x, ready: 'http://h/', ready_timeout: 0s }]", "0s",
               "rehearsal service 'a': 'ready_timeout' must be a duration above 0 and at most 30m");
  expect_error("  services: [{ name: a, run: x, ready: 'http://h/', ready_timeout: 2h }]", "2h",
               "rehearsal service 'a': 'ready_timeout' must be a duration above 0 and at most 30m");
  expect_error("  publish: { url: 'ftp://h/x', body: '{{id}}' }", "'ftp",
               "rehearsal.publish: 'url' must be an http:// or https:// URL, not 'ftp://h/x'");
  expect_error("  publish: { url: 'http://h/x', body: '{\"id\":1}' }", "'{",
               "rehearsal.publish: 'body' must contain {{id}} (each message's unique id, which consumed.sql "
               "returns)");
  expect_error("  consumed: { db: mian, sql: 'SELECT 1' }", "mian",
               "rehearsal.consumed: database 'mian' is not declared in connect.databases");
  expect_error("  consumed: { db: main }", "{ db", "rehearsal.consumed is missing 'sql'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rehearsal_loads),
      cmocka_unit_test(test_no_section_is_the_reference_services),
      cmocka_unit_test(test_rehearsal_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
