/*
 * plan.c: `gonogo plan` — what running a phase would change, observed against the live cluster
 * like an infrastructure tool's plan: + create, ~ update (with field diffs), > move, - delete,
 * = nothing to do, ? observes only, ! cannot be done (drift, refusal). Nothing is changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/internal.h"
#include "base/units.h"

void act_plan_lines_free(act_plan_line *lines, size_t n) {
  for (size_t i = 0; lines && i < n; i++) {
    free(lines[i].text);
    for (size_t k = 0; k < lines[i].ndiff; k++) free(lines[i].diff[k]);
    free(lines[i].diff);
  }
  free(lines);
}

static char *join(char **s, size_t n, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", s[i]);
  return out;
}

static gg_status sinfo(act_ctx *ctx, const char *name, jsStreamInfo **si, gg_error *err) {
  *si = NULL;
  jsErrCode je = 0;
  natsStatus s = js_GetStreamInfo(si, ctx->js, name, NULL, &je);
  if (s == NATS_NOT_FOUND) return GG_OK;
  if (s != NATS_OK) return act_nats_error(err, s, je, "stream info '%s'", name);
  return GG_OK;
}

/* create_stream, update_stream, delete_stream: what they would do to the stream now. */
static gg_status describe_stream(act_ctx *ctx, const plan_action *a, act_plan_line *line, char *buf,
                                 size_t cap, gg_error *err) {
  char subj[512];
  jsStreamInfo *si = NULL;
  gg_status st = GG_OK;
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM: {
      const plan_stream *ps = plan_find_stream(ctx->p, a->stream);
      if (!ps) return gg_error_set(err, GG_ERR_NOT_FOUND, "stream '%s' is not in the topology", a->stream);
      if ((st = sinfo(ctx, a->stream, &si, err)) != GG_OK) return st;
      join(ps->subjects, ps->nsubjects, subj, sizeof subj);
      if (si) {
        bool subjects_ok = true;
        for (int i = 0; i < si->Config->SubjectsLen; i++)
          if (strcmp(si->Config->Subjects[i], ps->name) != 0 &&
              !act_has_subject((const char *const *)ps->subjects, (int)ps->nsubjects,
                               si->Config->Subjects[i]))
            subjects_ok = false;
        if (act_stream_diff(ps, si->Config, subjects_ok, &line->diff, &line->ndiff) < 0) st = GG_ERR_NOMEM;
        line->sign = line->ndiff ? '!' : '=';
        snprintf(buf, cap, "stream %s exists%s", a->stream,
                 line->ndiff ? " and differs from the plan (drift)" : " as planned");
      } else {
        const char **s = NULL;
        int n = 0;
        bool ph = false;
        if ((st = act_initial_subjects(ctx->p, ps, &s, &n, &ph, err)) != GG_OK) return st;
        free(s);
        line->sign = '+';
        snprintf(buf, cap, "create stream %s (R%d, %s, %s%s)", a->stream, ps->replicas > 0 ? ps->replicas : 1,
                 ps->storage ? ps->storage : "file", subj, ph ? " after cutover" : "");
      }
      break;
    }
    case PLAN_ACT_UPDATE_STREAM: {
      const plan_stream *ps = a->update ? a->update : plan_find_stream(ctx->p, a->stream);
      if (!ps) return gg_error_set(err, GG_ERR_NOT_FOUND, "stream '%s' is not in the topology", a->stream);
      if ((st = sinfo(ctx, a->stream, &si, err)) != GG_OK) return st;
      if (!si) {
        line->sign = '!';
        snprintf(buf, cap, "update stream %s: it does not exist", a->stream);
      } else {
        if (act_stream_diff(ps, si->Config, false, &line->diff, &line->ndiff) < 0) st = GG_ERR_NOMEM;
        line->sign = line->ndiff ? '~' : '=';
        snprintf(buf, cap, "%s stream %s", line->ndiff ? "update" : "no change to", a->stream);
      }
      break;
    }
    case PLAN_ACT_DELETE_STREAM:
      if ((st = sinfo(ctx, a->stream, &si, err)) != GG_OK) return st;
      if (!si) {
        line->sign = '=';
        snprintf(buf, cap, "stream %s already absent", a->stream);
      } else if (si->State.Msgs > 0 && !a->allow_data_loss) {
        line->sign = '!';
        snprintf(buf, cap, "delete stream %s: REFUSED, it holds %llu messages (allow_data_loss not set)",
                 a->stream, (unsigned long long)si->State.Msgs);
      } else {
        line->sign = '-';
        snprintf(buf, cap, "delete stream %s (%llu messages)", a->stream, (unsigned long long)si->State.Msgs);
      }
      break;
    default:
      break;
  }
  jsStreamInfo_Destroy(si);
  return st;
}

