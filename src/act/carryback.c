/*
 * carryback.c: what a rolled-back phase left in its new stream, carried back to where the legacy
 * topology reads it (RPO 0).
 *
 * Once the inverse of move_subjects has put the subjects back on the old stream, nothing new
 * reaches the new stream on them; but what reached it while the phase was in force and the
 * phase's consumers did not acknowledge would stay there, on a consumer the services are no
 * longer bound to after a rollback. So the inverse then reads those messages and republishes
 * each one to its original subject — which the old stream holds again — with its original
 * headers, Nats-Msg-Id included, and `Nats-Expected-Stream` set to the old stream:
 *
 *   range     from the new stream's last sequence at the cutover (journaled by the forward move)
 *             or, when higher, the lowest ack floor of the phase's consumers on the new stream
 *             whose filter overlaps the subjects, + 1 (a consumer still acknowledging is given up
 *             to 1 s to finish; one with nothing delivered unacknowledged, or whose ack floor
 *             stands still for 200 ms, is not waited for); up to the new stream's last sequence once
 *             the subjects are back. Delivered-but-unacknowledged messages lie above the ack
 *             floor and are carried too: their consumer is deleted next, and a row the service
 *             wrote before it could ack is absorbed by the idempotent sink (ON CONFLICT (msg_id)).
 *   read      one ephemeral push consumer of the whole new stream (AckNone, flow control) from
 *             the range's first sequence, until a delivery reports nothing more pending; messages
 *             on other subjects than the moved ones are left where they are. A stream that refuses
 *             another consumer (work-queue retention) is read one sequence at a time instead.
 *   write     asynchronous publishes (bounded in flight); each must be acknowledged by JetStream
 *             from the old stream, and the count acknowledged (new or duplicate) must equal the
 *             count read — else the inverse fails, the consumer and stream are kept, and the
 *             phase is "rollback incomplete".
 *   journal   a note {"note":"carry-back", "state":"started", stream, subjects, first, last}
 *             before the first republish, {"state":"done", ..., "found", "republished",
 *             "duplicates", "ms"} after the last ack. A rollback killed in between is resumed by
 *             carrying the same range again: the same Nats-Msg-Id within the old stream's
 *             duplicate window is acknowledged as a duplicate and not stored twice, and past the
 *             window the sink is idempotent. A message that has no Nats-Msg-Id is given
 *             "gonogo-carry:<stream>:<sequence>", which is the same on every attempt.
 *
 * After a "done" record, the create_consumer inverse deletes the phase's consumer at once (what
 * it had not acknowledged was carried back) and the create_stream inverse deletes a stream the
 * phase created when every message it holds lies on the carried subjects at or below the
 * carried range's end (acknowledged by the phase's consumers, or carried back).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"
#include "base/failpoint.h"
#include "probe/probe.h"

#define CARRY_MAX_PENDING 4096 /* asynchronous publishes in flight */
#define CARRY_IDLE_MS 2000     /* a delivery wait before asking the consumer how much is left */
#define CARRY_STALL_S 30.0     /* no delivery for this long while messages are pending: fail */
#define CARRY_ACK_WAIT_MS 15000
#define CARRY_SETTLE_STALL_S 0.2 /* a consumer whose ack floor has not moved for this long is stalled */
#define CARRY_SETTLE_MAX_S 1.0   /* a working consumer is given this long to acknowledge what it has */

/* Republished messages between two passes of the failpoint act.carryback.progress. */
#define CARRY_FAILPOINT_EVERY 256

typedef struct {
  atomic_long ok, dup, failed;
  atomic_bool have_error;
  char error[256];
} carry_acks;

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
  (void)js;
  carry_acks *c = closure;
  if (pa && pa->Duplicate)
    atomic_fetch_add(&c->dup, 1);
  else if (pa)
    atomic_fetch_add(&c->ok, 1);
  else {
    atomic_fetch_add(&c->failed, 1);
    if (!atomic_exchange(&c->have_error, true))
      snprintf(c->error, sizeof c->error, "%s (jetstream error %d)",
               pae && pae->ErrText ? pae->ErrText : natsStatus_GetText(pae ? pae->Err : NATS_ERR),
               pae ? (int)pae->ErrCode : 0);
  }
  natsMsg_Destroy(msg);
}

