/*
 * fuzz_expr.c: libFuzzer target for the expression parser, printer and evaluator.
 *
 * Properties checked on every input that parses: the canonical text parses back to an
 * equal tree and prints identically (the round trip), and evaluation against a small
 * in-memory source terminates without a sanitizer report. Inputs that fail must report
 * a column inside the text (or one past its end). The input is also tried as a window
 * spec, whose error position must lie within it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"

static gg_status fixed_select(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                              gg_error *err) {
  (void)user;
  (void)ctx;
  if (sel->name[0] == 'e') return GG_OK; /* names starting with 'e' have no data */
  if (sel->name[0] == 'z') return gg_error_set(err, GG_ERR_CONNECT, "connect: refused");
  if (expr_vector_add(out, 1.5, 0, "server", "n1", NULL) != GG_OK) return GG_ERR_NOMEM;
  if (expr_vector_add(out, 0, 0, "server", "n2", "zone", "b", NULL) != GG_OK) return GG_ERR_NOMEM;
  return GG_OK;
}

static gg_status fixed_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                             const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  (void)user;
  (void)sel;
  (void)use;
  (void)err;
  expr_point p[3] = {{ctx->now - window, 5}, {ctx->now - window / 2, 2}, {ctx->now, 9}};
  return expr_matrix_add(out, NULL, p, 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  size_t len = strlen(text);

  expr_node *a = NULL;
  int col = 0;
  gg_error err;
  if (expr_parse(text, &a, &col, &err) != GG_OK) {
    if (col < 1 || (size_t)col > len + 1) abort();
    char caret[256];
    expr_caret(text, col, caret, sizeof caret);
  } else {
    char *p1 = expr_print(a);
    expr_node *b = NULL;
    if (!p1 || expr_parse(p1, &b, &col, &err) != GG_OK || !expr_equal(a, b)) abort();
    char *p2 = expr_print(b);
    if (!p2 || strcmp(p1, p2) != 0) abort();
    free(p1);
    free(p2);
    expr_free(b);
    /* files_matching would read whatever directory the input names. */
    if (!strstr(text, "files_matching")) {
      static const expr_series_source src = {"fixed", fixed_select, NULL, NULL, NULL};
      static const expr_history_source hist = {fixed_range, NULL};
      expr_ctx ctx;
      expr_ctx_init(&ctx);
      ctx.now = 1795849200.0;
      ctx.sources = &src;
      ctx.n_sources = 1;
      ctx.history = &hist;
      expr_value v;
      if (expr_eval(a, &ctx, &v, &err) == GG_OK) expr_value_release(&v);
    }
    expr_free(a);
  }

  expr_window *w = NULL;
  int pos = 0;
  if (expr_window_parse(text, &w, &pos, &err) == GG_OK) {
    expr_window_free(w);
  } else if (pos < 1 || (size_t)pos > len + 1) {
    abort();
  }
  free(text);
  return 0;
}
