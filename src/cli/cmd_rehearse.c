/* gonogo rehearse PLAN [--soak D] [--rate N] [--from-live] [--keep] [--dir DIR] [--journal J]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/units.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "rehearse/rehearse.h"

typedef struct {
  double soak;
  int rate;
  bool from_live;
  bool keep;
  const char *dir;
  const char *journal;
} cmd_rehearse_opts;

static const cli_spec spec = {
    .verb = "rehearse",
    .args = "PLAN",
    .summary =
        "Prove the plan on a local replica: a sandbox of its own (never NATS_URL/PG_URL), the legacy\n"
        "topology (as the plan says, or --from-live as the live cluster has it, no data copied), the\n"
        "reference services under traffic with a unique id per message, then every phase: check\n"
        "(soaks compressed to --soak; reported, not enforced), run, verify, rollback under traffic,\n"
        "run again; one cutover with the busiest node killed and brought back. Counts every id and\n"
        "journals a `rehearsal` event per phase (series rehearsal.passed{phase}).",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_DURATION(cmd_rehearse_opts, soak, "soak", "DURATION",
                          "soak windows compressed to this (default 10s)"),
             CLI_INT(cmd_rehearse_opts, rate, "rate", "MSGS_PER_S",
                     "traffic during the rehearsal (default 500)", 1, 20000),
             CLI_FLAG(cmd_rehearse_opts, from_live, "from-live",
                      "copy the live cluster's legacy stream and consumer configurations (through connect:)"),
             CLI_FLAG(cmd_rehearse_opts, keep, "keep", "leave the sandbox running afterwards"),
             CLI_STR(cmd_rehearse_opts, dir, "dir", "DIR",
                     "the sandbox directory (default: a temporary one)"),
             CLI_STR(cmd_rehearse_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
    .exits =
        "0 passed, 2 failed (a phase failed, or ids lost or duplicated: named), 3 error (usage,\n"
        "the plan, or the rehearsal's sandbox or services could not be set up)"};

static bool status_open;

static void progress(void *ud, const char *line) {
  (void)ud;
  fprintf(stderr, "%s  %s\n", status_open ? "\r\033[K" : "", line);
  status_open = false;
}

static void status(void *ud, const char *line) {
  (void)ud;
  fprintf(stderr, "\r\033[K  %s", line);
  status_open = true;
}

static void fmt_ms(double v, char *out, size_t n) {
  if (v < 0)
    snprintf(out, n, "-");
  else
    snprintf(out, n, "%.1f ms", v);
}

static void fmt_s(double v, char *out, size_t n) {
  if (v < 0)
    snprintf(out, n, "-");
  else
    snprintf(out, n, "%.1f s", v);
}

static void print_table(const rehearse_result *r) {
  printf("\n%-6s %-8s %10s %10s %6s %6s %10s %10s  %s\n", "phase", "result", "published", "consumed", "lost",
         "dup", "gap", "rollback", "notes");
  for (size_t i = 0; i < r->nphases; i++) {
    const rehearse_phase *p = &r->phases[i];
    char gap[32], rb[32];
    fmt_ms(p->gap_ms, gap, sizeof gap);
    fmt_s(p->rollback_s, rb, sizeof rb);
    printf("%-6s %-8s %10ld %10ld %6ld %6ld %10s %10s  %s%s%s%s%s\n", p->phase,
           rehearse_outcome_name(p->outcome), p->published, p->consumed, p->lost, p->duplicated, gap, rb,
           p->node_killed ? "node " : "", p->node_killed ? p->node_killed : "",
           p->node_killed ? " killed and back" : "", p->node_killed && p->failure ? "; " : "",
           p->failure ? p->failure : "");
  }
  for (size_t i = 0; i < r->nphases; i++) {
    const rehearse_phase *p = &r->phases[i];
    if (p->nlost_ids) {
      printf("phase %s lost %ld:", p->phase, p->lost);
      for (size_t k = 0; k < p->nlost_ids; k++) printf(" %s", p->lost_ids[k]);
      printf("%s\n", (size_t)p->lost > p->nlost_ids ? " ..." : "");
    }
    if (p->ndup_ids) {
      printf("phase %s duplicated %ld:", p->phase, p->duplicated);
      for (size_t k = 0; k < p->ndup_ids; k++) printf(" %s", p->dup_ids[k]);
      printf("%s\n", (size_t)p->duplicated > p->ndup_ids ? " ..." : "");
    }
  }
  char took[32];
  gg_format_duration(r->elapsed, took, sizeof took);
  printf(
      "total: %ld published, %ld consumed, %ld lost, %ld duplicated (%ld refused by ingest) in %s on "
      "nats-server %s\n",
      r->published, r->consumed, r->lost, r->duplicated, r->refused, took, r->nats_version);
}

int cmd_rehearse(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  cmd_rehearse_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  plan *p = NULL;
  if ((rc = jcli_load_plan(a.args[0], &p, NULL)) >= 0) return rc;
  journal *j = NULL;
  if ((rc = jcli_open_journal(p, a.args[0], opt.journal, JOURNAL_OPEN_CREATE, false, &j)) >= 0) {
    plan_free(p);
    return rc;
  }
  rehearse_opts o = {.soak = opt.soak > 0 ? opt.soak : REHEARSE_DEFAULT_SOAK,
                     .rate = opt.rate,
                     .from_live = opt.from_live,
                     .keep = opt.keep,
                     .dir = opt.dir,
                     .progress = progress,
                     .status = isatty(STDERR_FILENO) ? status : NULL};
  rehearse_result r;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = rehearse_run(p, a.args[0], &o, &r, &err);
  if (status_open) fprintf(stderr, "\r\033[K");
  if (st != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  print_table(&r);
  if (rehearse_journal(j, p, &r, o.soak, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  if (r.passed) {
    printf("rehearsal passed: journaled for plan %.12s (rehearsal.passed{phase=...} == 1)\n", p->hash);
    rc = CLI_EXIT_OK;
  } else {
    for (size_t i = 0; i < r.nphases; i++)
      if (r.phases[i].outcome == REHEARSE_FAILED)
        fprintf(stderr, "gonogo: rehearse: phase %s failed: %s\n", r.phases[i].phase,
                r.phases[i].failure ? r.phases[i].failure : "?");
    if (r.lost || r.duplicated)
      fprintf(stderr, "gonogo: rehearse: %ld lost, %ld duplicated (ids above)\n", r.lost, r.duplicated);
    rc = CLI_EXIT_NOGO;
  }
out:
  rehearse_result_release(&r);
  journal_close(j);
  plan_free(p);
  return rc;
}
