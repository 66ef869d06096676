/* test_act_fixture.c: see test_act_fixture.h. */
#include "test_act_fixture.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal/journal.h"

#define MAX_IDS 600000

static natsConnection *nc;
static jsCtx *js;
static char journal_file[256], plan_file[512], log_file[256];
static char out_buf[65536];
static atomic_long published, pub_failures; /* the publisher's: ids m-0 .. m-(published-1) */
static int act_replicas = 1;

static const char *const streams[] = {"ACT_LEGACY", "ACT_DLQ", "ACT_VENDOR", "ACT_CORE", "KV_ACT_KV"};

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void actx_fail(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fail_msg("%s", buf);
}

jsCtx *actx_js(void) {
  return js;
}
const char *actx_journal_path(void) {
  return journal_file;
}

static void delete_streams(void) {
  for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
    jsErrCode je = 0;
    natsStatus s = js_DeleteStream(js, streams[i], NULL, &je);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
      actx_fail("delete stream %s: %s", streams[i], natsStatus_GetText(s));
  }
}

void actx_init(const char *id, int replicas) {
  const char *url = getenv("NATS_URL");
  const char *src = getenv("GONOGO_SOURCE_DIR");
  if (!url || !getenv("GONOGO_BIN") || !src)
    actx_fail("NATS_URL, GONOGO_BIN and GONOGO_SOURCE_DIR must be set (make test)");
  char *copy = strdup(url);
  const char *servers[8];
  int n = 0;
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 8; t = strtok_r(NULL, ",", &save))
    servers[n++] = t;
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetServers(o, servers, n);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, o);
  natsOptions_Destroy(o);
  free(copy);
  if (s != NATS_OK) actx_fail("connect %s: %s", url, natsStatus_GetText(s));
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK) actx_fail("jetstream context");
  act_replicas = replicas;
  char rep[16];
  snprintf(rep, sizeof rep, "%d", replicas);
  char idv[64];
  snprintf(idv, sizeof idv, "%s-%d", id, (int)getpid());
  setenv("ACT_ID", idv, 1);
  setenv("ACT_REPLICAS", rep, 1);
  snprintf(journal_file, sizeof journal_file, "/tmp/gonogo-act-%s.db", idv);
  snprintf(log_file, sizeof log_file, "/tmp/gonogo-act-%s.log", idv);
  /* ACT_PLAN: another plan over the same ACT_* topology (test_node_restart's adds monitor rules). */
  const char *plan_env = getenv("ACT_PLAN");
  if (plan_env && *plan_env)
    snprintf(plan_file, sizeof plan_file, "%s/tests/integration/plans/%s", src, plan_env);
  else
    snprintf(plan_file, sizeof plan_file, "%s/tests/integration/plans/act.yaml", src);
  unlink(journal_file);
  char head[300];
  snprintf(head, sizeof head, "%s.head", journal_file);
  unlink(head);
  delete_streams();
  atomic_store(&published, 0); /* ids start at m-0 in every test */
  atomic_store(&pub_failures, 0);
}

/* ---- publisher ---- */

static pthread_t pub_th, con_th;
static atomic_bool pub_on, con_on, pub_started, con_started, pause_hrv;
static int pub_rate;
static double pub_budget = 5.0;

static void *publisher(void *arg) {
  (void)arg;
  double t0 = mono();
  for (long n = 0; atomic_load(&pub_on) && n < MAX_IDS; n++) {
    double due = t0 + (double)n / pub_rate;
    double now = mono();
    if (due > now) usleep((useconds_t)((due - now) * 1e6));
    char subj[64], id[32];
    snprintf(subj, sizeof subj, n % 2 ? "act.core.hrv.a%ld" : "act.vendor.oura.sleep%ld", n % 7);
    snprintf(id, sizeof id, "m-%ld", n);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = 2000;
    double budget = mono() + pub_budget;
    natsStatus s;
    for (;;) {
      jsErrCode je = 0;
      s = js_Publish(NULL, js, subj, id, (int)strlen(id), &po, &je);
      if (s == NATS_OK) break;
      if ((s != NATS_NO_RESPONDERS && s != NATS_TIMEOUT) || mono() > budget) break;
      usleep(500);
    }
    if (s != NATS_OK) {
      fprintf(stderr, "publisher: %s on '%s' id %s: %s\n", natsStatus_GetText(s), subj, id,
              nats_GetLastError(NULL));
      atomic_fetch_add(&pub_failures, 1);
      break; /* ids must stay contiguous: stop at the first loss */
    }
    atomic_store(&published, n + 1);
  }
  return NULL;
}

