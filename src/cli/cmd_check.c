/* gonogo check PLAN --phase N [--json | --nagios] [--at TIME]: the go/no-go checklist, filled in live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "gate/gate.h"

/* The options of `gonogo check`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  bool json;
  const char *at;
  const char *journal;
  bool skip_run;
  bool no_rate_samples;
  bool nagios;
  bool verbose;
} cmd_check_opts;

static const cli_spec spec = {
    .verb = "check",
    .args = "PLAN",
    .summary =
        "Evaluate a phase's preflight, requires, go criteria, no-go conditions, attestations and\n"
        "approvals against the live systems, decide GO / NO-GO / DEFER with the evidence, and journal\n"
        "the evaluation and the decision.",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_check_opts, phase, "phase", "N", "the phase to check (required)"),
             CLI_FLAG(cmd_check_opts, json, "json", "the same facts as JSON on stdout"),
             CLI_FLAG(cmd_check_opts, nagios, "nagios",
                      "one line in the Nagios plugin format with perfdata; exit 0 OK (GO), 1 WARNING\n"
                      "(DEFER), 2 CRITICAL (NO-GO), 3 UNKNOWN (could not evaluate)"),
             CLI_STR(cmd_check_opts, at, "at", "TIME",
                     "evaluate calendar and soak criteria as of TIME (RFC 3339); live probes still read now"),
             CLI_STR(cmd_check_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)"),
             CLI_FLAG(cmd_check_opts, skip_run, "skip-run",
                      "do not run `run:` commands (they show ERROR); for measuring probes"),
             CLI_FLAG(cmd_check_opts, no_rate_samples, "no-rate-samples",
                      "do not take two fresh samples for rate() without history (ERROR instead)"),
             CLI_FLAG(cmd_check_opts, verbose, "verbose",
                      "after the summary, every row by section with its evidence (default: the rows that did "
                      "not pass)")},
    .exits =
        "0 GO, 1 DEFER, 2 NO-GO, 3 error (usage, plan, journal); with --nagios the same\n"
        "codes are Nagios's OK, WARNING, CRITICAL and UNKNOWN"};

typedef struct {
  const char *pass, *fail, *wait, *error, *bold, *dim, *off;
} palette;

static palette colors(bool on) {
  if (!on) return (palette){"", "", "", "", "", "", ""};
  return (palette){"\033[32m", "\033[31m", "\033[33m", "\033[35m", "\033[1m", "\033[2m", "\033[0m"};
}

static const char *result_color(const palette *c, gate_result r) {
  switch (r) {
    case GATE_PASS:
      return c->pass;
    case GATE_FAIL:
      return c->fail;
    case GATE_WAIT:
      return c->wait;
    case GATE_ERROR:
      return c->error;
  }
  return "";
}

static void print_indented(const char *text, const char *indent, int max_lines) {
  const char *p = text;
  /* show the last max_lines lines: the tail is the useful part of command output */
  int total = 0;
  for (const char *q = p; *q; q++)
    if (*q == '\n') total++;
  if (*p && p[strlen(p) - 1] != '\n') total++;
  int skip = total > max_lines ? total - max_lines : 0;
  int line = 0;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (line >= skip && len > 0) printf("%s%.*s\n", indent, (int)len, p);
    line++;
    p = nl ? nl + 1 : p + len;
  }
}

static const char *const section_titles[] = {"PREFLIGHT", "REQUIRES", "GO CRITERIA", "NO-GO CONDITIONS",
                                             "APPROVALS"};
static const char *const section_names[] = {"preflight", "requires", "go", "no-go", "approval"};

/* One row and its evidence: observed and wanted, failing members, the message, the earliest
 * time a WAIT can pass. In the summary the row names its section and the message is cut short. */
static void print_item(const palette *c, const gate_item *it, bool in_summary) {
  printf("  %s%-5s%s  %s", result_color(c, it->result), gate_result_name(it->result), c->off, it->name);
  if (it->section == GATE_SEC_NOGO && it->outcome == PLAN_OUTCOME_DEFER)
    printf(" %s(defers)%s", c->dim, c->off);
  if (in_summary) printf(" %s(%s)%s", c->dim, section_names[it->section], c->off);
  printf("\n");
  if (it->observed[0] || it->threshold[0]) {
    printf("         %sobserved%s %s", c->dim, c->off, it->observed[0] ? it->observed : "-");
    if (it->threshold[0])
      printf("   %s%s%s %s", c->dim, it->section == GATE_SEC_NOGO ? "holds when" : "want", c->off,
             it->threshold);
    printf("   %s%.0f ms%s\n", c->dim, it->elapsed * 1000, c->off);
  }
  for (size_t k = 0; k < it->nmembers; k++)
    printf("         %s✗ %s%s\n", result_color(c, it->result), it->members[k], c->off);
  if (it->message[0] && it->result != GATE_PASS) print_indented(it->message, "         ", in_summary ? 3 : 8);
  if (it->earliest > 0 && it->result == GATE_WAIT) {
    char t[40];
    gg_time_format(it->earliest, t, sizeof t);
    printf("         %searliest%s %s\n", c->dim, c->off, t);
  }
}

