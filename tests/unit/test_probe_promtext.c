/*
 * Unit tests of the probes' parsers: the Prometheus text format (every metric type,
 * escapes, timestamps, and malformed pages naming their line), Go durations as
 * nats-server prints RTTs, and NATS subject coverage.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/probe.h"
#include "probe/promtext.h"

/* The sample with this name and (optional) label name/value pairs; fails the test if absent. */
static const expr_sample *find(const expr_vector *v, const char *name, const char *k1, const char *v1,
                               const char *k2, const char *v2) {
  for (size_t i = 0; i < v->n; i++) {
    const expr_labels *l = &v->v[i].labels;
    const char *n = expr_labels_get(l, "__name__");
    if (!n || strcmp(n, name) != 0) continue;
    if (k1 && (!expr_labels_get(l, k1) || strcmp(expr_labels_get(l, k1), v1) != 0)) continue;
    if (k2 && (!expr_labels_get(l, k2) || strcmp(expr_labels_get(l, k2), v2) != 0)) continue;
    return &v->v[i];
  }
  fail_msg("no sample %s{%s=%s,%s=%s}", name, k1 ? k1 : "", v1 ? v1 : "", k2 ? k2 : "", v2 ? v2 : "");
  return NULL;
}

static const char valid_page[] =
    "# HELP http_requests_total The total number of HTTP requests.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
    "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
    "\n"
    "# A normal comment.\n"
    "#\n"
    "# TYPE temperature gauge\n"
    "temperature -3.5\n"
    "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
    "file:\\n\\\"FILE.TXT\\\"\"} "
    "1.458255915e9\n"
    "metric_without_timestamp_and_labels 12.47\n"
    "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
    "not_a_number NaN\n"
    "# HELP http_request_duration_seconds A histogram of the request duration.\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
    "http_request_duration_seconds_bucket{le=\"0.1\"} 33444\n"
    "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
    "http_request_duration_seconds_sum 53423\n"
    "http_request_duration_seconds_count 144320\n"
    "# HELP rpc_duration_seconds A summary of the RPC duration in seconds.\n"
    "# TYPE rpc_duration_seconds summary\n"
    "rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
    "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
    "rpc_duration_seconds_sum 1.7560473e+07\n"
    "rpc_duration_seconds_count 2693\n"
    "# TYPE untyped_thing untyped\n"
    "untyped_thing{a=\"1\",} 7\r\n"
    "colon:name:total 5\n"
    "\t spaced_out \t { x = \"y\" } \t 2\n"
    "last_line_without_newline 9";

