/*
 * The gradual traffic shift (DESIGN §14) through the real services at 1,000 readings/s:
 * `gonogo run` steps the share of HRV readings sent to the new topology 10 % -> 50 % -> 100 %
 * through a NATS KV key that ingest-service watches, each step held while the monitor rules are
 * evaluated, then moves the canonical subjects with the zero-gap cutover and puts the share back
 * to 0 (the canonical subjects now on the new stream). Every accepted reading is in PostgreSQL
 * exactly once, and the share measured at each step (rows by the stream that carried them, for
 * the readings posted while ingest reported that share) is within 3 points of the step.
 *
 * Before that, the same phase with a `rollback` rule that fires as soon as 50 % is in force:
 * the share goes back to 0 (ingest reports it), the new side is drained, the phase is rolled
 * back, and nothing accepted is lost. How soon the share reached 0 after the rule fired is
 * printed (bench/shift collects it), never asserted.
 *
 * Vendor (Oura) documents shift by a key of their own (INGEST_SHIFT_VENDOR): with core's share
 * held at 10 % by hand, a vendor-only shift 50 % -> 100 % moves vendor documents to
 * shift.vendor.oura.<type> on the new vendor stream (normalize-oura-shift) at each step's share
 * while core stays at 10 %, and every document is stored once.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal/journal.h"
#include "support.h"
#include "svc_fixture.h"

#define RATE 1000        /* readings per second, all posters together */
#define POSTERS 4        /* each keeps one connection */
#define HOLD "4s"        /* each step's hold */
#define VENDOR_HOLD "8s" /* the vendor case's hold: 4,000 documents a step at 500/s */

static char old_stream[64], new_stream[64], vold_stream[64], vnew_stream[64], prefix[32], bucket[64],
    plan_path[256], jpath[256];
static fx_service ingest_svc, normalize_svc;

/* ---- the load: paced posters, each reading tagged with the share ingest reported ---- */

static atomic_int share_now = -1;  /* percent of core ingest reports in force; -1 unknown */
static atomic_int vendor_now = -1; /* the same for vendor documents */
static atomic_int vendor_posters;  /* the last this many posters post Oura documents */
static atomic_bool posting, polling;
static atomic_long accepted, refused;
static _Atomic double zero_seen_at; /* wall time the poller first saw 0 after a share (the revert) */
static pthread_t posters[POSTERS], poller;

