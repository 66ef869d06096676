/*
 * Integration tests of the probes against the real sandbox (`make test` brings it up and
 * exports NATS_URL, NATS_MONITOR_URLS, PG_URL, PROMETHEUS_URL, ALERTMANAGER_URL,
 * PROMETHEUS_TARGETS_DIR, GONOGO_SANDBOX_DIR; GONOGO_BIN comes from ctest).
 *
 * Streams and consumers are created here with unique names and deleted at the end; HTTP
 * targets are served by the test itself (gg_httpd); a node is killed with
 * `gonogo sandbox kill-node` and always started again.
 */
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <nats/nats.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/httpd.h"
#include "base/spawn.h"
#include "expr/expr.h"
#include "probe/probe.h"
#include "support.h"

#define MAX_URLS 16

static struct {
  const char *gonogo;
  const char *sandbox_dir;
  char *nats_list;
  char *mon_list;
  const char *nats[MAX_URLS];
  size_t n_nats;
  const char *mon[MAX_URLS];
  size_t n_mon;
  const char *pg_url;
  const char *prometheus;
  const char *alertmanager;
  const char *targets_dir;
  gg_httpd *httpd;
  char base[64];
  char closed_url[64];
  int blackhole_fd;
  char blackhole_url[64];
  probe_database dbs[2];
  probe_target targets[4];
  probe_config cfg;
  char stream[64];
  char subject_prefix[64];
  pthread_mutex_t canary_lock;
  char canary_seen[128];
} T;

static size_t split(char *list, const char **out, size_t max) {
  size_t n = 0;
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save))
    out[n++] = tok;
  return n;
}

static const char metrics_page[] =
    "# HELP test_requests_total Requests.\n"
    "# TYPE test_requests_total counter\n"
    "test_requests_total{code=\"200\",path=\"/v1/hrv\"} 42\n"
    "test_requests_total{code=\"500\",path=\"/v1/hrv\"} 3\n"
    "# TYPE test_latency_seconds histogram\n"
    "test_latency_seconds_bucket{le=\"0.1\"} 40\n"
    "test_latency_seconds_bucket{le=\"+Inf\"} 45\n"
    "test_latency_seconds_sum 2.5\n"
    "test_latency_seconds_count 45\n";

static void h_health(gg_httpd_req *req, void *c) {
  (void)c;
  gg_httpd_respond(req, 200, "text/plain", "ok\n", 3, NULL);
}
static void h_metrics(gg_httpd_req *req, void *c) {
  (void)c;
  gg_httpd_respond(req, 200, "text/plain; version=0.0.4", metrics_page, sizeof metrics_page - 1, NULL);
}
static void h_fail(gg_httpd_req *req, void *c) {
  (void)c;
  gg_httpd_respond(req, 500, "text/plain", "database down\n", 14, NULL);
}
static void h_badmetrics(gg_httpd_req *req, void *c) {
  (void)c;
  static const char bad[] = "ok_metric 1\n# TYPE x counter\nx{code=\"200\" 5\n";
  gg_httpd_respond(req, 200, "text/plain", bad, sizeof bad - 1, NULL);
}
static void h_canary(gg_httpd_req *req, void *c) {
  (void)c;
  const char *v = gg_httpd_req_header(req, PROBE_CANARY_HEADER);
  pthread_mutex_lock(&T.canary_lock);
  snprintf(T.canary_seen, sizeof T.canary_seen, "%s", v ? v : "");
  pthread_mutex_unlock(&T.canary_lock);
  gg_httpd_respond_json(req, 202, "{\"accepted\":true}");
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0)
    return -1;
  close(fd);
  return ntohs(a.sin_port);
}

