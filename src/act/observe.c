/*
 * observe.c: looking at the cluster before and after acting — streams, consumers, message counts
 * on subjects, a publisher counter through the gate's evaluator — and what an action's intent
 * journals as observed (act_observe): whether its object exists, its configuration, the
 * previous KV value, move_subjects' baseline and the new stream's last sequence before the cutover.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"

/* ---- observing ---- */

/* GG_OK with *si NULL when the stream does not exist. filter: subjects filter or NULL. */
/* A read that met a leader election (the stream's or the meta leader's node was lost): no
 * answer, or "JetStream system temporarily unavailable". Reads are safe to repeat, so they ride
 * it out for up to ACT_ELECTION_WAIT seconds instead of failing the action (a new leader is
 * elected 4-9 s after the old one is lost on a 2.9 cluster). */
#define ACT_ELECTION_WAIT 20.0

static bool election_again(act_ctx *ctx, natsStatus s, jsErrCode je, double t0, const char *what,
                           bool *said) {
  bool transient = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || je == JSClusterNotAvailErr;
  if (!transient || gg_clock_mono() - t0 > ACT_ELECTION_WAIT) return false;
  if (!*said) {
    act_say(ctx, "%s: no answer from JetStream (a leader election?); retrying for up to %.0f s", what,
            ACT_ELECTION_WAIT);
    *said = true;
  }
  usleep(250 * 1000);
  return true;
}

gg_status act_stream_get(act_ctx *ctx, const char *name, const char *filter, jsStreamInfo **si,
                         gg_error *err) {
  *si = NULL;
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = filter;
  jsErrCode je = 0;
  natsStatus s;
  double t0 = gg_clock_mono();
  bool said = false;
  do {
    je = 0;
    s = js_GetStreamInfo(si, ctx->js, name, filter ? &o : NULL, &je);
  } while (s != NATS_OK && s != NATS_NOT_FOUND && election_again(ctx, s, je, t0, "stream info", &said));
  if (s == NATS_NOT_FOUND) return GG_OK;
  if (s != NATS_OK) return act_nats_error(err, s, je, "stream info '%s'", name);
  return GG_OK;
}

natsStatus act_stream_update(act_ctx *ctx, jsStreamInfo **info, const jsStreamConfig *cfg,
                             double overlap_wait, jsErrCode *je) {
  double t0 = gg_clock_mono();
  bool said = false, said_overlap = false;
  natsStatus s;
  for (;;) {
    *je = 0;
    if (info) *info = NULL;
    s = js_UpdateStream(info, ctx->js, (jsStreamConfig *)cfg, NULL, je);
    if (s == NATS_OK) return s;
    if (*je == JSStreamSubjectOverlapErr && gg_clock_mono() - t0 < overlap_wait) {
      if (!said_overlap) {
        act_say(ctx,
                "stream '%s': the meta leader still sees the subjects on the other stream; retrying for up "
                "to %.0f s",
                cfg->Name, overlap_wait);
        said_overlap = true;
      }
      usleep(100 * 1000);
      continue;
    }
    if (!election_again(ctx, s, *je, t0, "stream update", &said)) return s;
  }
}

gg_status act_consumer_get(act_ctx *ctx, const char *stream, const char *name, jsConsumerInfo **ci,
                           gg_error *err) {
  *ci = NULL;
  jsErrCode je = 0;
  natsStatus s;
  double t0 = gg_clock_mono();
  bool said = false;
  do {
    je = 0;
    s = js_GetConsumerInfo(ci, ctx->js, stream, name, NULL, &je);
  } while (s != NATS_OK && s != NATS_NOT_FOUND && je != JSStreamNotFoundErr && je != JSConsumerNotFoundErr &&
           election_again(ctx, s, je, t0, "consumer info", &said));
  if (s == NATS_NOT_FOUND || je == JSStreamNotFoundErr || je == JSConsumerNotFoundErr) {
    *ci = NULL; /* a consumer of a stream that does not exist does not exist either */
    return GG_OK;
  }
  if (s != NATS_OK) return act_nats_error(err, s, je, "consumer info '%s/%s'", stream, name);
  return GG_OK;
}

/* Messages stored in `stream` on the given subject patterns (0 when the stream is missing). */
gg_status act_subject_total(act_ctx *ctx, const char *stream, char **subjects, size_t n, uint64_t *total,
                            gg_error *err) {
  *total = 0;
  for (size_t i = 0; i < n; i++) {
    jsStreamInfo *si = NULL;
    gg_status st = act_stream_get(ctx, stream, subjects[i], &si, err);
    if (st != GG_OK) return st;
    if (si && si->State.Subjects)
      for (int k = 0; k < si->State.Subjects->Count; k++) *total += si->State.Subjects->List[k].Msgs;
    jsStreamInfo_Destroy(si);
  }
  return GG_OK;
}

const plan_stream *act_topo_stream(act_ctx *ctx, const char *name, gg_error *err) {
  const plan_stream *ps = plan_find_stream(ctx->p, name);
  if (!ps) gg_error_set(err, GG_ERR_NOT_FOUND, "stream '%s' is not in the plan's topology", name);
  return ps;
}

gg_status act_drift_error(const char *what, char **lines, size_t n, gg_error *err) {
  char buf[GG_ERROR_MSG_MAX];
  size_t len = (size_t)snprintf(buf, sizeof buf, "%s differs from the plan (drift):", what);
  for (size_t i = 0; i < n && len < sizeof buf; i++)
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s %s", i ? ";" : "", lines[i]);
  return gg_error_set(err, GG_ERR_STATE, "%s", buf);
}

