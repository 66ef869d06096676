/*
 * src/gate without a network: DESIGN §3's decision table. gate_decide is tested on items
 * alone; gate_check on small plans whose series come from an in-memory source (gate_opts
 * sources), with a temporary journal for requires, approvals and attestations and a fixed
 * clock for their times.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "gate/gate.h"
#include "journal/journal.h"
#include "plan/plan.h"
#include "signoff/signoff.h"

#define T0 1800000000.0 /* 2027-01-15T08:00:00Z: when the fixture's sign-offs are given */

/* ---- the in-memory series source ---- */

typedef struct {
  const char *name;
  double v[3]; /* one sample per server n1, n2, n3 */
  size_t n;    /* 0: known, no data now (an empty vector) */
  bool fail;   /* the source cannot be reached */
} fake_series;

static fake_series fakes[8];
static size_t nfakes;

static void fake_reset(void) {
  nfakes = 0;
}

static void fake_set(const char *name, size_t n, double a, double b, bool fail) {
  assert_true(nfakes < sizeof fakes / sizeof fakes[0]);
  fakes[nfakes++] = (fake_series){.name = name, .v = {a, b, a}, .n = n, .fail = fail};
}

static gg_status fake_select(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                             gg_error *err) {
  (void)user;
  static const char *const servers[] = {"n1", "n2", "n3"};
  for (size_t i = 0; i < nfakes; i++) {
    if (strcmp(fakes[i].name, sel->name) != 0) continue;
    if (fakes[i].fail)
      return gg_error_set(err, GG_ERR_IO, "GET http://fake/%s: connection refused", sel->name);
    for (size_t k = 0; k < fakes[i].n; k++)
      if (expr_vector_add(out, fakes[i].v[k], ctx->now, "server", servers[k], NULL) != GG_OK)
        return gg_error_set(err, GG_ERR_NOMEM, "fake");
    return GG_OK;
  }
  return GG_ERR_NOT_FOUND;
}

static const expr_series_source fake_source = {.name = "fake", .select = fake_select};

/* History: `published` went from 0 to 600 over the last minute; nothing else has any. */
static gg_status fake_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                            const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  (void)user;
  (void)window;
  (void)use;
  if (strcmp(sel->name, "published") != 0)
    return gg_error_set(err, GG_ERR_NO_DATA, "insufficient history for '%s': have 0s of 5m", sel->name);
  expr_labels l = {0};
  expr_point pts[2] = {{ctx->now - 60, 0}, {ctx->now, 600}};
  return expr_matrix_add(out, &l, pts, 2);
}

static const expr_history_source fake_history = {.range = fake_range};

/* ---- fixtures ---- */

static char dir[64];
static char journal_path_buf[128];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gg-test-gate-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  gg_clock_clear_fixed();
  return system(cmd) == 0 ? 0 : -1;
}

static plan *load(const char *text) {
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = plan_load_buffer("plan.yaml", text, strlen(text), NULL, &p, &d, &err);
  if (st != GG_OK) {
    for (size_t i = 0; i < d.count; i++) {
      char *m = plan_diag_format(&d, &d.items[i]);
      fprintf(stderr, "%s\n", m ? m : "?");
      free(m);
    }
    fail_msg("plan: %s", gg_error_message(&err));
  }
  plan_diags_release(&d);
  return p;
}

static journal *fresh_journal(void) {
  static int n;
  snprintf(journal_path_buf, sizeof journal_path_buf, "%s/j%d.db", dir, n++);
  journal *j = NULL;
  assert_int_equal(journal_open(journal_path_buf, JOURNAL_OPEN_CREATE, &j, NULL), GG_OK);
  return j;
}

static void check(const plan *p, const char *phase, journal *j, double at, gate_report *r) {
  gate_opts o = {.journal = j, .at = at, .sources = &fake_source, .n_sources = 1};
  gg_error err;
  gg_error_clear(&err);
  if (gate_check(p, phase, &o, r, &err) != GG_OK) fail_msg("gate_check: %s", gg_error_message(&err));
}

static const gate_item *item(const gate_report *r, const char *name) {
  for (size_t i = 0; i < r->nitems; i++)
    if (strcmp(r->items[i].name, name) == 0) return &r->items[i];
  fail_msg("no item '%s'", name);
  return NULL;
}

/* ---- gate_decide on items alone ---- */

