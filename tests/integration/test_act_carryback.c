/*
 * Carry-back on rollback (RPO 0): phase 1 runs (the vendor subjects move to ACT_VENDOR, whose
 * consumer the run creates), the service on the new consumer is stalled, readings arrive, and
 * `gonogo rollback` moves the subjects back and carries what the new stream holds unconsumed back
 * to the legacy stream, where the legacy consumer reads every reading exactly once. The new
 * consumer is deleted at once (no waiting on a stalled service) and so is the new stream the run
 * created; `status` says the phase was rolled back and how many messages were carried back.
 * The phase's validation checkpoints read "cancelled (phase rolled back)" in status and report.
 * Also: the same under a 2,000 msg/s publisher running through the rollback, nothing lost; a
 * rollback killed in the middle of its carry-back, resumed, nothing lost or doubled; and a stream
 * the phase created holding what nothing can carry back leaves the phase "rollback incomplete",
 * never "completed".
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_act_fixture.h"

#define RUN(...) actx_gonogo((const char *const[]){__VA_ARGS__, NULL})

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The consumer's backlog once it has settled at n (counts lag the publish acks a little). */
static long backlog_settled(const char *stream, const char *durable, long n) {
  long b = -1;
  for (int i = 0; i < 100 && (b = actx_consumer_backlog(stream, durable)) != n; i++) usleep(50000);
  return b;
}

/* Phases 0 and 1 run in one go each (no --prepare: the run creates ACT_VENDOR itself), with
 * the service on ACT_VENDOR/oura stalled. */
static void run_phase1_stalled(void) {
  actx_legacy_create();
  actx_pause("ACT_VENDOR", "oura", true);
  actx_consumer_start();
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  assert_true(actx_stream_has_subject("ACT_VENDOR", "act.vendor.>"));
}

static void stalled_consumer_readings_are_carried_back(void **state) {
  (void)state;
  actx_init("carry", 3);
  run_phase1_stalled();
  long first = actx_publish_vendor(300);
  assert_int_equal(first, 0);
  assert_int_equal(backlog_settled("ACT_VENDOR", "oura", 300), 300);
  long legacy_before = actx_received_from("ACT_LEGACY");

  double t0 = mono();
  assert_int_equal(RUN("rollback", "--yes", "--phase", "1", "--reason", "stalled service"), 0);
  double took = mono() - t0;
  print_message("rollback with 300 readings on a stalled consumer: %.0f ms (gonogo process included)\n",
                took * 1000);
  assert_true(took < 15.0); /* was 30 s of waiting on the stalled consumer; the figure is in bench/ */
  assert_non_null(strstr(actx_output(), "carried back 300 messages"));
  assert_non_null(strstr(actx_output(), "(300 messages carried back)"));
  assert_true(actx_stream_has_subject("ACT_LEGACY", "act.vendor.>"));
  assert_false(actx_stream_exists("ACT_VENDOR")); /* created by the run, nothing left unconsumed */
  assert_int_equal(actx_consumer_backlog("ACT_VENDOR", "oura"), -1);

  /* Every reading reaches the legacy consumer exactly once. */
  assert_int_equal(actx_wait_consumed(30), 0);
  assert_int_equal(actx_duplicates(), 0);
  assert_int_equal(actx_received_from("ACT_LEGACY") - legacy_before, 300);
  assert_true(actx_wait_stream_empty("ACT_LEGACY", 10));

  /* Journaled: the carry-back's range and count, and the rollback's total. */
  assert_int_equal(actx_journal_count("note", "\"state\":\"done\""), 1);
  assert_int_equal(actx_journal_count("note", "\"found\":300"), 1);
  assert_int_equal(actx_journal_count("phase_rolled_back", "\"carried_back\":300"), 1);
  /* status: rolled back, with the count; never "completed" */
  assert_int_equal(RUN("status"), 0);
  assert_non_null(strstr(actx_output(), "rolled back"));
  assert_non_null(strstr(actx_output(), "300 messages carried back"));
  const char *ph1 = strstr(actx_output(), "phase 1");
  assert_non_null(ph1);
  const char *ph2 = strstr(ph1, "phase 2");
  const char *done = strstr(ph1, "state         completed");
  assert_true(done == NULL || (ph2 && done > ph2));
  /* The phase's checkpoints are cancelled, not pending, in status and in the report. */
  assert_non_null(strstr(actx_output(), "Short-term (T+1 hour): cancelled (phase rolled back)"));
  assert_int_equal(RUN("report", "--format", "md"), 0);
  assert_non_null(strstr(actx_output(), "cancelled (phase rolled back)"));
  assert_int_equal(RUN("journal", "verify"), 0);

  /* The phase runs again: the stream is created afresh. */
  actx_pause("ACT_VENDOR", "oura", false);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  actx_cleanup();
}

/* A work-queue new stream allows no second consumer: the carry-back reads it by sequence. */
static void work_queue_stream_is_carried_back(void **state) {
  (void)state;
  setenv("ACT_VENDOR_RETENTION", "workqueue", 1);
  actx_init("carrywq", 3);
  run_phase1_stalled();
  actx_publish_vendor(300);
  assert_int_equal(backlog_settled("ACT_VENDOR", "oura", 300), 300);
  assert_int_equal(RUN("rollback", "--yes", "--phase", "1", "--reason", "stalled service, work queue"), 0);
  assert_non_null(strstr(actx_output(), "carried back 300 messages"));
  assert_false(actx_stream_exists("ACT_VENDOR"));
  assert_int_equal(actx_wait_consumed(30), 0);
  assert_int_equal(actx_duplicates(), 0);
  assert_int_equal(actx_received_from("ACT_LEGACY"), 300);
  unsetenv("ACT_VENDOR_RETENTION");
  actx_cleanup();
}

