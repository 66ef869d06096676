/*
 * actions.c: every action of DESIGN §7, forward and inverse, dispatched to its family's file
 * (stream.c, cutover.c, consumer.c, drain.c, continuity.c, steps.c; observe.c looks first).
 * Each observes first, acts only when the cluster is not already as planned, and verifies after.
 * What an inverse needs (the previous configuration, the previous KV value, whether this action
 * created the object, the new stream's sequence at the cutover) is returned in the outcome's
 * "undo" member, which the run journals.
 */
#include "act/internal.h"

/* ---- dispatch ---- */

gg_status act_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *observed,
                      json_t **outcome, gg_error *err) {
  json_t *out = json_object();
  *outcome = out;
  gg_status st = act_connect(ctx, err);
  if (st != GG_OK) return st;
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      return act_create_stream_forward(ctx, a, prior, out, err);
    case PLAN_ACT_UPDATE_STREAM:
      return act_update_stream_forward(ctx, a, prior, out, err);
    case PLAN_ACT_DELETE_STREAM:
      return act_delete_stream_forward(ctx, a, prior, out, err);
    case PLAN_ACT_MOVE_SUBJECTS:
      return act_move_subjects_forward(ctx, a, prior, observed, out, err);
    case PLAN_ACT_CREATE_CONSUMER:
      return act_create_consumer_forward(ctx, a, prior, out, err);
    case PLAN_ACT_DRAIN:
      return act_drain_forward(ctx, a, out, err);
    case PLAN_ACT_VERIFY_CONTINUITY:
      return act_verify_continuity_forward(ctx, a, out, err);
    case PLAN_ACT_WAIT:
      return act_wait_forward(ctx, a, out, err);
    case PLAN_ACT_EXEC:
      st = act_exec_command(ctx, a->run, a->run_shown, a->timeout, out, err);
      if (st == GG_OK) {
        json_object_set_new(out, "result", json_string("ok"));
        json_object_set_new(out, "undo", json_object());
        act_change(ctx, "ran '%s'", a->run_shown);
      }
      return st;
    case PLAN_ACT_KV_PUT:
      return act_kv_put_forward(ctx, a, prior, observed, out, err);
    case PLAN_ACT_SHIFT:
      return act_shift_forward(ctx, a, observed, out, err);
    case PLAN_ACT_COUNT:
      break;
  }
  return gg_error_set(err, GG_ERR_INVALID, "unknown action kind %d", (int)a->kind);
}

gg_status act_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t **outcome,
                      gg_error *err) {
  json_t *out = json_object();
  *outcome = out;
  gg_status st = act_connect(ctx, err);
  if (st != GG_OK) return st;
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      return act_create_stream_inverse(ctx, a, undo, out, err);
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM: {
      json_t *cfg = json_object_get(undo, "config");
      if (!cfg) {
        json_object_set_new(out, "result", json_string("noop"));
        return GG_OK;
      }
      return act_stream_restore(ctx, a->stream, cfg, out, err);
    }
    case PLAN_ACT_MOVE_SUBJECTS:
      return act_move_subjects_inverse(ctx, a, undo, out, err);
    case PLAN_ACT_CREATE_CONSUMER:
      return act_create_consumer_inverse(ctx, a, undo, out, err);
    case PLAN_ACT_EXEC:
      if (!a->undo) {
        json_object_set_new(out, "result", json_string("noop"));
        return GG_OK;
      }
      st = act_exec_command(ctx, a->undo, a->undo_shown, a->timeout, out, err);
      if (st == GG_OK) {
        json_object_set_new(out, "result", json_string("ok"));
        act_change(ctx, "ran undo '%s'", a->undo_shown);
      }
      return st;
    case PLAN_ACT_KV_PUT:
      return act_kv_put_inverse(ctx, a, undo, out, err);
    case PLAN_ACT_SHIFT:
      return act_shift_inverse(ctx, a, undo, out, err);
    default:
      json_object_set_new(out, "result", json_string("noop")); /* observes only */
      return GG_OK;
  }
}
