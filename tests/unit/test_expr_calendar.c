/*
 * test_expr_calendar.c: window specs, holidays, freezes, named windows, the earliest time and time
 * zones of src/expr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"
#include "expr/expr.h"

/* A spec, a local time (weekday 1 = Monday … 7 = Sunday, hour, minute) and whether
 * the window holds then. */
static const struct {
  const char *spec;
  int wday, hour, min;
  bool in;
} contains_cases[] = {
    {"Mon-Fri 20:00-06:00; Sat-Sun", 1, 12, 0, false},
    {"Mon-Fri 20:00-06:00; Sat-Sun", 1, 20, 0, true},
    {"Mon-Fri 20:00-06:00; Sat-Sun", 1, 19, 59, false},
    {"Mon-Fri 20:00-06:00; Sat-Sun", 2, 5, 59, true},
    {"Mon-Fri 20:00-06:00; Sat-Sun", 2, 6, 0, false},
    {"Mon-Fri 20:00-06:00; Sat-Sun", 6, 3, 0, true},
    {"Mon-Fri 20:00-06:00; Sat-Sun", 7, 23, 59, true},
    /* Monday 03:00 is not off hours: Sunday is a whole day, and the night ranges start
     * Monday to Friday evenings, so the first one ends Tuesday 06:00. */
    {"Mon-Fri 20:00-06:00; Sat-Sun", 1, 3, 0, false},
    {"Mon-Fri 20:00-06:00; Sun 20:00-06:00", 1, 3, 0, true},
    {"Mon-Fri 20:00-06:00", 1, 3, 0, false},
    {"Mon-Fri 20:00-06:00", 6, 3, 0, true}, /* Friday 20:00 runs into Saturday morning */
    {"Mon-Fri 20:00-06:00", 6, 6, 0, false},
    {"Mon-Fri 20:00-06:00", 7, 3, 0, false},
    {"Fri 22:00-02:00", 5, 23, 0, true},
    {"Fri 22:00-02:00", 6, 1, 59, true},
    {"Fri 22:00-02:00", 6, 2, 0, false},
    {"Fri 22:00-02:00", 5, 1, 0, false},
    {"Sun 23:00-01:00", 1, 0, 30, true}, /* Sunday into Monday wraps the week */
    {"Sun 23:00-01:00", 7, 0, 30, false},
    {"09:00-17:00", 3, 9, 0, true},
    {"09:00-17:00", 3, 16, 59, true},
    {"09:00-17:00", 3, 17, 0, false},
    {"09:00-17:00", 7, 12, 0, true},
    {"22:00-24:00", 4, 23, 59, true},
    {"22:00-24:00", 5, 0, 0, false},
    {"00:00-00:00", 2, 13, 0, true}, /* end <= start wraps: the whole 24 hours */
    {"Sat", 6, 0, 0, true},
    {"Sat", 6, 23, 59, true},
    {"Sat", 7, 0, 0, false},
    {"Sat-Mon", 7, 12, 0, true},
    {"Sat-Mon", 1, 12, 0, true},
    {"Sat-Mon", 2, 12, 0, false},
    {"Mon,Wed,Fri", 3, 12, 0, true},
    {"Mon,Wed,Fri", 4, 12, 0, false},
    {"Mon-Tue,Thu 08:00-09:00", 4, 8, 30, true},
    {"Mon-Tue,Thu 08:00-09:00", 3, 8, 30, false},
    {"mon-FRI 8:00-9:30", 5, 9, 29, true},
    {"Tue 12:00-13:00; Thu 12:00-13:00", 4, 12, 30, true},
    {"Tue 12:00-13:00; Thu 12:00-13:00", 3, 12, 30, false},
    {"  Sat ;Sun  ", 7, 1, 0, true},
};

/* A bad spec, the 1-based position of the problem and a piece of the message. */
static const struct {
  const char *spec;
  int pos;
  const char *msg;
} bad_specs[] = {
    {"", 1, "empty window"},
    {"Mon;", 5, "empty item after ';'"},
    {"Mon;;Tue", 5, "empty item"},
    {"Mun", 1, "unknown day 'Mun'"},
    {"Monday", 1, "unknown day 'Monday'"},
    {"Mon-Fry", 5, "unknown day 'Fry'"},
    {"Mon 20:00", 10, "expected '-' between the times"},
    {"Mon 20:00-", 11, "expected a time HH:MM"},
    {"Mon 25:00-06:00", 5, "time '25:00' out of range"},
    {"Mon 20:60-06:00", 5, "out of range"},
    {"Mon 24:00-06:00", 5, "out of range"},
    {"Mon 20:00-24:01", 11, "out of range"},
    {"Mon 8-9", 5, "expected a time HH:MM"},
    {"Mon 20:000-06:00", 5, "expected a time HH:MM"},
    {"Mon Tue", 5, "expected ';' or the end"},
    {"Mon, ", 6, "unknown day"},
    {"20:00-06:00 Mon", 13, "expected ';' or the end"},
    {"-", 1, "expected a day"},
};

