/* Integration tests of the journal verbs of the real gonogo binary (GONOGO_BIN): approve, attest,
 * mark, retro, status, journal log and journal verify, on a small fixture plan in a temp dir. Phase
 * states are set up by appending lifecycle events through the library, as run/rollback will. */
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

#include "base/spawn.h"
#include "journal/journal.h"
#include "support.h"

static const char *bin;
static char dir[64];
static char plan_path[128];
static char journal_file[160];

static const char PLAN[] =
    "migration: journal-fixture\n"
    "description: A small plan for the journal's tests\n"
    "roles:\n"
    "  - { id: platform-lead, title: Platform Team Lead }\n"
    "  - { id: on-call, title: On-call engineer }\n"
    "  - { id: engineering-manager, title: Engineering Manager, optional: true }\n"
    "preflight:\n"
    "  - { name: \"Team notified\", attest: team-notified }\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: Create the DLQ stream\n"
    "    approvals: [platform-lead]\n"
    "    go:\n"
    "      - { name: \"Always\", expect: \"1 == 1\" }\n"
    "    actions:\n"
    "      - wait: 1s\n"
    "  - id: 1\n"
    "    name: Move vendor subjects\n"
    "    approvals: [platform-lead, on-call, engineering-manager]\n"
    "    go:\n"
    "      - { name: \"On-call available\", attest: on-call-available, valid_for: 4h }\n"
    "    actions:\n"
    "      - wait: 1s\n"
    "  - id: 2\n"
    "    name: Move core subjects\n"
    "    actions:\n"
    "      - wait: 1s\n"
    "  - id: 3\n"
    "    name: Delete the legacy stream\n"
    "    actions:\n"
    "      - wait: 1s\n"
    "validation:\n"
    "  - { at: 5m, name: Immediate, phases: [0], expect: [ { name: ok, expect: \"1 == 1\" } ] }\n";

