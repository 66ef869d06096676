/*
 * natsmon.c: the NATS monitoring endpoints (/healthz, /varz, /jsz, /routez) of every
 * configured monitor URL.
 *
 * "Up" and "current" are two facts: a server is up when it answers /varz within the probe
 * timeout; its JetStream is current when /healthz says ok, which it does not while any of
 * its streams or consumers is catching up (just after an R3 stream is created, or a node
 * rejoins). A server that does not answer is up = 0 and current = 0, never missing, with
 * the reason (refused, timed out) in a note.
 *
 * Servers are labelled by their server_name from /varz. A server that does not answer
 * is labelled by the name it had when it last answered in this process (so a node killed
 * between two evaluations of `watch` keeps its name), else by host:port of its URL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "probe/internal.h"

#define MON_BODY_MAX (4u << 20)
#define LEARNED_MAX 64

static pthread_mutex_t learned_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char url[256];
  char name[64];
} learned[LEARNED_MAX];
static size_t n_learned;

static void learn_name(const char *url, const char *name) {
  pthread_mutex_lock(&learned_lock);
  size_t i = 0;
  for (; i < n_learned; i++)
    if (strcmp(learned[i].url, url) == 0) break;
  if (i == n_learned && n_learned < LEARNED_MAX) n_learned++;
  if (i < n_learned) {
    snprintf(learned[i].url, sizeof learned[i].url, "%s", url);
    snprintf(learned[i].name, sizeof learned[i].name, "%s", name);
  }
  pthread_mutex_unlock(&learned_lock);
}

static bool learned_name(const char *url, char *out, size_t n) {
  bool found = false;
  pthread_mutex_lock(&learned_lock);
  for (size_t i = 0; i < n_learned; i++)
    if (strcmp(learned[i].url, url) == 0) {
      snprintf(out, n, "%s", learned[i].name);
      found = true;
    }
  pthread_mutex_unlock(&learned_lock);
  return found;
}

/* host:port of a URL ("http://127.0.0.1:8222/" → "127.0.0.1:8222"). */
static void host_port(const char *url, char *out, size_t n) {
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  const char *at = strchr(p, '@');
  const char *slash = strchr(p, '/');
  if (at && (!slash || at < slash)) p = at + 1;
  size_t len = strcspn(p, "/?#");
  snprintf(out, n, "%.*s", (int)len, p);
}

/* base + path without a doubled slash. */
static void join_url(const char *base, const char *path, char *out, size_t n) {
  size_t len = strlen(base);
  while (len > 0 && base[len - 1] == '/') len--;
  snprintf(out, n, "%.*s%s", (int)len, base, path);
}

gg_status probe_http_get(probe_job *job, const char *url, size_t max_body, gg_http_response *resp) {
  gg_http_opts opts = {.timeout = job->timeout, .max_body = max_body};
  memset(resp, 0, sizeof *resp);
  gg_status st = gg_http_get(url, &opts, resp, &job->err);
  if (st != GG_OK) {
    job->status = st;
    return st;
  }
  if (resp->status < 200 || resp->status > 299) {
    char red[512];
    gg_http_redact_url(url, red, sizeof red);
    int blen = (int)(resp->body_len > 200 ? 200 : resp->body_len);
    for (int i = 0; i < blen; i++)
      if (resp->body[i] == '\n' || resp->body[i] == '\r') resp->body[i] = ' ';
    job->status = gg_error_set(&job->err, GG_ERR_HTTP, "GET %s: HTTP %ld%s%.*s", red, resp->status,
                               blen ? ": " : "", blen, resp->body);
    gg_http_response_release(resp);
    return job->status;
  }
  return GG_OK;
}

/* GET base+path and parse the JSON; on error the job holds it. */
static json_t *get_json(probe_job *job, const char *base, const char *path) {
  char url[1024];
  join_url(base, path, url, sizeof url);
  gg_http_response resp;
  if (probe_http_get(job, url, MON_BODY_MAX, &resp) != GG_OK) return NULL;
  char red[1024], what[1100];
  gg_http_redact_url(url, red, sizeof red);
  snprintf(what, sizeof what, "response from %s", red);
  json_t *doc = NULL;
  gg_status st = gg_json_parse(resp.body, resp.body_len, what, &doc, &job->err);
  gg_http_response_release(&resp);
  if (st != GG_OK) {
    job->status = st;
    return NULL;
  }
  return doc;
}