/* A socket that accepts connections into its backlog but never answers. */
static int group_setup(void **state) {
  (void)state;
  T.gonogo = support_need_env("test_probe", "GONOGO_BIN");
  T.sandbox_dir = support_need_env("test_probe", "GONOGO_SANDBOX_DIR");
  T.nats_list = strdup(support_need_env("test_probe", "NATS_URL"));
  T.mon_list = strdup(support_need_env("test_probe", "NATS_MONITOR_URLS"));
  T.pg_url = support_need_env("test_probe", "PG_URL");
  T.prometheus = getenv("PROMETHEUS_URL");
  T.alertmanager = getenv("ALERTMANAGER_URL");
  T.targets_dir = getenv("PROMETHEUS_TARGETS_DIR");
  T.n_nats = split(T.nats_list, T.nats, MAX_URLS);
  T.n_mon = split(T.mon_list, T.mon, MAX_URLS);
  pthread_mutex_init(&T.canary_lock, NULL);
  gg_error err;
  if (gg_http_global_init(&err) != GG_OK) return -1;

  static const gg_httpd_route routes[] = {
      {"GET", "/health", h_health, NULL, 0},  {"GET", "/metrics", h_metrics, NULL, 0},
      {"GET", "/fail", h_fail, NULL, 0},      {"GET", "/badmetrics", h_badmetrics, NULL, 0},
      {"POST", "/canary", h_canary, NULL, 0},
  };
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .threads = 2, .routes = routes, .nroutes = 5};
  if (gg_httpd_start(&ho, &T.httpd, &err) != GG_OK) {
    fprintf(stderr, "httpd: %s\n", err.msg);
    return -1;
  }
  snprintf(T.base, sizeof T.base, "http://127.0.0.1:%u", (unsigned)gg_httpd_port(T.httpd));
  snprintf(T.closed_url, sizeof T.closed_url, "http://127.0.0.1:%d", free_port());
  int bport = 0;
  T.blackhole_fd = support_blackhole(&bport);
  snprintf(T.blackhole_url, sizeof T.blackhole_url, "http://127.0.0.1:%d", bport);

  static char h_good[128], m_good[128], h_bad[128], m_bad[128], h_gone[128];
  snprintf(h_good, sizeof h_good, "%s/health", T.base);
  snprintf(m_good, sizeof m_good, "%s/metrics", T.base);
  snprintf(h_bad, sizeof h_bad, "%s/fail", T.base);
  snprintf(m_bad, sizeof m_bad, "%s/badmetrics", T.base);
  snprintf(h_gone, sizeof h_gone, "%s/health", T.closed_url);
  T.targets[0] = (probe_target){"good", h_good, m_good};
  T.targets[1] = (probe_target){"bad", h_bad, m_bad};
  T.targets[2] = (probe_target){"gone", h_gone, NULL};
  T.dbs[0] = (probe_database){"main", T.pg_url};
  static char pg_gone[128];
  snprintf(pg_gone, sizeof pg_gone, "postgresql://postgres@127.0.0.1:%d/athlete", free_port());
  T.dbs[1] = (probe_database){"gone", pg_gone};

  T.cfg = (probe_config){0};
  T.cfg.nats_servers = T.nats;
  T.cfg.n_nats_servers = T.n_nats;
  T.cfg.monitor_urls = T.mon;
  T.cfg.n_monitor_urls = T.n_mon;
  T.cfg.databases = T.dbs;
  T.cfg.n_databases = 2;
  T.cfg.targets = T.targets;
  T.cfg.n_targets = 3;
  T.cfg.prometheus_url = T.prometheus;
  T.cfg.alertmanager_url = T.alertmanager;
  T.cfg.timeout = 5;
  snprintf(T.stream, sizeof T.stream, "GGPROBE_%d", (int)getpid());
  snprintf(T.subject_prefix, sizeof T.subject_prefix, "ggprobe%d", (int)getpid());
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  gg_httpd_stop(T.httpd);
  if (T.blackhole_fd >= 0) close(T.blackhole_fd);
  free(T.nats_list);
  free(T.mon_list);
  nats_CloseAndWait(2000);
  return 0;
}

/* Select `name` with label pairs (NULL-terminated) into out; returns the status. */
static gg_status sel(probe_ctx *ctx, expr_vector *out, gg_error *err, const char *name, ...) {
  expr_matcher m[8];
  size_t n = 0;
  va_list ap;
  va_start(ap, name);
  for (const char *k; n < 8 && (k = va_arg(ap, const char *));) {
    m[n].label = k;
    m[n].op = EXPR_MATCH_EQ;
    m[n].value = va_arg(ap, const char *);
    n++;
  }
  va_end(ap);
  expr_selector s = {name, m, n};
  expr_vector_release(out);
  gg_error_clear(err);
  return probe_select(ctx, &s, out, err);
}

/* The value of the only sample (fails otherwise). */
static double one(const expr_vector *v) {
  if (v->n != 1) fail_msg("want one sample, got %zu", v->n);
  return v->v[0].value;
}

static double with_label(const expr_vector *v, const char *k, const char *val) {
  for (size_t i = 0; i < v->n; i++) {
    const char *x = expr_labels_get(&v->v[i].labels, k);
    if (x && strcmp(x, val) == 0) return v->v[i].value;
  }
  fail_msg("no sample with %s=\"%s\"", k, val);
  return NAN;
}

static void must(gg_status st, const gg_error *err) {
  if (st != GG_OK) fail_msg("%s: %s", gg_status_name(st), err->msg);
}

/* ---------------------------------------------------------------------------------- */

static void create_stream(jsCtx *js) {
  char subj[80];
  snprintf(subj, sizeof subj, "%s.>", T.subject_prefix);
  const char *subjects[] = {subj};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = T.stream;
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Replicas = 3;
  sc.Storage = js_MemoryStorage;
  jsErrCode jerr = 0;
  assert_int_equal(js_AddStream(NULL, js, &sc, NULL, &jerr), NATS_OK);
  for (int i = 0; i < 8; i++) {
    char s[96];
    snprintf(s, sizeof s, "%s.%s", T.subject_prefix, i < 5 ? "a" : "b");
    assert_int_equal(js_Publish(NULL, js, s, "x", 1, NULL, &jerr), NATS_OK);
  }
  char filter[96];
  snprintf(filter, sizeof filter, "%s.a", T.subject_prefix);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = "c1";
  cc.AckPolicy = js_AckExplicit;
  cc.FilterSubject = filter;
  assert_int_equal(js_AddConsumer(NULL, js, T.stream, &cc, NULL, &jerr), NATS_OK);
}

