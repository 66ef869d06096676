/*
 * fields.c: the typed fields of a mapping: strings, booleans, integers, durations, sizes,
 * lists, expressions, secrets and levels, each wrong key, type or value reported at its
 * line and column with a suggestion where one is obvious.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/secret.h"
#include "base/units.h"
#include "plan/internal.h"

char *plan_load_dup(plan_loader *l, const char *s) {
  char *r = strdup(s ? s : "");
  if (!r) plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
  return r;
}

void *plan_load_alloc(plan_loader *l, size_t n, size_t size) {
  void *r = calloc(n ? n : 1, size);
  if (!r) plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
  return r;
}

plan_pos plan_load_pos(const ynode *n) {
  plan_pos p = {n ? n->line : 0, n ? n->col : 0};
  return p;
}

static const char *kind_name(const ynode *n) {
  switch (n->kind) {
    case YN_SEQ:
      return "a list";
    case YN_MAP:
      return "a mapping";
    default:
      return "a string";
  }
}

void plan_load_check_keys_at(plan_loader *l, const ynode *map, const char *const *allowed, size_t n,
                             const char *where, const char *site) {
  const plan_load_opts *o = l->c->opts;
  if (o && o->on_keys) o->on_keys(o->ctx, site, where, allowed, n);
  for (size_t i = 0; i < map->n; i++) {
    const ynode *k = map->items[2 * i];
    if (k->kind != YN_SCALAR) continue;
    bool known = false;
    for (size_t j = 0; j < n && !known; j++) known = strcmp(k->text, allowed[j]) == 0;
    if (known) continue;
    const char *s = plan_suggest(k->text, allowed, n);
    char hint[160];
    if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
    plan_diag_add(l->c, PLAN_DIAG_ERROR, k->line, k->col, s ? hint : NULL, "unknown key '%s' in %s", k->text,
                  where);
  }
}

bool plan_load_want_map(plan_loader *l, const ynode *n, const char *what) {
  if (!n) return false;
  if (n->kind == YN_MAP) return true;
  perr(l->c, n, "%s must be a mapping, not %s", what, kind_name(n));
  return false;
}

bool plan_load_want_seq(plan_loader *l, const ynode *n, const char *what) {
  if (!n) return false;
  if (n->kind == YN_SEQ) return true;
  if (n->kind == YN_SCALAR && n->is_null) return false;
  perr(l->c, n, "%s must be a list, not %s", what, kind_name(n));
  return false;
}

const char *plan_load_scalar(plan_loader *l, const ynode *n, const char *what) {
  if (!n) return NULL;
  if (n->kind == YN_SCALAR) return n->text;
  perr(l->c, n, "'%s' must be a string, not %s", what, kind_name(n));
  return NULL;
}

void plan_load_missing(plan_loader *l, const ynode *map, const char *key, const char *where) {
  perr(l->c, map, "%s is missing '%s'", where, key);
}

char *plan_load_shown(plan_loader *l, const ynode *map, const char *key) {
  const ynode *v = key ? plan_ynode_get(map, key) : map;
  if (!v || v->kind != YN_SCALAR || v->is_null || !v->raw) return NULL;
  gg_buf b;
  gg_buf_init(&b, 0);
  bool ok = true;
  for (const char *p = v->raw; ok && *p;) {
    const char *ref = strstr(p, "${");
    if (!ref) {
      ok = gg_buf_puts(&b, p) == GG_OK;
      break;
    }
    const char *q = ref + 2;
    while (isalnum((unsigned char)*q) || *q == '_') q++;
    const char *close = strchr(q, '}');
    ok = gg_buf_append(&b, p, (size_t)(ref - p)) == GG_OK;
    if (!close || q == ref + 2 || (*q != '}' && strncmp(q, ":-", 2) != 0)) {
      ok = ok && gg_buf_append(&b, ref, 2) == GG_OK; /* not a reference: as written */
      p = ref + 2;
      continue;
    }
    ok = ok && gg_buf_append(&b, ref, (size_t)(q - ref)) == GG_OK && gg_buf_puts(&b, "}") == GG_OK;
    p = close + 1;
  }
  char *masked = ok ? gg_secret_mask_text(gg_buf_str(&b)) : NULL;
  gg_buf_release(&b);
  if (!masked) plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
  return masked;
}

