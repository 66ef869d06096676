/* peers.c: see peers.h. */
#include "act/peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/http.h"

gg_status act_peers_check(jsCtx *js, const char *stream, bool *ok, act_peers *out, gg_error *err) {
  act_peers local;
  act_peers *p = out ? out : &local;
  memset(p, 0, sizeof *p);
  *ok = false;
  jsStreamInfo *si = NULL;
  jsErrCode je = 0;
  natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &je);
  if (s == NATS_NOT_FOUND || je == JSStreamNotFoundErr) {
    jsStreamInfo_Destroy(si);
    return gg_error_set(err, GG_ERR_NOT_FOUND, "stream '%s' does not exist", stream);
  }
  if (s != NATS_OK) {
    snprintf(p->why, sizeof p->why, "stream info: %s%s", natsStatus_GetText(s),
             s == NATS_TIMEOUT ? " (no meta or stream leader?)" : "");
    jsStreamInfo_Destroy(si);
    return gg_error_set(err, GG_ERR_NATS, "stream '%s': %s", stream, p->why);
  }
  p->replicas = si->Config->Replicas > 0 ? (int)si->Config->Replicas : 1;
  const jsClusterInfo *ci = si->Cluster;
  if (ci && ci->Leader && *ci->Leader) {
    snprintf(p->leader, sizeof p->leader, "%s", ci->Leader);
    p->listed = 1;
    p->current = 1;
  } else if (!ci && p->replicas == 1) {
    p->listed = p->current = 1; /* not clustered: the server that answered holds it */
  } else {
    snprintf(p->why, sizeof p->why, "no leader");
  }
  for (int i = 0; ci && i < ci->ReplicasLen; i++) {
    const jsPeerInfo *r = ci->Replicas[i];
    p->listed++;
    /* nats-server 2.9 keeps reporting a silent follower Current for lostQuorumInterval (10 s);
     * its raft heartbeat is 1 s, so a follower not heard from for ACT_PEERS_MAX_SILENCE is down. */
    bool heard = (double)r->Active / 1e9 <= ACT_PEERS_MAX_SILENCE;
    if (r->Current && !r->Offline && heard) {
      p->current++;
      continue;
    }
    if (!p->why[0])
      snprintf(p->why, sizeof p->why, "replica %s is %s (last active %.1f s ago, %llu operations behind)",
               r->Name ? r->Name : "?",
               r->Offline ? "offline"
               : !heard   ? "not heard from"
                          : "not current",
               (double)r->Active / 1e9, (unsigned long long)r->Lag);
  }
  if (!p->why[0] && p->listed < p->replicas)
    snprintf(p->why, sizeof p->why, "%d of %d replicas listed", p->listed, p->replicas);
  *ok = !p->why[0] && p->current >= p->replicas;
  jsStreamInfo_Destroy(si);
  return GG_OK;
}

gg_status act_peers_wait(jsCtx *js, const char *const *streams, size_t n, double timeout,
                         act_peers_progress_fn progress, void *ud, gg_error *err) {
  double t0 = gg_clock_mono(), last_say = t0;
  char why[400] = "";
  for (;;) {
    bool all = true;
    for (size_t i = 0; i < n && all; i++) {
      act_peers p;
      bool ok = false;
      gg_error e;
      gg_error_clear(&e);
      gg_status st = act_peers_check(js, streams[i], &ok, &p, &e);
      if (st == GG_ERR_NOT_FOUND) continue;
      if (st != GG_OK || !ok) {
        all = false;
        snprintf(why, sizeof why, "stream '%s': %s", streams[i], st != GG_OK ? gg_error_message(&e) : p.why);
      }
    }
    if (all) return GG_OK;
    double now = gg_clock_mono();
    if (now - t0 >= timeout)
      return gg_error_set(err, GG_ERR_STATE,
                          "%s after %.0f s: a subject change now would leave that node unable to restart "
                          "(nats-server < 2.9.15 panics replaying it) or holding stale subjects; bring it "
                          "back and let it catch up, then retry",
                          why, now - t0);
    if (progress && now - last_say >= 5.0) {
      char line[512];
      snprintf(line, sizeof line, "waiting for every replica to be current: %s", why);
      progress(ud, line);
      last_say = now;
    }
    usleep(500000);
  }
}

