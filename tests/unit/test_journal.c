/* Unit tests of src/journal: canonical encoding, the chain, verify, schema versions, the lease,
 * sign-offs, phase state, series and samples. Each test works on its own file in a temp dir.
 *
 * The same suite runs on the PostgreSQL backend as the integration test test_journal_pg (built
 * with JOURNAL_TEST_PG): each test then works on its own schema of the sandbox database (PG_URL),
 * tampers through libpq, and skips only what is about the SQLite file itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <openssl/sha.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "journal/journal_int.h"

typedef struct {
  char dir[64];
  char path[512];  /* the journal: a file, or a PostgreSQL URL naming the test's schema */
  char schema[64]; /* PG: the test's schema */
} fixture;

#ifdef JOURNAL_TEST_PG
#define ON_PG 1
#else
#define ON_PG 0
#endif

/* PG: run SQL on the sandbox database (outside any test schema); false on failure. */
static bool pg_admin(const char *sql) {
  const char *url = getenv("PG_URL");
  if (!url) return false;
  PGconn *c = PQconnectdb(url);
  bool ok = PQstatus(c) == CONNECTION_OK;
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

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/gg-journal-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/sub/j.db", f->dir);
  if (ON_PG) {
    static int n;
    const char *url = getenv("PG_URL");
    if (!url) {
      fprintf(stderr, "PG_URL is not set: source the sandbox env\n");
      return -1;
    }
    snprintf(f->schema, sizeof f->schema, "gg_jt_%ld_%d", (long)getpid(), ++n);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", f->schema);
    if (!pg_admin(sql)) return -1;
    snprintf(f->path, sizeof f->path, "%s%soptions=-csearch_path%%3D%s", url, strchr(url, '?') ? "&" : "?",
             f->schema);
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  if (system(cmd) != 0) return -1;
  if (ON_PG) {
    snprintf(cmd, sizeof cmd, "DROP SCHEMA %s CASCADE", f->schema);
    if (!pg_admin(cmd)) return -1;
  }
  free(f);
  gg_clock_clear_fixed();
  return 0;
}

static journal *open_new(const fixture *f) {
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status s = journal_open(f->path, JOURNAL_OPEN_CREATE, &j, &err);
  if (s != GG_OK) fail_msg("open: %s", gg_error_message(&err));
  return j;
}

static void note(journal *j, const char *phase, const char *text) {
  json_t *c = json_pack("{s:s}", "text", text);
  gg_error err;
  gg_error_clear(&err);
  if (journal_append(j, JOURNAL_NOTE, phase, "tester", c, NULL, &err) != GG_OK)
    fail_msg("append: %s", gg_error_message(&err));
  json_decref(c);
}

/* Drops the append-only guards first (what tamper does with SQL that begins with it). */
#define UNLOCK "--unlock\n"

/* Run SQL on the file (or database) behind the journal's back (what someone tampering would do). */
static void tamper(const fixture *f, const char *sql) {
  bool unlock = strncmp(sql, UNLOCK, strlen(UNLOCK)) == 0;
  if (ON_PG) {
    PGconn *c = PQconnectdb(f->path);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    if (unlock) PQclear(PQexec(c, "DROP TRIGGER events_no_change ON events"));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("tamper: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return;
  }
  if (unlock) sql += strlen(UNLOCK);
  char full[2048];
  if (unlock) {
    snprintf(full, sizeof full, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; %s", sql);
    sql = full;
  }
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("tamper: %s", msg);
  sqlite3_close(db);
}

static journal_verify_result verify(journal *j) {
  journal_verify_result r;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_verify(j, &r, &err), GG_OK);
  return r;
}

/* SQLite's dialect as the PostgreSQL backend runs it: placeholders numbered as SQLite numbers
 * them, null-safe IS, string literals untouched. */
static void test_pg_translation(void **state) {
  (void)state;
  char *t = journal_pg_sql(
      "SELECT a FROM t WHERE phase IS ?1 AND b = ? AND c IS NULL AND d IS NOT NULL AND x.p IS y.p"
      " AND e = 'x IS ?' AND f = ?5 AND g = ?");
  assert_non_null(t);
  assert_string_equal(
      t,
      "SELECT a FROM t WHERE phase IS NOT DISTINCT FROM $1 AND b = $2 AND c IS NULL AND d IS NOT"
      " NULL AND x.p IS NOT DISTINCT FROM y.p AND e = 'x IS ?' AND f = $5 AND g = $6");
  free(t);
}

static void test_canonical_encoding(void **state) {
  (void)state;
  json_t *v = json_loads(
      "{ \"b\": 1, \"a\": [1, \"x\", 2.5], \"c\": {\"z\": null, \"y\": true, \"é\": \"ü\"} }", 0, NULL);
  assert_non_null(v);
  char *text = journal_canonical(v);
  assert_string_equal(text, "{\"a\":[1,\"x\",2.5],\"b\":1,\"c\":{\"y\":true,\"z\":null,\"é\":\"ü\"}}");
  free(text);
  json_decref(v);

  /* The row hash is SHA-256 over exactly the documented text. */
  char expect_text[512];
  snprintf(
      expect_text, sizeof expect_text,
      "{\"actor\":\"alice\",\"content\":{\"k\":\"v\"},\"host\":\"h1\",\"kind\":\"note\",\"os_user\":\"u\","
      "\"phase\":\"2\",\"prev\":\"%064d\",\"seq\":7,\"time_ms\":1700000000123}",
      0);
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)expect_text, strlen(expect_text), d);
  char expect_hex[65];
  for (int i = 0; i < 32; i++) snprintf(expect_hex + 2 * i, 3, "%02x", d[i]);
  char zeros[65];
  memset(zeros, '0', 64);
  zeros[64] = '\0';
  char hash[JOURNAL_HASH_HEX];
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_row_hash(7, 1700000000123LL, "note", "2", "alice", "u", "h1", "{\"k\":\"v\"}",
                                    zeros, hash, &err),
                   GG_OK);
  assert_string_equal(hash, expect_hex);
  /* Phase null when there is none; any field change changes the hash. */
  char other[JOURNAL_HASH_HEX];
  assert_int_equal(journal_row_hash(7, 1700000000123LL, "note", JOURNAL_NO_PHASE, "alice", "u", "h1",
                                    "{\"k\":\"v\"}", zeros, other, &err),
                   GG_OK);
  assert_string_not_equal(hash, other);
}