static void write_plan(const char *extra) {
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fputs(PLAN, f);
  if (extra) fputs(extra, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  bin = getenv("GONOGO_BIN");
  if (!bin) {
    fprintf(stderr, "GONOGO_BIN is not set (run through ctest)\n");
    return -1;
  }
  snprintf(dir, sizeof dir, "/tmp/gg-journal-cli-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_file, sizeof journal_file, "%s/.gonogo/journal-fixture.db", dir);
  write_plan(NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Run gonogo with the given arguments (NULL-terminated); the exit code, *out the output. */
#define gonogo(out, ...) support_gonogo(bin, out, __VA_ARGS__)

static void assert_prefix(const char *s, const char *prefix) {
  if (!s || strncmp(s, prefix, strlen(prefix)) != 0)
    fail_msg("'%s' does not start with '%s'", s ? s : "", prefix);
}

static json_t *status_json(void) {
  char *out = NULL;
  assert_int_equal(gonogo(&out, "status", plan_path, "--json", NULL), 0);
  json_error_t je;
  json_t *doc = json_loads(out, 0, &je);
  if (!doc) fail_msg("status --json is not JSON (%s): %s", je.text, out);
  free(out);
  return doc;
}

static json_t *phase_of(json_t *doc, const char *id) {
  size_t i;
  json_t *ph;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    if (strcmp(json_string_value(json_object_get(ph, "id")), id) == 0) return ph;
  }
  fail_msg("no phase %s in status", id);
  return NULL;
}

static const char *signoff_status(json_t *ph, const char *list, const char *key, const char *name) {
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(ph, list), i, a) {
    if (strcmp(json_string_value(json_object_get(a, key)), name) == 0)
      return json_string_value(json_object_get(a, "status"));
  }
  fail_msg("no %s %s", key, name);
  return NULL;
}

static void test_approve_and_void_after_plan_edit(void **state) {
  (void)state;
  char *out = NULL;
  /* Refusals: a role the phase does not ask for, an unknown phase, an unknown item. */
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "ceo", "--by", "alice", NULL),
                   3);
  assert_non_null(strstr(out, "does not ask for role 'ceo' (it asks for: platform-lead, on-call"));
  free(out);
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "9", "--role", "on-call", "--by", "a", NULL),
                   3);
  assert_non_null(strstr(out, "no phase '9' (phases: 0, 1, 2, 3)"));
  free(out);
  assert_int_equal(gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "nope", "--by", "a", NULL), 3);
  assert_non_null(strstr(out, "no attestation item 'nope' (items: on-call-available, team-notified)"));
  free(out);

  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by", "alice", NULL),
      0);
  assert_non_null(strstr(out, "still missing: on-call, engineering-manager (optional)"));
  free(out);
  json_t *doc = status_json();
  assert_string_equal(signoff_status(phase_of(doc, "1"), "approvals", "role", "platform-lead"), "in force");
  assert_string_equal(signoff_status(phase_of(doc, "1"), "approvals", "role", "on-call"), "missing");
  assert_prefix(json_string_value(json_object_get(doc, "next")), "gonogo attest "); /* team-notified first */
  json_decref(doc);

  /* The plan changes: the approval no longer binds. */
  write_plan("references: [ { title: Runbook, url: docs/runbook.md } ]\n");
  doc = status_json();
  json_t *ph = phase_of(doc, "1");
  assert_string_equal(signoff_status(ph, "approvals", "role", "platform-lead"), "void");
  json_decref(doc);
  assert_int_equal(gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "on-call", "--by", "bob",
                          "--note", "ok", NULL),
                   0);
  /* It says what changed, key by key (issue 18): the reference the edit added. */
  assert_non_null(
      strstr(out,
             "still missing: platform-lead (void: the plan changed: references[0].title: (absent) "
             "\u2192 Runbook; references[0].url: (absent) \u2192 docs/runbook.md)"));
  free(out);
  assert_int_equal(gonogo(&out, "status", plan_path, NULL), 0);
  assert_non_null(strstr(out, "platform-lead: void (alice, "));
  assert_non_null(strstr(out, "the plan changed since: references[0].title: (absent) \u2192 Runbook"));
  free(out);
  doc = status_json();
  ph = phase_of(doc, "1");
  json_t *lead = json_array_get(json_object_get(ph, "approvals"), 0);
  assert_string_equal(
      json_string_value(json_object_get(lead, "changed")),
      "references[0].title: (absent) \u2192 Runbook; references[0].url: (absent) \u2192 docs/runbook.md");
  json_decref(doc);
  /* Re-approving the new plan puts it back in force; the recorded OS user and host are there. */
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "1", "--role", "platform-lead", "--by", "alice", NULL),
      0);
  free(out);
  doc = status_json();
  ph = phase_of(doc, "1");
  assert_string_equal(signoff_status(ph, "approvals", "role", "platform-lead"), "in force");
  json_t *first = json_array_get(json_object_get(ph, "approvals"), 0);
  assert_string_equal(json_string_value(json_object_get(first, "os_user")), journal_os_user());
  assert_string_equal(json_string_value(json_object_get(first, "host")), journal_host());
  json_decref(doc);
}

static void append(journal *j, journal_kind kind, const char *phase, const char *content) {
  json_t *c = content ? json_loads(content, 0, NULL) : NULL;
  gg_error err;
  gg_error_clear(&err);
  if (journal_append(j, kind, phase, "gonogo run", c, NULL, &err) != GG_OK)
    fail_msg("%s", gg_error_message(&err));
  json_decref(c);
}

