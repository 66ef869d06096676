/* Unit tests of the plan's connect.nats settings: one way to authenticate, TLS files, the
 * system account, empty values as absent, and each error at its file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/nkey.h"
#include "plan/plan.h"

static char dir[] = "/tmp/gg-plan-connect-XXXXXX";
static char seed_path[128], ca_path[128], bad_seed[128];

typedef struct {
  const char *names[8];
  const char *values[8];
} fake_env;

static const char *env_lookup(const char *name, void *ctx) {
  const fake_env *e = ctx;
  for (int i = 0; i < 8 && e->names[i]; i++)
    if (strcmp(e->names[i], name) == 0) return e->values[i];
  return NULL;
}

typedef struct {
  plan *p;
  plan_diags d;
  gg_status st;
} loaded;

static void load(loaded *l, const char *nats, fake_env *env) {
  char text[4096];
  snprintf(text, sizeof text, "migration: t\nconnect:\n  nats:\n%sphases: []\n", nats);
  plan_load_opts opts = {.lookup = env_lookup, .ctx = env};
  plan_diags_init(&l->d);
  gg_error err;
  gg_error_clear(&err);
  l->p = NULL;
  l->st = plan_load_buffer("plan.yaml", text, strlen(text), &opts, &l->p, &l->d, &err);
  for (size_t i = 0; i < l->d.count; i++) {
    char *s = plan_diag_format(&l->d, &l->d.items[i]);
    fprintf(stderr, "%s", s ? s : "");
    free(s);
  }
}

static void release(loaded *l) {
  plan_free(l->p);
  plan_diags_release(&l->d);
}

/* Exactly one error, at line:col, whose message holds `want`. */
static void expect_error(const char *nats, fake_env *env, int line, int col, const char *want) {
  loaded l;
  load(&l, nats, env);
  assert_int_equal(l.st, GG_ERR_PLAN);
  assert_int_equal(l.d.errors, 1);
  assert_int_equal(l.d.items[0].line, line);
  assert_int_equal(l.d.items[0].col, col);
  assert_non_null(strstr(l.d.items[0].message, want));
  release(&l);
}

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(dir)) return -1;
  char seed[GG_NKEY_SEED_LEN + 1], pub[GG_NKEY_PUBLIC_LEN + 1];
  if (gg_nkey_generate(seed, pub, NULL) != GG_OK) return -1;
  snprintf(seed_path, sizeof seed_path, "%s/user.seed", dir);
  snprintf(ca_path, sizeof ca_path, "%s/ca.pem", dir);
  snprintf(bad_seed, sizeof bad_seed, "%s/bad.seed", dir);
  FILE *f = fopen(seed_path, "w");
  fprintf(f, "%s\n", seed);
  fclose(f);
  f = fopen(ca_path, "w");
  fputs("-----BEGIN CERTIFICATE-----\n", f);
  fclose(f);
  f = fopen(bad_seed, "w");
  fputs("SUnotaseed\n", f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(seed_path);
  unlink(ca_path);
  unlink(bad_seed);
  rmdir(dir);
  return 0;
}

static void full_settings_load(void **state) {
  (void)state;
  fake_env env = {{"NATS_URL", "NATS_USER", "NATS_PASSWORD", "NATS_CA", "SYS_USER", "SYS_PASSWORD"},
                  {"tls://127.0.0.1:4222,tls://127.0.0.1:4223", "app", "pw1", ca_path, "sys", "pw2"}};
  loaded l;
  load(&l,
       "    servers: \"${NATS_URL}\"\n"
       "    user: \"${NATS_USER}\"\n"
       "    password: \"${NATS_PASSWORD}\"\n"
       "    tls: { ca: \"${NATS_CA}\" }\n"
       "    system: { user: \"${SYS_USER}\", password: \"${SYS_PASSWORD}\" }\n"
       "    expect_servers: 2\n",
       &env);
  assert_int_equal(l.st, GG_OK);
  const plan_nats *n = &l.p->connect.nats;
  assert_int_equal(n->nservers, 2);
  assert_string_equal(n->user, "app");
  assert_string_equal(gg_secret_reveal(&n->password), "pw1");
  assert_string_equal(gg_secret_label(&n->password), "<secret ${NATS_PASSWORD}>");
  assert_string_equal(n->tls_ca, ca_path);
  assert_null(n->tls_cert);
  assert_string_equal(n->sys_user, "sys");
  assert_string_equal(gg_secret_reveal(&n->sys_password), "pw2");
  assert_int_equal(n->expect_servers, 2);
  /* The plan's JSON shows labels, never the values. */
  json_t *doc = plan_to_json(l.p);
  char *js = json_dumps(doc, 0);
  json_decref(doc);
  assert_non_null(js);
  assert_null(strstr(js, "pw1"));
  assert_null(strstr(js, "pw2"));
  free(js);
  release(&l);
}

