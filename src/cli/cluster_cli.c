#include "cli/cluster_cli.h"

#include <string.h>

#include "base/secret.h"
#include "probe/probe.h"

/* How long the cluster line waits for an answer: short, the evaluation itself reports a dead
 * cluster in full. */
#define CLUSTER_ID_TIMEOUT 2.0

static const char *secret_or_null(const gg_secret *s) {
  return gg_secret_present(s) ? gg_secret_reveal(s) : NULL;
}

static void identify(const plan *p, probe_cluster_id *id) {
  const plan_nats *n = &p->connect.nats;
  probe_config cfg = {
      .nats_servers = (const char *const *)n->servers,
      .n_nats_servers = n->nservers,
      .nats_user = n->user,
      .nats_password = secret_or_null(&n->password),
      .nats_token = secret_or_null(&n->token),
      .nats_creds = n->credentials,
      .nats_tls_ca = n->tls_ca,
      .nats_nkey = n->nkey,
      .nats_tls_cert = n->tls_cert,
      .nats_tls_key = n->tls_key,
      .nats_sys_user = n->sys_user,
      .nats_sys_password = secret_or_null(&n->sys_password),
      .nats_sys_creds = n->sys_creds,
      .nats_expect_servers = n->expect_servers,
      .monitor_urls = (const char *const *)n->monitor,
      .n_monitor_urls = n->nmonitor,
  };
  probe_cluster_identify(&cfg, CLUSTER_ID_TIMEOUT, id);
}

static void servers_text(const plan *p, char *out, size_t n) {
  char joined[1024] = "";
  size_t used = 0;
  for (size_t i = 0; i < p->connect.nats.nservers && used + 1 < sizeof joined; i++) {
    int w = snprintf(joined + used, sizeof joined - used, "%s%s", i ? "," : "", p->connect.nats.servers[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  gg_secret_redact_urls(joined, out, n);
}

/* The cluster name when every server reports the same one, else "". */
static const char *one_cluster(const probe_cluster_id *id) {
  if (!id->nservers) return "";
  for (size_t i = 1; i < id->nservers; i++)
    if (strcmp(id->servers[i].cluster, id->servers[0].cluster) != 0) return "";
  return id->servers[0].cluster;
}

void cli_cluster_print(FILE *out, const plan *p) {
  probe_cluster_id id;
  identify(p, &id);
  char servers[1024];
  servers_text(p, servers, sizeof servers);
  fprintf(out, "cluster: %s\n", p->connect.nats.nservers ? servers : "(no connect.nats.servers)");
  if (id.nservers) {
    fprintf(out, "  servers");
    for (size_t i = 0; i < id.nservers; i++) fprintf(out, "%s %s", i ? "," : "", id.servers[i].name);
    const char *c = one_cluster(&id);
    if (c[0])
      fprintf(out, " of cluster '%s'", c);
    else
      for (size_t i = 0; i < id.nservers; i++)
        fprintf(out, "%s%s in '%s'", i ? "," : " (", id.servers[i].name, id.servers[i].cluster);
    if (!c[0]) fprintf(out, ")");
    if (id.servers[0].version[0]) fprintf(out, ", nats-server %s", id.servers[0].version);
    fprintf(out, ", as %s reports them\n", id.source);
  } else if (id.connected[0]) {
    fprintf(out, "  connected to %s (server id %s); %s\n", id.connected, id.server_id, id.note);
  } else {
    fprintf(out, "  not reached: %s\n", id.note);
  }
  for (size_t i = 0; i < p->connect.ndatabases; i++) {
    char where[512];
    probe_db_where(gg_secret_reveal(&p->connect.databases[i].url), where, sizeof where);
    fprintf(out, "database %s: %s\n", p->connect.databases[i].name, where);
  }
}

json_t *cli_cluster_json(const plan *p) {
  probe_cluster_id id;
  identify(p, &id);
  char servers[1024];
  servers_text(p, servers, sizeof servers);
  json_t *names = json_array();
  for (size_t i = 0; i < id.nservers; i++)
    json_array_append_new(names, json_pack("{s:s, s:s, s:s}", "name", id.servers[i].name, "cluster",
                                           id.servers[i].cluster, "version", id.servers[i].version));
  json_t *dbs = json_array();
  for (size_t i = 0; i < p->connect.ndatabases; i++) {
    char where[512];
    probe_db_where(gg_secret_reveal(&p->connect.databases[i].url), where, sizeof where);
    json_array_append_new(dbs, json_pack("{s:s, s:s}", "name", p->connect.databases[i].name, "where", where));
  }
  const char *c = one_cluster(&id);
  return json_pack("{s:{s:s, s:o, s:s?, s:s?, s:s?, s:s?, s:s?}, s:o}", "nats", "servers", servers, "names",
                   names, "cluster", c[0] ? c : NULL, "source", id.source[0] ? id.source : NULL, "connected",
                   id.connected[0] ? id.connected : NULL, "server_id", id.server_id[0] ? id.server_id : NULL,
                   "note", id.note[0] ? id.note : NULL, "databases", dbs);
}
