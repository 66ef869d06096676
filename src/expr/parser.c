/*
 * parser.c: recursive descent over the grammar of DESIGN §5, building the AST.
 *
 *   or := and ('or' and)*        and := not ('and' not)*      not := 'not' not | cmp
 *   cmp := sum (CMPOP sum)?      sum := prod (('+'|'-') prod)*
 *   prod := unary (('*'|'/'|'%') unary)*                      unary := '-' unary | primary
 *
 * Everything that can be checked without data is checked here, so `gonogo validate`
 * reports it with a column: function names and arities, literal-only arguments,
 * regexes and window specs.
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/internal.h"

typedef struct {
  lexer lx;
  int depth;
  int *col;
  gg_error *err;
} parser;

static expr_node *node_new(expr_kind kind, int column) {
  expr_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->column = column;
  n->height = 1;
  return n;
}

void expr_free(expr_node *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n_kids; i++) expr_free(n->kids[i]);
  free(n->kids);
  for (size_t i = 0; i < n->n_matchers; i++) {
    free((char *)n->matchers[i].label);
    free((char *)n->matchers[i].value);
  }
  free(n->matchers);
  free(n->text);
  free(n);
}

static gg_status nomem(parser *p) {
  return gg_error_set(p->err, GG_ERR_NOMEM, "out of memory");
}

static gg_status fail_at(parser *p, int column, const char *fmt, ...) GG_PRINTF(3, 4);
static gg_status fail_at(parser *p, int column, const char *fmt, ...) {
  char msg[GG_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->col) *p->col = column;
  return gg_error_set(p->err, GG_ERR_EXPR, "%s", msg);
}

static gg_status advance(parser *p) {
  return expr_lexer_next(&p->lx, p->col, p->err);
}

static gg_status unexpected(parser *p, const char *wanted) {
  const token *t = &p->lx.tok;
  char found[96];
  if (t->kind == TOK_NAME || t->kind == TOK_NUM) {
    snprintf(found, sizeof found, "%s '%.*s'", expr_tok_describe(t->kind), (int)(t->len > 40 ? 40 : t->len),
             t->start);
  } else {
    snprintf(found, sizeof found, "%s", expr_tok_describe(t->kind));
  }
  const char *spelling = NULL;
  char kind = 0;
  if (t->kind == TOK_NAME && expr_unit_lookup(t->start, t->len, &spelling, &kind) != 0)
    return fail_at(p, t->column, "%s, found %s (a unit must follow its number without a space)", wanted,
                   found);
  return fail_at(p, t->column, "%s, found %s", wanted, found);
}

static gg_status parse_or(parser *p, expr_node **out);

static gg_status add_kid(expr_node *n, expr_node *kid) {
  expr_node **grown = realloc(n->kids, (n->n_kids + 1) * sizeof *grown);
  if (!grown) return GG_ERR_NOMEM;
  n->kids = grown;
  n->kids[n->n_kids++] = kid;
  if (kid && kid->height + 1 > n->height) n->height = kid->height + 1;
  return GG_OK;
}

/* Long chains (`1 + 1 + … + 1`) build deep trees without deep recursion in the parser;
 * capping the height keeps printing, comparing, freeing and evaluating shallow. */
static gg_status check_height(parser *p, const expr_node *n) {
  if (n->height <= EXPR_DEPTH_MAX) return GG_OK;
  return fail_at(p, n->column, "expression nested too deeply (more than %d levels)", EXPR_DEPTH_MAX);
}

static gg_status make_binary(parser *p, expr_op op, int column, expr_node **lhs, expr_node *rhs) {
  expr_node *n = node_new(EXPR_BINARY, column);
  if (!n || add_kid(n, *lhs) != GG_OK) {
    free(n);
    expr_free(rhs);
    return nomem(p);
  }
  *lhs = n;
  if (add_kid(n, rhs) != GG_OK) {
    expr_free(rhs);
    return nomem(p);
  }
  n->op = op;
  return check_height(p, n);
}

/* glibc's regcomp expands repetitions by copying the repeated part ((a+)+ doubles it,
 * a{100} makes a hundred copies), so a short pattern from a plan can take minutes and
 * gigabytes to compile. Estimate the expanded size before compiling and refuse
 * patterns whose size explodes; ordinary label and file-name patterns stay far below. */
