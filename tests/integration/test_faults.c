/*
 * The fault suite (issue 16): a publisher at FAULTS_RATE msg/s (default 2,000) with a unique
 * Nats-Msg-Id per reading, normalize-service storing every reading into PostgreSQL, and, for each
 * case, `gonogo` stopped at one failpoint (src/base/failpoint.h) of phase 1 or 2 of a two-phase
 * plan or of phase 1's rollback. Two faults:
 *
 *   kill   GONOGO_FAILPOINTS=<boundary>=kill: gonogo dies by SIGKILL there; `gonogo resume`
 *          must say what it found (an interrupted phase, or a rollback under way) and finish it.
 *   node   <boundary>=stop: gonogo stops there; the nats node leading the stream that the
 *          boundary's action works on is killed, gonogo continued, the node restarted two seconds
 *          later. The run may complete, fail and roll itself back, or leave work for `resume`
 *          (which is then run): each is accepted, the end state is checked.
 *
 * At the end of every case the publisher stops, normalize drains, and every acknowledged id must
 * have exactly one row in hrv_data (lost ids are named), the subjects must be on exactly one of
 * the two streams, and that stream must agree with the journal (completed: the new one; rolled
 * back: the old one). Each case appends one line to the table (FAULTS_TABLE, a file, when set):
 * boundary, fault, outcome, published, lost, duplicate rows, duplicates the sink absorbed (the
 * same id delivered twice, e.g. carried back after it was consumed), resume time.
 *
 * The publisher writes to JetStream directly (8 threads, each reading acknowledged before the
 * next, the same id retried through a cutover's gap or a leader election) rather than through
 * ingest-service: on the 2 shared cores of CI, HTTP posts at 2,000/s would measure the poster,
 * not the migration; the sink is the real one.
 *
 * FAULTS_CASES: comma-separated PHASE:BOUNDARY:FAULT (PHASE 1 or 2 forward, r for phase 1's
 * rollback), or "all" for the full matrix (bench/faults), "all-kill" or "all-node" for one
 * fault's. Unset: a representative subset that stays within the CI budget.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc_fixture.h"

#define PUB_THREADS 8
#define PUB_RETRY_S 30.0 /* one reading is retried this long before it counts as a failure */
#define CASES_MAX 96
#define OUTPUT_MAX (64 * 1024) /* of one gonogo run kept for the asserts */
#define GONOGO_WAIT_S 120.0
#define DRAIN_WAIT_S 90.0

/* ---- the case list ---- */

typedef struct {
  char phase; /* '1', '2', 'r' */
  char boundary[64];
  char fault[8]; /* "kill", "node" */
} fcase;

static const char *const forward_boundaries[] = {
    "act.before.create_stream",     "act.after.create_stream",
    "act.before.move_subjects",     "act.cutover.between",
    "act.after.move_subjects",      "act.before.create_consumer",
    "act.after.create_consumer",    "act.before.drain",
    "act.drain.progress",           "act.after.drain",
    "act.before.verify_continuity", "act.after.verify_continuity"};
static const char *const rollback_boundaries[] = {
    "act.undo.before.move_subjects",   "act.cutover.between",
    "act.carryback.progress",          "act.undo.after.move_subjects",
    "act.undo.before.create_consumer", "act.undo.after.create_consumer",
    "act.undo.before.create_stream",   "act.undo.after.create_stream"};
/* What `make test` runs: a kill before the cutover, inside it, at a drain poll, between two
 * actions of phase 2 and inside a rollback's carry-back. No node fault: on nats-server 2.9.10 a
 * node killed by one often cannot restart ("exited during start-up", its meta log replaying a
 * stream change made while it was down, even the deletions of the case's own clean-up), and the
 * tests after this one must find three healthy nodes; bench/faults runs them and marks those. */
static const char *const default_cases =
    "1:act.before.move_subjects:kill,1:act.cutover.between:kill,1:act.drain.progress:kill,"
    "2:act.after.create_consumer:kill,r:act.carryback.progress:kill";

static fcase cases[CASES_MAX];
static size_t ncases;

static void add_case(char phase, const char *boundary, const char *fault) {
  if (ncases == CASES_MAX) return;
  fcase *c = &cases[ncases++];
  c->phase = phase;
  snprintf(c->boundary, sizeof c->boundary, "%s", boundary);
  snprintf(c->fault, sizeof c->fault, "%s", fault);
}

