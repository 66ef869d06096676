/*
 * The pipeline end to end on the sandbox: HTTP → ingest-service → JetStream →
 * normalize-service → PostgreSQL, with duplicates, every bad-input class, a poison
 * message, a row the database refuses, and bad configuration. Both services run as child
 * processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/spawn.h"
#include "ingest/ingest.h"
#include "svc_fixture.h"

static const char secret[] = "integration-secret";
static char core[64], vendor[64], dlq[64], secret_file[128], prefix[32];
static fx_service ingest_svc, normalize_svc;

static long post(const char *path, const char *body, const char *ctype, bool sign, char **out) {
  char url[256], sig[128], hdr[160];
  snprintf(url, sizeof url, "%s%s", ingest_svc.base, path);
  const char *headers[2] = {NULL, NULL};
  if (sign) {
    ingest_signature_format((const unsigned char *)secret, strlen(secret), body, strlen(body), sig,
                            sizeof sig);
    snprintf(hdr, sizeof hdr, "X-Signature: %s", sig);
    headers[0] = hdr;
  }
  return fx_http("POST", url, ctype, body, strlen(body), headers, out);
}

static long post_hrv(const char *id, const char *athlete, double rmssd, char **out) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"event_id\":\"%s\",\"athlete_id\":\"%s\",\"measured_at\":\"2026-11-28T07:00:00.250Z\","
           "\"rmssd_ms\":%g,\"source\":\"polar\",\"extra\":{\"ignored\":true}}",
           id, athlete, rmssd);
  return post("/v1/hrv", body, "application/json", true, out);
}

/* The sandbox's servers need no credentials and ignore those a client sends, so the services
 * get NATS_URL with some in every entry: ingest user:password@, normalize token@. Neither may
 * appear in their logs. */
static char nats_password[64], nats_token[64];

/* "nats://a,nats://b" with "cred@" after every "://"; into out (n bytes). */
static void with_credentials(const char *urls, const char *cred, char *out, size_t n) {
  size_t w = 0;
  out[0] = '\0';
  for (const char *p = urls; *p && w + 1 < n; p++) {
    out[w++] = *p;
    out[w] = '\0';
    if (w >= 3 && strncmp(out + w - 3, "://", 3) == 0) {
      int k = snprintf(out + w, n - w, "%s@", cred);
      if (k > 0) w += (size_t)k < n - w ? (size_t)k : n - w - 1;
    }
  }
}

static int setup(void **state) {
  fx_init();
  snprintf(prefix, sizeof prefix, "it%d-", (int)getpid());
  fx_name("SVCT_CORE", core, sizeof core);
  fx_name("SVCT_VENDOR", vendor, sizeof vendor);
  fx_name("SVCT_DLQ", dlq, sizeof dlq);
  fx_stream_create(core, (const char *const[]){"core.hrv.>"}, 1);
  fx_stream_create(vendor, (const char *const[]){"vendor.oura.>"}, 1);
  fx_stream_create(dlq, (const char *const[]){"dlq.>"}, 1);
  fx_consumer_create(core, "hrv", "core.hrv.>");
  fx_consumer_create(vendor, "oura", "vendor.oura.>");
  snprintf(secret_file, sizeof secret_file, "/tmp/svct-secret-%d", (int)getpid());
  FILE *f = fopen(secret_file, "w");
  assert_non_null(f);
  fprintf(f, "%s\n", secret);
  fclose(f);

  char nats[1024], nats_tok[1024], creds[128], secret_env[160], bindings[256], pg[512];
  snprintf(nats_password, sizeof nats_password, "pw-%d-leak", (int)getpid());
  snprintf(nats_token, sizeof nats_token, "tok-%d-leak", (int)getpid());
  snprintf(creds, sizeof creds, "ingest:%s", nats_password);
  memcpy(nats, "NATS_URL=", 10);
  with_credentials(fx_nats_url(), creds, nats + 9, sizeof nats - 9);
  memcpy(nats_tok, "NATS_URL=", 10);
  with_credentials(fx_nats_url(), nats_token, nats_tok + 9, sizeof nats_tok - 9);
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(secret_env, sizeof secret_env, "INGEST_HMAC_SECRET_FILE=%s", secret_file);
  snprintf(bindings, sizeof bindings, "NORMALIZE_BINDINGS=%s:hrv,%s:oura", core, vendor);
  fx_service_start(
      &ingest_svc, INGEST_BIN, "INGEST_LISTEN",
      (const char *const[]){nats, secret_env, "INGEST_MAX_BODY=4KiB", "INGEST_PUBLISH_BUDGET=2s", NULL});
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats_tok, pg, bindings, "NORMALIZE_RECHECK=500ms", NULL});
  return 0;
}