#define REGEX_LEN_MAX 512
#define REGEX_WEIGHT_MAX 4096
#define REGEX_GROUPS_MAX 32
#define REGEX_BOUND_MAX 255

static const char *regex_explodes(const char *re) {
  size_t len = strlen(re);
  if (len > REGEX_LEN_MAX) return "longer than 512 bytes";
  double group[REGEX_GROUPS_MAX + 1] = {0};
  int top = 0;
  double last = 0; /* expanded size of the last atom; 0 when there is none */
  bool quantified = false;
  for (size_t i = 0; i < len; i++) {
    char c = re[i];
    double factor = 0;
    if (c == '\\' && i + 1 < len) {
      i++;
    } else if (c == '[') {
      /* A bracket expression is one atom; a ']' first in it is literal. */
      size_t j = i + 1;
      if (re[j] == '^') j++;
      if (re[j] == ']') j++;
      while (j < len && re[j] != ']') {
        if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
          char kind = re[j + 1];
          j += 2;
          while (j + 1 < len && !(re[j] == kind && re[j + 1] == ']')) j++;
          j++;
        }
        j++;
      }
      i = j;
    } else if (c == '(') {
      if (top == REGEX_GROUPS_MAX) return "groups nested too deeply";
      group[++top] = 0;
      last = 0;
      quantified = false;
      continue;
    } else if (c == ')' && top > 0) {
      double inner = group[top--];
      last = inner < 1 ? 1 : inner;
      group[top] += last;
      quantified = false;
      continue;
    } else if (c == '|') {
      last = 0;
      quantified = false;
      continue;
    } else if (c == '*' || c == '?') {
      factor = 1;
    } else if (c == '+') {
      factor = 2;
    } else if (c == '{' && isdigit((unsigned char)re[i + 1])) {
      size_t j = i + 1;
      long lo = 0, hi = -1;
      while (isdigit((unsigned char)re[j]) && lo <= REGEX_BOUND_MAX) lo = lo * 10 + (re[j++] - '0');
      if (re[j] == ',') {
        j++;
        if (isdigit((unsigned char)re[j])) hi = 0;
        while (isdigit((unsigned char)re[j]) && hi <= REGEX_BOUND_MAX) hi = hi * 10 + (re[j++] - '0');
      }
      if (re[j] == '}') {
        long bound = hi > lo ? hi : lo;
        if (bound > REGEX_BOUND_MAX) return "repetition count above 255";
        factor = (double)bound + 1;
        i = j;
      }
    }
    if (factor > 0) {
      if (quantified) return "a repetition directly after another";
      group[top] += last * (factor - 1);
      last *= factor;
      quantified = true;
      if (group[top] > REGEX_WEIGHT_MAX) return "its repetitions expand too far";
      continue;
    }
    last = 1;
    group[top] += 1;
    quantified = false;
  }
  double total = 0;
  for (int k = 0; k <= top; k++) total += group[k];
  return total > REGEX_WEIGHT_MAX ? "its repetitions expand too far" : NULL;
}

static gg_status check_regex(parser *p, const char *re, bool anchored, int column) {
  const char *explodes = regex_explodes(re);
  if (explodes) return fail_at(p, column, "regular expression \"%.60s\" refused: %s", re, explodes);
  regex_t rx;
  size_t len = strlen(re);
  char *pattern = malloc(len + 5);
  if (!pattern) return nomem(p);
  if (anchored) {
    snprintf(pattern, len + 5, "^(%s)$", re);
  } else {
    memcpy(pattern, re, len + 1);
  }
  int rc = regcomp(&rx, pattern, REG_EXTENDED | REG_NOSUB);
  free(pattern);
  if (rc != 0) {
    char why[128];
    regerror(rc, &rx, why, sizeof why);
    return fail_at(p, column, "invalid regular expression \"%s\": %s", re, why);
  }
  regfree(&rx);
  return GG_OK;
}

