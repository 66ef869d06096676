/*
 * natssys.c: the server-level series through the system account, for clusters whose
 * monitoring port gonogo cannot reach (most production ones): `nats server list` does the same.
 *
 * One request to $SYS.REQ.SERVER.PING.<VARZ|JSZ|HEALTHZ|ROUTEZ> with a reply inbox is
 * answered by every server of the cluster; the replies are collected until the expected
 * number arrived or the probe timeout passed. Each reply is {"server": {name, id, ...},
 * "data": <what the monitoring endpoint would answer>}, so the series come from the same
 * JSON→series code as the monitor path (natsmon.c) and carry the same labels and values.
 *
 * Which servers to expect: `expect_servers` from the plan, else every server name this
 * process has seen (in any reply, or among the meta group's replicas a JSZ reply lists).
 * Without expect_servers and before any name is known, the collection ends 500 ms after
 * the last reply. A known server that does not answer is up = 0 and current = 0, never
 * missing; when expect_servers is larger than the names known, the rest are up = 0 as
 * "(unnamed N)". JSZ and ROUTEZ series of a server that did not answer are an error, as a
 * monitor URL that does not answer is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "probe/internal.h"
#include "probe/natsconn.h"

#define SYS_REPLY_MAX (4u << 20)
#define SYS_SERVERS_MAX 64
#define SYS_QUIET 0.5 /* seconds to wait for more replies when the count is unknown */

static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char name[64];
  char id[64];
} known[SYS_SERVERS_MAX];
static size_t n_known;

static void learn(const char *name, const char *id) {
  if (!name || !*name) return;
  pthread_mutex_lock(&known_lock);
  size_t i = 0;
  for (; i < n_known; i++)
    if (strcmp(known[i].name, name) == 0) break;
  if (i == n_known && n_known < SYS_SERVERS_MAX)
    snprintf(known[n_known++].name, sizeof known[0].name, "%s", name);
  if (i < n_known && id && *id) snprintf(known[i].id, sizeof known[i].id, "%s", id);
  pthread_mutex_unlock(&known_lock);
}