static int teardown(void **state) {
  int a = fx_service_stop(&ingest_svc);
  int b = fx_service_stop(&normalize_svc);
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  unlink(secret_file);
  fx_cleanup();
  /* SIGTERM must end both with status 0. */
  return a == 0 && b == 0 ? 0 : -1;
}

typedef struct {
  const char *sql;
  long long want;
} pg_wait;

static bool pg_equals(void *arg) {
  pg_wait *w = arg;
  return fx_pg_scalar("%s", w->sql) == w->want;
}

static void wait_rows(const char *where, long long want) {
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM hrv_data WHERE %s", where);
  pg_wait w = {sql, want};
  if (!fx_wait_until(pg_equals, &w, 20))
    fail_msg("rows where %s: have %lld, want %lld", where, fx_pg_scalar("%s", sql), want);
}

static void test_hrv_reading_becomes_a_row(void **state) {
  char id[64], *body = NULL;
  snprintf(id, sizeof id, "%sone", prefix);
  assert_int_equal(post_hrv(id, "ath1", 42.5, &body), 202);
  assert_non_null(strstr(body, core));
  /* The 202 names the stream sequence that the row records. */
  const char *seqp = strstr(body, "\"seq\":");
  assert_non_null(seqp);
  long long seq = strtoll(seqp + 6, NULL, 10);
  free(body);
  char where[512];
  snprintf(where, sizeof where,
           "msg_id = '%s' AND athlete_id = 'ath1' AND rmssd_ms = 42.5 AND source = 'polar' AND stream = '%s'"
           " AND stream_seq = %lld AND measured_at = '2026-11-28T07:00:00.250Z'",
           id, core, seq);
  wait_rows(where, 1);
}

static void test_oura_document_expands_to_rows(void **state) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"event_id\":\"%soura1\",\"event_type\":\"sleep\",\"athlete_id\":\"ath2\","
           "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[40,null,42.5,null]}}",
           prefix);
  char *resp = NULL;
  assert_int_equal(post("/webhooks/oura", body, "application/json; charset=utf-8", true, &resp), 202);
  assert_non_null(strstr(resp, vendor));
  free(resp);
  char where[512];
  snprintf(where, sizeof where, "msg_id LIKE '%soura1:%%' AND source = 'oura' AND athlete_id = 'ath2'",
           prefix);
  wait_rows(where, 2);
  snprintf(where, sizeof where,
           "msg_id = '%soura1:0' AND measured_at = '2026-11-28T00:00:00Z' AND rmssd_ms = 40", prefix);
  wait_rows(where, 1);
  snprintf(where, sizeof where,
           "msg_id = '%soura1:2' AND measured_at = '2026-11-28T00:10:00Z' AND rmssd_ms = 42.5", prefix);
  wait_rows(where, 1);
}

static void test_same_event_twice_is_one_row(void **state) {
  char id[64], *b1 = NULL, *b2 = NULL;
  snprintf(id, sizeof id, "%stwice", prefix);
  uint64_t before = fx_stream_messages(core);
  assert_int_equal(post_hrv(id, "ath3", 50, &b1), 202);
  assert_int_equal(post_hrv(id, "ath3", 50, &b2), 202);
  assert_non_null(strstr(b1, "\"duplicate\":false"));
  assert_non_null(strstr(b2, "\"duplicate\":true"));
  free(b1);
  free(b2);
  assert_int_equal(fx_stream_messages(core), before + 1);
  char where[512];
  snprintf(where, sizeof where, "msg_id = '%s'", id);
  wait_rows(where, 1);
}

