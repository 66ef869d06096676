/* Integration tests of signed sign-offs through the real gonogo binary (GONOGO_BIN) on a real
 * journal: a role that lists keys: takes an approval signed by one of them, and shows one that
 * is unsigned, signed by an unlisted key, or forged as missing with the reason, in `check`,
 * `status` and the report; `journal verify` refuses a forged signature even when the chain was
 * rebuilt around it. Keys are made with the `openssl` command, as the README tells approvers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sigkey.h"
#include "journal/journal.h"
#include "journal/sign.h"
#include "support.h"

static const char *bin;
static char dir[64];
static char plan_path[128];
static char journal_file[160];
static char alice_key[128], mallory_key[128], rsa_key[128], enc_key[128], pass_file[128];

static const char PLAN[] =
    "migration: sign-fixture\n"
    "roles:\n"
    "  - { id: platform-lead, title: Platform Team Lead, keys: [keys/alice.pub] }\n"
    "  - { id: on-call, title: On-call engineer }\n"
    "preflight:\n"
    "  - { name: \"Team notified\", attest: team-notified }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: Move vendor subjects\n"
    "    approvals: [platform-lead, on-call]\n"
    "    go:\n"
    "      - { name: \"On-call available\", attest: on-call-available, valid_for: 4h }\n"
    "      - { name: \"Runbook reviewed\", attest: runbook-reviewed, signed_by: platform-lead }\n"
    "    actions:\n"
    "      - wait: 1s\n";

#define gonogo(out, ...) support_gonogo(bin, out, __VA_ARGS__)

static void sh(const char *fmt, ...) GG_PRINTF(1, 2);
static void sh(const char *fmt, ...) {
  char cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (system(cmd) != 0) fail_msg("'%s' failed", cmd);
}

static int setup(void **state) {
  (void)state;
  bin = getenv("GONOGO_BIN");
  if (!bin) {
    fprintf(stderr, "GONOGO_BIN is not set (run through ctest)\n");
    return -1;
  }
  snprintf(dir, sizeof dir, "/tmp/gg-signoff-keys-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_file, sizeof journal_file, "%s/.gonogo/sign-fixture.db", dir);
  snprintf(alice_key, sizeof alice_key, "%s/alice.pem", dir);
  snprintf(mallory_key, sizeof mallory_key, "%s/mallory.pem", dir);
  snprintf(rsa_key, sizeof rsa_key, "%s/rsa.pem", dir);
  snprintf(enc_key, sizeof enc_key, "%s/enc.pem", dir);
  snprintf(pass_file, sizeof pass_file, "%s/pass.txt", dir);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "set -e; cd %s; mkdir keys; exec 2>/dev/null\n"
           "openssl genpkey -algorithm ed25519 -out alice.pem\n"
           "openssl pkey -in alice.pem -pubout -out keys/alice.pub\n"
           "openssl genpkey -algorithm ed25519 -out mallory.pem\n"
           "openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out rsa.pem\n"
           "openssl genpkey -algorithm ed25519 -aes-256-cbc -pass pass:sekrit -out enc.pem\n"
           "echo sekrit > pass.txt\n",
           dir);
  if (system(cmd) != 0) return -1;
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(PLAN, f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void expect_in(const char *out, const char *want) {
  if (!out || !strstr(out, want)) fail_msg("output does not say '%s':\n%s", want, out ? out : "(none)");
}

/* status --json: the approval of `role` in phase 1, as "STATUS|WHY|KEY". */
static void approval_status(const char *role, char *buf, size_t n) {
  char *out = NULL;
  assert_int_equal(gonogo(&out, "status", plan_path, "--json", NULL), 0);
  json_t *doc = json_loads(out, 0, NULL);
  if (!doc) fail_msg("status --json is not JSON: %s", out);
  free(out);
  json_t *ph = json_array_get(json_object_get(doc, "phases"), 0);
  size_t i;
  json_t *a;
  buf[0] = '\0';
  json_array_foreach(json_object_get(ph, "approvals"), i, a) {
    if (strcmp(json_string_value(json_object_get(a, "role")), role) != 0) continue;
    const char *why = json_string_value(json_object_get(a, "why"));
    const char *key = json_string_value(json_object_get(a, "key"));
    snprintf(buf, n, "%s|%s|%s", json_string_value(json_object_get(a, "status")), why ? why : "",
             key ? key : "");
  }
  json_decref(doc);
}

