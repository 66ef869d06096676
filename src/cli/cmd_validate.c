/* gonogo validate PLAN [--json]: every problem of the plan with file:line:col, or a one-line ok. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "plan/plan.h"

/* The options of `gonogo validate`, each bound to its option in the table below. */
typedef struct {
  bool json;
} cmd_validate_opts;

static const cli_spec spec = {
    .verb = "validate",
    .args = "PLAN",
    .summary = "check a plan file: every error with file:line:col",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_FLAG(cmd_validate_opts, json, "json",
                      "the diagnostics and the plan's counts as JSON on stdout (exit codes as without)")},
    .exits = "0 valid (warnings allowed), 3 invalid (each error at file:line:col) or usage"};

/* `validate --json`: {"valid", "migration", "phases", "criteria", "rules", "hash", "file",
 * "errors", "warnings", "diagnostics": [...]} (plan_diags_to_json). */
static int validate_json(const char *path) {
  plan_diags diags;
  plan_diags_init(&diags);
  gg_error err;
  gg_error_clear(&err);
  plan *p = NULL;
  gg_status st = plan_load_file(path, NULL, &p, &diags, &err);
  if (st != GG_OK && st != GG_ERR_PLAN) {
    plan_diags_release(&diags);
    return cli_fail_error(CLI_EXIT_USAGE, &err);
  }
  json_t *o = plan_diags_to_json(&diags);
  if (!o) {
    plan_free(p);
    plan_diags_release(&diags);
    return cli_fail(CLI_EXIT_FAIL, "validate: out of memory");
  }
  json_object_set_new(o, "valid", json_boolean(p != NULL));
  if (p) {
    json_object_set_new(o, "migration", json_string(p->migration));
    json_object_set_new(o, "phases", json_integer((json_int_t)p->nphases));
    json_object_set_new(o, "criteria", json_integer((json_int_t)plan_count_criteria(p)));
    json_object_set_new(o, "rules", json_integer((json_int_t)p->monitor.nrules));
    json_object_set_new(o, "hash", json_string(p->hash));
  }
  char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
  if (text) printf("%s\n", text);
  free(text);
  json_decref(o);
  int rc = p ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  plan_free(p);
  plan_diags_release(&diags);
  return rc;
}

int cmd_validate(int argc, char **argv) {
  cmd_validate_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  if (opt.json) return validate_json(args.args[0]);
  plan *p = NULL;
  size_t warnings = 0;
  rc = jcli_load_plan(args.args[0], &p, &warnings);
  if (rc >= 0) return rc;
  printf("ok: %s, %zu phase%s, %zu criteria, %zu rule%s", p->migration, p->nphases,
         p->nphases == 1 ? "" : "s", plan_count_criteria(p), p->monitor.nrules,
         p->monitor.nrules == 1 ? "" : "s");
  if (warnings) printf(" (%zu warning%s)", warnings, warnings == 1 ? "" : "s");
  printf("\n");
  plan_free(p);
  return CLI_EXIT_OK;
}