/* Fill cases from FAULTS_CASES; false (said on stderr) when it is malformed. */
static bool parse_cases(const char *spec) {
  if (strcmp(spec, "all") == 0 || strcmp(spec, "all-kill") == 0 || strcmp(spec, "all-node") == 0) {
    const char *faults[] = {"kill", "node"};
    for (int f = 0; f < 2; f++) {
      if (spec[3] == '-' && strcmp(spec + 4, faults[f]) != 0) continue;
      for (char ph = '1'; ph <= '2'; ph++)
        for (size_t i = 0; i < sizeof forward_boundaries / sizeof *forward_boundaries; i++)
          add_case(ph, forward_boundaries[i], faults[f]);
      for (size_t i = 0; i < sizeof rollback_boundaries / sizeof *rollback_boundaries; i++)
        add_case('r', rollback_boundaries[i], faults[f]);
    }
    return true;
  }
  for (const char *p = spec; *p;) {
    size_t len = strcspn(p, ",");
    char item[128];
    if (len == 0 || len >= sizeof item) return false;
    memcpy(item, p, len);
    item[len] = '\0';
    char *b = strchr(item, ':'), *f = b ? strchr(b + 1, ':') : NULL;
    if (!b || !f || b != item + 1 || (item[0] != '1' && item[0] != '2' && item[0] != 'r') ||
        (strcmp(f + 1, "kill") != 0 && strcmp(f + 1, "node") != 0)) {
      fprintf(stderr, "test_faults: FAULTS_CASES: '%s' is not PHASE:BOUNDARY:kill|node\n", item);
      return false;
    }
    *f = '\0';
    add_case(item[0], b + 1, f + 1);
    p += len;
    if (*p == ',') p++;
  }
  return ncases > 0;
}

/* ---- names, the plan ---- */

static char old_stream[64], new1[64], new2[64], subj_a[64], subj_b[64], athlete_a[32], athlete_b[32];
static char plan_path[256], journal_path[256], prefix[48];
static fx_service normalize_svc;

static void write_plan(void) {
  FILE *f = fopen(plan_path, "w");
  assert_non_null(f);
  fprintf(f,
          "migration: faults-%d\n"
          "connect:\n"
          "  nats: { servers: \"${NATS_URL}\", monitor: \"${NATS_MONITOR_URLS}\" }\n"
          "topology:\n"
          "  streams:\n"
          "    %s: { existing: true, subjects: [\"%s\", \"%s\"], storage: file }\n"
          "    %s: { subjects: [\"%s\"], replicas: 3, storage: file, duplicates: 2m }\n"
          "    %s: { subjects: [\"%s\"], replicas: 3, storage: file, duplicates: 2m }\n"
          "  consumers:\n"
          "    %s/hrv1: { existing: true, filter: \"%s\" }\n"
          "    %s/hrv2: { existing: true, filter: \"%s\" }\n"
          "    %s/hrv: { filter: \"%s\", ack_wait: 30s, max_deliver: 5, max_ack_pending: 20000 }\n"
          "    %s/hrv: { filter: \"%s\", ack_wait: 30s, max_deliver: 5, max_ack_pending: 20000 }\n"
          "phases:\n",
          (int)getpid(), old_stream, subj_a, subj_b, new1, subj_a, new2, subj_b, old_stream, subj_a,
          old_stream, subj_b, new1, subj_a, new2, subj_b);
  for (int ph = 1; ph <= 2; ph++) {
    const char *to = ph == 1 ? new1 : new2, *subj = ph == 1 ? subj_a : subj_b;
    fprintf(f,
            "  - id: %d\n"
            "    name: Move %s\n"
            "%s"
            "    go:\n"
            "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n"
            "    prepare:\n"
            "      - create_stream: %s\n"
            "    actions:\n"
            "      - move_subjects: { subjects: [\"%s\"], from: %s, to: %s }\n"
            "      - create_consumer: %s/hrv\n"
            "      - drain: { stream: %s, consumer: hrv%d, until: 0, timeout: 60s }\n"
            "      - verify_continuity: { subjects: [\"%s\"], from: %s, to: %s }\n",
            ph, subj, ph == 2 ? "    requires: { phase: 1 }\n" : "", to, subj, old_stream, to, to, old_stream,
            ph, subj, old_stream, to);
  }
  fclose(f);
}

/* ---- the publisher ---- */

typedef struct {
  int id;
  pthread_t th;
  atomic_long acked;  /* ids 0 .. acked + failed - 1 were tried; all but the failed acknowledged */
  atomic_long failed; /* readings never acknowledged within PUB_RETRY_S */
  atomic_long retries;
} pub_thread;

static struct {
  natsConnection *nc;
  jsCtx *js;
  atomic_bool on;
  double rate;
  double t0, t1; /* when the publisher started and stopped */
  char prefix[48];
  pub_thread t[PUB_THREADS];
} pub;

