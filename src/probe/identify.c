/*
 * identify.c: which cluster a plan's settings reach, as the servers themselves report it.
 *
 * `check`, `run` and `watch` print this in their first lines, so an operator with the wrong
 * NATS_URL or a stale environment sees the cluster's real name before anything is decided or
 * changed. The names come from the monitor port's /varz when a monitor URL answers, else from
 * the system account's SERVER.PING (a secured cluster), else from the connection itself (the
 * URL that accepted and its server id: all an application user is told).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/json.h"
#include "base/secret.h"
#include "probe/natsconn.h"
#include "probe/probe.h"

/* A /varz or a ping reply is a few KiB; anything much larger is not a NATS server. */
#define IDENTIFY_REPLY_MAX (256 * 1024)
/* After the first ping reply, the others of a healthy cluster follow within milliseconds. */
#define IDENTIFY_QUIET 0.25

static void copy(char *dst, size_t n, const char *src) {
  snprintf(dst, n, "%s", src ? src : "");
}

static void add_server(probe_cluster_id *out, const char *name, const char *cluster, const char *version) {
  if (!name || out->nservers >= PROBE_IDENTIFY_MAX) return;
  for (size_t i = 0; i < out->nservers; i++)
    if (strcmp(out->servers[i].name, name) == 0) return;
  probe_server_id *s = &out->servers[out->nservers++];
  copy(s->name, sizeof s->name, name);
  copy(s->cluster, sizeof s->cluster, cluster);
  copy(s->version, sizeof s->version, version);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const probe_server_id *)a)->name, ((const probe_server_id *)b)->name);
}

static void from_monitor(const probe_config *cfg, double timeout, probe_cluster_id *out) {
  for (size_t i = 0; i < cfg->n_monitor_urls; i++) {
    char url[512];
    const char *base = cfg->monitor_urls[i];
    size_t len = strlen(base);
    snprintf(url, sizeof url, "%.*s/varz", (int)(len && base[len - 1] == '/' ? len - 1 : len), base);
    gg_http_opts o = {.timeout = timeout, .max_body = IDENTIFY_REPLY_MAX};
    gg_http_response r;
    gg_error e;
    gg_error_clear(&e);
    if (gg_http_get(url, &o, &r, &e) != GG_OK) continue;
    json_t *doc = r.status == 200 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
    add_server(out, json_string_value(json_object_get(doc, "server_name")),
               json_string_value(gg_json_path(doc, "cluster.name")),
               json_string_value(json_object_get(doc, "version")));
    json_decref(doc);
    gg_http_response_release(&r);
  }
  if (out->nservers) copy(out->source, sizeof out->source, "the monitor port");
}

static natsConnection *connect_as(const probe_config *cfg, bool system, double timeout, char *why, size_t n) {
  natsOptions *o = NULL;
  natsConnection *nc = NULL;
  gg_error e;
  gg_error_clear(&e);
  if (probe_nats_options(cfg, system, "gonogo-identify", timeout, &o, &e) != GG_OK) {
    copy(why, n, gg_error_message(&e));
    return NULL;
  }
  natsStatus s = natsOptions_SetMaxReconnect(o, 0);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, o);
  if (s != NATS_OK) {
    snprintf(why, n, "%s: %s", system ? "the system account" : "connect", probe_nats_reason(s));
    nc = NULL;
  }
  natsOptions_Destroy(o);
  return nc;
}