static void test_status_each_phase_state(void **state) {
  (void)state;
  char *out = NULL;
  /* Create the journal through the CLI, then record what run/check would. */
  assert_int_equal(
      gonogo(&out, "mark", plan_path, "--event", "deployment", "--at", "2026-11-20T10:00:00Z", NULL), 0);
  free(out);
  journal *j = NULL;
  assert_int_equal(journal_open(journal_file, 0, &j, NULL), GG_OK);
  append(j, JOURNAL_PHASE_STARTED, "0", NULL);
  append(j, JOURNAL_PHASE_COMPLETED, "0", NULL);
  append(j, JOURNAL_PHASE_PREPARED, "1", NULL);
  append(j, JOURNAL_PHASE_STARTED, "2", NULL);
  append(j, JOURNAL_PHASE_ROLLED_BACK, "2", "{\"reason\":\"error rate > 50% for 5m\"}");

  json_t *doc = status_json();
  assert_string_equal(json_string_value(json_object_get(phase_of(doc, "0"), "state")), "completed");
  assert_non_null(json_object_get(phase_of(doc, "0"), "completed_at"));
  assert_string_equal(json_string_value(json_object_get(phase_of(doc, "1"), "state")), "prepared");
  assert_string_equal(json_string_value(json_object_get(phase_of(doc, "2"), "state")), "rolled back");
  assert_string_equal(json_string_value(json_object_get(phase_of(doc, "2"), "reason")),
                      "error rate > 50% for 5m");
  assert_string_equal(json_string_value(json_object_get(phase_of(doc, "3"), "state")), "not started");
  assert_true(json_is_true(json_object_get(json_object_get(doc, "chain"), "ok")));
  /* The checkpoint after phase 0: due until `watch` journals its result. */
  json_t *cp = json_array_get(json_object_get(phase_of(doc, "0"), "checkpoints"), 0);
  assert_string_equal(json_string_value(json_object_get(cp, "checkpoint")), "Immediate");
  assert_string_equal(json_string_value(json_object_get(cp, "result")), "due");
  assert_non_null(json_object_get(cp, "due"));
  json_decref(doc);
  append(j, JOURNAL_CHECKPOINT, "0", "{\"checkpoint\":\"Immediate\",\"result\":\"PASS\"}");
  doc = status_json();
  cp = json_array_get(json_object_get(phase_of(doc, "0"), "checkpoints"), 0);
  assert_string_equal(json_string_value(json_object_get(cp, "result")), "PASS");
  assert_non_null(
      strstr(json_string_value(json_object_get(doc, "next")), "--phase 1 --item on-call-available"));
  json_decref(doc);

  /* Decided: an evaluation of phase 1 after it was prepared; then approvals & attestations make
   * the next step `run`. */
  assert_int_equal(
      gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "team-notified", "--by", "a", NULL), 0);
  free(out);
  assert_int_equal(
      gonogo(&out, "attest", plan_path, "--phase", "1", "--item", "on-call-available", "--by", "b", NULL), 0);
  assert_non_null(strstr(out, "valid for 4h until"));
  free(out);
  const char *roles[] = {"platform-lead", "on-call"};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(
        gonogo(&out, "approve", plan_path, "--phase", "0", "--role", "platform-lead", "--by", "c", NULL), 0);
    free(out);
    assert_int_equal(
        gonogo(&out, "approve", plan_path, "--phase", "1", "--role", roles[i], "--by", "c", NULL), 0);
    free(out);
  }
  doc = status_json();
  assert_prefix(json_string_value(json_object_get(doc, "next")), "gonogo check "); /* no decision yet */
  json_decref(doc);
  append(j, JOURNAL_EVALUATION, "1", "{\"decision\":\"GO\",\"criteria\":[]}");
  doc = status_json();
  json_t *ph = phase_of(doc, "1");
  assert_string_equal(json_string_value(json_object_get(ph, "state")), "decided");
  assert_string_equal(json_string_value(json_object_get(ph, "decision")), "GO");
  char want[256];
  snprintf(want, sizeof want, "gonogo run %s --phase 1", plan_path);
  assert_string_equal(json_string_value(json_object_get(doc, "next")), want);
  json_decref(doc);

  /* Running, with our lease: wait; its state shows in the human view too. */
  append(j, JOURNAL_PHASE_STARTED, "1", NULL);
  assert_int_equal(journal_lock_acquire(j, "gonogo run phase 1 (c)", 60, false, NULL, NULL), GG_OK);
  assert_int_equal(gonogo(&out, "status", plan_path, NULL), 0);
  assert_non_null(strstr(out, "state         running since"));
  assert_non_null(strstr(out, "state         rolled back at "));
  assert_non_null(strstr(out, ": error rate > 50% for 5m"));
  assert_non_null(strstr(out, "lock      held by 'gonogo run phase 1 (c)'"));
  assert_non_null(strstr(out, "next: phase '1' is running"));
  free(out);
  assert_int_equal(journal_lock_release(j, NULL), GG_OK);
  doc = status_json();
  assert_non_null(strstr(json_string_value(json_object_get(doc, "next")), "was interrupted: gonogo resume"));
  assert_true(json_is_null(json_object_get(doc, "lock")));
  json_decref(doc);

  append(j, JOURNAL_PHASE_COMPLETED, "1", NULL);
  append(j, JOURNAL_PHASE_FAILED, "3", "{\"reason\":\"drain timed out\"}");
  doc = status_json();
  assert_string_equal(json_string_value(json_object_get(phase_of(doc, "3"), "state")), "failed");
  assert_non_null(strstr(json_string_value(json_object_get(doc, "next")), "phase '2' was rolled back"));
  json_decref(doc);
  journal_close(j);
}

