#include "base/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gg_status gg_json_parse(const char *text, size_t n, const char *what, json_t **out, gg_error *err) {
  *out = NULL;
  json_error_t jerr;
  json_t *root = json_loadb(text ? text : "", text ? n : 0, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    return gg_error_set(err, GG_ERR_JSON, "parse %s: line %d, column %d: %s", what ? what : "json", jerr.line,
                        jerr.column, jerr.text);
  }
  *out = root;
  return GG_OK;
}

json_t *gg_json_path(json_t *root, const char *path) {
  if (!root || !path) return NULL;
  json_t *node = root;
  const char *p = path;
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (!json_is_object(node)) return NULL;
    node = json_object_getn(node, p, len);
    if (!node) return NULL;
    if (!dot) break;
    p = dot + 1;
    if (!*p) return NULL; /* "a." names nothing */
  }
  return node;
}

static const char *type_name(const json_t *v) {
  if (!v) return "nothing";
  switch (json_typeof(v)) {
    case JSON_OBJECT:
      return "an object";
    case JSON_ARRAY:
      return "an array";
    case JSON_STRING:
      return "a string";
    case JSON_INTEGER:
      return "an integer";
    case JSON_REAL:
      return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "a boolean";
    case JSON_NULL:
      return "null";
  }
  return "unknown";
}

/* The member at path, or an error naming the first step that failed: a member that is
 * missing (GG_ERR_NOT_FOUND) or a parent that is not an object (GG_ERR_INVALID). */
static gg_status lookup(json_t *root, const char *path, json_t **out, gg_error *err) {
  *out = gg_json_path(root, path);
  if (*out) return GG_OK;
  if (!path || !*path) return gg_error_set(err, GG_ERR_NOT_FOUND, "missing '': empty path");
  json_t *node = root;
  const char *p = path;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (!json_is_object(node)) {
      if (p == path)
        return gg_error_set(err, GG_ERR_INVALID, "cannot look up '%s' in %s", path, type_name(node));
      return gg_error_set(err, GG_ERR_INVALID, "missing '%s': '%.*s' is %s, not an object", path,
                          (int)(p - path - 1), path, node ? type_name(node) : "nothing");
    }
    json_t *next = json_object_getn(node, p, len);
    if (!next || !dot) break;
    node = next;
    p = dot + 1;
  }
  return gg_error_set(err, GG_ERR_NOT_FOUND, "missing '%s'", path);
}

static gg_status wrong_type(const char *path, const char *want, const json_t *v, gg_error *err) {
  return gg_error_set(err, GG_ERR_INVALID, "'%s' is %s, want %s", path, type_name(v), want);
}

gg_status gg_json_get_string(json_t *root, const char *path, const char **out, gg_error *err) {
  json_t *v;
  gg_status st = lookup(root, path, &v, err);
  if (st != GG_OK) return st;
  if (!json_is_string(v)) return wrong_type(path, "a string", v, err);
  *out = json_string_value(v);
  return GG_OK;
}

gg_status gg_json_get_number(json_t *root, const char *path, double *out, gg_error *err) {
  json_t *v;
  gg_status st = lookup(root, path, &v, err);
  if (st != GG_OK) return st;
  if (!json_is_number(v)) return wrong_type(path, "a number", v, err);
  *out = json_number_value(v);
  return GG_OK;
}

gg_status gg_json_get_int(json_t *root, const char *path, long long *out, gg_error *err) {
  json_t *v;
  gg_status st = lookup(root, path, &v, err);
  if (st != GG_OK) return st;
  if (json_is_integer(v)) {
    *out = (long long)json_integer_value(v);
    return GG_OK;
  }
  /* Some servers write integral counters as 1.0 or 1e3: accept them when exact. */
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
      *out = (long long)d;
      return GG_OK;
    }
    return gg_error_set(err, GG_ERR_INVALID, "'%s' is %g, want an integer", path, d);
  }
  return wrong_type(path, "an integer", v, err);
}

gg_status gg_json_get_bool(json_t *root, const char *path, bool *out, gg_error *err) {
  json_t *v;
  gg_status st = lookup(root, path, &v, err);
  if (st != GG_OK) return st;
  if (!json_is_boolean(v)) return wrong_type(path, "a boolean", v, err);
  *out = json_is_true(v);
  return GG_OK;
}

char *gg_json_dump(const json_t *value) {
  if (!value) return NULL;
  return json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}
