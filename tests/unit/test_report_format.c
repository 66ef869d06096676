/* Unit tests of src/report's pure parts: the formatting helpers, and rendering a plan with no
 * journal yet (gathered without one), including escaping of what the plan's author wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "report/report.h"

static void test_md_cell(void **state) {
  (void)state;
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(report_md_cell(&b, "a|b\nc"), GG_OK);
  assert_string_equal(gg_buf_str(&b), "a\\|b c");
  gg_buf_reset(&b);
  assert_int_equal(report_md_cell(&b, ""), GG_OK);
  assert_int_equal(report_md_cell(&b, NULL), GG_OK);
  assert_string_equal(gg_buf_str(&b), "--");
  gg_buf_release(&b);
}

static void test_format_ms(void **state) {
  (void)state;
  char out[32];
  assert_string_equal(report_format_ms(4.25, out, sizeof out), "4.2 ms");
  assert_string_equal(report_format_ms(1500, out, sizeof out), "1.50 s");
  assert_string_equal(report_format_ms(125000, out, sizeof out), "2m05s");
  assert_string_equal(report_format_ms(-1, out, sizeof out), "-");
}

static const char PLAN[] =
    "migration: unit-fixture\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: \"Move <script>alert(1)</script> | subjects\"\n"
    "    risks:\n"
    "      - { risk: Loss, probability: high, impact: critical, residual: medium }\n"
    "    actions:\n"
    "      - wait: 1s\n";

static void test_render_without_journal(void **state) {
  (void)state;
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(plan_load_buffer("plan.yaml", PLAN, strlen(PLAN), NULL, &p, &d, &err), GG_OK);
  plan_diags_release(&d);
  report_opts opts = {.plan_path = "plan.yaml", .now = 1.8e9, .with_points = true};
  json_t *doc = NULL;
  assert_int_equal(report_gather(p, NULL, &opts, &doc, &err), GG_OK);
  assert_true(json_is_null(json_object_get(doc, "journal")));
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(report_render_md(doc, &b, &err), GG_OK);
  assert_non_null(strstr(gg_buf_str(&b), "| Journal | none (nothing recorded yet) |"));
  assert_non_null(strstr(gg_buf_str(&b), "| Loss | HIGH | CRITICAL | CRITICAL | - | MEDIUM |"));
  assert_non_null(strstr(gg_buf_str(&b), "State: **not started**"));
  gg_buf_reset(&b);
  assert_int_equal(report_render_html(doc, &b, &err), GG_OK);
  assert_null(strstr(gg_buf_str(&b), "<script>"));
  assert_non_null(strstr(gg_buf_str(&b), "&lt;script&gt;alert(1)&lt;/script&gt;"));
  gg_buf_reset(&b);
  assert_int_equal(report_render_json(doc, &b, &err), GG_OK);
  json_t *back = json_loads(gg_buf_str(&b), 0, NULL);
  assert_non_null(back);
  assert_string_equal(json_string_value(json_object_get(back, "generated_at")), "2027-01-15T08:00:00.000Z");
  json_decref(back);
  gg_buf_release(&b);
  json_decref(doc);
  plan_free(p);
}

/* A document as report_gather makes it after a rolled-back phase: the summary leads with the state,
 * the override and the firing; the phase's section keeps only what differs from the preflight; the
 * appendix has every row; the report ends with the lessons learned, facts drafted from the record. */