static void set_item(gate_item *it, gate_section sec, const char *kind, gate_result res, double earliest) {
  memset(it, 0, sizeof *it);
  it->section = sec;
  it->name = strdup("item");
  it->kind = strdup(kind);
  it->what = strdup("what");
  it->observed = strdup("seen");
  it->threshold = strdup("");
  it->message = strdup(res == GATE_PASS ? "" : "why");
  it->result = res;
  it->earliest = earliest;
}

static gate_decision expected(const gate_result *res, size_t n) {
  bool nogo = false, wait = false;
  for (size_t i = 0; i < n; i++) {
    nogo = nogo || res[i] == GATE_FAIL || res[i] == GATE_ERROR;
    wait = wait || res[i] == GATE_WAIT;
  }
  return nogo ? GATE_NOGO : wait ? GATE_DEFER : GATE_GO;
}

/* Every combination of results over a preflight, a requires, a go, a no-go and an approval
 * item: any FAIL or ERROR is NO-GO, else any WAIT is DEFER, else GO. */
static void test_decide_every_combination(void **state) {
  (void)state;
  const gate_section secs[] = {GATE_SEC_PREFLIGHT, GATE_SEC_REQUIRES, GATE_SEC_GO, GATE_SEC_NOGO,
                               GATE_SEC_APPROVAL};
  const char *kinds[] = {"expect", "stable_for", "expect", "when", "approval"};
  enum { N = 5 };
  for (int combo = 0; combo < 4 * 4 * 4 * 4 * 4; combo++) {
    gate_report r;
    memset(&r, 0, sizeof r);
    r.items = calloc(N, sizeof *r.items);
    gate_result res[N];
    int c = combo;
    for (size_t i = 0; i < N; i++, c /= 4) {
      res[i] = (gate_result)(c % 4);
      set_item(&r.items[i], secs[i], kinds[i], res[i], 0);
    }
    r.nitems = N;
    r.phase = strdup("1");
    r.phase_name = strdup("p");
    r.plan_hash = strdup("h");
    gate_decide(&r);
    assert_int_equal(r.decision, expected(res, N));
    size_t bad = 0, waits = 0;
    for (size_t i = 0; i < N; i++) {
      bad += res[i] == GATE_FAIL || res[i] == GATE_ERROR;
      waits += res[i] == GATE_WAIT;
    }
    /* The reasons: every FAIL/ERROR; the WAITs only when nothing is worse. */
    assert_int_equal(r.nreasons, bad ? bad : waits);
    /* Who must act: the approval when it waits. */
    assert_int_equal(r.npending, res[4] == GATE_WAIT ? 1 : 0);
    gate_decide(&r); /* deciding again gives the same, without piling up reasons */
    assert_int_equal(r.nreasons, bad ? bad : waits);
    gate_report_release(&r);
  }
}

/* The earliest time is the latest of the computable waits; human waits have no time, and
 * a wait whose time cannot be computed does not hide the others'. */
static void test_decide_earliest_is_latest_computable_wait(void **state) {
  (void)state;
  gate_report r;
  memset(&r, 0, sizeof r);
  r.items = calloc(4, sizeof *r.items);
  set_item(&r.items[0], GATE_SEC_REQUIRES, "stable_for", GATE_WAIT, T0 + 3600);
  set_item(&r.items[1], GATE_SEC_NOGO, "when", GATE_WAIT, T0 + 7200);
  set_item(&r.items[2], GATE_SEC_GO, "attest", GATE_WAIT, 0);
  set_item(&r.items[3], GATE_SEC_NOGO, "when", GATE_WAIT, 0);
  r.nitems = 4;
  r.phase = strdup("1");
  r.phase_name = strdup("p");
  r.plan_hash = strdup("h");
  gate_decide(&r);
  assert_int_equal(r.decision, GATE_DEFER);
  assert_true(r.earliest == T0 + 7200);
  assert_int_equal(r.npending, 1);
  assert_string_equal(r.pending[0], "attestation 'what'");
  /* A NO-GO has no earliest time. */
  free(r.items[3].message);
  r.items[3].message = strdup("holds: no-go");
  r.items[3].result = GATE_FAIL;
  gate_decide(&r);
  assert_int_equal(r.decision, GATE_NOGO);
  assert_true(r.earliest == 0);
  gate_report_release(&r);
}

