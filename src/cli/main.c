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
  const char *const *subverbs; /* a verb whose first argument picks one of several tables */
} verb_entry;

static const char *const journal_subverbs[] = {"log", "verify", NULL};

static const verb_entry verbs[] = {
    {"sandbox", cmd_sandbox, "a local JetStream cluster + PostgreSQL (+ Prometheus) on loopback", NULL},
    {"validate", cmd_validate, "check a plan file; every error with file:line:col", NULL},
    {"show", cmd_show, "the plan as a readable checklist, no live values", NULL},
    {"eval", cmd_eval, "evaluate an expression live and print the vector", NULL},
    {"check", cmd_check, "decide a phase GO / NO-GO / DEFER from live facts (exit 0/1/2; --nagios)", NULL},
    {"plan", cmd_plan, "what run would change against the live cluster; nothing changes", NULL},
    {"run", cmd_run, "run a phase on GO: actions journaled, rolled back on failure", NULL},
    {"rollback", cmd_rollback, "undo what a phase's latest run did", NULL},
    {"rehearse", cmd_rehearse, "prove the plan on its own local sandbox under traffic, rollbacks included",
     NULL},
    {"resume", cmd_resume, "finish or roll back what a killed run left in flight", NULL},
    {"watch", cmd_watch, "watch after a cutover: rules, automatic rollback, checkpoints, dashboard", NULL},
    {"approve", cmd_approve, "record a role's approval of a phase", NULL},
    {"attest", cmd_attest, "record a person's attestation of an item", NULL},
    {"mark", cmd_mark, "record a deployment or an incident", NULL},
    {"status", cmd_status, "phases, decisions, pending humans, the lock and the next step", NULL},
    {"journal", cmd_journal, "journal log | journal verify: read or check the record", journal_subverbs},
    {"report", cmd_report, "the filled-in checklist from the plan and the journal: md, html, json or pdf",
     NULL},
    {"retro", cmd_retro, "the retrospective: went well, improve, action items; facts from the record", NULL},
    {"help", NULL, "help VERB: a verb's options and exit codes (help --all: every verb)", NULL},
    {"completion", NULL, "completion bash: a bash completion script, from the option tables", NULL},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static void usage(FILE *out) {
  fprintf(out, "usage: gonogo <command> [arguments] [--help]\n\ncommands:\n");
  for (size_t i = 0; i < NVERBS; i++) fprintf(out, "  %-11s %s\n", verbs[i].verb, verbs[i].summary);
  fprintf(out,
          "\nexit codes, the same in every command: 0 GO (or done), 1 DEFER, 2 NO-GO, 3 error;\n"
          "`check --nagios` uses them as Nagios's OK, WARNING, CRITICAL and UNKNOWN.\n"
          "`gonogo help VERB` shows what each means for that verb.\n");
}

static const verb_entry *find_verb(const char *name) {
  for (size_t i = 0; i < NVERBS; i++)
    if (verbs[i].run && strcmp(name, verbs[i].verb) == 0) return &verbs[i];
  return NULL;
}

static int unknown_verb(const char *given) {
  const char *names[NVERBS + 1];
  for (size_t i = 0; i < NVERBS; i++) names[i] = verbs[i].verb;
  names[NVERBS] = NULL;
  const char *near = cli_nearest(given, names);
  if (near)
    fprintf(stderr, "gonogo: unknown command '%s' (did you mean '%s'?)\n", given, near);
  else
    fprintf(stderr, "gonogo: unknown command '%s'\n", given);
  usage(stderr);
  return CLI_EXIT_USAGE;
}

/* Run a verb with the given argument words (argv[0] the verb). */
static int call(const verb_entry *v, const char *a1, const char *a2) {
  char *argv[] = {(char *)v->verb, (char *)a1, (char *)a2, NULL};
  int argc = a2 ? 3 : a1 ? 2 : 1;
  return v->run(argc, argv);
}

/* help VERB [SUBVERB], help --all. */
static int help(int argc, char **argv) {
  if (argc < 2) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "--all") == 0) {
    usage(stdout);
    for (size_t i = 0; i < NVERBS; i++) {
      if (!verbs[i].run) continue;
      for (size_t k = 0; verbs[i].subverbs ? verbs[i].subverbs[k] != NULL : k == 0; k++) {
        printf("\n");
        fflush(stdout);
        call(&verbs[i], verbs[i].subverbs ? verbs[i].subverbs[k] : "--help",
             verbs[i].subverbs ? "--help" : NULL);
      }
    }
    return CLI_EXIT_OK;
  }
  const verb_entry *v = find_verb(argv[1]);
  if (!v) return unknown_verb(argv[1]);
  if (v->subverbs && argc >= 3) return call(v, argv[2], "--help");
  return call(v, "--help", NULL);
}

