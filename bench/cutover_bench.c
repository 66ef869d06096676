/*
 * cutover_bench: N cutovers of a subject between two pre-existing R3 streams through gg_act
 * (act_run_phase / act_rollback_phase, exactly what `gonogo run` and `gonogo rollback` do)
 * under a publisher of R messages a second that sends a Nats-Msg-Id per message and retries
 * "no responders" within a 5 s budget. The phase also creates a consumer on the new stream that
 * nothing reads (a stalled service), so every rollback carries back what the new stream received
 * while the phase was in force (HOLD seconds). Every message must end up in the old stream, once:
 * lost and duplicated compare what it holds with what was acknowledged. Prints one line of
 * key=value figures:
 *   cutovers gap_p50_ms gap_p99_ms gap_max_ms rollback_p50_ms rollback_p99_ms rollback_max_ms
 *   inverse_gap_p50_ms carried_p50 published stored lost duplicated publish_failures
 * Usage: cutover_bench [CUTOVERS] [RATE] [HOLD]  (NATS_URL from the environment)
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "act/act.h"
#include "journal/journal.h"
#include "plan/plan.h"

#define PUBLISHERS 4

static jsCtx *js;
static atomic_bool on;
static atomic_long acked, failures;
static double rate;

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *publisher(void *arg) {
  long me = (long)(intptr_t)arg;
  double t0 = mono(), each = rate / PUBLISHERS;
  for (long n = 0; atomic_load(&on); n++) {
    double due = t0 + (double)n / each, now = mono();
    if (due > now) usleep((useconds_t)((due - now) * 1e6));
    char id[48], subj[48];
    snprintf(id, sizeof id, "b%ld-%ld", me, n);
    snprintf(subj, sizeof subj, "bench.cut.%ld", n % 16);
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
      atomic_fetch_add(&acked, 1);
    else
      atomic_fetch_add(&failures, 1);
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  int i = (int)ceil(p * n) - 1;
  return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static uint64_t stored(const char *stream) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = "bench.cut.>";
  jsStreamInfo *si = NULL;
  uint64_t n = 0;
  if (js_GetStreamInfo(&si, js, stream, &o, NULL) == NATS_OK && si->State.Subjects)
    for (int i = 0; i < si->State.Subjects->Count; i++) n += si->State.Subjects->List[i].Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

static const char plan_text[] =
    "migration: bench-cutover\n"
    "connect: { nats: { servers: \"${NATS_URL}\" } }\n"
    "topology:\n"
    "  streams:\n"
    "    BENCH_CUT_A: { existing: true, subjects: [bench.cut.>], replicas: 3 }\n"
    "    BENCH_CUT_B: { existing: true, subjects: [bench.cut.>], replicas: 3 }\n"
    "  consumers:\n"
    "    BENCH_CUT_B/stalled: { filter: bench.cut.>, ack_wait: 30s, max_ack_pending: 1000 }\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: cutover\n"
    "    actions:\n"
    "      - move_subjects: { subjects: [bench.cut.>], from: BENCH_CUT_A, to: BENCH_CUT_B }\n"
    "      - create_consumer: BENCH_CUT_B/stalled\n";

int main(int argc, char **argv) {
  int cutovers = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20;
  rate = argc > 2 ? strtod(argv[2], NULL) : 2000;
  double hold = argc > 3 ? strtod(argv[3], NULL) : 0.1;
  if (cutovers < 1 || cutovers > 1000 || rate <= 0 || hold < 0 || hold > 60) {
    fprintf(stderr, "usage: cutover_bench [CUTOVERS] [RATE] [HOLD]\n");
    return 2;
  }
  const char *url = getenv("NATS_URL");
  if (!url) {
    fprintf(stderr, "cutover_bench: NATS_URL is not set\n");
    return 2;
  }
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  if (plan_load_buffer("cutover.yaml", plan_text, sizeof plan_text - 1, NULL, &p, &d, &err) != GG_OK) {
    fprintf(stderr, "cutover_bench: plan: %s\n", gg_error_message(&err));
    return 1;
  }
  plan_diags_release(&d);
  char *copy = strdup(url), *save = NULL;
  const char *servers[8];
  int ns = 0;
  for (char *t = strtok_r(copy, ",", &save); t && ns < 8; t = strtok_r(NULL, ",", &save)) servers[ns++] = t;
  natsOptions *o = NULL;
  natsConnection *nc = NULL;
  natsOptions_Create(&o);
  natsOptions_SetServers(o, servers, ns);
  if (natsConnection_Connect(&nc, o) != NATS_OK || natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
    fprintf(stderr, "cutover_bench: connect %s failed\n", url);
    return 1;
  }
  natsOptions_Destroy(o);
  const char *names[2] = {"BENCH_CUT_A", "BENCH_CUT_B"};
  const char *subj_a[] = {"bench.cut.>"}, *subj_b[] = {"BENCH_CUT_B"};
  for (int i = 0; i < 2; i++) {
    js_DeleteStream(js, names[i], NULL, NULL);
    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    c.Name = names[i];
    c.Subjects = i ? subj_b : subj_a;
    c.SubjectsLen = 1;
    c.Replicas = 3;
    c.Storage = js_FileStorage;
    jsErrCode je = 0;
    if (js_AddStream(NULL, js, &c, NULL, &je) != NATS_OK) {
      fprintf(stderr, "cutover_bench: create %s: error %d\n", names[i], (int)je);
      return 1;
    }
  }
  char jpath[128];
  snprintf(jpath, sizeof jpath, "/tmp/gonogo-cutover-bench-%d.db", (int)getpid());
  journal *j = NULL;
  if (journal_open(jpath, JOURNAL_OPEN_CREATE, &j, &err) != GG_OK) {
    fprintf(stderr, "cutover_bench: %s\n", gg_error_message(&err));
    return 1;
  }

  atomic_store(&on, true);
  pthread_t th[PUBLISHERS];
  for (long i = 0; i < PUBLISHERS; i++) pthread_create(&th[i], NULL, publisher, (void *)(intptr_t)i);
  sleep(1);
  double *gaps = calloc((size_t)cutovers, sizeof *gaps), *rbs = calloc((size_t)cutovers, sizeof *rbs);
  double *igaps = calloc((size_t)cutovers, sizeof *igaps),
         *carried = calloc((size_t)cutovers, sizeof *carried);
  int rc = 0;
  for (int k = 0; k < cutovers && rc == 0; k++) {
    act_summary s;
    act_run_opts ro = {.actor = "cutover_bench"};
    if (act_run_phase(p, j, "1", &ro, &s, &err) != GG_OK || s.gap_ms < 0) {
      fprintf(stderr, "cutover_bench: cutover %d: %s\n", k + 1, gg_error_message(&err));
      rc = 1;
    }
    gaps[k] = s.gap_ms;
    act_summary_release(&s);
    usleep((useconds_t)(hold * 1e6)); /* readings pile up on the stalled consumer */
    double t0 = mono();
    if (rc == 0 && act_rollback_phase(p, j, "1", "bench", "cutover_bench", true, NULL, NULL, &err) != GG_OK) {
      fprintf(stderr, "cutover_bench: rollback %d: %s\n", k + 1, gg_error_message(&err));
      rc = 1;
    }
    rbs[k] = (mono() - t0) * 1000;
    /* the inverse move's own gap and what it carried back, from its journaled outcome */
    journal_filter f = journal_filter_all();
    f.kind = "action_outcome";
    journal_event *evs = NULL;
    size_t nev = 0;
    if (journal_events(j, &f, &evs, &nev, &err) == GG_OK)
      for (size_t e = nev; e-- > 0;) {
        json_t *c = journal_event_content(&evs[e]);
        const char *act = json_string_value(json_object_get(c, "action"));
        const char *mode = json_string_value(json_object_get(c, "mode"));
        bool it = act && mode && strcmp(act, "move_subjects") == 0 && strcmp(mode, "inverse") == 0;
        if (it) {
          igaps[k] = json_real_value(json_object_get(c, "gap_ms"));
          carried[k] = (double)json_integer_value(json_object_get(json_object_get(c, "carried"), "found"));
        }
        json_decref(c);
        if (it) break;
      }
    journal_events_free(evs, nev);
    usleep(100000);
  }
  sleep(1);
  atomic_store(&on, false);
  for (int i = 0; i < PUBLISHERS; i++) pthread_join(th[i], NULL);
  uint64_t total = stored("BENCH_CUT_A"); /* after the last rollback, everything is back in A */
  long pub = atomic_load(&acked);
  if (rc == 0)
    printf(
        "cutovers=%d rate=%.0f hold_s=%.2f gap_p50_ms=%.2f gap_p99_ms=%.2f gap_max_ms=%.2f "
        "rollback_p50_ms=%.1f "
        "rollback_p99_ms=%.1f rollback_max_ms=%.1f inverse_gap_p50_ms=%.2f carried_p50=%.0f published=%ld "
        "stored=%llu lost=%lld duplicated=%lld publish_failures=%ld\n",
        cutovers, rate, hold, pct(gaps, cutovers, 0.5), pct(gaps, cutovers, 0.99), pct(gaps, cutovers, 1.0),
        pct(rbs, cutovers, 0.5), pct(rbs, cutovers, 0.99), pct(rbs, cutovers, 1.0), pct(igaps, cutovers, 0.5),
        pct(carried, cutovers, 0.5), pub, (unsigned long long)total,
        pub > (long)total ? (long long)(pub - (long)total) : 0LL,
        (long)total > pub ? (long long)((long)total - pub) : 0LL, atomic_load(&failures));
  for (int i = 0; i < 2; i++) js_DeleteStream(js, names[i], NULL, NULL);
  journal_close(j);
  unlink(jpath);
  char side[160];
  snprintf(side, sizeof side, "%s-wal", jpath);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", jpath);
  unlink(side);
  free(gaps);
  free(rbs);
  free(igaps);
  free(carried);
  free(copy);
  plan_free(p);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return rc;
}
