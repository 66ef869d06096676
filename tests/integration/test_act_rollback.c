/*
 * Rollback of the core-subjects phase under traffic: the inverse moves act.core.> back to the
 * legacy stream (its gap journaled) and carries back what the new consumer had not acknowledged,
 * deletes the consumer the run created and keeps the
 * stream the prepare step made; traffic flows to the legacy stream again and no published
 * message is lost, and only carried-back ones are delivered twice. A second rollback does nothing; the phase
 * can run again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_act_fixture.h"

#define RUN(...) actx_gonogo((const char *const[]){__VA_ARGS__, NULL})

static void rollback_restores_subjects_without_loss(void **state) {
  (void)state;
  actx_init("rollback", 3);
  actx_legacy_create();
  actx_consumer_start();
  actx_publisher_start(1000);
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--prepare", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "2", "--prepare", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "2", "--yes"), 0);
  assert_true(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  usleep(500000); /* traffic on the new stream */
  long legacy_before = actx_received_from("ACT_LEGACY");

  assert_int_equal(RUN("rollback", "--yes", "--phase", "2", "--reason", "integration test rollback"), 0);
  assert_non_null(strstr(actx_output(), "phase 2 rolled back"));
  assert_true(actx_stream_has_subject("ACT_LEGACY", "act.core.>"));
  assert_false(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  assert_true(actx_stream_has_subject("ACT_CORE", "ACT_CORE"));       /* placeholder again */
  assert_true(actx_stream_exists("ACT_CORE"));                        /* made by prepare: kept */
  assert_true(actx_stream_has_subject("ACT_VENDOR", "act.vendor.>")); /* phase 1 untouched */
  assert_int_equal(actx_journal_count("phase_rolled_back", "integration test rollback"), 1);
  assert_int_equal(actx_journal_count("action_outcome", "\"mode\":\"inverse\",\"result\":\"ok\""), 2);
  print_message("inverse move: %s\n", actx_journal_last("action_outcome", "\"action\":\"move_subjects\""));

  /* Traffic reaches the legacy stream again, and nothing published was lost. */
  for (int i = 0; i < 100 && actx_received_from("ACT_LEGACY") <= legacy_before + 100; i++) usleep(100000);
  print_message("legacy received %ld -> %ld, published %ld, legacy holds %ld\n", legacy_before,
                actx_received_from("ACT_LEGACY"), actx_published(), actx_stream_msgs("ACT_LEGACY"));
  assert_true(actx_received_from("ACT_LEGACY") > legacy_before + 100);
  assert_int_equal(actx_wait_consumed(30), 0);
  /* Messages the new consumer was delivered but had not acknowledged are carried back too (the
   * sink is idempotent): only those can reach a consumer twice. */
  const char *carry = actx_journal_last("note", "\"state\":\"done\"");
  const char *found = strstr(carry, "\"found\":");
  long carried = found ? strtol(found + 8, NULL, 10) : 0;
  print_message("carried back %ld, delivered twice %ld\n", carried, actx_duplicates());
  assert_true(actx_duplicates() <= carried);
  assert_int_equal(actx_publish_failures(), 0);

  /* Rolled back already: nothing to do. */
  assert_int_equal(RUN("rollback", "--yes", "--phase", "2", "--reason", "again"), 0);
  assert_non_null(strstr(actx_output(), "nothing to roll back"));
  assert_int_equal(actx_journal_count("phase_rolled_back", NULL), 1);

  /* The phase runs again after a rollback. The re-created consumer replays what the new
   * stream kept (deliver all), so only loss is checked from here on. */
  assert_int_equal(RUN("run", "--phase", "2", "--yes"), 0);
  assert_true(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  actx_publisher_stop();
  assert_int_equal(actx_publish_failures(), 0);
  assert_int_equal(actx_wait_consumed(30), 0);
  print_message("published %ld messages, none lost\n", actx_published());
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(rollback_restores_subjects_without_loss)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
