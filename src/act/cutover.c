/*
 * cutover.c: move_subjects, the cutover — the subjects off one stream and onto another back to
 * back, the gap measured — and its inverse, which moves them back and then carries back what the
 * phase left unconsumed in the new stream (carryback.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act/internal.h"
#include "act/peers.h"
#include "base/clock.h"
#include "base/failpoint.h"
#include "probe/probe.h"

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
  gg_status st = act_stream_get(ctx, src, NULL, &s_si, err);
  if (st == GG_OK) st = act_stream_get(ctx, dst, NULL, &d_si, err);
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
  /* nats-server < 2.9.15: never move subjects while a replica of either stream is away: the
   * node panics when it comes back (peers.h). Bounded; refuses naming the node. */
  const char *peers[] = {src, dst};
  if ((st = act_wait_peers_current(ctx, peers, 2, 0, err)) != GG_OK) goto out;
  ctx->moved_subjects = true; /* the run or rollback ends with a meta checkpoint (peers.h) */
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
  if (src_change) s = act_stream_update(ctx, &tmp, &s_cfg, 0, &je);
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "remove subjects from '%s'", src);
    goto out;
  }
  jsStreamInfo_Destroy(tmp);
  tmp = NULL;
  gg_failpoint("act.cutover.between");
  if (dst_change) s = act_stream_update(ctx, &tmp, &d_cfg, src_change ? ACT_OVERLAP_WAIT : 0, &je);
  double t1 = gg_clock_mono();
  jsStreamInfo_Destroy(tmp);
  tmp = NULL;
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "add subjects to '%s'", dst);
    if (src_change) {
      jsErrCode je2 = 0;
      natsStatus s2 = act_stream_update(ctx, &tmp, sc, 0, &je2);
      jsStreamInfo_Destroy(tmp);
      tmp = NULL;
      gg_error_prefix(err, "%s; ",
                      s2 == NATS_OK ? "subjects put back on the source" : "PUTTING THE SUBJECTS BACK FAILED");
    }
    goto out;
  }
  *gap_ms = (t1 - t0) * 1000.0;
  /* verify: dst holds every subject, src none (a stream leader elected meanwhile may answer with
   * the configuration a moment before it applies the change: a few tries, 3 s in all) */
  for (double until = gg_clock_mono() + 3.0;;) {
    jsStreamInfo_Destroy(s_si);
    jsStreamInfo_Destroy(d_si);
    s_si = d_si = NULL;
    if ((st = act_stream_get(ctx, src, NULL, &s_si, err)) != GG_OK) goto out;
    if ((st = act_stream_get(ctx, dst, NULL, &d_si, err)) != GG_OK) goto out;
    for (size_t i = 0; i < n && st == GG_OK; i++) {
      if (!d_si || !act_has_subject(d_si->Config->Subjects, d_si->Config->SubjectsLen, subjects[i]))
        st = gg_error_set(err, GG_ERR_STATE, "after the move, stream '%s' does not hold '%s'", dst,
                          subjects[i]);
      else if (s_si && act_has_subject(s_si->Config->Subjects, s_si->Config->SubjectsLen, subjects[i]))
        st =
            gg_error_set(err, GG_ERR_STATE, "after the move, stream '%s' still holds '%s'", src, subjects[i]);
    }
    if (st == GG_OK || gg_clock_mono() >= until) break;
    gg_error_clear(err);
    st = GG_OK;
    usleep(200 * 1000);
  }
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

gg_status act_move_subjects_forward(act_ctx *ctx, const plan_action *a, const json_t *prior,
                                    const json_t *observed, json_t *out, gg_error *err) {
  char subj[512];
  subjects_join(a->subjects, a->nsubjects, subj, sizeof subj);
  double gap = -1;
  gg_status st = move(ctx, a->subjects, a->nsubjects, a->from, a->to, &gap, err);
  /* The new stream's last sequence before the cutover (of the first attempt, when a killed one
   * is resumed): what a rollback carries back starts after it. */
  const json_t *seen = prior ? json_object_get(prior, "observed") : observed;
  json_t *cut = json_object_get(seen, "to_last_seq");
  json_object_set_new(out, "undo", json_pack("{s:I}", "to_last_seq", (json_int_t)json_integer_value(cut)));
  if (st != GG_OK) return st;
  if (gap < 0) {
    json_object_set_new(out, "result", json_string("noop"));
    act_say(ctx, "%s already on %s", subj, a->to);
    return GG_OK;
  }
  json_object_set_new(out, "result", json_string("ok"));
  json_object_set_new(out, "gap_ms", json_real(gap));
  if (gg_failpoint_on("act.cutover.lose")) { /* tests only: a cutover that loses messages */
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
    jsErrCode je = 0;
    if (js_PurgeStream(ctx->js, a->to, NULL, &je) == NATS_OK)
      act_say(ctx, "failpoint act.cutover.lose: purged '%s' (test only)", a->to);
  }
  if (ctx->sum && gap > ctx->sum->gap_ms) ctx->sum->gap_ms = gap;
  act_change(ctx, "moved %s %s -> %s (gap %.1f ms)", subj, a->from, a->to, gap);
  /* Forward, the rest of the phase can wait 2.5 s: snapshot the meta layer now, so a node lost
   * during the drain or the verification does not replay the old subjects when it restarts
   * (peers.h). A rollback's move back defers it to its end (act_ctx_release) instead. */
  act_meta_checkpoint_now(ctx);
  return GG_OK;
}

/* Move the subjects back, then carry back what the phase left unconsumed in the new stream
 * (carryback.c): run again after a kill, the move is a no-op and the carry-back is repeated. */
gg_status act_move_subjects_inverse(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out,
                                    gg_error *err) {
  char subj[512];
  subjects_join(a->subjects, a->nsubjects, subj, sizeof subj);
  double gap = -1;
  gg_status st = move(ctx, a->subjects, a->nsubjects, a->to, a->from, &gap, err);
  if (st != GG_OK) return st;
  if (gap >= 0) {
    json_object_set_new(out, "gap_ms", json_real(gap));
    act_change(ctx, "moved %s back %s -> %s (gap %.1f ms)", subj, a->to, a->from, gap);
  }
  if ((st = act_carry_back(ctx, a, undo, out, err)) != GG_OK) return st;
  long found = (long)json_integer_value(json_object_get(json_object_get(out, "carried"), "found"));
  json_object_set_new(out, "result", json_string(gap < 0 && found == 0 ? "noop" : "ok"));
  return GG_OK;
}
