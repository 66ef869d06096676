/* gonogo sandbox up|down|status|env|kill-node N|start-node N|pg-stop|pg-start */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/seed.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "sandbox/sandbox.h"

/* The options of `gonogo sandbox`, each bound to its option in the table below. */
typedef struct {
  const char *dir;
  int nodes;   /* default 3 */
  int timeout; /* seconds; 0: sandbox's default */
  bool secure;
  bool quiet;
} cmd_sandbox_opts;

static const cli_spec spec = {
    .verb = "sandbox",
    .args = "up|down|status|env|kill-node N|start-node N|pg-stop|pg-start|seed PLAN",
    .summary =
        "A disposable local JetStream cluster (N nats-server processes), PostgreSQL with the database\n"
        "'athlete', and Prometheus and Alertmanager when installed, all on loopback. `up` waits until\n"
        "everything is healthy and writes DIR/env (source it); `down` stops exactly what `up` started.\n"
        "kill-node/start-node stop one nats-server hard and bring it back with its data; pg-stop/pg-start\n"
        "do the same for PostgreSQL (for fault tests). `seed PLAN` creates the streams and consumers the\n"
        "plan marks `existing: true` (the legacy topology) where missing, for a rehearsal; with --dir\n"
        "on that sandbox's addresses (its env file), whatever the shell's NATS_URL says.\n"
        "`up --secure` is the same with TLS on clients and routes, an account with a user/password user and\n"
        "an nkey user, the system account, a token node (t1), an operator-mode node with a .creds user\n"
        "(c1), and PostgreSQL with TLS and a password; DIR/env holds the secrets (mode 0600; `up` prints\n"
        "them masked) and no monitoring URL.",
    .min_args = 1,
    .max_args = 2,
    .opts = {CLI_STR(cmd_sandbox_opts, dir, "dir", "DIR",
                     "sandbox directory (default .sandbox, or $GONOGO_SANDBOX_DIR)"),
             CLI_INT(cmd_sandbox_opts, nodes, "nodes", "N", "nats-server processes for `up` (default 3)", 1,
                     SANDBOX_MAX_NODES),
             CLI_INT(cmd_sandbox_opts, timeout, "timeout", "SECONDS",
                     "how long `up`/`start-node` wait for health (default 30)", 1, 3600),
             CLI_FLAG(cmd_sandbox_opts, secure, "secure",
                      "`up`: TLS, users, nkey, token node, system account; PostgreSQL with TLS"),
             CLI_FLAG(cmd_sandbox_opts, quiet, "quiet", "no progress lines")},
};

static void print_progress(void *ud, const char *line) {
  (void)ud;
  fprintf(stderr, "sandbox: %s\n", line);
}

static int parse_int(const char *text, const char *what, int lo, int hi, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < lo || v > hi)
    return cli_fail(CLI_EXIT_USAGE, "%s '%s': want a whole number from %d to %d", what, text, lo, hi);
  *out = (int)v;
  return CLI_EXIT_OK;
}

