/*
 * gonogo watch as an operator meets it, against the sandbox `make test` brings up: a phase
 * that moves subjects between two streams made here is run by `gonogo run`, then one
 * `gonogo watch` process with a 1 s interval watches rules fed by metrics pages this test
 * serves, with a webhook receiver in this test. In order: a second watch is refused; a
 * condition flapping shorter than `for:` never fires; the checkpoint is evaluated at its
 * offset; an `advise` rule notifies without rolling back and is acknowledged; a metrics target
 * going away is an ERROR and the watcher keeps going; /api/state, / and /metrics serve what
 * they should; a NATS node killed fires a `notify` rule and the watcher keeps going; a sustained condition
 * fires exactly once and rolls the phase back (subjects restored on the cluster); SIGTERM ends the watcher
 * cleanly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/httpd.h"
#include "base/spawn.h"
#include "journal/journal.h"
#include "support.h"

#define SRC "WATCH_IT_SRC"
#define DST "WATCH_IT_DST"

static const char *gonogo;
static char dir[256], plan_path[300], jpath[300], log_path[300];
static gg_httpd *svc, *gone, *hook;
static char svc_url[64], gone_url[64], hook_url[96], dash[64];
static natsConnection *nc;
static jsCtx *js;
static pid_t watcher = -1;

/* ---- what this test serves ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double m_errors, m_lag;
static char hooks[1 << 20];
static size_t hooks_len;
static int hook_posts;

static void on_svc(gg_httpd_req *req, void *closure) {
  (void)closure;
  char page[256];
  pthread_mutex_lock(&mu);
  int n = snprintf(page, sizeof page, "# TYPE watch_errors gauge\nwatch_errors %g\nwatch_lag %g\n", m_errors,
                   m_lag);
  pthread_mutex_unlock(&mu);
  gg_httpd_respond(req, 200, "text/plain; version=0.0.4", page, (size_t)n, NULL);
}

static void on_gone(gg_httpd_req *req, void *closure) {
  (void)closure;
  const char *page = "gone_metric 0\n";
  gg_httpd_respond(req, 200, "text/plain; version=0.0.4", page, strlen(page), NULL);
}

static void on_hook(gg_httpd_req *req, void *closure) {
  (void)closure;
  size_t len;
  const char *body = gg_httpd_req_body(req, &len);
  pthread_mutex_lock(&mu);
  if (hooks_len + len + 2 < sizeof hooks) {
    memcpy(hooks + hooks_len, body, len);
    hooks_len += len;
    hooks[hooks_len++] = '\n';
    hooks[hooks_len] = '\0';
  }
  hook_posts++;
  pthread_mutex_unlock(&mu);
  gg_httpd_respond(req, 200, "text/plain", "ok", 2, NULL);
}

static void set_metrics(double errors, double lag) {
  pthread_mutex_lock(&mu);
  m_errors = errors;
  m_lag = lag;
  pthread_mutex_unlock(&mu);
}

static bool hooks_contain(const char *needle) {
  pthread_mutex_lock(&mu);
  bool found = strstr(hooks, needle) != NULL;
  pthread_mutex_unlock(&mu);
  return found;
}

/* ---- running gonogo ---- */

static char *last_out;

