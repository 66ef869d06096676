/*
 * internal.h: what the sandbox's files share (not for other modules).
 *
 * A sandbox_rec is one process as DIR/sandbox.json records it; a sandbox_state is the whole
 * record. Every function here that signals a process checks sandbox_proc_is_ours() first.
 */
#ifndef GG_SANDBOX_INTERNAL_H
#define GG_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "sandbox/sandbox.h"

#define SB_PATH_MAX 512
#define SB_STATE_FILE "sandbox.json"
#define SB_STOP_GRACE 10.0
#define SB_SECRET_MAX 64
#define SB_TLS_DIR "tls"

typedef struct {
  char name[32];
  char bin[SB_PATH_MAX];
  char conf[SB_PATH_MAX]; /* config file (nats, prometheus, alertmanager) */
  char data[SB_PATH_MAX]; /* data or store directory */
  char log[SB_PATH_MAX];
  char marker[SB_PATH_MAX]; /* a path that appears in the process's command line */
  int pid;
  int port;    /* client / listen port */
  int cluster; /* nats cluster port */
  int monitor; /* nats monitoring port */
} sandbox_rec;

typedef struct {
  char dir[SB_PATH_MAX];
  int nnodes;
  sandbox_rec nodes[SANDBOX_MAX_NODES];
  sandbox_rec pg;
  bool has_prom, has_am;
  sandbox_rec prom, am;
  bool pg_tmp; /* pg data lives outside dir (root, dir not reachable by postgres) */
  /* The secured sandbox (`up --secure`): TLS everywhere, users, the token node, the
   * passwords (kept in sandbox.json, which is then readable by its owner only). */
  bool secure;
  sandbox_rec tok; /* "t1": a standalone node whose clients authenticate with a token */
  char user[32], password[SB_SECRET_MAX], sys_user[32], sys_password[SB_SECRET_MAX];
  char token[SB_SECRET_MAX], pg_password[SB_SECRET_MAX];
  char nkey_pub[64]; /* the nkey user's public key; its seed is in DIR/tls/nkey.seed */
  sandbox_rec cred;  /* "c1": a standalone operator-mode node for the .creds user (jwt.c) */
  char creds_account[64], creds_sys_account[64]; /* its accounts' public keys */
} sandbox_state;

/* proc.c */
/* One progress line through o->progress, when set. */
void sandbox_progress(const sandbox_opts *o, const char *fmt, ...) GG_PRINTF(2, 3);
/* Look `name` up in PATH, then in the extra directories Debian uses for servers. */
bool sandbox_find_program(const char *name, char *out, size_t n);
/* As sandbox_find_program, or an error naming the Debian package to install. */
gg_status sandbox_need_program(const char *name, const char *package, char *out, size_t n,
                               gg_error *err) GG_WUR;
/* Reserve n distinct free loopback ports by binding them all at once, then release them. */
gg_status sandbox_free_ports(int n, int *ports, gg_error *err) GG_WUR;
/* True when pid is alive (not a zombie) and its command line mentions rec->marker. */
bool sandbox_proc_is_ours(const sandbox_rec *r);
/* Reap any exited children without blocking. */
void sandbox_reap_quietly(void);
/* Send sig and wait up to grace seconds for the process to go; SIGKILL after that. */
void sandbox_proc_stop(sandbox_rec *r, int sig, double grace);
/* The uid and gid of the `postgres` user, or false when there is none. */
bool sandbox_postgres_user(uid_t *uid, gid_t *gid);
/* Start argv as a daemon in its own session, stdout/stderr appended to logpath. When
 * as_postgres, drop to the postgres user first (PostgreSQL refuses to run as root). */
gg_status sandbox_spawn_daemon(char *const argv[], const char *logpath, bool as_postgres, int *pid_out,
                               gg_error *err) GG_WUR;
/* The error for a process that exited while starting: the end of its log, with a hint
 * when a port was taken. */
gg_status sandbox_exited_error(const sandbox_rec *r, gg_error *err) GG_WUR;
/* GET url: true on HTTP 200; why says "ok" or what is wrong. With body_out, you own the
 * body (free()). */
bool sandbox_http_ok(const char *url, double timeout, char *why, size_t n, char **body_out);
/* Wait until r answers path on its port with 200, it exits, or the deadline passes. */
gg_status sandbox_http_wait_ready(sandbox_rec *r, const char *path, double deadline, gg_error *err) GG_WUR;

/* state.c */
/* Write DIR/sandbox.json atomically (a temporary file renamed over it). */
gg_status sandbox_state_save(const sandbox_state *s, gg_error *err) GG_WUR;
/* Load the state; GG_ERR_NOT_FOUND when the dir holds no sandbox. */
gg_status sandbox_state_load(const char *dir, sandbox_state *s, gg_error *err) GG_WUR;

/* dir.c */
/* The sandbox directory of o: o->dir, or ".sandbox". */
const char *sandbox_opts_dir(const sandbox_opts *o);
/* a/b into out; -1 when it does not fit. */
int sandbox_path_join(char *out, size_t n, const char *a, const char *b);
/* Create or replace path with text. */
gg_status sandbox_write_file(const char *path, const char *text, gg_error *err) GG_WUR;
/* mkdir path (0755); an existing directory is fine. */
gg_status sandbox_make_dir(const char *path, gg_error *err) GG_WUR;
/* Name r, make its directory DIR/NAME and lay out its config file, data directory and log
 * there; the config file's path is the marker that finds the process again. */
