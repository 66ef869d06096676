/*
 * run.c: a phase from start to end — the lease and its renewing thread, the journaled intent and
 * outcome around every action, the verify criteria after the actions, on_failure, rollback (the
 * inverses of what this run of the phase did, newest first) and resume (re-observe what a killed
 * run left in flight, then finish whichever of forward or rollback the journal shows was under way).
 *
 * The journal is the only memory between processes: "this run of the phase" is every event after
 * the phase's latest phase_started; an action is done when it has a forward outcome with result
 * ok or noop there, in flight when it has an intent and no outcome; a rollback is under way when
 * an inverse intent follows phase_started and no phase_rolled_back does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act/internal.h"
#include "base/clock.h"
#include "base/failpoint.h"
#include "gate/env.h"
#include "probe/probe.h"

void act_summary_release(act_summary *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nchanges; i++) free(s->changes[i]);
  free(s->changes);
  free(s->continuity);
  free(s->failure);
  memset(s, 0, sizeof *s);
  s->gap_ms = -1;
}

/* ---- the lease, renewed by a thread ---- */

typedef struct {
  journal *j2;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop, started;
  _Atomic bool lost;
} keeper;

static void *keeper_main(void *arg) {
  keeper *k = arg;
  pthread_mutex_lock(&k->mu);
  while (!k->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(JOURNAL_LEASE_TTL / 3);
    pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    if (k->stop) break;
    gg_error e;
    if (journal_lock_renew(k->j2, JOURNAL_LEASE_TTL, &e) != GG_OK) atomic_store(&k->lost, true);
  }
  pthread_mutex_unlock(&k->mu);
  return NULL;
}

static gg_status keeper_start(keeper *k, journal *j, const char *holder, bool break_lock, gg_error *err) {
  memset(k, 0, sizeof *k);
  gg_status st = journal_lock_acquire(j, holder, JOURNAL_LEASE_TTL, break_lock, NULL, err);
  if (st != GG_OK) return st;
  if ((st = journal_reopen(j, 0, &k->j2, err)) != GG_OK) {
    gg_error e;
    if (journal_lock_release(j, &e) != GG_OK) gg_error_clear(&e);
    return st;
  }
  journal_lock_share(k->j2, j);
  pthread_mutex_init(&k->mu, NULL);
  pthread_cond_init(&k->cv, NULL);
  if (pthread_create(&k->th, NULL, keeper_main, k) == 0) k->started = true;
  return GG_OK;
}

static void keeper_stop(keeper *k, journal *j) {
  if (k->started) {
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->th, NULL);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
  }
  journal_close(k->j2);
  k->j2 = NULL;
  gg_error e;
  if (journal_lock_release(j, &e) != GG_OK) gg_error_clear(&e); /* it expires by itself */
}

/* ---- this run of the phase, from the journal ---- */

typedef struct {
  journal_event *ev;
  size_t n;
  size_t start;     /* index of the latest phase_started (n when none) */
  json_t **content; /* parsed content of ev[start..n) (index i - start) */
} phase_log;

static void log_release(phase_log *l) {
  for (size_t i = l->start; i < l->n; i++) json_decref(l->content[i - l->start]);
  free(l->content);
  journal_events_free(l->ev, l->n);
  memset(l, 0, sizeof *l);
}

static gg_status log_load(journal *j, const char *phase, phase_log *l, gg_error *err) {
  memset(l, 0, sizeof *l);
  journal_filter f = journal_filter_all();
  f.any_phase = false;
  f.phase = phase;
  gg_status st = journal_events(j, &f, &l->ev, &l->n, err);
  if (st != GG_OK) return st;
  l->start = l->n;
  for (size_t i = l->n; i-- > 0;)
    if (strcmp(l->ev[i].kind, "phase_started") == 0) {
      l->start = i;
      break;
    }
  if (l->start < l->n) {
    l->content = calloc(l->n - l->start, sizeof *l->content);
    if (!l->content) return gg_error_set(err, GG_ERR_NOMEM, "journal events");
    for (size_t i = l->start; i < l->n; i++) l->content[i - l->start] = journal_event_content(&l->ev[i]);
  }
  return GG_OK;
}

static const char *jstr(const json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? v : "";
}

static json_t *log_content(const phase_log *l, size_t i) {
  return l->content[i - l->start];
}

static bool is_kind(const phase_log *l, size_t i, const char *kind) {
  return strcmp(l->ev[i].kind, kind) == 0;
}

static bool matches(const json_t *c, const char *section, size_t index, const char *mode) {
  return c && strcmp(jstr(c, "section"), section) == 0 &&
         (size_t)json_integer_value(json_object_get(c, "index")) == index &&
         strcmp(jstr(c, "mode"), mode) == 0;
}

