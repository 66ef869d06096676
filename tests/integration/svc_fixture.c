#include "svc_fixture.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_STREAMS 16
#define MAX_CHILDREN 8

static natsConnection *nc;
static jsCtx *js;
static PGconn *pg;
static const char *nats_url, *pg_url;
static char streams[MAX_STREAMS][64];
static int nstreams;
static pid_t children[MAX_CHILDREN];
static bool atexit_set;

double fx_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void kill_children(void) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] > 0) {
      kill(children[i], SIGKILL);
      waitpid(children[i], NULL, 0);
      children[i] = 0;
    }
  }
}

void fx_init(void) {
  if (!atexit_set) {
    atexit(kill_children);
    atexit_set = true;
  }
  nats_url = getenv("NATS_URL");
  pg_url = getenv("PG_URL");
  if (!nats_url || !pg_url) fail_msg("NATS_URL and PG_URL must be set (run under the sandbox: make test)");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  natsStatus s = natsConnection_ConnectTo(&nc, nats_url); /* takes a comma-separated list */
  if (s != NATS_OK) fail_msg("connect to NATS '%s': %s", nats_url, natsStatus_GetText(s));
  assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
  pg = PQconnectdb(pg_url);
  if (PQstatus(pg) != CONNECTION_OK) fail_msg("connect to PostgreSQL: %s", PQerrorMessage(pg));
}

void fx_cleanup(void) {
  kill_children();
  for (int i = 0; i < nstreams; i++) fx_stream_delete(streams[i]);
  nstreams = 0;
  jsCtx_Destroy(js);
  js = NULL;
  if (nc) natsConnection_Destroy(nc);
  nc = NULL;
  PQfinish(pg);
  pg = NULL;
  curl_global_cleanup();
}

jsCtx *fx_js(void) {
  return js;
}

const char *fx_nats_url(void) {
  return nats_url;
}

const char *fx_pg_url(void) {
  return pg_url;
}

const char *fx_name(const char *prefix, char *out, size_t n) {
  snprintf(out, n, "%s_%d", prefix, (int)getpid());
  return out;
}

void fx_stream_create(const char *name, const char *const *subjects, int nsubjects) {
  for (int replicas = 3; replicas >= 1; replicas -= 2) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = (const char **)subjects;
    cfg.SubjectsLen = nsubjects;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    cfg.Duplicates = (int64_t)120 * 1000000000;
    jsStreamInfo *si = NULL;
    jsErrCode code = 0;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &code);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK) {
      if (nstreams < MAX_STREAMS) snprintf(streams[nstreams++], sizeof streams[0], "%s", name);
      return;
    }
    if (replicas == 1)
      fail_msg("create stream %s: %s (jserr %d; %s)", name, natsStatus_GetText(s), (int)code,
               nats_GetLastError(NULL));
  }
}

natsStatus fx_stream_set_subjects(const char *name, const char *const *subjects, int nsubjects) {
  jsStreamInfo *si = NULL;
  jsErrCode code = 0;
  natsStatus s = js_GetStreamInfo(&si, js, name, NULL, &code);
  if (s != NATS_OK) return s;
  const char **saved = si->Config->Subjects;
  int saved_len = si->Config->SubjectsLen;
  si->Config->Subjects = (const char **)subjects;
  si->Config->SubjectsLen = nsubjects;
  jsStreamInfo *out = NULL;
  s = js_UpdateStream(&out, js, si->Config, NULL, &code);
  si->Config->Subjects = saved;
  si->Config->SubjectsLen = saved_len;
  jsStreamInfo_Destroy(out);
  jsStreamInfo_Destroy(si);
  return s;
}

void fx_stream_delete(const char *name) {
  if (js) js_DeleteStream(js, name, NULL, NULL);
}

uint64_t fx_stream_messages(const char *name) {
  jsStreamInfo *si = NULL;
  if (js_GetStreamInfo(&si, js, name, NULL, NULL) != NATS_OK) return 0;
  uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

void fx_consumer_create(const char *stream, const char *name, const char *filter) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = name;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = (int64_t)30 * 1000000000;
  cc.MaxDeliver = 5;
  cc.MaxAckPending = 20000;
  cc.FilterSubject = filter;
  jsConsumerInfo *ci = NULL;
  jsErrCode code = 0;
  natsStatus s = js_AddConsumer(&ci, js, stream, &cc, NULL, &code);
  jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK)
    fail_msg("create consumer %s/%s: %s (jserr %d)", stream, name, natsStatus_GetText(s), (int)code);
}

