/*
 * "Up means up" (issue #16): nats.server.up is whether a server answers its monitoring
 * endpoint, not whether its JetStream assets are current, so a healthy cluster that has
 * just created R3 streams reads up = 1 on every node; nats.jetstream.current says whether
 * the assets have caught up. A killed node is up = 0 (never missing) with "refused" in the
 * note; a monitor that accepts but never answers is up = 0 with "timed out".
 *
 * Needs the sandbox env (NATS_URL, NATS_MONITOR_URLS, GONOGO_SANDBOX_DIR) and GONOGO_BIN;
 * streams are created with unique names and deleted; node 3 is always started again.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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

#include "base/clock.h"
#include "base/http.h"
#include "base/spawn.h"
#include "expr/expr.h"
#include "probe/probe.h"
#include "support.h"

#define MAX_URLS 16
#define N_STREAMS 6
#define ROUNDS 20

static struct {
  const char *gonogo;
  const char *sandbox_dir;
  const char *nats_url;
  char *mon_list;
  const char *mon[MAX_URLS];
  size_t n_mon;
  probe_config cfg;
  char killed_stream[64]; /* test_killed_node_is_down's stream, deleted by its teardown */
} T;

static int group_setup(void **state) {
  (void)state;
  T.gonogo = support_need_env("test_probe_up", "GONOGO_BIN");
  T.sandbox_dir = support_need_env("test_probe_up", "GONOGO_SANDBOX_DIR");
  T.nats_url = support_need_env("test_probe_up", "NATS_URL");
  T.mon_list = strdup(support_need_env("test_probe_up", "NATS_MONITOR_URLS"));
  for (char *save = NULL, *tok = strtok_r(T.mon_list, ",", &save); tok && T.n_mon < MAX_URLS;
       tok = strtok_r(NULL, ",", &save))
    T.mon[T.n_mon++] = tok;
  gg_error err;
  if (gg_http_global_init(&err) != GG_OK) return -1;
  T.cfg = (probe_config){0};
  T.cfg.monitor_urls = T.mon;
  T.cfg.n_monitor_urls = T.n_mon;
  T.cfg.timeout = 5;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  free(T.mon_list);
  nats_CloseAndWait(2000);
  return 0;
}

/* name{} of every monitor URL of cfg into out; fails the test on an error. */
static void select_all(probe_ctx *ctx, const char *name, expr_vector *out) {
  expr_selector s = {name, NULL, 0};
  gg_error err;
  gg_error_clear(&err);
  expr_vector_release(out);
  gg_status st = probe_select(ctx, &s, out, &err);
  if (st != GG_OK) fail_msg("%s: %s: %s", name, gg_status_name(st), err.msg);
}

static const char *server_of(const expr_sample *s) {
  const char *v = expr_labels_get(&s->labels, "server");
  return v ? v : "";
}

