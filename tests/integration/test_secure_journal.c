/* The shared journal on the secured sandbox's PostgreSQL (TLS, scram-sha-256 password in
 * PG_URL): every verb works through a URL that holds a password, and no output of any of them
 * holds it; a wrong password is exit 3, the command doing nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static const char *bin;
static char dir[64], plan_path[128], dbname[64], url[1024], password[256];

static const char PLAN[] =
    "migration: secure-journal\n"
    "journal: ${GG_TEST_JOURNAL}\n"
    "roles:\n"
    "  - { id: platform-lead, title: Platform Team Lead }\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: Nothing\n"
    "    approvals: [platform-lead]\n"
    "    actions:\n"
    "      - wait: 1s\n";

#define gonogo(out, ...) support_gonogo(bin, out, __VA_ARGS__)

static bool admin(const char *sql) {
  PGconn *c = PQconnectdb(getenv("PG_URL"));
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult *r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
  }
  PQfinish(c);
  return ok;
}

static int setup(void **state) {
  (void)state;
  bin = support_need_env("test_secure_journal", "GONOGO_BIN");
  const char *pg = support_need_env("test_secure_journal", "PG_URL");
  const char *at = strrchr(pg, '@'), *colon = strchr(pg + strlen("postgresql://"), ':');
  if (!at || !colon || colon > at) {
    fprintf(stderr, "PG_URL holds no password: run against `sandbox up --secure`\n");
    return -1;
  }
  snprintf(password, sizeof password, "%.*s", (int)(at - colon - 1), colon + 1);
  snprintf(dir, sizeof dir, "/tmp/gg-secure-journal-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(PLAN, f);
  fclose(f);
  snprintf(dbname, sizeof dbname, "gg_sj_%ld", (long)getpid());
  char sql[128];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
  if (!admin(sql)) return -1;
  const char *slash = strchr(at, '/'), *q = strchr(at, '?');
  snprintf(url, sizeof url, "%.*s/%s%s", (int)(slash - pg), pg, dbname, q ? q : "");
  setenv("GG_TEST_JOURNAL", url, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return -1;
  snprintf(cmd, sizeof cmd, "DROP DATABASE %s WITH (FORCE)", dbname);
  return admin(cmd) ? 0 : -1;
}

static void no_password(const char *what, char *out) {
  if (strstr(out, password)) fail_msg("%s printed the journal's password: %s", what, out);
  free(out);
}

static void test_password_never_printed(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "0", "--role", "platform-lead", "--by", "alice", NULL),
      0);
  no_password("approve", out);
  assert_int_equal(gonogo(&out, "status", plan_path, NULL), 0);
  assert_non_null(strstr(out, "***@"));
  assert_non_null(strstr(out, "alice"));
  no_password("status", out);
  assert_int_equal(gonogo(&out, "status", plan_path, "--json", NULL), 0);
  no_password("status --json", out);
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  no_password("report", out);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 0);
  no_password("journal verify", out);
  char copy[160];
  snprintf(copy, sizeof copy, "%s/copy.db", dir);
  assert_int_equal(gonogo(&out, "journal", "copy", "--from", url, "--to", copy, NULL), 0);
  no_password("journal copy", out);

  /* A wrong password: exit 3, nothing done, and neither password printed. */
  char bad[1024];
  const char *p = strstr(url, password);
  snprintf(bad, sizeof bad, "%.*swrong-pw%s", (int)(p - url), url, p + strlen(password));
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "incident", "--journal", bad, NULL), 3);
  assert_non_null(strstr(out, "password authentication failed"));
  assert_null(strstr(out, "wrong-pw"));
  no_password("mark with a wrong password", out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_password_never_printed, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
