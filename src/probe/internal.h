/*
 * internal.h: what the probe files share: the fetch jobs and the context.
 *
 * A job is one request to one endpoint (GET /jsz of one server, stream info of one
 * stream, the pg.* queries of one database). Jobs are kept in the context by key, run at
 * most once per evaluation (a job's mutex makes concurrent askers wait for the first),
 * and hold the samples they produced, each with its "__name__" label, or the error.
 */
#ifndef GG_PROBE_INTERNAL_H
#define GG_PROBE_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdbool.h>

#include "probe/probe.h"

/* Threads started at once by one probe_job_run_all or one prefetch. */
#define PROBE_MAX_THREADS 32

typedef enum {
  JOB_MON_UP,      /* a: monitor URL (answers /varz) */
  JOB_MON_CURRENT, /* a: monitor URL (/healthz) */
  JOB_MON_VARZ,    /* a: monitor URL (server name) */
  JOB_MON_JSZ,     /* a: monitor URL */
  JOB_MON_ROUTEZ,  /* a: monitor URL */
  JOB_MON_META,
  JOB_SYS_PING,    /* a: VARZ, JSZ, HEALTHZ or ROUTEZ: every server's reply (doc) */
  JOB_SYS_UP,      /* the series of the system-account path (natssys.c) */
  JOB_SYS_CURRENT, /* ... */
  JOB_SYS_JSZ,
  JOB_SYS_ROUTEZ,
  JOB_SYS_META,
  JOB_NATS_ACCOUNT,
  JOB_NATS_STREAMS,   /* the stream names */
  JOB_NATS_STREAM,    /* a: stream */
  JOB_NATS_SUBJECTS,  /* a: stream, b: subjects filter */
  JOB_NATS_CONSUMERS, /* a: stream: the consumer names */
  JOB_NATS_CONSUMER,  /* a: stream, b: consumer */
  JOB_PG,             /* a: db */
  JOB_SQL,            /* a: db, b: query */
  JOB_HTTP_HEALTH,    /* a: target */
  JOB_SCRAPE,         /* a: target */
  JOB_PROMQL,         /* a: query */
  JOB_ALERTS,
  JOB_FILE, /* a: path */
  JOB_FS    /* a: path */
} job_kind;

typedef struct probe_job {
  job_kind kind;
  char *a;
  char *b;
  double timeout;
  pthread_mutex_t lock;
  bool done;
  gg_status status;
  gg_error err;
  expr_vector vec; /* samples with __name__ */
  char **names;    /* JOB_NATS_STREAMS / CONSUMERS, JOB_MON_VARZ (names[0]) */
  size_t n_names;
  bool missing; /* the stream/consumer does not exist */
  json_t *doc;  /* JOB_MON_JSZ: the parsed response, for the meta probe; JOB_SYS_PING: the replies */
  double elapsed;
  struct probe_job *next;
} probe_job;

typedef struct {
  pthread_mutex_t lock;
  PGconn *conn;
  double connect_time;
} probe_pg;

struct probe_ctx {
  const probe_config *cfg;
  double timeout;
  pthread_mutex_t lock; /* jobs list and notes */
  probe_job *jobs;
  char **notes;
  size_t n_notes;
  /* NATS: connected once, on first use; a failed connect is remembered. */
  pthread_mutex_t nats_lock;
  bool nats_tried;
  natsConnection *nc;
  jsCtx *js;
  gg_status nats_status;
  gg_error nats_err;
  /* The system account's connection (natssys.c), the same way; and whether the server
   * series come through it (0 undecided, 1 monitor URLs, 2 system account). */
  pthread_mutex_t sys_lock;
  bool sys_tried;
  natsConnection *sys_nc;
  gg_status sys_status;
  gg_error sys_err;
  int sys_mode;
  probe_pg *pg; /* one per cfg->databases */
  /* The slowest fetch of a prefetch (under lock): how long, and what. */
  double slowest;
  char slowest_what[160];
};

/* The job for (kind, a, b), run now if it has not been (with `timeout`, <= 0: ctx's).
 * Never NULL except on ENOMEM. Owned by ctx. */
probe_job *probe_job_get(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout);

/* The job for (kind, a, b), created if new but not run. NULL on ENOMEM. */
probe_job *probe_job_lookup(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout);

/* Run several jobs at once (a thread each when n > 1). */
void probe_job_run_all(probe_ctx *ctx, probe_job **jobs, size_t n);

/* jobs.c: free one job and what it holds (not its successors). */
void probe_job_free(probe_job *job);

/* probe.c: whether name is one of the built-in series (probe_is_builtin only checks the prefix). */
bool probe_builtin_known(const char *name);

/* select.c: the samples of sel (matchers not yet applied) appended to out, fetched with
 * timeout (<= 0: the context's); on failure err says why. */
gg_status probe_select_timed(probe_ctx *ctx, const expr_selector *sel, double timeout, expr_vector *out,
                             gg_error *err);
/* select.c: every sample of the one job (kind, a, b), without __name__, appended to out. */
gg_status probe_single_job(probe_ctx *ctx, job_kind kind, const char *a, const char *b, double timeout,
                           expr_vector *out, gg_error *err);

