#include "cli/cli.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/units.h"

void cli_usage(const cli_spec *spec, FILE *out) {
  fprintf(out, "usage: gonogo %s%s%s%s\n", spec->verb, spec->args ? " " : "", spec->args ? spec->args : "",
          spec->opts[0].name ? " [options]" : "");
  if (spec->summary) fprintf(out, "\n%s\n", spec->summary);
  if (spec->opts[0].name) {
    fprintf(out, "\noptions:\n");
    for (int i = 0; i < CLI_MAX_OPTS && spec->opts[i].name; i++) {
      const cli_opt *o = &spec->opts[i];
      char left[64];
      snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg_name ? " " : "",
               o->arg_name ? o->arg_name : "");
      /* Continuation lines of a long help line up under its first. */
      const char *h = o->help ? o->help : "";
      fprintf(out, "  %-24s ", left);
      for (; *h; h++) {
        fputc(*h, out);
        if (*h == '\n') fprintf(out, "%27s", "");
      }
      fputc('\n', out);
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
  }
  fprintf(out, "\nexit: %s\n", spec->exits ? spec->exits : CLI_EXITS_PLAIN);
}

static cli_describe_fn describe_sink;
static void *describe_ud;

void cli_describe(cli_describe_fn sink, void *ud) {
  describe_sink = sink;
  describe_ud = ud;
}

/* Edit distance counting a swap of two neighbours as one edit (the optimal string alignment
 * distance: "jsno" is one edit from "json"), capped: anything beyond `cap` is cap + 1. */
static size_t edit_distance(const char *a, const char *b, size_t cap) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return cap + 1;
  if ((la > lb ? la - lb : lb - la) > cap) return cap + 1;
  size_t d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

const char *cli_nearest(const char *given, const char *const *candidates) {
  size_t len = strlen(given);
  /* One edit in a word of up to four letters already makes another word; allow two beyond. */
  size_t cap = len <= 4 ? 1 : 2;
  const char *best = NULL, *prefixed = NULL;
  size_t best_d = cap + 1;
  int nprefixed = 0;
  for (size_t i = 0; candidates[i]; i++) {
    size_t d = edit_distance(given, candidates[i], cap);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
    if (len >= 2 && strncmp(candidates[i], given, len) == 0) {
      prefixed = candidates[i];
      nprefixed++;
    }
  }
  if (best) return best;
  return nprefixed == 1 ? prefixed : NULL;
}

static int find_opt(const cli_spec *spec, const char *name, size_t len) {
  for (int i = 0; i < CLI_MAX_OPTS && spec->opts[i].name; i++)
    if (strlen(spec->opts[i].name) == len && strncmp(spec->opts[i].name, name, len) == 0) return i;
  return -1;
}

