/*
 * `gonogo run` killed with SIGKILL at several points of the core-subjects phase — as soon
 * as the phase has started, while its `wait` action is in flight (after the cutover and the
 * consumer), in the middle of a drain, right after each action's outcome — and a rollback killed as it starts
 * undoing: each time `gonogo resume` re-observes what was in flight and finishes what was under way (the
 * phase, or the rollback), never both and never an action twice; the cluster ends in the planned state, the
 * journal verifies, and no published message is lost.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_act_fixture.h"

#define RUN(...) actx_gonogo((const char *const[]){__VA_ARGS__, NULL})

static void kill_run_when(const char *kind, const char *needle, int count, double extra) {
  pid_t pid = actx_gonogo_spawn((const char *const[]){"run", "--phase", "2", "--yes", NULL});
  if (!actx_journal_wait(kind, needle, count, 30)) {
    kill(pid, SIGKILL);
    actx_gonogo_wait(pid); /* prints what the run said */
    fail_msg("no %s event with '%s' (#%d) within 30 s", kind, needle ? needle : "", count);
  }
  if (extra > 0) usleep((useconds_t)(extra * 1e6));
  kill(pid, SIGKILL);
  assert_int_equal(actx_gonogo_wait(pid), 128 + SIGKILL);
}

static void assert_phase2_done(int completions) {
  assert_int_equal(actx_journal_count("phase_completed", NULL), completions);
  assert_true(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  assert_false(actx_stream_has_subject("ACT_LEGACY", "act.core.>"));
}

/* The cutover itself happened at most once per run: one forward move with result ok. */
static int cutovers(void) {
  return actx_journal_count("action_outcome", "\"gap_ms\"");
}

static void killed_runs_are_resumed(void **state) {
  (void)state;
  setenv("ACT_WAIT", "2s", 1);
  actx_init("resume", 3);
  actx_legacy_create();
  actx_consumer_start();
  actx_publisher_start(500);
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "2", "--prepare", "--yes"), 0);
  int done = 2; /* phases 0 and 1 */

  /* 1. As soon as the phase has started. */
  int started = actx_journal_count("phase_started", NULL);
  kill_run_when("phase_started", NULL, started + 1, 0);
  assert_int_equal(RUN("resume"), 3); /* the dead run's lease: --break-lock */
  assert_non_null(strstr(actx_output(), "--break-lock"));
  assert_int_equal(RUN("resume", "--break-lock"), 0);
  assert_non_null(strstr(actx_output(), "phase 2 completed"));
  assert_phase2_done(++done);
  assert_int_equal(RUN("resume", "--break-lock"), 0);
  assert_non_null(strstr(actx_output(), "nothing in flight"));

  /* 2. In the wait after the cutover: the move is not repeated. */
  assert_int_equal(RUN("rollback", "--yes", "--phase", "2", "--reason", "reset for kill 2"), 0);
  int moves = cutovers();
  kill_run_when("action_intent", "\"action\":\"wait\"", 2, 0.3);
  assert_int_equal(cutovers(), moves + 1);
  assert_int_equal(RUN("resume", "--break-lock"), 0);
  assert_phase2_done(++done);
  assert_int_equal(cutovers(), moves + 1); /* never twice */

  /* 3. In the middle of a drain (the legacy consumer is paused, so it cannot finish). */
  assert_int_equal(RUN("rollback", "--yes", "--phase", "2", "--reason", "reset for kill 3"), 0);
  actx_pause_legacy_hrv(true);
  usleep(300000);
  kill_run_when("action_intent", "\"action\":\"drain\"", 3, 1.0);
  actx_pause_legacy_hrv(false);
  assert_int_equal(RUN("resume", "--break-lock"), 0);
  assert_non_null(strstr(actx_output(), "drained ACT_LEGACY/hrv"));
  assert_phase2_done(++done);

  /* Right after each action's outcome, before the next begins. */
  for (int i = 0; i < 5; i++) {
    char needle[160];
    /* ok, or noop for a consumer a rollback kept because it had not drained the replay yet */
    snprintf(needle, sizeof needle, "\"index\":%d,\"mode\":\"forward\",\"result\":\"", i);
    assert_int_equal(RUN("rollback", "--yes", "--phase", "2", "--reason", "reset for a boundary kill"), 0);
    moves = cutovers();
    kill_run_when("action_outcome", needle, actx_journal_count("action_outcome", needle) + 1, 0);
    assert_int_equal(RUN("resume", "--break-lock"), 0);
    assert_phase2_done(++done);
    /* Never twice. Once as a rule; none journaled with a gap when the kill (right after action
     * 0's outcome) landed while the move was being made, before its own outcome: resume then
     * observes the subjects already moved and records that, without cutting over again. */
    assert_true(cutovers() <= moves + 1);
  }

  /* 4. A rollback killed as it starts undoing: resume finishes the rollback, not the phase. */
  int rolled = actx_journal_count("phase_rolled_back", NULL);
  int inverses = actx_journal_count("action_intent", "\"mode\":\"inverse\"");
  pid_t pid = actx_gonogo_spawn(
      (const char *const[]){"rollback", "--yes", "--phase", "2", "--reason", "killed rollback", NULL});
  assert_true(actx_journal_wait("action_intent", "\"mode\":\"inverse\"", inverses + 1, 30));
  kill(pid, SIGKILL);
  actx_gonogo_wait(pid);
  if (actx_journal_count("phase_rolled_back", NULL) == rolled) {
    assert_int_equal(RUN("resume", "--break-lock"), 0);
    assert_non_null(strstr(actx_output(), "rolled back"));
  }
  assert_int_equal(actx_journal_count("phase_rolled_back", NULL), rolled + 1);
  assert_int_equal(actx_journal_count("phase_completed", NULL), done); /* not finished forward */
  assert_true(actx_stream_has_subject("ACT_LEGACY", "act.core.>"));
  assert_false(actx_stream_has_subject("ACT_CORE", "act.core.>"));

  /* 5. A killed run rolled back (not resumed) by an operator: the stale lease is broken, on
   * record, and what the run did is undone, including the move it had made. */
  rolled = actx_journal_count("phase_rolled_back", NULL);
  kill_run_when("action_intent", "\"action\":\"wait\"",
                actx_journal_count("action_intent", "\"action\":\"wait\"") + 1, 0.3);
  assert_true(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  assert_int_equal(RUN("rollback", "--yes", "--phase", "2", "--reason", "abandon the killed run"), 3);
  assert_int_equal(
      RUN("rollback", "--yes", "--phase", "2", "--reason", "abandon the killed run", "--break-lock"), 0);
  assert_int_equal(actx_journal_count("lock_broken", NULL) > 0, 1);
  assert_int_equal(actx_journal_count("phase_rolled_back", NULL), rolled + 1);
  assert_true(actx_stream_has_subject("ACT_LEGACY", "act.core.>"));
  assert_false(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  assert_int_equal(RUN("resume"), 0);
  assert_non_null(strstr(actx_output(), "nothing in flight"));

  actx_publisher_stop();
  assert_int_equal(actx_publish_failures(), 0);
  assert_int_equal(actx_wait_consumed(30), 0);
  print_message("published %ld messages, none lost through 4 kills\n", actx_published());
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(killed_runs_are_resumed)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