static void test_log_and_verify(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "incident", "--at", "yesterday", NULL), 3);
  free(out);
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "incident", "--note", "pg down", NULL), 0);
  free(out);
  assert_int_equal(
      gonogo(&out, "approve", plan_path, "--phase", "0", "--role", "platform-lead", "--by", "alice", NULL),
      0);
  free(out);
  assert_int_equal(
      gonogo(&out, "attest", plan_path, "--phase", "0", "--item", "team-notified", "--by", "bob", NULL), 0);
  free(out);

  assert_int_equal(gonogo(&out, "journal", "log", plan_path, "--json", "--kind", "approval", NULL), 0);
  json_t *ev = json_loads(out, 0, NULL); /* exactly one line */
  assert_non_null(ev);
  assert_string_equal(json_string_value(json_object_get(ev, "actor")), "alice");
  assert_string_equal(json_string_value(json_object_get(ev, "phase")), "0");
  assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 2);
  json_decref(ev);
  free(out);
  assert_int_equal(gonogo(&out, "journal", "log", plan_path, "--phase", "0", NULL), 0);
  assert_non_null(strstr(out, "#2 "));
  assert_non_null(strstr(out, "#3 "));
  assert_null(strstr(out, "#1 "));
  free(out);
  assert_int_equal(gonogo(&out, "journal", "log", plan_path, "--since", "2100-01-01T00:00:00Z", NULL), 0);
  assert_string_equal(out, "");
  free(out);
  assert_int_equal(gonogo(&out, "journal", "log", plan_path, "--kind", "bogus", NULL), 3);
  free(out);

  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 0);
  assert_non_null(strstr(out, "intact: 3 events, head 3:"));
  assert_non_null(strstr(out, "matches its anchor"));
  char head[128] = "";
  const char *h = strstr(out, "head 3:");
  snprintf(head, sizeof head, "%.66s", h + 5); /* "3:" and 64 hex digits */
  free(out);

  /* Someone deletes the last row and rewrites the recorded head to match: the chain alone would
   * pass, the anchor beside the file does not; with the anchor gone too, the head kept from the
   * run above still does not. Restored afterwards from a copy. */
  char copy[256], cmd[600];
  snprintf(copy, sizeof copy, "%s.bak", journal_file);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s.head' '%s.head.bak'", journal_file, copy, journal_file,
           journal_file);
  assert_int_equal(system(cmd), 0);
  sqlite3 *tdb = NULL;
  assert_int_equal(sqlite3_open(journal_file, &tdb), SQLITE_OK);
  assert_int_equal(sqlite3_exec(tdb,
                                "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3;"
                                "UPDATE meta SET value = '2' WHERE key = 'head_seq';"
                                "UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 2) "
                                "WHERE key = 'head_hash'",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(tdb);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 2);
  assert_non_null(strstr(out, "is damaged at row 3: the chain ends at row 2 but the head anchor"));
  free(out);
  snprintf(cmd, sizeof cmd, "rm '%s.head'", journal_file);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 0); /* the chain alone passes */
  free(out);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--expect-head", head, NULL), 2);
  assert_non_null(strstr(out, "--expect-head names row 3 (rows deleted at the end)"));
  free(out);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--expect-head", "3:nothex", NULL), 3);
  assert_non_null(strstr(out, "expected SEQ:HASH"));
  free(out);
  snprintf(cmd, sizeof cmd, "mv '%s' '%s' && rm -f '%s-wal' '%s-shm' && mv '%s.head.bak' '%s.head'", copy,
           journal_file, journal_file, journal_file, journal_file, journal_file);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--expect-head", head, NULL), 0);
  assert_non_null(strstr(out, "and --expect-head"));
  free(out);

  /* A zero-byte file where the journal was is not a new, empty journal. */
  char empty[200];
  snprintf(empty, sizeof empty, "%s/empty.db", dir);
  FILE *ef = fopen(empty, "w");
  assert_non_null(ef);
  fclose(ef);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--journal", empty, NULL), 3);
  assert_non_null(strstr(out, "is empty (0 bytes)"));
  free(out);

  /* Someone edits the approval behind gonogo's back. */
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(journal_file, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db, "DROP TRIGGER events_no_update; UPDATE events SET actor = 'mallory' WHERE seq = 2",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, NULL), 2);
  assert_non_null(strstr(out, "is damaged at row 2: its fields do not match its hash (row edited)"));
  free(out);
  json_t *doc = status_json();
  assert_false(json_is_true(json_object_get(json_object_get(doc, "chain"), "ok")));
  assert_non_null(strstr(json_string_value(json_object_get(doc, "next")), "the journal is damaged"));
  json_decref(doc);

  /* --journal PATH chooses another file. */
  char other[200];
  snprintf(other, sizeof other, "%s/other.db", dir);
  assert_int_equal(gonogo(&out, "mark", plan_path, "--event", "deployment", "--journal", other, NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "journal", "verify", plan_path, "--journal", other, NULL), 0);
  assert_non_null(strstr(out, "intact: 1 event,"));
  free(out);
}

