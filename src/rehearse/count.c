/*
 * count.c: where every id of the rehearsal ended up: rows in PostgreSQL (hrv_data, written by
 * normalize-service, idempotent on msg_id; or what the plan's `rehearsal.consumed.sql` returns) and copies in
 * the plan's streams (by Nats-Msg-Id, which ingest-service sets from the event id).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "rehearse/internal.h"

/* n of "<prefix><n>", or -1 when id is not one of ours. */
static long id_number(const char *id, const char *prefix, size_t n) {
  size_t pl = strlen(prefix);
  if (!id || strncmp(id, prefix, pl) != 0 || !id[pl]) return -1;
  char *end = NULL;
  long v = strtol(id + pl, &end, 10);
  if (!end || *end || v < 0 || (size_t)v >= n) return -1;
  return v;
}

static gg_status pg_open(const char *pg_url, PGconn **out, gg_error *err) {
  PGconn *c = PQconnectdb(pg_url);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    gg_status st = gg_error_set(err, GG_ERR_CONNECT, "connect to the sandbox's PostgreSQL: %s",
                                c ? PQerrorMessage(c) : "out of memory");
    PQfinish(c);
    return st;
  }
  *out = c;
  return GG_OK;
}

gg_status rehearse_count_rows(const char *pg_url, const char *sql, const char *prefix, rehearse_id *ids,
                              size_t n, long *rows, gg_error *err) {
  *rows = 0;
  PGconn *c = NULL;
  gg_status st = pg_open(pg_url, &c, err);
  if (st != GG_OK) return st;
  char like[128];
  snprintf(like, sizeof like, "%s%%", prefix);
  const char *params[] = {like};
  PGresult *r = sql ? PQexec(c, sql)
                    : PQexecParams(c, "SELECT msg_id FROM hrv_data WHERE msg_id LIKE $1", 1, NULL, params,
                                   NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    st = gg_error_set(err, GG_ERR_PG, "count the rehearsal's ids (%s): %s",
                      sql ? "rehearsal.consumed.sql" : "hrv_data", PQerrorMessage(c));
  } else if (PQnfields(r) < 1) {
    st = gg_error_set(err, GG_ERR_PG, "rehearsal.consumed.sql returns no column (it must return the ids)");
  } else {
    int nt = PQntuples(r);
    size_t pl = strlen(prefix);
    for (int i = 0; i < nt; i++) {
      const char *id = PQgetvalue(r, i, 0);
      if (strncmp(id, prefix, pl) != 0) continue; /* not the rehearsal's */
      long k = ids ? id_number(id, prefix, n) : -1;
      if (k >= 0 && ids[k].rows < UINT8_MAX) ids[k].rows++;
      (*rows)++;
    }
  }
  PQclear(r);
  PQfinish(c);
  return st;
}

long rehearse_count_rows_quick(const char *pg_url, const char *sql, const char *prefix) {
  if (!sql) {
    PGconn *c = NULL;
    gg_error e;
    gg_error_clear(&e);
    if (pg_open(pg_url, &c, &e) != GG_OK) return -1;
    char like[128];
    snprintf(like, sizeof like, "%s%%", prefix);
    const char *params[] = {like};
    PGresult *r =
        PQexecParams(c, "SELECT count(*) FROM hrv_data WHERE msg_id LIKE $1", 1, NULL, params, NULL, NULL, 0);
    long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10)
                                                                       : -1;
    PQclear(r);
    PQfinish(c);
    return v;
  }
  long rows = -1;
  gg_error e;
  gg_error_clear(&e);
  if (rehearse_count_rows(pg_url, sql, prefix, NULL, 0, &rows, &e) != GG_OK) return -1;
  return rows;
}

/* Create an ephemeral push consumer delivering every message of `stream` to `inbox`, with no
 * filter (the stream's subjects have moved since the messages were stored) and no acks. */
static gg_status make_reader(natsConnection *nc, const char *stream, const char *inbox, gg_error *err) {
  char subj[300], body[512];
  snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.%s", stream);
  int len =
      snprintf(body, sizeof body,
               "{\"stream_name\":\"%s\",\"config\":{\"deliver_subject\":\"%s\",\"deliver_policy\":\"all\","
               "\"ack_policy\":\"none\",\"replay_policy\":\"instant\",\"inactive_threshold\":30000000000}}",
               stream, inbox);
  natsMsg *reply = NULL;
  natsStatus s = natsConnection_Request(&reply, nc, subj, body, len, 10000);
  if (s != NATS_OK)
    return gg_error_set(err, GG_ERR_NATS, "read stream '%s': create a reader: %s", stream,
                        natsStatus_GetText(s));
  json_t *v = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
  json_t *e = json_object_get(v, "error");
  gg_status st = GG_OK;
  if (e)
    st = gg_error_set(err, GG_ERR_NATS, "read stream '%s': create a reader: %s", stream,
                      json_string_value(json_object_get(e, "description"))
                          ? json_string_value(json_object_get(e, "description"))
                          : "refused");
  json_decref(v);
  natsMsg_Destroy(reply);
  return st;
}

gg_status rehearse_count_copies(natsConnection *nc, jsCtx *js, const char *stream, const char *prefix,
                                rehearse_id *ids, size_t n, gg_error *err) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) return GG_OK;
  if (s != NATS_OK)
    return gg_error_set(err, GG_ERR_NATS, "stream '%s' info: %s", stream, natsStatus_GetText(s));
  uint64_t total = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  if (total == 0) return GG_OK;
  char inbox[128];
  snprintf(inbox, sizeof inbox, "_INBOX.gonogo-rehearse.%s.%ld", stream, (long)getpid());
  natsSubscription *sub = NULL;
  s = natsConnection_SubscribeSync(&sub, nc, inbox);
  if (s != NATS_OK)
    return gg_error_set(err, GG_ERR_NATS, "read stream '%s': %s", stream, natsStatus_GetText(s));
  natsSubscription_SetPendingLimits(sub, -1, -1);
  gg_status st = make_reader(nc, stream, inbox, err);
  for (uint64_t got = 0; st == GG_OK && got < total;) {
    natsMsg *m = NULL;
    s = natsSubscription_NextMsg(&m, sub, 5000);
    if (s != NATS_OK) {
      st = gg_error_set(err, GG_ERR_NATS, "read stream '%s': %llu of %llu messages, then %s", stream,
                        (unsigned long long)got, (unsigned long long)total, natsStatus_GetText(s));
      break;
    }
    if (natsMsg_GetDataLength(m) == 0 && !natsMsg_GetReply(m)) { /* a heartbeat or flow control */
      natsMsg_Destroy(m);
      continue;
    }
    got++;
    const char *id = NULL, *carried = NULL;
    /* A carry-back's copy is deliberate (the rollback journals how many): the sink is
     * idempotent for it. What counts is a second copy nothing accounts for, such as a publish
     * retried into the other stream across a cutover. */
    bool copy = natsMsgHeader_Get(m, "Gonogo-Carried-From", &carried) == NATS_OK;
    if (!copy && natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK) {
      long k = id_number(id, prefix, n);
      if (k >= 0 && ids[k].copies < UINT8_MAX) ids[k].copies++;
    }
    natsMsg_Destroy(m);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return st;
}
