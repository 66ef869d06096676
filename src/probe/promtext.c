/*
 * promtext.c: the Prometheus text exposition format, line by line.
 *
 * Each line is parsed within its own bounds (the page need not be NUL-terminated), so a
 * line can never make the parser read past the page. Tokens are copied into a small
 * NUL-terminated scratch buffer before strtod/strtoll see them.
 */
#include "probe/promtext.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

typedef struct {
  const char *p;
  const char *end;
  size_t lineno;
  const char *what;
  gg_error *err;
} cursor;

static gg_status fail(cursor *c, const char *fmt, ...) GG_PRINTF(2, 3);

static gg_status fail(cursor *c, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->what) return gg_error_set(c->err, GG_ERR_PARSE, "%s: line %zu: %s", c->what, c->lineno, msg);
  return gg_error_set(c->err, GG_ERR_PARSE, "line %zu: %s", c->lineno, msg);
}

static bool is_name_start(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':';
}

static bool is_name_char(char ch) {
  return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

static bool is_label_start(char ch) {
  return is_name_start(ch) && ch != ':';
}

static bool is_label_char(char ch) {
  return is_name_char(ch) && ch != ':';
}

static void skip_blanks(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

/* Copy [s, s+n) into a fresh string; NULL on ENOMEM. */
static char *dup_range(const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (!out) return NULL;
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

/* A quoted label value starting at c->p (just after the opening quote); appends the
 * unescaped text to b and leaves c->p after the closing quote. */
static gg_status read_quoted(cursor *c, gg_buf *b, const char *label) {
  while (c->p < c->end) {
    char ch = *c->p++;
    if (ch == '"') return GG_OK;
    if (ch == '\\') {
      if (c->p >= c->end) break;
      char esc = *c->p++;
      if (esc == 'n')
        ch = '\n';
      else if (esc == '\\' || esc == '"')
        ch = esc;
      else {
        return fail(c,
                    "invalid escape '\\%c' in the value of label '%s' (only \\\\, \\\" and \\n are allowed)",
                    esc, label);
      }
    }
    if (gg_buf_append(b, &ch, 1) != GG_OK) return fail(c, "label value of '%s' too long", label);
  }
  return fail(c, "unterminated label value of '%s' (missing '\"')", label);
}

static gg_status parse_labels(cursor *c, expr_labels *labels) {
  gg_buf val;
  gg_buf_init(&val, 1u << 20);
  gg_status st = GG_OK;
  c->p++; /* '{' */
  for (;;) {
    skip_blanks(c);
    if (c->p >= c->end) {
      st = fail(c, "unterminated label set (missing '}')");
      goto out;
    }
    if (*c->p == '}') {
      c->p++;
      break;
    }
    if (!is_label_start(*c->p)) {
      st = fail(c, "expected a label name or '}', got '%c'", *c->p);
      goto out;
    }
    const char *ns = c->p;
    while (c->p < c->end && is_label_char(*c->p)) c->p++;
    char *name = dup_range(ns, (size_t)(c->p - ns));
    if (!name) {
      st = gg_error_set(c->err, GG_ERR_NOMEM, "out of memory parsing metrics");
      goto out;
    }
    skip_blanks(c);
    if (c->p >= c->end || *c->p != '=') {
      st = fail(c, "expected '=' after label name '%s'", name);
      free(name);
      goto out;
    }
    c->p++;
    skip_blanks(c);
    if (c->p >= c->end || *c->p != '"') {
      st = fail(c, "expected '\"' to open the value of label '%s'", name);
      free(name);
      goto out;
    }
    c->p++;
    gg_buf_reset(&val);
    st = read_quoted(c, &val, name);
    if (st != GG_OK) {
      free(name);
      goto out;
    }
    if (strcmp(name, "__name__") == 0 || expr_labels_get(labels, name)) {
      st = fail(c, "duplicate label '%s'", name);
      free(name);
      goto out;
    }
    if (labels->n >= PROMTEXT_MAX_LABELS) {
      free(name);
      st = fail(c, "more than %d labels on one sample", PROMTEXT_MAX_LABELS);
      goto out;
    }
    st = expr_labels_set(labels, name, gg_buf_str(&val));
    free(name);
    if (st != GG_OK) {
      st = gg_error_set(c->err, GG_ERR_NOMEM, "out of memory parsing metrics");
      goto out;
    }
    skip_blanks(c);
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      continue;
    }
    if (c->p < c->end && *c->p == '}') {
      c->p++;
      break;
    }
    st = c->p >= c->end ? fail(c, "unterminated label set (missing '}')")
                        : fail(c, "expected ',' or '}' after a label value");
    goto out;
  }
out:
  gg_buf_release(&val);
  return st;
}

/* The next blank-delimited token of the line: [*s, *s + *n). */
static void next_token(cursor *c, const char **s, size_t *n) {
  skip_blanks(c);
  *s = c->p;
  while (c->p < c->end && *c->p != ' ' && *c->p != '\t') c->p++;
  *n = (size_t)(c->p - *s);
}

static gg_status parse_value(cursor *c, const char *s, size_t n, double *out) {
  char tok[64];
  if (n == 0) return fail(c, "missing sample value");
  if (n >= sizeof tok) return fail(c, "sample value too long");
  memcpy(tok, s, n);
  tok[n] = '\0';
  /* The format spells the specials NaN, +Inf, -Inf; strtod also reads "nan", "inf". */
  if (strcmp(tok, "NaN") == 0) {
    *out = NAN;
    return GG_OK;
  }
  if (strcmp(tok, "+Inf") == 0 || strcmp(tok, "Inf") == 0) {
    *out = INFINITY;
    return GG_OK;
  }
  if (strcmp(tok, "-Inf") == 0) {
    *out = -INFINITY;
    return GG_OK;
  }
  char *endp = NULL;
  errno = 0;
  double v = strtod(tok, &endp);
  if (endp == tok || *endp != '\0' || isnan(v) || isinf(v)) return fail(c, "invalid sample value '%s'", tok);
  *out = v;
  return GG_OK;
}

static gg_status parse_timestamp(cursor *c, const char *s, size_t n, double *out) {
  char tok[32];
  if (n >= sizeof tok) return fail(c, "timestamp too long");
  memcpy(tok, s, n);
  tok[n] = '\0';
  char *endp = NULL;
  errno = 0;
  long long ms = strtoll(tok, &endp, 10);
  if (endp == tok || *endp != '\0' || errno == ERANGE)
    return fail(c, "invalid timestamp '%s' (want integer milliseconds)", tok);
  *out = (double)ms / 1000.0;
  return GG_OK;
}

static gg_status parse_comment(cursor *c) {
  c->p++; /* '#' */
  skip_blanks(c);
  const char *kw;
  size_t kn;
  next_token(c, &kw, &kn);
  bool help = kn == 4 && memcmp(kw, "HELP", 4) == 0;
  bool type = kn == 4 && memcmp(kw, "TYPE", 4) == 0;
  if (!help && !type) return GG_OK; /* an ordinary comment */
  const char *name;
  size_t nn;
  next_token(c, &name, &nn);
  if (nn == 0) return fail(c, "%s line without a metric name", help ? "HELP" : "TYPE");
  if (!is_name_start(name[0])) return fail(c, "invalid metric name in %s line", help ? "HELP" : "TYPE");
  for (size_t i = 1; i < nn; i++)
    if (!is_name_char(name[i])) return fail(c, "invalid metric name in %s line", help ? "HELP" : "TYPE");
  if (help) return GG_OK; /* the docstring is free text */
  const char *t;
  size_t tn;
  next_token(c, &t, &tn);
  static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
  bool known = false;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (tn == strlen(types[i]) && memcmp(t, types[i], tn) == 0) known = true;
  char tok[40];
  snprintf(tok, sizeof tok, "%.*s", (int)(tn < 32 ? tn : 32), t);
  if (!known) return fail(c, "unknown metric type '%s' in TYPE line", tok);
  skip_blanks(c);
  if (c->p < c->end) return fail(c, "unexpected text after the type in TYPE line");
  return GG_OK;
}

static gg_status parse_sample(cursor *c, double default_ts, expr_vector *out) {
  expr_labels labels = {0};
  gg_status st = GG_OK;
  const char *ns = c->p;
  if (!is_name_start(*c->p)) {
    return fail(c, "expected a metric name, got '%c'", *c->p);
  }
  while (c->p < c->end && is_name_char(*c->p)) c->p++;
  char *name = dup_range(ns, (size_t)(c->p - ns));
  if (!name) return gg_error_set(c->err, GG_ERR_NOMEM, "out of memory parsing metrics");
  if (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '{') {
    st = fail(c, "invalid character after metric name '%s'", name);
    goto out;
  }
  skip_blanks(c);
  if (c->p < c->end && *c->p == '{') {
    st = parse_labels(c, &labels);
    if (st != GG_OK) goto out;
  }
  const char *s;
  size_t n;
  next_token(c, &s, &n);
  double value = 0;
  st = parse_value(c, s, n, &value);
  if (st != GG_OK) goto out;
  double ts = default_ts;
  next_token(c, &s, &n);
  if (n > 0) {
    st = parse_timestamp(c, s, n, &ts);
    if (st != GG_OK) goto out;
    skip_blanks(c);
    if (c->p < c->end) {
      st = fail(c, "unexpected text after the timestamp");
      goto out;
    }
  }
  if (expr_labels_set(&labels, "__name__", name) != GG_OK ||
      expr_vector_add_labels(out, value, ts, &labels) != GG_OK)
    st = gg_error_set(c->err, GG_ERR_NOMEM, "out of memory parsing metrics");
out:
  free(name);
  expr_labels_release(&labels);
  return st;
}

gg_status probe_promtext_parse(const char *text, size_t len, const char *what, double default_ts,
                               expr_vector *out, gg_error *err) {
  const char *p = text;
  const char *end = text + len;
  size_t lineno = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    lineno++;
    const char *lend = le;
    if (lend > p && lend[-1] == '\r') lend--;
    cursor c = {p, lend, lineno, what, err};
    size_t linelen = lend > p ? (size_t)(lend - p) : 0;
    if (linelen && memchr(p, '\0', linelen)) return fail(&c, "NUL byte in line");
    skip_blanks(&c);
    gg_status st = GG_OK;
    if (c.p < c.end) st = *c.p == '#' ? parse_comment(&c) : parse_sample(&c, default_ts, out);
    if (st != GG_OK) return st;
    p = nl ? nl + 1 : end;
  }
  return GG_OK;
}