void actx_publisher_start(int rate) {
  pub_rate = rate;
  /* ACT_PUBLISH_BUDGET: seconds a message may be retried (a killed stream leader is replaced
   * after nats-server's 4-9 s election timeout, longer than the default 5 s). */
  const char *b = getenv("ACT_PUBLISH_BUDGET");
  char *end = NULL;
  double v = b ? strtod(b, &end) : 0;
  pub_budget = b && end && !*end && v > 0 && v <= 120 ? v : 5.0;
  atomic_store(&published, 0);
  atomic_store(&pub_failures, 0);
  atomic_store(&pub_on, true);
  assert_int_equal(pthread_create(&pub_th, NULL, publisher, NULL), 0);
  atomic_store(&pub_started, true);
}

void actx_publisher_stop(void) {
  if (!atomic_load(&pub_started)) return;
  atomic_store(&pub_on, false);
  pthread_join(pub_th, NULL);
  atomic_store(&pub_started, false);
}

long actx_published(void) {
  return atomic_load(&published);
}

long actx_publish_vendor(long n) {
  long first = atomic_load(&published);
  for (long k = first; k < first + n && k < MAX_IDS; k++) {
    char subj[64], id[32];
    snprintf(subj, sizeof subj, "act.vendor.oura.sleep%ld", k % 7);
    snprintf(id, sizeof id, "m-%ld", k);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    jsErrCode je = 0;
    natsStatus s = js_Publish(NULL, js, subj, id, (int)strlen(id), &po, &je);
    if (s != NATS_OK) actx_fail("publish %s: %s (%d)", id, natsStatus_GetText(s), (int)je);
    atomic_store(&published, k + 1);
  }
  return first;
}
long actx_publish_failures(void) {
  return atomic_load(&pub_failures);
}

/* ---- consumer ---- */

typedef struct {
  const char *stream, *durable, *filter;
  natsSubscription *sub;
  double next_try;
  atomic_long received;
  atomic_bool paused;
} binding;

static binding bindings[] = {
    {"ACT_LEGACY", "oura", "act.vendor.>", NULL, 0, 0, false},
    {"ACT_LEGACY", "hrv", "act.core.>", NULL, 0, 0, false},
    {"ACT_VENDOR", "oura", "act.vendor.>", NULL, 0, 0, false},
    {"ACT_CORE", "hrv", "act.core.>", NULL, 0, 0, false},
};
#define NB (sizeof bindings / sizeof bindings[0])
static atomic_int *counts;

