/* Unit tests of src/base/units: parsing and formatting durations, sizes and percentages. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/units.h"

typedef enum { DURATION, DURATION_BARE, SIZE, PERCENT } parse_kind;

typedef struct {
  parse_kind kind;
  const char *text;
  gg_status want;
  double value;     /* when want is GG_OK */
  const char *said; /* a substring the error message must contain */
} parse_case;

static const parse_case parse_cases[] = {
    /* Durations that parse. */
    {DURATION, "250ms", GG_OK, 0.25, NULL},
    {DURATION, "90s", GG_OK, 90, NULL},
    {DURATION, "1.5h", GG_OK, 5400, NULL},
    {DURATION, "14d", GG_OK, 1209600, NULL},
    {DURATION, "2w", GG_OK, 1209600, NULL},
    {DURATION, "1h30m", GG_OK, 5400, NULL},
    {DURATION, "5m", GG_OK, 300, NULL},
    {DURATION, "0s", GG_OK, 0, NULL},
    {DURATION, "1d12h", GG_OK, 129600, NULL},
    {DURATION, "1m30.5s", GG_OK, 90.5, NULL},
    {DURATION, "2h45m10s500ms", GG_OK, 9910.5, NULL},
    {DURATION, "1e3ms", GG_OK, 1, NULL},
    {DURATION_BARE, "30", GG_OK, 30, NULL},
    {DURATION_BARE, "2.5", GG_OK, 2.5, NULL},
    /* Durations that do not. */
    {DURATION, "", GG_ERR_INVALID, 0, "empty duration"},
    {DURATION, "abc", GG_ERR_INVALID, 0, "expected a number at 'abc'"},
    {DURATION, "5m foo", GG_ERR_INVALID, 0, "unexpected ' foo' after '5m'"},
    {DURATION, "5x", GG_ERR_INVALID, 0, "unknown unit 'x'"},
    {DURATION, "5sec", GG_ERR_INVALID, 0, "unknown unit 'sec'"},
    {DURATION, "-5m", GG_ERR_RANGE, 0, "must not be negative"},
    {DURATION, "1e400s", GG_ERR_OVERFLOW, 0, "too large"},
    {DURATION, "1e306w", GG_ERR_OVERFLOW, 0, "too large"},
    {DURATION, "inf", GG_ERR_INVALID, 0, "not a finite number"},
    {DURATION, "nans", GG_ERR_INVALID, 0, "not a finite number"},
    {DURATION, "30", GG_ERR_INVALID, 0, "missing unit after '30'"},
    {DURATION, "1h30", GG_ERR_INVALID, 0, "missing unit after '30'"},
    {DURATION, "30m1h", GG_ERR_INVALID, 0, "unit 'h' must come before 'm'"},
    {DURATION, "1h1h", GG_ERR_INVALID, 0, "unit 'h' must come before 'h'"},
    {DURATION, "0x10s", GG_ERR_INVALID, 0, "hexadecimal"},
    {DURATION, " 5m", GG_ERR_INVALID, 0, "expected a number at ' 5m'"},
    {DURATION, "5 m", GG_ERR_INVALID, 0, "unexpected ' m' after '5'"},
    {DURATION, "5.m", GG_ERR_INVALID, 0, "unexpected '.m' after '5'"},
    {DURATION_BARE, "30x", GG_ERR_INVALID, 0, "unknown unit 'x'"},
    /* Sizes that parse. */
    {SIZE, "20GB", GG_OK, 20e9, NULL},
    {SIZE, "20GiB", GG_OK, 21474836480.0, NULL},
    {SIZE, "512MB", GG_OK, 512e6, NULL},
    {SIZE, "512MiB", GG_OK, 536870912.0, NULL},
    {SIZE, "512", GG_OK, 512, NULL},
    {SIZE, "1.5KiB", GG_OK, 1536, NULL},
    {SIZE, "12.1 GB", GG_OK, 12.1e9, NULL},
    {SIZE, "0B", GG_OK, 0, NULL},
    {SIZE, "3TB", GG_OK, 3e12, NULL},
    {SIZE, "1TiB", GG_OK, 1099511627776.0, NULL},
    {SIZE, "64KB", GG_OK, 64000, NULL},
    /* Sizes that do not. */
    {SIZE, "", GG_ERR_INVALID, 0, "empty size"},
    {SIZE, "1e400GB", GG_ERR_OVERFLOW, 0, "too large"},
    {SIZE, "1e300TB", GG_ERR_OVERFLOW, 0, "too large"},
    {SIZE, "-5GB", GG_ERR_RANGE, 0, "must not be negative"},
    {SIZE, "20XB", GG_ERR_INVALID, 0, "unknown unit 'XB'"},
    {SIZE, "20gb", GG_ERR_INVALID, 0, "unknown unit 'gb'"},
    {SIZE, "GB", GG_ERR_INVALID, 0, "expected a number at 'GB'"},
    {SIZE, "20GB!", GG_ERR_INVALID, 0, "unexpected '!' after '20GB'"},
    {SIZE, "20 GB extra", GG_ERR_INVALID, 0, "unexpected ' extra'"},
    {SIZE, "NaN", GG_ERR_INVALID, 0, "not a finite number"},
    {SIZE, "Infinity", GG_ERR_INVALID, 0, "not a finite number"},
    {SIZE, "0x1F", GG_ERR_INVALID, 0, "hexadecimal"},
    /* Percentages. */
    {PERCENT, "80%", GG_OK, 0.8, NULL},
    {PERCENT, "12.5%", GG_OK, 0.125, NULL},
    {PERCENT, "-5%", GG_OK, -0.05, NULL},
    {PERCENT, "0%", GG_OK, 0, NULL},
    {PERCENT, "80", GG_ERR_INVALID, 0, "missing '%'"},
    {PERCENT, "80%%", GG_ERR_INVALID, 0, "unexpected '%%' after '80'"},
    {PERCENT, "abc%", GG_ERR_INVALID, 0, "expected a number at 'abc%'"},
    {PERCENT, "", GG_ERR_INVALID, 0, "empty percentage"},
    {PERCENT, "1e999%", GG_ERR_OVERFLOW, 0, "too large"},
};

