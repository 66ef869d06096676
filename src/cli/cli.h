/*
 * cli.h: the shared shell of every `gonogo <verb>`.
 *
 * Each verb lives in cmd_<verb>.c as `int cmd_<verb>(int argc, char **argv)` and returns
 * the process exit code. Its options are declared once in a cli_spec table that binds each
 * option to a typed field of the verb's own options struct (CLI_STR, CLI_FLAG, ...); parsing,
 * `--help` and the usage line are generated from that table so they cannot disagree, and the
 * verb reads its options as struct fields, so a misspelt option name does not compile.
 * Errors are printed once, as `gonogo: <what failed>: <why>`.
 */
#ifndef GG_CLI_H
#define GG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

/* Exit codes, the same meaning in every verb (DESIGN §10): 0 GO or done, 1 DEFER (not yet: wait
 * and ask again), 2 NO-GO (the answer is no: a phase must not go, a rule fires, a chain is
 * broken, an action cannot be done), 3 an error (the command line, the plan, or something failed;
 * stderr names it). USAGE and FAIL are both 3: the names say at the call site which kind it is. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_DEFER = 1,
  CLI_EXIT_NOGO = 2,
  CLI_EXIT_ERROR = 3,
  CLI_EXIT_USAGE = CLI_EXIT_ERROR,
  CLI_EXIT_FAIL = CLI_EXIT_ERROR
};

/* The exit codes of a verb that has no GO/NO-GO of its own, for its help. */
#define CLI_EXITS_PLAIN "0 done, 3 error (usage, plan, or a failure named on stderr)"

#define CLI_MAX_OPTS 24
#define CLI_MAX_ARGS 8
#define CLI_MAX_LIST 16

/* The value of a repeatable option: every occurrence, in command-line order. */
typedef struct {
  const char *v[CLI_MAX_LIST];
  int n;
} cli_list;

typedef enum {
  CLI_T_STR,      /* const char *: the value as given (it points into argv) */
  CLI_T_FLAG,     /* bool: set to true when given */
  CLI_T_INT,      /* int: a whole number from lo to hi, else a usage error */
  CLI_T_DURATION, /* double: a positive duration in seconds ("90s", "15m", bare seconds) */
  CLI_T_LIST,     /* cli_list: repeatable, each occurrence appended */
} cli_type;

typedef struct {
  const char *name;     /* long name without dashes: "phase" */
  const char *arg_name; /* NULL for a flag; "N", "TEXT", "PATH" for an option taking a value */
  const char *help;
  cli_type type;
  size_t offset; /* where the value goes in the verb's options struct */
  int lo, hi;    /* CLI_T_INT bounds */
} cli_opt;

/* The offset of `field` in `st`, which must have type T: binding an option to a field that does
 * not exist or has another type fails to compile (no association matches the _Generic). */
#define CLI_FIELD(st, field, T) (offsetof(st, field) + 0 * sizeof(_Generic(((st *)0)->field, T : 1)))

/* Option table entries, each bound to a field of the verb's options struct `st`. */
#define CLI_STR(st, field, name, arg, help) \
  { name, arg, help, CLI_T_STR, CLI_FIELD(st, field, const char *), 0, 0 }
#define CLI_FLAG(st, field, name, help) \
  { name, NULL, help, CLI_T_FLAG, CLI_FIELD(st, field, bool), 0, 0 }
#define CLI_INT(st, field, name, arg, help, lo, hi) \
  { name, arg, help, CLI_T_INT, CLI_FIELD(st, field, int), lo, hi }
#define CLI_DURATION(st, field, name, arg, help) \
  { name, arg, help, CLI_T_DURATION, CLI_FIELD(st, field, double), 0, 0 }
#define CLI_LIST(st, field, name, arg, help) \
  { name, arg, help, CLI_T_LIST, CLI_FIELD(st, field, cli_list), 0, 0 }

typedef struct {
  const char *verb;           /* "check" or "sandbox up" */
  const char *args;           /* positional part of the usage line: "PLAN" */
  const char *summary;        /* one line */
  int min_args, max_args;     /* positional argument count bounds */
  cli_opt opts[CLI_MAX_OPTS]; /* terminated by a zeroed entry */
  const char *exits;          /* what each exit code means for this verb; NULL: CLI_EXITS_PLAIN */
} cli_spec;

/* The positional arguments (they point into argv). */
typedef struct {
  const char *args[CLI_MAX_ARGS];
  int nargs;
} cli_parsed;

/* Parse argv (argv[0] is the verb): each option given is stored, converted to its type, in the
 * field of `opts` (the verb's options struct, which the caller initialises with its defaults;
 * fields of options not given are left alone; NULL when the spec has no options). `--` ends
 * the options: everything after it is positional, also when it starts with '-'.
 * Returns -1 when the caller should go on, or an exit code to return at once: 0 after printing
 * --help, CLI_EXIT_USAGE after printing the error (and for a malformed command line the usage
 * line) to stderr. */
int cli_parse(const cli_spec *spec, int argc, char **argv, void *opts, cli_parsed *out);

/* Print the verb's usage, options and exit codes to `out`. */
void cli_usage(const cli_spec *spec, FILE *out);

/* Describe mode, for `gonogo completion` and the man page: while a sink is set, cli_parse hands
 * the verb's table to `sink` and returns 0 without parsing, so running a verb only reports its
 * options (every verb calls cli_parse before it does anything). NULL ends describe mode. */
typedef void (*cli_describe_fn)(void *ud, const cli_spec *spec);
void cli_describe(cli_describe_fn sink, void *ud);

/* The candidate nearest to `given` by edit distance, when it is close enough to be a typo (at
 * most 2 edits, fewer for short words) or `given` is a prefix of exactly it; else NULL.
 * `candidates` ends with NULL. */
const char *cli_nearest(const char *given, const char *const *candidates);

/* Print `gonogo: <message>` to stderr (printf-style) and return `code`. */
int cli_fail(int code, const char *fmt, ...) GG_PRINTF(2, 3);

/* Print `gonogo: <err message>` to stderr and return `code`. */
int cli_fail_error(int code, const gg_error *err);

/* For a verb that changes the cluster (run, rollback): -1 to go on when `yes` (--yes) or stdin is
 * a terminal (the verb asks with cli_ask later); else prints that nobody can be asked and to pass
 * --yes, naming `what` ("run phase 2"), and returns CLI_EXIT_USAGE: a pipe, cron or CI job never
 * acts on a default answer. */
int cli_require_yes(const char *verb, const char *what, bool yes);

/* Ask `question [y/N]` on stdout and read one line from stdin: true for y or yes (any case). */
bool cli_ask(const char *question);

/* Colour for human output: true only when `out` is a terminal and NO_COLOR is unset. */
bool cli_color(FILE *out);

/* The progress callback of run, rollback and resume (an act_progress_fn): each line on stderr;
 * on a terminal a wait's progress ("draining S/C: N pending, R/s, ETA T", a bound consumer's
 * "N pending (R/s consumed), S s left") redraws one line in place. */
void cli_progress(void *ud, const char *line);

#endif
