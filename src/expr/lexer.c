/*
 * lexer.c: the tokens of the expression language. Columns are 1-based byte offsets.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr/internal.h"

/* The units of DESIGN §5, longest spelling first within a prefix family is not needed:
 * the lexer takes the whole run of letters and looks it up exactly. */
static const struct {
  const char *spelling;
  double factor;
  char kind;
} units[] = {
    {"ms", 0.001, 'd'},
    {"s", 1, 'd'},
    {"m", 60, 'd'},
    {"h", 3600, 'd'},
    {"d", 86400, 'd'},
    {"w", 604800, 'd'},
    {"B", 1, 's'},
    {"KB", 1e3, 's'},
    {"MB", 1e6, 's'},
    {"GB", 1e9, 's'},
    {"TB", 1e12, 's'},
    {"KiB", 1024.0, 's'},
    {"MiB", 1024.0 * 1024, 's'},
    {"GiB", 1024.0 * 1024 * 1024, 's'},
    {"TiB", 1024.0 * 1024 * 1024 * 1024, 's'},
    {"%", 0.01, '%'},
};

double expr_unit_lookup(const char *s, size_t len, const char **spelling, char *kind) {
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strlen(units[i].spelling) == len && memcmp(units[i].spelling, s, len) == 0) {
      *spelling = units[i].spelling;
      *kind = units[i].kind;
      return units[i].factor;
    }
  }
  return 0;
}

const char *expr_tok_describe(tok_kind k) {
  switch (k) {
    case TOK_EOF:
      return "end of expression";
    case TOK_NUM:
      return "number";
    case TOK_STR:
      return "string";
    case TOK_NAME:
      return "name";
    case TOK_LPAREN:
      return "'('";
    case TOK_RPAREN:
      return "')'";
    case TOK_LBRACE:
      return "'{'";
    case TOK_RBRACE:
      return "'}'";
    case TOK_COMMA:
      return "','";
    case TOK_PLUS:
      return "'+'";
    case TOK_MINUS:
      return "'-'";
    case TOK_STAR:
      return "'*'";
    case TOK_SLASH:
      return "'/'";
    case TOK_PERCENT:
      return "'%'";
    case TOK_LT:
      return "'<'";
    case TOK_LE:
      return "'<='";
    case TOK_GT:
      return "'>'";
    case TOK_GE:
      return "'>='";
    case TOK_EQEQ:
      return "'=='";
    case TOK_NE:
      return "'!='";
    case TOK_ASSIGN:
      return "'='";
    case TOK_RE:
      return "'=~'";
    case TOK_NRE:
      return "'!~'";
    case TOK_AND:
      return "'and'";
    case TOK_OR:
      return "'or'";
    case TOK_NOT:
      return "'not'";
  }
  return "token";
}

void expr_lexer_init(lexer *lx, const char *text) {
  memset(lx, 0, sizeof *lx);
  lx->text = text;
}

void expr_lexer_release(lexer *lx) {
  free(lx->tok.str);
  lx->tok.str = NULL;
}

static bool name_start(int c) {
  return isalpha(c) || c == '_';
}

static bool name_char(int c) {
  return isalnum(c) || c == '_' || c == '.' || c == ':';
}

static gg_status fail(int *col, int at, gg_error *err, const char *msg) {
  if (col) *col = at;
  return gg_error_set(err, GG_ERR_EXPR, "%s", msg);
}

static gg_status lex_number(lexer *lx, int *col, gg_error *err) {
  const char *s = lx->text + lx->pos;
  token *t = &lx->tok;
  size_t i = 0;
  while (isdigit((unsigned char)s[i])) i++;
  if (s[i] == '.') {
    i++;
    if (!isdigit((unsigned char)s[i]))
      return fail(col, t->column + (int)i, err, "expected a digit after '.'");
    while (isdigit((unsigned char)s[i])) i++;
  }
  /* An exponent only when digits follow, so that `5e` is not half a number. */
  if ((s[i] == 'e' || s[i] == 'E') &&
      (isdigit((unsigned char)s[i + 1]) ||
       ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char)s[i + 2])))) {
    i += 2;
    while (isdigit((unsigned char)s[i])) i++;
  }
  char buf[64];
  if (i >= sizeof buf) return fail(col, t->column, err, "number too long");
  memcpy(buf, s, i);
  buf[i] = '\0';
  errno = 0;
  char *end = NULL;
  double v = strtod(buf, &end);
  if (end != buf + i || errno == ERANGE || !isfinite(v))
    return fail(col, t->column, err, "number out of range");
  t->mantissa = v;
  t->unit = NULL;
  t->factor = 1;
  t->unit_kind = 0;
  /* A unit follows directly: letters, or a single '%'. */
  size_t u = i;
  if (s[u] == '%') {
    u++;
  } else {
    while (isalpha((unsigned char)s[u])) u++;
  }
  if (u > i) {
    const char *spelling = NULL;
    char kind = 0;
    double f = expr_unit_lookup(s + i, u - i, &spelling, &kind);
    if (f == 0) {
      if (col) *col = t->column + (int)i;
      return gg_error_set(err, GG_ERR_EXPR,
                          "unknown unit '%.*s' (units: ms s m h d w, B KB MB GB TB KiB MiB GiB TiB, %%)",
                          (int)(u - i), s + i);
    }
    if (kind == 'd' && isdigit((unsigned char)s[u])) {
      if (col) *col = t->column + (int)u;
      return gg_error_set(err, GG_ERR_EXPR,
                          "compound durations like '1h30m' are not supported: write one unit (90m)");
    }
    t->unit = spelling;
    t->factor = f;
    t->unit_kind = kind;
    if (!isfinite(v * f)) return fail(col, t->column, err, "number out of range");
  }
  if (name_char((unsigned char)s[u])) {
    return fail(col, t->column + (int)u, err, "unexpected character after number");
  }
  t->kind = TOK_NUM;
  t->len = u;
  lx->pos += u;
  return GG_OK;
}