/* ---- gate_check with in-memory series ---- */

/* go: PASS / FAIL / WAIT / ERROR, crossed with the no-go condition: does not hold / holds
 * (no-go) / holds (defer) / ERROR. */
static void test_check_go_and_nogo_table(void **state) {
  (void)state;
  enum { PASS, FAIL, WAIT, ERROR };
  for (int go = 0; go < 4; go++)
    for (int ng = 0; ng < 4; ng++) {
      char text[1024];
      snprintf(text, sizeof text,
               "migration: table\n"
               "phases:\n"
               "  - id: 1\n"
               "    name: One\n"
               "    go:\n"
               "      - %s\n"
               "    no_go:\n"
               "      - { name: Busy, when: 'traffic > 10', outcome: %s }\n"
               "    actions:\n"
               "      - wait: 1s\n",
               go == WAIT ? "{ name: Free, attest: free }" : "{ name: Free, expect: 'disk_free > 20' }",
               ng == WAIT ? "defer" : "no-go");
      plan *p = load(text);
      journal *j = fresh_journal();
      fake_reset();
      if (go == PASS || go == WAIT) fake_set("disk_free", 3, 50, 60, false);
      if (go == FAIL) fake_set("disk_free", 3, 50, 12, false); /* n2 short */
      if (go == ERROR) fake_set("disk_free", 3, 0, 0, true);
      if (ng == PASS) fake_set("traffic", 1, 1, 0, false);
      if (ng == FAIL || ng == WAIT) fake_set("traffic", 1, 150, 0, false);
      if (ng == ERROR) fake_set("traffic", 0, 0, 0, false); /* no data */
      gate_report r;
      check(p, "1", j, T0, &r);
      const gate_item *g = item(&r, "Free"), *n = item(&r, "Busy");
      const gate_result want_go[] = {GATE_PASS, GATE_FAIL, GATE_WAIT, GATE_ERROR};
      const gate_result want_ng[] = {GATE_PASS, GATE_FAIL, GATE_WAIT, GATE_ERROR};
      assert_int_equal(g->result, want_go[go]);
      assert_int_equal(n->result, want_ng[ng]);
      gate_result res[2] = {want_go[go], want_ng[ng]};
      assert_int_equal(r.decision, expected(res, 2));
      if (go == FAIL) {
        assert_int_equal(g->nmembers, 1);
        assert_string_equal(g->members[0], "n2: 12, want > 20");
      }
      if (go == ERROR) assert_non_null(strstr(g->message, "connection refused"));
      if (ng == FAIL || ng == WAIT) assert_true(n->blocking);
      if (ng == WAIT) assert_string_equal(n->message, "holds: defer");
      if (ng == FAIL) assert_string_equal(n->message, "holds: no-go");
      gate_report_release(&r);
      journal_close(j);
      plan_free(p);
    }
}

/* An empty vector is no data: ERROR, never a pass, however the condition is phrased —
 * unless the plan asks about absence itself. */
static void test_check_no_data_never_passes(void **state) {
  (void)state;
  plan *p = load(
      "migration: nodata\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    go:\n"
      "      - { name: Above, expect: 'lag > 0' }\n"
      "      - { name: Below, expect: 'lag < 10' }\n"
      "      - { name: Negated, expect: 'not lag > 10' }\n"
      "      - { name: Absent, expect: 'absent(lag)' }\n"
      "      - { name: Counted, expect: 'count(lag) == 0' }\n"
      "    actions:\n"
      "      - wait: 1s\n");
  fake_reset();
  fake_set("lag", 0, 0, 0, false);
  gate_report r;
  check(p, "1", NULL, T0, &r);
  assert_int_equal(item(&r, "Above")->result, GATE_ERROR);
  assert_int_equal(item(&r, "Below")->result, GATE_ERROR);
  assert_int_equal(item(&r, "Negated")->result, GATE_ERROR);
  assert_non_null(strstr(item(&r, "Below")->message, "no data"));
  assert_int_equal(item(&r, "Absent")->result, GATE_PASS);
  assert_int_equal(item(&r, "Counted")->result, GATE_PASS);
  assert_int_equal(r.decision, GATE_NOGO);
  gate_report_release(&r);
  plan_free(p);
}

