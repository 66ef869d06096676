/* gonogo watch PLAN [--listen ADDR] [--once]: watch after a cutover, roll back by itself. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/act.h"
#include "base/log.h"
#include "base/units.h"
#include "cli/cli.h"
#include "cli/cluster_cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "watch/watch.h"

#define WATCH_DEFAULT_LISTEN "127.0.0.1:9180"

/* The options of `gonogo watch`, each bound to its option in the table below. */
typedef struct {
  const char *listen;
  bool once;
  bool json;
  const char *journal;
  double interval;      /* seconds; 0: not given */
  double advise_repeat; /* seconds; 0: not given */
  double retention;     /* seconds; 0: not given */
  const char *ack;
  const char *by;
  const char *note;
  const char *log_level;
} cmd_watch_opts;

static const cli_spec spec = {
    .verb = "watch",
    .args = "PLAN",
    .summary =
        "Sample what the plan's monitor rules and checkpoints need every monitor.interval, keep rule\n"
        "state like Prometheus alerting rules, roll the most recent phase back when a `rollback`\n"
        "rule fires, raise advisories, evaluate the validation checkpoints, notify the webhooks and\n"
        "serve a dashboard. Runs until SIGTERM or SIGINT; one watch per migration at a time.\n"
        "With --ack RULE --by NAME it only acknowledges an advisory (journaled) and exits.",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_watch_opts, listen, "listen", "ADDR",
                     "serve /, /api/state, /metrics and /health on ADDR (default " WATCH_DEFAULT_LISTEN
                     "; none: off)"),
             CLI_FLAG(cmd_watch_opts, once, "once",
                      "evaluate once, print the state and exit (exit 2 when a rule is firing)"),
             CLI_FLAG(cmd_watch_opts, json, "json", "with --once: the state as JSON"),
             CLI_STR(cmd_watch_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)"),
             CLI_DURATION(cmd_watch_opts, interval, "interval", "DURATION", "override monitor.interval"),
             CLI_DURATION(cmd_watch_opts, advise_repeat, "advise-repeat", "DURATION",
                          "remind of an unacknowledged advisory this often (default 15m)"),
             CLI_DURATION(cmd_watch_opts, retention, "retention", "DURATION",
                          "keep journaled samples this long (stored in the journal; default 30d)"),
             CLI_STR(cmd_watch_opts, ack, "ack", "RULE",
                     "acknowledge the advisory RULE (with --by) and exit"),
             CLI_STR(cmd_watch_opts, by, "by", "NAME", "who acknowledges (--ack)"),
             CLI_STR(cmd_watch_opts, note, "note", "TEXT", "a note with --ack"),
             CLI_STR(cmd_watch_opts, log_level, "log-level", "LEVEL", "debug, info (default), warn, error")},
    .exits =
        "0 stopped (a signal), or --once with no rule firing; 2 --once with a rule firing;\n"
        "3 error (usage, plan, journal, or the watch failed)"};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void progress(void *ud, const char *line) {
  (void)ud;
  gg_info("rollback", "step=\"%s\"", line);
}

/* `then: rollback` goes through the executor, which takes the lease for the rollback only. */
static gg_status rollback(void *ud, const plan *p, journal *j, const char *phase, const char *reason,
                          gg_error *err) {
  (void)ud;
  return act_rollback_phase(p, j, phase, reason, "gonogo watch", true, progress, NULL, err);
}

static void print_state(json_t *s) {
  printf("%s: %lld evaluations, last %s (%.0f ms)\n", json_string_value(json_object_get(s, "migration")),
         (long long)json_integer_value(json_object_get(s, "evaluations")),
         json_string_value(json_object_get(s, "last_evaluation")),
         json_real_value(json_object_get(s, "last_evaluation_seconds")) * 1000);
  size_t i;
  json_t *v;
  printf("phases:\n");
  json_array_foreach(json_object_get(s, "phases"), i, v) {
    printf("  %-4s %-12s %s\n", json_string_value(json_object_get(v, "id")),
           json_string_value(json_object_get(v, "state")), json_string_value(json_object_get(v, "name")));
  }
  printf("rules:\n");
  json_array_foreach(json_object_get(s, "rules"), i, v) {
    const char *err = json_string_value(json_object_get(v, "error"));
    bool armed = json_is_true(json_object_get(v, "armed"));
    printf("  %-8s %s  [%s]  %s%s\n", armed ? json_string_value(json_object_get(v, "state")) : "idle",
           json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "then")),
           err ? "ERROR " : "", err ? err : json_string_value(json_object_get(v, "value")));
  }
  json_t *cps = json_object_get(s, "checkpoints");
  if (json_array_size(cps)) printf("checkpoints:\n");
  json_array_foreach(cps, i, v) {
    printf("  phase %s %s due %s: %s\n", json_string_value(json_object_get(v, "phase")),
           json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "due")),
           json_string_value(json_object_get(v, "result")));
  }
}

/* One watch a migration on this host: the pid lock sits beside a journal file; for a shared
 * journal it is a file in $TMPDIR (or /tmp) named after the database (its masked URL). */