/* The phase, its risk and when it was evaluated. */
static void print_header(const plan *p, const gate_report *r, const palette *c) {
  const plan_phase *ph = plan_find_phase(p, r->phase);
  char when[40], est[32] = "";
  gg_time_format(r->now, when, sizeof when);
  if (ph->rollback_estimate >= 0) gg_format_duration(ph->rollback_estimate, est, sizeof est);
  printf("%sPhase %s — %s%s\n", c->bold, r->phase, r->phase_name, c->off);
  printf("overall risk %s", plan_level_name(ph->risk));
  if (ph->rollback_complexity || est[0])
    printf(" · rollback %s%s%s", ph->rollback_complexity ? ph->rollback_complexity : "",
           ph->rollback_complexity && est[0] ? ", ~" : "", est);
  printf("\n");
  if (r->at_given)
    printf("calendar and soak criteria evaluated as of %s (--at); live probes read the present\n", when);
  else
    printf("evaluated at %s\n", when);
}

#define CHECK_SUMMARY_ROWS 12 /* rows that did not pass shown in the summary; the rest: --verbose */

/* One screen: the counts, then the rows that did not pass (FAIL and ERROR before WAIT), each with
 * why, at most CHECK_SUMMARY_ROWS of them. */
static void print_summary(const gate_report *r, const palette *c, bool verbose) {
  size_t n[4] = {0};
  for (size_t i = 0; i < r->nitems; i++) n[r->items[i].result]++;
  printf("\n%sSUMMARY%s  %s%zu PASS%s · %s%zu FAIL%s · %s%zu WAIT%s · %s%zu ERROR%s  of %zu items\n", c->bold,
         c->off, c->pass, n[GATE_PASS], c->off, c->fail, n[GATE_FAIL], c->off, c->wait, n[GATE_WAIT], c->off,
         c->error, n[GATE_ERROR], c->off, r->nitems);
  size_t shown = 0, left = 0;
  static const gate_result order[] = {GATE_FAIL, GATE_ERROR, GATE_WAIT};
  for (size_t o = 0; o < 3; o++)
    for (size_t i = 0; i < r->nitems; i++) {
      if (r->items[i].result != order[o]) continue;
      if (shown == CHECK_SUMMARY_ROWS) {
        left++;
        continue;
      }
      print_item(c, &r->items[i], true);
      shown++;
    }
  if (left) printf("  %s… and %zu more that did not pass%s\n", c->dim, left, c->off);
  if (!verbose) printf("%s(every row with its evidence: --verbose)%s\n", c->dim, c->off);
}

static void print_rows(const gate_report *r, const palette *c) {
  int section = -1;
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    if ((int)it->section != section) {
      section = (int)it->section;
      printf("\n%s%s%s\n", c->bold, section_titles[section], c->off);
    }
    print_item(c, it, false);
  }
}

static void print_decision(const gate_report *r, const palette *c) {
  const char *dc = r->decision == GATE_GO ? c->pass : r->decision == GATE_DEFER ? c->wait : c->fail;
  printf("\n%sDECISION: %s%s%s (exit %d)\n", c->bold, dc, gate_decision_name(r->decision), c->off,
         (int)r->decision);
  if (r->nreasons) {
    printf("because:\n");
    for (size_t i = 0; i < r->nreasons; i++) printf("  - %s\n", r->reasons[i]);
  }
  if (r->npending) {
    printf("waiting for people:\n");
    for (size_t i = 0; i < r->npending; i++) printf("  - %s\n", r->pending[i]);
  }
  if (r->earliest > 0) {
    char t[40];
    gg_time_format(r->earliest, t, sizeof t);
    printf("earliest time the calendar and soak waits can pass: %s\n", t);
  }
  printf("%sevaluated in %.0f ms; probes %.0f ms concurrently, the slowest %.0f ms (%s)%s\n", c->dim,
         r->elapsed * 1000, r->probes * 1000, r->slowest_probe * 1000,
         r->slowest_probe_what[0] ? r->slowest_probe_what : "none", c->off);
}

