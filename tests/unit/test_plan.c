/* Unit tests of the plan loader: every error class at its exact position, substitution,
 * secrets and the hash, the risk matrix, and the example plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "plan/plan.h"

/* ---- a fixed environment for ${VAR} ---- */

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

static fake_env env_none = {{NULL}, {NULL}};

typedef struct {
  plan *p;
  plan_diags d;
  gg_status st;
  gg_error err;
} loaded;

static void load_env(loaded *l, const char *text, fake_env *env) {
  plan_load_opts opts = {.lookup = env_lookup, .ctx = env};
  plan_diags_init(&l->d);
  gg_error_clear(&l->err);
  l->p = NULL;
  l->st = plan_load_buffer("plan.yaml", text, strlen(text), &opts, &l->p, &l->d, &l->err);
}

static void load(loaded *l, const char *text) {
  load_env(l, text, &env_none);
}

static void release(loaded *l) {
  plan_free(l->p);
  plan_diags_release(&l->d);
}

/* Print every diagnostic (helps when an assertion fails). */
static void dump(const loaded *l) {
  for (size_t i = 0; i < l->d.count; i++) {
    char *s = plan_diag_format(&l->d, &l->d.items[i]);
    fprintf(stderr, "%s", s ? s : "(nomem)\n");
    free(s);
  }
}

/* Assert that exactly one error was reported, at line:col, with this message and hint. */
static void expect_one_error(const char *text, int line, int col, const char *message, const char *hint) {
  loaded l;
  load(&l, text);
  if (l.d.errors != 1) dump(&l);
  assert_int_equal(l.st, GG_ERR_PLAN);
  assert_null(l.p);
  assert_int_equal(l.d.errors, 1);
  const plan_diag *dg = NULL;
  for (size_t i = 0; i < l.d.count; i++)
    if (l.d.items[i].severity == PLAN_DIAG_ERROR) dg = &l.d.items[i];
  assert_non_null(dg);
  assert_string_equal(dg->message, message);
  assert_int_equal(dg->line, line);
  assert_int_equal(dg->col, col);
  if (hint) {
    assert_non_null(dg->hint);
    assert_string_equal(dg->hint, hint);
  }
  release(&l);
}

/* A valid plan; the tests below each break one thing in a copy of it. Lines are numbered. */
#define L01 "migration: t\n"
#define L02 "roles:\n"
#define L03 "  - { id: lead, title: Lead }\n"
#define L04 "  - { id: on-call, title: On-Call Engineer }\n"
#define L05 "topology:\n"
#define L06 "  streams:\n"
#define L07 "    OLD: { existing: true, subjects: [a.>] }\n"
#define L08 "    NEW: { subjects: [b.>], replicas: 3, max_age: 7d }\n"
#define L09 "  consumers:\n"
#define L10 "    NEW/c1: { filter: b.x, ack_wait: 30s }\n"
#define L11 "phases:\n"
#define L12 "  - id: 1\n"
#define L13 "    name: one\n"
#define L14 "    approvals: [lead]\n"
#define L15 "    go:\n"
#define L16 "      - { name: ok, expect: 'x == 1' }\n"
#define L17 "    actions:\n"
#define L18 "      - create_stream: NEW\n"
#define HEAD L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13

static void test_valid_base(void **state) {
  loaded l;
  load(&l, HEAD L14 L15 L16 L17 L18);
  if (l.st != GG_OK) dump(&l);
  assert_int_equal(l.st, GG_OK);
  assert_int_equal(l.d.count, 0);
  assert_string_equal(l.p->migration, "t");
  assert_int_equal(l.p->nphases, 1);
  assert_int_equal(l.p->topology.nstreams, 2);
  assert_int_equal(l.p->topology.streams[1].replicas, 3);
  assert_true(l.p->topology.streams[1].max_age == 7 * 86400);
  assert_true(l.p->topology.consumers[0].ack_wait == 30);
  assert_string_equal(l.p->topology.consumers[0].stream, "NEW");
  assert_string_equal(l.p->topology.consumers[0].name, "c1");
  const plan_phase *ph = plan_find_phase(l.p, "1");
  assert_non_null(ph);
  assert_int_equal(ph->ngo, 1);
  assert_non_null(ph->go[0].expect.ast);
  assert_int_equal(ph->go[0].expect.pos.line, 16);
  assert_int_equal(ph->go[0].expect.pos.col, 30);
  assert_int_equal(ph->nactions, 1);
  assert_int_equal(ph->actions[0].kind, PLAN_ACT_CREATE_STREAM);
  assert_int_equal(strlen(l.p->hash), 64);
  assert_true(l.p->rehearsal_valid_for == 7 * 86400); /* the default */
  release(&l);
}

/* rehearsal_valid_for: how long a passed rehearsal counts; a duration, positive. */
static void test_rehearsal_valid_for(void **state) {
  loaded l;
  load(&l, "rehearsal_valid_for: 36h\n" HEAD L14 L15 L16 L17 L18);
  if (l.st != GG_OK) dump(&l);
  assert_int_equal(l.st, GG_OK);
  assert_true(l.p->rehearsal_valid_for == 36 * 3600);
  release(&l);
  expect_one_error("rehearsal_valid_for: 0s\n" HEAD L14 L15 L16 L17 L18, 1, 22,
                   "'rehearsal_valid_for' must be a positive duration", NULL);
}

static void test_unknown_key_suggests(void **state) {
  expect_one_error(HEAD "    aprovals: [lead]\n" L15 L16, 14, 5, "unknown key 'aprovals' in phase '1'",
                   "did you mean 'approvals'?");
}

