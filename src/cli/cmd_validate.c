/* gonogo validate PLAN: every problem of the plan with file:line:col, or a one-line ok. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "plan/plan.h"

static const cli_spec spec = {
    .verb = "validate",
    .args = "PLAN",
    .summary = "check a plan file: every error with file:line:col; exit 0 when valid, 3 otherwise",
    .min_args = 1,
    .max_args = 1,
    .opts = {{0}},
};

int cmd_validate(int argc, char **argv) {
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &args);
  if (rc >= 0) return rc;
  plan_diags diags;
  plan_diags_init(&diags);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = plan_load_file(args.args[0], NULL, &p, &diags, &err);
  for (size_t i = 0; i < diags.count; i++) {
    char *text = plan_diag_format(&diags, &diags.items[i]);
    if (text) fputs(text, stderr);
    free(text);
  }
  if (st != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_USAGE, &err);
  } else {
    printf("ok: %s, %zu phase%s, %zu criteria, %zu rule%s", p->migration, p->nphases,
           p->nphases == 1 ? "" : "s", plan_count_criteria(p), p->monitor.nrules,
           p->monitor.nrules == 1 ? "" : "s");
    if (diags.warnings) printf(" (%zu warning%s)", diags.warnings, diags.warnings == 1 ? "" : "s");
    printf("\n");
    rc = CLI_EXIT_OK;
  }
  plan_free(p);
  plan_diags_release(&diags);
  return rc;
}