static void from_system(const probe_config *cfg, double timeout, probe_cluster_id *out) {
  char why[256] = "";
  natsConnection *nc = connect_as(cfg, true, timeout, why, sizeof why);
  if (!nc) {
    copy(out->note, sizeof out->note, why);
    return;
  }
  natsInbox *inbox = NULL;
  natsSubscription *sub = NULL;
  natsStatus s = natsInbox_Create(&inbox);
  if (s == NATS_OK) s = natsConnection_SubscribeSync(&sub, nc, (const char *)inbox);
  if (s == NATS_OK)
    s = natsConnection_PublishRequest(nc, "$SYS.REQ.SERVER.PING", (const char *)inbox, "{}", 2);
  double deadline = gg_clock_mono() + timeout;
  size_t want = cfg->nats_expect_servers > 0 ? (size_t)cfg->nats_expect_servers : 0;
  while (s == NATS_OK && (!want || out->nservers < want)) {
    double left = deadline - gg_clock_mono();
    if (out->nservers && left > IDENTIFY_QUIET) left = IDENTIFY_QUIET;
    if (left <= 0) break;
    natsMsg *m = NULL;
    if (natsSubscription_NextMsg(&m, sub, (int64_t)(left * 1000) + 1) != NATS_OK) break;
    int len = natsMsg_GetDataLength(m);
    json_t *doc = len > 0 && (unsigned)len <= IDENTIFY_REPLY_MAX
                      ? json_loadb(natsMsg_GetData(m), (size_t)len, 0, NULL)
                      : NULL;
    natsMsg_Destroy(m);
    add_server(out, json_string_value(gg_json_path(doc, "server.name")),
               json_string_value(gg_json_path(doc, "server.cluster")),
               json_string_value(gg_json_path(doc, "server.ver")));
    json_decref(doc);
  }
  natsSubscription_Destroy(sub);
  natsInbox_Destroy(inbox);
  natsConnection_Destroy(nc);
  if (out->nservers) copy(out->source, sizeof out->source, "the system account");
}

static void from_connection(const probe_config *cfg, double timeout, probe_cluster_id *out) {
  char why[256] = "";
  natsConnection *nc = connect_as(cfg, false, timeout, why, sizeof why);
  if (!nc) {
    if (!out->note[0]) copy(out->note, sizeof out->note, why);
    return;
  }
  char url[256] = "", id[96] = "";
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  natsConnection_GetConnectedServerId(nc, id, sizeof id);
  gg_secret_redact_urls(url, out->connected, sizeof out->connected);
  copy(out->server_id, sizeof out->server_id, id);
  natsConnection_Destroy(nc);
}

void probe_cluster_identify(const probe_config *cfg, double timeout, probe_cluster_id *out) {
  memset(out, 0, sizeof *out);
  if (timeout <= 0) timeout = PROBE_DEFAULT_TIMEOUT;
  if (cfg->n_nats_servers == 0) {
    copy(out->note, sizeof out->note, "no NATS servers configured (connect.nats.servers)");
    return;
  }
  from_monitor(cfg, timeout, out);
  if (!out->nservers && (cfg->nats_sys_user || cfg->nats_sys_creds)) from_system(cfg, timeout, out);
  /* In the order an operator reads them, not the order they answered in. */
  qsort(out->servers, out->nservers, sizeof out->servers[0], by_name);
  if (!out->nservers) {
    from_connection(cfg, timeout, out);
    if (out->connected[0] && !out->note[0])
      copy(out->note, sizeof out->note,
           "server names need a monitor URL (connect.nats.monitor) or the system account "
           "(connect.nats.system)");
  }
}

void probe_db_where(const char *url, char *out, size_t n) {
  char *msg = NULL;
  PQconninfoOption *opts = url ? PQconninfoParse(url, &msg) : NULL;
  PQfreemem(msg);
  const char *host = NULL, *port = NULL, *db = NULL, *addr = NULL;
  for (PQconninfoOption *o = opts; o && o->keyword; o++) {
    if (!o->val || !*o->val) continue;
    if (strcmp(o->keyword, "host") == 0) host = o->val;
    if (strcmp(o->keyword, "hostaddr") == 0) addr = o->val;
    if (strcmp(o->keyword, "port") == 0) port = o->val;
    if (strcmp(o->keyword, "dbname") == 0) db = o->val;
  }
  if (!opts)
    snprintf(out, n, "(not a libpq connection string)");
  else
    snprintf(out, n, "%s:%s/%s",
             host   ? host
             : addr ? addr
                    : "localhost (the socket)",
             port ? port : "5432", db ? db : "(the user's database)");
  PQconninfoFree(opts);
}
