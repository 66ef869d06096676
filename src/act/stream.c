/*
 * stream.c: create_stream, update_stream and delete_stream, and their inverses. A stream this
 * phase created is deleted on rollback only when nothing in it is unconsumed: empty, or every
 * message acknowledged by the phase's consumers or carried back (carryback.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"

/* ---- create_stream ---- */

gg_status act_create_stream_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                    gg_error *err) {
  const plan_stream *ps = act_topo_stream(ctx, a->stream, err);
  if (!ps) return GG_ERR_NOT_FOUND;
  const char **subj = NULL;
  int nsubj = 0;
  bool placeholder = false;
  jsStreamInfo *si = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = act_initial_subjects(ctx->p, ps, &subj, &nsubj, &placeholder, err);
  if (st != GG_OK) return st;
  if ((st = act_stream_get(ctx, a->stream, NULL, &si, err)) != GG_OK) goto out;
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
      st = act_drift_error(what, lines, nlines, err);
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
      if (act_outcome_unknown(s, je)) /* the cluster may create it anyway: the inverse looks */
        json_object_set_new(out, "undo", json_pack("{s:b, s:b}", "created", false, "unknown", true));
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
  if ((st = act_stream_get(ctx, a->stream, NULL, &si, err)) != GG_OK) goto out;
  if (!si) st = gg_error_set(err, GG_ERR_STATE, "stream '%s' missing after create", a->stream);
out:
  act_lines_free(lines, nlines);
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
  gg_status st = act_stream_get(ctx, name, NULL, &si, err);
  if (st != GG_OK) return st;
  if (si) {
    jsStreamInfo_Destroy(si);
    return gg_error_set(err, GG_ERR_STATE, "stream '%s' still exists after delete", name);
  }
  return GG_OK;
}

/* Messages of `stream` that a rollback has not accounted for: all of them, unless this run
 * carried the stream back ("done") — then those on other subjects than the carried ones, or
 * above the carried range (messages on the carried subjects at or below it were acknowledged by
 * the phase's consumers or carried back). */
static gg_status unaccounted(act_ctx *ctx, const char *stream, uint64_t *left, gg_error *err) {
  jsStreamInfo *si = NULL;
  gg_status st = act_stream_get(ctx, stream, ">", &si, err);
  if (st != GG_OK || !si) return st;
  *left = si->State.Msgs;
  json_t *carry = act_run_carry(ctx, stream, "done", NULL);
  if (carry && si->State.LastSeq <= (uint64_t)json_integer_value(json_object_get(carry, "last"))) {
    const json_t *pats = json_object_get(carry, "subjects");
    *left = 0;
    for (int k = 0; si->State.Subjects && k < si->State.Subjects->Count; k++)
      if (!act_subject_in(si->State.Subjects->List[k].Subject, pats))
        *left += si->State.Subjects->List[k].Msgs;
  }
  json_decref(carry);
  jsStreamInfo_Destroy(si);
  return GG_OK;
}

/* Delete a stream this phase created once nothing in it is unconsumed (the inverse of
 * create_stream): empty, or every message accounted for by the carry-back. */
/* After a create whose outcome is unknown: whether the stream exists now as the create would have
 * made it (*mine). Journals what was found in out's "found"; a stream that cannot be observed is
 * an error. */
static gg_status observe_unknown(act_ctx *ctx, const plan_action *a, json_t *out, bool *mine, gg_error *err) {
  *mine = false;
  jsStreamInfo *si = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = act_stream_get(ctx, a->stream, NULL, &si, err);
  if (st != GG_OK) {
    gg_error_prefix(err, "the create of stream '%s' timed out and it cannot be observed now: ", a->stream);
    return st;
  }
  const plan_stream *ps = plan_find_stream(ctx->p, a->stream);
  if (!si) {
    json_object_set_new(out, "found", json_string("absent"));
    act_say(ctx, "stream %s: its create timed out and it does not exist; nothing to undo", a->stream);
  } else if (!ps || act_stream_diff(ps, si->Config, true, &lines, &nlines) != 0) {
    char note[512];
    snprintf(note, sizeof note,
             "stream %s: its create timed out, and it exists with another configuration than the plan's (not "
             "made by this phase)",
             a->stream);
    json_object_set_new(out, "found", json_string("exists with another configuration"));
    json_object_set_new(out, "kept_note", json_string(note));
    act_change(ctx, "kept %s", note);
  } else {
    json_object_set_new(out, "found", json_string("exists as planned"));
    act_say(ctx, "stream %s: its create timed out but the cluster created it; undoing it", a->stream);
    *mine = true;
  }
  act_lines_free(lines, nlines);
  jsStreamInfo_Destroy(si);
  return GG_OK;
}

