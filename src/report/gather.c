/* Gathering the report's facts from the plan and the journal into one JSON document. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "journal/sign.h"
#include "report/internal.h"
#include "report/report.h"
#include "signoff/signoff.h"

static void set_time(json_t *o, const char *key, double t) {
  if (t <= 0) return;
  char when[40];
  json_object_set_new(o, key, json_string(gg_time_format(t, when, sizeof when)));
}

static void set_str(json_t *o, const char *key, const char *v) {
  if (v) json_object_set_new(o, key, json_string(v));
}

static void copy_member(json_t *dst, json_t *src, const char *key) {
  json_t *v = json_object_get(src, key);
  if (v && !json_is_null(v)) json_object_set(dst, key, v);
}

/* Events of `kind` for one phase (or every phase), in seq order. */
static gg_status events_of(journal *j, const char *kind, const char *phase, journal_event **evs, size_t *n,
                           gg_error *err) {
  journal_filter f = journal_filter_all();
  if (phase != JOURNAL_ANY_PHASE) {
    f.any_phase = false;
    f.phase = phase;
  }
  f.kind = kind;
  return journal_events(j, &f, evs, n, err);
}

static json_t *risks_json(const plan_phase *ph) {
  json_t *arr = json_array();
  for (size_t i = 0; i < ph->nrisks; i++) {
    const plan_risk *r = &ph->risks[i];
    json_t *o = json_object();
    set_str(o, "risk", r->risk);
    set_str(o, "probability", plan_level_name(r->probability));
    set_str(o, "impact", plan_level_name(r->impact));
    set_str(o, "inherent", plan_level_name(r->inherent));
    set_str(o, "mitigation", r->mitigation);
    set_str(o, "residual", plan_level_name(r->residual));
    json_array_append_new(arr, o);
  }
  return arr;
}

/* The latest evaluation of the phase: every item as the gate journaled it. */
static gg_status evaluation_json(journal *j, const char *phase, json_t *o, gg_error *err) {
  journal_event *ev = NULL;
  gg_status st = journal_last_event(j, JOURNAL_EVALUATION, phase, &ev, err);
  if (st == GG_ERR_NOT_FOUND) {
    gg_error_clear(err);
    json_object_set_new(o, "evaluation", json_null());
    return GG_OK;
  }
  if (st != GG_OK) return st;
  json_t *c = journal_event_content(ev);
  json_t *e = json_object();
  set_time(e, "at", ev->time);
  set_str(e, "by", ev->actor);
  json_object_set_new(e, "seq", json_integer(ev->seq));
  if (c) {
    copy_member(e, c, "decision");
    copy_member(e, c, "reasons");
    copy_member(e, c, "pending");
    copy_member(e, c, "earliest");
    json_t *items = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(c, "items"), i, it) {
      json_t *x = json_object();
      const char *keys[] = {"section",   "name",    "kind",    "result",  "observed",
                            "threshold", "failing", "message", "outcome", "holds"};
      for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) copy_member(x, it, keys[k]);
      json_array_append_new(items, x);
    }
    json_object_set_new(e, "items", items);
  }
  json_decref(c);
  journal_events_free(ev, 1);
  json_object_set_new(o, "evaluation", e);
  return GG_OK;
}

static gg_status decision_json(journal *j, const char *phase, json_t *o, gg_error *err) {
  journal_event *ev = NULL;
  gg_status st = journal_last_event(j, JOURNAL_DECISION, phase, &ev, err);
  if (st == GG_ERR_NOT_FOUND) {
    gg_error_clear(err);
    json_object_set_new(o, "decision", json_null());
    return GG_OK;
  }
  if (st != GG_OK) return st;
  json_t *c = journal_event_content(ev);
  json_t *d = json_object();
  if (c) copy_member(d, c, "decision");
  set_time(d, "at", ev->time);
  set_str(d, "by", ev->actor);
  if (c) {
    copy_member(d, c, "reasons");
    copy_member(d, c, "pending");
  }
  json_decref(c);
  journal_events_free(ev, 1);
  json_object_set_new(o, "decision", d);
  return GG_OK;
}

/* Every event of `kind` for the phase, each reduced by fn into an object of the array `key`. */
typedef void (*event_fn)(const plan_phase *ph, const journal_event *ev, json_t *content, json_t *o);

