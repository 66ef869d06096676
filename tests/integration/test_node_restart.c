/*
 * A NATS node killed while `gonogo watch` runs, under traffic (issue #19 item 1): phases 0 and 1
 * of plans/nodekill.yaml run (ACT_VENDOR created, act.vendor.> moved to it from ACT_LEGACY, its
 * consumer created), the watcher with the example plan's rule "NATS cluster degraded (any node
 * down)" starts, node 3 is killed (SIGKILL), the rule fires and does what it says (rollback,
 * NODE_DOWN_THEN=advise for the proposed rule), then node 3 is started again. Expected: it
 * starts, it becomes healthy and current on every ACT_* stream, every node agrees on which
 * stream holds which subjects, and no published message is lost or duplicated.
 *
 * On nats-server 2.9.10 without the replica guard in move_subjects this fails: node 3 panics at
 * start-up (nil pointer in processClusterCreateStream replaying the creation of ACT_LEGACY, whose
 * act.vendor.> its disk gives to ACT_VENDOR), or comes back holding the subjects as they were
 * before a rollback made while it was down (see src/act/peers.h and scripts/repro-nodekill*).
 * With the guard (act_wait_peers_current before, act_meta_checkpoint after the move) it passes,
 * both with NODE_DOWN_THEN=rollback (the rollback waits for node 3) and advise.
 * -DGONOGO_NODE_RESTART_TEST=OFF registers it disabled. Whatever happens, the teardown leaves
 * node 3 running (its JetStream directory wiped if it cannot start) so that the tests after it
 * find a whole cluster.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include "act/peers.h"
#include "base/clock.h"
#include "base/http.h"
#include "test_act_fixture.h"

#define RUN(...) actx_gonogo((const char *const[]){__VA_ARGS__, NULL})
#define NODE "3"

static const char *sandbox_dir(void) {
  return getenv("GONOGO_SANDBOX_DIR");
}

/* `gonogo sandbox VERB 3 --dir DIR` (bounded by start-node's own 30 s); its exit code. */
static int sandbox(const char *verb) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' sandbox %s %s --dir '%s' 2>&1", getenv("GONOGO_BIN"), verb, NODE,
           sandbox_dir());
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  char line[512];
  while (fgets(line, sizeof line, f)) print_message("  %s", line);
  int rc = pclose(f);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The n-th (1-based) URL of NATS_MONITOR_URLS. */
static void monitor_url(int n, char *out, size_t cap) {
  out[0] = '\0';
  const char *list = getenv("NATS_MONITOR_URLS");
  if (!list) return;
  char *copy = strdup(list), *save = NULL;
  int i = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (++i == n) snprintf(out, cap, "%s", t);
  free(copy);
}

static char *http_get(const char *url, long *status) {
  gg_http_opts ho = {.timeout = 3, .max_body = 4 << 20, .headers = NULL};
  gg_http_response r = {0};
  gg_error e;
  gg_error_clear(&e);
  *status = 0;
  if (gg_http_get(url, &ho, &r, &e) != GG_OK) return NULL;
  *status = r.status;
  char *body = r.body; /* NUL-terminated; caller frees */
  r.body = NULL;
  gg_http_response_release(&r);
  return body;
}

static bool node_healthy(int n) {
  char base[256], url[320];
  monitor_url(n, base, sizeof base);
  snprintf(url, sizeof url, "%s/healthz", base);
  long status = 0;
  free(http_get(url, &status));
  return status == 200;
}

/* "ACT_DLQ=act.dlq.> ACT_LEGACY=act.core.>,act.vendor.> ..." as node n holds them (sorted by
 * stream, subjects sorted), from its /jsz. */
