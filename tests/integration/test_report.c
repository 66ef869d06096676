/* Integration tests of `gonogo report` with the real binary (GONOGO_BIN): a fixture plan in a
 * temp dir and a journal built by appending events through the library, as check, run, watch,
 * approve, attest and mark write them; then the Markdown, HTML and JSON reports, -o FILE, and a
 * journal edited behind gonogo's back. */
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

#include "base/clock.h"
#include "base/spawn.h"
#include "journal/journal.h"
#include "plan/plan.h"
#include "support.h"

static const char *bin;
static char dir[64];
static char plan_path[128];
static char journal_file[160];

static const char PLAN[] =
    "migration: report-fixture\n"
    "description: A small plan for the report's tests\n"
    "roles:\n"
    "  - { id: platform-lead, title: Platform Team Lead }\n"
    "  - { id: on-call, title: On-call engineer }\n"
    "connect:\n"
    "  databases: { main: \"${REPORT_PG_URL}\" }\n"
    "topology:\n"
    "  streams:\n"
    "    OLD: { subjects: [vendor.>], existing: true }\n"
    "    NEW_HOT: { subjects: [vendor.>] }\n"
    "preflight:\n"
    "  - { name: \"Team notified\", attest: team-notified }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: Move vendor subjects\n"
    "    risks:\n"
    "      - { risk: Vendor webhooks lost, probability: medium, impact: high,\n"
    "          mitigation: \"Retry with Nats-Msg-Id\", residual: low }\n"
    "    rollback: { complexity: simple, estimate: 5m }\n"
    "    approvals: [platform-lead, on-call]\n"
    "    go:\n"
    "      - { name: \"Old consumer drained\", expect: 'nats.consumer.num_pending{stream=\"OLD\"} == 0' }\n"
    "      - { name: \"Disk space per node\", expect: 'nats.server.storage_free > 20GB' }\n"
    "      - { name: \"On-call available\", attest: on-call-available, valid_for: 4h }\n"
    "    prepare:\n"
    "      - create_stream: NEW_HOT\n"
    "    actions:\n"
    "      - move_subjects: { subjects: [vendor.>], from: OLD, to: NEW_HOT }\n"
    "  - id: 2\n"
    "    name: Delete the legacy stream\n"
    "    actions:\n"
    "      - wait: 1s\n"
    "monitor:\n"
    "  rules:\n"
    "    - { name: \"Consumer lag > 100\", when: 'nats.consumer.num_pending{stream=\"NEW_HOT\"} > 100',\n"
    "        for: 10m, then: advise }\n"
    "validation:\n"
    "  - { at: 5m, name: Immediate, phases: [1],\n"
    "      expect: [ { name: lag ok, expect: 'nats.consumer.num_pending{stream=\"NEW_HOT\"} < 10' } ] }\n";

