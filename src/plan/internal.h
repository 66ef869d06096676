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

/* tree.c: parse text into a tree; NULL (with diagnostics) on a YAML error. Free with plan_ynode_free. */
ynode *plan_tree_parse(plan_ctx *c, const char *data, size_t len);
void plan_ynode_free(ynode *n);
/* The value of key in a map, or NULL. */
ynode *plan_ynode_get(const ynode *map, const char *key);

/* hash.c */
void plan_tree_hash(const ynode *root, char out[65]);
/* values.c: the resolved values of the tree (plan_values); you own the result; NULL on ENOMEM. */
json_t *plan_tree_values(const ynode *root);
/* Mix the content of the roles' public keys into hash (the tree's); unchanged without keys. */
void plan_hash_keys(const plan *p, char hash[65]);

/* The loader's state while it types a tree: where diagnostics go and the plan being filled. */
typedef struct {
  plan_ctx *c;
  plan *p;
} plan_loader;

#define PLAN_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* load.c: type the tree into a plan, every problem a diagnostic; NULL only on ENOMEM. */
plan *plan_from_tree(plan_ctx *c, ynode *root);

/* Report every cycle among the plan's defines (defines.c). */
void plan_check_define_cycles(plan_ctx *c, const plan *p);

/* fields.c */
/* strdup(s or ""), an error diagnostic on ENOMEM; you own the copy. */
char *plan_load_dup(plan_loader *l, const char *s);
/* calloc(n or 1, size), an error diagnostic on ENOMEM. */
void *plan_load_alloc(plan_loader *l, size_t n, size_t size);
/* Where n starts ({0, 0} for NULL). */
plan_pos plan_load_pos(const ynode *n);
/* Report keys of map not in allowed, with a suggestion from allowed. The macro passes the
 * call site, so plan_load_opts.on_keys can tell the tables apart (the reference test). */
void plan_load_check_keys_at(plan_loader *l, const ynode *map, const char *const *allowed, size_t n,
                             const char *where, const char *site);
#define PLAN_STR2(x) #x
#define PLAN_STR(x) PLAN_STR2(x)
#define plan_load_check_keys(l, map, allowed, n, where) \
  plan_load_check_keys_at((l), (map), (allowed), (n), (where), __FILE__ ":" PLAN_STR(__LINE__))
/* Whether n is a mapping (a list); if not, an error naming `what`. */
bool plan_load_want_map(plan_loader *l, const ynode *n, const char *what);
bool plan_load_want_seq(plan_loader *l, const ynode *n, const char *what);
/* The scalar text of n, or NULL (with an error) when n is not a scalar. */
const char *plan_load_scalar(plan_loader *l, const ynode *n, const char *what);
/* The error for a required key absent from map. */
void plan_load_missing(plan_loader *l, const ynode *map, const char *key, const char *where);
/* Copy map[key] as a string into *out. Absent: *out = NULL (error when required). */
/* The command at map[key] as output and the journal show it: as written in the plan, each
 * ${VAR} or ${VAR:-default} shown as ${VAR} (an expanded value never reaches output), and URL
 * credentials and password= values masked (gg_secret_mask_text). NULL when absent. */
char *plan_load_shown(plan_loader *l, const ynode *map, const char *key);
void plan_load_str(plan_loader *l, const ynode *map, const char *key, bool required, const char *where,
                   char **out);
/* map[key] as true/false (def when absent; an error on anything else). The getters
 * below report a value of the wrong type or out of range and return def. */
bool plan_load_bool(plan_loader *l, const ynode *map, const char *key, bool def);
int64_t plan_load_int(plan_loader *l, const ynode *map, const char *key, int64_t min, int64_t max,
                      int64_t def);
