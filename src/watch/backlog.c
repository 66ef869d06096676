/*
 * backlog.c: the samples a tick took while the journal's database did not answer. They are held
 * (bounded, oldest dropped first and counted) and appended with their own times, oldest first,
 * once it answers again, so `check`'s rate() and increase() windows read no hole where the
 * outage was. Watcher thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "watch/internal.h"

static void drop_front(watch *w, size_t n) {
  for (size_t i = 0; i < n; i++) free((char *)w->backlog[i].labels);
  memmove(w->backlog, w->backlog + n, (w->nbacklog - n) * sizeof *w->backlog);
  w->nbacklog -= n;
}

/* Append s[0..n) (their labels now owned here) to the backlog; false when out of memory (the
 * caller keeps ownership then). */
static bool hold(watch *w, const journal_sample *s, size_t n) {
  if (w->nbacklog + n > w->backlog_cap) {
    size_t cap = w->backlog_cap ? w->backlog_cap : 256;
    while (cap < w->nbacklog + n) cap *= 2;
    journal_sample *a = realloc(w->backlog, cap * sizeof *a);
    if (!a) return false;
    w->backlog = a;
    w->backlog_cap = cap;
  }
  memcpy(w->backlog + w->nbacklog, s, n * sizeof *s);
  w->nbacklog += n;
  if (w->nbacklog > WATCH_SAMPLE_BACKLOG) {
    size_t over = w->nbacklog - WATCH_SAMPLE_BACKLOG;
    drop_front(w, over);
    w->backlog_dropped += over;
  }
  return true;
}

/* Append the backlog, oldest first, at most `batches` batches of WATCH_SAMPLE_BATCH; how many
 * were written. Stops at the first refusal, keeping what was not written. */
static size_t flush(watch *w, size_t batches) {
  size_t written = 0;
  for (size_t b = 0; b < batches && w->nbacklog > 0; b++) {
    size_t batch = w->nbacklog < WATCH_SAMPLE_BATCH ? w->nbacklog : WATCH_SAMPLE_BATCH;
    gg_error err;
    gg_error_clear(&err);
    if (journal_samples_add(w->j, w->backlog, batch, &err) != GG_OK) {
      gg_warn("journal samples failed; held for the next tick", "held=%zu dropped=%zu err=\"%s\"",
              w->nbacklog, w->backlog_dropped, gg_error_message(&err));
      break;
    }
    drop_front(w, batch);
    written += batch;
  }
  return written;
}

size_t watch_samples_record(watch *w, journal_sample *s, size_t n) {
  bool behind = w->nbacklog > 0;
  if (n > 0 && !hold(w, s, n)) {
    gg_log_error("samples not recorded: out of memory", "count=%zu", n);
    for (size_t i = 0; i < n; i++) free((char *)s[i].labels);
  }
  size_t written = flush(w, 1); /* one batch a tick: the tick stays short while it catches up */
  if (behind && w->nbacklog == 0) {
    gg_info("journal samples caught up", "appended=%zu dropped=%zu", written, w->backlog_dropped);
    w->backlog_dropped = 0;
  }
  return written;
}

void watch_samples_release(watch *w) {
  while (w->nbacklog > 0 && flush(w, 1) > 0) {
  }
  if (w->nbacklog > 0)
    gg_log_error("journal unreachable at exit: samples not recorded", "count=%zu", w->nbacklog);
  drop_front(w, w->nbacklog);
  free(w->backlog);
  w->backlog = NULL;
  w->backlog_cap = 0;
}