static int setup(void **state) {
  (void)state;
  bin = getenv("GONOGO_BIN");
  if (!bin) {
    fprintf(stderr, "GONOGO_BIN is not set (run through ctest)\n");
    return -1;
  }
  /* A secret the plan holds: it must never reach any report. */
  setenv("REPORT_PG_URL", "postgres://gonogo:s3cr3t-pw@127.0.0.1/aa", 1);
  snprintf(dir, sizeof dir, "/tmp/gg-report-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(journal_file, sizeof journal_file, "%s/.gonogo/report-fixture.db", dir);
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

/* Run gonogo with the given arguments (NULL-terminated); the exit code, *out the output. */
#define gonogo(out, ...) support_gonogo(bin, out, __VA_ARGS__)

static void assert_contains(const char *hay, const char *needle) {
  if (hay && strstr(hay, needle)) return;
  fprintf(stderr, "%s\n", hay ? hay : "");
  fail_msg("the output above does not contain '%s'", needle);
}

static int occurrences(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

static void append(journal *j, journal_kind kind, const char *phase, const char *actor, json_t *content) {
  gg_error err;
  gg_error_clear(&err);
  gg_status st = journal_append(j, kind, phase, actor, content, NULL, &err);
  json_decref(content);
  if (st != GG_OK) fail_msg("append %s: %s", journal_kind_name(kind), gg_error_message(&err));
}

/* The journal of a migration whose phase 1 went through on an override and whose phase 2 was
 * rolled back, as the verbs write it. */
static void build_journal(void) {
  plan_diags diags;
  plan_diags_init(&diags);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = plan_load_file(plan_path, NULL, &p, &diags, &err);
  plan_diags_release(&diags);
  if (st != GG_OK) fail_msg("load: %s", gg_error_message(&err));
  journal *j = NULL;
  assert_int_equal(journal_open(journal_file, JOURNAL_OPEN_CREATE, &j, &err), GG_OK);

  append(j, JOURNAL_EVALUATION, "1", "gonogo check",
         json_pack("{s:s, s:s, s:[s], s:[], s:[{s:s, s:s, s:s, s:s, s:s, s:[], s:s},"
                   " {s:s, s:s, s:s, s:s, s:s, s:[s], s:s}]}",
                   "phase", "1", "decision", "NO-GO", "reasons", "Disk space per node: FAIL", "pending",
                   "items", "section", "go", "name", "Old consumer drained", "result", "PASS", "observed",
                   "0", "threshold", "== 0", "failing", "message", "", "section", "go", "name",
                   "Disk space per node", "result", "FAIL", "observed", "12.1 GB", "threshold", "> 20 GB",
                   "failing", "n2: 12.1 GB free < 20 GB", "message", "1 of 3 servers below"));
  append(j, JOURNAL_DECISION, "1", "gonogo check",
         json_pack("{s:s, s:s}", "decision", "NO-GO", "plan_hash", p->hash));
  assert_int_equal(journal_approve(j, "1", "platform-lead", "bob", "go", p->hash, "looks fine", NULL, &err),
                   GG_OK);
  assert_int_equal(
      journal_attest(j, "1", "on-call-available", "carol", 4 * 3600.0, p->hash, NULL, NULL, &err), GG_OK);
  append(j, JOURNAL_OVERRIDE, "1", "alice",
         json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}]}", "reason",
                   "n2 disk alarm is a known false positive", "decision", "GO", "overridden", "NO-GO",
                   "items", "section", "go", "name", "Disk space per node", "result", "FAIL", "reason",
                   "n2 disk alarm is a known false positive"));
  append(j, JOURNAL_PHASE_STARTED, "1", "gonogo run", json_pack("{s:b}", "prepare", 0));
  append(j, JOURNAL_ACTION_OUTCOME, "1", "gonogo run",
         json_pack("{s:s, s:i, s:s, s:s, s:s, s:f}", "section", "prepare", "index", 0, "action",
                   "create_stream", "mode", "forward", "result", "ok", "elapsed_ms", 31.0));
  append(j, JOURNAL_ACTION_OUTCOME, "1", "gonogo run",
         json_pack("{s:s, s:i, s:s, s:s, s:s, s:f, s:f}", "section", "actions", "index", 0, "action",
                   "move_subjects", "mode", "forward", "result", "ok", "elapsed_ms", 18.25, "gap_ms", 4.2));
  append(j, JOURNAL_PHASE_COMPLETED, "1", "gonogo run", json_pack("{s:f, s:i}", "gap_ms", 4.2, "changes", 2));
  append(j, JOURNAL_RULE_FIRING, "1", "gonogo watch",
         json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "rule", "Consumer lag > 100", "then", "advise", "expr",
                   "nats.consumer.num_pending{stream=\"NEW_HOT\"} > 100", "value", "250", "members",
                   "{stream=\"NEW_HOT\", consumer=\"normalize-oura\"}: 250"));
  append(
      j, JOURNAL_CHECKPOINT, "1", "gonogo watch",
      json_pack("{s:s, s:f, s:s, s:[{s:s, s:s, s:s}], s:b}", "checkpoint", "Immediate", "at", 300.0, "result",
                "PASS", "items", "name", "lag ok", "result", "PASS", "observed", "3", "late", 0));
  append(j, JOURNAL_PHASE_STARTED, "2", "gonogo run", json_pack("{s:b}", "prepare", 0));
  append(j, JOURNAL_ACTION_OUTCOME, "2", "gonogo run",
         json_pack("{s:s, s:i, s:s, s:s, s:s, s:f, s:s}", "section", "actions", "index", 0, "action", "wait",
                   "mode", "forward", "result", "failed", "elapsed_ms", 1000.0, "error", "interrupted"));
  /* A preflight item attested under phase 2 gates phase 1 too: the report shows it once. */
  assert_int_equal(journal_attest(j, "2", "team-notified", "erin", 0, p->hash, NULL, NULL, &err), GG_OK);
  append(j, JOURNAL_PHASE_ROLLED_BACK, "2", "gonogo rollback",
         json_pack("{s:s}", "reason", "error rate above 50% for 5m"));
  assert_int_equal(journal_mark(j, "deployment", 0, "dave", "normalize-service v2.3", NULL, &err), GG_OK);
  append(j, JOURNAL_RULE_FIRING, JOURNAL_NO_PHASE, "gonogo watch",
         json_pack("{s:s, s:s, s:s}", "rule", "Alertmanager silent", "then", "notify", "value", "0"));

  double now = gg_clock_now();
  journal_sample s[20];
  for (int i = 0; i < 20; i++)
    s[i] = (journal_sample){.name = "nats.consumer.num_pending",
                            .labels = "{\"stream\":\"NEW_HOT\"}",
                            .time = now - 600 + i * 30,
                            .value = (double)(i * 7 % 40)};
  assert_int_equal(journal_samples_add(j, s, 20, &err), GG_OK);
  journal_close(j);
  plan_free(p);
}

