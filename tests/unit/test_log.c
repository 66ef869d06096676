/* Unit tests of src/base/log: line format, quoting, level threshold. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

static FILE *out;

static int setup(void **state) {
  (void)state;
  out = tmpfile();
  if (!out) return -1;
  gg_log_set_output(out);
  gg_log_set_level(GG_LOG_INFO);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gg_log_set_output(NULL);
  gg_log_set_level(GG_LOG_INFO);
  fclose(out);
  return 0;
}

/* Everything written since the last call; you own it. */
static char *take_output(void) {
  long n = ftell(out);
  assert_true(n >= 0);
  char *s = calloc(1, (size_t)n + 1);
  assert_non_null(s);
  rewind(out);
  assert_int_equal(fread(s, 1, (size_t)n, out), (size_t)n);
  rewind(out);
  assert_int_equal(ftruncate(fileno(out), 0), 0);
  return s;
}

static void expect_output(const char *want) {
  char *got = take_output();
  assert_string_equal(got, want);
  free(got);
}

static void test_format(void **state) {
  (void)state;
  gg_log_write(GG_LOG_WARN, "fetch failed", "stream=%s err=%s", "AA_CORE_HOT", "timeout");
  expect_output("level=warn msg=\"fetch failed\" stream=AA_CORE_HOT err=timeout\n");
  gg_log_write(GG_LOG_INFO, "started", NULL);
  gg_log_write(GG_LOG_ERROR, "gave up", NULL);
  expect_output("level=info msg=\"started\"\nlevel=error msg=\"gave up\"\n");
  gg_info("listening", "addr=%s port=%d", "127.0.0.1", 8081);
  expect_output("level=info msg=\"listening\" addr=127.0.0.1 port=8081\n");
}

static void test_quoting(void **state) {
  (void)state;
  gg_log_write(GG_LOG_INFO, "say \"hi\" to C:\\tmp\nnow", NULL);
  expect_output("level=info msg=\"say \\\"hi\\\" to C:\\\\tmp now\"\n");
  gg_log_write(GG_LOG_INFO, NULL, "k=v");
  expect_output("level=info msg=\"\" k=v\n");
}

static int evaluations;

static int side_effect(void) {
  return ++evaluations;
}

static void test_threshold(void **state) {
  (void)state;
  evaluations = 0;
  /* Debug is off by default: the arguments are not even evaluated. */
  gg_debug("expensive", "n=%d", side_effect());
  assert_int_equal(evaluations, 0);
  expect_output("");
  gg_log_set_level(GG_LOG_DEBUG);
  gg_debug("expensive", "n=%d", side_effect());
  assert_int_equal(evaluations, 1);
  expect_output("level=debug msg=\"expensive\" n=1\n");
  gg_log_set_level(GG_LOG_ERROR);
  gg_info("quiet", "n=%d", side_effect());
  gg_warn("quiet", "n=%d", side_effect());
  gg_log_error("loud", "n=%d", side_effect());
  assert_int_equal(evaluations, 2);
  expect_output("level=error msg=\"loud\" n=2\n");
  /* gg_log_write checks the level too. */
  gg_log_write(GG_LOG_WARN, "direct", NULL);
  expect_output("");
  gg_log_set_level(GG_LOG_OFF);
  gg_log_error("nothing", "n=%d", side_effect());
  assert_int_equal(evaluations, 2);
  expect_output("");
}

static void test_parse_level(void **state) {
  (void)state;
  gg_log_level level = GG_LOG_INFO;
  assert_int_equal(gg_log_parse_level("DEBUG", &level, NULL), GG_OK);
  assert_int_equal(level, GG_LOG_DEBUG);
  assert_int_equal(gg_log_parse_level("warn", &level, NULL), GG_OK);
  assert_int_equal(level, GG_LOG_WARN);
  assert_int_equal(gg_log_parse_level("off", &level, NULL), GG_OK);
  assert_int_equal(level, GG_LOG_OFF);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_log_parse_level("verbose", &level, &err), GG_ERR_INVALID);
  assert_string_equal(err.msg, "unknown log level 'verbose': want debug, info, warn, error or off");
  assert_int_equal(level, GG_LOG_OFF);
  assert_int_equal(gg_log_parse_level(NULL, &level, &err), GG_ERR_INVALID);
}

static void test_long_line(void **state) {
  (void)state;
  char big[5000];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  gg_log_write(GG_LOG_INFO, "long", "v=%s", big);
  gg_log_write(GG_LOG_INFO, big, NULL);
  char *got = take_output();
  /* Two lines, each cut short but ended with a newline. */
  char *nl = strchr(got, '\n');
  assert_non_null(nl);
  assert_true(nl - got < 2048);
  assert_int_equal(strncmp(got, "level=info msg=\"long\" v=mmm", 27), 0);
  char *second = nl + 1;
  nl = strchr(second, '\n');
  assert_non_null(nl);
  assert_int_equal(nl[1], '\0');
  assert_true(nl - second < 2048);
  assert_int_equal(strncmp(second, "level=info msg=\"mmm", 19), 0);
  free(got);
}

static void *writer(void *arg) {
  long id = (long)(intptr_t)arg;
  for (int i = 0; i < 200; i++) gg_info("tick", "thread=%ld i=%d pad=%0100d", id, i, 0);
  return NULL;
}

/* Lines written from several threads at once never interleave. */
static void test_threads(void **state) {
  (void)state;
  pthread_t t[4];
  for (long i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  char *got = take_output();
  int lines = 0;
  for (char *line = got, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
    *nl = '\0';
    long id;
    int i;
    char tail[8];
    assert_int_equal(sscanf(line, "level=info msg=\"tick\" thread=%ld i=%d pad=%7s", &id, &i, tail), 3);
    assert_int_equal(strlen(line), strlen("level=info msg=\"tick\" thread=0 i= pad=") + 100 +
                                       (i >= 100  ? 3
                                        : i >= 10 ? 2
                                                  : 1));
    lines++;
  }
  assert_int_equal(lines, 800);
  free(got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quoting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
      cmocka_unit_test(test_parse_level),
      cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