static const char SIGNOFF_PLAN[] =
    "migration: signoffs\n"
    "roles:\n"
    "  - { id: lead, title: Platform Lead }\n"
    "  - { id: manager, title: Engineering Manager, optional: true }\n"
    "preflight:\n"
    "  - { name: Team notified, attest: team-notified }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: One\n"
    "    approvals: [lead, manager]\n"
    "    go:\n"
    "      - { name: On-call, attest: on-call, valid_for: 4h }\n"
    "    actions:\n"
    "      - wait: 1s\n"
    "  - id: 2\n"
    "    name: Two\n"
    "    go:\n"
    "      - { name: On-call, attest: on-call, valid_for: 4h }\n"
    "    actions:\n"
    "      - wait: 1s\n";

static void approve(journal *j, const char *phase, const char *role, const char *decision, const char *hash) {
  gg_error err;
  gg_error_clear(&err);
  if (journal_approve(j, phase, role, "alice", decision, hash, NULL, NULL, &err) != GG_OK)
    fail_msg("%s", gg_error_message(&err));
}

static void attest(journal *j, const char *phase, const char *item_id, double valid_for, const char *hash) {
  gg_error err;
  gg_error_clear(&err);
  if (journal_attest(j, phase, item_id, "bob", valid_for, hash, NULL, NULL, &err) != GG_OK)
    fail_msg("%s", gg_error_message(&err));
}

static const char CHANGING_PLAN[] =
    "migration: changing\n"
    "connect: { databases: { main: '${GG_TEST_PG:-postgres://localhost/x}' } }\n"
    "roles:\n"
    "  - { id: lead, title: Platform Lead }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: One\n"
    "    approvals: [lead]\n"
    "    actions:\n"
    "      - wait: '${GG_TEST_DRAIN:-30m}'\n"
    "      - exec: 'psql ${GG_TEST_PG} -c \"select 1\"'\n";

/* An approval voided by a changed plan says which resolved values differ (issue 18, item 5). */
static void test_void_approval_says_what_changed(void **state) {
  (void)state;
  unsetenv("GG_TEST_DRAIN");
  setenv("GG_TEST_PG", "postgres://u:s3cret-pw@h/db", 1);
  plan *then = load(CHANGING_PLAN);
  /* The snapshot an approval keeps never holds a secret, nor the variable behind one. */
  char *dump = json_dumps(plan_values(then), JSON_SORT_KEYS);
  assert_non_null(dump);
  assert_null(strstr(dump, "s3cret"));
  assert_null(json_object_get(json_object_get(plan_values(then), "vars"), "GG_TEST_PG"));
  assert_non_null(strstr(dump, "\"GG_TEST_DRAIN\": \"30m\""));
  /* A command using a secret's variable is kept as written, not as resolved. */
  assert_non_null(strstr(dump, "psql ${GG_TEST_PG} -c"));
  free(dump);
  journal *j = fresh_journal();
  gg_clock_set_fixed(T0);
  gg_error err;
  gg_error_clear(&err);
  if (journal_approve_values(j, "1", "lead", "alice", "go", then->hash, plan_values(then), NULL, NULL,
                             &err) != GG_OK)
    fail_msg("%s", gg_error_message(&err));

  setenv("GG_TEST_DRAIN", "5m", 1);
  plan *now = load(CHANGING_PLAN);
  assert_string_not_equal(then->hash, now->hash);
  fake_reset();
  gate_report r;
  check(now, "1", j, T0 + 60, &r);
  const gate_item *lead = item(&r, "Approval: Platform Lead");
  assert_int_equal(lead->result, GATE_WAIT);
  assert_string_equal(lead->observed, "void");
  if (!strstr(lead->message, "(GG_TEST_DRAIN: 30m \u2192 5m; phases[1].actions[0].wait: 30m \u2192 5m)"))
    fail_msg("message: %s", lead->message);
  gate_report_release(&r);
  signoff_book *book = NULL;
  assert_int_equal(signoff_book_load(j, now, T0 + 60, &book, NULL), GG_OK);
  signoff_verdict v = signoff_approval(book, &now->phases[0], &now->phases[0].approvals[0]);
  assert_int_equal(v.state, SIGNOFF_VOID);
  assert_string_equal(v.changes, "GG_TEST_DRAIN: 30m \u2192 5m; phases[1].actions[0].wait: 30m \u2192 5m");
  signoff_book_free(book);

  /* An approval that kept no values (recorded before they were kept) is void, unexplained. */
  approve(j, "1", "lead", "go", then->hash);
  assert_int_equal(signoff_book_load(j, now, T0 + 60, &book, NULL), GG_OK);
  v = signoff_approval(book, &now->phases[0], &now->phases[0].approvals[0]);
  assert_int_equal(v.state, SIGNOFF_VOID);
  assert_null(v.changes);
  signoff_book_free(book);
  /* Under the plan it approved, nothing is void and nothing is explained. */
  assert_int_equal(signoff_book_load(j, then, T0 + 60, &book, NULL), GG_OK);
  v = signoff_approval(book, &then->phases[0], &then->phases[0].approvals[0]);
  assert_int_equal(v.state, SIGNOFF_IN_FORCE);
  assert_null(v.changes);
  signoff_book_free(book);
  journal_close(j);
  plan_free(then);
  plan_free(now);
  unsetenv("GG_TEST_DRAIN");
  unsetenv("GG_TEST_PG");
  gg_clock_clear_fixed();
}

