/*
 * actions.c: the actions of a phase (`prepare:`, `actions:`), one mapping with one key each.
 */
#include <stdio.h>
#include <string.h>

#include "base/units.h"
#include "plan/internal.h"

/* create_stream: NAME, a stream of the topology that does not exist yet. */
static void action_create_stream(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  const char *s = plan_load_scalar(l, v, what);
  if (!s) return;
  a->stream = plan_load_dup(l, s);
  plan_load_stream_ref(l, v, s, what);
  const plan_stream *st = plan_find_stream(l->p, s);
  if (st && st->existing) perr(l->c, v, "create_stream '%s': the stream is marked existing", s);
}

/* update_stream / delete_stream: NAME, or {stream, ...settings} / {stream, allow_data_loss}. */
static void action_stream_change(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  if (v->kind == YN_SCALAR) {
    a->stream = plan_load_dup(l, v->text);
    plan_load_stream_ref(l, v, v->text, what);
    return;
  }
  if (!plan_load_want_map(l, v, what)) return;
  plan_load_str(l, v, "stream", true, what, &a->stream);
  if (a->stream) plan_load_stream_ref(l, plan_load_key_node(v, "stream"), a->stream, what);
  if (a->kind == PLAN_ACT_DELETE_STREAM) {
    static const char *const keys[] = {"stream", "allow_data_loss"};
    plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
    a->allow_data_loss = plan_load_bool(l, v, "allow_data_loss", false);
  } else {
    const char *keys[PLAN_COUNT(plan_load_stream_keys) + 1];
    for (size_t i = 0; i < PLAN_COUNT(plan_load_stream_keys); i++) keys[i] = plan_load_stream_keys[i];
    keys[PLAN_COUNT(plan_load_stream_keys)] = "stream";
    plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
    a->update = plan_load_alloc(l, 1, sizeof *a->update);
    if (a->update) {
      a->update->name = plan_load_dup(l, a->stream);
      a->update->pos = plan_load_pos(v);
      a->update->replicas = -1;
      a->update->max_age = a->update->max_bytes = a->update->max_msg_size = a->update->duplicates = -1;
      a->update->max_msgs = a->update->max_msgs_per_subject = -1;
      plan_load_stream_settings(l, v, a->update, what);
    }
  }
}

/* move_subjects / verify_continuity: {subjects, from, to[, publisher_counter]}. */
static void action_move_subjects(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  static const char *const mkeys[] = {"subjects", "from", "to"};
  static const char *const vkeys[] = {"subjects", "from", "to", "publisher_counter"};
  if (!plan_load_want_map(l, v, what)) return;
  if (a->kind == PLAN_ACT_MOVE_SUBJECTS)
    plan_load_check_keys(l, v, mkeys, PLAN_COUNT(mkeys), what);
  else
    plan_load_check_keys(l, v, vkeys, PLAN_COUNT(vkeys), what);
  ynode *sj = plan_ynode_get(v, "subjects");
  if (!sj) plan_load_missing(l, v, "subjects", what);
  plan_load_strlist(l, sj, "subjects", false, &a->subjects, &a->nsubjects);
  plan_load_str(l, v, "from", true, what, &a->from);
  plan_load_str(l, v, "to", true, what, &a->to);
  plan_load_stream_ref(l, plan_load_key_node(v, "from"), a->from, what);
  plan_load_stream_ref(l, plan_load_key_node(v, "to"), a->to, what);
  if (a->from && a->to && strcmp(a->from, a->to) == 0)
    perr(l->c, plan_load_key_node(v, "to"), "%s: 'from' and 'to' are the same stream '%s'", what, a->to);
  if (a->kind == PLAN_ACT_VERIFY_CONTINUITY)
    plan_load_str(l, v, "publisher_counter", false, what, &a->publisher_counter);
}

/* create_consumer: STREAM/NAME, a consumer of the topology. */
static void action_create_consumer(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  const char *s = plan_load_scalar(l, v, what);
  if (!s) return;
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || !slash[1]) {
    perr(l->c, v, "create_consumer '%s' must be STREAM/NAME", s);
    return;
  }
  a->stream = strndup(s, (size_t)(slash - s));
  a->consumer = plan_load_dup(l, slash + 1);
  if (!a->stream) return;
  plan_load_stream_ref(l, v, a->stream, what);
  if (plan_find_stream(l->p, a->stream) && !plan_find_consumer(l->p, a->stream, a->consumer))
    perr(l->c, v, "create_consumer names consumer '%s' which is not in topology.consumers", s);
}

