/* Unit tests of src/base/clock: the injectable clock and RFC 3339 times. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"

static int reset_clock(void **state) {
  (void)state;
  gg_clock_clear_fixed();
  return 0;
}

static void test_real_clock(void **state) {
  (void)state;
  double before = (double)time(NULL);
  double now = gg_clock_now();
  double after = (double)time(NULL);
  assert_true(now >= before && now < after + 1);
  double m1 = gg_clock_mono();
  double m2 = gg_clock_mono();
  assert_true(m2 >= m1);
}

static void test_fixed_clock(void **state) {
  (void)state;
  gg_clock_set_fixed(1795849200.5);
  assert_true(gg_clock_now() == 1795849200.5);
  assert_true(gg_clock_now() == 1795849200.5); /* it does not move by itself */
  gg_clock_advance(90);
  assert_true(gg_clock_now() == 1795849290.5);
  gg_clock_advance(0.25);
  assert_true(gg_clock_now() == 1795849290.75);
  gg_clock_set_fixed(10);
  assert_true(gg_clock_now() == 10);
  gg_clock_clear_fixed();
  assert_true(fabs(gg_clock_now() - (double)time(NULL)) < 2);
}

/* The monotonic clock is never faked: fixing wall time leaves it alone. */
static void test_mono_not_fixed(void **state) {
  (void)state;
  double m1 = gg_clock_mono();
  gg_clock_set_fixed(0);
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  double m2 = gg_clock_mono();
  assert_true(m2 - m1 >= 0.015);
  assert_true(gg_clock_now() == 0);
}

typedef struct {
  const char *text;
  double want;
} time_case;

static void test_parse_valid(void **state) {
  (void)state;
  static const time_case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2026-11-28T07:14:18Z", 1795850058},
      {"2026-11-28T07:14:18z", 1795850058},
      {"2026-11-28t07:14:18Z", 1795850058},
      {"2026-11-28 07:14:18Z", 1795850058},
      {"2026-11-28T08:14:18.250+01:00", 1795850058.25},
      {"2026-11-28T02:44:18-04:30", 1795850058},
      {"2026-11-28T07:14:18.5Z", 1795850058.5},
      {"2026-11-28T07:14:18.123456789Z", 1795850058.123456789},
      {"2026-12-25", 1798156800},
      {"2024-02-29", 1709164800},          /* a leap year */
      {"2000-02-29T12:00:00Z", 951825600}, /* divisible by 400: leap */
      {"1969-12-31T23:59:59Z", -1},
      {"2026-12-31T23:59:59+00:00", 1798761599},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gg_error err;
    gg_error_clear(&err);
    double t = -12345;
    gg_status st = gg_time_parse(cases[i].text, &t, &err);
    if (st != GG_OK || fabs(t - cases[i].want) > 1e-6)
      print_error("parse '%s': %s %.6f (%s), want %.6f\n", cases[i].text, gg_status_name(st), t, err.msg,
                  cases[i].want);
    assert_int_equal(st, GG_OK);
    assert_true(fabs(t - cases[i].want) <= 1e-6);
  }
}

typedef struct {
  const char *text;
  gg_status want;
  const char *said;
} bad_case;

