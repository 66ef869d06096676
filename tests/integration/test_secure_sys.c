/*
 * The server-level series through the system account against the same series through the
 * monitoring port, on the same secured cluster: same labels and same values (free storage
 * and memory within a megabyte, route RTTs by their labels only: they move between two
 * reads). A monitor URL that does not answer falls back to the system account. A node killed
 * is nats.server.up = 0 and nats.jetstream.current = 0 by its name, never missing, and
 * storage_free an error naming it. `check` names the cluster as the system account reports it.
 *
 * Runs before test_secure_story (secure.cmake's order): nats-server 2.9.10 can panic
 * restarting a node once streams were deleted and re-created by name on the cluster, which
 * the story does; on a fresh secured sandbox this test has created none.
 */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/spawn.h"
#include "support.h"

static const char *gonogo;
static char dir[] = "/tmp/gonogo-secure-sys-XXXXXX";
static char plan_path[128], mon_env[512];

static const char *plan_text =
    "migration: secure-sys\n"
    "connect:\n"
    "  nats:\n"
    "    servers: \"${NATS_URL}\"\n"
    "    monitor: \"${S_MONITOR:-}\"\n"
    "    user: \"${NATS_USER}\"\n"
    "    password: \"${NATS_PASSWORD}\"\n"
    "    tls: { ca: \"${NATS_CA}\" }\n"
    "    system: { user: \"${NATS_SYSTEM_USER}\", password: \"${NATS_SYSTEM_PASSWORD}\" }\n"
    "    expect_servers: 3\n"
    "phases:\n"
    "  - { id: 1, name: Look, go: [{ name: JetStream, expect: nats.jetstream.enabled == 1 }] }\n";

/* eval EXPR --json through the system account (monitor NULL) or the given monitor URLs;
 * returns the parsed document (you own it) and the exit code in *code. */
static json_t *eval(const char *expr, const char *monitor, int *code) {
  char menv[600];
  snprintf(menv, sizeof menv, "S_MONITOR=%s", monitor ? monitor : "");
  const char *env[] = {menv, NULL};
  const char *argv[] = {gonogo, "eval", plan_path, expr, "--json", "--timeout", "2", NULL};
  gg_spawn_opts o = {.timeout = 60, .max_output = 1 << 18, .env = env};
  support_run_result r = support_run(argv, &o);
  *code = r.code;
  print_message("$ gonogo eval '%s' (%s) → %d\n%s\n", expr, monitor ? "monitor" : "system account", r.code,
                r.out);
  const char *brace = r.out ? strchr(r.out, '{') : NULL;
  json_t *doc = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
  free(r.out);
  return doc;
}

/* The samples of a result as "labels=value" lines, sorted, into out; the value printed
 * with `digits` significant digits (0: labels only). */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void samples_text(json_t *doc, int digits, double round_to, char *out, size_t n) {
  json_t *samples = json_object_get(json_object_get(doc, "value"), "samples");
  if (!samples) samples = json_object_get(doc, "samples");
  char *lines[64];
  size_t k = 0, i;
  json_t *s;
  json_array_foreach(samples, i, s) {
    if (k >= 64) break;
    char *labels = json_dumps(json_object_get(s, "labels"), JSON_SORT_KEYS | JSON_COMPACT);
    double v = json_number_value(json_object_get(s, "value"));
    if (round_to > 0) v = round(v / round_to) * round_to;
    char line[512];
    if (digits)
      snprintf(line, sizeof line, "%s=%.*g", labels ? labels : "?", digits, v);
    else
      snprintf(line, sizeof line, "%s", labels ? labels : "?");
    free(labels);
    lines[k++] = strdup(line);
  }
  qsort(lines, k, sizeof lines[0], cmp_str);
  size_t w = 0;
  out[0] = '\0';
  for (size_t j = 0; j < k; j++) {
    int m = snprintf(out + w, n - w, "%s\n", lines[j]);
    if (m > 0 && (size_t)m < n - w) w += (size_t)m;
    free(lines[j]);
  }
}

/* Both paths answer expr with the same samples. */
static void assert_same(const char *expr, int digits, double round_to) {
  int c1 = -1, c2 = -1;
  json_t *sys = eval(expr, NULL, &c1);
  json_t *mon = eval(expr, getenv("GONOGO_SANDBOX_MONITOR_URLS"), &c2);
  assert_int_equal(c1, 0);
  assert_int_equal(c2, 0);
  assert_non_null(sys);
  assert_non_null(mon);
  char a[8192], b[8192];
  samples_text(sys, digits, round_to, a, sizeof a);
  samples_text(mon, digits, round_to, b, sizeof b);
  print_message("system account:\n%smonitor:\n%s", a, b);
  assert_true(a[0] != '\0');
  assert_string_equal(a, b);
  json_decref(sys);
  json_decref(mon);
}

static void up_and_current_agree(void **state) {
  (void)state;
  assert_same("nats.server.up", 6, 0);
  assert_same("nats.jetstream.current", 6, 0);
}