static void empty_values_are_absent(void **state) {
  (void)state;
  fake_env env = {{NULL}, {NULL}};
  loaded l;
  load(&l,
       "    servers: nats://127.0.0.1:4222\n"
       "    user: \"${NATS_USER:-}\"\n"
       "    password: \"${NATS_PASSWORD:-}\"\n"
       "    nkey: \"${NATS_NKEY_SEED:-}\"\n"
       "    creds: \"${NATS_CREDS:-}\"\n"
       "    tls: { ca: \"${NATS_CA:-}\" }\n"
       "    system: { user: \"${SYS:-}\", password: \"${SYSPW:-}\" }\n",
       &env);
  assert_int_equal(l.st, GG_OK);
  const plan_nats *n = &l.p->connect.nats;
  assert_null(n->user);
  assert_false(gg_secret_present(&n->password));
  assert_null(n->nkey);
  assert_null(n->credentials);
  assert_null(n->tls_ca);
  assert_null(n->sys_user);
  release(&l);
}

static void nkey_seed_file_loads(void **state) {
  (void)state;
  fake_env env = {{"SEED"}, {seed_path}};
  loaded l;
  load(&l, "    servers: nats://127.0.0.1:4222\n    nkey: \"${SEED}\"\n", &env);
  assert_int_equal(l.st, GG_OK);
  assert_string_equal(l.p->connect.nats.nkey, seed_path);
  release(&l);
}

static void two_methods_conflict(void **state) {
  (void)state;
  fake_env env = {{"U", "P", "T"}, {"app", "pw", "tok"}};
  expect_error(
      "    servers: nats://h:4222\n    user: \"${U}\"\n    password: \"${P}\"\n    token: \"${T}\"\n", &env,
      7, 12, "two ways to authenticate: 'user' and 'token'");
  fake_env env2 = {{"T", "SEED"}, {"tok", seed_path}};
  expect_error("    servers: nats://h:4222\n    token: \"${T}\"\n    nkey: \"${SEED}\"\n", &env2, 6, 11,
               "two ways to authenticate: 'token' and 'nkey'");
}

static void missing_files_are_errors(void **state) {
  (void)state;
  fake_env env = {{"C"}, {"/nonexistent/app.creds"}};
  expect_error("    servers: nats://h:4222\n    creds: \"${C}\"\n", &env, 5, 12,
               "connect.nats.creds: '/nonexistent/app.creds': file not found");
  fake_env env2 = {{"CA"}, {"/nonexistent/ca.pem"}};
  expect_error("    servers: nats://h:4222\n    tls:\n      ca: \"${CA}\"\n", &env2, 6, 11,
               "connect.nats.tls.ca: '/nonexistent/ca.pem': file not found");
  fake_env env3 = {{"C"}, {"/nonexistent/sys.creds"}};
  expect_error("    servers: nats://h:4222\n    system:\n      creds: \"${C}\"\n", &env3, 6, 14,
               "file not found");
}

static void unreadable_key_is_an_error(void **state) {
  (void)state;
  fake_env env = {{"SEED"}, {bad_seed}};
  expect_error("    servers: nats://h:4222\n    nkey: \"${SEED}\"\n", &env, 5, 11, "holds no nkey user seed");
}

static void cert_needs_key_and_password_needs_user(void **state) {
  (void)state;
  fake_env env = {{"CERT", "P"}, {ca_path, "pw"}};
  expect_error("    servers: nats://h:4222\n    tls: { cert: \"${CERT}\" }\n", &env, 5, 18,
               "'cert' and 'key' go together");
  expect_error("    servers: nats://h:4222\n    password: \"${P}\"\n", &env, 5, 15,
               "'password' without 'user'");
}

static void literal_password_refused(void **state) {
  (void)state;
  fake_env env = {{NULL}, {NULL}};
  expect_error("    servers: nats://h:4222\n    system: { user: sys, password: hunter2 }\n", &env, 5, 36,
               "must come from the environment");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_settings_load),
      cmocka_unit_test(empty_values_are_absent),
      cmocka_unit_test(nkey_seed_file_loads),
      cmocka_unit_test(two_methods_conflict),
      cmocka_unit_test(missing_files_are_errors),
      cmocka_unit_test(unreadable_key_is_an_error),
      cmocka_unit_test(cert_needs_key_and_password_needs_user),
      cmocka_unit_test(literal_password_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
