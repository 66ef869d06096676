/* gonogo plan PLAN --phase N [--prepare] [--json]: what `run` would change against the live cluster. */
#include <stdio.h>
#include <stdlib.h>

#include "act/act.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"

/* The options of `gonogo plan`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  bool prepare;
  bool json;
} cmd_plan_opts;

static const cli_spec spec = {
    .verb = "plan",
    .args = "PLAN",
    .summary =
        "Observe the live cluster and show what `gonogo run` would change for a phase, like an\n"
        "infrastructure tool's plan: + create, ~ update (field diffs), > move, - delete, = nothing to\n"
        "do, ? observes only, ! cannot be done (drift or refusal). Nothing is changed.",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_plan_opts, phase, "phase", "N", "the phase (required)"),
             CLI_FLAG(cmd_plan_opts, prepare, "prepare", "only the phase's prepare actions"),
             CLI_FLAG(cmd_plan_opts, json, "json", "the same lines and counts as JSON on stdout")},
    .exits = "0 every action can be done, 2 some action cannot be done (NO-GO), 3 error"};

/* What a sign means, as JSON names it. */
static const char *sign_name(char s) {
  switch (s) {
    case '+':
      return "create";
    case '~':
      return "update";
    case '-':
      return "delete";
    case '>':
      return "move";
    case '=':
      return "unchanged";
    case '?':
      return "observe";
    default:
      return "blocked";
  }
}

/* `plan --json`: {"phase", "name", "prepare", "lines": [{"sign", "change", "text", "diff"}],
 * "changes", "unchanged", "blocked"}: the facts the human view prints. */
static void print_json(const plan_phase *ph, bool prepare, const act_plan_line *lines, size_t n,
                       size_t changes, size_t blocked) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *diff = json_array();
    for (size_t k = 0; k < lines[i].ndiff; k++) json_array_append_new(diff, json_string(lines[i].diff[k]));
    char sign[2] = {lines[i].sign, 0};
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:s, s:o}", "sign", sign, "change", sign_name(lines[i].sign), "text",
                       lines[i].text ? lines[i].text : "", "diff", diff));
  }
  json_t *o = json_pack("{s:s, s:s, s:b, s:o, s:I, s:I, s:I}", "phase", ph->id, "name", ph->name, "prepare",
                        prepare, "lines", arr, "changes", (json_int_t)changes, "unchanged",
                        (json_int_t)(n - changes - blocked), "blocked", (json_int_t)blocked);
  char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
  if (text) printf("%s\n", text);
  free(text);
  json_decref(o);
}

int cmd_plan(int argc, char **argv) {
  cmd_plan_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  const char *phase = opt.phase;
  if (!phase) return cli_fail(CLI_EXIT_USAGE, "plan: --phase N is required");
  plan *p = NULL;
  if ((rc = jcli_load_plan(a.args[0], &p, NULL)) >= 0) return rc;
  const plan_phase *ph = jcli_find_phase(p, phase);
  if (!ph) {
    plan_free(p);
    return CLI_EXIT_USAGE;
  }
  gg_error err;
  gg_error_clear(&err);
  act_plan_line *lines = NULL;
  size_t n = 0;
  if (act_plan_phase(p, phase, opt.prepare, &lines, &n, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    plan_free(p);
    return rc;
  }
  size_t changes = 0, blocked = 0;
  for (size_t i = 0; i < n; i++) {
    char s = lines[i].sign;
    if (s == '+' || s == '-' || s == '~' || s == '>') changes++;
    if (s == '!') blocked++;
  }
  if (opt.json) {
    print_json(ph, opt.prepare, lines, n, changes, blocked);
    act_plan_lines_free(lines, n);
    plan_free(p);
    return blocked ? CLI_EXIT_NOGO : CLI_EXIT_OK;
  }
  bool color = cli_color(stdout);
  printf("Phase %s — %s\n\n", ph->id, ph->name);
  for (size_t i = 0; i < n; i++) {
    char s = lines[i].sign;
    const char *c = !color                 ? ""
                    : s == '+'             ? "\033[32m"
                    : s == '-' || s == '!' ? "\033[31m"
                    : s == '~' || s == '>' ? "\033[33m"
                                           : "";
    printf("  %s%c %s%s\n", c, s, lines[i].text, color ? "\033[0m" : "");
    for (size_t k = 0; k < lines[i].ndiff; k++) printf("      %s\n", lines[i].diff[k]);
  }
  printf("\n%zu to change, %zu already as planned or observe-only, %zu cannot be done\n", changes,
         n - changes - blocked, blocked);
  act_plan_lines_free(lines, n);
  plan_free(p);
  return blocked ? CLI_EXIT_NOGO : CLI_EXIT_OK;
}
