/*
 * test_expr_parse.c: the parser, the canonical printer and its round trip, error
 * positions and the caret line of src/expr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "expr/expr.h"

/* Input and its canonical text. Every case is also round-tripped. */
static const struct {
  const char *in;
  const char *canon;
} ok_cases[] = {
    /* precedence and associativity */
    {"1 + 2 * 3", "1 + 2 * 3"},
    {"(1 + 2) * 3", "(1 + 2) * 3"},
    {"1 - 2 - 3", "1 - 2 - 3"},
    {"1 - (2 - 3)", "1 - (2 - 3)"},
    {"8 / 4 / 2", "8 / 4 / 2"},
    {"8 / (4 / 2)", "8 / (4 / 2)"},
    {"7 % 4 * 2", "7 % 4 * 2"},
    {"7 % (4 * 2)", "7 % (4 * 2)"},
    {"((1))", "1"},
    {"a or b and c", "a or b and c"},
    {"(a or b) and c", "(a or b) and c"},
    {"a and b or c and d", "a and b or c and d"},
    {"a and (b or c)", "a and (b or c)"},
    {"not a or b", "not a or b"},
    {"not (a or b)", "not (a or b)"},
    {"not not a", "not not a"},
    {"not a > 1", "not a > 1"},
    {"1 + 2 < 3 * 4", "1 + 2 < 3 * 4"},
    {"(1 < 2) == (3 < 4)", "(1 < 2) == (3 < 4)"},
    {"a < b and c >= d", "a < b and c >= d"},
    {"x<=1", "x <= 1"},
    {"x!=1", "x != 1"},
    {"x==1", "x == 1"},
    {"x>1", "x > 1"},
    /* unary minus */
    {"-1", "-1"},
    {"- 1", "-1"},
    {"--1", "--1"},
    {"-(1 + 2)", "-(1 + 2)"},
    {"-x * 2", "-x * 2"},
    {"-(x * 2)", "-(x * 2)"},
    {"2 * -x", "2 * -x"},
    {"1 - -1", "1 - -1"},
    {"-(not a)", "-(not a)"},
    /* numbers and units */
    {"0.5", "0.5"},
    {".5", "0.5"},
    {"1e3", "1000"},
    {"1.5e-3", "0.0015"},
    {"007", "7"},
    {"250ms", "250ms"},
    {"5m", "5m"},
    {"1.5h", "1.5h"},
    {"14d + 2w", "14d + 2w"},
    {"20GB", "20GB"},
    {"20GiB", "20GiB"},
    {"512B + 1KB + 1MB + 1TB + 1KiB + 1MiB + 1TiB", "512B + 1KB + 1MB + 1TB + 1KiB + 1MiB + 1TiB"},
    {"80%", "80%"},
    {"80% * 2", "80% * 2"},
    {"5 % 3", "5 % 3"},
    {"x%3", "x % 3"},
    {"1s + 30s", "1s + 30s"},
    /* strings */
    {"\"abc\"", "\"abc\""},
    {"'abc'", "\"abc\""},
    {"'say \"hi\"'", "\"say \\\"hi\\\"\""},
    {"\"a\\tb\\n\"", "\"a\\tb\\n\""},
    {"\"a\\\\b\"", "\"a\\\\b\""},
    {"\"\\.dump$\"", "\"\\\\.dump$\""},
    {"\"x\" == \"y\"", "\"x\" == \"y\""},
    {"\"\"", "\"\""},
    /* selectors */
    {"up", "up"},
    {"nats.server.storage_free", "nats.server.storage_free"},
    {"job:rate_5m:sum", "job:rate_5m:sum"},
    {"x{}", "x"},
    {"x{a=\"1\"}", "x{a=\"1\"}"},
    {"x{ a = \"1\" , b != \"2\" }", "x{a=\"1\", b!=\"2\"}"},
    {"x{a=~\"n[12]\", b!~\"z.*\"}", "x{a=~\"n[12]\", b!~\"z.*\"}"},
    {"x{a=~\"(critical|page)-[a-z]{2,8}(\\\\.[0-9]+)?\"}",
     "x{a=~\"(critical|page)-[a-z]{2,8}(\\\\.[0-9]+)?\"}"},
    {"x{a=~\"[]a-z[:digit:]]+_[^]]*\"}", "x{a=~\"[]a-z[:digit:]]+_[^]]*\"}"},
    {"x{a=\"1\",}", "x{a=\"1\"}"},
    {"nats.consumer.num_pending{stream=\"ATHLETE_ALLY_EVENTS\", consumer=\"normalize-hrv-durable\"} == 0",
     "nats.consumer.num_pending{stream=\"ATHLETE_ALLY_EVENTS\", consumer=\"normalize-hrv-durable\"} == 0"},
    {"file.age{path=\"/backups/latest.dump\"} < 6h", "file.age{path=\"/backups/latest.dump\"} < 6h"},
    {"android", "android"},
    {"order", "order"},
    {"note", "note"},
    /* calls */
    {"now()", "now()"},
    {"now( )", "now()"},
    {"max( x )", "max(x)"},
    {"rate(x, 5m)", "rate(x, 5m)"},
    {"rate(x{a=\"b\"},5m)*60>100", "rate(x{a=\"b\"}, 5m) * 60 > 100"},
    {"rate(nats.stream.last_seq{stream=\"ATHLETE_ALLY_EVENTS\"}, 5m) * 60 > 100",
     "rate(nats.stream.last_seq{stream=\"ATHLETE_ALLY_EVENTS\"}, 5m) * 60 > 100"},
    {"holiday() or weekday() >= 6", "holiday() or weekday() >= 6"},
    {"in_window(\"Mon-Fri 20:00-06:00; Sat-Sun\")", "in_window(\"Mon-Fri 20:00-06:00; Sat-Sun\")"},
    {"not off_hours()", "not off_hours()"},
    {"files_matching(\"\\\\.dump$\", \"/backups\") >= 1",
     "files_matching(\"\\\\.dump$\", \"/backups\") >= 1"},
    {"promql('up{job=\"x\"}') == 1", "promql(\"up{job=\\\"x\\\"}\") == 1"},
    {"sql(main, \"select 1\") == 1", "sql(\"main\", \"select 1\") == 1"},
    {"sql(\"main\", \"select 1\")", "sql(\"main\", \"select 1\")"},
    {"age(nats.stream.last_ts{stream=\"S\"}) < 1m", "age(nats.stream.last_ts{stream=\"S\"}) < 1m"},
    {"absent(x) or count(x) == 0", "absent(x) or count(x) == 0"},
    {"min(x) + max(x) + sum(x) + avg(x) + abs(x)", "min(x) + max(x) + sum(x) + avg(x) + abs(x)"},
    {"increase(x, 1h) + delta(y, 10m)", "increase(x, 1h) + delta(y, 10m)"},
    {"min_over_time(x, 5m) < max_over_time(x, 5m) + avg_over_time(x, 5m)",
     "min_over_time(x, 5m) < max_over_time(x, 5m) + avg_over_time(x, 5m)"},
    {"max(rate(x, 5m) > 1)", "max(rate(x, 5m) > 1)"},
    {"count(a or b)", "count(a or b)"},
    {"rate(hrv_dlq, 5m) / (rate(hrv_ok, 5m) + rate(hrv_dlq, 5m)) > 0.5",
     "rate(hrv_dlq, 5m) / (rate(hrv_ok, 5m) + rate(hrv_dlq, 5m)) > 0.5"},
    {"  x\n  and\ty  ", "x and y"},
};

