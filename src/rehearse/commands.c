/*
 * commands.c: the plan's `rehearsal:` section: its services' commands started in place of the
 * reference services, the traffic's target and where the consumed ids are counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "gate/env.h"
#include "rehearse/internal.h"

gg_status rehearse_targets(reh *h, gg_error *err) {
  const plan_rehearsal *rh = &h->p->rehearsal;
  if (rh->publish_url)
    snprintf(h->publish_url, sizeof h->publish_url, "%s", rh->publish_url);
  else
    snprintf(h->publish_url, sizeof h->publish_url, "http://127.0.0.1:%d/v1/hrv", h->ingest_port);
  snprintf(h->count_url, sizeof h->count_url, "%s", h->pg_url);
  if (!rh->consumed_db) return GG_OK;
  for (size_t i = 0; i < h->p->connect.ndatabases; i++)
    if (strcmp(h->p->connect.databases[i].name, rh->consumed_db) == 0) {
      const char *url = gg_secret_reveal(&h->p->connect.databases[i].url);
      snprintf(h->count_url, sizeof h->count_url, "%s", url ? url : "");
      return GG_OK;
    }
  return gg_error_set(err, GG_ERR_PLAN, "rehearsal.consumed: database '%s' is not in connect.databases",
                      rh->consumed_db);
}

typedef struct {
  reh *h;
  const plan_rehearsal_service *s;
} ready_ctx;

/* A rehearse_ready_fn for `ready: EXPR`: the expression evaluated on the sandbox is true. */
static bool expr_ready(void *ud, char *why, size_t n) {
  ready_ctx *c = ud;
  gate_env *env = NULL;
  gg_error err;
  gg_error_clear(&err);
  bool ok = false;
  if (gate_env_new(c->h->p, NULL, &env, &err) == GG_OK) {
    expr_value v;
    expr_value_init(&v);
    if (gate_eval(env, c->s->ready.ast, gg_clock_now(), 2, &v, &err) == GG_OK) {
      ok = v.kind == EXPR_VAL_BOOL && v.truth;
      snprintf(why, n, "'%s' is %s", c->s->ready.text, ok ? "true" : "not true");
    } else {
      snprintf(why, n, "'%s': %s", c->s->ready.text, gg_error_message(&err));
    }
    expr_value_release(&v);
  } else {
    snprintf(why, n, "%s", gg_error_message(&err));
  }
  gate_env_free(env);
  return ok;
}

/* "K=V" of the service's env: allocated strings in *out (NULL-terminated). */
static char **service_env(const plan_rehearsal_service *s) {
  char **out = calloc(s->nenv + 1, sizeof *out);
  for (size_t i = 0; out && i < s->nenv; i++) {
    size_t len = strlen(s->env_names[i]) + strlen(s->env_values[i]) + 2;
    if (!(out[i] = malloc(len))) {
      rehearse_env_free_environ(out);
      return NULL;
    }
    snprintf(out[i], len, "%s=%s", s->env_names[i], s->env_values[i]);
  }
  return out;
}

gg_status rehearse_commands_start(reh *h, gg_error *err) {
  const plan_rehearsal *rh = &h->p->rehearsal;
  h->cmds = calloc(rh->nservices, sizeof *h->cmds);
  if (!h->cmds) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  gg_status st = GG_OK;
  for (size_t i = 0; st == GG_OK && i < rh->nservices; i++) {
    const plan_rehearsal_service *s = &rh->services[i];
    char **extra = service_env(s);
    if (!extra) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    ready_ctx rc = {h, s};
    st = rehearse_command_start(&h->cmds[i], s->name, s->run, h->p->workdir, h->envp,
                                (const char *const *)extra, h->r->dir,
                                s->ready_url ? rehearse_url_ready : expr_ready,
                                s->ready_url ? (void *)s->ready_url : (void *)&rc, s->ready_timeout, err);
    rehearse_env_free_environ(extra);
    h->ncmds = i + 1;
    if (st != GG_OK)
      return gg_error_prefix(err, "rehearsal service '%s' (line %d of the plan): ", s->name, s->pos.line);
    rehearse_say(h, "services: '%s' ready (its log: %s)", s->name, h->cmds[i].log);
  }
  return st;
}

gg_status rehearse_commands_check(reh *h, gg_error *err) {
  for (size_t i = 0; i < h->ncmds; i++)
    if (!rehearse_service_alive(&h->cmds[i]))
      return gg_error_set(err, GG_ERR_STATE,
                          "rehearsal service '%s' exited during the rehearsal (exit %d); its log: %s",
                          h->cmds[i].name, h->cmds[i].exit_code, h->cmds[i].log);
  return GG_OK;
}

void rehearse_commands_stop(reh *h) {
  for (size_t i = h->ncmds; i > 0; i--) rehearse_service_stop(&h->cmds[i - 1]);
  free(h->cmds);
  h->cmds = NULL;
  h->ncmds = 0;
}
