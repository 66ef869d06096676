/*
 * calendar.c: the process time zone, window specs ("Mon-Fri 20:00-06:00; Sat-Sun"),
 * and the plan's calendar (holidays, off_hours).
 *
 * Local time comes from localtime_r, so every calendar function follows the TZ that
 * expr_calendar_set_timezone set once at startup.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "expr/internal.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define WINDOW_ITEMS_MAX 64
#define HOLIDAYS_MAX 4096

gg_status expr_calendar_set_timezone(const char *name, gg_error *err) {
  if (!name || !*name) return gg_error_set(err, GG_ERR_INVALID, "empty time zone name");
  bool ok = name[0] != '/' && strlen(name) < 128;
  for (const char *c = name; ok && *c; c++) {
    if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '+' || *c == '/' || *c == '.'))
      ok = false;
  }
  if (ok && (strstr(name, "..") != NULL)) ok = false;
  char path[256];
  struct stat st;
  if (ok) {
    snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, name);
    ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
  }
  if (!ok)
    return gg_error_set(err, GG_ERR_INVALID, "unknown time zone '%s' (not found under %s)", name,
                        ZONEINFO_DIR);
  if (setenv("TZ", name, 1) != 0)
    return gg_error_set(err, GG_ERR_SYSTEM, "set time zone '%s': %s", name, strerror(errno));
  tzset();
  return GG_OK;
}

bool expr_calendar_local_tm(double t, struct tm *tm) {
  if (!isfinite(t)) return false;
  time_t tt = (time_t)floor(t);
  return localtime_r(&tt, tm) != NULL;
}

/* ---- window specs ---- */

typedef struct {
  unsigned days; /* bit 0 = Monday … bit 6 = Sunday */
  bool whole_day;
  int start, end; /* minutes since midnight; end <= start wraps into the next day */
} window_item;

struct expr_window {
  window_item items[WINDOW_ITEMS_MAX];
  size_t n;
};

static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

typedef struct {
  const char *spec;
  size_t pos;
  int *err_pos;
  gg_error *err;
} wparser;

static gg_status wfail(wparser *w, size_t at, const char *fmt, ...) GG_PRINTF(3, 4);
static gg_status wfail(wparser *w, size_t at, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (w->err_pos) *w->err_pos = (int)at + 1;
  return gg_error_set(w->err, GG_ERR_INVALID, "window \"%s\": %s at position %zu", w->spec, msg, at + 1);
}

static void skip_ws(wparser *w) {
  while (w->spec[w->pos] == ' ' || w->spec[w->pos] == '\t') w->pos++;
}

static gg_status parse_day(wparser *w, int *day) {
  const char *s = w->spec + w->pos;
  size_t n = 0;
  while (isalpha((unsigned char)s[n])) n++;
  if (n == 3) {
    for (int d = 0; d < 7; d++) {
      if (strncasecmp(s, day_names[d], 3) == 0) {
        *day = d;
        w->pos += 3;
        return GG_OK;
      }
    }
  }
  return wfail(w, w->pos, "unknown day '%.*s' (use Mon Tue Wed Thu Fri Sat Sun)",
               (int)(n ? (n > 20 ? 20 : n) : 1), s);
}

static gg_status parse_days(wparser *w, unsigned *mask) {
  for (;;) {
    int a = 0, b = 0;
    gg_status s = parse_day(w, &a);
    if (s != GG_OK) return s;
    b = a;
    if (w->spec[w->pos] == '-') {
      w->pos++;
      if ((s = parse_day(w, &b)) != GG_OK) return s;
    }
    /* A range may wrap the week: Sat-Mon is Saturday, Sunday and Monday. */
    for (int d = a;; d = (d + 1) % 7) {
      *mask |= 1u << d;
      if (d == b) break;
    }
    if (w->spec[w->pos] != ',') return GG_OK;
    w->pos++;
    skip_ws(w);
  }
}