/* An event's signature, if it has one, into x: "signature": {"ok", "public_key", "why"} (the
 * report says which overrides and marks were signed, and which signature is bad). */
static void signature_json(json_t *x, const journal_event *ev, const char *migration) {
  journal_sig_check sc;
  journal_signature_check(ev, migration, &sc);
  if (sc.state == JOURNAL_SIG_NONE) return;
  json_t *s = json_pack("{s:b}", "ok", sc.state == JOURNAL_SIG_GOOD);
  if (sc.have_key) set_str(s, "public_key", sc.public_key_b64);
  if (sc.state == JOURNAL_SIG_BAD) set_str(s, "why", sc.why);
  json_object_set_new(x, "signature", s);
}

static gg_status list_json(journal *j, const char *migration, const plan_phase *ph, const char *kind,
                           const char *key, event_fn fn, json_t *o, gg_error *err) {
  journal_event *evs = NULL;
  size_t n = 0;
  gg_status st = events_of(j, kind, ph->id, &evs, &n, err);
  if (st != GG_OK) return st;
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *c = journal_event_content(&evs[i]);
    json_t *x = json_object();
    set_time(x, "at", evs[i].time);
    set_str(x, "by", evs[i].actor);
    json_object_set_new(x, "seq", json_integer(evs[i].seq));
    if (c) fn(ph, &evs[i], c, x);
    signature_json(x, &evs[i], migration);
    json_decref(c);
    json_array_append_new(arr, x);
  }
  journal_events_free(evs, n);
  json_object_set_new(o, key, arr);
  return GG_OK;
}

static void override_fn(const plan_phase *ph, const journal_event *ev, json_t *c, json_t *x) {
  copy_member(x, c, "reason");
  copy_member(x, c, "overridden");
  copy_member(x, c, "decision");
  copy_member(x, c, "items"); /* what exactly was overridden (older journals: none, the whole decision) */
}

static void action_fn(const plan_phase *ph, const journal_event *ev, json_t *c, json_t *x) {
  const char *keys[] = {"section", "index", "action", "mode", "result", "elapsed_ms", "gap_ms", "error"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) copy_member(x, c, keys[k]);
  const char *section = json_string_value(json_object_get(c, "section"));
  json_int_t idx = json_integer_value(json_object_get(c, "index"));
  const plan_action *list = NULL;
  size_t count = 0;
  if (section && strcmp(section, "prepare") == 0) {
    list = ph->prepare;
    count = ph->nprepare;
  } else if (section && strcmp(section, "actions") == 0) {
    list = ph->actions;
    count = ph->nactions;
  }
  if (list && idx >= 0 && (size_t)idx < count) {
    char text[512];
    const char *mode = json_string_value(json_object_get(c, "mode"));
    if (mode && strcmp(mode, "inverse") == 0)
      plan_action_inverse(&list[idx], text, sizeof text);
    else
      plan_action_describe(&list[idx], text, sizeof text);
    set_str(x, "describe", text);
  }
}

/* A traffic shift's step (DESIGN §14): the "shift" notes; other notes are dropped afterwards. */
static void shift_fn(const plan_phase *ph, const journal_event *ev, json_t *c, json_t *x) {
  const char *note = json_string_value(json_object_get(c, "note"));
  if (!note || strcmp(note, "shift") != 0) return;
  const char *keys[] = {"kv", "step", "steps", "share", "state", "detail"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) copy_member(x, c, keys[k]);
}

static void lifecycle_fn(const plan_phase *ph, const journal_event *ev, json_t *c, json_t *x) {
  set_str(x, "event", ev->kind);
  copy_member(x, c, "reason");
  copy_member(x, c, "carried_back");
  copy_member(x, c, "kept");
}

/* The checkpoints of a rolled-back phase's latest completion that were never evaluated: listed
 * as cancelled (not left out, and never pending). */