/* create_consumer, drain: what they would do to the consumer now. */
static gg_status describe_consumer(act_ctx *ctx, const plan_action *a, act_plan_line *line, char *buf,
                                   size_t cap, gg_error *err) {
  gg_status st = GG_OK;
  switch (a->kind) {
    case PLAN_ACT_CREATE_CONSUMER: {
      jsConsumerInfo *ci = NULL;
      jsErrCode je = 0;
      natsStatus s = js_GetConsumerInfo(&ci, ctx->js, a->stream, a->consumer, NULL, &je);
      const plan_consumer *pc = plan_find_consumer(ctx->p, a->stream, a->consumer);
      if (s != NATS_OK && s != NATS_NOT_FOUND && je != JSStreamNotFoundErr && je != JSConsumerNotFoundErr)
        return act_nats_error(err, s, je, "consumer info '%s/%s'", a->stream, a->consumer);
      if (ci && pc) {
        if (act_consumer_diff(pc, ci->Config, &line->diff, &line->ndiff) < 0) st = GG_ERR_NOMEM;
        line->sign = line->ndiff ? '!' : '=';
        snprintf(buf, cap, "consumer %s/%s exists%s", a->stream, a->consumer,
                 line->ndiff ? " and differs from the plan (drift)" : ": bind, not recreated");
      } else {
        line->sign = '+';
        snprintf(buf, cap, "create consumer %s/%s", a->stream, a->consumer);
      }
      jsConsumerInfo_Destroy(ci);
      break;
    }
    case PLAN_ACT_DRAIN: {
      jsConsumerInfo *ci = NULL;
      jsErrCode je = 0;
      natsStatus s = js_GetConsumerInfo(&ci, ctx->js, a->stream, a->consumer, NULL, &je);
      line->sign = '?';
      if (s == NATS_OK)
        snprintf(buf, cap, "drain %s/%s until pending <= %.0f (now %llu pending, %lld unacknowledged)",
                 a->stream, a->consumer, a->until >= 0 ? a->until : 0, (unsigned long long)ci->NumPending,
                 (long long)ci->NumAckPending);
      else
        snprintf(buf, cap, "drain %s/%s until pending <= %.0f (consumer not found now)", a->stream,
                 a->consumer, a->until >= 0 ? a->until : 0);
      jsConsumerInfo_Destroy(ci);
      break;
    }
    default:
      break;
  }
  return st;
}

/* Whether an action of the phase before `a` creates a's KV bucket (kv_put with create: true). */
static bool bucket_made_before(act_ctx *ctx, const plan_action *a) {
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  for (int sec = 0; ph && sec < 2; sec++) {
    const plan_action *list = sec ? ph->actions : ph->prepare;
    size_t n = sec ? ph->nactions : ph->nprepare;
    for (size_t i = 0; i < n && &list[i] != a; i++)
      if (list[i].kind == PLAN_ACT_KV_PUT && list[i].create_bucket && strcmp(list[i].bucket, a->bucket) == 0)
        return true;
  }
  return false;
}

/* A shift: the share the key holds now, or why it cannot start. */
static void describe_shift(act_ctx *ctx, const plan_action *a, act_plan_line *line, char *buf, size_t n) {
  char d[512];
  plan_action_describe(a, d, sizeof d);
  kvStore *kv = NULL;
  if (js_KeyValue(&kv, ctx->js, a->bucket) != NATS_OK) {
    bool made = bucket_made_before(ctx, a);
    line->sign = made ? '~' : '!';
    snprintf(
        buf, n, "%s (kv bucket %s %s)", d, a->bucket,
        made ? "made earlier in the phase" : "does not exist: create it in prepare with kv_put create: true");
    return;
  }
  kvEntry *e = NULL;
  bool have = kvStore_Get(&e, kv, a->key) == NATS_OK && e && kvEntry_Operation(e) == kvOp_Put;
  line->sign = '~';
  snprintf(buf, n, "%s (now %s%s)", d, have ? kvEntry_ValueString(e) : "unset", have ? "%" : "");
  kvEntry_Destroy(e);
  kvStore_Destroy(kv);
}

