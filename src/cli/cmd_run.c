/* gonogo run PLAN --phase N [--prepare] [--yes] [--dry-run] [--override-item ITEM=REASON ... --by NAME]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/act.h"
#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "cli/shift_hold.h"
#include "gate/gate.h"
#include "journal/sign.h"

/* The options of `gonogo run`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  bool prepare;
  bool yes;
  bool dry_run;
  cli_list override_item;
  const char *override;
  const char *by;
  const char *key;
  const char *key_passphrase_file;
  bool break_lock;
  const char *journal;
} cmd_run_opts;

static const cli_spec spec = {
    .verb = "run",
    .args = "PLAN",
    .summary =
        "Run a phase: evaluate it afresh and proceed only on GO (or when every item that stops it is\n"
        "overridden by name: --override-item, journaled), ask for\n"
        "confirmation on a terminal, execute its actions (observe, act if needed, verify; journaled),\n"
        "check its verify criteria, roll back by itself on failure (on_failure: rollback), and end\n"
        "with a summary. --prepare runs only the prepare actions (before the go decision).\n"
        "Off a terminal (a pipe, cron, CI) it refuses to act without --yes.",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_run_opts, phase, "phase", "N", "the phase to run (required)"),
             CLI_FLAG(cmd_run_opts, prepare, "prepare", "only the phase's prepare actions (no gate)"),
             CLI_FLAG(cmd_run_opts, yes, "yes", "do not ask for confirmation"),
             CLI_FLAG(cmd_run_opts, dry_run, "dry-run",
                      "evaluate and show what would change; change nothing, journal nothing"),
             CLI_LIST(cmd_run_opts, override_item, "override-item", "ITEM=REASON",
                      "take responsibility for one item that stops the phase (its name or slug, or\n"
                      "approval:ROLE), with why; repeatable; anything else failing still stops it;\n"
                      "journaled and reported in red; needs --by"),
             CLI_STR(cmd_run_opts, override, "override", "REASON",
                     "refused: an override names the items it covers (use --override-item)"),
             CLI_STR(cmd_run_opts, by, "by", "NAME", "who overrides"),
             CLI_STR(cmd_run_opts, key, "key", "FILE",
                     "sign the override with this Ed25519 private key (PEM; default $GONOGO_SIGNING_KEY)"),
             CLI_STR(cmd_run_opts, key_passphrase_file, "key-passphrase-file", "FILE", JCLI_KEY_PASS_HELP),
             CLI_FLAG(cmd_run_opts, break_lock, "break-lock", "take over a stale lock (journaled)"),
             CLI_STR(cmd_run_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
    .exits =
        "0 completed (or a dry run), 1 DEFER and 2 NO-GO (nothing ran), 3 error: usage, not\n"
        "confirmed, or the phase failed (rolled back or left, as the output says)"};

static void print_plan(const plan *p, const char *phase, bool prepare) {
  act_plan_line *lines = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  if (act_plan_phase(p, phase, prepare, &lines, &n, &err) != GG_OK) {
    printf("  (cannot observe the cluster: %s)\n", gg_error_message(&err));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    printf("  %c %s\n", lines[i].sign, lines[i].text);
    for (size_t k = 0; k < lines[i].ndiff; k++) printf("      %s\n", lines[i].diff[k]);
  }
  act_plan_lines_free(lines, n);
}

static void next_steps(const plan *p, const plan_phase *ph) {
  double now = gg_clock_now();
  char t[40], d[32];
  printf("next:\n  gonogo watch %s   (monitor rules every %s)\n", p->file,
         gg_format_duration(p->monitor.interval, d, sizeof d));
  for (size_t i = 0; i < p->nvalidation; i++) {
    const plan_checkpoint *c = &p->validation[i];
    bool applies = c->nphases == 0;
    for (size_t k = 0; k < c->nphases; k++)
      if (strcmp(c->phases[k], ph->id) == 0) applies = true;
    if (applies) {
      printf("  checkpoint %s at %s\n", c->name, gg_time_format(now + c->at, t, sizeof t));
      break;
    }
  }
  for (size_t i = 0; i < p->nphases; i++)
    for (size_t k = 0; k < p->phases[i].nrequires; k++)
      if (strcmp(p->phases[i].requires[k].phase, ph->id) == 0)
        printf("  phase %s can be decided after %s stable, at %s: gonogo check %s --phase %s\n",
               p->phases[i].id, gg_format_duration(p->phases[i].requires[k].stable_for, d, sizeof d),
               gg_time_format(now + p->phases[i].requires[k].stable_for, t, sizeof t), p->file,
               p->phases[i].id);
}

/* Who overrides: the --by name, signing with key (may be NULL) for the plan's migration. */
typedef struct {
  const char *by;
  const gg_sigkey *key;
  const char *migration;
} override_signer;