static double wall(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static size_t discard(char *p, size_t size, size_t n, void *arg) {
  (void)p;
  (void)arg;
  return size * n;
}

static void *post_main(void *arg) {
  long k = (long)(intptr_t)arg;
  CURL *c = curl_easy_init();
  struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
  hl = curl_slist_append(hl, "Expect:");
  char url[160];
  snprintf(url, sizeof url, "%s/v1/hrv", ingest_svc.base);
  bool oura = k >= POSTERS - atomic_load(&vendor_posters);
  if (oura) snprintf(url, sizeof url, "%s/webhooks/oura", ingest_svc.base);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  double t0 = fx_now(), every = (double)POSTERS / RATE;
  for (long n = 0; atomic_load(&posting); n++) {
    double due = t0 + (double)n * every;
    double wait = due - fx_now();
    if (wait > 0) usleep((useconds_t)(wait * 1e6));
    char body[384];
    int share = atomic_load(&share_now), vshare = atomic_load(&vendor_now);
    /* Tagged with both shares: a reading "s<core>-v<vendor>-", a document "v<vendor>-s<core>-". */
    if (oura)
      snprintf(body, sizeof body,
               "{\"event_id\":\"%sv%d-s%d-%ld-%ld\",\"event_type\":\"sleep\",\"athlete_id\":\"shift%d\","
               "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-01-01T00:00:00Z\",\"items\":[40]}}",
               prefix, vshare, share, k, n, (int)(n % 50));
    else
      snprintf(body, sizeof body,
               "{\"event_id\":\"%ss%d-v%d-%ld-%ld\",\"athlete_id\":\"shift%d\","
               "\"measured_at\":\"2026-01-01T00:00:00Z\",\"rmssd_ms\":42.5,\"source\":\"test\"}",
               prefix, share, vshare, k, n, (int)(n % 50));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    atomic_fetch_add(status == 202 ? &accepted : &refused, 1);
  }
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  return NULL;
}

/* The share ingest reports in /health, every 20 ms. */
static void *poll_main(void *arg) {
  (void)arg;
  char url[160];
  snprintf(url, sizeof url, "%s/health", ingest_svc.base);
  int last = -1;
  while (atomic_load(&polling)) {
    char *body = NULL;
    fx_http("GET", url, NULL, NULL, 0, NULL, &body);
    json_t *o = body ? json_loads(body, 0, NULL) : NULL;
    json_t *sh = json_object_get(json_object_get(json_object_get(o, "shift"), "core"), "share");
    json_t *vsh = json_object_get(json_object_get(json_object_get(o, "shift"), "vendor"), "share");
    if (json_is_number(vsh)) atomic_store(&vendor_now, (int)lround(json_number_value(vsh)));
    if (json_is_number(sh)) {
      int pct = (int)lround(json_number_value(sh));
      if (last > 0 && pct == 0 && atomic_load(&zero_seen_at) == 0) atomic_store(&zero_seen_at, wall());
      atomic_store(&share_now, pct);
      last = pct;
    }
    json_decref(o);
    free(body);
    usleep(20000);
  }
  return NULL;
}

static void load_start(void) {
  atomic_store(&accepted, 0);
  atomic_store(&refused, 0);
  atomic_store(&zero_seen_at, 0);
  atomic_store(&polling, true);
  atomic_store(&posting, true);
  assert_int_equal(pthread_create(&poller, NULL, poll_main, NULL), 0);
  for (long k = 0; k < POSTERS; k++)
    assert_int_equal(pthread_create(&posters[k], NULL, post_main, (void *)(intptr_t)k), 0);
}

static void load_stop(void) {
  atomic_store(&posting, false);
  for (int k = 0; k < POSTERS; k++) pthread_join(posters[k], NULL);
  atomic_store(&polling, false);
  pthread_join(poller, NULL);
}

/* ---- the plan ---- */

/* The phase; rollback_rule: a rule that fires at 50 %; make_bucket: prepare creates the KV
 * bucket; metrics: whose metrics page the plan's "ingest" target reads (NULL: ingest's). */
static void write_plan_ex(bool rollback_rule, bool make_bucket, const char *metrics) {
  char kvline[200] = "";
  if (make_bucket)
    snprintf(kvline, sizeof kvline, "      - kv_put: { bucket: %s, key: core, value: \"0\", create: true }\n",
             bucket);
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fprintf(f,
          "migration: shift-%d\n"
          "connect:\n"
          "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
          "  targets:\n"
          "    ingest: { health: \"%s/health\", metrics: \"%s/metrics\" }\n"
          "topology:\n"
          "  streams:\n"
          "    %s: { existing: true, subjects: [\"core.hrv.>\"], storage: file }\n"
          "    %s: { subjects: [\"core.hrv.>\"], storage: file, duplicates: 2m }\n"
          "  consumers:\n"
          "    %s/hrv: { existing: true, filter: \"core.hrv.>\" }\n"
          "    %s/hrv-shift: { filter: \"shift.core.hrv.>\", ack_wait: 30s, max_deliver: 5, max_ack_pending: "
          "1000 }\n"
          "    %s/hrv: { filter: \"core.hrv.>\", ack_wait: 30s, max_deliver: 5, max_ack_pending: 1000 }\n"
          "phases:\n"
          "  - id: 2\n"
          "    name: Shift core traffic\n"
          "    go:\n"
          "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
          "    prepare:\n"
          "      - create_stream: %s\n"
          "%s"
          "    actions:\n"
          "      - update_stream: { stream: %s, subjects: [\"shift.core.hrv.>\"] }\n"
          "      - create_consumer: %s/hrv-shift\n"
          "      - shift:\n"
          "          kv: %s/core\n"
          "          steps: [10%%, 50%%, 100%%]\n"
          "          hold: " HOLD
          "\n"
          "          drain: %s/hrv-shift\n"
          "          gate:\n"
          "            - { name: ingest answers, expect: 'http.status{target=\"ingest\"} == 200' }\n"
          "      - drain: { stream: %s, consumer: hrv, until: 0, timeout: 2m }\n"
          "      - move_subjects: { subjects: [\"core.hrv.>\"], from: %s, to: %s }\n"
          "      - create_consumer: %s/hrv\n"
          "      - kv_put: { bucket: %s, key: core, value: \"0\" }\n"
          "monitor:\n"
          "  interval: 1s\n"
          "  rules:\n",
          (int)getpid(), ingest_svc.base, metrics ? metrics : ingest_svc.base, old_stream, new_stream,
          old_stream, new_stream, new_stream, new_stream, kvline, new_stream, new_stream, bucket, new_stream,
          old_stream, old_stream, new_stream, new_stream, bucket);
  if (rollback_rule)
    fprintf(f,
            "    - { name: half is too much, when: 'ingest_shift_share{target=\"ingest\", "
            "subject_root=\"core\"} >= 0.5', then: "
            "rollback }\n");
  else
    fprintf(f,
            "    - { name: ingest down, when: 'http.status{target=\"ingest\"} != 200', for: 30s, then: "
            "rollback }\n");
  fclose(f);
}

/* gonogo's output, whole (print_message cuts long text), ending in a newline. */
static void show(const char *out) {
  fputs(out ? out : "", stdout);
  fputs("\n", stdout);
  fflush(stdout);
}

static void write_plan(bool rollback_rule) {
  write_plan_ex(rollback_rule, true, NULL);
}

/* `gonogo VERB PLAN --journal J a1 a2 a3` (a NULL ends the arguments early). A run is told
 * --yes, as off a terminal it must be; a second --yes is harmless. */
static int gonogo(char **out, const char *verb, const char *a1, const char *a2, const char *a3) {
  bool run = strcmp(verb, "run") == 0;
  return support_gonogo(getenv("GONOGO_BIN"), out, verb, plan_path, "--journal", jpath, run ? "--yes" : a1,
                        run ? a1 : a2, run ? a2 : a3, run ? a3 : NULL, NULL);
}

static void remove_journal(void) {
  static const char *const sides[] = {"", "-wal", "-shm", ".head"};
  for (size_t i = 0; i < 4; i++) {
    char p[300];
    snprintf(p, sizeof p, "%s%s", jpath, sides[i]);
    unlink(p);
  }
}

static int setup(void **state) {
  (void)state;
  fx_init();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  snprintf(prefix, sizeof prefix, "sh%d-", (int)getpid());
  snprintf(bucket, sizeof bucket, "shift_%d", (int)getpid());
  fx_name("SHIFT_OLD", old_stream, sizeof old_stream);
  fx_name("SHIFT_NEW", new_stream, sizeof new_stream);
  snprintf(plan_path, sizeof plan_path, "/tmp/gonogo-shift-%d.yaml", (int)getpid());
  snprintf(jpath, sizeof jpath, "/tmp/gonogo-shift-%d.db", (int)getpid());
  fx_stream_create(old_stream, (const char *const[]){"core.hrv.>"}, 1);
  fx_consumer_create(old_stream, "hrv", "core.hrv.>");
  fx_name("SHIFT_VOLD", vold_stream, sizeof vold_stream);
  fx_name("SHIFT_VNEW", vnew_stream, sizeof vnew_stream);
  atomic_store(&vendor_posters, 0);
  char nats[512], kv[128], vkv[128], pg[512], bindings[512];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  snprintf(kv, sizeof kv, "INGEST_SHIFT_CORE=%s/core", bucket);
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(vkv, sizeof vkv, "INGEST_SHIFT_VENDOR=%s/vendor", bucket);
  snprintf(bindings, sizeof bindings,
           "NORMALIZE_BINDINGS=%s:hrv,%s:hrv-shift,%s:hrv,%s:oura,%s:oura-shift,%s:oura", old_stream,
           new_stream, new_stream, vold_stream, vnew_stream, vnew_stream);
  fx_service_start(
      &ingest_svc, INGEST_BIN, "INGEST_LISTEN",
      (const char *const[]){nats, kv, vkv, "INGEST_PUBLISH_BUDGET=10s", "INGEST_THREADS=4", NULL});
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats, pg, bindings, "NORMALIZE_RECHECK=500ms", NULL});
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (ingest_svc.pid) fx_service_stop(&ingest_svc);
  if (normalize_svc.pid) fx_service_stop(&normalize_svc);
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  fx_stream_delete(new_stream);
  fx_stream_delete(vnew_stream);
  js_DeleteKeyValue(fx_js(), bucket);
  fx_cleanup();
  unlink(plan_path);
  remove_journal();
  return 0;
}

