/* Unit tests of src/journal/series.c: the journal as a series and history source of the
 * expression evaluator, exercised through expr_eval as gate and watch will use it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal/series.h"

static char dir[64];
static journal *J;

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gg-jseries-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  char path[128];
  snprintf(path, sizeof path, "%s/j.db", dir);
  gg_clock_set_fixed(1800000000.0);
  return journal_open(path, JOURNAL_OPEN_CREATE, &J, NULL) == GG_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  journal_close(J);
  J = NULL;
  gg_clock_clear_fixed();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Evaluate text against the journal; returns the status, *out filled on GG_OK. */
static gg_status eval(const char *text, expr_value *out, gg_error *err) {
  expr_node *ast = NULL;
  gg_status s = expr_parse(text, &ast, NULL, err);
  if (s != GG_OK) fail_msg("parse '%s': %s", text, gg_error_message(err));
  expr_series_source src = journal_series_source(J);
  expr_history_source hist = journal_history_source(J);
  expr_ctx ctx;
  expr_ctx_init(&ctx);
  ctx.sources = &src;
  ctx.n_sources = 1;
  ctx.history = &hist;
  expr_value_init(out);
  s = expr_eval(ast, &ctx, out, err);
  expr_free(ast);
  return s;
}

static bool holds(const char *text) {
  expr_value v;
  gg_error err;
  gg_error_clear(&err);
  if (eval(text, &v, &err) != GG_OK) fail_msg("eval '%s': %s", text, gg_error_message(&err));
  assert_int_equal(v.kind, EXPR_VAL_BOOL);
  bool t = v.truth;
  expr_value_release(&v);
  return t;
}

static void lifecycle(journal_kind kind, const char *phase) {
  assert_int_equal(journal_append(J, kind, phase, "gonogo run", NULL, NULL, NULL), GG_OK);
}

static void test_phase_series(void **state) {
  (void)state;
  assert_true(holds("phase.completed{phase=\"1\"} == 0"));
  expr_value v;
  gg_error err;
  gg_error_clear(&err);
  /* Not completed: no age, and "no data" is an error, never a pass. */
  assert_int_equal(eval("phase.completed_age{phase=\"1\"} > 1h", &v, &err), GG_ERR_NO_DATA);

  lifecycle(JOURNAL_PHASE_STARTED, "1");
  lifecycle(JOURNAL_PHASE_COMPLETED, "1");
  lifecycle(JOURNAL_PHASE_STARTED, "2");
  gg_clock_advance(2 * 3600);
  assert_true(holds("phase.completed{phase=\"1\"} == 1"));
  assert_true(holds("phase.completed_age{phase=\"1\"} >= 2h"));
  assert_true(holds("phase.stable_for{phase=\"1\"} >= 2h"));
  assert_false(holds("phase.stable_for{phase=\"1\"} >= 24h"));
  assert_true(holds("phase.stable_for{phase=\"2\"} == 0"));

  /* Without a phase matcher: every phase the journal knows, labelled. */
  assert_int_equal(eval("phase.completed == 1", &v, &err), GG_OK);
  assert_false(v.truth);
  assert_int_equal(v.n_members, 2);
  assert_int_equal(v.n_failed, 1);
  for (size_t i = 0; i < v.n_members; i++) {
    const char *p = expr_labels_get(&v.members[i].labels, "phase");
    assert_non_null(p);
    assert_int_equal(v.members[i].ok, strcmp(p, "1") == 0);
  }
  expr_value_release(&v);

  /* An automatic rollback trigger restarts the soak. */
  json_t *c = json_pack("{s:s, s:s}", "rule", "errors", "then", "rollback");
  assert_int_equal(journal_append(J, JOURNAL_RULE_FIRING, NULL, "gonogo watch", c, NULL, NULL), GG_OK);
  json_decref(c);
  gg_clock_advance(600);
  assert_true(holds("phase.stable_for{phase=\"1\"} == 10m"));
  assert_true(holds("event.age{kind=\"rule_firing\"} == 10m"));
}

static void test_event_age_and_attested(void **state) {
  (void)state;
  expr_value v;
  gg_error err;
  gg_error_clear(&err);
  /* Never happened: the journal knows, so the age is infinite rather than "no data". */
  assert_true(holds("event.age{kind=\"incident\"} > 7d"));
  assert_int_equal(eval("event.age{kind=\"no_such_kind\"} > 7d", &v, &err), GG_ERR_INVALID);
  assert_int_equal(journal_mark(J, "incident", 1800000000.0 - 8 * 86400, "oncall", NULL, NULL, NULL), GG_OK);
  assert_true(holds("event.age{kind=\"incident\"} > 7d"));
  assert_true(holds("attested{item=\"on-call-available\"} == 0"));
  assert_int_equal(journal_attest(J, "2", "on-call-available", "dave", 4 * 3600, "h", NULL, NULL, NULL),
                   GG_OK);
  assert_true(holds("attested{item=\"on-call-available\"} == 1"));
  gg_clock_advance(5 * 3600);
  assert_true(holds("attested{item=\"on-call-available\"} == 0"));
  /* Names that are not the journal's go to the next source. */
  assert_int_equal(eval("nats.server.up == 1", &v, &err), GG_ERR_NOT_FOUND);
}

/* The retrospective: entries need their parts, and retro.completed reads 1 only once it is closed
 * (the T+14d checkpoint of the example plan reads it). */
