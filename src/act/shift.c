/*
 * shift.c: the gradual traffic shift (DESIGN §14). Each step puts the share into the KV key
 * the ingest-service watches, waits (5 s at most) until the service reports that share in
 * force, holds it while the phase's monitor rules are evaluated (through the caller's
 * act_hold_fn: act does not link watch), then checks the step's gate criteria. A failure of
 * any kind sets the share back to 0 % at once before the action fails, so there is never a
 * half-shift nobody asked for. Every step is journaled as a "shift" note, which is where
 * resume picks up and what `watch`, `status` and the report show.
 *
 * The inverse sets 0 %, waits for the service to report it, then drains the new side's
 * consumer (`drain: STREAM/CONSUMER`), so what reached the new stream is in the sink before
 * the rest of the phase is rolled back.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"
#include "base/failpoint.h"
#include "base/units.h"
#include "gate/env.h"

#define SHIFT_REPORT_WITHIN 5.0 /* seconds the service has to report the share it was told */

/* Where a lies in its phase: section and index, as the run journals them. */
static void place_of(act_ctx *ctx, const plan_action *a, const char **section, size_t *index) {
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  *section = "actions";
  *index = 0;
  for (size_t i = 0; ph && i < ph->nprepare; i++)
    if (&ph->prepare[i] == a) *section = "prepare", *index = i;
  for (size_t i = 0; ph && i < ph->nactions; i++)
    if (&ph->actions[i] == a) *section = "actions", *index = i;
}

static gg_status open_bucket(act_ctx *ctx, const plan_action *a, kvStore **kv, gg_error *err) {
  natsStatus s = js_KeyValue(kv, ctx->js, a->bucket);
  if (s == NATS_NOT_FOUND || s == NATS_ERR)
    return gg_error_set(
        err, GG_ERR_NOT_FOUND,
        "kv bucket '%s' does not exist: create it in the phase's prepare (kv_put: {bucket: %s, key: "
        "%s, value: \"0\", create: true}); not shifting",
        a->bucket, a->bucket, a->key);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "kv bucket '%s'", a->bucket);
  return GG_OK;
}

static gg_status put_share(act_ctx *ctx, kvStore *kv, const plan_action *a, double pct, gg_error *err) {
  char val[32];
  snprintf(val, sizeof val, "%g", pct);
  natsStatus s = kvStore_PutString(NULL, kv, a->key, val);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "put %s in kv '%s/%s'", val, a->bucket, a->key);
  return GG_OK;
}

/* Wait until the target reports `pct` in force for this key (ingest_shift_share, 0..1). */
static gg_status await_report(act_ctx *ctx, const plan_action *a, double pct, gg_error *err) {
  gate_env *env;
  gg_status st = act_env(ctx, &env, err);
  if (st != GG_OK) return st;
  char text[512];
  snprintf(text, sizeof text, "ingest_shift_share{target=\"%s\", key=\"%s/%s\"}", a->target, a->bucket,
           a->key);
  expr_node *ast = NULL;
  int col = 0;
  if ((st = expr_parse(text, &ast, &col, err)) != GG_OK) return st;
  double deadline = gg_clock_mono() + SHIFT_REPORT_WITHIN;
  char seen[160] = "no answer";
  for (;;) {
    expr_value v;
    expr_value_init(&v);
    gg_error e;
    gg_error_clear(&e);
    bool ok = false;
    if (gate_eval(env, ast, gg_clock_now(), 2.0, &v, &e) == GG_OK) {
      double got = v.kind == EXPR_VAL_NUM              ? v.num
                   : v.kind == EXPR_VAL_VEC && v.vec.n ? v.vec.v[0].value
                                                       : NAN;
      ok = v.kind == EXPR_VAL_VEC && v.vec.n > 0;
      for (size_t i = 0; ok && i < v.vec.n; i++) ok = fabs(v.vec.v[i].value * 100.0 - pct) < 0.005;
      if (v.kind == EXPR_VAL_NUM) ok = fabs(got * 100.0 - pct) < 0.005;
      snprintf(seen, sizeof seen, "it reports %g%%", got * 100.0);
    } else {
      snprintf(seen, sizeof seen, "%s", gg_error_message(&e));
    }
    expr_value_release(&v);
    if (ok) break;
    if (gg_clock_mono() > deadline) {
      st = gg_error_set(err, GG_ERR_STATE,
                        "target '%s' did not report share %g%% for %s/%s within %.0f s (%s)", a->target, pct,
                        a->bucket, a->key, SHIFT_REPORT_WITHIN, seen);
      break;
    }
    usleep(100000);
  }
  expr_free(ast);
  return st;
}