static void node_subjects(int n, char *out, size_t cap) {
  char base[256], url[400];
  monitor_url(n, base, sizeof base);
  snprintf(url, sizeof url, "%s/jsz?accounts=true&streams=true&config=true", base);
  long status = 0;
  char *body = http_get(url, &status);
  out[0] = '\0';
  if (!body) return;
  json_error_t je;
  json_t *d = json_loads(body, JSON_DECODE_INT_AS_REAL, &je); /* uint64 max appears in /jsz */
  free(body);
  char *items[64];
  size_t ni = 0;
  json_t *acc;
  size_t ia;
  json_array_foreach(json_object_get(d, "account_details"), ia, acc) {
    json_t *st;
    size_t is;
    json_array_foreach(json_object_get(acc, "stream_detail"), is, st) {
      const char *name = json_string_value(json_object_get(st, "name"));
      if (!name || strncmp(name, "ACT_", 4) != 0 || ni >= 64) continue;
      json_t *subs = json_object_get(json_object_get(st, "config"), "subjects");
      const char *sv[16];
      size_t ns = 0;
      json_t *s;
      size_t k;
      json_array_foreach(subs, k, s) if (ns < 16) sv[ns++] = json_string_value(s);
      for (size_t a = 0; a < ns; a++) /* sort subjects */
        for (size_t b = a + 1; b < ns; b++)
          if (strcmp(sv[a], sv[b]) > 0) {
            const char *t = sv[a];
            sv[a] = sv[b];
            sv[b] = t;
          }
      char item[512];
      size_t len = (size_t)snprintf(item, sizeof item, "%s=", name);
      for (size_t a = 0; a < ns && len < sizeof item; a++)
        len += (size_t)snprintf(item + len, sizeof item - len, "%s%s", a ? "," : "", sv[a]);
      items[ni++] = strdup(item);
    }
  }
  json_decref(d);
  for (size_t a = 0; a < ni; a++)
    for (size_t b = a + 1; b < ni; b++)
      if (strcmp(items[a], items[b]) > 0) {
        char *t = items[a];
        items[a] = items[b];
        items[b] = t;
      }
  size_t len = 0;
  for (size_t a = 0; a < ni; a++) {
    if (len < cap) len += (size_t)snprintf(out + len, cap - len, "%s%s", a ? " " : "", items[a]);
    free(items[a]);
  }
}

/* What node 3 logged since `mark` that explains a failed start (panic and a few frames). */
static void print_node_log_since(const char *mark) {
  char path[512];
  snprintf(path, sizeof path, "%s/n%s/nats.log", sandbox_dir(), NODE);
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[1024];
  bool after = false;
  int shown = 0;
  while (fgets(line, sizeof line, f) && shown < 14) {
    if (!after) {
      after = strstr(line, mark) != NULL;
      continue;
    }
    if (shown || strstr(line, "panic:") || strstr(line, "overlap") || strstr(line, "[FTL]") ||
        strstr(line, "[ERR]")) {
      print_message("  n%s: %s", NODE, line);
      if (strstr(line, "panic:") || shown) shown++;
    }
  }
  fclose(f);
}

static pid_t watcher = -1;

/* Whatever the test did: no watcher left, node 3 running, a crashed node 3 recovered (its
 * JetStream directory wiped; its streams come back from their peers). */
static int teardown(void **state) {
  (void)state;
  if (watcher > 0) {
    kill(watcher, SIGTERM);
    actx_gonogo_wait(watcher);
    watcher = -1;
  }
  actx_publisher_stop();
  actx_consumer_stop();
  if (sandbox_dir() && !node_healthy(3)) {
    if (sandbox("start-node") != 0) {
      print_message("teardown: node %s cannot start; wiping its JetStream directory\n", NODE);
      (void)sandbox("kill-node");
      char cmd[1024];
      snprintf(cmd, sizeof cmd, "rm -rf '%s/n%s/jetstream'", sandbox_dir(), NODE);
      if (system(cmd) != 0) print_message("teardown: %s failed\n", cmd);
      (void)sandbox("start-node");
    }
    for (int i = 0; i < 60 && !node_healthy(3); i++) sleep(1);
  }
  actx_cleanup();
  return 0;
}