/* drain: {stream, consumer, until, timeout}. */
static void action_drain(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  static const char *const keys[] = {"stream", "consumer", "until", "timeout"};
  if (!plan_load_want_map(l, v, what)) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
  plan_load_str(l, v, "stream", true, what, &a->stream);
  plan_load_str(l, v, "consumer", true, what, &a->consumer);
  plan_load_stream_ref(l, plan_load_key_node(v, "stream"), a->stream, what);
  a->until = (double)plan_load_int(l, v, "until", 0, INT64_MAX / 2, 0);
  a->timeout = plan_load_dur(l, v, "timeout", -1);
}

/* wait: DURATION, or {until: EXPR, timeout}. */
static void action_wait(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  static const char *const keys[] = {"until", "timeout"};
  if (v->kind == YN_SCALAR) {
    a->duration = plan_load_dur_of(l, v, what, -1);
    return;
  }
  if (!plan_load_want_map(l, v, what)) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
  plan_load_expr(l, v, "until", true, what, &a->until_expr);
  a->timeout = plan_load_dur(l, v, "timeout", -1);
  if (a->timeout < 0 && plan_ynode_get(v, "until")) plan_load_missing(l, v, "timeout", "wait until");
}

/* exec: COMMAND, or {run, undo, timeout}. */
static void action_exec(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  static const char *const keys[] = {"run", "undo", "timeout"};
  if (v->kind == YN_SCALAR) {
    a->run = plan_load_dup(l, v->text);
    a->run_shown = plan_load_shown(l, v, NULL);
    return;
  }
  if (!plan_load_want_map(l, v, what)) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
  plan_load_str(l, v, "run", true, what, &a->run);
  plan_load_str(l, v, "undo", false, what, &a->undo);
  a->run_shown = plan_load_shown(l, v, "run");
  a->undo_shown = plan_load_shown(l, v, "undo");
  a->timeout = plan_load_dur(l, v, "timeout", -1);
}

/* kv_put: {bucket, key, value, create}. */
static void action_kv_put(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  static const char *const keys[] = {"bucket", "key", "value", "create"};
  if (!plan_load_want_map(l, v, what)) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
  plan_load_str(l, v, "bucket", true, what, &a->bucket);
  plan_load_str(l, v, "key", true, what, &a->key);
  plan_load_str(l, v, "value", true, what, &a->value);
  a->create_bucket = plan_load_bool(l, v, "create", false);
}

/* shift steps: a list of percentages, each in (0, 100] %, rising strictly. */
static void shift_steps(plan_loader *l, ynode *v, plan_action *a) {
  ynode *sv = plan_ynode_get(v, "steps");
  if (!sv) {
    plan_load_missing(l, v, "steps", "shift");
    return;
  }
  if (!plan_load_want_seq(l, sv, "shift steps")) return;
  if (sv->n == 0) {
    perr(l->c, sv, "shift steps: at least one step is needed (e.g. [10%%, 50%%, 100%%])");
    return;
  }
  a->steps = plan_load_alloc(l, sv->n, sizeof *a->steps);
  for (size_t i = 0; a->steps && i < sv->n; i++) {
    ynode *it = sv->items[i];
    const char *t = plan_load_scalar(l, it, "a shift step");
    if (!t) continue;
    double f = 0;
    gg_error e;
    gg_error_clear(&e);
    if (gg_parse_percent(t, &f, &e) != GG_OK) {
      perr(l->c, it, "shift step '%s' is not a percentage (write it like 10%%)", t);
      continue;
    }
    double pct = f * 100.0;
    if (pct <= 0 || pct > 100) {
      perr(l->c, it, "shift step %s is outside the share a step can set (above 0%% up to 100%%)", t);
      continue;
    }
    if (a->nsteps > 0 && pct <= a->steps[a->nsteps - 1]) {
      perr(l->c, it, "shift steps must rise: %s after %g%%", t, a->steps[a->nsteps - 1]);
      continue;
    }
    a->steps[a->nsteps++] = pct;
  }
}

