/*
 * consumer.c: create_consumer (bind when it exists as planned, refuse drift, create otherwise)
 * and its inverse, which deletes a consumer this phase created: at once when a rollback carried
 * back what it had not acknowledged, otherwise once it has drained (kept after 30 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"
#include "base/failpoint.h"

/* ---- create_consumer ---- */

gg_status act_create_consumer_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                      gg_error *err) {
  const plan_consumer *pc = plan_find_consumer(ctx->p, a->stream, a->consumer);
  if (!pc)
    return gg_error_set(err, GG_ERR_NOT_FOUND, "consumer '%s/%s' is not in the plan's topology", a->stream,
                        a->consumer);
  if (pc->nfilters > 1)
    return gg_error_set(err, GG_ERR_UNSUPPORTED,
                        "consumer '%s/%s': several filter subjects need nats-server 2.10", a->stream,
                        a->consumer);
  jsConsumerInfo *ci = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = act_consumer_get(ctx, a->stream, a->consumer, &ci, err);
  if (st != GG_OK) return st;
  bool created = false;
  if (ci) {
    if (act_consumer_diff(pc, ci->Config, &lines, &nlines) < 0) {
      st = gg_error_set(err, GG_ERR_NOMEM, "compare consumer");
      goto out;
    }
    if (nlines) {
      char what[300];
      snprintf(what, sizeof what, "consumer '%s/%s'", a->stream, a->consumer);
      st = act_drift_error(what, lines, nlines, err);
      json_t *d = json_array();
      for (size_t i = 0; i < nlines; i++) json_array_append_new(d, json_string(lines[i]));
      json_object_set_new(out, "drift", d);
      goto out;
    }
    json_object_set_new(out, "result", json_string("noop"));
    act_change(ctx, "bound consumer %s/%s (exists as planned, not recreated)", a->stream, a->consumer);
  } else {
    jsConsumerConfig cfg;
    act_consumer_config_from_plan(pc, &cfg);
    jsErrCode je = 0;
    gg_failpoint("act.create_consumer.request");
    natsStatus s = js_AddConsumer(&ci, ctx->js, a->stream, &cfg, NULL, &je);
    if (s != NATS_OK) {
      st = act_nats_error(err, s, je, "create consumer '%s/%s'", a->stream, a->consumer);
      if (act_outcome_unknown(s, je)) /* the cluster may create it anyway: the inverse looks */
        json_object_set_new(out, "undo", json_pack("{s:b, s:b}", "created", false, "unknown", true));
      goto out;
    }
    created = true;
    json_object_set_new(out, "result", json_string("ok"));
    act_change(ctx, "created consumer %s/%s", a->stream, a->consumer);
  }
  if (!created && prior && json_is_false(json_object_get(json_object_get(prior, "observed"), "exists")))
    created = true;
  json_object_set_new(out, "undo", json_pack("{s:b}", "created", created));
  jsConsumerInfo_Destroy(ci);
  ci = NULL;
  if ((st = act_consumer_get(ctx, a->stream, a->consumer, &ci, err)) == GG_OK && !ci)
    st = gg_error_set(err, GG_ERR_STATE, "consumer '%s/%s' missing after create", a->stream, a->consumer);
out:
  act_lines_free(lines, nlines);
  jsConsumerInfo_Destroy(ci);
  return st;
}

/* After a create whose outcome is unknown: whether the consumer exists now as the create would
 * have made it (*mine: then it is undone as one this phase created). Journals what was found in
 * out's "found"; a consumer that cannot be observed is an error (the rollback stays incomplete
 * rather than claim it left nothing). */
static gg_status observe_unknown(act_ctx *ctx, const plan_action *a, json_t *out, bool *mine, gg_error *err) {
  *mine = false;
  jsConsumerInfo *ci = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = act_consumer_get(ctx, a->stream, a->consumer, &ci, err);
  if (st != GG_OK) {
    gg_error_prefix(err,
                    "the create of consumer '%s/%s' timed out and it cannot be observed now: ", a->stream,
                    a->consumer);
    return st;
  }
  const plan_consumer *pc = plan_find_consumer(ctx->p, a->stream, a->consumer);
  if (!ci) {
    json_object_set_new(out, "found", json_string("absent"));
    act_say(ctx, "consumer %s/%s: its create timed out and it does not exist; nothing to undo", a->stream,
            a->consumer);
  } else if (!pc || act_consumer_diff(pc, ci->Config, &lines, &nlines) != 0) {
    char note[512];
    snprintf(note, sizeof note,
             "consumer %s/%s: its create timed out, and it exists with another configuration than the plan's "
             "(not made by this phase)",
             a->stream, a->consumer);
    json_object_set_new(out, "found", json_string("exists with another configuration"));
    json_object_set_new(out, "kept_note", json_string(note));
    act_change(ctx, "kept %s", note);
  } else {
    json_object_set_new(out, "found", json_string("exists as planned"));
    act_say(ctx, "consumer %s/%s: its create timed out but the cluster created it; undoing it", a->stream,
            a->consumer);
    *mine = true;
  }
  act_lines_free(lines, nlines);
  jsConsumerInfo_Destroy(ci);
  return GG_OK;
}