static void node_killed_during_watch_rejoins_and_nothing_is_lost(void **state) {
  (void)state;
  if (!sandbox_dir()) skip();
  setenv("ACT_PLAN", "nodekill.yaml", 1);
  /* node 3 may lead a stream: its successor is elected after 4-9 s (nats-server 2.9 raft) */
  setenv("ACT_PUBLISH_BUDGET", "20", 0);
  const char *then = getenv("NODE_DOWN_THEN") ? getenv("NODE_DOWN_THEN") : "rollback";
  print_message("node-down rule: then %s\n", then);
  actx_init("noderestart", 3);
  actx_legacy_create();
  actx_consumer_start();
  actx_publisher_start(200);
  assert_int_equal(RUN("run", "--phase", "0", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--prepare", "--yes"), 0);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  assert_true(actx_stream_has_subject("ACT_VENDOR", "act.vendor.>"));

  watcher = actx_gonogo_spawn((const char *const[]){"watch", "--listen", "none", NULL});
  sleep(3);
  assert_int_equal(sandbox("kill-node"), 0);
  assert_true(actx_journal_wait("rule_firing", "NATS cluster degraded", 1, 20));
  /* Let the rule act: a rollback completes, or is held while the node is down (the guard). */
  for (int i = 0; i < 10 && actx_journal_count("phase_rolled_back", NULL) == 0; i++) sleep(1);
  print_message("rolled back while node %s was down: %d\n", NODE,
                actx_journal_count("phase_rolled_back", NULL));

  char mark[128];
  snprintf(mark, sizeof mark, "==== test_node_restart start-node %d %.0f", (int)getpid(), gg_clock_now());
  char path[512];
  snprintf(path, sizeof path, "%s/n%s/nats.log", sandbox_dir(), NODE);
  FILE *lf = fopen(path, "a");
  if (lf) {
    fprintf(lf, "%s\n", mark);
    fclose(lf);
  }
  int started = sandbox("start-node");
  if (started != 0) print_node_log_since(mark);
  assert_int_equal(started, 0);

  /* With then=rollback the rule's rollback, held while the node was down, runs now that it is
   * back: the node is looked at once it is over, not halfway through its move (which makes a
   * replica briefly not current, and /healthz say so). */
  if (strcmp(then, "rollback") == 0) assert_true(actx_journal_wait("phase_rolled_back", NULL, 1, 60));

  /* It rejoins: healthy (three answers in a row), and current on every stream of the test. */
  double until = gg_clock_mono() + 60;
  int healthy_in_a_row = 0;
  while (healthy_in_a_row < 3 && gg_clock_mono() < until) {
    healthy_in_a_row = node_healthy(3) ? healthy_in_a_row + 1 : 0;
    usleep(500 * 1000);
  }
  if (healthy_in_a_row < 3) print_node_log_since(mark);
  assert_int_equal(healthy_in_a_row, 3);
  const char *streams[] = {"ACT_LEGACY", "ACT_DLQ", "ACT_VENDOR"};
  gg_error e;
  gg_error_clear(&e);
  gg_status st = act_peers_wait(actx_js(), streams, 3, 60, NULL, NULL, &e);
  if (st != GG_OK) print_message("peers: %s\n", gg_error_message(&e));
  assert_int_equal(st, GG_OK);

  /* Every node agrees on which stream holds which subjects. Each replica applies a configuration
   * change on its own (its /jsz shows its local copy), so agreement gets a few seconds; a node
   * that replayed stale subjects disagrees for good. */
  char s1[2048], s2[2048], s3[2048];
  for (int i = 0; i < 20; i++) {
    node_subjects(1, s1, sizeof s1);
    node_subjects(2, s2, sizeof s2);
    node_subjects(3, s3, sizeof s3);
    if (strcmp(s1, s3) == 0 && strcmp(s2, s3) == 0) break;
    if (i == 0) print_message("nodes disagree (retrying for 10 s):\nn1: %s\nn2: %s\nn3: %s\n", s1, s2, s3);
    usleep(500 * 1000);
  }
  print_message("n1: %s\nn2: %s\nn3: %s\n", s1, s2, s3);
  assert_non_null(strstr(s3, "ACT_LEGACY=")); /* the comparison saw the streams */
  assert_string_equal(s1, s3);
  assert_string_equal(s2, s3);

  /* Nothing lost, nothing duplicated. */
  sleep(2);
  actx_publisher_stop();
  assert_int_equal(actx_publish_failures(), 0);
  assert_int_equal(actx_wait_consumed(60), 0);
  /* A carry-back republishes what the new consumer had delivered but not yet acknowledged: the
   * sink absorbs those repeats (ON CONFLICT), so only carried-back messages may arrive twice. */
  long carried = 0;
  const char *rb = actx_journal_last("phase_rolled_back", NULL);
  const char *cb = rb ? strstr(rb, "\"carried_back\":") : NULL;
  if (cb) carried = strtol(cb + strlen("\"carried_back\":"), NULL, 10);
  long dups = actx_duplicates();
  print_message("duplicates %ld, carried back %ld\n", dups, carried);
  assert_true(dups <= carried);
  print_message("published %ld messages, none lost\n", actx_published());
  assert_int_equal(RUN("journal", "verify"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(node_killed_during_watch_rejoins_and_nothing_is_lost, teardown)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