static void *pub_main(void *arg) {
  pub_thread *t = arg;
  double per = pub.rate / PUB_THREADS, t0 = fx_now();
  const char *subject = t->id % 2 ? subj_b : subj_a, *athlete = t->id % 2 ? athlete_b : athlete_a;
  for (long n = 0; atomic_load(&pub.on); n++) {
    double due = t0 + (double)n / per, now = fx_now();
    if (due > now) usleep((useconds_t)((due - now) * 1e6));
    char id[96], body[256];
    snprintf(id, sizeof id, "%st%d-%ld", pub.prefix, t->id, n);
    int len = snprintf(body, sizeof body,
                       "{\"event_id\":\"%s\",\"athlete_id\":\"%s\",\"measured_at\":\"2026-11-28T07:00:00Z\","
                       "\"rmssd_ms\":%ld,\"source\":\"faults\"}",
                       id, athlete, 20 + n % 50);
    double give_up = fx_now() + PUB_RETRY_S;
    for (int attempt = 0;; attempt++) {
      natsMsg *m = NULL;
      jsPubAck *ack = NULL;
      jsErrCode je = 0;
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = 2000;
      natsStatus s = natsMsg_Create(&m, subject, NULL, body, len);
      if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
      if (s == NATS_OK) s = js_PublishMsg(&ack, pub.js, m, &po, &je);
      natsMsg_Destroy(m);
      jsPubAck_Destroy(ack);
      if (s == NATS_OK) {
        atomic_fetch_add(&t->acked, 1);
        break;
      }
      if (fx_now() > give_up) {
        atomic_fetch_add(&t->failed, 1);
        break;
      }
      atomic_fetch_add(&t->retries, 1);
      usleep(attempt < 10 ? 20000 : 100000); /* "no responders" in a cutover's gap, an election */
    }
  }
  return NULL;
}

static void pub_start(const char *pfx) {
  snprintf(pub.prefix, sizeof pub.prefix, "%s", pfx);
  atomic_store(&pub.on, true);
  pub.t0 = fx_now();
  for (int i = 0; i < PUB_THREADS; i++) {
    pub.t[i].id = i;
    atomic_store(&pub.t[i].acked, 0);
    atomic_store(&pub.t[i].failed, 0);
    atomic_store(&pub.t[i].retries, 0);
    assert_int_equal(pthread_create(&pub.t[i].th, NULL, pub_main, &pub.t[i]), 0);
  }
}

static void pub_stop(void) {
  atomic_store(&pub.on, false);
  for (int i = 0; i < PUB_THREADS; i++) pthread_join(pub.t[i].th, NULL);
  pub.t1 = fx_now();
}

static long pub_sum_acked(void) {
  long n = 0;
  for (int i = 0; i < PUB_THREADS; i++) n += atomic_load(&pub.t[i].acked);
  return n;
}

static long pub_sum_failed(void) {
  long n = 0;
  for (int i = 0; i < PUB_THREADS; i++) n += atomic_load(&pub.t[i].failed);
  return n;
}

/* ---- gonogo as a child ---- */

static char output[OUTPUT_MAX];
static pid_t child;

/* Start `gonogo VERB PLAN ARGS... --journal J` with GONOGO_FAILPOINTS=failpoint (NULL: none),
 * its output into a file read back by gonogo_output. */
static pid_t gonogo_spawn(const char *failpoint, const char *const *args) {
  const char *bin = getenv("GONOGO_BIN");
  assert_non_null(bin);
  const char *argv[24];
  size_t n = 0;
  argv[n++] = bin;
  argv[n++] = args[0];
  argv[n++] = plan_path;
  for (size_t i = 1; args[i] && n < 20; i++) argv[n++] = args[i];
  argv[n++] = "--journal";
  argv[n++] = journal_path;
  argv[n] = NULL;
  char log[300];
  snprintf(log, sizeof log, "%s.out", journal_path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    FILE *f = freopen(log, "w", stdout);
    if (!f || dup2(fileno(stdout), 2) < 0) _exit(126);
    if (failpoint)
      setenv("GONOGO_FAILPOINTS", failpoint, 1);
    else
      unsetenv("GONOGO_FAILPOINTS");
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  child = pid;
  return pid;
}

/* A run's whole output on stdout (cmocka's print_message cuts a message at 1 KB). */
static void say(const char *text) {
  fputs(text, stdout);
  fflush(stdout);
}

/* The end of a run's output, for a failure message (which cmocka also cuts at 1 KB). */
static const char *tail(const char *text) {
  size_t n = strlen(text);
  return n > 700 ? text + n - 700 : text;
}

static const char *gonogo_output(void) {
  char log[300];
  snprintf(log, sizeof log, "%s.out", journal_path);
  output[0] = '\0';
  FILE *f = fopen(log, "r");
  if (f) {
    size_t n = fread(output, 1, sizeof output - 1, f);
    output[n] = '\0';
    fclose(f);
  }
  return output;
}

/* Wait for the child (bounded): its wait status; with until_stopped it also returns when the
 * child stops (a failpoint's stop). */
static int gonogo_wait(pid_t pid, bool until_stopped) {
  double until = fx_now() + GONOGO_WAIT_S;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG | (until_stopped ? WUNTRACED : 0));
    if (r == pid) {
      if (!WIFSTOPPED(status)) child = 0;
      return status;
    }
    if (fx_now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      child = 0;
      fail_msg("gonogo did not %s within %.0f s:\n%s", until_stopped ? "stop" : "finish", GONOGO_WAIT_S,
               tail(gonogo_output()));
    }
    usleep(20000);
  }
}

