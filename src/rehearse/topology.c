/*
 * topology.c: the plan's topology, buildable on the rehearsal's local cluster. More replicas
 * than nodes are lowered to the node count (said: "AA_CORE_HOT: R5 -> R3"); with --from-live
 * the legacy (existing-marked) streams and consumers take the live cluster's own settings,
 * read through the plan's connect:, and what cannot be built locally (placement tags, sources,
 * a mirror) is dropped with the reason. No message is copied.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate/env.h"
#include "probe/natsconn.h"
#include "rehearse/internal.h"

gg_status rehearse_list_add(char ***list, size_t *n, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  char **nl = realloc(*list, (*n + 1) * sizeof *nl);
  if (!nl) return GG_ERR_NOMEM;
  *list = nl;
  if (!(nl[*n] = strdup(line))) return GG_ERR_NOMEM;
  (*n)++;
  return GG_OK;
}

void rehearse_list_free(char **list, size_t n) {
  for (size_t i = 0; i < n; i++) free(list[i]);
  free(list);
}

static gg_status set_str(char **field, const char *v) {
  char *c = v ? strdup(v) : NULL;
  if (v && !c) return GG_ERR_NOMEM;
  free(*field);
  *field = c;
  return GG_OK;
}

static const char *storage_name(jsStorageType t) {
  return t == js_MemoryStorage ? "memory" : "file";
}

static const char *retention_name(jsRetentionPolicy r) {
  return r == js_InterestPolicy ? "interest" : r == js_WorkQueuePolicy ? "workqueue" : "limits";
}

/* The plan's entry for stream `s` takes the live stream's configuration. */
static gg_status copy_stream(plan_stream *s, const jsStreamConfig *c, char ***adj, size_t *nadj) {
  char **subjects = calloc((size_t)c->SubjectsLen + 1, sizeof *subjects);
  if (!subjects) return GG_ERR_NOMEM;
  for (int i = 0; i < c->SubjectsLen; i++)
    if (!(subjects[i] = strdup(c->Subjects[i]))) {
      rehearse_list_free(subjects, (size_t)i);
      return GG_ERR_NOMEM;
    }
  rehearse_list_free(s->subjects, s->nsubjects);
  s->subjects = subjects;
  s->nsubjects = (size_t)c->SubjectsLen;
  s->replicas = (int)c->Replicas;
  s->max_age = (double)c->MaxAge / 1e9;
  s->max_bytes = c->MaxBytes > 0 ? (double)c->MaxBytes : -1;
  s->max_msgs = c->MaxMsgs > 0 ? c->MaxMsgs : -1;
  s->max_msgs_per_subject = c->MaxMsgsPerSubject > 0 ? c->MaxMsgsPerSubject : -1;
  s->max_msg_size = c->MaxMsgSize > 0 ? (double)c->MaxMsgSize : -1;
  s->duplicates = c->Duplicates > 0 ? (double)c->Duplicates / 1e9 : -1;
  gg_status st = set_str(&s->storage, storage_name(c->Storage));
  if (st == GG_OK) st = set_str(&s->retention, retention_name(c->Retention));
  if (st == GG_OK) st = set_str(&s->discard, c->Discard == js_DiscardNew ? "new" : "old");
  if (st == GG_OK && c->Placement && (c->Placement->TagsLen > 0 || c->Placement->Cluster))
    st = rehearse_list_add(adj, nadj,
                           "%s: placement (%s%d tag%s) dropped: the local cluster has no tags or named "
                           "clusters to place it by",
                           s->name, c->Placement->Cluster ? "cluster, " : "", c->Placement->TagsLen,
                           c->Placement->TagsLen == 1 ? "" : "s");
  if (st == GG_OK && (c->Mirror || c->SourcesLen > 0))
    st = rehearse_list_add(adj, nadj, "%s: %s dropped: a rehearsal copies configurations, never data",
                           s->name, c->Mirror ? "its mirror" : "its sources");
  return st;
}