static void test_chain_links_rows(void **state) {
  fixture *f = *state;
  journal *j = open_new(f);
  assert_int_equal(journal_schema_version(j), JOURNAL_SCHEMA_VERSION);
  for (int i = 0; i < 5; i++) note(j, i % 2 ? "1" : JOURNAL_NO_PHASE, "hello");
  journal_event *ev = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_events(j, NULL, &ev, &n, &err), GG_OK);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(ev[i].seq, (long long)i + 1);
    assert_string_equal(ev[i].kind, "note");
    assert_string_equal(ev[i].actor, "tester");
    assert_string_equal(ev[i].os_user, journal_os_user());
    assert_string_equal(ev[i].host, journal_host());
    assert_string_equal(ev[i].content, "{\"text\":\"hello\"}");
    if (i > 0) assert_string_equal(ev[i].prev_hash, ev[i - 1].hash);
    char h[JOURNAL_HASH_HEX];
    assert_int_equal(
        journal_row_hash(ev[i].seq, (long long)(ev[i].time * 1000.0 + 0.5), ev[i].kind, ev[i].phase,
                         ev[i].actor, ev[i].os_user, ev[i].host, ev[i].content, ev[i].prev_hash, h, &err),
        GG_OK);
    assert_string_equal(h, ev[i].hash);
  }
  assert_null(ev[0].phase);
  assert_string_equal(ev[1].phase, "1");
  journal_verify_result r = verify(j);
  assert_true(r.ok);
  assert_int_equal(r.rows, 5);
  assert_string_equal(r.head_hash, ev[4].hash);
  journal_events_free(ev, n);

  /* Filters: phase 1 only; kind; after_seq; limit. */
  journal_filter flt = journal_filter_all();
  flt.any_phase = false;
  flt.phase = "1";
  assert_int_equal(journal_events(j, &flt, &ev, &n, &err), GG_OK);
  assert_int_equal(n, 2);
  journal_events_free(ev, n);
  flt = journal_filter_all();
  flt.kind = "approval";
  assert_int_equal(journal_events(j, &flt, &ev, &n, &err), GG_OK);
  assert_int_equal(n, 0);
  journal_events_free(ev, n);
  flt = journal_filter_all();
  flt.after_seq = 2;
  flt.limit = 2;
  assert_int_equal(journal_events(j, &flt, &ev, &n, &err), GG_OK);
  assert_int_equal(n, 2);
  assert_int_equal(ev[0].seq, 3);
  journal_events_free(ev, n);

  /* Reals, unicode and nesting survive the round trip through the file: the chain still verifies. */
  json_t *odd =
      json_loads("{\"x\":0.1,\"y\":1e300,\"z\":-0.0,\"u\":\"\u00fc\\n\",\"n\":[{\"b\":1,\"a\":2}]}", 0, NULL);
  assert_non_null(odd);
  assert_int_equal(journal_append(j, JOURNAL_EVALUATION, "2", NULL, odd, NULL, &err), GG_OK);
  json_decref(odd);
  assert_true(verify(j).ok);

  /* Content must be an object. */
  json_t *arr = json_array();
  assert_int_equal(journal_append(j, JOURNAL_NOTE, "0", NULL, arr, NULL, &err), GG_ERR_INVALID);
  json_decref(arr);
  journal_close(j);
}