static void watch_lock_base(const journal *j, char *out, size_t n) {
  if (!journal_is_shared(j)) {
    snprintf(out, n, "%s", journal_path(j));
    return;
  }
  const char *tmp = getenv("TMPDIR");
  int w = snprintf(out, n, "%s/gonogo-", tmp && tmp[0] ? tmp : "/tmp");
  if (w < 0 || (size_t)w >= n) return;
  size_t o = (size_t)w;
  for (const char *c = journal_path(j); *c && o + 1 < n; c++)
    out[o++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ? *c : '_';
  out[o] = '\0';
}

int cmd_watch(int argc, char **argv) {
  cmd_watch_opts opt = {0};
  cli_parsed a;
  int rc = cli_parse(&spec, argc, argv, &opt, &a);
  if (rc >= 0) return rc;
  gg_error err;
  gg_error_clear(&err);
  const char *lvl = opt.log_level;
  if (lvl) {
    gg_log_level l;
    if (gg_log_parse_level(lvl, &l, &err) != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
    gg_log_set_level(l);
  }
  const char *listen = opt.listen ? opt.listen : WATCH_DEFAULT_LISTEN;
  if (strcmp(listen, "none") == 0 || strcmp(listen, "off") == 0 || opt.once) listen = NULL;
  watch_opts o = {
      .listen = listen, .interval = opt.interval, .advise_repeat = opt.advise_repeat, .rollback = rollback};
  const char *ack = opt.ack;
  if (ack && !opt.by) return cli_fail(CLI_EXIT_USAGE, "watch: --ack needs --by NAME");

  plan *p = NULL;
  journal *j = NULL;
  watch *w = NULL;
  char lockbase[512] = "";
  int lockfd = -1;
  if ((rc = jcli_load_plan(a.args[0], &p, NULL)) >= 0) return rc;
  if ((rc = jcli_open_journal(p, a.args[0], opt.journal, JOURNAL_OPEN_CREATE, false, &j)) >= 0) goto out;
  rc = CLI_EXIT_OK;

  if (ack) {
    if (watch_acknowledge(p, j, ack, opt.by, opt.note, &err) != GG_OK) {
      rc = cli_fail_error(CLI_EXIT_USAGE, &err);
      goto out;
    }
    printf("acknowledged advisory '%s' by %s\n", ack, opt.by);
    goto out;
  }
  rc = CLI_EXIT_OK;
  if (opt.retention > 0 && journal_set_retention(j, opt.retention, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  if (p->monitor.nrules == 0 && p->nvalidation == 0) {
    rc = cli_fail(CLI_EXIT_USAGE, "watch: the plan has no monitor rules and no validation checkpoints");
    goto out;
  }
  watch_lock_base(j, lockbase, sizeof lockbase);
  if (watch_pidlock_acquire(lockbase, &lockfd, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (!(opt.once && opt.json)) {
    cli_cluster_print(stdout, p);
    fflush(stdout);
  }
  if (watch_new(p, j, &o, &w, &err) != GG_OK) {
    rc = cli_fail_error(CLI_EXIT_FAIL, &err);
    goto out;
  }
  if (opt.once) {
    if (watch_tick(w, &err) != GG_OK) {
      rc = cli_fail_error(CLI_EXIT_FAIL, &err);
      goto out;
    }
    json_t *s = watch_state(w);
    if (opt.json) {
      char *text = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
      if (text) printf("%s\n", text);
      free(text);
    } else {
      print_state(s);
    }
    json_decref(s);
    rc = watch_firing_count(w) > 0 ? CLI_EXIT_NOGO : CLI_EXIT_OK;
    goto out;
  }
  char d[32];
  double iv = o.interval > 0 ? o.interval : p->monitor.interval;
  gg_format_duration(iv, d, sizeof d);
  printf("watching %s: %zu rules, %zu checkpoints, every %s", p->migration, p->monitor.nrules, p->nvalidation,
         d);
  if (watch_port(w)) {
    const char *colon = strrchr(o.listen, ':');
    int hostlen = colon ? (int)(colon - o.listen) : (int)strlen(o.listen);
    printf("; dashboard http://%.*s:%u/", hostlen, o.listen, (unsigned)watch_port(w));
  }
  printf("\n");
  fflush(stdout);
  json_t *c = json_pack("{s:s, s:i}", "watch", "started", "pid", (int)getpid());
  if (journal_append(j, JOURNAL_NOTE, JOURNAL_NO_PHASE, "gonogo watch", c, NULL, &err) != GG_OK)
    gg_warn("journal note failed", "err=\"%s\"", gg_error_message(&err));
  json_decref(c);
  if (watch_run(w, &stop_flag, &err) != GG_OK) rc = cli_fail_error(CLI_EXIT_FAIL, &err);
  c = json_pack("{s:s, s:i}", "watch", "stopped", "pid", (int)getpid());
  gg_error_clear(&err);
  if (journal_append(j, JOURNAL_NOTE, JOURNAL_NO_PHASE, "gonogo watch", c, NULL, &err) != GG_OK)
    gg_warn("journal note failed", "err=\"%s\"", gg_error_message(&err));
  json_decref(c);
  printf("stopped\n");
out:
  watch_free(w);
  if (lockfd >= 0) watch_pidlock_release(lockbase, lockfd);
  journal_close(j);
  plan_free(p);
  return rc;
}