/* Required and optional roles; approvals bind to the plan hash and the decision. */
static void test_check_approvals(void **state) {
  (void)state;
  plan *p = load(SIGNOFF_PLAN);
  journal *j = fresh_journal();
  gg_clock_set_fixed(T0);
  attest(j, "1", "team-notified", 0, p->hash);
  attest(j, "1", "on-call", 4 * 3600, p->hash);
  fake_reset();
  gate_report r;

  /* Nobody approved: the required role waits, the optional one does not hold it back. */
  check(p, "1", j, T0 + 60, &r);
  assert_int_equal(item(&r, "Approval: Platform Lead")->result, GATE_WAIT);
  assert_int_equal(item(&r, "Approval: Engineering Manager (optional)")->result, GATE_PASS);
  assert_int_equal(r.decision, GATE_DEFER);
  assert_int_equal(r.npending, 1);
  assert_string_equal(r.pending[0], "approval by lead");
  gate_report_release(&r);

  /* Approved for another version of the plan: void, for both roles. */
  approve(j, "1", "lead", "go", "0000000000000000000000000000000000000000000000000000000000000000");
  approve(j, "1", "manager", "go", "0000000000000000000000000000000000000000000000000000000000000000");
  check(p, "1", j, T0 + 60, &r);
  const gate_item *lead = item(&r, "Approval: Platform Lead");
  assert_int_equal(lead->result, GATE_WAIT);
  assert_string_equal(lead->observed, "void");
  assert_string_equal(item(&r, "Approval: Engineering Manager (optional)")->observed, "void (optional)");
  assert_int_equal(r.decision, GATE_DEFER);
  gate_report_release(&r);

  /* Approved for this plan: GO. */
  approve(j, "1", "lead", "go", p->hash);
  check(p, "1", j, T0 + 60, &r);
  assert_int_equal(item(&r, "Approval: Platform Lead")->result, GATE_PASS);
  assert_int_equal(r.decision, GATE_GO);
  gate_report_release(&r);

  /* The approver defers: WAIT; an optional approver's no-go still stops the phase. */
  approve(j, "1", "lead", "defer", p->hash);
  check(p, "1", j, T0 + 60, &r);
  assert_int_equal(item(&r, "Approval: Platform Lead")->result, GATE_WAIT);
  assert_int_equal(r.decision, GATE_DEFER);
  gate_report_release(&r);
  approve(j, "1", "lead", "go", p->hash);
  approve(j, "1", "manager", "no-go", p->hash);
  check(p, "1", j, T0 + 60, &r);
  assert_int_equal(item(&r, "Approval: Engineering Manager (optional)")->result, GATE_FAIL);
  assert_int_equal(r.decision, GATE_NOGO);
  gate_report_release(&r);

  /* Approvals are per phase: phase 1's do not reach phase 2 (which asks for none). */
  signoff_book *book = NULL;
  assert_int_equal(signoff_book_load(j, p, T0 + 60, &book, NULL), GG_OK);
  signoff_verdict v = signoff_approval(book, &p->phases[0], &p->phases[0].approvals[1]);
  assert_int_equal(v.state, SIGNOFF_NO_GO);
  assert_false(v.satisfied);
  assert_string_equal(signoff_state_name(v.state), "no-go");
  signoff_book_free(book);
  journal_close(j);
  plan_free(p);
  gg_clock_clear_fixed();
}