long long fx_consumer_backlog(const char *stream, const char *name) {
  jsConsumerInfo *ci = NULL;
  if (js_GetConsumerInfo(&ci, js, stream, name, NULL, NULL) != NATS_OK) return -1;
  long long n = (long long)ci->NumPending + (long long)ci->NumAckPending;
  jsConsumerInfo_Destroy(ci);
  return n;
}

static uint16_t free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

void fx_service_start(fx_service *svc, const char *binary, const char *listen_var, const char *const *env) {
  memset(svc, 0, sizeof *svc);
  svc->port = free_port();
  snprintf(svc->base, sizeof svc->base, "http://127.0.0.1:%u", (unsigned)svc->port);
  const char *slash = strrchr(binary, '/');
  mkdir("/tmp/gonogo-service-logs", 0755);
  snprintf(svc->log, sizeof svc->log, "/tmp/gonogo-service-logs/%s-%d-%u.log", slash ? slash + 1 : binary,
           (int)getpid(), (unsigned)svc->port);
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)svc->port);
  pid_t parent = getpid();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(svc->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    setenv(listen_var, listen, 1);
    for (size_t i = 0; env && env[i]; i++) {
      const char *eq = strchr(env[i], '=');
      if (!eq) continue;
      char key[128];
      snprintf(key, sizeof key, "%.*s", (int)(eq - env[i]), env[i]);
      setenv(key, eq + 1, 1);
    }
    execl(binary, binary, (char *)NULL);
    _exit(127);
  }
  svc->pid = pid;
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] == 0) {
      children[i] = pid;
      break;
    }
  }
  char url[128];
  snprintf(url, sizeof url, "%s/metrics", svc->base);
  double until = fx_now() + 20;
  while (fx_now() < until) {
    if (fx_http("GET", url, NULL, NULL, 0, NULL, NULL) == 200) return;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid) children[i] = 0;
      svc->pid = 0;
      fail_msg("%s exited during start (status %d); see %s", binary, status, svc->log);
    }
    usleep(50 * 1000);
  }
  fail_msg("%s did not answer on %s within 20s; see %s", binary, url, svc->log);
}

int fx_service_stop(fx_service *svc) {
  if (svc->pid <= 0) return -1;
  kill(svc->pid, SIGTERM);
  int status = 0;
  double until = fx_now() + 20;
  pid_t r = 0;
  while ((r = waitpid(svc->pid, &status, WNOHANG)) == 0 && fx_now() < until) usleep(20 * 1000);
  if (r == 0) {
    kill(svc->pid, SIGKILL);
    waitpid(svc->pid, &status, 0);
  }
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i] == svc->pid) children[i] = 0;
  svc->pid = 0;
  return r != 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct {
  char *data;
  size_t len;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *arg) {
  sink *s = arg;
  size_t add = size * n;
  char *d = realloc(s->data, s->len + add + 1);
  if (!d) return 0;
  memcpy(d + s->len, p, add);
  s->len += add;
  d[s->len] = '\0';
  s->data = d;
  return add;
}

long fx_http(const char *method, const char *url, const char *content_type, const char *data, size_t len,
             const char *const *headers, char **body) {
  CURL *c = curl_easy_init();
  if (!c) return 0;
  struct curl_slist *hl = NULL;
  char ct[128];
  if (content_type) {
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    hl = curl_slist_append(hl, ct);
  } else if (data) {
    hl = curl_slist_append(hl, "Content-Type:");
  }
  hl = curl_slist_append(hl, "Expect:");
  for (size_t i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
  sink s = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  if (data) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
  }
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  if (body)
    *body = s.data ? s.data : strdup("");
  else
    free(s.data);
  return status;
}

