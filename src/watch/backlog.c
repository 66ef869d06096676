/*
 * backlog.c: the samples a tick took while the journal's database did not answer. They are held
 * (bounded, oldest dropped first and counted) and appended with their own times, oldest first,
 * once it answers again, so `check`'s rate() and increase() windows read no hole where the
 * outage was. Watcher thread only.
 */
#include <pthread.h>
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

/* Append the backlog, oldest first, at most `batches` batches of WATCH_SAMPLE_BATCH (*written:
 * how many). Stops at the first refusal, keeping what was not written, and returns it. */
static gg_status flush(watch *w, size_t batches, size_t *written, gg_error *err) {
  *written = 0;
  for (size_t b = 0; b < batches && w->nbacklog > 0; b++) {
    size_t batch = w->nbacklog < WATCH_SAMPLE_BATCH ? w->nbacklog : WATCH_SAMPLE_BATCH;
    gg_status st = journal_samples_add(w->j, w->backlog, batch, err);
    if (st != GG_OK) return st;
    drop_front(w, batch);
    *written += batch;
  }
  return GG_OK;
}

gg_status watch_samples_record(watch *w, journal_sample *s, size_t n, gg_error *err) {
  bool behind = w->nbacklog > 0;
  if (n > 0 && !hold(w, s, n)) {
    for (size_t i = 0; i < n; i++) free((char *)s[i].labels);
    return gg_error_set(err, GG_ERR_NOMEM, "%zu samples not recorded: out of memory", n);
  }
  size_t written = 0;
  gg_status st = flush(w, 1, &written, err); /* one batch a tick: the tick stays short while it catches up */
  w->backlog_written += written;
  if (st != GG_OK)
    return gg_error_prefix(err, "journal samples: %zu held for the next tick (%zu dropped, the oldest): ",
                           w->nbacklog, w->backlog_dropped);
  if (behind && w->nbacklog == 0) {
    gg_info("journal samples caught up", "appended=%zu dropped=%zu", w->backlog_written, w->backlog_dropped);
    w->backlog_dropped = 0;
    pthread_mutex_lock(&w->mu); /* the page's error line said they were held */
    if (strncmp(w->last_error, "journal samples: ", 17) == 0) w->last_error[0] = '\0';
    pthread_mutex_unlock(&w->mu);
  }
  if (w->nbacklog == 0) w->backlog_written = 0;
  return GG_OK;
}

void watch_samples_release(watch *w) {
  gg_error err;
  gg_error_clear(&err);
  size_t written = 1;
  while (w->nbacklog > 0 && written > 0 && flush(w, 1, &written, &err) == GG_OK) {
  }
  if (w->nbacklog > 0)
    gg_log_error("journal unreachable at exit: samples not recorded", "count=%zu err=\"%s\"", w->nbacklog,
                 gg_error_message(&err));
  drop_front(w, w->nbacklog);
  free(w->backlog);
  w->backlog = NULL;
  w->backlog_cap = 0;
}
