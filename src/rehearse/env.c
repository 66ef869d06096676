/*
 * env.c: the sandbox's settings in place of the caller's. The plan is loaded again with a lookup
 * that answers the sandbox's variables (NATS_URL, PG_URL, ...) and the rehearsal's own
 * (INGEST_URL, NORMALIZE_URL), and never the caller's connection variables, so a rehearsal
 * cannot reach the cluster the caller's shell points at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rehearse/internal.h"

extern char **environ;

/* The caller's variables that name live systems: never read, never passed on. */
static bool connection_var(const char *name) {
  return strncmp(name, "NATS_", 5) == 0 || strcmp(name, "PG_URL") == 0 ||
         strcmp(name, "PROMETHEUS_URL") == 0 || strcmp(name, "ALERTMANAGER_URL") == 0 ||
         strcmp(name, "PROMETHEUS_TARGETS_DIR") == 0 || strcmp(name, "GONOGO_SANDBOX_DIR") == 0 ||
         strcmp(name, "INGEST_URL") == 0 || strcmp(name, "NORMALIZE_URL") == 0 ||
         strncmp(name, "GONOGO_SANDBOX_", 15) == 0;
}

gg_status rehearse_env_set(rehearse_env *e, const char *name, const char *value, gg_error *err) {
  for (size_t i = 0; i < e->n; i++)
    if (strcmp(e->names[i], name) == 0) {
      char *v = value ? strdup(value) : NULL;
      if (value && !v) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      free(e->values[i]);
      e->values[i] = v;
      return GG_OK;
    }
  if (e->n >= REHEARSE_ENV_MAX)
    return gg_error_set(err, GG_ERR_TOO_BIG, "rehearsal environment: more than %d variables",
                        REHEARSE_ENV_MAX);
  e->names[e->n] = strdup(name);
  e->values[e->n] = value ? strdup(value) : NULL;
  if (!e->names[e->n] || (value && !e->values[e->n])) {
    free(e->names[e->n]);
    free(e->values[e->n]);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  e->n++;
  return GG_OK;
}

/* One line "export NAME=VALUE" (VALUE possibly in single quotes) or "unset NAME". */
static gg_status parse_line(rehearse_env *e, char *line, gg_error *err) {
  if (strncmp(line, "unset ", 6) == 0) return rehearse_env_set(e, line + 6, NULL, err);
  if (strncmp(line, "export ", 7) != 0) return GG_OK;
  char *name = line + 7, *eq = strchr(name, '=');
  if (!eq) return gg_error_set(err, GG_ERR_INVALID, "sandbox env: malformed line 'export %s'", name);
  *eq = '\0';
  char *v = eq + 1;
  size_t len = strlen(v);
  if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
    v[len - 1] = '\0';
    v++;
  }
  return rehearse_env_set(e, name, v, err);
}

gg_status rehearse_env_parse(rehearse_env *e, const char *text, gg_error *err) {
  char *copy = strdup(text ? text : "");
  if (!copy) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  gg_status st = GG_OK;
  for (char *p = copy; p && *p && st == GG_OK;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = '\0';
    st = parse_line(e, p, err);
    p = nl ? nl + 1 : NULL;
  }
  free(copy);
  return st;
}

const char *rehearse_env_lookup(const char *name, void *ctx) {
  const rehearse_env *e = ctx;
  for (size_t i = 0; i < e->n; i++)
    if (strcmp(e->names[i], name) == 0) return e->values[i];
  if (connection_var(name)) return NULL;
  return getenv(name);
}

char **rehearse_env_environ(const rehearse_env *e, const char *const *extra) {
  size_t n = 0, nextra = 0;
  while (environ && environ[n]) n++;
  while (extra && extra[nextra]) nextra++;
  char **out = calloc(n + e->n + nextra + 1, sizeof *out);
  if (!out) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *eq = strchr(environ[i], '=');
    if (!eq) continue;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(eq - environ[i]), environ[i]);
    if (connection_var(name)) continue;
    bool replaced = false;
    for (size_t x = 0; x < e->n && !replaced; x++) replaced = strcmp(e->names[x], name) == 0;
    if (!replaced && !(out[k++] = strdup(environ[i]))) goto fail;
  }
  for (size_t i = 0; i < e->n; i++) {
    if (!e->values[i]) continue;
    size_t len = strlen(e->names[i]) + strlen(e->values[i]) + 2;
    if (!(out[k] = malloc(len))) goto fail;
    snprintf(out[k++], len, "%s=%s", e->names[i], e->values[i]);
  }
  for (size_t i = 0; i < nextra; i++)
    if (!(out[k++] = strdup(extra[i]))) goto fail;
  return out;
fail:
  rehearse_env_free_environ(out);
  return NULL;
}

void rehearse_env_free_environ(char **envp) {
  for (size_t i = 0; envp && envp[i]; i++) free(envp[i]);
  free(envp);
}

void rehearse_env_release(rehearse_env *e) {
  for (size_t i = 0; i < e->n; i++) {
    free(e->names[i]);
    free(e->values[i]);
  }
  memset(e, 0, sizeof *e);
}
