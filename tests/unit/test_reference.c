/* The plan reference (docs/plan-reference.md) documents everything the code knows: every key
 * of every table the plan loader checks a mapping against, every built-in series, every
 * function of the expression language, every action kind, criterion kind, rule outcome and
 * journal event kind. The lists come from the code's own tables, so a key, series, function or
 * action added without its line in the reference fails here, naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "expr/expr.h"
#include "journal/journal.h"
#include "plan/plan.h"

#define MAX_SITES 256

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open '%s'\n", path);
    return NULL;
  }
  gg_buf b;
  gg_buf_init(&b, 16u << 20);
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (gg_buf_append(&b, chunk, n) != GG_OK) break;
  fclose(f);
  char *s = strdup(gg_buf_str(&b));
  gg_buf_release(&b);
  return s;
}

static char *reference(void) {
  char *s = read_text(GONOGO_SOURCE_DIR "/docs/plan-reference.md");
  assert_non_null(s);
  return s;
}

/* Whether the reference names `name` in backticks, alone or as a call (`name(`). */
static bool documented(const char *ref, const char *name, bool call) {
  char a[160], b[160];
  snprintf(a, sizeof a, "`%s`", name);
  snprintf(b, sizeof b, "`%s(", name);
  return strstr(ref, a) || (call && strstr(ref, b));
}

static int missing_from(const char *ref, const char *what, const char *const *names, size_t n, bool call) {
  int missing = 0;
  for (size_t i = 0; i < n; i++) {
    if (documented(ref, names[i], call)) continue;
    fprintf(stderr, "docs/plan-reference.md does not document the %s `%s`\n", what, names[i]);
    missing++;
  }
  return missing;
}

/* ---- plan keys ---- */

typedef struct {
  char *sites[MAX_SITES];
  size_t nsites;
  const char *ref;
  int missing;
} key_walk;

static void on_keys(void *ctx, const char *site, const char *where, const char *const *keys, size_t n) {
  key_walk *w = ctx;
  const char *base = strrchr(site, '/');
  base = base ? base + 1 : site;
  bool seen = false;
  for (size_t i = 0; i < w->nsites && !seen; i++) seen = strcmp(w->sites[i], base) == 0;
  if (!seen && w->nsites < MAX_SITES) w->sites[w->nsites++] = strdup(base);
  if (seen) return;
  for (size_t i = 0; i < n; i++) {
    if (documented(w->ref, keys[i], false)) continue;
    fprintf(stderr, "docs/plan-reference.md does not document the key `%s` of %s (%s)\n", keys[i], where,
            base);
    w->missing++;
  }
}

/* Every "plan_load_check_keys(" call in the loader's files, as "file.c:LINE". */
static size_t call_sites(char **out, size_t cap) {
  static const char *const files[] = {"actions.c", "connect.c", "criteria.c", "fields.c",  "load.c",
                                      "monitor.c", "phases.c",  "sections.c", "topology.c"};
  size_t n = 0;
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    char path[512];
    snprintf(path, sizeof path, "%s/src/plan/%s", GONOGO_SOURCE_DIR, files[f]);
    char *text = read_text(path);
    if (!text) continue;
    int line = 1;
    for (char *p = text; *p; p++) {
      if (*p == '\n') line++;
      if (strncmp(p, "plan_load_check_keys(", 21) == 0 && n < cap) {
        char site[128];
        snprintf(site, sizeof site, "%s:%d", files[f], line);
        out[n++] = strdup(site);
      }
    }
    free(text);
  }
  return n;
}

static void test_every_plan_key(void **state) {
  (void)state;
  char *ref = reference();
  key_walk w = {.ref = ref};
  char *text = read_text(GONOGO_SOURCE_DIR "/tests/unit/plans/reference.yaml");
  assert_non_null(text);
  plan_load_opts opts = {.on_keys = on_keys, .ctx = &w};
  plan_diags d;
  plan_diags_init(&d);
  gg_error err;
  gg_error_clear(&err);
  plan *p = NULL;
  gg_status st = plan_load_buffer("reference.yaml", text, strlen(text), &opts, &p, &d, &err);
  (void)st; /* the keys are what matters, not whether the file is a valid plan */
  plan_free(p);
  plan_diags_release(&d);
  free(text);

  char *sites[MAX_SITES];
  size_t n = call_sites(sites, MAX_SITES);
  assert_true(n >= 20);
  int unreached = 0;
  for (size_t i = 0; i < n; i++) {
    bool seen = false;
    for (size_t k = 0; k < w.nsites && !seen; k++) seen = strcmp(w.sites[k], sites[i]) == 0;
    if (!seen) {
      fprintf(stderr, "tests/unit/plans/reference.yaml does not reach the key table checked at src/plan/%s\n",
              sites[i]);
      unreached++;
    }
    free(sites[i]);
  }
  for (size_t i = 0; i < w.nsites; i++) free(w.sites[i]);
  free(ref);
  assert_int_equal(unreached, 0);
  assert_int_equal(w.missing, 0);
}

