/* gonogo report PLAN [--format md|html|json|pdf] [-o FILE]: the risk assessment's checklist filled in
 * from the plan and the journal, for people after the fact and for auditors (src/report). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/spawn.h"
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
    .opts = {CLI_STR(cmd_report_opts, format, "format", "md|html|json|pdf",
                     "the output format (default md); pdf is the HTML page printed by headless Chromium "
                     "($GONOGO_CHROMIUM, else chromium) and needs -o FILE"),
             CLI_STR(cmd_report_opts, output, "output", "FILE",
                     "write the report to FILE instead of stdout (also -o FILE)"),
             CLI_STR(cmd_report_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
};

static bool write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  size_t len = strlen(text);
  bool ok = fwrite(text, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

/* Print the HTML report to `file` as PDF with headless Chromium: a kept tool that lays out the
 * same page the browser test checks, rather than a PDF written by hand. */
static int render_pdf(const char *html, const char *file) {
  char dir[] = "/tmp/gonogo-pdf-XXXXXX", page[64], profile[64], to[1100], url[80];
  if (!mkdtemp(dir)) return cli_fail(CLI_EXIT_FAIL, "report --format pdf: cannot make a temporary directory");
  snprintf(page, sizeof page, "%s/report.html", dir);
  snprintf(profile, sizeof profile, "--user-data-dir=%s/profile", dir);
  snprintf(url, sizeof url, "file://%s", page);
  snprintf(to, sizeof to, "--print-to-pdf=%s", file);
  const char *chromium = getenv("GONOGO_CHROMIUM") ? getenv("GONOGO_CHROMIUM") : "chromium";
  /* Chromium refuses to run as root inside its sandbox; the page is our own file with no script. */
  const char *argv[] = {chromium,
                        "--headless",
                        "--disable-gpu",
                        "--no-first-run",
                        "--no-pdf-header-footer",
                        profile,
                        to,
                        url,
                        geteuid() == 0 ? "--no-sandbox" : NULL,
                        NULL};
  int rc = CLI_EXIT_OK;
  gg_spawn_result r = {0};
  gg_error err;
  gg_error_clear(&err);
  gg_spawn_opts o = {.timeout = 120, .max_output = 4096};
  if (!write_file(page, html)) {
    rc = cli_fail(CLI_EXIT_FAIL, "report --format pdf: cannot write '%s'", page);
  } else if (unlink(file) != 0 && access(file, F_OK) == 0) {
    rc = cli_fail(CLI_EXIT_FAIL, "report --format pdf: cannot replace '%s'", file);
  } else if (gg_spawn_run(argv, &o, &r, &err) != GG_OK) {
    rc = cli_fail(CLI_EXIT_FAIL,
                  "report --format pdf: cannot run '%s' (install chromium, or set GONOGO_CHROMIUM): %s",
                  chromium, gg_error_message(&err));
  } else {
    char head[5] = "";
    FILE *f = fopen(file, "rb");
    size_t got = f ? fread(head, 1, 4, f) : 0;
    if (f) fclose(f);
    if (got != 4 || memcmp(head, "%PDF", 4) != 0) {
      char how[64];
      rc = cli_fail(CLI_EXIT_FAIL, "report --format pdf: %s did not write '%s' (%s): %s", chromium, file,
                    gg_spawn_describe(&r, how, sizeof how), r.output ? r.output : "");
    }
  }
  gg_spawn_result_release(&r);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  gg_spawn_result rr = {0};
  if (gg_spawn_run(rm, NULL, &rr, &err) == GG_OK) gg_spawn_result_release(&rr);
  return rc;
}

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
  bool pdf = strcmp(format, "pdf") == 0;
  if (strcmp(format, "md") != 0 && strcmp(format, "html") != 0 && strcmp(format, "json") != 0 && !pdf) {
    rc = cli_fail(CLI_EXIT_USAGE, "unknown --format '%s': use md, html, json or pdf", format);
    goto out;
  }
  if (pdf && !opt.output) {
    rc = cli_fail(CLI_EXIT_USAGE, "report --format pdf needs -o FILE (a PDF is not for a terminal)");
    goto out;
  }
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) goto out;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_READONLY, true, &j);
  if (rc >= 0) goto out;
  gg_error err;
  gg_error_clear(&err);
  report_opts opts = {
      .plan_path = args.args[0], .now = gg_clock_now(), .with_points = strcmp(format, "html") == 0 || pdf};
  gg_status st = report_gather(p, j, &opts, &doc, &err);
  if (st == GG_OK) {
    if (strcmp(format, "html") == 0 || pdf)
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
  if (pdf) {
    rc = render_pdf(gg_buf_str(&out), file);
    goto out;
  }
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
