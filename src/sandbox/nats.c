/*
 * nats.c: the nats-server nodes: their config (every node routes to every other, JetStream on),
 * starting them, their health and meta leader, and killing and restarting one node.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "sandbox/internal.h"

/* The tls { } block of a secured node (client connections and routes alike). */
static gg_status put_tls(gg_buf *b, const sandbox_state *s, const char *indent) {
  char cert[SB_PATH_MAX], key[SB_PATH_MAX], ca[SB_PATH_MAX];
  sandbox_tls_path(s, "server.pem", cert, sizeof cert);
  sandbox_tls_path(s, "server-key.pem", key, sizeof key);
  sandbox_tls_path(s, "ca.pem", ca, sizeof ca);
  return gg_buf_printf(b,
                       "%stls {\n%s  cert_file: \"%s\"\n%s  key_file: \"%s\"\n%s  ca_file: \"%s\"\n"
                       "%s  timeout: 5\n%s}\n",
                       indent, indent, cert, indent, key, indent, ca, indent, indent);
}

/* The accounts of a secured cluster: APP (JetStream; a user/password user and an nkey
 * user) and SYS, the system account. nats-server 2.9 refuses a token beside accounts
 * ("Can not have a token and accounts"), so the token user lives on a node of its own. */
static gg_status put_accounts(gg_buf *b, const sandbox_state *s) {
  return gg_buf_printf(b,
                       "accounts {\n"
                       "  APP {\n    jetstream: enabled\n    users: [\n"
                       "      { user: \"%s\", password: \"%s\" }\n      { nkey: \"%s\" }\n    ]\n  }\n"
                       "  SYS {\n    users: [ { user: \"%s\", password: \"%s\" } ]\n  }\n"
                       "}\nsystem_account: SYS\n",
                       s->user, s->password, s->nkey_pub, s->sys_user, s->sys_password);
}

gg_status sandbox_nats_write_conf(const sandbox_state *s, int i, gg_error *err) {
  const sandbox_rec *r = &s->nodes[i];
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  gg_status st = gg_buf_printf(&b,
                               "# written by `gonogo sandbox up`\n"
                               "server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                               "jetstream {\n  store_dir: \"%s\"\n  max_memory_store: 4GB\n"
                               "  max_file_store: 32GB\n}\n",
                               r->name, r->port, r->monitor, r->data);
  if (st == GG_OK && s->secure) st = put_tls(&b, s, "");
  if (st == GG_OK && s->secure) st = put_accounts(&b, s);
  if (st == GG_OK)
    st = gg_buf_printf(&b, "cluster {\n  name: gonogo-sandbox\n  listen: 127.0.0.1:%d\n", r->cluster);
  if (st == GG_OK && s->secure) st = put_tls(&b, s, "  ");
  if (st == GG_OK) st = gg_buf_puts(&b, "  routes: [\n");
  for (int j = 0; st == GG_OK && j < s->nnodes; j++)
    if (j != i) st = gg_buf_printf(&b, "    nats-route://127.0.0.1:%d\n", s->nodes[j].cluster);
  if (st == GG_OK) st = gg_buf_puts(&b, "  ]\n}\n");
  if (st != GG_OK)
    st = gg_error_set(err, st, "format nats config for %s", r->name);
  else
    st = sandbox_write_file(r->conf, gg_buf_str(&b), err);
  if (st == GG_OK && s->secure) chmod(r->conf, 0600); /* it holds the passwords */
  gg_buf_release(&b);
  return st;
}

gg_status sandbox_nats_write_token_conf(const sandbox_state *s, gg_error *err) {
  const sandbox_rec *r = &s->tok;
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  gg_status st =
      gg_buf_printf(&b,
                    "# written by `gonogo sandbox up --secure`: the token user's server. A token\n"
                    "# cannot sit beside accounts in nats-server 2.9, so it has a node of its own.\n"
                    "server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                    "jetstream {\n  store_dir: \"%s\"\n  max_memory_store: 1GB\n"
                    "  max_file_store: 4GB\n}\nauthorization {\n  token: \"%s\"\n}\n",
                    r->name, r->port, r->monitor, r->data, s->token);
  if (st == GG_OK) st = put_tls(&b, s, "");
  if (st != GG_OK)
    st = gg_error_set(err, st, "format nats config for %s", r->name);
  else
    st = sandbox_write_file(r->conf, gg_buf_str(&b), err);
  if (st == GG_OK) chmod(r->conf, 0600);
  gg_buf_release(&b);
  return st;
}

gg_status sandbox_nats_spawn_token(sandbox_state *s, gg_error *err) {
  sandbox_rec *r = &s->tok;
  char *argv[] = {r->bin, "-c", r->conf, NULL};
  return sandbox_spawn_daemon(argv, r->log, false, &r->pid, err);
}

gg_status sandbox_nats_spawn(sandbox_state *s, int i, gg_error *err) {
  sandbox_rec *r = &s->nodes[i];
  char *argv[] = {r->bin, "-c", r->conf, NULL};
  return sandbox_spawn_daemon(argv, r->log, false, &r->pid, err);
}

bool sandbox_nats_healthy(const sandbox_rec *r, char *why, size_t n) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", r->monitor);
  return sandbox_http_ok(url, 1.0, why, n, NULL);
}

/* The server is up and its JetStream has rejoined the cluster, whatever its assets say:
 * nats-server 2.9 can report an R3 consumer that existed while the node was down as "not
 * current" long after the node is back, which `status` shows. */
static bool node_serving(const sandbox_rec *r, char *why, size_t n) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz?js-server-only=true", r->monitor);
  return sandbox_http_ok(url, 1.0, why, n, NULL);
}