void probe_natsmon_run_varz(probe_ctx *ctx, probe_job *job) {
  (void)ctx;
  json_t *doc = get_json(job, job->a, "/varz");
  if (!doc) return;
  const char *name = NULL, *id = NULL;
  if (gg_json_get_string(doc, "server_name", &name, &job->err) != GG_OK ||
      gg_json_get_string(doc, "server_id", &id, &job->err) != GG_OK) {
    job->status = job->err.code;
    json_decref(doc);
    return;
  }
  job->names = calloc(2, sizeof *job->names);
  if (job->names) {
    job->names[0] = strdup(name);
    job->names[1] = strdup(id);
    job->n_names = 2;
  }
  if (!job->names || !job->names[0] || !job->names[1])
    job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
  else
    learn_name(job->a, name);
  json_decref(doc);
}

void probe_natsmon_server_label(probe_ctx *ctx, const char *url, char *out, size_t n) {
  probe_job *v = probe_job_get(ctx, JOB_MON_VARZ, url, NULL, 0);
  if (v && v->status == GG_OK && v->n_names == 2) {
    snprintf(out, n, "%s", v->names[0]);
    return;
  }
  if (learned_name(url, out, n)) return;
  host_port(url, out, n);
}

/* Why a monitoring request got no usable answer, in a few words for the note. */
static const char *no_answer_reason(gg_status st) {
  switch (st) {
    case GG_ERR_TIMEOUT:
      return "no answer within the probe timeout";
    case GG_ERR_CONNECT:
      return "not answering";
    default:
      return "monitoring endpoint failed";
  }
}

void probe_natsmon_run_up(probe_ctx *ctx, probe_job *job) {
  /* /varz answers as long as the server serves its monitoring port; /healthz also says 503
   * while a JetStream asset catches up, which is nats.jetstream.current, not "down". */
  probe_job *varz = probe_job_get(ctx, JOB_MON_VARZ, job->a, NULL, job->timeout);
  if (!varz) {
    job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
    return;
  }
  char server[128];
  probe_natsmon_server_label(ctx, job->a, server, sizeof server);
  bool up = varz->status == GG_OK;
  if (!up)
    probe_note(ctx, "nats.server.up{server=\"%s\"} = 0: %s: %s", server, no_answer_reason(varz->status),
               gg_error_message(&varz->err));
  probe_job_add(job, "nats.server.up", up ? 1 : 0, gg_clock_now(), "server", server, NULL);
}

void probe_natsmon_run_current(probe_ctx *ctx, probe_job *job) {
  char url[1024], red[1024], server[128];
  join_url(job->a, "/healthz", url, sizeof url);
  gg_http_redact_url(url, red, sizeof red);
  gg_http_opts opts = {.timeout = job->timeout, .max_body = 64u << 10};
  gg_http_response resp;
  memset(&resp, 0, sizeof resp);
  gg_error e;
  gg_error_clear(&e);
  gg_status st = gg_http_get(url, &opts, &resp, &e);
  probe_natsmon_server_label(ctx, job->a, server, sizeof server);
  double now = gg_clock_now();
  if (st != GG_OK) {
    probe_note(ctx, "nats.jetstream.current{server=\"%s\"} = 0: %s: %s", server, no_answer_reason(st),
               gg_error_message(&e));
    probe_job_add(job, "nats.jetstream.current", 0, now, "server", server, NULL);
    return;
  }
  bool ok = resp.status == 200;
  if (!ok) {
    /* 503 with the reason: a stream or consumer not current, no meta leader yet, ... */
    int blen = (int)(resp.body_len > 200 ? 200 : resp.body_len);
    probe_note(ctx, "nats.jetstream.current{server=\"%s\"} = 0: GET %s: HTTP %ld: %.*s", server, red,
               resp.status, blen, resp.body ? resp.body : "");
  }
  gg_http_response_release(&resp);
  probe_job_add(job, "nats.jetstream.current", ok ? 1 : 0, now, "server", server, NULL);
}

