/* normalize-service: messages to rows (Oura expansion), bindings, configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "normalize/normalize.h"

static void test_hrv_message_is_one_row(void **state) {
  const char *data =
      "{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":42.5,"
      "\"source\":\"polar\"}";
  json_t *root;
  normalize_kind kind;
  gg_hrv_row rows[4];
  size_t n;
  gg_payload_problem prob;
  assert_int_equal(normalize_message("core.hrv.a1", data, strlen(data), &root, &kind, rows, 4, &n, &prob),
                   GG_OK);
  assert_int_equal(kind, NORMALIZE_HRV);
  assert_int_equal(n, 1);
  assert_string_equal(rows[0].msg_id, "e1");
  assert_string_equal(rows[0].athlete_id, "a1");
  assert_string_equal(rows[0].source, "polar");
  assert_true(rows[0].rmssd_ms == 42.5);
  assert_true(rows[0].measured_at == 1795849200);
  json_decref(root);
  /* The subject's athlete must be the body's. */
  assert_int_equal(normalize_message("core.hrv.a2", data, strlen(data), &root, &kind, rows, 4, &n, &prob),
                   GG_ERR_INVALID);
  assert_null(root);
  assert_string_equal(prob.field, "athlete_id");
}

static void test_oura_expansion(void **state) {
  const char *data =
      "{\"event_id\":\"o7\",\"event_type\":\"sleep\",\"athlete_id\":\"a9\",\"hrv\":{\"interval\":300,"
      "\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[null,41.5,null,null,38,50.25]}}";
  json_t *root;
  normalize_kind kind;
  gg_hrv_row rows[8];
  size_t n;
  gg_payload_problem prob;
  assert_int_equal(
      normalize_message("vendor.oura.sleep", data, strlen(data), &root, &kind, rows, 8, &n, &prob), GG_OK);
  assert_int_equal(kind, NORMALIZE_OURA);
  /* One row per non-null item, at timestamp + i * interval, id "<event_id>:<i>". */
  assert_int_equal(n, 3);
  const double t0 = 1795824000; /* 2026-11-28T00:00:00Z */
  assert_string_equal(rows[0].msg_id, "o7:1");
  assert_true(rows[0].measured_at == t0 + 300);
  assert_true(rows[0].rmssd_ms == 41.5);
  assert_string_equal(rows[1].msg_id, "o7:4");
  assert_true(rows[1].measured_at == t0 + 1200);
  assert_true(rows[1].rmssd_ms == 38);
  assert_string_equal(rows[2].msg_id, "o7:5");
  assert_true(rows[2].measured_at == t0 + 1500);
  assert_true(rows[2].rmssd_ms == 50.25);
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(rows[i].athlete_id, "a9");
    assert_string_equal(rows[i].source, "oura");
  }
  /* The same document always gives the same ids: a redelivery inserts nothing new. */
  json_t *again;
  gg_hrv_row rows2[8];
  size_t n2;
  assert_int_equal(
      normalize_message("vendor.oura.sleep", data, strlen(data), &again, &kind, rows2, 8, &n2, &prob), GG_OK);
  assert_int_equal(n2, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(rows2[i].msg_id, rows[i].msg_id);
  json_decref(again);
  /* Counting without room. */
  gg_oura_doc d;
  json_t *r2;
  assert_int_equal(gg_payload_parse_oura(data, strlen(data), &r2, &d, &prob), GG_OK);
  assert_int_equal(gg_oura_expand(&d, NULL, 0), 3);
  json_decref(r2);
  json_decref(root);
}

static void test_unknown_subjects_are_poison(void **state) {
  static const char *const subjects[] = {"core.other.a1",      "core.hrv",     "core.hrv.",
                                         "vendor.whoop.sleep", "vendor.oura.", "x"};
  const char *data = "{}";
  for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
    json_t *root;
    normalize_kind kind;
    gg_hrv_row rows[1];
    size_t n;
    gg_payload_problem prob;
    assert_int_equal(normalize_message(subjects[i], data, 2, &root, &kind, rows, 1, &n, &prob),
                     GG_ERR_INVALID);
    assert_string_equal(prob.field, "subject");
  }
}

static void test_binding_lists(void **state) {
  normalize_binding_spec *b;
  size_t n;
  gg_error err;
  assert_int_equal(
      normalize_parse_bindings("AA_CORE_HOT:normalize-hrv-durable,ATHLETE_ALLY_EVENTS:normalize-hrv-durable",
                               &b, &n, &err),
      GG_OK);
  assert_int_equal(n, 2);
  assert_string_equal(b[0].stream, "AA_CORE_HOT");
  assert_string_equal(b[0].consumer, "normalize-hrv-durable");
  assert_string_equal(b[1].stream, "ATHLETE_ALLY_EVENTS");
  normalize_bindings_free(b, n);
  static const char *const bad[] = {"", "S", "S:", ":C", "S:C,", "S:C,S:C", "S.x:C", "S:C*", "S:C:D", "S :C"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    gg_error_clear(&err);
    if (normalize_parse_bindings(bad[i], &b, &n, &err) == GG_OK) fail_msg("'%s' was accepted", bad[i]);
    assert_non_null(strstr(gg_error_message(&err), "NORMALIZE_BINDINGS"));
  }
}

