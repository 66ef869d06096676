/*
 * sandbox.c: bring the whole sandbox up and down, report its status, and write its env (see
 * sandbox.h). The parts live beside it: proc.c, state.c, dir.c, nats.c, pg.c, prom.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "sandbox/internal.h"

/* True when every recorded process runs; otherwise names the first one down. */
static bool all_running(const sandbox_state *s, char *first_down, size_t n) {
  const sandbox_rec *down = NULL;
  for (int i = 0; i < s->nnodes && !down; i++)
    if (!sandbox_proc_is_ours(&s->nodes[i])) down = &s->nodes[i];
  if (!down && !sandbox_proc_is_ours(&s->pg)) down = &s->pg;
  if (!down && s->has_prom && !sandbox_proc_is_ours(&s->prom)) down = &s->prom;
  if (!down && s->has_am && !sandbox_proc_is_ours(&s->am)) down = &s->am;
  if (!down && s->secure && !sandbox_proc_is_ours(&s->tok)) down = &s->tok;
  if (!down && s->secure && !sandbox_proc_is_ours(&s->cred)) down = &s->cred;
  if (down) snprintf(first_down, n, "%s", down->name);
  return down == NULL;
}

static bool any_running(const sandbox_state *s) {
  for (int i = 0; i < s->nnodes; i++)
    if (sandbox_proc_is_ours(&s->nodes[i])) return true;
  return sandbox_proc_is_ours(&s->pg) || (s->has_prom && sandbox_proc_is_ours(&s->prom)) ||
         (s->has_am && sandbox_proc_is_ours(&s->am)) ||
         (s->secure && (sandbox_proc_is_ours(&s->tok) || sandbox_proc_is_ours(&s->cred)));
}

static gg_status write_env(const sandbox_state *s, gg_error *err) {
  sandbox_opts o = {.dir = s->dir};
  char *text = NULL;
  gg_status st = sandbox_env_text(&o, &text, err);
  if (st != GG_OK) return st;
  char path[SB_PATH_MAX];
  sandbox_path_join(path, sizeof path, s->dir, "env");
  st = sandbox_write_file(path, text, err);
  if (st == GG_OK && s->secure) chmod(path, 0600); /* it holds the passwords */
  free(text);
  return st;
}

static void stop_all(sandbox_state *s) {
  for (int i = 0; i < s->nnodes; i++) sandbox_proc_stop(&s->nodes[i], SIGTERM, SB_STOP_GRACE);
  sandbox_proc_stop(&s->pg, SIGINT, SB_STOP_GRACE);
  if (s->has_prom) sandbox_proc_stop(&s->prom, SIGTERM, SB_STOP_GRACE);
  if (s->has_am) sandbox_proc_stop(&s->am, SIGTERM, SB_STOP_GRACE);
  if (s->secure) sandbox_proc_stop(&s->tok, SIGTERM, SB_STOP_GRACE);
  if (s->secure) sandbox_proc_stop(&s->cred, SIGTERM, SB_STOP_GRACE);
}