static gg_status lex_string(lexer *lx, int *col, gg_error *err) {
  const char *s = lx->text + lx->pos;
  token *t = &lx->tok;
  char quote = s[0];
  size_t i = 1;
  size_t cap = 16, n = 0;
  char *out = malloc(cap);
  if (!out) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  for (;;) {
    char c = s[i];
    if (c == '\0') {
      free(out);
      return fail(col, t->column, err, "unterminated string");
    }
    if (c == quote) break;
    char put = c;
    size_t extra = 0; /* an unknown escape keeps its backslash */
    if (c == '\\') {
      char e = s[i + 1];
      if (e == '\0') {
        free(out);
        return fail(col, t->column, err, "unterminated string");
      }
      i++;
      switch (e) {
        case 'n':
          put = '\n';
          break;
        case 't':
          put = '\t';
          break;
        case '\\':
        case '"':
        case '\'':
          put = e;
          break;
        default:
          extra = 1;
          put = e;
          break;
      }
    }
    if (n + 3 > cap) {
      cap *= 2;
      char *grown = realloc(out, cap);
      if (!grown) {
        free(out);
        return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      }
      out = grown;
    }
    if (extra) out[n++] = '\\';
    out[n++] = put;
    i++;
  }
  out[n] = '\0';
  t->kind = TOK_STR;
  t->str = out;
  t->len = i + 1;
  lx->pos += i + 1;
  return GG_OK;
}

gg_status expr_lexer_next(lexer *lx, int *col, gg_error *err) {
  expr_lexer_release(lx);
  const char *text = lx->text;
  while (text[lx->pos] == ' ' || text[lx->pos] == '\t' || text[lx->pos] == '\n' || text[lx->pos] == '\r')
    lx->pos++;
  token *t = &lx->tok;
  t->column = (int)lx->pos + 1;
  t->start = text + lx->pos;
  t->len = 1;
  const char *s = t->start;
  char c = s[0];
  if (c == '\0') {
    t->kind = TOK_EOF;
    t->len = 0;
    return GG_OK;
  }
  if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[1])))
    return lex_number(lx, col, err);
  if (c == '"' || c == '\'') return lex_string(lx, col, err);
  if (name_start((unsigned char)c)) {
    size_t i = 1;
    while (name_char((unsigned char)s[i])) i++;
    t->len = i;
    t->kind = TOK_NAME;
    if (i == 3 && memcmp(s, "and", 3) == 0) t->kind = TOK_AND;
    if (i == 2 && memcmp(s, "or", 2) == 0) t->kind = TOK_OR;
    if (i == 3 && memcmp(s, "not", 3) == 0) t->kind = TOK_NOT;
    lx->pos += i;
    return GG_OK;
  }
  char d = s[1];
  switch (c) {
    case '(':
      t->kind = TOK_LPAREN;
      break;
    case ')':
      t->kind = TOK_RPAREN;
      break;
    case '{':
      t->kind = TOK_LBRACE;
      break;
    case '}':
      t->kind = TOK_RBRACE;
      break;
    case ',':
      t->kind = TOK_COMMA;
      break;
    case '+':
      t->kind = TOK_PLUS;
      break;
    case '-':
      t->kind = TOK_MINUS;
      break;
    case '*':
      t->kind = TOK_STAR;
      break;
    case '/':
      t->kind = TOK_SLASH;
      break;
    case '%':
      t->kind = TOK_PERCENT;
      break;
    case '<':
      t->kind = d == '=' ? TOK_LE : TOK_LT;
      break;
    case '>':
      t->kind = d == '=' ? TOK_GE : TOK_GT;
      break;
    case '=':
      if (d == '=') {
        t->kind = TOK_EQEQ;
      } else if (d == '~') {
        t->kind = TOK_RE;
      } else {
        t->kind = TOK_ASSIGN;
      }
      break;
    case '!':
      if (d == '=') {
        t->kind = TOK_NE;
      } else if (d == '~') {
        t->kind = TOK_NRE;
      } else {
        return fail(col, t->column, err, "unexpected '!' (did you mean 'not' or '!='?)");
      }
      break;
    case '&':
      return fail(col, t->column, err, d == '&' ? "unexpected '&&' (write 'and')" : "unexpected '&'");
    case '|':
      return fail(col, t->column, err, d == '|' ? "unexpected '||' (write 'or')" : "unexpected '|'");
    default:
      if (col) *col = t->column;
      if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        return gg_error_set(err, GG_ERR_EXPR, "unexpected character (byte 0x%02x)", (unsigned char)c);
      return gg_error_set(err, GG_ERR_EXPR, "unexpected character '%c'", c);
  }
  if (t->kind == TOK_LE || t->kind == TOK_GE || t->kind == TOK_EQEQ || t->kind == TOK_NE ||
      t->kind == TOK_RE || t->kind == TOK_NRE)
    t->len = 2;
  lx->pos += t->len;
  return GG_OK;
}