static struct tm tm_of(int wday, int hour, int min) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_wday = wday % 7; /* struct tm counts from Sunday = 0 */
  tm.tm_hour = hour;
  tm.tm_min = min;
  return tm;
}

static void test_window_contains(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof contains_cases / sizeof contains_cases[0]; i++) {
    expr_window *w = NULL;
    gg_error err;
    if (expr_window_parse(contains_cases[i].spec, &w, NULL, &err) != GG_OK)
      fail_msg("'%s': %s", contains_cases[i].spec, err.msg);
    struct tm tm = tm_of(contains_cases[i].wday, contains_cases[i].hour, contains_cases[i].min);
    bool in = expr_window_contains(w, &tm);
    if (in != contains_cases[i].in)
      fail_msg("'%s' at day %d %02d:%02d: %s, want %s", contains_cases[i].spec, contains_cases[i].wday,
               contains_cases[i].hour, contains_cases[i].min, in ? "in" : "out",
               contains_cases[i].in ? "in" : "out");
    expr_window_free(w);
  }
}

static void test_window_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
    expr_window *w = NULL;
    gg_error err;
    gg_error_clear(&err);
    int pos = -1;
    gg_status s = expr_window_parse(bad_specs[i].spec, &w, &pos, &err);
    if (s != GG_ERR_INVALID) fail_msg("'%s' parsed", bad_specs[i].spec);
    assert_null(w);
    if (pos != bad_specs[i].pos)
      fail_msg("'%s': position %d, want %d (%s)", bad_specs[i].spec, pos, bad_specs[i].pos, err.msg);
    if (!strstr(err.msg, bad_specs[i].msg))
      fail_msg("'%s': '%s' lacks '%s'", bad_specs[i].spec, err.msg, bad_specs[i].msg);
    /* The message names the spec. */
    char quoted[64];
    snprintf(quoted, sizeof quoted, "window \"%s\"", bad_specs[i].spec);
    if (!strstr(err.msg, quoted))
      fail_msg("'%s': message does not name the spec: %s", bad_specs[i].spec, err.msg);
  }
}

static void test_holidays(void **state) {
  (void)state;
  expr_calendar *c = expr_calendar_new();
  assert_non_null(c);
  gg_error err;
  assert_int_equal(expr_calendar_set_timezone("UTC", &err), GG_OK);
  assert_int_equal(expr_calendar_add_holiday(c, "2026-12-25", &err), GG_OK);
  assert_int_equal(expr_calendar_add_holiday(c, "2028-02-29", &err), GG_OK);
  static const char *bad[] = {"2026-13-01", "2026-02-29",  "2026-12-32", "2026-12-5",  "26-12-25",
                              "2026/12/25", "2026-12-25x", "",           "2026-00-10", "2100-02-29"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (expr_calendar_add_holiday(c, bad[i], &err) != GG_ERR_INVALID)
      fail_msg("holiday '%s' accepted", bad[i]);
    char want[64];
    snprintf(want, sizeof want, "holiday '%s'", bad[i]);
    assert_non_null(strstr(err.msg, want));
  }
  double t = 0;
  assert_int_equal(gg_time_parse("2026-12-25T00:00:00Z", &t, &err), GG_OK);
  assert_true(expr_calendar_is_holiday(c, t));
  assert_true(expr_calendar_is_holiday(c, t + 86399));
  assert_false(expr_calendar_is_holiday(c, t + 86400));
  assert_false(expr_calendar_is_holiday(c, t - 1));
  assert_int_equal(gg_time_parse("2028-02-29T12:00:00Z", &t, &err), GG_OK);
  assert_true(expr_calendar_is_holiday(c, t));
  assert_false(expr_calendar_is_holiday(NULL, t));
  int pos = 0;
  assert_int_equal(expr_calendar_set_off_hours(c, "Mon-Fri 20:00-6:00; Sat-Snu", &pos, &err), GG_ERR_INVALID);
  assert_int_equal(pos, 25);
  assert_non_null(
      strstr(err.msg, "calendar.off_hours: window \"Mon-Fri 20:00-6:00; Sat-Snu\": unknown day 'Snu'"));
  expr_calendar_free(c);
  expr_calendar_free(NULL);
}