/* The names known so far, sorted, into names[max][64]; returns how many. */
static int cmp_name(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

static size_t known_names(char (*names)[64], size_t max) {
  pthread_mutex_lock(&known_lock);
  size_t n = n_known < max ? n_known : max;
  for (size_t i = 0; i < n; i++) snprintf(names[i], 64, "%s", known[i].name);
  pthread_mutex_unlock(&known_lock);
  qsort(names, n, 64, cmp_name);
  return n;
}

static size_t expected_count(const probe_ctx *ctx) {
  if (ctx->cfg->nats_expect_servers > 0) return (size_t)ctx->cfg->nats_expect_servers;
  pthread_mutex_lock(&known_lock);
  size_t n = n_known;
  pthread_mutex_unlock(&known_lock);
  return n;
}

bool probe_sys_configured(const probe_ctx *ctx) {
  return ctx->cfg->nats_sys_user || ctx->cfg->nats_sys_creds;
}

static gg_status sys_connect(probe_ctx *ctx, gg_error *err) {
  natsOptions *o = NULL;
  gg_status st = probe_nats_options(ctx->cfg, true, "gonogo-probe-system", ctx->timeout, &o, err);
  if (st != GG_OK) return st;
  natsStatus s = natsOptions_SetMaxReconnect(o, 2);
  if (s == NATS_OK) s = natsConnection_Connect(&ctx->sys_nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    char servers[512];
    probe_nats_servers_text(ctx, servers, sizeof servers);
    ctx->sys_nc = NULL;
    return gg_error_set(err, s == NATS_TIMEOUT ? GG_ERR_TIMEOUT : GG_ERR_NATS,
                        "connect to the system account (nats %s): %s", servers, probe_nats_reason(s));
  }
  return GG_OK;
}

static gg_status sys_conn(probe_ctx *ctx, natsConnection **nc, gg_error *err) {
  pthread_mutex_lock(&ctx->sys_lock);
  if (!ctx->sys_tried) {
    ctx->sys_tried = true;
    gg_error_clear(&ctx->sys_err);
    ctx->sys_status = sys_connect(ctx, &ctx->sys_err);
  }
  gg_status st = ctx->sys_status;
  if (st != GG_OK && err) *err = ctx->sys_err;
  *nc = ctx->sys_nc;
  pthread_mutex_unlock(&ctx->sys_lock);
  return st;
}

void probe_sys_close(probe_ctx *ctx) {
  if (ctx->sys_nc) natsConnection_Destroy(ctx->sys_nc);
  ctx->sys_nc = NULL;
}

/* Learn the meta group's names from a JSZ reply's data (the leader lists its replicas). */
static void learn_meta(json_t *data) {
  const char *leader = json_string_value(gg_json_path(data, "meta_cluster.leader"));
  if (leader) learn(leader, NULL);
  size_t i;
  json_t *r;
  json_array_foreach(gg_json_path(data, "meta_cluster.replicas"), i, r)
      learn(json_string_value(json_object_get(r, "name")), NULL);
}

static int cmp_reply(const void *a, const void *b) {
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* Replies in server-name order, so the series come out in a stable order. */
static void sort_by_name(json_t *replies) {
  size_t n = json_array_size(replies);
  if (n < 2 || n > SYS_SERVERS_MAX) return;
  json_t *v[SYS_SERVERS_MAX];
  for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(replies, i));
  qsort(v, n, sizeof v[0], cmp_reply);
  json_array_clear(replies);
  for (size_t i = 0; i < n; i++) json_array_append_new(replies, v[i]);
}

/* The ping job: job->a is the endpoint (VARZ, JSZ, HEALTHZ, ROUTEZ); job->doc becomes an
 * array of the replies, each {"name", "id", "data"} (or "error"). */
void probe_sys_run_ping(probe_ctx *ctx, probe_job *job) {
  natsConnection *nc = NULL;
  if ((job->status = sys_conn(ctx, &nc, &job->err)) != GG_OK) return;
  char subject[96];
  snprintf(subject, sizeof subject, "$SYS.REQ.SERVER.PING.%s", job->a);
  natsInbox *inbox = NULL;
  natsSubscription *sub = NULL;
  natsStatus s = natsInbox_Create(&inbox);
  if (s == NATS_OK) s = natsConnection_SubscribeSync(&sub, nc, (const char *)inbox);
  if (s == NATS_OK) s = natsConnection_PublishRequest(nc, subject, (const char *)inbox, "{}", 2);
  if (s != NATS_OK) {
    job->status = gg_error_set(&job->err, GG_ERR_NATS, "request %s (system account): %s", subject,
                               probe_nats_reason(s));
    goto out;
  }
  json_t *replies = json_array();
  job->doc = replies;
  size_t want = expected_count(ctx);
  double deadline = gg_clock_mono() + job->timeout;
  while (!want || json_array_size(replies) < want) {
    double left = deadline - gg_clock_mono();
    if (!want && json_array_size(replies) > 0 && left > SYS_QUIET) left = SYS_QUIET;
    if (left <= 0) break;
    natsMsg *m = NULL;
    s = natsSubscription_NextMsg(&m, sub, (int64_t)(left * 1000) + 1);
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) {
      job->status = gg_error_set(&job->err, GG_ERR_NATS, "replies to %s (system account): %s", subject,
                                 probe_nats_reason(s));
      break;
    }
    int len = natsMsg_GetDataLength(m);
    json_t *doc = len > 0 && (unsigned)len <= SYS_REPLY_MAX
                      ? json_loadb(natsMsg_GetData(m), (size_t)len, 0, NULL)
                      : NULL;
    natsMsg_Destroy(m);
    const char *name = json_string_value(gg_json_path(doc, "server.name"));
    const char *id = json_string_value(gg_json_path(doc, "server.id"));
    json_t *data = json_object_get(doc, "data");
    if (name) {
      learn(name, id);
      if (data && strcmp(job->a, "JSZ") == 0) learn_meta(data);
      json_t *err = json_object_get(doc, "error");
      json_array_append_new(replies, json_pack("{s:s, s:s, s:O?, s:O?}", "name", name, "id", id ? id : "",
                                               "data", data, "error", err));
    }
    json_decref(doc);
  }
  sort_by_name(replies);
out:
  natsSubscription_Destroy(sub);
  natsInbox_Destroy(inbox);
}