void act_lines_free(char **lines, size_t n) {
  for (size_t i = 0; i < n; i++) free(lines[i]);
  free(lines);
}

/* A verify_continuity of the phase that covers this move and names a publisher counter. */
static const plan_action *continuity_for(act_ctx *ctx, const plan_action *a) {
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  for (size_t i = 0; ph && i < ph->nactions; i++) {
    const plan_action *v = &ph->actions[i];
    if (v->kind == PLAN_ACT_VERIFY_CONTINUITY && v->publisher_counter && v->from && v->to &&
        strcmp(v->from, a->from) == 0 && strcmp(v->to, a->to) == 0)
      return v;
  }
  return NULL;
}

gg_status act_counter_value(act_ctx *ctx, const char *series, double *out, gg_error *err) {
  gate_env *env;
  expr_node *ast = NULL;
  int col = 0;
  gg_status st = act_env(ctx, &env, err);
  if (st == GG_OK) st = expr_parse(series, &ast, &col, err);
  if (st != GG_OK) return st;
  expr_value v;
  expr_value_init(&v);
  st = gate_eval(env, ast, gg_clock_now(), 5.0, &v, err);
  if (st == GG_OK) {
    if (v.kind == EXPR_VAL_NUM)
      *out = v.num;
    else if (v.kind == EXPR_VAL_VEC && v.vec.n > 0) {
      *out = 0;
      for (size_t i = 0; i < v.vec.n; i++) *out += v.vec.v[i].value;
    } else
      st = gg_error_set(err, GG_ERR_NO_DATA, "publisher counter '%s': no value", series);
  }
  expr_value_release(&v);
  expr_free(ast);
  return st;
}

json_t *act_observe(act_ctx *ctx, const plan_action *a) {
  json_t *o = json_object();
  gg_error e;
  gg_error_clear(&e);
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM: {
      jsStreamInfo *si = NULL;
      if (act_stream_get(ctx, a->stream, NULL, &si, &e) != GG_OK) goto failed;
      json_object_set_new(o, "exists", json_boolean(si != NULL));
      if (si) {
        json_object_set_new(o, "config", act_stream_config_json(si->Config));
        json_object_set_new(o, "messages", json_integer((json_int_t)si->State.Msgs));
      }
      jsStreamInfo_Destroy(si);
      break;
    }
    case PLAN_ACT_CREATE_CONSUMER: {
      jsConsumerInfo *ci = NULL;
      if (act_consumer_get(ctx, a->stream, a->consumer, &ci, &e) != GG_OK) goto failed;
      json_object_set_new(o, "exists", json_boolean(ci != NULL));
      jsConsumerInfo_Destroy(ci);
      break;
    }
    case PLAN_ACT_KV_PUT:
    case PLAN_ACT_SHIFT: {
      kvStore *kv = NULL;
      kvEntry *en = NULL;
      if (js_KeyValue(&kv, ctx->js, a->bucket) != NATS_OK) break;
      natsStatus s = kvStore_Get(&en, kv, a->key);
      if (s == NATS_OK && en && kvEntry_Operation(en) == kvOp_Put)
        json_object_set_new(o, "previous", json_string(kvEntry_ValueString(en)));
      else if (s == NATS_OK || s == NATS_NOT_FOUND)
        json_object_set_new(o, "previous", json_null());
      kvEntry_Destroy(en);
      kvStore_Destroy(kv);
      break;
    }
    case PLAN_ACT_MOVE_SUBJECTS: {
      /* Where the new stream stood before the cutover: a rollback carries back what came after. */
      jsStreamInfo *to_si = NULL;
      if (act_stream_get(ctx, a->to, NULL, &to_si, &e) != GG_OK) goto failed;
      json_object_set_new(o, "to_last_seq", json_integer(to_si ? (json_int_t)to_si->State.LastSeq : 0));
      jsStreamInfo_Destroy(to_si);
      /* Baseline for verify_continuity: the counts on both sides, bracketed by the counter. */
      uint64_t from_n = 0, to_n = 0;
      double c0 = 0, c0b = 0;
      const plan_action *vc = continuity_for(ctx, a);
      if (vc && act_counter_value(ctx, vc->publisher_counter, &c0, &e) != GG_OK) goto failed;
      if (act_subject_total(ctx, a->from, a->subjects, a->nsubjects, &from_n, &e) != GG_OK) goto failed;
      if (act_subject_total(ctx, a->to, a->subjects, a->nsubjects, &to_n, &e) != GG_OK) goto failed;
      if (vc && act_counter_value(ctx, vc->publisher_counter, &c0b, &e) != GG_OK) goto failed;
      json_t *base = json_pack("{s:I, s:I}", "from", (json_int_t)from_n, "to", (json_int_t)to_n);
      if (vc) {
        json_object_set_new(base, "counter", json_real(c0));
        json_object_set_new(base, "counter_after", json_real(c0b));
      }
      json_object_set_new(o, "baseline", base);
      break;
    }
    default:
      break;
  }
  return o;
failed:
  /* What the action needs to know (its baseline, what exists) could not be read: say so, so the
   * step refuses to act blind rather than act without it. */
  json_object_set_new(o, "error", json_string(gg_error_message(&e)));
  return o;
}