/* matchers.c: keep only the samples of v from index `from` on that satisfy every matcher of
 * sel (an absent label reads as ""); GG_ERR_EXPR for a bad regular expression. */
gg_status probe_filter_matchers(const expr_selector *sel, expr_vector *v, size_t from, gg_error *err);

/* Record a note (printf-like). */
void probe_note(probe_ctx *ctx, const char *fmt, ...) GG_PRINTF(2, 3);

/* Append a sample named `name` with label pairs (NULL-terminated) to job->vec; ENOMEM is
 * recorded in the job. */
gg_status probe_job_add(probe_job *job, const char *name, double value, double ts, ...);

/* The per-file runners: fill job->vec / job->names or set job->status and job->err. */
void probe_natsmon_run_up(probe_ctx *ctx, probe_job *job);
void probe_natsmon_run_current(probe_ctx *ctx, probe_job *job);
void probe_natsmon_run_varz(probe_ctx *ctx, probe_job *job);
void probe_natsmon_run_jsz(probe_ctx *ctx, probe_job *job);
void probe_natsmon_run_routez(probe_ctx *ctx, probe_job *job);
void probe_natsmon_run_meta(probe_ctx *ctx, probe_job *job);
/* The series of one server's JetStream, routes and meta group, from the JSON both paths get
 * (/jsz, /routez of a monitor URL; the data of a system-account JSZ or ROUTEZ reply), so the
 * two paths give the same series. `where` names the source for messages. Route peers are
 * named through ids[k] -> names[k]; meta takes every server's JSZ (NULL: no answer). */
gg_status probe_series_jsz(probe_job *job, const char *server, json_t *jsz, const char *where);
gg_status probe_series_routez(probe_job *job, const char *server, json_t *routez, const char *const *ids,
                              const char *const *names, size_t n);
void probe_series_meta(probe_ctx *ctx, probe_job *job, json_t *const *jsz, const char *const *names, size_t n,
                       const char *where);
/* The `server` label for a monitor URL: the server's name when /varz answers, else host:port. */
void probe_natsmon_server_label(probe_ctx *ctx, const char *url, char *out, size_t n);

/* natssys.c: the server series through the system account. */
void probe_sys_run_ping(probe_ctx *ctx, probe_job *job);
void probe_sys_run_up(probe_ctx *ctx, probe_job *job);
void probe_sys_run_current(probe_ctx *ctx, probe_job *job);
void probe_sys_run_jsz(probe_ctx *ctx, probe_job *job);
void probe_sys_run_routez(probe_ctx *ctx, probe_job *job);
void probe_sys_run_meta(probe_ctx *ctx, probe_job *job);
/* Whether the plan names a system account (user or creds). */
bool probe_sys_configured(const probe_ctx *ctx);
/* Whether the server series of this evaluation come through the system account: it is
 * configured and there is no monitor URL, or none answers /varz (decided once per context). */
bool probe_sys_wanted(probe_ctx *ctx, double timeout);
void probe_sys_close(probe_ctx *ctx);

void probe_nats_run_account(probe_ctx *ctx, probe_job *job);
void probe_nats_run_streams(probe_ctx *ctx, probe_job *job);
void probe_nats_run_stream(probe_ctx *ctx, probe_job *job);
void probe_nats_run_subjects(probe_ctx *ctx, probe_job *job);
void probe_nats_run_consumers(probe_ctx *ctx, probe_job *job);
void probe_nats_run_consumer(probe_ctx *ctx, probe_job *job);
/* The shared JetStream context, connecting on first use. */
gg_status probe_nats_get_js(probe_ctx *ctx, jsCtx **js, natsConnection **nc, gg_error *err);
void probe_nats_close(probe_ctx *ctx);
/* "nats://127.0.0.1:4222,…" with credentials redacted, for messages. */
void probe_nats_servers_text(const probe_ctx *ctx, char *out, size_t n);

void probe_pg_run(probe_ctx *ctx, probe_job *job);
void probe_pg_run_sql(probe_ctx *ctx, probe_job *job);
void probe_pg_close_all(probe_ctx *ctx);

void probe_http_run_health(probe_ctx *ctx, probe_job *job);
void probe_http_run_scrape(probe_ctx *ctx, probe_job *job);
void probe_promql_run(probe_ctx *ctx, probe_job *job);
void probe_alerts_run(probe_ctx *ctx, probe_job *job);
void probe_files_run_age(probe_ctx *ctx, probe_job *job);
void probe_files_run_fs(probe_ctx *ctx, probe_job *job);

/* Lookups in cfg by name; NULL when unknown. */
const probe_target *probe_find_target(const probe_ctx *ctx, const char *name);
int probe_find_db(const probe_ctx *ctx, const char *name);

/* A GET with the job's timeout; a transport failure or non-2xx status is recorded in
 * job->err naming the URL. On GG_OK the caller owns resp. `what` names the request. */
#include "base/http.h"
gg_status probe_http_get(probe_job *job, const char *url, size_t max_body, gg_http_response *resp);

#endif
