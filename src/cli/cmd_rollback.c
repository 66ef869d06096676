/* gonogo rollback PLAN --phase N --reason TEXT: undo what the phase's latest run did. */
#include <stdio.h>
#include <stdlib.h>

#include "act/act.h"
#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"

/* The options of `gonogo rollback`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  const char *reason;
  const char *by;
  bool yes;
  bool break_lock;
  const char *journal;
} cmd_rollback_opts;

static const cli_spec spec = {
    .verb = "rollback",
    .args = "PLAN",
    .summary =
        "Roll a phase back: the inverses of the actions its latest run completed, newest first, each\n"
        "verified; journaled as phase_rolled_back with the reason. Takes the migration's lock. Asks\n"
        "on a terminal; off one (a pipe, cron, CI) it refuses to act without --yes.",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_rollback_opts, phase, "phase", "N", "the phase (required)"),
             CLI_STR(cmd_rollback_opts, reason, "reason", "TEXT", "why (required; journaled)"),
             CLI_STR(cmd_rollback_opts, by, "by", "NAME", "who is rolling back (journaled as the actor)"),
             CLI_FLAG(cmd_rollback_opts, yes, "yes", "do not ask for confirmation (needed off a terminal)"),
             CLI_FLAG(cmd_rollback_opts, break_lock, "break-lock",
                      "take over the stale lock a killed run left (journaled)"),
             CLI_STR(cmd_rollback_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
    .exits =
        "0 rolled back (or nothing to roll back), 3 error: usage, not confirmed, or the\n"
        "rollback failed (the phase is left as the output says)"};

int cmd_rollback(int argc, char **argv) {
  cmd_rollback_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  const char *phase = opt.phase, *reason = opt.reason;
  if (!phase || !reason || !*reason)
    return cli_fail(CLI_EXIT_USAGE, "rollback: --phase N and --reason TEXT are required");
  char what[96];
  snprintf(what, sizeof what, "roll back phase %s", phase);
  if ((rc = cli_require_yes("rollback", what, opt.yes)) >= 0) return rc;
  plan *p = NULL;
  journal *j = NULL;
  if ((rc = jcli_open_phase(a.args[0], phase, opt.journal, &p, NULL, &j)) >= 0) return rc;
  if (!opt.yes) {
    cli_cluster_print(stdout, p);
    char question[128];
    snprintf(question, sizeof question, "Roll back phase %s on the cluster above?", phase);
    if (!cli_ask(question)) {
      printf("not confirmed; nothing changed\n");
      journal_close(j);
      plan_free(p);
      return CLI_EXIT_FAIL;
    }
  }
  char actor[160];
  snprintf(actor, sizeof actor, "%s", opt.by ? opt.by : "gonogo rollback");
  gg_error err;
  gg_error_clear(&err);
  journal_phase_info before;
  bool had = journal_phase(j, phase, &before, &err) == GG_OK;
  if (act_rollback_phase_ex(p, j, phase, reason, actor, true, opt.break_lock, cli_progress, NULL, &err) !=
      GG_OK) {
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