/* The latest forward outcome of (section, index) in this run; NULL when none. */
static json_t *find_outcome(const phase_log *l, const char *section, size_t index, const char *mode) {
  for (size_t i = l->n; i-- > l->start;)
    if (is_kind(l, i, "action_outcome") && matches(log_content(l, i), section, index, mode))
      return log_content(l, i);
  return NULL;
}

/* The intent of (section, index) that has no outcome after it; NULL when none. */
static json_t *find_open_intent(const phase_log *l, const char *section, size_t index, const char *mode) {
  for (size_t i = l->n; i-- > l->start;) {
    json_t *c = log_content(l, i);
    if (!matches(c, section, index, mode)) continue;
    if (is_kind(l, i, "action_outcome")) return NULL;
    if (is_kind(l, i, "action_intent")) return c;
  }
  return NULL;
}

/* The latest intent of this run that no outcome follows: the action a kill interrupted; NULL
 * when the run stopped between two actions. */
static const json_t *in_flight_intent(const phase_log *l) {
  for (size_t i = l->n; i-- > l->start;) {
    json_t *c = log_content(l, i);
    if (!c || !is_kind(l, i, "action_intent")) continue;
    size_t idx = (size_t)json_integer_value(json_object_get(c, "index"));
    if (find_open_intent(l, jstr(c, "section"), idx, jstr(c, "mode")) == c) return c;
  }
  return NULL;
}

/* " (interrupted during 'move subjects …')" or "" */
static void in_flight_said(const phase_log *l, char *out, size_t cap) {
  const json_t *c = in_flight_intent(l);
  out[0] = '\0';
  if (c)
    snprintf(out, cap, " (interrupted %s '%s')",
             strcmp(jstr(c, "mode"), "inverse") == 0 ? "while undoing" : "during", jstr(c, "describe"));
}

static bool outcome_done(const json_t *o) {
  const char *r = json_string_value(json_object_get(o, "result"));
  return r && (strcmp(r, "ok") == 0 || strcmp(r, "noop") == 0);
}

json_t *act_run_baseline(act_ctx *ctx, const char *from, const char *to) {
  phase_log l;
  gg_error e;
  if (log_load(ctx->j, ctx->phase, &l, &e) != GG_OK) {
    log_release(&l);
    return NULL;
  }
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  json_t *found = NULL;
  for (size_t i = l.start; i < l.n && !found; i++) {
    json_t *c = log_content(&l, i);
    if (!is_kind(&l, i, "action_intent") || !c) continue;
    if (strcmp(jstr(c, "mode"), "forward") != 0) continue;
    const char *sec = json_string_value(json_object_get(c, "section"));
    size_t idx = (size_t)json_integer_value(json_object_get(c, "index"));
    const plan_action *list = sec && strcmp(sec, "prepare") == 0 ? ph->prepare : ph->actions;
    size_t n = sec && strcmp(sec, "prepare") == 0 ? ph->nprepare : ph->nactions;
    if (idx >= n || list[idx].kind != PLAN_ACT_MOVE_SUBJECTS) continue;
    if (strcmp(list[idx].from, from) != 0 || strcmp(list[idx].to, to) != 0) continue;
    json_t *b = json_object_get(json_object_get(c, "observed"), "baseline");
    if (b) found = json_incref(b);
  }
  log_release(&l);
  return found;
}

/* Whether event i is a carry-back note in `state` for `stream` (any when NULL) of the move of
 * `subjects` (any when NULL). */
static bool carry_matches(const phase_log *l, size_t i, const char *stream, const char *state,
                          const json_t *subjects) {
  json_t *c = log_content(l, i);
  return is_kind(l, i, "note") && strcmp(jstr(c, "note"), "carry-back") == 0 &&
         (!stream || strcmp(jstr(c, "stream"), stream) == 0) && strcmp(jstr(c, "state"), state) == 0 &&
         (!subjects || json_equal(json_object_get(c, "subjects"), (json_t *)subjects));
}

/* Whether done note i is the latest of its move (a later attempt supersedes it). */
static bool carry_latest(const phase_log *l, size_t i) {
  json_t *c = log_content(l, i);
  for (size_t k = i + 1; k < l->n; k++)
    if (carry_matches(l, k, jstr(c, "stream"), "done", json_object_get(c, "subjects"))) return false;
  return true;
}

