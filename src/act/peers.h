/*
 * peers.h: the replica guard (issue #19 item 1).
 *
 * nats-server before 2.9.15 cannot restart a node whose on-disk streams disagree, about which
 * stream holds which subjects, with the meta state it replays at start-up: it rebuilds each
 * stream's configuration one stream at a time, the first one to take a subject that another
 * stream still holds on that node's disk fails with "subjects overlap with an existing stream"
 * (10065), and for a stream restored from disk (no previous assignment yet) the error branch of
 * processClusterCreateStream dereferences that missing assignment: a nil-pointer panic, on every
 * start, until the node's JetStream directory is wiped. When it does not panic the node keeps
 * the stale subjects (a stream diverging from its peers). Two ways gonogo arms it:
 *
 *  - moving subjects (move_subjects, its inverse, an update_stream of subjects) while a replica
 *    of either stream is offline: that node's disk keeps the old assignment of subjects;
 *  - moving subjects with every node up, and a node then killed hard (SIGKILL, OOM, power)
 *    before the meta layer snapshots: the node replays the creation of the source stream with
 *    its old subjects, which its disk now gives to the destination.
 *
 * The guard: before a subject change, wait (bounded) until every replica of both streams is
 * online and current, and refuse otherwise (act_wait_peers_current); after it, make every node
 * snapshot its meta layer (act_meta_checkpoint). Fixed upstream in nats-server v2.9.15
 * (commit 9721309, PR #3922: meta snapshot and stream updates during recovery go through the
 * recovery structure; nil check on the previous assignment); v2.9.12 (a5cbd0b) applies stream
 * updates carried by a leader's meta snapshot, which 2.9.10 silently skips.
 */
#ifndef GG_ACT_PEERS_H
#define GG_ACT_PEERS_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>

#include "act/internal.h"
#include "base/error.h"

/* What one stream's replicas look like now. */
typedef struct {
  int replicas;    /* configured replicas */
  int listed;      /* leader + followers the stream info lists */
  int current;     /* of those, online and current (the leader counts as current) */
  char leader[64]; /* "" when the stream has no leader */
  char why[256];   /* the first replica that is not current and why; "" when all are */
} act_peers;

/* A follower not heard from for this many seconds counts as down: nats-server 2.9 sends raft
 * heartbeats every second but flags a silent peer (Current false, Offline) only after 10 s. */
#define ACT_PEERS_MAX_SILENCE 3.0

/* Look at `stream`'s replicas: every one online (not Offline), Current and heard from within
 * ACT_PEERS_MAX_SILENCE, a leader, and as many listed as configured. GG_OK with *ok set and `out` filled (out
 * may be NULL); GG_ERR_NOT_FOUND when the stream does not exist; GG_ERR_NATS when JetStream does not answer
 * (no meta leader, the stream's leader gone): a caller waiting treats that as "not yet". */
gg_status act_peers_check(jsCtx *js, const char *stream, bool *ok, act_peers *out, gg_error *err) GG_WUR;

typedef void (*act_peers_progress_fn)(void *ud, const char *line);

/* Wait up to `timeout` seconds (polling every 0.5 s) until every replica of each of the n
 * streams is online and current (a stream that does not exist counts as current: it has
 * nothing to replay). GG_OK when they are; GG_ERR_STATE naming the stream, the replica and
 * why when they are not in time. progress (may be NULL) gets a line at most every 5 s. */
gg_status act_peers_wait(jsCtx *js, const char *const *streams, size_t n, double timeout,
                         act_peers_progress_fn progress, void *ud, gg_error *err) GG_WUR;

/* Whether every monitoring URL (http://host:8222) answers /healthz with 200: the server is up
 * and has caught up with its meta leader, streams and consumers. On false, why (may be NULL)
 * names the first that does not. */
bool act_servers_healthy(const char *const *monitor, size_t n, char *why, size_t cap);

/* The same on an act_ctx (connected on demand), progress through act_say: first every server in
 * the plan's connect.nats.monitor list healthy (act_servers_healthy; a node killed a moment ago
 * fails this at once), then every replica of the n streams current (act_peers_wait), within
 * `timeout` seconds altogether (0: ACT_PEERS_WAIT_DEFAULT). What an action that changes
 * subjects calls first, for its source and destination streams; GG_ERR_STATE saying which
 * node and why when the cluster is not whole in time. */
gg_status act_wait_peers_current(act_ctx *ctx, const char *const *streams, size_t n, double timeout,
                                 gg_error *err) GG_WUR;

/* Default bound for act_wait_peers_current: long enough for a restarted node to catch up on a
 * small stream, short enough for a rollback to report instead of hanging. */
#define ACT_PEERS_WAIT_DEFAULT 30.0

/* Make every node snapshot its JetStream meta layer, so that a node killed later does not
 * replay stream creations from before a subject change: 2.9.x snapshots when it applies a
 * removal at least 2 s after its previous snapshot, so wait `settle` seconds (>= 2.5 when 0),
 * then create and delete a scratch R1 memory stream GONOGO_META_CHECKPOINT_<pid>. Call after
 * a subject change has been verified. */
gg_status act_meta_checkpoint(jsCtx *js, double settle, gg_error *err) GG_WUR;

#endif