gg_status act_describe_live(act_ctx *ctx, const plan_action *a, act_plan_line *line, gg_error *err) {
  char subj[512], buf[1024];
  jsStreamInfo *si = NULL;
  gg_status st = GG_OK;
  line->sign = '?';
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM:
      st = describe_stream(ctx, a, line, buf, sizeof buf, err);
      if (st != GG_OK && st != GG_ERR_NOMEM) return st;
      break;
    case PLAN_ACT_MOVE_SUBJECTS: {
      join(a->subjects, a->nsubjects, subj, sizeof subj);
      jsStreamInfo *to = NULL;
      if ((st = sinfo(ctx, a->from, &si, err)) != GG_OK) return st;
      if ((st = sinfo(ctx, a->to, &to, err)) != GG_OK) break;
      bool all_on_to = to != NULL;
      for (size_t i = 0; to && i < a->nsubjects; i++)
        if (!act_has_subject(to->Config->Subjects, to->Config->SubjectsLen, a->subjects[i]))
          all_on_to = false;
      if (all_on_to) {
        line->sign = '=';
        snprintf(buf, sizeof buf, "%s already on %s", subj, a->to);
      } else {
        line->sign = '>';
        snprintf(buf, sizeof buf, "move %s %s -> %s%s", subj, a->from, a->to,
                 to ? "" : " (target does not exist yet: created earlier in the phase)");
      }
      jsStreamInfo_Destroy(to);
      break;
    }
    case PLAN_ACT_CREATE_CONSUMER:
    case PLAN_ACT_DRAIN:
      st = describe_consumer(ctx, a, line, buf, sizeof buf, err);
      if (st != GG_OK && st != GG_ERR_NOMEM) return st;
      break;
    case PLAN_ACT_SHIFT:
      describe_shift(ctx, a, line, buf, sizeof buf);
      break;
    default: {
      char d[512];
      plan_action_describe(a, d, sizeof d);
      line->sign = a->kind == PLAN_ACT_KV_PUT || a->kind == PLAN_ACT_EXEC ? '~' : '?';
      snprintf(buf, sizeof buf, "%s", d);
      break;
    }
  }
  jsStreamInfo_Destroy(si);
  line->text = strdup(buf);
  if (st == GG_ERR_NOMEM || !line->text) return gg_error_set(err, GG_ERR_NOMEM, "plan line");
  return st;
}

gg_status act_plan_phase(const plan *p, const char *phase_id, bool prepare_only, act_plan_line **out,
                         size_t *n, gg_error *err) {
  *out = NULL;
  *n = 0;
  const plan_phase *ph = plan_find_phase(p, phase_id);
  if (!ph) return gg_error_set(err, GG_ERR_NOT_FOUND, "plan has no phase '%s'", phase_id);
  act_ctx ctx = {.p = p, .phase = phase_id};
  gg_status st = act_connect(&ctx, err);
  size_t total = ph->nprepare + (prepare_only ? 0 : ph->nactions);
  act_plan_line *lines = calloc(total + 1, sizeof *lines);
  if (st == GG_OK && !lines) st = gg_error_set(err, GG_ERR_NOMEM, "plan lines");
  for (size_t i = 0; st == GG_OK && i < total; i++) {
    const plan_action *a = i < ph->nprepare ? &ph->prepare[i] : &ph->actions[i - ph->nprepare];
    st = act_describe_live(&ctx, a, &lines[i], err);
    *n = i + 1;
  }
  act_ctx_release(&ctx);
  if (st != GG_OK) {
    act_plan_lines_free(lines, *n);
    *n = 0;
    return st;
  }
  *out = lines;
  return GG_OK;
}
