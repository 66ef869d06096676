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

struct expr_calendar {
  int *holidays; /* yyyymmdd */
  size_t n_holidays;
  expr_window *off_hours;
};

expr_calendar *expr_calendar_new(void) {
  return calloc(1, sizeof(expr_calendar));
}

void expr_calendar_free(expr_calendar *c) {
  if (!c) return;
  free(c->holidays);
  expr_window_free(c->off_hours);
  free(c);
}

static bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

gg_status expr_calendar_add_holiday(expr_calendar *c, const char *date, gg_error *err) {
  int y = 0, m = 0, d = 0;
  bool ok = date && strlen(date) == 10 && date[4] == '-' && date[7] == '-';
  for (int i = 0; ok && i < 10; i++) {
    if (i == 4 || i == 7) continue;
    if (!isdigit((unsigned char)date[i])) ok = false;
  }
  if (ok) {
    y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
    m = (date[5] - '0') * 10 + (date[6] - '0');
    d = (date[8] - '0') * 10 + (date[9] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    ok = m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
  }
  if (!ok)
    return gg_error_set(err, GG_ERR_INVALID, "holiday '%s' is not a date YYYY-MM-DD", date ? date : "");
  if (c->n_holidays >= HOLIDAYS_MAX)
    return gg_error_set(err, GG_ERR_TOO_BIG, "more than %d holidays", HOLIDAYS_MAX);
  int *grown = realloc(c->holidays, (c->n_holidays + 1) * sizeof *grown);
  if (!grown) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  c->holidays = grown;
  c->holidays[c->n_holidays++] = y * 10000 + m * 100 + d;
  return GG_OK;
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

const expr_window *expr_calendar_off_hours(const expr_calendar *c) {
  return c ? c->off_hours : NULL;
}

bool expr_calendar_is_holiday(const expr_calendar *c, double t) {
  struct tm tm;
  if (!c || !expr_calendar_local_tm(t, &tm)) return false;
  int key = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
  for (size_t i = 0; i < c->n_holidays; i++)
    if (c->holidays[i] == key) return true;
  return false;
}
