/*
 * pg.c: the PostgreSQL instance: initdb (as the postgres user when run as root, in /tmp when
 * that user cannot reach DIR), starting and stopping it, and the database `athlete`.
 */
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/spawn.h"
#include "sandbox/internal.h"

static void pg_conninfo(const sandbox_state *s, const char *db, char *out, size_t n) {
  if (s->secure)
    snprintf(out, n,
             "host=127.0.0.1 port=%d user=postgres dbname=%s connect_timeout=2 password=%s sslmode=require",
             s->pg.port, db, s->pg_password);
  else
    snprintf(out, n, "host=127.0.0.1 port=%d user=postgres dbname=%s connect_timeout=2", s->pg.port, db);
}

bool sandbox_pg_accepts(const sandbox_state *s, char *why, size_t n) {
  char ci[256];
  pg_conninfo(s, "postgres", ci, sizeof ci);
  PGconn *c = PQconnectdb(ci);
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (!ok) {
    snprintf(why, n, "connect to 127.0.0.1:%d: %s", s->pg.port, PQerrorMessage(c));
    size_t l = strlen(why);
    while (l && (why[l - 1] == '\n' || why[l - 1] == ' ')) why[--l] = '\0';
  } else {
    snprintf(why, n, "ok");
  }
  PQfinish(c);
  return ok;
}

gg_status sandbox_pg_create_athlete(const sandbox_state *s, gg_error *err) {
  char ci[256];
  pg_conninfo(s, "postgres", ci, sizeof ci);
  PGconn *c = PQconnectdb(ci);
  gg_status st = GG_OK;
  if (PQstatus(c) != CONNECTION_OK) {
    st = gg_error_set(err, GG_ERR_PG, "connect to 127.0.0.1:%d: %s", s->pg.port, PQerrorMessage(c));
    goto out;
  }
  PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = 'athlete'");
  bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  PQclear(r);
  if (!exists) {
    r = PQexec(c, "CREATE DATABASE athlete");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      st = gg_error_set(err, GG_ERR_PG, "create database 'athlete': %s", PQresultErrorMessage(r));
    PQclear(r);
  }
out:
  PQfinish(c);
  return st;
}

gg_status sandbox_pg_spawn(sandbox_state *s, gg_error *err) {
  sandbox_rec *r = &s->pg;
  char port[16];
  snprintf(port, sizeof port, "%d", r->port);
  /* No unix socket (its path length is limited and the dir may be deep); fsync off because
   * a sandbox is disposable and tests want speed. */
  char *argv[] = {r->bin,
                  "-D",
                  r->data,
                  "-p",
                  port,
                  "-c",
                  "listen_addresses=127.0.0.1",
                  "-c",
                  "unix_socket_directories=",
                  "-c",
                  "fsync=off",
                  "-c",
                  "max_connections=200",
                  NULL,
                  NULL,
                  NULL,
                  NULL,
                  NULL,
                  NULL,
                  NULL};
  if (s->secure) {
    /* TLS with the sandbox's server certificate (copied into the data directory at init). */
    char **a = argv + 13;
    *a++ = "-c";
    *a++ = "ssl=on";
    *a++ = "-c";
    *a++ = "ssl_cert_file=server.crt";
    *a++ = "-c";
    *a++ = "ssl_key_file=server.key";
  }
  return sandbox_spawn_daemon(argv, r->log, getuid() == 0, &r->pid, err);
}

gg_status sandbox_pg_wait(sandbox_state *s, double deadline, gg_error *err) {
  char why[512];
  while (!sandbox_pg_accepts(s, why, sizeof why)) {
    if (!sandbox_proc_is_ours(&s->pg)) return sandbox_exited_error(&s->pg, err);
    if (gg_clock_mono() > deadline)
      return gg_error_set(err, GG_ERR_TIMEOUT, "postgres not ready in time: %s; see %s", why, s->pg.log);
    usleep(100000);
  }
  return GG_OK;
}