json_t *act_run_carry(act_ctx *ctx, const char *stream, const char *state, const plan_action *a) {
  phase_log l;
  gg_error e;
  json_t *found = NULL, *subjects = NULL;
  if (a) {
    subjects = json_array();
    for (size_t i = 0; i < a->nsubjects; i++) json_array_append_new(subjects, json_string(a->subjects[i]));
  }
  if (log_load(ctx->j, ctx->phase, &l, &e) == GG_OK) {
    if (a || strcmp(state, "done") != 0) {
      for (size_t i = l.n; i-- > l.start && !found;)
        if (carry_matches(&l, i, stream, state, subjects)) found = json_incref(log_content(&l, i));
    } else {
      /* Every move carried back from this stream: their subjects, the highest end, the total. */
      json_int_t last = 0, total = 0;
      json_t *all = json_array();
      for (size_t i = l.start; i < l.n; i++) {
        if (!carry_matches(&l, i, stream, "done", NULL) || !carry_latest(&l, i)) continue;
        json_t *c = log_content(&l, i);
        json_array_extend(all, json_object_get(c, "subjects"));
        json_int_t end = json_integer_value(json_object_get(c, "last"));
        if (end > last) last = end;
        total += json_integer_value(json_object_get(c, "found"));
      }
      if (json_array_size(all) > 0)
        found = json_pack("{s:s, s:o, s:I, s:I}", "stream", stream, "subjects", all, "last", last, "found",
                          total);
      else
        json_decref(all);
    }
  }
  log_release(&l);
  json_decref(subjects);
  return found;
}

json_t *act_run_shift_note(act_ctx *ctx, const char *section, size_t index) {
  phase_log l;
  gg_error e;
  json_t *found = NULL;
  if (log_load(ctx->j, ctx->phase, &l, &e) == GG_OK)
    for (size_t i = l.n; i-- > l.start && !found;) {
      json_t *c = log_content(&l, i);
      if (is_kind(&l, i, "note") && strcmp(jstr(c, "note"), "shift") == 0 &&
          strcmp(jstr(c, "section"), section) == 0 &&
          (size_t)json_integer_value(json_object_get(c, "index")) == index)
        found = json_incref(c);
    }
  log_release(&l);
  return found;
}

long act_run_carried_total(act_ctx *ctx) {
  phase_log l;
  gg_error e;
  long total = 0;
  if (log_load(ctx->j, ctx->phase, &l, &e) == GG_OK)
    for (size_t i = l.start; i < l.n; i++)
      if (carry_matches(&l, i, NULL, "done", NULL) && carry_latest(&l, i))
        total += (long)json_integer_value(json_object_get(log_content(&l, i), "found"));
  log_release(&l);
  return total;
}

/* ---- journaling ---- */

/* Journal an event (takes content). A failure is said, and returned for the callers that must
 * not act without a record (an action's intent). */
static gg_status append(act_ctx *ctx, journal_kind kind, json_t *content) {
  gg_error e;
  gg_status st = journal_append(ctx->j, kind, ctx->phase, ctx->actor, content, NULL, &e);
  if (st != GG_OK)
    act_say(ctx, "warning: could not journal %s: %s", journal_kind_name(kind), gg_error_message(&e));
  json_decref(content);
  return st;
}

void act_journal_note(act_ctx *ctx, json_t *content) {
  (void)append(ctx, JOURNAL_NOTE, content);
}

/* One action, forward or inverse, with its intent and outcome journaled. */
static gg_status step(act_ctx *ctx, const char *section, size_t index, const plan_action *a, bool inverse,
                      const json_t *prior, const json_t *undo, const char *reason, gg_error *err) {
  char desc[512];
  if (inverse)
    plan_action_inverse(a, desc, sizeof desc);
  else
    plan_action_describe(a, desc, sizeof desc);
  if (ctx->lease_lost && atomic_load(ctx->lease_lost))
    return gg_error_set(err, GG_ERR_LOCKED,
                        "the migration's lease was lost (broken or expired): stopping before '%s'", desc);
  gg_status st = act_connect(ctx, err);
  if (st != GG_OK) return st;
  json_t *observed = act_observe(ctx, a);
  const char *blind = json_string_value(json_object_get(observed, "error"));
  if (!inverse && blind) {
    /* Acting without what the observation reads (a move without its continuity baseline, a
     * create without knowing whether the object exists) would make the action unverifiable. */
    st = gg_error_set(err, GG_ERR_STATE, "cannot observe the cluster before '%s': %s; not acting blind", desc,
                      blind);
    json_decref(observed);
    return st;
  }
  json_t *intent = json_pack("{s:s, s:I, s:s, s:s, s:s, s:O}", "section", section, "index", (json_int_t)index,
                             "action", plan_action_kind_name(a->kind), "describe", desc, "mode",
                             inverse ? "inverse" : "forward", "observed", observed);
  if (reason) json_object_set_new(intent, "reason", json_string(reason));
  if (append(ctx, JOURNAL_ACTION_INTENT, intent) != GG_OK) {
    json_decref(observed);
    return gg_error_set(err, GG_ERR_SQLITE, "cannot journal the intent of '%s': not acting without a record",
                        desc);
  }
  act_say(ctx, "%s %s", inverse ? "undo:" : "->", desc);
  gg_failpoint2(inverse ? "act.undo.before" : "act.before", plan_action_kind_name(a->kind));
  json_t *out = NULL;
  double t0 = gg_clock_mono();
  st = inverse ? act_inverse(ctx, a, undo, &out, err) : act_forward(ctx, a, prior, observed, &out, err);
  json_object_set_new(out, "section", json_string(section));
  json_object_set_new(out, "index", json_integer((json_int_t)index));
  json_object_set_new(out, "action", json_string(plan_action_kind_name(a->kind)));
  json_object_set_new(out, "mode", json_string(inverse ? "inverse" : "forward"));
  json_object_set_new(out, "elapsed_ms", json_real((gg_clock_mono() - t0) * 1000));
  if (st != GG_OK) {
    json_object_set_new(out, "result", json_string("failed"));
    json_object_set_new(out, "error", json_string(gg_error_message(err)));
  }
  append(ctx, JOURNAL_ACTION_OUTCOME, out);
  gg_failpoint2(inverse ? "act.undo.after" : "act.after", plan_action_kind_name(a->kind));
  json_decref(observed);
  return st;
}