/* Run gonogo to the end; its exit code (-1 when a signal ended it), output in gonogo_output(). */
static int gonogo_run(const char *failpoint, const char *const *args, double *ms) {
  double t0 = fx_now();
  int st = gonogo_wait(gonogo_spawn(failpoint, args), false);
  if (ms) *ms = (fx_now() - t0) * 1000;
  gonogo_output();
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define GONOGO(fp, ms, ...) gonogo_run(fp, (const char *const[]){__VA_ARGS__, NULL}, ms)

/* ---- the sink and the cluster ---- */

static void normalize_start(void) {
  char nats[512], pg[512], bindings[400];
  snprintf(nats, sizeof nats, "NATS_URL=%s", fx_nats_url());
  snprintf(pg, sizeof pg, "PG_URL=%s", fx_pg_url());
  snprintf(bindings, sizeof bindings, "NORMALIZE_BINDINGS=%s:hrv1,%s:hrv2,%s:hrv,%s:hrv", old_stream,
           old_stream, new1, new2);
  fx_service_start(&normalize_svc, NORMALIZE_BIN, "NORMALIZE_LISTEN",
                   (const char *const[]){nats, pg, bindings, "NORMALIZE_RECHECK=500ms", NULL});
}

/* Duplicates normalize-service absorbed (ON CONFLICT DO NOTHING) since it started. */
static long normalize_absorbed(void) {
  char url[128], *body = NULL;
  snprintf(url, sizeof url, "%s/metrics", normalize_svc.base);
  long n = -1;
  if (fx_http("GET", url, NULL, NULL, 0, NULL, &body) == 200 && body) {
    const char *k = "normalize_hrv_messages_total{result=\"duplicate\"} ";
    const char *p = strstr(body, k);
    n = p ? strtol(p + strlen(k), NULL, 10) : 0;
  }
  free(body);
  return n;
}

static bool has_subject(const char *stream, const char *subject) {
  jsStreamInfo *si = NULL;
  bool yes = false;
  if (js_GetStreamInfo(&si, fx_js(), stream, NULL, NULL) == NATS_OK)
    for (int i = 0; i < si->Config->SubjectsLen; i++)
      yes = yes || strcmp(si->Config->Subjects[i], subject) == 0;
  jsStreamInfo_Destroy(si);
  return yes;
}

/* The sandbox node number ("2" of "n2") leading `stream`; "" when it has no leader or no cluster. */
static void leader_of(const char *stream, char *out, size_t n) {
  out[0] = '\0';
  for (int attempt = 0; attempt < 20 && !out[0]; attempt++) {
    jsStreamInfo *si = NULL;
    if (js_GetStreamInfo(&si, fx_js(), stream, NULL, NULL) == NATS_OK && si->Cluster && si->Cluster->Leader &&
        si->Cluster->Leader[0] == 'n')
      snprintf(out, n, "%s", si->Cluster->Leader + 1);
    jsStreamInfo_Destroy(si);
    if (!out[0]) usleep(250000);
  }
}

/* The stream whose leader a node fault at this boundary kills: the new stream for its creation
 * and its consumer's, the old one (the subjects' source, the drained consumer's, the carry-back's
 * destination) otherwise; the old one while the new does not exist. */
static const char *fault_stream(const fcase *c) {
  const char *nw = c->phase == '2' ? new2 : new1;
  bool creation = strstr(c->boundary, "create_stream") || strstr(c->boundary, "create_consumer");
  jsStreamInfo *si = NULL;
  bool exists = js_GetStreamInfo(&si, fx_js(), nw, NULL, NULL) == NATS_OK;
  jsStreamInfo_Destroy(si);
  return creation && exists ? nw : old_stream;
}

static long long rows(void) {
  return fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
}

/* The ids 0..%ld of prefix %s, thread %d, that have no row. */
#define MISSING_IDS \
  "FROM generate_series(0, %ld) g WHERE NOT EXISTS (SELECT 1 FROM hrv_data WHERE msg_id = '%st%d-' || g)"

/* Acknowledged ids without a row; *first_lost names one. */
static long lost_ids(char *first_lost, size_t n) {
  long lost = 0;
  first_lost[0] = '\0';
  for (int i = 0; i < PUB_THREADS; i++) {
    long tried = atomic_load(&pub.t[i].acked) + atomic_load(&pub.t[i].failed);
    if (tried == 0) continue;
    long long k = fx_pg_scalar("SELECT count(*) " MISSING_IDS, tried - 1, prefix, i);
    if (k > 0 && !first_lost[0])
      snprintf(first_lost, n, "%st%d-%lld", prefix, i,
               fx_pg_scalar("SELECT min(g) " MISSING_IDS, tried - 1, prefix, i));
    lost += k > 0 ? (long)k : 0;
  }
  return lost;
}

/* ---- one case ---- */

typedef struct {
  fcase *c;
  bool written; /* its table line */
  char down[8]; /* a node this case killed and has not brought back */
  char outcome[96];
  char note[160];
  double resume_ms;
} case_state;

static case_state states[CASES_MAX];
static int case_no;

static void table_line(case_state *s, long published, long lost, long dups, long absorbed) {
  char line[512];
  double rate = pub.t1 > pub.t0 ? (double)published / (pub.t1 - pub.t0) : 0;
  snprintf(line, sizeof line, "%-2s %-30s %-4s %-44s %7ld %5.0f %4ld %4ld %8ld %7.0f%s%s\n",
           s->c->phase == 'r'   ? "r1"
           : s->c->phase == '1' ? "1"
                                : "2",
           s->c->boundary, s->c->fault, s->outcome[0] ? s->outcome : "-", published, rate, lost, dups,
           absorbed, s->resume_ms, s->note[0] ? "  " : "", s->note);
  print_message("%s", line);
  const char *table = getenv("FAULTS_TABLE");
  FILE *f = table ? fopen(table, "a") : NULL;
  if (f) {
    fputs(line, f);
    fclose(f);
  }
  s->written = true;
}

/* Whether every node's /healthz answers 200 (JetStream current): a node restarted by the last
 * case may still be catching up. */
/* Bring back a node that nats-server 2.9.10 cannot restart (its meta log replays a stream
 * change made while it was down and panics): its JetStream directory is set aside
 * (DIR/nN/jetstream.broken-PID-CASE, for a post-mortem) and it starts empty, catching up from
 * the others, so the next case has three nodes again. With running, the node is up but never
 * became current (the same bug, another face): it is killed first. */
static bool node_recover(const char *node, bool running) {
  if (running)
    fx_sandbox_try("kill-node", node);
  else if (fx_sandbox_try("start-node", node))
    return true;
  const char *dir = getenv("GONOGO_SANDBOX_DIR");
  char from[512], to[560];
  snprintf(from, sizeof from, "%s/n%s/jetstream", dir, node);
  snprintf(to, sizeof to, "%s.broken-%d-%d", from, (int)getpid(), case_no);
  if (rename(from, to) != 0) return false;
  print_message("node n%s set aside its JetStream data (%s) to start again\n", node, to);
  return fx_sandbox_try("start-node", node);
}

static int unhealthy_node; /* the first node found not healthy (1-based), 0 when all are */

static bool cluster_healthy(void *unused) {
  (void)unused;
  const char *urls = getenv("NATS_MONITOR_URLS");
  unhealthy_node = 0;
  int i = 1;
  for (const char *p = urls; !unhealthy_node && p && *p; i++) {
    size_t len = strcspn(p, ",");
    char url[256];
    snprintf(url, sizeof url, "%.*s/healthz", (int)len, p);
    if (fx_http("GET", url, NULL, NULL, 0, NULL, NULL) != 200) unhealthy_node = i;
    p += len;
    if (*p == ',') p++;
  }
  return unhealthy_node == 0;
}

/* Stream `name` gone (deleted, and the cluster agrees); false while it answers otherwise. */
static bool stream_gone(const char *name) {
  jsErrCode je = 0;
  natsStatus s = js_DeleteStream(fx_js(), name, NULL, &je);
  if (s == NATS_OK) return false; /* deleted now: ask again */
  return s == NATS_NOT_FOUND || je == JSStreamNotFoundErr;
}

/* The old stream (R3, file, dedupe 2m) with its two consumers; false when the cluster refuses. */
static bool old_create(void) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = old_stream;
  const char *subjects[] = {subj_a, subj_b};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 2;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = 3;
  cfg.Duplicates = (int64_t)120 * 1000000000;
  jsStreamInfo *si = NULL;
  jsErrCode je = 0;
  natsStatus s = js_AddStream(&si, fx_js(), &cfg, NULL, &je);
  jsStreamInfo_Destroy(si);
  for (int i = 0; s == NATS_OK && i < 2; i++) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = i ? "hrv2" : "hrv1";
    cc.FilterSubject = subjects[i];
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)30 * 1000000000;
    cc.MaxDeliver = 5;
    cc.MaxAckPending = 20000;
    jsConsumerInfo *ci = NULL;
    s = js_AddConsumer(&ci, fx_js(), old_stream, &cc, NULL, &je);
    jsConsumerInfo_Destroy(ci);
  }
  if (s != NATS_OK) print_message("create %s: %s (jserr %d)\n", old_stream, natsStatus_GetText(s), (int)je);
  return s == NATS_OK;
}

