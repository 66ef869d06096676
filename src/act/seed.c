/*
 * seed.c: act_seed_existing (see seed.h).
 */
#include "act/seed.h"

#include <stdlib.h>
#include <string.h>

#include "act/internal.h"

static gg_status seed_stream(act_ctx *ctx, const plan_stream *ps, gg_error *err) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, ctx->js, ps->name, NULL, &jerr);
  if (s == NATS_OK) {
    char **diff = NULL;
    size_t nd = 0;
    int k = act_stream_diff(ps, si->Config, false, &diff, &nd);
    if (k > 0)
      act_say(ctx, "! stream %s exists and differs from the plan (left as it is): %s", ps->name, diff[0]);
    else
      act_say(ctx, "= stream %s exists", ps->name);
    for (size_t i = 0; i < nd; i++) free(diff[i]);
    free(diff);
    jsStreamInfo_Destroy(si);
    return GG_OK;
  }
  if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
    return act_nats_error(err, s, jerr, "look up stream '%s'", ps->name);
  jsStreamConfig cfg;
  act_stream_config_from_plan(ps, (const char **)ps->subjects, (int)ps->nsubjects, &cfg);
  s = js_AddStream(&si, ctx->js, &cfg, NULL, &jerr);
  if (s != NATS_OK) return act_nats_error(err, s, jerr, "create stream '%s'", ps->name);
  jsStreamInfo_Destroy(si);
  act_say(ctx, "+ created stream %s (R%lld, %zu subject%s)", ps->name, (long long)cfg.Replicas, ps->nsubjects,
          ps->nsubjects == 1 ? "" : "s");
  return GG_OK;
}

static gg_status seed_consumer(act_ctx *ctx, const plan_consumer *pc, gg_error *err) {
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetConsumerInfo(&ci, ctx->js, pc->stream, pc->name, NULL, &jerr);
  if (s == NATS_OK) {
    act_say(ctx, "= consumer %s/%s exists", pc->stream, pc->name);
    jsConsumerInfo_Destroy(ci);
    return GG_OK;
  }
  if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr)
    return act_nats_error(err, s, jerr, "look up consumer '%s/%s'", pc->stream, pc->name);
  jsConsumerConfig cfg;
  act_consumer_config_from_plan(pc, &cfg);
  s = js_AddConsumer(&ci, ctx->js, pc->stream, &cfg, NULL, &jerr);
  if (s != NATS_OK) return act_nats_error(err, s, jerr, "create consumer '%s/%s'", pc->stream, pc->name);
  jsConsumerInfo_Destroy(ci);
  act_say(ctx, "+ created consumer %s/%s", pc->stream, pc->name);
  return GG_OK;
}

gg_status act_seed_existing(const plan *p, act_progress_fn progress, void *ud, gg_error *err) {
  act_ctx ctx = {.p = p, .actor = "gonogo sandbox seed", .progress = progress, .ud = ud};
  gg_status st = act_connect(&ctx, err);
  size_t made = 0;
  for (size_t i = 0; st == GG_OK && i < p->topology.nstreams; i++)
    if (p->topology.streams[i].existing) {
      st = seed_stream(&ctx, &p->topology.streams[i], err);
      made++;
    }
  for (size_t i = 0; st == GG_OK && i < p->topology.nconsumers; i++)
    if (p->topology.consumers[i].existing) {
      st = seed_consumer(&ctx, &p->topology.consumers[i], err);
      made++;
    }
  if (st == GG_OK && made == 0)
    act_say(&ctx, "the plan marks no stream or consumer `existing: true`: nothing to seed");
  act_ctx_release(&ctx);
  return st;
}