gg_status act_create_stream_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                    gg_error *err) {
  char kept[512];
  snprintf(kept, sizeof kept, "stream %s was not created by this phase; kept", a->stream);
  bool ours = false;
  gg_status ost = act_undo_is_ours(ctx, a, undo, out, kept, observe_unknown, &ours, err);
  if (ost != GG_OK || !ours) return ost;
  jsStreamInfo *si = NULL;
  gg_status st = act_stream_get(ctx, a->stream, NULL, &si, err);
  if (st != GG_OK) return st;
  if (!si) {
    json_object_set_new(out, "result", json_string("noop"));
    return GG_OK;
  }
  uint64_t msgs = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  if (msgs > 0) {
    uint64_t left = 0;
    if ((st = unaccounted(ctx, a->stream, &left, err)) != GG_OK) return st;
    if (left > 0) {
      json_object_set_new(out, "kept", json_integer((json_int_t)left));
      return gg_error_set(
          err, GG_ERR_STATE,
          "stream '%s' holds %llu messages that were neither consumed by the phase nor carried "
          "back; kept (they remain to be handled)",
          a->stream, (unsigned long long)left);
    }
  }
  if ((st = delete_stream(ctx, a->stream, err)) != GG_OK) return st;
  json_object_set_new(out, "result", json_string("ok"));
  if (msgs > 0)
    act_change(
        ctx,
        "deleted stream %s (created by this phase; its %llu messages were consumed by the phase or carried "
        "back)",
        a->stream, (unsigned long long)msgs);
  else
    act_change(ctx, "deleted stream %s (it was created by this phase, empty)", a->stream);
  return GG_OK;
}

/* ---- update_stream / delete_stream (and their inverses) ---- */

gg_status act_update_stream_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                    gg_error *err) {
  const plan_stream *ps = a->update ? a->update : act_topo_stream(ctx, a->stream, err);
  if (!ps) return GG_ERR_NOT_FOUND;
  jsStreamInfo *si = NULL, *after = NULL;
  char **lines = NULL;
  size_t nlines = 0;
  gg_status st = act_stream_get(ctx, a->stream, NULL, &si, err);
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
  natsStatus s = act_stream_update(ctx, &after, &cfg, ACT_OVERLAP_WAIT, &je);
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "update stream '%s'", a->stream);
    if (act_outcome_unknown(s, je)) /* it may have been applied: the inverse restores the config */
      json_object_set_new(out, "undo", json_pack("{s:O, s:b}", "config", prev, "unknown", true));
    goto out;
  }
  jsStreamInfo_Destroy(after);
  after = NULL;
  /* verify */
  if ((st = act_stream_get(ctx, a->stream, NULL, &after, err)) != GG_OK) goto out;
  act_lines_free(lines, nlines);
  lines = NULL;
  nlines = 0;
  if (!after || act_stream_diff(ps, after->Config, false, &lines, &nlines) != 0) {
    st = act_drift_error("stream after update", lines, nlines, err);
    goto out;
  }
  json_object_set_new(out, "result", json_string("ok"));
  act_change(ctx, "updated stream %s", a->stream);
out:
  json_decref(prev);
  act_lines_free(lines, nlines);
  jsStreamInfo_Destroy(si);
  jsStreamInfo_Destroy(after);
  return st;
}

/* Restore a stream's managed fields from journaled JSON; recreate (empty) when missing. */
gg_status act_stream_restore(act_ctx *ctx, const char *name, const json_t *config, json_t *out,
                             gg_error *err) {
  jsStreamInfo *si = NULL, *after = NULL;
  const char **subj = NULL;
  gg_status st = act_stream_get(ctx, name, NULL, &si, err);
  if (st != GG_OK) return st;
  jsStreamConfig cfg;
  if (si)
    cfg = *si->Config;
  else
    jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  if ((st = act_stream_config_apply_json(config, &cfg, &subj, err)) != GG_OK) goto out;
  jsErrCode je = 0;
  natsStatus s = si ? act_stream_update(ctx, &after, &cfg, ACT_OVERLAP_WAIT, &je)
                    : js_AddStream(&after, ctx->js, &cfg, NULL, &je);
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

gg_status act_delete_stream_forward(act_ctx *ctx, const plan_action *a, const json_t *prior, json_t *out,
                                    gg_error *err) {
  jsStreamInfo *si = NULL;
  gg_status st = act_stream_get(ctx, a->stream, NULL, &si, err);
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