static gg_status parse_clock(wparser *w, bool is_end, int *minutes) {
  const char *s = w->spec + w->pos;
  size_t at = w->pos;
  int h = 0, m = 0;
  size_t i = 0;
  if (!isdigit((unsigned char)s[0])) return wfail(w, at, "expected a time HH:MM");
  while (i < 2 && isdigit((unsigned char)s[i])) h = h * 10 + (s[i++] - '0');
  if (s[i] != ':' || !isdigit((unsigned char)s[i + 1]) || !isdigit((unsigned char)s[i + 2]) ||
      isdigit((unsigned char)s[i + 3]))
    return wfail(w, at, "expected a time HH:MM");
  m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
  if (h > 24 || m > 59 || (h == 24 && (m != 0 || !is_end)))
    return wfail(w, at, "time '%.*s' out of range", (int)(i + 3), s);
  *minutes = h * 60 + m;
  w->pos += i + 3;
  return GG_OK;
}

gg_status expr_window_parse(const char *spec, expr_window **out, int *err_pos, gg_error *err) {
  *out = NULL;
  if (err_pos) *err_pos = 0;
  wparser w = {.spec = spec ? spec : "", .pos = 0, .err_pos = err_pos, .err = err};
  expr_window *win = calloc(1, sizeof *win);
  if (!win) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  gg_status s = GG_OK;
  for (;;) {
    skip_ws(&w);
    if (win->n == WINDOW_ITEMS_MAX) {
      s = wfail(&w, w.pos, "more than %d items", WINDOW_ITEMS_MAX);
      break;
    }
    window_item *it = &win->items[win->n];
    memset(it, 0, sizeof *it);
    char c = w.spec[w.pos];
    if (c == '\0' || c == ';') {
      s = wfail(&w, w.pos, "%s", win->n ? "empty item after ';'" : "empty window");
      break;
    }
    bool have_days = false, have_range = false;
    if (isalpha((unsigned char)c)) {
      if ((s = parse_days(&w, &it->days)) != GG_OK) break;
      have_days = true;
      skip_ws(&w);
    }
    if (isdigit((unsigned char)w.spec[w.pos])) {
      if ((s = parse_clock(&w, false, &it->start)) != GG_OK) break;
      if (w.spec[w.pos] != '-') {
        s = wfail(&w, w.pos, "expected '-' between the times of a range");
        break;
      }
      w.pos++;
      if ((s = parse_clock(&w, true, &it->end)) != GG_OK) break;
      have_range = true;
      skip_ws(&w);
    }
    if (!have_days && !have_range) {
      s = wfail(&w, w.pos, "expected a day (Mon…Sun) or a time range HH:MM-HH:MM");
      break;
    }
    if (!have_days) it->days = 0x7f;
    it->whole_day = !have_range;
    win->n++;
    c = w.spec[w.pos];
    if (c == '\0') break;
    if (c != ';') {
      s = wfail(&w, w.pos, "expected ';' or the end");
      break;
    }
    w.pos++;
  }
  if (s != GG_OK) {
    free(win);
    return s;
  }
  *out = win;
  return GG_OK;
}

void expr_window_free(expr_window *w) {
  free(w);
}

bool expr_window_contains(const expr_window *w, const struct tm *tm) {
  int day = (tm->tm_wday + 6) % 7; /* Monday = 0 */
  int prev = (day + 6) % 7;
  int min = tm->tm_hour * 60 + tm->tm_min;
  for (size_t i = 0; i < w->n; i++) {
    const window_item *it = &w->items[i];
    bool today = (it->days >> day) & 1u;
    bool yesterday = (it->days >> prev) & 1u;
    if (it->whole_day) {
      if (today) return true;
    } else if (it->start < it->end) {
      if (today && min >= it->start && min < it->end) return true;
    } else {
      /* Wraps midnight: the day names the start, the tail belongs to the next day. */
      if ((today && min >= it->start) || (yesterday && min < it->end)) return true;
    }
  }
  return false;
}

/* ---- the plan's calendar ---- */

