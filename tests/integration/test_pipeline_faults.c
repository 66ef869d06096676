/*
 * Faults on the NATS side. An ack that never comes (something answers on the subject but
 * is not JetStream) is retried as a timeout until the budget is spent, then answered 503
 * with Retry-After. A NATS node killed while clients post continuously (the stream's
 * leader, so an election has to happen): ingest retries through it, every request is
 * answered 202, and every 202 lands in hrv_data exactly once.
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

#include "svc_fixture.h"

#define POSTERS 3

static char core[64], prefix[32], killed[8];
static fx_service ingest_svc, normalize_svc;
static fx_load load;

static int setup(void **state) {
  fx_init();
  snprintf(prefix, sizeof prefix, "flt%d-", (int)getpid());
  fx_name("SVCFLT_CORE", core, sizeof core);
  fx_stream_create(core, (const char *const[]){"core.hrv.>"}, 1);
  fx_consumer_create(core, "hrv", "core.hrv.>");
  char nats[512], bindings[128], pg[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(bindings, sizeof bindings, "NORMALIZE_BINDINGS=%s:hrv", core);
  fx_service_start(
      &ingest_svc, INGEST_BIN, "INGEST_LISTEN",
      (const char *const[]){nats, "INGEST_PUBLISH_BUDGET=20s", "INGEST_PUBLISH_TIMEOUT=1s", NULL});
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats, pg, bindings, NULL});
  return 0;
}

static int teardown(void **state) {
  if (killed[0]) fx_sandbox_try("start-node", killed); /* leave the sandbox whole, also on failure */
  int a = fx_service_stop(&ingest_svc);
  int b = fx_service_stop(&normalize_svc);
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  fx_cleanup();
  return a == 0 && b == 0 ? 0 : -1;
}

static void test_missing_ack_is_retried_then_503(void **state) {
  /* Take the subjects away from the stream and answer on them with a plain subscriber. */
  assert_int_equal(fx_stream_set_subjects(core, (const char *const[]){core}, 1), NATS_OK);
  natsConnection *nc = NULL;
  natsSubscription *sub = NULL;
  assert_int_equal(natsConnection_ConnectTo(&nc, fx_nats_url()), NATS_OK);
  assert_int_equal(natsConnection_SubscribeSync(&sub, nc, "core.hrv.>"), NATS_OK);
  assert_int_equal(natsConnection_Flush(nc), NATS_OK);
  fx_service quick;
  char nats[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  fx_service_start(
      &quick, INGEST_BIN, "INGEST_LISTEN",
      (const char *const[]){nats, "INGEST_PUBLISH_BUDGET=2s", "INGEST_PUBLISH_TIMEOUT=400ms", NULL});
  char url[128], body[256], *resp = NULL;
  snprintf(url, sizeof url, "%s/v1/hrv", quick.base);
  snprintf(body, sizeof body,
           "{\"event_id\":\"%snoack\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_"
           "ms\":30,"
           "\"source\":\"it\"}",
           prefix);
  double t0 = fx_now();
  long status = fx_http("POST", url, "application/json", body, strlen(body), NULL, &resp);
  double took = fx_now() - t0;
  assert_int_equal(status, 503);
  assert_non_null(strstr(resp, "Timeout"));
  free(resp);
  assert_true(took >= 1.5 && took < 5); /* the budget, not one attempt and not forever */
  /* The subscriber saw every attempt, each with the same Nats-Msg-Id. */
  int attempts = 0;
  natsMsg *m = NULL;
  while (natsSubscription_NextMsg(&m, sub, 100) == NATS_OK) {
    const char *id = NULL;
    assert_int_equal(natsMsgHeader_Get(m, "Nats-Msg-Id", &id), NATS_OK);
    char want[64];
    snprintf(want, sizeof want, "%snoack", prefix);
    assert_string_equal(id, want);
    natsMsg_Destroy(m);
    attempts++;
  }
  assert_true(attempts >= 3);
  char *metrics = NULL;
  snprintf(url, sizeof url, "%s/metrics", quick.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &metrics), 200);
  char line[128];
  snprintf(line, sizeof line, "ingest_publish_retries_total{reason=\"timeout\"} %d\n", attempts - 1);
  assert_non_null(strstr(metrics, line));
  free(metrics);
  assert_int_equal(fx_service_stop(&quick), 0);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  assert_int_equal(fx_stream_set_subjects(core, (const char *const[]){"core.hrv.>"}, 1), NATS_OK);
  print_message("no ack: 503 after %.2f s and %d attempts\n", took, attempts);
}

static void test_stream_leader_killed_while_posting(void **state) {
  jsStreamInfo *si = NULL;
  assert_int_equal(js_GetStreamInfo(&si, fx_js(), core, NULL, NULL), NATS_OK);
  if (!si->Cluster || !si->Cluster->Leader) {
    jsStreamInfo_Destroy(si);
    skip(); /* a single server: nothing to elect */
  }
  /* Sandbox nodes are named n1..nN; kill-node takes the number. */
  const char *leader = si->Cluster->Leader;
  snprintf(killed, sizeof killed, "%s", leader[0] == 'n' ? leader + 1 : leader);
  jsStreamInfo_Destroy(si);
  char victim[8];
  snprintf(victim, sizeof victim, "%s", killed);
  killed[0] = '\0';

  fx_load_start(&load, &ingest_svc, prefix, POSTERS, 5000, 0);
  sleep(1);
  long before = atomic_load(&load.accepted);
  fx_sandbox("kill-node", victim);
  snprintf(killed, sizeof killed, "%s", victim);
  sleep(4);
  fx_sandbox("start-node", victim);
  killed[0] = '\0';
  sleep(2);
  fx_load_stop(&load);
  assert_true(before > 0);
  assert_int_equal(atomic_load(&load.refused), 0);
  fx_load_expect_all_stored(&load, 60);
  print_message("leader n%s killed: accepted %ld (%ld before), all stored once\n", victim,
                atomic_load(&load.accepted), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_ack_is_retried_then_503),
      cmocka_unit_test(test_stream_leader_killed_while_posting),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
