#include "base/clock.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Written only by tests and the CLI (`check --at`) before any thread starts; read freely
 * after that, so no lock is needed. */
static double fixed_now;
static bool fixed_set;

static double timespec_seconds(const struct timespec *ts) {
  return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

double gg_clock_now(void) {
  if (fixed_set) return fixed_now;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return timespec_seconds(&ts);
}

void gg_clock_set_fixed(double t) {
  fixed_now = t;
  fixed_set = true;
}

void gg_clock_advance(double seconds) {
  fixed_now += seconds;
}

void gg_clock_clear_fixed(void) {
  fixed_set = false;
  fixed_now = 0;
}

double gg_clock_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return timespec_seconds(&ts);
}

static bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap(year)) return 29;
  return days[month - 1];
}

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* Exactly `width` digits at *p into *out; advances *p. */
static bool digits(const char **p, int width, int *out) {
  int v = 0;
  for (int i = 0; i < width; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += width;
  *out = v;
  return true;
}

#define TIME_FORM "want 2026-11-28T07:14:18Z, 2026-11-28T08:14:18.250+01:00 or 2026-12-25"

static gg_status bad(gg_error *err, const char *text, const char *what) {
  return gg_error_set(err, GG_ERR_INVALID, "invalid time '%s': %s (" TIME_FORM ")", text, what);
}

gg_status gg_time_parse(const char *text, double *t, gg_error *err) {
  if (!text || !*text) return gg_error_set(err, GG_ERR_INVALID, "empty time (" TIME_FORM ")");
  const char *p = text;
  int year, month, day, hour = 0, min = 0, sec = 0;
  double frac = 0;
  int offset = 0; /* seconds east of UTC */
  if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &month) || *p++ != '-' || !digits(&p, 2, &day))
    return bad(err, text, "expected a date as YYYY-MM-DD");
  if (month < 1 || month > 12)
    return gg_error_set(err, GG_ERR_RANGE, "invalid time '%s': month %d out of range 1-12", text, month);
  if (day < 1 || day > days_in_month(year, month))
    return gg_error_set(err, GG_ERR_RANGE, "invalid time '%s': day %d out of range for %s %04d (1-%d)", text,
                        day, month_names[month - 1], year, days_in_month(year, month));
  if (*p != '\0') {
    if (*p != 'T' && *p != 't' && *p != ' ') return bad(err, text, "expected 'T' after the date");
    p++;
    if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &min) || *p++ != ':' || !digits(&p, 2, &sec))
      return bad(err, text, "expected a time as HH:MM:SS");
    if (hour > 23)
      return gg_error_set(err, GG_ERR_RANGE, "invalid time '%s': hour %d out of range 0-23", text, hour);
    if (min > 59)
      return gg_error_set(err, GG_ERR_RANGE, "invalid time '%s': minute %d out of range 0-59", text, min);
    if (sec > 59)
      return gg_error_set(err, GG_ERR_RANGE, "invalid time '%s': second %d out of range 0-59", text, sec);
    if (*p == '.') {
      p++;
      if (*p < '0' || *p > '9') return bad(err, text, "expected digits after '.'");
      /* Nanoseconds are plenty; further digits are read but do not count. */
      long nanos = 0, scale = 100000000;
      for (; *p >= '0' && *p <= '9'; p++) {
        nanos += (*p - '0') * scale;
        scale /= 10;
      }
      frac = (double)nanos / 1e9;
    }
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int sign = *p == '-' ? -1 : 1;
      int oh, om;
      p++;
      if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om))
        return bad(err, text, "expected an offset as +HH:MM");
      if (oh > 23 || om > 59)
        return gg_error_set(err, GG_ERR_RANGE, "invalid time '%s': offset out of range", text);
      offset = sign * (oh * 3600 + om * 60);
    } else {
      return bad(err, text, *p ? "expected 'Z' or an offset after the time" : "missing 'Z' or an offset");
    }
    if (*p != '\0')
      return gg_error_set(err, GG_ERR_INVALID, "invalid time '%s': trailing text '%s'", text, p);
  }
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t epoch = timegm(&tm);
  *t = (double)epoch - offset + frac;
  return GG_OK;
}

char *gg_time_format(double t, char *out, size_t n) {
  if (!out || n == 0) return out;
  if (!isfinite(t) || fabs(t) > 253402300799.0) { /* beyond 9999-12-31 */
    snprintf(out, n, "invalid-time");
    return out;
  }
  long long ms = llround(t * 1000.0);
  long long secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) { /* floor division for times before the epoch */
    rem += 1000;
    secs -= 1;
  }
  time_t tt = (time_t)secs;
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) {
    snprintf(out, n, "invalid-time");
    return out;
  }
  snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
  return out;
}