/* shift: {kv: BUCKET/KEY, steps: [10%, 50%, 100%], hold: 1h, gate: [...], target, drain}. */
static void action_shift(plan_loader *l, ynode *v, plan_action *a, const char *what) {
  static const char *const keys[] = {"kv", "steps", "hold", "gate", "target", "drain"};
  if (!plan_load_want_map(l, v, what)) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), what);
  char *kv = NULL;
  plan_load_str(l, v, "kv", true, what, &kv);
  const char *slash = kv ? strchr(kv, '/') : NULL;
  if (kv && (!slash || slash == kv || !slash[1] || strchr(slash + 1, '/')))
    perr(l->c, plan_load_key_node(v, "kv"), "shift kv '%s' must be BUCKET/KEY", kv);
  else if (kv) {
    a->bucket = strndup(kv, (size_t)(slash - kv));
    a->key = plan_load_dup(l, slash + 1);
  }
  shift_steps(l, v, a);
  if (!plan_ynode_get(v, "hold")) plan_load_missing(l, v, "hold", what);
  a->hold = plan_load_dur(l, v, "hold", 0);
  plan_load_criteria(l, plan_ynode_get(v, "gate"), "shift gate", &a->gate, &a->ngate);
  for (size_t i = 0; i < a->ngate; i++)
    if (a->gate[i].kind == PLAN_CRIT_ATTEST)
      perr(l->c, plan_load_key_node(v, "gate"),
           "shift gate '%s': an attestation cannot gate a step (use the phase's go criteria)",
           a->gate[i].name);
  plan_load_str(l, v, "target", false, what, &a->target);
  if (!a->target) a->target = plan_load_dup(l, "ingest");
  const plan_target *t = a->target ? plan_find_target(l->p, a->target) : NULL;
  if (a->target && (!t || !t->metrics))
    perr(l->c, plan_load_key_node(v, "target") ? plan_load_key_node(v, "target") : v,
         "shift target '%s' must be a target of connect.targets with a metrics URL (it reports the share in "
         "force)",
         a->target);
  char *drain = NULL;
  plan_load_str(l, v, "drain", false, what, &drain);
  if (drain) {
    const char *ds = strchr(drain, '/');
    if (!ds || ds == drain || !ds[1]) {
      perr(l->c, plan_load_key_node(v, "drain"), "shift drain '%s' must be STREAM/CONSUMER (the new side)",
           drain);
    } else {
      a->stream = strndup(drain, (size_t)(ds - drain));
      a->consumer = plan_load_dup(l, ds + 1);
      if (a->stream) plan_load_stream_ref(l, plan_load_key_node(v, "drain"), a->stream, what);
    }
  }
  free(kv);
  free(drain);
}

static void load_action(plan_loader *l, ynode *it, plan_action *a) {
  static const char *const kinds[PLAN_ACT_COUNT] = {
      "create_stream", "update_stream",     "delete_stream", "move_subjects", "create_consumer",
      "drain",         "verify_continuity", "wait",          "exec",          "kv_put",
      "shift"};
  a->pos = plan_load_pos(it);
  a->timeout = -1;
  a->duration = -1;
  if (!plan_load_want_map(l, it, "an action")) return;
  if (it->n != 1) {
    perr(l->c, it, "an action is a mapping with exactly one key (the action's kind), this one has %zu",
         it->n);
    return;
  }
  ynode *k = it->items[0], *v = it->items[1];
  int kind = -1;
  for (int i = 0; i < PLAN_ACT_COUNT; i++)
    if (strcmp(k->text, kinds[i]) == 0) kind = i;
  if (kind < 0) {
    const char *sg = plan_suggest(k->text, kinds, PLAN_ACT_COUNT);
    char hint[200];
    if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
    plan_diag_add(l->c, PLAN_DIAG_ERROR, k->line, k->col, sg ? hint : NULL, "unknown action '%s'", k->text);
    return;
  }
  a->kind = (plan_action_kind)kind;
  const char *what = kinds[kind];
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      action_create_stream(l, v, a, what);
      break;
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM:
      action_stream_change(l, v, a, what);
      break;
    case PLAN_ACT_MOVE_SUBJECTS:
    case PLAN_ACT_VERIFY_CONTINUITY:
      action_move_subjects(l, v, a, what);
      break;
    case PLAN_ACT_CREATE_CONSUMER:
      action_create_consumer(l, v, a, what);
      break;
    case PLAN_ACT_DRAIN:
      action_drain(l, v, a, what);
      break;
    case PLAN_ACT_WAIT:
      action_wait(l, v, a, what);
      break;
    case PLAN_ACT_EXEC:
      action_exec(l, v, a, what);
      break;
    case PLAN_ACT_KV_PUT:
      action_kv_put(l, v, a, what);
      break;
    case PLAN_ACT_SHIFT:
      action_shift(l, v, a, what);
      break;
    default:
      break;
  }
}

void plan_load_actions(plan_loader *l, ynode *v, const char *what, plan_action **out, size_t *n) {
  if (!v || !plan_load_want_seq(l, v, what)) return;
  *out = plan_load_alloc(l, v->n, sizeof **out);
  for (size_t i = 0; *out && i < v->n; i++) {
    load_action(l, v->items[i], &(*out)[(*n)++]);
    /* prepare runs before the go decision: no traffic moves then. */
    if ((*out)[*n - 1].kind == PLAN_ACT_SHIFT && strcmp(what, "'prepare'") == 0)
      perr(l->c, v->items[i], "a shift cannot be a prepare action (it moves traffic; put it in actions)");
  }
}