static void test_pg_array_quoting(void **state) {
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(normalize_pg_array_quote(&b, "plain"), GG_OK);
  assert_int_equal(gg_buf_puts(&b, ","), GG_OK);
  assert_int_equal(normalize_pg_array_quote(&b, "a\"b\\c,{}"), GG_OK);
  assert_string_equal(gg_buf_str(&b), "\"plain\",\"a\\\"b\\\\c,{}\"");
  gg_buf_release(&b);
}

static const char *const vars[] = {"NATS_URL",
                                   "PG_URL",
                                   "NORMALIZE_BINDINGS",
                                   "NORMALIZE_BATCH",
                                   "NORMALIZE_FETCH_WAIT",
                                   "NORMALIZE_RECHECK",
                                   "NORMALIZE_LISTEN",
                                   "NORMALIZE_DLQ_PREFIX",
                                   "NORMALIZE_LOG_LEVEL"};

static int clear_env(void **state) {
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
  return 0;
}

static void test_config(void **state) {
  normalize_config c;
  gg_error err;
  gg_error_clear(&err);
  assert_int_not_equal(normalize_config_load(&c, &err), GG_OK);
  assert_non_null(strstr(gg_error_message(&err), "PG_URL"));
  setenv("PG_URL", "postgresql://u@127.0.0.1:5432/db", 1);
  /* No NATS_URL is an error, never a silent localhost:4222. */
  assert_int_not_equal(normalize_config_load(&c, &err), GG_OK);
  assert_string_equal(gg_error_message(&err), "NATS_URL: required (e.g. nats://127.0.0.1:4222)");
  setenv("NATS_URL", "nats://10.0.0.7:4222", 1);
  assert_int_equal(normalize_config_load(&c, &err), GG_OK);
  assert_string_equal(c.nats_url, "nats://10.0.0.7:4222");
  /* By default both durables, each on its hot stream and on the legacy one, and the new side
   * of a traffic shift of each (DESIGN §14). */
  assert_int_equal(c.nbindings, 6);
  assert_string_equal(c.bindings[4].stream, "AA_CORE_HOT");
  assert_string_equal(c.bindings[4].consumer, "normalize-hrv-shift");
  assert_string_equal(c.bindings[5].stream, "AA_VENDOR_HOT");
  assert_string_equal(c.bindings[5].consumer, "normalize-oura-shift");
  assert_string_equal(c.shift_prefix, "shift.");
  assert_string_equal(c.bindings[0].stream, "AA_CORE_HOT");
  assert_string_equal(c.bindings[2].stream, "AA_VENDOR_HOT");
  assert_string_equal(c.bindings[3].stream, "ATHLETE_ALLY_EVENTS");
  assert_int_equal(c.batch, 500);
  assert_true(c.fetch_wait == 0.5);
  assert_true(c.recheck == 2);
  assert_string_equal(c.dlq_prefix, "dlq");
  assert_string_equal(c.listen, "127.0.0.1:8082");
  normalize_config_release(&c);
  static const char *const bad[][3] = {
      {"NORMALIZE_BATCH", "0", "NORMALIZE_BATCH"},
      {"NORMALIZE_BATCH", "10001", "NORMALIZE_BATCH"},
      {"NORMALIZE_BATCH", "5x", "NORMALIZE_BATCH"},
      {"NORMALIZE_FETCH_WAIT", "1", "NORMALIZE_FETCH_WAIT"},
      {"NORMALIZE_RECHECK", "1h", "NORMALIZE_RECHECK"},
      {"NORMALIZE_DLQ_PREFIX", "dl.q", "NORMALIZE_DLQ_PREFIX"},
      {"NORMALIZE_LISTEN", "8082", "NORMALIZE_LISTEN"},
      {"PG_URL", "mysql://x", "PG_URL"},
      {"NATS_URL", "127.0.0.1:4222", "NATS_URL"},
      {"NORMALIZE_BINDINGS", "S", "NORMALIZE_BINDINGS"},
      {"NORMALIZE_LOG_LEVEL", "chatty", "NORMALIZE_LOG_LEVEL"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clear_env(NULL);
    setenv("PG_URL", "postgresql://u@127.0.0.1:5432/db", 1);
    setenv("NATS_URL", "nats://10.0.0.7:4222", 1);
    setenv(bad[i][0], bad[i][1], 1);
    gg_error_clear(&err);
    if (normalize_config_load(&c, &err) == GG_OK) fail_msg("%s=%s accepted", bad[i][0], bad[i][1]);
    assert_non_null(strstr(gg_error_message(&err), bad[i][2]));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hrv_message_is_one_row),
      cmocka_unit_test(test_oura_expansion),
      cmocka_unit_test(test_unknown_subjects_are_poison),
      cmocka_unit_test(test_binding_lists),
      cmocka_unit_test(test_pg_array_quoting),
      cmocka_unit_test_setup(test_config, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