void plan_load_str(plan_loader *l, const ynode *map, const char *key, bool required, const char *where,
                   char **out) {
  const ynode *v = plan_ynode_get(map, key);
  *out = NULL;
  if (!v || (v->kind == YN_SCALAR && v->is_null)) {
    if (required) plan_load_missing(l, map, key, where);
    return;
  }
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return;
  if (required && !*s) {
    perr(l->c, v, "'%s' must not be empty", key);
    return;
  }
  *out = plan_load_dup(l, s);
}

bool plan_load_bool(plan_loader *l, const ynode *map, const char *key, bool def) {
  const ynode *v = plan_ynode_get(map, key);
  if (!v) return def;
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return def;
  if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) return true;
  if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) return false;
  perr(l->c, v, "'%s' must be true or false, not '%s'", key, s);
  return def;
}

int64_t plan_load_int(plan_loader *l, const ynode *map, const char *key, int64_t min, int64_t max,
                      int64_t def) {
  const ynode *v = plan_ynode_get(map, key);
  if (!v) return def;
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return def;
  errno = 0;
  char *end = NULL;
  long long x = strtoll(s, &end, 10);
  if (!*s || end == s || *end || errno) {
    perr(l->c, v, "'%s' must be an integer, not '%s'", key, s);
    return def;
  }
  if (x < min || x > max) {
    perr(l->c, v, "'%s' must be between %lld and %lld, not %lld", key, (long long)min, (long long)max, x);
    return def;
  }
  return x;
}

double plan_load_dur_of(plan_loader *l, const ynode *v, const char *key, double def) {
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return def;
  gg_error e;
  gg_error_clear(&e);
  double d = 0;
  if (gg_parse_duration(s, 0, &d, &e) != GG_OK) {
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, v->col,
                  "durations read like 250ms, 90s, 5m, 24h, 14d or 1h30m", "'%s': %s", key,
                  gg_error_message(&e));
    return def;
  }
  return d;
}

double plan_load_dur(plan_loader *l, const ynode *map, const char *key, double def) {
  const ynode *v = plan_ynode_get(map, key);
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return def;
  return plan_load_dur_of(l, v, key, def);
}

double plan_load_size(plan_loader *l, const ynode *map, const char *key, double def) {
  const ynode *v = plan_ynode_get(map, key);
  if (!v) return def;
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return def;
  gg_error e;
  gg_error_clear(&e);
  double d = 0;
  if (gg_parse_size(s, &d, &e) != GG_OK) {
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, v->col, "sizes read like 512MB, 20GB or 1GiB", "'%s': %s",
                  key, gg_error_message(&e));
    return def;
  }
  return d;
}

void plan_load_strlist(plan_loader *l, const ynode *v, const char *key, bool split_commas, char ***out,
                       size_t *n) {
  *out = NULL;
  *n = 0;
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return;
  if (v->kind == YN_MAP) {
    perr(l->c, v, "'%s' must be a string or a list of strings, not a mapping", key);
    return;
  }
  size_t cap = v->kind == YN_SEQ ? v->n : 1;
  if (split_commas) {
    for (size_t i = 0; i < (v->kind == YN_SEQ ? v->n : 1); i++) {
      const ynode *it = v->kind == YN_SEQ ? v->items[i] : v;
      if (it->kind == YN_SCALAR)
        for (const char *q = it->text; *q; q++) cap += *q == ',';
    }
  }
  char **arr = plan_load_alloc(l, cap, sizeof *arr);
  if (!arr) return;
  for (size_t i = 0; i < (v->kind == YN_SEQ ? v->n : 1); i++) {
    const ynode *it = v->kind == YN_SEQ ? v->items[i] : v;
    const char *s = plan_load_scalar(l, it, key);
    if (!s) continue;
    const char *p = s;
    do {
      const char *e = split_commas ? strchr(p, ',') : NULL;
      size_t len = e ? (size_t)(e - p) : strlen(p);
      while (len && isspace((unsigned char)*p)) p++, len--;
      while (len && isspace((unsigned char)p[len - 1])) len--;
      if (len && *n < cap) {
        arr[*n] = strndup(p, len);
        if (arr[*n]) (*n)++;
      } else if (!len && !split_commas) {
        perr(l->c, it, "'%s' has an empty entry", key);
      }
      p = e ? e + 1 : NULL;
    } while (p);
  }
  *out = arr;
}

