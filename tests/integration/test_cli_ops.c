/*
 * What an operator expects of the gonogo binary (issue 18), on the real binary against the
 * sandbox: `run` and `rollback` refuse to act off a terminal without --yes and say so; `check`
 * names the cluster it talks to, as the servers report themselves, in its first lines;
 * `check --nagios` is one status line a Nagios parser accepts, with the matching exit code;
 * `run:` criteria execute in the plan's directory (or its `workdir:`) wherever gonogo is started;
 * an unset NATS_URL without a default is an error naming it, never a silent localhost; and
 * `help VERB`, "did you mean" and `completion bash`; `sandbox seed --dir` seeds that sandbox.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/spawn.h"
#include "support.h"

static const char *bin;
static char dir[256], plan_path[320], wd_plan_path[320], journal_path[320];
static char *last_out; /* the latest run's output; freed by the next run or the teardown */

/* Run gonogo with args from `cwd` (NULL: here), stdin /dev/null (not a terminal). */
static int gonogo_in(const char *cwd, const char *const *args) {
  const char *argv[24];
  int n = 0;
  argv[n++] = bin;
  for (int i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
  argv[n] = NULL;
  free(last_out);
  gg_spawn_opts o = {
      .timeout = 60, .max_output = 1u << 20, .cwd = cwd, .env = (const char *const[]){"NO_COLOR=1", NULL}};
  support_run_result r = support_run(argv, &o);
  last_out = r.out;
  return r.code;
}
#define GONOGO(...) gonogo_in(NULL, (const char *const[]){__VA_ARGS__, NULL})

static void expect_has(const char *needle) {
  if (!strstr(last_out, needle)) fail_msg("missing '%s' in:\n%s", needle, last_out);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  bin = support_need_env("test_cli_ops", "GONOGO_BIN");
  support_need_env("test_cli_ops", "NATS_URL");
  support_need_env("test_cli_ops", "NATS_MONITOR_URLS");
  support_need_env("test_cli_ops", "PG_URL");
  support_need_env("test_cli_ops", "GONOGO_SANDBOX_DIR");
  snprintf(dir, sizeof dir, "/tmp/gonogo-cli-ops-%d", (int)getpid());
  mkdir(dir, 0700);
  char path[320];
  snprintf(path, sizeof path, "%s/sub", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/marker", dir);
  write_file(path, "beside the plan\n");
  snprintf(path, sizeof path, "%s/sub/inner", dir);
  write_file(path, "in the workdir\n");
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_path, sizeof journal_path, "%s/j.db", dir);
  write_file(plan_path,
             "migration: cli-ops\n"
             "connect:\n"
             "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
             "  databases: { main: \"${PG_URL}\" }\n"
             "phases:\n"
             "  - id: 1\n"
             "    name: Look only\n"
             "    go:\n"
             "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
             "      - { name: marker beside the plan, run: \"test -f marker\" }\n"
             "  - id: 2\n"
             "    name: Cannot pass\n"
             "    go:\n"
             "      - { name: JetStream twice, expect: nats.jetstream.enabled == 2 }\n"
             "      - { name: five servers, expect: count(nats.server.up) == 5 }\n"
             "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
             "  - id: 3\n"
             "    name: An hour's rate\n"
             "    go:\n"
             "      - { name: servers steady, expect: 'rate(nats.server.up, 1h) >= 0' }\n"
             "  - id: 4\n"
             "    name: Waits for a person\n"
             "    go:\n"
             "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
             "      - { name: someone looked, attest: looked }\n");
  snprintf(wd_plan_path, sizeof wd_plan_path, "%s/wd.yaml", dir);
  write_file(wd_plan_path,
             "migration: cli-ops-wd\n"
             "workdir: sub\n"
             "connect:\n"
             "  nats: { servers: \"${NATS_URL}\" }\n"
             "phases:\n"
             "  - id: 1\n"
             "    name: In the workdir\n"
             "    go:\n"
             "      - { name: inner file, run: \"test -f inner && test ! -f marker\" }\n");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(last_out);
  last_out = NULL;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return 0;
}

/* Off a terminal (stdin is /dev/null here) run and rollback act only with --yes; the refusal
 * names --yes and changes nothing: no evaluation is journaled. --dry-run needs no --yes. */
static void test_run_refuses_without_yes_on_a_pipe(void **state) {
  (void)state;
  assert_int_equal(GONOGO("run", plan_path, "--phase", "1", "--journal", journal_path), 3);
  expect_has("stdin is not a terminal");
  expect_has("refusing to run phase 1 without --yes");
  assert_int_equal(access(journal_path, F_OK), -1); /* nothing was even opened */
  assert_int_equal(GONOGO("run", plan_path, "--phase", "1", "--prepare", "--journal", journal_path), 3);
  expect_has("refusing to prepare phase 1 without --yes");
  assert_int_equal(GONOGO("rollback", plan_path, "--phase", "1", "--reason", "r", "--journal", journal_path),
                   3);
  expect_has("refusing to roll back phase 1 without --yes");
  assert_int_equal(GONOGO("run", plan_path, "--phase", "1", "--dry-run", "--journal", journal_path), 0);
  expect_has("dry run: nothing changed");
  assert_int_equal(GONOGO("run", plan_path, "--phase", "1", "--yes", "--journal", journal_path), 0);
  expect_has("phase 1 completed");
}

/* The first lines name the servers as configured, the names and cluster name the servers
 * report, and the database's host; before anything else is printed. */
static void test_check_names_the_cluster_first(void **state) {
  (void)state;
  assert_int_equal(GONOGO("check", plan_path, "--phase", "1", "--journal", journal_path), 0);
  const char *nats_url = getenv("NATS_URL");
  char first[2048];
  snprintf(first, sizeof first, "cluster: %s\n", nats_url);
  if (strncmp(last_out, first, strlen(first)) != 0) fail_msg("want '%s' first, got:\n%s", first, last_out);
  expect_has("  servers n1, n2, n3 of cluster 'gonogo-sandbox', nats-server ");
  expect_has(", as the monitor port reports them\n");
  const char *at = strstr(getenv("PG_URL"), "@");
  char db[256];
  snprintf(db, sizeof db, "database main: %.*s\n", (int)strcspn(at + 1, "?"), at + 1);
  expect_has(db);
  /* --json carries the same facts. */
  assert_int_equal(GONOGO("check", plan_path, "--phase", "1", "--journal", journal_path, "--json"), 0);
  json_t *doc = json_loads(last_out, 0, NULL);
  if (!doc) fail_msg("not JSON:\n%s", last_out);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(json_object_get(doc, "cluster"), "nats"), "cluster")),
      "gonogo-sandbox");
  assert_int_equal(
      json_array_size(json_object_get(json_object_get(json_object_get(doc, "cluster"), "nats"), "names")), 3);
  json_decref(doc);
}

