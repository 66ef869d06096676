/*
 * The sandbox as a user drives it: up → healthy 3-node cluster with a meta leader and
 * PostgreSQL → kill-node 2 → the cluster keeps a leader and status shows n2 down →
 * start-node 2 → healthy again → down leaves none of the recorded processes running.
 * It brings up its own sandbox in a temporary directory, beside the one `make test` runs.
 */
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/spawn.h"
#include "support.h"

static char dir[256];
static const char *gonogo;

typedef support_run_result run_result;

/* Run `gonogo ARGS... --dir DIR` and return its exit code and combined output. */
static run_result run(const char *a1, const char *a2) {
  const char *argv[8];
  int n = 0;
  argv[n++] = gonogo;
  argv[n++] = "sandbox";
  argv[n++] = a1;
  if (a2) argv[n++] = a2;
  argv[n++] = "--dir";
  argv[n++] = dir;
  argv[n] = NULL;
  gg_spawn_opts o = {.timeout = 90, .max_output = 1 << 16};
  run_result rr = support_run(argv, &o);
  print_message("$ gonogo sandbox %s%s%s → %d\n%s", a1, a2 ? " " : "", a2 ? a2 : "", rr.code, rr.out);
  return rr;
}

/* The pids the sandbox recorded, from DIR/sandbox.json. */
static int recorded_pids(int *pids, int max) {
  char path[300];
  snprintf(path, sizeof path, "%s/sandbox.json", dir);
  json_t *root = json_load_file(path, 0, NULL);
  assert_non_null(root);
  int n = 0;
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(root, "nodes"), i, v) {
    if (n < max) pids[n++] = (int)json_integer_value(json_object_get(v, "pid"));
  }
  const char *others[] = {"postgres", "prometheus", "alertmanager"};
  for (size_t k = 0; k < 3; k++) {
    json_t *o = json_object_get(root, others[k]);
    if (o && n < max) pids[n++] = (int)json_integer_value(json_object_get(o, "pid"));
  }
  json_decref(root);
  return n;
}

/* Where PostgreSQL keeps its data (DIR/postgres/data, or /tmp when root's postgres user
 * cannot reach DIR). */
static void recorded_pg_data(char *out, size_t n) {
  char path[300];
  snprintf(path, sizeof path, "%s/sandbox.json", dir);
  json_t *root = json_load_file(path, 0, NULL);
  assert_non_null(root);
  const char *d = json_string_value(json_object_get(json_object_get(root, "postgres"), "data"));
  assert_non_null(d);
  snprintf(out, n, "%s", d);
  json_decref(root);
}

/* Alive and not a zombie. */
static bool pid_running(int pid) {
  char path[64], stat[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *rp = strrchr(stat, ')');
  return rp && rp[2] != 'Z' && rp[2] != 'X';
}

static int count_lines_with(const char *text, const char *a, const char *b) {
  int count = 0;
  const char *line = text;
  while (line && *line) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
    if (strstr(buf, a) && strstr(buf, b)) count++;
    line = nl ? nl + 1 : NULL;
  }
  return count;
}