static gg_status cancelled_checkpoints(const plan *p, const plan_phase *ph, const journal_phase_info *pi,
                                       journal *j, json_t *arr, gg_error *err) {
  if (!journal_phase_checkpoints_cancelled(pi)) return GG_OK;
  journal_event *evs = NULL;
  size_t n = 0;
  gg_status st = events_of(j, "checkpoint", ph->id, &evs, &n, err);
  if (st != GG_OK) return st;
  for (size_t c = 0; c < p->nvalidation; c++) {
    const plan_checkpoint *cp = &p->validation[c];
    bool applies = cp->nphases == 0, done = false;
    for (size_t k = 0; k < cp->nphases && !applies; k++) applies = strcmp(cp->phases[k], ph->id) == 0;
    for (size_t i = 0; i < n && applies && !done; i++) {
      json_t *ct = evs[i].time >= pi->completed_at ? journal_event_content(&evs[i]) : NULL;
      const char *name = json_string_value(json_object_get(ct, "checkpoint"));
      done = name && strcmp(name, cp->name) == 0;
      json_decref(ct);
    }
    if (!applies || done) continue;
    json_t *x = json_object();
    set_time(x, "at", pi->rolled_back_at > 0 ? pi->rolled_back_at : pi->started_at);
    set_str(x, "checkpoint", cp->name);
    set_str(x, "result", JOURNAL_CHECKPOINT_CANCELLED);
    json_array_append_new(arr, x);
  }
  journal_events_free(evs, n);
  return GG_OK;
}

static void checkpoint_fn(const plan_phase *ph, const journal_event *ev, json_t *c, json_t *x) {
  const char *keys[] = {"checkpoint", "result", "items", "late"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) copy_member(x, c, keys[k]);
}

static void firing_fn(const plan_phase *ph, const journal_event *ev, json_t *c, json_t *x) {
  const char *keys[] = {"rule", "then", "expr", "value", "members"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) copy_member(x, c, keys[k]);
}

/* One sign-off as the evaluator judged it (src/signoff: the same verdict as check and status). */
static json_t *signoff_json(const char *key, const char *name, signoff_verdict v) {
  const journal_signoff *s = v.record;
  json_t *o = json_object();
  set_str(o, key, name);
  if (s) {
    set_str(o, "by", s->by);
    set_time(o, "at", s->time);
    if (s->decision) set_str(o, "decision", s->decision);
    if (!s->decision) set_str(o, "phase", s->phase);
    set_time(o, "expires", v.expires);
    set_str(o, "note", s->note);
  }
  set_str(o, "status", signoff_state_name(v.state));
  if (v.optional) json_object_set_new(o, "optional", json_true());
  signoff_verdict_annotate(o, &v);
  if (v.state == SIGNOFF_VOID && v.changes) set_str(o, "changed", v.changes);
  return o;
}

/* The attestations of criteria[0..n) (a phase's go criteria, or with ph NULL the preflight's). */
static json_t *attestations_json(const signoff_book *book, const plan_phase *ph, const plan_criterion *crit,
                                 size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    if (crit[i].kind != PLAN_CRIT_ATTEST) continue;
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = crit[k].kind == PLAN_CRIT_ATTEST && strcmp(crit[k].attest, crit[i].attest) == 0;
    if (!seen)
      json_array_append_new(arr,
                            signoff_json("item", crit[i].attest, signoff_attestation(book, ph, &crit[i])));
  }
  return arr;
}

static void signoffs_json(const signoff_book *book, const plan_phase *ph, json_t *o) {
  json_t *arr = json_array();
  for (size_t r = 0; r < ph->napprovals; r++)
    json_array_append_new(
        arr, signoff_json("role", ph->approvals[r].role, signoff_approval(book, ph, &ph->approvals[r])));
  json_object_set_new(o, "approvals", arr);
  json_object_set_new(o, "attestations", attestations_json(book, ph, ph->go, ph->ngo));
}

