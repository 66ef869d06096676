/*
 * actions.c: every action of DESIGN §7, forward and inverse. Each observes first, acts only
 * when the cluster is not already as planned, and verifies after. What an inverse needs (the
 * previous configuration, the previous KV value, whether this action created the object) is
 * returned in the outcome's "undo" member, which the run journals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "act/peers.h"
#include "base/clock.h"
#include "base/units.h"
#include "probe/probe.h"

/* ---- observing ---- */

/* GG_OK with *si NULL when the stream does not exist. filter: subjects filter or NULL. */
static gg_status stream_get(act_ctx *ctx, const char *name, const char *filter, jsStreamInfo **si,
                            gg_error *err) {
  *si = NULL;
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = filter;
  jsErrCode je = 0;
  natsStatus s = js_GetStreamInfo(si, ctx->js, name, filter ? &o : NULL, &je);
  if (s == NATS_NOT_FOUND) return GG_OK;
  if (s != NATS_OK) return act_nats_error(err, s, je, "stream info '%s'", name);
  return GG_OK;
}

static gg_status consumer_get(act_ctx *ctx, const char *stream, const char *name, jsConsumerInfo **ci,
                              gg_error *err) {
  *ci = NULL;
  jsErrCode je = 0;
  natsStatus s = js_GetConsumerInfo(ci, ctx->js, stream, name, NULL, &je);
  if (s == NATS_NOT_FOUND || je == JSStreamNotFoundErr || je == JSConsumerNotFoundErr) {
    *ci = NULL; /* a consumer of a stream that does not exist does not exist either */
    return GG_OK;
  }
  if (s != NATS_OK) return act_nats_error(err, s, je, "consumer info '%s/%s'", stream, name);
  return GG_OK;
}

/* Messages stored in `stream` on the given subject patterns (0 when the stream is missing). */
static gg_status subject_total(act_ctx *ctx, const char *stream, char **subjects, size_t n, uint64_t *total,
                               gg_error *err) {
  *total = 0;
  for (size_t i = 0; i < n; i++) {
    jsStreamInfo *si = NULL;
    gg_status st = stream_get(ctx, stream, subjects[i], &si, err);
    if (st != GG_OK) return st;
    if (si && si->State.Subjects)
      for (int k = 0; k < si->State.Subjects->Count; k++) *total += si->State.Subjects->List[k].Msgs;
    jsStreamInfo_Destroy(si);
  }
  return GG_OK;
}

static const plan_stream *topo_stream(act_ctx *ctx, const char *name, gg_error *err) {
  const plan_stream *ps = plan_find_stream(ctx->p, name);
  if (!ps) gg_error_set(err, GG_ERR_NOT_FOUND, "stream '%s' is not in the plan's topology", name);
  return ps;
}

static gg_status drift_error(const char *what, char **lines, size_t n, gg_error *err) {
  char buf[GG_ERROR_MSG_MAX];
  size_t len = (size_t)snprintf(buf, sizeof buf, "%s differs from the plan (drift):", what);
  for (size_t i = 0; i < n && len < sizeof buf; i++)
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s %s", i ? ";" : "", lines[i]);
  return gg_error_set(err, GG_ERR_STATE, "%s", buf);
}

