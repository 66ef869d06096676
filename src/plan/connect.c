/*
 * connect.c: the `connect:` section: NATS (servers, monitoring URLs, one way to authenticate,
 * TLS, the system account), databases,
 * HTTP targets and notification webhooks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/nkey.h"
#include "plan/internal.h"

/* An optional string; an empty one (an unset "${VAR:-}") reads as absent. */
static void load_opt(plan_loader *l, const ynode *map, const char *key, const char *where, char **out) {
  plan_load_str(l, map, key, false, where, out);
  if (*out && !**out) {
    free(*out);
    *out = NULL;
  }
}

/* An optional file path that must name a readable file. */
static void load_file(plan_loader *l, const ynode *map, const char *key, const char *where, char **out) {
  load_opt(l, map, key, where, out);
  if (!*out) return;
  const ynode *v = plan_ynode_get(map, key);
  if (access(*out, F_OK) != 0)
    perr(l->c, v, "%s.%s: '%s': file not found", where, key, *out);
  else if (access(*out, R_OK) != 0)
    perr(l->c, v, "%s.%s: '%s': cannot read it: %s", where, key, *out, strerror(errno));
}

/* The first two keys of map that are both given, for "two ways to authenticate". */
static void check_one_method(plan_loader *l, const ynode *map, const char *where, const char *const *given,
                             size_t n) {
  const char *first = NULL;
  for (size_t i = 0; i < n; i++) {
    if (!given[i]) continue;
    if (!first) {
      first = given[i];
      continue;
    }
    plan_diag_add(l->c, PLAN_DIAG_ERROR, plan_load_key_node(map, given[i])->line,
                  plan_load_key_node(map, given[i])->col, "keep one of them",
                  "%s: two ways to authenticate: '%s' and '%s'", where, first, given[i]);
    return;
  }
}

static void load_tls(plan_loader *l, ynode *v, plan_nats *n) {
  static const char *const keys[] = {"ca", "cert", "key"};
  if (!plan_load_want_map(l, v, "'tls'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "connect.nats.tls");
  load_file(l, v, "ca", "connect.nats.tls", &n->tls_ca);
  load_file(l, v, "cert", "connect.nats.tls", &n->tls_cert);
  load_file(l, v, "key", "connect.nats.tls", &n->tls_key);
  if (!n->tls_cert != !n->tls_key)
    perr(l->c, plan_load_key_node(v, n->tls_cert ? "cert" : "key"),
         "connect.nats.tls: 'cert' and 'key' go together (a client certificate and its private key)");
}

static void load_system(plan_loader *l, ynode *v, plan_nats *n) {
  static const char *const keys[] = {"user", "password", "creds"};
  if (!plan_load_want_map(l, v, "'system'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "connect.nats.system");
  load_opt(l, v, "user", "connect.nats.system", &n->sys_user);
  plan_load_secret(l, plan_ynode_get(v, "password"), "password", true, &n->sys_password);
  load_file(l, v, "creds", "connect.nats.system", &n->sys_creds);
  const char *given[] = {n->sys_user ? "user" : NULL, n->sys_creds ? "creds" : NULL};
  check_one_method(l, v, "connect.nats.system", given, PLAN_COUNT(given));
  if (gg_secret_present(&n->sys_password) && !n->sys_user)
    perr(l->c, plan_load_key_node(v, "password"), "connect.nats.system: 'password' without 'user'");
}

static void load_nats(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"servers", "monitor", "credentials",    "creds",
                                     "token",   "user",    "password",       "nkey",
                                     "tls",     "system",  "expect_servers", "api_timeout"};
  if (!plan_load_want_map(l, v, "'nats'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "connect.nats");
  plan_nats *n = &l->p->connect.nats;
  plan_load_strlist(l, plan_ynode_get(v, "servers"), "servers", true, &n->servers, &n->nservers);
  plan_load_strlist(l, plan_ynode_get(v, "monitor"), "monitor", true, &n->monitor, &n->nmonitor);
  const char *creds_key = plan_ynode_get(v, "creds") ? "creds" : "credentials";
  if (plan_ynode_get(v, "creds") && plan_ynode_get(v, "credentials"))
    perr(l->c, plan_ynode_get(v, "creds"),
         "connect.nats: 'creds' and 'credentials' are one setting: keep one");
  load_file(l, v, creds_key, "connect.nats", &n->credentials);
  plan_load_secret(l, plan_ynode_get(v, "token"), "token", true, &n->token);
  load_opt(l, v, "user", "connect.nats", &n->user);
  plan_load_secret(l, plan_ynode_get(v, "password"), "password", true, &n->password);
  load_file(l, v, "nkey", "connect.nats", &n->nkey);
  if (n->nkey && access(n->nkey, R_OK) == 0) {
    char pub[GG_NKEY_PUBLIC_LEN + 1];
    gg_error e;
    gg_error_clear(&e);
    if (gg_nkey_public_of_seed_file(n->nkey, pub, &e) != GG_OK)
      perr(l->c, plan_ynode_get(v, "nkey"), "connect.nats.nkey: %s", gg_error_message(&e));
  }
  if (gg_secret_present(&n->password) && !n->user)
    perr(l->c, plan_load_key_node(v, "password"), "connect.nats: 'password' without 'user'");
  const char *given[] = {n->user ? "user" : NULL, gg_secret_present(&n->token) ? "token" : NULL,
                         n->nkey ? "nkey" : NULL, n->credentials ? creds_key : NULL};
  check_one_method(l, v, "connect.nats", given, PLAN_COUNT(given));
  ynode *tls = plan_ynode_get(v, "tls");
  if (tls) load_tls(l, tls, n);
  ynode *sys = plan_ynode_get(v, "system");
  if (sys) load_system(l, sys, n);
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