/* A cycle among defines fails validate at the define that starts it, with the path that closes
 * it; defines that use each other without a cycle are fine. */
static void test_define_cycle(void **state) {
  expect_one_error(
      "migration: t\n"
      "define:\n"
      "  ok: 'x > 1'\n"
      "  a: 'b + 1'\n"
      "  b: 'c{server=\"n1\"} * 2'\n"
      "  c: 'max(a) + ok'\n"
      "phases: []\n",
      4, 7, "define 'a' refers to itself: a -> b -> c -> a",
      "a define may use other defines, but none may lead back to itself");
  expect_one_error("migration: t\ndefine:\n  self: 'self > 0'\nphases: []\n", 3, 10,
                   "define 'self' refers to itself: self -> self", NULL);
  loaded l;
  load(&l, "migration: t\ndefine:\n  a: 'b + c'\n  b: 'c * 2'\n  c: 'x'\nphases: []\n");
  if (l.d.errors) dump(&l);
  assert_int_equal(l.st, GG_OK);
  release(&l);
}

/* Bytes that are not UTF-8 text are reported where they are, naming the byte. */
static void test_bad_bytes_positioned(void **state) {
  expect_one_error("migration: t\ndescription: \"caf\xe9\"\nphases: []\n", 2, 18,
                   "yaml: invalid trailing UTF-8 octet (byte 0xe9 at offset 30)",
                   "a plan is UTF-8 text without control characters");
  static const char nul[] = "migration: t\ndescription: \"a\0b\"\nphases: []\n";
  loaded l;
  plan_load_opts opts = {.lookup = env_lookup, .ctx = &env_none};
  plan_diags_init(&l.d);
  gg_error_clear(&l.err);
  l.p = NULL;
  l.st = plan_load_buffer("plan.yaml", nul, sizeof nul - 1, &opts, &l.p, &l.d, &l.err);
  assert_int_equal(l.st, GG_ERR_PLAN);
  assert_int_equal(l.d.errors, 1);
  assert_int_equal(l.d.items[0].line, 2);
  assert_int_equal(l.d.items[0].col, 16);
  assert_string_equal(l.d.items[0].message,
                      "yaml: control characters are not allowed (byte 0x00 at offset 28)");
  release(&l);
}

/* Nesting past GG_PLAN_MAX_DEPTH is refused where it starts, before libyaml builds a document
 * (whose time grows with the square of the depth): 1,000,000 levels in 2 MB take milliseconds. */
static void test_nesting_depth_capped(void **state) {
  size_t deep = 1000000, head = strlen("migration: t\nphases: ");
  char *text = malloc(head + 2 * deep + 2);
  assert_non_null(text);
  memcpy(text, "migration: t\nphases: ", head);
  memset(text + head, '[', deep);
  memset(text + head + deep, ']', deep);
  memcpy(text + head + 2 * deep, "\n", 2);
  expect_one_error(text, 2, 8 + GG_PLAN_MAX_DEPTH, /* the root mapping is the first level */
                   "the plan nests mappings and sequences more than 64 deep here",
                   "flatten the structure: no plan key needs this many levels");
  text[head + deep] = '\0';                        /* unterminated as well */
  expect_one_error(text, 2, 8 + GG_PLAN_MAX_DEPTH, /* the root mapping is the first level */
                   "the plan nests mappings and sequences more than 64 deep here", NULL);
  free(text);
  /* Block style counts the same way. */
  char block[4096] = "migration: t\nx:\n";
  size_t used = strlen(block);
  for (int i = 0; i <= GG_PLAN_MAX_DEPTH; i++) {
    int n = snprintf(block + used, sizeof block - used, "%*sk%d:\n", i + 1, "", i);
    used += (size_t)n;
  }
  snprintf(block + used, sizeof block - used, "%*send: 1\n", GG_PLAN_MAX_DEPTH + 2, "");
  loaded l;
  load(&l, block);
  assert_int_equal(l.st, GG_ERR_PLAN);
  assert_non_null(strstr(l.d.items[0].message, "more than 64 deep"));
  release(&l);
}

static void test_unknown_top_key(void **state) {
  expect_one_error("migration: t\ndescripton: x\nphases: []\n", 2, 1, "unknown key 'descripton' in the plan",
                   "did you mean 'description'?");
}

static void test_bad_off_hours(void **state) {
  expect_one_error(
      "migration: t\ncalendar: { off_hours: \"Mon-Fri 20:00-06:00; Sta-Sun\" }\nphases: []\n", 2, 46,
      "off_hours: window \"Mon-Fri 20:00-06:00; Sta-Sun\": unknown day 'Sta' (use Mon Tue Wed Thu "
      "Fri Sat Sun) at position 22",
      NULL);
}

static void test_rule_on_error(void **state) {
  loaded l;
  load(&l,
       "migration: t\nphases: []\nmonitor:\n  rules:\n"
       "    - { name: r, when: 'x > 1', for: 5m, then: notify, on_error: hold }\n");
  assert_int_equal(l.st, GG_OK);
  assert_true(l.p->monitor.rules[0].on_error_hold);
  release(&l);
  expect_one_error(
      "migration: t\nphases: []\nmonitor:\n  rules:\n"
      "    - { name: r, when: 'x > 1', then: notify, on_error: maybe }\n",
      5, 57, "'on_error' must be hold or ignore, not 'maybe'", NULL);
}

/* Found by the fuzzer: a mapping key that is itself a map reached readers that take keys
 * as text. */
