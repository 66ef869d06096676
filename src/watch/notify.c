/*
 * notify.c: webhook notifications on their own thread. A delivery (one message to one webhook)
 * is tried up to `attempts` times with exponential backoff; the watcher only queues, so a slow
 * or dead receiver never delays sampling. Webhook URLs are secrets (a Slack hook URL is its own
 * credential): logs and errors show the secret's label instead.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/json.h"
#include "base/log.h"
#include "watch/watch.h"

typedef struct delivery {
  struct delivery *next;
  size_t hook;
  char *body;
  int tries;
  double next_at; /* monotonic */
} delivery;

struct watch_notifier {
  const plan_notify *hooks;
  size_t nhooks;
  watch_notifier_opts o;
  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  delivery *head, *tail;
  size_t queued;
  bool stop;
  bool busy; /* a delivery is in flight */
  watch_notifier_stats stats;
};

json_t *watch_notify_payload(const char *migration, const char *text, json_t *event) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "text", json_string(text ? text : ""));
  json_object_set_new(o, "migration", json_string(migration ? migration : ""));
  json_object_set_new(o, "source", json_string("gonogo watch"));
  json_object_set(o, "event", event ? event : json_null());
  return o;
}

/* Replace every occurrence of the webhook's URL in msg with its label. */
static void scrub(char *msg, size_t cap, const char *url, const char *label) {
  if (!url || strlen(url) < 4) return;
  char out[512];
  size_t o = 0, ul = strlen(url), ll = strlen(label);
  for (const char *p = msg; *p && o + 1 < sizeof out;) {
    if (strncmp(p, url, ul) == 0) {
      for (size_t i = 0; i < ll && o + 1 < sizeof out; i++) out[o++] = label[i];
      p += ul;
    } else {
      out[o++] = *p++;
    }
  }
  out[o] = '\0';
  snprintf(msg, cap, "%s", out);
}

static void deliver(watch_notifier *nt, delivery *d, bool *ok, char *why, size_t whylen) {
  const plan_notify *h = &nt->hooks[d->hook];
  const char *url = gg_secret_reveal(&h->webhook);
  gg_http_opts ho = {.timeout = nt->o.timeout, .max_body = 64 << 10};
  gg_http_response resp = {0};
  gg_error err;
  gg_error_clear(&err);
  *ok = false;
  if (gg_http_post(url, "application/json", d->body, strlen(d->body), &ho, &resp, &err) == GG_OK) {
    if (resp.status >= 200 && resp.status < 300)
      *ok = true;
    else
      snprintf(why, whylen, "POST %s: HTTP %ld", gg_secret_label(&h->webhook), resp.status);
    gg_http_response_release(&resp);
  } else {
    snprintf(why, whylen, "%s", gg_error_message(&err));
  }
  scrub(why, whylen, url, gg_secret_label(&h->webhook));
}

static void *run(void *arg) {
  watch_notifier *nt = arg;
  pthread_mutex_lock(&nt->mu);
  for (;;) {
    /* the ready delivery with the earliest next_at */
    delivery *pick = NULL, *prev_pick = NULL, *prev = NULL;
    double now = gg_clock_mono();
    for (delivery *d = nt->head; d; prev = d, d = d->next)
      if (!pick || d->next_at < pick->next_at) pick = d, prev_pick = prev;
    if (!pick) {
      if (nt->stop) break;
      pthread_cond_wait(&nt->cv, &nt->mu);
      continue;
    }
    if (pick->next_at > now) {
      if (nt->stop) break; /* retries still waiting are dropped at stop */
      double wait = pick->next_at - now;
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + wait;
      ts.tv_sec = (time_t)t;
      ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
      pthread_cond_timedwait(&nt->cv, &nt->mu, &ts);
      continue;
    }
    /* unlink and deliver without the lock */
    if (prev_pick)
      prev_pick->next = pick->next;
    else
      nt->head = pick->next;
    if (nt->tail == pick) nt->tail = prev_pick;
    pick->next = NULL;
    nt->busy = true;
    pthread_mutex_unlock(&nt->mu);
    bool ok;
    char why[256] = "";
    deliver(nt, pick, &ok, why, sizeof why);
    pick->tries++;
    pthread_mutex_lock(&nt->mu);
    nt->busy = false;
    if (ok) {
      nt->stats.sent++;
      nt->queued--;
      free(pick->body);
      free(pick);
    } else if (pick->tries >= nt->o.attempts) {
      nt->stats.failed++;
      nt->queued--;
      snprintf(nt->stats.last_error, sizeof nt->stats.last_error, "%s", why);
      gg_warn("notification failed", "webhook=\"%s\" tries=%d err=\"%s\"",
              gg_secret_label(&nt->hooks[pick->hook].webhook), pick->tries, why);
      free(pick->body);
      free(pick);
    } else {
      nt->stats.retries++;
      snprintf(nt->stats.last_error, sizeof nt->stats.last_error, "%s", why);
      double backoff = nt->o.backoff;
      for (int i = 1; i < pick->tries; i++) backoff *= 2;
      pick->next_at = gg_clock_mono() + backoff;
      gg_info("notification retry", "webhook=\"%s\" try=%d in=%.1fs err=\"%s\"",
              gg_secret_label(&nt->hooks[pick->hook].webhook), pick->tries, backoff, why);
      if (nt->tail)
        nt->tail->next = pick;
      else
        nt->head = pick;
      nt->tail = pick;
    }
    pthread_cond_broadcast(&nt->cv);
  }
  pthread_mutex_unlock(&nt->mu);
  return NULL;
}