bool act_filter_overlaps(const char *filter, char *const *subjects, size_t n) {
  if (!filter || !*filter) return true;
  for (size_t k = 0; k < n; k++)
    if (probe_subject_covers(filter, subjects[k]) || probe_subject_covers(subjects[k], filter)) return true;
  return false;
}

bool act_subject_in(const char *subject, const json_t *patterns) {
  size_t i;
  const json_t *v;
  json_array_foreach(patterns, i, v) {
    const char *p = json_string_value(v);
    if (p && probe_subject_covers(p, subject)) return true;
  }
  return false;
}

/* The lowest ack floor of the phase's consumers on `stream` whose filter overlaps the subjects,
 * and what they still have pending or unacknowledged; *found false when there is none. */
static gg_status phase_ack_floor(act_ctx *ctx, const plan_action *a, uint64_t *floor, uint64_t *pending,
                                 uint64_t *unacked, bool *found, gg_error *err) {
  *found = false;
  *pending = *unacked = 0;
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  for (int sec = 0; ph && sec < 2; sec++) {
    const plan_action *list = sec == 0 ? ph->prepare : ph->actions;
    size_t n = sec == 0 ? ph->nprepare : ph->nactions;
    for (size_t i = 0; i < n; i++) {
      if (list[i].kind != PLAN_ACT_CREATE_CONSUMER || strcmp(list[i].stream, a->to) != 0) continue;
      jsConsumerInfo *ci = NULL;
      gg_status st = act_consumer_get(ctx, list[i].stream, list[i].consumer, &ci, err);
      if (st != GG_OK) return st;
      if (ci && act_filter_overlaps(ci->Config->FilterSubject, a->subjects, a->nsubjects)) {
        if (!*found || ci->AckFloor.Stream < *floor) *floor = ci->AckFloor.Stream;
        *pending += ci->NumPending + (uint64_t)ci->NumAckPending;
        *unacked += (uint64_t)ci->NumAckPending;
        *found = true;
      }
      jsConsumerInfo_Destroy(ci);
    }
  }
  return GG_OK;
}

/* A copy of m for its original subject: every header, a Nats-Msg-Id (the message's own, or one
 * derived from where it was stored), and where it came from. */
static natsStatus carry_copy(natsMsg *m, const char *stream, uint64_t seq, natsMsg **out) {
  *out = NULL;
  natsMsg *c = NULL;
  natsStatus s =
      natsMsg_Create(&c, natsMsg_GetSubject(m), NULL, natsMsg_GetData(m), natsMsg_GetDataLength(m));
  const char **keys = NULL;
  int nkeys = 0;
  if (s == NATS_OK) {
    natsStatus hs = natsMsgHeader_Keys(m, &keys, &nkeys);
    if (hs != NATS_OK && hs != NATS_NOT_FOUND) s = hs;
  }
  for (int i = 0; s == NATS_OK && i < nkeys; i++) {
    const char **vals = NULL;
    int nv = 0;
    s = natsMsgHeader_Values(m, keys[i], &vals, &nv);
    for (int k = 0; s == NATS_OK && k < nv; k++) s = natsMsgHeader_Add(c, keys[i], vals[k]);
    free((void *)vals);
  }
  free((void *)keys);
  const char *id = NULL;
  char buf[300];
  if (s == NATS_OK && (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id || !*id)) {
    snprintf(buf, sizeof buf, "gonogo-carry:%s:%llu", stream, (unsigned long long)seq);
    s = natsMsgHeader_Set(c, "Nats-Msg-Id", buf);
  }
  if (s == NATS_OK) {
    snprintf(buf, sizeof buf, "%s:%llu", stream, (unsigned long long)seq);
    s = natsMsgHeader_Set(c, "Gonogo-Carried-From", buf);
  }
  if (s == NATS_OK)
    *out = c;
  else
    natsMsg_Destroy(c);
  return s;
}

/* Republish m (a message of a->to at seq, on a carried subject) asynchronously to its subject,
 * which a->from holds again. Takes m. */