static void test_nonscalar_key(void **state) {
  expect_one_error("migration: t\ntopology:\n  consumers: { ? { a: b } : { filter: x } }\nphases: []\n", 3,
                   18, "mapping keys must be plain strings", NULL);
}

static void test_wrong_type_integer(void **state) {
  expect_one_error(L01 L05 L06
                   "    NEW: { replicas: three }\n"
                   "phases: []\n",
                   4, 22, "'replicas' must be an integer, not 'three'", NULL);
}

static void test_wrong_type_list(void **state) {
  expect_one_error(HEAD L14 "    go: everything\n", 15, 9, "'go' must be a list, not a string", NULL);
}

static void test_bad_unit(void **state) {
  loaded l;
  load(&l, HEAD "    requires: { phase: 1, stable_for: 24x }\n");
  /* requires names its own phase too; the unit error is the one we check. */
  const plan_diag *dg = NULL;
  for (size_t i = 0; i < l.d.count; i++)
    if (strstr(l.d.items[i].message, "stable_for")) dg = &l.d.items[i];
  assert_non_null(dg);
  assert_int_equal(dg->line, 14);
  assert_int_equal(dg->col, 39);
  assert_non_null(strstr(dg->message, "'stable_for': invalid duration '24x': unknown unit 'x'"));
  release(&l);
}

static void test_bad_size(void **state) {
  expect_one_error(
      L01 L05 L06
      "    NEW: { max_bytes: 20GX }\n"
      "phases: []\n",
      4, 23,
      "'max_bytes': invalid size '20GX': unknown unit 'GX' (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)",
      NULL);
}

static void test_duplicate_phase_id(void **state) {
  expect_one_error(HEAD "  - id: 1\n    name: again\n", 14, 9, "duplicate phase id '1' (first at line 12)",
                   NULL);
}

static void test_consumer_stream_missing(void **state) {
  expect_one_error(L01 L05 L06 L08 L09
                   "    NEX/c1: { filter: a.x }\n"
                   "phases: []\n",
                   6, 5, "consumer 'NEX/c1': stream 'NEX' is not in topology.streams", "did you mean 'NEW'?");
}

static void test_action_unknown_stream(void **state) {
  expect_one_error(HEAD L17 "      - move_subjects: { subjects: [a.>], from: OLD, to: NOPE }\n", 15, 58,
                   "move_subjects names unknown stream 'NOPE'", "declare it under topology.streams");
}

static void test_requires_missing_phase(void **state) {
  expect_one_error(HEAD "    requires: { phase: 7, stable_for: 24h }\n", 14, 24,
                   "phase '1' requires unknown phase '7'", NULL);
}

static void test_approval_undeclared_role(void **state) {
  expect_one_error(HEAD "    approvals: [lead, on-cal]\n", 14, 23, "approval names undeclared role 'on-cal'",
                   "did you mean 'on-call'?");
}

static void test_criterion_none(void **state) {
  expect_one_error(HEAD L15 "      - { name: nothing, timeout: 5s }\n", 15, 9,
                   "go criterion 'nothing' needs exactly one of expect, run, attest, canary (has none)",
                   NULL);
}

static void test_criterion_two(void **state) {
  expect_one_error(
      HEAD L15 "      - { name: both, expect: 'x == 1', run: 'true' }\n", 15, 9,
      "go criterion 'both' needs exactly one of expect, run, attest, canary (has expect and run)", NULL);
}

static void test_malformed_expression_column(void **state) {
  /* Single-quoted at column 30, so the text starts at 31; the parser blames the second '>'
   * (expression column 5), which is file column 35. */
  loaded l;
  load(&l, HEAD L15 "      - { name: bad, expect: 'x > > 1' }\n");
  assert_int_equal(l.d.errors, 1);
  const plan_diag *dg = &l.d.items[0];
  assert_int_equal(dg->line, 15);
  assert_int_equal(dg->col, 35);
  assert_non_null(strstr(dg->message, "malformed expression in 'expect': "));
  /* The formatted diagnostic has the source line and a caret under the bad token. */
  char *s = plan_diag_format(&l.d, dg);
  assert_non_null(s);
  const char *caret = strstr(s, "\n    ");
  assert_non_null(caret);
  assert_non_null(strstr(s, "plan.yaml:15:35: malformed expression"));
  assert_non_null(strstr(s,
                         "    "
                         "      - { name: bad, expect: 'x > > 1' }\n"
                         "    "
                         "                                  ^\n"));
  free(s);
  release(&l);
}

static void test_malformed_expression_plain(void **state) {
  /* A plain scalar: the expression starts at the scalar's column (17). 'rate(' never closes. */
  loaded l;
  load(&l, HEAD "    no_go:\n      - name: busy\n        when: rate(x, 5m\n");
  assert_int_equal(l.d.errors, 1);
  const plan_diag *dg = &l.d.items[0];
  assert_int_equal(dg->line, 16);
  assert_true(dg->col >= 15 && dg->col <= 28);
  assert_non_null(strstr(dg->message, "malformed expression in 'when': "));
  release(&l);
}

static void test_malformed_expression_folded(void **state) {
  /* A folded scalar: the error is reported at the scalar's start (line 16, column 15). */
  expect_one_error(
      HEAD "    no_go:\n      - name: busy\n        when: >-\n          rate(x, 5m)\n          > > 100\n", 16,
      15, "malformed expression in 'when': expected a number, string, name or '(', found '>'", NULL);
}

static void test_duplicate_approval(void **state) {
  expect_one_error(HEAD "    approvals: [lead, lead]\n", 14, 23, "phase '1' lists approval role 'lead' twice",
                   NULL);
}

