/* gonogo retro PLAN: the retrospective ("Lessons Learned (Post-Migration)"). With an entry option
 * it records one entry in the journal (what went well, what could be improved, an action item
 * with its owner and due date) or closes the retrospective (--complete, which the T+14d
 * checkpoint reads as retro.completed); without one it prints the section as the report ends
 * with it: the facts drafted from the record for the discussion, then the entries so far. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "report/report.h"

/* The options of `gonogo retro`, each bound to its option in the table below. */
typedef struct {
  const char *went_well;
  const char *improve;
  const char *action_item;
  const char *owner;
  const char *due;
  bool complete;
  const char *by;
  const char *note;
  bool json;
  const char *journal;
} cmd_retro_opts;

static const cli_spec spec = {
    .verb = "retro",
    .args = "PLAN",
    .summary =
        "the retrospective: record what went well, what to improve and action items; print the "
        "facts drafted from the record",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_retro_opts, went_well, "went-well", "TEXT", "record something that went well"),
             CLI_STR(cmd_retro_opts, improve, "improve", "TEXT", "record something that could be improved"),
             CLI_STR(cmd_retro_opts, action_item, "action-item", "TEXT",
                     "record an action item (needs --owner and --due)"),
             CLI_STR(cmd_retro_opts, owner, "owner", "NAME", "who owns the action item"),
             CLI_STR(cmd_retro_opts, due, "due", "DATE",
                     "when the action item is due (2026-12-24 or RFC 3339)"),
             CLI_FLAG(cmd_retro_opts, complete, "complete",
                      "close the retrospective (retro.completed reads 1 from then on)"),
             CLI_STR(cmd_retro_opts, by, "by", "NAME", "who records the entry"),
             CLI_STR(cmd_retro_opts, note, "note", "TEXT", "a note kept with --complete"),
             CLI_FLAG(cmd_retro_opts, json, "json", "print the retrospective as JSON (facts and entries)"),
             CLI_STR(cmd_retro_opts, journal, "journal", "PATH",
                     "the journal file (default .gonogo/<migration>.db beside the plan)")},
};

/* Print the section (or its JSON) from the report's document. */
static int print_draft(const plan *p, journal *j, const char *plan_path, bool json) {
  report_opts ro = {.plan_path = plan_path, .now = gg_clock_now(), .with_points = false};
  json_t *doc = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_buf out;
  gg_buf_init(&out, 0);
  gg_status st = report_gather(p, j, &ro, &doc, &err);
  int rc = CLI_EXIT_OK;
  if (st == GG_OK && json) {
    char *text = json_dumps(json_object_get(doc, "retro"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) printf("%s\n", text);
    free(text);
  } else if (st == GG_OK) {
    st = report_render_lessons_md(doc, &out, &err);
    if (st == GG_OK) fputs(gg_buf_str(&out), stdout);
  }
  if (st != GG_OK) rc = cli_fail_error(CLI_EXIT_FAIL, &err);
  gg_buf_release(&out);
  json_decref(doc);
  return rc;
}

/* Record the one entry the options name. */
static int record(const cmd_retro_opts *o, journal *j) {
  gg_error err;
  gg_error_clear(&err);
  long long seq = 0;
  gg_status st;
  if (o->complete) {
    st = journal_retro_complete(j, o->by, o->note, &seq, &err);
    if (st == GG_OK) printf("recorded #%lld: retrospective completed by %s\n", seq, o->by);
  } else {
    journal_retro_kind k = o->went_well ? JOURNAL_RETRO_WENT_WELL
                           : o->improve ? JOURNAL_RETRO_IMPROVE
                                        : JOURNAL_RETRO_ACTION_ITEM;
    const char *text = o->went_well ? o->went_well : o->improve ? o->improve : o->action_item;
    double due = 0;
    if (o->due && gg_time_parse(o->due, &due, &err) != GG_OK) {
      gg_error_prefix(&err, "retro: --due '%s': ", o->due);
      return cli_fail_error(CLI_EXIT_USAGE, &err);
    }
    st = journal_retro_add(j, k, text, o->owner, due, o->by, &seq, &err);
    if (st == GG_OK) printf("recorded #%lld: %s by %s: %s\n", seq, journal_retro_kind_name(k), o->by, text);
  }
  if (st != GG_OK) return cli_fail_error(st == GG_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAIL, &err);
  return CLI_EXIT_OK;
}

int cmd_retro(int argc, char **argv) {
  cmd_retro_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  int entries = (opt.went_well != NULL) + (opt.improve != NULL) + (opt.action_item != NULL) + opt.complete;
  if (entries > 1)
    return cli_fail(CLI_EXIT_USAGE,
                    "retro: give one of --went-well, --improve, --action-item or --complete at a time");
  if (entries == 1 && (!opt.by || !opt.by[0]))
    return cli_fail(CLI_EXIT_USAGE, "retro: --by NAME is required (who records the entry)");
  if (!opt.action_item && (opt.owner || opt.due))
    return cli_fail(CLI_EXIT_USAGE, "retro: --owner and --due go with --action-item");
  if (opt.note && !opt.complete) return cli_fail(CLI_EXIT_USAGE, "retro: --note goes with --complete");
  plan *p = NULL;
  journal *j = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  rc = jcli_open_journal(p, args.args[0], opt.journal, entries ? JOURNAL_OPEN_CREATE : JOURNAL_OPEN_READONLY,
                         entries == 0, &j);
  if (rc >= 0) goto out;
  rc = entries ? record(&opt, j) : print_draft(p, j, args.args[0], opt.json);
out:
  journal_close(j);
  plan_free(p);
  return rc;
}
