/* gonogo report PLAN [--format md|html|json] [-o FILE]: the risk assessment's checklist filled in
 * from the plan and the journal, for people after the fact and for auditors (src/report). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "report/report.h"

/* The options of `gonogo report`, each bound to its option in the table below. */
typedef struct {
  const char *format;
  const char *output;
  const char *journal;
} cmd_report_opts;

static const cli_spec spec = {
    .verb = "report",
    .args = "PLAN",
    .summary = "the filled-in go/no-go checklist from the plan and the journal (md, html or json)",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_report_opts, format, "format", "md|html|json", "the output format (default md)"),
             CLI_STR(cmd_report_opts, output, "output", "FILE",
                     "write the report to FILE instead of stdout (also -o FILE)"),
             CLI_STR(cmd_report_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
};

int cmd_report(int argc, char **argv) {
  /* The option table knows long names only: accept -o as --output. */
  char **args_v = calloc((size_t)argc + 1, sizeof *args_v);
  if (!args_v) return cli_fail(CLI_EXIT_FAIL, "out of memory");
  for (int i = 0; i < argc; i++) args_v[i] = strcmp(argv[i], "-o") == 0 ? (char *)"--output" : argv[i];
  cmd_report_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, args_v, &opt, &args);
  plan *p = NULL;
  journal *j = NULL;
  json_t *doc = NULL;
  gg_buf out;
  gg_buf_init(&out, 0);
  if (rc >= 0) goto out;
  const char *format = opt.format ? opt.format : "md";
  if (strcmp(format, "md") != 0 && strcmp(format, "html") != 0 && strcmp(format, "json") != 0) {
    rc = cli_fail(CLI_EXIT_USAGE, "unknown --format '%s': use md, html or json", format);
    goto out;
  }
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) goto out;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_READONLY, true, &j);
  if (rc >= 0) goto out;
  gg_error err;
  gg_error_clear(&err);
  report_opts opts = {
      .plan_path = args.args[0], .now = gg_clock_now(), .with_points = strcmp(format, "html") == 0};
  gg_status st = report_gather(p, j, &opts, &doc, &err);
  if (st == GG_OK) {
    if (strcmp(format, "html") == 0)
      st = report_render_html(doc, &out, &err);
    else if (strcmp(format, "json") == 0)
      st = report_render_json(doc, &out, &err);
    else
      st = report_render_md(doc, &out, &err);
  }
  if (st != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  const char *file = opt.output;
  if (file) {
    FILE *f = fopen(file, "w");
    if (!f) {
      rc = cli_fail(CLI_EXIT_FAIL, "cannot open '%s' for writing", file);
      goto out;
    }
    size_t len = strlen(gg_buf_str(&out));
    bool ok = fwrite(gg_buf_str(&out), 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
      rc = cli_fail(CLI_EXIT_FAIL, "cannot write '%s'", file);
      goto out;
    }
  } else {
    fputs(gg_buf_str(&out), stdout);
  }
  rc = CLI_EXIT_OK;
out:
  gg_buf_release(&out);
  json_decref(doc);
  journal_close(j);
  plan_free(p);
  free(args_v);
  return rc;
}