static void test_unset_variable(void **state) {
  expect_one_error("migration: t\nconnect:\n  nats: { servers: \"x,${NATS_URL}\" }\nphases: []\n", 3, 23,
                   "unset variable 'NATS_URL'",
                   "set NATS_URL in the environment, or give a default: '${NATS_URL:-VALUE}'");
}

static void test_malformed_variable(void **state) {
  expect_one_error("migration: t\ndescription: ${1X}\nphases: []\n", 2, 14,
                   "malformed variable reference '${1X}'", NULL);
}

static void test_yaml_syntax_error(void **state) {
  loaded l;
  load(&l, "migration: t\nphases: [\n  - id: 1\n");
  assert_int_equal(l.st, GG_ERR_PLAN);
  assert_int_equal(l.d.errors, 1);
  assert_non_null(strstr(l.d.items[0].message, "yaml: "));
  assert_true(l.d.items[0].line >= 2);
  release(&l);
}

static void test_literal_secret_refused(void **state) {
  expect_one_error("migration: t\nconnect:\n  databases: { main: \"postgres://u:pw@h/db\" }\nphases: []\n", 3,
                   22, "secret 'databases' must come from the environment, not from the plan file", NULL);
}

static void test_all_errors_one_pass(void **state) {
  loaded l;
  load(&l, HEAD
       "    aprovals: [lead]\n"
       "    go:\n"
       "      - { name: n }\n"
       "    actions:\n"
       "      - create_stream: NOPE\n");
  assert_int_equal(l.d.errors, 3);
  assert_int_equal(l.d.items[0].line, 14);
  assert_int_equal(l.d.items[1].line, 16);
  assert_int_equal(l.d.items[2].line, 18);
  assert_string_equal(l.d.items[2].message, "create_stream names unknown stream 'NOPE'");
  release(&l);
}

static void test_substitution_and_hash(void **state) {
  const char *text =
      "migration: t\n"
      "connect:\n"
      "  nats: { servers: \"${NATS_URL:-nats://127.0.0.1:4222}\" }\n"
      "  databases: { main: \"${PG_URL}\" }\n"
      "phases:\n"
      "  - { id: 1, name: \"${NAME:-default name}\", requires: [] }\n";
  fake_env e1 = {{"PG_URL", NULL}, {"postgres://u:one@h/db", NULL}};
  fake_env e2 = {{"PG_URL", NULL}, {"postgres://u:two@h/db", NULL}};
  fake_env e3 = {{"PG_URL", "NATS_URL", NULL}, {"postgres://u:one@h/db", "nats://10.0.0.1:4222", NULL}};
  loaded a, b, c;
  load_env(&a, text, &e1);
  load_env(&b, text, &e2);
  load_env(&c, text, &e3);
  assert_int_equal(a.st, GG_OK);
  assert_int_equal(b.st, GG_OK);
  assert_int_equal(c.st, GG_OK);
  assert_string_equal(a.p->connect.nats.servers[0], "nats://127.0.0.1:4222");
  assert_string_equal(c.p->connect.nats.servers[0], "nats://10.0.0.1:4222");
  assert_string_equal(a.p->phases[0].name, "default name");
  /* The secret is usable but prints as its variable only. */
  assert_string_equal(gg_secret_reveal(&a.p->connect.databases[0].url), "postgres://u:one@h/db");
  assert_string_equal(gg_secret_label(&a.p->connect.databases[0].url), "<secret ${PG_URL}>");
  json_t *j = plan_to_json(a.p);
  char *dumped = json_dumps(j, 0);
  assert_null(strstr(dumped, "one@h"));
  assert_non_null(strstr(dumped, "<secret ${PG_URL}>"));
  free(dumped);
  json_decref(j);
  /* A changed secret keeps the hash; a changed value elsewhere changes it. */
  assert_string_equal(a.p->hash, b.p->hash);
  assert_string_not_equal(a.p->hash, c.p->hash);
  release(&a);
  release(&b);
  release(&c);
}

/* Commands run with ${VAR} expanded but are shown and journaled as written: no value from the
 * environment reaches output, and credentials typed into URLs are masked. Target URLs too. */
static void test_commands_and_urls_shown_without_secrets(void **state) {
  const char *text =
      "migration: t\n"
      "connect:\n"
      "  targets: { svc: { health: \"http://ops:hunter2@127.0.0.1:1/health\" } }\n"
      "preflight:\n"
      "  - { name: db, run: 'psql \"${PG_URL:-postgres://u:dflt@h/db}\" -c \"select 1\"' }\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: one\n"
      "    actions:\n"
      "      - exec: { run: 'curl -fsS https://admin:pw@h/x --token=${TOKEN}', undo: 'echo ${TOKEN:-none}' "
      "}\n";
  fake_env e = {{"PG_URL", "TOKEN", NULL}, {"postgres://u:s3cr3t@h/db", "tok-123", NULL}};
  loaded l;
  load_env(&l, text, &e);
  if (l.st != GG_OK) dump(&l);
  assert_int_equal(l.st, GG_OK);
  const plan_criterion *c = &l.p->preflight[0];
  assert_string_equal(c->run, "psql \"postgres://u:s3cr3t@h/db\" -c \"select 1\"");
  assert_string_equal(c->run_shown, "psql \"${PG_URL}\" -c \"select 1\"");
  const plan_action *a = &l.p->phases[0].actions[0];
  assert_string_equal(a->run, "curl -fsS https://admin:pw@h/x --token=tok-123");
  assert_string_equal(a->run_shown, "curl -fsS https://***@h/x --token=***");
  assert_string_equal(a->undo_shown, "echo ${TOKEN}");
  json_t *j = plan_to_json(l.p);
  char *dumped = json_dumps(j, 0);
  static const char *const secrets[] = {"s3cr3t", "dflt", "tok-123", "admin:pw", "hunter2"};
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
    if (strstr(dumped, secrets[i])) fail_msg("plan JSON shows '%s': %s", secrets[i], dumped);
  free(dumped);
  json_decref(j);
  char d[256];
  assert_non_null(strstr(plan_action_describe(a, d, sizeof d), "https://***@h/x"));
  release(&l);
}

