/* Integration tests of the shared journal through the real gonogo binary (GONOGO_BIN): one
 * PostgreSQL database (a fresh one of the sandbox's server a test) named by the plan's
 * `journal: ${VAR}` or --journal: what one command records every other sees; journal verify
 * finds tampering done with the guards dropped (exit 2, the first bad row named); journal copy
 * moves a record file -> database -> file with its hashes; an unreachable database is exit 3 and
 * its password is never printed; watch rides out the database going away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal/journal.h"
#include "support.h"

static const char *bin;
static char dir[64];
static char plan_path[128];
static char dbname[64];
static char url[512];

static const char PLAN[] =
    "migration: shared-fixture\n"
    "journal: ${GG_TEST_JOURNAL}\n"
    "roles:\n"
    "  - { id: platform-lead, title: Platform Team Lead }\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: Create the DLQ stream\n"
    "    approvals: [platform-lead]\n"
    "    go:\n"
    "      - { name: \"Team notified\", attest: team-notified }\n"
    "    actions:\n"
    "      - wait: 1s\n";

#define gonogo(out, ...) support_gonogo(bin, out, __VA_ARGS__)

/* SQL on the sandbox server's own database (`db` NULL) or on the test's; false on failure. */
static bool pg_sql(bool on_test_db, const char *sql) {
  PGconn *c = PQconnectdb(on_test_db ? url : getenv("PG_URL"));
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "sql: %s", PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(c);
  return ok;
}

/* The URL of database `name` on the sandbox's server: PG_URL with its path replaced. */
static void url_of(const char *name, char *out, size_t n) {
  const char *base = getenv("PG_URL");
  const char *q = strchr(base, '?');
  const char *slash = strrchr(base, '/');
  snprintf(out, n, "%.*s/%s%s", (int)(slash - base), base, name, q ? q : "");
}