static int run_gonogo(const char *const *args) {
  free(last_out);
  last_out = NULL;
  const char *argv[24];
  int n = 0;
  argv[n++] = gonogo;
  for (int i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
  argv[n] = NULL;
  gg_spawn_opts o = {.timeout = 90, .max_output = 1 << 18};
  support_run_result r = support_run(argv, &o);
  last_out = r.out;
  int code = r.code;
  print_message("$ gonogo %s ... → %d\n%s\n", args[0], code, last_out);
  return code;
}

static void assert_contains(const char *hay, const char *needle) {
  if (!hay || !strstr(hay, needle)) print_message("expected to find: %s\n", needle);
  assert_non_null(hay);
  assert_non_null(strstr(hay, needle));
}

/* Events of `kind` whose content contains `needle` (NULL: any). */
static size_t count_events(const char *kind, const char *needle) {
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (journal_open(jpath, JOURNAL_OPEN_READONLY, &j, &err) != GG_OK) return 0;
  journal_filter f = journal_filter_all();
  f.kind = kind;
  journal_event *ev = NULL;
  size_t n = 0, hits = 0;
  if (journal_events(j, &f, &ev, &n, &err) == GG_OK)
    for (size_t i = 0; i < n; i++) hits += !needle || strstr(ev[i].content, needle) != NULL;
  journal_events_free(ev, n);
  journal_close(j);
  return hits;
}

/* Poll until count_events(kind, needle) >= want or `seconds` pass; returns the count. */
static size_t wait_events(const char *kind, const char *needle, size_t want, double seconds) {
  double until = gg_clock_mono() + seconds;
  size_t n;
  while ((n = count_events(kind, needle)) < want && gg_clock_mono() < until) usleep(200 * 1000);
  return n;
}

static char *get(const char *path, long *status) {
  char url[160];
  snprintf(url, sizeof url, "%s%s", dash, path);
  gg_http_response resp = {0};
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_get(url, NULL, &resp, &err) != GG_OK) {
    print_message("GET %s: %s\n", url, gg_error_message(&err));
    return NULL;
  }
  *status = resp.status;
  char *body = resp.body;
  resp.body = NULL;
  gg_http_response_release(&resp);
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

static bool watcher_alive(void) {
  return watcher > 0 && waitpid(watcher, NULL, WNOHANG) == 0;
}

static int sandbox(const char *action, const char *node) {
  const char *dirv = getenv("GONOGO_SANDBOX_DIR");
  if (!dirv) return -1;
  const char *args[] = {"sandbox", action, node, "--quiet", "--dir", dirv, NULL};
  return run_gonogo(args);
}

/* ---- scenarios, in order: they share the watcher ---- */

static void test_second_watch_refused(void **state) {
  (void)state;
  const char *args[] = {"watch", plan_path, "--journal", jpath, "--once", NULL};
  int code = run_gonogo(args);
  assert_int_not_equal(code, 0);
  assert_contains(last_out, "another watch of this migration is running");
}

static void test_flapping_never_fires(void **state) {
  (void)state;
  /* 2 s above the threshold, 2 s below, for 12 s; the rule needs 3 s (the lows are long
   * enough that a late evaluation cannot miss one) */
  for (int i = 0; i < 12; i++) {
    set_metrics(i % 4 < 2 ? 50 : 0, 0);
    usleep(1000 * 1000);
  }
  set_metrics(0, 0);
  assert_true(count_events("rule_pending", "Errors high") >= 1);
  assert_int_equal(count_events("rule_firing", "Errors high"), 0);
  assert_int_equal(count_events("phase_rolled_back", NULL), 0);
  assert_true(watcher_alive());
}

static void test_checkpoint_at_offset(void **state) {
  (void)state;
  /* T+4s after the phase completed; long past by now, and evaluated exactly once */
  assert_int_equal(wait_events("checkpoint", "T+4s", 1, 5), 1);
  assert_int_equal(count_events("checkpoint", "\"result\":\"PASS\""), 1);
}

static void test_advise_notifies_without_rollback(void **state) {
  (void)state;
  set_metrics(0, 500);
  assert_int_equal(wait_events("rule_firing", "Lag high", 1, 8), 1);
  double until = gg_clock_mono() + 5;
  while (!hooks_contain("advisory 'Lag high'") && gg_clock_mono() < until) usleep(100 * 1000);
  assert_true(hooks_contain("advisory 'Lag high'"));
  assert_true(hooks_contain("\"rule\":\"Lag high\""));
  assert_true(hooks_contain("\"then\":\"advise\""));
  assert_int_equal(count_events("phase_rolled_back", NULL), 0);
  assert_true(stream_has_subject(DST, "watchit.a.>"));
  const char *ack[] = {"watch", plan_path, "--journal", jpath, "--ack", "Lag high", "--by", "tester", NULL};
  assert_int_equal(run_gonogo(ack), 0);
  assert_int_equal(count_events("note", "\"acknowledge\":\"Lag high\""), 1);
  set_metrics(0, 0);
}

static void test_target_gone_is_error_and_watch_goes_on(void **state) {
  (void)state;
  gg_httpd_stop(gone);
  gone = NULL;
  usleep(2500 * 1000);
  long status = 0;
  char *body = get("/api/state", &status);
  assert_int_equal(status, 200);
  assert_contains(body, "\"name\": \"Gone target\"");
  assert_contains(body, gone_url + strlen("http://")); /* the error names the endpoint */
  assert_contains(body, "Lag high");
  assert_contains(body, "\"acknowledged\": true");
  free(body);
  assert_true(watcher_alive());
}

static void test_dashboard_and_metrics(void **state) {
  (void)state;
  long status = 0;
  char *page = get("/", &status);
  assert_int_equal(status, 200);
  assert_contains(page, "<svg");
  assert_contains(page, "Errors high");
  assert_contains(page, "class=\"threshold\"");
  assert_contains(page, "http-equiv=\"refresh\"");
  assert_contains(page, "name=\"viewport\"");
  assert_null(strstr(page, "src=\"http"));
  assert_null(strstr(page, "<script"));
  free(page);
  char *m = get("/metrics", &status);
  assert_int_equal(status, 200);
  assert_contains(m, "gonogo_watch_rule_state{rule=\"Errors high\"} 0");
  assert_contains(m, "gonogo_watch_rule_error{rule=\"Gone target\"} 1");
  assert_contains(m, "gonogo_watch_phase_state{phase=\"1\",state=\"completed\"} 1");
  free(m);
  char *h = get("/health", &status);
  assert_int_equal(status, 200);
  assert_contains(h, "\"status\":\"ok\"");
  free(h);
}

/* The node (1..3) that hosts neither of the test's R1 streams, as "1".."3" in out. */
static void node_without_streams(char *out, size_t n) {
  bool used[4] = {false, false, false, false};
  const char *names[] = {SRC, DST};
  for (int i = 0; i < 2; i++) {
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, js, names[i], NULL, &jerr) == NATS_OK && si->Cluster && si->Cluster->Leader) {
      const char *l = si->Cluster->Leader; /* "n2" */
      if (l[0] == 'n' && l[1] >= '1' && l[1] <= '3') used[l[1] - '0'] = true;
    }
    jsStreamInfo_Destroy(si);
  }
  int pick = !used[3] ? 3 : !used[2] ? 2 : 1;
  snprintf(out, n, "%d", pick);
}