static void print_human(const plan *p, const gate_report *r, bool verbose) {
  palette c = colors(cli_color(stdout));
  print_header(p, r, &c);
  print_summary(r, &c, verbose);
  if (verbose) print_rows(r, &c);
  print_decision(r, &c);
}

/* rate()/increase() windows that were answered by less than their history (a shorter stretch
 * of journal or Prometheus samples, or two fresh samples): the value is a shorter window's, so
 * say so even when the item passed. The gate notes each history read as "SERIES[WIN]: ORIGIN";
 * a short one's origin ends ", not WIN". */
static void print_short_windows(const gate_report *r) {
  bool heading = false;
  for (size_t i = 0; i < r->nitems; i++) {
    json_t *notes = json_object_get(r->items[i].evidence, "history");
    size_t k;
    json_t *n;
    json_array_foreach(notes, k, n) {
      const char *text = json_string_value(n);
      if (!text || !strstr(text, ", not ")) continue;
      if (!heading)
        printf("\nwindows shorter than asked (no history to read; the value is the shorter one's):\n");
      heading = true;
      printf("  %s: %s\n", r->items[i].name, text);
    }
  }
}

/* The Nagios plugin line (the plugin guidelines' "SERVICE STATUS - text | perfdata"): one line, the
 * status word for the decision (GO OK, DEFER WARNING, NO-GO CRITICAL), counts as perfdata. */
static void print_nagios(const gate_report *r) {
  size_t n[4] = {0};
  for (size_t i = 0; i < r->nitems; i++) n[r->items[i].result]++;
  static const char *const status[] = {"OK", "WARNING", "CRITICAL"};
  printf("GONOGO %s - phase %s %s: ", status[r->decision], r->phase, gate_decision_name(r->decision));
  if (r->decision == GATE_GO)
    printf("%zu passing", n[GATE_PASS]);
  else if (r->decision == GATE_DEFER)
    printf("%zu waiting", n[GATE_WAIT]);
  else
    printf("%zu failing", n[GATE_FAIL] + n[GATE_ERROR]);
  printf(" | pass=%zu fail=%zu wait=%zu error=%zu seconds=%.2f\n", n[GATE_PASS], n[GATE_FAIL], n[GATE_WAIT],
         n[GATE_ERROR], r->elapsed);
}

/* Nagios's UNKNOWN: the phase could not be evaluated; the reason is on stderr too. */
static int nagios_unknown(const char *phase, const char *why) {
  printf("GONOGO UNKNOWN - phase %s not evaluated: %s\n", phase, why);
  return CLI_EXIT_ERROR;
}

int cmd_check(int argc, char **argv) {
  cmd_check_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  const char *phase = opt.phase;
  if (!phase) return cli_fail(CLI_EXIT_USAGE, "check: --phase N is required");
  if (opt.nagios && opt.json) return cli_fail(CLI_EXIT_USAGE, "check: --nagios and --json: choose one");
  gg_error err;
  gg_error_clear(&err);
  gate_opts opts = {.skip_run = opt.skip_run, .skip_rate_samples = opt.no_rate_samples};
  const char *at = opt.at;
  if (at && gg_time_parse(at, &opts.at, &err) != GG_OK)
    return cli_fail(CLI_EXIT_USAGE, "--at: %s", gg_error_message(&err));

  plan *p = NULL;
  journal *j = NULL;
  if ((rc = jcli_open_phase(a.args[0], phase, opt.journal, &p, NULL, &j)) >= 0)
    return opt.nagios ? nagios_unknown(phase, "the plan, the phase or the journal (stderr says which)") : rc;
  opts.journal = j;
  if (!opt.json && !opt.nagios) {
    cli_cluster_print(stdout, p);
    printf("\n");
  }
  gate_report r;
  rc = CLI_EXIT_FAIL;
  if (gate_check(p, phase, &opts, &r, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_USAGE, &err);
    if (opt.nagios) nagios_unknown(phase, gg_error_message(&err));
    goto out;
  }
  if (gate_record(j, &r, "gonogo check", &err) != GG_OK) {
    /* The decision stands, but say loudly that it is not on record. */
    cli_fail(CLI_EXIT_FAIL, "journal the evaluation: %s", gg_error_message(&err));
  }
  if (opt.nagios) {
    print_nagios(&r);
  } else if (opt.json) {
    json_t *o = gate_report_json(&r);
    json_object_set_new(o, "cluster", cli_cluster_json(p));
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s) puts(s);
    free(s);
    json_decref(o);
  } else {
    print_human(p, &r, opt.verbose);
    print_short_windows(&r);
  }
  rc = (int)r.decision;
  gate_report_release(&r);
out:
  journal_close(j);
  plan_free(p);
  return rc;
}