static gg_status phase_json(const plan *p, const plan_phase *ph, journal *j, const signoff_book *book,
                            json_t **out, gg_error *err) {
  json_t *o = json_object();
  set_str(o, "id", ph->id);
  set_str(o, "name", ph->name);
  set_str(o, "description", ph->description);
  set_str(o, "risk", plan_level_name(ph->risk));
  json_object_set_new(o, "risks", risks_json(ph));
  json_t *rb = json_object();
  set_str(rb, "complexity", ph->rollback_complexity);
  if (ph->rollback_estimate >= 0) json_object_set_new(rb, "estimate_s", json_real(ph->rollback_estimate));
  set_str(rb, "note", ph->rollback_note);
  json_object_set_new(o, "rollback_plan", rb);
  journal_phase_info pi;
  memset(&pi, 0, sizeof pi);
  gg_status st = GG_OK;
  if (j && (st = journal_phase(j, ph->id, &pi, err)) != GG_OK) goto fail;
  set_str(o, "state", journal_phase_state_name(pi.state));
  set_time(o, "prepared_at", pi.prepared_at);
  set_time(o, "started_at", pi.started_at);
  set_time(o, "completed_at", pi.completed_at);
  set_time(o, "failed_at", pi.failed_at);
  set_time(o, "rolled_back_at", pi.rolled_back_at);
  if (pi.reason[0]) set_str(o, "reason", pi.reason);
  if (pi.kept[0]) set_str(o, "kept", pi.kept); /* what the latest rollback left in place */
  json_object_set_new(o, "overridden", json_boolean(pi.overridden));
  signoffs_json(book, ph, o);
  if (!j) {
    const char *keys[] = {"evaluation", "decision"};
    for (size_t k = 0; k < 2; k++) json_object_set_new(o, keys[k], json_null());
    const char *lists[] = {"overrides", "actions", "rollbacks", "checkpoints", "rule_firings"};
    for (size_t k = 0; k < 5; k++) json_object_set_new(o, lists[k], json_array());
    *out = o;
    return GG_OK;
  }
  if ((st = evaluation_json(j, ph->id, o, err)) != GG_OK ||
      (st = decision_json(j, ph->id, o, err)) != GG_OK ||
      (st = list_json(j, p->migration, ph, "override", "overrides", override_fn, o, err)) != GG_OK ||
      (st = list_json(j, p->migration, ph, "action_outcome", "actions", action_fn, o, err)) != GG_OK ||
      (st = list_json(j, p->migration, ph, "checkpoint", "checkpoints", checkpoint_fn, o, err)) != GG_OK ||
      (st = cancelled_checkpoints(p, ph, &pi, j, json_object_get(o, "checkpoints"), err)) != GG_OK ||
      (st = list_json(j, p->migration, ph, "rule_firing", "rule_firings", firing_fn, o, err)) != GG_OK)
    goto fail;
  /* Rollbacks and failures, in order. */
  json_t *rbs = json_array();
  const char *kinds[] = {"phase_rolled_back", "phase_failed"};
  for (size_t k = 0; k < 2; k++) {
    if ((st = list_json(j, p->migration, ph, kinds[k], "tmp", lifecycle_fn, o, err)) != GG_OK) {
      json_decref(rbs);
      goto fail;
    }
    json_array_extend(rbs, json_object_get(o, "tmp"));
    json_object_del(o, "tmp");
  }
  json_object_set_new(o, "rollbacks", rbs);
  if ((st = list_json(j, p->migration, ph, "note", "shift_steps", shift_fn, o, err)) != GG_OK) goto fail;
  json_t *steps = json_object_get(o, "shift_steps");
  for (size_t i = json_array_size(steps); i-- > 0;)
    if (!json_object_get(json_array_get(steps, i), "share")) json_array_remove(steps, i);
  *out = o;
  return GG_OK;
fail:
  json_decref(o);
  return st;
}

/* ---- series ---- */

typedef struct {
  const plan *p;
  char **names;
  size_t n, cap;
  int depth;
  bool nomem;
} names_ctx;

static void add_name(names_ctx *c, const char *name) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->names[i], name) == 0) return;
  if (c->n >= REPORT_SERIES_MAX) return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    char **nn = realloc(c->names, cap * sizeof *nn);
    if (!nn) {
      c->nomem = true;
      return;
    }
    c->names = nn;
    c->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) {
    c->nomem = true;
    return;
  }
  c->names[c->n++] = copy;
}

static void collect_names(names_ctx *c, const expr_node *n);

static bool visit(const expr_node *node, void *user) {
  names_ctx *c = user;
  if (expr_node_kind(node) != EXPR_SELECTOR) return true;
  const char *name = expr_node_text(node);
  const plan_define *d = plan_find_define(c->p, name);
  if (d) {
    if (c->depth < 16) {
      c->depth++;
      collect_names(c, d->expr.ast);
      c->depth--;
    }
  } else {
    add_name(c, name);
  }
  return true;
}