static long long rows_all(void) {
  return fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
}

static bool all_stored(void *arg) {
  (void)arg;
  return rows_all() == atomic_load(&accepted);
}

/* Every accepted reading has its row, and no row is for a reading that was not accepted (a
 * reading has one row at most: msg_id is the key, so "exactly once" is the count). */
static void expect_all_stored(void) {
  fx_wait_until(all_stored, NULL, 90);
  long long rows = rows_all();
  print_message("accepted %ld, refused %ld, rows %lld\n", atomic_load(&accepted), atomic_load(&refused),
                rows);
  assert_int_equal(atomic_load(&refused), 0);
  assert_int_equal(rows, atomic_load(&accepted));
}

/* The wall time of the phase's first rule_firing event; 0 when none. */
static double firing_time(void) {
  journal *j = NULL;
  gg_error err;
  double t = 0;
  if (journal_open(jpath, 0, &j, &err) != GG_OK) return 0;
  journal_filter f = journal_filter_all();
  f.kind = "rule_firing";
  journal_event *ev = NULL;
  size_t n = 0;
  if (journal_events(j, &f, &ev, &n, &err) == GG_OK && n > 0) t = ev[0].time;
  journal_events_free(ev, n);
  journal_close(j);
  return t;
}

static void test_rule_at_half_returns_to_zero(void **state) {
  (void)state;
  write_plan(true);
  load_start();
  usleep(1000000);
  char *out = NULL;
  int rc = gonogo(&out, "run", "--phase", "2", "--prepare");
  if (rc != 0) show(out);
  free(out);
  assert_int_equal(rc, 0);
  rc = gonogo(&out, "run", "--phase", "2", "--yes");
  show(out);
  assert_int_not_equal(rc, 0);
  assert_non_null(strstr(out, "half is too much"));
  assert_non_null(strstr(out, "failed and was rolled back"));
  free(out);
  usleep(1000000);
  load_stop();
  /* The share reached 0 (ingest said so), and everything accepted is stored once. */
  assert_true(atomic_load(&zero_seen_at) > 0);
  assert_int_equal(atomic_load(&share_now), 0);
  double fired = firing_time();
  assert_true(fired > 0);
  print_message("figure: rule fired at 50%% -> ingest reports 0%%: %.0f ms\n",
                (atomic_load(&zero_seen_at) - fired) * 1000);
  expect_all_stored();
  /* watch's state (its dashboard), status and the report say where the shift stands. */
  rc = gonogo(&out, "watch", "--once", "--json", NULL);
  json_t *st = json_loads(out && strchr(out, '{') ? strchr(out, '{') : "", JSON_DISABLE_EOF_CHECK, NULL);
  json_t *sh = json_object_get(json_array_get(json_object_get(st, "phases"), 0), "shift");
  if (!sh) show(out);
  assert_non_null(sh);
  assert_string_equal(json_string_value(json_object_get(sh, "state")), "rolled back");
  assert_true(json_number_value(json_object_get(sh, "share")) == 0);
  json_decref(st);
  free(out);
  rc = gonogo(&out, "status", NULL, NULL, NULL);
  if (!strstr(out, "0% to the new topology (step 2/3, rolled back)")) show(out);
  assert_non_null(strstr(out, "0% to the new topology (step 2/3, rolled back)"));
  free(out);
  rc = gonogo(&out, "report", "--format", "md", NULL);
  if (!strstr(out, "0% to the new topology (step 2/3, rolled back at")) show(out);
  assert_non_null(strstr(out, "0% to the new topology (step 2/3, rolled back at"));
  free(out);
  assert_int_equal(
      fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%ss10-%%' AND stream = '%s'", prefix,
                   new_stream) > 0,
      1);
  remove_journal();
}

