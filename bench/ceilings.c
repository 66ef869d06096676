/*
 * ceilings: what the libraries themselves can do on this machine, so the pipeline's
 * figures have something to be compared with. Also the small JetStream admin steps
 * bench/pipeline needs (no `nats` CLI is assumed).
 *
 *   ceilings stream-add NAME SUBJECT          R3 if the cluster allows, else R1
 *   ceilings stream-del NAME
 *   ceilings consumer-add STREAM NAME FILTER
 *   ceilings backlog STREAM NAME               prints num_pending + num_ack_pending
 *   ceilings publish SUBJECT_PREFIX COUNT [ATHLETES]   async publish of valid readings; prints msgs/s
 *   ceilings consume STREAM NAME COUNT BATCH   pull fetch + ack until COUNT; prints msgs/s
 *   ceilings copy COUNT                        COPY COUNT rows into a temp table; prints rows/s
 *
 * NATS_URL and PG_URL come from the environment. Output: one line "key=value ...".
 */
#include <libpq-fe.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long arg_count(const char *s) {
  char *end;
  long long n = strtoll(s, &end, 10);
  if (end == s || *end || n <= 0) {
    fprintf(stderr, "ceilings: '%s' is not a positive count\n", s);
    exit(2);
  }
  return n;
}

static natsConnection *nc;
static jsCtx *js;

static void die_nats(const char *what, natsStatus s, jsErrCode code) {
  fprintf(stderr, "ceilings: %s: %s (jserr %d) %s\n", what, natsStatus_GetText(s), (int)code,
          nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
  exit(1);
}

static void connect_nats(int max_pending) {
  const char *url = getenv("NATS_URL");
  natsStatus s =
      natsConnection_ConnectTo(&nc, url ? url : "nats://127.0.0.1:4222"); /* a comma list is fine */
  if (s != NATS_OK) die_nats("connect", s, 0);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = max_pending;
  jo.PublishAsync.StallWait = 30000; /* a busy cluster slows acks down; wait rather than fail */
  if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) die_nats("jetstream", s, 0);
}

static int stream_add(const char *name, const char *subject) {
  for (int replicas = 3; replicas >= 1; replicas -= 2) {
    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    c.Name = name;
    c.Subjects = (const char *[]){subject};
    c.SubjectsLen = 1;
    c.Storage = js_FileStorage;
    c.Replicas = replicas;
    c.Duplicates = (int64_t)120 * 1000000000;
    jsErrCode code = 0;
    natsStatus s = js_AddStream(NULL, js, &c, NULL, &code);
    if (s == NATS_OK) {
      printf("stream=%s replicas=%d\n", name, replicas);
      return 0;
    }
    if (replicas == 1) die_nats("add stream", s, code);
  }
  return 1;
}

static int consumer_add(const char *stream, const char *name, const char *filter) {
  jsConsumerConfig c;
  jsConsumerConfig_Init(&c);
  c.Durable = name;
  c.AckPolicy = js_AckExplicit;
  c.AckWait = (int64_t)30 * 1000000000;
  c.MaxDeliver = 5;
  c.MaxAckPending = 20000;
  c.FilterSubject = filter;
  jsErrCode code = 0;
  natsStatus s = js_AddConsumer(NULL, js, stream, &c, NULL, &code);
  if (s != NATS_OK) die_nats("add consumer", s, code);
  return 0;
}

static int backlog(const char *stream, const char *name) {
  jsConsumerInfo *ci = NULL;
  jsErrCode code = 0;
  natsStatus s = js_GetConsumerInfo(&ci, js, stream, name, NULL, &code);
  if (s != NATS_OK) die_nats("consumer info", s, code);
  if (getenv("CEILINGS_VERBOSE"))
    printf("pending=%llu ack_pending=%lld redelivered=%lld waiting=%lld\n",
           (unsigned long long)ci->NumPending, (long long)ci->NumAckPending, (long long)ci->NumRedelivered,
           (long long)ci->NumWaiting);
  else
    printf("%llu\n", (unsigned long long)(ci->NumPending + (uint64_t)ci->NumAckPending));
  jsConsumerInfo_Destroy(ci);
  return 0;
}

static int publish(const char *prefix, long long count, long long athletes) {
  double t0 = now();
  char subject[128], body[256], id[64];
  for (long long i = 0; i < count; i++) {
    long long a = i % athletes;
    snprintf(subject, sizeof subject, "%s.ath%lld", prefix, a);
    snprintf(id, sizeof id, "bench-%lld-%lld", (long long)t0, i);
    int n =
        snprintf(body, sizeof body,
                 "{\"event_id\":\"%s\",\"athlete_id\":\"ath%lld\",\"measured_at\":\"2026-11-28T07:00:00Z\","
                 "\"rmssd_ms\":%lld,\"source\":\"bench\"}",
                 id, a, 20 + i % 80);
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, body, n);
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
    if (s == NATS_OK) s = js_PublishMsgAsync(js, &m, NULL);
    natsMsg_Destroy(m);
    if (s != NATS_OK) die_nats("publish", s, 0);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  natsStatus s = js_PublishAsyncComplete(js, &po);
  if (s != NATS_OK) die_nats("publish complete", s, 0);
  double dt = now() - t0;
  printf("published=%lld seconds=%.3f rate=%.0f\n", count, dt, (double)count / dt);
  return 0;
}

