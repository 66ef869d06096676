/*
 * cli.h: the shared shell of every `gonogo <verb>`.
 *
 * Each verb lives in cmd_<verb>.c as `int cmd_<verb>(int argc, char **argv)` and returns
 * the process exit code. Its options are declared once in a cli_spec table; parsing,
 * `--help` and the usage line are generated from that table so they cannot disagree.
 * Errors are printed once, as `gonogo: <what failed>: <why>`.
 */
#ifndef GG_CLI_H
#define GG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"

/* Exit codes shared by the verbs (check's are the Nagios convention, DESIGN §3). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_DEFER = 1, CLI_EXIT_NOGO = 2, CLI_EXIT_USAGE = 3, CLI_EXIT_FAIL = 4 };

#define CLI_MAX_OPTS 24
#define CLI_MAX_ARGS 8

typedef struct {
  const char *name;     /* long name without dashes: "phase" */
  const char *arg_name; /* NULL for a flag; "N", "TEXT", "PATH" for an option taking a value */
  const char *help;
} cli_opt;

typedef struct {
  const char *verb;           /* "check" or "sandbox up" */
  const char *args;           /* positional part of the usage line: "PLAN" */
  const char *summary;        /* one line */
  int min_args, max_args;     /* positional argument count bounds */
  cli_opt opts[CLI_MAX_OPTS]; /* terminated by a zeroed entry */
} cli_spec;

typedef struct {
  const cli_spec *spec;
  const char *values[CLI_MAX_OPTS]; /* option value, or "" for a set flag, or NULL */
  const char *args[CLI_MAX_ARGS];
  int nargs;
} cli_parsed;

/* Parse argv (argv[0] is the verb). Returns -1 when the caller should go on, or an exit
 * code to return at once: 0 after printing --help, CLI_EXIT_USAGE after printing the
 * error and the usage line to stderr. */
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_parsed *out);

/* The value of option `name` (NULL when not given; "" for a flag that was given). */
const char *cli_get(const cli_parsed *p, const char *name);
bool cli_flag(const cli_parsed *p, const char *name);

/* Print the verb's usage and options to `out`. */
void cli_usage(const cli_spec *spec, FILE *out);

/* Print `gonogo: <message>` to stderr (printf-style) and return `code`. */
int cli_fail(int code, const char *fmt, ...) GG_PRINTF(2, 3);

/* Print `gonogo: <err message>` to stderr and return `code`. */
int cli_fail_error(int code, const gg_error *err);

/* Colour for human output: true only when `out` is a terminal and NO_COLOR is unset. */
bool cli_color(FILE *out);

#endif
