/*
 * gate/history.h without a network: when a history is enough for a window (the journal has
 * enough, not enough, a stale or gappy stretch), which candidate the chain reads (journal,
 * Prometheus, the longest partial, two fresh samples, nothing) and that a check item says
 * where its history came from.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "gate/gate.h"
#include "gate/history.h"
#include "journal/journal.h"
#include "plan/plan.h"

#define NOW 1800000000.0

/* One series labelled {target="t"}: n points every `step` seconds, the newest `age` old. */
static void series(expr_matrix *m, const char *target, size_t n, double step, double age) {
  expr_labels l = {0};
  assert_int_equal(expr_labels_set(&l, "target", target), GG_OK);
  expr_point *p = calloc(n + 1, sizeof *p);
  for (size_t i = 0; i < n; i++) p[i] = (expr_point){NOW - age - (double)(n - 1 - i) * step, (double)i};
  assert_int_equal(expr_matrix_add(m, &l, p, n), GG_OK);
  free(p);
  expr_labels_release(&l);
}

static gate_history_cover judge(size_t n, double step, double age, double window, expr_history_use use) {
  expr_matrix m;
  memset(&m, 0, sizeof m);
  series(&m, "a", n, step, age);
  gate_history_fit f = gate_history_judge(&m, window, NOW, use);
  expr_matrix_release(&m);
  return f.cover;
}

/* Sampled every 15 s for 10 minutes: a 10m window is covered (within two steps), 5m too. */
static void test_judge_enough(void **state) {
  (void)state;
  assert_int_equal(judge(41, 15, 5, 600, EXPR_HISTORY_CHANGE), GATE_HISTORY_COVERS);
  assert_int_equal(judge(41, 15, 5, 600, EXPR_HISTORY_OVER_TIME), GATE_HISTORY_COVERS);
  assert_int_equal(judge(21, 15, 5, 300, EXPR_HISTORY_CHANGE), GATE_HISTORY_COVERS);
  /* 39 of a 40-step window is within the slack of two steps. */
  assert_int_equal(judge(39, 15, 5, 600, EXPR_HISTORY_OVER_TIME), GATE_HISTORY_COVERS);
}

/* Two minutes of a 1h window: a recent partial stretch for a rate, never for *_over_time;
 * too few points, too short or too old is nothing. */
static void test_judge_not_enough(void **state) {
  (void)state;
  assert_int_equal(judge(9, 15, 5, 3600, EXPR_HISTORY_CHANGE), GATE_HISTORY_PARTIAL);
  assert_int_equal(judge(9, 15, 5, 3600, EXPR_HISTORY_OVER_TIME), GATE_HISTORY_NONE);
  assert_int_equal(judge(4, 15, 5, 3600, EXPR_HISTORY_CHANGE), GATE_HISTORY_NONE);   /* < 5 points */
  assert_int_equal(judge(5, 0.5, 0, 3600, EXPR_HISTORY_CHANGE), GATE_HISTORY_NONE);  /* 2 s < 3 s */
  assert_int_equal(judge(9, 15, 600, 3600, EXPR_HISTORY_CHANGE), GATE_HISTORY_NONE); /* 10 min old */
  /* A watcher stopped an hour ago does not cover the last 5 minutes. */
  assert_int_equal(judge(100, 15, 3600, 300, EXPR_HISTORY_CHANGE), GATE_HISTORY_NONE);
  assert_int_equal(judge(1, 15, 0, 300, EXPR_HISTORY_CHANGE), GATE_HISTORY_NONE);
  expr_matrix m;
  memset(&m, 0, sizeof m);
  gate_history_fit f = gate_history_judge(&m, 300, NOW, EXPR_HISTORY_CHANGE);
  assert_int_equal(f.cover, GATE_HISTORY_NONE);
}

/* *_over_time must have observed the whole window: an hour's hole in a day is not enough,
 * for a rate (the counter's ends) it is. */
static void test_judge_gap(void **state) {
  (void)state;
  expr_matrix m;
  memset(&m, 0, sizeof m);
  expr_labels l = {0};
  expr_point p[3] = {{NOW - 86400, 1}, {NOW - 3 * 3600, 2}, {NOW - 60, 3}};
  assert_int_equal(expr_matrix_add(&m, &l, p, 3), GG_OK);
  assert_int_equal(gate_history_judge(&m, 86400, NOW, EXPR_HISTORY_OVER_TIME).cover, GATE_HISTORY_NONE);
  expr_matrix_release(&m);
  memset(&m, 0, sizeof m);
  for (int i = 0; i < 100; i++) {
    expr_point q[2] = {{NOW - 86400 + i * 864.0, 1}, {NOW - 86400 + i * 864.0 + 432, 1}};
    expr_labels li = {0};
    char name[16];
    snprintf(name, sizeof name, "s%d", i);
    assert_int_equal(expr_labels_set(&li, "s", name), GG_OK);
    assert_int_equal(expr_matrix_add(&m, &li, q, 2), GG_OK);
    expr_labels_release(&li);
  }
  /* Many short series together span the day: coverage is judged on all of them. */
  gate_history_fit f = gate_history_judge(&m, 86400, NOW, EXPR_HISTORY_CHANGE);
  assert_int_equal(f.series, 100);
  assert_true(f.span > 85000);
  expr_matrix_release(&m);
}

