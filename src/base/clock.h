/*
 * clock.h: the one place the program asks what time it is.
 *
 * Wall time is seconds since the epoch as a double (sub-second precision). Tests and
 * `check --at TIME` fix it with gg_clock_set_fixed; everything that needs "now" (the
 * calendar functions, soak windows, attestation expiry, the journal) calls gg_clock_now.
 * The monotonic clock is never faked: it measures how long things took.
 */
#ifndef GG_CLOCK_H
#define GG_CLOCK_H

#include <stddef.h>

#include "base/error.h"

/* Seconds since the epoch: the fixed time if one is set, the real time otherwise. */
double gg_clock_now(void);

/* Fix "now" at t (seconds since the epoch); until cleared, gg_clock_now returns t plus
 * whatever gg_clock_advance added. */
void gg_clock_set_fixed(double t);
void gg_clock_advance(double seconds);
void gg_clock_clear_fixed(void);

/* Monotonic seconds (CLOCK_MONOTONIC), for measuring durations and deadlines. */
double gg_clock_mono(void);

/* Parse RFC 3339 ("2026-11-28T07:14:18Z", "2026-11-28T08:14:18.250+01:00") or a date
 * alone ("2026-12-25", midnight UTC). Strict: range-checked fields (2026-02-30, 24:00 and
 * leap second 60 are rejected), a 'Z' or offset required after a time, no trailing text.
 * 't', 'z' and a space for 'T' are accepted as RFC 3339 allows. Fractions beyond
 * nanoseconds are read but ignored. On error *t is untouched and err says what was wrong. */
gg_status gg_time_parse(const char *text, double *t, gg_error *err) GG_WUR;

/* Format as RFC 3339 UTC with milliseconds: "2026-11-28T07:14:18.250Z" (rounded to the
 * millisecond), truncated to n bytes including the NUL. Returns out. */
char *gg_time_format(double t, char *out, size_t n);

#endif
