#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

gg_log_level gg_log_threshold = GG_LOG_INFO;

static FILE *log_out;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[GG_LOG_LEVEL_COUNT] = {
#define GG_LOG_LEVEL_NAME(name, text) text,
    GG_LOG_LEVEL_MAP(GG_LOG_LEVEL_NAME)
#undef GG_LOG_LEVEL_NAME
};

void gg_log_set_level(gg_log_level level) {
  gg_log_threshold = level;
}

void gg_log_set_output(FILE *out) {
  log_out = out;
}

gg_status gg_log_parse_level(const char *text, gg_log_level *out, gg_error *err) {
  for (int i = 0; i <= GG_LOG_OFF; i++) {
    if (text && strcasecmp(text, level_names[i]) == 0) {
      *out = (gg_log_level)i;
      return GG_OK;
    }
  }
  return gg_error_set(err, GG_ERR_INVALID, "unknown log level '%s': want debug, info, warn, error or off",
                      text ? text : "");
}

void gg_log_write(gg_log_level level, const char *msg, const char *fmt, ...) {
  if (level < gg_log_threshold || level >= GG_LOG_OFF) return;
  char line[2048];
  size_t n = 0;
  int w = snprintf(line, sizeof line, "level=%s msg=\"", level_names[level]);
  if (w > 0) n = (size_t)w;
  /* The message is quoted: escape what would break the quoting. */
  for (const char *p = msg ? msg : ""; *p && n + 3 < sizeof line; p++) {
    if (*p == '"' || *p == '\\') line[n++] = '\\';
    line[n++] = (*p == '\n') ? ' ' : *p;
  }
  if (n + 1 < sizeof line) line[n++] = '"';
  if (fmt && *fmt && n + 2 < sizeof line) {
    line[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    w = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (w > 0) n += ((size_t)w < sizeof line - n) ? (size_t)w : sizeof line - n - 1;
  }
  if (n >= sizeof line - 1) n = sizeof line - 2;
  line[n++] = '\n';
  pthread_mutex_lock(&log_lock);
  FILE *out = log_out ? log_out : stderr;
  fwrite(line, 1, n, out);
  fflush(out);
  pthread_mutex_unlock(&log_lock);
}
