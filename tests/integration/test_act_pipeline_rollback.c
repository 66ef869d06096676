/*
 * Carry-back through the real services: `gonogo run` moves core.hrv.> to a new stream it
 * creates itself (no --prepare) and creates the new consumer; normalize-service is stopped (the
 * new consumer stalls) while ingest-service accepts 300 HRV readings into the new stream; then
 * `gonogo rollback`. The readings are carried back to the old stream, the new consumer and stream
 * are deleted, and normalize-service, redeployed to the legacy binding only, stores every one of
 * the 300 in hrv_data exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"
#include "svc_fixture.h"

static char old_stream[64], new_stream[64], prefix[32], plan_path[256], journal_path[256];
static fx_service ingest_svc, normalize_svc;
static fx_load load;

static void write_plan(void) {
  snprintf(plan_path, sizeof plan_path, "/tmp/gonogo-prb-%d.yaml", (int)getpid());
  snprintf(journal_path, sizeof journal_path, "/tmp/gonogo-prb-%d.db", (int)getpid());
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fprintf(f,
          "migration: prb-%d\n"
          "connect:\n"
          "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
          "topology:\n"
          "  streams:\n"
          "    %s: { existing: true, subjects: [\"core.hrv.>\"], storage: file }\n"
          "    %s: { subjects: [\"core.hrv.>\"], storage: file, duplicates: 2m }\n"
          "  consumers:\n"
          "    %s/hrv: { filter: \"core.hrv.>\", ack_wait: 30s, max_deliver: 5, max_ack_pending: 1000 }\n"
          "phases:\n"
          "  - id: 1\n"
          "    name: Move core.hrv\n"
          "    go:\n"
          "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
          "    prepare:\n"
          "      - create_stream: %s\n"
          "    actions:\n"
          "      - move_subjects: { subjects: [\"core.hrv.>\"], from: %s, to: %s }\n"
          "      - create_consumer: %s/hrv\n",
          (int)getpid(), old_stream, new_stream, new_stream, new_stream, old_stream, new_stream, new_stream);
  fclose(f);
}

static int gonogo(char **out, const char *verb, const char *a1, const char *a2, const char *a3,
                  const char *a4) {
  return support_gonogo(getenv("GONOGO_BIN"), out, verb, plan_path, "--journal", journal_path, a1, a2, a3, a4,
                        NULL);
}

static void start_normalize(const char *bindings_value) {
  char nats[512], bindings[256], pg[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(bindings, sizeof bindings, "NORMALIZE_BINDINGS=%s", bindings_value);
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats, pg, bindings, "NORMALIZE_RECHECK=500ms", NULL});
}

static int setup(void **state) {
  (void)state;
  fx_init();
  snprintf(prefix, sizeof prefix, "prb%d-", (int)getpid());
  fx_name("PRB_OLD", old_stream, sizeof old_stream);
  fx_name("PRB_NEW", new_stream, sizeof new_stream);
  fx_stream_create(old_stream, (const char *const[]){"core.hrv.>"}, 1);
  fx_consumer_create(old_stream, "hrv", "core.hrv.>");
  write_plan();
  char nats[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  fx_service_start(&ingest_svc, INGEST_BIN, "INGEST_LISTEN",
                   (const char *const[]){nats, "INGEST_PUBLISH_BUDGET=5s", NULL});
  char b[200];
  snprintf(b, sizeof b, "%s:hrv,%s:hrv", new_stream, old_stream);
  start_normalize(b);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (ingest_svc.pid) fx_service_stop(&ingest_svc);
  if (normalize_svc.pid) fx_service_stop(&normalize_svc);
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  fx_stream_delete(new_stream);
  fx_cleanup();
  unlink(plan_path);
  unlink(journal_path);
  char side[300];
  snprintf(side, sizeof side, "%s-wal", journal_path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", journal_path);
  unlink(side);
  snprintf(side, sizeof side, "%s.head", journal_path);
  unlink(side);
  return 0;
}

static bool stream_exists(const char *name) {
  jsStreamInfo *si = NULL;
  bool ok = js_GetStreamInfo(&si, fx_js(), name, NULL, NULL) == NATS_OK;
  jsStreamInfo_Destroy(si);
  return ok;
}

static void test_stalled_service_rows_arrive_once(void **state) {
  (void)state;
  char *out = NULL;
  int rc = gonogo(&out, "run", "--phase", "1", "--yes", NULL);
  print_message("%s", out ? out : "");
  free(out);
  assert_int_equal(rc, 0);
  /* The service on the new consumer stops: what arrives now waits on it. */
  fx_service_stop(&normalize_svc);
  fx_load_start(&load, &ingest_svc, prefix, 3, 0, 100);
  double until = fx_now() + 60;
  while (atomic_load(&load.accepted) + atomic_load(&load.refused) < 300 && fx_now() < until) usleep(50000);
  fx_load_stop(&load);
  assert_int_equal(atomic_load(&load.accepted), 300);
  assert_int_equal(fx_load_rows(&load), 0);
  assert_true(fx_stream_messages(new_stream) >= 300);

  double t0 = fx_now();
  rc = gonogo(&out, "rollback", "--yes", "--phase=1", "--reason", "normalize-service stalled");
  double took = fx_now() - t0;
  print_message("%s", out ? out : "");
  print_message("rollback with 300 readings on the stalled consumer: %.0f ms (process included)\n",
                took * 1000);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "carried back 300 messages"));
  free(out);
  assert_false(stream_exists(new_stream)); /* created by the run; nothing in it unconsumed */
  assert_int_equal(fx_consumer_backlog(new_stream, "hrv"), -1);

  /* Redeployed to the legacy binding: every reading stored, once. */
  char b[100];
  snprintf(b, sizeof b, "%s:hrv", old_stream);
  start_normalize(b);
  fx_load_expect_all_stored(&load, 60);
  assert_int_equal(fx_load_rows(&load), 300);
  rc = gonogo(&out, "status", NULL, NULL, NULL, NULL);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "300 messages carried back"));
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_stalled_service_rows_arrive_once)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