/* Copy a template, replacing its one "%s" by the prefix. */
static void subst(char *out, size_t n, const char *tmpl) {
  const char *at = strstr(tmpl, "%s");
  if (!at) {
    snprintf(out, n, "%s", tmpl);
    return;
  }
  snprintf(out, n, "%.*s%s%s", (int)(at - tmpl), tmpl, prefix, at + 2);
}

typedef struct {
  const char *name;
  const char *path;
  const char *ctype;
  const char *body; /* %s is replaced by the prefix */
  bool sign;
  long status;
  const char *expect; /* a fragment of the response body */
} bad_case;

static void test_bad_input_is_refused_and_not_published(void **state) {
  static const char ok_hrv[] =
      "{\"event_id\":\"%sbad\",\"athlete_id\":\"a\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":40,"
      "\"source\":\"s\"}";
  static const bad_case cases[] = {
      {"not json", "/v1/hrv", "application/json", "{\"event_id\":", true, 400, "\"invalid json\""},
      {"missing event_id", "/v1/hrv", "application/json",
       "{\"athlete_id\":\"a\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":40,\"source\":\"s\"}",
       true, 400, "\"field\":\"event_id\",\"problem\":\"is required\""},
      {"athlete with a dot", "/v1/hrv", "application/json",
       "{\"event_id\":\"%sx\",\"athlete_id\":\"a.b\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":"
       "40,"
       "\"source\":\"s\"}",
       true, 400, "\"field\":\"athlete_id\""},
      {"zero rmssd", "/v1/hrv", "application/json",
       "{\"event_id\":\"%sx\",\"athlete_id\":\"a\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":0,"
       "\"source\":\"s\"}",
       true, 400, "\"field\":\"rmssd_ms\",\"problem\":\"must be > 0\""},
      {"huge rmssd", "/v1/hrv", "application/json",
       "{\"event_id\":\"%sx\",\"athlete_id\":\"a\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":"
       "1e300,"
       "\"source\":\"s\"}",
       true, 400, "\"field\":\"rmssd_ms\""},
      {"bad time", "/v1/hrv", "application/json",
       "{\"event_id\":\"%sx\",\"athlete_id\":\"a\",\"measured_at\":\"yesterday\",\"rmssd_ms\":40,\"source\":"
       "\"s\"}",
       true, 400, "\"field\":\"measured_at\""},
      {"oura bad item", "/webhooks/oura", "application/json",
       "{\"event_id\":\"%so\",\"event_type\":\"sleep\",\"athlete_id\":\"a\",\"hrv\":{\"interval\":300,"
       "\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[1,-2]}}",
       true, 400, "\"field\":\"hrv.items[1]\""},
      {"wrong content type", "/v1/hrv", "text/plain", ok_hrv, true, 415, "Content-Type"},
      {"no content type", "/v1/hrv", NULL, ok_hrv, true, 415, "Content-Type"},
      {"missing signature", "/v1/hrv", "application/json", ok_hrv, false, 401, "X-Signature"},
      {"unknown path", "/v1/other", "application/json", ok_hrv, true, 404, "not found"},
  };
  uint64_t core_before = fx_stream_messages(core), vendor_before = fx_stream_messages(vendor);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bad_case *c = &cases[i];
    char body[1024], *resp = NULL;
    subst(body, sizeof body, c->body);
    long status = post(c->path, body, c->ctype, c->sign, &resp);
    if (status != c->status || !strstr(resp, c->expect))
      fail_msg("case '%s': got %ld %s, want %ld with '%s'", c->name, status, resp, c->status, c->expect);
    free(resp);
  }
  /* A bad signature (right length, wrong key) is refused like a missing one. */
  char url[256], body[512], sig[128], hdr[160], *resp = NULL;
  snprintf(url, sizeof url, "%s/v1/hrv", ingest_svc.base);
  subst(body, sizeof body, ok_hrv);
  ingest_signature_format((const unsigned char *)"other", 5, body, strlen(body), sig, sizeof sig);
  snprintf(hdr, sizeof hdr, "X-Signature: %s", sig);
  assert_int_equal(
      fx_http("POST", url, "application/json", body, strlen(body), (const char *const[]){hdr, NULL}, NULL),
      401);
  /* GET on a POST route: 405. */
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, NULL), 405);
  /* Over INGEST_MAX_BODY (4 KiB): 413. */
  size_t big_len = 8192;
  char *big = malloc(big_len + 1);
  assert_non_null(big);
  memset(big, ' ', big_len);
  big[0] = '{';
  big[big_len - 1] = '}';
  big[big_len] = '\0';
  assert_int_equal(fx_http("POST", url, "application/json", big, big_len, NULL, &resp), 413);
  free(resp);
  free(big);
  assert_int_equal(fx_stream_messages(core), core_before);
  assert_int_equal(fx_stream_messages(vendor), vendor_before);
}