static gg_status parse_matchers(parser *p, expr_node *sel) {
  /* The current token is '{'. */
  gg_status s = advance(p);
  if (s != GG_OK) return s;
  while (p->lx.tok.kind != TOK_RBRACE) {
    if (p->lx.tok.kind != TOK_NAME) return unexpected(p, "expected a label name");
    const token *t = &p->lx.tok;
    for (size_t i = 0; i < t->len; i++) {
      if (t->start[i] == '.' || t->start[i] == ':')
        return fail_at(p, t->column + (int)i, "label names take letters, digits and '_' only");
    }
    char *label = strndup(t->start, t->len);
    if (!label) return nomem(p);
    expr_matcher *grown = realloc(sel->matchers, (sel->n_matchers + 1) * sizeof *grown);
    if (!grown) {
      free(label);
      return nomem(p);
    }
    sel->matchers = grown;
    expr_matcher *m = &sel->matchers[sel->n_matchers++];
    m->label = label;
    m->value = NULL;
    if ((s = advance(p)) != GG_OK) return s;
    switch (p->lx.tok.kind) {
      case TOK_ASSIGN:
        m->op = EXPR_MATCH_EQ;
        break;
      case TOK_NE:
        m->op = EXPR_MATCH_NE;
        break;
      case TOK_RE:
        m->op = EXPR_MATCH_RE;
        break;
      case TOK_NRE:
        m->op = EXPR_MATCH_NOT_RE;
        break;
      case TOK_EQEQ:
        return fail_at(p, p->lx.tok.column, "a label matcher takes '=', not '=='");
      default:
        return unexpected(p, "expected '=', '!=', '=~' or '!~'");
    }
    if ((s = advance(p)) != GG_OK) return s;
    if (p->lx.tok.kind != TOK_STR) return unexpected(p, "expected a quoted label value");
    m->value = p->lx.tok.str;
    p->lx.tok.str = NULL;
    if (m->op == EXPR_MATCH_RE || m->op == EXPR_MATCH_NOT_RE) {
      if ((s = check_regex(p, m->value, true, p->lx.tok.column)) != GG_OK) return s;
    }
    if ((s = advance(p)) != GG_OK) return s;
    if (p->lx.tok.kind == TOK_COMMA) {
      if ((s = advance(p)) != GG_OK) return s;
    } else if (p->lx.tok.kind != TOK_RBRACE) {
      return unexpected(p, "expected ',' or '}'");
    }
  }
  return advance(p);
}

/* Where a subexpression starts: a binary node's own column is its operator's. */
static int start_column(const expr_node *n) {
  while (n->kind == EXPR_BINARY) n = n->kids[0];
  return n->column;
}

static gg_status check_call(parser *p, expr_node *call) {
  const expr_function *fn = call->fn;
  int argc = (int)call->n_kids;
  if (argc < fn->min_args || argc > fn->max_args) {
    char want[64];
    if (fn->min_args == fn->max_args) {
      snprintf(want, sizeof want, "%d argument%s", fn->min_args, fn->min_args == 1 ? "" : "s");
    } else {
      snprintf(want, sizeof want, "%d to %d arguments", fn->min_args, fn->max_args);
    }
    if (p->col) *p->col = call->column;
    return gg_error_set(p->err, GG_ERR_EXPR, "%s() takes %s, got %d", fn->name, want, argc);
  }
  for (int i = 0; i < argc; i++) {
    const expr_node *a = call->kids[i];
    if ((fn->string_args >> i) & 1u) {
      if (a->kind != EXPR_STR) {
        if (p->col) *p->col = start_column(a);
        return gg_error_set(p->err, GG_ERR_EXPR, "argument %d of %s() must be a quoted string", i + 1,
                            fn->name);
      }
    }
    if ((fn->selector_args >> i) & 1u) {
      if (a->kind != EXPR_SELECTOR) {
        if (p->col) *p->col = start_column(a);
        return gg_error_set(p->err, GG_ERR_EXPR,
                            "argument %d of %s() must be a series selector such as name{label=\"v\"}", i + 1,
                            fn->name);
      }
    }
  }
  if (strcmp(fn->name, "sql") == 0) {
    expr_node *db = call->kids[0];
    if (!(db->kind == EXPR_STR || (db->kind == EXPR_SELECTOR && db->n_matchers == 0))) {
      if (p->col) *p->col = start_column(db);
      return gg_error_set(p->err, GG_ERR_EXPR,
                          "argument 1 of sql() must name a database: sql(main, \"select ...\")");
    }
    /* A bare database name is a name, not a series: keep it as the string it means,
     * so walkers looking for selectors do not take it for one. */
    db->kind = EXPR_STR;
  }
  if (strcmp(fn->name, "files_matching") == 0) {
    gg_status s = check_regex(p, call->kids[0]->text, false, call->kids[0]->column);
    if (s != GG_OK) return s;
  }
  if (strcmp(fn->name, "in_window") == 0) {
    expr_window *w = NULL;
    int pos = 0;
    gg_error inner;
    gg_error_clear(&inner);
    if (expr_window_parse(call->kids[0]->text, &w, &pos, &inner) != GG_OK) {
      if (p->col) *p->col = call->kids[0]->column + (pos > 0 ? pos : 1);
      return gg_error_set(p->err, GG_ERR_EXPR, "%s", gg_error_message(&inner));
    }
    expr_window_free(w);
  }
  return GG_OK;
}