/* Local time follows the zone set once; the holiday is a local date. */
static void test_timezone(void **state) {
  (void)state;
  gg_error err;
  static const char *bad[] = {"Mars/Olympus", "../etc/passwd", "/etc/passwd", "", "Europe", "UTC;rm"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    gg_error_clear(&err);
    if (expr_calendar_set_timezone(bad[i], &err) == GG_OK) fail_msg("time zone '%s' accepted", bad[i]);
  }
  assert_non_null(strstr(err.msg, "unknown time zone 'UTC;rm'"));

  assert_int_equal(expr_calendar_set_timezone("Europe/Berlin", &err), GG_OK);
  double t = 0;
  /* 23:30 UTC on Saturday is 00:30 on Sunday in Berlin (CET, UTC+1). */
  assert_int_equal(gg_time_parse("2026-11-28T23:30:00Z", &t, &err), GG_OK);
  expr_node *n = NULL;
  expr_ctx ctx;
  expr_ctx_init(&ctx);
  ctx.now = t;
  expr_value v;
  assert_int_equal(expr_parse("weekday() * 100 + hour()", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_true(v.num == 700);
  expr_free(n);
  /* New Year's Day starts an hour earlier in Berlin than in UTC. */
  expr_calendar *c = expr_calendar_new();
  assert_int_equal(expr_calendar_add_holiday(c, "2027-01-01", &err), GG_OK);
  assert_int_equal(gg_time_parse("2026-12-31T23:30:00Z", &t, &err), GG_OK);
  assert_true(expr_calendar_is_holiday(c, t));
  /* Summer time: 2026-07-01 12:00 UTC is 14:00 in Berlin (CEST). */
  assert_int_equal(gg_time_parse("2026-07-01T12:00:00Z", &t, &err), GG_OK);
  ctx.now = t;
  assert_int_equal(expr_parse("hour()", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_true(v.num == 14);
  expr_free(n);
  expr_calendar_free(c);

  assert_int_equal(expr_calendar_set_timezone("UTC", &err), GG_OK);
  assert_int_equal(expr_parse("hour()", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_true(v.num == 12);
  expr_free(n);
}

static double at(const char *rfc3339) {
  double t = 0;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_time_parse(rfc3339, &t, &err), GG_OK);
  return t;
}

/* Evaluate a calendar expression at t against c; returns its truth. */
static bool holds(const expr_calendar *c, const char *text, double t) {
  expr_node *n = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (expr_parse(text, &n, NULL, &err) != GG_OK) fail_msg("parse '%s': %s", text, err.msg);
  expr_ctx ctx;
  expr_ctx_init(&ctx);
  ctx.now = t;
  ctx.calendar = c;
  expr_value v;
  if (expr_eval(n, &ctx, &v, &err) != GG_OK) fail_msg("eval '%s': %s", text, err.msg);
  bool truth = v.kind == EXPR_VAL_BOOL && v.truth;
  expr_value_release(&v);
  expr_free(n);
  return truth;
}

/* A freeze is a date or an inclusive range of local dates; frozen() reads it. */
static void test_freeze_ranges(void **state) {
  (void)state;
  gg_error err;
  assert_int_equal(expr_calendar_set_timezone("UTC", &err), GG_OK);
  expr_calendar *c = expr_calendar_new();
  assert_int_equal(expr_calendar_add_freeze(c, "2026-12-18..2027-01-04", &err), GG_OK);
  assert_int_equal(expr_calendar_add_freeze(c, "2027-03-01", &err), GG_OK);
  assert_false(expr_calendar_is_frozen(c, at("2026-12-17T23:59:59Z")));
  assert_true(expr_calendar_is_frozen(c, at("2026-12-18T00:00:00Z")));
  assert_true(expr_calendar_is_frozen(c, at("2026-12-31T12:00:00Z")));
  assert_true(expr_calendar_is_frozen(c, at("2027-01-04T23:59:59Z")));
  assert_false(expr_calendar_is_frozen(c, at("2027-01-05T00:00:00Z")));
  assert_true(expr_calendar_is_frozen(c, at("2027-03-01T08:00:00Z")));
  assert_true(holds(c, "frozen()", at("2026-12-24T10:00:00Z")));
  assert_false(holds(c, "frozen()", at("2027-01-05T10:00:00Z")));
  /* The freeze ends at the local midnight after its last day. */
  assert_true(expr_calendar_frozen_until(c, at("2026-12-20T10:00:00Z")) == at("2027-01-05T00:00:00Z"));
  assert_true(expr_calendar_frozen_until(c, at("2027-02-01T10:00:00Z")) == at("2027-02-01T10:00:00Z"));
  /* Holidays take ranges too. */
  assert_int_equal(expr_calendar_add_holiday(c, "2027-04-02..2027-04-05", &err), GG_OK);
  assert_true(expr_calendar_is_holiday(c, at("2027-04-04T12:00:00Z")));
  assert_false(expr_calendar_is_holiday(c, at("2027-04-06T00:00:00Z")));
  static const struct {
    const char *text, *msg;
  } bad[] = {
      {"2027-01-04..2026-12-18", "ends before it starts"},
      {"2026-12-18..2028-02-04", "longer than 400 days"},
      {"2026-12-18...2027-01-04", "is not a date"},
      {"2026-12-18..", "is not a date"},
      {"2026-02-30", "is not a date"},
      {"2026-12-18 to 2027-01-04", "is not a date"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    gg_error_clear(&err);
    if (expr_calendar_add_freeze(c, bad[i].text, &err) != GG_ERR_INVALID)
      fail_msg("'%s' accepted", bad[i].text);
    if (!strstr(err.msg, bad[i].msg) || !strstr(err.msg, "freeze"))
      fail_msg("'%s': %s (want '%s')", bad[i].text, err.msg, bad[i].msg);
  }
  expr_calendar_free(c);
}

/* A named window is declared once and read by window("NAME"). */
static void test_named_windows(void **state) {
  (void)state;
  gg_error err;
  assert_int_equal(expr_calendar_set_timezone("UTC", &err), GG_OK);
  expr_calendar *c = expr_calendar_new();
  assert_int_equal(expr_calendar_add_window(c, "change", "Tue-Thu 09:00-16:00", NULL, &err), GG_OK);
  assert_int_equal(expr_calendar_add_window(c, "change", "Mon", NULL, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "calendar window 'change' is declared twice"));
  int pos = 0;
  assert_int_equal(expr_calendar_add_window(c, "night", "Mon-Fri 20:00-25:00", &pos, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "calendar window 'night'"));
  assert_int_equal(pos, 15);
  assert_non_null(expr_calendar_window(c, "change"));
  assert_null(expr_calendar_window(c, "night"));
  /* 2026-12-01 is a Tuesday. */
  assert_true(holds(c, "window(\"change\")", at("2026-12-01T10:00:00Z")));
  assert_false(holds(c, "window(\"change\")", at("2026-12-01T16:00:00Z")));
  assert_false(holds(c, "window(\"change\")", at("2026-12-04T10:00:00Z")));
  /* An unknown name is an error naming it, never a quiet false. */
  expr_node *n = NULL;
  assert_int_equal(expr_parse("window(\"chnage\")", &n, NULL, &err), GG_OK);
  expr_ctx ctx;
  expr_ctx_init(&ctx);
  ctx.calendar = c;
  ctx.now = at("2026-12-01T10:00:00Z");
  expr_value v;
  gg_error_clear(&err);
  assert_int_not_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_non_null(strstr(err.msg, "window(\"chnage\"): no calendar.windows entry"));
  expr_free(n);
  expr_calendar_free(c);
}

/* The earliest time across a freeze, holidays and a named window. */
static void test_earliest_across(void **state) {
  (void)state;
  gg_error err;
  assert_int_equal(expr_calendar_set_timezone("UTC", &err), GG_OK);
  expr_calendar *c = expr_calendar_new();
  assert_int_equal(expr_calendar_add_freeze(c, "2026-12-18..2027-01-04", &err), GG_OK);
  assert_int_equal(expr_calendar_add_holiday(c, "2027-01-05", &err), GG_OK);
  assert_int_equal(expr_calendar_add_window(c, "change", "Tue-Thu 09:00-16:00", NULL, &err), GG_OK);
  /* Friday before the freeze: the freeze (18 Dec .. 4 Jan) and the holiday (Tue 5 Jan) pass, so
   * the first change window is Wednesday 6 January at 09:00, 19 days later: a freeze does not
   * use up the horizon. */
  double from = at("2026-12-17T17:30:00Z");
  assert_true(expr_calendar_next_open(c, "change", from, 14 * 86400.0) == at("2027-01-06T09:00:00Z"));
  /* Inside the window and outside the freeze: now, rounded up to the minute. */
  assert_true(expr_calendar_next_open(c, "change", at("2026-12-15T10:00:30Z"), 86400) ==
              at("2026-12-15T10:01:00Z"));
  /* No window: the first minute after the freeze and the holiday. */
  assert_true(expr_calendar_next_open(c, NULL, at("2026-12-20T00:00:00Z"), 86400) ==
              at("2027-01-06T00:00:00Z"));
  /* Too short a horizon, or an unknown window: 0. */
  assert_true(expr_calendar_next_open(c, "change", at("2027-01-07T16:00:00Z"), 3600) == 0);
  assert_true(expr_calendar_next_open(c, "nope", from, 14 * 86400.0) == 0);
  expr_calendar_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window_contains), cmocka_unit_test(test_window_errors),
      cmocka_unit_test(test_holidays),        cmocka_unit_test(test_freeze_ranges),
      cmocka_unit_test(test_named_windows),   cmocka_unit_test(test_earliest_across),
      cmocka_unit_test(test_timezone),
  };
  printf("expr calendar cases: %zu windows, %zu bad specs\n",
         sizeof contains_cases / sizeof contains_cases[0], sizeof bad_specs / sizeof bad_specs[0]);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
