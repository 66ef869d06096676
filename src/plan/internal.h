/*
 * internal.h: what the plan loader's files share (not for other modules).
 *
 * The YAML document is first turned into a tree of ynode (tree.c): aliases expanded with a
 * cap, every scalar value substituted, each node keeping the line and column libyaml gave
 * it. load.c types the tree into the model; hash.c hashes the tree.
 */
#ifndef GG_PLAN_INTERNAL_H
#define GG_PLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"

/* Caps on what a plan file may expand to (alias bombs, runaway nesting). */
#define PLAN_MAX_NODES 200000
#define PLAN_MAX_DEPTH 64

typedef enum { YN_SCALAR, YN_SEQ, YN_MAP } ynode_kind;

typedef struct ynode ynode;
struct ynode {
  ynode_kind kind;
  int line, col;    /* 1-based start */
  int end_line;     /* 1-based line of the end mark */
  bool quoted;      /* single- or double-quoted scalar */
  bool block;       /* literal or folded scalar */
  bool substituted; /* a ${...} was replaced */
  bool secret;      /* set by the loader: excluded from the hash */
  bool is_null;     /* plain empty, "~" or "null" */
  char *text;       /* scalar: substituted text */
  char *raw;        /* scalar: text as written */
  ynode **items;    /* seq: items; map: keys and values interleaved (k0 v0 k1 v1 ...) */
  size_t n;         /* seq: items; map: pairs */
};

typedef struct {
  plan_diags *diags;
  const char *src; /* the file's text, for source lines */
  size_t src_len;
  const plan_load_opts *opts;
  size_t nodes;
} plan_ctx;

/* diag.c */
void plan_diag_add(plan_ctx *c, plan_severity sev, int line, int col, const char *hint, const char *fmt, ...)
    GG_PRINTF(6, 7);
#define perr(c, node, ...) plan_diag_add((c), PLAN_DIAG_ERROR, (node)->line, (node)->col, NULL, __VA_ARGS__)
/* The closest candidate within a small edit distance, or NULL. */
const char *plan_suggest(const char *word, const char *const *candidates, size_t n);

/* tree.c: parse text into a tree; NULL (with diagnostics) on a YAML error. Free with ynode_free. */
ynode *plan_tree_parse(plan_ctx *c, const char *data, size_t len);
void ynode_free(ynode *n);
/* The value of key in a map, or NULL. */
ynode *ynode_get(const ynode *map, const char *key);

/* hash.c */
void plan_tree_hash(const ynode *root, char out[65]);

/* load.c */
plan *plan_from_tree(plan_ctx *c, ynode *root);

/* Report every cycle among the plan's defines (defines.c). */
void plan_check_define_cycles(plan_ctx *c, const plan *p);

/* risk.c */
bool plan_level_parse(const char *text, plan_level *out);

#endif
