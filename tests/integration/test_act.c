/*
 * The four phases of the act test plan (the example's shape: DLQ, vendor subjects, core
 * subjects, delete the legacy stream) on R3 streams while a publisher sends about 1,000
 * messages a second with a Nats-Msg-Id each and a consumer acks on every stream: every
 * phase completes, every published id is consumed exactly once across the old and the new
 * streams, each move_subjects gap is journaled, and the lease is taken and released.
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

static void phases_complete_without_loss(void **state) {
  (void)state;
  actx_init("phases", 3);
  actx_legacy_create();
  actx_consumer_start();
  actx_publisher_start(1000);

  assert_int_equal(RUN("plan", "--phase", "0"), 0);
  assert_non_null(strstr(actx_output(), "+ create stream ACT_DLQ (R3, file, act.dlq.>)"));
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_true(actx_stream_has_subject("ACT_DLQ", "act.dlq.>"));
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 3); /* never twice */
  assert_non_null(strstr(actx_output(), "phase 0 is already completed"));
  assert_int_equal(RUN("run", "--phase", "0", "--prepare", "--yes"), 3);

  assert_int_equal(RUN("run", "--phase", "1", "--prepare", "--yes"), 0);
  assert_true(actx_stream_has_subject("ACT_VENDOR", "ACT_VENDOR")); /* placeholder until the cutover */
  assert_int_equal(RUN("plan", "--phase", "1"), 0);
  assert_non_null(strstr(actx_output(), "> move act.vendor.> ACT_LEGACY -> ACT_VENDOR"));
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  assert_non_null(strstr(actx_output(), "publish gap:"));
  assert_true(actx_stream_has_subject("ACT_VENDOR", "act.vendor.>"));
  assert_false(actx_stream_has_subject("ACT_VENDOR", "ACT_VENDOR"));
  assert_false(actx_stream_has_subject("ACT_LEGACY", "act.vendor.>"));

  assert_int_equal(RUN("run", "--phase", "2", "--prepare", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "2", "--yes"), 0);
  assert_non_null(strstr(actx_output(), "continuity ACT_LEGACY -> ACT_CORE"));
  assert_true(actx_stream_has_subject("ACT_CORE", "act.core.>"));
  assert_true(actx_stream_has_subject("ACT_LEGACY", "ACT_LEGACY")); /* no subjects left: placeholder */

  /* Each cutover's gap is journaled with the move's outcome. */
  assert_int_equal(actx_journal_count("action_outcome", "\"gap_ms\""), 2);
  print_message("gaps: %s\n", actx_journal_last("action_outcome", "\"gap_ms\""));

  /* Everything published so far reached a consumer exactly once, across old and new streams. */
  assert_int_equal(actx_wait_consumed(30), 0);
  assert_int_equal(actx_duplicates(), 0);
  assert_int_equal(actx_publish_failures(), 0);

  /* Phase 3: the legacy stream is empty (work-queue retention, drained) and is deleted. */
  assert_true(actx_wait_stream_empty("ACT_LEGACY", 10));
  assert_int_equal(RUN("run", "--phase", "3", "--yes"), 0);
  assert_false(actx_stream_exists("ACT_LEGACY"));

  /* Traffic flows on the new streams: give the publisher (a thread of this loaded test
   * process) the time to have sent some there before it stops. */
  for (int tries = 0;
       tries < 100 && (actx_received_from("ACT_VENDOR") == 0 || actx_received_from("ACT_CORE") == 0); tries++)
    usleep(100 * 1000);
  actx_publisher_stop();
  assert_int_equal(actx_publish_failures(), 0);
  assert_int_equal(actx_wait_consumed(30), 0);
  assert_int_equal(actx_duplicates(), 0);
  assert_true(actx_received_from("ACT_VENDOR") > 0);
  assert_true(actx_received_from("ACT_CORE") > 0);
  assert_true(actx_received_from("ACT_LEGACY") > 0);
  print_message("published %ld messages, all consumed exactly once\n", actx_published());

  /* Phase events and the lease are all on record. */
  assert_int_equal(actx_journal_count("phase_completed", NULL), 4);
  assert_int_equal(actx_journal_count("phase_prepared", NULL), 2);
  assert_int_equal(actx_journal_count("lock_taken", NULL), actx_journal_count("lock_released", NULL));
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(phases_complete_without_loss)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
