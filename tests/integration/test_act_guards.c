/*
 * What act refuses: deleting a stream that holds messages (the plan does not allow data
 * loss), an existing stream that differs from the plan (drift, reported field by field by
 * both `plan` and `run`, the stream left untouched), and a second `run` while another holds
 * the migration's lease.
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

static void delete_stream_refuses_messages(void **state) {
  (void)state;
  actx_init("refuse", 1);
  actx_legacy_create();
  for (int i = 0; i < 5; i++) {
    char id[16];
    snprintf(id, sizeof id, "r-%d", i);
    assert_int_equal(js_Publish(NULL, actx_js(), "act.core.hrv.x", id, (int)strlen(id), NULL, NULL), NATS_OK);
  }
  assert_int_equal(RUN("plan", "--phase", "3"), 2);
  assert_non_null(strstr(actx_output(), "! delete stream ACT_LEGACY: REFUSED, it holds 5 messages"));
  /* Phase 3 is NO-GO (phase 2 never ran); an override gets as far as the action. */
  assert_int_equal(RUN("run", "--phase", "3", "--yes"), 2);
  /* An override names what it covers: a blanket one is refused, so is one for an item that
   * passed; the journal records nothing of either. */
  assert_int_equal(RUN("run", "--phase", "3", "--yes", "--override", "just go", "--by", "tester"), 3);
  assert_non_null(strstr(actx_output(), "--override-item 'ITEM=REASON'"));
  assert_int_equal(
      RUN("run", "--phase", "3", "--yes", "--override-item", "jetstream-enabled=why not", "--by", "tester"),
      3);
  assert_non_null(strstr(actx_output(), "item 'JetStream enabled' passed; there is nothing to override"));
  assert_int_equal(actx_journal_count("override", NULL), 0);
  assert_int_equal(RUN("run", "--phase", "3", "--yes", "--override-item",
                       "phase-2-completed=test the refusal", "--by", "tester"),
                   3);
  assert_non_null(strstr(actx_output(), "refusing to delete stream 'ACT_LEGACY': it holds 5 messages"));
  assert_true(actx_stream_exists("ACT_LEGACY"));
  assert_int_equal(actx_stream_msgs("ACT_LEGACY"), 5);
  assert_int_equal(actx_journal_count("override", "test the refusal"), 1);
  assert_int_equal(actx_journal_count("action_outcome", "\"refused\":5"), 1);
  actx_cleanup();
}

static void drift_is_reported_field_by_field(void **state) {
  (void)state;
  actx_init("drift", 1);
  /* ACT_DLQ exists already, made by hand with a 1h max_age where the plan says 30d. */
  jsStreamConfig c;
  jsStreamConfig_Init(&c);
  const char *subj[] = {"act.dlq.>"};
  c.Name = "ACT_DLQ";
  c.Subjects = subj;
  c.SubjectsLen = 1;
  c.MaxAge = 3600LL * 1000000000LL;
  c.Storage = js_FileStorage;
  assert_int_equal(js_AddStream(NULL, actx_js(), &c, NULL, NULL), NATS_OK);
  assert_int_equal(RUN("plan", "--phase", "0"), 2);
  assert_non_null(strstr(actx_output(), "! stream ACT_DLQ exists and differs from the plan (drift)"));
  assert_non_null(strstr(actx_output(), "max_age: 1h -> 30d"));
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 3);
  assert_non_null(
      strstr(actx_output(), "stream 'ACT_DLQ' differs from the plan (drift): max_age: 1h -> 30d"));
  assert_int_equal(actx_journal_count("action_outcome", "max_age: 1h -> 30d"), 1);
  /* Left untouched for a human. */
  jsStreamInfo *si = NULL;
  assert_int_equal(js_GetStreamInfo(&si, actx_js(), "ACT_DLQ", NULL, NULL), NATS_OK);
  assert_int_equal(si->Config->MaxAge, 3600LL * 1000000000LL);
  jsStreamInfo_Destroy(si);
  actx_cleanup();
}

static void concurrent_runs_one_refused(void **state) {
  (void)state;
  setenv("ACT_WAIT", "3s", 1);
  actx_init("lock", 1);
  actx_legacy_create();
  /* Phase 2 waits 3 s in the middle while holding the lease. */
  pid_t first =
      actx_gonogo_spawn((const char *const[]){"run", "--phase", "2", "--yes", "--override-item",
                                              "phase-1-completed=lock test", "--by", "first", NULL});
  assert_true(actx_journal_wait("action_intent", "\"action\":\"wait\"", 1, 30));
  assert_int_equal(
      RUN("run", "--phase", "2", "--yes", "--override-item", "Phase 1 completed=lock test", "--by", "second"),
      3);
  assert_non_null(strstr(actx_output(), "first phase 2"));
  assert_int_equal(actx_gonogo_wait(first), 0);
  assert_int_equal(actx_journal_count("phase_started", NULL), 1);
  assert_int_equal(actx_journal_count("phase_completed", NULL), 1);
  unsetenv("ACT_WAIT");
  actx_cleanup();
}