static gg_status parse_call(parser *p, expr_node *call) {
  /* The current token is '('. */
  gg_status s = advance(p);
  if (s != GG_OK) return s;
  if (p->lx.tok.kind != TOK_RPAREN) {
    for (;;) {
      if (call->n_kids >= 16) return fail_at(p, p->lx.tok.column, "too many arguments");
      expr_node *arg = NULL;
      if ((s = parse_or(p, &arg)) != GG_OK) {
        expr_free(arg);
        return s;
      }
      if (add_kid(call, arg) != GG_OK) {
        expr_free(arg);
        return nomem(p);
      }
      if (p->lx.tok.kind == TOK_COMMA) {
        if ((s = advance(p)) != GG_OK) return s;
        continue;
      }
      if (p->lx.tok.kind == TOK_RPAREN) break;
      return unexpected(p, "expected ',' or ')' in the arguments");
    }
  }
  if ((s = check_call(p, call)) != GG_OK) return s;
  if ((s = check_height(p, call)) != GG_OK) return s;
  return advance(p);
}

static gg_status parse_primary(parser *p, expr_node **out) {
  token *t = &p->lx.tok;
  gg_status s;
  switch (t->kind) {
    case TOK_NUM: {
      expr_node *n = node_new(EXPR_NUM, t->column);
      if (!n) return nomem(p);
      n->mantissa = t->mantissa;
      n->unit = t->unit;
      n->unit_kind = t->unit_kind;
      n->value = t->mantissa * t->factor;
      *out = n;
      return advance(p);
    }
    case TOK_STR: {
      expr_node *n = node_new(EXPR_STR, t->column);
      if (!n) return nomem(p);
      n->text = t->str;
      t->str = NULL;
      *out = n;
      return advance(p);
    }
    case TOK_LPAREN: {
      int open = t->column;
      if (++p->depth > EXPR_DEPTH_MAX) return fail_at(p, t->column, "expression nested too deeply");
      if ((s = advance(p)) != GG_OK) return s;
      if ((s = parse_or(p, out)) != GG_OK) return s;
      p->depth--;
      if (p->lx.tok.kind != TOK_RPAREN) {
        char wanted[64];
        snprintf(wanted, sizeof wanted, "expected ')' to close '(' at column %d", open);
        return unexpected(p, wanted);
      }
      return advance(p);
    }
    case TOK_NAME: {
      expr_node *n = node_new(EXPR_SELECTOR, t->column);
      if (!n) return nomem(p);
      *out = n;
      n->text = strndup(t->start, t->len);
      if (!n->text) return nomem(p);
      size_t len = t->len;
      if ((s = advance(p)) != GG_OK) return s;
      if (p->lx.tok.kind == TOK_LPAREN) {
        n->kind = EXPR_CALL;
        n->fn = expr_function_find(n->text, len);
        if (!n->fn) {
          const char *near = expr_function_suggest(n->text, len);
          if (p->col) *p->col = n->column;
          if (near)
            return gg_error_set(p->err, GG_ERR_EXPR, "unknown function '%s' (did you mean '%s'?)", n->text,
                                near);
          return gg_error_set(p->err, GG_ERR_EXPR, "unknown function '%s'", n->text);
        }
        if (++p->depth > EXPR_DEPTH_MAX) return fail_at(p, p->lx.tok.column, "expression nested too deeply");
        s = parse_call(p, n);
        p->depth--;
        return s;
      }
      if (p->lx.tok.kind == TOK_LBRACE) return parse_matchers(p, n);
      return GG_OK;
    }
    case TOK_EOF:
      return fail_at(p, t->column, "unexpected end of expression");
    default:
      return unexpected(p, "expected a number, string, name or '('");
  }
}