/* Scope the overrides to the items they name and decide again. -1 when the phase may go on
 * (the override journaled, signed when who->key is set), else the exit code (what is still
 * failing is printed). */
static int apply_overrides(gate_report *r, const gate_override *ovs, size_t nov, const override_signer *who,
                           bool dry, journal *j, const char *red, const char *off) {
  const char *by = who->by;
  gg_error err;
  gg_error_clear(&err);
  gate_decision before = r->decision;
  if (gate_apply_overrides(r, ovs, nov, &err) != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
  json_t *items = json_array();
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    if (!it->overridden) continue;
    char slug[256];
    printf("%sOVERRIDE by %s of %s %s '%s': %s%s\n", red, by, gate_section_name(it->section),
           gate_result_name(it->result), it->name, it->override_reason, off);
    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:s, s:s}", "section", gate_section_name(it->section), "name",
                         it->name, "slug", gate_item_slug(it->name, slug, sizeof slug), "result",
                         gate_result_name(it->result), "reason", it->override_reason));
  }
  if (r->decision != GATE_GO) {
    json_decref(items);
    printf("Still %s after the overrides:\n", gate_decision_name(r->decision));
    for (size_t i = 0; i < r->nreasons; i++)
      if (!strstr(r->reasons[i], " OVERRIDDEN: ")) printf("  - %s\n", r->reasons[i]);
    fprintf(stderr, "gonogo: run: phase %s is still %s: the overrides cover only the items they name\n",
            r->phase, gate_decision_name(r->decision));
    return (int)r->decision;
  }
  if (dry) {
    json_decref(items);
    return -1;
  }
  char reason[1024];
  snprintf(reason, sizeof reason, "%zu item%s overridden", nov, nov == 1 ? "" : "s");
  json_t *c = json_pack("{s:s, s:s, s:s, s:o}", "reason", reason, "decision", "GO", "overridden",
                        gate_decision_name(before), "items", items);
  gg_status st =
      journal_append_signed(j, who->key, who->migration, JOURNAL_OVERRIDE, r->phase, by, c, NULL, &err);
  json_decref(c);
  if (st != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
  char note[256];
  if (who->key) printf("override%s\n", jcli_signed_note(who->key, note, sizeof note));
  return -1;
}

/* --override-item ITEM=REASON ... into ovs (the item names copied into text). -1, or the exit
 * code (printed). */
static int parse_overrides(const cli_list *given, gate_override *ovs, char (*text)[512], size_t *nov) {
  for (int i = 0; i < given->n; i++) {
    const char *g = given->v[i];
    const char *eq = strchr(g, '=');
    if (!eq || eq == g || !eq[1])
      return cli_fail(CLI_EXIT_USAGE, "run: --override-item '%s': expected ITEM=REASON", g);
    snprintf(text[*nov], 512, "%.*s", (int)(eq - g), g);
    ovs[*nov].item = text[*nov];
    ovs[*nov].reason = eq + 1;
    (*nov)++;
  }
  return -1;
}

