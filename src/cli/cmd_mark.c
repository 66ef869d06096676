/* gonogo mark PLAN --event deployment|incident [--at TIME] [--note TEXT]: put a deployment or an
 * incident on the migration's record (event.age{kind="incident"} reads it back). */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"

static const cli_spec spec = {
    .verb = "mark",
    .args = "PLAN",
    .summary = "record a deployment or an incident in the migration's journal",
    .min_args = 1,
    .max_args = 1,
    .opts = {{"event", "deployment|incident", "what happened"},
             {"at", "TIME", "when (RFC 3339; default now)"},
             {"by", "NAME", "who records it (default the OS user)"},
             {"note", "TEXT", "a note kept with the mark"},
             {"journal", "PATH", "the journal file (default .gonogo/<migration>.db beside the plan)"},
             {0}},
};

int cmd_mark(int argc, char **argv) {
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &args);
  if (rc >= 0) return rc;
  const char *event = cli_get(&args, "event"), *at_text = cli_get(&args, "at");
  if (!event || (strcmp(event, "deployment") != 0 && strcmp(event, "incident") != 0))
    return cli_fail(CLI_EXIT_USAGE, "mark: --event must be deployment or incident");
  gg_error err;
  gg_error_clear(&err);
  double at = 0;
  if (at_text && gg_time_parse(at_text, &at, &err) != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
  plan *p = NULL;
  journal *j = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  rc = jcli_open_journal(p, args.args[0], cli_get(&args, "journal"), JOURNAL_OPEN_CREATE, false, &j);
  if (rc >= 0) goto out;
  long long seq = 0;
  if (journal_mark(j, event, at, cli_get(&args, "by"), cli_get(&args, "note"), &seq, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  char when[40];
  printf("recorded #%lld: %s at %s\n", seq, event,
         gg_time_format(at > 0 ? at : gg_clock_now(), when, sizeof when));
  rc = CLI_EXIT_OK;
out:
  journal_close(j);
  plan_free(p);
  return rc;
}
