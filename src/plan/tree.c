/* tree.c: libyaml document -> ynode tree, with ${VAR} substitution of scalar values. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/buf.h"
#include "plan/internal.h"

void plan_ynode_free(ynode *n) {
  if (!n) return;
  size_t total = n->kind == YN_MAP ? n->n * 2 : n->n;
  for (size_t i = 0; i < total; i++) plan_ynode_free(n->items[i]);
  free(n->items);
  free(n->text);
  free(n->raw);
  free(n);
}

ynode *plan_ynode_get(const ynode *map, const char *key) {
  if (!map || map->kind != YN_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++) {
    const ynode *k = map->items[2 * i];
    if (k->kind == YN_SCALAR && strcmp(k->text, key) == 0) return map->items[2 * i + 1];
  }
  return NULL;
}

static const char *lookup_var(plan_ctx *c, const char *name) {
  if (c->opts && c->opts->lookup) return c->opts->lookup(name, c->opts->ctx);
  return getenv(name);
}

/* Column of byte offset `off` of the scalar's text, for a message about it. */
static int offset_col(const ynode *n, size_t off) {
  if (n->block || n->end_line != n->line) return n->col;
  return n->col + (n->quoted ? 1 : 0) + (int)off;
}

/* Replace ${VAR} and ${VAR:-default} in n->raw into n->text. Reports unset variables and
 * malformed references; on error the text keeps the reference as written. */
static bool substitute(plan_ctx *c, ynode *n) {
  const char *s = n->raw;
  if (!strchr(s, '$')) {
    n->text = strdup(s);
    return n->text != NULL;
  }
  gg_buf b;
  gg_buf_init(&b, GG_BUF_PLAN_MAX);
  bool ok = true;
  size_t i = 0, len = strlen(s);
  while (i < len && ok) {
    if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') { /* $${ is a literal ${ */
      ok = gg_buf_puts(&b, "${") == GG_OK;
      i += 3;
      continue;
    }
    if (s[i] != '$' || s[i + 1] != '{') {
      ok = gg_buf_append(&b, &s[i], 1) == GG_OK;
      i++;
      continue;
    }
    size_t start = i;
    const char *close = strchr(s + i + 2, '}');
    if (!close) {
      plan_diag_add(c, PLAN_DIAG_ERROR, n->line, offset_col(n, start),
                    "write it as '${NAME}' or '${NAME:-default}'", "unterminated '${' in '%s'", s);
      ok = gg_buf_puts(&b, s + i) == GG_OK;
      break;
    }
    size_t j = i + 2;
    while (j < (size_t)(close - s) && (isalnum((unsigned char)s[j]) || s[j] == '_')) j++;
    size_t name_len = j - (i + 2);
    bool has_default = s[j] == ':' && s[j + 1] == '-';
    if (name_len == 0 || isdigit((unsigned char)s[i + 2]) || (!has_default && s + j != close) ||
        name_len > 200) {
      plan_diag_add(c, PLAN_DIAG_ERROR, n->line, offset_col(n, start),
                    "write it as '${NAME}' or '${NAME:-default}'", "malformed variable reference '%.*s'",
                    (int)((size_t)(close - s) - start + 1), s + start);
      ok = gg_buf_append(&b, s + start, (size_t)(close - s) - start + 1) == GG_OK;
      i = (size_t)(close - s) + 1;
      continue;
    }
    char name[256];
    memcpy(name, s + i + 2, name_len);
    name[name_len] = 0;
    const char *val = lookup_var(c, name);
    if (val) {
      ok = gg_buf_puts(&b, val) == GG_OK;
    } else if (has_default) {
      ok = gg_buf_append(&b, s + j + 2, (size_t)(close - (s + j + 2))) == GG_OK;
    } else {
      char hint[640];
      snprintf(hint, sizeof hint, "set %s in the environment, or give a default: '${%s:-VALUE}'", name, name);
      plan_diag_add(c, PLAN_DIAG_ERROR, n->line, offset_col(n, start), hint, "unset variable '%s'", name);
      ok = gg_buf_append(&b, s + start, (size_t)(close - s) - start + 1) == GG_OK;
    }
    n->substituted = true;
    i = (size_t)(close - s) + 1;
  }
  if (!ok) {
    perr(c, n, "value too large after substitution");
    gg_buf_release(&b);
    n->text = strdup("");
    return n->text != NULL;
  }
  n->text = gg_buf_detach(&b);
  return n->text != NULL;
}