/* Attestations: a go item only under its phase, a preflight item under any; the plan's
 * valid_for makes one expire. */
static void test_check_attestations(void **state) {
  (void)state;
  plan *p = load(SIGNOFF_PLAN);
  journal *j = fresh_journal();
  gg_clock_set_fixed(T0);
  attest(j, "1", "team-notified", 0, p->hash);
  attest(j, "1", "on-call", 4 * 3600, p->hash);
  fake_reset();
  gate_report r;

  /* Phase 2: the preflight item attested under phase 1 counts; phase 1's on-call does not. */
  check(p, "2", j, T0 + 60, &r);
  assert_int_equal(item(&r, "Team notified")->result, GATE_PASS);
  assert_int_equal(item(&r, "On-call")->result, GATE_WAIT);
  assert_string_equal(item(&r, "On-call")->observed, "not given");
  assert_int_equal(r.decision, GATE_DEFER);
  gate_report_release(&r);

  /* Phase 1 within the 4 hours: in force. */
  approve(j, "1", "lead", "go", p->hash);
  check(p, "1", j, T0 + 3 * 3600, &r);
  assert_int_equal(item(&r, "On-call")->result, GATE_PASS);
  assert_int_equal(r.decision, GATE_GO);
  gate_report_release(&r);

  /* After them: expired, whatever was recorded. */
  check(p, "1", j, T0 + 5 * 3600, &r);
  const gate_item *oc = item(&r, "On-call");
  assert_int_equal(oc->result, GATE_WAIT);
  assert_string_equal(oc->observed, "expired");
  assert_int_equal(r.decision, GATE_DEFER);
  gate_report_release(&r);

  /* The plan's valid_for rules even when the attestation was recorded without one. */
  gg_clock_set_fixed(T0 + 6 * 3600);
  attest(j, "2", "on-call", 0, p->hash);
  check(p, "2", j, T0 + 11 * 3600, &r);
  assert_string_equal(item(&r, "On-call")->observed, "expired");
  gate_report_release(&r);

  /* Without a journal there is nothing to judge: ERROR, never a pass. */
  check(p, "1", NULL, T0, &r);
  assert_int_equal(item(&r, "Team notified")->result, GATE_ERROR);
  assert_int_equal(item(&r, "Approval: Platform Lead")->result, GATE_ERROR);
  assert_int_equal(r.decision, GATE_NOGO);
  gate_report_release(&r);
  journal_close(j);
  plan_free(p);
  gg_clock_clear_fixed();
}

/* A go criterion that waits for the end of a freeze longer than the 14-day horizon and for a
 * named window still gets its date: a freeze does not use up the horizon. */
static void test_check_earliest_across_freeze(void **state) {
  (void)state;
  plan *p = load(
      "migration: freeze\n"
      "calendar:\n"
      "  freeze: [2027-01-10..2027-01-30]\n"
      "  windows: { change: 'Tue-Thu 09:00-16:00' }\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    go:\n"
      "      - { name: Change window, expect: 'not frozen() and window(\"change\")' }\n"
      "    actions:\n"
      "      - wait: 1s\n");
  fake_reset();
  gate_report r;
  check(p, "1", NULL, T0, &r); /* Friday 2027-01-15 08:00 UTC, inside the freeze */
  const gate_item *w = item(&r, "Change window");
  assert_int_equal(w->result, GATE_WAIT);
  double want = 0;
  assert_int_equal(gg_time_parse("2027-02-02T09:00:00Z", &want, NULL), GG_OK); /* the first Tuesday after */
  if (w->earliest != want) fail_msg("earliest %.0f, want %.0f (%s)", w->earliest, want, w->message);
  assert_int_equal(r.decision, GATE_DEFER);
  assert_true(r.earliest == want);
  gate_report_release(&r);
  plan_free(p);
}

/* The soak and a calendar-only defer both wait; the decision's earliest time is the later
 * of the two; a human wait does not hide it. */
