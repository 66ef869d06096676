#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void gg_error_clear(gg_error *err) {
  if (!err) return;
  err->code = GG_OK;
  err->msg[0] = '\0';
  err->file = NULL;
  err->line = 0;
}

static void mark_truncated(char *msg, int needed) {
  if (needed >= GG_ERROR_MSG_MAX) memcpy(msg + GG_ERROR_MSG_MAX - 4, "...", 4);
}

gg_status gg_error_set_at(gg_error *err, const char *file, int line, gg_status code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  err->file = file;
  err->line = line;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  if (n < 0) err->msg[0] = '\0';
  mark_truncated(err->msg, n);
  return code;
}

gg_status gg_error_prefix(gg_error *err, const char *fmt, ...) {
  if (!err) return GG_OK;
  char prefix[GG_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0) return err->code;
  char joined[GG_ERROR_MSG_MAX];
  int m = snprintf(joined, sizeof joined, "%s%s", prefix, gg_error_message(err));
  mark_truncated(joined, m);
  memcpy(err->msg, joined, sizeof joined);
  return err->code;
}

const char *gg_error_message(const gg_error *err) {
  if (!err) return "";
  if (err->msg[0]) return err->msg;
  return gg_status_message(err->code);
}