static void remove_data(sandbox_state *s) {
  for (int i = 0; i < s->nnodes; i++) sandbox_remove_tree(s->nodes[i].data);
  if (s->pg_tmp) {
    char parent[SB_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", s->pg.data);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = '\0';
    if (strncmp(parent, "/tmp/gonogo-sandbox-pg-", 23) == 0) sandbox_remove_tree(parent);
  } else {
    sandbox_remove_tree(s->pg.data);
  }
  if (s->has_prom) sandbox_remove_tree(s->prom.data);
  if (s->has_am) sandbox_remove_tree(s->am.data);
  if (s->secure) sandbox_remove_tree(s->tok.data);
  if (s->secure) sandbox_remove_tree(s->cred.data);
}

/* Where everything of a new sandbox goes: programs, ports, file layout, and for --secure the
 * certificates, secrets and creds. */
static gg_status up_layout(const sandbox_opts *o, sandbox_state *s, gg_error *err) {
  char nats_bin[SB_PATH_MAX], pg_bin[SB_PATH_MAX];
  gg_status st = sandbox_need_program("nats-server", "nats-server", nats_bin, sizeof nats_bin, err);
  if (st == GG_OK) st = sandbox_need_program("postgres", "postgresql", pg_bin, sizeof pg_bin, err);
  if (st != GG_OK) return st;
  char prom_bin[SB_PATH_MAX], am_bin[SB_PATH_MAX];
  s->has_prom = sandbox_find_program("prometheus", prom_bin, sizeof prom_bin);
  s->has_am = sandbox_find_program("prometheus-alertmanager", am_bin, sizeof am_bin);

  int ports[3 * SANDBOX_MAX_NODES + 7];
  int nports = 3 * s->nnodes + 3 + (s->secure ? 4 : 0);
  if ((st = sandbox_free_ports(nports, ports, err)) != GG_OK) return st;
  for (int i = 0; i < s->nnodes; i++) {
    sandbox_rec *r = &s->nodes[i];
    char name[16];
    snprintf(name, sizeof name, "n%d", i + 1);
    if ((st = sandbox_proc_layout(r, s->dir, name, nats_bin, "nats.conf", "jetstream", "nats.log", err)) !=
        GG_OK)
      return st;
    r->port = ports[3 * i];
    r->cluster = ports[3 * i + 1];
    r->monitor = ports[3 * i + 2];
  }
  snprintf(s->pg.name, sizeof s->pg.name, "postgres");
  snprintf(s->pg.bin, sizeof s->pg.bin, "%s", pg_bin);
  sandbox_path_join(s->pg.log, sizeof s->pg.log, s->dir, "postgres.log");
  s->pg.port = ports[3 * s->nnodes];
  if (s->has_prom) {
    st = sandbox_proc_layout(&s->prom, s->dir, "prometheus", prom_bin, "prometheus.yml", "data",
                             "prometheus.log", err);
    if (st != GG_OK) return st;
    s->prom.port = ports[3 * s->nnodes + 1];
  }
  if (s->has_am) {
    st = sandbox_proc_layout(&s->am, s->dir, "alertmanager", am_bin, "alertmanager.yml", "data",
                             "alertmanager.log", err);
    if (st != GG_OK) return st;
    s->am.port = ports[3 * s->nnodes + 2];
  }

  if (s->secure) {
    st = sandbox_proc_layout(&s->tok, s->dir, "t1", nats_bin, "nats.conf", "jetstream", "nats.log", err);
    if (st != GG_OK) return st;
    s->tok.port = ports[3 * s->nnodes + 3];
    s->tok.monitor = ports[3 * s->nnodes + 4];
    st = sandbox_proc_layout(&s->cred, s->dir, "c1", nats_bin, "nats.conf", "jetstream", "nats.log", err);
    if (st != GG_OK) return st;
    s->cred.port = ports[3 * s->nnodes + 5];
    s->cred.monitor = ports[3 * s->nnodes + 6];
    char tlsdir[SB_PATH_MAX];
    sandbox_path_join(tlsdir, sizeof tlsdir, s->dir, SB_TLS_DIR);
    if ((st = sandbox_tls_make(tlsdir, err)) != GG_OK || (st = sandbox_secrets_make(s, err)) != GG_OK ||
        (st = sandbox_creds_make(s, err)) != GG_OK)
      return st;
    sandbox_progress(o, "tls: CA and certificates in %s", tlsdir);
  }

  return GG_OK;
}

/* Start every process, recording pids as soon as there are some to clean up. */
static gg_status up_start(const sandbox_opts *o, sandbox_state *s, gg_error *err) {
  gg_status st = GG_OK;
  /* Start the nats nodes first: their cluster forms while initdb runs-> */
  for (int i = 0; i < s->nnodes && st == GG_OK; i++) {
    st = sandbox_nats_write_conf(s, i, err);
    if (st == GG_OK) st = sandbox_nats_spawn(s, i, err);
    if (st == GG_OK)
      sandbox_progress(o, "%s: started pid %d, client 127.0.0.1:%d", s->nodes[i].name, s->nodes[i].pid,
                       s->nodes[i].port);
  }
  if (st == GG_OK && s->secure) {
    st = sandbox_nats_write_token_conf(s, err);
    if (st == GG_OK) st = sandbox_nats_spawn_token(s, err);
    if (st == GG_OK)
      sandbox_progress(o, "%s: started pid %d, client 127.0.0.1:%d (token)", s->tok.name, s->tok.pid,
                       s->tok.port);
    if (st == GG_OK) st = sandbox_nats_write_creds_conf(s, err);
    if (st == GG_OK) {
      char *argv[] = {s->cred.bin, "-c", s->cred.conf, NULL};
      st = sandbox_spawn_daemon(argv, s->cred.log, false, &s->cred.pid, err);
    }
    if (st == GG_OK)
      sandbox_progress(o, "%s: started pid %d, client 127.0.0.1:%d (creds)", s->cred.name, s->cred.pid,
                       s->cred.port);
  }
  if (st == GG_OK)
    st = sandbox_state_save(s, err); /* record pids early: a failure below can still be cleaned up */
  if (st == GG_OK) st = sandbox_pg_init(s, o, err);
  if (st == GG_OK) st = sandbox_pg_spawn(s, err);
  if (st == GG_OK) sandbox_progress(o, "postgres: started pid %d, 127.0.0.1:%d", s->pg.pid, s->pg.port);
  if (st == GG_OK && s->has_am) {
    st = sandbox_am_write_conf(s, err);
    if (st == GG_OK) st = sandbox_am_spawn(s, err);
  }
  if (st == GG_OK && s->has_prom) {
    st = sandbox_prom_write_conf(s, err);
    if (st == GG_OK) st = sandbox_prom_spawn(s, err);
  }
  if (st == GG_OK) st = sandbox_state_save(s, err);
  return st;
}

/* Wait until everything answers, creating the database on the way. */
static gg_status up_wait(const sandbox_opts *o, sandbox_state *s, double deadline, gg_error *err) {
  gg_status st = GG_OK;
  if (st == GG_OK) st = sandbox_nats_wait(s, o, deadline, err);
  if (st == GG_OK && s->secure && (st = sandbox_nats_wait_one(&s->tok, deadline, err)) == GG_OK)
    sandbox_progress(o, "%s: healthy", s->tok.name);
  if (st == GG_OK && s->secure && (st = sandbox_nats_wait_one(&s->cred, deadline, err)) == GG_OK)
    sandbox_progress(o, "%s: healthy", s->cred.name);
  if (st == GG_OK) st = sandbox_pg_wait(s, deadline, err);
  if (st == GG_OK) st = sandbox_pg_create_athlete(s, err);
  if (st == GG_OK) sandbox_progress(o, "postgres: accepting connections, database athlete ready");
  if (st == GG_OK && s->has_prom &&
      (st = sandbox_http_wait_ready(&s->prom, "/-/ready", deadline, err)) == GG_OK)
    sandbox_progress(o, "prometheus: ready on 127.0.0.1:%d", s->prom.port);
  if (st == GG_OK && s->has_am && (st = sandbox_http_wait_ready(&s->am, "/-/ready", deadline, err)) == GG_OK)
    sandbox_progress(o, "alertmanager: ready on 127.0.0.1:%d", s->am.port);
  return st;
}

static gg_status up_locked(const sandbox_opts *o, const char *dir, bool *already, gg_error *err) {
  sandbox_state s;
  gg_error le;
  gg_error_clear(&le);
  if (sandbox_state_load(dir, &s, &le) == GG_OK) {
    char down[32];
    if (all_running(&s, down, sizeof down)) {
      if (o->secure && !s.secure)
        return gg_error_set(
            err, GG_ERR_STATE,
            "the sandbox in '%s' is up without --secure: `gonogo sandbox down --dir %s` first", dir, dir);
      *already = true;
      return write_env(&s, err);
    }
    if (any_running(&s))
      return gg_error_set(
          err, GG_ERR_STATE,
          "the sandbox in '%s' is partly running (%s is down): use `gonogo sandbox start-node` or "
          "`gonogo sandbox down --dir %s` first",
          dir, down, dir);
    remove_data(&s); /* a stopped sandbox: start afresh */
  }
  memset(&s, 0, sizeof s);
  char real[SB_PATH_MAX];
  if (!realpath(dir, real)) return gg_error_set(err, GG_ERR_IO, "resolve '%s': %s", dir, strerror(errno));
  snprintf(s.dir, sizeof s.dir, "%s", real);
  s.nnodes = o->nodes > 0 ? o->nodes : 3;
  s.secure = o->secure;
  if (s.nnodes > SANDBOX_MAX_NODES)
    return gg_error_set(err, GG_ERR_RANGE, "--nodes %d: at most %d", s.nnodes, SANDBOX_MAX_NODES);
  gg_status st = up_layout(o, &s, err);
  if (st != GG_OK) return st;
  double deadline = gg_clock_mono() + (o->timeout > 0 ? o->timeout : 30);
  st = up_start(o, &s, err);
  if (st == GG_OK) st = up_wait(o, &s, deadline, err);
  if (st == GG_OK) st = write_env(&s, err);
  if (st != GG_OK) {
    stop_all(&s);
    gg_error_prefix(err, "sandbox up in '%s': ", s.dir);
  }
  return st;
}

gg_status sandbox_up(const sandbox_opts *o, bool *already, gg_error *err) {
  const char *dir = sandbox_opts_dir(o);
  *already = false;
  gg_status st = sandbox_prepare_dir(dir, err);
  if (st != GG_OK) return st;
  int lock = -1;
  if ((st = sandbox_lock_dir(dir, &lock, err)) != GG_OK) return st;
  st = up_locked(o, dir, already, err);
  sandbox_unlock_dir(lock);
  return st;
}

gg_status sandbox_down(const sandbox_opts *o, gg_error *err) {
  const char *dir = sandbox_opts_dir(o);
  sandbox_state s;
  gg_error le;
  gg_error_clear(&le);
  if (access(dir, F_OK) != 0 || sandbox_state_load(dir, &s, &le) == GG_ERR_NOT_FOUND) {
    sandbox_progress(o, "no sandbox in '%s': nothing to stop", dir);
    return GG_OK;
  }
  if (le.code != GG_OK) return gg_error_set(err, le.code, "%s", le.msg);
  int lock = -1;
  gg_status st = sandbox_lock_dir(dir, &lock, err);
  if (st != GG_OK) return st;
  for (int i = 0; i < s.nnodes; i++)
    if (sandbox_proc_is_ours(&s.nodes[i]))
      sandbox_progress(o, "%s: stopping pid %d", s.nodes[i].name, s.nodes[i].pid);
  if (sandbox_proc_is_ours(&s.pg)) sandbox_progress(o, "postgres: stopping pid %d", s.pg.pid);
  if (s.has_prom && sandbox_proc_is_ours(&s.prom))
    sandbox_progress(o, "prometheus: stopping pid %d", s.prom.pid);
  if (s.has_am && sandbox_proc_is_ours(&s.am)) sandbox_progress(o, "alertmanager: stopping pid %d", s.am.pid);
  if (s.secure && sandbox_proc_is_ours(&s.tok))
    sandbox_progress(o, "%s: stopping pid %d", s.tok.name, s.tok.pid);
  if (s.secure && sandbox_proc_is_ours(&s.cred))
    sandbox_progress(o, "%s: stopping pid %d", s.cred.name, s.cred.pid);
  stop_all(&s);
  if (any_running(&s)) {
    st = gg_error_set(err, GG_ERR_STATE,
                      "some sandbox processes in '%s' did not stop; see `gonogo sandbox status`", dir);
  } else {
    remove_data(&s);
    char env[SB_PATH_MAX];
    sandbox_path_join(env, sizeof env, s.dir, "env");
    unlink(env);
    sandbox_progress(o, "sandbox in '%s' is down", dir);
  }
  sandbox_unlock_dir(lock);
  return st;
}

static void fill_proc(sandbox_proc *p, const sandbox_rec *r) {
  snprintf(p->name, sizeof p->name, "%s", r->name);
  p->pid = r->pid;
  p->running = sandbox_proc_is_ours(r);
  snprintf(p->address, sizeof p->address, "127.0.0.1:%d", r->port);
  if (!p->running) snprintf(p->health, sizeof p->health, "not running");
}

gg_status sandbox_get_status(const sandbox_opts *o, sandbox_status *st, gg_error *err) {
  const char *dir = sandbox_opts_dir(o);
  memset(st, 0, sizeof *st);
  sandbox_state s;
  gg_status rc = sandbox_state_load(dir, &s, err);
  if (rc != GG_OK) return rc;
  sandbox_path_join(st->env_path, sizeof st->env_path, s.dir, "env");
  char leader[32] = "";
  for (int i = 0; i < s.nnodes; i++) {
    sandbox_proc *p = &st->procs[st->nprocs++];
    fill_proc(p, &s.nodes[i]);
    if (p->running) {
      p->healthy = sandbox_nats_healthy(&s.nodes[i], p->health, sizeof p->health);
      if (p->healthy && !leader[0]) sandbox_nats_meta_leader(&s.nodes[i], leader, sizeof leader);
    }
  }
  /* A node keeps naming a killed leader until the election timeout: count a leader only
   * when it is one of the healthy nodes. */
  for (int i = 0; leader[0] && i < s.nnodes; i++) {
    if (strcmp(st->procs[i].name, leader) == 0 && st->procs[i].healthy) {
      st->meta_leader = true;
      snprintf(st->leader, sizeof st->leader, "%s", leader);
    }
  }
  sandbox_proc *p;
  if (s.secure) {
    p = &st->procs[st->nprocs++];
    fill_proc(p, &s.tok);
    if (p->running) p->healthy = sandbox_nats_healthy(&s.tok, p->health, sizeof p->health);
    p = &st->procs[st->nprocs++];
    fill_proc(p, &s.cred);
    if (p->running) p->healthy = sandbox_nats_healthy(&s.cred, p->health, sizeof p->health);
  }
  p = &st->procs[st->nprocs++];
  fill_proc(p, &s.pg);
  if (p->running) p->healthy = sandbox_pg_accepts(&s, p->health, sizeof p->health);
  const sandbox_rec *extra[2] = {s.has_prom ? &s.prom : NULL, s.has_am ? &s.am : NULL};
  for (int k = 0; k < 2; k++) {
    if (!extra[k]) continue;
    p = &st->procs[st->nprocs++];
    fill_proc(p, extra[k]);
    if (p->running) {
      char url[128];
      snprintf(url, sizeof url, "http://127.0.0.1:%d/-/ready", extra[k]->port);
      p->healthy = sandbox_http_ok(url, 1.0, p->health, sizeof p->health, NULL);
    }
  }
  return GG_OK;
}

/* export NAME=value, or a stand-in when the caller hides secrets. */
static gg_status put_secret(gg_buf *b, const sandbox_opts *o, const char *name, const char *value) {
  return o->hide_secrets ? gg_buf_printf(b, "export %s='<in the env file>'\n", name)
                         : gg_buf_printf(b, "export %s='%s'\n", name, value);
}

static gg_status put_secure_env(gg_buf *b, const sandbox_opts *o, const sandbox_state *s) {
  char ca[SB_PATH_MAX], seed[SB_PATH_MAX], cert[SB_PATH_MAX], key[SB_PATH_MAX];
  sandbox_tls_path(s, "ca.pem", ca, sizeof ca);
  sandbox_tls_path(s, "nkey.seed", seed, sizeof seed);
  sandbox_tls_path(s, "client.pem", cert, sizeof cert);
  sandbox_tls_path(s, "client-key.pem", key, sizeof key);
  char creds[SB_PATH_MAX];
  sandbox_tls_path(s, "user.creds", creds, sizeof creds);
  gg_status st = gg_buf_printf(b, "export NATS_USER=%s\n", s->user);
  /* Not NATS_CREDS: the services would take it over NATS_USER and the example plan would see
   * two ways to authenticate; this user exists only on the operator-mode node. */
  if (st == GG_OK)
    st = gg_buf_printf(b, "export NATS_CREDS_URL=tls://127.0.0.1:%d\nexport NATS_CREDS_FILE=%s\n",
                       s->cred.port, creds);
  if (st == GG_OK) st = put_secret(b, o, "NATS_PASSWORD", s->password);
  if (st == GG_OK) st = put_secret(b, o, "NATS_TOKEN", s->token);
  if (st == GG_OK)
    st = gg_buf_printf(
        b,
        "export NATS_TOKEN_URL=tls://127.0.0.1:%d\nexport NATS_NKEY_SEED=%s\nexport NATS_CA=%s\n"
        "export NATS_CERT=%s\nexport NATS_KEY=%s\nexport NATS_SYSTEM_USER=%s\n",
        s->tok.port, seed, ca, cert, key, s->sys_user);
  if (st == GG_OK) st = put_secret(b, o, "NATS_SYSTEM_PASSWORD", s->sys_password);
  if (st == GG_OK) st = gg_buf_puts(b, "export GONOGO_SANDBOX_MONITOR_URLS=");
  for (int i = 0; st == GG_OK && i < s->nnodes; i++)
    st = gg_buf_printf(b, "%shttp://127.0.0.1:%d", i ? "," : "", s->nodes[i].monitor);
  if (st == GG_OK) st = gg_buf_puts(b, "\nunset NATS_MONITOR_URLS\nexport GONOGO_SANDBOX_SECURE=1\n");
  if (st == GG_OK && o->hide_secrets)
    st = gg_buf_puts(b, "export PG_URL='<in the env file>'\n");
  else if (st == GG_OK)
    st = gg_buf_printf(b, "export PG_URL='postgresql://postgres:%s@127.0.0.1:%d/athlete?sslmode=require'\n",
                       s->pg_password, s->pg.port);
  return st;
}

gg_status sandbox_env_text(const sandbox_opts *o, char **out, gg_error *err) {
  sandbox_state s;
  gg_status st = sandbox_state_load(sandbox_opts_dir(o), &s, err);
  if (st != GG_OK) return st;
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  st = gg_buf_puts(&b, "export NATS_URL=");
  for (int i = 0; st == GG_OK && i < s.nnodes; i++)
    st = gg_buf_printf(&b, "%s%s://127.0.0.1:%d", i ? "," : "", s.secure ? "tls" : "nats", s.nodes[i].port);
  if (st == GG_OK && s.secure) {
    st = gg_buf_puts(&b, "\n");
    if (st == GG_OK) st = put_secure_env(&b, o, &s);
  } else {
    if (st == GG_OK) st = gg_buf_puts(&b, "\nexport NATS_MONITOR_URLS=");
    for (int i = 0; st == GG_OK && i < s.nnodes; i++)
      st = gg_buf_printf(&b, "%shttp://127.0.0.1:%d", i ? "," : "", s.nodes[i].monitor);
    if (st == GG_OK)
      st = gg_buf_printf(&b, "\nexport PG_URL=postgresql://postgres@127.0.0.1:%d/athlete\n", s.pg.port);
  }
  if (st == GG_OK) {
    if (s.has_prom)
      st = gg_buf_printf(&b, "export PROMETHEUS_URL=http://127.0.0.1:%d\n", s.prom.port);
    else
      st = gg_buf_puts(&b, "export PROMETHEUS_URL=\n");
  }
  if (st == GG_OK) {
    if (s.has_am)
      st = gg_buf_printf(&b, "export ALERTMANAGER_URL=http://127.0.0.1:%d\n", s.am.port);
    else
      st = gg_buf_puts(&b, "export ALERTMANAGER_URL=\n");
  }
  if (st == GG_OK && s.has_prom)
    st = gg_buf_printf(&b, "export PROMETHEUS_TARGETS_DIR=%s/prometheus/targets\n", s.dir);
  if (st == GG_OK) st = gg_buf_printf(&b, "export GONOGO_SANDBOX_DIR=%s\n", s.dir);
  if (st != GG_OK) {
    gg_buf_release(&b);
    return gg_error_set(err, st, "format the sandbox env");
  }
  *out = gg_buf_detach(&b);
  return *out ? GG_OK : gg_error_set(err, GG_ERR_NOMEM, "format the sandbox env");
}