static const char *kind_name(parse_kind k) {
  switch (k) {
    case DURATION:
      return "duration";
    case DURATION_BARE:
      return "duration(bare)";
    case SIZE:
      return "size";
    case PERCENT:
      return "percent";
  }
  return "?";
}

static void test_parse_table(void **state) {
  (void)state;
  int failures = 0;
  for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
    const parse_case *c = &parse_cases[i];
    gg_error err;
    gg_error_clear(&err);
    double v = -12345;
    gg_status st;
    switch (c->kind) {
      case DURATION:
        st = gg_parse_duration(c->text, 0, &v, &err);
        break;
      case DURATION_BARE:
        st = gg_parse_duration(c->text, GG_UNITS_BARE_SECONDS, &v, &err);
        break;
      case SIZE:
        st = gg_parse_size(c->text, &v, &err);
        break;
      default:
        st = gg_parse_percent(c->text, &v, &err);
        break;
    }
    bool ok = st == c->want;
    if (ok && st == GG_OK) ok = fabs(v - c->value) <= 1e-12 * fmax(1, fabs(c->value));
    if (ok && st != GG_OK) {
      ok = err.code == st && strstr(err.msg, c->said) != NULL && strstr(err.msg, c->text) != NULL &&
           v == -12345;
    }
    if (!ok) {
      print_error(
          "case %zu %s '%s': got %s value %.17g msg \"%s\"; want %s value %.17g msg containing \"%s\"\n", i,
          kind_name(c->kind), c->text, gg_status_name(st), v, err.msg, gg_status_name(c->want), c->value,
          c->said ? c->said : "");
      failures++;
    }
  }
  assert_int_equal(failures, 0);
}

static void test_parse_null_err(void **state) {
  (void)state;
  double v = 0;
  /* A NULL error context is allowed: the status still comes back. */
  assert_int_equal(gg_parse_duration("5x", 0, &v, NULL), GG_ERR_INVALID);
  assert_int_equal(gg_parse_size(NULL, &v, NULL), GG_ERR_INVALID);
}

typedef struct {
  double value;
  const char *want;
} format_case;