bool sandbox_nats_meta_leader(const sandbox_rec *r, char *leader, size_t n) {
  char url[128], why[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/jsz", r->monitor);
  char *body = NULL;
  bool ok = false;
  if (sandbox_http_ok(url, 1.0, why, sizeof why, &body) && body) {
    json_t *root = json_loads(body, 0, NULL);
    const char *l = json_string_value(json_object_get(json_object_get(root, "meta_cluster"), "leader"));
    if (l && *l) {
      snprintf(leader, n, "%s", l);
      ok = true;
    }
    json_decref(root);
  }
  free(body);
  return ok;
}

gg_status sandbox_nats_wait(sandbox_state *s, const sandbox_opts *o, double deadline, gg_error *err) {
  char why[256] = "not checked";
  for (;;) {
    int healthy = 0;
    char leader[64] = "";
    for (int i = 0; i < s->nnodes; i++) {
      if (!sandbox_proc_is_ours(&s->nodes[i])) return sandbox_exited_error(&s->nodes[i], err);
      if (sandbox_nats_healthy(&s->nodes[i], why, sizeof why)) healthy++;
    }
    bool has_leader = healthy == s->nnodes && sandbox_nats_meta_leader(&s->nodes[0], leader, sizeof leader);
    if (has_leader) {
      sandbox_progress(o, "nats: %d nodes healthy, meta leader %s", s->nnodes, leader);
      return GG_OK;
    }
    if (gg_clock_mono() > deadline)
      return gg_error_set(
          err, GG_ERR_TIMEOUT,
          "nats cluster not ready in time: %d of %d nodes healthy%s (last: %s); see the logs in %s", healthy,
          s->nnodes, healthy == s->nnodes ? ", no meta leader elected" : "", why, s->dir);
    usleep(100000);
  }
}

gg_status sandbox_nats_wait_one(const sandbox_rec *r, double deadline, gg_error *err) {
  char why[256];
  while (!sandbox_nats_healthy(r, why, sizeof why)) {
    if (!sandbox_proc_is_ours(r)) return sandbox_exited_error(r, err);
    if (gg_clock_mono() > deadline)
      return gg_error_set(err, GG_ERR_TIMEOUT, "%s not healthy in time: %s; see %s", r->name, why, r->log);
    usleep(100000);
  }
  return GG_OK;
}

static gg_status node_index(const sandbox_state *s, int n, gg_error *err) {
  if (n < 1 || n > s->nnodes)
    return gg_error_set(err, GG_ERR_RANGE, "no node %d in the sandbox in '%s' (it has n1..n%d)", n, s->dir,
                        s->nnodes);
  return GG_OK;
}

gg_status sandbox_kill_node(const sandbox_opts *o, int n, gg_error *err) {
  sandbox_state s;
  gg_status st = sandbox_state_load(sandbox_opts_dir(o), &s, err);
  if (st == GG_OK) st = node_index(&s, n, err);
  if (st != GG_OK) return st;
  sandbox_rec *r = &s.nodes[n - 1];
  if (!sandbox_proc_is_ours(r)) {
    sandbox_progress(o, "%s is not running", r->name);
    return GG_OK;
  }
  kill(r->pid, SIGKILL);
  double deadline = gg_clock_mono() + 5;
  while (sandbox_proc_is_ours(r) && gg_clock_mono() < deadline) {
    sandbox_reap_quietly();
    usleep(10000);
  }
  if (sandbox_proc_is_ours(r))
    return gg_error_set(err, GG_ERR_STATE, "%s (pid %d) survived SIGKILL", r->name, r->pid);
  sandbox_progress(o, "%s: killed pid %d (SIGKILL)", r->name, r->pid);
  return GG_OK;
}

gg_status sandbox_start_node(const sandbox_opts *o, int n, gg_error *err) {
  sandbox_state s;
  const char *dir = sandbox_opts_dir(o);
  gg_status st = sandbox_state_load(dir, &s, err);
  if (st == GG_OK) st = node_index(&s, n, err);
  if (st != GG_OK) return st;
  sandbox_rec *r = &s.nodes[n - 1];
  int lock = -1;
  if ((st = sandbox_lock_dir(dir, &lock, err)) != GG_OK) return st;
  if (sandbox_proc_is_ours(r)) {
    sandbox_progress(o, "%s is already running (pid %d)", r->name, r->pid);
  } else {
    st = sandbox_nats_spawn(&s, n - 1, err);
    if (st == GG_OK) st = sandbox_state_save(&s, err);
    if (st == GG_OK) sandbox_progress(o, "%s: started pid %d with its data", r->name, r->pid);
  }
  double deadline = gg_clock_mono() + (o->timeout > 0 ? o->timeout : 30);
  char why[256];
  while (st == GG_OK && !node_serving(r, why, sizeof why)) {
    if (!sandbox_proc_is_ours(r))
      st = sandbox_exited_error(r, err);
    else if (gg_clock_mono() > deadline)
      st = gg_error_set(err, GG_ERR_TIMEOUT, "%s not healthy in time: %s; see %s", r->name, why, r->log);
    else
      usleep(100000);
  }
  if (st == GG_OK) {
    if (sandbox_nats_healthy(r, why, sizeof why))
      sandbox_progress(o, "%s: healthy", r->name);
    else
      sandbox_progress(o, "%s: serving; still catching up: %s", r->name, why);
  }
  sandbox_unlock_dir(lock);
  return st;
}
