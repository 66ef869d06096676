/* base/secret: the stand-in labels, and the redaction of server lists as the services log them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/secret.h"

static void test_label_never_shows_the_value(void **state) {
  (void)state;
  gg_secret s;
  assert_true(gg_secret_set(&s, "postgres://u:pw@h/db", "${PG_URL}"));
  assert_true(gg_secret_present(&s));
  assert_string_equal(gg_secret_reveal(&s), "postgres://u:pw@h/db");
  assert_string_equal(gg_secret_label(&s), "<secret ${PG_URL}>");
  gg_secret_release(&s);
  assert_false(gg_secret_present(&s));
  assert_string_equal(gg_secret_label(&s), "");
  assert_true(gg_secret_set(&s, "x", NULL));
  assert_string_equal(gg_secret_label(&s), "<secret>");
  gg_secret_release(&s);
}

static void test_server_list_is_masked(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
      {"nats://user:pass@127.0.0.1:4222", "nats://***@127.0.0.1:4222"},
      {"nats://user:pass@n1:4222,nats://s3cr3t@n2:4223, tls://u:p@ss@n3:4224 ,nats://n4:4225",
       "nats://***@n1:4222,nats://***@n2:4223, tls://***@n3:4224 ,nats://n4:4225"},
      {"user:pass@n1:4222,token@n2", "***@n1:4222,***@n2"}, /* nats.c adds nats:// itself */
      {"nats://n1:4222,,", "nats://n1:4222,,"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[256];
    gg_secret_redact_urls(cases[i].in, out, sizeof out);
    if (strcmp(out, cases[i].out) != 0)
      fail_msg("redact '%s' = '%s', want '%s'", cases[i].in, out, cases[i].out);
  }
  char tiny[16];
  gg_secret_redact_urls("nats://user:pass@n1:4222", tiny, sizeof tiny);
  assert_string_equal(tiny, "nats://***@n1:4");
  assert_null(gg_secret_redact_urls(NULL, NULL, 0));
  gg_secret_redact_urls(NULL, tiny, sizeof tiny);
  assert_string_equal(tiny, "");
}

static void test_text_is_masked(void **state) {
  (void)state;
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"psql \"postgres://migrator:s3cr3t@127.0.0.1:5432/db\" -c 'select 1'",
       "psql \"postgres://***@127.0.0.1:5432/db\" -c 'select 1'"},
      {"curl -fsS http://u:p@host/x?a=1 && curl https://tok@h2",
       "curl -fsS http://***@host/x?a=1 && curl https://***@h2"},
      {"nats://a@b", "nats://***@b"},
      {"psql 'host=db password=hunter2 user=x'", "psql 'host=db password=*** user=x'"},
      {"PGPASSWORD=x psql", "PGPASSWORD=x psql"}, /* not a parameter name of its own */
      {"x --token=abc;y", "x --token=***;y"},
      {"no url here: a://b, mail@example.org", "no url here: a://b, mail@example.org"},
      {"http://host/path@x", "http://host/path@x"}, /* '@' after the authority */
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = gg_secret_mask_text(cases[i].in);
    assert_non_null(got);
    if (strcmp(got, cases[i].want) != 0)
      fail_msg("'%s': got '%s', want '%s'", cases[i].in, got, cases[i].want);
    free(got);
  }
  char *empty = gg_secret_mask_text(NULL);
  assert_string_equal(empty, "");
  free(empty);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_label_never_shows_the_value),
                                     cmocka_unit_test(test_server_list_is_masked),
                                     cmocka_unit_test(test_text_is_masked)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