static void note(act_ctx *ctx, const plan_action *a, size_t step, double pct, const char *state,
                 const char *detail) {
  const char *section;
  size_t index;
  place_of(ctx, a, &section, &index);
  char kv[300];
  snprintf(kv, sizeof kv, "%s/%s", a->bucket, a->key);
  json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:f, s:s, s:f}", "note", "shift", "section", section,
                        "index", (json_int_t)index, "kv", kv, "step", (json_int_t)step + 1, "steps",
                        (json_int_t)a->nsteps, "share", pct, "state", state, "at", gg_clock_now());
  if (detail) json_object_set_new(c, "detail", json_string(detail));
  act_journal_note(ctx, c);
}

/* Back to 0 % at once (a failed step): the failure's own error stays in err. */
static void revert(act_ctx *ctx, kvStore *kv, const plan_action *a, size_t step, const char *why) {
  double t0 = gg_clock_mono();
  gg_error e;
  gg_error_clear(&e);
  if (put_share(ctx, kv, a, 0, &e) != GG_OK) {
    act_say(ctx, "warning: could not set %s/%s back to 0%%: %s", a->bucket, a->key, gg_error_message(&e));
    return;
  }
  char detail[GG_ERROR_MSG_MAX + 64];
  snprintf(detail, sizeof detail, "%s; share set to 0%% in %.0f ms", why, (gg_clock_mono() - t0) * 1000);
  note(ctx, a, step, 0, "reverted", detail);
  gg_failpoint("act.shift.reverted");
  act_say(ctx, "shift %s/%s: %s", a->bucket, a->key, detail);
}

/* Where a resumed shift starts: the step of its latest note, and how much of that step's hold
 * is left (the whole hold unless the step was set and not yet held). */
static size_t resume_point(act_ctx *ctx, const plan_action *a, double *hold_left) {
  const char *section;
  size_t index;
  place_of(ctx, a, &section, &index);
  *hold_left = a->hold;
  json_t *n = act_run_shift_note(ctx, section, index);
  if (!n) return 0;
  size_t step = (size_t)json_integer_value(json_object_get(n, "step"));
  const char *state = json_string_value(json_object_get(n, "state"));
  size_t at = step > 0 ? step - 1 : 0;
  if (state && (strcmp(state, "reverted") == 0 || strcmp(state, "rolled back") == 0)) {
    /* A rule fired or a step failed before the kill: that shift is over, never resumed forward. */
    json_decref(n);
    return SIZE_MAX;
  }
  if (state && strcmp(state, "passed") == 0)
    at = step;
  else if (state && strcmp(state, "set") == 0) {
    double left = a->hold - (gg_clock_now() - json_number_value(json_object_get(n, "at")));
    *hold_left = left > 0 ? left : 0;
  }
  json_decref(n);
  if (at > 0 && at <= a->nsteps)
    act_say(ctx, "shift %s/%s: resuming at step %zu/%zu", a->bucket, a->key, at < a->nsteps ? at + 1 : at,
            a->nsteps);
  return at;
}

/* Hold one step: the caller's monitor evaluation, or a plain wait. *fired gets a rule's reason. */
static gg_status hold_step(act_ctx *ctx, double seconds, char *fired, size_t cap, gg_error *err) {
  fired[0] = '\0';
  if (ctx->hold) return ctx->hold(ctx->hold_ud, ctx->p, ctx->j, ctx->phase, seconds, fired, cap, err);
  double end = gg_clock_mono() + seconds;
  while (gg_clock_mono() < end) {
    if (ctx->lease_lost && atomic_load(ctx->lease_lost))
      return gg_error_set(err, GG_ERR_LOCKED, "the migration's lease was lost during a shift hold");
    usleep(100000);
  }
  return GG_OK;
}

/* Step i: set, confirm, hold, gate. A failure reverts to 0 % before returning. */
static gg_status run_step(act_ctx *ctx, kvStore *kv, const plan_action *a, size_t i, double hold, json_t *out,
                          gg_error *err) {
  double pct = a->steps[i];
  char d[32];
  act_say(ctx, "shift step %zu/%zu: %s/%s = %g%%, then hold %s", i + 1, a->nsteps, a->bucket, a->key, pct,
          gg_format_duration(hold, d, sizeof d));
  gg_status st = put_share(ctx, kv, a, pct, err);
  if (st == GG_OK) {
    note(ctx, a, i, pct, "set", NULL);
    gg_failpoint("act.shift.step");
    st = await_report(ctx, a, pct, err);
  }
  if (st != GG_OK) {
    revert(ctx, kv, a, i, gg_error_message(err));
    return gg_error_prefix(err, "step %zu/%zu (%g%%): ", i + 1, a->nsteps, pct);
  }
  act_say(ctx, "shift step %zu/%zu: %s reports %g%% in force", i + 1, a->nsteps, a->target, pct);
  /* The inverse insists on a report of 0 % only from a service that has reported before. */
  json_object_set_new(json_object_get(out, "undo"), "confirmed", json_real(pct));
  char fired[GG_ERROR_MSG_MAX];
  if ((st = hold_step(ctx, hold, fired, sizeof fired, err)) == GG_OK && fired[0])
    st = gg_error_set(err, GG_ERR_STATE, "a rollback rule fired during the hold: %s", fired);
  if (st != GG_OK) {
    revert(ctx, kv, a, i, gg_error_message(err));
    return gg_error_prefix(err, "step %zu/%zu (%g%%): ", i + 1, a->nsteps, pct);
  }
  note(ctx, a, i, pct, "held", NULL);
  for (size_t g = 0; g < a->ngate && st == GG_OK; g++) {
    act_say(ctx, "shift step %zu/%zu: gate '%s'", i + 1, a->nsteps, a->gate[g].name);
    if ((st = act_verify_criterion(ctx, &a->gate[g], err)) != GG_OK) {
      gg_error_prefix(err, "gate '%s': ", a->gate[g].name);
      revert(ctx, kv, a, i, gg_error_message(err));
      return gg_error_prefix(err, "step %zu/%zu (%g%%): ", i + 1, a->nsteps, pct);
    }
  }
  note(ctx, a, i, pct, "passed", NULL);
  return GG_OK;
}

