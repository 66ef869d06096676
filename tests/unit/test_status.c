/* Unit tests of src/base/status and src/base/error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/status.h"

static void test_names_and_messages(void **state) {
  (void)state;
  assert_int_equal(GG_OK, 0);
  assert_string_equal(gg_status_name(GG_OK), "GG_OK");
  assert_string_equal(gg_status_message(GG_OK), "ok");
  assert_string_equal(gg_status_name(GG_ERR_TIMEOUT), "GG_ERR_TIMEOUT");
  assert_string_equal(gg_status_message(GG_ERR_TIMEOUT), "timed out");
  assert_string_equal(gg_status_name(GG_ERR_TOO_BIG), "GG_ERR_TOO_BIG");
  assert_string_equal(gg_status_message(GG_ERR_NOT_FOUND), "not found");
  assert_string_equal(gg_status_name(GG_ERR_USAGE), "GG_ERR_USAGE");
  /* Every status has a distinct GG_ name and a non-empty lower-case message. */
  for (int i = 0; i < GG_STATUS_COUNT; i++) {
    const char *name = gg_status_name((gg_status)i);
    const char *msg = gg_status_message((gg_status)i);
    assert_non_null(name);
    assert_non_null(msg);
    assert_int_equal(strncmp(name, "GG_", 3), 0);
    assert_true(msg[0] >= 'a' && msg[0] <= 'z');
    assert_true(msg[strlen(msg) - 1] != '.');
    for (int j = 0; j < i; j++) assert_string_not_equal(name, gg_status_name((gg_status)j));
  }
  /* Out of range never crashes. */
  assert_string_equal(gg_status_name(GG_STATUS_COUNT), "GG_UNKNOWN");
  assert_string_equal(gg_status_name((gg_status)-1), "GG_UNKNOWN");
  assert_string_equal(gg_status_message((gg_status)1000), "unknown status");
}

static void test_error_set(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(err.code, GG_OK);
  assert_string_equal(err.msg, "");
  assert_string_equal(gg_error_message(&err), "ok");
  int line = __LINE__ + 1;
  gg_status st = gg_error_set(&err, GG_ERR_IO, "read '%s': %s", "plan.yaml", "no such file");
  assert_int_equal(st, GG_ERR_IO);
  assert_int_equal(err.code, GG_ERR_IO);
  assert_string_equal(err.msg, "read 'plan.yaml': no such file");
  assert_string_equal(gg_error_message(&err), "read 'plan.yaml': no such file");
  assert_non_null(strstr(err.file, "test_status.c"));
  assert_int_equal(err.line, line);
  /* NULL is allowed: the status still comes back. */
  assert_int_equal(gg_error_set(NULL, GG_ERR_TIMEOUT, "x %d", 1), GG_ERR_TIMEOUT);
  assert_string_equal(gg_error_message(NULL), "");
  /* With no text recorded, the status's own message stands in. */
  gg_error_clear(&err);
  err.code = GG_ERR_TIMEOUT;
  assert_string_equal(gg_error_message(&err), "timed out");
}

static void test_error_truncation(void **state) {
  (void)state;
  char long_text[3000];
  memset(long_text, 'a', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  gg_error err;
  gg_error_clear(&err);
  gg_error_set(&err, GG_ERR_INVALID, "value '%s'", long_text);
  assert_int_equal(strlen(err.msg), GG_ERROR_MSG_MAX - 1);
  assert_int_equal(strncmp(err.msg, "value 'aaa", 10), 0);
  assert_string_equal(err.msg + GG_ERROR_MSG_MAX - 4, "...");

  /* Exactly at the limit is kept whole, without the marker. */
  char exact[GG_ERROR_MSG_MAX];
  memset(exact, 'b', sizeof exact - 1);
  exact[sizeof exact - 1] = '\0';
  gg_error_set(&err, GG_ERR_INVALID, "%s", exact);
  assert_string_equal(err.msg, exact);
}

static void test_error_prefix(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  int line = __LINE__ + 1;
  gg_error_set(&err, GG_ERR_PARSE, "line 3: unknown key 'foo'");
  assert_int_equal(gg_error_prefix(&err, "load plan '%s': ", "x.yaml"), GG_ERR_PARSE);
  assert_string_equal(err.msg, "load plan 'x.yaml': line 3: unknown key 'foo'");
  assert_int_equal(err.code, GG_ERR_PARSE);
  assert_int_equal(err.line, line); /* the origin stays where the error happened */
  assert_non_null(strstr(err.file, "test_status.c"));
  assert_int_equal(gg_error_prefix(&err, "check: "), GG_ERR_PARSE);
  assert_string_equal(err.msg, "check: load plan 'x.yaml': line 3: unknown key 'foo'");
  assert_int_equal(gg_error_prefix(NULL, "x"), GG_OK);

  /* A prefix on an error without text builds on the status message. */
  gg_error_clear(&err);
  err.code = GG_ERR_TIMEOUT;
  gg_error_prefix(&err, "probe 'pg.ping': ");
  assert_string_equal(err.msg, "probe 'pg.ping': timed out");

  /* Prefixing past the limit truncates with the marker. */
  char long_text[2000];
  memset(long_text, 'c', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  gg_error_set(&err, GG_ERR_IO, "inner");
  gg_error_prefix(&err, "%s: ", long_text);
  assert_int_equal(strlen(err.msg), GG_ERROR_MSG_MAX - 1);
  assert_string_equal(err.msg + GG_ERROR_MSG_MAX - 4, "...");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_and_messages),
      cmocka_unit_test(test_error_set),
      cmocka_unit_test(test_error_truncation),
      cmocka_unit_test(test_error_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
