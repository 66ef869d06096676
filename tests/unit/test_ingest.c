/* ingest-service: configuration from the environment, signatures, content types. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <nats/nats.h>

#include "ingest/ingest.h"

static const char *const vars[] = {"NATS_URL",
                                   "INGEST_LISTEN",
                                   "INGEST_MAX_BODY",
                                   "INGEST_HMAC_SECRET_FILE",
                                   "INGEST_PUBLISH_BUDGET",
                                   "INGEST_PUBLISH_TIMEOUT",
                                   "INGEST_MAX_INFLIGHT",
                                   "INGEST_THREADS",
                                   "INGEST_MAX_CONNECTIONS",
                                   "INGEST_HEADER_TIMEOUT",
                                   "INGEST_BODY_TIMEOUT",
                                   "INGEST_LOG_LEVEL",
                                   "INGEST_SHIFT_CORE",
                                   "INGEST_SHIFT_VENDOR",
                                   "INGEST_SHIFT_PREFIX"};

static int clear_env(void **state) {
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
  setenv("NATS_URL", "nats://10.0.0.7:4222", 1); /* required: each test starts from a valid one */
  return 0;
}

static void test_defaults(void **state) {
  ingest_config c;
  gg_error err;
  /* NATS_URL has no default: unset, the service refuses to start rather than use localhost. */
  unsetenv("NATS_URL");
  assert_int_not_equal(ingest_config_load(&c, &err), GG_OK);
  assert_string_equal(gg_error_message(&err), "NATS_URL: required (e.g. nats://127.0.0.1:4222)");
  setenv("NATS_URL", "nats://10.0.0.7:4222", 1);
  assert_int_equal(ingest_config_load(&c, &err), GG_OK);
  assert_string_equal(c.nats_url, "nats://10.0.0.7:4222");
  assert_string_equal(c.listen, "127.0.0.1:8081");
  assert_int_equal(c.max_body, 64 * 1024);
  assert_null(c.hmac_secret);
  assert_true(c.publish_budget == 15);
  assert_true(c.publish_timeout == 2);
  assert_int_equal(c.max_inflight, 10000);
  assert_int_equal(c.threads, 2);
  assert_int_equal(c.max_connections, 4096);
  assert_true(c.header_timeout == 10);
  assert_true(c.body_timeout == 30);
  ingest_config_release(&c);
}

static void test_values_are_read(void **state) {
  char path[] = "/tmp/ingest-secret-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "s3cret\n", 7), 7);
  close(fd);
  setenv("INGEST_HMAC_SECRET_FILE", path, 1);
  setenv("INGEST_MAX_BODY", "1MiB", 1);
  setenv("INGEST_PUBLISH_BUDGET", "1m30s", 1);
  setenv("INGEST_LISTEN", "0.0.0.0:9000", 1);
  setenv("INGEST_THREADS", "4", 1);
  setenv("INGEST_MAX_CONNECTIONS", "500", 1);
  setenv("INGEST_HEADER_TIMEOUT", "2500ms", 1);
  setenv("INGEST_BODY_TIMEOUT", "1m", 1);
  ingest_config c;
  gg_error err;
  assert_int_equal(ingest_config_load(&c, &err), GG_OK);
  assert_int_equal(c.max_body, 1 << 20);
  assert_true(c.publish_budget == 90);
  assert_string_equal(c.listen, "0.0.0.0:9000");
  assert_int_equal(c.threads, 4);
  assert_int_equal(c.max_connections, 500);
  assert_true(c.header_timeout == 2.5);
  assert_true(c.body_timeout == 60);
  /* The trailing newline of the file is not part of the secret. */
  assert_int_equal(c.hmac_secret_len, 6);
  assert_memory_equal(c.hmac_secret, "s3cret", 6);
  ingest_config_release(&c);
  unlink(path);
}

typedef struct {
  const char *var, *value, *expect;
} bad_env;