/* Input, the column of the error and a piece of its message. */
static const struct {
  const char *in;
  int column;
  const char *msg;
} err_cases[] = {
    {"", 1, "empty expression"},
    {"   ", 4, "empty expression"},
    {"rate(x, 5m) >> 3", 14, "found '>'"},
    {"1 +", 4, "unexpected end"},
    {"(1 + 2", 7, "expected ')' to close '(' at column 1"},
    {"1 + 2)", 6, "found ')'"},
    {"1 2", 3, "found number '2'"},
    {"a < b < c", 7, "cannot be chained"},
    {"a == b != c", 8, "cannot be chained"},
    {"a = 1", 3, "compare with '=='"},
    {"a && b", 3, "write 'and'"},
    {"a || b", 3, "write 'or'"},
    {"!a", 1, "did you mean 'not'"},
    {"a # b", 3, "unexpected character '#'"},
    {"5 GB", 3, "a unit must follow its number without a space"},
    {"20gb", 3, "unknown unit 'gb'"},
    {"5min", 2, "unknown unit 'min'"},
    {"1h30m", 3, "compound durations"},
    {"5%3", 3, "unexpected character after number"},
    {"1.", 3, "expected a digit after '.'"},
    {"1e999", 1, "out of range"},
    {"\"abc", 1, "unterminated string"},
    {"x{a=\"1\"", 8, "expected ',' or '}'"},
    {"x{a==\"1\"}", 4, "takes '=', not '=='"},
    {"x{a=1}", 5, "expected a quoted label value"},
    {"x{=\"1\"}", 3, "expected a label name"},
    {"x{a.b=\"1\"}", 4, "label names take letters"},
    {"x{a<\"1\"}", 4, "expected '=', '!=', '=~' or '!~'"},
    {"x{a=~\"(\"}", 6, "invalid regular expression"},
    {"raet(x, 5m)", 1, "unknown function 'raet' (did you mean 'rate'?)"},
    {"foo(x) > 1", 1, "unknown function 'foo'"},
    {"1 + wekday()", 5, "did you mean 'weekday'"},
    {"rate(x)", 1, "rate() takes 2 arguments, got 1"},
    {"now(1)", 1, "now() takes 0 arguments, got 1"},
    {"max()", 1, "max() takes 1 argument, got 0"},
    {"rate(1 + x, 5m)", 6, "must be a series selector"},
    {"in_window(x)", 11, "must be a quoted string"},
    {"in_window(\"Mon-Fry\")", 16, "unknown day 'Fry'"},
    {"in_window(\"Mon 25:00-06:00\")", 16, "out of range"},
    {"files_matching(\"[\", \"/tmp\")", 16, "invalid regular expression"},
    {"files_matching(\"x\", tmp)", 21, "must be a quoted string"},
    {"sql(main{a=\"b\"}, \"select 1\")", 5, "must name a database"},
    {"promql(up)", 8, "must be a quoted string"},
    {"max(x,)", 7, "expected a number, string, name or '('"},
    {"max(x y)", 7, "expected ',' or ')'"},
    {"-not a", 2, "'not' needs parentheses"},
    {"a and", 6, "unexpected end"},
    {"not", 4, "unexpected end"},
    {"x{a=\"1\"} {", 10, "found '{'"},
    {"a\x01", 2, "byte 0x01"},
    /* Found by fuzz_expr: glibc's regcomp copies repeated parts and ran for minutes. */
    {"x{a=~\"b+++++++++++++++++++++\"}", 6, "a repetition directly after another"},
    {"x{a=~\"((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)\"}", 6, "expand too far"},
    {"x{a=~\"((a{100}){100})\"}", 6, "expand too far"},
    {"x{a=~\"a{1000}\"}", 6, "repetition count above 255"},
    {"files_matching(\"((x+){200}){30}\", \"/tmp\")", 16, "expand too far"},
    /* Found by fuzz_expr: an argument that failed half-built leaked. */
    {"max(x{a~\"b\"})", 8, "unexpected character '~'"},
    {"count(rate(x{a=\"b\"}, 5m) +)", 27, "expected a number"},
};