/* v as a duration in seconds ("90s", "5m", "24h"), or def with an error. */
double plan_load_dur_of(plan_loader *l, const ynode *v, const char *key, double def);
double plan_load_dur(plan_loader *l, const ynode *map, const char *key, double def);
/* map[key] as a size in bytes ("20GB", "512MiB"). */
double plan_load_size(plan_loader *l, const ynode *map, const char *key, double def);
/* A string or a list of strings; split_commas splits "a,b" scalars (server lists). */
void plan_load_strlist(plan_loader *l, const ynode *v, const char *key, bool split_commas, char ***out,
                       size_t *n);
/* Parse v as an expression into out; parse errors point into the YAML text. */
void plan_load_expr_of(plan_loader *l, const ynode *v, const char *key, plan_expr *out);
void plan_load_expr(plan_loader *l, const ynode *map, const char *key, bool required, const char *where,
                    plan_expr *out);
/* A secret value: never printed, excluded from the hash. `always` secrets (tokens,
 * passwords, webhooks) must come from the environment; URLs only if they hold a password. */
void plan_load_secret(plan_loader *l, ynode *v, const char *key, bool always, gg_secret *out);
/* map[key] as low/medium/high(/critical up to max) into *out; false when absent or bad. */
bool plan_load_level(plan_loader *l, const ynode *map, const char *key, plan_level max, bool required,
                     const char *where, plan_level *out);
/* map[key], or map itself when absent: where to point a diagnostic about key. */
const ynode *plan_load_key_node(const ynode *map, const char *key);

/* connect.c */
/* The section loaders: each fills its part of l->p from the section's node (NULL when the
 * section is absent) and reports every problem; the order in plan_from_tree matters where
 * a section refers to an earlier one (roles, streams, phases). */
void plan_load_connect(plan_loader *l, ynode *v);

/* sections.c */
void plan_load_calendar(plan_loader *l, ynode *v);
void plan_load_defines(plan_loader *l, ynode *v);
void plan_load_risk_matrix(plan_loader *l, ynode *v);
void plan_load_roles(plan_loader *l, ynode *v);
void plan_load_references(plan_loader *l, ynode *v);
/* `rehearsal:` (after connect: its consumed.db names a database). */
void plan_load_rehearsal(plan_loader *l, ynode *v);

/* criteria.c */
/* A list of criteria into *out / *n; `what` names the section in messages. */
void plan_load_criteria(plan_loader *l, ynode *v, const char *what, plan_criterion **out, size_t *n);

/* topology.c */
/* The settings of a stream (topology or update_stream) into s. */
void plan_load_stream_settings(plan_loader *l, ynode *v, plan_stream *s, const char *where);
/* The keys a stream's settings may have. */
#define PLAN_LOAD_STREAM_KEYS 13
extern const char *const plan_load_stream_keys[PLAN_LOAD_STREAM_KEYS];
void plan_load_topology(plan_loader *l, ynode *v);
/* An error at `at` when name (if set) is not a stream of the topology. */
void plan_load_stream_ref(plan_loader *l, const ynode *at, const char *name, const char *what);

/* actions.c */
/* A list of actions into *out / *n. */
void plan_load_actions(plan_loader *l, ynode *v, const char *what, plan_action **out, size_t *n);

/* phases.c */
/* A list of phase ids into *out / *n, each checked against the loaded phases. */
void plan_load_phase_refs(plan_loader *l, ynode *v, const char *what, char ***out, size_t *n);
void plan_load_phases(plan_loader *l, ynode *v, const ynode *root);

/* monitor.c */
void plan_load_monitor(plan_loader *l, ynode *v);
void plan_load_validation(plan_loader *l, ynode *v);

/* check.c: every series, label, stream, consumer, database, target, window and phase an
 * expression names, against the table of built-in series and what the plan declares. */
void plan_check_names(plan_ctx *c, const plan *p);

/* subjects.c: consumer filters within their streams' subjects (errors), and no two streams
 * holding overlapping subjects after any phase (warnings). */
void plan_check_subjects(plan_ctx *c, const plan *p);

/* risk.c */
bool plan_level_parse(const char *text, plan_level *out);

#endif
