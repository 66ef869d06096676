/*
 * gonogo check as an operator meets it, against the sandbox `make test` brings up:
 * a JetStream stream and consumer made here, PostgreSQL, an HTTP service served by this
 * test (health and a metrics page), Alertmanager with an alert posted here, and a
 * Prometheus that never answers. Each scenario asserts the decision, the exit code and
 * the evidence text an operator would read.
 */
#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/httpd.h"
#include "base/spawn.h"
#include "journal/journal.h"
#include "support.h"

static const char *gonogo, *sandbox_dir;
static char dir[256], plan_path[300], journal_file[300];
static gg_httpd *svc;
static volatile int svc_health_status = 200;
static char target_url[64], blackhole_url[64];
static int blackhole_fd = -1;
static natsConnection *nc;
static char stream[64];  /* unique per run */
static char subject[64]; /* stream.> */
static char publish_to[80];
static char alert_name[64];
static jsCtx *js;

/* ---- the service this test serves ---- */

static void on_health(gg_httpd_req *req, void *closure) {
  (void)closure;
  int st = svc_health_status;
  gg_httpd_respond(req, (unsigned)st, "text/plain", st == 200 ? "ok\n" : "broken\n", st == 200 ? 3 : 7, NULL);
}

static void on_metrics(gg_httpd_req *req, void *closure) {
  (void)closure;
  const char *page =
      "# HELP svc_queue_depth Items waiting.\n# TYPE svc_queue_depth gauge\nsvc_queue_depth 5\n"
      "# TYPE svc_requests_total counter\nsvc_requests_total{code=\"200\"} 1027\n";
  gg_httpd_respond(req, 200, "text/plain; version=0.0.4", page, strlen(page), NULL);
}

/* ---- running gonogo ---- */

typedef support_run_result run_result;

/* The output of the latest run; freed by the next run or the teardown, so a failed
 * assertion leaks nothing. */
static char *last_out;

