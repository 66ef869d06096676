/* The payload schema both services validate (base/payload.h): tables of good and bad
 * readings and Oura documents, and the 400 body built from a problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/payload.h"

typedef struct {
  const char *body;
  const char *error; /* NULL: valid */
  const char *field;
  const char *problem; /* a fragment */
} hrv_case;

#define OK_REST "\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":42.5,\"source\":\"polar\""

static const hrv_case hrv_cases[] = {
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\"," OK_REST "}", NULL, NULL, NULL},
    {"{\"event_id\":\"e.1:x-y_z\",\"athlete_id\":\"A_b-9\"," OK_REST ",\"unknown\":[1,2,{\"x\":null}]}", NULL,
     NULL, NULL},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T08:00:00.5+01:00\",\"rmssd_"
     "ms\":1,"
     "\"source\":\"s\"}",
     NULL, NULL, NULL},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":1000,"
     "\"source\":\"s\"}",
     NULL, NULL, NULL},
    /* not JSON, or not an object */
    {"", "invalid json", "", "line"},
    {"{\"event_id\":", "invalid json", "", ""},
    {"[1,2]", "invalid json", "", "must be a JSON object"},
    {"\"x\"", "invalid json", "", ""},
    {"{\"event_id\":\"e1\",\"event_id\":\"e2\",\"athlete_id\":\"a1\"," OK_REST "}", "invalid json", "",
     "duplicate"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\","
     "\"rmssd_ms\":123456789012345678901234567890,\"source\":\"s\"}",
     "invalid json", "", ""},
    /* event_id */
    {"{\"athlete_id\":\"a1\"," OK_REST "}", "invalid field", "event_id", "is required"},
    {"{\"event_id\":\"\",\"athlete_id\":\"a1\"," OK_REST "}", "invalid field", "event_id",
     "must not be empty"},
    {"{\"event_id\":7,\"athlete_id\":\"a1\"," OK_REST "}", "invalid field", "event_id", "must be a string"},
    {"{\"event_id\":\"e 1\",\"athlete_id\":\"a1\"," OK_REST "}", "invalid field", "event_id",
     "may contain only"},
    {"{\"event_id\":\"e\\r\\nX: y\",\"athlete_id\":\"a1\"," OK_REST "}", "invalid field", "event_id",
     "may contain only"},
    {"{\"event_id\":\"e\\u0000x\",\"athlete_id\":\"a1\"," OK_REST "}", "invalid json", "", "JSON_ALLOW_NUL"},
    /* athlete_id: one subject token */
    {"{\"event_id\":\"e1\"," OK_REST "}", "invalid field", "athlete_id", "is required"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a.b\"," OK_REST "}", "invalid field", "athlete_id",
     "may contain only"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a*\"," OK_REST "}", "invalid field", "athlete_id",
     "may contain only"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\">\"," OK_REST "}", "invalid field", "athlete_id",
     "may contain only"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a b\"," OK_REST "}", "invalid field", "athlete_id",
     "may contain only"},
    {"{\"event_id\":\"e1\",\"athlete_id\":null," OK_REST "}", "invalid field", "athlete_id",
     "must be a string"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"\\u00e9\"," OK_REST "}", "invalid field", "athlete_id",
     "may contain only"},
    /* measured_at */
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"rmssd_ms\":4,\"source\":\"s\"}", "invalid field",
     "measured_at", "is required"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28\",\"rmssd_ms\":4,\"source\":"
     "\"s\"}",
     "invalid field", "measured_at", "RFC 3339"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-13-01T00:00:00Z\",\"rmssd_ms\":4,"
     "\"source\":\"s\"}",
     "invalid field", "measured_at", "RFC 3339"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T25:00:00Z\",\"rmssd_ms\":4,"
     "\"source\":\"s\"}",
     "invalid field", "measured_at", "RFC 3339"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Zjunk\",\"rmssd_ms\":4,"
     "\"source\":\"s\"}",
     "invalid field", "measured_at", "RFC 3339"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":1764313200,\"rmssd_ms\":4,\"source\":\"s\"}",
     "invalid field", "measured_at", "RFC 3339"},
    /* rmssd_ms */
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "is required"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":0,"
     "\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "must be > 0"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":-3.5,"
     "\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "must be > 0"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":1000."
     "001,"
     "\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "must be <= 1000"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":1e308,"
     "\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "must be <= 1000"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":"
     "\"42\","
     "\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "must be a number"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":true,"
     "\"source\":\"s\"}",
     "invalid field", "rmssd_ms", "must be a number"},
    /* source */
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":4}",
     "invalid field", "source", "is required"},
    {"{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T07:00:00Z\",\"rmssd_ms\":4,"
     "\"source\":\"a\\\"b\"}",
     "invalid field", "source", "may contain only"},
};

