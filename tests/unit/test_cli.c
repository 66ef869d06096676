/* Unit tests of src/cli/cli.c: options land in the typed fields they are bound to, `--` ends
 * the options, and malformed values are usage errors (exit 3) naming the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_typed_fields),
      cmocka_unit_test(test_defaults_kept),
      cmocka_unit_test(test_double_dash_ends_options),
      cmocka_unit_test(test_usage_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