/* Each case starts on a healthy cluster with the old stream afresh, retried (bounded) while a
 * node restarted by the last case catches up. */
static int case_setup(void **state) {
  case_state *s = *state;
  case_no++;
  s->resume_ms = -1;
  double until = fx_now() + 150;
  bool ready = false;
  while (!ready && fx_now() < until) {
    if (!fx_wait_until(cluster_healthy, NULL, 45)) {
      /* A node restarted after a fault that never becomes current with the meta leader
       * (nats-server 2.9.10): start it afresh. */
      char node[8];
      snprintf(node, sizeof node, "%d", unhealthy_node);
      print_message("node n%s not current after 45 s: reset\n", node);
      snprintf(s->note, sizeof s->note, "n%s reset before the case (not current after the last)", node);
      if (!node_recover(node, true) || !fx_wait_until(cluster_healthy, NULL, 45)) continue;
    }
    ready = stream_gone(new1) && stream_gone(new2) && stream_gone(old_stream) && old_create();
    if (!ready) sleep(1);
  }
  if (!ready) {
    snprintf(s->outcome, sizeof s->outcome, "SETUP FAILED (cluster not ready)");
    table_line(s, 0, -1, -1, -1);
    return -1;
  }
  snprintf(journal_path, sizeof journal_path, "/tmp/gonogo-faults-%d-%d.db", (int)getpid(), case_no);
  snprintf(prefix, sizeof prefix, "f%dc%d-", (int)getpid(), case_no);
  normalize_start();
  return 0;
}