static void test_append_only_triggers(void **state) {
  fixture *f = *state;
  journal *j = open_new(f);
  note(j, "0", "a");
  journal_close(j);
  if (ON_PG) {
    PGconn *c = PQconnectdb(f->path);
    const char *refused[] = {"UPDATE events SET actor = 'mallory'", "DELETE FROM events", "TRUNCATE events"};
    for (size_t i = 0; i < 3; i++) {
      PGresult *r = PQexec(c, refused[i]);
      assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
      assert_non_null(strstr(PQresultErrorMessage(r), "append-only"));
      PQclear(r);
    }
    PQfinish(c);
    return;
  }
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET actor = 'mallory'", NULL, NULL, NULL), SQLITE_OK);
  assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
  assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static journal *chain_of_five(const fixture *f) {
  journal *j = open_new(f);
  for (int i = 1; i <= 5; i++) {
    char t[16];
    snprintf(t, sizeof t, "row %d", i);
    note(j, "1", t);
  }
  return j;
}

static void test_verify_edited_value(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  tamper(f, UNLOCK "UPDATE events SET content = '{\"text\":\"row X\"}' WHERE seq = 3");
  journal_verify_result r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 3);
  assert_non_null(strstr(r.what, "edited"));
  journal_close(j);
}

static void test_verify_edited_actor_and_noncanonical(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  tamper(f, UNLOCK "UPDATE events SET actor = 'mallory' WHERE seq = 2");
  journal_verify_result r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 2);
  journal_close(j);

  /* Same meaning, different text: still an edit. */
  tamper(f,
         "UPDATE events SET actor = 'tester' WHERE seq = 2;"
         "UPDATE events SET content = '{ \"text\": \"row 4\" }' WHERE seq = 4");
  assert_int_equal(journal_open(f->path, JOURNAL_OPEN_READONLY, &j, NULL), GG_OK);
  r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 4);
  assert_non_null(strstr(r.what, "canonical"));
  journal_close(j);
}

static void test_verify_deleted_row(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  tamper(f, UNLOCK "DELETE FROM events WHERE seq = 3");
  journal_verify_result r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 4);
  assert_non_null(strstr(r.what, "row 3 is missing"));
  journal_close(j);
}

static void test_verify_deleted_last_row(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  tamper(f, UNLOCK "DELETE FROM events WHERE seq = 5");
  journal_verify_result r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 5);
  assert_non_null(strstr(r.what, "deleted at the end"));
  journal_close(j);
}

static void test_verify_swapped_rows(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  tamper(f, UNLOCK
         "UPDATE events SET seq = -1 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 4;"
         "UPDATE events SET seq = 4 WHERE seq = -1;");
  journal_verify_result r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 2);
  assert_non_null(strstr(r.what, "prev_hash"));
  journal_close(j);
}

static void test_verify_inserted_row(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  /* A row appended behind the journal's back, even with a correctly computed hash. */
  journal_event *last = NULL;
  assert_int_equal(journal_last_event(j, JOURNAL_NOTE, JOURNAL_ANY_PHASE, &last, NULL), GG_OK);
  char h[JOURNAL_HASH_HEX];
  assert_int_equal(
      journal_row_hash(6, 1700000000000LL, "note", "1", "mallory", "m", "h", "{}", last->hash, h, NULL),
      GG_OK);
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO events VALUES (6, 1700000000000, 'note', '1', 'mallory', 'm', 'h', '{}', '%s', '%s')",
           last->hash, h);
  journal_events_free(last, 1);
  tamper(f, sql);
  journal_verify_result r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 6);
  assert_non_null(strstr(r.what, "inserted"));
  journal_close(j);
}

/* Rows deleted at the end with the recorded head rewritten to match: the chain alone passes, the
 * anchor outside the file does not, and neither does a head kept elsewhere (--expect-head). */