gg_status watch_notifier_new(const plan_notify *hooks, size_t n, const watch_notifier_opts *opts,
                             watch_notifier **out, gg_error *err) {
  watch_notifier *nt = calloc(1, sizeof *nt);
  if (!nt) return gg_error_set(err, GG_ERR_NOMEM, "notifier");
  nt->hooks = hooks;
  for (size_t i = 0; i < n; i++)
    if (gg_secret_present(&hooks[i].webhook)) nt->nhooks = i + 1; /* empty entries are skipped when sending */
  if (opts) nt->o = *opts;
  if (nt->o.attempts <= 0) nt->o.attempts = 5;
  if (nt->o.backoff <= 0) nt->o.backoff = 1;
  if (nt->o.timeout <= 0) nt->o.timeout = 5;
  if (nt->o.queue_max == 0) nt->o.queue_max = 256;
  pthread_mutex_init(&nt->mu, NULL);
  pthread_cond_init(&nt->cv, NULL);
  if (pthread_create(&nt->thread, NULL, run, nt) != 0) {
    pthread_mutex_destroy(&nt->mu);
    pthread_cond_destroy(&nt->cv);
    free(nt);
    return gg_error_set(err, GG_ERR_SYSTEM, "start the notifier thread");
  }
  nt->started = true;
  *out = nt;
  return GG_OK;
}

void watch_notifier_send(watch_notifier *nt, json_t *payload) {
  if (!nt || !payload) return;
  char *text = gg_json_dump(payload);
  if (!text) return;
  pthread_mutex_lock(&nt->mu);
  for (size_t i = 0; i < nt->nhooks; i++) {
    if (!gg_secret_present(&nt->hooks[i].webhook)) continue;
    if (nt->queued >= nt->o.queue_max && nt->head) { /* drop the oldest */
      delivery *old = nt->head;
      nt->head = old->next;
      if (nt->tail == old) nt->tail = NULL;
      free(old->body);
      free(old);
      nt->queued--;
      nt->stats.dropped++;
    }
    delivery *d = calloc(1, sizeof *d);
    char *body = strdup(text);
    if (!d || !body) {
      free(d);
      free(body);
      nt->stats.dropped++;
      continue;
    }
    d->hook = i;
    d->body = body;
    d->next_at = gg_clock_mono();
    if (nt->tail)
      nt->tail->next = d;
    else
      nt->head = d;
    nt->tail = d;
    nt->queued++;
  }
  pthread_cond_broadcast(&nt->cv);
  pthread_mutex_unlock(&nt->mu);
  free(text);
}

void watch_notifier_get_stats(watch_notifier *nt, watch_notifier_stats *out) {
  pthread_mutex_lock(&nt->mu);
  *out = nt->stats;
  out->queued = nt->queued;
  pthread_mutex_unlock(&nt->mu);
}

void watch_notifier_free(watch_notifier *nt, double drain) {
  if (!nt) return;
  double until = gg_clock_mono() + (drain > 0 ? drain : 0);
  pthread_mutex_lock(&nt->mu);
  while (nt->queued > 0 && gg_clock_mono() < until) {
    /* wait for deliveries that are due now; retries scheduled past the deadline are dropped */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&nt->cv, &nt->mu, &ts);
  }
  nt->stop = true;
  pthread_cond_broadcast(&nt->cv);
  pthread_mutex_unlock(&nt->mu);
  if (nt->started) pthread_join(nt->thread, NULL);
  for (delivery *d = nt->head, *next; d; d = next) {
    next = d->next;
    free(d->body);
    free(d);
  }
  pthread_mutex_destroy(&nt->mu);
  pthread_cond_destroy(&nt->cv);
  free(nt);
}