static bool dlq_has_one(void *arg) {
  return fx_stream_messages(dlq) >= 1;
}

static void test_poison_goes_to_dlq_with_headers(void **state) {
  /* Straight onto the subject, as a misbehaving publisher would. */
  char subject[64], data[256];
  snprintf(subject, sizeof subject, "core.hrv.poison%d", (int)getpid());
  snprintf(data, sizeof data, "{\"event_id\":\"%spoison\",\"athlete_id\":\"poison%d\",\"rmssd_ms\":-1}",
           prefix, (int)getpid());
  jsPubAck *pa = NULL;
  assert_int_equal(js_Publish(&pa, fx_js(), subject, data, (int)strlen(data), NULL, NULL), NATS_OK);
  uint64_t seq = pa->Sequence;
  jsPubAck_Destroy(pa);
  assert_true(fx_wait_until(dlq_has_one, NULL, 20));
  char dsubject[96];
  snprintf(dsubject, sizeof dsubject, "dlq.%s", subject);
  natsMsg *m = NULL;
  assert_int_equal(js_GetLastMsg(&m, fx_js(), dlq, dsubject, NULL, NULL), NATS_OK);
  assert_string_equal(natsMsg_GetData(m), data);
  const char *v = NULL;
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Original-Stream", &v), NATS_OK);
  assert_string_equal(v, core);
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Original-Subject", &v), NATS_OK);
  assert_string_equal(v, subject);
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Original-Sequence", &v), NATS_OK);
  assert_int_equal(strtoull(v, NULL, 10), seq);
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Delivery-Count", &v), NATS_OK);
  assert_string_equal(v, "1");
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Error", &v), NATS_OK);
  assert_non_null(strstr(v, "measured_at"));
  natsMsg_Destroy(m);
  /* Terminated: nothing left pending or awaiting an ack, and no row. */
  usleep(500 * 1000);
  assert_int_equal(fx_consumer_backlog(core, "hrv"), 0);
  assert_int_equal(fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id = '%spoison'", prefix), 0);
  char url[128], *metrics = NULL;
  snprintf(url, sizeof url, "%s/metrics", normalize_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &metrics), 200);
  assert_non_null(strstr(metrics, "normalize_hrv_messages_total{result=\"dlq\"} 1\n"));
  free(metrics);
}

