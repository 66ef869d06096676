/*
 * probe.h: the built-in series of DESIGN §6, read from the live systems.
 *
 * A probe_ctx is one evaluation: it holds the connections (one NATS connection, one
 * PostgreSQL connection per database) and the results fetched so far, so every series
 * a check needs is fetched once and every connection is opened once. The gate walks
 * its expressions, calls probe_prefetch to fetch everything they name concurrently
 * (a phase with twenty criteria takes about as long as its slowest probe), then
 * evaluates them with expr_eval against probe_ctx_source(), which answers from what was
 * fetched (and fetches on a miss).
 *
 * Series (labels in braces; values in base units: seconds, bytes, fractions):
 *   nats.server.up{server}               1 when GET <monitor>/varz answers within the timeout,
 *                                        whatever its JetStream assets' state; else 0 and a
 *                                        note with the reason (refused, timed out), never missing
 *   nats.jetstream.current{server}       1 when GET <monitor>/healthz says ok: every stream and
 *                                        consumer on the server is current; 0 and a note (the
 *                                        server's reason, or why it did not answer) otherwise
 *   nats.server.storage_free{server}     /jsz config.max_storage - storage
 *   nats.server.memory_free{server}      /jsz config.max_memory - memory
 *   nats.server.route_rtt{server,peer}   /routez rtt, seconds
 *   nats.meta.leader_present, nats.meta.peers_current, nats.meta.cluster_size
 *                                        /jsz meta_cluster, asked of the meta leader
 *   nats.jetstream.enabled               JetStream account info answers (1/0)
 *   nats.stream.exists{stream}           1/0
 *   nats.stream.messages .bytes .first_seq .last_seq .last_ts .consumers .replicas_current
 *                                        {stream} js_GetStreamInfo (last_ts: epoch seconds)
 *   nats.stream.subject_messages{stream,subject}  per-subject counts (subjects filter:
 *                                        the subject matcher, or ">" for all)
 *   nats.stream.has_subject{stream,subject}       1 when the stream's config subjects
 *                                        cover the subject, else 0
 *   nats.consumer.exists .num_pending .num_ack_pending .num_redelivered .num_waiting
 *                 .ack_floor .delivered .last_active{stream,consumer}  js_GetConsumerInfo
 *                                        (last_active: epoch seconds of the last delivery)
 *   pg.up pg.connect_time pg.ping pg.connections pg.max_connections pg.pool_utilization
 *   pg.xact_commit{db}                   libpq (ping = round trip of SELECT 1, seconds)
 *   pg.rows_inserted{db,table}           pg_stat_user_tables.n_tup_ins: rows inserted (a counter)
 *   http.up http.status http.latency{target}      GET of the target's health URL
 *   <any scraped name>{target,...}       the target's metrics page (Prometheus text)
 *   alerts.firing{alertname,severity}    Alertmanager /api/v2/alerts, active alerts only
 *   file.age{path} fs.free{path}         stat / statvfs on this machine
 * A stream or consumer label matched with = selects it; without one, every stream (or
 * every consumer of the stream) is listed. Selectors that cannot be answered are errors
 * naming the endpoint and the cause; "no data" is never a pass.
 *
 * Thread-safety: one probe_ctx may be used from several threads (prefetch does), but
 * probe_ctx_free and probe_ctx_forget must not race with anything else.
 *
 * The program calls gg_http_global_init once before any probe runs (libcurl's global
 * init is not thread-safe), and may call nats_Close() at exit to free nats.c's globals.
 */
#ifndef GG_PROBE_H
#define GG_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "expr/expr.h"

/* Default per-probe timeout, seconds. */
#define PROBE_DEFAULT_TIMEOUT 5.0

typedef struct {
  const char *name; /* "main" */
  const char *url;  /* libpq URL or conninfo (a secret: never printed) */
} probe_database;

typedef struct {
  const char *name;    /* "ingest" */
  const char *health;  /* health URL or NULL */
  const char *metrics; /* metrics URL or NULL */
} probe_target;

/* Connection settings, filled by the caller from the plan's `connect:` section. Every
 * pointer is borrowed and must outlive each probe_ctx made from it. Secrets (password,
 * token, database URLs) are used to connect and never appear in messages. */