/* Only R1 streams and no consumer exist here. nats-server 2.9.10 can panic restarting a node
 * that held an R1 stream whose subjects moved while it was down, so the node killed is one
 * that holds neither stream. */
static void test_node_killed_watch_goes_on(void **state) {
  (void)state;
  if (!getenv("GONOGO_SANDBOX_DIR")) skip();
  long status = 0;
  char node[4];
  node_without_streams(node, sizeof node);
  assert_int_equal(sandbox("kill-node", node), 0);
  size_t fired = wait_events("rule_firing", "NATS node down", 1, 15);
  char *h = get("/health", &status);
  assert_int_equal(sandbox("start-node", node), 0);
  assert_int_equal(fired, 1);
  assert_int_equal(status, 200);
  free(h);
  double until = gg_clock_mono() + 10;
  while (!hooks_contain("rule 'NATS node down' firing") && gg_clock_mono() < until) usleep(100 * 1000);
  assert_true(hooks_contain("rule 'NATS node down' firing"));
  assert_true(wait_events("rule_resolved", "NATS node down", 1, 30) >= 1);
  assert_true(watcher_alive());
  assert_int_equal(count_events("phase_rolled_back", NULL), 0); /* notify only */
}

static void test_sustained_fires_once_and_rolls_back(void **state) {
  (void)state;
  /* the streams answer again after the node's restart */
  double ready = gg_clock_mono() + 20;
  while (!stream_has_subject(DST, "watchit.a.>") && gg_clock_mono() < ready) usleep(250 * 1000);
  assert_true(stream_has_subject(DST, "watchit.a.>"));
  assert_false(stream_has_subject(SRC, "watchit.a.>"));
  set_metrics(50, 0);
  double t0 = gg_clock_mono();
  assert_int_equal(wait_events("phase_rolled_back", NULL, 1, 20), 1);
  print_message("rolled back %.1f s after the condition became true (for: 3s, interval 1s)\n",
                gg_clock_mono() - t0);
  assert_true(stream_has_subject(SRC, "watchit.a.>")); /* restored on the cluster */
  assert_false(stream_has_subject(DST, "watchit.a.>"));
  double until = gg_clock_mono() + 5;
  while (!hooks_contain("rolled back phase 1") && gg_clock_mono() < until) usleep(100 * 1000);
  assert_true(hooks_contain("rolled back phase 1"));
  assert_true(hooks_contain("\"then\":\"rollback\""));
  usleep(3000 * 1000); /* still high: nothing more happens */
  assert_int_equal(count_events("rule_firing", "Errors high"), 1);
  assert_int_equal(count_events("phase_rolled_back", NULL), 1);
  assert_true(count_events("rule_resolved", "no running or completed phase") >=
              1); /* nothing left to watch */
  long status = 0;
  char *m = get("/metrics", &status);
  assert_contains(m, "gonogo_watch_rollbacks_total{result=\"ok\"} 1");
  free(m);
  /* The checkpoint still to come is cancelled, not pending, on the API and the page; the log says
   * how many messages the rollback carried back. */
  char *s = get("/api/state", &status);
  assert_contains(s, "\"name\": \"Later (never reached here)\"");
  assert_contains(s, "cancelled (phase rolled back)");
  assert_contains(s, "\"state\": \"ROLLED BACK\""); /* the banner's facts, for a machine */
  assert_contains(s, "\"by\": \"by rule 'Errors high'\"");
  free(s);
  char *page = get("/", &status);
  assert_contains(page, "cancelled (phase rolled back)");
  /* The page leads with the state: the banner before everything, red, naming the phase, the
   * rule and the next step; the timeline marks the rollback. */
  const char *banner = strstr(page, "<div id=\"banner\" class=\"banner bad\"");
  assert_non_null(banner);
  assert_true(banner < strstr(page, "<h1>"));
  assert_contains(banner, "ROLLED BACK</strong> · phase 1");
  assert_contains(banner, "by rule &#39;Errors high&#39;");
  assert_contains(banner, "next: <code>investigate, then gonogo check ");
  assert_contains(page, "<svg class=\"timeline\"");
  assert_contains(page, "class=\"rollback\"");
  assert_contains(page, "<details id=\"other-rules\">");
  free(page);
  assert_true(hooks_contain("messages carried back"));
  set_metrics(0, 0);
}