/* ---- rollback ---- */

typedef struct {
  const char *section;
  size_t index;
  const plan_action *a;
  json_t *undo; /* borrowed from the log */
} done_action;

#define ROLLBACK_NOTE "rollback started"

/* What this run's rollback kept: the "kept_note" of each inverse's latest outcome, oldest first
 * (you own the array). */
static json_t *run_kept(act_ctx *ctx) {
  json_t *kept = json_array();
  phase_log l;
  gg_error e;
  if (log_load(ctx->j, ctx->phase, &l, &e) == GG_OK)
    for (size_t i = l.start; i < l.n; i++) {
      json_t *c = log_content(&l, i);
      const char *note = json_string_value(json_object_get(c, "kept_note"));
      if (!is_kind(&l, i, "action_outcome") || !note || strcmp(jstr(c, "mode"), "inverse") != 0) continue;
      size_t idx = (size_t)json_integer_value(json_object_get(c, "index"));
      if (find_outcome(&l, jstr(c, "section"), idx, "inverse") == c)
        json_array_append_new(kept, json_string(note));
    }
  log_release(&l);
  return kept;
}

/* The kept notes joined by "; " into buf ("" when none). */
static const char *kept_text(const json_t *kept, char *buf, size_t cap) {
  size_t len = 0, i;
  json_t *k;
  buf[0] = '\0';
  json_array_foreach(kept, i, k) if (len < cap) len += (size_t)snprintf(
      buf + len, cap - len, "%s%s", i ? "; " : "", json_string_value(k) ? json_string_value(k) : "");
  return buf;
}

/* Whether this run of the phase has a rollback under way or done (its marker note). */
static bool rollback_marked(const phase_log *l) {
  for (size_t i = l->start; i < l->n; i++)
    if (is_kind(l, i, "note") && strcmp(jstr(log_content(l, i), "note"), ROLLBACK_NOTE) == 0) return true;
  return false;
}

/* The reason of a rollback begun in this run and not finished; NULL when none. */
static const char *rollback_pending(const phase_log *l) {
  const char *reason = NULL;
  for (size_t i = l->start; i < l->n; i++) {
    if (is_kind(l, i, "note") && strcmp(jstr(log_content(l, i), "note"), ROLLBACK_NOTE) == 0)
      reason = jstr(log_content(l, i), "reason");
    if (is_kind(l, i, "phase_rolled_back")) reason = NULL;
  }
  return reason;
}

static bool observes_only(plan_action_kind k) {
  return k == PLAN_ACT_DRAIN || k == PLAN_ACT_VERIFY_CONTINUITY || k == PLAN_ACT_WAIT;
}