gg_status probe_series_jsz(probe_job *job, const char *server, json_t *jsz, const char *where) {
  double max_storage, storage, max_memory, memory;
  gg_error *e = &job->err;
  if (gg_json_get_number(jsz, "config.max_storage", &max_storage, e) != GG_OK ||
      gg_json_get_number(jsz, "storage", &storage, e) != GG_OK ||
      gg_json_get_number(jsz, "config.max_memory", &max_memory, e) != GG_OK ||
      gg_json_get_number(jsz, "memory", &memory, e) != GG_OK)
    return job->status = gg_error_prefix(e, "jetstream of server '%s' (%s): ", server, where);
  double now = gg_clock_now();
  probe_job_add(job, "nats.server.storage_free", max_storage - storage, now, "server", server, NULL);
  probe_job_add(job, "nats.server.memory_free", max_memory - memory, now, "server", server, NULL);
  return job->status;
}

void probe_natsmon_run_jsz(probe_ctx *ctx, probe_job *job) {
  json_t *doc = get_json(job, job->a, "/jsz");
  if (!doc) return;
  char server[128], red[1024], where[1100];
  probe_natsmon_server_label(ctx, job->a, server, sizeof server);
  gg_http_redact_url(job->a, red, sizeof red);
  snprintf(where, sizeof where, "%s/jsz", red);
  if (probe_series_jsz(job, server, doc, where) != GG_OK) {
    json_decref(doc);
    return;
  }
  job->doc = doc;
}

/* Look up the job `kind` of every monitoring URL (at most max) into jobs and run them
 * together; returns how many there are. */
static size_t run_per_server(probe_ctx *ctx, job_kind kind, double timeout, probe_job **jobs, size_t max) {
  const probe_config *cfg = ctx->cfg;
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_monitor_urls && n < max; i++) {
    probe_job *j = probe_job_lookup(ctx, kind, cfg->monitor_urls[i], NULL, timeout);
    if (j) jobs[n++] = j;
  }
  probe_job_run_all(ctx, jobs, n);
  return n;
}

gg_status probe_series_routez(probe_job *job, const char *server, json_t *routez, const char *const *ids,
                              const char *const *names, size_t n) {
  json_t *routes = json_object_get(routez, "routes");
  double now = gg_clock_now();
  size_t i;
  json_t *r;
  json_array_foreach(routes, i, r) {
    const char *rid = json_string_value(json_object_get(r, "remote_id"));
    const char *rtt = json_string_value(json_object_get(r, "rtt"));
    const char *rname = json_string_value(json_object_get(r, "remote_name"));
    if (!rid || !rtt) continue;
    char peer[128];
    snprintf(peer, sizeof peer, "%s", rname ? rname : rid);
    for (size_t k = 0; !rname && k < n; k++)
      if (ids[k] && names[k] && strcmp(ids[k], rid) == 0) snprintf(peer, sizeof peer, "%s", names[k]);
    double secs;
    if (probe_parse_go_duration(rtt, &secs, &job->err) != GG_OK)
      return job->status = gg_error_prefix(&job->err, "route rtt of server '%s' to '%s': ", server, peer);
    probe_job_add(job, "nats.server.route_rtt", secs, now, "server", server, "peer", peer, NULL);
  }
  return job->status;
}

void probe_natsmon_run_routez(probe_ctx *ctx, probe_job *job) {
  /* Peer names come from the other servers' /varz (2.9's /routez only has their ids). */
  probe_job *varz[64];
  size_t nv = run_per_server(ctx, JOB_MON_VARZ, job->timeout, varz, 64);
  json_t *doc = get_json(job, job->a, "/routez");
  if (!doc) return;
  char server[128];
  probe_natsmon_server_label(ctx, job->a, server, sizeof server);
  const char *ids[64], *names[64];
  for (size_t k = 0; k < nv; k++) {
    bool ok = varz[k]->status == GG_OK && varz[k]->n_names == 2;
    ids[k] = ok ? varz[k]->names[1] : NULL;
    names[k] = ok ? varz[k]->names[0] : NULL;
  }
  (void)probe_series_routez(job, server, doc, ids, names, nv);
  json_decref(doc);
}

