/* Unit tests of src/rehearse/env.c: a rehearsal loads the plan with the sandbox's settings and
 * never with the caller's connection variables, and passes the services the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rehearse/internal.h"

static const char ENV_TEXT[] =
    "export NATS_URL=nats://127.0.0.1:4001,nats://127.0.0.1:4002\n"
    "export PG_URL='postgresql://postgres@127.0.0.1:5999/athlete'\n"
    "unset NATS_MONITOR_URLS\n"
    "export GONOGO_SANDBOX_DIR=/tmp/x\n";

static bool has(char **envp, const char *entry) {
  for (size_t i = 0; envp[i]; i++)
    if (strcmp(envp[i], entry) == 0) return true;
  return false;
}

static bool names(char **envp, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; envp[i]; i++)
    if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') return true;
  return false;
}

static void test_sandbox_settings_replace_the_callers(void **state) {
  (void)state;
  setenv("NATS_URL", "nats://production:4222", 1);
  setenv("NATS_MONITOR_URLS", "http://production:8222", 1);
  setenv("NATS_TOKEN", "s3cret", 1);
  setenv("PROMETHEUS_URL", "http://production:9090", 1);
  setenv("SOAK_PHASE1", "2m", 1);
  rehearse_env e = {0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(rehearse_env_parse(&e, ENV_TEXT, &err), GG_OK);
  assert_int_equal(rehearse_env_set(&e, "INGEST_URL", "http://127.0.0.1:7001", &err), GG_OK);
  assert_string_equal(rehearse_env_lookup("NATS_URL", &e), "nats://127.0.0.1:4001,nats://127.0.0.1:4002");
  assert_string_equal(rehearse_env_lookup("PG_URL", &e), "postgresql://postgres@127.0.0.1:5999/athlete");
  assert_null(rehearse_env_lookup("NATS_MONITOR_URLS", &e)); /* the sandbox unsets it */
  assert_null(rehearse_env_lookup("NATS_TOKEN", &e));        /* the caller's credential: never */
  assert_null(rehearse_env_lookup("PROMETHEUS_URL", &e));
  assert_string_equal(rehearse_env_lookup("SOAK_PHASE1", &e), "2m"); /* the plan's own settings pass */
  char **envp = rehearse_env_environ(&e, NULL);
  assert_non_null(envp);
  assert_true(has(envp, "NATS_URL=nats://127.0.0.1:4001,nats://127.0.0.1:4002"));
  assert_true(has(envp, "INGEST_URL=http://127.0.0.1:7001"));
  assert_true(has(envp, "SOAK_PHASE1=2m"));
  assert_false(names(envp, "NATS_TOKEN"));
  assert_false(names(envp, "NATS_MONITOR_URLS"));
  assert_false(has(envp, "NATS_URL=nats://production:4222"));
  rehearse_env_free_environ(envp);
  rehearse_env_release(&e);
}

static void test_malformed_env_line(void **state) {
  (void)state;
  rehearse_env e = {0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(rehearse_env_parse(&e, "export NATS_URL\n", &err), GG_ERR_INVALID);
  assert_non_null(strstr(gg_error_message(&err), "malformed line 'export NATS_URL'"));
  rehearse_env_release(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sandbox_settings_replace_the_callers),
      cmocka_unit_test(test_malformed_env_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