static int setup(void **state) {
  (void)state;
  bin = getenv("GONOGO_BIN");
  if (!bin || !getenv("PG_URL")) {
    fprintf(stderr, "GONOGO_BIN and PG_URL must be set (run through ctest with the sandbox env)\n");
    return -1;
  }
  snprintf(dir, sizeof dir, "/tmp/gg-journal-shared-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(PLAN, f);
  fclose(f);
  static int n;
  snprintf(dbname, sizeof dbname, "gg_js_%ld_%d", (long)getpid(), ++n);
  char sql[128];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
  if (!pg_sql(false, sql)) return -1;
  url_of(dbname, url, sizeof url);
  setenv("GG_TEST_JOURNAL", url, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return -1;
  snprintf(cmd, sizeof cmd, "DROP DATABASE %s WITH (FORCE)", dbname);
  return pg_sql(false, cmd) ? 0 : -1;
}

/* Five marks recorded through the CLI. */
static void five_marks(const char *where) {
  for (int i = 0; i < 5; i++) {
    char note[16];
    snprintf(note, sizeof note, "m%d", i + 1);
    int rc = where ? gonogo(NULL, "mark", plan_path, "--event", "deployment", "--by", "alice", "--note", note,
                            "--journal", where, NULL)
                   : gonogo(NULL, "mark", plan_path, "--event", "deployment", "--by", "alice", "--note", note,
                            NULL);
    assert_int_equal(rc, 0);
  }
}

/* `journal verify` exits `want`; with want 2 its message names `bad`. */
static void expect_verify(int want, const char *bad) {
  char *out = NULL;
  int rc = gonogo(&out, "journal", "verify", plan_path, NULL);
  if (rc != want) fail_msg("journal verify exited %d, not %d: %s", rc, want, out);
  if (bad && !strstr(out, bad)) fail_msg("journal verify does not say '%s': %s", bad, out);
  free(out);
}

/* What one command records, every other command (another plan copy, another "host") sees. */
static void test_one_record_seen_everywhere(void **state) {
  (void)state;
  assert_int_equal(
      gonogo(NULL, "attest", plan_path, "--phase", "0", "--item", "team-notified", "--by", "bob", NULL), 0);
  assert_int_equal(
      gonogo(NULL, "approve", plan_path, "--phase", "0", "--role", "platform-lead", "--by", "alice", NULL),
      0);
  /* A second checkout of the plan elsewhere, with no file of its own: the same record. */
  char other[160];
  snprintf(other, sizeof other, "%s/elsewhere", dir);
  assert_int_equal(mkdir(other, 0755), 0);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s/plan.yaml'", plan_path, other);
  assert_int_equal(system(cmd), 0);
  snprintf(other, sizeof other, "%s/elsewhere/plan.yaml", dir);
  char *out = NULL;
  assert_int_equal(gonogo(&out, "status", other, NULL), 0);
  assert_non_null(strstr(out, "alice"));
  assert_non_null(strstr(out, "team-notified"));
  assert_non_null(strstr(out, dbname));
  assert_null(strstr(out, "none yet"));
  free(out);
  assert_int_equal(gonogo(&out, "report", other, "--format", "json", NULL), 0);
  assert_non_null(strstr(out, "alice"));
  free(out);
  assert_int_equal(gonogo(&out, "check", other, "--phase", "0", NULL), 0);
  free(out);
  snprintf(cmd, sizeof cmd, "%s/elsewhere/.gonogo", dir);
  assert_int_not_equal(access(cmd, F_OK), 0); /* nothing was written beside the plan */
  expect_verify(0, NULL);
}

/* Edited, deleted, inserted and reordered rows, each after the guards were dropped: exit 2
 * naming the first bad row; put back, the chain verifies again (the check is the chain's). */
static void test_tamper_found_without_guards(void **state) {
  (void)state;
  five_marks(NULL);
  expect_verify(0, NULL);
  assert_true(pg_sql(true, "DROP TRIGGER events_no_change ON events"));

  assert_true(pg_sql(true, "CREATE TABLE saved AS SELECT * FROM events"));
  assert_true(pg_sql(true, "UPDATE events SET content = replace(content, 'm3', 'mX') WHERE seq = 3"));
  expect_verify(2, "row 3");
  assert_true(
      pg_sql(true, "UPDATE events SET content = (SELECT content FROM saved WHERE seq = 3) WHERE seq = 3"));
  expect_verify(0, NULL);

  assert_true(pg_sql(true, "DELETE FROM events WHERE seq = 2"));
  expect_verify(2, "row 2 is missing");
  assert_true(pg_sql(true, "INSERT INTO events SELECT * FROM saved WHERE seq = 2"));
  expect_verify(0, NULL);

  assert_true(pg_sql(true,
                     "UPDATE events SET seq = -1 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 4;"
                     "UPDATE events SET seq = 4 WHERE seq = -1"));
  expect_verify(2, "row 2");
  assert_true(pg_sql(true,
                     "UPDATE events SET seq = -1 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 4;"
                     "UPDATE events SET seq = 4 WHERE seq = -1"));
  expect_verify(0, NULL);

  /* A row added behind gonogo's back, even with a correctly computed hash: inserted. */
  journal *j = NULL;
  assert_int_equal(journal_open(url, JOURNAL_OPEN_READONLY, &j, NULL), GG_OK);
  journal_event *last = NULL;
  assert_int_equal(journal_last_event(j, JOURNAL_MARK, JOURNAL_ANY_PHASE, &last, NULL), GG_OK);
  journal_close(j);
  char h[JOURNAL_HASH_HEX], sql[1024];
  assert_int_equal(
      journal_row_hash(6, 1700000000000LL, "note", NULL, "mallory", "m", "h", "{}", last->hash, h, NULL),
      GG_OK);
  snprintf(
      sql, sizeof sql,
      "INSERT INTO events VALUES (6, 1700000000000, 'note', NULL, 'mallory', 'm', 'h', '{}', '%s', '%s')",
      last->hash, h);
  journal_events_free(last, 1);
  assert_true(pg_sql(true, sql));
  expect_verify(2, "row 6");
  assert_true(pg_sql(true, "DELETE FROM events WHERE seq = 6"));
  expect_verify(0, NULL);
  /* Rows removed at the end with the recorded head rewritten: the head anchor table names row 5. */
  assert_true(
      pg_sql(true,
             "DELETE FROM events WHERE seq >= 5; UPDATE meta SET value = '4' WHERE key = 'head_seq';"
             "UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 4) WHERE key = 'head_hash'"));
  expect_verify(2, "row 5");
}

/* file -> database -> file: every row and hash kept, both sides verified, a head taken from the
 * file still anchors the copies. */
static void test_copy_both_ways(void **state) {
  (void)state;
  char file[160], back[160];
  snprintf(file, sizeof file, "%s/local.db", dir);
  snprintf(back, sizeof back, "sqlite:%s/back.db", dir);
  five_marks(file);
  char *out = NULL;
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--journal", file, "--json", NULL), 0);
  char *head = strstr(out, "\"head\":\"");
  assert_non_null(head);
  char anchor[100];
  snprintf(anchor, sizeof anchor, "%.*s", (int)strcspn(head + 8, "\""), head + 8);
  free(out);

  assert_int_equal(gonogo(&out, "journal", "copy", "--from", file, "--to", url, NULL), 0);
  assert_non_null(strstr(out, "copied 5 events"));
  free(out);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--expect-head", anchor, NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "journal", "copy", "--from", url, "--to", back, NULL), 0);
  free(out);
  assert_int_equal(
      gonogo(&out, "journal", "verify", plan_path, "--journal", back, "--expect-head", anchor, NULL), 0);
  free(out);

  /* The rows are the same rows: the logs of all three agree to the byte. */
  char *a = NULL, *b = NULL, *c = NULL;
  assert_int_equal(gonogo(&a, "journal", "log", plan_path, "--journal", file, "--json", NULL), 0);
  assert_int_equal(gonogo(&b, "journal", "log", plan_path, "--json", NULL), 0);
  assert_int_equal(gonogo(&c, "journal", "log", plan_path, "--journal", back, "--json", NULL), 0);
  assert_string_equal(a, b);
  assert_string_equal(b, c);
  free(a);
  free(b);
  free(c);

  /* Not into a journal that has events; not from a damaged one. */
  assert_int_equal(gonogo(&out, "journal", "copy", "--from", file, "--to", url, NULL), 3);
  assert_non_null(strstr(out, "already has events"));
  free(out);
  assert_true(pg_sql(true,
                     "DROP TRIGGER events_no_change ON events;"
                     "UPDATE events SET actor = 'mallory' WHERE seq = 2"));
  char fresh[160];
  snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
  assert_int_equal(gonogo(&out, "journal", "copy", "--from", url, "--to", fresh, NULL), 2);
  assert_non_null(strstr(out, "damaged at row 2"));
  free(out);
}

/* A database that does not answer: exit 3, nothing done, and its password never printed. */
static void test_unreachable_database(void **state) {
  (void)state;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
  close(s); /* nothing listens there now */
  char bad[160];
  snprintf(bad, sizeof bad, "postgres://alice:s3cret-pw@127.0.0.1:%d/team", ntohs(a.sin_port));
  const char *verbs[][3] = {{"status", NULL, NULL}, {"mark", "--event", "incident"}, {"report", NULL, NULL}};
  for (size_t i = 0; i < 3; i++) {
    char *out = NULL;
    int rc = verbs[i][1]
                 ? gonogo(&out, verbs[i][0], plan_path, verbs[i][1], verbs[i][2], "--journal", bad, NULL)
                 : gonogo(&out, verbs[i][0], plan_path, "--journal", bad, NULL);
    if (rc != 3) fail_msg("%s exited %d: %s", verbs[i][0], rc, out);
    assert_non_null(strstr(out, "unreachable"));
    assert_non_null(strstr(out, "127.0.0.1"));
    assert_null(strstr(out, "s3cret-pw"));
    free(out);
  }
  /* The same through the plan's journal: ${VAR}. */
  setenv("GG_TEST_JOURNAL", bad, 1);
  char *out = NULL;
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "0", "--role", "platform-lead", "--by", "alice", NULL),
      3);
  assert_null(strstr(out, "s3cret-pw"));
  free(out);
  setenv("GG_TEST_JOURNAL", url, 1);
  assert_int_equal(gonogo(&out, "journal", "log", plan_path, NULL), 0);
  assert_non_null(strstr(out, "no journal yet"));
  free(out);
}

