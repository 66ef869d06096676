/*
 * continuity.c: verify_continuity — the subjects' totals across both streams against the
 * baseline journaled by the cutover (and the publisher counter when one is named), and nothing
 * left pending on the old stream's consumers of those subjects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "probe/probe.h"

/* ---- verify_continuity ---- */

static gg_status retention_is_limits(act_ctx *ctx, const char *stream, bool *limits, gg_error *err) {
  jsStreamInfo *si = NULL;
  gg_status st = act_stream_get(ctx, stream, NULL, &si, err);
  *limits = !si || si->Config->Retention == js_LimitsPolicy;
  jsStreamInfo_Destroy(si);
  return st;
}

gg_status act_verify_continuity_forward(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  json_t *base = act_run_baseline(ctx, a->from, a->to);
  gg_status st = GG_OK;
  if (!base) {
    return gg_error_set(err, GG_ERR_STATE,
                        "verify_continuity %s -> %s: no move_subjects baseline in this phase's journal",
                        a->from, a->to);
  }
  double c1 = 0, c1b = 0;
  uint64_t from_n = 0, to_n = 0;
  if (a->publisher_counter && (st = act_counter_value(ctx, a->publisher_counter, &c1, err)) != GG_OK)
    goto out;
  if ((st = act_subject_total(ctx, a->from, a->subjects, a->nsubjects, &from_n, err)) != GG_OK) goto out;
  if ((st = act_subject_total(ctx, a->to, a->subjects, a->nsubjects, &to_n, err)) != GG_OK) goto out;
  if (a->publisher_counter && (st = act_counter_value(ctx, a->publisher_counter, &c1b, err)) != GG_OK)
    goto out;
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
