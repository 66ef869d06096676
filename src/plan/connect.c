/*
 * connect.c: the `connect:` section: NATS (servers, monitoring URLs, credentials), databases,
 * HTTP targets and notification webhooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

static void load_nats(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"servers", "monitor",  "credentials",    "token",
                                     "user",    "password", "expect_servers", "api_timeout"};
  if (!plan_load_want_map(l, v, "'nats'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "connect.nats");
  plan_nats *n = &l->p->connect.nats;
  plan_load_strlist(l, plan_ynode_get(v, "servers"), "servers", true, &n->servers, &n->nservers);
  plan_load_strlist(l, plan_ynode_get(v, "monitor"), "monitor", true, &n->monitor, &n->nmonitor);
  plan_load_str(l, v, "credentials", false, "connect.nats", &n->credentials);
  if (n->credentials && !*n->credentials) {
    free(n->credentials);
    n->credentials = NULL;
  }
  plan_load_secret(l, plan_ynode_get(v, "token"), "token", true, &n->token);
  plan_load_str(l, v, "user", false, "connect.nats", &n->user);
  plan_load_secret(l, plan_ynode_get(v, "password"), "password", true, &n->password);
  n->expect_servers = (int)plan_load_int(l, v, "expect_servers", 0, 1000, 0);
  n->api_timeout = plan_load_dur(l, v, "api_timeout", 10.0);
  /* Bounded: below 100 ms every request would time out; above 10 min a dead node stalls a run. */
  if (n->api_timeout < 0.1) n->api_timeout = 0.1;
  if (n->api_timeout > 600) n->api_timeout = 600;
}

static char *url_origin(const char *url) {
  const char *s = strstr(url, "://");
  if (!s) return NULL;
  const char *slash = strchr(s + 3, '/');
  return slash ? strndup(url, (size_t)(slash - url)) : strdup(url);
}

void plan_load_connect(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"nats", "databases", "targets", "prometheus", "alertmanager", "notify"};
  if (!plan_load_want_map(l, v, "'connect'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "connect");
  plan_connect *cn = &l->p->connect;
  load_nats(l, plan_ynode_get(v, "nats"));
  ynode *dbs = plan_ynode_get(v, "databases");
  if (dbs && plan_load_want_map(l, dbs, "'databases'")) {
    cn->databases = plan_load_alloc(l, dbs->n, sizeof *cn->databases);
    for (size_t i = 0; cn->databases && i < dbs->n; i++) {
      plan_database *d = &cn->databases[cn->ndatabases++];
      d->name = plan_load_dup(l, dbs->items[2 * i]->text);
      d->pos = plan_load_pos(dbs->items[2 * i]);
      plan_load_secret(l, dbs->items[2 * i + 1], "databases", false, &d->url);
    }
  }
  ynode *tg = plan_ynode_get(v, "targets");
  if (tg && plan_load_want_map(l, tg, "'targets'")) {
    static const char *const tkeys[] = {"health", "metrics", "url"};
    cn->targets = plan_load_alloc(l, tg->n, sizeof *cn->targets);
    for (size_t i = 0; cn->targets && i < tg->n; i++) {
      ynode *tv = tg->items[2 * i + 1];
      plan_target *t = &cn->targets[cn->ntargets++];
      t->name = plan_load_dup(l, tg->items[2 * i]->text);
      t->pos = plan_load_pos(tg->items[2 * i]);
      char where[160];
      snprintf(where, sizeof where, "target '%s'", t->name ? t->name : "");
      if (!plan_load_want_map(l, tv, where)) continue;
      plan_load_check_keys(l, tv, tkeys, PLAN_COUNT(tkeys), where);
      plan_load_str(l, tv, "health", false, where, &t->health);
      plan_load_str(l, tv, "metrics", false, where, &t->metrics);
      plan_load_str(l, tv, "url", false, where, &t->url);
      if (!t->health && !t->metrics) perr(l->c, tv, "%s needs 'health' or 'metrics'", where);
      if (!t->url) {
        const char *base = t->health ? t->health : t->metrics;
        t->url = base ? url_origin(base) : NULL;
      }
    }
  }
  plan_load_str(l, v, "prometheus", false, "connect", &cn->prometheus);
  plan_load_str(l, v, "alertmanager", false, "connect", &cn->alertmanager);
  if (cn->prometheus && !*cn->prometheus) free(cn->prometheus), cn->prometheus = NULL;
  if (cn->alertmanager && !*cn->alertmanager) free(cn->alertmanager), cn->alertmanager = NULL;
  ynode *nt = plan_ynode_get(v, "notify");
  if (nt && plan_load_want_seq(l, nt, "'notify'")) {
    static const char *const nkeys[] = {"webhook"};
    cn->notify = plan_load_alloc(l, nt->n, sizeof *cn->notify);
    for (size_t i = 0; cn->notify && i < nt->n; i++) {
      ynode *it = nt->items[i];
      if (!plan_load_want_map(l, it, "a notify entry")) continue;
      plan_load_check_keys(l, it, nkeys, PLAN_COUNT(nkeys), "notify");
      ynode *w = plan_ynode_get(it, "webhook");
      if (!w) {
        plan_load_missing(l, it, "webhook", "a notify entry");
        continue;
      }
      plan_notify *pn = &cn->notify[cn->nnotify];
      pn->pos = plan_load_pos(it);
      plan_load_secret(l, w, "webhook", true, &pn->webhook);
      if (gg_secret_present(&pn->webhook)) cn->nnotify++; /* an empty webhook means "not configured" */
    }
  }
}