typedef gg_status (*parse_fn)(parser *p, expr_node **out);

/* A prefix operator at the current token (unary minus, not): a node of `kind` whose one child
 * is parsed by `operand`. */
static gg_status parse_prefix(parser *p, expr_kind kind, parse_fn operand, expr_node **out) {
  expr_node *n = node_new(kind, p->lx.tok.column);
  if (!n) return nomem(p);
  *out = n;
  if (++p->depth > EXPR_DEPTH_MAX) return fail_at(p, p->lx.tok.column, "expression nested too deeply");
  gg_status s = advance(p);
  if (s != GG_OK) return s;
  expr_node *kid = NULL;
  s = operand(p, &kid);
  if (kid && add_kid(n, kid) != GG_OK) {
    expr_free(kid);
    return nomem(p);
  }
  p->depth--;
  return s == GG_OK ? check_height(p, n) : s;
}

/* A left-associative chain `next (op next)*`; op_of says which tokens are its operators. */
static gg_status parse_chain(parser *p, parse_fn next, bool (*op_of)(tok_kind k, expr_op *op),
                             expr_node **out) {
  gg_status s = next(p, out);
  expr_op op;
  while (s == GG_OK && op_of(p->lx.tok.kind, &op)) {
    int column = p->lx.tok.column;
    if ((s = advance(p)) != GG_OK) return s;
    expr_node *rhs = NULL;
    s = next(p, &rhs);
    gg_status m = make_binary(p, op, column, out, rhs);
    if (m != GG_OK) return m;
  }
  return s;
}

static gg_status parse_unary(parser *p, expr_node **out) {
  if (p->lx.tok.kind == TOK_MINUS) return parse_prefix(p, EXPR_NEG, parse_unary, out);
  if (p->lx.tok.kind == TOK_NOT) return unexpected(p, "'not' needs parentheses here: -(not x) or (not x)");
  return parse_primary(p, out);
}

static bool prod_op(tok_kind k, expr_op *op) {
  switch (k) {
    case TOK_STAR:
      *op = EXPR_OP_MUL;
      return true;
    case TOK_SLASH:
      *op = EXPR_OP_DIV;
      return true;
    case TOK_PERCENT:
      *op = EXPR_OP_MOD;
      return true;
    default:
      return false;
  }
}

static gg_status parse_prod(parser *p, expr_node **out) {
  return parse_chain(p, parse_unary, prod_op, out);
}

static bool sum_op(tok_kind k, expr_op *op) {
  switch (k) {
    case TOK_PLUS:
      *op = EXPR_OP_ADD;
      return true;
    case TOK_MINUS:
      *op = EXPR_OP_SUB;
      return true;
    default:
      return false;
  }
}

static gg_status parse_sum(parser *p, expr_node **out) {
  return parse_chain(p, parse_prod, sum_op, out);
}

static bool cmp_op(tok_kind k, expr_op *op) {
  switch (k) {
    case TOK_LT:
      *op = EXPR_OP_LT;
      return true;
    case TOK_LE:
      *op = EXPR_OP_LE;
      return true;
    case TOK_GT:
      *op = EXPR_OP_GT;
      return true;
    case TOK_GE:
      *op = EXPR_OP_GE;
      return true;
    case TOK_EQEQ:
      *op = EXPR_OP_EQ;
      return true;
    case TOK_NE:
      *op = EXPR_OP_NE;
      return true;
    default:
      return false;
  }
}

static gg_status parse_cmp(parser *p, expr_node **out) {
  gg_status s = parse_sum(p, out);
  if (s != GG_OK) return s;
  expr_op op;
  if (p->lx.tok.kind == TOK_ASSIGN) return fail_at(p, p->lx.tok.column, "unexpected '=' (compare with '==')");
  if (!cmp_op(p->lx.tok.kind, &op)) return GG_OK;
  int column = p->lx.tok.column;
  if ((s = advance(p)) != GG_OK) return s;
  expr_node *rhs = NULL;
  s = parse_sum(p, &rhs);
  gg_status m = make_binary(p, op, column, out, rhs);
  if (m != GG_OK) return m;
  if (s != GG_OK) return s;
  expr_op again;
  if (cmp_op(p->lx.tok.kind, &again))
    return fail_at(p, p->lx.tok.column, "comparisons cannot be chained: combine them with 'and'");
  return GG_OK;
}

