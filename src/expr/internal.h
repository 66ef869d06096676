/*
 * internal.h: what the files of src/expr share and callers need not see — the AST's
 * layout, the lexer's tokens and the function table.
 */
#ifndef GG_EXPR_INTERNAL_H
#define GG_EXPR_INTERNAL_H

#include <time.h>

#include "expr/expr.h"

struct expr_node {
  expr_kind kind;
  int column;
  int height; /* 1 for a leaf; the parser keeps it <= EXPR_DEPTH_MAX so no walk runs deep */
  /* EXPR_NUM: value = mantissa * factor of unit. */
  double mantissa;
  double value;
  const char *unit; /* static spelling ("GB"), NULL for a bare number */
  char unit_kind;
  /* EXPR_STR value, EXPR_SELECTOR metric name, EXPR_CALL function name (owned). */
  char *text;
  /* EXPR_SELECTOR: matchers (label and value owned; regexes checked at parse time). */
  expr_matcher *matchers;
  size_t n_matchers;
  /* EXPR_BINARY operator. */
  expr_op op;
  /* Children: call arguments, the operand of NEG/NOT, lhs and rhs of BINARY. */
  expr_node **kids;
  size_t n_kids;
  /* EXPR_CALL: the function's table entry. */
  const struct expr_function *fn;
};

/* Lexer */
typedef enum {
  TOK_EOF,
  TOK_NUM,
  TOK_STR,
  TOK_NAME,
  TOK_LPAREN,
  TOK_RPAREN,
  TOK_LBRACE,
  TOK_RBRACE,
  TOK_COMMA,
  TOK_PLUS,
  TOK_MINUS,
  TOK_STAR,
  TOK_SLASH,
  TOK_PERCENT,
  TOK_LT,
  TOK_LE,
  TOK_GT,
  TOK_GE,
  TOK_EQEQ,
  TOK_NE,
  TOK_ASSIGN, /* = (only inside selectors) */
  TOK_RE,     /* =~ */
  TOK_NRE,    /* !~ */
  TOK_AND,
  TOK_OR,
  TOK_NOT
} tok_kind;

typedef struct {
  tok_kind kind;
  int column; /* 1-based */
  const char *start;
  size_t len;
  /* TOK_NUM */
  double mantissa;
  const char *unit;
  double factor;
  char unit_kind;
  /* TOK_STR: decoded, malloc'd; owned by the lexer until taken (set to NULL). */
  char *str;
} token;

typedef struct {
  const char *text;
  size_t pos;
  token tok;
} lexer;

void expr_lexer_init(lexer *lx, const char *text);
/* Advance to the next token (frees the previous token's string if not taken).
 * On error GG_ERR_EXPR with *col set. */
gg_status expr_lexer_next(lexer *lx, int *col, gg_error *err) GG_WUR;
void expr_lexer_release(lexer *lx);
const char *expr_tok_describe(tok_kind k);

/* Units of number literals. Returns the factor (0 when unknown), sets *spelling to the
 * static canonical spelling and *kind. */
double expr_unit_lookup(const char *s, size_t len, const char **spelling, char *kind);

/* Function table */
typedef gg_status (*expr_fn_eval)(const expr_node *call, const expr_ctx *ctx, int depth, expr_value *out,
                                  gg_error *err);

typedef struct expr_function {
  const char *name;
  int min_args;
  int max_args;
  /* Bit i set: argument i must be a string literal (checked at parse time). */
  unsigned string_args;
  /* Bit i set: argument i must be a series selector (or a define naming one). */
  unsigned selector_args;
  expr_fn_eval eval;
} expr_function;

const expr_function *expr_function_find(const char *name, size_t len);
/* The known function name nearest to `name` (edit distance <= 2), or NULL. */
const char *expr_function_suggest(const char *name, size_t len);

/* Evaluator internals used by functions.c */
gg_status expr_eval_node(const expr_node *n, const expr_ctx *ctx, int depth, expr_value *out, gg_error *err);
/* Like expr_eval_node but an empty vector is returned as is (for absent/count). */
gg_status expr_eval_node_raw(const expr_node *n, const expr_ctx *ctx, int depth, expr_value *out,
                             gg_error *err);
/* A selector with `define:` entries followed: defines that are selectors merge their
 * matchers into this one; a define that is any other expression ends the chain in
 * `expr` (the caller evaluates it and filters by the matchers). A define is followed
 * once per chain, so `x: x{job="a"}` narrows the series x of the sources. */
typedef struct {
  expr_selector sel; /* name borrowed; matchers point into `m` */
  expr_matcher *m;   /* malloc'd, strings borrowed from the ASTs */
  const expr_node *expr;
  const char *define_name; /* the define that ended in `expr` */
} resolved_selector;

gg_status expr_eval_resolve_selector(const expr_node *n, const expr_ctx *ctx, resolved_selector *r,
                                     gg_error *err);
void expr_resolved_selector_release(resolved_selector *r);
/* Keep only the samples/series whose labels satisfy the matchers. */
gg_status expr_eval_filter_vector(expr_vector *v, const expr_selector *sel, gg_error *err);
gg_status expr_eval_filter_matrix(expr_matrix *m, const expr_selector *sel, gg_error *err);
/* Canonical text of a node, for messages, into out (truncated with ...). */
const char *expr_node_quote(const expr_node *n, char *out, size_t size);

/* Labels helpers */
gg_status expr_labels_without_name(expr_labels *dst, const expr_labels *src) GG_WUR;
bool expr_labels_equal_ignoring_name(const expr_labels *a, const expr_labels *b);

/* Calendar internals */
bool expr_calendar_local_tm(double t, struct tm *tm);
const expr_window *expr_calendar_off_hours(const expr_calendar *c);

#endif