static void collect_names(names_ctx *c, const expr_node *n) {
  if (n) expr_walk(n, visit, c);
}

/* One series object per label set of `name`, its points thinned to REPORT_POINTS_MAX. */
static void add_series(json_t *arr, const char *name, const journal_sample_row *rows, size_t from, size_t to,
                       bool with_points) {
  size_t n = to - from;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = from; i < to; i++) {
    if (isnan(rows[i].value)) continue;
    if (rows[i].value < lo) lo = rows[i].value;
    if (rows[i].value > hi) hi = rows[i].value;
  }
  json_t *o = json_object();
  set_str(o, "name", name);
  set_str(o, "labels", rows[from].labels);
  json_object_set_new(o, "samples", json_integer((json_int_t)n));
  set_time(o, "from", rows[from].time);
  set_time(o, "to", rows[to - 1].time);
  if (lo <= hi) {
    json_object_set_new(o, "min", json_real(lo));
    json_object_set_new(o, "max", json_real(hi));
    json_object_set_new(o, "last", isnan(rows[to - 1].value) ? json_null() : json_real(rows[to - 1].value));
  }
  if (with_points) {
    json_t *t = json_array(), *v = json_array();
    size_t step = n > REPORT_POINTS_MAX ? (n + REPORT_POINTS_MAX - 1) / REPORT_POINTS_MAX : 1;
    for (size_t i = from; i < to; i += step) {
      json_array_append_new(t, json_real(rows[i].time));
      json_array_append_new(v, isnan(rows[i].value) ? json_null() : json_real(rows[i].value));
    }
    json_object_set_new(o, "t", t);
    json_object_set_new(o, "v", v);
  }
  json_array_append_new(arr, o);
}

static gg_status series_json(const plan *p, journal *j, const report_opts *opts, json_t *doc, gg_error *err) {
  names_ctx c = {.p = p};
  for (size_t i = 0; i < p->monitor.nrules; i++) collect_names(&c, p->monitor.rules[i].when.ast);
  for (size_t i = 0; i < p->nvalidation; i++)
    for (size_t k = 0; k < p->validation[i].nitems; k++)
      collect_names(&c, p->validation[i].items[k].expect.ast);
  for (size_t ph = 0; ph < p->nphases; ph++)
    for (size_t k = 0; k < p->phases[ph].ngo; k++) collect_names(&c, p->phases[ph].go[k].expect.ast);
  gg_status st = GG_OK;
  json_t *arr = json_array();
  if (c.nomem) st = gg_error_set(err, GG_ERR_NOMEM, "collect the plan's series");
  for (size_t i = 0; st == GG_OK && j && i < c.n; i++) {
    journal_sample_row *rows = NULL;
    size_t n = 0;
    if ((st = journal_samples_query(j, c.names[i], 0, opts->now + 86400.0, &rows, &n, err)) != GG_OK) break;
    size_t start = 0;
    for (size_t r = 1; r <= n; r++)
      if (r == n || strcmp(rows[r].labels, rows[start].labels) != 0) {
        if (json_array_size(arr) < REPORT_SERIES_MAX)
          add_series(arr, c.names[i], rows, start, r, opts->with_points);
        start = r;
      }
    journal_sample_rows_free(rows, n);
  }
  for (size_t i = 0; i < c.n; i++) free(c.names[i]);
  free(c.names);
  if (st == GG_OK)
    json_object_set_new(doc, "series", arr);
  else
    json_decref(arr);
  return st;
}

/* ---- the document ---- */

