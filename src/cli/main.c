/* gonogo: executable go/no-go plans for NATS JetStream topology changes. */
#include <stdio.h>
#include <string.h>

#include "base/http.h"
#include "cli/cli.h"
#include "cli/commands.h"

typedef struct {
  const char *verb;
  int (*run)(int argc, char **argv);
  const char *summary;
} verb_entry;

static const verb_entry verbs[] = {
    {"sandbox", cmd_sandbox, "a local JetStream cluster + PostgreSQL (+ Prometheus) on loopback"},
    {"validate", cmd_validate, "check a plan file; every error with file:line:col"},
    {"show", cmd_show, "the plan as a readable checklist, no live values"},
    {"eval", cmd_eval, "evaluate an expression live and print the vector"},
    {"check", cmd_check, "decide a phase GO / NO-GO / DEFER from live facts (exit 0/1/2)"},
    {"plan", cmd_plan, "what run would change against the live cluster; nothing changes"},
    {"run", cmd_run, "run a phase on GO: actions journaled, rolled back on failure"},
    {"rollback", cmd_rollback, "undo what a phase's latest run did"},
    {"rehearse", cmd_rehearse, "prove the plan on its own local sandbox under traffic, rollbacks included"},
    {"resume", cmd_resume, "finish or roll back what a killed run left in flight"},
    {"watch", cmd_watch, "watch after a cutover: rules, automatic rollback, checkpoints, dashboard"},
    {"approve", cmd_approve, "record a role's approval of a phase"},
    {"attest", cmd_attest, "record a person's attestation of an item"},
    {"mark", cmd_mark, "record a deployment or an incident"},
    {"status", cmd_status, "phases, decisions, pending humans, the lock and the next step"},
    {"journal", cmd_journal, "journal log | journal verify: read or check the record"},
    {"report", cmd_report, "the filled-in checklist from the plan and the journal: md, html or json"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: gonogo <command> [arguments] [--help]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf(out, "  %-10s %s\n", verbs[i].verb, verbs[i].summary);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("gonogo %s\n", GONOGO_VERSION);
    return CLI_EXIT_OK;
  }
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_global_init(&err) != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[1], verbs[i].verb) == 0) return verbs[i].run(argc - 1, argv + 1);
  fprintf(stderr, "gonogo: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CLI_EXIT_USAGE;
}
