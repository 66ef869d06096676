/* gonogo validate PLAN: every problem of the plan with file:line:col, or a one-line ok. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "plan/plan.h"

static const cli_spec spec = {
    .verb = "validate",
    .args = "PLAN",
    .summary = "check a plan file: every error with file:line:col",
    .min_args = 1,
    .max_args = 1,
    .opts = {{0}},
    .exits = "0 valid (warnings allowed), 3 invalid (each error at file:line:col) or usage"};

int cmd_validate(int argc, char **argv) {
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, NULL, &args);
  if (rc >= 0) return rc;
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
