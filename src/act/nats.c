/*
 * nats.c: the connection the actions use, from the plan's connect.nats settings, and the
 * translation of nats.c errors into gg_status with what was being done.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/internal.h"
#include "base/secret.h"

bool act_outcome_unknown(natsStatus s, jsErrCode jerr) {
  return s != NATS_OK && jerr == 0 && s != NATS_NO_RESPONDERS && s != NATS_NOT_FOUND;
}

gg_status act_nats_error(gg_error *err, natsStatus s, jsErrCode jerr, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  const char *last = nats_GetLastError(NULL);
  if (jerr)
    return gg_error_set(err, s == NATS_TIMEOUT ? GG_ERR_TIMEOUT : GG_ERR_NATS, "%s: %s (jetstream error %d)",
                        what, last && *last ? last : natsStatus_GetText(s), (int)jerr);
  return gg_error_set(err, s == NATS_TIMEOUT ? GG_ERR_TIMEOUT : GG_ERR_NATS, "%s: %s", what,
                      last && *last ? last : natsStatus_GetText(s));
}

gg_status act_connect(act_ctx *ctx, gg_error *err) {
  if (ctx->js) return GG_OK;
  const plan_nats *n = &ctx->p->connect.nats;
  if (n->nservers == 0) return gg_error_set(err, GG_ERR_INVALID, "plan has no connect.nats.servers");
  natsOptions *opts = NULL;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, (const char **)n->servers, (int)n->nservers);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
  if (s == NATS_OK) s = natsOptions_SetName(opts, "gonogo-act");
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, 60);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK && n->user)
    s = natsOptions_SetUserInfo(opts, n->user,
                                gg_secret_present(&n->password) ? gg_secret_reveal(&n->password) : "");
  if (s == NATS_OK && gg_secret_present(&n->token))
    s = natsOptions_SetToken(opts, gg_secret_reveal(&n->token));
  if (s == NATS_OK && n->credentials) s = natsOptions_SetUserCredentialsFromFiles(opts, n->credentials, NULL);
  if (s == NATS_OK) s = natsConnection_Connect(&ctx->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "connect to %s", n->servers[0]);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = (int64_t)(ctx->p->connect.nats.api_timeout > 0 ? ctx->p->connect.nats.api_timeout * 1000 : 10000);
  s = natsConnection_JetStream(&ctx->js, ctx->nc, &jo);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "jetstream context on %s", n->servers[0]);
  return GG_OK;
}

gg_status act_env(act_ctx *ctx, gate_env **out, gg_error *err) {
  if (!ctx->env) {
    gg_status st = gate_env_new(ctx->p, ctx->j, &ctx->env, err);
    if (st != GG_OK) return st;
  }
  *out = ctx->env;
  return GG_OK;
}

void act_ctx_release(act_ctx *ctx) {
  jsCtx_Destroy(ctx->js);
  natsConnection_Destroy(ctx->nc);
  gate_env_free(ctx->env);
  ctx->js = NULL;
  ctx->nc = NULL;
  ctx->env = NULL;
}

void act_say(act_ctx *ctx, const char *fmt, ...) {
  if (!ctx->progress) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  ctx->progress(ctx->ud, line);
}

void act_change(act_ctx *ctx, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (!ctx->sum) { /* a rollback has no summary: what it changed is said as it happens */
    if (ctx->progress) ctx->progress(ctx->ud, line);
    return;
  }
  char *dup = strdup(line);
  if (dup) (void)act_lines_add(&ctx->sum->changes, &ctx->sum->nchanges, dup);
}