/* True when every ancestor of path lets `uid`/`gid` through (x bit for other, or owner/group). */
static bool reachable_by(const char *path, uid_t uid, gid_t gid) {
  char p[SB_PATH_MAX];
  if (!realpath(path, p)) return false;
  for (;;) {
    struct stat sb;
    if (stat(p, &sb) != 0) return false;
    bool ok = (sb.st_mode & S_IXOTH) || (sb.st_uid == uid && (sb.st_mode & S_IXUSR)) ||
              (sb.st_gid == gid && (sb.st_mode & S_IXGRP));
    if (!ok) return false;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p) break;
    *slash = '\0';
  }
  return true;
}

static gg_status chown_tree(const char *path, uid_t uid, gid_t gid, gg_error *err) {
  const char *argv[] = {"chown", "-R", NULL, NULL, NULL};
  char owner[64];
  snprintf(owner, sizeof owner, "%u:%u", (unsigned)uid, (unsigned)gid);
  argv[2] = owner;
  argv[3] = path;
  gg_spawn_opts so = {.timeout = 30};
  gg_spawn_result res = {0};
  gg_status st = gg_spawn_run(argv, &so, &res, err);
  if (st == GG_OK && res.exit_code != 0)
    st = gg_error_set(err, GG_ERR_CHILD, "chown '%s': %s", path, res.output ? res.output : "");
  gg_spawn_result_release(&res);
  return st;
}

/* Write text to path with mode, owned by uid:gid when root (the postgres user must read it). */
static gg_status write_owned(const char *path, const char *text, mode_t mode, bool root, uid_t uid, gid_t gid,
                             gg_error *err) {
  gg_status st = sandbox_write_file(path, text, err);
  if (st != GG_OK) return st;
  if (chmod(path, mode) != 0 || (root && chown(path, uid, gid) != 0))
    return gg_error_set(err, GG_ERR_IO, "set the owner and mode of '%s': %s", path, strerror(errno));
  return GG_OK;
}

static gg_status copy_owned(const char *from, const char *to, bool root, uid_t uid, gid_t gid,
                            gg_error *err) {
  FILE *f = fopen(from, "r");
  if (!f) return gg_error_set(err, GG_ERR_IO, "read '%s': %s", from, strerror(errno));
  char text[16384];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  gg_status st = write_owned(to, text, 0600, root, uid, gid, err);
  OPENSSL_cleanse(text, sizeof text);
  return st;
}

/* The secured sandbox's PostgreSQL: TLS with the sandbox's server certificate, and only
 * TLS connections with a scram-sha-256 password from loopback. */
static gg_status secure_data_dir(const sandbox_state *s, bool root, uid_t uid, gid_t gid, gg_error *err) {
  char from[SB_PATH_MAX], to[SB_PATH_MAX + 16];
  sandbox_tls_path(s, "server.pem", from, sizeof from);
  snprintf(to, sizeof to, "%s/server.crt", s->pg.data);
  gg_status st = copy_owned(from, to, root, uid, gid, err);
  if (st != GG_OK) return st;
  sandbox_tls_path(s, "server-key.pem", from, sizeof from);
  snprintf(to, sizeof to, "%s/server.key", s->pg.data);
  if ((st = copy_owned(from, to, root, uid, gid, err)) != GG_OK) return st;
  snprintf(to, sizeof to, "%s/pg_hba.conf", s->pg.data);
  return write_owned(
      to,
      "# written by `gonogo sandbox up --secure`: TLS and a scram-sha-256 password, loopback only\n"
      "hostssl all all 127.0.0.1/32 scram-sha-256\n",
      0600, root, uid, gid, err);
}

