/* Unit tests of base/failpoint: each action in a child process, the Nth pass, malformed specs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/failpoint.h"
#include "base/log.h"

/* Run `passes` passes of failpoint `name` in a child with GONOGO_FAILPOINTS=spec; the child
 * exits 0 when it got through them all. Returns the wait status; *stopped tells whether it
 * stopped itself on the way (it is continued then). */
static int child(const char *spec, const char *name, int passes, bool *stopped) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    FILE *null = fopen("/dev/null", "w");
    gg_log_set_output(null);
    if (spec)
      setenv("GONOGO_FAILPOINTS", spec, 1);
    else
      unsetenv("GONOGO_FAILPOINTS");
    gg_failpoint_reset();
    for (int i = 0; i < passes; i++) gg_failpoint2("t", name);
    _exit(0);
  }
  int status = 0;
  *stopped = false;
  for (;;) {
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    if (!WIFSTOPPED(status)) break;
    *stopped = true;
    kill(pid, SIGCONT);
  }
  return status;
}

static void test_actions(void **state) {
  (void)state;
  bool stopped;
  int st = child(NULL, "x", 3, &stopped);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  st = child("t.x", "x", 1, &stopped); /* default: SIGKILL */
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

  st = child("t.other=kill,t.x=exit", "x", 1, &stopped);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 99);

  st = child("t.x=stop", "x", 2, &stopped); /* stops once, then goes on to the end */
  assert_true(stopped);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  st = child("t.y", "x", 5, &stopped); /* another name: never fires */
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_nth_pass(void **state) {
  (void)state;
  bool stopped;
  int st = child("t.x@3=exit", "x", 2, &stopped);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* only two passes */
  st = child("t.x@3=exit", "x", 3, &stopped);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 99);
}

/* `on`: the place asks and takes its test-only branch, on the Nth pass only; never when unset,
 * and an `on` never stops the process. */
static void test_on(void **state) {
  (void)state;
  FILE *null = fopen("/dev/null", "w");
  gg_log_set_output(null);
  unsetenv("GONOGO_FAILPOINTS");
  gg_failpoint_reset();
  assert_false(gg_failpoint_on("t.lose"));
  setenv("GONOGO_FAILPOINTS", "t.other=on,t.lose@2=on", 1);
  gg_failpoint_reset();
  gg_failpoint("t.lose"); /* a plain pass counts, and does nothing for `on` */
  assert_true(gg_failpoint_on("t.lose"));
  assert_false(gg_failpoint_on("t.lose"));
  assert_false(gg_failpoint_on("t.unnamed"));
  unsetenv("GONOGO_FAILPOINTS");
  gg_failpoint_reset();
  gg_log_set_output(stderr);
  fclose(null);
}

static void test_malformed_ignored(void **state) {
  (void)state;
  bool stopped;
  static const char *const bad[] = {"t.x=explode", "t.x@0", "t.x@two", "=kill", "@2", NULL};
  for (int i = 0; bad[i]; i++) {
    int st = child(bad[i], "x", 3, &stopped);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  int st = child("t.x@two,,t.x@2=exit", "x", 3, &stopped); /* the good one still counts */
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 99);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_actions),
      cmocka_unit_test(test_nth_pass),
      cmocka_unit_test(test_malformed_ignored),
      cmocka_unit_test(test_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
