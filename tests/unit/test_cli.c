/* Unit tests of src/cli/cli.c: options land in the typed fields they are bound to, `--` ends
 * the options, malformed values are usage errors (exit 3) naming the option, a typo is answered
 * with the option meant, help names the exit codes, and acting needs --yes off a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

typedef struct {
  const char *phase;
  bool json;
  int nodes;
  double interval;
  cli_list label;
} t_opts;

static const cli_spec spec = {
    .verb = "try",
    .args = "PLAN [EXPR]",
    .summary = "a verb for the tests",
    .min_args = 1,
    .max_args = 2,
    .opts = {CLI_STR(t_opts, phase, "phase", "N", "the phase"), CLI_FLAG(t_opts, json, "json", "as JSON"),
             CLI_INT(t_opts, nodes, "nodes", "N", "how many", 1, 5),
             CLI_DURATION(t_opts, interval, "interval", "DURATION", "how often"),
             CLI_LIST(t_opts, label, "label", "K=V", "repeatable")},
};

static int parse(t_opts *o, cli_parsed *p, int argc, const char **argv) {
  return cli_parse(&spec, argc, (char **)argv, o, p);
}

static void test_typed_fields(void **state) {
  const char *argv[] = {"try",        "plan.yaml", "--phase", "2",   "--json",  "--nodes=4",
                        "--interval", "90s",       "--label", "a=1", "--label", "b=2"};
  t_opts o = {.nodes = 3};
  cli_parsed p;
  assert_int_equal(parse(&o, &p, 12, argv), -1);
  assert_string_equal(o.phase, "2");
  assert_true(o.json);
  assert_int_equal(o.nodes, 4);
  assert_true(o.interval == 90);
  assert_int_equal(o.label.n, 2);
  assert_string_equal(o.label.v[0], "a=1");
  assert_string_equal(o.label.v[1], "b=2");
  assert_int_equal(p.nargs, 1);
  assert_string_equal(p.args[0], "plan.yaml");
}

static void test_defaults_kept(void **state) {
  const char *argv[] = {"try", "plan.yaml"};
  t_opts o = {.nodes = 3, .interval = 15};
  cli_parsed p;
  assert_int_equal(parse(&o, &p, 2, argv), -1);
  assert_null(o.phase);
  assert_false(o.json);
  assert_int_equal(o.nodes, 3);
  assert_true(o.interval == 15);
  assert_int_equal(o.label.n, 0);
}

static void test_double_dash_ends_options(void **state) {
  const char *argv[] = {"try", "--json", "plan.yaml", "--", "-x"};
  t_opts o = {0};
  cli_parsed p;
  assert_int_equal(parse(&o, &p, 5, argv), -1);
  assert_true(o.json);
  assert_int_equal(p.nargs, 2);
  assert_string_equal(p.args[1], "-x");
  const char *opt_after[] = {"try", "plan.yaml", "--", "--json"};
  t_opts o2 = {0};
  assert_int_equal(parse(&o2, &p, 4, opt_after), -1);
  assert_false(o2.json);
  assert_string_equal(p.args[1], "--json");
}

static void test_usage_errors(void **state) {
  cli_parsed p;
  t_opts o = {0};
  const char *unknown[] = {"try", "plan.yaml", "--jsno"};
  assert_int_equal(parse(&o, &p, 3, unknown), CLI_EXIT_USAGE);
  const char *dash[] = {"try", "plan.yaml", "-x"};
  assert_int_equal(parse(&o, &p, 3, dash), CLI_EXIT_USAGE);
  const char *range[] = {"try", "plan.yaml", "--nodes", "6"};
  assert_int_equal(parse(&o, &p, 4, range), CLI_EXIT_USAGE);
  const char *notint[] = {"try", "plan.yaml", "--nodes", "2x"};
  assert_int_equal(parse(&o, &p, 4, notint), CLI_EXIT_USAGE);
  const char *dur[] = {"try", "plan.yaml", "--interval", "0s"};
  assert_int_equal(parse(&o, &p, 4, dur), CLI_EXIT_USAGE);
  const char *novalue[] = {"try", "plan.yaml", "--phase"};
  assert_int_equal(parse(&o, &p, 3, novalue), CLI_EXIT_USAGE);
  const char *flagvalue[] = {"try", "plan.yaml", "--json=1"};
  assert_int_equal(parse(&o, &p, 3, flagvalue), CLI_EXIT_USAGE);
  const char *missing[] = {"try", "--json"};
  assert_int_equal(parse(&o, &p, 2, missing), CLI_EXIT_USAGE);
  const char *extra[] = {"try", "a", "b", "c"};
  assert_int_equal(parse(&o, &p, 4, extra), CLI_EXIT_USAGE);
}

/* Run fn with stderr (or stdout) going to a file; returns what it wrote (static buffer). */
static char captured[8192];
static int capture(int fd, int (*fn)(void *), void *ud) {
  fflush(NULL);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  int saved = dup(fd);
  dup2(fileno(tmp), fd);
  int rc = fn(ud);
  fflush(NULL);
  dup2(saved, fd);
  close(saved);
  rewind(tmp);
  size_t n = fread(captured, 1, sizeof captured - 1, tmp);
  captured[n] = 0;
  fclose(tmp);
  return rc;
}