gg_status sandbox_proc_layout(sandbox_rec *r, const char *dir, const char *name, const char *bin,
                              const char *conf, const char *data, const char *log, gg_error *err) GG_WUR;
/* Create dir when missing and check that it is writable. */
gg_status sandbox_prepare_dir(const char *dir, gg_error *err) GG_WUR;
/* An exclusive flock on DIR/.lock so two sandbox commands on one dir do not interleave. */
gg_status sandbox_lock_dir(const char *dir, int *fd_out, gg_error *err) GG_WUR;
/* Release the lock of sandbox_lock_dir (a negative fd is ignored). */
void sandbox_unlock_dir(int fd);
/* rm -rf path (never "" or "/"); best effort. */
gg_status sandbox_remove_tree(const char *path);

/* tls.c */
/* Make tlsdir with ca.pem, server.pem + server-key.pem (SANs 127.0.0.1, localhost),
 * client.pem + client-key.pem and expired.pem (the server's key, expired), all signed by that
 * CA; keys are mode 0600. */
gg_status sandbox_tls_make(const char *tlsdir, gg_error *err) GG_WUR;
/* DIR/tls/<file> into out. */
void sandbox_tls_path(const sandbox_state *s, const char *file, char *out, size_t n);
/* The secrets of a secured sandbox: random passwords and token, an nkey user whose seed
 * goes to DIR/tls/nkey.seed (mode 0600). */
gg_status sandbox_secrets_make(sandbox_state *s, gg_error *err) GG_WUR;

/* jwt.c */
/* An operator, an account with JetStream, a system account and a user as JWTs, with the
 * user's DIR/tls/user.creds (mode 0600); fills creds_account and creds_sys_account. */
gg_status sandbox_creds_make(sandbox_state *s, gg_error *err) GG_WUR;
/* The operator-mode node's config (after sandbox_creds_make). */
gg_status sandbox_nats_write_creds_conf(const sandbox_state *s, gg_error *err) GG_WUR;

/* nats.c */
/* Write node i's nats.conf: its ports, JetStream store, routes to every other node. */
gg_status sandbox_nats_write_conf(const sandbox_state *s, int i, gg_error *err) GG_WUR;
/* Start node i with its config (and whatever data it already has). */
gg_status sandbox_nats_spawn(sandbox_state *s, int i, gg_error *err) GG_WUR;
/* The secured sandbox's token node: its config, and starting it. */
gg_status sandbox_nats_write_token_conf(const sandbox_state *s, gg_error *err) GG_WUR;
gg_status sandbox_nats_spawn_token(sandbox_state *s, gg_error *err) GG_WUR;
/* Wait until one node's /healthz is ok, it exits, or the deadline passes. */
gg_status sandbox_nats_wait_one(const sandbox_rec *r, double deadline, gg_error *err) GG_WUR;
/* /healthz: the server and every stream and consumer it holds are current. */
bool sandbox_nats_healthy(const sandbox_rec *r, char *why, size_t n);
/* The meta leader's name as node r sees it, or false. */
bool sandbox_nats_meta_leader(const sandbox_rec *r, char *leader, size_t n);
/* Wait until every node's /healthz is ok and node 1 sees a meta leader. */
gg_status sandbox_nats_wait(sandbox_state *s, const sandbox_opts *o, double deadline, gg_error *err) GG_WUR;

/* pg.c */
/* Whether PostgreSQL accepts a connection; why says "ok" or what is wrong. */
bool sandbox_pg_accepts(const sandbox_state *s, char *why, size_t n);
/* Create the database `athlete` unless it exists. */
gg_status sandbox_pg_create_athlete(const sandbox_state *s, gg_error *err) GG_WUR;
/* Start postgres on its data directory (loopback TCP only, fsync off). */
gg_status sandbox_pg_spawn(sandbox_state *s, gg_error *err) GG_WUR;
/* Wait until PostgreSQL accepts connections, it exits, or the deadline passes. */
gg_status sandbox_pg_wait(sandbox_state *s, double deadline, gg_error *err) GG_WUR;
/* initdb a new cluster for s and record where its data lives. */
gg_status sandbox_pg_init(sandbox_state *s, const sandbox_opts *o, gg_error *err) GG_WUR;

/* prom.c */
/* Write prometheus.yml and make its rules/ and targets/ directories. */
gg_status sandbox_prom_write_conf(const sandbox_state *s, gg_error *err) GG_WUR;
/* Write alertmanager.yml: one default receiver, short group waits. */
gg_status sandbox_am_write_conf(const sandbox_state *s, gg_error *err) GG_WUR;
/* Start Prometheus and Alertmanager with their configs. */
gg_status sandbox_prom_spawn(sandbox_state *s, gg_error *err) GG_WUR;
gg_status sandbox_am_spawn(sandbox_state *s, gg_error *err) GG_WUR;

#endif