static void test_verify_truncated_chain(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  journal_event *ev = NULL;
  size_t n = 0;
  assert_int_equal(journal_events(j, NULL, &ev, &n, NULL), GG_OK);
  assert_int_equal(n, 5);
  char head5[JOURNAL_HASH_HEX], anchor[JOURNAL_HASH_HEX + 16];
  snprintf(head5, sizeof head5, "%s", ev[4].hash);
  char sql[512];
  snprintf(sql, sizeof sql,
           UNLOCK
           "DELETE FROM events WHERE seq > 3; UPDATE meta SET value = '3' WHERE key = 'head_seq';"
           "UPDATE meta SET value = '%s' WHERE key = 'head_hash'",
           ev[2].hash);
  journal_events_free(ev, n);
  journal_verify_result r = verify(j);
  assert_true(r.ok);
  assert_true(r.anchored);
  assert_int_equal(r.head_seq, 5);
  tamper(f, sql);
  r = verify(j);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 4);
  assert_non_null(strstr(r.what, "head anchor"));
  assert_non_null(strstr(r.what, "deleted at the end"));

  /* The attacker also removes the anchor: a head kept elsewhere still catches it. */
  if (ON_PG) {
    tamper(f, "DROP TRIGGER head_anchor_forward ON head_anchor; DELETE FROM head_anchor");
  } else {
    char *ap = journal_anchor_path(j);
    assert_int_equal(unlink(ap), 0);
    free(ap);
  }
  r = verify(j);
  assert_true(r.ok);
  assert_false(r.anchored);
  long long seq = 0;
  char hash[JOURNAL_HASH_HEX];
  snprintf(anchor, sizeof anchor, "5:%s", head5);
  assert_int_equal(journal_anchor_parse(anchor, &seq, hash, NULL), GG_OK);
  assert_int_equal(seq, 5);
  assert_int_equal(journal_verify_anchor(j, seq, hash, "--expect-head", &r, NULL), GG_OK);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 4);
  assert_non_null(strstr(r.what, "--expect-head names row 5"));

  /* An anchor of a row still present must name its hash. */
  r = verify(j);
  snprintf(anchor, sizeof anchor, "3:%s", head5);
  assert_int_equal(journal_anchor_parse(anchor, &seq, hash, NULL), GG_OK);
  assert_int_equal(journal_verify_anchor(j, seq, hash, "--expect-head", &r, NULL), GG_OK);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 3);

  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_anchor_parse("5", &seq, hash, &err), GG_ERR_INVALID);
  assert_int_equal(journal_anchor_parse("x:abc", &seq, hash, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "expected SEQ:HASH"));
  journal_close(j);
}

/* The anchor only moves forward, and a new journal does not inherit a deleted one's anchor. */
static void test_anchor_follows_appends(void **state) {
  fixture *f = *state;
  journal *j = chain_of_five(f);
  journal *k = NULL;
  assert_int_equal(journal_open(f->path, 0, &k, NULL), GG_OK);
  note(k, "1", "from a second handle");
  note(j, "1", "and the first again");
  journal_verify_result r = verify(j);
  assert_true(r.ok);
  assert_true(r.anchored);
  assert_int_equal(r.head_seq, 7);
  journal_close(k);
  journal_close(j);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", f->path, f->path, f->path);
  assert_int_equal(system(cmd), 0);
  j = open_new(f);
  note(j, "1", "a new story");
  r = verify(j);
  assert_true(r.ok);
  assert_int_equal(r.head_seq, 1);
  journal_close(j);
}

static void test_schema_versions(void **state) {
  fixture *f = *state;
  journal *j = open_new(f);
  journal_close(j);
  tamper(f, "PRAGMA user_version = 99");
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_open(f->path, JOURNAL_OPEN_CREATE, &j, &err), GG_ERR_UNSUPPORTED);
  assert_null(j);
  assert_non_null(strstr(err.msg, "schema version 99"));
  assert_non_null(strstr(err.msg, "upgrade gonogo"));
  assert_int_equal(journal_open(f->path, JOURNAL_OPEN_READONLY, &j, &err), GG_ERR_UNSUPPORTED);

  /* A zero-byte file is a truncated journal or none at all: refused, read-only or not, and never
   * started afresh (that would hide the truncation). Only a file another process is creating at
   * this moment (younger than the grace period) is taken with CREATE. */
  char p2[160], p3[160];
  snprintf(p2, sizeof p2, "%s/empty.db", f->dir);
  snprintf(p3, sizeof p3, "%s/other.db", f->dir);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(p2, &db), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(journal_open(p2, JOURNAL_OPEN_READONLY, &j, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "is empty (0 bytes)"));
  assert_int_equal(journal_open(p2, 0, &j, &err), GG_ERR_INVALID);
  assert_int_equal(journal_open(p2, JOURNAL_OPEN_CREATE, &j, &err), GG_OK); /* just made: a creator's */
  assert_int_equal(journal_schema_version(j), JOURNAL_SCHEMA_VERSION);
  journal_close(j);
  assert_int_equal(sqlite3_open(p3, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(journal_open(p3, 0, &j, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "not a gonogo journal"));

  /* Missing without CREATE; read-only refuses appends. */
  char p4[160];
  snprintf(p4, sizeof p4, "%s/nope.db", f->dir);
  assert_int_equal(journal_open(p4, 0, &j, &err), GG_ERR_NOT_FOUND);
  assert_int_equal(journal_open(p2, JOURNAL_OPEN_READONLY, &j, &err), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_NOTE, "0", NULL, NULL, NULL, &err), GG_ERR_STATE);
  journal_close(j);
}