static run_result run_gonogo(const char *const *args) {
  free(last_out);
  last_out = NULL;
  const char *argv[24];
  int n = 0;
  argv[n++] = gonogo;
  for (int i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
  argv[n] = NULL;
  char env_target[128], env_prom[128], env_stream[128];
  snprintf(env_target, sizeof env_target, "CHECK_TARGET=%s", target_url);
  snprintf(env_prom, sizeof env_prom, "CHECK_PROMETHEUS=%s", blackhole_url);
  snprintf(env_stream, sizeof env_stream, "CHECK_STREAM=%s", stream);
  char env_alert[128];
  snprintf(env_alert, sizeof env_alert, "CHECK_ALERT=%s", alert_name);
  const char *env[] = {env_target, env_prom, env_stream, env_alert, "NO_COLOR=1", NULL};
  gg_spawn_opts o = {.timeout = 60, .max_output = 1 << 18, .env = env};
  run_result rr = support_run(argv, &o);
  last_out = rr.out;
  return rr;
}

static run_result check(const char *phase, const char *at) {
  /* --verbose: the tests read rows that passed and their evidence, not only the summary */
  const char *args[] = {"check",      plan_path,   "--phase",          phase, "--journal",
                        journal_file, "--verbose", at ? "--at" : NULL, at,    NULL};
  run_result r = run_gonogo(args);
  print_message("$ gonogo check --phase %s%s%s → %d (%.1f s)\n%s\n", phase, at ? " --at " : "", at ? at : "",
                r.code, r.took, r.out);
  return r;
}

/* check without --verbose: the one-screen summary and the decision. */
static run_result check_brief(const char *phase, const char *at) {
  const char *args[] = {"check", plan_path, "--phase", phase, "--journal", journal_file, "--at", at, NULL};
  run_result r = run_gonogo(args);
  print_message("$ gonogo check --phase %s --at %s → %d\n%s\n", phase, at, r.code, r.out);
  return r;
}

/* gonogo sandbox ACTION [NODE] on the shared sandbox; keeps last_out (a check's output
 * may still be in use). */
static void sandbox(const char *action, const char *node) {
  const char *argv[10];
  int n = 0;
  argv[n++] = gonogo;
  argv[n++] = "sandbox";
  argv[n++] = action;
  if (node) argv[n++] = node;
  argv[n++] = "--quiet";
  argv[n++] = "--dir";
  argv[n++] = sandbox_dir;
  argv[n] = NULL;
  gg_spawn_opts o = {.timeout = 90, .max_output = 1 << 16};
  run_result r = support_run(argv, &o);
  if (r.code != 0) print_message("sandbox %s: %s\n", action, r.out);
  free(r.out);
  assert_int_equal(r.code, 0);
}

static void assert_contains(const char *hay, const char *needle) {
  if (!strstr(hay, needle)) print_message("expected to find: %s\n", needle);
  assert_non_null(strstr(hay, needle));
}

/* A weekday that is no holiday, and a Saturday, in the past so soak math is irrelevant. */
#define THURSDAY "2026-11-26T12:00:00Z"
#define SATURDAY "2026-11-28T12:00:00Z"
#define CHRISTMAS "2026-12-25T10:00:00Z"

/* ---- scenarios, in order: they share the sandbox and the journal ---- */

static void test_missing_humans_defer(void **state) {
  (void)state;
  run_result r = check("1", THURSDAY);
  assert_int_equal(r.code, 1);
  assert_contains(r.out, "DECISION: DEFER");
  assert_contains(r.out, "approval by platform-lead");
  assert_contains(r.out, "attestation 'on-call-available'");
}

static void test_everything_healthy_go(void **state) {
  (void)state;
  const char *attest[] = {"attest", plan_path, "--phase",   "1",          "--item", "on-call-available",
                          "--by",   "alice",   "--journal", journal_file, NULL};
  run_result r = run_gonogo(attest);
  assert_int_equal(r.code, 0);
  const char *approve[] = {"approve", plan_path, "--phase",   "1",          "--role", "platform-lead",
                           "--by",    "bob",     "--journal", journal_file, NULL};
  r = run_gonogo(approve);
  assert_int_equal(r.code, 0);
  r = check("1", THURSDAY);
  assert_int_equal(r.code, 0);
  assert_contains(r.out, "DECISION: GO");
  char want[128];
  snprintf(want, sizeof want, "%s/worker 0", stream); /* the observed pending count */
  assert_contains(r.out, want);
}

static void test_weekend_and_holiday_defer_with_earliest(void **state) {
  (void)state;
  run_result r = check("1", SATURDAY);
  assert_int_equal(r.code, 1);
  assert_contains(r.out, "DECISION: DEFER");
  assert_contains(r.out, "Weekend or holiday");
  assert_contains(r.out, "earliest time the calendar and soak waits can pass: 2026-11-30T00:00:00");
  r = check("1", CHRISTMAS); /* Friday the 25th, then a weekend */
  assert_int_equal(r.code, 1);
  assert_contains(r.out, "earliest time the calendar and soak waits can pass: 2026-12-28T00:00:00");
}

static void test_pending_messages_nogo(void **state) {
  (void)state;
  jsErrCode jerr = 0;
  for (int i = 0; i < 7; i++)
    assert_int_equal(js_Publish(NULL, js, publish_to, "x", 1, NULL, &jerr), NATS_OK);
  run_result r = check("1", THURSDAY);
  assert_int_equal(r.code, 2);
  assert_contains(r.out, "DECISION: NO-GO");
  char want[128];
  snprintf(want, sizeof want, "%s/worker: 7, want == 0", stream);
  assert_contains(r.out, want);
  assert_int_equal(js_PurgeStream(js, stream, NULL, &jerr), NATS_OK);
}

static void test_target_500_fails(void **state) {
  (void)state;
  svc_health_status = 500;
  run_result r = check("1", THURSDAY);
  svc_health_status = 200;
  assert_int_equal(r.code, 2);
  assert_contains(r.out, "FAIL   Service healthy");
  assert_contains(r.out, "svc: 500, want == 200");
  /* Without --verbose: the counts, the row that failed with why, and no row that passed. */
  svc_health_status = 500;
  r = check_brief("1", THURSDAY);
  svc_health_status = 200;
  assert_int_equal(r.code, 2);
  const char *summary = strstr(r.out, "SUMMARY  ");
  assert_non_null(summary);
  assert_non_null(strstr(summary, " · 1 FAIL · 0 WAIT · 0 ERROR  of "));
  assert_contains(summary, "FAIL   Service healthy (go)");
  assert_contains(summary, "svc: 500, want == 200");
  assert_contains(summary, "(every row with its evidence: --verbose)");
  assert_null(strstr(r.out, "PASS   "));
  assert_null(strstr(r.out, "\033[")); /* piped: no colour */
  assert_true(summary < strstr(r.out, "DECISION: NO-GO"));
}

/* Last: nats-server 2.9 can leave a restarted node reporting an R3 consumer "not current"
 * for good when that consumer existed while it was down, so the stream goes first and the
 * phase checked here observes the servers only. */
static void test_node_killed_nogo(void **state) {
  (void)state;
  jsErrCode jerr = 0;
  assert_int_equal(js_DeleteStream(js, stream, NULL, &jerr), NATS_OK);
  stream[0] = '\0';
  run_result r = check("4", THURSDAY);
  assert_int_equal(r.code, 0);
  sandbox("kill-node", "3");
  r = check("4", THURSDAY);
  sandbox("start-node", "3");
  assert_int_equal(r.code, 2);
  assert_contains(r.out, "FAIL   All NATS nodes up");
  assert_contains(r.out, ": 0, want == 1"); /* the dead server's member */
  assert_true(r.took < 15);                 /* decided within the probe timeout, not hung */
  r = check("4", THURSDAY);
  assert_int_equal(r.code, 0); /* back */
}

static void test_postgres_stopped_error_nogo(void **state) {
  (void)state;
  sandbox("pg-stop", NULL);
  run_result r = check("1", THURSDAY);
  sandbox("pg-start", NULL);
  assert_int_equal(r.code, 2);
  assert_contains(r.out, "ERROR  Database responsive");
}

static void test_unreachable_prometheus_errors_without_hanging(void **state) {
  (void)state;
  run_result r = check("2", THURSDAY);
  assert_int_equal(r.code, 2);
  assert_contains(r.out, "ERROR  Prometheus agrees");
  assert_contains(r.out, blackhole_url + strlen("http://"));
  assert_true(r.took < 15); /* the 2 s timeout, not a hang */
}

static void test_firing_alert_fails(void **state) {
  (void)state;
  const char *am = getenv("ALERTMANAGER_URL");
  if (!am || !*am) {
    print_message("ALERTMANAGER_URL not set: prometheus-alertmanager is not installed\n");
    skip();
  }
  run_result r = check("3", THURSDAY);
  assert_int_equal(r.code, 0);
  char url[256];
  snprintf(url, sizeof url, "%s/api/v2/alerts", am);
  /* A name of this run's own, ending by itself in two minutes: Alertmanager keeps alerts. */
  char ends[40], alert[256];
  gg_time_format(gg_clock_now() + 120, ends, sizeof ends);
  snprintf(alert, sizeof alert,
           "[{\"labels\":{\"alertname\":\"%s\",\"severity\":\"critical\"},\"endsAt\":\"%s\"}]", alert_name,
           ends);
  gg_http_response resp = {0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_http_post(url, "application/json", alert, strlen(alert), NULL, &resp, &err), GG_OK);
  assert_int_equal(resp.status, 200);
  gg_http_response_release(&resp);
  r = check("3", THURSDAY);
  assert_int_equal(r.code, 2);
  assert_contains(r.out, "FAIL   No critical alerts firing");
}

static run_result check_json(const char *phase, const char *jfile) {
  const char *args[] = {"check", plan_path, "--phase", phase, "--journal", jfile, "--json", NULL};
  run_result r = run_gonogo(args);
  print_message("$ gonogo check --phase %s --json → %d (%.1f s)\n", phase, r.code, r.took);
  return r;
}

/* rate() and increase() read the journal's samples when a watcher has been writing them, and
 * say so: no fresh pair is taken. With an empty journal they take one, and say that. */
static void test_history_from_journal_samples(void **state) {
  (void)state;
  char empty[320];
  snprintf(empty, sizeof empty, "%s/history-empty.db", dir);
  run_result r = check_json("5", empty);
  assert_int_equal(r.code, 0);
  assert_contains(r.out, "[2m]: 3s of fresh samples, not 2m");

  /* What `gonogo watch` journals: every 5 s over the last two minutes. */
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_open(journal_file, JOURNAL_OPEN_CREATE, &j, &err), GG_OK);
  char stream_labels[128];
  snprintf(stream_labels, sizeof stream_labels, "{\"stream\":\"%s\"}", stream);
  double now = gg_clock_now();
  journal_sample s[48];
  for (int i = 0; i < 24; i++) {
    double t = now - 115 + 5.0 * i;
    s[2 * i] =
        (journal_sample){.name = "nats.stream.last_seq", .labels = stream_labels, .time = t, .value = i};
    s[2 * i + 1] = (journal_sample){.name = "svc_requests_total",
                                    .labels = "{\"code\":\"200\",\"target\":\"svc\"}",
                                    .time = t,
                                    .value = 1000 + i};
  }
  assert_int_equal(journal_samples_add(j, s, 48, &err), GG_OK);
  journal_close(j);
  r = check_json("5", journal_file);
  assert_int_equal(r.code, 0);
  assert_contains(r.out, "[2m]: journal samples, 24 points over 1m55s");
  assert_null(strstr(r.out, "fresh samples"));
}

