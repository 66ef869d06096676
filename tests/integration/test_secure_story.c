/*
 * The example story on the secured sandbox, with a reduced plan of the example's shape: the
 * legacy topology seeded (`sandbox seed`), both services running against TLS NATS (ingest with
 * the nkey, normalize with user and password) and TLS PostgreSQL with a password; `check`
 * phase 0 GO through the system account (no monitor URL), `run` phases 0 and 1 (a canary
 * through ingest → normalize → PostgreSQL proves the cutover), `plan`, `eval`; `watch` serves
 * its dashboard, then rolls phase 1 back by itself when normalize-service stops (a node
 * restart is not part of it: nats-server 2.9.10 panics in applyMetaEntries restarting a node
 * after streams were deleted and re-created by name, which this test does in its setup;
 * test_watch_live covers watch's reconnects); `run`, `rollback` and `resume` by hand; `status`, `report` in
 * three formats, `journal log` and `journal verify`. Last, every secret of the sandbox (passwords, token, the
 * nkey seed, the PostgreSQL password) is looked for in everything that was printed, logged (gonogo, watch,
 * both services), journaled, reported, served (/api/state, the dashboard) or posted to the webhook: any hit
 * fails.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/http.h"
#include "base/httpd.h"
#include "base/spawn.h"
#include "support.h"

static const char *gonogo;
static char dir[] = "/tmp/gonogo-secure-story-XXXXXX";
static char plan_path[128], jpath[128], ingest_log[128], normalize_log[128], watch_log[128];
static char ingest_url[64], normalize_url[64], hook_url[96], dash[64];
static pid_t ingest_pid = -1, normalize_pid = -1, watcher = -1;
static gg_httpd *hook;
static natsConnection *nc;
static jsCtx *js;

/* Everything gonogo printed and everything served or posted, for the secret grep. */
static gg_buf seen;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int hook_posts;

static const char *plan_text =
    "migration: secure-story\n"
    "connect:\n"
    "  nats:\n"
    "    servers: \"${NATS_URL}\"\n"
    "    user: \"${NATS_USER}\"\n"
    "    password: \"${NATS_PASSWORD}\"\n"
    "    tls: { ca: \"${NATS_CA}\" }\n"
    "    system: { user: \"${NATS_SYSTEM_USER}\", password: \"${NATS_SYSTEM_PASSWORD}\" }\n"
    "    expect_servers: 3\n"
    "  databases:\n"
    "    main: \"${PG_URL}\"\n"
    "  targets:\n"
    "    ingest: { health: \"${S_INGEST}/health\", metrics: \"${S_INGEST}/metrics\" }\n"
    "    normalize: { health: \"${S_NORMALIZE}/health\", metrics: \"${S_NORMALIZE}/metrics\" }\n"
    "  notify: [ { webhook: \"${S_HOOK}\" } ]\n"
    "topology:\n"
    "  streams:\n"
    "    ATHLETE_ALLY_EVENTS: { existing: true, subjects: [vendor.>, core.>], replicas: 3, storage: file, "
    "duplicates: 2m }\n"
    "    AA_DLQ: { subjects: [dlq.>], replicas: 3, storage: file }\n"
    "    AA_VENDOR_HOT: { subjects: [vendor.>], replicas: 3, storage: file, duplicates: 2m }\n"
    "  consumers:\n"
    "    ATHLETE_ALLY_EVENTS/normalize-oura: { existing: true, filter: vendor.oura.> }\n"
    "    ATHLETE_ALLY_EVENTS/normalize-hrv-durable: { existing: true, filter: core.hrv.> }\n"
    "    AA_VENDOR_HOT/normalize-oura: { filter: vendor.oura.>, ack_wait: 30s, max_deliver: 5, "
    "deliver_policy: "
    "all, ack_policy: explicit }\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: Create DLQ stream\n"
    "    go:\n"
    "      - name: NATS cluster healthy (all 3 nodes UP)\n"
    "        expect: min(nats.server.up) == 1 and count(nats.server.up) >= 3 and min(nats.jetstream.current) "
    "== "
    "1\n"
    "      - { name: Disk space, expect: nats.server.storage_free > 1GB }\n"
    "      - { name: Memory, expect: nats.server.memory_free > 100MB }\n"
    "      - { name: Route latency, expect: nats.server.route_rtt < 100ms }\n"
    "      - { name: JetStream operational, expect: nats.jetstream.enabled == 1 and nats.meta.leader_present "
    "== "
    "1 }\n"
    "      - { name: PostgreSQL responsive, expect: 'pg.ping{db=\"main\"} < 1s' }\n"
    "      - { name: Services healthy, expect: min(http.up) == 1 }\n"
    "    actions:\n"
    "      - create_stream: AA_DLQ\n"
    "  - id: 1\n"
    "    name: Migrate vendor subjects\n"
    "    requires: { phase: 0 }\n"
    "    go:\n"
    "      - { name: AA_VENDOR_HOT created, expect: 'nats.stream.exists{stream=\"AA_VENDOR_HOT\"} == 1' }\n"
    "    prepare:\n"
    "      - create_stream: AA_VENDOR_HOT\n"
    "    actions:\n"
    "      - move_subjects: { subjects: [vendor.>], from: ATHLETE_ALLY_EVENTS, to: AA_VENDOR_HOT }\n"
    "      - create_consumer: AA_VENDOR_HOT/normalize-oura\n"
    "      - drain: { stream: ATHLETE_ALLY_EVENTS, consumer: normalize-oura, until: 0, timeout: 1m }\n"
    "    verify:\n"
    "      - name: Test webhook lands through the new stream\n"
    "        canary:\n"
    "          post: /webhooks/oura\n"
    "          target: ingest\n"
    "          body: "
    "'{\"event_id\":\"canary-{{id}}\",\"event_type\":\"sleep\",\"athlete_id\":\"gonogo-canary\",\"hrv\":{"
    "\"interval\":300,\"timestamp\":\"{{now}}\",\"items\":[42.0]}}'\n"
    "          expect: 'sql(main, \"select count(*) from hrv_data where msg_id = ''canary-{{id}}:0'' and "
    "stream "
    "= ''AA_VENDOR_HOT''\") == 1'\n"
    "          within: 30s\n"
    "monitor:\n"
    "  interval: 1s\n"
    "  rules:\n"
    "    - { name: Normalize down, when: 'http.up{target=\"normalize\"} == 0', for: 2s, then: rollback, "
    "phases: "
    "[1] }\n";

