#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gg_buf_init(gg_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max ? max : SIZE_MAX / 2;
}

void gg_buf_release(gg_buf *b) {
  if (!b) return;
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void gg_buf_reset(gg_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

static gg_status reserve(gg_buf *b, size_t extra) {
  if (extra > b->max - b->len) return GG_ERR_TOO_BIG;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return GG_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p) return GG_ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  return GG_OK;
}

gg_status gg_buf_append(gg_buf *b, const void *data, size_t n) {
  gg_status st = reserve(b, n);
  if (st != GG_OK) return st;
  if (n) memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  return GG_OK;
}

gg_status gg_buf_puts(gg_buf *b, const char *s) {
  return gg_buf_append(b, s, strlen(s));
}

gg_status gg_buf_vprintf(gg_buf *b, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0) return GG_ERR_INVALID;
  gg_status st = reserve(b, (size_t)n);
  if (st != GG_OK) return st;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return GG_OK;
}

gg_status gg_buf_printf(gg_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gg_status st = gg_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return st;
}

const char *gg_buf_str(const gg_buf *b) {
  return b->data ? b->data : "";
}

char *gg_buf_detach(gg_buf *b) {
  char *p = b->data;
  if (!p) p = calloc(1, 1);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}