void probe_series_meta(probe_ctx *ctx, probe_job *job, json_t *const *jsz, const char *const *names, size_t n,
                       const char *where) {
  const char *leader = NULL;
  double cluster_size = NAN;
  for (size_t i = 0; i < n; i++) {
    if (!jsz[i]) continue;
    const char *l = json_string_value(gg_json_path(jsz[i], "meta_cluster.leader"));
    json_t *cs = gg_json_path(jsz[i], "meta_cluster.cluster_size");
    if (json_is_number(cs) && isnan(cluster_size)) cluster_size = json_number_value(cs);
    if (l && *l && !leader) leader = l;
  }
  double now = gg_clock_now();
  probe_job_add(job, "nats.meta.leader_present", leader ? 1 : 0, now, NULL);
  if (!isnan(cluster_size)) probe_job_add(job, "nats.meta.cluster_size", cluster_size, now, NULL);
  if (!leader) {
    probe_note(ctx, "nats.meta.leader_present = 0: no server reports a JetStream meta leader");
    return;
  }
  /* Only the leader lists the replicas and whether they are current. */
  for (size_t i = 0; i < n; i++) {
    if (!jsz[i] || !names[i] || strcmp(names[i], leader) != 0) continue;
    json_t *reps = gg_json_path(jsz[i], "meta_cluster.replicas");
    size_t k;
    json_t *r;
    double current = 1; /* the leader itself */
    json_array_foreach(reps, k, r) if (json_is_true(json_object_get(r, "current"))) current++;
    probe_job_add(job, "nats.meta.peers_current", current, now, NULL);
    return;
  }
  probe_note(ctx, "nats.meta.peers_current: the meta leader '%s' is not among the %s", leader, where);
}

void probe_natsmon_run_meta(probe_ctx *ctx, probe_job *job) {
  probe_job *jsz[64];
  size_t n = run_per_server(ctx, JOB_MON_JSZ, job->timeout, jsz, 64);
  probe_job *first_err = NULL;
  json_t *docs[64];
  char names[64][128];
  const char *namep[64];
  size_t answered = 0;
  for (size_t i = 0; i < n; i++) {
    docs[i] = jsz[i]->status == GG_OK ? jsz[i]->doc : NULL;
    namep[i] = NULL;
    if (!docs[i]) {
      if (!first_err) first_err = jsz[i];
      continue;
    }
    answered++;
    probe_natsmon_server_label(ctx, jsz[i]->a, names[i], sizeof names[i]);
    namep[i] = names[i];
  }
  if (answered == 0 && first_err) {
    /* Nobody to ask: an error, not "no leader". */
    job->status = first_err->status;
    job->err = first_err->err;
    gg_error_prefix(&job->err, "no monitor URL answered: ");
    return;
  }
  probe_series_meta(ctx, job, docs, namep, n, "reachable monitor URLs");
}

gg_status probe_parse_go_duration(const char *text, double *out, gg_error *err) {
  const char *p = text;
  double total = 0;
  if (!p || !*p) return gg_error_set(err, GG_ERR_PARSE, "empty duration");
  if (strcmp(p, "0") == 0) {
    *out = 0;
    return GG_OK;
  }
  while (*p) {
    char *endp = NULL;
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
      return gg_error_set(err, GG_ERR_PARSE, "invalid duration '%s'", text);
    double v = strtod(p, &endp);
    if (endp == p) return gg_error_set(err, GG_ERR_PARSE, "invalid duration '%s'", text);
    p = endp;
    static const struct {
      const char *unit;
      double factor;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"\xce\xbcs", 1e-6},
                 {"ms", 1e-3}, {"s", 1},     {"m", 60},           {"h", 3600}};
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t len = strlen(units[i].unit);
      if (strncmp(p, units[i].unit, len) == 0 && len > best_len) {
        best = i;
        best_len = len;
      }
    }
    if (best_len == 0) return gg_error_set(err, GG_ERR_PARSE, "invalid duration '%s': missing unit", text);
    /* "m" must not swallow the "m" of "ms" (longest match above handles it). */
    total += v * units[best].factor;
    p += best_len;
  }
  *out = total;
  return GG_OK;
}