static gg_status rollback_locked(act_ctx *ctx, const char *reason, bool *did, gg_error *err) {
  *did = false;
  phase_log l;
  gg_status st = log_load(ctx->j, ctx->phase, &l, err);
  if (st != GG_OK) goto out;
  journal_phase_info info;
  if ((st = journal_phase(ctx->j, ctx->phase, &info, err)) != GG_OK) goto out;
  if (l.start == l.n || info.state == JOURNAL_STATE_ROLLED_BACK || info.state == JOURNAL_STATE_NOT_STARTED)
    goto out;
  for (size_t i = l.start; i < l.n; i++)
    if (is_kind(&l, i, "phase_rolled_back")) goto out; /* this run was already rolled back */
  const plan_phase *ph = plan_find_phase(ctx->p, ctx->phase);
  /* Forward actions of this run that may have taken effect, in the order they ran. */
  done_action *done = calloc(ph->nprepare + ph->nactions + 1, sizeof *done);
  size_t nd = 0;
  if (!done) {
    st = gg_error_set(err, GG_ERR_NOMEM, "rollback");
    goto out;
  }
  for (int sec = 0; sec < 2; sec++) {
    const char *name = sec == 0 ? "prepare" : "actions";
    const plan_action *list = sec == 0 ? ph->prepare : ph->actions;
    size_t n = sec == 0 ? ph->nprepare : ph->nactions;
    for (size_t i = 0; i < n; i++) {
      json_t *o = find_outcome(&l, name, i, "forward");
      json_t *open = find_open_intent(&l, name, i, "forward");
      json_t *undo = NULL;
      if (open)
        undo = json_object_get(open, "observed"); /* killed mid-action: undo from what was observed */
      else if (o && outcome_done(o))
        undo = json_object_get(o, "undo");
      else if (o && (list[i].kind == PLAN_ACT_MOVE_SUBJECTS || list[i].kind == PLAN_ACT_SHIFT ||
                     json_is_true(json_object_get(json_object_get(o, "undo"), "unknown"))))
        undo = json_object_get(o, "undo"); /* may be half done, or done by a request that timed out */
      else
        continue;
      if (open && (list[i].kind == PLAN_ACT_CREATE_STREAM || list[i].kind == PLAN_ACT_CREATE_CONSUMER)) {
        /* Created by us if the intent saw it absent and it exists now as the create makes it: the
         * outcome of a request a kill interrupted is unknown, so the inverse observes first. */
        bool absent = json_is_false(json_object_get(undo, "exists"));
        json_t *u = json_pack("{s:b, s:b}", "created", absent, "unknown", absent);
        json_object_set_new(open, "undo_derived", u);
        undo = u;
      }
      done[nd++] = (done_action){name, i, &list[i], undo};
    }
  }
  /* The marker resume looks for: a rollback under way is finished, never turned forward. */
  if (!rollback_marked(&l))
    append(ctx, JOURNAL_NOTE, json_pack("{s:s, s:s}", "note", ROLLBACK_NOTE, "reason", reason));
  /* Newest first, in three passes: first everything but creations (the subjects go back and
   * what the new stream received is carried back), then the consumers the run created (what
   * they had not acknowledged has been carried back), then the streams it created (deleting a
   * stream deletes its consumers, and it must be looked at after the carry-back). */
  for (int pass = 0; pass < 3; pass++)
    for (size_t k = nd; k-- > 0 && st == GG_OK;) {
      done_action *d = &done[k];
      int want = d->a->kind == PLAN_ACT_CREATE_CONSUMER ? 1 : d->a->kind == PLAN_ACT_CREATE_STREAM ? 2 : 0;
      if (want != pass || observes_only(d->a->kind)) continue;
      json_t *inv = find_outcome(&l, d->section, d->index, "inverse");
      if (inv && outcome_done(inv)) continue; /* an interrupted rollback already undid it */
      st = step(ctx, d->section, d->index, d->a, true, NULL, d->undo, reason, err);
    }
  free(done);
  if (st == GG_OK) {
    long carried = act_run_carried_total(ctx);
    json_t *kept = run_kept(ctx);
    append(ctx, JOURNAL_PHASE_ROLLED_BACK,
           json_pack("{s:s, s:I, s:o}", "reason", reason, "carried_back", (json_int_t)carried, "kept", kept));
    *did = true;
  } else {
    /* The phase is "rollback incomplete" (journal_phase: a rollback begun after the latest
     * lifecycle event), with what remains: the failed inverse's error. */
    gg_error_prefix(err, "rollback of phase %s incomplete: ", ctx->phase);
  }
out:
  log_release(&l);
  return st;
}

gg_status act_rollback_phase(const plan *p, journal *j, const char *phase_id, const char *reason,
                             const char *actor, bool take_lock, act_progress_fn progress, void *ud,
                             gg_error *err) {
  return act_rollback_phase_ex(p, j, phase_id, reason, actor, take_lock, false, progress, ud, err);
}