gg_status sandbox_pg_init(sandbox_state *s, const sandbox_opts *o, gg_error *err) {
  char initdb[SB_PATH_MAX];
  gg_status st = sandbox_need_program("initdb", "postgresql", initdb, sizeof initdb, err);
  if (st != GG_OK) return st;
  bool root = getuid() == 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (root && !sandbox_postgres_user(&uid, &gid))
    return gg_error_set(err, GG_ERR_NOT_FOUND,
                        "running as root, PostgreSQL needs the 'postgres' user: install the Debian package "
                        "'postgresql' (scripts/install-deps does)");
  if (root && !reachable_by(s->dir, uid, gid)) {
    /* The postgres user cannot reach DIR (e.g. under /root): keep the cluster in /tmp. */
    char tmpl[] = "/tmp/gonogo-sandbox-pg-XXXXXX";
    if (!mkdtemp(tmpl)) return gg_error_set(err, GG_ERR_IO, "mkdtemp in /tmp: %s", strerror(errno));
    sandbox_path_join(s->pg.data, sizeof s->pg.data, tmpl, "data");
    s->pg_tmp = true;
    st = chown_tree(tmpl, uid, gid, err);
    if (st != GG_OK) return st;
  } else {
    char base[SB_PATH_MAX];
    sandbox_path_join(base, sizeof base, s->dir, "postgres");
    st = sandbox_make_dir(base, err);
    if (st != GG_OK) return st;
    sandbox_path_join(s->pg.data, sizeof s->pg.data, base, "data");
    if (root && (st = chown_tree(base, uid, gid, err)) != GG_OK) return st;
  }
  memcpy(s->pg.marker, s->pg.data, sizeof s->pg.marker);
  sandbox_progress(o, "postgres: initdb %s", s->pg.data);
  char pwfile[SB_PATH_MAX + 16], pwopt[SB_PATH_MAX + 32];
  snprintf(pwfile, sizeof pwfile, "%s.pw", s->pg.data);
  snprintf(pwopt, sizeof pwopt, "--pwfile=%s", pwfile);
  if (s->secure) {
    if ((st = write_owned(pwfile, s->pg_password, 0600, root, uid, gid, err)) != GG_OK) return st;
  }
  const char *argv_user[] = {"runuser",
                             "-u",
                             "postgres",
                             "--",
                             initdb,
                             "-D",
                             s->pg.data,
                             "-U",
                             "postgres",
                             "--auth=trust",
                             "-E",
                             "UTF8",
                             "--no-sync",
                             "--no-instructions",
                             s->secure ? pwopt : NULL,
                             NULL};
  const char *const *argv = root ? argv_user : argv_user + 4;
  gg_spawn_opts so = {.timeout = 120, .max_output = 4096};
  gg_spawn_result res = {0};
  st = gg_spawn_run(argv, &so, &res, err);
  if (st == GG_OK && (res.exit_code != 0 || res.timed_out)) {
    char how[64];
    st = gg_error_set(err, GG_ERR_CHILD, "initdb '%s' failed (%s):\n%s", s->pg.data,
                      gg_spawn_describe(&res, how, sizeof how), res.output ? res.output : "");
  }
  gg_spawn_result_release(&res);
  if (s->secure) {
    unlink(pwfile);
    if (st == GG_OK) st = secure_data_dir(s, root, uid, gid, err);
  }
  return st;
}

gg_status sandbox_pg_stop(const sandbox_opts *o, gg_error *err) {
  sandbox_state s;
  gg_status st = sandbox_state_load(sandbox_opts_dir(o), &s, err);
  if (st != GG_OK) return st;
  if (!sandbox_proc_is_ours(&s.pg)) {
    sandbox_progress(o, "postgres is not running");
    return GG_OK;
  }
  sandbox_progress(o, "postgres: stopping pid %d", s.pg.pid);
  sandbox_proc_stop(&s.pg, SIGINT, SB_STOP_GRACE);
  return GG_OK;
}

gg_status sandbox_pg_start(const sandbox_opts *o, gg_error *err) {
  sandbox_state s;
  const char *dir = sandbox_opts_dir(o);
  gg_status st = sandbox_state_load(dir, &s, err);
  if (st != GG_OK) return st;
  int lock = -1;
  if ((st = sandbox_lock_dir(dir, &lock, err)) != GG_OK) return st;
  if (sandbox_proc_is_ours(&s.pg)) {
    sandbox_progress(o, "postgres is already running (pid %d)", s.pg.pid);
  } else {
    st = sandbox_pg_spawn(&s, err);
    if (st == GG_OK) st = sandbox_state_save(&s, err);
    if (st == GG_OK) sandbox_progress(o, "postgres: started pid %d with its data", s.pg.pid);
  }
  if (st == GG_OK) st = sandbox_pg_wait(&s, gg_clock_mono() + (o->timeout > 0 ? o->timeout : 30), err);
  if (st == GG_OK) sandbox_progress(o, "postgres: accepting connections");
  sandbox_unlock_dir(lock);
  return st;
}