static void test_risk_matrix_and_warning(void **state) {
  loaded l;
  load(&l,
       "migration: t\nphases:\n  - id: 1\n    name: x\n    risk: low\n    risks:\n"
       "      - { risk: a, probability: medium, impact: high, residual: medium }\n"
       "      - { risk: b, probability: low, impact: critical, residual: low }\n"
       "  - id: 2\n    name: y\n    risks:\n"
       "      - { risk: c, probability: high, impact: high, residual: high }\n");
  assert_int_equal(l.st, GG_OK);
  assert_int_equal(l.d.errors, 0);
  assert_int_equal(l.d.warnings, 1);
  assert_int_equal(l.d.items[0].severity, PLAN_DIAG_WARNING);
  assert_int_equal(l.d.items[0].line, 5);
  assert_int_equal(l.d.items[0].col, 11);
  assert_string_equal(l.d.items[0].message,
                      "phase '1' declares overall risk LOW, lower than its highest residual risk MEDIUM");
  const plan_phase *p1 = &l.p->phases[0], *p2 = &l.p->phases[1];
  assert_int_equal(p1->risks[0].inherent, PLAN_LEVEL_HIGH);
  assert_int_equal(p1->risks[1].inherent, PLAN_LEVEL_HIGH);
  assert_true(p1->risk_declared);
  assert_int_equal(p1->risk, PLAN_LEVEL_LOW);
  assert_int_equal(p2->risks[0].inherent, PLAN_LEVEL_CRITICAL);
  assert_false(p2->risk_declared);
  assert_int_equal(p2->risk, PLAN_LEVEL_HIGH); /* derived: the highest residual */
  release(&l);

  /* The document's four anchors, and a plan that replaces a cell. */
  plan_risk_matrix m;
  plan_risk_matrix_default(&m);
  assert_int_equal(plan_risk_level(&m, PLAN_LEVEL_HIGH, PLAN_LEVEL_HIGH), PLAN_LEVEL_CRITICAL);
  assert_int_equal(plan_risk_level(&m, PLAN_LEVEL_MEDIUM, PLAN_LEVEL_HIGH), PLAN_LEVEL_HIGH);
  assert_int_equal(plan_risk_level(&m, PLAN_LEVEL_LOW, PLAN_LEVEL_MEDIUM), PLAN_LEVEL_MEDIUM);
  assert_int_equal(plan_risk_level(&m, PLAN_LEVEL_LOW, PLAN_LEVEL_LOW), PLAN_LEVEL_LOW);
  load(&l,
       "migration: t\nrisk_matrix: { medium: { high: critical } }\nphases:\n  - id: 1\n    name: x\n    "
       "risks:\n"
       "      - { risk: a, probability: medium, impact: high, residual: low }\n");
  assert_int_equal(l.st, GG_OK);
  assert_false(l.p->risk_matrix.is_default);
  assert_int_equal(l.p->phases[0].risks[0].inherent, PLAN_LEVEL_CRITICAL);
  assert_int_equal(plan_risk_level(&l.p->risk_matrix, PLAN_LEVEL_LOW, PLAN_LEVEL_LOW), PLAN_LEVEL_LOW);
  release(&l);
}

static void test_bad_risk_level(void **state) {
  expect_one_error(
      "migration: t\nphases:\n  - id: 1\n    name: x\n    risks:\n"
      "      - { risk: a, probability: critical, impact: high, residual: low }\n",
      6, 33, "'probability' must be low, medium or high, not 'critical'", NULL);
}

static void test_actions_and_inverses(void **state) {
  loaded l;
  load(&l, HEAD L14 L17
       "      - create_stream: NEW\n"
       "      - move_subjects: { subjects: [a.>], from: OLD, to: NEW }\n"
       "      - create_consumer: NEW/c1\n"
       "      - drain: { stream: OLD, consumer: c1, until: 0, timeout: 30m }\n"
       "      - verify_continuity: { subjects: [a.>], from: OLD, to: NEW }\n"
       "      - wait: 5m\n"
       "      - wait: { until: 'x == 0', timeout: 10m }\n"
       "      - exec: { run: 'deploy green', undo: 'deploy blue' }\n"
       "      - kv_put: { bucket: cfg, key: shift, value: '100' }\n"
       "      - update_stream: { stream: NEW, max_age: 14d }\n"
       "      - delete_stream: { stream: OLD, allow_data_loss: true }\n");
  if (l.st != GG_OK) dump(&l);
  assert_int_equal(l.st, GG_OK);
  const plan_phase *ph = &l.p->phases[0];
  assert_int_equal(ph->nactions, 11);
  char buf[512];
  assert_string_equal(plan_action_inverse(&ph->actions[1], buf, sizeof buf),
                      "move subjects a.> back from NEW to OLD");
  assert_string_equal(plan_action_describe(&ph->actions[3], buf, sizeof buf),
                      "drain OLD/c1 until pending <= 0 (timeout 30m)");
  assert_true(ph->actions[5].duration == 300);
  assert_non_null(ph->actions[6].until_expr.ast);
  assert_true(ph->actions[6].timeout == 600);
  assert_string_equal(plan_action_inverse(&ph->actions[7], buf, sizeof buf), "exec: deploy blue");
  assert_string_equal(ph->actions[8].value, "100");
  assert_true(ph->actions[9].update->max_age == 14 * 86400);
  assert_true(ph->actions[10].allow_data_loss);
  assert_string_equal(plan_action_inverse(&ph->actions[10], buf, sizeof buf),
                      "recreate OLD from its journaled config (empty)");
  release(&l);
}