static ynode *convert(plan_ctx *c, yaml_document_t *doc, yaml_node_t *yn, bool subst, int depth) {
  if (!yn) return NULL;
  if (depth > PLAN_MAX_DEPTH || ++c->nodes > PLAN_MAX_NODES) {
    if (c->nodes == PLAN_MAX_NODES + 1 || depth == PLAN_MAX_DEPTH + 1)
      plan_diag_add(c, PLAN_DIAG_ERROR, (int)yn->start_mark.line + 1, (int)yn->start_mark.column + 1, NULL,
                    "document too large or too deeply nested (aliases expand past %d nodes or %d levels)",
                    PLAN_MAX_NODES, PLAN_MAX_DEPTH);
    return NULL;
  }
  ynode *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->line = (int)yn->start_mark.line + 1;
  n->col = (int)yn->start_mark.column + 1;
  n->end_line = (int)yn->end_mark.line + 1;
  switch (yn->type) {
    case YAML_SCALAR_NODE: {
      n->kind = YN_SCALAR;
      yaml_scalar_style_t st = yn->data.scalar.style;
      n->quoted = st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
      n->block = st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE;
      size_t len = yn->data.scalar.length;
      n->raw = malloc(len + 1);
      if (!n->raw) goto fail;
      memcpy(n->raw, yn->data.scalar.value, len);
      n->raw[len] = 0;
      if (strlen(n->raw) != len) {
        perr(c, n, "scalar contains a NUL character");
      }
      if (st == YAML_PLAIN_SCALAR_STYLE &&
          (len == 0 || strcmp(n->raw, "~") == 0 || strcmp(n->raw, "null") == 0 ||
           strcmp(n->raw, "Null") == 0 || strcmp(n->raw, "NULL") == 0))
        n->is_null = true;
      if (subst) {
        if (!substitute(c, n)) goto fail;
      } else {
        n->text = strdup(n->raw);
        if (!n->text) goto fail;
      }
      return n;
    }
    case YAML_SEQUENCE_NODE: {
      n->kind = YN_SEQ;
      size_t cnt = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
      n->items = calloc(cnt ? cnt : 1, sizeof *n->items);
      if (!n->items) goto fail;
      for (size_t i = 0; i < cnt; i++) {
        ynode *it =
            convert(c, doc, yaml_document_get_node(doc, yn->data.sequence.items.start[i]), true, depth + 1);
        if (!it) goto fail;
        n->items[n->n++] = it;
      }
      return n;
    }
    case YAML_MAPPING_NODE: {
      n->kind = YN_MAP;
      size_t cnt = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
      n->items = calloc(cnt ? cnt * 2 : 1, sizeof *n->items);
      if (!n->items) goto fail;
      for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &yn->data.mapping.pairs.start[i];
        ynode *k = convert(c, doc, yaml_document_get_node(doc, pr->key), false, depth + 1);
        if (!k) goto fail;
        ynode *v = convert(c, doc, yaml_document_get_node(doc, pr->value), true, depth + 1);
        if (!v) {
          plan_ynode_free(k);
          goto fail;
        }
        if (k->kind != YN_SCALAR) {
          /* Reported, and the pair left out: every reader of a map takes keys as text. */
          perr(c, k, "mapping keys must be plain strings");
          plan_ynode_free(k);
          plan_ynode_free(v);
          continue;
        } else {
          for (size_t p = 0; p < n->n; p++) {
            ynode *prev = n->items[2 * p];
            if (prev->kind == YN_SCALAR && strcmp(prev->text, k->text) == 0) {
              perr(c, k, "duplicate key '%s' (first at line %d)", k->text, prev->line);
              break;
            }
          }
        }
        n->items[2 * n->n] = k;
        n->items[2 * n->n + 1] = v;
        n->n++;
      }
      return n;
    }
    default:
      break;
  }
fail:
  plan_ynode_free(n);
  return NULL;
}

/* The 1-based line and column of byte `offset` of data (columns count characters, as libyaml's
 * marks do: UTF-8 continuation bytes do not start one). */
static void offset_position(const char *data, size_t len, size_t offset, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && i < len; i++) {
    unsigned char b = (unsigned char)data[i];
    if (b == '\n') {
      ++*line;
      *col = 1;
    } else if ((b & 0xC0) != 0x80) {
      ++*col;
    }
  }
}

/* A reader error (bad UTF-8, a NUL or another control character) carries a byte offset instead
 * of a mark: say where that byte is and what it is. */