static void test_check_is_journaled(void **state) {
  (void)state;
  const char *args[] = {"journal", "log", plan_path, "--journal", journal_file, "--kind", "decision", NULL};
  run_result r = run_gonogo(args);
  assert_int_equal(r.code, 0);
  assert_contains(r.out, "NO-GO");
  assert_contains(r.out, "GO");
  const char *verify[] = {"journal", "verify", plan_path, "--journal", journal_file, NULL};
  r = run_gonogo(verify);
  assert_int_equal(r.code, 0);
}

/* ---- fixture ---- */

static const char *plan_text =
    "migration: check-integration\n"
    "connect:\n"
    "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
    "  databases: { main: \"${PG_URL}\" }\n"
    "  targets:\n"
    "    svc: { health: \"${CHECK_TARGET}/health\", metrics: \"${CHECK_TARGET}/metrics\" }\n"
    "  prometheus: \"${CHECK_PROMETHEUS}\"\n"
    "  alertmanager: \"${ALERTMANAGER_URL:-}\"\n"
    "calendar: { timezone: UTC, holidays: [2026-12-25], off_hours: \"Sat-Sun\" }\n"
    "roles:\n"
    "  - { id: platform-lead, title: Platform Team Lead }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: Check scenario\n"
    "    go:\n"
    "      - { name: All NATS nodes up, expect: nats.server.up == 1 }\n"
    "      - name: Worker drained\n"
    "        expect: 'nats.consumer.num_pending{stream=\"${CHECK_STREAM}\", consumer=\"worker\"} == 0'\n"
    "      - { name: Database responsive, expect: 'pg.ping{db=\"main\"} < 1s' }\n"
    "      - { name: Service healthy, expect: 'http.status{target=\"svc\"} == 200' }\n"
    "      - { name: Queue depth low, expect: 'svc_queue_depth{target=\"svc\"} < 100' }\n"
    "      - { name: On-call available, attest: on-call-available, valid_for: 4h }\n"
    "    no_go:\n"
    "      - { name: Weekend or holiday, when: holiday() or weekday() >= 6, outcome: defer }\n"
    "    approvals: [platform-lead]\n"
    "  - id: 2\n"
    "    name: Prometheus unreachable\n"
    "    go:\n"
    "      - { name: Prometheus agrees, expect: 'promql(\"up\") == 1', timeout: 2s }\n"
    "  - id: 3\n"
    "    name: Alerts\n"
    "    go:\n"
    "      - name: No critical alerts firing\n"
    "        expect: 'sum(alerts.firing{alertname=\"${CHECK_ALERT}\"}) == 0'\n"
    "  - id: 4\n"
    "    name: Servers\n"
    "    go:\n"
    "      - { name: All NATS nodes up, expect: nats.server.up == 1 }\n"
    "  - id: 5\n"
    "    name: History\n"
    "    go:\n"
    "      - name: Stream published to\n"
    "        expect: 'rate(nats.stream.last_seq{stream=\"${CHECK_STREAM}\"}, 2m) >= 0'\n"
    "      - { name: Requests served, expect: 'increase(svc_requests_total{target=\"svc\"}, 2m) >= 0' }\n";

