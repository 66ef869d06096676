/*
 * Unit tests of src/act's pure logic: drift between the plan and a live stream or consumer
 * config, field by field; the subjects a created stream starts with (placeholder until the
 * cutover); a stream config kept as JSON for an inverse and applied back; the inverse each
 * action kind describes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "act/internal.h"

static const char plan_text[] =
    "migration: unit\n"
    "connect: { nats: { servers: 'nats://127.0.0.1:1' } }\n"
    "topology:\n"
    "  streams:\n"
    "    OLD: { existing: true, subjects: [a.>, b.>], replicas: 3 }\n"
    "    NEW_A: { subjects: [a.>, c.>], replicas: 3, max_age: 7d, duplicates: 2m, storage: file }\n"
    "    NEW_B: { subjects: [b.>], replicas: 3 }\n"
    "  consumers:\n"
    "    NEW_A/c1: { filter: a.x.>, ack_wait: 30s, max_deliver: 5, max_ack_pending: 1000 }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: one\n"
    "    prepare: [ { create_stream: NEW_A }, { create_stream: NEW_B } ]\n"
    "    actions:\n"
    "      - move_subjects: { subjects: [a.>], from: OLD, to: NEW_A }\n"
    "      - move_subjects: { subjects: [b.>], from: OLD, to: NEW_B }\n";

static plan *load(void) {
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_status st = plan_load_buffer("unit.yaml", plan_text, sizeof plan_text - 1, NULL, &p, &d, &err);
  for (size_t i = 0; i < d.count; i++) print_error("%s\n", d.items[i].message);
  plan_diags_release(&d);
  assert_int_equal(st, GG_OK);
  return p;
}

static void free_lines(char **l, size_t n) {
  for (size_t i = 0; i < n; i++) free(l[i]);
  free(l);
}

static void stream_diff_names_each_field(void **state) {
  (void)state;
  plan *p = load();
  const plan_stream *ps = plan_find_stream(p, "NEW_A");
  jsStreamConfig live;
  jsStreamConfig_Init(&live);
  const char *subj[] = {"a.>", "c.>"};
  live.Name = "NEW_A";
  live.Subjects = subj;
  live.SubjectsLen = 2;
  live.Replicas = 3;
  live.MaxAge = 7LL * 86400 * 1000000000LL;
  live.Duplicates = 120LL * 1000000000LL;
  char **lines = NULL;
  size_t n = 0;
  assert_int_equal(act_stream_diff(ps, &live, false, &lines, &n), 0); /* as planned */
  live.Replicas = 1;
  live.MaxAge = 3600LL * 1000000000LL;
  live.Storage = js_MemoryStorage;
  const char *other[] = {"a.>"};
  live.Subjects = other;
  live.SubjectsLen = 1;
  assert_int_equal(act_stream_diff(ps, &live, false, &lines, &n), 4);
  assert_string_equal(lines[0], "subjects: [a.>] -> [a.>, c.>]");
  assert_string_equal(lines[1], "replicas: 1 -> 3");
  assert_string_equal(lines[2], "storage: memory -> file");
  assert_string_equal(lines[3], "max_age: 1h -> 7d");
  free_lines(lines, n);
  lines = NULL;
  n = 0;
  /* Subjects not compared while the stream waits for its cutover. */
  assert_int_equal(act_stream_diff(ps, &live, true, &lines, &n), 3);
  free_lines(lines, n);
  plan_free(p);
}

static void consumer_diff(void **state) {
  (void)state;
  plan *p = load();
  const plan_consumer *pc = plan_find_consumer(p, "NEW_A", "c1");
  jsConsumerConfig live;
  act_consumer_config_from_plan(pc, &live);
  char **lines = NULL;
  size_t n = 0;
  assert_int_equal(act_consumer_diff(pc, &live, &lines, &n), 0);
  live.MaxDeliver = 3;
  live.FilterSubject = "a.>";
  assert_int_equal(act_consumer_diff(pc, &live, &lines, &n), 2);
  assert_string_equal(lines[0], "filter: a.> -> a.x.>");
  assert_string_equal(lines[1], "max_deliver: 3 -> 5");
  free_lines(lines, n);
  plan_free(p);
}