static void unlink_journal(void) {
  const char *ext[] = {"", "-wal", "-shm", ".head", ".out"};
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    char p[320];
    snprintf(p, sizeof p, "%s%s", journal_path, ext[i]);
    unlink(p);
  }
}

static int case_teardown(void **state) {
  case_state *s = *state;
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = 0;
  }
  if (atomic_load(&pub.on)) pub_stop();
  if (s->down[0] && !node_recover(s->down, false)) print_message("node n%s did not restart\n", s->down);
  s->down[0] = '\0';
  if (normalize_svc.pid) fx_service_stop(&normalize_svc);
  if (!s->written) {
    snprintf(s->outcome, sizeof s->outcome, "FAILED");
    table_line(s, pub_sum_acked(), -1, -1, -1);
  }
  unlink_journal();
  return 0;
}

/* The node fault: with gonogo stopped at the boundary, kill the leader of the boundary's stream,
 * continue gonogo, bring the node back two seconds later; then wait for gonogo. Its exit code. */
static int node_fault(case_state *s, pid_t pid) {
  int st = gonogo_wait(pid, true);
  if (!WIFSTOPPED(st))
    fail_msg("gonogo did not stop at %s (exit %d):\n%s", s->c->boundary, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
             tail(gonogo_output()));
  char node[8];
  leader_of(fault_stream(s->c), node, sizeof node);
  if (!node[0]) fail_msg("no leader for stream %s", fault_stream(s->c));
  fx_sandbox("kill-node", node);
  snprintf(s->down, sizeof s->down, "%s", node);
  kill(pid, SIGCONT);
  sleep(2);
  if (fx_sandbox_try("start-node", node))
    s->down[0] = '\0';
  else
    snprintf(s->note, sizeof s->note,
             "RESTART FAILED: n%s exited during start-up (a stream changed while down)", node);
  st = gonogo_wait(pid, false);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The line a run prints when it starts the action of boundary b: "-> move subjects" for
 * act.before.move_subjects, act.cutover.between and act.after.move_subjects, "undo: delete
 * consumer" for act.undo.*.create_consumer and so on; *after says the boundary follows the
 * action's outcome (so a resume must not start it again). */
static const char *boundary_line(const char *b, bool rollback, bool *after) {
  static const struct {
    const char *kind, *forward, *inverse;
  } kinds[] = {{"create_stream", "-> create stream", "undo: delete stream"},
               {"move_subjects", "-> move subjects", "undo: move subjects"},
               {"create_consumer", "-> create consumer", "undo: delete consumer"},
               {"drain", "-> drain", NULL},
               {"verify_continuity", "-> verify continuity", NULL}};
  *after = strstr(b, ".after.") != NULL;
  const char *kind = strcmp(b, "act.cutover.between") == 0 || strcmp(b, "act.carryback.progress") == 0
                         ? "move_subjects"
                     : strcmp(b, "act.drain.progress") == 0 ? "drain"
                                                            : strrchr(b, '.') + 1;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strcmp(kinds[i].kind, kind) == 0) return rollback ? kinds[i].inverse : kinds[i].forward;
  return NULL;
}