static void lines_free(char **lines, size_t n) {
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

static gg_status counter_value(act_ctx *ctx, const char *series, double *out, gg_error *err) {
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
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM: {
      jsStreamInfo *si = NULL;
      if (stream_get(ctx, a->stream, NULL, &si, &e) != GG_OK) break;
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
      if (consumer_get(ctx, a->stream, a->consumer, &ci, &e) != GG_OK) break;
      json_object_set_new(o, "exists", json_boolean(ci != NULL));
      jsConsumerInfo_Destroy(ci);
      break;
    }
    case PLAN_ACT_KV_PUT: {
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
      /* Baseline for verify_continuity: the counts on both sides, bracketed by the counter. */
      uint64_t from_n = 0, to_n = 0;
      double c0 = 0, c0b = 0;
      const plan_action *vc = continuity_for(ctx, a);
      if (vc && counter_value(ctx, vc->publisher_counter, &c0, &e) != GG_OK) break;
      if (subject_total(ctx, a->from, a->subjects, a->nsubjects, &from_n, &e) != GG_OK) break;
      if (subject_total(ctx, a->to, a->subjects, a->nsubjects, &to_n, &e) != GG_OK) break;
      if (vc && counter_value(ctx, vc->publisher_counter, &c0b, &e) != GG_OK) break;
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
}

/* ---- create_stream ---- */

static gg_status do_create_stream(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                  gg_error *err) {
  const plan_stream *ps = topo_stream(ctx, a->stream, err);
  if (!ps) return GG_ERR_NOT_FOUND;
  const char **subj = NULL;
  int nsubj = 0;
  bool placeholder = false;
  jsStreamInfo *si = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = act_initial_subjects(ctx->p, ps, &subj, &nsubj, &placeholder, err);
  if (st != GG_OK) return st;
  if ((st = stream_get(ctx, a->stream, NULL, &si, err)) != GG_OK) goto out;
  bool created = false;
  if (si) {
    /* Bind: subjects may be the placeholder or any part of the planned set (before the cutover). */
    bool subjects_ok = true;
    for (int i = 0; i < si->Config->SubjectsLen; i++) {
      const char *s = si->Config->Subjects[i];
      if (strcmp(s, ps->name) != 0 &&
          !act_has_subject((const char *const *)ps->subjects, (int)ps->nsubjects, s))
        subjects_ok = false;
    }
    if (act_stream_diff(ps, si->Config, subjects_ok, &lines, &nlines) < 0) {
      st = gg_error_set(err, GG_ERR_NOMEM, "compare stream '%s'", a->stream);
      goto out;
    }
    if (nlines) {
      char what[300];
      snprintf(what, sizeof what, "stream '%s'", a->stream);
      st = drift_error(what, lines, nlines, err);
      json_t *d = json_array();
      for (size_t i = 0; i < nlines; i++) json_array_append_new(d, json_string(lines[i]));
      json_object_set_new(out, "drift", d);
      goto out;
    }
    json_object_set_new(out, "result", json_string("noop"));
    act_say(ctx, "stream %s exists as planned", a->stream);
  } else {
    jsStreamConfig cfg;
    act_stream_config_from_plan(ps, subj, nsubj, &cfg);
    jsErrCode je = 0;
    natsStatus s = js_AddStream(&si, ctx->js, &cfg, NULL, &je);
    if (s != NATS_OK) {
      st = act_nats_error(err, s, je, "create stream '%s'", a->stream);
      goto out;
    }
    created = true;
    json_object_set_new(out, "result", json_string("ok"));
    act_change(ctx, "created stream %s (R%d%s)", a->stream, ps->replicas > 0 ? ps->replicas : 1,
               placeholder ? ", placeholder subject until the cutover" : "");
  }
  if (!created && prior) {
    json_t *po = json_object_get(prior, "observed");
    if (json_is_false(json_object_get(po, "exists"))) created = true; /* a killed attempt created it */
  }
  json_object_set_new(out, "undo", json_pack("{s:b}", "created", created));
  /* verify */
  jsStreamInfo_Destroy(si);
  si = NULL;
  if ((st = stream_get(ctx, a->stream, NULL, &si, err)) != GG_OK) goto out;
  if (!si) st = gg_error_set(err, GG_ERR_STATE, "stream '%s' missing after create", a->stream);
out:
  lines_free(lines, nlines);
  jsStreamInfo_Destroy(si);
  free(subj);
  return st;
}

/* Delete stream `name` (already gone is fine) and verify that it is gone. */
static gg_status delete_stream(act_ctx *ctx, const char *name, gg_error *err) {
  jsErrCode je = 0;
  natsStatus s = js_DeleteStream(ctx->js, name, NULL, &je);
  if (s != NATS_OK && s != NATS_NOT_FOUND) return act_nats_error(err, s, je, "delete stream '%s'", name);
  jsStreamInfo *si = NULL;
  gg_status st = stream_get(ctx, name, NULL, &si, err);
  if (st != GG_OK) return st;
  if (si) {
    jsStreamInfo_Destroy(si);
    return gg_error_set(err, GG_ERR_STATE, "stream '%s' still exists after delete", name);
  }
  return GG_OK;
}

/* Delete a stream this phase created, only if empty (the inverse of create_stream). */
static gg_status undo_create_stream(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                    gg_error *err) {
  if (!json_is_true(json_object_get(undo, "created"))) {
    json_object_set_new(out, "result", json_string("noop"));
    act_say(ctx, "stream %s was not created by this phase; kept", a->stream);
    return GG_OK;
  }
  jsStreamInfo *si = NULL;
  gg_status st = stream_get(ctx, a->stream, NULL, &si, err);
  if (st != GG_OK) return st;
  if (!si) {
    json_object_set_new(out, "result", json_string("noop"));
    return GG_OK;
  }
  uint64_t msgs = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  if (msgs > 0)
    return gg_error_set(err, GG_ERR_STATE, "stream '%s' holds %llu messages; not deleted (delete it by hand)",
                        a->stream, (unsigned long long)msgs);
  if ((st = delete_stream(ctx, a->stream, err)) != GG_OK) return st;
  json_object_set_new(out, "result", json_string("ok"));
  act_change(ctx, "deleted stream %s (it was created by this phase, empty)", a->stream);
  return GG_OK;
}

/* ---- update_stream / delete_stream (and their inverses) ---- */

static gg_status do_update_stream(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                  gg_error *err) {
  const plan_stream *ps = a->update ? a->update : topo_stream(ctx, a->stream, err);
  if (!ps) return GG_ERR_NOT_FOUND;
  jsStreamInfo *si = NULL, *after = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = stream_get(ctx, a->stream, NULL, &si, err);
  if (st != GG_OK) return st;
  if (!si) return gg_error_set(err, GG_ERR_NOT_FOUND, "update stream '%s': it does not exist", a->stream);
  json_t *prev = NULL;
  json_t *po = prior ? json_object_get(json_object_get(prior, "observed"), "config") : NULL;
  prev = po ? json_incref(po) : act_stream_config_json(si->Config);
  if (act_stream_diff(ps, si->Config, false, &lines, &nlines) < 0) {
    st = gg_error_set(err, GG_ERR_NOMEM, "compare stream '%s'", a->stream);
    goto out;
  }
  json_t *d = json_array();
  for (size_t i = 0; i < nlines; i++) json_array_append_new(d, json_string(lines[i]));
  json_object_set_new(out, "diff", d);
  json_object_set_new(out, "undo", json_pack("{s:O}", "config", prev));
  if (nlines == 0) {
    json_object_set_new(out, "result", json_string("noop"));
    goto out;
  }
  jsStreamConfig cfg = *si->Config;
  act_stream_config_overlay(ps, &cfg);
  jsErrCode je = 0;
  natsStatus s = js_UpdateStream(&after, ctx->js, &cfg, NULL, &je);
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "update stream '%s'", a->stream);
    goto out;
  }
  jsStreamInfo_Destroy(after);
  after = NULL;
  /* verify */
  if ((st = stream_get(ctx, a->stream, NULL, &after, err)) != GG_OK) goto out;
  lines_free(lines, nlines);
  lines = NULL;
  nlines = 0;
  if (!after || act_stream_diff(ps, after->Config, false, &lines, &nlines) != 0) {
    st = drift_error("stream after update", lines, nlines, err);
    goto out;
  }
  json_object_set_new(out, "result", json_string("ok"));
  act_change(ctx, "updated stream %s", a->stream);
out:
  json_decref(prev);
  lines_free(lines, nlines);
  jsStreamInfo_Destroy(si);
  jsStreamInfo_Destroy(after);
  return st;
}

