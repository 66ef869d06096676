/*
 * drain.c: wait until a consumer's pending and unacknowledged messages are at or below `until`,
 * with progress (rate, ETA) and a timeout that fails the action.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"
#include "base/failpoint.h"
#include "base/units.h"

/* ---- drain ---- */

gg_status act_drain_forward(act_ctx *ctx, const plan_action *a, json_t *out, gg_error *err) {
  double until = a->until >= 0 ? a->until : 0;
  double timeout = a->timeout > 0 ? a->timeout : 1800;
  double t0 = gg_clock_mono(), last_say = -10;
  double first_pending = -1;
  for (;;) {
    jsConsumerInfo *ci = NULL;
    gg_status st = act_consumer_get(ctx, a->stream, a->consumer, &ci, err);
    if (st != GG_OK) return st;
    if (!ci)
      return gg_error_set(err, GG_ERR_NOT_FOUND, "drain: consumer '%s/%s' does not exist", a->stream,
                          a->consumer);
    double pending = (double)ci->NumPending + (double)ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    gg_failpoint("act.drain.progress");
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
    if (now - last_say >= ACT_PROGRESS_EVERY) { /* a line every few seconds, not one a poll */
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