static void test_check_earliest_time(void **state) {
  (void)state;
  journal *j = fresh_journal();
  gg_clock_set_fixed(T0);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_STARTED, "1", "gonogo run", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_COMPLETED, "1", "gonogo run", NULL, NULL, &err), GG_OK);
  const double at = T0 + 600;
  for (int soak_hours = 1; soak_hours <= 3; soak_hours += 2) {
    char text[1024];
    snprintf(text, sizeof text,
             "migration: earliest\n"
             "phases:\n"
             "  - id: 1\n"
             "    name: One\n"
             "    actions:\n"
             "      - wait: 1s\n"
             "  - id: 2\n"
             "    name: Two\n"
             "    requires: { phase: 1, stable_for: %dh }\n"
             "    go:\n"
             "      - { name: On-call, attest: on-call }\n"
             "    no_go:\n"
             "      - { name: Freeze, when: 'now() < %.0f', outcome: defer }\n"
             "      - { name: Busy, when: 'traffic > 10', outcome: defer }\n"
             "    actions:\n"
             "      - wait: 1s\n",
             soak_hours, at + 7200);
    plan *p = load(text);
    fake_reset();
    fake_set("traffic", 1, 50, 0, false);
    gate_report r;
    check(p, "2", j, at, &r);
    assert_int_equal(r.decision, GATE_DEFER);
    const gate_item *completed = item(&r, "Phase 1 completed");
    assert_int_equal(completed->result, GATE_PASS);
    char soak[64];
    snprintf(soak, sizeof soak, "Phase 1 stable for %dh", soak_hours);
    const gate_item *stable = item(&r, soak);
    assert_int_equal(stable->result, GATE_WAIT);
    assert_true(fabs(stable->earliest - (T0 + soak_hours * 3600.0)) < 1.0);
    const gate_item *freeze = item(&r, "Freeze");
    assert_int_equal(freeze->result, GATE_WAIT);
    assert_true(freeze->earliest >= at + 7200 && freeze->earliest < at + 7200 + 60);
    assert_true(item(&r, "Busy")->earliest == 0);
    assert_true(r.earliest == fmax(stable->earliest, freeze->earliest));
    gate_report_release(&r);
    plan_free(p);
  }
  journal_close(j);
  gg_clock_clear_fixed();
}

/* A phase that requires another not completed is NO-GO; commands run locally. */
static void test_check_requires_and_run(void **state) {
  (void)state;
  plan *p = load(
      "migration: req\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    go:\n"
      "      - { name: Tests, run: 'true' }\n"
      "    actions:\n"
      "      - wait: 1s\n"
      "  - id: 2\n"
      "    name: Two\n"
      "    requires: { phase: 1 }\n"
      "    go:\n"
      "      - { name: Tests, run: 'echo broken; exit 3' }\n"
      "    actions:\n"
      "      - wait: 1s\n");
  journal *j = fresh_journal();
  fake_reset();
  gate_report r;
  check(p, "1", j, T0, &r);
  assert_int_equal(item(&r, "Tests")->result, GATE_PASS);
  assert_int_equal(r.decision, GATE_GO);
  gate_report_release(&r);
  check(p, "2", j, T0, &r);
  assert_int_equal(item(&r, "Phase 1 completed")->result, GATE_FAIL);
  assert_int_equal(item(&r, "Tests")->result, GATE_FAIL);
  assert_non_null(strstr(item(&r, "Tests")->message, "broken"));
  assert_int_equal(r.decision, GATE_NOGO);
  gate_report_release(&r);
  journal_close(j);
  plan_free(p);
}

/* rate() reads the history source the caller gives; without one it is ERROR, never a pass. */
static void test_check_rate_from_history(void **state) {
  (void)state;
  plan *p = load(
      "migration: rate\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    no_go:\n"
      "      - { name: Busy, when: 'rate(published, 5m) * 60 > 100', outcome: defer }\n"
      "    actions:\n"
      "      - wait: 1s\n");
  fake_reset();
  gate_opts o = {.at = T0, .sources = &fake_source, .n_sources = 1, .history = &fake_history};
  gate_report r;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gate_check(p, "1", &o, &r, &err), GG_OK);
  assert_int_equal(item(&r, "Busy")->result, GATE_WAIT);
  assert_int_equal(r.decision, GATE_DEFER);
  gate_report_release(&r);
  o.history = NULL;
  assert_int_equal(gate_check(p, "1", &o, &r, &err), GG_OK);
  assert_int_equal(item(&r, "Busy")->result, GATE_ERROR);
  assert_int_equal(r.decision, GATE_NOGO);
  gate_report_release(&r);
  plan_free(p);
}