#define FREEZES_MAX 1024
#define WINDOWS_MAX 64
#define RANGE_DAYS_MAX 400 /* a longer "range" is a typo (2026 for 2027), not a freeze */

typedef struct {
  int first, last; /* yyyymmdd, inclusive */
} date_range;

typedef struct {
  char *name;
  expr_window *w;
} named_window;

struct expr_calendar {
  date_range *holidays;
  size_t n_holidays;
  date_range *freezes;
  size_t n_freezes;
  named_window windows[WINDOWS_MAX];
  size_t n_windows;
  expr_window *off_hours;
};

expr_calendar *expr_calendar_new(void) {
  return calloc(1, sizeof(expr_calendar));
}

void expr_calendar_free(expr_calendar *c) {
  if (!c) return;
  free(c->holidays);
  free(c->freezes);
  for (size_t i = 0; i < c->n_windows; i++) {
    free(c->windows[i].name);
    expr_window_free(c->windows[i].w);
  }
  expr_window_free(c->off_hours);
  free(c);
}

static bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static long days_of(int key) {
  int y = key / 10000, m = key / 100 % 100, d = key % 100;
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" (exactly 10 characters at s) as yyyymmdd, or 0. */
static int parse_date(const char *s, size_t n) {
  if (n != 10 || s[4] != '-' || s[7] != '-') return 0;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return 0;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0)) return 0;
  return y * 10000 + m * 100 + d;
}

gg_status expr_calendar_parse_dates(const char *text, int *first, int *last, gg_error *err) {
  const char *t = text ? text : "";
  const char *dots = strstr(t, "..");
  size_t n1 = dots ? (size_t)(dots - t) : strlen(t);
  while (n1 && t[n1 - 1] == ' ') n1--;
  const char *b = dots ? dots + 2 : NULL;
  while (b && *b == ' ') b++;
  *first = parse_date(t, n1);
  *last = b ? parse_date(b, strlen(b)) : *first;
  if (!*first || !*last)
    return gg_error_set(err, GG_ERR_INVALID,
                        "'%s' is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD", t);
  if (*last < *first) return gg_error_set(err, GG_ERR_INVALID, "range '%s' ends before it starts", t);
  if (days_of(*last) - days_of(*first) >= RANGE_DAYS_MAX)
    return gg_error_set(err, GG_ERR_INVALID, "range '%s' is longer than %d days", t, RANGE_DAYS_MAX);
  return GG_OK;
}

static gg_status add_range(date_range **v, size_t *n, const char *what, const char *text, gg_error *err) {
  int first = 0, last = 0;
  gg_status s = expr_calendar_parse_dates(text, &first, &last, err);
  if (s != GG_OK) {
    gg_error_prefix(err, "%s", what);
    return s;
  }
  if (*n >= FREEZES_MAX) return gg_error_set(err, GG_ERR_TOO_BIG, "more than %d %s", FREEZES_MAX, what);
  date_range *grown = realloc(*v, (*n + 1) * sizeof *grown);
  if (!grown) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  *v = grown;
  grown[(*n)++] = (date_range){first, last};
  return GG_OK;
}

gg_status expr_calendar_add_holiday(expr_calendar *c, const char *date, gg_error *err) {
  gg_status s = add_range(&c->holidays, &c->n_holidays, "holiday ", date, err);
  if (s == GG_ERR_INVALID) {
    gg_error_clear(err);
    return gg_error_set(err, GG_ERR_INVALID, "holiday '%s' is not a date YYYY-MM-DD or a range A..B",
                        date ? date : "");
  }
  return s;
}

gg_status expr_calendar_add_freeze(expr_calendar *c, const char *dates, gg_error *err) {
  return add_range(&c->freezes, &c->n_freezes, "freeze ", dates, err);
}

