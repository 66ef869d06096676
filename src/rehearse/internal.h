/*
 * internal.h: what the rehearsal's files share; not for other modules.
 */
#ifndef GG_REHEARSE_INTERNAL_H
#define GG_REHEARSE_INTERNAL_H

#include <nats/nats.h>
#include <stdint.h>
#include <sys/types.h>

#include "rehearse/rehearse.h"
#include "sandbox/sandbox.h"

/* ---- env.c: the sandbox's settings in place of the caller's ---------------------------------- */

#define REHEARSE_ENV_MAX 64

/* The variables the sandbox's env file exports (and unsets), plus the rehearsal's own
 * (INGEST_URL, NORMALIZE_URL): what the plan is loaded again with. */
typedef struct {
  char *names[REHEARSE_ENV_MAX];
  char *values[REHEARSE_ENV_MAX]; /* NULL: unset */
  size_t n;
} rehearse_env;

/* Read the export/unset lines of an env file text into e (appending). */
gg_status rehearse_env_parse(rehearse_env *e, const char *text, gg_error *err) GG_WUR;
/* Set (or, value NULL, unset) one variable. */
gg_status rehearse_env_set(rehearse_env *e, const char *name, const char *value, gg_error *err) GG_WUR;
/* A plan_load lookup: e's value when e names the variable (NULL when e unsets it), else getenv;
 * except the caller's connection variables (NATS_*, PG_URL, PROMETHEUS_URL, ALERTMANAGER_URL),
 * which are never read from the caller's environment. ctx is the rehearse_env. */
const char *rehearse_env_lookup(const char *name, void *ctx);
/* The caller's environment with e applied and the connection variables of the caller removed:
 * for the services. NULL-terminated; you own it (rehearse_env_free_environ). */
char **rehearse_env_environ(const rehearse_env *e, const char *const *extra);
void rehearse_env_free_environ(char **envp);
void rehearse_env_release(rehearse_env *e);

/* ---- services.c: the reference services as children ---------------------------------------- */

typedef struct {
  char name[32];
  pid_t pid; /* 0 when not running */
  int port;
  char log[600];
  int exit_code; /* once it has exited */
} rehearse_service;

/* Whether the thing waited for is ready; why (n bytes) says what it saw last. */
typedef bool (*rehearse_ready_fn)(void *ud, char *why, size_t n);
/* A rehearse_ready_fn: GET url (a char *) answers 2xx. */
bool rehearse_url_ready(void *url, char *why, size_t n);
/* Whether s still runs; when it has exited, s->exit_code says how and its group is stopped. */
bool rehearse_service_alive(rehearse_service *s);
/* Run `run` with /bin/sh -c in workdir (NULL: here), envp plus extra ("K=V", NULL-terminated or
 * NULL), its output to DIR/NAME.log, in a process group of its own; waits (seconds) until
 * ready(ud). An error naming it when it exits first or is not ready in time (then stopped). */
gg_status rehearse_command_start(rehearse_service *s, const char *name, const char *run, const char *workdir,
                                 char **envp, const char *const *extra, const char *dir,
                                 rehearse_ready_fn ready, void *ud, double seconds, gg_error *err) GG_WUR;

/* A free loopback TCP port, or -1. */
int rehearse_free_port(void);
/* The path of program `name` ("ingest-service"): in bindir when given, else beside gonogo's
 * build tree, else on PATH. GG_ERR_NOT_FOUND naming where it looked. */
gg_status rehearse_find_program(const char *bindir, const char *subdir, const char *name, char *out, size_t n,
                                gg_error *err) GG_WUR;
/* Start `bin` with envp plus LISTEN_VAR=127.0.0.1:PORT (port, or a free one when <= 0), its
 * stderr to DIR/NAME.log, dying with this process; waits (20 s) until GET /health answers 200. */
gg_status rehearse_service_start(rehearse_service *s, const char *name, const char *bin,
                                 const char *listen_var, int port, char **envp, const char *dir,
                                 gg_error *err) GG_WUR;
/* SIGTERM to its process group, wait up to 10 s, then SIGKILL. NULL-safe; nothing when not running. */
void rehearse_service_stop(rehearse_service *s);

/* ---- traffic.c: HRV readings at a rate, one unique id each ------------------------------------ */

enum { REH_ID_UNSENT = 0, REH_ID_ACCEPTED, REH_ID_REFUSED, REH_ID_UNKNOWN };

typedef struct {
  uint8_t phase;  /* index of the phase during which it was posted */
  uint8_t state;  /* REH_ID_* */
  uint8_t rows;   /* rows in hrv_data (counted at the end) */
  uint8_t copies; /* copies across the plan's streams (counted at the end) */
} rehearse_id;

typedef struct rehearse_traffic rehearse_traffic;

/* Start posting to `url` (ingest's /v1/hrv) at `rate` per second, ids "<prefix><n>"; body the
 * template ({{id}}, {{now}} replaced; any 2xx accepted), NULL: an HRV reading (202 accepted). */
