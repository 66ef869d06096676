/* gonogo journal log|verify PLAN: read the migration's record, or check its hash chain;
 * gonogo journal copy --from A --to B: move a record between backends (a file, a database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "journal/sign.h"

/* The options of `gonogo journal log`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  const char *kind;
  const char *since;
  bool json;
  const char *journal;
} cmd_journal_log_opts;

static const cli_spec spec_log = {
    .verb = "journal log",
    .args = "PLAN",
    .summary = "the journal's events in order (filtered by phase, kind or time)",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_journal_log_opts, phase, "phase", "N", "only events of this phase"),
             CLI_STR(cmd_journal_log_opts, kind, "kind", "KIND",
                     "only events of this kind (evaluation, approval, phase_completed, ...)"),
             CLI_STR(cmd_journal_log_opts, since, "since", "TIME",
                     "only events at or after this time (RFC 3339)"),
             CLI_FLAG(cmd_journal_log_opts, json, "json", "one JSON object per line"),
             CLI_STR(cmd_journal_log_opts, journal, "journal", "PATH|URL",
                     "the journal: a file, sqlite:PATH or postgres://... (default: the plan's journal:, else"
                     " .gonogo/<migration>.db beside the plan)")},
};

/* The options of `gonogo journal verify`, each bound to its option in the table below. */
typedef struct {
  bool json;
  const char *expect_head;
  const char *journal;
} cmd_journal_verify_opts;

static const cli_spec spec_verify = {
    .verb = "journal verify",
    .args = "PLAN",
    .summary =
        "check the hash chain, its head anchors and every signature: exit 0 when intact, 2 naming the\n"
        "first bad row",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_FLAG(cmd_journal_verify_opts, json, "json", "the verdict as JSON"),
             CLI_STR(
                 cmd_journal_verify_opts, expect_head, "expect-head", "SEQ:HASH",
                 "a head kept elsewhere (a report, a ticket): the chain must still hold that row and hash"),
             CLI_STR(cmd_journal_verify_opts, journal, "journal", "PATH|URL",
                     "the journal: a file, sqlite:PATH or postgres://... (default: the plan's journal:, else"
                     " .gonogo/<migration>.db beside the plan)")},
    .exits = "0 intact, 2 broken (NO-GO: naming the first bad row), 3 error (usage, unreadable)"};

/* The options of `gonogo journal copy`, each bound to its option in the table below. */
typedef struct {
  const char *from;
  const char *to;
  bool json;
} cmd_journal_copy_opts;

static const cli_spec spec_copy = {
    .verb = "journal copy",
    .args = "",
    .summary = "copy a journal between backends (file <-> PostgreSQL), verifying the chain on both sides",
    .min_args = 0,
    .max_args = 0,
    .opts = {CLI_STR(cmd_journal_copy_opts, from, "from", "PATH|URL",
                     "the journal to copy: a file (or sqlite:PATH) or postgres://..."),
             CLI_STR(cmd_journal_copy_opts, to, "to", "PATH|URL",
                     "where to copy it; must hold no journal yet"),
             CLI_FLAG(cmd_journal_copy_opts, json, "json", "the outcome as JSON")},
};

static int run_copy(int argc, char **argv) {
  cmd_journal_copy_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec_copy, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  if (!opt.from || !opt.to)
    return cli_fail(CLI_EXIT_USAGE, "journal copy: --from and --to are both required");
  gg_error err;
  gg_error_clear(&err);
  journal *from = NULL, *to = NULL;
  gg_status st = journal_open(opt.from, JOURNAL_OPEN_READONLY, &from, &err);
  if (st == GG_OK) st = journal_open(opt.to, JOURNAL_OPEN_CREATE, &to, &err);
  if (st != GG_OK) {
    journal_close(from);
    return cli_fail_error(
        st == GG_ERR_CONNECT || st == GG_ERR_NOT_FOUND || st == GG_ERR_UNSUPPORTED || st == GG_ERR_INVALID
            ? CLI_EXIT_USAGE
            : CLI_EXIT_FAIL,
        &err);
  }
  journal_copy_result r;
  st = journal_copy(from, to, &r, &err);
  if (st == GG_OK && opt.json) {
    char head[JOURNAL_HASH_HEX + 24] = "";
    if (r.dest.head_seq) snprintf(head, sizeof head, "%lld:%s", r.dest.head_seq, r.dest.head_hash);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "from", journal_path(from), "to", journal_path(to),
                          "events", (json_int_t)r.events, "samples", (json_int_t)r.samples, "head", head);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text) printf("%s\n", text);
    free(text);
    json_decref(o);
  } else if (st == GG_OK) {
    printf("copied %lld event%s and %lld sample%s from '%s' to '%s'; both verify, head %lld:%s\n", r.events,
           r.events == 1 ? "" : "s", r.samples, r.samples == 1 ? "" : "s", journal_path(from),
           journal_path(to), r.dest.head_seq, r.dest.head_seq ? r.dest.head_hash : "(empty)");
  }
  rc = st == GG_OK ? CLI_EXIT_OK
                   : cli_fail_error(st == GG_ERR_TAMPERED ? CLI_EXIT_NOGO
                                    : st == GG_ERR_EXISTS ? CLI_EXIT_USAGE
                                                          : CLI_EXIT_FAIL,
                                    &err);
  journal_close(from);
  journal_close(to);
  return rc;
}