/* A lease taken by a process on the shared journal is what status (anywhere) shows (the lease
 * itself between processes: test_journal_chain_pg). */
static void test_lease_seen_from_elsewhere(void **state) {
  (void)state;
  journal *j = NULL;
  assert_int_equal(journal_open(url, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  assert_int_equal(journal_lock_acquire(j, "gonogo run phase 0 (erin)", 600, false, NULL, NULL), GG_OK);
  char *out = NULL;
  assert_int_equal(gonogo(&out, "status", plan_path, NULL), 0);
  assert_non_null(strstr(out, "gonogo run phase 0 (erin)"));
  free(out);
  assert_int_equal(journal_lock_release(j, NULL), GG_OK);
  journal_close(j);
}

/* Whether `path` holds `text`. */
static bool file_has(const char *path, const char *text) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, text) != NULL;
}

/* The rule_firing events of the shared journal (their count; the first one's time in *first). */
static size_t firings(double *first) {
  journal *j = NULL;
  if (journal_open(url, JOURNAL_OPEN_READONLY, &j, NULL) != GG_OK) return 0;
  journal_filter f = journal_filter_all();
  f.kind = "rule_firing";
  journal_event *ev = NULL;
  size_t n = 0;
  if (journal_events(j, &f, &ev, &n, NULL) == GG_OK && n > 0 && first) *first = ev[0].time;
  journal_events_free(ev, n);
  journal_close(j);
  return n;
}

/* Whether the watch has journaled its start (a note {"watch":"started"}). */
static bool watch_started(void) {
  journal *j = NULL;
  if (journal_open(url, JOURNAL_OPEN_READONLY, &j, NULL) != GG_OK) return false;
  journal_event *ev = NULL;
  bool yes = journal_last_event(j, JOURNAL_NOTE, JOURNAL_ANY_PHASE, &ev, NULL) == GG_OK &&
             strstr(ev->content, "\"watch\":\"started\"") != NULL;
  journal_events_free(ev, yes || ev ? 1 : 0);
  journal_close(j);
  return yes;
}