/* ---- the chain, with fake candidates ---- */

typedef struct {
  size_t n;    /* points, 0: none */
  double step; /* seconds */
  gg_status status;
  int calls;
} fake_hist;

static gg_status fake_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                            const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  (void)sel;
  (void)window;
  (void)use;
  (void)ctx;
  fake_hist *h = user;
  h->calls++;
  if (h->status != GG_OK) return gg_error_set(err, h->status, "GET http://prom/api/v1/query: refused");
  if (h->n) series(out, "t", h->n, h->step, 1);
  return GG_OK;
}

static int fresh_calls;

static gg_status fake_fresh(void *user, const expr_selector *sel, expr_matrix *out, gg_error *err) {
  (void)user;
  (void)sel;
  (void)err;
  fresh_calls++;
  series(out, "t", 2, GATE_RATE_GAP, 0);
  out->range_start = NOW - GATE_RATE_GAP;
  out->range_end = NOW;
  return GG_OK;
}

typedef struct {
  fake_hist journal, prom;
  expr_history_source js, ps;
  gate_history_chain chain;
} fixture;

static void fixture_init(fixture *f, size_t jn, double jstep, size_t pn, double pstep, bool fresh) {
  memset(f, 0, sizeof *f);
  f->journal = (fake_hist){.n = jn, .step = jstep};
  f->prom = (fake_hist){.n = pn, .step = pstep};
  f->js = (expr_history_source){.range = fake_range, .user = &f->journal};
  f->ps = (expr_history_source){.range = fake_range, .user = &f->prom};
  f->chain.cand[0] = (gate_history_candidate){"journal samples", &f->js};
  f->chain.cand[1] = (gate_history_candidate){"prometheus", &f->ps};
  f->chain.n = 2;
  if (fresh) f->chain.fresh = fake_fresh;
  fresh_calls = 0;
}

static gg_status chain_read(fixture *f, double window, expr_history_use use, expr_matrix *m, char *origin,
                            gg_error *err) {
  expr_ctx ctx;
  expr_ctx_init(&ctx);
  ctx.now = NOW;
  expr_selector sel = {.name = "x"};
  memset(m, 0, sizeof *m);
  gg_error_clear(err);
  return gate_history_read(&f->chain, &sel, window, use, &ctx, m, origin, 160, err);
}

/* The journal has enough: read it over the window, Prometheus and the fresh pair untouched. */
static void test_chain_journal_enough(void **state) {
  (void)state;
  fixture f;
  fixture_init(&f, 41, 15, 301, 1, true);
  expr_matrix m;
  char origin[160];
  gg_error err;
  assert_int_equal(chain_read(&f, 600, EXPR_HISTORY_CHANGE, &m, origin, &err), GG_OK);
  assert_string_equal(origin, "journal samples, 41 points over 10m");
  assert_int_equal(f.prom.calls, 0);
  assert_int_equal(fresh_calls, 0);
  assert_true(m.range_start == NOW - 600 && m.range_end == NOW);
  expr_matrix_release(&m);
}

/* The journal has not enough and Prometheus has: Prometheus. */
static void test_chain_prometheus_has(void **state) {
  (void)state;
  fixture f;
  fixture_init(&f, 9, 15, 301, 1, true);
  expr_matrix m;
  char origin[160];
  gg_error err;
  assert_int_equal(chain_read(&f, 300, EXPR_HISTORY_CHANGE, &m, origin, &err), GG_OK);
  assert_string_equal(origin, "prometheus, 301 points over 5m");
  assert_int_equal(fresh_calls, 0);
  expr_matrix_release(&m);
  /* Neither covers an hour: the longer recent stretch stands for it, over its own span. */
  fixture_init(&f, 9, 15, 301, 1, true);
  assert_int_equal(chain_read(&f, 3600, EXPR_HISTORY_CHANGE, &m, origin, &err), GG_OK);
  assert_string_equal(origin, "prometheus, 301 points over 5m, not 1h");
  assert_true(m.range_end - m.range_start == 300);
  assert_int_equal(fresh_calls, 0);
  expr_matrix_release(&m);
  /* *_over_time has no partial answer. */
  fixture_init(&f, 9, 15, 301, 1, true);
  assert_int_equal(chain_read(&f, 3600, EXPR_HISTORY_OVER_TIME, &m, origin, &err), GG_ERR_NO_DATA);
  assert_non_null(strstr(gg_error_message(&err), "insufficient history: have 5m of 1h"));
  expr_matrix_release(&m);
}

