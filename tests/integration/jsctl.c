/*
 * jsctl: a tiny JetStream driver for reproducing cluster faults by hand or from a script
 * (scripts/repro-nodekill), since the `nats` CLI is not installed. One command per run:
 *
 *   jsctl add    STREAM SUBJ[,SUBJ...] [REPLICAS]    create a file stream (limits, dupes 2m)
 *   jsctl update STREAM SUBJ[,SUBJ...]               set the stream's subjects (other fields kept)
 *   jsctl del    STREAM                              delete a stream
 *   jsctl cadd   STREAM CONSUMER FILTER              create a durable pull consumer (explicit ack)
 *   jsctl cdel   STREAM CONSUMER                     delete a consumer
 *   jsctl pub    SUBJECT COUNT                       publish COUNT messages (Nats-Msg-Id unique)
 *   jsctl info   STREAM                              subjects, messages, leader, each replica's
 *                                                    current/offline/lag (one line)
 *   jsctl peers  STREAM                              exit 0 when every replica is current and
 *                                                    online, 1 otherwise (prints which)
 *   jsctl checkpoint -                               make every node snapshot its meta layer:
 *                                                    wait 2.5 s, create and delete a scratch
 *                                                    stream (what act_meta_checkpoint does)
 *
 * NATS_URL (comma-separated) selects the servers. Exit 0 on success, 2 on a NATS error (printed
 * with the JetStream error code), 64 on usage.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int split(char *s, const char **out, int cap) {
  int n = 0;
  for (char *save = NULL, *t = strtok_r(s, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save))
    out[n++] = t;
  return n;
}

static int fail(const char *what, natsStatus s, jsErrCode je) {
  fprintf(stderr, "jsctl: %s: %s (jetstream error %d) %s\n", what, natsStatus_GetText(s), (int)je,
          nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
  return 2;
}

static void print_info(const jsStreamInfo *si) {
  printf("stream=%s subjects=", si->Config->Name);
  for (int i = 0; i < si->Config->SubjectsLen; i++) printf("%s%s", i ? "," : "", si->Config->Subjects[i]);
  printf(" replicas=%ld msgs=%llu last_seq=%llu", (long)si->Config->Replicas,
         (unsigned long long)si->State.Msgs, (unsigned long long)si->State.LastSeq);
  if (si->Cluster) {
    printf(" leader=%s", si->Cluster->Leader ? si->Cluster->Leader : "-");
    for (int i = 0; i < si->Cluster->ReplicasLen; i++) {
      const jsPeerInfo *p = si->Cluster->Replicas[i];
      printf(" peer=%s:%s%s:lag=%llu:active=%.1fs", p->Name, p->Current ? "current" : "behind",
             p->Offline ? ":offline" : "", (unsigned long long)p->Lag, (double)p->Active / 1e9);
    }
  }
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: jsctl add|update|del|cadd|cdel|pub|info|peers ARGS (see the source)\n");
    return 64;
  }
  const char *url = getenv("NATS_URL");
  char *copy = strdup(url ? url : "nats://127.0.0.1:4222");
  const char *servers[16];
  int nservers = split(copy, servers, 16);
  natsConnection *nc = NULL;
  natsOptions *o = NULL;
  jsCtx *js = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetServers(o, servers, nservers);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, 2000);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, o);
  if (s != NATS_OK) return fail("connect", s, 0);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) return fail("jetstream", s, 0);
  const char *cmd = argv[1], *name = argv[2];
  jsErrCode je = 0;
  jsStreamInfo *si = NULL;
  int rc = 0;
  if (strcmp(cmd, "add") == 0 && argc >= 4) {
    char *subj = strdup(argv[3]);
    const char *list[32];
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = list;
    cfg.SubjectsLen = split(subj, list, 32);
    cfg.Storage = js_FileStorage;
    cfg.Replicas = argc >= 5 ? strtol(argv[4], NULL, 10) : 3;
    if (cfg.Replicas < 1 || cfg.Replicas > 5) {
      fprintf(stderr, "jsctl: replicas must be 1..5\n");
      return 64;
    }
    cfg.Duplicates = (int64_t)120 * 1000000000;
    s = js_AddStream(&si, js, &cfg, NULL, &je);
    if (s != NATS_OK)
      rc = fail("add stream", s, je);
    else
      print_info(si);
    free(subj);
  } else if (strcmp(cmd, "update") == 0 && argc >= 4) {
    s = js_GetStreamInfo(&si, js, name, NULL, &je);
    if (s != NATS_OK) return fail("stream info", s, je);
    char *subj = strdup(argv[3]);
    const char *list[32];
    jsStreamConfig cfg = *si->Config;
    cfg.Subjects = list;
    cfg.SubjectsLen = split(subj, list, 32);
    jsStreamInfo *after = NULL;
    s = js_UpdateStream(&after, js, &cfg, NULL, &je);
    if (s != NATS_OK)
      rc = fail("update stream", s, je);
    else
      print_info(after);
    jsStreamInfo_Destroy(after);
    free(subj);
  } else if (strcmp(cmd, "del") == 0) {
    s = js_DeleteStream(js, name, NULL, &je);
    if (s != NATS_OK) rc = fail("delete stream", s, je);
  } else if (strcmp(cmd, "cadd") == 0 && argc >= 5) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = argv[3];
    cc.FilterSubject = argv[4];
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    jsConsumerInfo *ci = NULL;
    s = js_AddConsumer(&ci, js, name, &cc, NULL, &je);
    if (s != NATS_OK) rc = fail("add consumer", s, je);
    jsConsumerInfo_Destroy(ci);
  } else if (strcmp(cmd, "cdel") == 0 && argc >= 4) {
    s = js_DeleteConsumer(js, name, argv[3], NULL, &je);
    if (s != NATS_OK) rc = fail("delete consumer", s, je);
  } else if (strcmp(cmd, "pub") == 0 && argc >= 4) {
    char *end = NULL;
    long n = strtol(argv[3], &end, 10);
    if (!end || *end || n < 0 || n > 1000000) {
      fprintf(stderr, "jsctl: COUNT must be 0..1000000\n");
      return 64;
    }
    char id[64], body[64];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (long i = 0; i < n && rc == 0; i++) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      snprintf(id, sizeof id, "jsctl-%ld-%ld-%ld", (long)ts.tv_sec, (long)ts.tv_nsec, i);
      snprintf(body, sizeof body, "m%ld", i);
      po.MsgId = id;
      s = js_Publish(NULL, js, name, body, (int)strlen(body), &po, &je);
      if (s != NATS_OK) rc = fail("publish", s, je);
    }
  } else if (strcmp(cmd, "info") == 0 || strcmp(cmd, "peers") == 0) {
    s = js_GetStreamInfo(&si, js, name, NULL, &je);
    if (s != NATS_OK) return fail("stream info", s, je);
    print_info(si);
    if (strcmp(cmd, "peers") == 0) {
      if (!si->Cluster || !si->Cluster->Leader) rc = 1;
      for (int i = 0; si->Cluster && i < si->Cluster->ReplicasLen; i++)
        if (!si->Cluster->Replicas[i]->Current || si->Cluster->Replicas[i]->Offline) rc = 1;
      /* A replica the stream has, that the meta layer lists nowhere, shows as a missing peer. */
      if (si->Cluster && si->Cluster->ReplicasLen + 1 < si->Config->Replicas) rc = 1;
    }
  } else if (strcmp(cmd, "checkpoint") == 0) {
    struct timespec d = {2, 500000000};
    nanosleep(&d, NULL);
    const char *list[] = {"_gonogo.meta_checkpoint.jsctl"};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = "GONOGO_META_CHECKPOINT_JSCTL";
    cfg.Subjects = list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_MemoryStorage;
    cfg.Replicas = 1;
    s = js_AddStream(&si, js, &cfg, NULL, &je);
    if (s != NATS_OK)
      rc = fail("checkpoint: add scratch stream", s, je);
    else if ((s = js_DeleteStream(js, cfg.Name, NULL, &je)) != NATS_OK)
      rc = fail("checkpoint: delete", s, je);
  } else {
    fprintf(stderr, "jsctl: unknown command or missing arguments: %s\n", cmd);
    rc = 64;
  }
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(o);
  free(copy);
  return rc;
}
