/* gonogo approve PLAN --phase N --role ROLE --by NAME [--decision go|no-go|defer] [--note TEXT]
 * [--key FILE]: record one role's approval of a phase, bound to the plan's content hash, signed
 * when a key is given (and it must be, by a key the role lists, when the role has keys:). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "journal/sign.h"
#include "signoff/signoff.h"

/* The options of `gonogo approve`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  const char *role;
  const char *by;
  const char *decision;
  const char *note;
  const char *key;
  const char *key_passphrase_file;
  const char *journal;
} cmd_approve_opts;

static const cli_spec spec = {
    .verb = "approve",
    .args = "PLAN",
    .summary = "record a role's approval of a phase (bound to this version of the plan)",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_approve_opts, phase, "phase", "N", "the phase approved"),
             CLI_STR(cmd_approve_opts, role, "role", "ROLE", "the role approving (one the phase asks for)"),
             CLI_STR(cmd_approve_opts, by, "by", "NAME", "the person approving"),
             CLI_STR(cmd_approve_opts, decision, "decision", "go|no-go|defer",
                     "what the approver decides (default go)"),
             CLI_STR(cmd_approve_opts, note, "note", "TEXT", "a note kept with the approval"),
             CLI_STR(cmd_approve_opts, key, "key", "FILE",
                     JCLI_KEY_HELP ";\nrequired when the role lists keys:, and must be one of them"),
             CLI_STR(cmd_approve_opts, key_passphrase_file, "key-passphrase-file", "FILE",
                     JCLI_KEY_PASS_HELP),
             CLI_STR(cmd_approve_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
};

/* Print the roles of ph that have no approval in force (as the one sign-off evaluator judges). */
static void print_missing(const signoff_book *book, const plan_phase *ph) {
  int missing = 0;
  for (size_t i = 0; i < ph->napprovals; i++) {
    const plan_approval *a = &ph->approvals[i];
    signoff_verdict v = signoff_approval(book, ph, a);
    if (v.state == SIGNOFF_IN_FORCE) continue;
    printf("%s%s%s", missing ? ", " : "still missing: ", a->role, a->optional ? " (optional)" : "");
    if (v.why)
      printf(" (%s)", v.why);
    else if (v.state == SIGNOFF_VOID)
      printf(" (void: the plan changed%s%s)", v.changes ? ": " : "", v.changes ? v.changes : "");
    else if (v.state == SIGNOFF_NO_GO)
      printf(" (said no-go)");
    else if (v.state == SIGNOFF_DEFER)
      printf(" (said defer)");
    missing++;
  }
  printf(missing ? "\n" : "all roles of phase '%s' have approved\n", ph->id);
}

int cmd_approve(int argc, char **argv) {
  cmd_approve_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  const char *role = opt.role, *by = opt.by;
  const char *decision = opt.decision;
  if (!role || !role[0]) return cli_fail(CLI_EXIT_USAGE, "approve: --role is required");
  if (!by || !by[0]) return cli_fail(CLI_EXIT_USAGE, "approve: --by NAME is required (who approves)");
  if (!decision) decision = "go";
  if (strcmp(decision, "go") != 0 && strcmp(decision, "no-go") != 0 && strcmp(decision, "defer") != 0)
    return cli_fail(CLI_EXIT_USAGE, "approve: --decision '%s' is not one of go, no-go, defer", decision);

  plan *p = NULL;
  journal *j = NULL;
  signoff_book *book = NULL;
  gg_sigkey *key = NULL;
  json_t *content = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  const plan_phase *ph = jcli_find_phase(p, opt.phase);
  if (!ph) {
    rc = CLI_EXIT_USAGE;
    goto out;
  }
  bool asked = false;
  for (size_t i = 0; i < ph->napprovals; i++) asked = asked || strcmp(ph->approvals[i].role, role) == 0;
  if (!asked) {
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < ph->napprovals && used < sizeof list; i++) {
      int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", ph->approvals[i].role);
      if (w < 0) break;
      used += (size_t)w;
    }
    if (ph->napprovals)
      rc = cli_fail(CLI_EXIT_USAGE, "phase '%s' does not ask for role '%s' (it asks for: %s)", ph->id, role,
                    list);
    else
      rc = cli_fail(CLI_EXIT_USAGE, "phase '%s' asks for no approvals", ph->id);
    goto out;
  }
  if ((rc = jcli_role_signing_key(p, role, "approval", opt.key, opt.key_passphrase_file, &key)) >= 0)
    goto out;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_CREATE, false, &j);
  if (rc >= 0) goto out;
  gg_error err;
  gg_error_clear(&err);
  long long seq = 0;
  if (journal_approval_content(j, ph->id, role, by, decision, p->hash, plan_values(p), opt.note, &content,
                               &err) != GG_OK ||
      journal_append_signed(j, key, p->migration, JOURNAL_APPROVAL, ph->id, by, content, &seq, &err) !=
          GG_OK ||
      signoff_book_load(j, p, gg_clock_now(), &book, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  char note[256];
  printf("recorded #%lld: %s approves phase '%s' (%s) as %s: %s; plan %.12s%s\n", seq, by, ph->id, ph->name,
         role, decision, p->hash, jcli_signed_note(key, note, sizeof note));
  print_missing(book, ph);
  rc = CLI_EXIT_OK;
out:
  json_decref(content);
  gg_sigkey_free(key);
  signoff_book_free(book);
  journal_close(j);
  plan_free(p);
  return rc;
}