static journal *open_journal(void) {
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (journal_open(journal_file, JOURNAL_OPEN_CREATE, &j, &err) != GG_OK)
    fail_msg("%s", gg_error_message(&err));
  return j;
}

static gg_sigkey *key_of(const char *path) {
  gg_sigkey *k = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (gg_sigkey_load(path, NULL, NULL, &k, &err) != GG_OK) fail_msg("%s", gg_error_message(&err));
  return k;
}

/* An approval of phase 1 by platform-lead for the fixture's current plan hash, written through
 * the library (as another tool, or an older gonogo, could), signed with `key` (NULL: unsigned),
 * claiming `claim`'s public key instead when claim is not NULL. */
static long long approve_with(const char *key, const char *claim) {
  char *out = NULL;
  assert_int_equal(gonogo(&out, "show", plan_path, "--json", NULL), 0);
  json_t *doc = json_loads(out, 0, NULL);
  free(out);
  assert_non_null(doc);
  const char *hash = json_string_value(json_object_get(doc, "hash"));
  assert_non_null(hash);
  journal *j = open_journal();
  gg_error err;
  gg_error_clear(&err);
  json_t *c = NULL;
  assert_int_equal(
      journal_approval_content(j, "1", "platform-lead", "alice", "go", hash, NULL, NULL, &c, &err), GG_OK);
  json_decref(doc);
  gg_sigkey *k = key ? key_of(key) : NULL;
  if (k)
    assert_int_equal(journal_sign_content(k, JOURNAL_APPROVAL, "1", "alice", "sign-fixture", c, &err), GG_OK);
  if (claim) {
    gg_sigkey *ck = key_of(claim);
    unsigned char pub[GG_SIGKEY_PUBLIC_LEN];
    char b64[48];
    gg_sigkey_public(ck, pub);
    json_object_set_new(json_object_get(c, "signature"), "public_key",
                        json_string(gg_base64_encode(pub, sizeof pub, b64, sizeof b64)));
    gg_sigkey_free(ck);
  }
  long long seq = 0;
  if (journal_append(j, JOURNAL_APPROVAL, "1", "alice", c, &seq, &err) != GG_OK)
    fail_msg("%s", gg_error_message(&err));
  json_decref(c);
  gg_sigkey_free(k);
  journal_close(j);
  return seq;
}

static void test_key_files_refused(void **state) {
  (void)state;
  char *out = NULL;
  struct {
    const char *key;
    const char *says;
  } cases[] = {
      {"/nonexistent/bob.pem", "signing key '/nonexistent/bob.pem': no such file"},
      {rsa_key, "is not an Ed25519 key (it is RSA)"},
      {enc_key, "is encrypted and no passphrase was given: set GONOGO_SIGNING_KEY_PASSPHRASE"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "on-call", "--by", "bob",
                            "--key", cases[i].key, NULL),
                     3);
    expect_in(out, cases[i].says);
    expect_in(out, cases[i].key);
    free(out);
  }
  /* The same through GONOGO_SIGNING_KEY, and for attest, mark and run --override-item. */
  setenv("GONOGO_SIGNING_KEY", rsa_key, 1);
  assert_int_equal(
      gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "on-call-available", "--by", "bob", NULL),
      3);
  expect_in(out, "is not an Ed25519 key");
  free(out);
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "deployment", NULL), 3);
  expect_in(out, rsa_key);
  free(out);
  unsetenv("GONOGO_SIGNING_KEY");
  assert_int_equal(gonogo(&out, "run", plan_path, "--phase", "1", "--override-item", "x=y", "--by", "bob",
                          "--yes", "--key", "/nonexistent/k.pem", NULL),
                   3);
  expect_in(out, "'/nonexistent/k.pem': no such file");
  free(out);
  /* Nothing was recorded by any of them. */
  assert_int_equal(access(journal_file, F_OK), -1);

  /* A wrong passphrase is refused and never printed; the right one, from a file, opens the key. */
  setenv("GONOGO_SIGNING_KEY_PASSPHRASE", "not-the-one", 1);
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "deployment", "--key", enc_key, NULL), 3);
  expect_in(out, "the passphrase does not open it");
  assert_null(strstr(out, "not-the-one"));
  free(out);
  unsetenv("GONOGO_SIGNING_KEY_PASSPHRASE");
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "deployment", "--by", "ops", "--key", enc_key,
                          "--key-passphrase-file", pass_file, NULL),
                   0);
  expect_in(out, "signed with '");
  assert_null(strstr(out, "sekrit"));
  free(out);
  /* The report says which marks were signed. */
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  expect_in(out, "| deployment | ops (signed) |");
  free(out);
}