static void bind_one(binding *b) {
  if (mono() < b->next_try) return;
  b->next_try = mono() + 0.2;
  jsConsumerInfo *ci = NULL;
  jsErrCode je = 0;
  if (js_GetConsumerInfo(&ci, js, b->stream, b->durable, NULL, &je) != NATS_OK) return;
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = b->stream;
  so.Consumer = b->durable;
  if (js_PullSubscribe(&b->sub, js, b->filter, b->durable, NULL, &so, &je) != NATS_OK) b->sub = NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  while (atomic_load(&con_on)) {
    bool any = false;
    for (size_t i = 0; i < NB; i++) {
      binding *b = &bindings[i];
      if (i == 1 && atomic_load(&pause_hrv)) continue;
      if (atomic_load(&b->paused)) {
        natsSubscription_Destroy(b->sub); /* a stopped service: no pull request left waiting */
        b->sub = NULL;
        continue;
      }
      if (!b->sub) bind_one(b);
      if (!b->sub) continue;
      any = true;
      natsMsgList list = {0};
      natsStatus s = natsSubscription_Fetch(&list, b->sub, 256, 50, NULL);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) {
        natsSubscription_Destroy(b->sub);
        b->sub = NULL;
        continue;
      }
      for (int k = 0; k < list.Count; k++) {
        natsMsg *m = list.Msgs[k];
        const char *id = NULL;
        jsMsgMetaData *md = NULL;
        bool redelivery = natsMsg_GetMetaData(&md, m) == NATS_OK && md->NumDelivered > 1;
        jsMsgMetaData_Destroy(md);
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id && strncmp(id, "m-", 2) == 0 &&
            !redelivery) {
          long n = strtol(id + 2, NULL, 10);
          if (n >= 0 && n < MAX_IDS) atomic_fetch_add(&counts[n], 1);
          atomic_fetch_add(&b->received, 1);
        }
        natsMsg_Ack(m, NULL);
      }
      natsMsgList_Destroy(&list);
    }
    if (!any) usleep(20000);
  }
  for (size_t i = 0; i < NB; i++) {
    natsSubscription_Destroy(bindings[i].sub);
    bindings[i].sub = NULL;
  }
  return NULL;
}

void actx_consumer_start(void) {
  if (!counts) counts = calloc(MAX_IDS, sizeof *counts);
  assert_non_null(counts);
  for (size_t i = 0; i < NB; i++) {
    bindings[i].next_try = 0;
    atomic_store(&bindings[i].received, 0);
  }
  atomic_store(&con_on, true);
  assert_int_equal(pthread_create(&con_th, NULL, consumer, NULL), 0);
  atomic_store(&con_started, true);
}

void actx_consumer_stop(void) {
  if (!atomic_load(&con_started)) return;
  atomic_store(&con_on, false);
  pthread_join(con_th, NULL);
  atomic_store(&con_started, false);
}

void actx_pause_legacy_hrv(bool paused) {
  atomic_store(&pause_hrv, paused);
}

void actx_pause(const char *stream, const char *durable, bool paused) {
  for (size_t i = 0; i < NB; i++)
    if (strcmp(bindings[i].stream, stream) == 0 && strcmp(bindings[i].durable, durable) == 0)
      atomic_store(&bindings[i].paused, paused);
}

long actx_consumer_backlog(const char *stream, const char *durable) {
  jsConsumerInfo *ci = NULL;
  jsErrCode je = 0;
  if (js_GetConsumerInfo(&ci, js, stream, durable, NULL, &je) != NATS_OK) return -1;
  long n = (long)ci->NumPending + (long)ci->NumAckPending;
  jsConsumerInfo_Destroy(ci);
  return n;
}

long actx_wait_consumed(double timeout) {
  double end = mono() + timeout;
  long missing, n = actx_published(); /* what was published until now */
  for (;;) {
    missing = 0;
    for (long i = 0; i < n; i++)
      if (atomic_load(&counts[i]) == 0) missing++;
    if (missing == 0) break;
    if (mono() > end) {
      int shown = 0;
      for (long i = 0; i < n && shown < 10; i++)
        if (atomic_load(&counts[i]) == 0) {
          fprintf(stderr, "missing id m-%ld (%s)\n", i, i % 2 ? "core" : "vendor");
          shown++;
        }
      for (size_t i = 0; i < NB; i++)
        fprintf(stderr, "binding %s/%s: %s, %ld received\n", bindings[i].stream, bindings[i].durable,
                bindings[i].sub ? "bound" : "unbound", atomic_load(&bindings[i].received));
      break;
    }
    usleep(100000);
  }
  return missing;
}

long actx_duplicates(void) {
  long d = 0, n = actx_published();
  for (long i = 0; i < n; i++)
    if (atomic_load(&counts[i]) > 1) d++;
  return d;
}

long actx_received_from(const char *stream) {
  long r = 0;
  for (size_t i = 0; i < NB; i++)
    if (strcmp(bindings[i].stream, stream) == 0) r += atomic_load(&bindings[i].received);
  return r;
}