static PGresult *pg_run(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static PGresult *pg_run(const char *fmt, va_list ap) {
  char sql[4096];
  vsnprintf(sql, sizeof sql, fmt, ap);
  if (PQstatus(pg) != CONNECTION_OK) PQreset(pg);
  return PQexec(pg, sql);
}

long long fx_pg_scalar(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = pg_run(fmt, ap);
  va_end(ap);
  long long v = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  else if (PQresultStatus(r) != PGRES_TUPLES_OK)
    print_message("pg: %s", PQresultErrorMessage(r));
  PQclear(r);
  return v;
}

bool fx_pg_exec(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = pg_run(fmt, ap);
  va_end(ap);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

bool fx_sandbox_try(const char *verb, const char *arg) {
  const char *bin = getenv("GONOGO_BIN");
  const char *dir = getenv("GONOGO_SANDBOX_DIR");
  if (!bin || !dir) return false;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (arg)
      execl(bin, bin, "sandbox", verb, arg, "--dir", dir, (char *)NULL);
    else
      execl(bin, bin, "sandbox", verb, "--dir", dir, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void fx_sandbox(const char *verb, const char *arg) {
  if (!getenv("GONOGO_BIN") || !getenv("GONOGO_SANDBOX_DIR"))
    fail_msg("GONOGO_BIN and GONOGO_SANDBOX_DIR must be set to run 'sandbox %s'", verb);
  if (!fx_sandbox_try(verb, arg))
    fail_msg("'gonogo sandbox %s %s --dir %s' failed", verb, arg ? arg : "", getenv("GONOGO_SANDBOX_DIR"));
}

bool fx_wait_until(bool (*cond)(void *), void *arg, double seconds) {
  double until = fx_now() + seconds;
  for (;;) {
    if (cond(arg)) return true;
    if (fx_now() >= until) return false;
    usleep(50 * 1000);
  }
}

static void *load_post(void *arg) {
  fx_load_thread *t = arg;
  fx_load *l = t->load;
  for (long n = 0; atomic_load(&l->posting) && (l->max_posts == 0 || n < l->max_posts); n++) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"event_id\":\"%s%ld-%ld\",\"athlete_id\":\"ath%ld\",\"measured_at\":\"2026-11-28T07:00:00Z\","
             "\"rmssd_ms\":%ld,\"source\":\"it\"}",
             l->prefix, t->id, n, n % 5, 20 + n % 50);
    long st = fx_http("POST", l->url, "application/json", body, strlen(body), NULL, NULL);
    if (st == 202)
      atomic_fetch_add(&l->accepted, 1);
    else
      atomic_fetch_add(&l->refused, 1);
    if (l->pause_us) usleep(l->pause_us);
  }
  return NULL;
}

void fx_load_start(fx_load *load, const fx_service *ingest, const char *prefix, int threads,
                   unsigned pause_us, long max_posts) {
  assert_true(threads >= 1 && threads <= FX_LOAD_THREADS_MAX);
  snprintf(load->url, sizeof load->url, "%s/v1/hrv", ingest->base);
  snprintf(load->prefix, sizeof load->prefix, "%s", prefix);
  load->nthreads = 0;
  load->pause_us = pause_us;
  load->max_posts = max_posts;
  atomic_store(&load->accepted, 0);
  atomic_store(&load->refused, 0);
  atomic_store(&load->posting, true);
  for (int i = 0; i < threads; i++) {
    load->args[i] = (fx_load_thread){load, i};
    if (pthread_create(&load->threads[i], NULL, load_post, &load->args[i]) != 0) {
      fx_load_stop(load);
      fail_msg("cannot start poster thread %d", i);
    }
    load->nthreads++;
  }
}

void fx_load_stop(fx_load *load) {
  atomic_store(&load->posting, false);
  for (int i = 0; i < load->nthreads; i++) pthread_join(load->threads[i], NULL);
  load->nthreads = 0;
}

long long fx_load_rows(fx_load *load) {
  return fx_pg_scalar("SELECT count(*) FROM hrv_data WHERE msg_id LIKE '%s%%'", load->prefix);
}

static bool load_all_stored(void *arg) {
  fx_load *load = arg;
  return fx_load_rows(load) == atomic_load(&load->accepted);
}

void fx_load_expect_all_stored(fx_load *load, double seconds) {
  if (!fx_wait_until(load_all_stored, load, seconds))
    fail_msg("rows %lld, accepted %ld", fx_load_rows(load), atomic_load(&load->accepted));
}