static void test_valid_page(void **state) {
  (void)state;
  expr_vector v = {0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(probe_promtext_parse(valid_page, strlen(valid_page), "page", 100.0, &v, &err), GG_OK);
  assert_int_equal(v.n, 20);

  const expr_sample *s = find(&v, "http_requests_total", "code", "400", "method", "post");
  assert_true(s->value == 3);
  assert_true(fabs(s->ts - 1395066363.0) < 1e-6);
  s = find(&v, "temperature", NULL, NULL, NULL, NULL);
  assert_true(s->value == -3.5);
  assert_true(s->ts == 100.0); /* the default timestamp */
  s = find(&v, "msdos_file_access_time_seconds", "path", "C:\\DIR\\FILE.TXT", "error",
           "Cannot find file:\n\"FILE.TXT\"");
  assert_true(s->value == 1.458255915e9);
  s = find(&v, "something_weird", NULL, NULL, NULL, NULL);
  assert_true(isinf(s->value) && s->value > 0);
  assert_true(fabs(s->ts - -3982.045) < 1e-9);
  assert_true(isnan(find(&v, "not_a_number", NULL, NULL, NULL, NULL)->value));
  assert_true(find(&v, "http_request_duration_seconds_bucket", "le", "+Inf", NULL, NULL)->value == 144320);
  assert_true(find(&v, "http_request_duration_seconds_bucket", "le", "0.1", NULL, NULL)->value == 33444);
  assert_true(find(&v, "http_request_duration_seconds_sum", NULL, NULL, NULL, NULL)->value == 53423);
  assert_true(find(&v, "http_request_duration_seconds_count", NULL, NULL, NULL, NULL)->value == 144320);
  assert_true(find(&v, "rpc_duration_seconds", "quantile", "0.99", NULL, NULL)->value == 76656);
  assert_true(find(&v, "rpc_duration_seconds_sum", NULL, NULL, NULL, NULL)->value == 1.7560473e+07);
  assert_true(find(&v, "rpc_duration_seconds_count", NULL, NULL, NULL, NULL)->value == 2693);
  assert_true(find(&v, "untyped_thing", "a", "1", NULL, NULL)->value == 7);
  assert_true(find(&v, "colon:name:total", NULL, NULL, NULL, NULL)->value == 5);
  assert_true(find(&v, "spaced_out", "x", "y", NULL, NULL)->value == 2);
  assert_true(find(&v, "last_line_without_newline", NULL, NULL, NULL, NULL)->value == 9);
  /* Labels are the page's own plus __name__, nothing invented. */
  assert_int_equal(find(&v, "http_requests_total", "code", "200", NULL, NULL)->labels.n, 3);
  expr_vector_release(&v);
}

static void test_empty_page(void **state) {
  (void)state;
  expr_vector v = {0};
  gg_error err;
  assert_int_equal(probe_promtext_parse("", 0, "page", 0, &v, &err), GG_OK);
  assert_int_equal(v.n, 0);
  assert_int_equal(probe_promtext_parse("# only\n\n   \n", 12, "page", 0, &v, &err), GG_OK);
  assert_int_equal(v.n, 0);
  expr_vector_release(&v);
}

/* Each malformed page fails with GG_ERR_PARSE naming the line and the problem. */
static void test_malformed(void **state) {
  (void)state;
  static const struct {
    const char *page;
    const char *want; /* substring of the message */
  } cases[] = {
      {"ok 1\nbad_value abc\n", "page: line 2: invalid sample value 'abc'"},
      {"ok 1\n\nno_value\n", "line 3: missing sample value"},
      {"m{a=\"1\" 2\n", "line 1: expected ',' or '}' after a label value"},
      {"m{a=\"1\n", "line 1: unterminated label value of 'a'"},
      {"m{a=1} 2\n", "line 1: expected '\"' to open the value of label 'a'"},
      {"m{a} 2\n", "line 1: expected '=' after label name 'a'"},
      {"m{a=\"x\\q\"} 2\n", "line 1: invalid escape '\\q' in the value of label 'a'"},
      {"m{a=\"1\",a=\"2\"} 3\n", "line 1: duplicate label 'a'"},
      {"m{1a=\"1\"} 3\n", "line 1: expected a label name or '}', got '1'"},
      {"1metric 3\n", "line 1: expected a metric name, got '1'"},
      {"m 1 12.5\n", "line 1: invalid timestamp '12.5'"},
      {"m 1 12 extra\n", "line 1: unexpected text after the timestamp"},
      {"# TYPE m countr\n", "line 1: unknown metric type 'countr'"},
      {"# TYPE\n", "line 1: TYPE line without a metric name"},
      {"# HELP 9x help\n", "line 1: invalid metric name in HELP line"},
      {"m-x 1\n", "line 1: invalid character after metric name 'm'"},
      {"a 1\nb 2\nc 3\nd{x=\"\"} 4 5 6\n", "line 4: unexpected text after the timestamp"},
      {"m{a=\"1\"", "line 1: unterminated label set"},
      {"m 1e999\n", "line 1: invalid sample value '1e999'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    expr_vector v = {0};
    gg_error err;
    gg_error_clear(&err);
    gg_status st = probe_promtext_parse(cases[i].page, strlen(cases[i].page), "page", 0, &v, &err);
    if (st != GG_ERR_PARSE) fail_msg("case %zu: want GG_ERR_PARSE, got %s", i, gg_status_name(st));
    if (!strstr(err.msg, cases[i].want))
      fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].want);
    expr_vector_release(&v);
  }
}

static void test_nul_and_unterminated_input(void **state) {
  (void)state;
  /* Not NUL-terminated: the parser must stay within len. */
  char page[] = {'m', ' ', '1', '\n', 'n', ' ', '2', 'X'};
  expr_vector v = {0};
  gg_error err;
  assert_int_equal(probe_promtext_parse(page, 7, NULL, 0, &v, &err), GG_OK);
  assert_int_equal(v.n, 2);
  expr_vector_release(&v);
  char withnul[] = "m 1\nn\0 2\n";
  assert_int_equal(probe_promtext_parse(withnul, sizeof withnul - 1, NULL, 0, &v, &err), GG_ERR_PARSE);
  assert_non_null(strstr(err.msg, "line 2: NUL byte"));
  expr_vector_release(&v);
}