gg_status rehearse_traffic_start(const char *url, const char *body, const char *prefix, double rate,
                                 rehearse_traffic **out, gg_error *err) GG_WUR;
/* The phase index the ids posted from now on belong to. */
void rehearse_traffic_set_phase(rehearse_traffic *t, int phase);
/* Stop posting and wait for the posters; the ledger stays readable. */
void rehearse_traffic_stop(rehearse_traffic *t);
/* The ledger: ids 0..*n-1 (borrowed). */
rehearse_id *rehearse_traffic_ids(rehearse_traffic *t, size_t *n);
/* Accepted so far. */
long rehearse_traffic_accepted(rehearse_traffic *t);
void rehearse_traffic_free(rehearse_traffic *t); /* stops it first; NULL-safe */

/* ---- count.c: where every id ended up ---------------------------------------------------------- */

/* Rows of `sql` (its first column the id; NULL: hrv_data's msg_id) that are "<prefix><n>":
 * ids[n].rows += 1 each (ids may be NULL); *rows the total of ours. */
gg_status rehearse_count_rows(const char *pg_url, const char *sql, const char *prefix, rehearse_id *ids,
                              size_t n, long *rows, gg_error *err) GG_WUR;
/* Rows of ours (for progress); -1 on error. */
long rehearse_count_rows_quick(const char *pg_url, const char *sql, const char *prefix);
/* Copies of every message of `stream` whose Nats-Msg-Id is "<prefix><n>": ids[n].copies += 1
 * each, except a carry-back's copy (header Gonogo-Carried-From). A stream that does not exist
 * holds none. */
gg_status rehearse_count_copies(natsConnection *nc, jsCtx *js, const char *stream, const char *prefix,
                                rehearse_id *ids, size_t n, gg_error *err) GG_WUR;

/* ---- topology.c: what the plan asks for, buildable here ---------------------------------------- */

/* Lower replicas over `nodes` in p's topology (each change a line in *adj), and with from_live
 * replace the existing-marked streams' settings by the live cluster's (read through `live`'s
 * connect:), placement and sources dropped with the reason. */
gg_status rehearse_topology_adapt(plan *p, const plan *live, bool from_live, int nodes, char ***adj,
                                  size_t *nadj, gg_error *err) GG_WUR;
/* Append a formatted line to a string list. */
gg_status rehearse_list_add(char ***list, size_t *n, const char *fmt, ...) GG_PRINTF(3, 4) GG_WUR;
void rehearse_list_free(char **list, size_t n);

/* ---- the rehearsal under way (rehearse.c, phase.c) ---------------------------------------------- */

typedef struct {
  const rehearse_opts *o;
  const plan *live;
  plan *p;    /* the plan loaded with the sandbox's settings, topology adapted, soaks compressed */
  journal *j; /* the rehearsal's own journal, in the sandbox directory */
  sandbox_opts so;
  rehearse_env env;
  char **envp; /* for the services */
  rehearse_service ingest, normalize;
  rehearse_service *cmds; /* the plan's rehearsal.services, when it names some */
  size_t ncmds;
  char publish_url[1024]; /* where the traffic goes */
  char count_url[512];    /* the database the consumed ids are read from */
  rehearse_traffic *traffic;
  char prefix[64]; /* of every id */
  char pg_url[512];
  rehearse_result *r;
  volatile int current;      /* the phase index under way (for the status line) */
  const char *volatile step; /* what it is doing */
  double t0;
  bool sandbox_started;
  bool failed_setup; /* keep the directory (its logs) for the error message */
  int ingest_port, normalize_port;
} reh;

/* A progress line (printf-like). */
void rehearse_say(reh *h, const char *fmt, ...) GG_PRINTF(2, 3);
/* An act_progress_fn / sandbox progress: ud is the reh. */
void rehearse_on_progress(void *ud, const char *line);
/* The node (1-based) leading the most of the plan's streams, its name in name; 0 when none. */
int rehearse_busiest_node(reh *h, char *name, size_t n);
/* ---- commands.c: the plan's `rehearsal:` section ------------------------------------------------ */

/* h->publish_url and h->count_url from the plan's rehearsal.publish / rehearsal.consumed, else
 * ingest's webhook and the sandbox's PostgreSQL. */
gg_status rehearse_targets(reh *h, gg_error *err) GG_WUR;
/* Start the plan's rehearsal.services in order, each waited for until ready; an error naming the
 * first that exits or is not ready (those started are stopped by rehearse_commands_stop). */
gg_status rehearse_commands_start(reh *h, gg_error *err) GG_WUR;
/* An error naming the first of them that is no longer running. */
gg_status rehearse_commands_check(reh *h, gg_error *err) GG_WUR;
/* Stop them, last first (each its process group). */
void rehearse_commands_stop(reh *h);

/* Rehearse phase i; kill_node: its second run with the busiest node killed and brought back. */
void rehearse_do_phase(reh *h, size_t i, bool kill_node);

#endif