bool act_servers_healthy(const char *const *monitor, size_t n, char *why, size_t cap) {
  for (size_t i = 0; i < n; i++) {
    char url[1024];
    snprintf(url, sizeof url, "%s/healthz", monitor[i]);
    gg_http_opts ho = {.timeout = 2, .max_body = 64 << 10, .headers = NULL};
    gg_http_response r = {0};
    gg_error e;
    gg_error_clear(&e);
    gg_status st = gg_http_get(url, &ho, &r, &e);
    bool ok = st == GG_OK && r.status == 200;
    if (!ok && why) {
      if (st != GG_OK)
        snprintf(why, cap, "server %s is down: %s", monitor[i], gg_error_message(&e));
      else
        snprintf(why, cap, "server %s is not healthy (HTTP %ld: %.160s)", monitor[i], r.status,
                 r.body ? r.body : "");
    }
    gg_http_response_release(&r);
    if (!ok) return false;
  }
  return true;
}

static void say_line(void *ud, const char *line) {
  act_say((act_ctx *)ud, "%s", line);
}

gg_status act_wait_peers_current(act_ctx *ctx, const char *const *streams, size_t n, double timeout,
                                 gg_error *err) {
  gg_status st = act_connect(ctx, err);
  if (st != GG_OK) return st;
  double limit = timeout > 0 ? timeout : ACT_PEERS_WAIT_DEFAULT;
  double t0 = gg_clock_mono(), last_say = t0;
  const plan_nats *pn = &ctx->p->connect.nats;
  /* First every server of the plan's monitoring list: a node killed a moment ago refuses at
   * once, where its streams still list it as current for a few seconds. */
  char why[512];
  while (pn->nmonitor > 0 &&
         !act_servers_healthy((const char *const *)pn->monitor, pn->nmonitor, why, sizeof why)) {
    double now = gg_clock_mono();
    if (now - t0 >= limit)
      return gg_error_set(err, GG_ERR_STATE,
                          "%s after %.0f s: a subject change now would leave that node unable to restart "
                          "(nats-server < 2.9.15 panics replaying it) or holding stale subjects; bring it "
                          "back and let it catch up, then retry",
                          why, now - t0);
    if (now - last_say >= 5.0) {
      act_say(ctx, "waiting for every NATS server to be healthy: %s", why);
      last_say = now;
    }
    usleep(500000);
  }
  double left = limit - (gg_clock_mono() - t0);
  return act_peers_wait(ctx->js, streams, n, left > 1 ? left : 1, say_line, ctx, err);
}

gg_status act_meta_checkpoint(jsCtx *js, double settle, gg_error *err) {
  double wait = settle > 0 ? settle : 2.5;
  usleep((useconds_t)(wait * 1e6));
  char name[64], subject[96];
  snprintf(name, sizeof name, "GONOGO_META_CHECKPOINT_%d", (int)getpid());
  snprintf(subject, sizeof subject, "_gonogo.meta_checkpoint.%d", (int)getpid());
  const char *subjects[] = {subject};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  cfg.Replicas = 1;
  jsStreamInfo *si = NULL;
  jsErrCode je = 0;
  natsStatus s = js_AddStream(&si, js, &cfg, NULL, &je);
  jsStreamInfo_Destroy(si);
  if (s != NATS_OK) return act_nats_error(err, s, je, "meta checkpoint: create scratch stream '%s'", name);
  je = 0;
  s = js_DeleteStream(js, name, NULL, &je);
  if (s != NATS_OK && s != NATS_NOT_FOUND)
    return act_nats_error(err, s, je, "meta checkpoint: delete scratch stream '%s'", name);
  return GG_OK;
}
