/*
 * steps.c: the actions that are not about streams — wait (a duration or until an expression
 * holds), exec (a command, and its undo command) and kv_put (and restoring the previous value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"
#include "base/secret.h"
#include "gate/env.h"
#include "probe/probe.h"

/* ---- wait, exec, kv_put ---- */

gg_status act_wait_forward(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  double t0 = gg_clock_mono();
  if (a->duration >= 0) {
    while (gg_clock_mono() - t0 < a->duration) usleep(50000);
    json_object_set_new(out, "result", json_string("ok"));
    return GG_OK;
  }
  gate_env *env;
  gg_status st = act_env(ctx, &env, err);
  if (st != GG_OK) return st;
  double timeout = a->timeout > 0 ? a->timeout : 600;
  for (;;) {
    expr_value v;
    expr_value_init(&v);
    gg_error e;
    gg_error_clear(&e);
    bool ok = gate_eval(env, a->until_expr.ast, gg_clock_now(), 5.0, &v, &e) == GG_OK &&
              v.kind == EXPR_VAL_BOOL && v.truth;
    expr_value_release(&v);
    if (ok) {
      json_object_set_new(out, "result", json_string("ok"));
      json_object_set_new(out, "seconds", json_real(gg_clock_mono() - t0));
      return GG_OK;
    }
    if (gg_clock_mono() - t0 >= timeout)
      return gg_error_set(err, GG_ERR_TIMEOUT, "wait until '%s': not true after %.0f s%s%s",
                          a->until_expr.text, timeout, e.code ? ": " : "",
                          e.code ? gg_error_message(&e) : "");
    act_say(ctx, "waiting until %s", a->until_expr.text);
    usleep(1000000);
  }
}

gg_status act_undo_is_ours(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                           const char *kept,
                           gg_status (*observe)(act_ctx *, const plan_action *, json_t *, bool *, gg_error *),
                           bool *ours, gg_error *err) {
  *ours = true;
  if (json_is_true(json_object_get(undo, "unknown"))) {
    gg_status st = observe(ctx, a, out, ours, err);
    if (st != GG_OK) return st;
  } else if (!json_is_true(json_object_get(undo, "created"))) {
    *ours = false;
    act_say(ctx, "%s", kept);
  }
  if (!*ours) json_object_set_new(out, "result", json_string("noop"));
  return GG_OK;
}

gg_status act_exec_command(act_ctx *ctx, const char *cmd, const char *shown, double timeout, json_t *out,
                           gg_error *err) {
  probe_run_result r;
  gg_status st = probe_run(cmd, timeout > 0 ? timeout : 60, ctx->p->workdir, &r, err);
  if (st != GG_OK) {
    gg_error_clear(err); /* its message names the command as run, secrets and all */
    return gg_error_set(err, st, "command '%s' could not run", shown);
  }
  /* The output is journaled: without the plan's secrets and URL credentials in it. */
  gate_env *env = NULL;
  gg_error eerr;
  gg_error_clear(&eerr);
  char *scrubbed = act_env(ctx, &env, &eerr) == GG_OK ? gate_env_scrub(env, r.output) : NULL;
  char *masked = gg_secret_mask_text(scrubbed ? scrubbed : "");
  free(scrubbed);
  json_object_set_new(out, "exit", json_string(r.summary));
  json_object_set_new(out, "output", json_string(masked ? masked : ""));
  free(masked);
  if (!r.ok) st = gg_error_set(err, GG_ERR_CHILD, "command '%s': %s", shown, r.summary);
  probe_run_result_release(&r);
  return st;
}

gg_status act_kv_put_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *observed,
                             json_t *out, gg_error *err) {
  kvStore *kv = NULL;
  natsStatus s = js_KeyValue(&kv, ctx->js, a->bucket);
  if (s != NATS_OK && a->create_bucket) {
    /* `create: true`: the bucket a shift or a service needs, made here (one value per key). */
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = a->bucket;
    kc.History = 1;
    s = js_CreateKeyValue(&kv, ctx->js, &kc);
    if (s == NATS_OK) act_change(ctx, "created kv bucket %s", a->bucket);
  }
  if (s != NATS_OK) return act_nats_error(err, s, 0, "kv bucket '%s'", a->bucket);
  const json_t *po = prior ? json_object_get(json_object_get(prior, "observed"), "previous")
                           : json_object_get(observed, "previous");
  json_object_set_new(out, "undo", json_pack("{s:O}", "previous", po ? (json_t *)po : json_null()));
  json_t *cur = json_object_get(observed, "previous");
  gg_status st = GG_OK;
  if (json_is_string(cur) && strcmp(json_string_value(cur), a->value) == 0) {
    json_object_set_new(out, "result", json_string("noop"));
  } else {
    uint64_t rev = 0;
    s = kvStore_Put(&rev, kv, a->key, a->value, (int)strlen(a->value));
    if (s != NATS_OK)
      st = act_nats_error(err, s, 0, "put '%s' in kv bucket '%s'", a->key, a->bucket);
    else {
      json_object_set_new(out, "result", json_string("ok"));
      act_change(ctx, "set %s/%s = %s", a->bucket, a->key, a->value);
    }
  }
  kvStore_Destroy(kv);
  return st;
}

/* Whether a shift of the phase steers this key: then its inverse, not this one, decides the value
 * (0 %). Restoring an earlier value here could send traffic to the new side again while the
 * rollback is taking it apart (newest first, a final `kv_put: 0` is undone before the shift). */
static bool key_of_a_shift(act_ctx *ctx, const plan_action *a) {
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  for (int sec = 0; ph && sec < 2; sec++) {
    const plan_action *list = sec ? ph->actions : ph->prepare;
    size_t n = sec ? ph->nactions : ph->nprepare;
    for (size_t i = 0; i < n; i++)
      if (list[i].kind == PLAN_ACT_SHIFT && strcmp(list[i].bucket, a->bucket) == 0 &&
          strcmp(list[i].key, a->key) == 0)
        return true;
  }
  return false;
}

gg_status act_kv_put_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                             gg_error *err) {
  if (key_of_a_shift(ctx, a)) {
    json_object_set_new(out, "result", json_string("noop"));
    act_say(ctx, "%s/%s is a shift's key: left to the shift's inverse, which sets it to 0%%", a->bucket,
            a->key);
    return GG_OK;
  }
  kvStore *kv = NULL;
  natsStatus s = js_KeyValue(&kv, ctx->js, a->bucket);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "kv bucket '%s'", a->bucket);
  json_t *prev = json_object_get(undo, "previous");
  if (json_is_string(prev))
    s = kvStore_PutString(NULL, kv, a->key, json_string_value(prev));
  else
    s = kvStore_Delete(kv, a->key);
  kvStore_Destroy(kv);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "restore '%s' in kv bucket '%s'", a->key, a->bucket);
  json_object_set_new(out, "result", json_string("ok"));
  act_change(ctx, "restored %s/%s to %s", a->bucket, a->key,
             json_is_string(prev) ? json_string_value(prev) : "(absent)");
  return GG_OK;
}