void actx_cleanup(void) {
  actx_publisher_stop();
  actx_consumer_stop();
  for (size_t i = 0; i < NB; i++) atomic_store(&bindings[i].paused, false);
  if (js) delete_streams();
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  js = NULL;
  nc = NULL;
  free(counts);
  counts = NULL;
  unlink(journal_file);
  char wal[300];
  snprintf(wal, sizeof wal, "%s-wal", journal_file);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", journal_file);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s.head", journal_file); /* the journal's head anchor (DESIGN §8) */
  unlink(wal);
  unlink(log_file);
}

void actx_legacy_create(void) {
  jsStreamConfig c;
  jsStreamConfig_Init(&c);
  const char *subj[] = {"act.vendor.>", "act.core.>"};
  c.Name = "ACT_LEGACY";
  c.Subjects = subj;
  c.SubjectsLen = 2;
  c.Retention = js_WorkQueuePolicy;
  c.Storage = js_FileStorage;
  c.Replicas = act_replicas;
  c.Duplicates = 120LL * 1000000000LL;
  jsErrCode je = 0;
  natsStatus s;
  /* A stream deleted a moment ago (a previous test's) may still hold its subjects briefly. */
  double end = mono() + 10;
  while ((s = js_AddStream(NULL, js, &c, NULL, &je)) != NATS_OK && je == JSStreamSubjectOverlapErr &&
         mono() < end)
    usleep(100000);
  if (s != NATS_OK) actx_fail("create ACT_LEGACY: %s (%d)", natsStatus_GetText(s), (int)je);
  const char *names[] = {"oura", "hrv"}, *filters[] = {"act.vendor.>", "act.core.>"};
  for (int i = 0; i < 2; i++) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = names[i];
    cc.FilterSubject = filters[i];
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 30LL * 1000000000LL;
    s = js_AddConsumer(NULL, js, "ACT_LEGACY", &cc, NULL, &je);
    if (s != NATS_OK) actx_fail("create consumer %s: %s", names[i], natsStatus_GetText(s));
  }
}

/* ---- gonogo ---- */

pid_t actx_gonogo_spawn(const char *const *args) {
  const char *argv[32];
  int n = 0;
  argv[n++] = "gonogo";
  int first = 1;
  argv[n++] = args[0];
  if (strcmp(args[0], "journal") == 0) argv[n++] = args[first++]; /* journal log|verify PLAN */
  argv[n++] = plan_file;
  for (int i = first; args[i] && n < 28; i++) argv[n++] = args[i];
  if (strcmp(args[0], "plan") != 0) { /* plan reads only the cluster */
    argv[n++] = "--journal";
    argv[n++] = journal_file;
  }
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    execv(getenv("GONOGO_BIN"), (char *const *)argv);
    _exit(127);
  }
  return pid;
}

int actx_gonogo_wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  FILE *f = fopen(log_file, "r");
  out_buf[0] = '\0';
  if (f) {
    size_t r = fread(out_buf, 1, sizeof out_buf - 1, f);
    out_buf[r] = '\0';
    fclose(f);
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  print_message("--- gonogo exit %d ---\n%s", code, out_buf);
  if (code != 0) { /* the reason again, on stderr next to cmocka's own failure line */
    fflush(stdout);
    for (const char *l = out_buf; l && *l;) {
      const char *nl = strchr(l, '\n');
      char line[1024];
      snprintf(line, sizeof line, "%.*s", nl ? (int)(nl - l) : (int)strlen(l), l);
      if (strncmp(line, "gonogo: ", 8) == 0 || strstr(line, " failed: ") != NULL)
        print_error("gonogo exit %d: %s\n", code, line);
      l = nl ? nl + 1 : NULL;
    }
  }
  return code;
}

int actx_gonogo(const char *const *args) {
  return actx_gonogo_wait(actx_gonogo_spawn(args));
}
const char *actx_output(void) {
  return out_buf;
}

/* ---- journal ---- */

static char last_buf[16384];