/* Nothing: a rate takes two fresh samples, *_over_time is ERROR; an unreachable Prometheus only
 * moves on, and is named. */
static void test_chain_nothing_fresh(void **state) {
  (void)state;
  fixture f;
  fixture_init(&f, 0, 15, 0, 1, true);
  f.prom.status = GG_ERR_IO;
  expr_matrix m;
  char origin[160];
  gg_error err;
  assert_int_equal(chain_read(&f, 300, EXPR_HISTORY_CHANGE, &m, origin, &err), GG_OK);
  assert_string_equal(origin, "3s of fresh samples, not 5m");
  assert_int_equal(fresh_calls, 1);
  assert_int_equal(f.journal.calls, 1);
  assert_int_equal(f.prom.calls, 1);
  expr_matrix_release(&m);
  assert_int_equal(chain_read(&f, 86400, EXPR_HISTORY_OVER_TIME, &m, origin, &err), GG_ERR_NO_DATA);
  assert_string_equal(
      gg_error_message(&err),
      "insufficient history: have 0s of 1d (prometheus: GET http://prom/api/v1/query: refused)");
  assert_int_equal(fresh_calls, 1);
  expr_matrix_release(&m);
  /* Without fresh pairs (--no-rate-samples) a rate is ERROR too. */
  fixture_init(&f, 2, 15, 0, 1, false);
  assert_int_equal(chain_read(&f, 300, EXPR_HISTORY_CHANGE, &m, origin, &err), GG_ERR_NO_DATA);
  assert_non_null(strstr(gg_error_message(&err), "insufficient history: have 15s of 5m"));
  expr_matrix_release(&m);
}

/* ---- through gate_check: the item says where its history came from ---- */

static gg_status empty_select(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                              gg_error *err) {
  (void)user;
  (void)ctx;
  (void)out;
  (void)err;
  return strcmp(sel->name, "published") == 0 ? GG_OK : GG_ERR_NOT_FOUND;
}

static void test_check_item_names_journal(void **state) {
  (void)state;
  char dir[] = "/tmp/gg-test-gate-history-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[96];
  snprintf(path, sizeof path, "%s/j.db", dir);
  gg_clock_set_fixed(NOW);
  journal *j = NULL;
  assert_int_equal(journal_open(path, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  journal_sample s[41];
  for (int i = 0; i < 41; i++)
    s[i] = (journal_sample){
        .name = "published", .labels = "{\"stream\":\"S\"}", .time = NOW - 600 + i * 15.0, .value = i * 30.0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_samples_add(j, s, 41, &err), GG_OK);
  const char *text =
      "migration: hist\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    go:\n"
      "      - { name: Flowing, expect: 'rate(published{stream=\"S\"}, 10m) > 1' }\n"
      "      - { name: Never empty, expect: 'min_over_time(published, 1h) > 0' }\n"
      "    actions:\n"
      "      - wait: 1s\n";
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  assert_int_equal(plan_load_buffer("plan.yaml", text, strlen(text), NULL, &p, &d, &err), GG_OK);
  plan_diags_release(&d);
  expr_series_source src = {.name = "fake", .select = empty_select};
  gate_opts o = {.journal = j, .sources = &src, .n_sources = 1};
  gate_report r;
  assert_int_equal(gate_check(p, "1", &o, &r, &err), GG_OK);
  const gate_item *flowing = &r.items[0], *never = &r.items[1];
  assert_int_equal(flowing->result, GATE_PASS);
  assert_non_null(
      strstr(flowing->message, "history: published{stream=\"S\"}[10m]: journal samples, 41 points over 10m"));
  json_t *h = json_object_get(flowing->evidence, "history");
  assert_int_equal(json_array_size(h), 1);
  assert_int_equal(never->result, GATE_ERROR);
  assert_non_null(strstr(never->message, "insufficient history: have 10m of 1h"));
  gate_report_release(&r);
  plan_free(p);
  journal_close(j);
  gg_clock_clear_fixed();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_judge_enough),
      cmocka_unit_test(test_judge_not_enough),
      cmocka_unit_test(test_judge_gap),
      cmocka_unit_test(test_chain_journal_enough),
      cmocka_unit_test(test_chain_prometheus_has),
      cmocka_unit_test(test_chain_nothing_fresh),
      cmocka_unit_test(test_check_item_names_journal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
