/*
 * PostgreSQL stopped under load: ingest keeps accepting (JetStream holds the readings),
 * normalize reports the database down on /health, sends nothing to the DLQ and burns no
 * deliveries, and once PostgreSQL is back every accepted reading is in hrv_data exactly
 * once.
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

#define MAX_POSTS 200000

static char core[64], dlq[64], prefix[32];
static fx_service ingest_svc, normalize_svc;
static fx_load load;
static bool pg_stopped;

static int setup(void **state) {
  fx_init();
  snprintf(prefix, sizeof prefix, "pg%d-", (int)getpid());
  fx_name("SVCPG_CORE", core, sizeof core);
  fx_name("SVCPG_DLQ", dlq, sizeof dlq);
  fx_stream_create(core, (const char *const[]){"core.hrv.>"}, 1);
  fx_stream_create(dlq, (const char *const[]){"dlq.>"}, 1);
  fx_consumer_create(core, "hrv", "core.hrv.>");
  char nats[512], bindings[128], pg[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(bindings, sizeof bindings, "NORMALIZE_BINDINGS=%s:hrv", core);
  fx_service_start(&ingest_svc, INGEST_BIN, "INGEST_LISTEN", (const char *const[]){nats, NULL});
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats, pg, bindings, "NORMALIZE_BATCH=100", NULL});
  return 0;
}

static int teardown(void **state) {
  if (pg_stopped) fx_sandbox_try("pg-start", NULL); /* leave the sandbox whole, also on failure */
  int a = fx_service_stop(&ingest_svc);
  int b = fx_service_stop(&normalize_svc);
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  fx_cleanup();
  return a == 0 && b == 0 ? 0 : -1;
}

static bool health_says_db_down(void *arg) {
  char url[128], *body = NULL;
  snprintf(url, sizeof url, "%s/health", normalize_svc.base);
  long st = fx_http("GET", url, NULL, NULL, 0, NULL, &body);
  bool down = st == 503 && strstr(body, "\"db\":\"down\"") != NULL;
  free(body);
  return down;
}

static bool health_ok(void *arg) {
  char url[128];
  snprintf(url, sizeof url, "%s/health", normalize_svc.base);
  return fx_http("GET", url, NULL, NULL, 0, NULL, NULL) == 200;
}

static void test_postgres_outage_under_load(void **state) {
  fx_load_start(&load, &ingest_svc, prefix, 1, 2000, MAX_POSTS);
  sleep(2);
  assert_true(atomic_load(&load.accepted) > 0);
  fx_sandbox("pg-stop", NULL);
  pg_stopped = true;
  bool went_down = fx_wait_until(health_says_db_down, NULL, 15);
  long during_before = atomic_load(&load.accepted);
  sleep(3); /* readings keep arriving while the database is away */
  long during = atomic_load(&load.accepted) - during_before;
  fx_sandbox("pg-start", NULL);
  pg_stopped = false;
  sleep(1);
  fx_load_stop(&load);
  assert_true(went_down);
  assert_true(during > 0); /* ingest kept accepting: JetStream held them */
  assert_int_equal(atomic_load(&load.refused), 0);
  fx_load_expect_all_stored(&load, 60);
  assert_true(fx_wait_until(health_ok, NULL, 15));
  /* No DLQ flood, nothing counted as an error, no delivery burnt. */
  assert_int_equal(fx_stream_messages(dlq), 0);
  char url[128], *metrics = NULL;
  snprintf(url, sizeof url, "%s/metrics", normalize_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &metrics), 200);
  assert_non_null(strstr(metrics, "normalize_hrv_messages_total{result=\"dlq\"} 0\n"));
  assert_non_null(strstr(metrics, "normalize_hrv_messages_total{result=\"error\"} 0\n"));
  assert_non_null(strstr(metrics, "normalize_db_up 1\n"));
  free(metrics);
  jsConsumerInfo *ci = NULL;
  assert_int_equal(js_GetConsumerInfo(&ci, fx_js(), core, "hrv", NULL, NULL), NATS_OK);
  assert_int_equal(ci->NumRedelivered, 0);
  assert_int_equal(ci->NumPending + ci->NumAckPending, 0);
  jsConsumerInfo_Destroy(ci);
  print_message("accepted %ld readings, %ld of them while PostgreSQL was down\n", atomic_load(&load.accepted),
                during);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_postgres_outage_under_load)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