static void test_retro(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  assert_true(holds("retro.completed == 0"));
  assert_int_equal(
      journal_retro_add(J, JOURNAL_RETRO_ACTION_ITEM, "alert on DLQ", "bob", 0, "alice", NULL, &err),
      GG_ERR_INVALID);
  assert_non_null(strstr(gg_error_message(&err), "due date"));
  assert_int_equal(
      journal_retro_add(J, JOURNAL_RETRO_ACTION_ITEM, "alert on DLQ", NULL, 1.8e9, "alice", NULL, &err),
      GG_ERR_INVALID);
  assert_non_null(strstr(gg_error_message(&err), "owner"));
  assert_int_equal(journal_retro_add(J, JOURNAL_RETRO_WENT_WELL, "fast", "bob", 0, "alice", NULL, &err),
                   GG_ERR_INVALID);
  assert_int_equal(journal_retro_add(J, JOURNAL_RETRO_IMPROVE, "", NULL, 0, "alice", NULL, &err),
                   GG_ERR_INVALID);
  assert_int_equal(journal_retro_add(J, JOURNAL_RETRO_WENT_WELL, "gap 4 ms", NULL, 0, "alice", NULL, &err),
                   GG_OK);
  assert_int_equal(journal_retro_add(J, JOURNAL_RETRO_ACTION_ITEM, "alert on DLQ", "bob", 1.8e9 + 86400,
                                     "alice", NULL, &err),
                   GG_OK);
  assert_true(holds("retro.completed == 0")); /* entries alone do not close it */
  assert_int_equal(journal_retro_complete(J, "", NULL, NULL, &err), GG_ERR_INVALID);
  long long seq = 0;
  assert_int_equal(journal_retro_complete(J, "alice", "held on the 16th", &seq, &err), GG_OK);
  assert_true(holds("retro.completed == 1"));
  journal_event *ev = NULL;
  assert_int_equal(journal_last_event(J, JOURNAL_RETRO_COMPLETED, JOURNAL_NO_PHASE, &ev, &err), GG_OK);
  assert_non_null(strstr(ev->content, "\"entries\":2"));
  journal_events_free(ev, 1);
}

static void rehearsal(const char *phase, const char *hash, const char *result) {
  json_t *c =
      json_pack("{s:s, s:s, s:i, s:i}", "plan_hash", hash, "result", result, "lost", 0, "duplicated", 0);
  assert_int_equal(journal_append(J, JOURNAL_REHEARSAL, phase, "gonogo rehearse", c, NULL, NULL), GG_OK);
  json_decref(c);
}

/* rehearsal.passed{phase}: the latest rehearsal of the phase, passed, for this plan, younger
 * than the plan's rehearsal_valid_for. */
static void test_rehearsal_passed(void **state) {
  (void)state;
  const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
  const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
  journal_set_plan(J, h1, 2 * 86400);
  assert_true(holds("rehearsal.passed{phase=\"1\"} == 0")); /* never rehearsed */
  rehearsal("1", h1, "passed");
  rehearsal("2", h1, "failed");
  assert_true(holds("rehearsal.passed{phase=\"1\"} == 1"));
  assert_true(holds("rehearsal.passed{phase=\"2\"} == 0"));
  /* Without a matcher: every phase rehearsed, labelled. */
  assert_true(holds("count(rehearsal.passed) == 2 and sum(rehearsal.passed) == 1"));
  /* Another plan (an edited one) voids it; the same plan again counts again. */
  journal_set_plan(J, h2, 2 * 86400);
  assert_true(holds("rehearsal.passed{phase=\"1\"} == 0"));
  journal_set_plan(J, h1, 2 * 86400);
  assert_true(holds("rehearsal.passed{phase=\"1\"} == 1"));
  /* The latest rehearsal is what counts: a failed one after a pass voids it. */
  rehearsal("2", h1, "passed");
  assert_true(holds("rehearsal.passed{phase=\"2\"} == 1"));
  rehearsal("2", h1, "failed");
  assert_true(holds("rehearsal.passed{phase=\"2\"} == 0"));
  /* Older than rehearsal_valid_for: expired. */
  gg_clock_advance(2 * 86400 + 60);
  assert_true(holds("rehearsal.passed{phase=\"1\"} == 0"));
}

static void test_history(void **state) {
  (void)state;
  double now = gg_clock_now();
  journal_sample s[40];
  for (int i = 0; i < 40; i++) {
    s[i].name = "nats.consumer.num_pending";
    s[i].labels = i % 2 ? "{\"stream\":\"B\"}" : "{\"stream\":\"A\"}";
    s[i].time = now - 600 + (i / 2) * 30; /* 20 points per stream over 10 minutes */
    s[i].value = i % 2 ? 100 : (double)(i / 2);
  }
  assert_int_equal(journal_samples_add(J, s, 40, NULL), GG_OK);
  assert_true(holds("max_over_time(nats.consumer.num_pending{stream=\"A\"}, 10m) == 19"));
  assert_true(holds("avg_over_time(nats.consumer.num_pending{stream=\"B\"}, 10m) == 100"));
  expr_value v;
  gg_error err;
  gg_error_clear(&err);
  /* A window longer than the history is an error that says how much there is. */
  assert_int_equal(eval("max_over_time(nats.consumer.num_pending, 1h) < 1000", &v, &err), GG_ERR_NO_DATA);
  assert_non_null(strstr(gg_error_message(&err), "insufficient history: have 10m of 1h"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_phase_series, setup, teardown),
      cmocka_unit_test_setup_teardown(test_event_age_and_attested, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retro, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rehearsal_passed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