/* An override covers the items it names and nothing else (#19): overriding a missing exporter
 * leaves a failing health check and a missing approval deciding. */
static void test_overrides_are_scoped(void **state) {
  (void)state;
  fake_reset();
  fake_set("healthy", 3, 0, 0, false); /* FAIL */
  fake_set("exporter", 0, 0, 0, true); /* ERROR: unreachable */
  fake_set("fine", 3, 1, 1, false);
  plan *p = load(
      "migration: ov\n"
      "roles: [ { id: lead, title: Lead } ]\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: One\n"
      "    approvals: [lead]\n"
      "    go:\n"
      "      - { name: NATS nodes healthy (3 UP), expect: healthy == 1 }\n"
      "      - { name: NATS metrics exporter running, expect: exporter == 1 }\n"
      "      - { name: Fine, expect: fine == 1 }\n"
      "    actions:\n"
      "      - wait: 1s\n");
  journal *j = fresh_journal();
  gate_report r;
  check(p, "1", j, 0, &r);
  assert_int_equal(r.decision, GATE_NOGO);
  gg_error err;
  gg_error_clear(&err);

  gate_override one[] = {{"nats-metrics-exporter-running", "the sandbox has no exporter"}};
  assert_int_equal(gate_apply_overrides(&r, one, 1, &err), GG_OK);
  assert_int_equal(r.decision, GATE_NOGO); /* the health check still fails */
  assert_true(item(&r, "NATS metrics exporter running")->overridden);
  assert_int_equal(item(&r, "NATS metrics exporter running")->result, GATE_ERROR); /* as observed */
  assert_false(item(&r, "NATS nodes healthy (3 UP)")->overridden);
  bool named = false;
  for (size_t i = 0; i < r.nreasons; i++) named = named || strstr(r.reasons[i], "FAIL: NATS nodes healthy");
  assert_true(named);

  gate_override two[] = {{"NATS NODES HEALTHY (3 up)", "n3 is being replaced"}};
  assert_int_equal(gate_apply_overrides(&r, two, 1, &err), GG_OK);
  assert_int_equal(r.decision, GATE_DEFER); /* the approval is still missing: not overridden */
  gate_override three[] = {{"approval:lead", "lead on a plane, approved by phone"}};
  assert_int_equal(gate_apply_overrides(&r, three, 1, &err), GG_OK);
  assert_int_equal(r.decision, GATE_GO);
  json_t *jo = gate_report_json(&r);
  char *text = json_dumps(jo, 0);
  assert_non_null(strstr(text, "\"override_reason\": \"n3 is being replaced\""));
  free(text);
  json_decref(jo);

  /* Unknown items, items that passed and empty reasons are refused, naming what can be. */
  gate_override bad1[] = {{"grafana", "x"}};
  assert_int_equal(gate_apply_overrides(&r, bad1, 1, &err), GG_ERR_NOT_FOUND);
  assert_non_null(strstr(err.msg, "names no item of phase 1"));
  assert_non_null(strstr(err.msg, "nats-metrics-exporter-running"));
  gate_override bad2[] = {{"fine", "x"}};
  assert_int_equal(gate_apply_overrides(&r, bad2, 1, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "passed"));
  gate_override bad3[] = {{"fine", ""}};
  assert_int_equal(gate_apply_overrides(&r, bad3, 1, &err), GG_ERR_INVALID);
  char slug[64];
  assert_string_equal(gate_item_slug("  NATS nodes healthy (3 UP)! ", slug, sizeof slug),
                      "nats-nodes-healthy-3-up");
  gate_report_release(&r);
  journal_close(j);
  plan_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decide_every_combination),
      cmocka_unit_test(test_decide_earliest_is_latest_computable_wait),
      cmocka_unit_test(test_check_go_and_nogo_table),
      cmocka_unit_test(test_check_no_data_never_passes),
      cmocka_unit_test(test_check_approvals),
      cmocka_unit_test(test_void_approval_says_what_changed),
      cmocka_unit_test(test_check_earliest_across_freeze),
      cmocka_unit_test(test_check_attestations),
      cmocka_unit_test(test_check_earliest_time),
      cmocka_unit_test(test_check_requires_and_run),
      cmocka_unit_test(test_check_rate_from_history),
      cmocka_unit_test(test_overrides_are_scoped),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