static void test_unknown_action(void **state) {
  expect_one_error(HEAD L17 "      - create_streem: NEW\n", 15, 9, "unknown action 'create_streem'",
                   "did you mean 'create_stream'?");
}

static void test_edit_distance(void **state) {
  assert_int_equal(plan_edit_distance("approvals", "aprovals"), 1);
  assert_int_equal(plan_edit_distance("", "abc"), 3);
  assert_int_equal(plan_edit_distance("kitten", "sitting"), 3);
}

static void test_file_errors(void **state) {
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(plan_load_file("/nonexistent/plan.yaml", NULL, &p, &d, &err), GG_ERR_NOT_FOUND);
  assert_null(p);
  assert_non_null(strstr(err.msg, "cannot open plan '/nonexistent/plan.yaml'"));
  plan_diags_release(&d);
}

/* The example plan: it validates and encodes the risk assessment's key facts. */
/* The README's second, smaller example validates clean: no error, no warning. */
static void test_orders_example(void **state) {
  (void)state;
  char path[4096];
  snprintf(path, sizeof path, "%s/examples/orders/plan.yaml", GONOGO_SOURCE_DIR);
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = plan_load_file(path, NULL, &p, &d, &err);
  for (size_t i = 0; i < d.count; i++)
    fprintf(stderr, "%d:%d: %s\n", d.items[i].line, d.items[i].col, d.items[i].message);
  assert_int_equal(st, GG_OK);
  assert_int_equal(d.count, 0);
  assert_string_equal(p->migration, "orders-split");
  assert_int_equal(p->nphases, 3);
  assert_int_equal(p->topology.nstreams, 4);
  assert_int_equal(p->calendar.nfreezes, 1);
  plan_free(p);
  plan_diags_release(&d);
}

/* Assert a diagnostic of severity sev at line:col whose message contains `message` and whose hint
 * is `hint` (NULL: any). */
static void expect_diag(const char *text, plan_severity sev, int line, int col, const char *message,
                        const char *hint) {
  loaded l;
  load(&l, text);
  const plan_diag *dg = NULL;
  for (size_t i = 0; i < l.d.count && !dg; i++)
    if (l.d.items[i].severity == sev && strstr(l.d.items[i].message, message)) dg = &l.d.items[i];
  if (!dg) {
    dump(&l);
    fail_msg("no %s containing \"%s\"", sev == PLAN_DIAG_ERROR ? "error" : "warning", message);
  }
  if (dg->line != line || dg->col != col) {
    dump(&l);
    fail_msg("\"%s\" at %d:%d, want %d:%d", dg->message, dg->line, dg->col, line, col);
  }
  if (hint) {
    assert_non_null(dg->hint);
    assert_string_equal(dg->hint, hint);
  }
  if (sev == PLAN_DIAG_WARNING) assert_int_equal(l.d.errors, 0);
  release(&l);
}

/* What an expression names that the plan does not declare (issue 18, item 2). */
static void test_names_in_expressions(void **state) {
  (void)state;
#define GO(e) HEAD L14 L15 "      - { name: ok, expect: '" e "' }\n" L17 L18
  expect_diag(GO("nats.stream.mesages{stream=\"NEW\"} > 0"), PLAN_DIAG_ERROR, 16, 30,
              "unknown series 'nats.stream.mesages'", "did you mean 'nats.stream.messages'?");
  expect_diag(GO("pg.upp{db=\"main\"} == 1"), PLAN_DIAG_ERROR, 16, 30, "unknown series 'pg.upp'",
              "did you mean 'pg.up'?");
  expect_diag(GO("1 > 0 and nats.stream.messages{strem=\"NEW\"} > 0"), PLAN_DIAG_ERROR, 16, 40,
              "series 'nats.stream.messages' has no label 'strem'", "did you mean 'stream'?");
  expect_diag(GO("nats.stream.messages{stream=\"NEX\"} > 0"), PLAN_DIAG_WARNING, 16, 30,
              "stream 'NEX' (in nats.stream.messages) is not declared in topology.streams",
              "did you mean 'NEW'?");
  expect_diag(GO("nats.consumer.num_pending{stream=\"NEW\", consumer=\"c2\"} < 10"), PLAN_DIAG_WARNING, 16,
              30, "consumer 'c2' (in nats.consumer.num_pending) is not declared", "did you mean 'c1'?");
  expect_diag(GO("sql(mian, \"select 1\") > 0"), PLAN_DIAG_ERROR, 16, 34,
              "sql() names database 'mian', which is not declared in connect.databases", NULL);
  expect_diag(GO("http.up{target=\"ingest\"} == 1"), PLAN_DIAG_ERROR, 16, 30,
              "target 'ingest' (in http.up) is not declared in connect.targets", NULL);
  expect_diag(GO("ingest_published_total{target=\"ingset\"} > 0"), PLAN_DIAG_ERROR, 16, 30,
              "target 'ingset' (in ingest_published_total) is not declared", NULL);
  expect_diag(GO("window(\"change\")"), PLAN_DIAG_ERROR, 16, 37,
              "window() names 'change', which is not declared in calendar.windows", NULL);
  expect_diag(GO("phase.completed{phase=\"2\"} == 1"), PLAN_DIAG_ERROR, 16, 30,
              "phase '2' (in phase.completed) is not a phase of the plan", "did you mean '1'?");
  /* A declared database, target and window pass; so does a scraped metric. */
  loaded l;
  load(&l,
       "migration: t\n"
       "connect: { databases: { main: 'postgres://localhost/x' }, targets: { ingest: { health: 'http://h/' } "
       "} }\n"
       "calendar: { windows: { change: 'Tue-Thu 09:00-16:00' } }\n"
       "phases:\n"
       "  - id: 1\n"
       "    name: one\n"
       "    go:\n"
       "      - { name: a, expect: 'sql(main, \"select 1\") > 0 and http.up{target=\"ingest\"} == 1' }\n"
       "      - { name: b, expect: 'window(\"change\") and up{target=\"ingest\"} == 1 and x{anything=\"y\"} "
       "> 0' }\n");
  if (l.d.count) dump(&l);
  assert_int_equal(l.st, GG_OK);
  assert_int_equal(l.d.count, 0);
  release(&l);
#undef GO
}