/* Resume after the fault; its output must say what it found and what it did: the phase
 * interrupted (or its rollback under way), the action in flight at the boundary started again
 * (a carry-back "again"), an action whose outcome was journaled not started again. */
static void resume_after(case_state *s, const char *ph, bool killed, bool rollback) {
  int rc = 0;
  char want[96];
  for (int attempt = 0; attempt < 3; attempt++) {
    rc = GONOGO(NULL, &s->resume_ms, "resume", "--break-lock");
    if (rc == 0) break;
    print_message("resume (attempt %d) exited %d:\n", attempt + 1, rc);
    say(output);
    sleep(3); /* a cluster still electing after the node came back */
  }
  say(output);
  assert_int_equal(rc, 0);
  if (killed) {
    bool after = false;
    const char *line = boundary_line(s->c->boundary, rollback, &after);
    /* "phase 1 was interrupted (interrupted during 'move subjects …'); re-observing and
     * finishing it": the action in flight named when the kill landed inside one */
    snprintf(want, sizeof want, rollback ? "phase %s was being rolled back" : "phase %s was interrupted", ph);
    const char *said = strstr(output, want);
    assert_non_null(said);
    const char *rest = said + strlen(want);
    if (line && !after) {
      char during[160];
      snprintf(during, sizeof during, " (interrupted %s '%s", rollback ? "while undoing" : "during",
               strchr(line, ' ') + 1);
      if (strncmp(rest, during, strlen(during)) != 0)
        fail_msg("resume does not name the action in flight (want \"%s\"): %.200s", during, rest);
      rest = strstr(rest, "')");
      assert_non_null(rest);
      rest += 2;
    }
    assert_true(strncmp(rest, rollback ? "; finishing the rollback" : "; re-observing and finishing it",
                        rollback ? 24 : 31) == 0);
    snprintf(want, sizeof want, "phase %s %s", ph, rollback ? "rolled back" : "completed");
    assert_non_null(strstr(output, want));
    if (line && after && strstr(output, line))
      fail_msg("resume started '%s' again, though its outcome was journaled", line);
    if (line && !after && !strstr(output, line)) fail_msg("resume did not finish '%s', in flight", line);
    if (strcmp(s->c->boundary, "act.carryback.progress") == 0)
      assert_non_null(strstr(output, "(again: an earlier attempt was interrupted)"));
  }
  if (strstr(output, "nothing in flight"))
    snprintf(s->outcome + strlen(s->outcome), sizeof s->outcome - strlen(s->outcome), "; resume: nothing");
  else if (strstr(output, "rolled back"))
    snprintf(s->outcome + strlen(s->outcome), sizeof s->outcome - strlen(s->outcome),
             "; resume: rolled back");
  else
    snprintf(s->outcome + strlen(s->outcome), sizeof s->outcome - strlen(s->outcome), "; resume: completed");
}

static void run_case(void **state) {
  case_state *s = *state;
  fcase *c = s->c;
  bool rollback = c->phase == 'r', node = strcmp(c->fault, "node") == 0;
  const char *ph = c->phase == '2' ? "2" : "1", *nw = c->phase == '2' ? new2 : new1;
  const char *subj = c->phase == '2' ? subj_b : subj_a;
  char fp[96];
  snprintf(fp, sizeof fp, "%s=%s", c->boundary, node ? "stop" : "kill");
  pub_start(prefix);
  usleep(500000);
  if (c->phase == '2' || rollback) {
    int rc = GONOGO(NULL, NULL, "run", "--phase", "1", "--yes");
    if (rc != 0) fail_msg("phase 1 before the case: exit %d\n%s", rc, tail(output));
  }
  if (rollback) {
    fx_service_stop(&normalize_svc); /* the new consumer stalls: the rollback has something to carry */
    usleep(1000000);
  }
  const char *const *args =
      rollback ? (const char *const[]){"rollback", "--yes", "--phase", "1", "--reason", "fault suite", NULL}
               : (const char *const[]){"run", "--phase", ph, "--yes", NULL};
  pid_t pid = gonogo_spawn(fp, args);
  if (node) {
    int rc = node_fault(s, pid);
    snprintf(s->outcome, sizeof s->outcome, "%s exit %d", rollback ? "rollback" : "run", rc);
    say(gonogo_output());
    if (rollback) normalize_start();
    resume_after(s, ph, false, rollback);
  } else {
    int st = gonogo_wait(pid, false);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
      fail_msg("gonogo was not killed at %s (exit %d):\n%s", c->boundary,
               WIFEXITED(st) ? WEXITSTATUS(st) : -1, tail(gonogo_output()));
    snprintf(s->outcome, sizeof s->outcome, "killed");
    if (rollback) normalize_start();
    resume_after(s, ph, true, rollback);
  }
  usleep(1000000);
  pub_stop();
  long published = pub_sum_acked(), failures = pub_sum_failed();
  /* The end state agrees with itself: the subjects on one stream, that stream the phase's state. */
  bool on_new = has_subject(nw, subj), on_old = has_subject(old_stream, subj);
  assert_true(on_new != on_old);
  if (!node) assert_true(rollback ? on_old : on_new);
  if (!normalize_svc.pid) normalize_start();
  double until = fx_now() + DRAIN_WAIT_S;
  while (rows() < published && fx_now() < until) usleep(250000);
  char first[96];
  long lost = lost_ids(first, sizeof first);
  long long all = rows(), distinct = fx_pg_scalar(
                              "SELECT count(DISTINCT msg_id) FROM hrv_data WHERE msg_id LIKE '%s%%'", prefix);
  long dups = (long)(all - distinct);
  long absorbed = normalize_absorbed();
  snprintf(s->outcome + strlen(s->outcome), sizeof s->outcome - strlen(s->outcome), "; %s",
           on_new ? "on new" : "on old");
  if (failures) snprintf(s->note, sizeof s->note, "%ld publishes never acknowledged", failures);
  table_line(s, published, lost, dups, absorbed);
  if (lost) fail_msg("%ld of %ld acknowledged ids have no row (first: %s)", lost, published, first);
  assert_int_equal(dups, 0);
  assert_true(all <= published + failures); /* a reading never acknowledged may still have been stored */
  assert_int_equal(failures, 0);
}