static void test_sigterm_ends_cleanly(void **state) {
  (void)state;
  assert_true(watcher_alive());
  assert_int_equal(kill(watcher, SIGTERM), 0);
  int status = 0;
  double until = gg_clock_mono() + 15;
  pid_t r = 0;
  while ((r = waitpid(watcher, &status, WNOHANG)) == 0 && gg_clock_mono() < until) usleep(100 * 1000);
  assert_int_equal(r, watcher);
  watcher = -1;
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(count_events("note", "\"watch\":\"stopped\""), 1);
  /* the lock went with it: a new watch may run */
  const char *args[] = {"watch", plan_path, "--journal", jpath, "--once", NULL};
  assert_int_equal(run_gonogo(args), 0);
  const char *verify[] = {"journal", "verify", plan_path, "--journal", jpath, NULL};
  assert_int_equal(run_gonogo(verify), 0);
}

/* ---- fixture ---- */

static const char *plan_text =
    "migration: watch-it-${W_ID}\n"
    "connect:\n"
    "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
    "  targets:\n"
    "    svc: { metrics: \"${W_TARGET}/metrics\" }\n"
    "    gone: { metrics: \"${W_GONE}/metrics\" }\n"
    "  notify: [ { webhook: \"${W_HOOK}\" } ]\n"
    "topology:\n"
    "  streams:\n"
    "    " SRC
    ": { existing: true, subjects: [\"watchit.a.>\", \"watchit.b.>\"], replicas: 1, storage: file }\n"
    "    " DST
    ": { subjects: [\"watchit.a.>\"], replicas: 1, storage: file }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: Move subjects\n"
    "    go:\n"
    "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
    "    prepare:\n"
    "      - create_stream: " DST
    "\n"
    "    actions:\n"
    "      - move_subjects: { subjects: [\"watchit.a.>\"], from: " SRC ", to: " DST
    " }\n"
    "monitor:\n"
    "  interval: 1s\n"
    "  rules:\n"
    "    - { name: Errors high, when: 'watch_errors{target=\"svc\"} > 5', for: 3s, then: rollback }\n"
    "    - { name: Lag high, when: 'max_over_time(watch_lag{target=\"svc\"}, 2s) > 100', for: 1s, then: "
    "advise }\n"
    "    - { name: Gone target, when: 'gone_metric{target=\"gone\"} > 1', for: 1s, then: notify }\n"
    "    - { name: NATS node down, when: 'min(nats.server.up) < 1', for: 1s, then: notify }\n"
    "validation:\n"
    "  - at: 4s\n"
    "    expect:\n"
    "      - name: Subject on the new stream\n"
    "        expect: 'nats.stream.has_subject{stream=\"" DST
    "\", subject=\"watchit.a.>\"} == 1'\n"
    "  - at: 1h\n"
    "    name: Later (never reached here)\n"
    "    expect:\n"
    "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n";