/* check, status and report judge sign-offs alike (issue #11): an item of two phases attested
 * under one is missing for the other; the preflight is attested once for every phase and
 * shown once. */
static void test_signoffs_agree_with_check(void **state) {
  (void)state;
  char path[160], *out = NULL;
  snprintf(path, sizeof path, "%s/two.yaml", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(
      "migration: two-phases\n"
      "preflight:\n"
      "  - { name: \"Team notified\", attest: team-notified }\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    go:\n"
      "      - { name: \"On-call available\", attest: on-call-available, valid_for: 4h }\n"
      "    actions:\n"
      "      - wait: 1s\n"
      "  - id: 2\n"
      "    name: Two\n"
      "    go:\n"
      "      - { name: \"On-call available\", attest: on-call-available, valid_for: 4h }\n"
      "    actions:\n"
      "      - wait: 1s\n",
      f);
  fclose(f);
  const char *items[] = {"team-notified", "on-call-available"};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(gonogo(&out, "attest", path, "--phase", "1", "--item", items[i], "--by", "ann", NULL),
                     0);
    free(out);
  }
  assert_int_equal(gonogo(&out, "status", path, "--json", NULL), 0);
  json_t *doc = json_loads(out, 0, NULL);
  free(out);
  assert_non_null(doc);
  json_t *pre = json_object_get(doc, "preflight");
  assert_int_equal(json_array_size(json_object_get(pre, "attestations")), 1);
  assert_string_equal(signoff_status(pre, "attestations", "item", "team-notified"), "in force");
  assert_string_equal(signoff_status(phase_of(doc, "1"), "attestations", "item", "on-call-available"),
                      "in force");
  assert_string_equal(signoff_status(phase_of(doc, "2"), "attestations", "item", "on-call-available"),
                      "missing");
  assert_int_equal(json_array_size(json_object_get(phase_of(doc, "2"), "attestations")), 1);
  json_decref(doc);
  /* check says the same for phase 2: DEFER on the on-call attestation, the preflight in force. */
  assert_int_equal(gonogo(&out, "check", path, "--phase", "2", "--json", NULL), 1);
  doc = json_loads(out, 0, NULL);
  free(out);
  assert_non_null(doc);
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(doc, "items"), i, it) {
    const char *what = json_string_value(json_object_get(it, "what"));
    const char *result = json_string_value(json_object_get(it, "result"));
    assert_string_equal(result, strcmp(what, "team-notified") == 0 ? "PASS" : "WAIT");
  }
  json_decref(doc);
  /* The human view lists the preflight once, not under every phase. */
  assert_int_equal(gonogo(&out, "status", path, NULL), 0);
  const char *first = strstr(out, "team-notified: in force");
  assert_non_null(first);
  assert_null(strstr(first + 1, "team-notified"));
  assert_non_null(strstr(out, "preflight"));
  free(out);
}