/* Restore a stream's managed fields from journaled JSON; recreate (empty) when missing. */
static gg_status restore_stream(act_ctx *ctx, const char *name, const json_t *config, json_t *out,
                                gg_error *err) {
  jsStreamInfo *si = NULL, *after = NULL;
  const char **subj = NULL;
  gg_status st = stream_get(ctx, name, NULL, &si, err);
  if (st != GG_OK) return st;
  jsStreamConfig cfg;
  if (si)
    cfg = *si->Config;
  else
    jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  if ((st = act_stream_config_apply_json(config, &cfg, &subj, err)) != GG_OK) goto out;
  jsErrCode je = 0;
  natsStatus s =
      si ? js_UpdateStream(&after, ctx->js, &cfg, NULL, &je) : js_AddStream(&after, ctx->js, &cfg, NULL, &je);
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "%s stream '%s'", si ? "restore" : "recreate", name);
    goto out;
  }
  json_object_set_new(out, "result", json_string("ok"));
  act_change(ctx, "%s stream %s from the journaled configuration", si ? "restored" : "recreated (empty)",
             name);
out:
  free(subj);
  jsStreamInfo_Destroy(si);
  jsStreamInfo_Destroy(after);
  return st;
}

static gg_status do_delete_stream(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                  gg_error *err) {
  jsStreamInfo *si = NULL;
  gg_status st = stream_get(ctx, a->stream, NULL, &si, err);
  if (st != GG_OK) return st;
  json_t *po = prior ? json_object_get(json_object_get(prior, "observed"), "config") : NULL;
  if (!si) {
    json_object_set_new(out, "result", json_string("noop"));
    json_object_set_new(out, "undo",
                        po ? json_pack("{s:O, s:b}", "config", po, "deleted", true) : json_object());
    return GG_OK;
  }
  if (si->State.Msgs > 0 && !a->allow_data_loss) {
    st = gg_error_set(err, GG_ERR_STATE,
                      "refusing to delete stream '%s': it holds %llu messages (the plan would need "
                      "allow_data_loss: true)",
                      a->stream, (unsigned long long)si->State.Msgs);
    json_object_set_new(out, "refused", json_integer((json_int_t)si->State.Msgs));
    jsStreamInfo_Destroy(si);
    return st;
  }
  json_object_set_new(out, "undo",
                      json_pack("{s:o, s:b}", "config",
                                po ? json_incref(po) : act_stream_config_json(si->Config), "deleted", true));
  uint64_t msgs = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  si = NULL;
  if ((st = delete_stream(ctx, a->stream, err)) != GG_OK) return st;
  json_object_set_new(out, "result", json_string("ok"));
  act_change(ctx, "deleted stream %s (%llu messages)", a->stream, (unsigned long long)msgs);
  return GG_OK;
}