/* The reply of server `name` in a ping job, or NULL. */
static json_t *reply_of(const probe_job *ping, const char *name) {
  size_t i;
  json_t *r;
  json_array_foreach(ping->doc, i,
                     r) if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0) return r;
  return NULL;
}

/* Run the pings of endpoints (NULL-terminated) together; they land in pings[]. False (job
 * holds the error) when one could not be made at all. */
static bool run_pings(probe_ctx *ctx, probe_job *job, const char *const *endpoints, probe_job **pings) {
  size_t n = 0;
  for (; endpoints[n]; n++) {
    pings[n] = probe_job_lookup(ctx, JOB_SYS_PING, endpoints[n], NULL, job->timeout);
    if (!pings[n]) {
      job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
      return false;
    }
  }
  probe_job_run_all(ctx, pings, n);
  for (size_t i = 0; i < n; i++)
    if (pings[i]->status != GG_OK && !pings[i]->doc) {
      job->status = pings[i]->status;
      job->err = pings[i]->err;
      return false;
    }
  return true;
}

/* up and current: one sample per known server, 0 for those that did not answer. */
static void per_server_flag(probe_ctx *ctx, probe_job *job, const char *series, const char *endpoint) {
  const char *eps[] = {endpoint, "JSZ", NULL}; /* JSZ: the meta group names every member */
  if (strcmp(endpoint, "JSZ") == 0) eps[1] = NULL;
  probe_job *pings[2];
  if (!run_pings(ctx, job, eps, pings)) return;
  char names[SYS_SERVERS_MAX][64];
  size_t n = known_names(names, SYS_SERVERS_MAX);
  double now = gg_clock_now();
  for (size_t i = 0; i < n; i++) {
    json_t *r = reply_of(pings[0], names[i]);
    bool ok = r != NULL;
    if (!r) {
      probe_note(ctx, "%s{server=\"%s\"} = 0: no answer to $SYS.REQ.SERVER.PING.%s within %gs", series,
                 names[i], endpoint, job->timeout);
    } else if (strcmp(endpoint, "HEALTHZ") == 0) {
      const char *status = json_string_value(gg_json_path(r, "data.status"));
      ok = status && strcmp(status, "ok") == 0;
      if (!ok) {
        const char *why = json_string_value(gg_json_path(r, "data.error"));
        probe_note(ctx, "%s{server=\"%s\"} = 0: $SYS.REQ.SERVER.PING.HEALTHZ: %s%s%s", series, names[i],
                   status ? status : "no status", why ? ": " : "", why ? why : "");
      }
    }
    probe_job_add(job, series, ok ? 1 : 0, now, "server", names[i], NULL);
  }
  size_t want = (size_t)(ctx->cfg->nats_expect_servers > 0 ? ctx->cfg->nats_expect_servers : 0);
  for (size_t k = n; k < want; k++) {
    char label[32];
    snprintf(label, sizeof label, "(unnamed %zu)", k + 1);
    probe_note(ctx, "%s{server=\"%s\"} = 0: expect_servers is %zu, only %zu servers answer or are known",
               series, label, want, n);
    probe_job_add(job, series, 0, now, "server", label, NULL);
  }
}

void probe_sys_run_up(probe_ctx *ctx, probe_job *job) {
  per_server_flag(ctx, job, "nats.server.up", "VARZ");
}

void probe_sys_run_current(probe_ctx *ctx, probe_job *job) {
  per_server_flag(ctx, job, "nats.jetstream.current", "HEALTHZ");
}

/* The names of the known servers that did not answer ping, into missing ("n2, n3"); false
 * when every one answered. */
static bool who_is_missing(const probe_job *ping, char *missing, size_t len) {
  char names[SYS_SERVERS_MAX][64];
  size_t n = known_names(names, SYS_SERVERS_MAX), w = 0;
  missing[0] = '\0';
  for (size_t i = 0; i < n; i++)
    if (!reply_of(ping, names[i]) && w + 1 < len) {
      int k = snprintf(missing + w, len - w, "%s'%s'", w ? ", " : "", names[i]);
      if (k > 0) w += (size_t)k;
    }
  return w > 0;
}