typedef struct {
  const char *const *nats_servers; /* "nats://127.0.0.1:4222", ...; may be NULL */
  size_t n_nats_servers;
  const char *nats_user; /* with nats_password; NULL when unused */
  const char *nats_password;
  const char *nats_token;    /* NULL when unused */
  const char *nats_creds;    /* path of a .creds file; NULL when unused */
  const char *nats_tls_ca;   /* PEM file of trusted CAs; NULL: TLS only if a URL says tls:// */
  const char *nats_nkey;     /* path of an nkey user seed file; NULL when unused */
  const char *nats_tls_cert; /* client certificate chain (PEM) with nats_tls_key */
  const char *nats_tls_key;
  /* The system account (server-level series when no monitor URL answers): user with
   * password, or a creds file; both NULL when not configured. */
  const char *nats_sys_user;
  const char *nats_sys_password;
  const char *nats_sys_creds;
  int nats_expect_servers;         /* how many servers answer a system-account ping; 0: not known */
  const char *const *monitor_urls; /* "http://127.0.0.1:8222", ... */
  size_t n_monitor_urls;
  const probe_database *databases;
  size_t n_databases;
  const probe_target *targets;
  size_t n_targets;
  const char *prometheus_url;   /* NULL or "": promql() is an error */
  const char *alertmanager_url; /* NULL or "": alerts.firing is an error */
  double timeout;               /* per probe, seconds; <= 0: PROBE_DEFAULT_TIMEOUT */
} probe_config;

typedef struct probe_ctx probe_ctx;

/* A context for one evaluation. cfg is borrowed (it must outlive the context). NULL on
 * ENOMEM. Nothing is connected until a probe needs it. */
probe_ctx *probe_ctx_new(const probe_config *cfg);

/* Close every connection and free the context. NULL-safe. */
void probe_ctx_free(probe_ctx *ctx);

/* Drop the fetched results (keep the connections), so the next select reads fresh
 * values: `check` takes its second sample for rate() this way. Also drops the notes. */
void probe_ctx_forget(probe_ctx *ctx);

/* Fill *src with the series source that answers from ctx (select, promql, sql); `user`
 * is ctx. The source is valid while ctx lives. */
void probe_ctx_source(probe_ctx *ctx, expr_series_source *src);

/* Whether `name` is a built-in series name served by the probes (nats.*, pg.*, http.*,
 * alerts.*, file.*, fs.*); other names are looked up on the targets' metrics pages. */
bool probe_is_builtin(const char *name);

/* What to fetch ahead: an expression and the timeout its probes get (<= 0: default). */
typedef struct {
  const expr_node *expr;
  double timeout;
} probe_want;

/* Fetch every selector, promql() and sql() found in the expressions concurrently (a
 * thread per selector, and one per endpoint within it) and keep the results in ctx.
 * Failures are kept too and returned when the evaluator asks; prefetch itself fails
 * only on ENOMEM or when no thread can be started. Blocks until every probe finished or
 * hit its own timeout. */
gg_status probe_prefetch(probe_ctx *ctx, const probe_want *wants, size_t n, gg_error *err) GG_WUR;

/* How long the slowest single fetch of the prefetches so far took (seconds), and what it
 * fetched (a series name, "promql()" or "sql()") into what[n] when what is not NULL. */
double probe_ctx_slowest(probe_ctx *ctx, char *what, size_t n);

/* The series source callbacks, usable directly. `out` receives the samples (appended),
 * without a __name__ label. select returns GG_ERR_NOT_FOUND for a name it does not know
 * (a built-in prefix with an unknown name, or a scraped name when no target has a
 * metrics URL). */
gg_status probe_select(probe_ctx *ctx, const expr_selector *sel, expr_vector *out, gg_error *err) GG_WUR;
/* promql("query"): an instant query against prometheus_url; the vector (or scalar, as one
 * sample without labels) it returns. */
gg_status probe_promql(probe_ctx *ctx, const char *query, expr_vector *out, gg_error *err) GG_WUR;
/* sql(db, "select …"): one statement, run in a READ ONLY transaction with a statement
 * timeout. Each row is one sample: the last column is the value (numbers; booleans as
 * 1/0; NULL is an error), the other columns become labels named after them. No rows is
 * GG_OK with no samples (the evaluator reports "no data"). */
gg_status probe_sql(probe_ctx *ctx, const char *db, const char *query, expr_vector *out,
                    gg_error *err) GG_WUR;

/* The history of a metric scraped from the plan's targets, from Prometheus
 * (prometheus_url): the raw samples of `sel` over [now - window, now], one range-vector
 * query (`name{…, instance="host:port"}[window]` at time `now`) per target with a metrics
 * URL that the selector's `target` matchers accept. Mapping: a plan target is the
 * Prometheus series whose `instance` label is the host:port of its metrics URL (Prometheus's
 * default, the address it scrapes; the sandbox's and the demo's file_sd targets list them
 * so, with `job` set to the target's name, which is not relied on). The other matchers are
 * passed on as written. Each series comes back labelled as the probes label a scraped
 * metric: `target` plus the metric's own labels (job and instance dropped; labels a
 * service-discovery config adds stay). Appends to out, which may end up empty (Prometheus
 * has nothing). GG_ERR_NOT_FOUND when it does not apply: no Prometheus URL, a built-in
 * series name, or no such target with a metrics URL; any other error names the query's
 * endpoint. An answer larger than GG_BUF_HTTP_BODY_MAX is refused (GG_ERR_TOO_BIG). */