/* ---- move_subjects ---- */

/* Put `subjects` on dst and take them off src, src first (JetStream forbids overlapping subjects)
 * and back to back: both new configurations are computed before the first call so the gap is the
 * two API calls. A stream left with no subject holds its own name (placeholder). Handles every
 * partial state (subjects on both, on neither). If the second step fails the subjects are put
 * back on src. *gap_ms: -1 when nothing changed. */
static gg_status move(act_ctx *ctx, char **subjects, size_t n, const char *src, const char *dst,
                      double *gap_ms, gg_error *err) {
  *gap_ms = -1;
  jsStreamInfo *s_si = NULL, *d_si = NULL, *tmp = NULL;
  const char **s_new = NULL, **d_new = NULL;
  gg_status st = stream_get(ctx, src, NULL, &s_si, err);
  if (st == GG_OK) st = stream_get(ctx, dst, NULL, &d_si, err);
  if (st != GG_OK) goto out;
  if (!d_si) {
    st = gg_error_set(err, GG_ERR_NOT_FOUND, "move to stream '%s': it does not exist (create it first)", dst);
    goto out;
  }
  const jsStreamConfig *sc = s_si ? s_si->Config : NULL, *dc = d_si->Config;
  /* Whole subject filters move; one that only part of a source filter covers cannot (JetStream
   * forbids the overlap it would leave). */
  for (int i = 0; sc && i < sc->SubjectsLen; i++)
    for (size_t k = 0; k < n; k++)
      if (strcmp(sc->Subjects[i], subjects[k]) != 0 && (probe_subject_covers(sc->Subjects[i], subjects[k]) ||
                                                        probe_subject_covers(subjects[k], sc->Subjects[i]))) {
        st = gg_error_set(err, GG_ERR_INVALID,
                          "stream '%s' holds '%s', which overlaps '%s': move_subjects moves whole subject "
                          "filters (split '%s' with update_stream first)",
                          src, sc->Subjects[i], subjects[k], sc->Subjects[i]);
        goto out;
      }
  bool src_change = false, dst_change = false;
  int sn = 0, dn = 0;
  s_new = calloc((size_t)(sc ? sc->SubjectsLen : 0) + 2, sizeof *s_new);
  d_new = calloc((size_t)dc->SubjectsLen + n + 2, sizeof *d_new);
  if (!s_new || !d_new) {
    st = gg_error_set(err, GG_ERR_NOMEM, "move subjects");
    goto out;
  }
  if (sc)
    for (int i = 0; i < sc->SubjectsLen; i++) {
      if (act_has_subject((const char *const *)subjects, (int)n, sc->Subjects[i]))
        src_change = true;
      else
        s_new[sn++] = sc->Subjects[i];
    }
  if (sn == 0 && sc) s_new[sn++] = src;
  for (int i = 0; i < dc->SubjectsLen; i++)
    if (strcmp(dc->Subjects[i], dst) != 0 || dc->SubjectsLen == 1) d_new[dn++] = dc->Subjects[i];
  bool had_placeholder = dn == 1 && strcmp(d_new[0], dst) == 0;
  for (size_t i = 0; i < n; i++)
    if (!act_has_subject(dc->Subjects, dc->SubjectsLen, subjects[i])) {
      if (had_placeholder) {
        dn = 0;
        had_placeholder = false;
      }
      d_new[dn++] = subjects[i];
      dst_change = true;
    }
  if (!src_change && !dst_change) goto out;
  /* nats-server < 2.9.15: never move subjects while a replica of either stream is away (peers.h). */
  const char *peers[] = {src, dst};
  if ((st = act_wait_peers_current(ctx, peers, 2, 0, err)) != GG_OK) goto out;
  jsStreamConfig s_cfg, d_cfg = *dc;
  if (sc) {
    s_cfg = *sc;
    s_cfg.Subjects = s_new;
    s_cfg.SubjectsLen = sn;
  }
  d_cfg.Subjects = d_new;
  d_cfg.SubjectsLen = dn;
  jsErrCode je = 0;
  natsStatus s = NATS_OK;
  double t0 = gg_clock_mono();
  if (src_change) s = js_UpdateStream(&tmp, ctx->js, &s_cfg, NULL, &je);
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "remove subjects from '%s'", src);
    goto out;
  }
  jsStreamInfo_Destroy(tmp);
  tmp = NULL;
  if (dst_change) s = js_UpdateStream(&tmp, ctx->js, &d_cfg, NULL, &je);
  double t1 = gg_clock_mono();
  jsStreamInfo_Destroy(tmp);
  tmp = NULL;
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "add subjects to '%s'", dst);
    if (src_change) {
      jsErrCode je2 = 0;
      natsStatus s2 = js_UpdateStream(&tmp, ctx->js, (jsStreamConfig *)sc, NULL, &je2);
      jsStreamInfo_Destroy(tmp);
      tmp = NULL;
      gg_error_prefix(err, "%s; ",
                      s2 == NATS_OK ? "subjects put back on the source" : "PUTTING THE SUBJECTS BACK FAILED");
    }
    goto out;
  }
  *gap_ms = (t1 - t0) * 1000.0;
  /* verify: dst holds every subject, src none */
  jsStreamInfo_Destroy(s_si);
  jsStreamInfo_Destroy(d_si);
  s_si = d_si = NULL;
  if ((st = stream_get(ctx, src, NULL, &s_si, err)) != GG_OK) goto out;
  if ((st = stream_get(ctx, dst, NULL, &d_si, err)) != GG_OK) goto out;
  for (size_t i = 0; i < n; i++) {
    if (!d_si || !act_has_subject(d_si->Config->Subjects, d_si->Config->SubjectsLen, subjects[i])) {
      st =
          gg_error_set(err, GG_ERR_STATE, "after the move, stream '%s' does not hold '%s'", dst, subjects[i]);
      goto out;
    }
    if (s_si && act_has_subject(s_si->Config->Subjects, s_si->Config->SubjectsLen, subjects[i])) {
      st = gg_error_set(err, GG_ERR_STATE, "after the move, stream '%s' still holds '%s'", src, subjects[i]);
      goto out;
    }
  }
  /* ... and make every node snapshot its meta layer, so a node killed later does not replay the
   * streams' creations against the subjects its disk now gives them (peers.h). */
  gg_error ce;
  gg_error_clear(&ce);
  if (act_meta_checkpoint(ctx->js, 0, &ce) != GG_OK)
    act_say(ctx, "meta checkpoint after the move failed: %s", gg_error_message(&ce));