static int print_env(const sandbox_opts *o) {
  gg_error err;
  gg_error_clear(&err);
  char *text = NULL;
  if (sandbox_env_text(o, &text, &err) != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
  fputs(text, stdout);
  free(text);
  return CLI_EXIT_OK;
}

static int print_status(const sandbox_opts *o) {
  gg_error err;
  gg_error_clear(&err);
  sandbox_status st;
  if (sandbox_get_status(o, &st, &err) != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
  bool color = cli_color(stdout);
  int bad = 0;
  printf("%-14s %-8s %-9s %-22s %s\n", "PROCESS", "PID", "STATE", "ADDRESS", "HEALTH");
  for (int i = 0; i < st.nprocs; i++) {
    const sandbox_proc *p = &st.procs[i];
    const char *state = p->running ? "running" : "stopped";
    bool good = p->running && p->healthy;
    if (!good) bad++;
    printf("%-14s %-8d %s%-9s%s %-22s %s\n", p->name, p->pid, color ? (good ? "\033[32m" : "\033[31m") : "",
           state, color ? "\033[0m" : "", p->address, p->health);
  }
  printf("meta leader: %s\n", st.meta_leader ? st.leader : "none");
  printf("env: %s\n", st.env_path);
  return bad == 0 && st.meta_leader ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Set this process's environment to the sandbox's (its env file's export and unset lines), so a
 * plan's ${NATS_URL}, ${PG_URL}, ... name that sandbox and not whatever the shell exported. */
static int use_sandbox_env(const sandbox_opts *o) {
  char *text = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (sandbox_env_text(o, &text, &err) != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "unset ", 6) == 0) {
      unsetenv(line + 6);
      continue;
    }
    if (strncmp(line, "export ", 7) != 0) continue;
    char *eq = strchr(line + 7, '=');
    if (!eq) continue;
    *eq = 0;
    char *v = eq + 1;
    size_t len = strlen(v);
    if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
      v[len - 1] = 0;
      v++;
    }
    setenv(line + 7, v, 1);
  }
  free(text);
  return -1;
}

/* sandbox seed PLAN: the plan's pre-existing topology; with --dir, on that sandbox (its env
 * file's addresses), else on whatever NATS_URL the environment and the plan name. */
static int seed(const char *plan_path, const sandbox_opts *o, bool explicit_dir) {
  bool verbose = o->progress != NULL;
  int rc;
  if (explicit_dir && (rc = use_sandbox_env(o)) >= 0) return rc;
  plan *pl = NULL;
  rc = jcli_load_plan(plan_path, &pl, NULL);
  if (rc >= 0) return rc;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = act_seed_existing(pl, verbose ? print_progress : NULL, NULL, &err);
  plan_free(pl);
  return st == GG_OK ? CLI_EXIT_OK : cli_fail_error(CLI_EXIT_FAIL, &err);
}

int cmd_sandbox(int argc, char **argv) {
  cmd_sandbox_opts opt = {.nodes = 3};
  cli_parsed p;
  int rc = cli_parse(&spec, argc, argv, &opt, &p);
  if (rc >= 0) return rc;
  sandbox_opts o = {.dir = opt.dir, .nodes = opt.nodes, .timeout = opt.timeout};
  if (!o.dir) o.dir = getenv("GONOGO_SANDBOX_DIR");
  if (!o.dir || !*o.dir) o.dir = ".sandbox";
  if (!opt.quiet) o.progress = print_progress;
  o.secure = opt.secure;

  const char *action = p.args[0];
  bool wants_node = strcmp(action, "kill-node") == 0 || strcmp(action, "start-node") == 0;
  bool wants_plan = strcmp(action, "seed") == 0;
  if ((wants_node || wants_plan) != (p.nargs == 2)) {
    cli_usage(&spec, stderr);
    return cli_fail(CLI_EXIT_USAGE, "sandbox %s: %s", action,
                    wants_node   ? "which node? (1-based)"
                    : wants_plan ? "which plan?"
                                 : "too many arguments");
  }
  if (wants_plan) return seed(p.args[1], &o, opt.dir != NULL);
  int node = 0;
  if (wants_node && (rc = parse_int(p.args[1], "node", 1, SANDBOX_MAX_NODES, &node)) != 0) return rc;

  gg_error err;
  gg_error_clear(&err);
  gg_status st;
  if (strcmp(action, "up") == 0) {
    bool already = false;
    st = sandbox_up(&o, &already, &err);
    if (st != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
    if (already) fprintf(stderr, "sandbox: already up in '%s', nothing to do\n", o.dir);
    o.hide_secrets = true; /* a terminal or CI log is no place for the secured sandbox's passwords */
    rc = print_env(&o);
    if (rc == CLI_EXIT_OK)
      fprintf(stderr, "sandbox: `source %s/env` to use it; `gonogo sandbox down --dir %s` to stop it\n",
              o.dir, o.dir);
    return rc;
  } else if (strcmp(action, "down") == 0) {
    st = sandbox_down(&o, &err);
  } else if (strcmp(action, "status") == 0) {
    return print_status(&o);
  } else if (strcmp(action, "env") == 0) {
    return print_env(&o);
  } else if (strcmp(action, "kill-node") == 0) {
    st = sandbox_kill_node(&o, node, &err);
  } else if (strcmp(action, "start-node") == 0) {
    st = sandbox_start_node(&o, node, &err);
  } else if (strcmp(action, "pg-stop") == 0) {
    st = sandbox_pg_stop(&o, &err);
  } else if (strcmp(action, "pg-start") == 0) {
    st = sandbox_pg_start(&o, &err);
  } else {
    cli_usage(&spec, stderr);
    return cli_fail(CLI_EXIT_USAGE, "sandbox: unknown action '%s'", action);
  }
  return st == GG_OK ? CLI_EXIT_OK : cli_fail_error(CLI_EXIT_FAIL, &err);
}
