#include "base/units.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A unit multiplies by mul or divides by div (exactly one is not 1): dividing by 1000
 * keeps `250ms` exactly 0.25, where multiplying by the inexact 0.001 might not. */
typedef struct {
  const char *name;
  double mul;
  double div;
  char kind;
} unit_def;

static const unit_def duration_units[] = {
    /* Largest first: the index is the rank that the terms of a compound duration
     * must descend through ("1h30m", not "30m1h"). */
    {"w", 604800, 1, 'd'}, {"d", 86400, 1, 'd'}, {"h", 3600, 1, 'd'},
    {"m", 60, 1, 'd'},     {"s", 1, 1, 'd'},     {"ms", 1, 1000, 'd'},
};

static const unit_def size_units[] = {
    {"B", 1, 1, 's'},
    {"KB", 1e3, 1, 's'},
    {"MB", 1e6, 1, 's'},
    {"GB", 1e9, 1, 's'},
    {"TB", 1e12, 1, 's'},
    {"KiB", 1024.0, 1, 's'},
    {"MiB", 1024.0 * 1024, 1, 's'},
    {"GiB", 1024.0 * 1024 * 1024, 1, 's'},
    {"TiB", 1024.0 * 1024 * 1024 * 1024, 1, 's'},
};

static const unit_def percent_unit = {"%", 1, 100, '%'};

#define N_DURATION_UNITS (sizeof duration_units / sizeof duration_units[0])
#define N_SIZE_UNITS (sizeof size_units / sizeof size_units[0])

#define DURATION_WANT "want ms, s, m, h, d or w"
#define SIZE_WANT "want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"

static int find_unit(const unit_def *table, size_t count, const char *u, size_t len) {
  for (size_t i = 0; i < count; i++) {
    if (strlen(table[i].name) == len && memcmp(table[i].name, u, len) == 0) return (int)i;
  }
  return -1;
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool is_unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '%';
}

/* Scan a plain decimal number at p: digits, an optional fraction, an optional exponent.
 * Returns the length scanned (0 if p does not start with a digit). Checking the
 * characters ourselves keeps out what strtod would also accept: hex, inf, nan, spaces. */
static size_t scan_number(const char *p) {
  size_t i = 0;
  while (is_digit(p[i])) i++;
  if (i == 0) return 0;
  if (p[i] == '.') {
    if (!is_digit(p[i + 1])) return i; /* "5." leaves "." to be reported as trailing */
    i++;
    while (is_digit(p[i])) i++;
  }
  if (p[i] == 'e' || p[i] == 'E') {
    size_t j = i + 1;
    if (p[j] == '+' || p[j] == '-') j++;
    if (is_digit(p[j])) {
      while (is_digit(p[j])) j++;
      i = j;
    }
  }
  return i;
}

/* Convert the scanned number; GG_ERR_OVERFLOW when it does not fit a double. */
static gg_status convert_number(const char *p, size_t len, double *out) {
  char tmp[128];
  if (len >= sizeof tmp) return GG_ERR_OVERFLOW;
  memcpy(tmp, p, len);
  tmp[len] = '\0';
  errno = 0;
  char *end = NULL;
  double v = strtod(tmp, &end);
  if (end != tmp + len) return GG_ERR_INVALID;
  if (!isfinite(v) || (errno == ERANGE && v != 0)) return GG_ERR_OVERFLOW;
  *out = v; /* an underflow to 0 is fine: 1e-400s is 0 seconds */
  return GG_OK;
}

static char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive prefix test; prefix is lower-case. */
static bool starts_with_ci(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++) {
    if (lower(*s) != *prefix) return false;
  }
  return true;
}

/* What is at p when a number was expected, said the way a user would want it said. */
static gg_status not_a_number(const char *kind, const char *text, const char *p, gg_error *err) {
  const char *q = (*p == '+' || *p == '-') ? p + 1 : p;
  if (starts_with_ci(q, "inf") || starts_with_ci(q, "nan"))
    return gg_error_set(err, GG_ERR_INVALID, "invalid %s '%s': '%s' is not a finite number", kind, text, p);
  if (*p == '\0')
    return gg_error_set(err, GG_ERR_INVALID, "invalid %s '%s': expected a number at the end", kind, text);
  return gg_error_set(err, GG_ERR_INVALID, "invalid %s '%s': expected a number at '%s'", kind, text, p);
}