/* gonogo retro: entries refused without their parts, recorded with them; the draft and the report
 * end with them; retro.completed reads 1 once closed. */
static void test_retro(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(gonogo(&out, "retro", plan_path, "--action-item", "alert on DLQ", "--owner", "bob", "--by",
                          "ann", NULL),
                   3);
  assert_non_null(strstr(out, "retro action-item 'alert on DLQ': it needs a due date (--due DATE)"));
  free(out);
  assert_int_equal(gonogo(&out, "retro", plan_path, "--action-item", "x", "--owner", "bob", "--due",
                          "2026-13-01", "--by", "ann", NULL),
                   3);
  assert_non_null(strstr(out, "--due '2026-13-01'"));
  free(out);
  assert_int_equal(
      gonogo(&out, "retro", plan_path, "--went-well", "a", "--improve", "b", "--by", "ann", NULL), 3);
  free(out);
  assert_int_equal(gonogo(&out, "retro", plan_path, "--went-well", "quiet cutover", "--by", "ann", NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "retro", plan_path, "--action-item", "alert on DLQ", "--owner", "bob",
                          "--due", "2026-12-24", "--by", "ann", NULL),
                   0);
  free(out);
  assert_int_equal(gonogo(&out, "eval", plan_path, "retro.completed == 0", NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "retro", plan_path, "--complete", "--by", "ann", NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "eval", plan_path, "retro.completed == 1", NULL), 0);
  free(out);
  assert_int_equal(gonogo(&out, "retro", plan_path, NULL), 0);
  assert_non_null(strstr(out, "- quiet cutover (ann)"));
  assert_non_null(strstr(out, "| alert on DLQ | bob | 2026-12-24 | ann |"));
  assert_non_null(strstr(out, "**Retrospective completed** by ann"));
  free(out);
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  const char *lessons = strstr(out, "## Lessons Learned (Post-Migration)");
  assert_non_null(lessons);
  assert_non_null(strstr(lessons, "- quiet cutover (ann)"));
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_approve_and_void_after_plan_edit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status_each_phase_state, setup, teardown),
      cmocka_unit_test_setup_teardown(test_log_and_verify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_signoffs_agree_with_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retro, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