static void test_format_duration(void **state) {
  (void)state;
  static const format_case cases[] = {
      {0.25, "250ms"}, {90, "1m30s"},       {5400, "1h30m"},   {1209600, "14d"}, {0, "0s"},
      {-90, "-1m30s"}, {90.5, "1m30.5s"},   {3600, "1h"},      {86401, "1d1s"},  {0.0005, "0.5ms"},
      {1.25, "1.25s"}, {59.999, "59.999s"}, {129600, "1d12h"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    gg_format_duration(cases[i].value, out, sizeof out);
    if (strcmp(out, cases[i].want) != 0) print_error("format_duration(%g) = '%s'\n", cases[i].value, out);
    assert_string_equal(out, cases[i].want);
  }
  /* A small buffer truncates but stays terminated. */
  char tiny[4];
  assert_string_equal(gg_format_duration(5400, tiny, sizeof tiny), "1h3");
}

static void test_format_size(void **state) {
  (void)state;
  static const format_case cases[] = {
      {12100000000.0, "12.1 GB"},
      {0, "0 B"},
      {999, "999 B"},
      {1000, "1 KB"},
      {20e9, "20 GB"},
      {999960, "1 MB"},
      {1536, "1.5 KB"},
      {-2e9, "-2 GB"},
      {5.5e12, "5.5 TB"},
      {21474836480.0, "21.5 GB"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    gg_format_size(cases[i].value, out, sizeof out);
    if (strcmp(out, cases[i].want) != 0) print_error("format_size(%g) = '%s'\n", cases[i].value, out);
    assert_string_equal(out, cases[i].want);
  }
}

/* What gg_format_duration writes, gg_parse_duration reads back to the same value. */
static void test_duration_round_trip(void **state) {
  (void)state;
  static const double values[] = {0,    0.001, 0.25, 1,         59,      61.5,
                                  3599, 3600,  5400, 86399.999, 1209600, 31536000};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    char out[64];
    double back = -1;
    gg_error err;
    gg_error_clear(&err);
    gg_format_duration(values[i], out, sizeof out);
    assert_int_equal(gg_parse_duration(out, 0, &back, &err), GG_OK);
    assert_true(fabs(back - values[i]) < 1e-9);
  }
  char out[64];
  double back = 0;
  gg_format_size(12100000000.0, out, sizeof out);
  assert_int_equal(gg_parse_size(out, &back, NULL), GG_OK);
  assert_true(back == 12.1e9);
}

static void test_unit_factor(void **state) {
  (void)state;
  static const struct {
    const char *unit;
    double factor;
    char kind;
  } cases[] = {
      {"ms", 0.001, 'd'},
      {"s", 1, 'd'},
      {"m", 60, 'd'},
      {"h", 3600, 'd'},
      {"d", 86400, 'd'},
      {"w", 604800, 'd'},
      {"B", 1, 's'},
      {"KB", 1000, 's'},
      {"MB", 1e6, 's'},
      {"GB", 1e9, 's'},
      {"TB", 1e12, 's'},
      {"KiB", 1024, 's'},
      {"MiB", 1048576, 's'},
      {"GiB", 1073741824.0, 's'},
      {"TiB", 1099511627776.0, 's'},
      {"%", 0.01, '%'},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char kind = 0;
    double f = gg_unit_factor(cases[i].unit, strlen(cases[i].unit), &kind);
    assert_true(f == cases[i].factor);
    assert_int_equal(kind, cases[i].kind);
  }
  char kind = 'x';
  assert_true(gg_unit_factor("x", 1, &kind) == 0);
  assert_true(gg_unit_factor("gb", 2, &kind) == 0);
  assert_int_equal(kind, 'x'); /* untouched when unknown */
  /* Only `len` bytes count: the lexer passes a slice of the expression. */
  assert_true(gg_unit_factor("msx", 2, &kind) == 0.001);
  assert_true(gg_unit_factor("GiB > 5", 3, &kind) == 1073741824.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_table),         cmocka_unit_test(test_parse_null_err),
      cmocka_unit_test(test_format_duration),     cmocka_unit_test(test_format_size),
      cmocka_unit_test(test_duration_round_trip), cmocka_unit_test(test_unit_factor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