static void test_default_path(void **state) {
  (void)state;
  char *p = NULL;
  assert_int_equal(journal_default_path("examples/aa/plan.yaml", "athlete-ally-3-stream", &p, NULL), GG_OK);
  assert_string_equal(p, "examples/aa/.gonogo/athlete-ally-3-stream.db");
  free(p);
  assert_int_equal(journal_default_path("plan.yaml", "m1", &p, NULL), GG_OK);
  assert_string_equal(p, "./.gonogo/m1.db");
  free(p);
  assert_int_equal(journal_default_path("plan.yaml", "../etc/x", &p, NULL), GG_ERR_INVALID);
  assert_null(p);
}

static void test_lease(void **state) {
  fixture *f = *state;
  gg_clock_set_fixed(1800000000.0);
  journal *a = open_new(f), *b = open_new(f);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_lock_acquire(a, "gonogo run phase 1 (alice)", 60, false, NULL, &err), GG_OK);
  /* Taking it again from the same handle renews it. */
  assert_int_equal(journal_lock_acquire(a, "gonogo run phase 1 (alice)", 60, false, NULL, &err), GG_OK);

  journal_lease other;
  assert_int_equal(journal_lock_acquire(b, "gonogo watch (bob)", 60, true, &other, &err), GG_ERR_LOCKED);
  assert_string_equal(other.holder, "gonogo run phase 1 (alice)");
  assert_int_equal(other.pid, (long)getpid());
  assert_non_null(strstr(err.msg, "locked by 'gonogo run phase 1 (alice)'"));
  assert_non_null(strstr(err.msg, "since 2027-01-15T08:00:00.000Z"));

  bool held, stale;
  assert_int_equal(journal_lock_get(b, &held, &stale, &other, &err), GG_OK);
  assert_true(held);
  assert_false(stale);

  /* Renewal keeps it live past the first expiry. */
  gg_clock_advance(50);
  assert_int_equal(journal_lock_renew(a, 60, &err), GG_OK);
  gg_clock_advance(50);
  assert_int_equal(journal_lock_acquire(b, "gonogo watch (bob)", 60, true, NULL, &err), GG_ERR_LOCKED);

  /* Expired: refused without break, taken with it, and journaled. */
  gg_clock_advance(61);
  assert_int_equal(journal_lock_get(b, &held, &stale, &other, &err), GG_OK);
  assert_true(stale);
  assert_int_equal(journal_lock_acquire(b, "gonogo watch (bob)", 60, false, NULL, &err), GG_ERR_LOCKED);
  assert_non_null(strstr(err.msg, "stale"));
  assert_non_null(strstr(err.msg, "--break-lock"));
  assert_int_equal(journal_lock_acquire(b, "gonogo watch (bob)", 60, true, NULL, &err), GG_OK);
  journal_event *ev = NULL;
  assert_int_equal(journal_last_event(b, JOURNAL_LOCK_BROKEN, JOURNAL_ANY_PHASE, &ev, &err), GG_OK);
  assert_non_null(strstr(ev->content, "\"previous\":{\"expires\""));
  assert_non_null(strstr(ev->content, "gonogo run phase 1 (alice)"));
  assert_string_equal(ev->actor, "gonogo watch (bob)");
  journal_events_free(ev, 1);

  /* The old holder finds out it lost the lease; its release touches nothing. */
  assert_int_equal(journal_lock_renew(a, 60, &err), GG_ERR_LOCKED);
  assert_int_equal(journal_lock_release(a, &err), GG_OK);
  assert_int_equal(journal_lock_get(a, &held, &stale, &other, &err), GG_OK);
  assert_true(held);
  assert_string_equal(other.holder, "gonogo watch (bob)");
  /* A second handle (another thread's) renews and releases the lease b holds. */
  journal *c = open_new(f);
  journal_lock_share(c, b);
  gg_clock_advance(30);
  assert_int_equal(journal_lock_renew(c, 60, &err), GG_OK);
  assert_int_equal(journal_lock_get(a, &held, &stale, &other, &err), GG_OK);
  assert_true(other.expires == gg_clock_now() + 60);
  assert_int_equal(journal_lock_release(c, &err), GG_OK);
  journal_close(c);
  assert_int_equal(journal_lock_get(a, &held, &stale, &other, &err), GG_OK);
  assert_false(held);
  assert_int_equal(journal_lock_release(b, &err), GG_OK); /* already released: nothing to do */
  assert_int_equal(journal_last_event(b, JOURNAL_LOCK_RELEASED, JOURNAL_ANY_PHASE, &ev, &err), GG_OK);
  journal_events_free(ev, 1);
  assert_true(verify(a).ok);
  journal_close(a);
  journal_close(b);
}