/* One verb table (or a subverb's) as a completion entry. */
typedef struct {
  char words[96];
  char opts[1024];
} completion_entry;

typedef struct {
  completion_entry e[NVERBS * 2];
  size_t n;
} completion_set;

static void collect(void *ud, const cli_spec *spec) {
  completion_set *cs = ud;
  if (cs->n >= sizeof cs->e / sizeof cs->e[0]) return;
  completion_entry *e = &cs->e[cs->n++];
  snprintf(e->words, sizeof e->words, "%s", spec->verb);
  size_t used = 0;
  /* Positional alternatives ("up|down|kill-node N|..."): their first words complete too. */
  if (spec->args && strchr(spec->args, '|')) {
    for (const char *p = spec->args; *p;) {
      size_t len = strcspn(p, "| ");
      int w = snprintf(e->opts + used, sizeof e->opts - used, "%.*s ", (int)len, p);
      if (w < 0 || (size_t)w >= sizeof e->opts - used) break;
      used += (size_t)w;
      p += strcspn(p, "|");
      if (*p) p++;
    }
  }
  for (int i = 0; i < CLI_MAX_OPTS && spec->opts[i].name; i++) {
    int w = snprintf(e->opts + used, sizeof e->opts - used, "--%s ", spec->opts[i].name);
    if (w < 0 || (size_t)w >= sizeof e->opts - used) break;
    used += (size_t)w;
  }
  snprintf(e->opts + used, sizeof e->opts - used, "--help");
}

static int completion(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[1], "bash") != 0)
    return cli_fail(CLI_EXIT_USAGE, "completion: want 'completion bash' (the one shell supported)");
  completion_set cs;
  memset(&cs, 0, sizeof cs);
  cli_describe(collect, &cs);
  for (size_t i = 0; i < NVERBS; i++) {
    if (!verbs[i].run) continue;
    if (!verbs[i].subverbs) call(&verbs[i], NULL, NULL);
    for (size_t k = 0; verbs[i].subverbs && verbs[i].subverbs[k]; k++)
      call(&verbs[i], verbs[i].subverbs[k], NULL);
  }
  cli_describe(NULL, NULL);
  printf(
      "# bash completion for gonogo, generated by `gonogo completion bash` from its option tables.\n"
      "# Use: source <(gonogo completion bash), or save it in /etc/bash_completion.d/gonogo.\n"
      "_gonogo() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} verb=${COMP_WORDS[1]} sub=${COMP_WORDS[2]} words=\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    words='");
  for (size_t i = 0; i < NVERBS; i++) printf("%s%s", i ? " " : "", verbs[i].verb);
  printf("'\n  else\n    case \"$verb\" in\n");
  for (size_t i = 0; i < NVERBS; i++) {
    const verb_entry *v = &verbs[i];
    if (v->subverbs) {
      printf("      %s)\n        case \"$sub\" in\n", v->verb);
      for (size_t k = 0; k < cs.n; k++)
        if (strncmp(cs.e[k].words, v->verb, strlen(v->verb)) == 0 && cs.e[k].words[strlen(v->verb)] == ' ')
          printf("          %s) words='%s' ;;\n", cs.e[k].words + strlen(v->verb) + 1, cs.e[k].opts);
      printf("          *) words='");
      for (size_t k = 0; v->subverbs[k]; k++) printf("%s%s", k ? " " : "", v->subverbs[k]);
      printf("' ;;\n        esac ;;\n");
      continue;
    }
    for (size_t k = 0; k < cs.n; k++)
      if (strcmp(cs.e[k].words, v->verb) == 0) printf("      %s) words='%s' ;;\n", v->verb, cs.e[k].opts);
  }
  printf("      help) words='");
  for (size_t i = 0; i < NVERBS; i++)
    if (verbs[i].run) printf("%s%s", i ? " " : "", verbs[i].verb);
  printf(
      " --all' ;;\n      completion) words='bash' ;;\n    esac\n  fi\n"
      "  case \"$cur\" in\n"
      "    -*|'') COMPREPLY=($(compgen -W \"$words\" -- \"$cur\")) ;;\n"
      "    *) COMPREPLY=($(compgen -W \"$words\" -- \"$cur\") $(compgen -f -- \"$cur\")) ;;\n"
      "  esac\n"
      "}\n"
      "complete -o filenames -F _gonogo gonogo\n");
  return CLI_EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("gonogo %s\n", GONOGO_VERSION);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "help") == 0) return help(argc - 1, argv + 1);
  if (strcmp(argv[1], "completion") == 0) return completion(argc - 1, argv + 1);
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_global_init(&err) != GG_OK) return cli_fail_error(CLI_EXIT_FAIL, &err);
  const verb_entry *v = find_verb(argv[1]);
  if (v) return v->run(argc - 1, argv + 1);
  return unknown_verb(argv[1]);
}