static void test_hrv_table(void **state) {
  for (size_t i = 0; i < sizeof hrv_cases / sizeof hrv_cases[0]; i++) {
    const hrv_case *c = &hrv_cases[i];
    json_t *root = (json_t *)1;
    gg_hrv_reading r;
    gg_payload_problem prob;
    memset(&prob, 0, sizeof prob);
    gg_status st = gg_payload_parse_hrv(c->body, strlen(c->body), &root, &r, &prob);
    if (!c->error) {
      if (st != GG_OK) fail_msg("case %zu (%s): refused: %s %s", i, c->body, prob.field, prob.problem);
      assert_non_null(root);
      json_decref(root);
      continue;
    }
    if (st != GG_ERR_INVALID) fail_msg("case %zu (%s): accepted", i, c->body);
    assert_null(root);
    if (strcmp(prob.error, c->error) != 0 || strcmp(prob.field, c->field) != 0 ||
        !strstr(prob.problem, c->problem))
      fail_msg("case %zu (%s): got %s/%s/%s", i, c->body, prob.error, prob.field, prob.problem);
  }
}

static void test_hrv_values(void **state) {
  const char *body =
      "{\"event_id\":\"e1\",\"athlete_id\":\"a1\",\"measured_at\":\"2026-11-28T08:00:00.250+01:00\","
      "\"rmssd_ms\":42.5,\"source\":\"polar\"}";
  json_t *root;
  gg_hrv_reading r;
  gg_payload_problem prob;
  assert_int_equal(gg_payload_parse_hrv(body, strlen(body), &root, &r, &prob), GG_OK);
  assert_string_equal(r.event_id, "e1");
  assert_string_equal(r.athlete_id, "a1");
  assert_string_equal(r.source, "polar");
  assert_true(r.rmssd_ms == 42.5);
  assert_true(r.measured_at == 1795849200.25); /* 2026-11-28T07:00:00.250Z */
  json_decref(root);
}

static void test_length_caps(void **state) {
  char id[GG_PAYLOAD_EVENT_ID_MAX + 2], body[1024];
  memset(id, 'x', sizeof id);
  id[GG_PAYLOAD_EVENT_ID_MAX] = '\0';
  snprintf(body, sizeof body, "{\"event_id\":\"%s\",\"athlete_id\":\"a1\"," OK_REST "}", id);
  json_t *root;
  gg_hrv_reading r;
  gg_payload_problem prob;
  assert_int_equal(gg_payload_parse_hrv(body, strlen(body), &root, &r, &prob), GG_OK);
  json_decref(root);
  id[GG_PAYLOAD_EVENT_ID_MAX] = 'x';
  id[GG_PAYLOAD_EVENT_ID_MAX + 1] = '\0';
  snprintf(body, sizeof body, "{\"event_id\":\"%s\",\"athlete_id\":\"a1\"," OK_REST "}", id);
  assert_int_equal(gg_payload_parse_hrv(body, strlen(body), &root, &r, &prob), GG_ERR_INVALID);
  assert_string_equal(prob.field, "event_id");
  assert_non_null(strstr(prob.problem, "at most 128 bytes"));
  char ath[GG_PAYLOAD_ATHLETE_ID_MAX + 2];
  memset(ath, 'a', sizeof ath);
  ath[GG_PAYLOAD_ATHLETE_ID_MAX + 1] = '\0';
  snprintf(body, sizeof body, "{\"event_id\":\"e\",\"athlete_id\":\"%s\"," OK_REST "}", ath);
  assert_int_equal(gg_payload_parse_hrv(body, strlen(body), &root, &r, &prob), GG_ERR_INVALID);
  assert_string_equal(prob.field, "athlete_id");
}

typedef struct {
  const char *body;
  const char *field; /* NULL: valid */
  const char *problem;
} oura_case;

#define OURA_HEAD "{\"event_id\":\"o1\",\"event_type\":\"sleep\",\"athlete_id\":\"a1\","