static void test_lease_dead_pid(void **state) {
  fixture *f = *state;
  journal *j = open_new(f);
  journal_close(j);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    journal *c = NULL;
    int rc = journal_open(f->path, 0, &c, NULL) == GG_OK &&
                     journal_lock_acquire(c, "child", 3600, false, NULL, NULL) == GG_OK
                 ? 0
                 : 1;
    _exit(rc); /* dies holding the lease */
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  j = open_new(f);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_lock_acquire(j, "parent", 60, false, NULL, &err), GG_ERR_LOCKED);
  char want[64];
  snprintf(want, sizeof want, "process %ld is gone", (long)pid);
  assert_non_null(strstr(err.msg, want));
  assert_int_equal(journal_lock_acquire(j, "parent", 60, true, NULL, &err), GG_OK);
  assert_int_equal(journal_lock_release(j, &err), GG_OK);
  journal_close(j);
}

static void test_approvals_and_attestations(void **state) {
  fixture *f = *state;
  gg_clock_set_fixed(1800000000.0);
  journal *j = open_new(f);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_approve(j, "2", "platform-lead", "alice", "go", "h1", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_approve(j, "2", "on-call", "bob", "defer", "h1", "after lunch", NULL, &err),
                   GG_OK);
  assert_int_equal(journal_approve(j, "2", "on-call", "bob", "go", "h1", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_approve(j, "1", "on-call", "carol", "go", "h0", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_approve(j, "2", "x", "alice", "maybe", "h1", NULL, NULL, &err), GG_ERR_INVALID);
  assert_int_equal(journal_approve(j, "2", "x", "", "go", "h1", NULL, NULL, &err), GG_ERR_INVALID);

  journal_signoff *s = NULL;
  size_t n = 0;
  assert_int_equal(journal_approvals(j, "2", "h1", &s, &n, &err), GG_OK);
  assert_int_equal(n, 2);
  assert_string_equal(s[0].role, "on-call");
  assert_string_equal(s[0].decision, "go"); /* the latest per role */
  assert_string_equal(s[0].by, "bob");
  assert_string_equal(s[0].os_user, journal_os_user());
  assert_true(s[0].in_force);
  assert_string_equal(s[1].role, "platform-lead");
  journal_signoffs_free(s, n);
  /* The plan changed: both void. */
  assert_int_equal(journal_approvals(j, "2", "h2", &s, &n, &err), GG_OK);
  assert_int_equal(n, 2);
  assert_false(s[0].in_force);
  assert_true(s[0].void_plan_changed);
  journal_signoffs_free(s, n);

  assert_int_equal(journal_attest(j, "2", "on-call-available", "dave", 4 * 3600, "h1", NULL, NULL, &err),
                   GG_OK);
  assert_int_equal(journal_attest(j, "2", "team-notified", "erin", 0, "h1", "slack #ops", NULL, &err), GG_OK);
  double v = -1;
  assert_int_equal(journal_series_attested(j, "on-call-available", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 1.0);
  assert_int_equal(journal_series_attested(j, "never", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 0.0);
  gg_clock_advance(4 * 3600 + 1);
  assert_int_equal(journal_series_attested(j, "on-call-available", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 0.0);
  assert_int_equal(journal_attestations(j, JOURNAL_ANY_PHASE, gg_clock_now(), &s, &n, &err), GG_OK);
  assert_int_equal(n, 2);
  assert_string_equal(s[0].role, "on-call-available");
  assert_false(s[0].in_force);
  assert_true(s[0].expires == 1800000000.0 + 4 * 3600);
  assert_string_equal(s[1].role, "team-notified");
  assert_true(s[1].in_force);
  assert_string_equal(s[1].note, "slack #ops");
  journal_signoffs_free(s, n);
  journal_close(j);
}

static void append_phase(journal *j, journal_kind kind, const char *phase, const char *json) {
  json_t *c = json ? json_loads(json, 0, NULL) : NULL;
  assert_int_equal(journal_append(j, kind, phase, "gonogo run", c, NULL, NULL), GG_OK);
  json_decref(c);
}

static void test_phase_state_and_series(void **state) {
  fixture *f = *state;
  gg_clock_set_fixed(1800000000.0);
  journal *j = open_new(f);
  journal_phase_info pi;
  double v = -1;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_NOT_STARTED);
  assert_int_equal(journal_series_phase_completed(j, "1", &v, &err), GG_OK);
  assert_true(v == 0);
  assert_int_equal(journal_series_phase_completed_age(j, "1", gg_clock_now(), &v, &err), GG_ERR_NO_DATA);

  append_phase(j, JOURNAL_PHASE_PREPARED, "1", NULL);
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_PREPARED);
  gg_clock_advance(10);
  append_phase(j, JOURNAL_EVALUATION, "1", "{\"decision\":\"DEFER\",\"criteria\":[]}");
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_DECIDED);
  assert_string_equal(pi.decision, "DEFER");
  assert_true(pi.decided_at == 1800000010.0);
  append_phase(j, JOURNAL_DECISION, "1", "{\"decision\":\"go\"}");
  gg_clock_advance(10);
  append_phase(j, JOURNAL_PHASE_STARTED, "1", NULL);
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_RUNNING);
  assert_string_equal(pi.decision, "GO");
  gg_clock_advance(10);
  append_phase(j, JOURNAL_PHASE_COMPLETED, "1", NULL);
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_COMPLETED);
  assert_true(pi.completed_at == 1800000030.0);
  /* A check after completion leaves it completed. */
  append_phase(j, JOURNAL_EVALUATION, "1", "{\"decision\":\"GO\"}");
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_COMPLETED);

  gg_clock_advance(3600);
  assert_int_equal(journal_series_phase_completed(j, "1", &v, &err), GG_OK);
  assert_true(v == 1);
  assert_int_equal(journal_series_phase_completed_age(j, "1", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 3600);
  assert_int_equal(journal_series_phase_stable_for(j, "1", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 3600);
  /* An advisory does not reset the soak; an automatic rollback trigger does. */
  append_phase(j, JOURNAL_RULE_FIRING, "1", "{\"rule\":\"lag\",\"then\":\"advise\"}");
  gg_clock_advance(100);
  append_phase(j, JOURNAL_RULE_FIRING, JOURNAL_NO_PHASE, "{\"rule\":\"errors\",\"then\":\"rollback\"}");
  gg_clock_advance(50);
  assert_int_equal(journal_series_phase_stable_for(j, "1", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 50);
  assert_int_equal(journal_series_event_age(j, "rule_firing", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 50);
  assert_int_equal(journal_series_event_age(j, "incident", gg_clock_now(), &v, &err), GG_ERR_NO_DATA);
  assert_int_equal(journal_series_event_age(j, "bogus", gg_clock_now(), &v, &err), GG_ERR_INVALID);

  /* A rollback that began and stopped: never "completed", with what remains; checkpoints cancelled. */
  assert_false(journal_phase_checkpoints_cancelled(&pi));
  append_phase(j, JOURNAL_NOTE, "1", "{\"note\":\"rollback started\",\"reason\":\"error rate > 50%\"}");
  append_phase(j, JOURNAL_ACTION_OUTCOME, "1",
               "{\"mode\":\"inverse\",\"result\":\"failed\",\"error\":\"stream 'S' holds 1 messages\"}");
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_ROLLBACK_INCOMPLETE);
  assert_string_equal(journal_phase_state_name(pi.state), "rollback incomplete");
  assert_string_equal(pi.reason, "stream 'S' holds 1 messages");
  assert_true(journal_phase_checkpoints_cancelled(&pi));
  assert_int_equal(journal_series_phase_completed(j, "1", &v, &err), GG_OK);
  assert_true(v == 0);

  append_phase(j, JOURNAL_PHASE_ROLLED_BACK, "1",
               "{\"reason\":\"error rate > 50%\",\"carried_back\":300,"
               "\"kept\":[\"consumer S/c: 27 messages still pending\",\"stream T: made elsewhere\"]}");
  assert_int_equal(journal_phase(j, "1", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_ROLLED_BACK);
  assert_string_equal(pi.reason, "error rate > 50%");
  assert_int_equal(pi.carried_back, 300);
  assert_string_equal(pi.kept, "consumer S/c: 27 messages still pending; stream T: made elsewhere");
  assert_true(journal_phase_checkpoints_cancelled(&pi));
  assert_int_equal(journal_series_phase_completed(j, "1", &v, &err), GG_OK);
  assert_true(v == 0);
  assert_int_equal(journal_series_phase_stable_for(j, "1", gg_clock_now(), &v, &err), GG_OK);
  assert_true(v == 0);

  append_phase(j, JOURNAL_PHASE_FAILED, "2", "{\"reason\":\"drain timed out\"}");
  assert_int_equal(journal_phase(j, "2", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_FAILED);
  assert_string_equal(pi.reason, "drain timed out");
  assert_string_equal(journal_phase_state_name(pi.state), "failed");
  /* Checked again after the failure: a new attempt, decided; the failure stays on record. */
  append_phase(j, JOURNAL_EVALUATION, "2", "{\"decision\":\"no-go\"}");
  assert_int_equal(journal_phase(j, "2", &pi, &err), GG_OK);
  assert_int_equal(pi.state, JOURNAL_STATE_DECIDED);
  assert_string_equal(pi.decision, "NO-GO");
  assert_string_equal(pi.reason, "drain timed out");
  assert_true(pi.failed_at > 0);

  /* Marks and their ages. */
  assert_int_equal(journal_mark(j, "deployment", 1700000000.5, "alice", "v1.2", NULL, &err), GG_OK);
  assert_int_equal(journal_mark(j, "incident", 0, "bob", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_mark(j, "party", 0, "bob", NULL, NULL, &err), GG_ERR_INVALID);
  assert_int_equal(journal_series_event_age(j, "deployment", 1700000010.5, &v, &err), GG_OK);
  assert_true(v == 10);
  journal_mark_info *m = NULL;
  size_t n = 0;
  assert_int_equal(journal_marks(j, NULL, &m, &n, &err), GG_OK);
  assert_int_equal(n, 2);
  assert_string_equal(m[0].kind, "deployment");
  assert_true(m[0].at == 1700000000.5);
  assert_string_equal(m[0].note, "v1.2");
  assert_null(m[1].note);
  journal_marks_free(m, n);
  assert_true(verify(j).ok);
  journal_close(j);
}

static void test_samples_retention(void **state) {
  fixture *f = *state;
  gg_clock_set_fixed(1800000000.0);
  journal *j = open_new(f);
  gg_error err;
  gg_error_clear(&err);
  assert_true(journal_retention(j) == JOURNAL_DEFAULT_RETENTION);
  assert_int_equal(journal_set_retention(j, 3600, &err), GG_OK);
  assert_true(journal_retention(j) == 3600);
  journal_sample s[] = {
      {"nats.consumer.num_pending", "{\"stream\":\"A\", \"consumer\":\"c\"}", 1800000000.0 - 7200, 5},
      {"nats.consumer.num_pending", "{\"consumer\":\"c\",\"stream\":\"A\"}", 1800000000.0 - 60, 3},
      {"nats.consumer.num_pending", NULL, 1800000000.0, 1},
      {"pg.ping", "{\"db\":\"main\"}", 1800000000.0, 0.002},
  };
  assert_int_equal(journal_samples_add(j, s, 4, &err), GG_OK);
  journal_sample_row *r = NULL;
  size_t n = 0;
  assert_int_equal(journal_samples_query(j, "nats.consumer.num_pending", 0, 2e9, &r, &n, &err), GG_OK);
  assert_int_equal(n, 2); /* the one two hours old is past retention */
  assert_string_equal(r[0].labels, "{\"consumer\":\"c\",\"stream\":\"A\"}");
  assert_true(r[0].value == 3);
  assert_string_equal(r[1].labels, "{}");
  journal_sample_rows_free(r, n);
  journal_sample bad = {"x", "[1]", 1, 1};
  assert_int_equal(journal_samples_add(j, &bad, 1, &err), GG_ERR_INVALID);

  /* The row cap keeps the newest rows, whatever the retention. */
  journal_set_samples_cap(j, 10);
  for (int i = 0; i < 25; i++) {
    journal_sample one = {"cap.test", "{}", 1800000000.0 - 25 + i, (double)i};
    assert_int_equal(journal_samples_add(j, &one, 1, &err), GG_OK);
  }
  assert_int_equal(journal_samples_query(j, "cap.test", 0, 2e9, &r, &n, &err), GG_OK);
  assert_true(n <= 10 && n >= 7); /* other series share the cap */
  assert_true(r[n - 1].value == 24);
  journal_sample_rows_free(r, n);
  journal_close(j);
}

static void test_kind_names(void **state) {
  (void)state;
  journal_kind k;
  assert_int_equal(journal_kind_parse("phase_rolled_back", &k, NULL), GG_OK);
  assert_int_equal(k, JOURNAL_PHASE_ROLLED_BACK);
  assert_string_equal(journal_kind_name(JOURNAL_LOCK_BROKEN), "lock_broken");
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_kind_parse("nope", &k, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "evaluation, decision"));
}

int main(void) {
#ifdef JOURNAL_TEST_PG
  /* What is about the SQLite file itself (its pragmas, the anchor file beside it, the encoding
   * that needs no journal) runs in test_journal only. */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_chain_links_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_append_only_triggers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_edited_value, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_edited_actor_and_noncanonical, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_deleted_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_deleted_last_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_swapped_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_inserted_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_truncated_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lease, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lease_dead_pid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approvals_and_attestations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_phase_state_and_series, setup, teardown),
      cmocka_unit_test_setup_teardown(test_samples_retention, setup, teardown),
  };
  (void)test_canonical_encoding;
  (void)test_pg_translation;
  (void)test_kind_names;
  (void)test_default_path;
  (void)test_anchor_follows_appends;
  (void)test_schema_versions;
  return cmocka_run_group_tests(tests, NULL, NULL);
#else
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical_encoding),
      cmocka_unit_test(test_pg_translation),
      cmocka_unit_test(test_kind_names),
      cmocka_unit_test(test_default_path),
      cmocka_unit_test_setup_teardown(test_chain_links_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_append_only_triggers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_edited_value, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_edited_actor_and_noncanonical, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_deleted_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_deleted_last_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_swapped_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_inserted_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_truncated_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_anchor_follows_appends, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_versions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lease, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lease_dead_pid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approvals_and_attestations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_phase_state_and_series, setup, teardown),
      cmocka_unit_test_setup_teardown(test_samples_retention, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