static int parse_typo(void *ud) {
  (void)ud;
  cli_parsed p;
  t_opts o = {0};
  const char *argv[] = {"try", "plan.yaml", "--phse", "2"};
  return parse(&o, &p, 4, argv);
}

static int parse_far(void *ud) {
  (void)ud;
  cli_parsed p;
  t_opts o = {0};
  const char *argv[] = {"try", "plan.yaml", "--frobnicate"};
  return parse(&o, &p, 3, argv);
}

/* A mistyped option is named with the one it probably meant; a word far from every option is
 * not given a guess. */
static void test_did_you_mean(void **state) {
  assert_int_equal(capture(STDERR_FILENO, parse_typo, NULL), CLI_EXIT_USAGE);
  assert_non_null(strstr(captured, "unknown option '--phse' (did you mean --phase?)"));
  assert_int_equal(capture(STDERR_FILENO, parse_far, NULL), CLI_EXIT_USAGE);
  assert_non_null(strstr(captured, "unknown option '--frobnicate'"));
  assert_null(strstr(captured, "did you mean"));
  const char *verbs[] = {"check", "run", "rollback", "resume", "report", "validate", NULL};
  assert_string_equal(cli_nearest("chek", verbs), "check");
  assert_string_equal(cli_nearest("rollbak", verbs), "rollback");
  assert_string_equal(cli_nearest("valdiate", verbs), "validate");
  assert_string_equal(cli_nearest("rnu", verbs), "run");
  assert_null(cli_nearest("deploy", verbs));
  const char *opts[] = {"json", "phase", "journal", NULL};
  assert_string_equal(cli_nearest("jsno", opts), "json");     /* two letters swapped: one edit */
  assert_string_equal(cli_nearest("rol", verbs), "rollback"); /* the only one it begins */
  assert_null(cli_nearest("re", verbs));                      /* resume or report: no guess */
}

static int usage_to_stdout(void *ud) {
  cli_usage(ud, stdout);
  return 0;
}

/* Every verb's help ends with what its exit codes mean; a verb without its own says the plain ones. */
static void test_help_names_exit_codes(void **state) {
  cli_spec own = spec;
  own.exits = "0 GO, 1 DEFER, 2 NO-GO, 3 error";
  capture(STDOUT_FILENO, usage_to_stdout, &own);
  assert_non_null(strstr(captured, "\nexit: 0 GO, 1 DEFER, 2 NO-GO, 3 error\n"));
  capture(STDOUT_FILENO, usage_to_stdout, (void *)&spec);
  assert_non_null(strstr(captured, "\nexit: " CLI_EXITS_PLAIN "\n"));
  assert_int_equal(CLI_EXIT_USAGE, 3);
  assert_int_equal(CLI_EXIT_FAIL, 3);
}

static void sink(void *ud, const cli_spec *s) {
  *(const cli_spec **)ud = s;
}

/* Describe mode hands over the table and parses nothing (completion and the man page use it). */
static void test_describe_mode(void **state) {
  const cli_spec *seen = NULL;
  cli_describe(sink, &seen);
  cli_parsed p;
  t_opts o = {0};
  const char *argv[] = {"try", "--nodes", "99"};
  assert_int_equal(parse(&o, &p, 3, argv), CLI_EXIT_OK);
  cli_describe(NULL, NULL);
  assert_ptr_equal(seen, &spec);
  assert_int_equal(o.nodes, 0);
}

static int require_yes(void *ud) {
  return cli_require_yes("run", "run phase 2", *(bool *)ud);
}

/* With stdin a pipe nobody can answer: without --yes the verb refuses and says to pass --yes;
 * with it, it goes on. On a terminal the question is asked, and only y or yes is a yes. */
static void test_yes_needed_off_a_terminal(void **state) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  int saved = dup(STDIN_FILENO);
  dup2(fds[0], STDIN_FILENO);
  bool yes = false;
  assert_int_equal(capture(STDERR_FILENO, require_yes, &yes), CLI_EXIT_USAGE);
  assert_non_null(strstr(captured, "refusing to run phase 2 without --yes"));
  yes = true;
  assert_int_equal(capture(STDERR_FILENO, require_yes, &yes), -1);
  assert_int_equal(write(fds[1], "y\nno\nYES\n\n", 11), 11);
  close(fds[1]);
  assert_true(cli_ask("go?"));
  assert_false(cli_ask("go?"));
  assert_true(cli_ask("go?"));
  assert_false(cli_ask("go?")); /* an empty answer is the default, N */
  assert_false(cli_ask("go?")); /* end of input */
  dup2(saved, STDIN_FILENO);
  close(saved);
  close(fds[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_typed_fields),
      cmocka_unit_test(test_defaults_kept),
      cmocka_unit_test(test_double_dash_ends_options),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_did_you_mean),
      cmocka_unit_test(test_help_names_exit_codes),
      cmocka_unit_test(test_describe_mode),
      cmocka_unit_test(test_yes_needed_off_a_terminal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