static int usage_error(const cli_spec *spec, const char *what, const char *arg) {
  fprintf(stderr, "gonogo %s: %s%s%s%s\n", spec->verb, what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
  cli_usage(spec, stderr);
  return CLI_EXIT_USAGE;
}

/* An option the table does not know: name the nearest one it does, then the usage. */
static int unknown_option(const cli_spec *spec, const char *arg, size_t len) {
  const char *names[CLI_MAX_OPTS + 2];
  size_t n = 0;
  for (int i = 0; i < CLI_MAX_OPTS && spec->opts[i].name; i++) names[n++] = spec->opts[i].name;
  names[n++] = "help";
  names[n] = NULL;
  char given[64];
  const char *bare = arg;
  while (*bare == '-') bare++;
  size_t blen = len < sizeof given ? len : sizeof given - 1;
  snprintf(given, sizeof given, "%.*s", (int)blen, bare);
  const char *near = given[0] ? cli_nearest(given, names) : NULL;
  if (!near) return usage_error(spec, "unknown option", arg);
  fprintf(stderr, "gonogo %s: unknown option '%s' (did you mean --%s?)\n", spec->verb, arg, near);
  cli_usage(spec, stderr);
  return CLI_EXIT_USAGE;
}

/* Convert `value` to the type of option `o` and store it in its field of `opts`. Returns -1, or
 * CLI_EXIT_USAGE after printing why the value is not one. */
static int store(const cli_spec *spec, const cli_opt *o, const char *value, void *opts) {
  char *field = (char *)opts + o->offset;
  switch (o->type) {
    case CLI_T_STR:
      *(const char **)(void *)field = value;
      return -1;
    case CLI_T_FLAG:
      *(bool *)(void *)field = true;
      return -1;
    case CLI_T_INT: {
      char *end = NULL;
      errno = 0;
      long v = strtol(value, &end, 10);
      if (errno || end == value || *end || v < o->lo || v > o->hi)
        return cli_fail(CLI_EXIT_USAGE, "--%s '%s': want a whole number from %d to %d", o->name, value, o->lo,
                        o->hi);
      *(int *)(void *)field = (int)v;
      return -1;
    }
    case CLI_T_DURATION: {
      gg_error err;
      gg_error_clear(&err);
      double v = 0;
      if (gg_parse_duration(value, GG_UNITS_BARE_SECONDS, &v, &err) != GG_OK || !(v > 0))
        return cli_fail(CLI_EXIT_USAGE, "%s: --%s: '%s' is not a positive duration", spec->verb, o->name,
                        value);
      *(double *)(void *)field = v;
      return -1;
    }
    case CLI_T_LIST: {
      cli_list *l = (cli_list *)(void *)field;
      if (l->n >= CLI_MAX_LIST)
        return cli_fail(CLI_EXIT_USAGE, "--%s: more than %d values", o->name, CLI_MAX_LIST);
      l->v[l->n++] = value;
      return -1;
    }
  }
  return -1;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, void *opts, cli_parsed *out) {
  memset(out, 0, sizeof *out);
  if (describe_sink) {
    describe_sink(describe_ud, spec);
    return CLI_EXIT_OK;
  }
  assert(opts || !spec->opts[0].name);
  /* Values are stored once the whole line is known to be well formed, so `--help` anywhere
   * still shows the help and a missing argument is reported before a bad value. */
  const char *values[CLI_MAX_OPTS] = {0};
  cli_list lists[CLI_MAX_OPTS];
  int nlists[CLI_MAX_OPTS] = {0};
  bool only_args = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_args && strcmp(a, "--") == 0) {
      only_args = true;
      continue;
    }
    if (!only_args && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      cli_usage(spec, stdout);
      return CLI_EXIT_OK;
    }
    if (!only_args && a[0] == '-' && a[1] == '-' && a[2]) {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      int k = find_opt(spec, name, len);
      if (k < 0) return unknown_option(spec, a, len);
      const char *value = "";
      if (spec->opts[k].arg_name) {
        if (eq) {
          value = eq + 1;
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          return usage_error(spec, "a value is needed for option", a);
        }
      } else if (eq) {
        return usage_error(spec, "no value is taken by option", a);
      }
      if (spec->opts[k].type == CLI_T_LIST) {
        if (nlists[k] >= CLI_MAX_LIST) return usage_error(spec, "too many values for option", a);
        lists[k].v[nlists[k]++] = value;
      }
      values[k] = value;
      continue;
    }
    if (!only_args && a[0] == '-' && a[1]) return unknown_option(spec, a, strlen(a));
    if (out->nargs >= spec->max_args || out->nargs >= CLI_MAX_ARGS)
      return usage_error(spec, "unexpected argument", a);
    out->args[out->nargs++] = a;
  }
  if (out->nargs < spec->min_args) return usage_error(spec, "missing arguments", NULL);
  for (int k = 0; k < CLI_MAX_OPTS && spec->opts[k].name; k++) {
    if (!values[k]) continue;
    int n = spec->opts[k].type == CLI_T_LIST ? nlists[k] : 1;
    for (int m = 0; m < n; m++) {
      int rc =
          store(spec, &spec->opts[k], spec->opts[k].type == CLI_T_LIST ? lists[k].v[m] : values[k], opts);
      if (rc >= 0) return rc;
    }
  }
  return -1;
}

int cli_fail(int code, const char *fmt, ...) {
  fputs("gonogo: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}

int cli_fail_error(int code, const gg_error *err) {
  return cli_fail(code, "%s", gg_error_message(err));
}

int cli_require_yes(const char *verb, const char *what, bool yes) {
  if (yes || isatty(STDIN_FILENO) == 1) return -1;
  return cli_fail(CLI_EXIT_USAGE,
                  "%s: stdin is not a terminal, so nobody can confirm: refusing to %s without --yes "
                  "(pass --yes to proceed without asking)",
                  verb, what);
}

bool cli_ask(const char *question) {
  printf("%s [y/N] ", question);
  fflush(stdout);
  char line[32];
  if (!fgets(line, sizeof line, stdin)) return false;
  line[strcspn(line, "\r\n")] = 0;
  return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

bool cli_color(FILE *out) {
  const char *nc = getenv("NO_COLOR");
  if (nc && *nc) return false;
  return isatty(fileno(out)) == 1;
}

/* A line that reports how far a wait has got, redrawn in place on a terminal. */
static bool is_progress_line(const char *line) {
  return strncmp(line, "draining ", 9) == 0 ||
         (strncmp(line, "consumer ", 9) == 0 && strstr(line, " pending (") && strstr(line, " s left"));
}

void cli_progress(void *ud, const char *line) {
  (void)ud;
  static bool open_line;
  if (is_progress_line(line) && isatty(STDERR_FILENO)) {
    fprintf(stderr, "\r\033[K  %s", line);
    open_line = true;
    return;
  }
  fprintf(stderr, "%s  %s\n", open_line ? "\n" : "", line);
  open_line = false;
}