static json_t *event_json(const journal_event *ev) {
  char when[40];
  json_t *content = journal_event_content(ev);
  return json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s, s:s, s:o, s:s, s:s}", "seq", (json_int_t)ev->seq, "time",
                   gg_time_format(ev->time, when, sizeof when), "kind", ev->kind, "phase", ev->phase, "actor",
                   ev->actor, "os_user", ev->os_user, "host", ev->host, "content",
                   content ? content : json_null(), "prev_hash", ev->prev_hash, "hash", ev->hash);
}

static int run_log(int argc, char **argv) {
  cmd_journal_log_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec_log, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  journal_filter f = journal_filter_all();
  gg_error err;
  gg_error_clear(&err);
  const char *since = opt.since, *kind = opt.kind;
  if (since && gg_time_parse(since, &f.since, &err) != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
  journal_kind k;
  if (kind && journal_kind_parse(kind, &k, &err) != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
  f.kind = kind;
  if (opt.phase) {
    f.any_phase = false;
    f.phase = opt.phase;
  }
  bool as_json = opt.json;
  plan *p = NULL;
  journal *j = NULL;
  journal_event *ev = NULL;
  size_t n = 0;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  if (f.phase && !jcli_find_phase(p, f.phase)) {
    rc = CLI_EXIT_USAGE;
    goto out;
  }
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_READONLY, true, &j);
  if (rc >= 0) goto out;
  rc = CLI_EXIT_OK;
  if (!j) {
    if (!as_json) printf("no journal yet for '%s'\n", p->migration);
    goto out;
  }
  if (journal_events(j, &f, &ev, &n, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    if (as_json) {
      json_t *o = event_json(&ev[i]);
      char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
      if (text) printf("%s\n", text);
      free(text);
      json_decref(o);
      continue;
    }
    char when[40], phase[48] = "";
    if (ev[i].phase) snprintf(phase, sizeof phase, " phase %s", ev[i].phase);
    printf("#%-5lld %s%s %s by %s (%s@%s) %s\n", ev[i].seq, gg_time_format(ev[i].time, when, sizeof when),
           phase, ev[i].kind, ev[i].actor, ev[i].os_user, ev[i].host, ev[i].content);
  }
out:
  journal_events_free(ev, n);
  journal_close(j);
  plan_free(p);
  return rc;
}

static int run_verify(int argc, char **argv) {
  cmd_journal_verify_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec_verify, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  plan *p = NULL;
  journal *j = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_READONLY, false, &j);
  if (rc >= 0) goto out;
  journal_verify_result r;
  gg_error err;
  gg_error_clear(&err);
  long long expect_seq = 0;
  char expect_hash[JOURNAL_HASH_HEX] = "";
  if (opt.expect_head && journal_anchor_parse(opt.expect_head, &expect_seq, expect_hash, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_USAGE, &err);
    goto out;
  }
  journal_sig_summary sigs;
  if (journal_verify(j, &r, &err) != GG_OK ||
      (expect_seq && journal_verify_anchor(j, expect_seq, expect_hash, "--expect-head", &r, &err) != GG_OK) ||
      journal_verify_signatures(j, p->migration, &sigs, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  /* An intact chain can still hold a forged signature: re-chaining hides an edit from the hashes,
   * not from the signer's key. */
  if (r.ok && sigs.bad_seq) {
    r.ok = false;
    r.bad_seq = sigs.bad_seq;
    snprintf(r.what, sizeof r.what, "%s", sigs.what);
  }
  char head[JOURNAL_HASH_HEX + 32] = "";
  if (r.head_seq) snprintf(head, sizeof head, "%lld:%s", r.head_seq, r.head_hash);
  if (opt.json) {
    json_t *o =
        json_pack("{s:s, s:b, s:I, s:I, s:s, s:s, s:s, s:b, s:I}", "journal", journal_path(j), "ok", r.ok,
                  "rows", (json_int_t)r.rows, "bad_seq", (json_int_t)r.bad_seq, "what", r.what, "head_hash",
                  r.head_hash, "head", head, "anchored", r.anchored, "signed", (json_int_t)sigs.checked);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text) printf("%s\n", text);
    free(text);
    json_decref(o);
  } else if (r.ok) {
    printf("journal '%s' intact: %lld event%s, head %s%s%s; %lld signed event%s checked\n", journal_path(j),
           r.rows, r.rows == 1 ? "" : "s", r.rows ? head : "(empty)",
           r.anchored ? ", matches its anchor" : "", expect_seq ? " and --expect-head" : "", sigs.checked,
           sigs.checked == 1 ? "" : "s");
  }
  if (!r.ok)
    fprintf(stderr, "gonogo: journal '%s' is damaged at row %lld: %s\n", journal_path(j), r.bad_seq, r.what);
  rc = r.ok ? CLI_EXIT_OK : CLI_EXIT_NOGO;
out:
  journal_close(j);
  plan_free(p);
  return rc;
}

int cmd_journal(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "log") == 0) return run_log(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "verify") == 0) return run_verify(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "copy") == 0) return run_copy(argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    cli_usage(&spec_log, stdout);
    printf("\n");
    cli_usage(&spec_verify, stdout);
    printf("\n");
    cli_usage(&spec_copy, stdout);
    return CLI_EXIT_OK;
  }
  fprintf(stderr, "gonogo journal: expected 'log', 'verify' or 'copy'%s%s%s\n", argc >= 2 ? ", got '" : "",
          argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
  cli_usage(&spec_log, stderr);
  cli_usage(&spec_verify, stderr);
  cli_usage(&spec_copy, stderr);
  return CLI_EXIT_USAGE;
}