static gg_status copy_consumer(plan_consumer *pc, const jsConsumerConfig *c) {
  if (c->FilterSubject && *c->FilterSubject) {
    char **f = calloc(2, sizeof *f);
    if (!f || !(f[0] = strdup(c->FilterSubject))) {
      free(f);
      return GG_ERR_NOMEM;
    }
    rehearse_list_free(pc->filters, pc->nfilters);
    pc->filters = f;
    pc->nfilters = 1;
  }
  pc->ack_wait = c->AckWait > 0 ? (double)c->AckWait / 1e9 : -1;
  pc->max_deliver = c->MaxDeliver > 0 ? c->MaxDeliver : -1;
  pc->max_ack_pending = c->MaxAckPending > 0 ? c->MaxAckPending : -1;
  const char *ack = c->AckPolicy == js_AckNone ? "none" : c->AckPolicy == js_AckAll ? "all" : "explicit";
  return set_str(&pc->ack_policy, ack);
}

/* Read the live configuration of every existing-marked stream and consumer of p. */
static gg_status from_live(plan *p, const plan *live, char ***adj, size_t *nadj, gg_error *err) {
  gate_env *env = NULL;
  gg_status st = gate_env_new(live, NULL, &env, err);
  if (st != GG_OK) return st;
  natsOptions *no = NULL;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  st = probe_nats_options(gate_env_probe_config(env), false, "gonogo rehearse --from-live", 5, &no, err);
  natsStatus s = NATS_OK;
  if (st == GG_OK && (s = natsConnection_Connect(&nc, no)) != NATS_OK)
    st = gg_error_set(err, GG_ERR_CONNECT, "--from-live: connect to the plan's NATS: %s",
                      probe_nats_reason(s));
  if (st == GG_OK && (s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
    st = gg_error_set(err, GG_ERR_NATS, "--from-live: JetStream: %s", natsStatus_GetText(s));
  for (size_t i = 0; st == GG_OK && i < p->topology.nstreams; i++) {
    plan_stream *ps = &p->topology.streams[i];
    if (!ps->existing) continue;
    jsStreamInfo *si = NULL;
    jsErrCode je = 0;
    s = js_GetStreamInfo(&si, js, ps->name, NULL, &je);
    if (s != NATS_OK)
      st = gg_error_set(err, GG_ERR_NATS, "--from-live: stream '%s' on the live cluster: %s", ps->name,
                        je == JSStreamNotFoundErr ? "not found" : probe_nats_reason(s));
    else if (copy_stream(ps, si->Config, adj, nadj) != GG_OK)
      st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    jsStreamInfo_Destroy(si);
  }
  for (size_t i = 0; st == GG_OK && i < p->topology.nconsumers; i++) {
    plan_consumer *pc = &p->topology.consumers[i];
    if (!pc->existing) continue;
    jsConsumerInfo *ci = NULL;
    jsErrCode je = 0;
    s = js_GetConsumerInfo(&ci, js, pc->stream, pc->name, NULL, &je);
    if (s != NATS_OK)
      st = gg_error_set(err, GG_ERR_NATS, "--from-live: consumer '%s/%s' on the live cluster: %s", pc->stream,
                        pc->name, je == JSConsumerNotFoundErr ? "not found" : probe_nats_reason(s));
    else if (copy_consumer(pc, ci->Config) != GG_OK)
      st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    jsConsumerInfo_Destroy(ci);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(no);
  gate_env_free(env);
  return st;
}

gg_status rehearse_topology_adapt(plan *p, const plan *live, bool live_config, int nodes, char ***adj,
                                  size_t *nadj, gg_error *err) {
  if (live_config) {
    gg_status st = from_live(p, live, adj, nadj, err);
    if (st != GG_OK) return st;
  }
  for (size_t i = 0; i < p->topology.nstreams; i++) {
    plan_stream *s = &p->topology.streams[i];
    if (s->replicas > nodes) {
      if (rehearse_list_add(adj, nadj, "%s: R%d -> R%d (the local cluster has %d nodes)", s->name,
                            s->replicas, nodes, nodes) != GG_OK)
        return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      s->replicas = nodes;
    }
  }
  return GG_OK;
}