/* Column in the file of the expression's own 1-based column ecol. */
static int expr_col(const ynode *v, int ecol) {
  if (v->block || v->end_line != v->line || v->substituted) return v->col;
  return v->col + (v->quoted ? 1 : 0) + (ecol > 0 ? ecol - 1 : 0);
}

void plan_load_expr_of(plan_loader *l, const ynode *v, const char *key, plan_expr *out) {
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return;
  out->pos = plan_load_pos(v);
  out->exact = !v->block && v->end_line == v->line && !v->substituted;
  if (out->exact) out->pos.col = expr_col(v, 1);
  out->text = plan_load_dup(l, s);
  if (!*s) {
    perr(l->c, v, "'%s' is an empty expression", key);
    return;
  }
  int ecol = 0;
  gg_error e;
  gg_error_clear(&e);
  if (expr_parse(s, &out->ast, &ecol, &e) != GG_OK) {
    out->ast = NULL;
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, expr_col(v, ecol), NULL, "malformed expression in '%s': %s",
                  key, gg_error_message(&e));
  }
}

void plan_load_expr(plan_loader *l, const ynode *map, const char *key, bool required, const char *where,
                    plan_expr *out) {
  const ynode *v = plan_ynode_get(map, key);
  if (!v || (v->kind == YN_SCALAR && v->is_null)) {
    if (required) plan_load_missing(l, map, key, where);
    return;
  }
  plan_load_expr_of(l, v, key, out);
}

/* "${PG_URL}" for a raw "${PG_URL:-postgres://...}": the variable names only, never defaults. */
static void secret_label(const char *raw, char *out, size_t n) {
  size_t used = 0;
  out[0] = 0;
  for (const char *p = raw; (p = strstr(p, "${")) != NULL;) {
    const char *q = p + 2;
    while (isalnum((unsigned char)*q) || *q == '_') q++;
    int w = snprintf(out + used, n - used, "%s${%.*s}", used ? "+" : "", (int)(q - p - 2), p + 2);
    if (w < 0 || (size_t)w >= n - used) break;
    used += (size_t)w;
    p = q;
  }
}

static bool literal_secret(const char *s) {
  const char *at = strchr(s, '@'), *scheme = strstr(s, "://");
  if (scheme && at && at > scheme && memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) return true;
  return strstr(s, "password=") != NULL;
}

void plan_load_secret(plan_loader *l, ynode *v, const char *key, bool always, gg_secret *out) {
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return;
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return;
  v->secret = true;
  if (!v->substituted && *s && (always || literal_secret(s))) {
    char hint[160];
    snprintf(hint, sizeof hint, "write it as '${VARIABLE}' and set the variable where gonogo runs");
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, v->col, hint,
                  "secret '%s' must come from the environment, not from the plan file", key);
  }
  if (!*s) return;
  char label[200];
  secret_label(v->raw, label, sizeof label);
  if (!gg_secret_set(out, s, label[0] ? label : NULL))
    plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
}

bool plan_load_level(plan_loader *l, const ynode *map, const char *key, plan_level max, bool required,
                     const char *where, plan_level *out) {
  const ynode *v = plan_ynode_get(map, key);
  if (!v) {
    if (required) plan_load_missing(l, map, key, where);
    return false;
  }
  const char *s = plan_load_scalar(l, v, key);
  if (!s) return false;
  plan_level lv;
  if (!plan_level_parse(s, &lv) || lv > max) {
    perr(l->c, v, "'%s' must be %s, not '%s'", key,
         max == PLAN_LEVEL_HIGH ? "low, medium or high" : "low, medium, high or critical", s);
    return false;
  }
  *out = lv;
  return true;
}

const ynode *plan_load_key_node(const ynode *map, const char *key) {
  const ynode *v = plan_ynode_get(map, key);
  return v ? v : map;
}