/* The note of ctx that starts with `series{server="name"}`, or NULL. */
static const char *note_for(probe_ctx *ctx, const char *series, const char *name) {
  char prefix[160];
  snprintf(prefix, sizeof prefix, "%s{server=\"%s\"}", series, name);
  for (size_t i = 0; i < probe_ctx_note_count(ctx); i++)
    if (strncmp(probe_ctx_note(ctx, i), prefix, strlen(prefix)) == 0) return probe_ctx_note(ctx, i);
  return NULL;
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

static void add_r3_stream(jsCtx *js, const char *name, const char *subject) {
  const char *subjects[] = {subject};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = name;
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Replicas = 3;
  sc.Storage = js_FileStorage;
  jsErrCode jerr = 0;
  natsStatus s = js_AddStream(NULL, js, &sc, NULL, &jerr);
  if (s != NATS_OK) fail_msg("create R3 stream '%s': %s (%d)", name, natsStatus_GetText(s), (int)jerr);
}

static void test_up_while_streams_catch_up(void **state) {
  (void)state;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  assert_int_equal(support_nats_connect(T.nats_url, &nc, &js), 0);
  char names[N_STREAMS][64];
  for (int i = 0; i < N_STREAMS; i++) {
    char subject[80];
    snprintf(names[i], sizeof names[i], "GGUP_%d_%d", (int)getpid(), i);
    snprintf(subject, sizeof subject, "ggup%d.%d.>", (int)getpid(), i);
    add_r3_stream(js, names[i], subject);
  }
  /* Straight away, round after round: every node is up, whatever /healthz says. */
  expr_vector v = {0};
  int rounds_catching_up = 0;
  for (int round = 0; round < ROUNDS; round++) {
    probe_ctx *ctx = probe_ctx_new(&T.cfg);
    select_all(ctx, "nats.server.up", &v);
    if (v.n != T.n_mon) fail_msg("round %d: nats.server.up has %zu samples, want %zu", round, v.n, T.n_mon);
    for (size_t i = 0; i < v.n; i++)
      if (v.v[i].value != 1) {
        const char *why = note_for(ctx, "nats.server.up", server_of(&v.v[i]));
        fail_msg("round %d: nats.server.up{server=\"%s\"} = %g: %s", round, server_of(&v.v[i]), v.v[i].value,
                 why ? why : "(no note)");
      }
    select_all(ctx, "nats.jetstream.current", &v);
    assert_int_equal(v.n, T.n_mon);
    bool all_current = true;
    for (size_t i = 0; i < v.n; i++) all_current = all_current && v.v[i].value == 1;
    if (!all_current) rounds_catching_up++;
    probe_ctx_free(ctx);
  }
  /* Whether /healthz said 503 in some round depends on timing; say so, the test is the above. */
  fprintf(stderr, "test_probe_up: %d of %d rounds had a JetStream asset catching up\n", rounds_catching_up,
          ROUNDS);

  /* The assets catch up: nats.jetstream.current becomes 1 on every node. */
  bool current = false;
  double deadline = gg_clock_mono() + 30;
  char last[512] = "";
  while (!current && gg_clock_mono() < deadline) {
    probe_ctx *ctx = probe_ctx_new(&T.cfg);
    select_all(ctx, "nats.jetstream.current", &v);
    current = v.n == T.n_mon;
    for (size_t i = 0; i < v.n; i++) current = current && v.v[i].value == 1;
    if (!current && probe_ctx_note_count(ctx) > 0) snprintf(last, sizeof last, "%s", probe_ctx_note(ctx, 0));
    probe_ctx_free(ctx);
    if (!current) usleep(200 * 1000);
  }
  if (!current) fail_msg("nats.jetstream.current not 1 on every node after 30 s: %s", last);

  expr_vector_release(&v);
  for (int i = 0; i < N_STREAMS; i++) js_DeleteStream(js, names[i], NULL, NULL);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

/* Start node 3 again and delete the stream, however the test ended. */
static int restart_node(void **state) {
  (void)state;
  int rc = sandbox_cmd("start-node", "3") == GG_OK ? 0 : -1;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  if (T.killed_stream[0] && support_nats_connect(T.nats_url, &nc, &js) == 0) {
    js_DeleteStream(js, T.killed_stream, NULL, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  return rc;
}

static void test_killed_node_is_down(void **state) {
  (void)state;
  /* An R3 stream and consumer that get traffic while node 3 is down, so that it has to catch
   * up when it comes back. */
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  assert_int_equal(support_nats_connect(T.nats_url, &nc, &js), 0);
  char subject[80];
  const char *stream = T.killed_stream;
  snprintf(T.killed_stream, sizeof T.killed_stream, "GGUPK_%d", (int)getpid());
  snprintf(subject, sizeof subject, "ggupk%d.>", (int)getpid());
  add_r3_stream(js, stream, subject);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = "ggup";
  cc.AckPolicy = js_AckExplicit;
  jsErrCode jerr = 0;
  assert_int_equal(js_AddConsumer(NULL, js, stream, &cc, NULL, &jerr), NATS_OK);

  /* Learn the names first, as a long-running watch would have. */
  probe_ctx *ctx = probe_ctx_new(&T.cfg);
  expr_vector v = {0};
  select_all(ctx, "nats.server.up", &v);
  probe_ctx_free(ctx);

  assert_int_equal(sandbox_cmd("kill-node", "3"), GG_OK);
  ctx = probe_ctx_new(&T.cfg);
  select_all(ctx, "nats.server.up", &v);
  assert_int_equal(v.n, T.n_mon); /* the dead node is 0, not missing */
  for (size_t i = 0; i < v.n; i++) {
    bool dead = strcmp(server_of(&v.v[i]), "n3") == 0;
    if (v.v[i].value != (dead ? 0 : 1))
      fail_msg("nats.server.up{server=\"%s\"} = %g with n3 killed", server_of(&v.v[i]), v.v[i].value);
  }
  const char *why = note_for(ctx, "nats.server.up", "n3");
  if (!why || !strstr(why, "refused"))
    fail_msg("the note for n3 does not say refused: %s", why ? why : "none");
  select_all(ctx, "nats.jetstream.current", &v);
  assert_int_equal(v.n, T.n_mon);
  for (size_t i = 0; i < v.n; i++)
    if (strcmp(server_of(&v.v[i]), "n3") == 0) assert_true(v.v[i].value == 0);
  probe_ctx_free(ctx);

  char subj[96];
  snprintf(subj, sizeof subj, "ggupk%d.x", (int)getpid());
  for (int i = 0; i < 2000; i++) js_PublishAsync(js, subj, "0123456789abcdef", 16, NULL);
  assert_int_equal(js_PublishAsyncComplete(js, NULL), NATS_OK);

  /* Back with its data: up on every round while it catches up. */
  assert_int_equal(sandbox_cmd("start-node", "3"), GG_OK);
  int rounds_catching_up = 0;
  for (int round = 0; round < ROUNDS; round++) {
    ctx = probe_ctx_new(&T.cfg);
    select_all(ctx, "nats.server.up", &v);
    assert_int_equal(v.n, T.n_mon);
    for (size_t i = 0; i < v.n; i++)
      if (v.v[i].value != 1) {
        why = note_for(ctx, "nats.server.up", server_of(&v.v[i]));
        fail_msg("round %d after restart: nats.server.up{server=\"%s\"} = 0: %s", round, server_of(&v.v[i]),
                 why ? why : "(no note)");
      }
    select_all(ctx, "nats.jetstream.current", &v);
    for (size_t i = 0; i < v.n; i++)
      if (v.v[i].value != 1) {
        rounds_catching_up++;
        break;
      }
    probe_ctx_free(ctx);
  }
  fprintf(stderr, "test_probe_up: %d of %d rounds after the restart had n3 catching up\n", rounds_catching_up,
          ROUNDS);
  expr_vector_release(&v);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

/* A socket that accepts connections into its backlog but never answers. */
static void test_silent_monitor_times_out(void **state) {
  (void)state;
  int port = 0;
  int fd = support_blackhole(&port);
  assert_true(fd >= 0);
  char url[64], label[32];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  snprintf(label, sizeof label, "127.0.0.1:%d", port);
  const char *urls[] = {T.mon[0], url};
  probe_config cfg = T.cfg;
  cfg.monitor_urls = urls;
  cfg.n_monitor_urls = 2;
  cfg.timeout = 1;
  probe_ctx *ctx = probe_ctx_new(&cfg);
  expr_vector v = {0};
  double t0 = gg_clock_mono();
  select_all(ctx, "nats.server.up", &v);
  assert_true(gg_clock_mono() - t0 < cfg.timeout + 1.5);
  assert_int_equal(v.n, 2);
  for (size_t i = 0; i < v.n; i++)
    assert_true(v.v[i].value == (strcmp(server_of(&v.v[i]), label) == 0 ? 0 : 1));
  const char *why = note_for(ctx, "nats.server.up", label);
  if (!why || !strstr(why, "timed out"))
    fail_msg("the note for %s does not say timed out: %s", label, why ? why : "none");
  expr_vector_release(&v);
  probe_ctx_free(ctx);
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_up_while_streams_catch_up),
      cmocka_unit_test(test_silent_monitor_times_out),
      cmocka_unit_test_teardown(test_killed_node_is_down, restart_node),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