static void test_parse_invalid(void **state) {
  (void)state;
  static const bad_case cases[] = {
      {"", GG_ERR_INVALID, "empty time"},
      {"2026-02-30", GG_ERR_RANGE, "day 30 out of range for February 2026"},
      {"2026-02-29", GG_ERR_RANGE, "day 29 out of range for February 2026"},
      {"1900-02-29", GG_ERR_RANGE, "day 29 out of range for February 1900"}, /* by 100, not 400 */
      {"2026-04-31", GG_ERR_RANGE, "day 31 out of range for April"},
      {"2026-13-01", GG_ERR_RANGE, "month 13"},
      {"2026-00-10", GG_ERR_RANGE, "month 0"},
      {"2026-01-00", GG_ERR_RANGE, "day 0"},
      {"2026-11-28T24:00:00Z", GG_ERR_RANGE, "hour 24"},
      {"2026-11-28T23:60:00Z", GG_ERR_RANGE, "minute 60"},
      {"2026-11-28T23:59:60Z", GG_ERR_RANGE, "second 60"},
      {"2026-11-28T07:14:18", GG_ERR_INVALID, "missing 'Z' or an offset"},
      {"2026-11-28T07:14:18Zjunk", GG_ERR_INVALID, "trailing text 'junk'"},
      {"2026-11-28T07:14:18+1:00", GG_ERR_INVALID, "offset as +HH:MM"},
      {"2026-11-28T07:14:18+24:00", GG_ERR_RANGE, "offset out of range"},
      {"2026-11-28T07:14:18.Z", GG_ERR_INVALID, "digits after '.'"},
      {"2026-11-28T7:14:18Z", GG_ERR_INVALID, "HH:MM:SS"},
      {"26-11-28", GG_ERR_INVALID, "YYYY-MM-DD"},
      {"2026/11/28", GG_ERR_INVALID, "YYYY-MM-DD"},
      {"2026-11-28X07:14:18Z", GG_ERR_INVALID, "expected 'T'"},
      {"tomorrow", GG_ERR_INVALID, "YYYY-MM-DD"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gg_error err;
    gg_error_clear(&err);
    double t = -12345;
    gg_status st = gg_time_parse(cases[i].text, &t, &err);
    bool ok = st == cases[i].want && strstr(err.msg, cases[i].said) && strstr(err.msg, cases[i].text) &&
              t == -12345;
    if (!ok)
      print_error("parse '%s': %s \"%s\", want %s containing \"%s\"\n", cases[i].text, gg_status_name(st),
                  err.msg, gg_status_name(cases[i].want), cases[i].said);
    assert_true(ok);
  }
}

static void test_format(void **state) {
  (void)state;
  char out[64];
  assert_string_equal(gg_time_format(0, out, sizeof out), "1970-01-01T00:00:00.000Z");
  assert_string_equal(gg_time_format(1795850058.25, out, sizeof out), "2026-11-28T07:14:18.250Z");
  assert_string_equal(gg_time_format(1709164800, out, sizeof out), "2024-02-29T00:00:00.000Z");
  assert_string_equal(gg_time_format(-0.5, out, sizeof out), "1969-12-31T23:59:59.500Z");
  assert_string_equal(gg_time_format(1795850058.9996, out, sizeof out), "2026-11-28T07:14:19.000Z");
  char tiny[11];
  assert_string_equal(gg_time_format(1795850058.25, tiny, sizeof tiny), "2026-11-28");
}

/* Whatever gg_time_parse reads, gg_time_format writes back as the same instant in UTC. */
static void test_round_trip(void **state) {
  (void)state;
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
      {"2026-11-28T08:14:18.250+01:00", "2026-11-28T07:14:18.250Z"},
      {"2026-03-01T00:30:00+01:00", "2026-02-28T23:30:00.000Z"},
      {"2028-02-28T23:30:00-01:00", "2028-02-29T00:30:00.000Z"},
      {"2026-12-31T23:59:59.999Z", "2026-12-31T23:59:59.999Z"},
      {"2026-12-25", "2026-12-25T00:00:00.000Z"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double t = 0;
    char out[64];
    assert_int_equal(gg_time_parse(cases[i].in, &t, NULL), GG_OK);
    assert_string_equal(gg_time_format(t, out, sizeof out), cases[i].out);
    double back = 0;
    assert_int_equal(gg_time_parse(out, &back, NULL), GG_OK);
    assert_true(fabs(back - t) < 1e-6);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_real_clock, reset_clock),
      cmocka_unit_test_teardown(test_fixed_clock, reset_clock),
      cmocka_unit_test_teardown(test_mono_not_fixed, reset_clock),
      cmocka_unit_test(test_parse_valid),
      cmocka_unit_test(test_parse_invalid),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