static void on_hook(gg_httpd_req *req, void *closure) {
  (void)closure;
  size_t len;
  const char *body = gg_httpd_req_body(req, &len);
  pthread_mutex_lock(&mu);
  if (gg_buf_append(&seen, body, len) != GG_OK || gg_buf_puts(&seen, "\n") != GG_OK)
    fprintf(stderr, "webhook body not kept\n");
  hook_posts++;
  pthread_mutex_unlock(&mu);
  gg_httpd_respond(req, 200, "text/plain", "ok", 2, NULL);
}

static void keep(const char *what, const char *text) {
  pthread_mutex_lock(&mu);
  if (gg_buf_printf(&seen, "\n==== %s\n%s", what, text ? text : "") != GG_OK) fprintf(stderr, "not kept\n");
  pthread_mutex_unlock(&mu);
}

static char *out;

static int run_env(const char *const *env, const char *const *args) {
  free(out);
  const char *argv[24];
  int n = 0;
  argv[n++] = gonogo;
  for (int i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
  argv[n] = NULL;
  gg_spawn_opts o = {.timeout = 120, .max_output = 1 << 20, .env = env};
  support_run_result r = support_run(argv, &o);
  out = r.out;
  print_message("$ gonogo %s %s → %d\n%s\n", args[0], args[1] ? args[1] : "", r.code, out);
  keep(args[0], out);
  return r.code;
}

static int run(const char *const *args) {
  return run_env(NULL, args);
}

static void assert_contains(const char *needle) {
  if (!out || !strstr(out, needle)) fail_msg("expected to find: %s", needle);
}

static char *get(const char *path, long *status) {
  char url[160];
  snprintf(url, sizeof url, "%s%s", dash, path);
  gg_http_response resp = {0};
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_get(url, NULL, &resp, &err) != GG_OK) return NULL;
  *status = resp.status;
  char *body = resp.body;
  resp.body = NULL;
  gg_http_response_release(&resp);
  keep(path, body);
  return body;
}

