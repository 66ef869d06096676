/*
 * publish: a bounded JetStream publisher for the benchmarks — RATE messages a second for SECONDS
 * seconds on PREFIX.<n % 16>, each with a Nats-Msg-Id, "no responders" retried within 5 s (a
 * cutover's gap), or until SIGTERM. Prints "published=N failures=M" at the end. NATS_URL from the
 * environment.
 * Usage: publish RATE SECONDS PREFIX
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double rate = argc > 1 ? strtod(argv[1], NULL) : 0, seconds = argc > 2 ? strtod(argv[2], NULL) : 0;
  const char *prefix = argc > 3 ? argv[3] : NULL, *url = getenv("NATS_URL");
  if (rate <= 0 || rate > 20000 || seconds <= 0 || seconds > 600 || !prefix || !url) {
    fprintf(stderr, "usage: publish RATE(<=20000) SECONDS(<=600) PREFIX  (NATS_URL set)\n");
    return 2;
  }
  char *copy = strdup(url), *save = NULL;
  const char *servers[8];
  int ns = 0;
  for (char *t = strtok_r(copy, ",", &save); t && ns < 8; t = strtok_r(NULL, ",", &save)) servers[ns++] = t;
  natsOptions *o = NULL;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  natsOptions_Create(&o);
  natsOptions_SetServers(o, servers, ns);
  if (natsConnection_Connect(&nc, o) != NATS_OK || natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
    fprintf(stderr, "publish: connect %s failed\n", url);
    return 1;
  }
  natsOptions_Destroy(o);
  signal(SIGTERM, on_term);
  long published = 0, failures = 0;
  double t0 = mono();
  for (long n = 0; !stop && mono() - t0 < seconds; n++) {
    double due = t0 + (double)n / rate, now = mono();
    if (due > now) usleep((useconds_t)((due - now) * 1e6));
    char id[64], subj[128];
    snprintf(id, sizeof id, "p%d-%ld", (int)getpid(), n);
    snprintf(subj, sizeof subj, "%s.%ld", prefix, n % 16);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = 2000;
    double budget = mono() + 5;
    natsStatus s;
    for (;;) {
      s = js_Publish(NULL, js, subj, id, (int)strlen(id), &po, NULL);
      if (s == NATS_OK || (s != NATS_NO_RESPONDERS && s != NATS_TIMEOUT) || mono() > budget) break;
      usleep(200);
    }
    if (s == NATS_OK)
      published++;
    else
      failures++;
  }
  printf("published=%ld failures=%ld\n", published, failures);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  free(copy);
  return failures ? 1 : 0;
}