gg_status act_shift_forward(act_ctx *ctx, const plan_action *a, const json_t *observed, json_t *out,
                            gg_error *err) {
  kvStore *kv = NULL;
  gg_status st = open_bucket(ctx, a, &kv, err);
  if (st != GG_OK) return st;
  json_t *prev = json_object_get(observed, "previous");
  json_object_set_new(out, "undo", json_pack("{s:O}", "previous", prev ? prev : json_null()));
  double hold = a->hold;
  size_t start = resume_point(ctx, a, &hold);
  if (start == SIZE_MAX) {
    kvStore_Destroy(kv);
    return gg_error_set(err, GG_ERR_STATE,
                        "the shift of %s/%s was set back to 0%% before the interruption; not resuming it",
                        a->bucket, a->key);
  }
  for (size_t i = start; i < a->nsteps && st == GG_OK; i++) {
    st = run_step(ctx, kv, a, i, hold, out, err);
    hold = a->hold;
  }
  if (st == GG_OK) {
    json_object_set_new(out, "result", json_string("ok"));
    json_object_set_new(out, "share", json_real(a->nsteps ? a->steps[a->nsteps - 1] : 0));
    char desc[512];
    act_change(ctx, "%s", plan_action_describe(a, desc, sizeof desc));
  }
  kvStore_Destroy(kv);
  return st;
}

gg_status act_shift_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                            gg_error *err) {
  (void)undo;
  kvStore *kv = NULL;
  gg_status st = open_bucket(ctx, a, &kv, err);
  if (st == GG_ERR_NOT_FOUND) {
    /* No bucket, no share: nothing can have been sent to the new side by this key. */
    gg_error_clear(err);
    json_object_set_new(out, "result", json_string("noop"));
    return GG_OK;
  }
  if (st != GG_OK) return st;
  double t0 = gg_clock_mono();
  st = put_share(ctx, kv, a, 0, err);
  kvStore_Destroy(kv);
  if (st == GG_OK && (st = await_report(ctx, a, 0, err)) != GG_OK && !json_object_get(undo, "confirmed")) {
    /* The service never confirmed a share (the step that failed was waiting for exactly that):
     * the key says 0 now, which a watching service applies at once; one that does not watch it
     * never sent anything to the new side. Said and kept, not fatal. */
    char kept[GG_ERROR_MSG_MAX + 64];
    snprintf(kept, sizeof kept, "share of %s/%s set to 0%% but not confirmed: %s", a->bucket, a->key,
             gg_error_message(err));
    act_say(ctx, "warning: %s", kept);
    json_object_set_new(out, "kept_note", json_string(kept));
    gg_error_clear(err);
    st = GG_OK;
    usleep(1000000);
  }
  if (st != GG_OK) return st;
  json_object_set_new(out, "zero_ms", json_real((gg_clock_mono() - t0) * 1000));
  /* The step the shift had reached, so watch's dashboard says where it was rolled back from. */
  const char *section;
  size_t index, step = 0;
  place_of(ctx, a, &section, &index);
  json_t *last = act_run_shift_note(ctx, section, index);
  if (last && json_integer_value(json_object_get(last, "step")) > 0)
    step = (size_t)json_integer_value(json_object_get(last, "step")) - 1;
  json_decref(last);
  note(ctx, a, step, 0, "rolled back", NULL);
  act_change(ctx, "shift %s/%s back to 0%% (reported in force after %.0f ms)", a->bucket, a->key,
             (gg_clock_mono() - t0) * 1000);
  if (a->consumer && (st = act_drain_forward(ctx, a, out, err)) != GG_OK) return st;
  json_object_set_new(out, "result", json_string("ok"));
  return GG_OK;
}