gg_status probe_prom_history(const probe_config *cfg, const expr_selector *sel, double window, double now,
                             double timeout, expr_matrix *out, gg_error *err) GG_WUR;

/* Notes the probes left while answering with a value rather than an error, for the
 * evidence: why a server or target is reported down, e.g.
 *   nats.server.up{server="n3"} = 0: not answering: GET http://127.0.0.1:8224/varz: Connection refused
 * Index 0 .. count-1; the strings are owned by ctx and valid until forget/free. */
size_t probe_ctx_note_count(probe_ctx *ctx);
const char *probe_ctx_note(probe_ctx *ctx, size_t i);

/* ---------------------------------------------------------------------------------
 * Commands (`run:` criteria) and canaries
 * ------------------------------------------------------------------------------- */

typedef struct {
  bool ok;          /* exited 0 within the timeout */
  char summary[96]; /* "exit 0", "exit 2", "timed out after 5s", "killed by SIGKILL" */
  char *output;     /* the tail of stdout+stderr (you own it: free()); never NULL on GG_OK */
  bool truncated;   /* earlier output was dropped */
  double elapsed;   /* seconds */
} probe_run_result;

/* Which cluster a probe_config reaches, as its servers report it (probe_cluster_identify). */
#define PROBE_IDENTIFY_MAX 16
typedef struct {
  char name[64];    /* server_name */
  char cluster[64]; /* the cluster's name; "" for a server in no cluster */
  char version[32]; /* nats-server version */
} probe_server_id;

typedef struct {
  probe_server_id servers[PROBE_IDENTIFY_MAX];
  size_t nservers;
  char source[32];     /* where the names came from: "the monitor port", "the system account"; "" */
  char connected[256]; /* without names: the URL that accepted the connection (redacted), or "" */
  char server_id[96];  /* without names: that server's id */
  char note[256];      /* why there are no names (the connect error, or what would give them), or "" */
} probe_cluster_id;

/* Ask the servers of cfg who they are: /varz on each monitor URL; when none answers and a system
 * account is configured, $SYS.REQ.SERVER.PING; else a connection with the application's
 * credentials (its URL and server id). Never fails: what could not be learnt is in out->note.
 * Waits at most about `timeout` seconds a step (<= 0: PROBE_DEFAULT_TIMEOUT). */
void probe_cluster_identify(const probe_config *cfg, double timeout, probe_cluster_id *out);

/* "host:port/dbname" of a libpq URL or conninfo string, never its user or password. */
void probe_db_where(const char *url, char *out, size_t n);

/* Run `command` through /bin/sh -c with a timeout (<= 0: 60 s), keeping the last
 * GG_BUF_CMD_OUTPUT_MAX bytes of output as evidence. GG_OK whenever the command ran
 * (look at out->ok); an error only when it could not be started. */
gg_status probe_run(const char *command, double timeout, const char *cwd, probe_run_result *out,
                    gg_error *err) GG_WUR;
void probe_run_result_release(probe_run_result *r);

/* The header that marks canary data, on HTTP requests and NATS messages; its value is the
 * canary id. Receivers (and the reference services) can tell synthetic from real data. */
#define PROBE_CANARY_HEADER "Gonogo-Canary"

/* POST body (len bytes, content_type NULL: application/json) to url with the canary
 * header set to `id`. A non-2xx answer is an error naming the URL and the status;
 * *status (may be NULL) receives the status either way. */
gg_status probe_canary_post(probe_ctx *ctx, const char *url, const char *content_type, const void *body,
                            size_t len, const char *id, long *status, gg_error *err) GG_WUR;

/* Publish body to subject through JetStream (waiting for the stream's ack) on ctx's NATS
 * connection, with the canary header set to `id` and Nats-Msg-Id "gonogo-canary-<id>".
 * *stream / *seq (may be NULL) receive where it was stored; *stream is owned by the
 * caller (free()). */
gg_status probe_canary_publish(probe_ctx *ctx, const char *subject, const void *body, size_t len,
                               const char *id, char **stream, unsigned long long *seq, gg_error *err) GG_WUR;

/* ---------------------------------------------------------------------------------
 * Small parsers the probes use, exposed for tests
 * ------------------------------------------------------------------------------- */

/* A Go duration as nats-server prints RTTs: "1.234ms", "512µs", "250us", "1m2.5s",
 * "0s", "42ns". Seconds into *out. */
gg_status probe_parse_go_duration(const char *text, double *out, gg_error *err) GG_WUR;

/* Whether the subject filter `pattern` (may hold * and >) covers `subject` (which may
 * hold wildcards too: "core.>" covers "core.hrv.>" and "core.x"). */
bool probe_subject_covers(const char *pattern, const char *subject);

#endif