out:
  free(s_new);
  free(d_new);
  jsStreamInfo_Destroy(s_si);
  jsStreamInfo_Destroy(d_si);
  jsStreamInfo_Destroy(tmp);
  return st;
}

static char *subjects_join(char **s, size_t n, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", s[i]);
  return out;
}

static gg_status do_move_subjects(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  char subj[512];
  subjects_join(a->subjects, a->nsubjects, subj, sizeof subj);
  double gap = -1;
  gg_status st = move(ctx, a->subjects, a->nsubjects, a->from, a->to, &gap, err);
  json_object_set_new(out, "undo", json_object());
  if (st != GG_OK) return st;
  if (gap < 0) {
    json_object_set_new(out, "result", json_string("noop"));
    act_say(ctx, "%s already on %s", subj, a->to);
    return GG_OK;
  }
  json_object_set_new(out, "result", json_string("ok"));
  json_object_set_new(out, "gap_ms", json_real(gap));
  if (ctx->sum && gap > ctx->sum->gap_ms) ctx->sum->gap_ms = gap;
  act_change(ctx, "moved %s %s -> %s (gap %.1f ms)", subj, a->from, a->to, gap);
  return GG_OK;
}

static gg_status undo_move_subjects(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  char subj[512];
  subjects_join(a->subjects, a->nsubjects, subj, sizeof subj);
  double gap = -1;
  gg_status st = move(ctx, a->subjects, a->nsubjects, a->to, a->from, &gap, err);
  if (st != GG_OK) return st;
  json_object_set_new(out, "result", json_string(gap < 0 ? "noop" : "ok"));
  if (gap >= 0) {
    json_object_set_new(out, "gap_ms", json_real(gap));
    act_change(ctx, "moved %s back %s -> %s (gap %.1f ms)", subj, a->to, a->from, gap);
  }
  return GG_OK;
}