gg_status act_create_consumer_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                      gg_error *err) {
  char kept[512];
  snprintf(kept, sizeof kept, "consumer %s/%s was not created by this phase (bound only); kept", a->stream,
           a->consumer);
  bool ours = false;
  gg_status ost = act_undo_is_ours(ctx, a, undo, out, kept, observe_unknown, &ours, err);
  if (ost != GG_OK || !ours) return ost;
  /* What it had not acknowledged on subjects a rollback carried back to the old stream is
   * read from there now: delete it at once, however stalled its service. */
  json_t *carry = act_run_carry(ctx, a->stream, "done", NULL);
  if (carry) {
    jsConsumerInfo *ci = NULL;
    gg_status st = act_consumer_get(ctx, a->stream, a->consumer, &ci, err);
    bool covered = st == GG_OK && ci && ci->Config->FilterSubject && *ci->Config->FilterSubject &&
                   act_subject_in(ci->Config->FilterSubject, json_object_get(carry, "subjects"));
    double pending = ci ? (double)ci->NumPending + (double)ci->NumAckPending : 0;
    jsConsumerInfo_Destroy(ci);
    json_decref(carry);
    if (st != GG_OK) return st;
    if (covered) {
      jsErrCode je = 0;
      natsStatus s = js_DeleteConsumer(ctx->js, a->stream, a->consumer, NULL, &je);
      if (s != NATS_OK && s != NATS_NOT_FOUND)
        return act_nats_error(err, s, je, "delete consumer '%s/%s'", a->stream, a->consumer);
      json_object_set_new(out, "result", json_string(s == NATS_OK ? "ok" : "noop"));
      json_object_set_new(out, "carried_unacked", json_real(pending));
      if (s == NATS_OK)
        act_change(ctx,
                   "deleted consumer %s/%s (created by this phase; its %.0f unacknowledged messages were "
                   "carried back)",
                   a->stream, a->consumer, pending);
      return GG_OK;
    }
  }
  /* Deleting a consumer with messages still pending loses them for its readers: first let it
   * drain what its stream received while the phase was in force (the run moves the subjects
   * back before this), and keep it when that does not happen in time. */
  double t0 = gg_clock_mono(), said_at = 0, said_pending = 0;
  for (;;) {
    jsConsumerInfo *ci = NULL;
    gg_status st = act_consumer_get(ctx, a->stream, a->consumer, &ci, err);
    if (st != GG_OK) return st;
    if (!ci) {
      json_object_set_new(out, "result", json_string("noop"));
      return GG_OK;
    }
    double pending = (double)ci->NumPending + (double)ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    if (pending <= 0) break;
    double now = gg_clock_mono();
    if (now - t0 > ACT_CONSUMER_UNDO_DRAIN) {
      char note[512];
      snprintf(note, sizeof note,
               "consumer %s/%s: %.0f messages still pending after %.0f s (delete it once consumed)",
               a->stream, a->consumer, pending, ACT_CONSUMER_UNDO_DRAIN);
      json_object_set_new(out, "result", json_string("ok"));
      json_object_set_new(out, "kept", json_real(pending));
      json_object_set_new(out, "kept_note", json_string(note)); /* phase_rolled_back lists it */
      act_change(ctx, "kept %s", note);
      return GG_OK;
    }
    /* One line when the wait begins, then one every few seconds with the trend: never a line a poll. */
    if (said_at == 0) {
      act_say(ctx,
              "consumer %s/%s: %.0f messages pending; waiting up to %.0f s for them to be consumed before "
              "deleting it",
              a->stream, a->consumer, pending, ACT_CONSUMER_UNDO_DRAIN);
      said_at = now;
      said_pending = pending;
    } else if (now - said_at >= ACT_PROGRESS_EVERY) {
      act_say(ctx, "consumer %s/%s: %.0f pending (%.1f/s consumed), %.0f s left", a->stream, a->consumer,
              pending, (said_pending - pending) / (now - said_at), ACT_CONSUMER_UNDO_DRAIN - (now - t0));
      said_at = now;
      said_pending = pending;
    }
    usleep(100000);
  }
  jsErrCode je = 0;
  natsStatus s = js_DeleteConsumer(ctx->js, a->stream, a->consumer, NULL, &je);
  if (s != NATS_OK && s != NATS_NOT_FOUND)
    return act_nats_error(err, s, je, "delete consumer '%s/%s'", a->stream, a->consumer);
  json_object_set_new(out, "result", json_string(s == NATS_OK ? "ok" : "noop"));
  if (s == NATS_OK) act_change(ctx, "deleted consumer %s/%s (created by this phase)", a->stream, a->consumer);
  return GG_OK;
}