/* ---- series, functions, actions, words, journal kinds ---- */

static void test_every_series(void **state) {
  (void)state;
  char *ref = reference();
  size_t n = 0;
  const expr_series_info *s = expr_series_builtin(&n);
  assert_true(n > 40);
  int missing = 0;
  for (size_t i = 0; i < n; i++) missing += missing_from(ref, "series", &s[i].name, 1, false);
  free(ref);
  assert_int_equal(missing, 0);
}

static void test_every_function(void **state) {
  (void)state;
  char *ref = reference();
  const char *const *names = expr_function_names();
  size_t n = 0;
  while (names[n]) n++;
  assert_true(n > 20);
  int missing = missing_from(ref, "function", names, n, true);
  free(ref);
  assert_int_equal(missing, 0);
}

static void test_every_action_and_word(void **state) {
  (void)state;
  char *ref = reference();
  int missing = 0;
  for (int k = 0; k < PLAN_ACT_COUNT; k++) {
    const char *name = plan_action_kind_name((plan_action_kind)k);
    missing += missing_from(ref, "action", &name, 1, false);
  }
  for (int k = 0; k < PLAN_CRIT_COUNT; k++) {
    const char *name = plan_crit_kind_name((plan_crit_kind)k);
    missing += missing_from(ref, "criterion kind", &name, 1, false);
  }
  for (int k = 0; k < PLAN_THEN_COUNT; k++) {
    const char *name = plan_then_name((plan_then)k);
    missing += missing_from(ref, "rule outcome", &name, 1, false);
  }
  for (int k = 0; k < PLAN_OUTCOME_COUNT; k++) {
    const char *name = plan_outcome_name((plan_outcome)k);
    missing += missing_from(ref, "no-go outcome", &name, 1, false);
  }
  for (int k = 0; k < PLAN_ON_FAILURE_COUNT; k++) {
    const char *name = plan_on_failure_name((plan_on_failure)k);
    missing += missing_from(ref, "on_failure value", &name, 1, false);
  }
  for (int k = 0; k < JOURNAL_KIND_COUNT; k++) {
    const char *name = journal_kind_name((journal_kind)k);
    missing += missing_from(ref, "journal event kind", &name, 1, false);
  }
  free(ref);
  assert_int_equal(missing, 0);
}

/* Every relative link of the README and the docs names a file of the repository. */
static void test_links_resolve(void **state) {
  (void)state;
  static const char *const pages[] = {"README.md", "docs/DESIGN.md", "docs/ARCHITECTURE.md",
                                      "docs/plan-reference.md", "examples/athlete-ally/README.md"};
  int broken = 0, links = 0;
  for (size_t f = 0; f < sizeof pages / sizeof pages[0]; f++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", GONOGO_SOURCE_DIR, pages[f]);
    char *text = read_text(path);
    assert_non_null(text);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    for (char *p = strstr(text, "]("); p; p = strstr(p + 2, "](")) {
      char *end = strchr(p + 2, ')');
      if (!end) break;
      size_t len = (size_t)(end - (p + 2));
      char target[512];
      if (len == 0 || len >= sizeof target) continue;
      memcpy(target, p + 2, len);
      target[len] = 0;
      if (strstr(target, "://") || strncmp(target, "mailto:", 7) == 0 || target[0] == '#') continue;
      char *hash = strchr(target, '#');
      if (hash) *hash = 0;
      char full[2048];
      snprintf(full, sizeof full, "%s/%s", dir, target);
      links++;
      FILE *probe = fopen(full, "rb");
      if (probe) {
        fclose(probe);
        continue;
      }
      fprintf(stderr, "%s links to '%s', which is not in the repository\n", pages[f], target);
      broken++;
    }
    free(text);
  }
  assert_true(links >= 8);
  assert_int_equal(broken, 0);
}

/* The check itself can fail: a name the reference lacks is reported. */
static void test_check_can_fail(void **state) {
  (void)state;
  char *ref = reference();
  const char *bogus = "no_such_key_anywhere";
  assert_int_equal(missing_from(ref, "key", &bogus, 1, false), 1);
  free(ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_plan_key), cmocka_unit_test(test_every_series),
      cmocka_unit_test(test_every_function), cmocka_unit_test(test_every_action_and_word),
      cmocka_unit_test(test_check_can_fail), cmocka_unit_test(test_links_resolve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