/* ---- create_consumer ---- */

static gg_status do_create_consumer(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
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
  gg_status st = consumer_get(ctx, a->stream, a->consumer, &ci, err);
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
      st = drift_error(what, lines, nlines, err);
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
    natsStatus s = js_AddConsumer(&ci, ctx->js, a->stream, &cfg, NULL, &je);
    if (s != NATS_OK) {
      st = act_nats_error(err, s, je, "create consumer '%s/%s'", a->stream, a->consumer);
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
  if ((st = consumer_get(ctx, a->stream, a->consumer, &ci, err)) == GG_OK && !ci)
    st = gg_error_set(err, GG_ERR_STATE, "consumer '%s/%s' missing after create", a->stream, a->consumer);
out:
  lines_free(lines, nlines);
  jsConsumerInfo_Destroy(ci);
  return st;
}

static gg_status undo_create_consumer(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                      gg_error *err) {
  if (!json_is_true(json_object_get(undo, "created"))) {
    json_object_set_new(out, "result", json_string("noop"));
    return GG_OK;
  }
  /* Deleting a consumer with messages still pending loses them for its readers: first let it
   * drain what its stream received while the phase was in force (the run moves the subjects
   * back before this), and keep it when that does not happen in time. */
  double t0 = gg_clock_mono();
  for (;;) {
    jsConsumerInfo *ci = NULL;
    gg_status st = consumer_get(ctx, a->stream, a->consumer, &ci, err);
    if (st != GG_OK) return st;
    if (!ci) {
      json_object_set_new(out, "result", json_string("noop"));
      return GG_OK;
    }
    double pending = (double)ci->NumPending + (double)ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    if (pending <= 0) break;
    if (gg_clock_mono() - t0 > ACT_CONSUMER_UNDO_DRAIN) {
      json_object_set_new(out, "result", json_string("ok"));
      json_object_set_new(out, "kept", json_real(pending));
      act_change(ctx,
                 "kept consumer %s/%s: %.0f messages still pending after %.0f s (delete it once consumed)",
                 a->stream, a->consumer, pending, ACT_CONSUMER_UNDO_DRAIN);
      return GG_OK;
    }
    act_say(ctx, "consumer %s/%s: waiting for %.0f pending messages before deleting it", a->stream,
            a->consumer, pending);
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

/* ---- drain ---- */

static gg_status do_drain(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  double until = a->until >= 0 ? a->until : 0;
  double timeout = a->timeout > 0 ? a->timeout : 1800;
  double t0 = gg_clock_mono(), last_say = -10;
  double first_pending = -1;
  for (;;) {
    jsConsumerInfo *ci = NULL;
    gg_status st = consumer_get(ctx, a->stream, a->consumer, &ci, err);
    if (st != GG_OK) return st;
    if (!ci)
      return gg_error_set(err, GG_ERR_NOT_FOUND, "drain: consumer '%s/%s' does not exist", a->stream,
                          a->consumer);
    double pending = (double)ci->NumPending + (double)ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    double now = gg_clock_mono(), el = now - t0;
    if (first_pending < 0) first_pending = pending;
    if (pending <= until) {
      json_object_set_new(out, "result", json_string("ok"));
      json_object_set_new(out, "drained", json_real(first_pending));
      json_object_set_new(out, "seconds", json_real(el));
      act_change(ctx, "drained %s/%s: %.0f messages in %.1f s", a->stream, a->consumer, first_pending, el);
      return GG_OK;
    }
    if (el >= timeout) {
      json_object_set_new(out, "left", json_real(pending));
      return gg_error_set(err, GG_ERR_TIMEOUT, "drain %s/%s: %.0f messages still pending after %.0f s",
                          a->stream, a->consumer, pending, el);
    }
    if (now - last_say >= 1.0) {
      double rate = el > 0.5 ? (first_pending - pending) / el : 0;
      char eta[32] = "?";
      if (rate > 0) gg_format_duration((pending - until) / rate, eta, sizeof eta);
      act_say(ctx, "draining %s/%s: %.0f pending, %.0f/s, ETA %s", a->stream, a->consumer, pending, rate,
              eta);
      last_say = now;
    }
    usleep(200000);
  }
}

/* ---- verify_continuity ---- */

static gg_status retention_is_limits(act_ctx *ctx, const char *stream, bool *limits, gg_error *err) {
  jsStreamInfo *si = NULL;
  gg_status st = stream_get(ctx, stream, NULL, &si, err);
  *limits = !si || si->Config->Retention == js_LimitsPolicy;
  jsStreamInfo_Destroy(si);
  return st;
}

static gg_status do_verify_continuity(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  json_t *base = act_run_baseline(ctx, a->from, a->to);
  gg_status st = GG_OK;
  if (!base) {
    return gg_error_set(err, GG_ERR_STATE,
                        "verify_continuity %s -> %s: no move_subjects baseline in this phase's journal",
                        a->from, a->to);
  }
  double c1 = 0, c1b = 0;
  uint64_t from_n = 0, to_n = 0;
  if (a->publisher_counter && (st = counter_value(ctx, a->publisher_counter, &c1, err)) != GG_OK) goto out;
  if ((st = subject_total(ctx, a->from, a->subjects, a->nsubjects, &from_n, err)) != GG_OK) goto out;
  if ((st = subject_total(ctx, a->to, a->subjects, a->nsubjects, &to_n, err)) != GG_OK) goto out;
  if (a->publisher_counter && (st = counter_value(ctx, a->publisher_counter, &c1b, err)) != GG_OK) goto out;
  double bf = (double)json_integer_value(json_object_get(base, "from"));
  double bt = (double)json_integer_value(json_object_get(base, "to"));
  double before = bf + bt, after = (double)from_n + (double)to_n;
  json_object_set_new(out, "before", json_real(before));
  json_object_set_new(out, "after", json_real(after));
  char line[512];
  bool from_limits = true, to_limits = true;
  if ((st = retention_is_limits(ctx, a->from, &from_limits, err)) != GG_OK) goto out;
  if ((st = retention_is_limits(ctx, a->to, &to_limits, err)) != GG_OK) goto out;
  if (a->publisher_counter && json_object_get(base, "counter") && from_limits && to_limits) {
    /* Published between the baseline and now lies in [c1 - c0b, c1b - c0]. */
    double c0 = json_real_value(json_object_get(base, "counter"));
    double c0b = json_real_value(json_object_get(base, "counter_after"));
    double lo = c1 - c0b, hi = c1b - c0, stored = after - before;
    json_object_set_new(out, "published", json_pack("{s:f, s:f}", "min", lo, "max", hi));
    if (stored < lo) {
      st = gg_error_set(
          err, GG_ERR_STATE,
          "continuity %s -> %s: %.0f messages stored since the cutover, at least %.0f published: "
          "%.0f lost",
          a->from, a->to, stored, lo, lo - stored);
      goto out;
    }
    if (stored > hi) {
      st = gg_error_set(err, GG_ERR_STATE,
                        "continuity %s -> %s: %.0f stored, at most %.0f published: %.0f duplicated", a->from,
                        a->to, stored, hi, stored - hi);
      goto out;
    }
    snprintf(line, sizeof line,
             "continuity %s -> %s: %.0f before + %.0f published = %.0f stored, nothing lost", a->from, a->to,
             before, stored, after);
  } else {
    /* Without a counter: under limits retention the old stream keeps what it held (it may have
     * gained what arrived between the baseline and the cut, never lost any) and the new one only
     * grows. Under interest or work-queue retention acknowledged messages leave the stream, so
     * counts say nothing; the consumers below are the check then. */
    if (from_limits && (double)from_n < bf) {
      st = gg_error_set(
          err, GG_ERR_STATE,
          "continuity: '%s' holds %.0f messages on the moved subjects, %.0f before the cutover: %.0f lost",
          a->from, (double)from_n, bf, bf - (double)from_n);
      goto out;
    }
    if (to_limits && (double)to_n < bt) {
      st = gg_error_set(err, GG_ERR_STATE,
                        "continuity: '%s' holds fewer messages (%llu) than before the cutover (%.0f)", a->to,
                        (unsigned long long)to_n, bt);
      goto out;
    }
    snprintf(line, sizeof line, "continuity %s -> %s: %.0f before, %.0f + %llu now (+%.0f on %s)%s", a->from,
             a->to, before, (double)from_n, (unsigned long long)to_n, (double)to_n - bt, a->to,
             from_limits ? "" : "; old stream not limits-retained, consumers checked");
  }
  /* Nothing left pending on the old stream's consumers of these subjects. */
  jsConsumerInfoList *list = NULL;
  jsErrCode je = 0;
  natsStatus s = js_Consumers(&list, ctx->js, a->from, NULL, &je);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    st = act_nats_error(err, s, je, "list consumers of '%s'", a->from);
    goto out;
  }
  for (int i = 0; list && i < list->Count; i++) {
    jsConsumerInfo *ci = list->List[i];
    const char *f = ci->Config->FilterSubject;
    bool covers = !f || !*f;
    for (size_t k = 0; k < a->nsubjects && !covers; k++)
      covers = probe_subject_covers(f, a->subjects[k]) || probe_subject_covers(a->subjects[k], f);
    if (covers && ci->NumPending + (uint64_t)ci->NumAckPending > 0) {
      st = gg_error_set(err, GG_ERR_STATE,
                        "continuity: consumer '%s/%s' still has %llu pending, %lld unacknowledged", a->from,
                        ci->Name, (unsigned long long)ci->NumPending, (long long)ci->NumAckPending);
      break;
    }
  }
  jsConsumerInfoList_Destroy(list);
  if (st != GG_OK) goto out;
  json_object_set_new(out, "result", json_string("ok"));
  free(ctx->sum ? ctx->sum->continuity : NULL);
  if (ctx->sum) ctx->sum->continuity = strdup(line);
  act_change(ctx, "%s", line);
out:
  json_decref(base);
  return st;
}

/* ---- wait, exec, kv_put ---- */

static gg_status do_wait(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
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

static gg_status run_command(act_ctx *ctx, const char *cmd, double timeout, json_t *out, gg_error *err) {
  probe_run_result r;
  gg_status st = probe_run(cmd, timeout > 0 ? timeout : 60, NULL, &r, err);
  if (st != GG_OK) return st;
  json_object_set_new(out, "exit", json_string(r.summary));
  json_object_set_new(out, "output", json_string(r.output ? r.output : ""));
  if (!r.ok) st = gg_error_set(err, GG_ERR_CHILD, "command '%s': %s", cmd, r.summary);
  probe_run_result_release(&r);
  return st;
}

static gg_status do_kv_put(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *observed,
                           json_t *out, gg_error *err) {
  kvStore *kv = NULL;
  natsStatus s = js_KeyValue(&kv, ctx->js, a->bucket);
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

static gg_status undo_kv_put(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                             gg_error *err) {
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

/* ---- dispatch ---- */

gg_status act_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *observed,
                      json_t **outcome, gg_error *err) {
  json_t *out = json_object();
  *outcome = out;
  gg_status st = act_connect(ctx, err);
  if (st != GG_OK) return st;
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      return do_create_stream(ctx, a, prior, out, err);
    case PLAN_ACT_UPDATE_STREAM:
      return do_update_stream(ctx, a, prior, out, err);
    case PLAN_ACT_DELETE_STREAM:
      return do_delete_stream(ctx, a, prior, out, err);
    case PLAN_ACT_MOVE_SUBJECTS:
      return do_move_subjects(ctx, a, out, err);
    case PLAN_ACT_CREATE_CONSUMER:
      return do_create_consumer(ctx, a, prior, out, err);
    case PLAN_ACT_DRAIN:
      return do_drain(ctx, a, out, err);
    case PLAN_ACT_VERIFY_CONTINUITY:
      return do_verify_continuity(ctx, a, out, err);
    case PLAN_ACT_WAIT:
      return do_wait(ctx, a, out, err);
    case PLAN_ACT_EXEC:
      st = run_command(ctx, a->run, a->timeout, out, err);
      if (st == GG_OK) {
        json_object_set_new(out, "result", json_string("ok"));
        json_object_set_new(out, "undo", json_object());
        act_change(ctx, "ran '%s'", a->run);
      }
      return st;
    case PLAN_ACT_KV_PUT:
      return do_kv_put(ctx, a, prior, observed, out, err);
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
      return undo_create_stream(ctx, a, undo, out, err);
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM: {
      json_t *cfg = json_object_get(undo, "config");
      if (!cfg) {
        json_object_set_new(out, "result", json_string("noop"));
        return GG_OK;
      }
      return restore_stream(ctx, a->stream, cfg, out, err);
    }
    case PLAN_ACT_MOVE_SUBJECTS:
      return undo_move_subjects(ctx, a, out, err);
    case PLAN_ACT_CREATE_CONSUMER:
      return undo_create_consumer(ctx, a, undo, out, err);
    case PLAN_ACT_EXEC:
      if (!a->undo) {
        json_object_set_new(out, "result", json_string("noop"));
        return GG_OK;
      }
      st = run_command(ctx, a->undo, a->timeout, out, err);
      if (st == GG_OK) {
        json_object_set_new(out, "result", json_string("ok"));
        act_change(ctx, "ran undo '%s'", a->undo);
      }
      return st;
    case PLAN_ACT_KV_PUT:
      return undo_kv_put(ctx, a, undo, out, err);
    default:
      json_object_set_new(out, "result", json_string("noop")); /* observes only */
      return GG_OK;
  }
}
