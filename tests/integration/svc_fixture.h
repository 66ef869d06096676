/*
 * svc_fixture.h: what the pipeline integration tests share.
 *
 * The tests run against the sandbox that `make test` brings up (NATS_URL, PG_URL, and
 * GONOGO_BIN + GONOGO_SANDBOX_DIR for `gonogo sandbox pg-stop|pg-start`). Each test
 * creates its own streams and consumers (names carry the test's pid), starts
 * ingest-service and normalize-service as child processes on free ports, and removes all
 * of it at the end, also on failure (an atexit hook kills the children, and each child
 * dies with the test process through PR_SET_PDEATHSIG).
 */
#ifndef SVC_FIXTURE_H
#define SVC_FIXTURE_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Connect to NATS_URL and PG_URL; aborts the test (cmocka fail) when either is missing. */
void fx_init(void);
/* Close connections; delete the streams fx_stream_create made; kill children. */
void fx_cleanup(void);

jsCtx *fx_js(void);
const char *fx_nats_url(void);
const char *fx_pg_url(void);

/* A name unique to this test process: "<prefix>_<pid>". Static storage, one per call site:
 * copy it. */
const char *fx_name(const char *prefix, char *out, size_t n);

/* Create a stream (file storage, replicas 3 on a cluster, 1 on a single server) with these
 * subjects and dedupe window 2m; remembered for deletion at cleanup. */
void fx_stream_create(const char *name, const char *const *subjects, int nsubjects);
/* Replace a stream's subjects. Returns the natsStatus. */
natsStatus fx_stream_set_subjects(const char *name, const char *const *subjects, int nsubjects);
void fx_stream_delete(const char *name);
/* Messages in the stream (0 when it does not exist). */
uint64_t fx_stream_messages(const char *name);
/* Create a durable pull consumer (explicit ack, ack_wait 30s, max_deliver 5). */
void fx_consumer_create(const char *stream, const char *name, const char *filter);
/* The consumer's num_pending + num_ack_pending (-1 if it does not exist). */
long long fx_consumer_backlog(const char *stream, const char *name);

/* A running service. */
typedef struct {
  pid_t pid;
  uint16_t port;
  char base[64]; /* "http://127.0.0.1:PORT" */
  char log[256]; /* its stderr: /tmp/gonogo-service-logs/<binary>-<test pid>-<port>.log */
} fx_service;

/* Start a binary with extra "K=V" environment entries (NULL-terminated) plus `listen_var`
 * set to a free port; waits until GET /metrics answers (up to 20 s). */
void fx_service_start(fx_service *svc, const char *binary, const char *listen_var, const char *const *env);
/* SIGTERM, wait up to 20 s (then SIGKILL). Returns the exit status (or -1 if killed). */
int fx_service_stop(fx_service *svc);

/* HTTP through libcurl. headers: "Name: value" strings, NULL-terminated, may be NULL.
 * Returns the status (0 on transport error); *body (may be NULL) gets a malloc'd copy. */
long fx_http(const char *method, const char *url, const char *content_type, const char *data, size_t len,
             const char *const *headers, char **body);

/* A scalar from PostgreSQL (first column of the first row, as a number); -1 on error. */
long long fx_pg_scalar(const char *sql_fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a statement, true on success. */
bool fx_pg_exec(const char *sql_fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run `gonogo sandbox <verb> [arg] --dir $GONOGO_SANDBOX_DIR` (pg-stop, pg-start,
 * kill-node N, start-node N); arg may be NULL. */
void fx_sandbox(const char *verb, const char *arg);
/* The same, returning whether it worked instead of failing the test (for teardowns). */
bool fx_sandbox_try(const char *verb, const char *arg);

/* Poll `cond` every 50 ms until it holds or `seconds` pass; returns the last result. */
bool fx_wait_until(bool (*cond)(void *), void *arg, double seconds);

double fx_now(void);

/* Load: threads that post HRV readings to ingest-service's POST /v1/hrv until stopped, for
 * the tests that break something while clients keep posting. Event ids are
 * "<prefix><thread>-<n>", so the rows a load produced are counted by prefix. The struct
 * lives in the test (static storage); fields are read-only for it. */
#define FX_LOAD_THREADS_MAX 8
typedef struct fx_load fx_load;
typedef struct {
  fx_load *load;
  long id;
} fx_load_thread;
struct fx_load {
  char url[128];   /* "<ingest base>/v1/hrv" */
  char prefix[32]; /* of every event id */
  int nthreads;
  unsigned pause_us; /* between two posts of a thread */
  long max_posts;    /* per thread; 0: until stopped */
  atomic_bool posting;
  atomic_long accepted; /* answered 202 */
  atomic_long refused;  /* answered anything else, or not at all */
  pthread_t threads[FX_LOAD_THREADS_MAX];
  fx_load_thread args[FX_LOAD_THREADS_MAX];
};

/* Start `threads` posters (1..FX_LOAD_THREADS_MAX) against ingest (borrowed for the
 * call); fails the test if one cannot start. */
void fx_load_start(fx_load *load, const fx_service *ingest, const char *prefix, int threads,
                   unsigned pause_us, long max_posts);
/* Tell the posters to stop and join them. */
void fx_load_stop(fx_load *load);
/* Rows in hrv_data whose msg_id starts with the load's prefix (-1 on error). */
long long fx_load_rows(fx_load *load);
/* Wait up to `seconds` until hrv_data holds exactly one row per accepted post; fails the
 * test with both counts otherwise. */
void fx_load_expect_all_stored(fx_load *load, double seconds);

#endif