static void drop_streams(void) {
  jsErrCode jerr = 0;
  js_DeleteStream(js, DST, NULL, &jerr);
  js_DeleteStream(js, SRC, NULL, &jerr);
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

static gg_httpd *serve(const char *method, const char *path, gg_httpd_handler h, char *url, size_t n) {
  gg_httpd_route routes[] = {{method, path, h, NULL, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .threads = 2, .routes = routes, .nroutes = 1};
  gg_httpd *s = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (gg_httpd_start(&ho, &s, &err) != GG_OK) return NULL;
  snprintf(url, n, "http://127.0.0.1:%u", gg_httpd_port(s));
  return s;
}

static int setup(void **state) {
  (void)state;
  gonogo = getenv("GONOGO_BIN");
  const char *nats_url = getenv("NATS_URL");
  if (!gonogo || !nats_url || !getenv("NATS_MONITOR_URLS")) {
    fprintf(stderr, "test_watch_live needs the sandbox env (NATS_URL, NATS_MONITOR_URLS) and GONOGO_BIN\n");
    return -1;
  }
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_global_init(&err) != GG_OK) return -1;
  snprintf(dir, sizeof dir, "/tmp/gonogo-watch-test-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(jpath, sizeof jpath, "%s/journal.db", dir);
  snprintf(log_path, sizeof log_path, "%s/watch.log", dir);
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(plan_text, f);
  fclose(f);

  svc = serve("GET", "/metrics", on_svc, svc_url, sizeof svc_url);
  gone = serve("GET", "/metrics", on_gone, gone_url, sizeof gone_url);
  char hook_base[64];
  hook = serve("POST", "/hook/s3cr3t-token", on_hook, hook_base, sizeof hook_base);
  if (!svc || !gone || !hook) return -1;
  snprintf(hook_url, sizeof hook_url, "%s/hook/s3cr3t-token", hook_base);
  char id[32];
  snprintf(id, sizeof id, "%d", (int)getpid());
  setenv("W_ID", id, 1);
  setenv("W_TARGET", svc_url, 1);
  setenv("W_GONE", gone_url, 1);
  setenv("W_HOOK", hook_url, 1);
  setenv("NO_COLOR", "1", 1);

  /* the streams: the legacy one holds both subject trees */
  if (support_nats_connect(nats_url, &nc, &js) != 0) return -1;
  drop_streams();
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  const char *subjects[] = {"watchit.a.>", "watchit.b.>"};
  sc.Name = SRC;
  sc.Subjects = subjects;
  sc.SubjectsLen = 2;
  sc.Replicas = 1;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  if (js_AddStream(&si, js, &sc, NULL, &jerr) != NATS_OK) {
    fprintf(stderr, "add stream %s: %s (%d)\n", SRC, nats_GetLastError(NULL), (int)jerr);
    return -1;
  }
  jsStreamInfo_Destroy(si);

  /* the phase, run for real: prepare (creates DST), then the cutover */
  const char *prep[] = {"run", plan_path, "--journal", jpath, "--phase", "1", "--prepare", "--yes", NULL};
  const char *run[] = {"run", plan_path, "--journal", jpath, "--phase", "1", "--yes", NULL};
  if (run_gonogo(prep) != 0 || run_gonogo(run) != 0) return -1;
  if (!stream_has_subject(DST, "watchit.a.>")) return -1;

  /* the watcher */
  int port = free_port();
  if (port <= 0) return -1;
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  snprintf(dash, sizeof dash, "http://127.0.0.1:%d", port);
  watcher = fork();
  if (watcher < 0) return -1;
  if (watcher == 0) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(gonogo, gonogo, "watch", plan_path, "--journal", jpath, "--listen", listen, "--advise-repeat", "2s",
          (char *)NULL);
    _exit(127);
  }
  /* wait for the dashboard and the first evaluation */
  double until = gg_clock_mono() + 20;
  while (gg_clock_mono() < until) {
    long status = 0;
    char *h = get("/health", &status);
    bool ok = h && status == 200 && strstr(h, "\"last_evaluation\":\"2");
    free(h);
    if (ok) return 0;
    if (!watcher_alive()) break;
    usleep(200 * 1000);
  }
  fprintf(stderr, "the watcher did not start; see %s\n", log_path);
  return -1;
}

static int teardown(void **state) {
  (void)state;
  if (watcher > 0) {
    kill(watcher, SIGKILL);
    waitpid(watcher, NULL, 0);
  }
  /* what the watcher logged, for the record; no secret in it */
  FILE *f = fopen(log_path, "r");
  if (f) {
    char line[1024];
    bool leaked = false;
    while (fgets(line, sizeof line, f)) {
      fprintf(stderr, "watch| %s", line);
      leaked |= strstr(line, "s3cr3t-token") != NULL;
    }
    fclose(f);
    if (leaked) fprintf(stderr, "the webhook secret appears in the watcher's log\n");
  }
  if (js) drop_streams();
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  gg_httpd_stop(svc);
  gg_httpd_stop(gone);
  gg_httpd_stop(hook);
  free(last_out);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (dir[0] && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  nats_Close();
  return 0;
}

static void test_no_secret_in_outputs(void **state) {
  (void)state;
  FILE *f = fopen(log_path, "r");
  assert_non_null(f);
  char line[1024];
  while (fgets(line, sizeof line, f)) assert_null(strstr(line, "s3cr3t-token"));
  fclose(f);
  long status = 0;
  char *s = get("/api/state", &status);
  assert_non_null(s);
  assert_null(strstr(s, "s3cr3t-token"));
  free(s);
  assert_int_equal(count_events("rule_firing", "s3cr3t-token"), 0);
  assert_int_equal(count_events("note", "s3cr3t-token"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_second_watch_refused),
      cmocka_unit_test(test_flapping_never_fires),
      cmocka_unit_test(test_checkpoint_at_offset),
      cmocka_unit_test(test_advise_notifies_without_rollback),
      cmocka_unit_test(test_target_gone_is_error_and_watch_goes_on),
      cmocka_unit_test(test_dashboard_and_metrics),
      cmocka_unit_test(test_node_killed_watch_goes_on),
      cmocka_unit_test(test_sustained_fires_once_and_rolls_back),
      cmocka_unit_test(test_no_secret_in_outputs),
      cmocka_unit_test(test_sigterm_ends_cleanly),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
