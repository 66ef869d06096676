/*
 * print.c: the canonical text of an AST, and the caret line for error reports.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "expr/internal.h"

const char *expr_op_text(expr_op op) {
  switch (op) {
    case EXPR_OP_OR:
      return "or";
    case EXPR_OP_AND:
      return "and";
    case EXPR_OP_LT:
      return "<";
    case EXPR_OP_LE:
      return "<=";
    case EXPR_OP_GT:
      return ">";
    case EXPR_OP_GE:
      return ">=";
    case EXPR_OP_EQ:
      return "==";
    case EXPR_OP_NE:
      return "!=";
    case EXPR_OP_ADD:
      return "+";
    case EXPR_OP_SUB:
      return "-";
    case EXPR_OP_MUL:
      return "*";
    case EXPR_OP_DIV:
      return "/";
    case EXPR_OP_MOD:
      return "%";
  }
  return "?";
}

/* Binding strength of each level of the grammar; a child weaker than its slot needs
 * parentheses. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_SUM, P_PROD, P_NEG, P_PRIMARY };

static int op_prec(expr_op op) {
  switch (op) {
    case EXPR_OP_OR:
      return P_OR;
    case EXPR_OP_AND:
      return P_AND;
    case EXPR_OP_ADD:
    case EXPR_OP_SUB:
      return P_SUM;
    case EXPR_OP_MUL:
    case EXPR_OP_DIV:
    case EXPR_OP_MOD:
      return P_PROD;
    default:
      return P_CMP;
  }
}

static int node_prec(const expr_node *n) {
  switch (n->kind) {
    case EXPR_BINARY:
      return op_prec(n->op);
    case EXPR_NOT:
      return P_NOT;
    case EXPR_NEG:
      return P_NEG;
    default:
      return P_PRIMARY;
  }
}

static gg_status put_number(gg_buf *b, double v) {
  char tmp[40];
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(tmp, sizeof tmp, "%.0f", v);
    return gg_buf_puts(b, tmp);
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v) break;
  }
  return gg_buf_puts(b, tmp);
}

static gg_status put_string(gg_buf *b, const char *s) {
  gg_status st = gg_buf_puts(b, "\"");
  for (; st == GG_OK && *s; s++) {
    switch (*s) {
      case '"':
        st = gg_buf_puts(b, "\\\"");
        break;
      case '\\':
        st = gg_buf_puts(b, "\\\\");
        break;
      case '\n':
        st = gg_buf_puts(b, "\\n");
        break;
      case '\t':
        st = gg_buf_puts(b, "\\t");
        break;
      default:
        st = gg_buf_append(b, s, 1);
        break;
    }
  }
  if (st == GG_OK) st = gg_buf_puts(b, "\"");
  return st;
}

static const char *match_text(expr_match_op op) {
  switch (op) {
    case EXPR_MATCH_EQ:
      return "=";
    case EXPR_MATCH_NE:
      return "!=";
    case EXPR_MATCH_RE:
      return "=~";
    case EXPR_MATCH_NOT_RE:
      return "!~";
  }
  return "=";
}

static gg_status put_node(gg_buf *b, const expr_node *n, int min) {
  int prec = node_prec(n);
  bool paren = prec < min;
  gg_status s = GG_OK;
  if (paren) s = gg_buf_puts(b, "(");
  switch (n->kind) {
    case EXPR_NUM:
      if (s == GG_OK) s = put_number(b, n->mantissa);
      if (s == GG_OK && n->unit) s = gg_buf_puts(b, n->unit);
      break;
    case EXPR_STR:
      if (s == GG_OK) s = put_string(b, n->text);
      break;
    case EXPR_SELECTOR:
      if (s == GG_OK) s = gg_buf_puts(b, n->text);
      for (size_t i = 0; s == GG_OK && i < n->n_matchers; i++) {
        s = gg_buf_printf(b, "%s%s%s", i ? ", " : "{", n->matchers[i].label, match_text(n->matchers[i].op));
        if (s == GG_OK) s = put_string(b, n->matchers[i].value);
      }
      if (s == GG_OK && n->n_matchers) s = gg_buf_puts(b, "}");
      break;
    case EXPR_CALL:
      if (s == GG_OK) s = gg_buf_printf(b, "%s(", n->text);
      for (size_t i = 0; s == GG_OK && i < n->n_kids; i++) {
        if (i) s = gg_buf_puts(b, ", ");
        if (s == GG_OK) s = put_node(b, n->kids[i], P_OR);
      }
      if (s == GG_OK) s = gg_buf_puts(b, ")");
      break;
    case EXPR_NEG:
      if (s == GG_OK) s = gg_buf_puts(b, "-");
      if (s == GG_OK) s = put_node(b, n->kids[0], P_NEG);
      break;
    case EXPR_NOT:
      if (s == GG_OK) s = gg_buf_puts(b, "not ");
      if (s == GG_OK) s = put_node(b, n->kids[0], P_NOT);
      break;
    case EXPR_BINARY: {
      /* Left-associative levels take an equal-strength left child; comparisons do not
       * chain, so both of their children must be sums. */
      int lmin = prec == P_CMP ? P_SUM : prec;
      int rmin = prec == P_CMP ? P_SUM : prec + 1;
      if (s == GG_OK) s = put_node(b, n->kids[0], lmin);
      if (s == GG_OK) s = gg_buf_printf(b, " %s ", expr_op_text(n->op));
      if (s == GG_OK) s = put_node(b, n->kids[1], rmin);
      break;
    }
  }
  if (s == GG_OK && paren) s = gg_buf_puts(b, ")");
  return s;
}

char *expr_print(const expr_node *node) {
  gg_buf b;
  gg_buf_init(&b, 0);
  if (node && put_node(&b, node, P_OR) != GG_OK) {
    gg_buf_release(&b);
    return NULL;
  }
  return gg_buf_detach(&b);
}

const char *expr_node_quote(const expr_node *n, char *out, size_t size) {
  char *text = expr_print(n);
  if (!text) {
    snprintf(out, size, "?");
    return out;
  }
  size_t len = strlen(text);
  if (len >= size && size > 4) {
    snprintf(out, size, "%.*s...", (int)(size - 4), text);
  } else {
    snprintf(out, size, "%s", text);
  }
  free(text);
  return out;
}

char *expr_caret(const char *text, int column, char *out, size_t n) {
  if (n == 0) return out;
  out[0] = '\0';
  if (!text) text = "";
  size_t len = strlen(text);
  size_t at = column > 0 ? (size_t)column - 1 : 0;
  if (at > len) at = len;
  /* Show the line that holds the column (plans may fold an expression over lines). */
  size_t start = at;
  while (start > 0 && text[start - 1] != '\n') start--;
  size_t end = at;
  while (end < len && text[end] != '\n') end++;
  size_t w = 0;
  for (size_t i = start; i < end && w + 1 < n; i++) out[w++] = text[i];
  if (w + 1 < n) out[w++] = '\n';
  /* Tabs are copied so the caret lines up however the terminal expands them. */
  for (size_t i = start; i < at && w + 1 < n; i++) out[w++] = text[i] == '\t' ? '\t' : ' ';
  if (w + 1 < n) out[w++] = '^';
  out[w] = '\0';
  return out;
}