/* The journal database goes away under a running watch: watch keeps watching, keeps the rule
 * firing it could not record and the samples of its ticks, says so, and appends them (with the
 * times they happened) once the database answers again; the chain is intact. */
static void test_watch_rides_out_an_outage(void **state) {
  (void)state;
  char wplan[160], flag[160], errlog[160];
  snprintf(wplan, sizeof wplan, "%s/watch.yaml", dir);
  snprintf(flag, sizeof flag, "%s/flag", dir);
  snprintf(errlog, sizeof errlog, "%s/watch.err", dir);
  FILE *f = fopen(wplan, "w");
  assert_non_null(f);
  fprintf(f,
          "migration: watch-outage\n"
          "journal: ${GG_TEST_JOURNAL}\n"
          "phases:\n"
          "  - { id: 0, name: Nothing, actions: [ { wait: 1s } ] }\n"
          "monitor:\n"
          "  interval: 1s\n"
          "  rules:\n"
          "    - { name: Flag up, when: 'file.age{path=\"%s\"} >= 0', for: 0s, then: advise }\n",
          flag);
  fclose(f);
  journal *j = NULL;
  assert_int_equal(journal_open(url, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_STARTED, "0", "test", NULL, NULL, NULL), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_COMPLETED, "0", "test", NULL, NULL, NULL), GG_OK);
  journal_close(j);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    FILE *e = freopen(errlog, "w", stderr);
    FILE *o = freopen("/dev/null", "w", stdout);
    (void)e;
    (void)o;
    execl(bin, bin, "watch", wplan, "--listen", "none", (char *)NULL);
    _exit(127);
  }
  /* Up and watching (its "started" note is in), then the database refuses everyone. */
  for (int i = 0; i < 300 && !watch_started(); i++) usleep(100 * 1000);
  assert_true(watch_started());
  char sql[256];
  snprintf(sql, sizeof sql,
           "ALTER DATABASE %s ALLOW_CONNECTIONS false;"
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'",
           dbname, dbname);
  assert_true(pg_sql(false, sql));
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double down = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  f = fopen(flag, "w");
  assert_non_null(f);
  fclose(f);
  for (int i = 0; i < 600 && !file_has(errlog, "event kept to append later"); i++) usleep(100 * 1000);
  assert_true(file_has(errlog, "event kept to append later"));
  assert_true(file_has(errlog, "kind=rule_firing"));
  sleep(3); /* a few ticks whose samples the journal cannot take; watch says it holds them */
  assert_true(file_has(errlog, "journal samples: "));
  assert_true(file_has(errlog, " held for the next tick"));
  clock_gettime(CLOCK_REALTIME, &ts);
  double allowed = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS true", dbname);
  assert_true(pg_sql(false, sql));
  double first = 0;
  for (int i = 0; i < 600 && firings(&first) == 0; i++) usleep(100 * 1000);
  assert_int_equal(firings(&first), 1);
  assert_true(first < allowed); /* recorded with the time it fired, during the outage */
  for (int i = 0; i < 100 && !file_has(errlog, "journal reachable again"); i++) usleep(100 * 1000);
  assert_true(file_has(errlog, "journal reachable again"));
  /* The samples of the ticks during the outage were held and are in, with their own times:
   * no hole in the history check's rate() windows read. */
  for (int i = 0; i < 100 && !file_has(errlog, "journal samples caught up"); i++) usleep(100 * 1000);
  assert_true(file_has(errlog, "journal samples caught up"));
  assert_int_equal(journal_open(url, JOURNAL_OPEN_READONLY, &j, NULL), GG_OK);
  journal_sample_row *rows = NULL;
  size_t nrows = 0;
  assert_int_equal(journal_samples_query(j, "file.age", down, allowed, &rows, &nrows, NULL), GG_OK);
  print_message("samples of file.age taken during the outage: %zu\n", nrows);
  assert_true(nrows >= 2);
  journal_sample_rows_free(rows, nrows);
  journal_close(j);
  assert_int_equal(kill(pid, SIGTERM), 0);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  char *out = NULL;
  assert_int_equal(gonogo(&out, "journal", "verify", wplan, NULL), 0);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_one_record_seen_everywhere, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tamper_found_without_guards, setup, teardown),
      cmocka_unit_test_setup_teardown(test_copy_both_ways, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreachable_database, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lease_seen_from_elsewhere, setup, teardown),
      cmocka_unit_test_setup_teardown(test_watch_rides_out_an_outage, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
