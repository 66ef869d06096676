/*
 * values.c: the plan's resolved values, kept with an approval so that one voided by a
 * changed plan can say what changed (`DRAIN_TIMEOUT: 30m → 5m`), not only that the hash did.
 *
 * The snapshot is {"vars": {NAME: value}, "keys": {path: value}} over the substituted tree:
 * a path names each scalar the way a person finds it (`phases[2].actions[3].drain.timeout`,
 * a list item by its `id` or `name` when it has one), a value longer than VALUE_MAX is kept as
 * the start of its SHA-256 ("#3f2a…"), and a variable is recorded when a scalar is exactly
 * `${NAME}` or `${NAME:-default}`. Secrets never enter it: secret scalars are left out, and a
 * scalar that refers to a variable a secret also uses is kept as written, not as resolved.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "plan/internal.h"

#define VALUE_MAX 40
#define KEYS_MAX 20000
#define PATH_MAX_LEN 512
#define NAME_MAX_LEN 128

typedef struct {
  json_t *vars, *keys;
  json_t *secret_vars; /* names used by secret scalars */
} snap;

/* The name of the variable of a scalar written exactly as ${NAME} or ${NAME:-default}. */
static bool sole_var(const char *raw, char *name, size_t cap) {
  if (!raw || strncmp(raw, "${", 2) != 0) return false;
  size_t n = 0;
  const char *p = raw + 2;
  while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') {
    if (n + 1 < cap) name[n++] = *p;
    p++;
  }
  name[n] = 0;
  if (!n) return false;
  const char *close = strchr(p, '}');
  if (!close || close[1]) return false;
  return *p == '}' || strncmp(p, ":-", 2) == 0;
}

static void collect_secret_vars(const ynode *n, json_t *out) {
  if (n->kind == YN_SCALAR) {
    if (!n->secret || !n->raw) return;
    for (const char *p = strstr(n->raw, "${"); p; p = strstr(p + 2, "${")) {
      char name[NAME_MAX_LEN];
      size_t k = 0;
      for (const char *q = p + 2;
           ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_') &&
           k + 1 < sizeof name;
           q++)
        name[k++] = *q;
      name[k] = 0;
      if (k) json_object_set_new(out, name, json_true());
    }
    return;
  }
  size_t count = n->kind == YN_MAP ? 2 * n->n : n->n;
  for (size_t i = 0; i < count; i++) collect_secret_vars(n->items[i], out);
}

static bool mentions_secret(const snap *s, const char *raw) {
  const char *key;
  json_t *v;
  json_object_foreach(s->secret_vars, key, v) {
    char ref[NAME_MAX_LEN + 4];
    snprintf(ref, sizeof ref, "${%s", key);
    if (raw && strstr(raw, ref)) return true;
  }
  return false;
}

static json_t *short_value(const char *text) {
  size_t len = strlen(text);
  if (len <= VALUE_MAX) return json_string(text);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dl = 0;
  char out[20] = "#";
  if (EVP_Digest(text, len, d, &dl, EVP_sha256(), NULL) == 1)
    for (unsigned i = 0; i < 8 && i < dl; i++) snprintf(out + 1 + 2 * i, 3, "%02x", d[i]);
  return json_string(out);
}

/* The label of a list item: its id or name when it has one, else its index. */
static void item_label(const ynode *it, size_t i, char *out, size_t cap) {
  const ynode *id = it->kind == YN_MAP ? plan_ynode_get(it, "id") : NULL;
  if (!id && it->kind == YN_MAP) id = plan_ynode_get(it, "name");
  if (id && id->kind == YN_SCALAR && id->text && *id->text && strlen(id->text) < 64)
    snprintf(out, cap, "%s", id->text);
  else
    snprintf(out, cap, "%zu", i);
}

static void walk(snap *s, const ynode *n, const char *path) {
  if (json_object_size(s->keys) >= KEYS_MAX) return;
  char sub[PATH_MAX_LEN];
  switch (n->kind) {
    case YN_SCALAR: {
      if (n->secret) return;
      const char *text = n->is_null ? "" : n->text;
      bool raw_only = n->substituted && mentions_secret(s, n->raw);
      json_object_set_new(s->keys, path, short_value(raw_only ? n->raw : text));
      char name[NAME_MAX_LEN];
      if (n->substituted && !raw_only && sole_var(n->raw, name, sizeof name))
        json_object_set_new(s->vars, name, short_value(text));
      break;
    }
    case YN_SEQ:
      for (size_t i = 0; i < n->n; i++) {
        char label[80];
        item_label(n->items[i], i, label, sizeof label);
        snprintf(sub, sizeof sub, "%s[%s]", path, label);
        walk(s, n->items[i], sub);
      }
      break;
    case YN_MAP:
      for (size_t i = 0; i < n->n; i++) {
        const ynode *k = n->items[2 * i];
        if (k->kind != YN_SCALAR) continue;
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k->text);
        walk(s, n->items[2 * i + 1], sub);
      }
      break;
  }
}

json_t *plan_tree_values(const ynode *root) {
  snap s = {json_object(), json_object(), json_object()};
  json_t *out = NULL;
  if (s.vars && s.keys && s.secret_vars) {
    collect_secret_vars(root, s.secret_vars);
    walk(&s, root, "");
    out = json_pack("{s:O, s:O}", "vars", s.vars, "keys", s.keys);
  }
  json_decref(s.vars);
  json_decref(s.keys);
  json_decref(s.secret_vars);
  return out;
}

const json_t *plan_values(const plan *p) {
  return p ? p->values : NULL;
}

static const char *value_or(const json_t *o, const char *key, const char *absent) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? (*v ? v : "\"\"") : absent;
}

/* One "what: old → new" line for each name of `a` or `b` whose value differs. */
static void diff_section(gg_buf *b, const json_t *a, const json_t *b2, const char *absent, size_t *lines,
                         size_t max, size_t *more) {
  const char *key;
  json_t *v;
  for (int pass = 0; pass < 2; pass++) {
    json_object_foreach((json_t *)(pass ? b2 : a), key, v) {
      if (pass && json_object_get(a, key)) continue; /* seen in the first pass */
      const char *old = value_or(a, key, absent), *now = value_or(b2, key, absent);
      if (strcmp(old, now) == 0) continue;
      if (*lines >= max) {
        (*more)++;
        continue;
      }
      bool hashed = old[0] == '#' || now[0] == '#';
      gg_status st = hashed ? gg_buf_printf(b, "%s%s changed", *lines ? "; " : "", key)
                            : gg_buf_printf(b, "%s%s: %s \u2192 %s", *lines ? "; " : "", key, old, now);
      if (st == GG_OK) (*lines)++;
    }
  }
}

char *plan_values_diff(const json_t *then, const plan *p, size_t max_lines) {
  const json_t *now = plan_values(p);
  if (!json_is_object(then) || !now) return NULL;
  gg_buf b;
  gg_buf_init(&b, 64u << 10);
  size_t lines = 0, more = 0;
  diff_section(&b, json_object_get(then, "vars"), json_object_get(now, "vars"), "(unset)", &lines, max_lines,
               &more);
  diff_section(&b, json_object_get(then, "keys"), json_object_get(now, "keys"), "(absent)", &lines, max_lines,
               &more);
  gg_status st = GG_OK;
  if (more) st = gg_buf_printf(&b, "; and %zu more", more);
  if (!lines && !more) st = gg_buf_puts(&b, "the plan's structure changed (no value it keeps differs)");
  if (st != GG_OK && !lines) {
    gg_buf_release(&b);
    return NULL;
  }
  return gg_buf_detach(&b);
}
