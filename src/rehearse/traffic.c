/*
 * traffic.c: HRV readings posted to ingest-service (or the plan's `rehearsal.publish` body to its
 * url) at a steady rate, each with a unique event id
 * ("<prefix><n>", n counting from 0), and a ledger of what became of each: accepted (202: ingest
 * answers only after the JetStream ack), refused (any other answer) or unknown (no answer in
 * time: it may have been stored). Several posters share one schedule, so a slow answer on one
 * does not lower the rate.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/http.h"
#include "rehearse/internal.h"

/* Ids a rehearsal can post (4 bytes each): over an hour at 500 msg/s. */
#define TRAFFIC_IDS_MAX 2000000
#define TRAFFIC_POSTERS 4

struct rehearse_traffic {
  char url[1024];
  char *body; /* the template ({{id}}, {{now}}); NULL: an HRV reading */
  char prefix[64];
  double rate;
  double t0;
  atomic_long next;
  atomic_long accepted;
  atomic_int phase;
  atomic_bool stop;
  rehearse_id *ids;
  pthread_t threads[TRAFFIC_POSTERS];
  int nthreads;
  bool stopped;
};

static void sleep_until(double mono) {
  double d = mono - gg_clock_mono();
  if (d <= 0) return;
  struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
  nanosleep(&ts, NULL);
}

/* The template with {{id}} and {{now}} replaced; the length, or -1 when it does not fit. */
static int expand(const char *tmpl, const char *id, const char *now, char *out, size_t cap) {
  size_t k = 0;
  for (const char *p = tmpl; *p; p++) {
    const char *with = strncmp(p, "{{id}}", 6) == 0 ? id : strncmp(p, "{{now}}", 7) == 0 ? now : NULL;
    size_t wl = with ? strlen(with) : 1;
    if (k + wl >= cap) return -1;
    memcpy(out + k, with ? with : p, wl);
    k += wl;
    if (with) p += with == id ? 5 : 6;
  }
  out[k] = '\0';
  return (int)k;
}

static uint8_t post_one(rehearse_traffic *t, long n) {
  char body[8192], when[40], id[96];
  gg_time_format(gg_clock_now(), when, sizeof when);
  snprintf(id, sizeof id, "%s%ld", t->prefix, n);
  int len = t->body
                ? expand(t->body, id, when, body, sizeof body)
                : snprintf(body, sizeof body,
                           "{\"event_id\":\"%s\",\"athlete_id\":\"gonogo-rehearse\",\"measured_at\":\"%s\","
                           "\"rmssd_ms\":%.1f,\"source\":\"gonogo-rehearse\"}",
                           id, when, 20.0 + (double)(n % 800) / 10.0);
  if (len < 0) return REH_ID_REFUSED;
  gg_http_opts o = {.timeout = 15, .max_body = 4096};
  gg_http_response r = {0};
  gg_error e;
  gg_error_clear(&e);
  gg_status st = gg_http_post(t->url, "application/json", body, (size_t)len, &o, &r, &e);
  if (st != GG_OK) return st == GG_ERR_TIMEOUT ? REH_ID_UNKNOWN : REH_ID_REFUSED;
  long code = r.status;
  gg_http_response_release(&r);
  /* Ingest answers 202 after the JetStream ack; a plan's own target any 2xx. */
  return (t->body ? code >= 200 && code < 300 : code == 202) ? REH_ID_ACCEPTED : REH_ID_REFUSED;
}

static void *poster(void *arg) {
  rehearse_traffic *t = arg;
  while (!atomic_load(&t->stop)) {
    long n = atomic_fetch_add(&t->next, 1);
    if (n >= TRAFFIC_IDS_MAX) break;
    sleep_until(t->t0 + (double)n / t->rate);
    if (atomic_load(&t->stop)) {
      /* Not posted: the next one to be numbered is past the end, so the ledger stays dense. */
      break;
    }
    t->ids[n].phase = (uint8_t)atomic_load(&t->phase);
    uint8_t state = post_one(t, n);
    t->ids[n].state = state;
    if (state == REH_ID_ACCEPTED) atomic_fetch_add(&t->accepted, 1);
  }
  return NULL;
}

gg_status rehearse_traffic_start(const char *url, const char *body, const char *prefix, double rate,
                                 rehearse_traffic **out, gg_error *err) {
  *out = NULL;
  rehearse_traffic *t = calloc(1, sizeof *t);
  if (!t || !(t->ids = calloc(TRAFFIC_IDS_MAX, sizeof *t->ids))) {
    free(t);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  snprintf(t->url, sizeof t->url, "%s", url);
  if (body && !(t->body = strdup(body))) {
    free(t->ids);
    free(t);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  snprintf(t->prefix, sizeof t->prefix, "%s", prefix);
  t->rate = rate;
  t->t0 = gg_clock_mono();
  for (int i = 0; i < TRAFFIC_POSTERS; i++) {
    if (pthread_create(&t->threads[i], NULL, poster, t) != 0) {
      rehearse_traffic_free(t);
      return gg_error_set(err, GG_ERR_SYSTEM, "traffic: cannot start a poster thread");
    }
    t->nthreads++;
  }
  *out = t;
  return GG_OK;
}

void rehearse_traffic_set_phase(rehearse_traffic *t, int phase) {
  atomic_store(&t->phase, phase);
}

void rehearse_traffic_stop(rehearse_traffic *t) {
  if (!t || t->stopped) return;
  atomic_store(&t->stop, true);
  for (int i = 0; i < t->nthreads; i++) pthread_join(t->threads[i], NULL);
  t->stopped = true;
}

rehearse_id *rehearse_traffic_ids(rehearse_traffic *t, size_t *n) {
  long next = atomic_load(&t->next);
  /* Ids numbered but never posted (the posters stopped) stay REH_ID_UNSENT. */
  *n = (size_t)(next < TRAFFIC_IDS_MAX ? next : TRAFFIC_IDS_MAX);
  return t->ids;
}

long rehearse_traffic_accepted(rehearse_traffic *t) {
  return atomic_load(&t->accepted);
}

void rehearse_traffic_free(rehearse_traffic *t) {
  if (!t) return;
  rehearse_traffic_stop(t);
  free(t->ids);
  free(t->body);
  free(t);
}
