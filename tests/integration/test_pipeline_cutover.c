/*
 * A subject cutover while clients post continuously: core.hrv.> moves from the old stream
 * to a new one (removed from the old, then added to the new, as `gonogo run` does, with
 * the gap held open for 300 ms instead of a few so that requests certainly fall into it).
 * ingest bridges the gap by retrying "no responders", so every request is answered 202 and
 * every 202 lands in hrv_data exactly once; normalize picks up the binding on the
 * new stream, drains the old one, and lets it go when the old stream is deleted. Then
 * SIGTERM while a request waits for a stream: ingest stops accepting but still answers
 * it (202 once the stream is back) and exits 0.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc_fixture.h"

#define POSTERS 4

static char old_stream[64], new_stream[64], prefix[32];
static fx_service ingest_svc, normalize_svc;
static fx_load load;

static int setup(void **state) {
  fx_init();
  snprintf(prefix, sizeof prefix, "cut%d-", (int)getpid());
  fx_name("SVCCUT_OLD", old_stream, sizeof old_stream);
  fx_name("SVCCUT_NEW", new_stream, sizeof new_stream);
  fx_stream_create(old_stream, (const char *const[]){"core.hrv.>"}, 1);
  /* The new stream exists before the cutover, holding its own name as a placeholder. */
  fx_stream_create(new_stream, (const char *const[]){new_stream}, 1);
  fx_consumer_create(old_stream, "hrv", "core.hrv.>");
  char nats[512], bindings[256], pg[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(bindings, sizeof bindings, "NORMALIZE_BINDINGS=%s:hrv,%s:hrv", new_stream, old_stream);
  fx_service_start(&ingest_svc, INGEST_BIN, "INGEST_LISTEN",
                   (const char *const[]){nats, "INGEST_PUBLISH_BUDGET=5s", NULL});
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats, pg, bindings, "NORMALIZE_RECHECK=500ms", NULL});
  return 0;
}

static int teardown(void **state) {
  int a = ingest_svc.pid ? fx_service_stop(&ingest_svc) : 0; /* the SIGTERM test stops it itself */
  int b = fx_service_stop(&normalize_svc);
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  fx_cleanup();
  return a == 0 && b == 0 ? 0 : -1;
}

static bool binding_is(const char *stream, const char *want) {
  char url[128], *body = NULL, frag[160];
  snprintf(url, sizeof url, "%s/metrics", normalize_svc.base);
  fx_http("GET", url, NULL, NULL, 0, NULL, &body);
  snprintf(frag, sizeof frag, "normalize_bindings{stream=\"%s\",consumer=\"hrv\"} %s\n", stream, want);
  bool ok = body && strstr(body, frag);
  free(body);
  return ok;
}

static bool new_bound(void *arg) {
  return binding_is(new_stream, "1");
}

static bool old_released(void *arg) {
  return binding_is(old_stream, "0");
}

static bool old_drained(void *arg) {
  return fx_consumer_backlog(old_stream, "hrv") == 0;
}

static void test_cutover_while_posting(void **state) {
  fx_load_start(&load, &ingest_svc, prefix, POSTERS, 0, 0);
  sleep(1);
  long before = atomic_load(&load.accepted);
  /* The cutover: two stream updates back to back. */
  double t0 = fx_now();
  natsStatus s1 = fx_stream_set_subjects(old_stream, (const char *const[]){old_stream}, 1);
  /* Hold the gap open longer than a real cutover (a few ms) so that requests certainly
   * arrive while no stream takes the subjects. */
  usleep(300 * 1000);
  natsStatus s2 = fx_stream_set_subjects(new_stream, (const char *const[]){"core.hrv.>"}, 1);
  double gap = fx_now() - t0;
  fx_consumer_create(new_stream, "hrv", "core.hrv.>");
  sleep(2);
  fx_load_stop(&load);
  assert_int_equal(s1, NATS_OK);
  assert_int_equal(s2, NATS_OK);
  assert_true(before > 0);
  assert_true(fx_stream_messages(new_stream) > 0); /* posts after the cutover went to the new stream */
  assert_int_equal(atomic_load(&load.refused), 0); /* the gap was bridged: every request got its 202 */
  assert_true(fx_wait_until(new_bound, NULL, 10));
  assert_true(fx_wait_until(old_drained, NULL, 30));
  fx_load_expect_all_stored(&load, 30);
  /* Exactly once: the ids are the primary key, and both streams together hold each once. */
  assert_int_equal(fx_stream_messages(old_stream) + fx_stream_messages(new_stream),
                   atomic_load(&load.accepted));
  /* Delete the old stream: normalize lets go of that binding and keeps the new one. */
  fx_stream_delete(old_stream);
  assert_true(fx_wait_until(old_released, NULL, 10));
  assert_true(new_bound(NULL));
  char url[128], *metrics = NULL;
  snprintf(url, sizeof url, "%s/metrics", ingest_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &metrics), 200);
  /* The gap was bridged by retries: "no responders" usually; on a loaded machine a publish into
   * the gap can time out instead, which is bridged the same way. */
  const char *retries = strstr(metrics, "ingest_publish_retries_total{reason=\"no_responders\"}");
  assert_non_null(retries);
  double retried = 0;
  for (const char *p = metrics; (p = strstr(p, "ingest_publish_retries_total{reason=\"")) != NULL;) {
    const char *v = strchr(p, '}');
    if (!v) break;
    retried += strtod(v + 1, NULL);
    p = v;
  }
  assert_true(retried > 0);
  print_message("accepted %ld (%ld before the cutover), gap %.1f ms, %.0f retries\n",
                atomic_load(&load.accepted), before, gap * 1000, retried);
  free(metrics);
}

static void *one_post(void *arg) {
  long *status = arg;
  char url[128], body[256];
  snprintf(url, sizeof url, "%s/v1/hrv", ingest_svc.base);
  snprintf(body, sizeof body,
           "{\"event_id\":\"%ssigterm\",\"athlete_id\":\"ath1\",\"measured_at\":\"2026-11-28T07:00:00Z\","
           "\"rmssd_ms\":33,\"source\":\"it\"}",
           prefix);
  *status = fx_http("POST", url, "application/json", body, strlen(body), NULL, NULL);
  return NULL;
}

static void test_sigterm_answers_requests_in_flight(void **state) {
  /* No stream takes core.hrv.> for a while: the request waits in ingest's retries. */
  assert_int_equal(fx_stream_set_subjects(new_stream, (const char *const[]){new_stream}, 1), NATS_OK);
  long status = 0;
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, one_post, &status), 0);
  usleep(300 * 1000);
  kill(ingest_svc.pid, SIGTERM);
  usleep(300 * 1000);
  long early = status;
  /* The stream comes back within the budget: the request in flight is published and answered. */
  assert_int_equal(fx_stream_set_subjects(new_stream, (const char *const[]){"core.hrv.>"}, 1), NATS_OK);
  pthread_join(t, NULL);
  assert_int_equal(early, 0);
  assert_int_equal(status, 202);
  assert_int_equal(fx_service_stop(&ingest_svc), 0); /* and it exits 0 */
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM hrv_data WHERE msg_id = '%ssigterm'", prefix);
  double until = fx_now() + 20;
  while (fx_pg_scalar("%s", sql) != 1 && fx_now() < until) usleep(50 * 1000);
  assert_int_equal(fx_pg_scalar("%s", sql), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cutover_while_posting),
                                     cmocka_unit_test(test_sigterm_answers_requests_in_flight)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