static gg_status carry_one(const plan_action *a, jsCtx *pub, natsMsg *m, uint64_t seq, long *found,
                           gg_error *err) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectStream = a->from;
  natsMsg *c = NULL;
  natsStatus s = carry_copy(m, a->to, seq, &c);
  natsMsg_Destroy(m);
  if (s == NATS_OK) s = js_PublishMsgAsync(pub, &c, &po);
  natsMsg_Destroy(c);
  if (s != NATS_OK)
    return act_nats_error(err, s, 0, "carry-back: republish sequence %llu of '%s' to '%s'",
                          (unsigned long long)seq, a->to, a->from);
  (*found)++;
  if (*found % CARRY_FAILPOINT_EVERY == 0) gg_failpoint("act.carryback.progress");
  return GG_OK;
}

/* The same read one sequence at a time (a round trip each), for a stream that refuses another
 * consumer: work-queue retention allows one consumer per subject, with explicit acks. */
static gg_status carry_read_each(act_ctx *ctx, jsCtx *pub, const plan_action *a, const json_t *pats,
                                 uint64_t first, uint64_t last, long *found, gg_error *err) {
  for (uint64_t seq = first; seq <= last; seq++) {
    natsMsg *m = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetMsg(&m, ctx->js, a->to, seq, NULL, &je);
    if (s == NATS_NOT_FOUND || je == JSNoMessageFoundErr) continue; /* acknowledged and removed, or deleted */
    if (s != NATS_OK)
      return act_nats_error(err, s, je, "carry-back: get sequence %llu of '%s'", (unsigned long long)seq,
                            a->to);
    if (!act_subject_in(natsMsg_GetSubject(m), pats)) {
      natsMsg_Destroy(m);
      continue;
    }
    gg_status st = carry_one(a, pub, m, seq, found, err);
    if (st != GG_OK) return st;
  }
  return GG_OK;
}

/* Read a->to from sequence first to last and republish on pub each message on a carried subject.
 * The read is one ephemeral push consumer without a filter (AckNone, flow control), created here
 * and bound by name: once the subjects are back on the old stream, the new stream's only subject
 * is its placeholder, and the server refuses a filter that is not a subset of it. */
static gg_status carry_read(act_ctx *ctx, jsCtx *pub, const plan_action *a, uint64_t first, uint64_t last,
                            long *found, gg_error *err) {
  char inbox[128];
  natsInbox *ib = NULL;
  natsStatus s = natsInbox_Create(&ib);
  if (s != NATS_OK) return act_nats_error(err, s, 0, "carry-back: inbox");
  snprintf(inbox, sizeof inbox, "%s", (const char *)ib);
  natsInbox_Destroy(ib);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.DeliverSubject = inbox;
  cc.DeliverPolicy = js_DeliverByStartSequence;
  cc.OptStartSeq = first;
  cc.AckPolicy = js_AckNone;
  cc.FlowControl = true;
  cc.Heartbeat = 1000000000LL;
  cc.InactiveThreshold = 30LL * 1000000000LL;
  cc.Description = "gonogo carry-back";
  jsConsumerInfo *ci = NULL;
  jsErrCode je = 0;
  json_t *pats = json_array();
  for (size_t i = 0; i < a->nsubjects; i++) json_array_append_new(pats, json_string(a->subjects[i]));
  s = js_AddConsumer(&ci, ctx->js, a->to, &cc, NULL, &je);
  if (s != NATS_OK && je != 0 && je != JSStreamNotFoundErr) {
    gg_status st = carry_read_each(ctx, pub, a, pats, first, last, found, err);
    json_decref(pats);
    return st;
  }
  if (s != NATS_OK) {
    json_decref(pats);
    return act_nats_error(err, s, je, "carry-back: read stream '%s'", a->to);
  }
  char name[128];
  snprintf(name, sizeof name, "%s", ci->Name);
  bool nothing = ci->NumPending == 0 && ci->Delivered.Consumer == 0;
  jsConsumerInfo_Destroy(ci);
  ci = NULL;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = a->to;
  so.Consumer = name;
  natsSubscription *sub = NULL;
  gg_status st = GG_OK;
  s = js_SubscribeSync(&sub, ctx->js, NULL, NULL, &so, &je);
  if (s != NATS_OK) {
    st = act_nats_error(err, s, je, "carry-back: read stream '%s'", a->to);
    nothing = true;
  }
  bool done = nothing;
  double last_delivery = gg_clock_mono();
  while (!done) {
    natsMsg *m = NULL;
    s = natsSubscription_NextMsg(&m, sub, CARRY_IDLE_MS);
    if (s == NATS_TIMEOUT) {
      /* Nothing delivered for a while: done if the consumer has nothing left to deliver. */
      s = js_GetConsumerInfo(&ci, ctx->js, a->to, name, NULL, &je);
      if (s == NATS_OK && ci->NumPending == 0) done = true;
      jsConsumerInfo_Destroy(ci);
      ci = NULL;
      if (!done && gg_clock_mono() - last_delivery > CARRY_STALL_S) {
        st = gg_error_set(err, GG_ERR_TIMEOUT, "carry-back: no delivery from stream '%s' for %.0f s", a->to,
                          CARRY_STALL_S);
        break;
      }
      continue;
    }
    if (s != NATS_OK) {
      st = act_nats_error(err, s, 0, "carry-back: read stream '%s'", a->to);
      break;
    }
    last_delivery = gg_clock_mono();
    jsMsgMetaData *md = NULL;
    s = natsMsg_GetMetaData(&md, m);
    if (s != NATS_OK) {
      natsMsg_Destroy(m);
      st = act_nats_error(err, s, 0, "carry-back: metadata of a message of '%s'", a->to);
      break;
    }
    uint64_t seq = md->Sequence.Stream;
    done = md->NumPending == 0 || seq >= last;
    jsMsgMetaData_Destroy(md);
    if (seq > last || !act_subject_in(natsMsg_GetSubject(m), pats)) {
      natsMsg_Destroy(m); /* after the range, or on a subject this move did not carry */
      continue;
    }
    if ((st = carry_one(a, pub, m, seq, found, err)) != GG_OK) break;
  }
  json_decref(pats);
  natsSubscription_Destroy(sub);
  s = js_DeleteConsumer(ctx->js, a->to, name, NULL, &je);
  (void)s; /* gone already, or it expires by itself (InactiveThreshold) */
  return st;
}