static void created_streams_start_with_placeholder(void **state) {
  (void)state;
  plan *p = load();
  const char **s = NULL;
  int n = 0;
  bool ph = false;
  gg_error err;
  /* NEW_A: a.> arrives by move_subjects, c.> belongs to nobody yet: created with c.> only. */
  assert_int_equal(act_initial_subjects(p, plan_find_stream(p, "NEW_A"), &s, &n, &ph, &err), GG_OK);
  assert_int_equal(n, 1);
  assert_string_equal(s[0], "c.>");
  assert_false(ph);
  free(s);
  /* NEW_B: every subject arrives by a move: its own name holds the place. */
  assert_int_equal(act_initial_subjects(p, plan_find_stream(p, "NEW_B"), &s, &n, &ph, &err), GG_OK);
  assert_int_equal(n, 1);
  assert_string_equal(s[0], "NEW_B");
  assert_true(ph);
  free(s);
  plan_free(p);
}

static void config_json_round_trip(void **state) {
  (void)state;
  jsStreamConfig a;
  jsStreamConfig_Init(&a);
  const char *subj[] = {"x.>", "y.*"};
  a.Name = "S";
  a.Subjects = subj;
  a.SubjectsLen = 2;
  a.Replicas = 3;
  a.MaxAge = 42;
  a.MaxMsgs = 1000;
  a.Retention = js_InterestPolicy;
  a.Discard = js_DiscardNew;
  a.Duplicates = 7;
  json_t *j = act_stream_config_json(&a);
  jsStreamConfig b;
  jsStreamConfig_Init(&b);
  const char **bs = NULL;
  gg_error err;
  assert_int_equal(act_stream_config_apply_json(j, &b, &bs, &err), GG_OK);
  assert_string_equal(b.Name, "S");
  assert_int_equal(b.SubjectsLen, 2);
  assert_string_equal(b.Subjects[1], "y.*");
  assert_int_equal(b.Replicas, 3);
  assert_int_equal(b.MaxAge, 42);
  assert_int_equal(b.MaxMsgs, 1000);
  assert_int_equal(b.Retention, js_InterestPolicy);
  assert_int_equal(b.Discard, js_DiscardNew);
  assert_int_equal(b.Duplicates, 7);
  free(bs);
  /* Without subjects it is refused, not half applied. */
  json_object_del(j, "subjects");
  assert_int_equal(act_stream_config_apply_json(j, &b, &bs, &err), GG_ERR_INVALID);
  json_decref(j);
}

/* Which messages and consumers a carry-back of `vendor.>` covers. */
static void carried_subjects(void **state) {
  (void)state;
  char *moved[] = {"vendor.>"};
  assert_true(act_filter_overlaps("vendor.oura.>", moved, 1));
  assert_true(act_filter_overlaps("vendor.>", moved, 1));
  assert_true(act_filter_overlaps(">", moved, 1));
  assert_true(act_filter_overlaps(NULL, moved, 1)); /* no filter: every subject */
  assert_true(act_filter_overlaps("", moved, 1));
  assert_false(act_filter_overlaps("core.>", moved, 1));
  json_t *pats = json_pack("[s]", "vendor.>");
  assert_true(act_subject_in("vendor.oura.sleep", pats));
  assert_true(act_subject_in("vendor.>", pats));
  assert_false(act_subject_in(">", pats)); /* a consumer of everything is not covered by vendor.> */
  assert_false(act_subject_in("AA_VENDOR_HOT", pats)); /* the placeholder */
  assert_false(act_subject_in("core.hrv.a1", pats));
  json_decref(pats);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stream_diff_names_each_field),
      cmocka_unit_test(consumer_diff),
      cmocka_unit_test(created_streams_start_with_placeholder),
      cmocka_unit_test(config_json_round_trip),
      cmocka_unit_test(carried_subjects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
