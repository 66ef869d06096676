/*
 * nats.c: the connection the actions use, from the plan's connect.nats settings, and the
 * translation of nats.c errors into gg_status with what was being done.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/internal.h"
#include "act/peers.h"
#include "base/http.h"
#include "base/secret.h"
#include "probe/natsconn.h"

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
  /* The same options as the probes (probe/natsconn.h): servers, auth, TLS. */
  char where[512];
  gg_http_redact_url(n->servers[0], where, sizeof where);
  gate_env *env = NULL;
  gg_status st = act_env(ctx, &env, err);
  if (st != GG_OK) return st;
  natsOptions *opts = NULL;
  st = probe_nats_options(gate_env_probe_config(env), false, "gonogo-act", 5, &opts, err);
  if (st != GG_OK) return gg_error_prefix(err, "connect to %s: ", where);
  natsStatus s = natsOptions_SetMaxReconnect(opts, 60);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsConnection_Connect(&ctx->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "connect to %s", where);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = (int64_t)(ctx->p->connect.nats.api_timeout > 0 ? ctx->p->connect.nats.api_timeout * 1000 : 10000);
  s = natsConnection_JetStream(&ctx->js, ctx->nc, &jo);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "jetstream context on %s", where);
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

void act_meta_checkpoint_now(act_ctx *ctx) {
  if (!ctx->moved_subjects || !ctx->js) return;
  gg_error ce;
  gg_error_clear(&ce);
  act_say(ctx, "checkpointing the JetStream meta layer after the subject change (nats-server < 2.9.15)");
  if (act_meta_checkpoint(ctx->js, 0, &ce) != GG_OK)
    act_say(ctx, "meta checkpoint after the subject change failed: %s", gg_error_message(&ce));
  ctx->moved_subjects = false;
}

void act_ctx_release(act_ctx *ctx) {
  /* After a subject change, once the run or rollback has finished (so the checkpoint's 2.5 s
   * never delays the cutover, the carry-back or the rollback itself): make every node snapshot
   * its meta layer, so a node killed later does not replay the old subjects (peers.h). */
  act_meta_checkpoint_now(ctx);
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
