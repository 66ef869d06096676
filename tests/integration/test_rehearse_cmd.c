/* Integration tests of `gonogo rehearse` with the plan's own `rehearsal:` commands
 * (tests/integration/plans/rehearse_cmd.yaml): the reference binaries started through a shell
 * in the plan's directory, on the ports the rehearsal chose, one waited for by URL and one by
 * expression, the traffic posted from the plan's body and counted by the plan's SQL; a command
 * that exits at start, or never becomes ready (then stopped with its process group), failing
 * the rehearsal (exit 3) by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/spawn.h"
#include "support.h"

static const char *bin;
static char dir[64];
static char plan_path[128];
static char journal_path[128];
static char ingest_env[PATH_MAX + 16], normalize_env[PATH_MAX + 16];
static char *plan_text;

static void expect_has(const char *text, const char *needle) {
  if (!strstr(text, needle)) {
    fprintf(stderr, "missing '%s' in:\n%s\n", needle, text);
    fail();
  }
}

static void write_plan(const char *text) {
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Whether a process whose command line holds marker runs. */
static bool running(const char *marker) {
  DIR *d = opendir("/proc");
  bool found = false;
  for (struct dirent *e; d && !found && (e = readdir(d));) {
    char path[300], line[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
      if (line[i] == '\0') line[i] = ' ';
    line[n] = '\0';
    found = strstr(line, marker) != NULL;
  }
  if (d) closedir(d);
  return found;
}

static void remove_kept(const char *out) {
  /* A rehearsal that could not be set up keeps its directory for the logs: remove it. */
  const char *kept = strstr(out, "kept for its logs: ");
  if (!kept) return;
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)strcspn(kept + 19, "\n'"), kept + 19);
  if (system(cmd) != 0) fprintf(stderr, "could not remove the rehearsal's directory\n");
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gg-it-rehcmd-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_path, sizeof journal_path, "%s/journal.db", dir);
  write_plan(plan_text);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static support_run_result rehearse(const char *const *env) {
  const char *argv[] = {bin,      "rehearse", plan_path,   "--soak",     "2s",
                        "--rate", "40",       "--journal", journal_path, NULL};
  gg_spawn_opts opts = {.timeout = 400, .max_output = 4u << 20, .env = env};
  return support_run(argv, &opts);
}

static void test_plan_commands_rehearsed(void **state) {
  (void)state;
  const char *env[] = {ingest_env, normalize_env, NULL};
  support_run_result r = rehearse(env);
  if (r.code != 0) fprintf(stderr, "%s\n", r.out);
  assert_int_equal(r.code, 0);
  expect_has(r.out, "services: 'normalize' ready");
  expect_has(r.out, "services: 'ingest' ready");
  expect_has(r.out, "to rehearsal.publish.url");
  expect_has(r.out, "ids consumed (rehearsal.consumed.sql)");
  expect_has(r.out, " 0 lost, 0 duplicated");
  expect_has(r.out, "rehearsal passed");
  /* The reference services' own start line never appears: the commands replaced them. */
  assert_null(strstr(r.out, "services: ingest-service :"));
  free(r.out);
}

static void test_command_exiting_at_start_names_it(void **state) {
  (void)state;
  /* NORMALIZE_BIN unset: `exec ""` fails, so the command exits before it is ready. */
  const char *env[] = {ingest_env, "NORMALIZE_BIN=", NULL};
  support_run_result r = rehearse(env);
  if (r.code != 3) fprintf(stderr, "%s\n", r.out);
  assert_int_equal(r.code, 3);
  expect_has(r.out, "rehearsal service 'normalize' (line ");
  expect_has(r.out, "normalize exited at start (exit ");
  expect_has(r.out, "normalize.log");
  remove_kept(r.out);
  free(r.out);
}

static void test_command_never_ready_is_stopped(void **state) {
  (void)state;
  /* A command that runs but never answers: an error naming it after its ready_timeout (4 s, not
   * the default 30 s), and its whole process group (the shell and its sleep) stopped. */
  char marker[64], run[200];
  snprintf(marker, sizeof marker, "gonogo-rehcmd-%ld", (long)getpid());
  /* The marker is the inner shell's $0: it outlives a stop of the outer shell alone. */
  snprintf(run, sizeof run, "run: \"sh -c 'sleep 300; :' %s\"\n      ready_timeout: 4s", marker);
  const char *from = "run: 'exec \"$NORMALIZE_BIN\"'";
  const char *at = strstr(plan_text, from);
  assert_non_null(at);
  char text[1 << 16];
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - plan_text), plan_text, run, at + strlen(from));
  write_plan(text);
  const char *env[] = {ingest_env, normalize_env, NULL};
  support_run_result r = rehearse(env);
  if (r.code != 3) fprintf(stderr, "%s\n", r.out);
  assert_int_equal(r.code, 3);
  expect_has(r.out, "rehearsal service 'normalize' (line ");
  expect_has(r.out, "normalize not ready after 4 s ('http.up{target=\"normalize\"} == 1' is not true)");
  remove_kept(r.out);
  free(r.out);
  assert_false(running(marker));
}

int main(void) {
  bin = support_need_env("test_rehearse_cmd", "GONOGO_BIN");
  /* The reference binaries beside gonogo's: BUILD/src/cli/gonogo, BUILD/src/ingest/... */
  char cli[PATH_MAX];
  snprintf(cli, sizeof cli, "%s", bin);
  char *slash = strrchr(cli, '/');
  if (slash) *slash = '\0';
  snprintf(ingest_env, sizeof ingest_env, "INGEST_BIN=%s/../ingest/ingest-service", cli);
  snprintf(normalize_env, sizeof normalize_env, "NORMALIZE_BIN=%s/../normalize/normalize-service", cli);
  plan_text = support_source_file("test_rehearse_cmd", "tests/integration/plans/rehearse_cmd.yaml");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_command_exiting_at_start_names_it, setup, teardown),
      cmocka_unit_test_setup_teardown(test_command_never_ready_is_stopped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_plan_commands_rehearsed, setup, teardown),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  free(plan_text);
  return failed;
}