static void test_lifecycle(void **state) {
  (void)state;
  double t0 = gg_clock_mono();
  run_result r = run("up", NULL);
  double took = gg_clock_mono() - t0;
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, "export NATS_URL=nats://127.0.0.1:"));
  assert_non_null(strstr(r.out, "export PG_URL=postgresql://postgres@127.0.0.1:"));
  assert_non_null(strstr(r.out, "meta leader"));
  free(r.out);
  print_message("sandbox up took %.1f s\n", took);

  /* The env file exists for `source` and lists three nodes. */
  char path[300];
  snprintf(path, sizeof path, "%s/env", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char env[4096];
  size_t n = fread(env, 1, sizeof env - 1, f);
  fclose(f);
  env[n] = '\0';
  const char *nats = strstr(env, "NATS_URL=");
  assert_non_null(nats);
  int urls = 0;
  for (const char *p = nats; *p && *p != '\n'; p++)
    if (strncmp(p, "nats://", 7) == 0) urls++;
  assert_int_equal(urls, 3);
  assert_non_null(strstr(env, "NATS_MONITOR_URLS=http://127.0.0.1:"));

  r = run("status", NULL);
  assert_int_equal(r.code, 0);
  assert_int_equal(count_lines_with(r.out, "running", "ok"),
                   3 + 1 + (strstr(r.out, "prometheus") ? 1 : 0) + (strstr(r.out, "alertmanager") ? 1 : 0));
  assert_null(strstr(r.out, "meta leader: none"));
  free(r.out);

  /* up again: a no-op that says so. */
  r = run("up", NULL);
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, "already up"));
  free(r.out);

  int pids[16];
  int npids = recorded_pids(pids, 16);
  assert_true(npids >= 4);
  for (int i = 0; i < npids; i++) assert_true(pid_running(pids[i]));

  /* A node killed hard: status shows it stopped, and the cluster keeps (or re-elects) a leader. */
  r = run("kill-node", "2");
  assert_int_equal(r.code, 0);
  free(r.out);
  assert_false(pid_running(pids[1]));
  bool leader = false;
  for (int tries = 0; tries < 30 && !leader; tries++) {
    r = run("status", NULL);
    assert_int_not_equal(r.code, 0); /* not all healthy */
    assert_int_equal(count_lines_with(r.out, "n2 ", "stopped"), 1);
    leader = strstr(r.out, "meta leader: none") == NULL;
    free(r.out);
    if (!leader) sleep(1);
  }
  assert_true(leader);

  /* Back with its data. */
  r = run("start-node", "2");
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, "healthy"));
  free(r.out);
  r = run("status", NULL);
  assert_int_equal(r.code, 0);
  assert_int_equal(count_lines_with(r.out, "n2 ", "running"), 1);
  free(r.out);

  /* Kill whichever node leads: the other two elect a new leader. */
  char old_leader[16] = "";
  r = run("status", NULL);
  const char *ml = strstr(r.out, "meta leader: n");
  assert_non_null(ml);
  assert_null(strstr(r.out, "meta leader: none"));
  snprintf(old_leader, sizeof old_leader, "%c", ml[strlen("meta leader: n")]);
  free(r.out);
  r = run("kill-node", old_leader);
  assert_int_equal(r.code, 0);
  free(r.out);
  bool new_leader = false;
  for (int tries = 0; tries < 60 && !new_leader; tries++) {
    r = run("status", NULL);
    const char *m = strstr(r.out, "meta leader: n");
    char c = m ? m[strlen("meta leader: n")] : '\0';
    new_leader = c >= '1' && c <= '9' && c != old_leader[0];
    free(r.out);
    if (!new_leader) usleep(500000);
  }
  assert_true(new_leader);
  r = run("start-node", old_leader);
  assert_int_equal(r.code, 0);
  free(r.out);

  /* Errors name the cause. */
  r = run("kill-node", "7");
  assert_int_not_equal(r.code, 0);
  assert_non_null(strstr(r.out, "no node 7"));
  free(r.out);

  npids = recorded_pids(pids, 16);
  char pgdata[300];
  recorded_pg_data(pgdata, sizeof pgdata);
  struct stat sb;
  assert_int_equal(stat(pgdata, &sb), 0);
  r = run("down", NULL);
  assert_int_equal(r.code, 0);
  free(r.out);
  for (int i = 0; i < npids; i++) {
    if (pid_running(pids[i])) print_message("pid %d still running after down\n", pids[i]);
    assert_false(pid_running(pids[i]));
  }
  assert_int_not_equal(stat(pgdata, &sb), 0); /* its data is gone too */
  /* down on a stopped sandbox is fine. */
  r = run("down", NULL);
  assert_int_equal(r.code, 0);
  free(r.out);
}

static void test_bad_dir(void **state) {
  (void)state;
  char saved[256];
  memcpy(saved, dir, sizeof saved);
  snprintf(dir, sizeof dir, "/etc/passwd/sandbox");
  run_result r = run("up", NULL);
  assert_int_not_equal(r.code, 0);
  assert_non_null(strstr(r.out, "cannot create sandbox directory '/etc/passwd/sandbox'"));
  free(r.out);
  memcpy(dir, saved, sizeof dir);
}

static int setup(void **state) {
  (void)state;
  gonogo = getenv("GONOGO_BIN");
  if (!gonogo) {
    fprintf(stderr, "GONOGO_BIN is not set (ctest sets it)\n");
    return -1;
  }
  snprintf(dir, sizeof dir, "/tmp/gonogo-sandbox-test-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  /* Leave nothing running, whatever happened above. */
  run_result r = run("down", NULL);
  free(r.out);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_dir),
      cmocka_unit_test(test_lifecycle),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
