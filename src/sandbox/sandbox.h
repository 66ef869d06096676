/*
 * sandbox.h: a disposable local cluster for demos, rehearsals and tests (DESIGN §10).
 *
 * `up` starts N nats-server processes as one JetStream cluster on free loopback ports, a
 * PostgreSQL instance with the database `athlete`, and Prometheus and Alertmanager when
 * they are installed; it waits until the cluster has a meta leader, every node's /healthz
 * is ok and PostgreSQL accepts connections, and writes DIR/env for `source`.
 *
 * Everything the sandbox knows lives in its directory: DIR/sandbox.json records each
 * process's pid, ports and files, so `down` stops exactly what `up` started (a recorded
 * pid is signalled only while /proc shows it is still the program and config we started),
 * and `kill-node`/`start-node` can stop one node hard and bring it back with its data.
 *
 * The secured sandbox (`up --secure`) is the same cluster with TLS on client connections and
 * routes (a CA and certificates made in DIR/tls), an application account APP with a
 * user/password user and an nkey user (seed in DIR/tls/nkey.seed), the system account SYS
 * with its user, and no monitoring URL in DIR/env (the nodes keep a loopback monitor port for
 * the sandbox's own health checks; GONOGO_SANDBOX_MONITOR_URLS names it for tests that
 * compare the two paths). nats-server 2.9 refuses a token beside accounts, so the token user
 * gets a fourth, standalone TLS JetStream node "t1" (NATS_TOKEN_URL), and a user with a .creds
 * file (JWT + seed) a fifth, operator-mode one "c1" (NATS_CREDS_URL, NATS_CREDS_FILE; user/password
 * accounts and an operator do not mix in one server config). PostgreSQL takes only
 * TLS connections with a scram-sha-256 password. DIR/env then also exports NATS_USER,
 * NATS_PASSWORD, NATS_TOKEN, NATS_TOKEN_URL, NATS_NKEY_SEED, NATS_CA, NATS_CERT, NATS_KEY (a
 * client certificate), NATS_SYSTEM_USER, NATS_SYSTEM_PASSWORD, and a PG_URL with the
 * password and sslmode=require. DIR/env, DIR/sandbox.json and the nats configs are mode 0600.
 *
 * The functions never print: progress lines go through the optional callback.
 */
#ifndef GG_SANDBOX_H
#define GG_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define SANDBOX_MAX_NODES 9

typedef void (*sandbox_progress_fn)(void *ud, const char *line);

typedef struct {
  const char *dir;              /* the sandbox directory; created if missing */
  int nodes;                    /* nats-server processes for `up` (1..SANDBOX_MAX_NODES; 0 = 3) */
  double timeout;               /* seconds to wait for health; 0 = 30 */
  bool secure;                  /* `up`: the secured sandbox (see below) */
  bool hide_secrets;            /* sandbox_env_text: "<in DIR/env>" instead of each secret */
  sandbox_progress_fn progress; /* may be NULL */
  void *progress_ud;
} sandbox_opts;

/* One process of the sandbox as `status` reports it. */
typedef struct {
  char name[32];    /* "n1", "postgres", "prometheus", "alertmanager" */
  int pid;          /* recorded pid (0 if never started) */
  bool running;     /* the recorded pid is alive and still our process */
  bool healthy;     /* its health endpoint answered ok */
  char health[160]; /* "ok", or what is wrong ("healthz: connection refused") */
  char address[64]; /* the client address: "127.0.0.1:4222" */
} sandbox_proc;

typedef struct {
  sandbox_proc procs[SANDBOX_MAX_NODES + 5];
  int nprocs;
  bool meta_leader;   /* some running node reports a JetStream meta leader */
  char leader[32];    /* its server name */
  char env_path[512]; /* DIR/env */
} sandbox_status;

/* Bring the sandbox up. When it is already fully up, does nothing and sets *already.
 * On failure, stops whatever this call started and names the cause and the fix (a missing
 * binary with its Debian package, a port taken, a dir not writable, a server that exited,
 * with the tail of its log). */
gg_status sandbox_up(const sandbox_opts *opts, bool *already, gg_error *err) GG_WUR;

/* Stop every recorded process (SIGTERM, SIGKILL after a grace period) and remove the data
 * directories; logs and the state file stay for post-mortems. A dir with no sandbox is ok. */
gg_status sandbox_down(const sandbox_opts *opts, gg_error *err) GG_WUR;

/* Fill st with each recorded process, whether it runs and whether it is healthy. */
gg_status sandbox_get_status(const sandbox_opts *opts, sandbox_status *st, gg_error *err) GG_WUR;

/* Stop nats node n (1-based) with SIGKILL, or start it again with the same config and data
 * and wait until it is healthy. */
gg_status sandbox_kill_node(const sandbox_opts *opts, int n, gg_error *err) GG_WUR;
gg_status sandbox_start_node(const sandbox_opts *opts, int n, gg_error *err) GG_WUR;

/* Stop PostgreSQL (fast shutdown) or start it again with its data; for outage tests. */
gg_status sandbox_pg_stop(const sandbox_opts *opts, gg_error *err) GG_WUR;
gg_status sandbox_pg_start(const sandbox_opts *opts, gg_error *err) GG_WUR;

/* The env file's text (export lines) for a running sandbox; you own it (free()). */
gg_status sandbox_env_text(const sandbox_opts *opts, char **out, gg_error *err) GG_WUR;

#endif
