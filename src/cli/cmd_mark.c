/* gonogo mark PLAN --event deployment|incident [--at TIME] [--note TEXT]: put a deployment or an
 * incident on the migration's record (event.age{kind="incident"} reads it back). */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "journal/sign.h"

/* The options of `gonogo mark`, each bound to its option in the table below. */
typedef struct {
  const char *event;
  const char *at;
  const char *by;
  const char *note;
  const char *key;
  const char *key_passphrase_file;
  const char *journal;
} cmd_mark_opts;

static const cli_spec spec = {
    .verb = "mark",
    .args = "PLAN",
    .summary = "record a deployment or an incident in the migration's journal",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_mark_opts, event, "event", "deployment|incident", "what happened"),
             CLI_STR(cmd_mark_opts, at, "at", "TIME", "when (RFC 3339; default now)"),
             CLI_STR(cmd_mark_opts, by, "by", "NAME", "who records it (default the OS user)"),
             CLI_STR(cmd_mark_opts, note, "note", "TEXT", "a note kept with the mark"),
             CLI_STR(cmd_mark_opts, key, "key", "FILE", JCLI_KEY_HELP),
             CLI_STR(cmd_mark_opts, key_passphrase_file, "key-passphrase-file", "FILE", JCLI_KEY_PASS_HELP),
             CLI_STR(cmd_mark_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
};

int cmd_mark(int argc, char **argv) {
  cmd_mark_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  const char *event = opt.event, *at_text = opt.at;
  if (!event || (strcmp(event, "deployment") != 0 && strcmp(event, "incident") != 0))
    return cli_fail(CLI_EXIT_USAGE, "mark: --event must be deployment or incident");
  gg_error err;
  gg_error_clear(&err);
  double at = 0;
  if (at_text && gg_time_parse(at_text, &at, &err) != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
  plan *p = NULL;
  journal *j = NULL;
  gg_sigkey *key = NULL;
  json_t *content = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  if ((rc = jcli_signing_key(opt.key, opt.key_passphrase_file, &key)) >= 0) goto out;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_CREATE, false, &j);
  if (rc >= 0) goto out;
  long long seq = 0;
  if (journal_mark_content(event, at, opt.note, &content, &err) != GG_OK ||
      journal_append_signed(j, key, p->migration, JOURNAL_MARK, JOURNAL_NO_PHASE, opt.by, content, &seq,
                            &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  char when[40], note[256];
  printf("recorded #%lld: %s at %s%s\n", seq, event,
         gg_time_format(at > 0 ? at : gg_clock_now(), when, sizeof when),
         jcli_signed_note(key, note, sizeof note));
  rc = CLI_EXIT_OK;
out:
  json_decref(content);
  gg_sigkey_free(key);
  journal_close(j);
  plan_free(p);
  return rc;
}
