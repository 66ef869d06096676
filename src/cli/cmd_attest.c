/* gonogo attest PLAN --phase N --item ID --by NAME [--note TEXT]: a person confirms what only a
 * person can know ("on-call available"); valid for the criterion's valid_for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "journal/sign.h"

/* The options of `gonogo attest`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  const char *item;
  const char *by;
  const char *note;
  const char *key;
  const char *key_passphrase_file;
  const char *journal;
} cmd_attest_opts;

static const cli_spec spec = {
    .verb = "attest",
    .args = "PLAN",
    .summary = "record that a named person confirms an attestation item of a phase",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_attest_opts, phase, "phase", "N", "the phase the item belongs to"),
             CLI_STR(cmd_attest_opts, item, "item", "ID",
                     "the item (an `attest:` criterion of the phase or the preflight)"),
             CLI_STR(cmd_attest_opts, by, "by", "NAME", "the person attesting"),
             CLI_STR(cmd_attest_opts, note, "note", "TEXT", "a note kept with the attestation"),
             CLI_STR(cmd_attest_opts, key, "key", "FILE",
                     JCLI_KEY_HELP
                     ";\nrequired when the item has signed_by: ROLE, and must be one of its keys"),
             CLI_STR(cmd_attest_opts, key_passphrase_file, "key-passphrase-file", "FILE", JCLI_KEY_PASS_HELP),
             CLI_STR(cmd_attest_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
};

static void list_items(const plan *p, const plan_phase *ph, char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  const plan_criterion *sets[2] = {ph->go, p->preflight};
  size_t counts[2] = {ph->ngo, p->npreflight};
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; i < counts[s] && used < n; i++) {
      if (sets[s][i].kind != PLAN_CRIT_ATTEST) continue;
      if (s == 1 && jcli_find_attest(p, ph, sets[s][i].attest) != &sets[s][i]) continue; /* listed already */
      int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", sets[s][i].attest);
      if (w < 0) return;
      used += (size_t)w;
    }
}

int cmd_attest(int argc, char **argv) {
  cmd_attest_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  const char *item = opt.item, *by = opt.by;
  if (!item || !item[0]) return cli_fail(CLI_EXIT_USAGE, "attest: --item is required");
  if (!by || !by[0]) return cli_fail(CLI_EXIT_USAGE, "attest: --by NAME is required (who attests)");
  plan *p = NULL;
  journal *j = NULL;
  gg_sigkey *key = NULL;
  json_t *content = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  const plan_phase *ph = jcli_find_phase(p, opt.phase);
  if (!ph) {
    rc = CLI_EXIT_USAGE;
    goto out;
  }
  const plan_criterion *c = jcli_find_attest(p, ph, item);
  if (!c) {
    char list[512];
    list_items(p, ph, list, sizeof list);
    rc = cli_fail(CLI_EXIT_USAGE, "phase '%s' has no attestation item '%s' (%s%s)", ph->id, item,
                  list[0] ? "items: " : "it has none", list);
    goto out;
  }
  if ((rc = jcli_role_signing_key(p, c->signed_by, "attestation", opt.key, opt.key_passphrase_file, &key)) >=
      0)
    goto out;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_CREATE, false, &j);
  if (rc >= 0) goto out;
  gg_error err;
  gg_error_clear(&err);
  long long seq = 0;
  if (journal_attestation_content(item, by, c->valid_for, p->hash, opt.note, &content, &err) != GG_OK ||
      journal_append_signed(j, key, p->migration, JOURNAL_ATTESTATION, ph->id, by, content, &seq, &err) !=
          GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  printf("recorded #%lld: %s attests '%s' (%s) for phase '%s'", seq, by, item, c->name, ph->id);
  if (c->valid_for > 0) {
    char until[40], dur[32];
    printf(", valid for %s until %s", gg_format_duration(c->valid_for, dur, sizeof dur),
           gg_time_format(gg_clock_now() + c->valid_for, until, sizeof until));
  }
  char note[256];
  printf("%s\n", jcli_signed_note(key, note, sizeof note));
  rc = CLI_EXIT_OK;
out:
  json_decref(content);
  gg_sigkey_free(key);
  journal_close(j);
  plan_free(p);
  return rc;
}