/* The share of the rows whose id starts with prefix + tag that `stream` carried: within 3
 * points of `pct`. `what` names it in the figure. */
static void expect_measured(const char *what, const char *tag, const char *stream, int pct) {
  long long total = fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%s%s%%'", prefix, tag);
  long long fresh = fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%s%s%%' AND stream = '%s'",
                                 prefix, tag, stream);
  if (total <= 1000) fail_msg("%s: only %lld rows", what, total);
  double measured = 100.0 * (double)fresh / (double)total;
  print_message("figure: %s: %lld of %lld readings to the new topology = %.2f%%\n", what, fresh, total,
                measured);
  if (fabs(measured - pct) > 3) fail_msg("%s: measured %.2f%%, not %d%%", what, measured, pct);
}

/* The core share measured over the readings posted while ingest reported `pct`. */
static void expect_share(int pct) {
  char what[32], tag[32];
  snprintf(what, sizeof what, "step %d%%", pct);
  snprintf(tag, sizeof tag, "s%d-", pct);
  expect_measured(what, tag, new_stream, pct);
}

static void test_ten_fifty_hundred(void **state) {
  (void)state;
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  write_plan(false);
  load_start();
  usleep(1000000);
  char *out = NULL;
  int rc = gonogo(&out, "run", "--phase", "2", "--prepare");
  if (rc != 0) show(out);
  free(out);
  assert_int_equal(rc, 0);
  rc = gonogo(&out, "run", "--phase", "2", "--yes");
  show(out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "shift step 3/3"));
  free(out);
  usleep(2000000);
  load_stop();
  expect_all_stored();
  expect_share(10);
  expect_share(50);
  expect_share(100);
  /* After the cutover the canonical subjects are on the new stream: the last readings went
   * there at 0 % too. */
  assert_true(fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%ss0-%%' AND stream = '%s'",
                           prefix, new_stream) > 0);
}

