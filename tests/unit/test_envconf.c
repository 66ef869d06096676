/* base/envconf: typed environment variables, with the variable named in every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/envconf.h"

#define VAR "GG_TEST_ENVCONF"

static int clear_env(void **state) {
  unsetenv(VAR);
  return 0;
}

static void test_unset_or_empty_is_the_default(void **state) {
  assert_string_equal(gg_env_or(VAR, "dflt"), "dflt");
  setenv(VAR, "", 1);
  assert_string_equal(gg_env_or(VAR, "dflt"), "dflt");
  setenv(VAR, "set", 1);
  assert_string_equal(gg_env_or(VAR, "dflt"), "set");
}

static void test_duration(void **state) {
  gg_error err;
  double d = 0;
  assert_int_equal(gg_env_duration(VAR, "2s", 0, 10, &d, &err), GG_OK);
  assert_true(d == 2);
  setenv(VAR, "500ms", 1);
  assert_int_equal(gg_env_duration(VAR, "2s", 0, 10, &d, &err), GG_OK);
  assert_true(d == 0.5);
  setenv(VAR, "1m", 1);
  assert_int_equal(gg_env_duration(VAR, "2s", 0.01, 30, &d, &err), GG_ERR_INVALID);
  assert_string_equal(gg_error_message(&err), VAR ": '1m' is out of range (0.01s to 30s)");
  setenv(VAR, "soon", 1);
  assert_int_equal(gg_env_duration(VAR, "2s", 0, 10, &d, &err), GG_ERR_INVALID);
  assert_true(strncmp(gg_error_message(&err), VAR ": ", strlen(VAR) + 2) == 0);
  assert_non_null(strstr(gg_error_message(&err), "soon"));
  /* Without an error context the status still says it failed. */
  assert_int_equal(gg_env_duration(VAR, "2s", 0, 10, &d, NULL), GG_ERR_INVALID);
}

static void test_count(void **state) {
  gg_error err;
  long long n = 7;
  assert_int_equal(gg_env_count(VAR, "3", 1, 64, &n, &err), GG_OK);
  assert_int_equal(n, 3);
  setenv(VAR, "two", 1);
  assert_int_equal(gg_env_count(VAR, "3", 1, 64, &n, &err), GG_ERR_INVALID);
  assert_string_equal(gg_error_message(&err), VAR ": 'two' is not a whole number");
  assert_int_equal(n, 3); /* untouched on failure */
  setenv(VAR, "12x", 1);
  assert_int_equal(gg_env_count(VAR, "3", 1, 64, &n, &err), GG_ERR_INVALID);
  assert_string_equal(gg_error_message(&err), VAR ": '12x' is not a whole number");
  setenv(VAR, "99999999999999999999", 1);
  assert_int_equal(gg_env_count(VAR, "3", 1, 64, &n, &err), GG_ERR_INVALID);
  assert_string_equal(gg_error_message(&err), VAR ": '99999999999999999999' is not a whole number");
  setenv(VAR, "65", 1);
  assert_int_equal(gg_env_count(VAR, "3", 1, 64, &n, &err), GG_ERR_INVALID);
  assert_string_equal(gg_error_message(&err), VAR ": '65' is out of range (1 to 64)");
  setenv(VAR, "64", 1);
  assert_int_equal(gg_env_count(VAR, "3", 1, 64, &n, &err), GG_OK);
  assert_int_equal(n, 64);
}

static void test_log_level(void **state) {
  gg_error err;
  gg_log_level l = GG_LOG_ERROR;
  assert_int_equal(gg_env_log_level(VAR, "info", &l, &err), GG_OK);
  assert_int_equal(l, GG_LOG_INFO);
  setenv(VAR, "debug", 1);
  assert_int_equal(gg_env_log_level(VAR, "info", &l, &err), GG_OK);
  assert_int_equal(l, GG_LOG_DEBUG);
  setenv(VAR, "loud", 1);
  assert_int_not_equal(gg_env_log_level(VAR, "info", &l, &err), GG_OK);
  assert_true(strncmp(gg_error_message(&err), VAR ": ", strlen(VAR) + 2) == 0);
  assert_int_not_equal(gg_env_log_level(VAR, "info", &l, NULL), GG_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_unset_or_empty_is_the_default, clear_env),
      cmocka_unit_test_setup(test_duration, clear_env),
      cmocka_unit_test_setup(test_count, clear_env),
      cmocka_unit_test_setup(test_log_level, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
