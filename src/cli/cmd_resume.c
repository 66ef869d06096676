/* gonogo resume PLAN: finish (or finish rolling back) what a killed run left in flight. */
#include <stdio.h>
#include <stdlib.h>

#include "act/act.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "cli/shift_hold.h"

/* The options of `gonogo resume`, each bound to its option in the table below. */
typedef struct {
  const char *journal;
  bool break_lock;
} cmd_resume_opts;

static const cli_spec spec = {
    .verb = "resume",
    .args = "PLAN",
    .summary =
        "After `gonogo run` (or a rollback) was killed: re-observe the action that was in flight,\n"
        "then finish the phase or its rollback, as the journal shows was under way — never both,\n"
        "never twice. Nothing in flight: says so, exit 0.",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_resume_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)"),
             CLI_FLAG(cmd_resume_opts, break_lock, "break-lock",
                      "take over the stale lock the killed run left (journaled)")},
};

int cmd_resume(int argc, char **argv) {
  cmd_resume_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  plan *p = NULL;
  journal *j = NULL;
  if ((rc = jcli_load_plan(a.args[0], &p, NULL)) >= 0) return rc;
  if ((rc = jcli_open_journal(p, a.args[0], opt.journal, JOURNAL_OPEN_CREATE, false, &j)) >= 0) {
    plan_free(p);
    return rc;
  }
  gg_error err;
  gg_error_clear(&err);
  cli_shift_hold hold = {0};
  act_run_opts o = {.actor = "gonogo resume",
                    .break_lock = opt.break_lock,
                    .progress = cli_progress,
                    .hold = cli_shift_hold_fn,
                    .hold_ud = &hold};
  act_summary s;
  char *phase = NULL;
  gg_status st = act_resume(p, j, &o, &phase, &s, &err);
  cli_shift_hold_release(&hold);
  if (!phase && st == GG_OK) {
    printf("nothing in flight\n");
    rc = CLI_EXIT_OK;
  } else {
    for (size_t i = 0; i < s.nchanges; i++) printf("  %s\n", s.changes[i]);
    if (st != GG_OK)
      rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    else {
      printf("phase %s %s\n", phase, s.rolled_back ? "rolled back" : s.completed ? "completed" : "resumed");
      rc = CLI_EXIT_OK;
    }
  }
  free(phase);
  act_summary_release(&s);
  journal_close(j);
  plan_free(p);
  return rc;
}