/* Prepare phase 2, run it with `failpoint` killing gonogo, then `resume --break-lock`: its exit
 * code, its output in *out (free()). */
static int killed_then_resumed(const char *failpoint, char **out) {
  int rc = gonogo(out, "run", "--phase", "2", "--prepare");
  free(*out);
  assert_int_equal(rc, 0);
  const char *argv[] = {
      getenv("GONOGO_BIN"), "run", plan_path, "--journal", jpath, "--phase", "2", "--yes", NULL};
  const char *env[] = {failpoint, NULL};
  gg_spawn_opts o = {.timeout = 120, .env = env};
  support_run_result r = support_run(argv, &o);
  show(r.out);
  free(r.out);
  assert_int_equal(r.code, -1); /* killed */
  return gonogo(out, "resume", "--break-lock", NULL, NULL);
}

/* gonogo killed right after step 2 is set (failpoint act.shift.step, second pass): resume
 * continues at step 2 from the journal, never at step 1, and the shift completes with nothing
 * lost. */
static void test_killed_mid_shift_resumes_at_its_step(void **state) {
  (void)state;
  write_plan(false);
  load_start();
  usleep(1000000);
  char *out = NULL;
  int rc = killed_then_resumed("GONOGO_FAILPOINTS=act.shift.step@2", &out);
  show(out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "resuming at step 2/3"));
  assert_null(strstr(out, "shift step 1/3"));
  assert_non_null(strstr(out, "shift step 3/3"));
  free(out);
  usleep(2000000);
  load_stop();
  expect_all_stored();
  expect_share(50);
  expect_share(100);
}

static json_t *ingest_shift_health(void) {
  char url[160], *body = NULL;
  snprintf(url, sizeof url, "%s/health", ingest_svc.base);
  fx_http("GET", url, NULL, NULL, 0, NULL, &body);
  json_t *o = body ? json_loads(body, 0, NULL) : NULL;
  free(body);
  json_t *core = json_incref(json_object_get(json_object_get(o, "shift"), "core"));
  json_decref(o);
  return core;
}

typedef struct {
  const char *state;
  double share;
} health_want;

static bool health_is(void *arg) {
  const health_want *w = arg;
  json_t *c = ingest_shift_health();
  bool ok =
      c &&
      strcmp(json_string_value(json_object_get(c, "state")) ? json_string_value(json_object_get(c, "state"))
                                                            : "",
             w->state) == 0 &&
      json_number_value(json_object_get(c, "share")) == w->share;
  json_decref(c);
  return ok;
}

/* Bad input, each refused or kept, never a half-shift: a bucket nobody created (the shift refuses
 * to start and names the kv_put that would create it), a malformed value in the key (ingest keeps
 * the last good share and says so), a target that never reports the share (the step fails after
 * 5 s, the share is put back to 0 and the phase rolled back). */