static bool stream_has_subject(const char *stream, const char *subject) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  if (js_GetStreamInfo(&si, js, stream, NULL, &jerr) != NATS_OK) return false;
  bool found = false;
  for (int i = 0; i < si->Config->SubjectsLen; i++) found |= strcmp(si->Config->Subjects[i], subject) == 0;
  jsStreamInfo_Destroy(si);
  return found;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
    port = ntohs(sa.sin_port);
  close(fd);
  return port;
}

/* Start a program with extra env entries (replacing the same names), its output appended to
 * log; returns its pid. posix_spawn, not fork: this process has threads (nats.c, the webhook
 * server), and a forked child of a threaded process must not allocate before exec. */
extern char **environ;
static pid_t start(const char *bin, const char *log, const char *const *env, const char *const *argv) {
  char *envp[512];
  size_t n = 0;
  for (size_t i = 0; env && env[i] && n < 500; i++) envp[n++] = (char *)env[i];
  for (char **e = environ; *e && n < 510; e++) {
    bool replaced = false;
    for (size_t i = 0; env && env[i]; i++) {
      size_t k = strcspn(env[i], "=");
      if (strncmp(*e, env[i], k + 1) == 0) replaced = true;
    }
    if (!replaced) envp[n++] = *e;
  }
  envp[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, envp) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

static bool alive(pid_t pid) {
  return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

static void stop(pid_t *pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGTERM);
  double until = gg_clock_mono() + 10;
  while (alive(*pid) && gg_clock_mono() < until) usleep(50 * 1000);
  if (alive(*pid)) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
  }
  *pid = -1;
}

static bool healthy(const char *base) {
  char url[128];
  snprintf(url, sizeof url, "%s/health", base);
  gg_http_response resp = {0};
  bool ok = gg_http_get(url, NULL, &resp, NULL) == GG_OK && resp.status == 200;
  gg_http_response_release(&resp);
  return ok;
}

static bool wait_healthy(const char *base, double seconds) {
  double until = gg_clock_mono() + seconds;
  while (!healthy(base) && gg_clock_mono() < until) usleep(100 * 1000);
  if (healthy(base)) return true;
  char url[128];
  snprintf(url, sizeof url, "%s/health", base);
  gg_http_response resp = {0};
  if (gg_http_get(url, NULL, &resp, NULL) == GG_OK)
    fprintf(stderr, "%s: HTTP %ld %s\n", url, resp.status, resp.body ? resp.body : "");
  else
    fprintf(stderr, "%s: no answer\n", url);
  gg_http_response_release(&resp);
  return false;
}

static char ingest_listen[64], normalize_listen[64];

static pid_t start_normalize(void) {
  /* user and password (the seed variable emptied so the nkey does not win) */
  const char *env[] = {"NATS_NKEY_SEED=", "NORMALIZE_RECHECK=500ms", normalize_listen, NULL};
  const char *bin = getenv("GONOGO_NORMALIZE_BIN");
  const char *argv[] = {bin, NULL};
  return start(bin, normalize_log, env, argv);
}

/* ---- the story, in order ---- */