gg_status report_gather(const plan *p, journal *j, const report_opts *opts, json_t **out, gg_error *err) {
  *out = NULL;
  json_t *doc = json_object();
  signoff_book *book = NULL;
  gg_status st = GG_OK;
  if (!doc) return gg_error_set(err, GG_ERR_NOMEM, "gather the report");
  set_str(doc, "migration", p->migration);
  set_str(doc, "description", p->description);
  set_str(doc, "plan", opts->plan_path ? opts->plan_path : p->file);
  set_str(doc, "plan_hash", p->hash);
  set_time(doc, "generated_at", opts->now);
  if (j) {
    journal_verify_result r;
    if ((st = journal_verify(j, &r, err)) != GG_OK) goto fail;
    json_t *jo = json_object();
    set_str(jo, "path", journal_path(j));
    json_object_set_new(jo, "intact", json_boolean(r.ok));
    json_object_set_new(jo, "events", json_integer(r.rows));
    set_str(jo, "head_hash", r.head_hash);
    json_object_set_new(jo, "head_seq", json_integer(r.head_seq));
    if (r.head_seq > 0) {
      char anchor[JOURNAL_HASH_HEX + 32];
      snprintf(anchor, sizeof anchor, "%lld:%s", r.head_seq, r.head_hash);
      set_str(jo, "anchor", anchor); /* for `journal verify --expect-head` later */
    }
    if (!r.ok) {
      json_object_set_new(jo, "bad_seq", json_integer(r.bad_seq));
      set_str(jo, "what", r.what);
    }
    json_object_set_new(doc, "journal", jo);
  } else {
    json_object_set_new(doc, "journal", json_null());
  }
  /* Sign-offs are judged once, by the evaluator check and status use. The preflight gates
   * every phase, so its attestations are listed once, plan-wide. */
  if ((st = signoff_book_load(j, p, opts->now, &book, err)) != GG_OK) goto fail;
  json_t *pre = json_object();
  json_object_set_new(pre, "attestations", attestations_json(book, NULL, p->preflight, p->npreflight));
  json_object_set_new(doc, "preflight", pre);
  json_t *phases = json_array();
  json_object_set_new(doc, "phases", phases);
  for (size_t i = 0; i < p->nphases; i++) {
    json_t *o = NULL;
    if ((st = phase_json(p, &p->phases[i], j, book, &o, err)) != GG_OK) goto fail;
    json_array_append_new(phases, o);
  }
  json_t *marks = json_array();
  json_object_set_new(doc, "marks", marks);
  if (j) {
    journal_mark_info *m = NULL;
    size_t n = 0;
    journal_event *mev = NULL;
    size_t nm = 0;
    if ((st = journal_marks(j, NULL, &m, &n, err)) != GG_OK ||
        (st = events_of(j, "mark", JOURNAL_ANY_PHASE, &mev, &nm, err)) != GG_OK) {
      journal_marks_free(m, n);
      goto fail;
    }
    for (size_t i = 0; i < n; i++) {
      json_t *o = json_object();
      set_str(o, "kind", m[i].kind);
      set_time(o, "at", m[i].at);
      set_str(o, "by", m[i].by);
      set_str(o, "note", m[i].note);
      for (size_t e = 0; e < nm; e++)
        if (mev[e].seq == m[i].seq) signature_json(o, &mev[e], p->migration);
      json_array_append_new(marks, o);
    }
    journal_events_free(mev, nm);
    journal_marks_free(m, n);
    /* Firings not tied to one of the plan's phases (watch records "" when no phase applies). */
    journal_event *evs = NULL;
    size_t ne = 0;
    if ((st = events_of(j, "rule_firing", JOURNAL_ANY_PHASE, &evs, &ne, err)) != GG_OK) goto fail;
    json_t *arr = json_array();
    for (size_t i = 0; i < ne; i++) {
      if (evs[i].phase && evs[i].phase[0] && plan_find_phase(p, evs[i].phase)) continue;
      json_t *c = journal_event_content(&evs[i]);
      json_t *x = json_object();
      set_time(x, "at", evs[i].time);
      if (c) firing_fn(NULL, &evs[i], c, x);
      json_decref(c);
      json_array_append_new(arr, x);
    }
    journal_events_free(evs, ne);
    json_object_set_new(doc, "rule_firings", arr);
  } else {
    json_object_set_new(doc, "rule_firings", json_array());
  }
  if ((st = report_gather_rehearsals(p, j, opts->now, doc, err)) != GG_OK) goto fail;
  if ((st = series_json(p, j, opts, doc, err)) != GG_OK) goto fail;
  if ((st = report_gather_retro(p, j, doc, err)) != GG_OK) goto fail;
  signoff_book_free(book);
  *out = doc;
  return GG_OK;
fail:
  signoff_book_free(book);
  json_decref(doc);
  return st;
}
