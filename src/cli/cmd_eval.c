/* gonogo eval PLAN 'EXPR': evaluate an expression live — the operator's tool for writing criteria. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "gate/gate.h"

/* The options of `gonogo eval`, each bound to its option in the table below. */
typedef struct {
  bool json;
  const char *at;
  const char *timeout;
  const char *journal;
} cmd_eval_opts;

static const cli_spec spec = {
    .verb = "eval",
    .args = "PLAN 'EXPR'",
    .summary =
        "Evaluate an expression against the live systems the plan connects to, with its define:\n"
        "entries, calendar and journal, and print the result: a vector with its labels, a number, or\n"
        "a condition with every member compared.",
    .min_args = 2,
    .max_args = 2,
    .opts = {CLI_FLAG(cmd_eval_opts, json, "json", "the result as JSON"),
             CLI_STR(cmd_eval_opts, at, "at", "TIME", "evaluate calendar functions as of TIME (RFC 3339)"),
             CLI_STR(cmd_eval_opts, timeout, "timeout", "SECONDS", "per-probe timeout (default 5)"),
             CLI_STR(cmd_eval_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
    .exits = "0 evaluated (whatever the value), 3 error (usage, plan, expression, or a probe failed)"};

static json_t *labels_json(const expr_labels *l) {
  json_t *o = json_object();
  for (size_t i = 0; i < l->n; i++) json_object_set_new(o, l->v[i].name, json_string(l->v[i].value));
  return o;
}

static void print_value(const expr_value *v, bool as_json) {
  char num[64], lab[512], thr[64];
  if (as_json) {
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(expr_value_kind_name(v->kind)));
    if (v->kind == EXPR_VAL_NUM) json_object_set_new(o, "value", json_real(v->num));
    if (v->kind == EXPR_VAL_STR) json_object_set_new(o, "value", json_string(v->str));
    if (v->kind == EXPR_VAL_BOOL) json_object_set_new(o, "value", json_boolean(v->truth));
    json_t *samples = json_array();
    for (size_t i = 0; i < v->vec.n; i++)
      json_array_append_new(samples, json_pack("{s:o, s:f, s:f}", "labels", labels_json(&v->vec.v[i].labels),
                                               "value", v->vec.v[i].value, "ts", v->vec.v[i].ts));
    json_object_set_new(o, "samples", samples);
    json_t *members = json_array();
    for (size_t i = 0; i < v->n_members; i++)
      json_array_append_new(
          members, json_pack("{s:o, s:f, s:s, s:f, s:b}", "labels", labels_json(&v->members[i].labels),
                             "value", v->members[i].value, "op", expr_op_text(v->members[i].op), "threshold",
                             v->members[i].threshold, "ok", v->members[i].ok));
    json_object_set_new(o, "members", members);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s) puts(s);
    free(s);
    json_decref(o);
    return;
  }
  switch (v->kind) {
    case EXPR_VAL_NUM:
      printf("%s\n", gate_format_number(v->num, v->unit, num, sizeof num));
      break;
    case EXPR_VAL_STR:
      printf("\"%s\"\n", v->str);
      break;
    case EXPR_VAL_BOOL:
      printf("%s\n", v->truth ? "true" : "false");
      for (size_t i = 0; i < v->n_members; i++) {
        const expr_member *m = &v->members[i];
        expr_labels_format(&m->labels, lab, sizeof lab);
        printf("  %s %s %s %s %s\n", m->ok ? "ok  " : "FAIL", lab,
               gate_format_number(m->value, m->unit, num, sizeof num), expr_op_text(m->op),
               gate_format_number(m->threshold, m->unit, thr, sizeof thr));
      }
      break;
    case EXPR_VAL_VEC:
      for (size_t i = 0; i < v->vec.n; i++) {
        expr_labels_format(&v->vec.v[i].labels, lab, sizeof lab);
        printf("%s %s\n", lab, gate_format_number(v->vec.v[i].value, v->unit, num, sizeof num));
      }
      if (v->vec.n == 0) printf("(empty vector: no data)\n");
      break;
  }
}

int cmd_eval(int argc, char **argv) {
  cmd_eval_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  gg_error err;
  gg_error_clear(&err);
  double now = gg_clock_now();
  const char *at = opt.at;
  if (at && gg_time_parse(at, &now, &err) != GG_OK)
    return cli_fail(CLI_EXIT_USAGE, "--at: %s", gg_error_message(&err));
  double timeout = 5;
  const char *t = opt.timeout;
  if (t) {
    char *end = NULL;
    errno = 0;
    timeout = strtod(t, &end);
    if (errno || end == t || *end || !(timeout > 0 && timeout <= 3600))
      return cli_fail(CLI_EXIT_USAGE, "--timeout '%s': want seconds between 0 and 3600", t);
  }
  const char *text = a.args[1];
  expr_node *ast = NULL;
  int col = 0;
  if (expr_parse(text, &ast, &col, &err) != GG_OK) {
    char caret[1024];
    expr_caret(text, col, caret, sizeof caret);
    return cli_fail(CLI_EXIT_USAGE, "expression, column %d: %s\n%s", col, gg_error_message(&err), caret);
  }
  plan *p = NULL;
  journal *j = NULL;
  gate_env *env = NULL;
  if ((rc = jcli_load_plan(a.args[0], &p, NULL)) >= 0) goto out;
  if ((rc = jcli_open_journal(p, a.args[0], opt.journal, JOURNAL_OPEN_READONLY, true, &j)) >= 0) goto out;
  if (gate_env_new(p, j, &env, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  expr_value v;
  expr_value_init(&v);
  if (gate_eval(env, ast, now, timeout, &v, &err) != GG_OK) {
    rc = cli_fail(CLI_EXIT_FAIL, "%s: %s", text, gg_error_message(&err));
  } else {
    print_value(&v, opt.json);
    rc = CLI_EXIT_OK;
  }
  expr_value_release(&v);
out:
  gate_env_free(env);
  journal_close(j);
  plan_free(p);
  expr_free(ast);
  return rc;
}