static void test_parse_ok_and_round_trip(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
    const char *in = ok_cases[i].in;
    expr_node *a = NULL, *b = NULL;
    int col = -1;
    gg_error err;
    gg_error_clear(&err);
    if (expr_parse(in, &a, &col, &err) != GG_OK) fail_msg("parse '%s': col %d: %s", in, col, err.msg);
    char *p1 = expr_print(a);
    assert_non_null(p1);
    if (strcmp(p1, ok_cases[i].canon) != 0)
      fail_msg("print '%s': got '%s', want '%s'", in, p1, ok_cases[i].canon);
    if (expr_parse(p1, &b, &col, &err) != GG_OK) fail_msg("reparse '%s': col %d: %s", p1, col, err.msg);
    if (!expr_equal(a, b)) fail_msg("round trip of '%s' through '%s' changed the tree", in, p1);
    char *p2 = expr_print(b);
    if (strcmp(p1, p2) != 0) fail_msg("print is not canonical: '%s' then '%s'", p1, p2);
    free(p1);
    free(p2);
    expr_free(a);
    expr_free(b);
  }
}

static void test_parse_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
    const char *in = err_cases[i].in;
    expr_node *n = NULL;
    int col = -1;
    gg_error err;
    gg_error_clear(&err);
    gg_status s = expr_parse(in, &n, &col, &err);
    if (s != GG_ERR_EXPR) fail_msg("'%s' parsed (status %s), want an error", in, gg_status_name(s));
    assert_null(n);
    if (col != err_cases[i].column)
      fail_msg("'%s': column %d, want %d (%s)", in, col, err_cases[i].column, err.msg);
    if (!strstr(err.msg, err_cases[i].msg))
      fail_msg("'%s': message '%s' lacks '%s'", in, err.msg, err_cases[i].msg);
  }
}