gg_status act_rollback_phase_ex(const plan *p, journal *j, const char *phase_id, const char *reason,
                                const char *actor, bool take_lock, bool break_lock, act_progress_fn progress,
                                void *ud, gg_error *err) {
  if (!plan_find_phase(p, phase_id))
    return gg_error_set(err, GG_ERR_NOT_FOUND, "plan has no phase '%s'", phase_id);
  act_ctx ctx = {.p = p,
                 .j = j,
                 .phase = phase_id,
                 .actor = actor ? actor : "gonogo rollback",
                 .progress = progress,
                 .ud = ud};
  keeper k;
  gg_status st = GG_OK;
  if (take_lock) {
    char holder[128];
    snprintf(holder, sizeof holder, "%s phase %s", ctx.actor, phase_id);
    if ((st = keeper_start(&k, j, holder, break_lock, err)) != GG_OK) return st;
    ctx.lease_lost = &k.lost;
  }
  bool did = false;
  double t0 = gg_clock_mono();
  st = rollback_locked(&ctx, reason ? reason : "rollback", &did, err);
  if (did) {
    long carried = act_run_carried_total(&ctx);
    json_t *kept = run_kept(&ctx);
    char text[2048];
    act_say(&ctx, "phase %s rolled back in %.0f ms (%ld message%s carried back)%s%s", phase_id,
            (gg_clock_mono() - t0) * 1000, carried, carried == 1 ? "" : "s",
            json_array_size(kept) ? "; kept: " : "", kept_text(kept, text, sizeof text));
    json_decref(kept);
  }
  act_ctx_release(&ctx);
  if (take_lock) keeper_stop(&k, j);
  return st;
}

/* ---- verify criteria ---- */

static char *expand(const char *text, const char *id, const char *now) {
  size_t cap = strlen(text) * 2 + 128, len = 0;
  char *out = malloc(cap);
  if (!out) return NULL;
  for (const char *s = text; *s;) {
    const char *rep = NULL;
    size_t skip = 1;
    if (strncmp(s, "{{id}}", 6) == 0)
      rep = id, skip = 6;
    else if (strncmp(s, "{{now}}", 7) == 0)
      rep = now, skip = 7;
    size_t add = rep ? strlen(rep) : 1;
    if (len + add + 1 > cap) {
      cap = (len + add + 1) * 2;
      char *g = realloc(out, cap);
      if (!g) {
        free(out);
        return NULL;
      }
      out = g;
    }
    if (rep)
      memcpy(out + len, rep, add);
    else
      out[len] = *s;
    len += add;
    s += skip;
  }
  out[len] = '\0';
  return out;
}

/* Evaluate `expr` until it is true or `within` seconds have passed. */
static gg_status expect_within(act_ctx *ctx, const expr_node *ast, const char *text, double within,
                               gg_error *err) {
  gate_env *env;
  gg_status st = act_env(ctx, &env, err);
  if (st != GG_OK) return st;
  double deadline = gg_clock_mono() + within;
  for (;;) {
    expr_value v;
    expr_value_init(&v);
    gg_error e;
    gg_error_clear(&e);
    st = gate_eval(env, ast, gg_clock_now(), 5.0, &v, &e);
    bool ok = st == GG_OK && v.kind == EXPR_VAL_BOOL && v.truth;
    expr_value_release(&v);
    if (ok) return GG_OK;
    if (gg_clock_mono() > deadline)
      return gg_error_set(err, st == GG_OK ? GG_ERR_STATE : st, "'%s' not true within %.0f s%s%s", text,
                          within, st != GG_OK ? ": " : "", st != GG_OK ? gg_error_message(&e) : "");
    usleep(250000);
  }
}

gg_status act_verify_criterion(act_ctx *ctx, const plan_criterion *c, gg_error *err) {
  switch (c->kind) {
    case PLAN_CRIT_EXPECT:
      return expect_within(ctx, c->expect.ast, c->expect.text, c->timeout > 0 ? c->timeout : 30, err);
    case PLAN_CRIT_RUN: {
      probe_run_result r;
      gg_status st = probe_run(c->run, c->timeout, ctx->p->workdir, &r, err);
      if (st != GG_OK) return st;
      if (!r.ok) st = gg_error_set(err, GG_ERR_CHILD, "'%s': %s", c->run_shown, r.summary);
      probe_run_result_release(&r);
      return st;
    }
    case PLAN_CRIT_CANARY: {
      gate_env *env;
      gg_status st = act_env(ctx, &env, err);
      if (st != GG_OK) return st;
      char id[64], now[40];
      snprintf(id, sizeof id, "%lld-%d", (long long)(gg_clock_now() * 1000), (int)getpid());
      gg_time_format(gg_clock_now(), now, sizeof now);
      char *body = expand(c->canary_body ? c->canary_body : "", id, now);
      char *text = expand(c->expect.text, id, now);
      expr_node *ast = NULL;
      int col = 0;
      probe_ctx *probes = probe_ctx_new(gate_env_probe_config(env));
      if (!body || !text || !probes)
        st = gg_error_set(err, GG_ERR_NOMEM, "canary");
      else if (c->canary_url)
        st = probe_canary_post(probes, c->canary_url, c->canary_content_type, body, strlen(body), id, NULL,
                               err);
      else
        st = probe_canary_publish(probes, c->canary_subject, body, strlen(body), id, NULL, NULL, err);
      if (st == GG_OK) st = expr_parse(text, &ast, &col, err);
      if (st == GG_OK) st = expect_within(ctx, ast, text, c->within > 0 ? c->within : 30, err);
      expr_free(ast);
      probe_ctx_free(probes);
      free(body);
      free(text);
      return st;
    }
    case PLAN_CRIT_ATTEST:
      return gg_error_set(err, GG_ERR_UNSUPPORTED, "an attestation cannot be a post-action verification");
  }
  return GG_OK;
}