/* A verify criterion that does not pass after the actions rolls the phase back by itself
 * (on_failure: rollback, the default): the stream the run created is deleted again. */
static void failed_verify_rolls_back(void **state) {
  (void)state;
  setenv("ACT_DLQ_VERIFY", "act.nothing.>", 1);
  actx_init("verify", 1);
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 3);
  assert_non_null(strstr(actx_output(), "phase 0 failed and was rolled back"));
  assert_non_null(strstr(actx_output(), "verify 'DLQ holds its subjects'"));
  assert_false(actx_stream_exists("ACT_DLQ"));
  assert_int_equal(actx_journal_count("phase_rolled_back", "verify 'DLQ holds its subjects'"), 1);
  unsetenv("ACT_DLQ_VERIFY");
  /* With the plan's criterion as written, the same phase now runs. */
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_true(actx_stream_exists("ACT_DLQ"));
  actx_cleanup();
}

static long long vendor_max_age(void) {
  jsStreamInfo *si = NULL;
  assert_int_equal(js_GetStreamInfo(&si, actx_js(), "ACT_VENDOR", NULL, NULL), NATS_OK);
  long long v = si->Config->MaxAge;
  jsStreamInfo_Destroy(si);
  return v;
}

static void kv_value(kvStore *kv, char *out, size_t n) {
  kvEntry *e = NULL;
  assert_int_equal(kvStore_Get(&e, kv, "shift"), NATS_OK);
  snprintf(out, n, "%s", kvEntry_ValueString(e));
  kvEntry_Destroy(e);
}

/* update_stream, kv_put and exec, then their inverses: the previous config, the previous value,
 * the undo command. --dry-run changes and journals nothing. */
static void other_actions_and_inverses(void **state) {
  (void)state;
  char mark[128];
  snprintf(mark, sizeof mark, "/tmp/gonogo-act-mark-%d", (int)getpid());
  setenv("ACT_MARK", mark, 1);
  unlink(mark);
  actx_init("inverses", 1);
  actx_legacy_create();
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = "ACT_KV";
  kvStore *kv = NULL;
  assert_int_equal(js_CreateKeyValue(&kv, actx_js(), &kc), NATS_OK);
  assert_int_equal(kvStore_PutString(NULL, kv, "shift", "0"), NATS_OK);
  assert_int_equal(RUN("run", "--phase", "1", "--prepare", "--yes"), 0);
  const long long week = 7LL * 86400 * 1000000000LL, day = 86400LL * 1000000000LL;
  assert_int_equal(vendor_max_age(), week);

  int events = actx_journal_count(NULL, NULL);
  assert_int_equal(
      RUN("run", "--phase", "4", "--dry-run", "--override-item", "phase-1-completed=dry", "--by", "tester"),
      0);
  assert_non_null(strstr(actx_output(), "~ update stream ACT_VENDOR"));
  assert_non_null(strstr(actx_output(), "max_age: 7d -> 1d"));
  assert_int_equal(actx_journal_count(NULL, NULL), events);
  assert_int_equal(vendor_max_age(), week);

  assert_int_equal(RUN("run", "--phase", "4", "--yes", "--override-item",
                       "phase-1-completed=phase 1 not needed here", "--by", "tester"),
                   0);
  char v[32];
  kv_value(kv, v, sizeof v);
  assert_string_equal(v, "100");
  assert_int_equal(vendor_max_age(), day);
  assert_int_equal(access(mark, F_OK), 0);

  assert_int_equal(RUN("rollback", "--yes", "--phase", "4", "--reason", "undo the tuning"), 0);
  kv_value(kv, v, sizeof v);
  assert_string_equal(v, "0");
  assert_int_equal(vendor_max_age(), week);
  assert_int_not_equal(access(mark, F_OK), 0);
  kvStore_Destroy(kv);
  unsetenv("ACT_MARK");
  actx_cleanup();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(delete_stream_refuses_messages), cmocka_unit_test(drift_is_reported_field_by_field),
      cmocka_unit_test(concurrent_runs_one_refused), cmocka_unit_test(other_actions_and_inverses),
      cmocka_unit_test(failed_verify_rolls_back)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
