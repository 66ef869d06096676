/* Integration tests of the journal's chain under real processes: concurrent writers, a writer
 * killed with SIGKILL in the middle of appending, and the lease between processes. As
 * test_journal_chain the journal is a local file (no servers needed); built with JOURNAL_TEST_PG
 * as test_journal_chain_pg it is a schema of the sandbox's PostgreSQL (PG_URL), which is how a
 * team shares one journal from many hosts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal/journal.h"

#define WRITERS 4
#ifdef JOURNAL_TEST_PG
#define ON_PG 1
#define PER_WRITER 25 /* 4 processes x 25 appends at once: one chain of 100 */
#else
#define ON_PG 0
#define PER_WRITER 150
#endif

static char dir[64];
static char path[512];
static char schema[64];

/* PG: run SQL on the sandbox database (outside any test schema); false on failure. */
static bool pg_admin(const char *sql) {
  const char *url = getenv("PG_URL");
  PGconn *c = url ? PQconnectdb(url) : NULL;
  bool ok = c && PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "admin: %s", PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(c);
  return ok;
}
static int gate[2] = {-1, -1}; /* writers block reading gate[0] until the parent closes gate[1] */

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gg-journal-it-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(path, sizeof path, "%s/j.db", dir);
  if (ON_PG) {
    static int n;
    const char *url = getenv("PG_URL");
    if (!url) {
      fprintf(stderr, "PG_URL is not set: source the sandbox env\n");
      return -1;
    }
    snprintf(schema, sizeof schema, "gg_jc_%ld_%d", (long)getpid(), ++n);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    if (!pg_admin(sql)) return -1;
    snprintf(path, sizeof path, "%s%soptions=-csearch_path%%3D%s", url, strchr(url, '?') ? "&" : "?", schema);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return -1;
  if (ON_PG) {
    snprintf(cmd, sizeof cmd, "DROP SCHEMA %s CASCADE", schema);
    if (!pg_admin(cmd)) return -1;
  }
  return 0;
}

/* A writer process: appends `count` events (count < 0: forever) with a payload big enough that
 * a transaction takes a moment. Exits 0 when done, 1 on the first failure (printing why). */
static void writer(int id, int count) {
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (journal_open(path, JOURNAL_OPEN_CREATE, &j, &err) != GG_OK) {
    fprintf(stderr, "writer %d: %s\n", id, gg_error_message(&err));
    _exit(1);
  }
  if (gate[0] >= 0) {
    char c;
    close(gate[1]);
    while (read(gate[0], &c, 1) > 0) {
    }
  }
  char pad[2048];
  memset(pad, 'x', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  for (int i = 0; count < 0 || i < count; i++) {
    char phase[16];
    snprintf(phase, sizeof phase, "%d", id);
    json_t *c = json_pack("{s:i, s:i, s:s}", "writer", id, "i", i, "pad", pad);
    gg_status s = journal_append(j, JOURNAL_NOTE, phase, "writer", c, NULL, &err);
    json_decref(c);
    if (s != GG_OK) {
      fprintf(stderr, "writer %d event %d: %s\n", id, i, gg_error_message(&err));
      _exit(1);
    }
    if (count > 0) usleep(200); /* let the others in: SQLite's busy wait is not fair */
  }
  journal_close(j);
  _exit(0);
}

static pid_t spawn_writer(int id, int count) {
  pid_t pid = fork();
  if (pid == 0) writer(id, count);
  assert_true(pid > 0);
  return pid;
}

static long long verify_ok(void) {
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_open(path, JOURNAL_OPEN_READONLY, &j, &err), GG_OK);
  journal_verify_result r;
  assert_int_equal(journal_verify(j, &r, &err), GG_OK);
  if (!r.ok) fail_msg("verify: row %lld: %s", r.bad_seq, r.what);
  journal_close(j);
  return r.rows;
}