static const char DOC[] =
    "{\"migration\": \"m\", \"plan\": \"plan.yaml\", \"phases\": [{\"id\": \"1\", \"name\": \"Move\","
    " \"state\": \"rolled back\", \"started_at\": \"2026-12-01T21:40:00.000Z\","
    " \"completed_at\": \"2026-12-01T21:41:05.000Z\", \"rolled_back_at\": \"2026-12-01T21:44:00.000Z\","
    " \"reason\": \"rule 'DB inserts 0' fired\", \"overridden\": true,"
    " \"rollback_plan\": {\"estimate_s\": 120},"
    " \"decision\": {\"decision\": \"GO\", \"by\": \"ann\", \"at\": \"2026-12-01T21:39:00.000Z\"},"
    " \"approvals\": [{\"role\": \"ops\", \"by\": \"ann\", \"decision\": \"go\", \"status\": \"in force\"}],"
    " \"overrides\": [{\"by\": \"ann\", \"at\": \"2026-12-01T21:39:00.000Z\", \"reason\": \"no exporter\"}],"
    " \"actions\": [{\"mode\": \"forward\", \"describe\": \"cut over S\", \"gap_ms\": 4.25, \"elapsed_ms\": "
    "900},"
    "  {\"mode\": \"inverse\", \"describe\": \"cut back S\", \"elapsed_ms\": 1500}],"
    " \"rollbacks\": [{\"event\": \"phase_rolled_back\", \"at\": \"2026-12-01T21:44:00.000Z\", \"by\": "
    "\"gonogo "
    "watch\", \"reason\": \"rule 'DB inserts 0' fired\", \"carried_back\": 27}],"
    " \"checkpoints\": [{\"checkpoint\": \"T+5m\", \"result\": \"cancelled (phase rolled back)\"}],"
    " \"rule_firings\": [{\"rule\": \"DB inserts 0\", \"then\": \"rollback\", \"at\": "
    "\"2026-12-01T21:43:00.000Z\"}],"
    " \"evaluation\": {\"decision\": \"NO-GO\", \"at\": \"x\", \"by\": \"ann\", \"items\": ["
    "  {\"section\": \"preflight\", \"name\": \"backup fresh\", \"result\": \"PASS\"},"
    "  {\"section\": \"preflight\", \"name\": \"exporter up\", \"result\": \"FAIL\"},"
    "  {\"section\": \"go\", \"name\": \"lag low\", \"result\": \"PASS\"}]}}],"
    " \"rule_firings\": [], \"marks\": []}";

static void test_summary_first(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  json_t *doc = json_loads(DOC, 0, NULL);
  assert_non_null(doc);
  /* the facts are drafted from the document the way report_gather does it */
  json_array_append_new(
      json_object_get(json_array_get(json_object_get(doc, "phases"), 0), "overrides"),
      json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}]}", "by", "ann", "at", "2026-12-01T21:39:30.000Z",
                "reason", "1 item overridden", "items", "section", "preflight", "result", "ERROR", "name",
                "exporter up", "reason", "no exporter on the sandbox"));
  assert_int_equal(report_gather_retro(NULL, NULL, doc, &err), GG_OK);
  json_array_append_new(json_object_get(json_object_get(doc, "retro"), "entries"),
                        json_pack("{s:s, s:s, s:s, s:s, s:s}", "entry", "action-item", "text", "alert on DLQ",
                                  "owner", "bob", "due", "2026-12-24T00:00:00.000Z", "by", "ann"));
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(report_render_md(doc, &b, &err), GG_OK);
  const char *md = gg_buf_str(&b);
  const char *state_line = strstr(md, "**ROLLED BACK** · phase 1 (Move) at 2026-12-01T21:44:00.000Z");
  assert_non_null(state_line);
  assert_non_null(strstr(state_line,
                         "· by rule 'DB inserts 0' · carried back 27 messages · next: investigate, then "
                         "gonogo check plan.yaml --phase 1"));
  assert_non_null(
      strstr(md, "| 1 · Move | rolled back | GO (OVERRIDE) | ops: ann (go) | 4.2 ms | 1.50 s | 1 |"));
  assert_non_null(strstr(md, "- **OVERRIDE of phase 1 by ann at 2026-12-01T21:39:00.000Z: no exporter**"));
  const char *phase = strstr(md, "## Phase 1: Move");
  const char *appendix = strstr(md, "## Appendix: full evidence");
  const char *lessons = strstr(md, "## Lessons Learned (Post-Migration)");
  assert_true(state_line && phase && appendix && lessons && state_line < phase && phase < appendix &&
              appendix < lessons);
  /* the phase's own section: the failed preflight row and its own criteria, not the passing preflight */
  char *own = strndup(phase, (size_t)(appendix - phase));
  assert_null(strstr(own, "backup fresh"));
  assert_non_null(strstr(own, "exporter up"));
  assert_non_null(strstr(own, "lag low"));
  assert_non_null(strstr(own, "1 plan-wide preflight items passed"));
  free(own);
  assert_non_null(strstr(appendix, "backup fresh"));
  assert_non_null(strstr(lessons, "phase 1 (Move): started 2026-12-01T21:40:00.000Z, completed after 1m05s"));
  assert_non_null(
      strstr(lessons, "- **phase 1 (Move): undoing its actions took 1.50 s (the plan estimates 2m00s)**"));
  assert_non_null(strstr(lessons, "phase 1 (Move): cut over S: publish gap 4.2 ms (forward)"));
  assert_non_null(strstr(lessons, "checkpoint 'T+5m': cancelled (phase rolled back)"));
  /* an override names what it overrode, in the summary and the lessons alike */
  const char *named =
      "ann at 2026-12-01T21:39:30.000Z: preflight ERROR 'exporter up': no exporter on the sandbox**";
  assert_true(strstr(md, named) && strstr(md, named) < phase); /* the summary's list */
  assert_non_null(strstr(lessons, named));
  assert_non_null(strstr(lessons, "| alert on DLQ | bob | 2026-12-24 | ann |"));
  assert_non_null(strstr(lessons, "**Retrospective not completed**"));
  gg_buf_reset(&b);
  assert_int_equal(report_render_html(doc, &b, &err), GG_OK);
  assert_non_null(strstr(gg_buf_str(&b), "<li class=\"bad\">OVERRIDE of phase 1"));
  gg_buf_release(&b);
  json_decref(doc);
}