static void test_signed_approval_in_force_and_refusals(void **state) {
  (void)state;
  char *out = NULL, st[256];
  /* The role lists keys: approve refuses to record what would not count. */
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by", "alice", NULL),
      3);
  expect_in(out, "role 'platform-lead' lists keys (keys/alice.pub): an unsigned approval would not count");
  free(out);
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by",
                          "alice", "--key", mallory_key, NULL),
                   3);
  expect_in(out, "is not one role 'platform-lead' lists (keys/alice.pub)");
  free(out);

  /* Signed by alice's listed key: in force, in check, status and the report. */
  setenv("GONOGO_SIGNING_KEY", alice_key, 1);
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by", "alice", NULL),
      0);
  unsetenv("GONOGO_SIGNING_KEY");
  expect_in(out, "signed with '");
  free(out);
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "on-call", "--by", "bob", NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "on-call-available", "--by",
                          "bob", "--key", mallory_key, NULL),
                   0);
  free(out);
  /* An attest item with signed_by: the role's keys, as for its approvals. */
  assert_int_equal(
      gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "runbook-reviewed", "--by", "alice", NULL),
      3);
  expect_in(out, "role 'platform-lead' lists keys (keys/alice.pub): an unsigned attestation would not count");
  free(out);
  assert_int_equal(gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "runbook-reviewed", "--by",
                          "alice", "--key", mallory_key, NULL),
                   3);
  expect_in(out, "its attestation would not count");
  free(out);
  assert_int_equal(gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "runbook-reviewed", "--by",
                          "alice", "--key", alice_key, NULL),
                   0);
  free(out);
  assert_int_equal(gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "team-notified", "--by", "bob",
                          "--key", mallory_key, NULL),
                   0);
  free(out);
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", NULL), 0);
  expect_in(out, "go by alice at ");
  expect_in(out, "(signed, key keys/alice.pub)");
  expect_in(out, "DECISION: GO");
  free(out);
  approval_status("platform-lead", st, sizeof st);
  assert_string_equal(st, "in force||keys/alice.pub");
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  expect_in(out, "in force, signed (keys/alice.pub)");
  free(out);

  /* Unsigned, written past the CLI: missing, with the reason. */
  long long seq = approve_with(NULL, NULL);
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", NULL), 1);
  expect_in(out, "missing: unsigned");
  char want[160];
  snprintf(want, sizeof want,
           "the approval by alice (#%lld) for platform-lead (Platform Team Lead) is not in force", seq);
  expect_in(out, want);
  free(out);
  approval_status("platform-lead", st, sizeof st);
  assert_string_equal(st, "missing|unsigned|");

  /* Signed by a key the role does not list. */
  approve_with(mallory_key, NULL);
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", NULL), 1);
  expect_in(out, "missing: signed by an unlisted key");
  free(out);
  assert_int_equal(gonogo(&out, "status", plan_path, NULL), 0);
  expect_in(out, "platform-lead: missing (alice, ");
  expect_in(out, "; signed by an unlisted key)");
  free(out);
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  expect_in(out, "signed by an unlisted key");
  free(out);

  /* Signed by mallory, claiming alice's listed key: a bad signature, refused by check and by
   * journal verify, which names the event. */
  seq = approve_with(mallory_key, alice_key);
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", NULL), 1);
  expect_in(out, "missing: bad signature: it does not verify");
  free(out);
  approval_status("platform-lead", st, sizeof st);
  assert_non_null(strstr(st, "missing|bad signature: it does not verify"));
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 2);
  snprintf(want, sizeof want, "is damaged at row %lld: approval: bad signature: it does not verify", seq);
  expect_in(out, want);
  free(out);

  /* Alice signs again: in force again; verify still names the forged event (it stays on record). */
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by",
                          "alice", "--key", alice_key, NULL),
                   0);
  free(out);
  approval_status("platform-lead", st, sizeof st);
  assert_string_equal(st, "in force||keys/alice.pub");
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 2);
  free(out);

  /* An unsigned attestation of the signed_by item, written past the CLI: missing, with why. */
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", NULL), 0);
  free(out);
  journal *j = open_journal();
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_attest(j, "1", "runbook-reviewed", "mallory", 0, "", NULL, NULL, &err), GG_OK);
  journal_close(j);
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", NULL), 1);
  expect_in(out, "missing: unsigned");
  expect_in(out, "attest again, signed with a key of role platform-lead");
  free(out);

  /* A preflight attestation (judged whatever its phase) with a forged signature: missing. */
  j = open_journal();
  json_t *c = NULL;
  assert_int_equal(journal_attestation_content("team-notified", "bob", 0, "", NULL, &c, &err), GG_OK);
  gg_sigkey *k = key_of(mallory_key);
  assert_int_equal(journal_sign_content(k, JOURNAL_ATTESTATION, "1", "bob", "sign-fixture", c, &err), GG_OK);
  gg_sigkey_free(k);
  json_object_set_new(c, "note", json_string("added after signing"));
  assert_int_equal(journal_append(j, JOURNAL_ATTESTATION, "1", "bob", c, NULL, &err), GG_OK);
  json_decref(c);
  journal_close(j);
  assert_int_equal(gonogo(&out, "status", plan_path, NULL), 0);
  expect_in(out, "team-notified: missing (bob, ");
  expect_in(out, "bad signature: it does not verify");
  free(out);
}