/* The range to carry: a journaled one of an interrupted attempt, or computed now. *first > *last
 * when there is nothing to carry. */
static gg_status carry_range(act_ctx *ctx, const plan_action *a, const json_t *undo, const jsStreamInfo *si,
                             uint64_t *first, uint64_t *last, bool *resumed, gg_error *err) {
  json_t *prev = act_run_carry(ctx, a->to, "started", a);
  *resumed = prev != NULL;
  if (prev) {
    *first = (uint64_t)json_integer_value(json_object_get(prev, "first"));
    *last = (uint64_t)json_integer_value(json_object_get(prev, "last"));
    json_decref(prev);
    return GG_OK;
  }
  uint64_t cut = (uint64_t)json_integer_value(json_object_get(undo, "to_last_seq"));
  /* A consumer that is still working gets a moment to finish what it was delivered (nothing new
   * reaches it now), so that less is carried twice; one with nothing delivered and unacknowledged
   * (no service reading) or whose ack floor stands still is not waited for. */
  uint64_t floor = 0, pending = 0, unacked = 0, seen = 0;
  bool have_floor = false;
  double t0 = gg_clock_mono(), moved = t0;
  gg_status st;
  for (;;) {
    if ((st = phase_ack_floor(ctx, a, &floor, &pending, &unacked, &have_floor, err)) != GG_OK) return st;
    double now = gg_clock_mono();
    if (floor != seen) moved = now;
    seen = floor;
    if (!have_floor || pending == 0 || unacked == 0 || now - moved >= CARRY_SETTLE_STALL_S ||
        now - t0 >= CARRY_SETTLE_MAX_S)
      break;
    usleep(50000);
  }
  *first = (have_floor && floor > cut ? floor : cut) + 1;
  if (*first < si->State.FirstSeq) *first = si->State.FirstSeq;
  *last = si->State.LastSeq;
  return GG_OK;
}