/* ---- running ---- */

static gg_status run_section(act_ctx *ctx, const phase_log *l, const char *section, const plan_action *list,
                             size_t n, gg_error *err) {
  for (size_t i = 0; i < n; i++) {
    json_t *o = l ? find_outcome(l, section, i, "forward") : NULL;
    if (o && outcome_done(o)) continue; /* done before a kill: never twice */
    json_t *prior = l ? find_open_intent(l, section, i, "forward") : NULL;
    gg_status st = step(ctx, section, i, &list[i], false, prior, NULL, NULL, err);
    if (st != GG_OK) {
      char desc[256];
      plan_action_describe(&list[i], desc, sizeof desc);
      gg_error_prefix(err, "%s %zu (%s): ", section, i + 1, desc);
      return st;
    }
  }
  return GG_OK;
}

/* The body of run and resume once the lease is held. log: this run's journal (resume) or NULL. */
static gg_status run_body(act_ctx *ctx, const plan_phase *ph, bool prepare_only, const phase_log *log,
                          gg_error *err) {
  gg_status st = run_section(ctx, log, "prepare", ph->prepare, ph->nprepare, err);
  if (st == GG_OK && !prepare_only) st = run_section(ctx, log, "actions", ph->actions, ph->nactions, err);
  if (st == GG_OK && !prepare_only)
    for (size_t i = 0; i < ph->nverify && st == GG_OK; i++) {
      act_say(ctx, "verify: %s", ph->verify[i].name);
      st = act_verify_criterion(ctx, &ph->verify[i], err);
      if (st != GG_OK) gg_error_prefix(err, "verify '%s': ", ph->verify[i].name);
    }
  if (st == GG_OK) {
    ctx->sum->completed = true;
    append(ctx, prepare_only ? JOURNAL_PHASE_PREPARED : JOURNAL_PHASE_COMPLETED,
           json_pack("{s:f, s:I}", "gap_ms", ctx->sum->gap_ms, "changes", (json_int_t)ctx->sum->nchanges));
    return GG_OK;
  }
  ctx->sum->failure = strdup(gg_error_message(err));
  if (ph->on_failure == PLAN_ON_FAILURE_STOP) {
    append(ctx, JOURNAL_PHASE_FAILED, json_pack("{s:s}", "reason", gg_error_message(err)));
    return st;
  }
  char reason[GG_ERROR_MSG_MAX + 32];
  snprintf(reason, sizeof reason, "action failed: %s", gg_error_message(err));
  gg_error e2;
  gg_error_clear(&e2);
  bool did = false;
  act_say(ctx, "phase %s failed; rolling back", ph->id);
  if (rollback_locked(ctx, reason, &did, &e2) == GG_OK)
    ctx->sum->rolled_back = did;
  else
    gg_error_prefix(err, "%s; and ", gg_error_message(&e2));
  return st;
}

gg_status act_run_phase(const plan *p, journal *j, const char *phase_id, const act_run_opts *opts,
                        act_summary *out, gg_error *err) {
  memset(out, 0, sizeof *out);
  out->gap_ms = -1;
  const plan_phase *ph = plan_find_phase(p, phase_id);
  if (!ph) return gg_error_set(err, GG_ERR_NOT_FOUND, "plan has no phase '%s'", phase_id);
  act_run_opts o = opts ? *opts : (act_run_opts){0};
  act_ctx ctx = {.p = p,
                 .j = j,
                 .phase = phase_id,
                 .actor = o.actor ? o.actor : "gonogo run",
                 .progress = o.progress,
                 .ud = o.ud,
                 .hold = o.hold,
                 .hold_ud = o.hold_ud,
                 .sum = out};
  char holder[128];
  snprintf(holder, sizeof holder, "%s phase %s", ctx.actor, phase_id);
  keeper k;
  gg_status st = keeper_start(&k, j, holder, o.break_lock, err);
  if (st != GG_OK) return st;
  ctx.lease_lost = &k.lost;
  double t0 = gg_clock_mono();
  journal_phase_info info;
  if ((st = journal_phase(j, phase_id, &info, err)) != GG_OK) goto out;
  if (info.state == JOURNAL_STATE_RUNNING) {
    st = gg_error_set(err, GG_ERR_STATE, "phase %s is in flight from an interrupted run: gonogo resume PLAN",
                      phase_id);
    goto out;
  }
  if (info.state == JOURNAL_STATE_ROLLBACK_INCOMPLETE) {
    st = gg_error_set(err, GG_ERR_STATE,
                      "phase %s has a rollback that did not finish%s%s: finish it first (gonogo rollback or "
                      "gonogo resume)",
                      phase_id, info.reason[0] ? ": " : "", info.reason);
    goto out;
  }
  if (info.state == JOURNAL_STATE_COMPLETED) {
    st = gg_error_set(err, GG_ERR_STATE, "phase %s is already completed%s", phase_id,
                      o.prepare_only ? ": nothing to prepare" : " (roll it back first to run it again)");
    goto out;
  }
  if ((st = act_connect(&ctx, err)) != GG_OK) goto out;
  append(&ctx, JOURNAL_PHASE_STARTED, json_pack("{s:b}", "prepare", o.prepare_only));
  st = run_body(&ctx, ph, o.prepare_only, NULL, err);
out:
  out->elapsed = gg_clock_mono() - t0;
  act_ctx_release(&ctx);
  keeper_stop(&k, j);
  return st;
}