static void check_phase0_go_through_the_system_account(void **state) {
  (void)state;
  const char *args[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--verbose", NULL};
  assert_int_equal(run(args), 0);
  assert_contains("DECISION: GO");
  assert_contains("NATS cluster healthy (all 3 nodes UP)");
  assert_contains("Route latency");
  assert_contains(" · 0 ERROR  of ");
  assert_null(strstr(out, "  ERROR  ")); /* no row */
  const char *json[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--json", NULL};
  assert_int_equal(run(json), 0);
  const char *ev[] = {"eval", plan_path, "nats.server.up", NULL};
  assert_int_equal(run(ev), 0);
  assert_contains("{server=\"n2\"} 1");
}

static void run_phase0(void **state) {
  (void)state;
  const char *args[] = {"run", plan_path, "--phase", "0", "--yes", "--journal", jpath, NULL};
  assert_int_equal(run(args), 0);
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  assert_int_equal(js_GetStreamInfo(&si, js, "AA_DLQ", NULL, &jerr), NATS_OK);
  jsStreamInfo_Destroy(si);
}

static void plan_and_run_phase1(void **state) {
  (void)state;
  const char *prep[] = {"run", plan_path, "--phase", "1", "--prepare", "--yes", "--journal", jpath, NULL};
  assert_int_equal(run(prep), 0);
  const char *pl[] = {"plan", plan_path, "--phase", "1", NULL};
  assert_int_equal(run(pl), 0);
  assert_contains("vendor.>");
  const char *args[] = {"run", plan_path, "--phase", "1", "--yes", "--journal", jpath, NULL};
  assert_int_equal(run(args), 0);
  assert_true(stream_has_subject("AA_VENDOR_HOT", "vendor.>"));
  assert_false(stream_has_subject("ATHLETE_ALLY_EVENTS", "vendor.>"));
}

static bool watcher_evaluated(void) {
  long status = 0;
  char *h = get("/health", &status);
  bool ok = h && status == 200 && strstr(h, "\"last_evaluation\":\"2");
  free(h);
  return ok;
}

static void watch_serves_its_dashboard(void **state) {
  (void)state;
  int port = free_port();
  assert_true(port > 0);
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  snprintf(dash, sizeof dash, "http://127.0.0.1:%d", port);
  const char *argv[] = {gonogo, "watch", plan_path, "--journal", jpath, "--listen", listen, NULL};
  watcher = start(gonogo, watch_log, NULL, argv);
  double until = gg_clock_mono() + 20;
  while (!watcher_evaluated() && alive(watcher) && gg_clock_mono() < until) usleep(200 * 1000);
  assert_true(watcher_evaluated());
  assert_true(alive(watcher));
  long status = 0;
  char *s = get("/api/state", &status);
  assert_int_equal(status, 200);
  assert_non_null(strstr(s, "Normalize down"));
  free(s);
  char *page = get("/", &status);
  assert_int_equal(status, 200);
  free(page);
}

static void watch_rolls_back_when_normalize_stops(void **state) {
  (void)state;
  stop(&normalize_pid);
  double until = gg_clock_mono() + 30;
  while (!stream_has_subject("ATHLETE_ALLY_EVENTS", "vendor.>") && gg_clock_mono() < until)
    usleep(250 * 1000);
  bool back = stream_has_subject("ATHLETE_ALLY_EVENTS", "vendor.>");
  normalize_pid = start_normalize(); /* the later steps need it */
  assert_true(back);
  assert_false(stream_has_subject("AA_VENDOR_HOT", "vendor.>"));
  until = gg_clock_mono() + 10;
  int posts = 0;
  while (gg_clock_mono() < until) {
    pthread_mutex_lock(&mu);
    posts = hook_posts;
    pthread_mutex_unlock(&mu);
    if (posts > 0) break;
    usleep(100 * 1000);
  }
  assert_true(posts > 0);
  long status = 0;
  char *s = get("/api/state", &status);
  free(s);
  stop(&watcher);
  bool ok = wait_healthy(normalize_url, 30);
  if (!ok) {
    char cmd[600];
    snprintf(
        cmd, sizeof cmd,
        "tail -5 '%s' >&2; grep State /proc/%d/status >&2; cat /proc/%d/wchan >&2; ls -l /proc/%d/fd >&2",
        normalize_log, (int)normalize_pid, (int)normalize_pid, (int)normalize_pid);
    if (system(cmd) != 0) fprintf(stderr, "no log\n");
  }
  assert_true(ok);
}

static void run_rollback_and_resume_by_hand(void **state) {
  (void)state;
  const char *args[] = {"run", plan_path, "--phase", "1", "--yes", "--journal", jpath, NULL};
  assert_int_equal(run(args), 0);
  assert_true(stream_has_subject("AA_VENDOR_HOT", "vendor.>"));
  const char *rb[] = {"rollback",      plan_path, "--yes",  "--phase",   "1",   "--reason",
                      "secured story", "--by",    "tester", "--journal", jpath, NULL};
  assert_int_equal(run(rb), 0);
  assert_true(stream_has_subject("ATHLETE_ALLY_EVENTS", "vendor.>"));
  const char *rs[] = {"resume", plan_path, "--journal", jpath, NULL};
  int code = run(rs);
  assert_true(code == 0 || code == 1);
}

static void status_report_and_journal(void **state) {
  (void)state;
  const char *st[] = {"status", plan_path, "--journal", jpath, "--json", NULL};
  assert_int_equal(run(st), 0);
  const char *fmts[] = {"md", "html", "json"};
  for (int i = 0; i < 3; i++) {
    const char *rp[] = {"report", plan_path, "--journal", jpath, "--format", fmts[i], NULL};
    assert_int_equal(run(rp), 0);
  }
  const char *log[] = {"journal", "log", plan_path, "--journal", jpath, "--json", NULL};
  assert_int_equal(run(log), 0);
  assert_contains("phase_rolled_back");
  const char *verify[] = {"journal", "verify", plan_path, "--journal", jpath, NULL};
  assert_int_equal(run(verify), 0);
  const char *show[] = {"show", plan_path, "--json", NULL};
  assert_int_equal(run(show), 0);
}

/* The file's bytes appended to what was seen. */
static void keep_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot read %s", path);
  char buf[65536];
  size_t n;
  pthread_mutex_lock(&mu);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (gg_buf_append(&seen, buf, n) != GG_OK) break;
  pthread_mutex_unlock(&mu);
  fclose(f);
}

static bool holds(const char *hay, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; k && i + k <= n; i++)
    if (memcmp(hay + i, needle, k) == 0) return true;
  return false;
}

