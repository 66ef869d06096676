/*
 * ingest-service under slow clients (issue #19 item 8): thousands of connections that
 * send their headers or their body a byte at a time must not stop the service answering.
 * /health answers within a second while they hold connections, a normal POST is answered
 * (202, or a clear 503 when the connections are all busy, never a hang), and the slow
 * connections are closed once the header or body deadline passes, however often they
 * send a byte. A request smuggled behind another (issue #19 item 9) is never published.
 * Everything runs on loopback, bounded in count and time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rawhttp.h"
#include "svc_fixture.h"

/* More slow clients than the cap, and than the 4096 connections of the old fixed limit. */
#define SLOW_CLIENTS 5000
#define MAX_CONNECTIONS 1000
#define DEADLINE 2.0

static char core[64], prefix[32];
static fx_service ingest_svc;
/* The slow clients of the running test, closed by teardown also when it fails. */
static raw_slow slow;

static int setup(void **state) {
  fx_init();
  snprintf(prefix, sizeof prefix, "lim%d-", (int)getpid());
  fx_name("SVCL_CORE", core, sizeof core);
  fx_stream_create(core, (const char *const[]){"core.hrv.>"}, 1);
  char nats[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  fx_service_start(&ingest_svc, INGEST_BIN, "INGEST_LISTEN",
                   (const char *const[]){nats, "INGEST_MAX_CONNECTIONS=1000", "INGEST_HEADER_TIMEOUT=2s",
                                         "INGEST_BODY_TIMEOUT=2s", NULL});
  return 0;
}

static int teardown(void **state) {
  raw_slow_close(&slow);
  int rc = fx_service_stop(&ingest_svc);
  fx_cleanup();
  return rc == 0 ? 0 : -1;
}

/* /health on a fresh connection: 200 within a second. */
static void expect_health(const char *when) {
  double t0 = raw_now();
  int status = raw_get(ingest_svc.port, "/health", 1.0);
  double took = raw_now() - t0;
  print_message("/health %s: %d in %.0f ms\n", when, status, took * 1000);
  if (status != 200 || took >= 1.0) fail_msg("/health %s: status %d after %.2f s", when, status, took);
}

/* A complete, valid POST: 202, or 503 naming the reason; never no answer. */
static void expect_post_answered(int n) {
  char body[256], req[512], resp[2048];
  int bl = snprintf(body, sizeof body,
                    "{\"event_id\":\"%s%d\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\","
                    "\"rmssd_ms\":40,\"source\":\"polar\"}",
                    prefix, n);
  int rl = snprintf(req, sizeof req,
                    "POST /v1/hrv HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                    bl, body);
  double t0 = raw_now();
  int status = raw_exchange(ingest_svc.port, req, (size_t)rl, 3.0, resp, sizeof resp, NULL);
  print_message("POST during the flood: %d in %.0f ms\n", status, (raw_now() - t0) * 1000);
  if (status == 503) {
    assert_non_null(strstr(resp, "too many connections"));
  } else if (status != 202) {
    fail_msg("POST during the flood: status %d (%s)", status, resp);
  }
}

/* Keep every slow client sending a byte every 200 ms for `seconds`. */
static void drip_for(raw_slow *s, double seconds) {
  double until = raw_now() + seconds;
  while (raw_now() < until) {
    raw_slow_drip(s);
    usleep(200 * 1000);
  }
}

static void test_slow_headers_do_not_lock_out_clients(void **state) {
  raw_slow *s = &slow;
  raw_slow_open(s, ingest_svc.port, "/v1/hrv", SLOW_CLIENTS, false, 5.0);
  print_message("slow header clients: %d of %d connected\n", s->opened, SLOW_CLIENTS);
  assert_true(s->opened > MAX_CONNECTIONS);
  raw_slow_drip(s);
  expect_health("with slow header clients");
  expect_post_answered(1);
  drip_for(s, 0.5);
  expect_health("half a second later");
  /* However often they send a byte, the header deadline closes them all. */
  drip_for(s, DEADLINE + 1.5);
  int open = raw_slow_open_count(s);
  print_message("slow header clients still open after the deadline: %d\n", open);
  assert_int_equal(open, 0);
  raw_slow_close(s);
  expect_health("after the flood");
}

static void test_slow_bodies_are_closed_at_the_deadline(void **state) {
  raw_slow *s = &slow;
  raw_slow_open(s, ingest_svc.port, "/v1/hrv", 200, true, 5.0);
  assert_int_equal(s->opened, 200);
  drip_for(s, 0.5);
  assert_int_equal(raw_slow_open_count(s), 200);
  expect_health("with slow bodies");
  expect_post_answered(2);
  drip_for(s, DEADLINE + 1.5);
  assert_int_equal(raw_slow_open_count(s), 0);
  raw_slow_close(s);
}

/* Request smuggling (issue #19 item 9): a request framed both by Content-Length and by
 * chunked is refused and its connection closed, so the request hidden after its chunked
 * body never reaches the handler: no 202, nothing published. */
static void test_smuggled_request_is_not_published(void **state) {
  char hidden[256], req[1024], resp[4096];
  int hl =
      snprintf(hidden, sizeof hidden,
               "{\"event_id\":\"%ssmuggled\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\","
               "\"rmssd_ms\":40,\"source\":\"polar\"}",
               prefix);
  char second[512];
  int sl = snprintf(second, sizeof second,
                    "POST /v1/hrv HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n%s",
                    hl, hidden);
  /* By Content-Length the body is "0\r\n\r\n" plus the second request; by chunked it ends at 0. */
  int rl = snprintf(req, sizeof req,
                    "POST /v1/hrv HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s",
                    5 + sl, second);
  uint64_t before = fx_stream_messages(core);
  bool closed = false;
  int status = raw_exchange(ingest_svc.port, req, (size_t)rl, 3.0, resp, sizeof resp, &closed);
  print_message("smuggling request: %d, closed %d: %s\n", status, closed, resp);
  assert_int_equal(status, 400);
  assert_true(closed);
  assert_null(strstr(resp, "HTTP/1.1 202"));
  usleep(500 * 1000);
  assert_int_equal(fx_stream_messages(core), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_slow_headers_do_not_lock_out_clients),
      cmocka_unit_test(test_slow_bodies_are_closed_at_the_deadline),
      cmocka_unit_test(test_smuggled_request_is_not_published),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