gg_status act_resume(const plan *p, journal *j, const act_run_opts *opts, char **phase_out, act_summary *out,
                     gg_error *err) {
  memset(out, 0, sizeof *out);
  out->gap_ms = -1;
  if (phase_out) *phase_out = NULL;
  act_run_opts o = opts ? *opts : (act_run_opts){0};
  /* Which phase is in flight: the one whose latest lifecycle event is phase_started, or whose
   * latest run has a rollback begun and not finished. */
  const plan_phase *ph = NULL;
  gg_status st = GG_OK;
  for (size_t i = 0; i < p->nphases && !ph; i++) {
    journal_phase_info info;
    if ((st = journal_phase(j, p->phases[i].id, &info, err)) != GG_OK) return st;
    if (info.state == JOURNAL_STATE_RUNNING)
      ph = &p->phases[i];
    else if (info.state != JOURNAL_STATE_NOT_STARTED && info.state != JOURNAL_STATE_ROLLED_BACK) {
      phase_log pl;
      if ((st = log_load(j, p->phases[i].id, &pl, err)) != GG_OK) return st;
      if (rollback_pending(&pl)) ph = &p->phases[i];
      log_release(&pl);
    }
  }
  if (!ph) {
    /* Nothing in flight (a run killed after it completed, say): with --break-lock, still clear
     * the stale lease it left, so the next actor need not. A live lease is left alone. */
    bool held = false, stale = false;
    journal_lease l;
    if (o.break_lock && journal_lock_get(j, &held, &stale, &l, err) == GG_OK && held && stale &&
        (st = journal_lock_acquire(j, "gonogo resume", JOURNAL_LEASE_TTL, true, NULL, err)) == GG_OK)
      st = journal_lock_release(j, err);
    return st;
  }
  if (phase_out) *phase_out = strdup(ph->id);
  act_ctx ctx = {.p = p,
                 .j = j,
                 .phase = ph->id,
                 .actor = o.actor ? o.actor : "gonogo resume",
                 .progress = o.progress,
                 .ud = o.ud,
                 .hold = o.hold,
                 .hold_ud = o.hold_ud,
                 .sum = out};
  char holder[128];
  snprintf(holder, sizeof holder, "%s phase %s", ctx.actor, ph->id);
  keeper k;
  if ((st = keeper_start(&k, j, holder, o.break_lock, err)) != GG_OK) return st;
  ctx.lease_lost = &k.lost;
  double t0 = gg_clock_mono();
  phase_log l;
  if ((st = log_load(j, ph->id, &l, err)) != GG_OK) goto out;
  /* A rollback under way (its marker note in this run) is finished, never turned forward. */
  const char *rb_reason = rollback_pending(&l);
  if ((st = act_connect(&ctx, err)) != GG_OK) goto out;
  char during[600];
  in_flight_said(&l, during, sizeof during);
  if (rb_reason) {
    act_say(&ctx, "phase %s was being rolled back%s; finishing the rollback", ph->id, during);
    bool did = false;
    char reason[600];
    snprintf(reason, sizeof reason, "%s (resumed)", rb_reason);
    st = rollback_locked(&ctx, reason, &did, err);
    out->rolled_back = did;
  } else {
    json_t *started = log_content(&l, l.start);
    bool prepare_only = json_is_true(json_object_get(started, "prepare"));
    act_say(&ctx, "phase %s was interrupted%s; re-observing and finishing it", ph->id, during);
    st = run_body(&ctx, ph, prepare_only, &l, err);
  }
out:
  log_release(&l);
  out->elapsed = gg_clock_mono() - t0;
  act_ctx_release(&ctx);
  keeper_stop(&k, j);
  return st;
}
