/*
 * rehearse.c: rehearse_run (see rehearse.h): the sandbox, the services and the traffic around
 * the phases (phase.c), then the count of every id and the rehearsal's journal events.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act/seed.h"
#include "base/clock.h"
#include "base/http.h"
#include "base/units.h"
#include "gate/env.h"
#include "rehearse/internal.h"

#define OUTCOME_MAP(X) X(PASSED, "passed") X(FAILED, "failed") X(SKIPPED, "skipped")

const char *rehearse_outcome_name(rehearse_outcome o) {
  switch (o) {
#define OUTCOME_CASE(name, text) \
  case REHEARSE_##name:          \
    return text;
    OUTCOME_MAP(OUTCOME_CASE)
#undef OUTCOME_CASE
  }
  return "?";
}

void rehearse_say(reh *h, const char *fmt, ...) {
  if (!h->o->progress) return;
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  h->o->progress(h->o->ud, line);
}

void rehearse_on_progress(void *ud, const char *line) {
  reh *h = ud;
  if (h->o->progress) h->o->progress(h->o->ud, line);
}

static void sandbox_line(void *ud, const char *line) {
  rehearse_say(ud, "sandbox: %s", line);
}

/* ---- the sandbox and the services ------------------------------------------------------------ */

static gg_status make_dir(reh *h, gg_error *err) {
  if (h->o->dir) {
    snprintf(h->r->dir, sizeof h->r->dir, "%s", h->o->dir);
    return GG_OK;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(h->r->dir, sizeof h->r->dir, "%s/gg-rehearse.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(h->r->dir)) return gg_error_set(err, GG_ERR_IO, "create a directory '%s'", h->r->dir);
  return GG_OK;
}

/* The sandbox's nats-server version, from a node's /varz. */
static void nats_version(reh *h) {
  snprintf(h->r->nats_version, sizeof h->r->nats_version, "unknown");
  const char *mon = rehearse_env_lookup("NATS_MONITOR_URLS", &h->env);
  if (!mon || !*mon) return;
  char url[256];
  snprintf(url, sizeof url, "%.*s/varz", (int)strcspn(mon, ","), mon);
  gg_http_opts o = {.timeout = 5};
  gg_http_response resp = {0};
  gg_error e;
  gg_error_clear(&e);
  if (gg_http_get(url, &o, &resp, &e) != GG_OK) return;
  json_t *v = json_loads(resp.body, 0, NULL);
  const char *ver = json_string_value(json_object_get(v, "version"));
  if (ver) snprintf(h->r->nats_version, sizeof h->r->nats_version, "%s", ver);
  json_decref(v);
  gg_http_response_release(&resp);
}

static gg_status start_sandbox(reh *h, gg_error *err) {
  gg_status st = make_dir(h, err);
  if (st != GG_OK) return st;
  h->so =
      (sandbox_opts){.dir = h->r->dir, .nodes = 3, .timeout = 60, .progress = sandbox_line, .progress_ud = h};
  rehearse_say(h, "sandbox: starting in %s", h->r->dir);
  bool already = false;
  st = sandbox_up(&h->so, &already, err);
  if (st != GG_OK) return gg_error_prefix(err, "rehearsal sandbox: ");
  h->sandbox_started = true;
  char *text = NULL;
  st = sandbox_env_text(&h->so, &text, err);
  if (st == GG_OK) st = rehearse_env_parse(&h->env, text, err);
  free(text);
  if (st != GG_OK) return st;
  const char *pg = rehearse_env_lookup("PG_URL", &h->env);
  snprintf(h->pg_url, sizeof h->pg_url, "%s", pg ? pg : "");
  nats_version(h);
  return GG_OK;
}

/* The services' ports, chosen before the plan is loaded again: its targets name them. */
static gg_status pick_ports(reh *h, gg_error *err) {
  h->ingest_port = rehearse_free_port();
  h->normalize_port = rehearse_free_port();
  if (h->ingest_port < 0 || h->normalize_port < 0 || h->ingest_port == h->normalize_port)
    return gg_error_set(err, GG_ERR_SYSTEM, "no free loopback ports for the services");
  char url[128], name[32];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", h->ingest_port);
  gg_status st = rehearse_env_set(&h->env, "INGEST_URL", url, err);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", h->normalize_port);
  if (st == GG_OK) st = rehearse_env_set(&h->env, "NORMALIZE_URL", url, err);
  snprintf(url, sizeof url, "%d", h->ingest_port);
  if (st == GG_OK) st = rehearse_env_set(&h->env, "INGEST_PORT", url, err);
  snprintf(url, sizeof url, "%d", h->normalize_port);
  if (st == GG_OK) st = rehearse_env_set(&h->env, "NORMALIZE_PORT", url, err);
  /* Spare ports for the plan's own rehearsal.services. */
  for (int i = 1; st == GG_OK && i <= REHEARSE_SPARE_PORTS; i++) {
    int port = rehearse_free_port();
    if (port < 0) return gg_error_set(err, GG_ERR_SYSTEM, "no free loopback port for REHEARSAL_PORT_%d", i);
    snprintf(name, sizeof name, "REHEARSAL_PORT_%d", i);
    snprintf(url, sizeof url, "%d", port);
    st = rehearse_env_set(&h->env, name, url, err);
  }
  return st;
}

/* After the seed: normalize-service is healthy once a binding it consumes from exists. The
 * plan's own rehearsal.services instead when it names some. */
static gg_status start_services(reh *h, gg_error *err) {
  gg_status st = rehearse_targets(h, err);
  if (st != GG_OK) return st;
  if (h->p->rehearsal.nservices) {
    h->envp = rehearse_env_environ(&h->env, NULL);
    if (!h->envp) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    return rehearse_commands_start(h, err);
  }
  char ingest[1024], normalize[1024];
  st = rehearse_find_program(h->o->bindir, "ingest", "ingest-service", ingest, sizeof ingest, err);
  if (st == GG_OK)
    st = rehearse_find_program(h->o->bindir, "normalize", "normalize-service", normalize, sizeof normalize,
                               err);
  if (st != GG_OK) return st;
  h->envp = rehearse_env_environ(&h->env, NULL);
  if (!h->envp) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  st = rehearse_service_start(&h->normalize, "normalize-service", normalize, "NORMALIZE_LISTEN",
                              h->normalize_port, h->envp, h->r->dir, err);
  if (st == GG_OK)
    st = rehearse_service_start(&h->ingest, "ingest-service", ingest, "INGEST_LISTEN", h->ingest_port,
                                h->envp, h->r->dir, err);
  if (st != GG_OK) return st;
  rehearse_say(h, "services: ingest-service :%d, normalize-service :%d (logs in %s)", h->ingest.port,
               h->normalize.port, h->r->dir);
  return st;
}

/* The plan again, with the sandbox's settings; the topology made buildable; soaks compressed. */
static gg_status load_plan(reh *h, const char *path, gg_error *err) {
  plan_load_opts lo = {.lookup = rehearse_env_lookup, .ctx = &h->env};
  plan_diags d;
  plan_diags_init(&d);
  gg_status st = plan_load_file(path, &lo, &h->p, &d, err);
  plan_diags_release(&d);
  if (st != GG_OK) return gg_error_prefix(err, "load '%s' with the sandbox's settings: ", path);
  st = rehearse_topology_adapt(h->p, h->live, h->o->from_live, h->so.nodes, &h->r->adjustments,
                               &h->r->nadjustments, err);
  if (st != GG_OK) return st;
  for (size_t i = 0; i < h->r->nadjustments; i++) rehearse_say(h, "topology: %s", h->r->adjustments[i]);
  for (size_t i = 0; i < h->p->nphases; i++)
    for (size_t k = 0; k < h->p->phases[i].nrequires; k++)
      if (h->p->phases[i].requires[k].stable_for > h->o->soak)
  h->p->phases[i].requires[k].stable_for = h->o->soak;
  char jpath[600];
  snprintf(jpath, sizeof jpath, "%s/rehearsal.db", h->r->dir);
  return journal_open(jpath, JOURNAL_OPEN_CREATE, &h->j, err);
}

/* ---- the status line ----------------------------------------------------------------------------- */

typedef struct {
  reh *h;
  atomic_bool stop;
  pthread_t thread;
} ticker;

static void *tick(void *arg) {
  ticker *t = arg;
  reh *h = t->h;
  long last = 0;
  double last_t = gg_clock_mono();
  while (!atomic_load(&t->stop)) {
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    long acc = rehearse_traffic_accepted(h->traffic),
         rows = rehearse_count_rows_quick(h->count_url, h->p->rehearsal.consumed_sql, h->prefix);
    double now = gg_clock_mono(), rate = (double)(acc - last) / fmax(now - last_t, 0.001);
    last = acc;
    last_t = now;
    size_t done = (size_t)h->current, total = h->p->nphases;
    if (total == 0) continue;
    char eta[32] = "?";
    if (done > 0) gg_format_duration((now - h->t0) / (double)done * (double)(total - done), eta, sizeof eta);
    char line[300];
    snprintf(line, sizeof line, "phase %s (%zu/%zu) %s: %ld published, %ld pending, %.0f msg/s, ETA %s",
             h->p->phases[done < total ? done : total - 1].id, done + 1, total, h->step ? h->step : "", acc,
             rows >= 0 ? acc - rows : -1, rate, eta);
    h->o->status(h->o->ud, line);
  }
  return NULL;
}

/* ---- the cluster --------------------------------------------------------------------------------- */

static gg_status connect_sandbox(reh *h, natsConnection **nc, jsCtx **js, gg_error *err) {
  const char *url = rehearse_env_lookup("NATS_URL", &h->env);
  natsStatus s = natsConnection_ConnectTo(nc, url ? url : "");
  if (s == NATS_OK) s = natsConnection_JetStream(js, *nc, NULL);
  if (s != NATS_OK) {
    natsConnection_Destroy(*nc);
    *nc = NULL;
    return gg_error_set(err, GG_ERR_CONNECT, "connect to the rehearsal's NATS: %s", natsStatus_GetText(s));
  }
  return GG_OK;
}

int rehearse_busiest_node(reh *h, char *name, size_t n) {
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (connect_sandbox(h, &nc, &js, &err) != GG_OK) return 0;
  int count[SANDBOX_MAX_NODES + 1] = {0};
  for (size_t i = 0; i < h->p->topology.nstreams; i++) {
    jsStreamInfo *si = NULL;
    if (js_GetStreamInfo(&si, js, h->p->topology.streams[i].name, NULL, NULL) == NATS_OK && si->Cluster &&
        si->Cluster->Leader && si->Cluster->Leader[0] == 'n') {
      long k = strtol(si->Cluster->Leader + 1, NULL, 10);
      if (k >= 1 && k <= SANDBOX_MAX_NODES) count[k]++;
    }
    jsStreamInfo_Destroy(si);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  int best = 0;
  for (int k = 1; k <= SANDBOX_MAX_NODES; k++)
    if (count[k] > (best ? count[best] : 0)) best = k;
  if (best) snprintf(name, n, "n%d", best);
  return best;
}

/* Whether every replica of `stream` is online and current. */
static bool replicas_current(jsCtx *js, const char *stream) {
  jsStreamInfo *si = NULL;
  if (js_GetStreamInfo(&si, js, stream, NULL, NULL) != NATS_OK) return false;
  bool ok = si->Cluster && si->Cluster->Leader && si->Cluster->Leader[0];
  int listed = ok ? 1 + si->Cluster->ReplicasLen : 0;
  for (int i = 0; ok && i < si->Cluster->ReplicasLen; i++)
    ok = si->Cluster->Replicas[i]->Current && !si->Cluster->Replicas[i]->Offline;
  ok = ok && listed >= (int)si->Config->Replicas;
  jsStreamInfo_Destroy(si);
  return ok;
}

/* A cluster just started can have every /healthz ok and still see a peer as offline for a
 * while, refusing an R3 stream "no suitable peers for placement": wait (up to 60 s) until
 * every replica of the seeded streams is online and current. */
static void wait_cluster_ready(reh *h) {
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (connect_sandbox(h, &nc, &js, &err) != GG_OK) return;
  double until = gg_clock_mono() + 60;
  bool said = false;
  for (;;) {
    bool ready = true;
    for (size_t i = 0; ready && i < h->p->topology.nstreams; i++)
      if (h->p->topology.streams[i].existing) ready = replicas_current(js, h->p->topology.streams[i].name);
    if (ready || gg_clock_mono() >= until) {
      if (!ready) rehearse_say(h, "warning: the legacy streams' replicas are not all current after 60 s");
      break;
    }
    if (!said) rehearse_say(h, "waiting for every replica of the legacy streams to be current");
    said = true;
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

/* ---- the count ----------------------------------------------------------------------------------- */

/* Wait until the sink holds a row for every accepted id, or nothing moves for 20 s. */
static void drain_sink(reh *h) {
  long want = rehearse_traffic_accepted(h->traffic), last = -1;
  double still_since = gg_clock_mono();
  rehearse_say(h, "traffic stopped: waiting for the sink to hold the %ld accepted ids", want);
  for (;;) {
    long rows = rehearse_count_rows_quick(h->count_url, h->p->rehearsal.consumed_sql, h->prefix);
    if (rows >= want) return;
    if (rows != last) {
      last = rows;
      still_since = gg_clock_mono();
    } else if (gg_clock_mono() - still_since > 20) {
      rehearse_say(h, "the sink stopped at %ld rows of %ld", rows, want);
      return;
    }
    struct timespec ts = {0, 250 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static void name_id(rehearse_phase *rp, bool lost, const char *prefix, size_t k) {
  char **list = lost ? rp->lost_ids : rp->dup_ids;
  size_t *n = lost ? &rp->nlost_ids : &rp->ndup_ids;
  if (*n >= REHEARSE_IDS_NAMED) return;
  char id[96];
  snprintf(id, sizeof id, "%s%zu", prefix, k);
  list[*n] = strdup(id);
  if (list[*n]) (*n)++;
}

static gg_status count(reh *h, gg_error *err) {
  size_t n = 0;
  rehearse_id *ids = rehearse_traffic_ids(h->traffic, &n);
  long rows = 0;
  gg_status st =
      rehearse_count_rows(h->count_url, h->p->rehearsal.consumed_sql, h->prefix, ids, n, &rows, err);
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  if (st == GG_OK) st = connect_sandbox(h, &nc, &js, err);
  for (size_t i = 0; st == GG_OK && i < h->p->topology.nstreams; i++)
    st = rehearse_count_copies(nc, js, h->p->topology.streams[i].name, h->prefix, ids, n, err);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  if (st != GG_OK) return st;
  long copies = 0;
  for (size_t k = 0; k < n; k++) copies += ids[k].copies;
  rehearse_say(h, "counted: %ld ids consumed (%s), %ld copies in the plan's streams", rows,
               h->p->rehearsal.consumed_sql ? "rehearsal.consumed.sql" : "rows in hrv_data", copies);
  rehearse_result *r = h->r;
  for (size_t k = 0; k < n; k++) {
    rehearse_phase *rp = &r->phases[ids[k].phase < r->nphases ? ids[k].phase : r->nphases - 1];
    if (ids[k].state == REH_ID_REFUSED) rp->refused++;
    if (ids[k].state != REH_ID_ACCEPTED) continue;
    rp->published++;
    if (ids[k].rows) rp->consumed++;
    if (!ids[k].rows) {
      rp->lost++;
      name_id(rp, true, h->prefix, k);
    }
    if (ids[k].copies > 1) {
      rp->duplicated++;
      name_id(rp, false, h->prefix, k);
    }
  }
  for (size_t i = 0; i < r->nphases; i++) {
    rehearse_phase *rp = &r->phases[i];
    r->published += rp->published;
    r->consumed += rp->consumed;
    r->lost += rp->lost;
    r->duplicated += rp->duplicated;
    r->refused += rp->refused;
    if ((rp->lost || rp->duplicated) && rp->outcome == REHEARSE_PASSED) {
      rp->outcome = REHEARSE_FAILED;
      char line[256];
      snprintf(line, sizeof line, "%ld lost, %ld duplicated", rp->lost, rp->duplicated);
      rp->failure = strdup(line);
    }
  }
  return GG_OK;
}

/* The rate the plan's probes see on the live legacy streams (messages per second), or 0 when
 * they cannot say (nothing reachable, no legacy stream): two fresh samples 3 s apart. */
static double live_rate(reh *h) {
  char text[2048] = "sum(rate(nats.stream.last_seq{stream=~\"";
  size_t len = strlen(text), named = 0;
  for (size_t i = 0; i < h->live->topology.nstreams && len < sizeof text - 64; i++)
    if (h->live->topology.streams[i].existing)
      len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", named++ ? "|" : "",
                              h->live->topology.streams[i].name);
  if (!named) return 0;
  snprintf(text + len, sizeof text - len, "\"}, 1m))");
  expr_node *ast = NULL;
  gate_env *env = NULL;
  gg_error err;
  gg_error_clear(&err);
  double rate = 0;
  if (expr_parse(text, &ast, NULL, &err) == GG_OK && gate_env_new(h->live, NULL, &env, &err) == GG_OK) {
    expr_value v;
    expr_value_init(&v);
    if (gate_eval(env, ast, gg_clock_now(), 3, &v, &err) == GG_OK)
      rate = v.kind == EXPR_VAL_NUM ? v.num : v.kind == EXPR_VAL_VEC && v.vec.n == 1 ? v.vec.v[0].value : 0;
    else
      rehearse_say(h, "traffic: the live rate is unknown (%s)", gg_error_message(&err));
    expr_value_release(&v);
  }
  gate_env_free(env);
  expr_free(ast);
  return isfinite(rate) && rate > 0 ? rate : 0;
}

/* --rate, else the live rate (at least REHEARSE_MIN_RATE), else REHEARSE_DEFAULT_RATE. */
static double choose_rate(reh *h) {
  if (h->o->rate > 0) return h->o->rate;
  double live = live_rate(h);
  if (live <= 0) return REHEARSE_DEFAULT_RATE;
  rehearse_say(h, "traffic: the live legacy streams take %.1f msg/s", live);
  return live < REHEARSE_MIN_RATE ? REHEARSE_MIN_RATE : live;
}

/* ---- the whole rehearsal ---------------------------------------------------------------------- */

static gg_status init_result(reh *h, gg_error *err) {
  rehearse_result *r = h->r;
  r->phases = calloc(h->p->nphases ? h->p->nphases : 1, sizeof *r->phases);
  if (!r->phases) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  r->nphases = h->p->nphases;
  for (size_t i = 0; i < r->nphases; i++) {
    r->phases[i].phase = strdup(h->p->phases[i].id);
    r->phases[i].name = strdup(h->p->phases[i].name ? h->p->phases[i].name : "");
    r->phases[i].gap_ms = -1;
    r->phases[i].rollback_s = -1;
    r->phases[i].carried_back = -1;
    r->phases[i].outcome = REHEARSE_SKIPPED;
  }
  return GG_OK;
}

/* The last phase that moves subjects: its second cutover is the one with a node killed. */
static size_t kill_phase(const plan *p) {
  size_t at = SIZE_MAX;
  for (size_t i = 0; i < p->nphases; i++)
    for (size_t k = 0; k < p->phases[i].nactions; k++)
      if (p->phases[i].actions[k].kind == PLAN_ACT_MOVE_SUBJECTS) at = i;
  return at;
}

static void phases(reh *h) {
  size_t killed = kill_phase(h->p);
  for (size_t i = 0; i < h->p->nphases; i++) {
    rehearse_phase *rp = &h->r->phases[i];
    rehearse_do_phase(h, i, i == killed);
    if (rp->outcome == REHEARSE_FAILED) {
      for (size_t k = i + 1; k < h->p->nphases; k++) {
        char line[128];
        snprintf(line, sizeof line, "not rehearsed: phase %s failed", rp->phase);
        h->r->phases[k].failure = strdup(line);
      }
      break;
    }
  }
}

static void teardown(reh *h) {
  rehearse_traffic_free(h->traffic);
  h->traffic = NULL;
  rehearse_commands_stop(h);
  rehearse_service_stop(&h->ingest);
  rehearse_service_stop(&h->normalize);
  journal_close(h->j);
  h->j = NULL;
  if (h->sandbox_started && !h->o->keep) {
    gg_error e;
    gg_error_clear(&e);
    if (sandbox_down(&h->so, &e) != GG_OK) rehearse_say(h, "warning: sandbox down: %s", gg_error_message(&e));
    if (!h->o->dir && h->failed_setup) {
      rehearse_say(h, "kept for its logs: %s", h->r->dir);
    } else if (!h->o->dir) {
      char cmd[700];
      snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->r->dir);
      if (system(cmd) != 0) rehearse_say(h, "warning: could not remove '%s'", h->r->dir);
    }
  } else if (h->sandbox_started) {
    rehearse_say(h, "kept: the sandbox in %s (gonogo sandbox down --dir %s)", h->r->dir, h->r->dir);
  }
  rehearse_env_free_environ(h->envp);
  rehearse_env_release(&h->env);
  plan_free(h->p);
}

gg_status rehearse_run(const plan *live, const char *path, const rehearse_opts *opts, rehearse_result *r,
                       gg_error *err) {
  memset(r, 0, sizeof *r);
  reh h = {.o = opts, .live = live, .r = r, .t0 = gg_clock_mono()};
  r->rate = choose_rate(&h);
  snprintf(h.prefix, sizeof h.prefix, "rehearse-%ld-%ld-", (long)getpid(), (long)gg_clock_now());
  gg_status st = start_sandbox(&h, err);
  if (st == GG_OK) st = pick_ports(&h, err);
  if (st == GG_OK) st = load_plan(&h, path, err);
  if (st == GG_OK) st = init_result(&h, err);
  if (st == GG_OK) st = act_seed_existing(h.p, rehearse_on_progress, &h, err);
  if (st == GG_OK) wait_cluster_ready(&h);
  if (st == GG_OK) st = start_services(&h, err);
  if (st == GG_OK)
    st = rehearse_traffic_start(h.publish_url, h.p->rehearsal.publish_body, h.prefix, r->rate, &h.traffic,
                                err);
  if (st != GG_OK) {
    h.failed_setup = true;
    teardown(&h);
    return st;
  }
  if (h.p->rehearsal.publish_url)
    rehearse_say(&h, "traffic: %.0f messages/s to rehearsal.publish.url, ids %s<n>", r->rate, h.prefix);
  else
    rehearse_say(&h, "traffic: %.0f HRV readings/s through ingest-service, ids %s<n>", r->rate, h.prefix);
  ticker t = {.h = &h};
  bool ticking = opts->status && pthread_create(&t.thread, NULL, tick, &t) == 0;
  phases(&h);
  if (ticking) {
    atomic_store(&t.stop, true);
    pthread_join(t.thread, NULL);
  }
  rehearse_traffic_stop(h.traffic);
  drain_sink(&h);
  /* A command that exited under way makes the count meaningless: an error naming it. */
  st = rehearse_commands_check(&h, err);
  if (st == GG_OK) st = count(&h, err);
  r->passed = st == GG_OK && r->lost == 0 && r->duplicated == 0;
  for (size_t i = 0; i < r->nphases; i++)
    if (r->phases[i].outcome == REHEARSE_FAILED ||
        (r->phases[i].outcome == REHEARSE_SKIPPED && r->phases[i].failure &&
         strncmp(r->phases[i].failure, "not rehearsed", 13) == 0))
      r->passed = false;
  r->elapsed = gg_clock_mono() - h.t0;
  teardown(&h);
  return st;
}

void rehearse_result_release(rehearse_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nphases; i++) {
    rehearse_phase *rp = &r->phases[i];
    free(rp->phase);
    free(rp->name);
    free(rp->failure);
    free(rp->check);
    free(rp->node_killed);
    rehearse_list_free(rp->not_enforced, rp->nnot_enforced);
    for (size_t k = 0; k < rp->nlost_ids; k++) free(rp->lost_ids[k]);
    for (size_t k = 0; k < rp->ndup_ids; k++) free(rp->dup_ids[k]);
  }
  free(r->phases);
  rehearse_list_free(r->adjustments, r->nadjustments);
  memset(r, 0, sizeof *r);
}

/* ---- the journal ---------------------------------------------------------------------------------- */

static json_t *strings(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *num_or_null(double v) {
  return v < 0 ? json_null() : json_real(round(v * 1000) / 1000);
}

gg_status rehearse_journal(journal *j, const plan *live, const rehearse_result *r, double soak,
                           gg_error *err) {
  for (size_t i = 0; i < r->nphases; i++) {
    const rehearse_phase *rp = &r->phases[i];
    json_t *c = json_pack(
        "{s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:s?, s:s?, s:o, s:f, "
        "s:f, s:s, s:o, s:f}",
        "plan_hash", live->hash, "result", rehearse_outcome_name(rp->outcome), "failure", rp->failure,
        "published", (json_int_t)rp->published, "consumed", (json_int_t)rp->consumed, "lost",
        (json_int_t)rp->lost, "duplicated", (json_int_t)rp->duplicated, "refused", (json_int_t)rp->refused,
        "lost_ids", strings(rp->lost_ids, rp->nlost_ids), "duplicated_ids",
        strings(rp->dup_ids, rp->ndup_ids), "gap_ms", num_or_null(rp->gap_ms), "rollback_s",
        num_or_null(rp->rollback_s), "carried_back",
        rp->carried_back < 0 ? json_null() : json_integer(rp->carried_back), "node_killed", rp->node_killed,
        "check", rp->check, "not_enforced", strings(rp->not_enforced, rp->nnot_enforced), "soak", soak,
        "rate", r->rate, "nats_server", r->nats_version, "adjustments",
        strings(r->adjustments, r->nadjustments), "elapsed", round(rp->elapsed * 10) / 10);
    if (!c) return gg_error_set(err, GG_ERR_NOMEM, "rehearsal event of phase %s", rp->phase);
    gg_status st = journal_append(j, JOURNAL_REHEARSAL, rp->phase, "gonogo rehearse", c, NULL, err);
    json_decref(c);
    if (st != GG_OK) return st;
  }
  return GG_OK;
}