static int setup(void **state) {
  (void)state;
  gonogo = getenv("GONOGO_BIN");
  sandbox_dir = getenv("GONOGO_SANDBOX_DIR");
  const char *nats_url = getenv("NATS_URL");
  if (!gonogo || !sandbox_dir || !nats_url || !getenv("PG_URL")) {
    fprintf(stderr,
            "test_check needs the sandbox env (NATS_URL, PG_URL, GONOGO_SANDBOX_DIR) and GONOGO_BIN\n");
    return -1;
  }
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_global_init(&err) != GG_OK) return -1;
  snprintf(dir, sizeof dir, "/tmp/gonogo-check-test-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_file, sizeof journal_file, "%s/journal.db", dir);
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(plan_text, f);
  fclose(f);

  gg_httpd_route routes[] = {{"GET", "/health", on_health, NULL, 0},
                             {"GET", "/metrics", on_metrics, NULL, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .threads = 2, .routes = routes, .nroutes = 2};
  if (gg_httpd_start(&ho, &svc, &err) != GG_OK) {
    fprintf(stderr, "httpd: %s\n", gg_error_message(&err));
    return -1;
  }
  snprintf(target_url, sizeof target_url, "http://127.0.0.1:%u", gg_httpd_port(svc));

  /* A "Prometheus" that accepts connections and never answers. */
  blackhole_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (bind(blackhole_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(blackhole_fd, 16) != 0 ||
      getsockname(blackhole_fd, (struct sockaddr *)&sa, &len) != 0)
    return -1;
  snprintf(blackhole_url, sizeof blackhole_url, "http://127.0.0.1:%u", ntohs(sa.sin_port));

  /* NATS_URL lists every node, comma-separated. */
  if (support_nats_connect(nats_url, &nc, &js) != 0) return -1;
  jsErrCode jerr = 0;
  snprintf(stream, sizeof stream, "CHECK_%d", (int)getpid());
  snprintf(alert_name, sizeof alert_name, "GonogoCheckTest%d", (int)getpid());
  snprintf(subject, sizeof subject, "check%d.>", (int)getpid());
  snprintf(publish_to, sizeof publish_to, "check%d.hrv", (int)getpid());
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  const char *subjects[] = {subject};
  sc.Name = stream;
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Replicas = 3;
  jsStreamInfo *si = NULL;
  if (js_AddStream(&si, js, &sc, NULL, &jerr) != NATS_OK) {
    fprintf(stderr, "add stream %s: %s (%d)\n", stream, nats_GetLastError(NULL), (int)jerr);
    return -1;
  }
  jsStreamInfo_Destroy(si);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = "worker";
  cc.AckPolicy = js_AckExplicit;
  cc.FilterSubject = subject;
  jsConsumerInfo *ci = NULL;
  if (js_AddConsumer(&ci, js, stream, &cc, NULL, &jerr) != NATS_OK) {
    fprintf(stderr, "add consumer worker: %s (%d)\n", nats_GetLastError(NULL), (int)jerr);
    return -1;
  }
  jsConsumerInfo_Destroy(ci);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  jsErrCode jerr = 0;
  if (js && stream[0]) js_DeleteStream(js, stream, NULL, &jerr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_Close();
  gg_httpd_stop(svc);
  free(last_out);
  if (blackhole_fd >= 0) close(blackhole_fd);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_humans_defer),
      cmocka_unit_test(test_everything_healthy_go),
      cmocka_unit_test(test_weekend_and_holiday_defer_with_earliest),
      cmocka_unit_test(test_pending_messages_nogo),
      cmocka_unit_test(test_target_500_fails),
      cmocka_unit_test(test_postgres_stopped_error_nogo),
      cmocka_unit_test(test_unreachable_prometheus_errors_without_hanging),
      cmocka_unit_test(test_firing_alert_fails),
      cmocka_unit_test(test_history_from_journal_samples),
      cmocka_unit_test(test_check_is_journaled),
      cmocka_unit_test(test_node_killed_nogo),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