static void test_concurrent_writers_one_chain(void **state) {
  (void)state;
  /* No file yet: the writers also race to create it and its schema. */
  journal *j = NULL;

  pid_t pids[WRITERS];
  assert_int_equal(pipe(gate), 0);
  for (int w = 0; w < WRITERS; w++) pids[w] = spawn_writer(w, PER_WRITER);
  close(gate[0]);
  close(gate[1]); /* all start at once */
  gate[0] = gate[1] = -1;
  for (int w = 0; w < WRITERS; w++) {
    int status = 0;
    assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  assert_int_equal(verify_ok(), WRITERS * PER_WRITER);

  /* Every event of every writer is there exactly once, each writer's in its own order, and the
   * writers really interleaved (otherwise this test would prove nothing about concurrency). */
  assert_int_equal(journal_open(path, JOURNAL_OPEN_READONLY, &j, NULL), GG_OK);
  journal_event *ev = NULL;
  size_t n = 0;
  assert_int_equal(journal_events(j, NULL, &ev, &n, NULL), GG_OK);
  assert_int_equal(n, WRITERS * PER_WRITER);
  int next[WRITERS] = {0};
  int switches = 0, last_writer = -1;
  for (size_t i = 0; i < n; i++) {
    json_t *c = journal_event_content(&ev[i]);
    assert_non_null(c);
    int w = (int)json_integer_value(json_object_get(c, "writer"));
    int k = (int)json_integer_value(json_object_get(c, "i"));
    json_decref(c);
    assert_true(w >= 0 && w < WRITERS);
    char phase[16];
    snprintf(phase, sizeof phase, "%d", w);
    assert_string_equal(ev[i].phase, phase);
    assert_int_equal(k, next[w]);
    next[w]++;
    if (last_writer != -1 && w != last_writer) switches++;
    last_writer = w;
  }
  for (int w = 0; w < WRITERS; w++) assert_int_equal(next[w], PER_WRITER);
  assert_true(switches >= WRITERS);
  journal_events_free(ev, n);
  journal_close(j);
}

static void test_sigkill_mid_append_leaves_valid_chain(void **state) {
  (void)state;
  journal *j = NULL;
  assert_int_equal(journal_open(path, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  journal_close(j);
  srand((unsigned)time(NULL));
  long long before = 0;
  for (int round = 0; round < 6; round++) {
    /* Two writers; one is killed at a random moment while both append. */
    pid_t victim = spawn_writer(10 + round, -1);
    pid_t survivor = spawn_writer(20 + round, 40);
    struct timespec ts = {0, (long)(50 + rand() % 250) * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(kill(victim, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(victim, &status, 0), victim);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(waitpid(survivor, &status, 0), survivor);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long long rows = verify_ok();
    assert_true(rows >= before + 40);
    before = rows;
  }
  /* And the journal still takes appends after all that. */
  assert_int_equal(journal_open(path, 0, &j, NULL), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_NOTE, JOURNAL_NO_PHASE, NULL, NULL, NULL, NULL), GG_OK);
  journal_close(j);
  assert_int_equal(verify_ok(), before + 1);
}

/* Two real processes contend for the lease: the holder is named, a dead holder's lease is stale
 * and only taken with break, and the break is journaled. */
static void test_lease_between_processes(void **state) {
  (void)state;
  journal *j = NULL;
  assert_int_equal(journal_open(path, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  int ready[2], hold[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(hold), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    journal *c = NULL;
    close(ready[0]);
    close(hold[1]);
    char ok = journal_open(path, 0, &c, NULL) == GG_OK &&
                      journal_lock_acquire(c, "gonogo run phase 2 (alice)", 600, false, NULL, NULL) == GG_OK
                  ? 'y'
                  : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    char x;
    while (read(hold[0], &x, 1) > 0) {
    }
    _exit(0); /* never reached in this test: the parent kills it */
  }
  close(ready[1]);
  close(hold[0]);
  char ok = 0;
  assert_int_equal(read(ready[0], &ok, 1), 1);
  assert_int_equal(ok, 'y');

  gg_error err;
  gg_error_clear(&err);
  journal_lease other;
  assert_int_equal(journal_lock_acquire(j, "gonogo watch (bob)", 60, true, &other, &err), GG_ERR_LOCKED);
  assert_int_equal(other.pid, (long)pid);
  char want[160];
  snprintf(want, sizeof want, "locked by 'gonogo run phase 2 (alice)' (pid %ld on %s) since ", (long)pid,
           journal_host());
  assert_non_null(strstr(err.msg, want));

  assert_int_equal(kill(pid, SIGKILL), 0);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  close(ready[0]);
  close(hold[1]);
  assert_int_equal(journal_lock_acquire(j, "gonogo watch (bob)", 60, false, NULL, &err), GG_ERR_LOCKED);
  snprintf(want, sizeof want, "process %ld is gone; take it over with --break-lock", (long)pid);
  assert_non_null(strstr(err.msg, want));
  assert_int_equal(journal_lock_acquire(j, "gonogo watch (bob)", 60, true, NULL, &err), GG_OK);
  journal_event *ev = NULL;
  assert_int_equal(journal_last_event(j, JOURNAL_LOCK_BROKEN, JOURNAL_ANY_PHASE, &ev, &err), GG_OK);
  assert_non_null(strstr(ev->content, "gonogo run phase 2 (alice)"));
  journal_events_free(ev, 1);
  assert_int_equal(journal_lock_release(j, &err), GG_OK);
  journal_close(j);
  assert_int_equal(verify_ok(), 4); /* taken, broken, taken, released */
}

/* A live holder's lease expires (it stopped renewing): refused while live, then stale by its
 * expiry (the holder still runs, so not by its pid), taken only with break, and journaled. */
static void test_lease_expiry_between_processes(void **state) {
  (void)state;
  journal *j = NULL;
  assert_int_equal(journal_open(path, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  int ready[2], hold[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(hold), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    journal *c = NULL;
    close(ready[0]);
    close(hold[1]);
    char ok = journal_open(path, 0, &c, NULL) == GG_OK &&
                      journal_lock_acquire(c, "gonogo run phase 3 (carol)", 1, false, NULL, NULL) == GG_OK
                  ? 'y'
                  : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    char x;
    while (read(hold[0], &x, 1) > 0) {
    }
    journal_close(c);
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char ok = 0;
  assert_int_equal(read(ready[0], &ok, 1), 1);
  assert_int_equal(ok, 'y');
  gg_error err;
  gg_error_clear(&err);
  bool held = false, stale = false;
  journal_lease l;
  /* Until it expires (a second), anyone else is refused; then it is stale. */
  for (int i = 0; i < 200; i++) {
    assert_int_equal(journal_lock_get(j, &held, &stale, &l, &err), GG_OK);
    assert_true(held);
    if (stale) break;
    gg_status s = journal_lock_acquire(j, "gonogo rollback (dave)", 60, false, NULL, &err);
    if (s == GG_OK) fail_msg("took a live lease");
    usleep(20 * 1000);
  }
  assert_true(stale);
  assert_int_equal(journal_lock_acquire(j, "gonogo rollback (dave)", 60, false, NULL, &err), GG_ERR_LOCKED);
  assert_non_null(strstr(err.msg, "its lease expired at"));
  assert_non_null(strstr(err.msg, "--break-lock"));
  assert_int_equal(journal_lock_acquire(j, "gonogo rollback (dave)", 60, true, NULL, &err), GG_OK);
  close(hold[1]); /* the old holder ends (its release finds the lease taken: touches nothing) */
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  close(ready[0]);
  assert_int_equal(journal_lock_get(j, &held, &stale, &l, &err), GG_OK);
  assert_string_equal(l.holder, "gonogo rollback (dave)");
  journal_event *ev = NULL;
  assert_int_equal(journal_last_event(j, JOURNAL_LOCK_BROKEN, JOURNAL_ANY_PHASE, &ev, &err), GG_OK);
  assert_non_null(strstr(ev->content, "gonogo run phase 3 (carol)"));
  assert_non_null(strstr(ev->content, "expired"));
  journal_events_free(ev, 1);
  assert_int_equal(journal_lock_release(j, &err), GG_OK);
  journal_close(j);
  assert_int_equal(verify_ok(), 4); /* taken, broken, taken, released */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_lease_expiry_between_processes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_writers_one_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sigkill_mid_append_leaves_valid_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lease_between_processes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