/* The topology played forward: overlapping streams after a phase, a filter outside its stream. */
static void test_subjects_after_phases(void **state) {
  (void)state;
  /* NEW created with a.> while OLD still holds a.>: JetStream would refuse it. */
  expect_diag(L01 L02 L03 L04 L05 L06 L07 "    NEW: { subjects: [a.x.>] }\n" L09
                                          "    NEW/c1: { filter: a.x.y }\n" L11 L12 L13 L17 L18,
              PLAN_DIAG_WARNING, 15, 9,
              "after phase '1', streams 'OLD' ('a.>') and 'NEW' ('a.x.>') hold overlapping",
              "move the subjects with move_subjects, or leave them off the new stream until the cutover");
  /* Moving the subjects instead: no overlap, no diagnostic. */
  loaded l;
  load(&l, L01 L02 L03 L04 L05 L06 L07 "    NEW: { subjects: [a.>] }\n" L09
                                       "    NEW/c1: { filter: a.x }\n" L11 L12 L13 L17 L18
                                       "      - move_subjects: { subjects: [a.>], from: OLD, to: NEW }\n");
  if (l.d.count) dump(&l);
  assert_int_equal(l.d.count, 0);
  release(&l);
  /* A consumer filter outside its stream's subjects. */
  expect_diag(L01 L02 L03 L04 L05 L06 L07 L08 L09 "    NEW/c1: { filter: a.x }\n" L11 L12 L13 L17 L18,
              PLAN_DIAG_ERROR, 10, 5,
              "consumer 'NEW/c1': filter 'a.x' lies outside the subjects of stream 'NEW'",
              "stream 'NEW' holds b.>");
  /* The subject algebra itself. */
  assert_true(plan_subjects_overlap("a.>", "a.b.c"));
  assert_true(plan_subjects_overlap("a.*.c", "a.b.*"));
  assert_false(plan_subjects_overlap("a.*", "a.b.c"));
  assert_false(plan_subjects_overlap("a.>", "a"));
  assert_false(plan_subjects_overlap("core.>", "vendor.>"));
  assert_true(plan_subject_within("a.b.>", "a.>"));
  assert_true(plan_subject_within("a.b", "a.*"));
  assert_false(plan_subject_within("a.>", "a.*"));
  assert_false(plan_subject_within("a", "a.>"));
  assert_false(plan_subject_within("b.x", "a.>"));
}

/* Dates and ranges in calendar.holidays and calendar.freeze, checked where they are written. */
static void test_calendar_freeze(void **state) {
  (void)state;
  loaded l;
  load(&l,
       "migration: t\n"
       "calendar:\n"
       "  freeze: [2026-12-18..2027-01-04, 2027-03-01]\n"
       "  holidays: [2026-12-24..2026-12-26]\n"
       "  windows: { change: 'Tue-Thu 09:00-16:00' }\n"
       "phases: [{ id: 1, name: one, go: [{ name: w, expect: 'not frozen() and window(\"change\")' }] }]\n");
  if (l.d.count) dump(&l);
  assert_int_equal(l.st, GG_OK);
  assert_int_equal(l.p->calendar.nfreezes, 2);
  assert_string_equal(l.p->calendar.freezes[0], "2026-12-18..2027-01-04");
  assert_int_equal(l.p->calendar.nwindows, 1);
  assert_string_equal(l.p->calendar.window_names[0], "change");
  release(&l);
  expect_one_error(
      "migration: t\ncalendar:\n  freeze: [2026-12-18..2027-01-04, 2027-01-04..2026-12-18]\nphases: []\n", 3,
      36, "calendar.freeze: range '2027-01-04..2026-12-18' ends before it starts",
      "write 2026-12-24 or 2026-12-18..2027-01-04");
  expect_one_error(
      "migration: t\ncalendar:\n  windows: { change: 'Tue-Thu 09:00-16:60' }\nphases: []\n", 3, 37,
      "calendar window 'change': window \"Tue-Thu 09:00-16:60\": time '16:60' out of range at position 15",
      NULL);
}