static void reader_error(plan_ctx *c, const yaml_parser_t *parser, const char *data, size_t len) {
  int line, col;
  size_t at = parser->problem_offset;
  int value = parser->problem_value;
  /* For a bad continuation byte libyaml names that byte; the character starts at its lead byte. */
  if (value >= 0 && parser->problem && strstr(parser->problem, "trailing")) {
    for (size_t back = 1; back <= 3 && back <= at && at - back < len; back++) {
      unsigned char b = (unsigned char)data[at - back];
      if ((b & 0xC0) == 0xC0) {
        at -= back;
        value = b;
        break;
      }
    }
  }
  offset_position(data, len, at, &line, &col);
  if (value >= 0)
    plan_diag_add(c, PLAN_DIAG_ERROR, line, col, "a plan is UTF-8 text without control characters",
                  "yaml: %s (byte 0x%02x at offset %zu)",
                  parser->problem ? parser->problem : "unreadable input", (unsigned)value & 0xffu, at);
  else
    plan_diag_add(c, PLAN_DIAG_ERROR, line, col, NULL, "yaml: %s at offset %zu",
                  parser->problem ? parser->problem : "unreadable input", at);
}

/* Nesting deeper than GG_PLAN_MAX_DEPTH is refused before the document is built: libyaml's time
 * grows with the square of the depth (a plan of 100,000 '[' took 17 s), and no plan needs more.
 * Walks the events and stops at the first one too deep. Other errors are left to the loader. */
static bool depth_ok(plan_ctx *c, const char *data, size_t len) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return true;
  yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
  bool ok = true;
  int depth = 0;
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) break;
    yaml_event_type_t t = ev.type;
    if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
      if (++depth > GG_PLAN_MAX_DEPTH) {
        plan_diag_add(c, PLAN_DIAG_ERROR, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                      "flatten the structure: no plan key needs this many levels",
                      "the plan nests mappings and sequences more than %d deep here", GG_PLAN_MAX_DEPTH);
        ok = false;
      }
    } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
      depth--;
    }
    yaml_event_delete(&ev);
    if (!ok || t == YAML_STREAM_END_EVENT) break;
  }
  yaml_parser_delete(&parser);
  return ok;
}

ynode *plan_tree_parse(plan_ctx *c, const char *data, size_t len) {
  yaml_parser_t parser;
  yaml_document_t doc;
  ynode *root = NULL;
  if (!depth_ok(c, data, len)) return NULL;
  if (!yaml_parser_initialize(&parser)) {
    plan_diag_add(c, PLAN_DIAG_ERROR, 1, 1, NULL, "cannot initialise the YAML parser");
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
  if (!yaml_parser_load(&parser, &doc)) {
    int line = (int)parser.problem_mark.line + 1, col = (int)parser.problem_mark.column + 1;
    if (parser.error == YAML_READER_ERROR)
      reader_error(c, &parser, data, len);
    else if (parser.context)
      plan_diag_add(c, PLAN_DIAG_ERROR, line, col, NULL, "yaml: %s %s",
                    parser.problem ? parser.problem : "error", parser.context);
    else
      plan_diag_add(c, PLAN_DIAG_ERROR, line, col, NULL, "yaml: %s",
                    parser.problem ? parser.problem : "error");
    yaml_parser_delete(&parser);
    return NULL;
  }
  yaml_node_t *top = yaml_document_get_root_node(&doc);
  if (!top) {
    plan_diag_add(c, PLAN_DIAG_ERROR, 1, 1, NULL, "the plan is empty");
  } else {
    root = convert(c, &doc, top, true, 0);
    if (!root && c->diags->errors == 0)
      plan_diag_add(c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory reading the plan");
    yaml_document_t next;
    if (yaml_parser_load(&parser, &next)) {
      yaml_node_t *second = yaml_document_get_root_node(&next);
      if (second)
        plan_diag_add(c, PLAN_DIAG_ERROR, (int)second->start_mark.line + 1,
                      (int)second->start_mark.column + 1, NULL,
                      "a plan is one YAML document; remove the second one");
      yaml_document_delete(&next);
    } else {
      plan_diag_add(c, PLAN_DIAG_ERROR, (int)parser.problem_mark.line + 1,
                    (int)parser.problem_mark.column + 1, NULL, "yaml: %s",
                    parser.problem ? parser.problem : "error");
    }
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return root;
}