static void jetstream_resources_agree(void **state) {
  (void)state;
  assert_same("nats.server.storage_free", 15, 1 << 20);
  assert_same("nats.server.memory_free", 15, 1 << 20);
}

static void routes_agree(void **state) {
  (void)state;
  assert_same("nats.server.route_rtt", 0, 0);
}

static void meta_group_agrees(void **state) {
  (void)state;
  assert_same("nats.meta.leader_present", 6, 0);
  assert_same("nats.meta.cluster_size", 6, 0);
  assert_same("nats.meta.peers_current", 6, 0);
  assert_same("nats.jetstream.enabled", 6, 0);
}

static void unreachable_monitor_falls_back(void **state) {
  (void)state;
  int code = -1;
  json_t *doc = eval("nats.server.up", "http://127.0.0.1:1", &code);
  assert_int_equal(code, 0);
  char text[4096];
  samples_text(doc, 6, 0, text, sizeof text);
  assert_non_null(strstr(text, "{\"server\":\"n1\"}=1"));
  assert_non_null(strstr(text, "{\"server\":\"n3\"}=1"));
  json_decref(doc);
}

/* With no monitor URL, check's first lines name the servers and the cluster as the system
 * account's SERVER.PING replies name them; without the system account (empty), the server
 * the connection reached, and what would name them. */
static void check_names_the_cluster(void **state) {
  (void)state;
  char journal[160];
  snprintf(journal, sizeof journal, "%s/j.db", dir);
  const char *argv[] = {gonogo, "check", plan_path, "--phase", "1", "--journal", journal, NULL};
  gg_spawn_opts o = {.timeout = 60, .max_output = 1 << 18, .env = (const char *const[]){"S_MONITOR=", NULL}};
  support_run_result r = support_run(argv, &o);
  print_message("$ gonogo check --phase 1 → %d\n%.400s\n", r.code, r.out);
  assert_int_equal(r.code, 0);
  assert_int_equal(strncmp(r.out, "cluster: tls://127.0.0.1:", 25), 0);
  assert_non_null(strstr(r.out, "\n  servers n1, n2, n3 of cluster 'gonogo-sandbox', nats-server "));
  assert_non_null(strstr(r.out, ", as the system account reports them\n"));
  free(r.out);
  o.env = (const char *const[]){"S_MONITOR=", "NATS_SYSTEM_USER=", "NATS_SYSTEM_PASSWORD=", NULL};
  r = support_run(argv, &o);
  print_message("$ gonogo check --phase 1 (no system account) → %d\n%.400s\n", r.code, r.out);
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, "\n  connected to tls://127.0.0.1:"));
  assert_non_null(
      strstr(r.out, "server names need a monitor URL (connect.nats.monitor) or the system account"));
  free(r.out);
  unlink(journal);
}

static int sandbox(const char *action, const char *node) {
  const char *argv[] = {gonogo, "sandbox", action, node, "--quiet", "--dir", getenv("GONOGO_SANDBOX_DIR"),
                        NULL};
  gg_spawn_opts o = {.timeout = 60};
  support_run_result r = support_run(argv, &o);
  free(r.out);
  return r.code;
}

static void killed_node_is_down_by_name(void **state) {
  (void)state;
  assert_int_equal(sandbox("kill-node", "3"), 0);
  int code = -1;
  json_t *doc = eval("nats.server.up", NULL, &code);
  char up[4096] = "", cur[4096] = "";
  if (doc) samples_text(doc, 6, 0, up, sizeof up);
  json_decref(doc);
  doc = eval("nats.jetstream.current", NULL, &code);
  if (doc) samples_text(doc, 6, 0, cur, sizeof cur);
  json_decref(doc);
  int storage_code = -1;
  doc = eval("nats.server.storage_free", NULL, &storage_code);
  json_decref(doc);
  assert_int_equal(sandbox("start-node", "3"), 0);
  assert_string_equal(up, "{\"server\":\"n1\"}=1\n{\"server\":\"n2\"}=1\n{\"server\":\"n3\"}=0\n");
  assert_non_null(strstr(cur, "{\"server\":\"n3\"}=0"));
  assert_int_not_equal(storage_code, 0);
}

static int setup(void **state) {
  (void)state;
  gonogo = getenv("GONOGO_BIN");
  if (!gonogo || !getenv("NATS_SYSTEM_USER") || !getenv("GONOGO_SANDBOX_MONITOR_URLS")) {
    fprintf(stderr, "test_secure_sys needs the secured sandbox's env (sandbox up --secure) and GONOGO_BIN\n");
    return -1;
  }
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(mon_env, sizeof mon_env, "S_MONITOR=%s", getenv("GONOGO_SANDBOX_MONITOR_URLS"));
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(plan_text, f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(plan_path);
  rmdir(dir);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(up_and_current_agree),
      cmocka_unit_test(jetstream_resources_agree),
      cmocka_unit_test(routes_agree),
      cmocka_unit_test(meta_group_agrees),
      cmocka_unit_test(unreachable_monitor_falls_back),
      cmocka_unit_test(check_names_the_cluster),
      cmocka_unit_test(killed_node_is_down_by_name),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