static void test_equal_tells_trees_apart(void **state) {
  (void)state;
  static const char *pairs[][2] = {
      {"1 + 2", "1 - 2"},
      {"5m", "300s"},
      {"x{a=\"1\"}", "x{a!=\"1\"}"},
      {"x{a=\"1\"}", "x{a=\"2\"}"},
      {"rate(x, 5m)", "increase(x, 5m)"},
      {"a and b", "b and a"},
      {"-x", "x"},
      {"\"a\"", "a"},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    expr_node *a = NULL, *b = NULL;
    assert_int_equal(expr_parse(pairs[i][0], &a, NULL, NULL), GG_OK);
    assert_int_equal(expr_parse(pairs[i][1], &b, NULL, NULL), GG_OK);
    if (expr_equal(a, b)) fail_msg("'%s' and '%s' compare equal", pairs[i][0], pairs[i][1]);
    expr_free(a);
    expr_free(b);
  }
}

static void test_columns_and_accessors(void **state) {
  (void)state;
  expr_node *n = NULL;
  assert_int_equal(expr_parse("rate(x{a=\"b\"}, 5m) * 60 > 20GB", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_node_kind(n), EXPR_BINARY);
  assert_int_equal(expr_node_op(n), EXPR_OP_GT);
  assert_int_equal(expr_node_column(n), 25);
  const expr_node *rhs = expr_node_child(n, 1);
  assert_int_equal(expr_node_kind(rhs), EXPR_NUM);
  assert_true(expr_node_number(rhs) == 20e9);
  assert_int_equal(expr_node_unit_kind(rhs), 's');
  assert_int_equal(expr_node_column(rhs), 27);
  const expr_node *mul = expr_node_child(n, 0);
  const expr_node *call = expr_node_child(mul, 0);
  assert_string_equal(expr_node_text(call), "rate");
  assert_int_equal(expr_node_child_count(call), 2);
  const expr_node *sel = expr_node_child(call, 0);
  assert_int_equal(expr_node_column(sel), 6);
  expr_selector s;
  expr_node_selector(sel, &s);
  assert_string_equal(s.name, "x");
  assert_int_equal(s.n_matchers, 1);
  assert_string_equal(s.matchers[0].label, "a");
  assert_string_equal(s.matchers[0].value, "b");
  assert_null(expr_node_child(call, 2));
  expr_free(n);
  expr_free(NULL);
}

static bool count_selectors(const expr_node *n, void *user) {
  if (expr_node_kind(n) == EXPR_SELECTOR) (*(int *)user)++;
  return true;
}

static void test_walk_visits_every_selector(void **state) {
  (void)state;
  expr_node *n = NULL;
  assert_int_equal(expr_parse("rate(a, 5m) / (rate(b, 5m) + c{x=\"1\"}) > d and not e", &n, NULL, NULL),
                   GG_OK);
  int count = 0;
  expr_walk(n, count_selectors, &count);
  assert_int_equal(count, 5);
  expr_free(n);
}

static void test_caret(void **state) {
  (void)state;
  char out[128];
  assert_string_equal(expr_caret("rate(x, 5m) >> 3", 14, out, sizeof out),
                      "rate(x, 5m) >> 3\n             ^");
  assert_string_equal(expr_caret("abc", 1, out, sizeof out), "abc\n^");
  assert_string_equal(expr_caret("abc", 4, out, sizeof out), "abc\n   ^");
  assert_string_equal(expr_caret("a\tb", 3, out, sizeof out), "a\tb\n \t^");
  assert_string_equal(expr_caret("a and\nb c", 9, out, sizeof out), "b c\n  ^");
  assert_string_equal(expr_caret("abcdef", 6, out, 6), "abcde");
  /* The column the parser reports puts the caret under the offending text. */
  expr_node *n = NULL;
  int col = 0;
  assert_int_equal(expr_parse("max(x) > 5 GB", &n, &col, NULL), GG_ERR_EXPR);
  assert_string_equal(expr_caret("max(x) > 5 GB", col, out, sizeof out), "max(x) > 5 GB\n           ^");
}

static void test_long_and_deep_input_is_refused(void **state) {
  (void)state;
  size_t n = EXPR_DEPTH_MAX + 10;
  char *deep = malloc(2 * n + 2);
  assert_non_null(deep);
  for (size_t i = 0; i < n; i++) deep[i] = '(';
  deep[n] = '1';
  for (size_t i = 0; i < n; i++) deep[n + 1 + i] = ')';
  deep[2 * n + 1] = '\0';
  expr_node *e = NULL;
  gg_error err;
  assert_int_equal(expr_parse(deep, &e, NULL, &err), GG_ERR_EXPR);
  assert_non_null(strstr(err.msg, "nested too deeply"));
  memset(deep, '-', 2 * n);
  assert_int_equal(expr_parse(deep, &e, NULL, &err), GG_ERR_EXPR);
  free(deep);
  /* A long chain of operators builds a deep tree without deep parser recursion. */
  gg_buf chain;
  gg_buf_init(&chain, 0);
  for (int i = 0; i < EXPR_DEPTH_MAX + 5; i++) assert_int_equal(gg_buf_puts(&chain, i ? " + 1" : "1"), GG_OK);
  int col = 0;
  assert_int_equal(expr_parse(gg_buf_str(&chain), &e, &col, &err), GG_ERR_EXPR);
  assert_non_null(strstr(err.msg, "nested too deeply"));
  assert_true(col > 1);
  gg_buf_reset(&chain);
  for (int i = 0; i < EXPR_DEPTH_MAX - 5; i++) assert_int_equal(gg_buf_puts(&chain, i ? " * 1" : "1"), GG_OK);
  assert_int_equal(expr_parse(gg_buf_str(&chain), &e, &col, &err), GG_OK);
  expr_free(e);
  gg_buf_release(&chain);
  char *big = malloc(EXPR_TEXT_MAX + 2);
  assert_non_null(big);
  memset(big, 'x', EXPR_TEXT_MAX + 1);
  big[EXPR_TEXT_MAX + 1] = '\0';
  assert_int_equal(expr_parse(big, &e, NULL, &err), GG_ERR_EXPR);
  assert_non_null(strstr(err.msg, "longer than"));
  free(big);
}

static void test_function_names_agree_with_the_parser(void **state) {
  (void)state;
  const char *const *names = expr_function_names();
  size_t count = 0;
  for (; names[count]; count++) {
    char text[64];
    snprintf(text, sizeof text, "%s(", names[count]);
    expr_node *n = NULL;
    gg_error err;
    gg_error_clear(&err);
    /* Unknown names fail on the name; known ones get as far as the arguments. */
    assert_int_equal(expr_parse(text, &n, NULL, &err), GG_ERR_EXPR);
    if (strstr(err.msg, "unknown function"))
      fail_msg("'%s' is listed but unknown: %s", names[count], err.msg);
  }
  assert_int_equal(count, 25);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_ok_and_round_trip),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_equal_tells_trees_apart),
      cmocka_unit_test(test_columns_and_accessors),
      cmocka_unit_test(test_walk_visits_every_selector),
      cmocka_unit_test(test_caret),
      cmocka_unit_test(test_long_and_deep_input_is_refused),
      cmocka_unit_test(test_function_names_agree_with_the_parser),
  };
  printf("expr parse cases: %zu ok, %zu errors\n", sizeof ok_cases / sizeof ok_cases[0],
         sizeof err_cases / sizeof err_cases[0]);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