static int journal_scan(const char *kind, const char *needle, bool keep_last) {
  journal *j = NULL;
  gg_error e;
  if (journal_open(journal_file, JOURNAL_OPEN_READONLY, &j, &e) != GG_OK) return 0;
  journal_filter f = journal_filter_all();
  f.kind = kind;
  journal_event *ev = NULL;
  size_t n = 0;
  int count = 0;
  if (journal_events(j, &f, &ev, &n, &e) == GG_OK)
    for (size_t i = 0; i < n; i++)
      if (!needle || strstr(ev[i].content, needle)) {
        count++;
        if (keep_last) snprintf(last_buf, sizeof last_buf, "%s", ev[i].content);
      }
  journal_events_free(ev, n);
  journal_close(j);
  return count;
}

int actx_journal_count(const char *kind, const char *needle) {
  return journal_scan(kind, needle, false);
}

const char *actx_journal_last(const char *kind, const char *needle) {
  last_buf[0] = '\0';
  journal_scan(kind, needle, true);
  return last_buf;
}

bool actx_journal_wait(const char *kind, const char *needle, int n, double timeout) {
  double end = mono() + timeout;
  while (mono() < end) {
    if (actx_journal_count(kind, needle) >= n) return true;
    usleep(2000);
  }
  return false;
}

/* ---- streams ---- */

static jsStreamInfo *info(const char *name) {
  jsStreamInfo *si = NULL;
  jsErrCode je = 0;
  natsStatus s = js_GetStreamInfo(&si, js, name, NULL, &je);
  if (s == NATS_NOT_FOUND) return NULL;
  if (s != NATS_OK) actx_fail("stream info %s: %s", name, natsStatus_GetText(s));
  return si;
}

bool actx_wait_stream_empty(const char *name, double timeout) {
  double end = mono() + timeout;
  while (actx_stream_msgs(name) > 0 && mono() < end) usleep(50000);
  if (actx_stream_msgs(name) == 0) return true;
  /* Say what is left and where every consumer stands. */
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = ">";
  jsStreamInfo *si = NULL;
  if (js_GetStreamInfo(&si, js, name, &o, NULL) == NATS_OK) {
    fprintf(stderr, "%s: %llu messages, seq %llu..%llu\n", name, (unsigned long long)si->State.Msgs,
            (unsigned long long)si->State.FirstSeq, (unsigned long long)si->State.LastSeq);
    for (int i = 0; si->State.Subjects && i < si->State.Subjects->Count; i++)
      fprintf(stderr, "  subject %s: %llu\n", si->State.Subjects->List[i].Subject,
              (unsigned long long)si->State.Subjects->List[i].Msgs);
    jsStreamInfo_Destroy(si);
  }
  jsConsumerInfoList *list = NULL;
  if (js_Consumers(&list, js, name, NULL, NULL) == NATS_OK) {
    for (int i = 0; i < list->Count; i++)
      fprintf(stderr, "  consumer %s: pending %llu, ack pending %lld, ack floor %llu, delivered %llu\n",
              list->List[i]->Name, (unsigned long long)list->List[i]->NumPending,
              (long long)list->List[i]->NumAckPending, (unsigned long long)list->List[i]->AckFloor.Stream,
              (unsigned long long)list->List[i]->Delivered.Stream);
    jsConsumerInfoList_Destroy(list);
  }
  return false;
}

bool actx_stream_exists(const char *name) {
  jsStreamInfo *si = info(name);
  jsStreamInfo_Destroy(si);
  return si != NULL;
}

bool actx_stream_has_subject(const char *name, const char *subject) {
  jsStreamInfo *si = info(name);
  bool has = false;
  for (int i = 0; si && i < si->Config->SubjectsLen; i++)
    if (strcmp(si->Config->Subjects[i], subject) == 0) has = true;
  jsStreamInfo_Destroy(si);
  return has;
}

long actx_stream_msgs(const char *name) {
  jsStreamInfo *si = info(name);
  long n = si ? (long)si->State.Msgs : -1;
  jsStreamInfo_Destroy(si);
  return n;
}
