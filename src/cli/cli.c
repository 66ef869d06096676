#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_usage(const cli_spec *spec, FILE *out) {
  fprintf(out, "usage: gonogo %s%s%s%s\n", spec->verb, spec->args ? " " : "", spec->args ? spec->args : "",
          spec->opts[0].name ? " [options]" : "");
  if (spec->summary) fprintf(out, "\n%s\n", spec->summary);
  if (!spec->opts[0].name) return;
  fprintf(out, "\noptions:\n");
  for (int i = 0; i < CLI_MAX_OPTS && spec->opts[i].name; i++) {
    const cli_opt *o = &spec->opts[i];
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
    fprintf(out, "  %-24s %s\n", left, o->help ? o->help : "");
  }
  fprintf(out, "  %-24s %s\n", "--help", "show this help");
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

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_parsed *out) {
  memset(out, 0, sizeof *out);
  out->spec = spec;
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
      if (k < 0) return usage_error(spec, "unknown option", a);
      if (spec->opts[k].arg_name) {
        if (eq) {
          out->values[k] = eq + 1;
        } else if (i + 1 < argc) {
          out->values[k] = argv[++i];
        } else {
          return usage_error(spec, "a value is needed for option", a);
        }
      } else {
        if (eq) return usage_error(spec, "no value is taken by option", a);
        out->values[k] = "";
      }
      continue;
    }
    if (!only_args && a[0] == '-' && a[1]) return usage_error(spec, "unknown option", a);
    if (out->nargs >= spec->max_args || out->nargs >= CLI_MAX_ARGS)
      return usage_error(spec, "unexpected argument", a);
    out->args[out->nargs++] = a;
  }
  if (out->nargs < spec->min_args) return usage_error(spec, "missing arguments", NULL);
  return -1;
}

const char *cli_get(const cli_parsed *p, const char *name) {
  int k = find_opt(p->spec, name, strlen(name));
  return k < 0 ? NULL : p->values[k];
}

bool cli_flag(const cli_parsed *p, const char *name) {
  return cli_get(p, name) != NULL;
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

bool cli_color(FILE *out) {
  const char *nc = getenv("NO_COLOR");
  if (nc && *nc) return false;
  return isatty(fileno(out)) == 1;
}