static const oura_case oura_cases[] = {
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[40,null,1]}}",
     NULL, NULL},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[]}}", NULL, NULL},
    {OURA_HEAD
     "\"hrv\":{\"interval\":300.5,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[null]},\"x\":1}",
     NULL, NULL},
    {"{\"event_id\":\"o1\",\"athlete_id\":\"a1\",\"hrv\":{}}", "event_type", "is required"},
    {"{\"event_id\":\"o1\",\"event_type\":\"sle.ep\",\"athlete_id\":\"a1\",\"hrv\":{}}", "event_type",
     "may contain only"},
    {OURA_HEAD "\"x\":1}", "hrv", "is required"},
    {OURA_HEAD "\"hrv\":[1]}", "hrv", "must be an object"},
    {OURA_HEAD "\"hrv\":{\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[]}}", "hrv.interval",
     "is required"},
    {OURA_HEAD "\"hrv\":{\"interval\":0,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[]}}",
     "hrv.interval", "(0, 3600]"},
    {OURA_HEAD "\"hrv\":{\"interval\":\"300\",\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[]}}",
     "hrv.interval", "number"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"items\":[]}}", "hrv.timestamp", "is required"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"soon\",\"items\":[]}}", "hrv.timestamp",
     "RFC 3339"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\"}}", "hrv.items",
     "is required"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":{}}}", "hrv.items",
     "must be an array"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[1,2,0]}}",
     "hrv.items[2]", "must be > 0"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[\"1\"]}}",
     "hrv.items[0]", "must be a number"},
    {OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[5000]}}",
     "hrv.items[0]", "must be <= 1000"},
};

static void test_oura_table(void **state) {
  for (size_t i = 0; i < sizeof oura_cases / sizeof oura_cases[0]; i++) {
    const oura_case *c = &oura_cases[i];
    json_t *root;
    gg_oura_doc d;
    gg_payload_problem prob;
    memset(&prob, 0, sizeof prob);
    gg_status st = gg_payload_parse_oura(c->body, strlen(c->body), &root, &d, &prob);
    if (!c->field) {
      if (st != GG_OK) fail_msg("case %zu (%s): refused: %s %s", i, c->body, prob.field, prob.problem);
      json_decref(root);
      continue;
    }
    if (st != GG_ERR_INVALID) fail_msg("case %zu (%s): accepted", i, c->body);
    if (strcmp(prob.field, c->field) != 0 || !strstr(prob.problem, c->problem))
      fail_msg("case %zu (%s): got %s/%s", i, c->body, prob.field, prob.problem);
  }
}

static void test_oura_item_cap(void **state) {
  size_t n = GG_PAYLOAD_OURA_ITEMS_MAX + 1;
  char *body = malloc(n * 5 + 256);
  size_t len = (size_t)snprintf(
      body, 256, OURA_HEAD "\"hrv\":{\"interval\":300,\"timestamp\":\"2026-11-28T00:00:00Z\",\"items\":[");
  for (size_t i = 0; i < n; i++) len += (size_t)snprintf(body + len, 8, "%s1", i ? "," : "");
  len += (size_t)snprintf(body + len, 8, "]}}");
  json_t *root;
  gg_oura_doc d;
  gg_payload_problem prob;
  assert_int_equal(gg_payload_parse_oura(body, len, &root, &d, &prob), GG_ERR_INVALID);
  assert_string_equal(prob.field, "hrv.items");
  free(body);
}

static void test_problem_json(void **state) {
  gg_payload_problem p = {"invalid field", "rmssd_ms", "must be > 0"};
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(gg_payload_problem_json(&p, &b), GG_OK);
  assert_string_equal(gg_buf_str(&b),
                      "{\"error\":\"invalid field\",\"field\":\"rmssd_ms\",\"problem\":\"must be > 0\"}");
  gg_buf_release(&b);
  gg_payload_problem q = {"invalid json", "", "line 1 column 2: \"quoted\""};
  gg_buf_init(&b, 0);
  assert_int_equal(gg_payload_problem_json(&q, &b), GG_OK);
  assert_string_equal(gg_buf_str(&b),
                      "{\"error\":\"invalid json\",\"problem\":\"line 1 column 2: \\\"quoted\\\"\"}");
  gg_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hrv_table),     cmocka_unit_test(test_hrv_values),
      cmocka_unit_test(test_length_caps),   cmocka_unit_test(test_oura_table),
      cmocka_unit_test(test_oura_item_cap), cmocka_unit_test(test_problem_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