/* Rebuild every hash from row `from` on, the recorded head and the anchor beside the file: what
 * an attacker who can write the file does to hide an edit from the chain. */
static void rechain(sqlite3 *db, long long from, const char *path) {
  sqlite3_stmt *st = NULL;
  char prev[JOURNAL_HASH_HEX] = "";
  assert_int_equal(
      sqlite3_prepare_v2(db,
                         "SELECT seq, time_ms, kind, phase, actor, os_user, host, content, prev_hash"
                         " FROM events WHERE seq >= ? ORDER BY seq",
                         -1, &st, NULL),
      SQLITE_OK);
  sqlite3_bind_int64(st, 1, from);
  long long last = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    long long seq = sqlite3_column_int64(st, 0);
    if (!prev[0]) snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 8));
    char h[JOURNAL_HASH_HEX];
    gg_error err;
    gg_error_clear(&err);
    assert_int_equal(
        journal_row_hash(seq, sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2),
                         (const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4),
                         (const char *)sqlite3_column_text(st, 5), (const char *)sqlite3_column_text(st, 6),
                         (const char *)sqlite3_column_text(st, 7), prev, h, &err),
        GG_OK);
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE events SET prev_hash = '%s', hash = '%s' WHERE seq = %lld", prev, h,
             seq);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(prev, sizeof prev, "%s", h);
    last = seq;
  }
  sqlite3_finalize(st);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE meta SET value = '%s' WHERE key = 'head_hash'", prev);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sh("printf '%%s %%s\\n' %lld %s > '%s.head'", last, prev, path);
}

static void test_edited_signature_rechained(void **state) {
  (void)state;
  char *out = NULL;
  /* A journal of its own: alice's signed approval, then her note edited and the chain rebuilt
   * around it. */
  char fresh[200];
  snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by",
                          "alice", "--key", alice_key, "--note", "looks good", "--journal", fresh, NULL),
                   0);
  free(out);
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "on-call", "--by", "bob",
                          "--journal", fresh, NULL),
                   0);
  free(out);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--journal", fresh, NULL), 0);
  expect_in(out, "1 signed event checked");
  free(out);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(fresh, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "DROP TRIGGER events_no_update;"
                                "UPDATE events SET content = replace(content, 'looks good', 'go, whatever')"
                                " WHERE kind = 'approval' AND actor = 'alice'",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_changes(db), 1);
  rechain(db, 1, fresh);
  sqlite3_close(db);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--journal", fresh, NULL), 2);
  expect_in(out, "at row 1: approval: bad signature: it does not verify");
  free(out);
  assert_int_equal(gonogo(&out, "check", plan_path, "--phase", "1", "--verbose", "--journal", fresh, NULL),
                   1);
  expect_in(out, "missing: bad signature");
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_files_refused),
      cmocka_unit_test(test_signed_approval_in_force_and_refusals),
      cmocka_unit_test(test_edited_signature_rechained),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