static void no_secret_anywhere(void **state) {
  (void)state;
  stop(&ingest_pid);
  stop(&normalize_pid);
  keep_file(ingest_log);
  keep_file(normalize_log);
  keep_file(watch_log);
  keep_file(jpath); /* the journal's rows, raw */
  char secrets[8][1024];
  const char *names[8] = {"NATS_PASSWORD", "NATS_TOKEN", "NATS_SYSTEM_PASSWORD", "the nkey seed"};
  int ns = 0;
  snprintf(secrets[ns++], sizeof secrets[0], "%s", getenv("NATS_PASSWORD"));
  snprintf(secrets[ns++], sizeof secrets[0], "%s", getenv("NATS_TOKEN"));
  snprintf(secrets[ns++], sizeof secrets[0], "%s", getenv("NATS_SYSTEM_PASSWORD"));
  FILE *f = fopen(getenv("NATS_NKEY_SEED"), "r");
  assert_non_null(f);
  assert_non_null(fgets(secrets[ns], sizeof secrets[0], f));
  secrets[ns][strcspn(secrets[ns], "\n")] = '\0';
  ns++;
  fclose(f);
  /* the .creds file's JWT and seed, though the story never uses them: nothing may show them */
  FILE *cf = fopen(getenv("NATS_CREDS_FILE"), "r");
  assert_non_null(cf);
  char cl[4096];
  bool take = false;
  while (fgets(cl, sizeof cl, cf) && ns < 7) {
    cl[strcspn(cl, "\n")] = '\0';
    if (strstr(cl, "-----BEGIN")) {
      take = true;
      continue;
    }
    if (take && strlen(cl) < sizeof secrets[0]) {
      snprintf(secrets[ns], sizeof secrets[0], "%s", cl);
      names[ns++] = strstr(cl, "SU") == cl ? "the .creds seed" : "the .creds JWT";
    }
    take = false;
  }
  fclose(cf);
  const char *pg = getenv("PG_URL"), *colon = strstr(pg, "postgres:"), *at = strchr(pg, '@');
  assert_non_null(colon);
  assert_non_null(at);
  names[ns] = "the PostgreSQL password";
  snprintf(secrets[ns++], sizeof secrets[0], "%.*s", (int)(at - colon - 9), colon + 9);
  pthread_mutex_lock(&mu);
  const char *text = gg_buf_str(&seen);
  size_t len = seen.len;
  int hits = 0;
  for (int i = 0; i < ns; i++) {
    assert_true(strlen(secrets[i]) >= 16);
    if (holds(text, len, secrets[i])) {
      fprintf(stderr,
              "LEAK: %s appears in what gonogo, watch or the services printed, logged, journaled, "
              "reported, served or posted\n",
              names[i]);
      hits++;
    }
  }
  print_message(
      "looked for %d secrets in %zu bytes (outputs, logs, journal, reports, /api/state, dashboard, "
      "%d webhook bodies)\n",
      ns, len, hook_posts);
  /* The grep can find what is there: the CA's path (not a secret) is in `show --json`. */
  bool control = holds(text, len, getenv("NATS_CA"));
  pthread_mutex_unlock(&mu);
  assert_int_equal(hits, 0);
  assert_true(control);
  assert_true(len > 10000);
}

