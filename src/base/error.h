/*
 * error.h: the error context that travels with a gg_status.
 *
 * The function that detects a failure records what was being done and why, once, in
 * the caller's gg_error (nats.c's nats_setError keeps file and line the same way). The
 * CLI prints it at the top as `gonogo: <msg>`; services log it. Callers that add context
 * on the way up use gg_error_prefix ("load plan 'x.yaml': " + the inner message).
 *
 * A NULL gg_error* is allowed everywhere: the status is still returned, the text dropped.
 */
#ifndef GG_ERROR_H
#define GG_ERROR_H

#include <stddef.h>

#include "base/status.h"

#define GG_ERROR_MSG_MAX 1024

typedef struct {
  gg_status code;
  char msg[GG_ERROR_MSG_MAX];
  const char *file; /* source file that recorded it (static string) */
  int line;
} gg_error;

#define GG_WUR __attribute__((warn_unused_result))
#define GG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
/* For counting the entries of an X-macro: (0 MAP(GG_COUNT_ONE)) is how many it has. */
#define GG_COUNT_ONE(...) +1

/* Empty the context: code GG_OK, message "". */
void gg_error_clear(gg_error *err);

/* Record `code` with a printf-style message; returns `code` so callers can
 * `return gg_error_set(err, GG_ERR_IO, "read '%s': %s", path, strerror(errno));`.
 * The message is truncated (with "...") at GG_ERROR_MSG_MAX. */
#define gg_error_set(err, code, ...) gg_error_set_at((err), __FILE__, __LINE__, (code), __VA_ARGS__)
gg_status gg_error_set_at(gg_error *err, const char *file, int line, gg_status code, const char *fmt, ...)
    GG_PRINTF(5, 6);

/* Prepend context to the recorded message: "connect to x: " + msg. Keeps code and origin.
 * Returns err->code (GG_OK if err is NULL). */
gg_status gg_error_prefix(gg_error *err, const char *fmt, ...) GG_PRINTF(2, 3);

/* The message, or the status's generic message when none was recorded. Never NULL. */
const char *gg_error_message(const gg_error *err);

#endif