static void test_bad_input_refused(void **state) {
  (void)state;
  char *out = NULL;
  write_plan_ex(false, false, NULL);
  int rc = gonogo(&out, "run", "--phase", "2", "--prepare");
  free(out);
  assert_int_equal(rc, 0);
  rc = gonogo(&out, "run", "--phase", "2", "--yes");
  show(out);
  assert_int_not_equal(rc, 0);
  assert_non_null(strstr(out, "does not exist: create it in the phase's prepare"));
  assert_non_null(strstr(out, "failed and was rolled back"));
  free(out);
  remove_journal();

  /* The bucket exists now; a malformed value is kept out. */
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = bucket;
  kvStore *kv = NULL;
  assert_int_equal(js_CreateKeyValue(&kv, fx_js(), &kc), NATS_OK);
  assert_int_equal(kvStore_PutString(NULL, kv, "core", "10"), NATS_OK);
  health_want ten = {"ok", 10};
  assert_true(fx_wait_until(health_is, &ten, 10));
  assert_int_equal(kvStore_PutString(NULL, kv, "core", "lots"), NATS_OK);
  health_want kept = {"kept", 10};
  assert_true(fx_wait_until(health_is, &kept, 10));
  json_t *c = ingest_shift_health();
  assert_non_null(strstr(json_string_value(json_object_get(c, "problem")), "malformed value"));
  json_decref(c);
  assert_int_equal(kvStore_PutString(NULL, kv, "core", "0"), NATS_OK);

  /* A target whose metrics never say the share (normalize-service's page). */
  write_plan_ex(false, true, normalize_svc.base);
  rc = gonogo(&out, "run", "--phase", "2", "--prepare");
  free(out);
  assert_int_equal(rc, 0);
  rc = gonogo(&out, "run", "--phase", "2", "--yes");
  show(out);
  assert_int_not_equal(rc, 0);
  assert_non_null(strstr(out, "did not report share 10% for"));
  assert_non_null(strstr(out, "failed and was rolled back"));
  free(out);
  kvEntry *e = NULL;
  assert_int_equal(kvStore_Get(&e, kv, "core"), NATS_OK);
  assert_string_equal(kvEntry_ValueString(e), "0");
  kvEntry_Destroy(e);
  kvStore_Destroy(kv);
}

/* gonogo killed right after the rule at 50 % set the share back to 0 (failpoint
 * act.shift.reverted): resume does not take the shift forward again, it rolls the phase back,
 * and nothing is lost. */
static void test_killed_after_revert_rolls_back(void **state) {
  (void)state;
  write_plan(true);
  load_start();
  usleep(1000000);
  char *out = NULL;
  int rc = killed_then_resumed("GONOGO_FAILPOINTS=act.shift.reverted", &out);
  show(out);
  assert_int_not_equal(rc, 0);
  assert_non_null(strstr(out, "set back to 0% before the interruption; not resuming it"));
  assert_null(strstr(out, "shift step 3/3"));
  free(out);
  rc = gonogo(&out, "status", NULL, NULL, NULL);
  assert_non_null(strstr(out, "rolled back"));
  free(out);
  usleep(1000000);
  load_stop();
  assert_int_equal(atomic_load(&share_now), 0);
  expect_all_stored();
}

/* The vendor phase: a vendor-only shift 50 % -> 100 % through the key "vendor" of the same
 * bucket, onto a new vendor stream that holds shift.vendor.oura.> during the shift, then the
 * cutover of vendor.oura.> to it and the key back to 0, as the core phase does. */