static void test_bad_values_name_the_variable(void **state) {
  static const bad_env cases[] = {
      {"NATS_URL", "http://x:4222", "NATS_URL"},
      {"INGEST_LISTEN", "8081", "INGEST_LISTEN"},
      {"INGEST_MAX_BODY", "lots", "INGEST_MAX_BODY"},
      {"INGEST_MAX_BODY", "1GiB", "INGEST_MAX_BODY"},
      {"INGEST_MAX_BODY", "10B", "INGEST_MAX_BODY"},
      {"INGEST_PUBLISH_BUDGET", "5", "INGEST_PUBLISH_BUDGET"},
      {"INGEST_PUBLISH_BUDGET", "2h", "INGEST_PUBLISH_BUDGET"},
      {"INGEST_PUBLISH_TIMEOUT", "1ms", "INGEST_PUBLISH_TIMEOUT"},
      {"INGEST_MAX_INFLIGHT", "0", "INGEST_MAX_INFLIGHT"},
      {"INGEST_MAX_INFLIGHT", "12abc", "INGEST_MAX_INFLIGHT"},
      {"INGEST_THREADS", "99999999999999999999", "INGEST_THREADS"},
      {"INGEST_MAX_CONNECTIONS", "3", "INGEST_MAX_CONNECTIONS"},
      {"INGEST_MAX_CONNECTIONS", "many", "INGEST_MAX_CONNECTIONS"},
      {"INGEST_HEADER_TIMEOUT", "0s", "INGEST_HEADER_TIMEOUT"},
      {"INGEST_BODY_TIMEOUT", "forever", "INGEST_BODY_TIMEOUT"},
      {"INGEST_LOG_LEVEL", "loud", "INGEST_LOG_LEVEL"},
      {"INGEST_HMAC_SECRET_FILE", "/nonexistent/secret", "INGEST_HMAC_SECRET_FILE"},
      {"INGEST_HMAC_SECRET_FILE", "/dev/null", "empty"},
      {"INGEST_SHIFT_CORE", "bucket-only", "INGEST_SHIFT_CORE"},
      {"INGEST_SHIFT_VENDOR", "b/k/extra", "INGEST_SHIFT_VENDOR"},
      {"INGEST_SHIFT_PREFIX", "shift", "INGEST_SHIFT_PREFIX"},
      {"INGEST_SHIFT_PREFIX", "core.new.", "INGEST_SHIFT_PREFIX"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clear_env(NULL);
    setenv(cases[i].var, cases[i].value, 1);
    ingest_config c;
    gg_error err;
    gg_error_clear(&err);
    assert_int_not_equal(ingest_config_load(&c, &err), GG_OK);
    if (!strstr(gg_error_message(&err), cases[i].expect))
      fail_msg("%s=%s: message '%s' does not name '%s'", cases[i].var, cases[i].value, gg_error_message(&err),
               cases[i].expect);
  }
}

/* NATS_URL may carry credentials (user:pass@ or token@ in any entry): no message shows them. */
static void test_nats_credentials_never_shown(void **state) {
  static const char *const leaks[] = {"alice", "hunter2", "s3cr3ttoken"};
  setenv("NATS_URL", "http://alice:hunter2@127.0.0.1:4222", 1);
  ingest_config c;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(ingest_config_load(&c, &err), GG_ERR_INVALID);
  assert_non_null(strstr(gg_error_message(&err), "'http://***@127.0.0.1:4222'"));
  for (size_t i = 0; i < sizeof leaks / sizeof leaks[0]; i++)
    assert_null(strstr(gg_error_message(&err), leaks[i]));

  /* Nothing listens on ports 1 and 2: the connect fails and says where it tried. */
  setenv("NATS_URL", "nats://alice:hunter2@127.0.0.1:1, nats://s3cr3ttoken@127.0.0.1:2", 1);
  assert_int_equal(ingest_config_load(&c, &err), GG_OK);
  ingest *svc = NULL;
  gg_error_clear(&err);
  assert_int_not_equal(ingest_start(&c, &svc, &err), GG_OK);
  const char *msg = gg_error_message(&err);
  if (!strstr(msg, "'nats://***@127.0.0.1:1, nats://***@127.0.0.1:2'"))
    fail_msg("message '%s' does not show the redacted servers", msg);
  for (size_t i = 0; i < sizeof leaks / sizeof leaks[0]; i++)
    if (strstr(msg, leaks[i])) fail_msg("message '%s' shows '%s'", msg, leaks[i]);
  ingest_config_release(&c);
  nats_Close();
}

static void test_hmac_known_vector(void **state) {
  /* RFC 4231 test case 2. */
  const char *key = "Jefe", *data = "what do ya want for nothing?";
  char sig[80];
  ingest_signature_format((const unsigned char *)key, 4, data, strlen(data), sig, sizeof sig);
  assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert_true(ingest_signature_ok((const unsigned char *)key, 4, data, strlen(data), sig));
  assert_true(ingest_signature_ok((const unsigned char *)key, 4, data, strlen(data), sig + 7)); /* bare hex */
  assert_true(ingest_signature_ok((const unsigned char *)key, 4, data, strlen(data),
                                  "SHA256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"));
}

static void test_hmac_rejects(void **state) {
  const unsigned char *key = (const unsigned char *)"k";
  const char *body = "{}";
  char sig[80];
  ingest_signature_format(key, 1, body, 2, sig, sizeof sig);
  assert_false(ingest_signature_ok(key, 1, body, 2, NULL));
  assert_false(ingest_signature_ok(key, 1, body, 2, ""));
  assert_false(ingest_signature_ok(key, 1, "{ }", 3, sig));                       /* another body */
  assert_false(ingest_signature_ok((const unsigned char *)"K", 1, body, 2, sig)); /* another key */
  char shorter[80];
  snprintf(shorter, sizeof shorter, "%.*s", (int)strlen(sig) - 1, sig);
  assert_false(ingest_signature_ok(key, 1, body, 2, shorter));
  char flipped[80];
  snprintf(flipped, sizeof flipped, "%s", sig);
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  assert_false(ingest_signature_ok(key, 1, body, 2, flipped));
  char nonhex[80];
  snprintf(nonhex, sizeof nonhex, "%s", sig);
  nonhex[20] = 'z';
  assert_false(ingest_signature_ok(key, 1, body, 2, nonhex));
}

static void test_content_types(void **state) {
  assert_true(ingest_content_type_ok("application/json"));
  assert_true(ingest_content_type_ok("application/json; charset=utf-8"));
  assert_true(ingest_content_type_ok("Application/JSON"));
  assert_false(ingest_content_type_ok(NULL));
  assert_false(ingest_content_type_ok(""));
  assert_false(ingest_content_type_ok("text/plain"));
  assert_false(ingest_content_type_ok("application/jsonp"));
  assert_false(ingest_content_type_ok("application/x-www-form-urlencoded"));
}

/* The KV value of a share: a percentage 0..100, optionally with '%'; anything else says why. */
static void test_shift_values(void **state) {
  (void)state;
  static const struct {
    const char *text;
    double want; /* < 0: refused */
    const char *why;
  } cases[] = {{"10", 10, NULL},
               {" 50% \n", 50, NULL},
               {"12.5", 12.5, NULL},
               {"0", 0, NULL},
               {"100", 100, NULL},
               {"101", -1, "outside"},
               {"-1", -1, "outside"},
               {"", -1, "empty"},
               {"ten", -1, "not a percentage"},
               {"50%%", -1, "not a percentage"},
               {"nan", -1, "not a percentage"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double pct = -7;
    char why[160] = "";
    gg_status st = ingest_shift_parse(cases[i].text, strlen(cases[i].text), &pct, why, sizeof why);
    if (cases[i].want >= 0) {
      if (st != GG_OK) fail_msg("'%s' refused: %s", cases[i].text, why);
      assert_true(pct == cases[i].want);
    } else {
      if (st == GG_OK) fail_msg("'%s' accepted as %g", cases[i].text, pct);
      if (!strstr(why, cases[i].why))
        fail_msg("'%s': '%s' does not say '%s'", cases[i].text, why, cases[i].why);
    }
  }
}

/* The split: the same id always goes the same way, the share is honoured within a point over
 * 20,000 ids, and a rising share only moves ids from old to new. */
static void test_shift_choice(void **state) {
  (void)state;
  static const double shares[] = {0, 10, 50, 100};
  bool was_new[20000] = {false};
  for (size_t s = 0; s < 4; s++) {
    int n_new = 0;
    for (int i = 0; i < 20000; i++) {
      char id[32];
      snprintf(id, sizeof id, "reading-%d", i);
      bool now_new = ingest_shift_goes_new(id, shares[s]);
      assert_true(now_new == ingest_shift_goes_new(id, shares[s]));
      if (was_new[i] && !now_new) fail_msg("'%s' went back to old when the share rose to %g", id, shares[s]);
      was_new[i] = now_new;
      n_new += now_new;
    }
    double measured = 100.0 * n_new / 20000.0;
    if (measured < shares[s] - 1 || measured > shares[s] + 1)
      fail_msg("share %g%%: measured %.2f%%", shares[s], measured);
  }
}

/* Vendor documents are split by their own share (INGEST_SHIFT_VENDOR), never by core's: with
 * core at 10 % and vendor at 50 % over the same 20,000 ids, each root honours its share within a
 * point, a vendor document's subject is the prefix before vendor.oura.<type>, the same id always
 * gets the same subject, and a root at 0 % sends nothing new whatever the other's share. */
static void test_shift_vendor_choice(void **state) {
  (void)state;
  static const struct { double core, vendor; } cases[] = {{10, 50}, {50, 10}, {0, 100}, {100, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const double share[2] = {cases[c].core, cases[c].vendor};
    int n_new[2] = {0, 0}, differ = 0;
    for (int i = 0; i < 20000; i++) {
      char id[32], subj[2][128], again[128];
      snprintf(id, sizeof id, "oura-%d", i);
      bool went[2];
      went[0] = ingest_shift_subject(share, INGEST_ROOT_CORE, "shift.", id, "ath1", subj[0], sizeof subj[0]);
      went[1] =
          ingest_shift_subject(share, INGEST_ROOT_VENDOR, "shift.", id, "sleep", subj[1], sizeof subj[1]);
      assert_string_equal(subj[0], went[0] ? "shift.core.hrv.ath1" : "core.hrv.ath1");
      assert_string_equal(subj[1], went[1] ? "shift.vendor.oura.sleep" : "vendor.oura.sleep");
      /* The vendor choice is the id's alone, as the core one is. */
      assert_true(went[1] == ingest_shift_goes_new(id, cases[c].vendor));
      assert_true(ingest_shift_subject(share, INGEST_ROOT_VENDOR, "shift.", id, "sleep", again,
                                       sizeof again) == went[1]);
      assert_string_equal(again, subj[1]);
      n_new[0] += went[0];
      n_new[1] += went[1];
      differ += went[0] != went[1];
    }
    for (int r = 0; r < 2; r++) {
      double measured = 100.0 * n_new[r] / 20000.0;
      if (fabs(measured - share[r]) > 1)
        fail_msg("core %g%%, vendor %g%%: %s measured %.2f%%", share[0], share[1], r ? "vendor" : "core",
                 measured);
    }
    /* Different shares send the same ids different ways (about |core - vendor| of them). */
    double apart = 100.0 * differ / 20000.0;
    if (fabs(apart - fabs(share[0] - share[1])) > 1)
      fail_msg("core %g%%, vendor %g%%: %.2f%% of ids went different ways", share[0], share[1], apart);
  }
}

/* INGEST_SHIFT_VENDOR is a key of its own: set alone it splits vendor documents only. */
static void test_shift_vendor_config(void **state) {
  (void)state;
  setenv("INGEST_SHIFT_VENDOR", "aa_traffic/vendor", 1);
  ingest_config c;
  gg_error err;
  assert_int_equal(ingest_config_load(&c, &err), GG_OK);
  assert_string_equal(c.shift_vendor, "aa_traffic/vendor");
  assert_null(c.shift_core);
  assert_string_equal(c.shift_prefix, "shift.");
  ingest_config_release(&c);
  setenv("INGEST_SHIFT_CORE", "aa_traffic/core", 1);
  assert_int_equal(ingest_config_load(&c, &err), GG_OK);
  assert_string_equal(c.shift_core, "aa_traffic/core");
  assert_string_equal(c.shift_vendor, "aa_traffic/vendor");
  ingest_config_release(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_defaults, clear_env),
      cmocka_unit_test_setup(test_values_are_read, clear_env),
      cmocka_unit_test_setup(test_bad_values_name_the_variable, clear_env),
      cmocka_unit_test_setup(test_nats_credentials_never_shown, clear_env),
      cmocka_unit_test(test_hmac_known_vector),
      cmocka_unit_test(test_hmac_rejects),
      cmocka_unit_test(test_content_types),
      cmocka_unit_test(test_shift_values),
      cmocka_unit_test(test_shift_choice),
      cmocka_unit_test(test_shift_vendor_choice),
      cmocka_unit_test_setup(test_shift_vendor_config, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