/* ---- fixture ---- */

static void drop_streams(void) {
  jsErrCode jerr = 0;
  const char *names[] = {"AA_VENDOR_HOT", "AA_DLQ", "ATHLETE_ALLY_EVENTS"};
  for (int i = 0; i < 3; i++) js_DeleteStream(js, names[i], NULL, &jerr);
}

static int setup(void **state) {
  (void)state;
  gonogo = getenv("GONOGO_BIN");
  if (!gonogo || !getenv("NATS_SYSTEM_USER") || !getenv("GONOGO_INGEST_BIN") ||
      !getenv("GONOGO_SANDBOX_DIR")) {
    fprintf(stderr,
            "test_secure_story needs the secured sandbox's env (sandbox up --secure) and the binaries\n");
    return -1;
  }
  gg_buf_init(&seen, 256u << 20);
  /* nats.c sets OpenSSL up before libcurl does, or nats_Close() at exit crashes (svc/natsopts.c). */
  if (nats_Open(-1) != NATS_OK || gg_http_global_init(NULL) != GG_OK) return -1;
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(jpath, sizeof jpath, "%s/journal.db", dir);
  snprintf(ingest_log, sizeof ingest_log, "%s/ingest.log", dir);
  snprintf(normalize_log, sizeof normalize_log, "%s/normalize.log", dir);
  snprintf(watch_log, sizeof watch_log, "%s/watch.log", dir);
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(plan_text, f);
  fclose(f);
  if (support_nats_connect(getenv("NATS_URL"), &nc, &js) != 0) return -1;
  drop_streams();

  gg_httpd_route routes[] = {{"POST", "/hook", on_hook, NULL, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .threads = 2, .routes = routes, .nroutes = 1};
  if (gg_httpd_start(&ho, &hook, NULL) != GG_OK) return -1;
  snprintf(hook_url, sizeof hook_url, "http://127.0.0.1:%u/hook", gg_httpd_port(hook));
  int ip = free_port(), np = free_port();
  snprintf(ingest_url, sizeof ingest_url, "http://127.0.0.1:%d", ip);
  snprintf(normalize_url, sizeof normalize_url, "http://127.0.0.1:%d", np);
  snprintf(ingest_listen, sizeof ingest_listen, "INGEST_LISTEN=127.0.0.1:%d", ip);
  snprintf(normalize_listen, sizeof normalize_listen, "NORMALIZE_LISTEN=127.0.0.1:%d", np);
  static char e1[96], e2[96], e3[128];
  snprintf(e1, sizeof e1, "S_INGEST=%s", ingest_url);
  snprintf(e2, sizeof e2, "S_NORMALIZE=%s", normalize_url);
  snprintf(e3, sizeof e3, "S_HOOK=%s", hook_url);
  putenv(e1);
  putenv(e2);
  putenv(e3);

  const char *seed[] = {"sandbox", "seed", plan_path, NULL};
  if (run(seed) != 0) return -1;
  const char *ienv[] = {ingest_listen, NULL}; /* the sandbox's env: the nkey wins */
  const char *iargv[] = {getenv("GONOGO_INGEST_BIN"), NULL};
  ingest_pid = start(iargv[0], ingest_log, ienv, iargv);
  normalize_pid = start_normalize();
  if (!wait_healthy(ingest_url, 20) || !wait_healthy(normalize_url, 20)) {
    fprintf(stderr, "the services did not come up; see %s and %s\n", ingest_log, normalize_log);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  stop(&watcher);
  stop(&ingest_pid);
  stop(&normalize_pid);
  if (js) drop_streams();
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  gg_httpd_stop(hook);
  free(out);
  gg_buf_release(&seen);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  nats_Close();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(check_phase0_go_through_the_system_account),
      cmocka_unit_test(run_phase0),
      cmocka_unit_test(plan_and_run_phase1),
      cmocka_unit_test(watch_serves_its_dashboard),
      cmocka_unit_test(watch_rolls_back_when_normalize_stops),
      cmocka_unit_test(run_rollback_and_resume_by_hand),
      cmocka_unit_test(status_report_and_journal),
      cmocka_unit_test(no_secret_anywhere),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