static void write_vendor_plan(void) {
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fprintf(f,
          "migration: shift-vendor-%d\n"
          "connect:\n"
          "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
          "  targets:\n"
          "    ingest: { health: \"%s/health\", metrics: \"%s/metrics\" }\n"
          "topology:\n"
          "  streams:\n"
          "    %s: { existing: true, subjects: [\"vendor.oura.>\"], storage: file }\n"
          "    %s: { subjects: [\"vendor.oura.>\"], storage: file, duplicates: 2m }\n"
          "  consumers:\n"
          "    %s/oura: { existing: true, filter: \"vendor.oura.>\" }\n"
          "    %s/oura-shift: { filter: \"shift.vendor.oura.>\", ack_wait: 30s, max_deliver: 5, "
          "max_ack_pending: 1000 }\n"
          "    %s/oura: { filter: \"vendor.oura.>\", ack_wait: 30s, max_deliver: 5, max_ack_pending: 1000 }\n"
          "phases:\n"
          "  - id: 2\n"
          "    name: Shift vendor traffic\n"
          "    go:\n"
          "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
          "    prepare:\n"
          "      - create_stream: %s\n"
          "      - kv_put: { bucket: %s, key: vendor, value: \"0\", create: true }\n"
          "    actions:\n"
          "      - update_stream: { stream: %s, subjects: [\"shift.vendor.oura.>\"] }\n"
          "      - create_consumer: %s/oura-shift\n"
          "      - shift:\n"
          "          kv: %s/vendor\n"
          "          steps: [50%%, 100%%]\n"
          "          hold: " VENDOR_HOLD
          "\n"
          "          drain: %s/oura-shift\n"
          "      - drain: { stream: %s, consumer: oura, until: 0, timeout: 2m }\n"
          "      - move_subjects: { subjects: [\"vendor.oura.>\"], from: %s, to: %s }\n"
          "      - create_consumer: %s/oura\n"
          "      - kv_put: { bucket: %s, key: vendor, value: \"0\" }\n"
          "monitor:\n"
          "  interval: 1s\n"
          "  rules:\n"
          "    - { name: ingest down, when: 'http.status{target=\"ingest\"} != 200', for: 30s, then: "
          "rollback }\n",
          (int)getpid(), ingest_svc.base, ingest_svc.base, vold_stream, vnew_stream, vold_stream, vnew_stream,
          vnew_stream, vnew_stream, bucket, vnew_stream, vnew_stream, bucket, vnew_stream, vold_stream,
          vold_stream, vnew_stream, vnew_stream, bucket);
  fclose(f);
}

/* Vendor documents shift by their own key while core's stays at 10 %: core's new side (the
 * stream holding shift.core.hrv.> and its consumer) is made by hand and its key set to 10; the
 * plan shifts vendor 50 % -> 100 % under 500 readings/s and 500 documents/s. Each vendor step's
 * measured share is within 3 points, core's is 10 % throughout (also while vendor is at 100 %),
 * and every reading and document is stored once. */
static void test_vendor_shift_is_its_own(void **state) {
  (void)state;
  fx_stream_create(vold_stream, (const char *const[]){"vendor.oura.>"}, 1);
  fx_consumer_create(vold_stream, "oura", "vendor.oura.>");
  fx_stream_create(new_stream, (const char *const[]){"shift.core.hrv.>"}, 1);
  fx_consumer_create(new_stream, "hrv-shift", "shift.core.hrv.>");
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = bucket;
  kvStore *kv = NULL;
  assert_int_equal(js_CreateKeyValue(&kv, fx_js(), &kc), NATS_OK);
  assert_int_equal(kvStore_PutString(NULL, kv, "core", "10"), NATS_OK);
  kvStore_Destroy(kv);
  health_want ten = {"ok", 10};
  assert_true(fx_wait_until(health_is, &ten, 10));
  write_vendor_plan();
  atomic_store(&vendor_posters, POSTERS / 2);
  load_start();
  usleep(1000000);
  char *out = NULL;
  int rc = gonogo(&out, "run", "--phase", "2", "--prepare");
  if (rc != 0) show(out);
  free(out);
  assert_int_equal(rc, 0);
  rc = gonogo(&out, "run", "--phase", "2", NULL);
  show(out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "shift step 2/2"));
  free(out);
  usleep(2000000);
  load_stop();
  assert_int_equal(atomic_load(&vendor_now), 0); /* the cutover's kv_put: canonical on the new stream */
  assert_int_equal(atomic_load(&share_now), 10);
  expect_all_stored();
  expect_measured("vendor step 50%", "v50-", vnew_stream, 50);
  expect_measured("vendor step 100%", "v100-", vnew_stream, 100);
  expect_measured("core 10% while vendor 50%", "s10-v50-", new_stream, 10);
  expect_measured("core 10% while vendor 100%", "s10-v100-", new_stream, 10);
  /* Before the shift the documents went to the legacy vendor stream. */
  assert_true(fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%sv0-%%' AND stream = '%s'",
                           prefix, vold_stream) > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_rule_at_half_returns_to_zero, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ten_fifty_hundred, setup, teardown),
      cmocka_unit_test_setup_teardown(test_killed_mid_shift_resumes_at_its_step, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_input_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_killed_after_revert_rolls_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_vendor_shift_is_its_own, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
