/*
 * hold.c: the monitor rules evaluated during a shift step's hold (DESIGN §14). The same
 * watcher as `gonogo watch` (sampling, journaled samples, rule states, notifications), run on
 * the caller's thread and journal handle for the hold's length, without an HTTP server. Its
 * rollback callback does not roll back: the run holding the lease does, right after the hold
 * ends, so a firing `rollback` rule ends the hold and is handed back to the shift, which sets
 * the share to 0 at once. The watcher says "waits for the lease", which is what happens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "watch/internal.h"

struct watch_holder {
  watch *w;
  char fired[GG_ERROR_MSG_MAX];
};

static gg_status hand_back(void *ud, const plan *p, journal *j, const char *phase, const char *reason,
                           gg_error *err) {
  (void)p;
  (void)j;
  watch_holder *h = ud;
  if (!h->fired[0]) snprintf(h->fired, sizeof h->fired, "%s", reason);
  return gg_error_set(err, GG_ERR_LOCKED,
                      "the run of phase %s rolls it back itself, the share going to 0%% first", phase);
}

gg_status watch_holder_new(const plan *p, journal *j, double interval, watch_holder **out, gg_error *err) {
  *out = NULL;
  watch_holder *h = calloc(1, sizeof *h);
  if (!h) return gg_error_set(err, GG_ERR_NOMEM, "shift hold: out of memory");
  watch_opts o = {.listen = NULL,
                  .interval = interval,
                  .rollback = hand_back,
                  .rollback_ud = h,
                  .actor = "gonogo run (shift hold)"};
  gg_status st = watch_new(p, j, &o, &h->w, err);
  if (st != GG_OK) {
    free(h);
    return st;
  }
  *out = h;
  return GG_OK;
}

gg_status watch_holder_hold(watch_holder *h, double seconds, char *fired, size_t cap, gg_error *err) {
  (void)err;
  fired[0] = '\0';
  h->fired[0] = '\0';
  double end = gg_clock_mono() + seconds, next = gg_clock_mono();
  for (;;) {
    double now = gg_clock_mono();
    if (now >= next) {
      gg_error e;
      gg_error_clear(&e);
      if (watch_tick(h->w, &e) != GG_OK)
        gg_warn("shift hold evaluation failed", "err=\"%s\"", gg_error_message(&e));
      if (h->fired[0]) {
        snprintf(fired, cap, "%s", h->fired);
        return GG_OK;
      }
      next += h->w->interval;
      if (next < gg_clock_mono()) next = gg_clock_mono();
    }
    if (gg_clock_mono() >= end) return GG_OK;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

void watch_holder_free(watch_holder *h) {
  if (!h) return;
  watch_free(h->w);
  free(h);
}
