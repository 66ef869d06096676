/*
 * matchers.c: the label matchers of a selector (=, !=, =~, !~) applied to the samples the
 * jobs returned; regular expressions are anchored, as in PromQL.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"

/* Keep only the samples of `v` from index `from` on that satisfy every matcher. */
gg_status probe_filter_matchers(const expr_selector *sel, expr_vector *v, size_t from, gg_error *err) {
  regex_t *res = sel->n_matchers ? calloc(sel->n_matchers, sizeof *res) : NULL;
  bool *compiled = sel->n_matchers ? calloc(sel->n_matchers, sizeof *compiled) : NULL;
  gg_status st = GG_OK;
  if (sel->n_matchers && (!res || !compiled)) {
    st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < sel->n_matchers; i++) {
    const expr_matcher *m = &sel->matchers[i];
    if (m->op != EXPR_MATCH_RE && m->op != EXPR_MATCH_NOT_RE) continue;
    size_t len = strlen(m->value) + 5;
    char *anchored = malloc(len);
    if (!anchored) {
      st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      goto out;
    }
    snprintf(anchored, len, "^(%s)$", m->value);
    int rc = regcomp(&res[i], anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
      st = gg_error_set(err, GG_ERR_EXPR, "invalid regular expression '%s' for label '%s'", m->value,
                        m->label);
      goto out;
    }
    compiled[i] = true;
  }
  size_t w = from;
  for (size_t r = from; r < v->n; r++) {
    bool keep = true;
    for (size_t i = 0; i < sel->n_matchers && keep; i++) {
      const expr_matcher *m = &sel->matchers[i];
      const char *have = expr_labels_get(&v->v[r].labels, m->label);
      if (!have) have = ""; /* an absent label matches "" (PromQL) */
      switch (m->op) {
        case EXPR_MATCH_EQ:
          keep = strcmp(have, m->value) == 0;
          break;
        case EXPR_MATCH_NE:
          keep = strcmp(have, m->value) != 0;
          break;
        case EXPR_MATCH_RE:
          keep = regexec(&res[i], have, 0, NULL, 0) == 0;
          break;
        case EXPR_MATCH_NOT_RE:
          keep = regexec(&res[i], have, 0, NULL, 0) != 0;
          break;
      }
    }
    if (keep)
      v->v[w++] = v->v[r];
    else
      expr_labels_release(&v->v[r].labels);
  }
  v->n = w;
out:
  for (size_t i = 0; compiled && i < sel->n_matchers; i++)
    if (compiled[i]) regfree(&res[i]);
  free(res);
  free(compiled);
  return st;
}