gg_status expr_calendar_set_off_hours(expr_calendar *c, const char *spec, int *err_pos, gg_error *err) {
  expr_window *w = NULL;
  gg_status s = expr_window_parse(spec, &w, err_pos, err);
  if (s != GG_OK) {
    gg_error_prefix(err, "calendar.off_hours: ");
    return s;
  }
  expr_window_free(c->off_hours);
  c->off_hours = w;
  return GG_OK;
}

gg_status expr_calendar_add_window(expr_calendar *c, const char *name, const char *spec, int *err_pos,
                                   gg_error *err) {
  if (!name || !*name) return gg_error_set(err, GG_ERR_INVALID, "a calendar window needs a name");
  if (expr_calendar_window(c, name))
    return gg_error_set(err, GG_ERR_INVALID, "calendar window '%s' is declared twice", name);
  if (c->n_windows >= WINDOWS_MAX)
    return gg_error_set(err, GG_ERR_TOO_BIG, "more than %d calendar windows", WINDOWS_MAX);
  expr_window *w = NULL;
  gg_status s = expr_window_parse(spec, &w, err_pos, err);
  if (s != GG_OK) {
    gg_error_prefix(err, "calendar window '%s': ", name);
    return s;
  }
  char *copy = strdup(name);
  if (!copy) {
    expr_window_free(w);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  c->windows[c->n_windows++] = (named_window){copy, w};
  return GG_OK;
}

const expr_window *expr_calendar_window(const expr_calendar *c, const char *name) {
  for (size_t i = 0; c && name && i < c->n_windows; i++)
    if (strcmp(c->windows[i].name, name) == 0) return c->windows[i].w;
  return NULL;
}

const expr_window *expr_calendar_off_hours(const expr_calendar *c) {
  return c ? c->off_hours : NULL;
}

static int local_key(double t) {
  struct tm tm;
  if (!expr_calendar_local_tm(t, &tm)) return 0;
  return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static const date_range *in_ranges(const date_range *v, size_t n, int key) {
  for (size_t i = 0; key && i < n; i++)
    if (key >= v[i].first && key <= v[i].last) return &v[i];
  return NULL;
}

bool expr_calendar_is_holiday(const expr_calendar *c, double t) {
  return c && in_ranges(c->holidays, c->n_holidays, local_key(t));
}

bool expr_calendar_is_frozen(const expr_calendar *c, double t) {
  return c && in_ranges(c->freezes, c->n_freezes, local_key(t));
}

/* Local midnight at the start of the day after yyyymmdd `key`. */
static double day_after(int key) {
  struct tm tm = {0};
  tm.tm_year = key / 10000 - 1900;
  tm.tm_mon = key / 100 % 100 - 1;
  tm.tm_mday = key % 100 + 1; /* mktime normalises the 32nd */
  tm.tm_isdst = -1;
  return (double)mktime(&tm);
}

double expr_calendar_frozen_until(const expr_calendar *c, double t) {
  double end = t;
  for (bool moved = true; c && moved;) {
    moved = false;
    const date_range *r = in_ranges(c->freezes, c->n_freezes, local_key(end));
    if (r) {
      end = day_after(r->last);
      moved = true; /* back-to-back freezes */
    }
  }
  return end;
}

double expr_calendar_next_open(const expr_calendar *c, const char *window, double from, double horizon) {
  const expr_window *w = NULL;
  if (window && !(w = expr_calendar_window(c, window))) return 0;
  double t = ceil(from / 60.0) * 60.0;
  double budget = horizon;
  while (budget >= 0) {
    double thawed = expr_calendar_frozen_until(c, t);
    if (thawed > t) { /* a freeze does not use up the horizon */
      t = ceil(thawed / 60.0) * 60.0;
      continue;
    }
    struct tm tm;
    if (!expr_calendar_local_tm(t, &tm)) return 0;
    if (expr_calendar_is_holiday(c, t)) {
      double next = day_after(local_key(t));
      budget -= next - t;
      t = next;
      continue;
    }
    if (!w || expr_window_contains(w, &tm)) return t;
    t += 60;
    budget -= 60;
  }
  return 0;
}