int cmd_run(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* progress on stderr and the report on stdout interleave in order */
  cmd_run_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  const char *phase = opt.phase, *by = opt.by;
  bool prepare = opt.prepare, dry = opt.dry_run;
  if (!phase) return cli_fail(CLI_EXIT_USAGE, "run: --phase N is required");
  if (opt.override)
    return cli_fail(CLI_EXIT_USAGE,
                    "run: --override REASON would cover every item that fails; name each one you take "
                    "responsibility for: --override-item 'ITEM=REASON' --by NAME (ITEM: the item's name or "
                    "slug as `check` prints it)");
  gate_override ovs[CLI_MAX_LIST];
  char ovtext[CLI_MAX_LIST][512];
  size_t nov = 0;
  if ((rc = parse_overrides(&opt.override_item, ovs, ovtext, &nov)) >= 0) return rc;
  if (nov && (!by || !*by)) return cli_fail(CLI_EXIT_USAGE, "run: --override-item needs --by NAME");
  char what[128];
  snprintf(what, sizeof what, "%s phase %s", prepare ? "prepare" : "run", phase);
  if (!dry && (rc = cli_require_yes("run", what, opt.yes)) >= 0) return rc;
  if (!nov && (opt.key || opt.key_passphrase_file))
    return cli_fail(CLI_EXIT_USAGE, "run: --key signs an override: it needs --override-item 'ITEM=REASON'");
  gg_sigkey *key = NULL;
  /* The key is read before anything runs, so a bad one stops the run, not the override. */
  if (nov && (rc = jcli_signing_key(opt.key, opt.key_passphrase_file, &key)) >= 0) return rc;
  plan *p = NULL;
  const plan_phase *ph = NULL;
  journal *j = NULL;
  if ((rc = jcli_open_phase(a.args[0], phase, opt.journal, &p, &ph, &j)) >= 0) {
    gg_sigkey_free(key);
    return rc;
  }
  gg_error err;
  gg_error_clear(&err);
  bool color = cli_color(stdout);
  const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "", *off = color ? "\033[0m" : "";
  bool overridden = false;
  rc = CLI_EXIT_FAIL;
  cli_cluster_print(stdout, p);
  printf("\n");

  if (!prepare) {
    gate_opts go = {.journal = j};
    gate_report r;
    if (gate_check(p, phase, &go, &r, &err) != GG_OK) {
      rc = cli_fail_error(CLI_EXIT_USAGE, &err);
      goto out;
    }
    if (!dry && gate_record(j, &r, "gonogo run", &err) != GG_OK) {
      rc = cli_fail_error(CLI_EXIT_FAIL, &err);
      gate_report_release(&r);
      goto out;
    }
    printf("Phase %s — %s: %s%s%s\n", ph->id, ph->name, r.decision == GATE_GO ? green : red,
           gate_decision_name(r.decision), off);
    for (size_t i = 0; i < r.nreasons; i++) printf("  - %s\n", r.reasons[i]);
    for (size_t i = 0; i < r.npending; i++) printf("  waiting for: %s\n", r.pending[i]);
    gate_decision d = r.decision;
    if (d != GATE_GO && nov) {
      override_signer who = {.by = by, .key = key, .migration = p->migration};
      rc = apply_overrides(&r, ovs, nov, &who, dry, j, red, off);
      if (rc >= 0) {
        gate_report_release(&r);
        goto out;
      }
      overridden = true;
      d = GATE_GO;
    }
    gate_report_release(&r);
    if (d != GATE_GO) {
      fprintf(stderr,
              "gonogo: run: phase %s is %s; not running (take responsibility for an item with "
              "--override-item 'ITEM=REASON' --by NAME)\n",
              phase, gate_decision_name(d));
      rc = (int)d;
      goto out;
    }
  }
  printf("\n%s of phase %s against the live cluster:\n", prepare ? "Prepare" : "Run", phase);
  print_plan(p, phase, prepare);
  if (dry) {
    printf("\ndry run: nothing changed\n");
    rc = CLI_EXIT_OK;
    goto out;
  }
  char question[160];
  snprintf(question, sizeof question, "%s phase %s against the cluster above?", prepare ? "Prepare" : "Run",
           phase);
  if (!opt.yes && !cli_ask(question)) {
    printf("not confirmed; nothing changed\n");
    rc = CLI_EXIT_FAIL;
    goto out;
  }
  char actor[160];
  snprintf(actor, sizeof actor, "%s", overridden ? by : "gonogo run");
  cli_shift_hold hold = {0};
  act_run_opts o = {.actor = actor,
                    .prepare_only = prepare,
                    .break_lock = opt.break_lock,
                    .progress = cli_progress,
                    .hold = cli_shift_hold_fn,
                    .hold_ud = &hold};
  act_summary s;
  printf("\n");
  gg_status st = act_run_phase(p, j, phase, &o, &s, &err);
  cli_shift_hold_release(&hold);
  printf("\nSummary of phase %s (%.1f s):\n", phase, s.elapsed);
  for (size_t i = 0; i < s.nchanges; i++) printf("  %s\n", s.changes[i]);
  if (s.nchanges == 0) printf("  nothing changed\n");
  if (s.gap_ms >= 0) printf("  publish gap: %.1f ms\n", s.gap_ms);
  if (st == GG_OK) {
    printf("%sphase %s %s%s\n", green, phase, prepare ? "prepared" : "completed", off);
    if (!prepare) next_steps(p, ph);
    rc = CLI_EXIT_OK;
  } else {
    if (s.rolled_back) printf("%sphase %s failed and was rolled back%s\n", red, phase, off);
    rc = cli_fail_error(st == GG_ERR_LOCKED || st == GG_ERR_STATE ? CLI_EXIT_FAIL : CLI_EXIT_FAIL, &err);
  }
  act_summary_release(&s);
out:
  gg_sigkey_free(key);
  journal_close(j);
  plan_free(p);
  return rc;
}