/* ---- the group ---- */

static int group_setup(void **state) {
  (void)state;
  fx_init();
  int pid = (int)getpid();
  fx_name("FAULTS_OLD", old_stream, sizeof old_stream);
  fx_name("FAULTS_NEW1", new1, sizeof new1);
  fx_name("FAULTS_NEW2", new2, sizeof new2);
  snprintf(athlete_a, sizeof athlete_a, "fa%d", pid);
  snprintf(athlete_b, sizeof athlete_b, "fb%d", pid);
  snprintf(subj_a, sizeof subj_a, "core.hrv.%s", athlete_a);
  snprintf(subj_b, sizeof subj_b, "core.hrv.%s", athlete_b);
  snprintf(plan_path, sizeof plan_path, "/tmp/gonogo-faults-%d.yaml", pid);
  write_plan();
  const char *r = getenv("FAULTS_RATE");
  pub.rate = r ? strtod(r, NULL) : 2000;
  if (pub.rate < 10 || pub.rate > 20000) pub.rate = 2000;
  natsOptions *o = NULL;
  assert_int_equal(natsOptions_Create(&o), NATS_OK);
  char *urls = strdup(fx_nats_url()), *save = NULL;
  const char *servers[8];
  int ns = 0;
  for (char *t = strtok_r(urls, ",", &save); t && ns < 8; t = strtok_r(NULL, ",", &save)) servers[ns++] = t;
  natsOptions_SetServers(o, servers, ns);
  natsOptions_SetMaxReconnect(o, -1);
  natsOptions_SetReconnectWait(o, 100);
  assert_int_equal(natsConnection_Connect(&pub.nc, o), NATS_OK);
  natsOptions_Destroy(o);
  free(urls);
  assert_int_equal(natsConnection_JetStream(&pub.js, pub.nc, NULL), NATS_OK);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  fx_pg_exec("DELETE FROM hrv_data WHERE msg_id LIKE 'f%d%%'", (int)getpid());
  fx_stream_delete(new1);
  fx_stream_delete(new2);
  fx_stream_delete(old_stream);
  jsCtx_Destroy(pub.js);
  natsConnection_Destroy(pub.nc);
  fx_cleanup();
  unlink(plan_path);
  return 0;
}

int main(void) {
  if (!getenv("NATS_URL") || !getenv("PG_URL") || !getenv("GONOGO_BIN") || !getenv("GONOGO_SANDBOX_DIR")) {
    fprintf(stderr,
            "test_faults: NATS_URL, PG_URL, GONOGO_BIN and GONOGO_SANDBOX_DIR must be set (make test)\n");
    return 1;
  }
  const char *spec = getenv("FAULTS_CASES");
  if (!parse_cases(spec && *spec ? spec : default_cases)) return 2;
  static struct CMUnitTest tests[CASES_MAX];
  static char names[CASES_MAX][128];
  for (size_t i = 0; i < ncases; i++) {
    states[i].c = &cases[i];
    snprintf(names[i], sizeof names[i], "%s %c %s", cases[i].fault, cases[i].phase, cases[i].boundary);
    tests[i] = (struct CMUnitTest){names[i], run_case, case_setup, case_teardown, &states[i]};
  }
  return _cmocka_run_group_tests("faults", tests, ncases, group_setup, group_teardown);
}