/* The rehearsal section: the latest `rehearsal` event of each phase, whether it still counts for
 * this plan, and the totals. */
static void test_rehearsal_section(void **state) {
  (void)state;
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(plan_load_buffer("plan.yaml", PLAN, strlen(PLAN), NULL, &p, &d, &err), GG_OK);
  plan_diags_release(&d);
  char dir[] = "/tmp/gg-report-reh-XXXXXX", path[64];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/j.db", dir);
  journal *j = NULL;
  assert_int_equal(journal_open(path, JOURNAL_OPEN_CREATE, &j, &err), GG_OK);
  json_t *old = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "plan_hash", "another", "result", "failed",
                          "published", 9, "consumed", 7, "lost", 2, "duplicated", 0);
  json_t *now = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:s}", "plan_hash", p->hash, "result",
                          "passed", "published", 120, "consumed", 120, "lost", 0, "duplicated", 0, "gap_ms",
                          4.2, "rollback_s", 1.5, "node_killed", "n2");
  assert_int_equal(journal_append(j, JOURNAL_REHEARSAL, "1", "gonogo rehearse", old, NULL, &err), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_REHEARSAL, "1", "gonogo rehearse", now, NULL, &err), GG_OK);
  json_decref(old);
  json_decref(now);
  report_opts opts = {.plan_path = "plan.yaml", .now = 1.8e9};
  json_t *doc = NULL;
  assert_int_equal(report_gather(p, j, &opts, &doc, &err), GG_OK);
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(report_render_md(doc, &b, &err), GG_OK);
  const char *md = gg_buf_str(&b);
  assert_non_null(strstr(md, "## Rehearsals (gonogo rehearse)"));
  assert_non_null(strstr(md, "| passed | 120 | 120 | 0 | 0 | 4.2 ms | 1.50 s |"));
  assert_non_null(strstr(md, "node n2 killed and back"));
  assert_non_null(strstr(md, "Totals: 120 published, 120 consumed, 0 lost, 0 duplicated."));
  gg_buf_release(&b);
  json_decref(doc);
  journal_close(j);
  plan_free(p);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_md_cell),
      cmocka_unit_test(test_format_ms),
      cmocka_unit_test(test_render_without_journal),
      cmocka_unit_test(test_summary_first),
      cmocka_unit_test(test_rehearsal_section),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