static void test_health_and_metrics(void **state) {
  char url[128], *body = NULL;
  snprintf(url, sizeof url, "%s/health", ingest_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &body), 200);
  assert_non_null(strstr(body, "\"status\":\"ok\""));
  free(body);
  snprintf(url, sizeof url, "%s/health", normalize_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &body), 200);
  assert_non_null(strstr(body, "\"db\":\"up\""));
  assert_non_null(strstr(body, "\"bound\":true"));
  free(body);
  snprintf(url, sizeof url, "%s/metrics", ingest_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &body), 200);
  assert_non_null(strstr(body, "ingest_requests_total{route=\"/v1/hrv\",status=\"202\"}"));
  assert_non_null(strstr(body, "ingest_publish_latency_seconds_count{subject_root=\"core\"}"));
  /* Answers given by the HTTP layer itself are counted too. */
  assert_non_null(strstr(body, "ingest_requests_total{route=\"/v1/hrv\",status=\"413\"} 1\n"));
  assert_non_null(strstr(body, "ingest_requests_total{route=\"/v1/hrv\",status=\"405\"} 1\n"));
  assert_non_null(strstr(body, "ingest_requests_total{route=\"other\",status=\"404\"} 1\n"));
  assert_non_null(strstr(body, "ingest_requests_total{route=\"/v1/hrv\",status=\"401\"} 2\n"));
  free(body);
  snprintf(url, sizeof url, "%s/metrics", normalize_svc.base);
  assert_int_equal(fx_http("GET", url, NULL, NULL, 0, NULL, &body), 200);
  char bound[160];
  snprintf(bound, sizeof bound, "normalize_bindings{stream=\"%s\",consumer=\"hrv\"} 1\n", core);
  assert_non_null(strstr(body, bound));
  assert_null(strstr(body, "normalize_hrv_messages_total{result=\"success\"} 0\n"));
  free(body);
}

static bool refused_in_dlq(void *arg) {
  natsMsg *m = NULL;
  if (js_GetLastMsg(&m, fx_js(), dlq, arg, NULL, NULL) != NATS_OK) return false;
  natsMsg_Destroy(m);
  return true;
}