/* A rate() over an hour with no history (a new journal, no Prometheus for this series) is
 * answered by two fresh samples; check says so in its output, though the item passes. */
static void test_short_rate_window_is_said(void **state) {
  (void)state;
  char fresh[320];
  snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
  assert_int_equal(GONOGO("check", plan_path, "--phase", "3", "--journal", fresh), 0);
  expect_has("windows shorter than asked");
  expect_has("  servers steady: nats.server.up[1h]: 3s of fresh samples, not 1h\n");
}

/* sandbox seed --dir D seeds D's cluster, whatever NATS_URL the shell exported; without --dir
 * the environment's (here a closed port) is used, and named in the error. */
static void test_seed_uses_the_sandbox_dir(void **state) {
  (void)state;
  char seed_plan[320], stream[64];
  snprintf(stream, sizeof stream, "CLI_OPS_SEED_%d", (int)getpid());
  snprintf(seed_plan, sizeof seed_plan, "%s/seed.yaml", dir);
  char text[1024];
  snprintf(text, sizeof text,
           "migration: cli-ops-seed\n"
           "connect:\n"
           "  nats: { servers: \"${NATS_URL}\" }\n"
           "topology:\n"
           "  streams:\n"
           "    %s: { existing: true, subjects: [\"cliops%d.>\"], replicas: 1, storage: memory }\n"
           "phases: []\n",
           stream, (int)getpid());
  write_file(seed_plan, text);
  const char *wrong[] = {"NATS_URL=nats://127.0.0.1:1", "NATS_MONITOR_URLS=", NULL};
  gg_spawn_opts o = {.timeout = 60, .max_output = 1u << 20, .env = wrong};
  const char *no_dir[] = {bin, "sandbox", "seed", seed_plan, "--quiet", NULL};
  support_run_result r = support_run(no_dir, &o);
  if (r.code != 3 || !strstr(r.out, "127.0.0.1:1"))
    fail_msg("seed on a closed port: exit %d\n%s", r.code, r.out);
  free(r.out);
  const char *with_dir[] = {bin, "sandbox", "seed", seed_plan, "--dir", getenv("GONOGO_SANDBOX_DIR"), NULL};
  r = support_run(with_dir, &o);
  if (r.code != 0 || !strstr(r.out, stream)) fail_msg("seed --dir: exit %d\n%s", r.code, r.out);
  free(r.out);
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  assert_int_equal(support_nats_connect(getenv("NATS_URL"), &nc, &js), 0);
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  assert_int_equal(js_GetStreamInfo(&si, js, stream, NULL, &jerr), NATS_OK);
  jsStreamInfo_Destroy(si);
  assert_int_equal(js_DeleteStream(js, stream, NULL, &jerr), NATS_OK);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

/* Parse the line as Nagios does: "SERVICE STATUS - text | perfdata", perfdata being
 * space-separated 'label'=value[UOM][;warn;crit;min;max]; one line only. */
static void nagios_parse(const char *out, char *status, size_t n, json_t *perf) {
  const char *nl = strchr(out, '\n');
  if (!nl || nl[1]) fail_msg("not exactly one line:\n%s", out);
  regex_t re;
  assert_int_equal(
      regcomp(&re, "^GONOGO (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+) \\| (.*)$", REG_EXTENDED | REG_NEWLINE),
      0);
  regmatch_t m[4];
  if (regexec(&re, out, 4, m, 0) != 0) fail_msg("not a Nagios status line: %s", out);
  snprintf(status, n, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), out + m[1].rm_so);
  regfree(&re);
  regex_t pd;
  assert_int_equal(regcomp(&pd, "^([A-Za-z_]+)=([0-9]+(\\.[0-9]+)?)([a-zA-Z%]*)(;[^ ]*)?$", REG_EXTENDED), 0);
  char data[512];
  snprintf(data, sizeof data, "%.*s", (int)(m[3].rm_eo - m[3].rm_so), out + m[3].rm_so);
  char *save = NULL;
  for (char *tok = strtok_r(data, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    regmatch_t t[3];
    if (regexec(&pd, tok, 3, t, 0) != 0) fail_msg("bad perfdata '%s' in %s", tok, out);
    char label[64];
    snprintf(label, sizeof label, "%.*s", (int)(t[1].rm_eo - t[1].rm_so), tok);
    json_object_set_new(perf, label, json_real(strtod(tok + t[2].rm_so, NULL)));
  }
  regfree(&pd);
}

static void test_nagios_line(void **state) {
  (void)state;
  char status[16];
  json_t *perf = json_object();
  assert_int_equal(GONOGO("check", plan_path, "--phase", "2", "--journal", journal_path, "--nagios"), 2);
  nagios_parse(last_out, status, sizeof status, perf);
  assert_string_equal(status, "CRITICAL");
  expect_has("GONOGO CRITICAL - phase 2 NO-GO: 2 failing | ");
  assert_true(json_real_value(json_object_get(perf, "pass")) == 1);
  assert_true(json_real_value(json_object_get(perf, "fail")) == 2);
  assert_true(json_real_value(json_object_get(perf, "wait")) == 0);
  assert_true(json_real_value(json_object_get(perf, "error")) == 0);
  assert_non_null(json_object_get(perf, "seconds"));
  json_object_clear(perf);

  assert_int_equal(GONOGO("check", plan_path, "--phase", "1", "--journal", journal_path, "--nagios"), 0);
  nagios_parse(last_out, status, sizeof status, perf);
  assert_string_equal(status, "OK");
  expect_has("phase 1 GO: 2 passing");
  assert_true(json_real_value(json_object_get(perf, "pass")) == 2);
  json_object_clear(perf);

  assert_int_equal(GONOGO("check", plan_path, "--phase", "4", "--journal", journal_path, "--nagios"), 1);
  nagios_parse(last_out, status, sizeof status, perf);
  assert_string_equal(status, "WARNING");
  expect_has("phase 4 DEFER: 1 waiting");
  assert_true(json_real_value(json_object_get(perf, "wait")) == 1);
  json_object_clear(perf);

  /* A phase the plan does not have: Nagios's UNKNOWN, exit 3; stdout is still one status line. */
  free(last_out);
  last_out = NULL;
  int rc = support_gonogo(bin, &last_out, "check", plan_path, "--phase", "9", "--journal", journal_path,
                          "--nagios", NULL);
  assert_int_equal(rc, 3);
  expect_has("GONOGO UNKNOWN - phase 9 not evaluated");
  json_decref(perf);
}

/* run: criteria execute in the plan's directory, or its workdir:, wherever gonogo starts. */
static void test_run_criteria_in_the_plans_directory(void **state) {
  (void)state;
  assert_int_equal(gonogo_in("/", (const char *const[]){"check", plan_path, "--phase", "1", "--journal",
                                                        journal_path, NULL}),
                   0);
  assert_int_equal(gonogo_in("/", (const char *const[]){"check", wd_plan_path, "--phase", "1", "--journal",
                                                        journal_path, NULL}),
                   0);
  char bad[320];
  snprintf(bad, sizeof bad, "%s/badwd.yaml", dir);
  write_file(
      bad,
      "migration: bad-wd\nworkdir: nowhere\nconnect:\n  nats: { servers: \"${NATS_URL}\" }\nphases: []\n");
  assert_int_equal(GONOGO("validate", bad), 3);
  expect_has("badwd.yaml:2:10: workdir: 'nowhere'");
}

/* An unset NATS_URL without a default in the plan is an error naming the variable at its
 * position; nothing falls back to localhost:4222. */
static void test_unset_nats_url_is_an_error(void **state) {
  (void)state;
  char saved[2048];
  snprintf(saved, sizeof saved, "%s", getenv("NATS_URL"));
  unsetenv("NATS_URL");
  int rc = GONOGO("check", plan_path, "--phase", "1", "--journal", journal_path);
  setenv("NATS_URL", saved, 1);
  assert_int_equal(rc, 3);
  expect_has("plan.yaml:3:21: unset variable 'NATS_URL'");
  assert_null(strstr(last_out, "4222"));
  assert_null(strstr(last_out, "DECISION"));
}

static void test_help_verb_and_did_you_mean(void **state) {
  (void)state;
  assert_int_equal(GONOGO("help", "check"), 0);
  expect_has("usage: gonogo check PLAN [options]");
  expect_has("--nagios");
  expect_has("exit: 0 GO, 1 DEFER, 2 NO-GO, 3 error");
  assert_int_equal(GONOGO("help", "journal", "verify"), 0);
  expect_has("usage: gonogo journal verify PLAN");
  expect_has("exit: 0 intact, 2 broken");
  assert_int_equal(GONOGO("help", "--all"), 0);
  expect_has("usage: gonogo rollback PLAN");
  expect_has("usage: gonogo sandbox up|down");
  assert_int_equal(GONOGO("chekc", plan_path), 3);
  expect_has("unknown command 'chekc' (did you mean 'check'?)");
  assert_int_equal(GONOGO("help", "rollbak"), 3);
  expect_has("(did you mean 'rollback'?)");
  assert_int_equal(GONOGO("check", plan_path, "--phase", "1", "--nagois"), 3);
  expect_has("unknown option '--nagois' (did you mean --nagios?)");
}

/* The completion script is bash that bash accepts, and offers each verb's options from its table. */
static void test_completion_bash(void **state) {
  (void)state;
  assert_int_equal(GONOGO("completion", "bash"), 0);
  expect_has("complete -o filenames -F _gonogo gonogo");
  expect_has("      check) words='--phase --json --nagios ");
  expect_has("      rollback) words='--phase --reason --by --yes ");
  expect_has("          verify) words='--json --expect-head --journal --help' ;;");
  char script[320];
  snprintf(script, sizeof script, "%s/completion.bash", dir);
  write_file(script, last_out);
  /* Ask bash itself what `gonogo check PLAN --na<TAB>` completes to. */
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "bash -c 'source %s; COMP_WORDS=(gonogo check p.yaml --na); COMP_CWORD=3; _gonogo; echo "
           "\"${COMPREPLY[*]}\"'",
           script);
  const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  gg_spawn_opts o = {.timeout = 30};
  support_run_result r = support_run(argv, &o);
  assert_int_equal(r.code, 0);
  if (strcmp(r.out, "--nagios\n") != 0) fail_msg("completed to '%s'", r.out);
  free(r.out);
  assert_int_equal(GONOGO("completion", "zsh"), 3);
  expect_has("completion bash");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_refuses_without_yes_on_a_pipe),
      cmocka_unit_test(test_check_names_the_cluster_first),
      cmocka_unit_test(test_nagios_line),
      cmocka_unit_test(test_short_rate_window_is_said),
      cmocka_unit_test(test_run_criteria_in_the_plans_directory),
      cmocka_unit_test(test_unset_nats_url_is_an_error),
      cmocka_unit_test(test_help_verb_and_did_you_mean),
      cmocka_unit_test(test_completion_bash),
      cmocka_unit_test(test_seed_uses_the_sandbox_dir),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