gg_status act_carry_back(act_ctx *ctx, const plan_action *a, const json_t *undo, json_t *out, gg_error *err) {
  jsStreamInfo *si = NULL;
  jsCtx *pub = NULL;
  carry_acks acks;
  memset(&acks, 0, sizeof acks);
  gg_status st = act_stream_get(ctx, a->to, NULL, &si, err);
  if (st != GG_OK || !si) return st; /* no new stream: nothing can have reached it */
  uint64_t first = 0, last = 0;
  bool resumed = false;
  double t0 = gg_clock_mono();
  if ((st = carry_range(ctx, a, undo, si, &first, &last, &resumed, err)) != GG_OK) goto out;
  json_t *subjects = json_array();
  for (size_t i = 0; i < a->nsubjects; i++) json_array_append_new(subjects, json_string(a->subjects[i]));
  json_t *rec = json_pack("{s:s, s:s, s:O, s:s, s:I, s:I}", "note", "carry-back", "stream", a->to, "subjects",
                          subjects, "to", a->from, "first", (json_int_t)first, "last", (json_int_t)last);
  json_decref(subjects);
  if (first > last) {
    json_object_set_new(rec, "state", json_string("done"));
    json_object_set_new(rec, "found", json_integer(0));
    json_object_set_new(out, "carried", json_incref(rec));
    act_journal_note(ctx, rec);
    goto out;
  }
  if (!resumed) {
    json_t *started = json_deep_copy(rec);
    json_object_set_new(started, "state", json_string("started"));
    act_journal_note(ctx, started);
  }
  act_say(ctx, "carrying back %s sequences %llu..%llu to %s%s", a->to, (unsigned long long)first,
          (unsigned long long)last, a->from, resumed ? " (again: an earlier attempt was interrupted)" : "");
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  jo.PublishAsync.MaxPending = CARRY_MAX_PENDING;
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = &acks;
  natsStatus s = natsConnection_JetStream(&pub, ctx->nc, &jo);
  if (s != NATS_OK) {
    json_decref(rec);
    st = act_nats_error(err, s, 0, "carry-back: jetstream context");
    goto out;
  }
  long found = 0;
  st = carry_read(ctx, pub, a, first, last, &found, err);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = CARRY_ACK_WAIT_MS;
  s = js_PublishAsyncComplete(pub, &po);
  long ok = atomic_load(&acks.ok), dup = atomic_load(&acks.dup), failed = atomic_load(&acks.failed);
  if (st == GG_OK && s != NATS_OK)
    st = act_nats_error(err, s, 0, "carry-back: %ld of %ld republished messages not acknowledged by '%s'",
                        found - ok - dup, found, a->from);
  if (st == GG_OK && (failed > 0 || ok + dup != found))
    st = gg_error_set(err, GG_ERR_STATE, "carry-back %s -> %s: %ld found, %ld acknowledged, %ld refused%s%s",
                      a->to, a->from, found, ok + dup, failed, failed ? ": " : "", failed ? acks.error : "");
  double ms = (gg_clock_mono() - t0) * 1000;
  json_object_set_new(rec, "found", json_integer(found));
  json_object_set_new(rec, "republished", json_integer(ok));
  json_object_set_new(rec, "duplicates", json_integer(dup));
  json_object_set_new(rec, "ms", json_real(ms));
  json_object_set_new(out, "carried", json_incref(rec));
  if (st != GG_OK) {
    json_decref(rec);
    goto out;
  }
  json_object_set_new(rec, "state", json_string("done"));
  act_journal_note(ctx, rec);
  ctx->carried += found;
  act_change(ctx, "carried back %ld messages %s -> %s (%ld new, %ld already there) in %.0f ms", found, a->to,
             a->from, ok, dup, ms);
  act_say(ctx, "carried back %ld messages from %s to %s in %.0f ms (each acknowledged by JetStream)", found,
          a->to, a->from, ms);
out:
  if (pub) {
    jsPubOptions po2;
    jsPubOptions_Init(&po2);
    po2.MaxWait = 1000;
    if (js_PublishAsyncComplete(pub, &po2) != NATS_OK) { /* acks still owed: drop them, then the context */
      natsMsgList pend = {0};
      if (js_PublishAsyncGetPendingList(&pend, pub) == NATS_OK) natsMsgList_Destroy(&pend);
    }
    jsCtx_Destroy(pub);
  }
  jsStreamInfo_Destroy(si);
  return st;
}
