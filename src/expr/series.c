/*
 * series.c: the table of built-in series (DESIGN §6): each name with the labels it carries,
 * its unit and where its value comes from. The probes answer these names, the plan loader
 * checks an expression's series and labels against them, and the plan reference
 * (docs/plan-reference.md) documents every row (a unit test holds it to that).
 */
#include <string.h>

#include "expr/expr.h"

#define MON "monitor port (/varz, /jsz, /healthz, /routez) or the system account"
#define JSAPI "JetStream API (stream info)"
#define CONAPI "JetStream API (consumer info)"

static const expr_series_info builtin[] = {
    {"nats.server.up", {"server"}, "1/0", MON, "the server answers /varz (or the system account ping)"},
    {"nats.server.storage_free", {"server"}, "bytes", MON, "JetStream max_storage minus storage in use"},
    {"nats.server.memory_free", {"server"}, "bytes", MON, "JetStream max_memory minus memory in use"},
    {"nats.server.route_rtt", {"server", "peer"}, "seconds", MON, "round trip of each route"},
    {"nats.meta.leader_present", {NULL}, "1/0", MON, "the JetStream meta group has a leader"},
    {"nats.meta.peers_current", {NULL}, "count", MON, "meta group peers that are current"},
    {"nats.meta.cluster_size", {NULL}, "count", MON, "the meta group's cluster size"},
    {"nats.jetstream.enabled", {NULL}, "1/0", "JetStream API (account info)", "JetStream answers"},
    {"nats.jetstream.current", {"server"}, "1/0", MON, "/healthz: every stream and consumer is current"},
    {"nats.stream.exists", {"stream"}, "1/0", JSAPI, "the stream exists"},
    {"nats.stream.messages", {"stream"}, "count", JSAPI, "messages in the stream"},
    {"nats.stream.bytes", {"stream"}, "bytes", JSAPI, "bytes in the stream"},
    {"nats.stream.first_seq", {"stream"}, "sequence", JSAPI, "first sequence"},
    {"nats.stream.last_seq", {"stream"}, "sequence", JSAPI, "last sequence"},
    {"nats.stream.last_ts", {"stream"}, "epoch seconds", JSAPI, "time of the last message"},
    {"nats.stream.consumers", {"stream"}, "count", JSAPI, "consumers of the stream"},
    {"nats.stream.replicas_current",
     {"stream"},
     "count",
     JSAPI,
     "replicas (leader included) that are current"},
    {"nats.stream.subject_messages", {"stream", "subject"}, "count", JSAPI, "messages per subject"},
    {"nats.stream.has_subject",
     {"stream", "subject"},
     "1/0",
     JSAPI,
     "the stream's subjects cover the subject"},
    {"nats.consumer.exists", {"stream", "consumer"}, "1/0", CONAPI, "the consumer exists"},
    {"nats.consumer.num_pending", {"stream", "consumer"}, "count", CONAPI, "messages not yet delivered"},
    {"nats.consumer.num_ack_pending", {"stream", "consumer"}, "count", CONAPI, "delivered, not acknowledged"},
    {"nats.consumer.num_redelivered", {"stream", "consumer"}, "count", CONAPI, "redelivered messages"},
    {"nats.consumer.num_waiting", {"stream", "consumer"}, "count", CONAPI, "pull requests waiting"},
    {"nats.consumer.ack_floor",
     {"stream", "consumer"},
     "sequence",
     CONAPI,
     "stream sequence of the ack floor"},
    {"nats.consumer.delivered", {"stream", "consumer"}, "sequence", CONAPI, "stream sequence last delivered"},
    {"nats.consumer.last_active",
     {"stream", "consumer"},
     "epoch seconds",
     CONAPI,
     "time of the last delivery"},
    {"pg.up", {"db"}, "1/0", "libpq", "the database accepts a connection"},
    {"pg.connect_time", {"db"}, "seconds", "libpq", "time to connect"},
    {"pg.ping", {"db"}, "seconds", "libpq", "round trip of SELECT 1"},
    {"pg.connections", {"db"}, "count", "libpq (pg_stat_activity)", "connections open"},
    {"pg.max_connections", {"db"}, "count", "libpq (max_connections)", "the server's connection limit"},
    {"pg.pool_utilization", {"db"}, "fraction", "libpq", "connections / max_connections"},
    {"pg.xact_commit", {"db"}, "count (counter)", "libpq (pg_stat_database)", "transactions committed"},
    {"pg.rows_inserted", {"db", "table"}, "count (counter)", "libpq (pg_stat_user_tables)", "rows inserted"},
    {"http.up", {"target"}, "1/0", "HTTP (the target's health URL)", "the health URL answers 2xx"},
    {"http.status", {"target"}, "HTTP status", "HTTP (the target's health URL)", "the status code"},
    {"http.latency", {"target"}, "seconds", "HTTP (the target's health URL)", "time to answer"},
    {"alerts.firing",
     {"alertname", "severity"},
     "1",
     "Alertmanager /api/v2/alerts",
     "one sample per active alert"},
    {"file.age", {"path"}, "seconds", "stat(2) on this machine", "seconds since the file changed"},
    {"fs.free", {"path"}, "bytes", "statvfs(3) on this machine", "bytes free for unprivileged users"},
    {"phase.completed", {"phase"}, "1/0", "journal", "the phase's latest lifecycle event is phase_completed"},
    {"phase.completed_age", {"phase"}, "seconds", "journal", "seconds since the phase completed"},
    {"phase.stable_for", {"phase"}, "seconds", "journal", "seconds since completion or the last trigger"},
    {"event.age", {"kind"}, "seconds", "journal", "seconds since the latest event of that kind"},
    {"attested", {"item"}, "1/0", "journal", "the item's latest attestation is in force"},
};

static const char *const builtin_prefixes[] = {"nats.", "pg.", "http.", "alerts.", "file.", "fs.", NULL};

const expr_series_info *expr_series_builtin(size_t *n) {
  *n = sizeof builtin / sizeof builtin[0];
  return builtin;
}

const expr_series_info *expr_series_find(const char *name) {
  for (size_t i = 0; name && i < sizeof builtin / sizeof builtin[0]; i++)
    if (strcmp(builtin[i].name, name) == 0) return &builtin[i];
  return NULL;
}

bool expr_series_reserved(const char *name) {
  for (size_t i = 0; name && builtin_prefixes[i]; i++)
    if (strncmp(name, builtin_prefixes[i], strlen(builtin_prefixes[i])) == 0) return true;
  return false;
}

bool expr_series_has_label(const expr_series_info *s, const char *label) {
  for (size_t i = 0; i < EXPR_SERIES_LABELS_MAX && s->labels[i]; i++)
    if (strcmp(s->labels[i], label) == 0) return true;
  return false;
}