static gg_status parse_not(parser *p, expr_node **out) {
  if (p->lx.tok.kind != TOK_NOT) return parse_cmp(p, out);
  return parse_prefix(p, EXPR_NOT, parse_not, out);
}

static bool and_op(tok_kind k, expr_op *op) {
  *op = EXPR_OP_AND;
  return k == TOK_AND;
}

static gg_status parse_and(parser *p, expr_node **out) {
  return parse_chain(p, parse_not, and_op, out);
}

static bool or_op(tok_kind k, expr_op *op) {
  *op = EXPR_OP_OR;
  return k == TOK_OR;
}

static gg_status parse_or(parser *p, expr_node **out) {
  return parse_chain(p, parse_and, or_op, out);
}

gg_status expr_parse(const char *text, expr_node **out, int *err_column, gg_error *err) {
  *out = NULL;
  int col_sink = 0;
  parser p = {.depth = 0, .col = err_column ? err_column : &col_sink, .err = err};
  *p.col = 0;
  if (!text) text = "";
  if (strlen(text) > EXPR_TEXT_MAX) {
    *p.col = 1;
    return gg_error_set(err, GG_ERR_EXPR, "expression longer than %u bytes", EXPR_TEXT_MAX);
  }
  expr_lexer_init(&p.lx, text);
  expr_node *root = NULL;
  gg_status s = advance(&p);
  if (s == GG_OK && p.lx.tok.kind == TOK_EOF) {
    *p.col = p.lx.tok.column;
    s = gg_error_set(err, GG_ERR_EXPR, "empty expression");
  }
  if (s == GG_OK) s = parse_or(&p, &root);
  if (s == GG_OK && p.lx.tok.kind != TOK_EOF) s = unexpected(&p, "expected an operator or the end");
  expr_lexer_release(&p.lx);
  if (s != GG_OK) {
    expr_free(root);
    return s;
  }
  *out = root;
  return GG_OK;
}

/* ---- read-only access ---- */

expr_kind expr_node_kind(const expr_node *n) {
  return n->kind;
}
int expr_node_column(const expr_node *n) {
  return n->column;
}
double expr_node_number(const expr_node *n) {
  return n->value;
}
char expr_node_unit_kind(const expr_node *n) {
  return n->unit_kind;
}
const char *expr_node_text(const expr_node *n) {
  return n->text;
}
void expr_node_selector(const expr_node *n, expr_selector *sel) {
  sel->name = n->text;
  sel->matchers = n->matchers;
  sel->n_matchers = n->n_matchers;
}
expr_op expr_node_op(const expr_node *n) {
  return n->op;
}
size_t expr_node_child_count(const expr_node *n) {
  return n->n_kids;
}
const expr_node *expr_node_child(const expr_node *n, size_t i) {
  return i < n->n_kids ? n->kids[i] : NULL;
}

static bool walk(const expr_node *n, bool (*fn)(const expr_node *, void *), void *user) {
  if (!fn(n, user)) return false;
  for (size_t i = 0; i < n->n_kids; i++)
    if (!walk(n->kids[i], fn, user)) return false;
  return true;
}

void expr_walk(const expr_node *n, bool (*fn)(const expr_node *node, void *user), void *user) {
  if (n) walk(n, fn, user);
}

static bool str_eq(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcmp(a, b) == 0;
}

bool expr_equal(const expr_node *a, const expr_node *b) {
  if (!a || !b) return a == b;
  if (a->kind != b->kind || a->n_kids != b->n_kids || a->n_matchers != b->n_matchers) return false;
  switch (a->kind) {
    case EXPR_NUM:
      if (a->mantissa != b->mantissa || a->value != b->value || !str_eq(a->unit, b->unit)) return false;
      break;
    case EXPR_BINARY:
      if (a->op != b->op) return false;
      break;
    default:
      break;
  }
  if (!str_eq(a->text, b->text)) return false;
  for (size_t i = 0; i < a->n_matchers; i++) {
    if (a->matchers[i].op != b->matchers[i].op || !str_eq(a->matchers[i].label, b->matchers[i].label) ||
        !str_eq(a->matchers[i].value, b->matchers[i].value))
      return false;
  }
  for (size_t i = 0; i < a->n_kids; i++)
    if (!expr_equal(a->kids[i], b->kids[i])) return false;
  return true;
}