static int consume(const char *stream, const char *name, long long count, int batch) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream;
  so.Consumer = name;
  natsSubscription *sub = NULL;
  jsErrCode code = 0;
  natsStatus s = js_PullSubscribe(&sub, js, NULL, name, NULL, &so, &code);
  if (s != NATS_OK) die_nats("bind", s, code);
  long long got = 0;
  const char *d = getenv("CEILINGS_ACK_DELAY_US");
  long ack_delay_us = d ? strtol(d, NULL, 10) : 0;
  double t0 = now(), idle_since = now();
  while (got < count) {
    natsMsgList list = {0};
    s = natsSubscription_Fetch(&list, sub, batch, 1000, &code);
    if (ack_delay_us > 0 && list.Count > 0) {
      /* Stand in for the work (a database commit) that comes before the acks. */
      struct timespec ts = {ack_delay_us / 1000000, (ack_delay_us % 1000000) * 1000};
      nanosleep(&ts, NULL);
    }
    for (int i = 0; i < list.Count; i++) natsMsg_Ack(list.Msgs[i], NULL);
    got += list.Count;
    if (list.Count) idle_since = now();
    natsMsgList_Destroy(&list);
    if (s != NATS_OK && s != NATS_TIMEOUT) die_nats("fetch", s, code);
    if (now() - idle_since > 10) break;
  }
  natsConnection_Flush(nc);
  double dt = now() - t0;
  printf("consumed=%lld seconds=%.3f rate=%.0f\n", got, dt, (double)got / dt);
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return got == count ? 0 : 1;
}

static int copy_rows(long long count) {
  const char *url = getenv("PG_URL");
  PGconn *pg = PQconnectdb(url ? url : "");
  if (PQstatus(pg) != CONNECTION_OK) {
    fprintf(stderr, "ceilings: connect to PostgreSQL: %s", PQerrorMessage(pg));
    return 1;
  }
  PGresult *r =
      PQexec(pg,
             "CREATE TEMP TABLE bench_copy (msg_id text PRIMARY KEY, athlete_id text, measured_at "
             "timestamptz, rmssd_ms float8, source text, stream text, stream_seq bigint, received_at "
             "timestamptz DEFAULT now())");
  PQclear(r);
  double t0 = now();
  r = PQexec(
      pg,
      "COPY bench_copy (msg_id, athlete_id, measured_at, rmssd_ms, source, stream, stream_seq) FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    fprintf(stderr, "ceilings: copy: %s", PQerrorMessage(pg));
    return 1;
  }
  PQclear(r);
  char line[256];
  for (long long i = 0; i < count; i++) {
    int n =
        snprintf(line, sizeof line, "copy-%lld\tath%lld\t2026-11-28 07:00:00+00\t%lld\tbench\tBENCH\t%lld\n",
                 i, i % 100, 20 + i % 80, i + 1);
    if (PQputCopyData(pg, line, n) != 1) {
      fprintf(stderr, "ceilings: copy data: %s", PQerrorMessage(pg));
      return 1;
    }
  }
  PQputCopyEnd(pg, NULL);
  r = PQgetResult(pg);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  double dt = now() - t0;
  printf("copied=%lld seconds=%.3f rate=%.0f\n", count, dt, (double)count / dt);
  PQfinish(pg);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ceilings stream-add|stream-del|consumer-add|backlog|publish|consume|copy ...\n");
    return 2;
  }
  const char *cmd = argv[1];
  int rc = 2;
  if (strcmp(cmd, "copy") == 0 && argc == 3) return copy_rows(arg_count(argv[2]));
  connect_nats(20000);
  if (strcmp(cmd, "stream-add") == 0 && argc == 4)
    rc = stream_add(argv[2], argv[3]);
  else if (strcmp(cmd, "stream-del") == 0 && argc == 3)
    rc = js_DeleteStream(js, argv[2], NULL, NULL) == NATS_OK ? 0 : 1;
  else if (strcmp(cmd, "consumer-add") == 0 && argc == 5)
    rc = consumer_add(argv[2], argv[3], argv[4]);
  else if (strcmp(cmd, "backlog") == 0 && argc == 4)
    rc = backlog(argv[2], argv[3]);
  else if (strcmp(cmd, "publish") == 0 && (argc == 4 || argc == 5))
    rc = publish(argv[2], arg_count(argv[3]), argc == 5 ? arg_count(argv[4]) : 100);
  else if (strcmp(cmd, "consume") == 0 && argc == 6)
    rc = consume(argv[2], argv[3], arg_count(argv[4]), (int)arg_count(argv[5]));
  else
    fprintf(stderr, "ceilings: bad arguments for '%s'\n", cmd);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_Close();
  return rc;
}