static void test_example_plan(void **state) {
  char path[4096];
  snprintf(path, sizeof path, "%s/examples/athlete-ally/plan.yaml", GONOGO_SOURCE_DIR);
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = plan_load_file(path, NULL, &p, &d, &err);
  if (st != GG_OK)
    for (size_t i = 0; i < d.count; i++)
      fprintf(stderr, "%s: %s\n", d.items[i].message, d.items[i].hint ? d.items[i].hint : "");
  assert_int_equal(st, GG_OK);
  assert_int_equal(d.count, 0);
  assert_string_equal(p->migration, "athlete-ally-3-stream");
  assert_int_equal(p->nphases, 4);
  static const plan_level overall[] = {PLAN_LEVEL_LOW, PLAN_LEVEL_MEDIUM, PLAN_LEVEL_HIGH, PLAN_LEVEL_LOW};
  static const size_t nrisks[] = {3, 4, 6, 2};
  for (size_t i = 0; i < 4; i++) {
    assert_true(p->phases[i].risk_declared);
    assert_int_equal(p->phases[i].risk, overall[i]);
    assert_int_equal(p->phases[i].nrisks, nrisks[i]);
  }
  const plan_phase *p2 = plan_find_phase(p, "2");
  assert_non_null(p2);
  assert_string_equal(p2->risks[2].risk, "Message loss during subject migration");
  assert_int_equal(p2->risks[2].impact, PLAN_LEVEL_CRITICAL);
  assert_int_equal(p2->risks[0].inherent, PLAN_LEVEL_HIGH);
  assert_true(p2->rollback_estimate == 300);
  assert_string_equal(p2->rollback_complexity, "moderate");
  assert_int_equal(p2->nrequires, 1);
  assert_string_equal(p2->requires[0].phase, "1");
  assert_true(p2->requires[0].stable_for == 86400);
  assert_int_equal(p2->napprovals, 4);
  assert_string_equal(p2->approvals[3].role, "engineering-manager");
  assert_true(p2->approvals[3].optional);
  assert_false(p2->approvals[0].optional);
  assert_int_equal(p2->nno_go, 6);
  assert_int_equal(p2->no_go[5].outcome, PLAN_OUTCOME_DEFER);
  assert_int_equal(p2->nprepare, 1);
  assert_int_equal(p2->prepare[0].kind, PLAN_ACT_CREATE_STREAM);
  assert_int_equal(p2->actions[0].kind, PLAN_ACT_MOVE_SUBJECTS);
  assert_int_equal(p2->verify[1].kind, PLAN_CRIT_CANARY);
  assert_string_equal(p2->verify[1].canary_url, "http://127.0.0.1:8081/v1/hrv");
  /* Every expression is parsed and kept. */
  for (size_t i = 0; i < p->nphases; i++)
    for (size_t j = 0; j < p->phases[i].nno_go; j++) assert_non_null(p->phases[i].no_go[j].when.ast);
  for (size_t i = 0; i < p->monitor.nrules; i++) assert_non_null(p->monitor.rules[i].when.ast);
  assert_int_equal(p->nvalidation, 4);
  assert_true(p->validation[0].at == 300 && p->validation[3].at == 14 * 86400);
  assert_int_equal(p->validation[0].nitems, 5);
  const plan_role *em = plan_find_role(p, "engineering-manager");
  assert_non_null(em);
  assert_true(em->optional);
  plan_free(p);
  plan_diags_release(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_base),
      cmocka_unit_test(test_rehearsal_valid_for),
      cmocka_unit_test(test_unknown_key_suggests),
      cmocka_unit_test(test_unknown_top_key),
      cmocka_unit_test(test_define_cycle),
      cmocka_unit_test(test_bad_bytes_positioned),
      cmocka_unit_test(test_nesting_depth_capped),
      cmocka_unit_test(test_bad_off_hours),
      cmocka_unit_test(test_rule_on_error),
      cmocka_unit_test(test_nonscalar_key),
      cmocka_unit_test(test_wrong_type_integer),
      cmocka_unit_test(test_wrong_type_list),
      cmocka_unit_test(test_bad_unit),
      cmocka_unit_test(test_bad_size),
      cmocka_unit_test(test_duplicate_phase_id),
      cmocka_unit_test(test_consumer_stream_missing),
      cmocka_unit_test(test_action_unknown_stream),
      cmocka_unit_test(test_requires_missing_phase),
      cmocka_unit_test(test_approval_undeclared_role),
      cmocka_unit_test(test_criterion_none),
      cmocka_unit_test(test_criterion_two),
      cmocka_unit_test(test_malformed_expression_column),
      cmocka_unit_test(test_malformed_expression_plain),
      cmocka_unit_test(test_malformed_expression_folded),
      cmocka_unit_test(test_duplicate_approval),
      cmocka_unit_test(test_unset_variable),
      cmocka_unit_test(test_malformed_variable),
      cmocka_unit_test(test_yaml_syntax_error),
      cmocka_unit_test(test_literal_secret_refused),
      cmocka_unit_test(test_all_errors_one_pass),
      cmocka_unit_test(test_substitution_and_hash),
      cmocka_unit_test(test_commands_and_urls_shown_without_secrets),
      cmocka_unit_test(test_risk_matrix_and_warning),
      cmocka_unit_test(test_bad_risk_level),
      cmocka_unit_test(test_actions_and_inverses),
      cmocka_unit_test(test_unknown_action),
      cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_file_errors),
      cmocka_unit_test(test_example_plan),
      cmocka_unit_test(test_orders_example),
      cmocka_unit_test(test_names_in_expressions),
      cmocka_unit_test(test_subjects_after_phases),
      cmocka_unit_test(test_calendar_freeze),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