static void test_jetstream(void **state) {
  (void)state;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  assert_int_equal(natsConnection_ConnectTo(&nc, T.nats[0]), NATS_OK);
  assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
  create_stream(js);

  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  gg_error err;
  const char *S = T.stream;
  must(sel(ctx, &v, &err, "nats.jetstream.enabled", NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "nats.stream.exists", "stream", S, NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "nats.stream.messages", "stream", S, NULL), &err);
  assert_true(one(&v) == 8);
  assert_string_equal(expr_labels_get(&v.v[0].labels, "stream"), S);
  must(sel(ctx, &v, &err, "nats.stream.first_seq", "stream", S, NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "nats.stream.last_seq", "stream", S, NULL), &err);
  assert_true(one(&v) == 8);
  must(sel(ctx, &v, &err, "nats.stream.bytes", "stream", S, NULL), &err);
  assert_true(one(&v) > 8);
  must(sel(ctx, &v, &err, "nats.stream.last_ts", "stream", S, NULL), &err);
  assert_true(fabs(one(&v) - gg_clock_now()) < 60);
  must(sel(ctx, &v, &err, "nats.stream.consumers", "stream", S, NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "nats.stream.replicas_current", "stream", S, NULL), &err);
  assert_true(one(&v) >= 1 && one(&v) <= 3);

  char sa[96], sb[96], sx[96], sall[96];
  snprintf(sa, sizeof sa, "%s.a", T.subject_prefix);
  snprintf(sb, sizeof sb, "%s.b", T.subject_prefix);
  snprintf(sx, sizeof sx, "%s.nothing", T.subject_prefix);
  snprintf(sall, sizeof sall, "%s.x.>", T.subject_prefix);
  must(sel(ctx, &v, &err, "nats.stream.subject_messages", "stream", S, "subject", sa, NULL), &err);
  assert_true(one(&v) == 5);
  must(sel(ctx, &v, &err, "nats.stream.subject_messages", "stream", S, NULL), &err);
  assert_int_equal(v.n, 2);
  assert_true(with_label(&v, "subject", sb) == 3);
  must(sel(ctx, &v, &err, "nats.stream.subject_messages", "stream", S, "subject", sx, NULL), &err);
  assert_true(one(&v) == 0);
  must(sel(ctx, &v, &err, "nats.stream.has_subject", "stream", S, "subject", sall, NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "nats.stream.has_subject", "stream", S, "subject", "vendor.>", NULL), &err);
  assert_true(one(&v) == 0);

  must(sel(ctx, &v, &err, "nats.consumer.num_pending", "stream", S, "consumer", "c1", NULL), &err);
  assert_true(one(&v) == 5);
  assert_string_equal(expr_labels_get(&v.v[0].labels, "consumer"), "c1");
  must(sel(ctx, &v, &err, "nats.consumer.num_pending", "stream", S, NULL), &err); /* every consumer */
  assert_true(with_label(&v, "consumer", "c1") == 5);
  must(sel(ctx, &v, &err, "nats.consumer.num_ack_pending", "stream", S, "consumer", "c1", NULL), &err);
  assert_true(one(&v) == 0);
  must(sel(ctx, &v, &err, "nats.consumer.exists", "stream", S, "consumer", "nope", NULL), &err);
  assert_true(one(&v) == 0);
  assert_int_equal(sel(ctx, &v, &err, "nats.consumer.num_pending", "stream", S, "consumer", "nope", NULL),
                   GG_ERR_NO_DATA);
  assert_non_null(strstr(err.msg, "consumer 'nope' of stream"));

  /* A missing stream: exists is 0, everything else an error naming it. */
  must(sel(ctx, &v, &err, "nats.stream.exists", "stream", "GGPROBE_NO_SUCH", NULL), &err);
  assert_true(one(&v) == 0);
  assert_int_equal(sel(ctx, &v, &err, "nats.stream.messages", "stream", "GGPROBE_NO_SUCH", NULL),
                   GG_ERR_NO_DATA);
  assert_non_null(strstr(err.msg, "stream 'GGPROBE_NO_SUCH' not found"));
  assert_non_null(strstr(err.msg, "nats://"));

  /* Through the evaluator: the criterion fails and names the member's value. */
  char text[256];
  snprintf(text, sizeof text, "nats.consumer.num_pending{stream=\"%s\", consumer=\"c1\"} == 0", S);
  expr_node *node = NULL;
  assert_int_equal(expr_parse(text, &node, NULL, &err), GG_OK);
  expr_series_source src;
  probe_ctx_source(ctx, &src);
  expr_ctx ectx;
  expr_ctx_init(&ectx);
  ectx.sources = &src;
  ectx.n_sources = 1;
  expr_value val;
  expr_value_init(&val);
  must(expr_eval(node, &ectx, &val, &err), &err);
  assert_int_equal(val.kind, EXPR_VAL_BOOL);
  assert_false(val.truth);
  assert_int_equal(val.n_members, 1);
  assert_true(val.members[0].value == 5);
  expr_value_release(&val);
  expr_free(node);

  /* A canary published to the stream's subjects lands there, marked as canary data. */
  char csubj[96], *cstream = NULL;
  unsigned long long seq = 0;
  snprintf(csubj, sizeof csubj, "%s.canary", T.subject_prefix);
  must(probe_canary_publish(ctx, csubj, "{}", 2, "t-1", &cstream, &seq, &err), &err);
  assert_string_equal(cstream, S);
  assert_true(seq == 9);
  free(cstream);
  natsMsg *m = NULL;
  jsErrCode jerr = 0;
  assert_int_equal(js_GetMsg(&m, js, S, seq, NULL, &jerr), NATS_OK);
  const char *hv = NULL;
  assert_int_equal(natsMsgHeader_Get(m, PROBE_CANARY_HEADER, &hv), NATS_OK);
  assert_string_equal(hv, "t-1");
  natsMsg_Destroy(m);
  assert_int_not_equal(probe_canary_publish(ctx, "ggprobe.nobody.listens", "{}", 2, "t-2", NULL, NULL, &err),
                       GG_OK);
  assert_non_null(strstr(err.msg, "ggprobe.nobody.listens"));

  /* Fresh values after forget: the connection is reused, the numbers are re-read. */
  assert_int_equal(js_Publish(NULL, js, sa, "y", 1, NULL, &jerr), NATS_OK);
  /* The stream acks before the consumer's leader has counted the message: poll briefly. */
  double pending = 0;
  for (int tries = 0; tries < 40 && pending != 6; tries++) {
    probe_ctx_forget(ctx);
    must(sel(ctx, &v, &err, "nats.consumer.num_pending", "stream", S, "consumer", "c1", NULL), &err);
    pending = one(&v);
    if (pending != 6) usleep(50 * 1000);
  }
  assert_true(pending == 6);

  expr_vector_release(&v);
  probe_ctx_free(ctx);
  assert_int_equal(js_DeleteStream(js, S, NULL, &jerr), NATS_OK);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

static void test_monitoring(void **state) {
  (void)state;
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  gg_error err;
  /* Up at once, even just after streams were created (test_probe_up has the details). */
  must(sel(ctx, &v, &err, "nats.server.up", NULL), &err);
  if (probe_ctx_note_count(ctx) > 0) fail_msg("%s", probe_ctx_note(ctx, 0));
  assert_int_equal(v.n, T.n_mon);
  for (size_t i = 0; i < v.n; i++) {
    assert_true(v.v[i].value == 1);
    assert_true(expr_labels_get(&v.v[i].labels, "server")[0] == 'n'); /* the sandbox names nodes n1.. */
  }
  /* Just after streams were created or a node restarted, an asset may be catching up. */
  for (int attempt = 0; attempt < 40; attempt++) {
    probe_ctx_forget(ctx);
    must(sel(ctx, &v, &err, "nats.jetstream.current", NULL), &err);
    if (probe_ctx_note_count(ctx) == 0) break;
    usleep(250 * 1000);
  }
  if (probe_ctx_note_count(ctx) > 0) fail_msg("%s", probe_ctx_note(ctx, 0));
  assert_int_equal(v.n, T.n_mon);
  for (size_t i = 0; i < v.n; i++) assert_true(v.v[i].value == 1);
  must(sel(ctx, &v, &err, "nats.server.storage_free", NULL), &err);
  assert_int_equal(v.n, T.n_mon);
  for (size_t i = 0; i < v.n; i++) assert_true(v.v[i].value > 1e6);
  must(sel(ctx, &v, &err, "nats.server.memory_free", "server", "n1", NULL), &err);
  assert_true(with_label(&v, "server", "n1") > 0);
  must(sel(ctx, &v, &err, "nats.server.route_rtt", NULL), &err);
  assert_true(v.n >= T.n_mon * (T.n_mon - 1));
  for (size_t i = 0; i < v.n; i++) {
    assert_true(v.v[i].value > 0 && v.v[i].value < 1);
    assert_true(expr_labels_get(&v.v[i].labels, "peer")[0] == 'n');
  }
  must(sel(ctx, &v, &err, "nats.meta.leader_present", NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "nats.meta.cluster_size", NULL), &err);
  assert_true(one(&v) == (double)T.n_mon);
  must(sel(ctx, &v, &err, "nats.meta.peers_current", NULL), &err);
  assert_true(one(&v) == (double)T.n_mon);
  assert_int_equal(probe_ctx_note_count(ctx), 0);
  expr_vector_release(&v);
  probe_ctx_free(ctx);
}

static gg_status sandbox_cmd(const char *verb, const char *node) {
  const char *argv[] = {T.gonogo, "sandbox", verb, node, "--dir", T.sandbox_dir, NULL};
  gg_spawn_opts o = {.timeout = 60};
  gg_spawn_result r;
  gg_error err;
  gg_status st = gg_spawn_run(argv, &o, &r, &err);
  if (st != GG_OK) return st;
  if (r.exit_code != 0) fprintf(stderr, "gonogo sandbox %s %s: %s\n", verb, node, r.output);
  st = r.exit_code == 0 ? GG_OK : GG_ERR_CHILD;
  gg_spawn_result_release(&r);
  return st;
}

static int restart_node(void **state) {
  (void)state;
  return sandbox_cmd("start-node", "3") == GG_OK ? 0 : -1;
}

static void test_killed_node(void **state) {
  (void)state;
  /* Learn the names first, as a long-running watch would have. */
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  gg_error err;
  must(sel(ctx, &v, &err, "nats.server.up", NULL), &err);
  probe_ctx_free(ctx);

  assert_int_equal(sandbox_cmd("kill-node", "3"), GG_OK);
  ctx = probe_ctx_new(&T.cfg);
  double t0 = gg_clock_mono();
  must(sel(ctx, &v, &err, "nats.server.up", NULL), &err);
  double took = gg_clock_mono() - t0;
  assert_true(took < T.cfg.timeout + 1);
  assert_true(with_label(&v, "server", "n3") == 0);
  assert_true(with_label(&v, "server", "n1") == 1);
  assert_true(probe_ctx_note_count(ctx) >= 1);
  bool named = false;
  for (size_t i = 0; i < probe_ctx_note_count(ctx); i++)
    if (strstr(probe_ctx_note(ctx, i), "n3") && strstr(probe_ctx_note(ctx, i), T.mon[2])) named = true;
  if (!named) fail_msg("no note names n3 and %s: %s", T.mon[2], probe_ctx_note(ctx, 0));
  /* Storage headroom of a dead node is unknown: an error naming its endpoint, not a pass. */
  assert_int_not_equal(sel(ctx, &v, &err, "nats.server.storage_free", NULL), GG_OK);
  assert_non_null(strstr(err.msg, T.mon[2]));
  expr_vector_release(&v);
  probe_ctx_free(ctx);
}

static void test_postgres(void **state) {
  (void)state;
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  gg_error err;
  must(sel(ctx, &v, &err, "pg.up", "db", "main", NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "pg.ping", "db", "main", NULL), &err);
  assert_true(one(&v) > 0 && one(&v) < 1);
  must(sel(ctx, &v, &err, "pg.connect_time", "db", "main", NULL), &err);
  assert_true(one(&v) > 0 && one(&v) < 5);
  must(sel(ctx, &v, &err, "pg.connections", "db", "main", NULL), &err);
  assert_true(one(&v) >= 1);
  must(sel(ctx, &v, &err, "pg.max_connections", "db", "main", NULL), &err);
  assert_true(one(&v) >= 10);
  must(sel(ctx, &v, &err, "pg.pool_utilization", "db", "main", NULL), &err);
  assert_true(one(&v) > 0 && one(&v) <= 1);
  must(sel(ctx, &v, &err, "pg.xact_commit", "db", "main", NULL), &err);
  assert_true(one(&v) > 0);

  /* Rows inserted into a table this test writes to, read from pg_stat_user_tables. */
  PGconn *w = PQconnectdb(getenv("PG_URL"));
  assert_int_equal(PQstatus(w), CONNECTION_OK);
  PGresult *pr = PQexec(w,
                        "DROP TABLE IF EXISTS ggprobe_ins; CREATE TABLE ggprobe_ins (i int);"
                        " INSERT INTO ggprobe_ins SELECT generate_series(1, 25)");
  assert_int_equal(PQresultStatus(pr), PGRES_COMMAND_OK);
  PQclear(pr);
  /* A backend that goes idle flushes its statistics only after a while; ask for it now. */
  pr = PQexec(w, "SELECT pg_stat_force_next_flush()");
  PQclear(pr);
  pr = PQexec(w, "SELECT 1");
  PQclear(pr);
  double inserted = 0;
  for (int tries = 0; tries < 100 && inserted != 25; tries++) {
    probe_ctx_forget(ctx);
    expr_vector_release(&v);
    must(sel(ctx, &v, &err, "pg.rows_inserted", "db", "main", "table", "ggprobe_ins", NULL), &err);
    inserted = v.n == 1 ? one(&v) : 0;
    if (inserted != 25) usleep(100 * 1000);
  }
  assert_true(inserted == 25);
  pr = PQexec(w, "DROP TABLE ggprobe_ins");
  PQclear(pr);
  PQfinish(w);

  expr_vector_release(&v);
  must(probe_sql(ctx, "main", "select 41 + 1", &v, &err), &err);
  assert_true(one(&v) == 42);
  expr_vector_release(&v);
  must(probe_sql(ctx, "main", "select 'a' as k, 1 union all select 'b', 2.5", &v, &err), &err);
  assert_int_equal(v.n, 2);
  assert_true(with_label(&v, "k", "b") == 2.5);
  expr_vector_release(&v);
  must(probe_sql(ctx, "main", "select current_setting('transaction_read_only') = 'on'", &v, &err), &err);
  assert_true(one(&v) == 1);
  expr_vector_release(&v);
  assert_int_not_equal(probe_sql(ctx, "main", "create table ggprobe_x (i int)", &v, &err), GG_OK);
  assert_non_null(strstr(err.msg, "read-only"));
  assert_int_not_equal(probe_sql(ctx, "main", "select 1; select 2", &v, &err), GG_OK);
  assert_int_not_equal(probe_sql(ctx, "main", "select null::int", &v, &err), GG_OK);
  assert_non_null(strstr(err.msg, "NULL"));
  assert_int_not_equal(probe_sql(ctx, "nodb", "select 1", &v, &err), GG_OK);
  assert_non_null(strstr(err.msg, "nodb"));
  /* The connection survives a failed statement. */
  probe_ctx_forget(ctx);
  must(probe_sql(ctx, "main", "select 7", &v, &err), &err);
  assert_true(one(&v) == 7);
  expr_vector_release(&v);
  probe_ctx_free(ctx);

  /* A statement slower than the timeout is an error within about the timeout. */
  probe_config quick = T.cfg;
  quick.timeout = 0.5;
  ctx = probe_ctx_new(&quick);
  double t0 = gg_clock_mono();
  assert_int_not_equal(probe_sql(ctx, "main", "select pg_sleep(5)", &v, &err), GG_OK);
  assert_true(gg_clock_mono() - t0 < 3);
  probe_ctx_free(ctx);

  /* A database nobody listens on: pg.up is 0, the rest an error naming it. */
  ctx = probe_ctx_new(&T.cfg);
  must(sel(ctx, &v, &err, "pg.up", "db", "gone", NULL), &err);
  assert_true(one(&v) == 0);
  assert_int_not_equal(sel(ctx, &v, &err, "pg.ping", "db", "gone", NULL), GG_OK);
  assert_non_null(strstr(err.msg, "db 'gone'"));
  assert_null(strstr(err.msg, "postgres@"));     /* the URL (it could hold a password) is not shown */
  must(sel(ctx, &v, &err, "pg.up", NULL), &err); /* every database */
  assert_int_equal(v.n, 2);
  assert_true(with_label(&v, "db", "main") == 1);
  expr_vector_release(&v);
  probe_ctx_free(ctx);
}

static void test_http_targets(void **state) {
  (void)state;
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  gg_error err;
  must(sel(ctx, &v, &err, "http.up", "target", "good", NULL), &err);
  assert_true(one(&v) == 1);
  must(sel(ctx, &v, &err, "http.status", "target", "good", NULL), &err);
  assert_true(one(&v) == 200);
  must(sel(ctx, &v, &err, "http.latency", "target", "good", NULL), &err);
  assert_true(one(&v) > 0 && one(&v) < 5);
  must(sel(ctx, &v, &err, "http.up", "target", "bad", NULL), &err);
  assert_true(one(&v) == 0);
  must(sel(ctx, &v, &err, "http.status", "target", "bad", NULL), &err);
  assert_true(one(&v) == 500);
  must(sel(ctx, &v, &err, "http.up", "target", "gone", NULL), &err);
  assert_true(one(&v) == 0);
  assert_int_not_equal(sel(ctx, &v, &err, "http.status", "target", "gone", NULL), GG_OK);
  assert_non_null(strstr(err.msg, T.closed_url));
  must(sel(ctx, &v, &err, "http.up", NULL), &err);
  assert_int_equal(v.n, 3);
  bool note500 = false;
  for (size_t i = 0; i < probe_ctx_note_count(ctx); i++)
    if (strstr(probe_ctx_note(ctx, i), "HTTP 500") && strstr(probe_ctx_note(ctx, i), "database down"))
      note500 = true;
  assert_true(note500);

  /* Scraped series carry the target label and their own. */
  must(sel(ctx, &v, &err, "test_requests_total", "target", "good", "code", "500", NULL), &err);
  assert_true(with_label(&v, "code", "500") == 3);
  assert_string_equal(expr_labels_get(&v.v[0].labels, "target"), "good");
  must(sel(ctx, &v, &err, "test_latency_seconds_bucket", "target", "good", NULL), &err);
  assert_true(with_label(&v, "le", "+Inf") == 45);
  must(sel(ctx, &v, &err, "test_latency_seconds_count", "target", "good", NULL), &err);
  assert_true(one(&v) == 45);
  /* Without a target label every target's page is read; a malformed one is an error naming its line. */
  assert_int_equal(sel(ctx, &v, &err, "test_requests_total", NULL), GG_ERR_PARSE);
  assert_non_null(strstr(err.msg, "target 'bad'"));
  assert_non_null(strstr(err.msg, "line 3"));
  /* A name the page lacks is no data (the evaluator says so), not an error here. */
  must(sel(ctx, &v, &err, "no_such_metric_total", "target", "good", NULL), &err);
  assert_int_equal(v.n, 0);
  assert_int_not_equal(sel(ctx, &v, &err, "http.up", "target", "nobody", NULL), GG_OK);
  assert_non_null(strstr(err.msg, "nobody"));

  /* A canary POST carries the canary header. */
  char url[128];
  snprintf(url, sizeof url, "%s/canary", T.base);
  long status = 0;
  must(probe_canary_post(ctx, url, NULL, "{}", 2, "c-42", &status, &err), &err);
  assert_int_equal(status, 202);
  pthread_mutex_lock(&T.canary_lock);
  assert_string_equal(T.canary_seen, "c-42");
  pthread_mutex_unlock(&T.canary_lock);
  snprintf(url, sizeof url, "%s/fail", T.base);
  assert_int_not_equal(probe_canary_post(ctx, url, NULL, "{}", 2, "c-43", &status, &err), GG_OK);
  expr_vector_release(&v);
  probe_ctx_free(ctx);
}

static void test_unreachable_prometheus(void **state) {
  (void)state;
  probe_config c = T.cfg;
  c.prometheus_url = T.closed_url;
  c.alertmanager_url = T.closed_url;
  c.timeout = 1;
  probe_ctx *ctx = probe_ctx_new(&c);
  expr_vector v = {0};
  gg_error err;
  assert_int_not_equal(probe_promql(ctx, "up", &v, &err), GG_OK);
  assert_non_null(strstr(err.msg, T.closed_url));
  assert_int_not_equal(sel(ctx, &v, &err, "alerts.firing", NULL), GG_OK);
  assert_non_null(strstr(err.msg, T.closed_url));
  probe_ctx_free(ctx);
  /* A server that accepts and never answers: an error after the timeout, not a hang. */
  c.prometheus_url = T.blackhole_url;
  ctx = probe_ctx_new(&c);
  double t0 = gg_clock_mono();
  assert_int_equal(probe_promql(ctx, "up", &v, &err), GG_ERR_TIMEOUT);
  assert_true(gg_clock_mono() - t0 < 3);
  assert_non_null(strstr(err.msg, T.blackhole_url));
  expr_vector_release(&v);
  probe_ctx_free(ctx);
}

/* Prefetch reads everything concurrently; later selects answer from what it fetched. */
static void test_prefetch(void **state) {
  (void)state;
  probe_config c = T.cfg;
  c.timeout = 1;
  probe_ctx *ctx = probe_ctx_new(&c);
  const char *texts[] = {
      "nats.server.up == 1",
      "pg.ping{db=\"main\"} < 50ms and pg.up{db=\"main\"} == 1",
      "http.status{target=\"good\"} == 200",
      "sum(test_requests_total{target=\"good\"}) > 0",
      "sql(main, \"select 1\") == 1",
      "nats.meta.leader_present == 1",
  };
  enum { N = sizeof texts / sizeof texts[0] };
  expr_node *nodes[N];
  probe_want wants[N];
  gg_error err;
  for (size_t i = 0; i < N; i++) {
    int col = 0;
    if (expr_parse(texts[i], &nodes[i], &col, &err) != GG_OK)
      fail_msg("%s: col %d: %s", texts[i], col, err.msg);
    wants[i] = (probe_want){nodes[i], 0};
  }
  double t0 = gg_clock_mono();
  must(probe_prefetch(ctx, wants, N, &err), &err);
  /* A figure for the log, not an assertion (performance is measured by bench/). */
  fprintf(stderr, "prefetch of %d criteria (nats, monitoring, pg, http, scrape, sql): %.1f ms\n", (int)N,
          (gg_clock_mono() - t0) * 1000);
  expr_series_source src;
  probe_ctx_source(ctx, &src);
  expr_ctx ectx;
  expr_ctx_init(&ectx);
  ectx.sources = &src;
  ectx.n_sources = 1;
  for (size_t i = 0; i < N; i++) {
    expr_value val;
    expr_value_init(&val);
    if (expr_eval(nodes[i], &ectx, &val, &err) != GG_OK) fail_msg("%s: %s", texts[i], err.msg);
    if (val.kind != EXPR_VAL_BOOL || !val.truth) fail_msg("%s: does not hold", texts[i]);
    expr_value_release(&val);
    expr_free(nodes[i]);
  }
  probe_ctx_free(ctx);
}

static bool prometheus_has(probe_ctx *ctx, const char *query, double want) {
  expr_vector v = {0};
  gg_error err;
  bool ok = probe_promql(ctx, query, &v, &err) == GG_OK && v.n == 1 && v.v[0].value == want;
  expr_vector_release(&v);
  return ok;
}

static void test_prometheus_scrape(void **state) {
  (void)state;
  if (!T.prometheus || !*T.prometheus || !T.targets_dir) {
    fprintf(stderr, "PROMETHEUS_URL not set: Prometheus scrape test skipped\n");
    skip();
  }
  char path[512], job[64], body[512], query[256];
  snprintf(job, sizeof job, "ggprobe%d", (int)getpid());
  snprintf(path, sizeof path, "%s/%s.json", T.targets_dir, job);
  snprintf(body, sizeof body, "[{\"targets\": [\"%s\"], \"labels\": {\"job\": \"%s\"}}]\n", T.base + 7, job);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(body, f);
  fclose(f);
  snprintf(query, sizeof query, "test_requests_total{job=\"%s\", code=\"200\"}", job);
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  bool seen = false;
  for (int i = 0; i < 60 && !seen; i++) {
    probe_ctx_forget(ctx);
    seen = prometheus_has(ctx, query, 42);
    if (!seen) usleep(500 * 1000);
  }
  /* Its history, as check reads it: the plan's target "good" is the instance Prometheus
   * scrapes at its metrics URL's host:port, labelled back as the probes label it. */
  expr_matcher hm[] = {{"target", EXPR_MATCH_EQ, "good"}, {"code", EXPR_MATCH_EQ, "200"}};
  expr_selector hs = {.name = "test_requests_total", .matchers = hm, .n_matchers = 2};
  expr_matrix m;
  gg_error herr;
  size_t points = 0;
  for (int i = 0; i < 40 && seen && points < 3; i++) {
    memset(&m, 0, sizeof m);
    gg_error_clear(&herr);
    must(probe_prom_history(&T.cfg, &hs, 60, gg_clock_now(), 5, &m, &herr), &herr);
    points = m.n == 1 ? m.v[0].n : 0;
    if (points < 3) {
      expr_matrix_release(&m);
      usleep(500 * 1000);
    }
  }
  remove(path);
  assert_true(seen);
  assert_true(points >= 3);
  assert_string_equal(expr_labels_get(&m.v[0].labels, "target"), "good");
  assert_string_equal(expr_labels_get(&m.v[0].labels, "code"), "200");
  assert_null(expr_labels_get(&m.v[0].labels, "instance"));
  assert_null(expr_labels_get(&m.v[0].labels, "job"));
  assert_true(m.v[0].points[points - 1].v == 42);
  expr_matrix_release(&m);
  /* Not Prometheus's to answer: a built-in series, a target without a metrics URL. */
  memset(&m, 0, sizeof m);
  expr_selector builtin = {.name = "nats.stream.messages"};
  assert_int_equal(probe_prom_history(&T.cfg, &builtin, 60, gg_clock_now(), 5, &m, &herr), GG_ERR_NOT_FOUND);
  expr_matcher gone[] = {{"target", EXPR_MATCH_EQ, "gone"}};
  expr_selector gs = {.name = "test_requests_total", .matchers = gone, .n_matchers = 1};
  assert_int_equal(probe_prom_history(&T.cfg, &gs, 60, gg_clock_now(), 5, &m, &herr), GG_ERR_NOT_FOUND);
  expr_matrix_release(&m);
  /* A scalar, a vector with labels, and a bad query naming the server. */
  expr_vector v = {0};
  gg_error err;
  must(probe_promql(ctx, "scalar(vector(3))", &v, &err), &err);
  assert_true(one(&v) == 3);
  expr_vector_release(&v);
  snprintf(query, sizeof query, "sum by (code) (test_requests_total{job=\"%s\"})", job);
  must(probe_promql(ctx, query, &v, &err), &err);
  assert_true(with_label(&v, "code", "500") == 3);
  expr_vector_release(&v);
  assert_int_equal(probe_promql(ctx, "sum(", &v, &err), GG_ERR_EXPR);
  assert_non_null(strstr(err.msg, "bad_data"));
  probe_ctx_free(ctx);
}

static void post_alert(const char *name, double ends_in) {
  char starts[64], ends[64], body[512], url[256];
  gg_time_format(gg_clock_now() - 1, starts, sizeof starts);
  gg_time_format(gg_clock_now() + ends_in, ends, sizeof ends);
  snprintf(
      body, sizeof body,
      "[{\"labels\": {\"alertname\": \"%s\", \"severity\": \"critical\"}, \"startsAt\": \"%s\", \"endsAt\": "
      "\"%s\"}]",
      name, starts, ends);
  snprintf(url, sizeof url, "%s/api/v2/alerts", T.alertmanager);
  gg_http_response resp;
  gg_error err;
  gg_http_opts o = {.timeout = 5};
  must(gg_http_post(url, "application/json", body, strlen(body), &o, &resp, &err), &err);
  assert_int_equal(resp.status, 200);
  gg_http_response_release(&resp);
}

static void test_alertmanager(void **state) {
  (void)state;
  if (!T.alertmanager || !*T.alertmanager) {
    fprintf(stderr, "ALERTMANAGER_URL not set: Alertmanager test skipped\n");
    skip();
  }
  char name[64];
  snprintf(name, sizeof name, "GgProbe%d", (int)getpid());
  post_alert(name, 300);
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  gg_error err;
  bool seen = false;
  for (int i = 0; i < 40 && !seen; i++) {
    probe_ctx_forget(ctx);
    must(sel(ctx, &v, &err, "alerts.firing", "alertname", name, NULL), &err);
    seen = v.n == 1 && v.v[0].value == 1;
    if (!seen) usleep(250 * 1000);
  }
  post_alert(name, 0); /* resolve it again */
  assert_true(seen);
  assert_string_equal(expr_labels_get(&v.v[0].labels, "severity"), "critical");
  must(sel(ctx, &v, &err, "alerts.firing", "alertname", "GgProbeNeverFired", NULL), &err);
  assert_true(one(&v) == 0);
  expr_vector_release(&v);
  probe_ctx_free(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_jetstream),
      cmocka_unit_test(test_monitoring),
      cmocka_unit_test(test_postgres),
      cmocka_unit_test(test_http_targets),
      cmocka_unit_test(test_unreachable_prometheus),
      cmocka_unit_test(test_prefetch),
      cmocka_unit_test(test_prometheus_scrape),
      cmocka_unit_test(test_alertmanager),
      cmocka_unit_test_teardown(test_killed_node, restart_node),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