void probe_sys_run_jsz(probe_ctx *ctx, probe_job *job) {
  const char *eps[] = {"JSZ", NULL};
  probe_job *ping;
  if (!run_pings(ctx, job, eps, &ping)) return;
  char missing[512];
  if (who_is_missing(ping, missing, sizeof missing)) {
    job->status =
        gg_error_set(&job->err, GG_ERR_TIMEOUT,
                     "server %s did not answer $SYS.REQ.SERVER.PING.JSZ within %gs", missing, job->timeout);
    return;
  }
  size_t i;
  json_t *r;
  json_array_foreach(ping->doc, i, r) {
    const char *name = json_string_value(json_object_get(r, "name"));
    if (probe_series_jsz(job, name, json_object_get(r, "data"), "$SYS.REQ.SERVER.PING.JSZ") != GG_OK) return;
  }
}

void probe_sys_run_routez(probe_ctx *ctx, probe_job *job) {
  const char *eps[] = {"ROUTEZ", NULL};
  probe_job *ping;
  if (!run_pings(ctx, job, eps, &ping)) return;
  char missing[512];
  if (who_is_missing(ping, missing, sizeof missing)) {
    job->status = gg_error_set(&job->err, GG_ERR_TIMEOUT,
                               "server %s did not answer $SYS.REQ.SERVER.PING.ROUTEZ within %gs", missing,
                               job->timeout);
    return;
  }
  /* Peers are named through the ids every reply's envelope carries. */
  const char *ids[SYS_SERVERS_MAX], *names[SYS_SERVERS_MAX];
  size_t n = 0, i;
  json_t *r;
  json_array_foreach(ping->doc, i, r) if (n < SYS_SERVERS_MAX) {
    ids[n] = json_string_value(json_object_get(r, "id"));
    names[n++] = json_string_value(json_object_get(r, "name"));
  }
  json_array_foreach(ping->doc, i, r) {
    if (probe_series_routez(job, json_string_value(json_object_get(r, "name")), json_object_get(r, "data"),
                            ids, names, n) != GG_OK)
      return;
  }
}

void probe_sys_run_meta(probe_ctx *ctx, probe_job *job) {
  const char *eps[] = {"JSZ", NULL};
  probe_job *ping;
  if (!run_pings(ctx, job, eps, &ping)) return;
  json_t *docs[SYS_SERVERS_MAX];
  const char *names[SYS_SERVERS_MAX];
  size_t n = 0, i;
  json_t *r;
  json_array_foreach(ping->doc, i, r) if (n < SYS_SERVERS_MAX) {
    docs[n] = json_object_get(r, "data");
    names[n++] = json_string_value(json_object_get(r, "name"));
  }
  if (n == 0) {
    job->status =
        gg_error_set(&job->err, GG_ERR_TIMEOUT,
                     "no server answered $SYS.REQ.SERVER.PING.JSZ within %gs (system account)", job->timeout);
    return;
  }
  probe_series_meta(ctx, job, docs, names, n, "servers answering the system account");
}

bool probe_sys_wanted(probe_ctx *ctx, double timeout) {
  if (!probe_sys_configured(ctx)) return false;
  const probe_config *cfg = ctx->cfg;
  if (cfg->n_monitor_urls == 0) return true;
  pthread_mutex_lock(&ctx->sys_lock);
  int mode = ctx->sys_mode;
  pthread_mutex_unlock(&ctx->sys_lock);
  if (mode) return mode == 2;
  /* Monitor URLs given: use them when any answers; the system account when none does. */
  probe_job *varz[SYS_SERVERS_MAX];
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_monitor_urls && n < SYS_SERVERS_MAX; i++) {
    probe_job *j = probe_job_lookup(ctx, JOB_MON_VARZ, cfg->monitor_urls[i], NULL, timeout);
    if (j) varz[n++] = j;
  }
  probe_job_run_all(ctx, varz, n);
  bool any = false;
  for (size_t i = 0; i < n; i++) any = any || varz[i]->status == GG_OK;
  if (!any) probe_note(ctx, "no monitor URL answers: the server series come through the system account");
  pthread_mutex_lock(&ctx->sys_lock);
  ctx->sys_mode = any ? 1 : 2;
  pthread_mutex_unlock(&ctx->sys_lock);
  return !any;
}