static void test_report(void **state) {
  (void)state;
  build_journal();
  char *out = NULL;

  /* Markdown: the key facts, each where an auditor looks for it. */
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  assert_contains(out, "# Migration report: report-fixture");
  assert_contains(out, "| Integrity | intact: 17 events, head 17:");
  assert_contains(out, "## Phase 1: Move vendor subjects");
  assert_contains(out, "## Phase 2: Delete the legacy stream");
  assert_contains(out, "| Vendor webhooks lost | MEDIUM | HIGH | HIGH | Retry with Nats-Msg-Id | LOW |");
  assert_contains(out, "| go | Old consumer drained | PASS | 0 | == 0 |");
  assert_contains(out, "| go | Disk space per node | FAIL | 12.1 GB | > 20 GB | n2: 12.1 GB free < 20 GB |");
  assert_contains(out, "**OVERRIDE by alice at ");
  assert_contains(out, " of go FAIL 'Disk space per node': n2 disk alarm is a known false positive**");
  assert_contains(out, ": n2 disk alarm is a known false positive**");
  assert_contains(out, "| platform-lead | in force | bob |");
  assert_contains(out, "| on-call | missing |");
  assert_contains(out, "| on-call-available | in force | carol |");
  assert_contains(out, "## Preflight (gates every phase)");
  assert_contains(out, "| team-notified | in force | erin |");
  const char *pre = strstr(out, "| team-notified |");
  assert_null(strstr(pre + 1, "| team-notified |")); /* once, not under every phase */
  assert_contains(out, "| move subjects vendor.> from OLD to NEW_HOT | forward | ok | 18.2 ms | 4.2 ms |");
  assert_contains(out, "| Immediate | PASS | PASS lag ok (3) |");
  assert_contains(out, "| Consumer lag > 100 | advise | 250 |");
  assert_contains(out, "State: **rolled back** at ");
  assert_contains(out, "| rolled back | gonogo rollback | error rate above 50% for 5m |");
  assert_contains(out, "| deployment | dave | normalize-service v2.3 |");
  assert_contains(out, "## Rule firings not tied to a phase");
  assert_contains(out, "| Alertmanager silent | notify | 0 |");
  assert_contains(out, "| nats.consumer.num_pending | {\"stream\":\"NEW_HOT\"} | 20 |");
  assert_null(strstr(out, "s3cr3t-pw"));
  free(out);

  /* HTML: one self-contained page with a chart and the override in red. */
  assert_int_equal(gonogo(&out, "report", plan_path, "--format", "html", NULL), 0);
  assert_true(strncmp(out, "<!DOCTYPE html>", 15) == 0);
  assert_contains(out, "</html>");
  assert_contains(out, "<svg");
  assert_contains(out, "<style>");
  /* No external asset: the only URL is the SVG namespace name, which is never fetched. */
  assert_int_equal(occurrences(out, "http://"), occurrences(out, "xmlns=\"http://www.w3.org/2000/svg\""));
  assert_null(strstr(out, "https://"));
  assert_null(strstr(out, "src="));
  assert_null(strstr(out, "href="));
  assert_null(strstr(out, "url("));
  assert_null(strstr(out, "@import"));
  assert_null(strstr(out, "<link"));
  assert_contains(out, "<p class=\"override\"><strong class=\"bad\">OVERRIDE by alice at ");
  assert_contains(out, "<td class=\"bad\">FAIL</td><td>12.1 GB</td><td>&gt; 20 GB</td>");
  assert_null(strstr(out, "s3cr3t-pw"));
  const char *first = strstr(out, "<html"), *second = first ? strstr(first + 1, "<html") : NULL;
  assert_non_null(first);
  assert_null(second);
  free(out);

  /* JSON: the same decision and override facts, for machines. */
  assert_int_equal(gonogo(&out, "report", plan_path, "--format", "json", NULL), 0);
  json_error_t jerr;
  json_t *doc = json_loads(out, 0, &jerr);
  if (!doc) fail_msg("report json does not parse: %s\n%s", jerr.text, out);
  free(out);
  assert_true(json_is_true(json_object_get(json_object_get(doc, "journal"), "intact")));
  json_t *ph1 = json_array_get(json_object_get(doc, "phases"), 0);
  assert_string_equal(json_string_value(json_object_get(ph1, "state")), "completed");
  assert_string_equal(json_string_value(json_object_get(json_object_get(ph1, "decision"), "decision")),
                      "NO-GO");
  assert_string_equal(json_string_value(json_object_get(json_object_get(ph1, "evaluation"), "decision")),
                      "NO-GO");
  json_t *ov = json_array_get(json_object_get(ph1, "overrides"), 0);
  assert_string_equal(json_string_value(json_object_get(ov, "by")), "alice");
  assert_string_equal(json_string_value(json_object_get(ov, "reason")),
                      "n2 disk alarm is a known false positive");
  json_t *pre_att = json_array_get(json_object_get(json_object_get(doc, "preflight"), "attestations"), 0);
  assert_string_equal(json_string_value(json_object_get(pre_att, "item")), "team-notified");
  assert_string_equal(json_string_value(json_object_get(pre_att, "status")), "in force");
  assert_string_equal(json_string_value(json_object_get(pre_att, "phase")), "2");
  json_t *mv = json_array_get(json_object_get(ph1, "actions"), 1);
  assert_true(json_real_value(json_object_get(mv, "gap_ms")) == 4.2);
  json_t *ph2 = json_array_get(json_object_get(doc, "phases"), 1);
  assert_string_equal(json_string_value(json_object_get(ph2, "state")), "rolled back");
  assert_string_equal(json_string_value(json_object_get(ph2, "reason")), "error rate above 50% for 5m");
  json_t *series = json_array_get(json_object_get(doc, "series"), 0);
  assert_int_equal(json_integer_value(json_object_get(series, "samples")), 20);
  assert_null(json_object_get(series, "t")); /* points only feed the HTML charts */
  json_decref(doc);

  /* -o FILE writes the file, and nothing to stdout. */
  char file[200];
  snprintf(file, sizeof file, "%s/report.html", dir);
  assert_int_equal(gonogo(&out, "report", plan_path, "--format", "html", "-o", file, NULL), 0);
  assert_string_equal(out, "");
  free(out);
  FILE *f = fopen(file, "r");
  assert_non_null(f);
  char head[32] = "";
  assert_non_null(fgets(head, sizeof head, f));
  fclose(f);
  assert_true(strncmp(head, "<!DOCTYPE html>", 15) == 0);

  /* A bad format is a usage error, and so is a PDF to stdout. */
  assert_int_equal(gonogo(&out, "report", plan_path, "--format", "docx", NULL), 3);
  assert_contains(out, "unknown --format 'docx': use md, html, json or pdf");
  free(out);
  assert_int_equal(gonogo(&out, "report", plan_path, "--format", "pdf", NULL), 3);
  assert_contains(out, "report --format pdf needs -o FILE");
  free(out);

  /* Someone edits the override behind gonogo's back: the report says so, loudly. */
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(journal_file, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db,
                   "DROP TRIGGER events_no_update; UPDATE events SET actor = 'mallory' WHERE kind = "
                   "'override'",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(gonogo(&out, "report", plan_path, NULL), 0);
  assert_contains(out, "> **JOURNAL DAMAGED at row 5: ");
  assert_contains(out, "| Integrity | DAMAGED at row 5: ");
  free(out);
  assert_int_equal(gonogo(&out, "report", plan_path, "--format", "json", NULL), 0);
  doc = json_loads(out, 0, &jerr);
  assert_non_null(doc);
  assert_false(json_is_true(json_object_get(json_object_get(doc, "journal"), "intact")));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "journal"), "bad_seq")), 5);
  json_decref(doc);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_report)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