static void nothing_lost_under_2000_per_second(void **state) {
  (void)state;
  actx_init("carry2k", 3);
  actx_legacy_create();
  actx_pause("ACT_VENDOR", "oura", true);
  actx_consumer_start();
  actx_publisher_start(2000);
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--prepare", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  usleep(1500000); /* vendor readings pile up on the stalled new consumer */
  long backlog = actx_consumer_backlog("ACT_VENDOR", "oura");
  double t0 = mono();
  assert_int_equal(RUN("rollback", "--yes", "--phase", "1", "--reason", "stalled service at 2000/s"), 0);
  double took = mono() - t0;
  print_message("rollback at 2000 msg/s, %ld readings on the stalled consumer: %.0f ms\n", backlog,
                took * 1000);
  assert_true(took < 15.0);
  assert_true(actx_stream_exists("ACT_VENDOR"));                     /* made by --prepare: kept */
  assert_int_equal(actx_consumer_backlog("ACT_VENDOR", "oura"), -1); /* made by the run: deleted */
  usleep(1000000);                                                   /* traffic goes on after the rollback */
  actx_publisher_stop();
  assert_int_equal(actx_publish_failures(), 0);
  print_message("published %ld\n", actx_published());
  assert_int_equal(actx_wait_consumed(30), 0);
  assert_int_equal(actx_duplicates(), 0);
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

static void killed_carry_back_is_resumed(void **state) {
  (void)state;
  actx_init("carrykill", 3);
  run_phase1_stalled();
  actx_publish_vendor(5000);
  pid_t pid = actx_gonogo_spawn(
      (const char *const[]){"rollback", "--yes", "--phase", "1", "--reason", "kill me", NULL});
  bool seen = actx_journal_wait("note", "\"state\":\"started\"", 1, 60);
  kill(pid, SIGKILL);
  actx_gonogo_wait(pid);
  assert_true(seen);
  print_message("killed %s the carry-back finished\n",
                actx_journal_count("note", "\"state\":\"done\"") ? "after" : "before");
  assert_int_equal(RUN("status"), 0);
  assert_non_null(strstr(actx_output(), "rollback incomplete"));
  assert_int_equal(RUN("resume", "--break-lock"), 0);
  assert_int_equal(actx_journal_count("phase_rolled_back", NULL), 1);
  assert_false(actx_stream_exists("ACT_VENDOR"));
  assert_int_equal(actx_wait_consumed(60), 0);
  assert_int_equal(actx_duplicates(), 0); /* the legacy stream's duplicate window absorbed the repeat */
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

static void what_cannot_be_carried_back_leaves_rollback_incomplete(void **state) {
  (void)state;
  actx_init("carryinc", 3);
  actx_legacy_create();
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0); /* creates ACT_DLQ (act.dlq.>) */
  jsErrCode je = 0;
  assert_int_equal(js_Publish(NULL, actx_js(), "act.dlq.x", "poison", 6, NULL, &je), NATS_OK);
  /* No subject moved: nothing carries that message anywhere, and deleting ACT_DLQ would lose it. */
  assert_int_not_equal(RUN("rollback", "--yes", "--phase", "0", "--reason", "undo the dlq"), 0);
  assert_non_null(strstr(actx_output(), "rollback of phase 0 incomplete"));
  assert_true(actx_stream_exists("ACT_DLQ"));
  assert_int_equal(RUN("status"), 0);
  assert_non_null(strstr(actx_output(), "rollback incomplete"));
  assert_non_null(strstr(actx_output(), "neither consumed by the phase nor carried back"));
  assert_null(strstr(actx_output(), "state         completed"));
  /* Not runnable again until the rollback is finished. */
  assert_int_not_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_non_null(strstr(actx_output(), "rollback that did not finish"));
  /* Someone handles the message (here: purges it); the rollback then finishes. */
  assert_int_equal(js_PurgeStream(actx_js(), "ACT_DLQ", NULL, &je), NATS_OK);
  assert_int_equal(RUN("rollback", "--yes", "--phase", "0", "--reason", "undo the dlq, handled"), 0);
  assert_false(actx_stream_exists("ACT_DLQ"));
  assert_int_equal(RUN("status"), 0);
  assert_null(strstr(actx_output(), "rollback incomplete"));
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

/* A failed test leaves nothing running for the next one. */
static int teardown(void **state) {
  (void)state;
  unsetenv("ACT_VENDOR_RETENTION");
  actx_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(stalled_consumer_readings_are_carried_back, teardown),
      cmocka_unit_test_teardown(work_queue_stream_is_carried_back, teardown),
      cmocka_unit_test_teardown(nothing_lost_under_2000_per_second, teardown),
      cmocka_unit_test_teardown(killed_carry_back_is_resumed, teardown),
      cmocka_unit_test_teardown(what_cannot_be_carried_back_leaves_rollback_incomplete, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
