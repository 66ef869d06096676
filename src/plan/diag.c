/* diag.c: the loader's diagnostics: collection, formatting, suggestions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "plan/internal.h"

#define DIAG_MAX 500 /* a broken file reports its first 500 problems */

void plan_diags_init(plan_diags *d) {
  memset(d, 0, sizeof *d);
}

void plan_diags_release(plan_diags *d) {
  if (!d) return;
  for (size_t i = 0; i < d->count; i++) {
    free(d->items[i].message);
    free(d->items[i].hint);
    free(d->items[i].source);
  }
  free(d->items);
  free(d->file);
  memset(d, 0, sizeof *d);
}

static char *source_line(const plan_ctx *c, int line) {
  if (!c->src || line < 1) return NULL;
  const char *p = c->src, *end = c->src + c->src_len;
  for (int l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    p = nl + 1;
  }
  const char *e = p;
  while (e < end && *e != '\n' && *e != '\r') e++;
  size_t n = (size_t)(e - p);
  if (n > 300) n = 300;
  char *s = malloc(n + 1);
  if (!s) return NULL;
  memcpy(s, p, n);
  s[n] = 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 && s[i] != '\t') s[i] = '?';
  return s;
}

void plan_diag_add(plan_ctx *c, plan_severity sev, int line, int col, const char *hint, const char *fmt,
                   ...) {
  plan_diags *d = c->diags;
  if (d->count >= DIAG_MAX) {
    if (sev == PLAN_DIAG_ERROR) d->errors++;
    return;
  }
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    plan_diag *items = realloc(d->items, cap * sizeof *items);
    if (!items) {
      if (sev == PLAN_DIAG_ERROR) d->errors++;
      return;
    }
    d->items = items;
    d->cap = cap;
  }
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  plan_diag *it = &d->items[d->count];
  memset(it, 0, sizeof *it);
  it->severity = sev;
  it->line = line;
  it->col = col;
  it->message = strdup(msg);
  it->hint = hint ? strdup(hint) : NULL;
  it->source = source_line(c, line);
  if (!it->message) {
    free(it->hint);
    free(it->source);
    if (sev == PLAN_DIAG_ERROR) d->errors++;
    return;
  }
  d->count++;
  if (sev == PLAN_DIAG_ERROR)
    d->errors++;
  else
    d->warnings++;
}

char *plan_diag_format(const plan_diags *d, const plan_diag *it) {
  gg_buf b;
  gg_buf_init(&b, 0);
  bool ok = gg_buf_printf(&b, "%s:%d:%d: %s%s\n", d->file ? d->file : "plan", it->line, it->col,
                          it->severity == PLAN_DIAG_WARNING ? "warning: " : "", it->message) == GG_OK;
  if (ok && it->source) {
    ok = gg_buf_printf(&b, "    %s\n    ", it->source) == GG_OK;
    /* Tabs in the source keep the caret aligned. */
    for (int i = 1; ok && i < it->col; i++) {
      char ch = (size_t)i <= strlen(it->source) && it->source[i - 1] == '\t' ? '\t' : ' ';
      ok = gg_buf_append(&b, &ch, 1) == GG_OK;
    }
    if (ok) ok = gg_buf_puts(&b, "^\n") == GG_OK;
  }
  if (ok && it->hint) ok = gg_buf_printf(&b, "    %s\n", it->hint) == GG_OK;
  if (!ok) {
    gg_buf_release(&b);
    return NULL;
  }
  return gg_buf_detach(&b);
}

int plan_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 100 || lb > 100) return 100;
  int row[101];
  for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int prev = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int cur = row[j];
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = prev + cost;
      if (row[j] + 1 < v) v = row[j] + 1;
      if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
      row[j] = v;
      prev = cur;
    }
  }
  return row[lb] > 100 ? 100 : row[lb];
}

const char *plan_suggest(const char *word, const char *const *candidates, size_t n) {
  const char *best = NULL;
  int best_d = 100;
  size_t wl = strlen(word);
  int limit = wl <= 3 ? 1 : wl <= 6 ? 2 : 3;
  for (size_t i = 0; i < n; i++) {
    if (!candidates[i]) continue;
    int dist = plan_edit_distance(word, candidates[i]);
    if (dist < best_d) {
      best_d = dist;
      best = candidates[i];
    }
  }
  return best_d <= limit ? best : NULL;
}

json_t *plan_diags_to_json(const plan_diags *d) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < d->count; i++) {
    const plan_diag *it = &d->items[i];
    json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:o, s:o}", "severity",
                          it->severity == PLAN_DIAG_ERROR ? "error" : "warning", "line", it->line, "column",
                          it->col, "message", it->message ? it->message : "", "hint",
                          it->hint ? json_string(it->hint) : json_null(), "source",
                          it->source ? json_string(it->source) : json_null());
    if (o) json_array_append_new(arr, o);
  }
  if (!arr) return NULL;
  return json_pack("{s:s, s:I, s:I, s:o}", "file", d->file ? d->file : "", "errors", (json_int_t)d->errors,
                   "warnings", (json_int_t)d->warnings, "diagnostics", arr);
}
