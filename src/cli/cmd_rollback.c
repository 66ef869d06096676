/* gonogo rollback PLAN --phase N --reason TEXT: undo what the phase's latest run did. */
#include <stdio.h>
#include <stdlib.h>

#include "act/act.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"

static const cli_spec spec = {
    .verb = "rollback",
    .args = "PLAN",
    .summary =
        "Roll a phase back: the inverses of the actions its latest run completed, newest first, each\n"
        "verified; journaled as phase_rolled_back with the reason. Takes the migration's lock.",
    .min_args = 1,
    .max_args = 1,
    .opts = {{"phase", "N", "the phase (required)"},
             {"reason", "TEXT", "why (required; journaled)"},
             {"by", "NAME", "who is rolling back (journaled as the actor)"},
             {"break-lock", NULL, "take over the stale lock a killed run left (journaled)"},
             {"journal", "PATH", "the journal (default .gonogo/<migration>.db beside the plan)"}},
};

static void progress(void *ud, const char *line) {
  (void)ud;
  fprintf(stderr, "%s\n", line);
}

int cmd_rollback(int argc, char **argv) {
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &a);
  if (rc >= 0) return rc;
  const char *phase = cli_get(&a, "phase"), *reason = cli_get(&a, "reason");
  if (!phase || !reason || !*reason)
    return cli_fail(CLI_EXIT_USAGE, "rollback: --phase N and --reason TEXT are required");
  plan *p = NULL;
  journal *j = NULL;
  if ((rc = jcli_open_phase(a.args[0], phase, cli_get(&a, "journal"), &p, NULL, &j)) >= 0) return rc;
  char actor[160];
  snprintf(actor, sizeof actor, "%s", cli_get(&a, "by") ? cli_get(&a, "by") : "gonogo rollback");
  gg_error err;
  gg_error_clear(&err);
  journal_phase_info before;
  bool had = journal_phase(j, phase, &before, &err) == GG_OK;
  if (act_rollback_phase_ex(p, j, phase, reason, actor, true, cli_flag(&a, "break-lock"), progress, NULL,
                            &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
  } else {
    journal_phase_info after;
    if (journal_phase(j, phase, &after, &err) == GG_OK && had && after.rolled_back_at > before.rolled_back_at)
      printf("phase %s rolled back: %s\n", phase, reason);
    else
      printf("phase %s: nothing to roll back (%s)\n", phase,
             had ? journal_phase_state_name(before.state) : "?");
    rc = CLI_EXIT_OK;
  }
  journal_close(j);
  plan_free(p);
  return rc;
}
