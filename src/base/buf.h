/*
 * buf.h: a bounded growable byte buffer.
 *
 * Every buffer that grows from outside input has a named cap (curl's DYN_* limits):
 * appending past `max` fails with GG_ERR_TOO_BIG and leaves the buffer as it was.
 * The data is always NUL-terminated (the NUL is not counted in len), so text can be
 * used as a C string directly.
 *
 *   gg_buf b;
 *   gg_buf_init(&b, GG_BUF_METRICS_PAGE_MAX);
 *   if (gg_buf_append(&b, chunk, n) != GG_OK) ...
 *   char *s = gg_buf_detach(&b);     // you now own s; b is empty again
 *   gg_buf_release(&b);              // frees whatever b still holds
 */
#ifndef GG_BUF_H
#define GG_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/error.h"

/* Named caps for buffers fed from outside. */
#define GG_BUF_PLAN_MAX (4u << 20)          /* a plan file */
#define GG_PLAN_MAX_DEPTH 64                /* nesting of a plan's mappings and sequences */
#define GG_BUF_HTTP_BODY_MAX (8u << 20)     /* an HTTP response body by default */
#define GG_BUF_METRICS_PAGE_MAX (16u << 20) /* a Prometheus metrics page */
#define GG_BUF_CMD_OUTPUT_MAX (64u << 10)   /* command output kept as evidence */

typedef struct {
  char *data; /* NUL-terminated when non-NULL; NULL until the first append */
  size_t len;
  size_t cap;
  size_t max; /* len never exceeds this */
} gg_buf;

/* Start empty with the given cap (0 means SIZE_MAX/2). Allocates nothing. */
void gg_buf_init(gg_buf *b, size_t max);

/* Free the storage and reset to empty (keeps max). NULL-safe. */
void gg_buf_release(gg_buf *b);

/* Empty the buffer, keeping its storage. */
void gg_buf_reset(gg_buf *b);

/* Append n bytes. GG_ERR_TOO_BIG past max, GG_ERR_NOMEM; the buffer is unchanged then. */
gg_status gg_buf_append(gg_buf *b, const void *data, size_t n) GG_WUR;

/* Append a C string. */
gg_status gg_buf_puts(gg_buf *b, const char *s) GG_WUR;

/* Append printf-style. */
gg_status gg_buf_printf(gg_buf *b, const char *fmt, ...) GG_PRINTF(2, 3) GG_WUR;
gg_status gg_buf_vprintf(gg_buf *b, const char *fmt, va_list ap) GG_PRINTF(2, 0) GG_WUR;

/* The contents as a C string ("" when empty); owned by the buffer. */
const char *gg_buf_str(const gg_buf *b);

/* Hand the storage to the caller (you now own it and must free() it); the buffer is
 * left empty. Returns a malloc'd "" when the buffer was empty, NULL only on ENOMEM. */
char *gg_buf_detach(gg_buf *b);

#endif