/* A number, sign checked: on a leading '-', report a negative value when allowed is false. */
static gg_status parse_number(const char *kind, const char *text, const char *p, bool allow_negative,
                              double *out, size_t *used, gg_error *err) {
  size_t i = 0;
  bool negative = false;
  if (p[0] == '-') {
    negative = true;
    i = 1;
  }
  if (p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X'))
    return gg_error_set(err, GG_ERR_INVALID, "invalid %s '%s': hexadecimal numbers are not accepted", kind,
                        text);
  size_t len = scan_number(p + i);
  if (len == 0) return not_a_number(kind, text, p, err);
  if (negative && !allow_negative)
    return gg_error_set(err, GG_ERR_RANGE, "invalid %s '%s': must not be negative", kind, text);
  double v = 0;
  gg_status st = convert_number(p + i, len, &v);
  if (st == GG_ERR_OVERFLOW)
    return gg_error_set(err, GG_ERR_OVERFLOW, "invalid %s '%s': number too large", kind, text);
  if (st != GG_OK) return gg_error_set(err, st, "invalid %s '%s': bad number", kind, text);
  *out = negative ? -v : v;
  *used = i + len;
  return GG_OK;
}

static double apply_unit(double v, const unit_def *u) {
  return u->div != 1 ? v / u->div : v * u->mul;
}

gg_status gg_parse_duration(const char *text, int flags, double *seconds, gg_error *err) {
  if (!text || !*text)
    return gg_error_set(err, GG_ERR_INVALID, "empty duration: want a number and a unit such as 90s or 1h30m");
  const char *p = text;
  double total = 0;
  int last_rank = -1;
  size_t terms = 0;
  while (*p) {
    double v = 0;
    size_t used = 0;
    if (terms > 0 && !is_digit(*p))
      return gg_error_set(err, GG_ERR_INVALID, "invalid duration '%s': unexpected '%s' after '%.*s'", text, p,
                          (int)(p - text), text);
    gg_status st = parse_number("duration", text, p, false, &v, &used, err);
    if (st != GG_OK) return st;
    p += used;
    const char *u = p;
    while (is_unit_char(*p)) p++;
    size_t ulen = (size_t)(p - u);
    if (ulen == 0) {
      if (*p)
        return gg_error_set(err, GG_ERR_INVALID, "invalid duration '%s': unexpected '%s' after '%.*s'", text,
                            p, (int)(p - text), text);
      if (terms == 0 && (flags & GG_UNITS_BARE_SECONDS)) {
        total = v;
        terms++;
        break;
      }
      return gg_error_set(err, GG_ERR_INVALID,
                          "invalid duration '%s': missing unit after '%.*s' (" DURATION_WANT ")", text,
                          (int)used, u - used);
    }
    int rank = find_unit(duration_units, N_DURATION_UNITS, u, ulen);
    if (rank < 0)
      return gg_error_set(err, GG_ERR_INVALID,
                          "invalid duration '%s': unknown unit '%.*s' (" DURATION_WANT ")", text, (int)ulen,
                          u);
    if (rank <= last_rank)
      return gg_error_set(
          err, GG_ERR_INVALID,
          "invalid duration '%s': unit '%.*s' must come before '%s' (largest unit first, each once)", text,
          (int)ulen, u, duration_units[last_rank].name);
    last_rank = rank;
    total += apply_unit(v, &duration_units[rank]);
    if (!isfinite(total))
      return gg_error_set(err, GG_ERR_OVERFLOW, "invalid duration '%s': value too large", text);
    terms++;
  }
  *seconds = total;
  return GG_OK;
}

gg_status gg_parse_size(const char *text, double *bytes, gg_error *err) {
  if (!text || !*text)
    return gg_error_set(err, GG_ERR_INVALID, "empty size: want a number and a unit such as 20GB or 512MiB");
  double v = 0;
  size_t used = 0;
  gg_status st = parse_number("size", text, text, false, &v, &used, err);
  if (st != GG_OK) return st;
  const char *p = text + used;
  if (*p == ' ' && is_unit_char(p[1])) p++; /* "12.1 GB", as gg_format_size writes it */
  const char *u = p;
  while (is_unit_char(*p)) p++;
  size_t ulen = (size_t)(p - u);
  if (*p)
    return gg_error_set(err, GG_ERR_INVALID, "invalid size '%s': unexpected '%s' after '%.*s'", text, p,
                        (int)(p - text), text);
  double out = v;
  if (ulen > 0) {
    int i = find_unit(size_units, N_SIZE_UNITS, u, ulen);
    if (i < 0)
      return gg_error_set(err, GG_ERR_INVALID, "invalid size '%s': unknown unit '%.*s' (" SIZE_WANT ")", text,
                          (int)ulen, u);
    out = apply_unit(v, &size_units[i]);
  }
  if (!isfinite(out)) return gg_error_set(err, GG_ERR_OVERFLOW, "invalid size '%s': value too large", text);
  *bytes = out;
  return GG_OK;
}

gg_status gg_parse_percent(const char *text, double *fraction, gg_error *err) {
  if (!text || !*text)
    return gg_error_set(err, GG_ERR_INVALID, "empty percentage: want a number and '%%' such as 80%%");
  double v = 0;
  size_t used = 0;
  gg_status st = parse_number("percentage", text, text, true, &v, &used, err);
  if (st != GG_OK) return st;
  const char *p = text + used;
  if (*p == '\0')
    return gg_error_set(err, GG_ERR_INVALID, "invalid percentage '%s': missing '%%' (write %s%%)", text,
                        text);
  if (*p != '%' || p[1] != '\0')
    return gg_error_set(err, GG_ERR_INVALID, "invalid percentage '%s': unexpected '%s' after '%.*s'", text, p,
                        (int)(p - text), text);
  *fraction = apply_unit(v, &percent_unit);
  return GG_OK;
}

/* Append to out at *pos, never past n; keeps out NUL-terminated. */
static void put(char *out, size_t n, size_t *pos, const char *fmt, ...) GG_PRINTF(4, 5);
static void put(char *out, size_t n, size_t *pos, const char *fmt, ...) {
  if (*pos >= n) return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(out + *pos, n - *pos, fmt, ap);
  va_end(ap);
  if (w < 0) return;
  *pos = ((size_t)w >= n - *pos) ? n - 1 : *pos + (size_t)w;
}

char *gg_format_duration(double seconds, char *out, size_t n) {
  if (!out || n == 0) return out;
  out[0] = '\0';
  size_t pos = 0;
  if (isnan(seconds)) {
    put(out, n, &pos, "NaN");
    return out;
  }
  if (seconds < 0) {
    put(out, n, &pos, "-");
    seconds = -seconds;
  }
  /* Beyond about 285,000 years milliseconds no longer fit in a long long. */
  if (!(seconds < 9e15)) {
    put(out, n, &pos, "%gs", seconds);
    return out;
  }
  long long ms = llround(seconds * 1000.0);
  if (seconds > 0 && seconds < 0.001) {
    put(out, n, &pos, "%.3gms", seconds * 1000.0);
    return out;
  }
  if (ms == 0) {
    put(out, n, &pos, "0s");
    return out;
  }
  static const struct {
    const char *name;
    long long ms;
  } parts[] = {{"d", 86400000LL}, {"h", 3600000LL}, {"m", 60000LL}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    long long k = ms / parts[i].ms;
    if (k) put(out, n, &pos, "%lld%s", k, parts[i].name);
    ms %= parts[i].ms;
  }
  long long s = ms / 1000, frac = ms % 1000;
  if (frac == 0) {
    if (s) put(out, n, &pos, "%llds", s);
  } else if (s == 0 && pos == 0) {
    put(out, n, &pos, "%lldms", frac);
  } else {
    char digits[8];
    snprintf(digits, sizeof digits, "%03lld", frac);
    size_t d = strlen(digits);
    while (d > 0 && digits[d - 1] == '0') digits[--d] = '\0';
    put(out, n, &pos, "%lld.%ss", s, digits);
  }
  return out;
}

char *gg_format_size(double bytes, char *out, size_t n) {
  if (!out || n == 0) return out;
  out[0] = '\0';
  size_t pos = 0;
  if (!isfinite(bytes)) {
    put(out, n, &pos, "%g B", bytes);
    return out;
  }
  if (bytes < 0) {
    put(out, n, &pos, "-");
    bytes = -bytes;
  }
  static const char *const names[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  size_t u = 0;
  double v = bytes;
  /* Pick the unit after rounding to one decimal, so 999.96 KB shows as 1 MB. */
  while (u + 1 < sizeof names / sizeof names[0] && round(v * 10) / 10 >= 1000) {
    v /= 1000;
    u++;
  }
  double r = round(v * 10) / 10;
  if (u == 0 || r == floor(r))
    put(out, n, &pos, "%.0f %s", r, names[u]);
  else
    put(out, n, &pos, "%.1f %s", r, names[u]);
  return out;
}

double gg_unit_factor(const char *unit, size_t len, char *kind) {
  int i = find_unit(duration_units, N_DURATION_UNITS, unit, len);
  const unit_def *d = NULL;
  if (i >= 0) {
    d = &duration_units[i];
  } else if ((i = find_unit(size_units, N_SIZE_UNITS, unit, len)) >= 0) {
    d = &size_units[i];
  } else if (len == 1 && unit[0] == '%') {
    d = &percent_unit;
  }
  if (!d) return 0;
  if (kind) *kind = d->kind;
  return d->div != 1 ? 1.0 / d->div : d->mul;
}