static void test_go_duration(void **state) {
  (void)state;
  static const struct {
    const char *text;
    double want;
  } ok[] = {{"1.234ms", 0.001234},
            {"138\xc2\xb5s", 138e-6},
            {"250us", 250e-6},
            {"1m2.5s", 62.5},
            {"0s", 0},
            {"42ns", 42e-9},
            {"2h", 7200},
            {"0", 0}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    double v = -1;
    gg_error err;
    assert_int_equal(probe_parse_go_duration(ok[i].text, &v, &err), GG_OK);
    if (fabs(v - ok[i].want) > 1e-12) fail_msg("%s: got %g want %g", ok[i].text, v, ok[i].want);
  }
  const char *bad[] = {"", "ms", "12", "1.5x", "-1s", "1s2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double v;
    gg_error err;
    if (probe_parse_go_duration(bad[i], &v, &err) == GG_OK) fail_msg("'%s' parsed", bad[i]);
  }
}

static void test_subject_covers(void **state) {
  (void)state;
  assert_true(probe_subject_covers("core.>", "core.hrv.a"));
  assert_true(probe_subject_covers("core.>", "core.hrv.>"));
  assert_true(probe_subject_covers("core.*", "core.x"));
  assert_true(probe_subject_covers("core.*", "core.*"));
  assert_true(probe_subject_covers("a.b", "a.b"));
  assert_true(probe_subject_covers(">", "anything.at.all"));
  assert_false(probe_subject_covers("core.>", "core"));
  assert_false(probe_subject_covers("core.*", "core.x.y"));
  assert_false(probe_subject_covers("core.*", "core.>"));
  assert_false(probe_subject_covers("core.x", "core.*"));
  assert_false(probe_subject_covers("vendor.>", "core.hrv"));
  assert_false(probe_subject_covers("a.b", "a.bc"));
}

static void test_files_and_run(void **state) {
  (void)state;
  char dir[] = "/tmp/gg-probe-unit-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/f", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  probe_config cfg = {0};
  probe_ctx *ctx = probe_ctx_new(&cfg);
  assert_non_null(ctx);
  expr_matcher m = {"path", EXPR_MATCH_EQ, path};
  expr_selector sel = {"file.age", &m, 1};
  expr_vector v = {0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(probe_select(ctx, &sel, &v, &err), GG_OK);
  assert_int_equal(v.n, 1);
  assert_true(v.v[0].value >= 0 && v.v[0].value < 60);
  assert_string_equal(expr_labels_get(&v.v[0].labels, "path"), path);
  expr_vector_release(&v);
  sel.name = "fs.free";
  assert_int_equal(probe_select(ctx, &sel, &v, &err), GG_OK);
  assert_true(v.n == 1 && v.v[0].value > 0);
  expr_vector_release(&v);
  /* A missing file is an error naming it, never a value. */
  char missing[300];
  snprintf(missing, sizeof missing, "%s/nope", dir);
  m.value = missing;
  sel.name = "file.age";
  assert_int_not_equal(probe_select(ctx, &sel, &v, &err), GG_OK);
  assert_non_null(strstr(err.msg, missing));
  assert_int_equal(v.n, 0);
  /* Unknown built-in names are not this source's; a path is required. */
  sel.name = "nats.server.upp";
  assert_int_equal(probe_select(ctx, &sel, &v, &err), GG_ERR_NOT_FOUND);
  expr_selector nopath = {"file.age", NULL, 0};
  assert_int_equal(probe_select(ctx, &nopath, &v, &err), GG_ERR_INVALID);
  /* Scraped names with no target are unknown. */
  expr_selector scraped = {"foo_total", NULL, 0};
  assert_int_equal(probe_select(ctx, &scraped, &v, &err), GG_ERR_NOT_FOUND);
  probe_ctx_free(ctx);

  probe_run_result r;
  assert_int_equal(probe_run("echo hello; exit 0", 5, NULL, &r, &err), GG_OK);
  assert_true(r.ok);
  assert_non_null(strstr(r.output, "hello"));
  probe_run_result_release(&r);
  assert_int_equal(probe_run("echo broken >&2; exit 3", 5, NULL, &r, &err), GG_OK);
  assert_false(r.ok);
  assert_string_equal(r.summary, "exit 3");
  assert_non_null(strstr(r.output, "broken"));
  probe_run_result_release(&r);
  assert_int_equal(probe_run("sleep 10", 0.3, NULL, &r, &err), GG_OK);
  assert_false(r.ok);
  assert_non_null(strstr(r.summary, "timed out"));
  probe_run_result_release(&r);
  remove(path);
  remove(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_page),    cmocka_unit_test(test_empty_page),
      cmocka_unit_test(test_malformed),     cmocka_unit_test(test_nul_and_unterminated_input),
      cmocka_unit_test(test_go_duration),   cmocka_unit_test(test_subject_covers),
      cmocka_unit_test(test_files_and_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