static void test_row_refused_by_database_ends_in_dlq(void **state) {
  /* PostgreSQL refuses this one reading (a constraint added for the test): it is retried,
   * and on the consumer's last delivery (max_deliver 5) kept in the DLQ, never dropped. */
  char constraint[64];
  snprintf(constraint, sizeof constraint, "svct_refuse_%d", (int)getpid());
  assert_true(fx_pg_exec("ALTER TABLE hrv_data ADD CONSTRAINT %s CHECK (source <> 'refuse-%d') NOT VALID",
                         constraint, (int)getpid()));
  char body[512], source[32], *resp = NULL;
  snprintf(source, sizeof source, "refuse-%d", (int)getpid());
  snprintf(body, sizeof body,
           "{\"event_id\":\"%srefused\",\"athlete_id\":\"refuser\",\"measured_at\":\"2026-11-28T07:00:00Z\","
           "\"rmssd_ms\":40,\"source\":\"%s\"}",
           prefix, source);
  long status = post("/v1/hrv", body, "application/json", true, &resp);
  free(resp);
  bool found = status == 202 && fx_wait_until(refused_in_dlq, "dlq.core.hrv.refuser", 40);
  fx_pg_exec("ALTER TABLE hrv_data DROP CONSTRAINT IF EXISTS %s", constraint);
  assert_int_equal(status, 202);
  assert_true(found);
  natsMsg *m = NULL;
  assert_int_equal(js_GetLastMsg(&m, fx_js(), dlq, "dlq.core.hrv.refuser", NULL, NULL), NATS_OK);
  const char *v = NULL;
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Error", &v), NATS_OK);
  assert_non_null(strstr(v, "database refused"));
  assert_int_equal(natsMsgHeader_Get(m, "Dlq-Delivery-Count", &v), NATS_OK);
  assert_string_equal(v, "5");
  natsMsg_Destroy(m);
  assert_int_equal(fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id = '%srefused'", prefix), 0);
  usleep(500 * 1000);
  assert_int_equal(fx_consumer_backlog(core, "hrv"), 0);
}

static void expect_exit(const char *binary, const char *arg, const char *const *env, int code,
                        const char *fragment) {
  const char *argv[] = {binary, arg, NULL};
  gg_spawn_opts o = {.timeout = 20, .env = env};
  gg_spawn_result r;
  gg_error err;
  assert_int_equal(gg_spawn_run(argv, &o, &r, &err), GG_OK);
  if (r.exit_code != code || !strstr(r.output, fragment))
    fail_msg("%s %s: exit %d, output '%s'; want exit %d with '%s'", binary, arg ? arg : "", r.exit_code,
             r.output, code, fragment);
  gg_spawn_result_release(&r);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot read %s", path);
  static char text[1 << 20];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  return text;
}

/* The services log their NATS servers (ingest on start, both on a reconnect or a failed
 * connect): always redacted. */
static void test_logs_never_show_nats_credentials(void **state) {
  const char *log = read_file(ingest_svc.log);
  if (!strstr(log, "nats=nats://***@127.0.0.1:"))
    fail_msg("%s: no redacted server list in '%s'", ingest_svc.log, log);
  if (strstr(log, nats_password)) fail_msg("%s shows the NATS password: '%s'", ingest_svc.log, log);
  log = read_file(normalize_svc.log);
  if (strstr(log, nats_token)) fail_msg("%s shows the NATS token: '%s'", normalize_svc.log, log);
  /* A connect that fails names the servers, redacted (nothing listens on port 1). */
  const char *argv[] = {INGEST_BIN, NULL};
  gg_spawn_opts o = {.timeout = 20,
                     .env = (const char *const[]){"NATS_URL=nats://ingest:hunter2@127.0.0.1:1", NULL}};
  gg_spawn_result r;
  gg_error err;
  assert_int_equal(gg_spawn_run(argv, &o, &r, &err), GG_OK);
  if (r.exit_code != 1 || !strstr(r.output, "nats://***@127.0.0.1:1") || strstr(r.output, "hunter2"))
    fail_msg("ingest-service on a closed port: exit %d, output '%s'", r.exit_code, r.output);
  gg_spawn_result_release(&r);
}

static void test_bad_configuration_stops_with_exit_2(void **state) {
  expect_exit(INGEST_BIN, NULL, (const char *const[]){"INGEST_MAX_BODY=lots", NULL}, 2, "INGEST_MAX_BODY");
  expect_exit(INGEST_BIN, NULL, (const char *const[]){"INGEST_PUBLISH_BUDGET=5", NULL}, 2,
              "INGEST_PUBLISH_BUDGET");
  expect_exit(NORMALIZE_BIN, NULL, (const char *const[]){"PG_URL=", NULL}, 2, "PG_URL");
  expect_exit(NORMALIZE_BIN, NULL,
              (const char *const[]){"PG_URL=postgresql://x/y", "NORMALIZE_BATCH=0", NULL}, 2,
              "NORMALIZE_BATCH");
  expect_exit(INGEST_BIN, "--help", NULL, 0, "INGEST_HMAC_SECRET_FILE");
  expect_exit(NORMALIZE_BIN, "--help", NULL, 0, "NORMALIZE_BINDINGS");
  expect_exit(INGEST_BIN, "--bogus", NULL, 2, "ingest-service: unknown argument '--bogus'");
  expect_exit(NORMALIZE_BIN, "-x", NULL, 2, "normalize-service: unknown argument '-x'");
  expect_exit(INGEST_BIN, NULL, (const char *const[]){"INGEST_THREADS=two", NULL}, 2,
              "ingest-service: INGEST_THREADS: 'two' is not a whole number");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hrv_reading_becomes_a_row),
      cmocka_unit_test(test_oura_document_expands_to_rows),
      cmocka_unit_test(test_same_event_twice_is_one_row),
      cmocka_unit_test(test_bad_input_is_refused_and_not_published),
      cmocka_unit_test(test_poison_goes_to_dlq_with_headers),
      cmocka_unit_test(test_health_and_metrics),
      cmocka_unit_test(test_logs_never_show_nats_credentials),
      cmocka_unit_test(test_bad_configuration_stops_with_exit_2),
      cmocka_unit_test(test_row_refused_by_database_ends_in_dlq),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
