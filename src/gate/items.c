/*
 * items.c: the items read from values and from the journal — expect, no-go conditions,
 * requires (completed, stable for), attestations and approvals. Sign-offs are judged by
 * src/signoff, the one place that decides whether they are in force.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"
#include "gate/internal.h"
#include "journal/series.h"

#define GATE_CALENDAR_HORIZON (14.0 * 86400.0) /* how far ahead the earliest time is searched */
#define GATE_MEMBERS_SHOWN 20

void gate_item_set(gate_item *it, gate_result r, const char *observed, const char *message) {
  it->result = r;
  if (observed) {
    free(it->observed);
    it->observed = gate_strdup(observed);
  }
  if (message) {
    free(it->message);
    it->message = gate_strdup(message);
  }
}

static void add_member(gate_item *it, const char *text) {
  char **m = realloc(it->members, (it->nmembers + 1) * sizeof *m);
  if (!m) return;
  it->members = m;
  it->members[it->nmembers++] = gate_strdup(text);
}

/* Whether the expression depends on nothing but the calendar (and literals), so it can be
 * evaluated ahead in time to find when it changes. */
typedef struct {
  gate_env *env;
  bool only;
  int depth;
} cal_walk;

static bool calendar_node(const expr_node *n, void *user);

static bool calendar_only(gate_env *env, const expr_node *n, int depth) {
  cal_walk w = {env, true, depth};
  if (depth > 8) return false;
  expr_walk(n, calendar_node, &w);
  return w.only;
}

static bool calendar_node(const expr_node *n, void *user) {
  cal_walk *w = user;
  switch (expr_node_kind(n)) {
    case EXPR_SELECTOR: {
      const char *name = expr_node_text(n);
      for (size_t i = 0; i < w->env->ndefines; i++)
        if (strcmp(w->env->defines[i].name, name) == 0)
          return (w->only = calendar_only(w->env, w->env->defines[i].expr, w->depth + 1));
      w->only = false;
      return false;
    }
    case EXPR_CALL: {
      static const char *const ok[] = {"now",       "hour",      "weekday", "holiday",
                                       "in_window", "off_hours", "frozen",  "window"};
      const char *f = expr_node_text(n);
      for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(f, ok[i]) == 0) return true;
      w->only = false;
      return false;
    }
    default:
      return true;
  }
}

/* The first whole minute after `from` (within the horizon) at which the calendar-only
 * expression evaluates to `want`; 0 when none. */
static double first_time(gate_env *env, const expr_node *n, double from, bool want) {
  expr_ctx ctx;
  expr_series_source srcs[2];
  gate_env_ctx(env, NULL, from, &ctx, srcs);
  ctx.n_sources = 0;
  ctx.history = NULL;
  double t = floor(from / 60.0) * 60.0 + 60.0;
  /* Minutes inside a freeze do not use up the horizon: a three-week freeze still gets its date. */
  for (double budget = GATE_CALENDAR_HORIZON; budget >= 0; t += 60.0) {
    if (!expr_calendar_is_frozen(ctx.calendar, t)) budget -= 60.0;
    ctx.now = t;
    expr_value v;
    expr_value_init(&v);
    gg_error e;
    gg_error_clear(&e);
    bool hit = expr_eval(n, &ctx, &v, &e) == GG_OK && v.kind == EXPR_VAL_BOOL && v.truth == want;
    expr_value_release(&v);
    if (hit) return t;
  }
  return 0;
}

/* Describe a value for `observed`, list failing members (or, for `holds`, the members
 * for which a no-go condition holds) and set the threshold. */
void gate_item_describe(gate_item *it, const expr_value *v, bool list_ok_members) {
  char buf[640], num[64], thr[64];
  if (v->kind == EXPR_VAL_BOOL && v->n_members > 0) {
    const expr_member *m0 = &v->members[0];
    gate_format_number(m0->threshold, m0->unit, thr, sizeof thr);
    free(it->threshold);
    it->threshold = gate_printf("%s %s", expr_op_text(m0->op), thr);
    gg_buf obs;
    gg_buf_init(&obs, 4096);
    size_t shown = 0;
    for (size_t i = 0; i < v->n_members; i++) {
      const expr_member *m = &v->members[i];
      char lab[256];
      gate_format_labels(&m->labels, lab, sizeof lab);
      gate_format_number(m->value, m->unit, num, sizeof num);
      if (shown < 6) {
        if (gg_buf_printf(&obs, "%s%s%s%s", shown ? ", " : "", lab, lab[0] ? " " : "", num) != GG_OK) break;
        shown++;
      }
      bool show = list_ok_members ? m->ok : !m->ok;
      if (show && it->nmembers < GATE_MEMBERS_SHOWN) {
        gate_format_number(m->threshold, m->unit, thr, sizeof thr);
        /* "n2: 12.1 GB, want > 20 GB"; for a no-go condition "n2: 150, holds > 100" */
        snprintf(buf, sizeof buf, "%s%s%s%s %s %s", lab, lab[0] ? ": " : "", num,
                 list_ok_members ? ", holds" : ", want", expr_op_text(m->op), thr);
        add_member(it, buf);
      }
    }
    if (v->n_members > shown && gg_buf_printf(&obs, " (+%zu more)", v->n_members - shown) != GG_OK) {
      /* the summary stays without the count */
    }
    free(it->observed);
    it->observed = gg_buf_detach(&obs);
  } else if (v->kind == EXPR_VAL_BOOL) {
    free(it->observed);
    it->observed = gate_strdup(v->truth ? "true" : "false");
  } else if (v->kind == EXPR_VAL_NUM) {
    free(it->observed);
    it->observed = gate_strdup(gate_format_number(v->num, v->unit, num, sizeof num));
  } else if (v->kind == EXPR_VAL_STR) {
    free(it->observed);
    it->observed = gate_printf("\"%s\"", v->str);
  } else {
    free(it->observed);
    it->observed = gate_printf("%zu samples", v->vec.n);
  }
}

static json_t *value_evidence(const expr_value *v) {
  json_t *members = json_array();
  for (size_t i = 0; i < v->n_members; i++) {
    const expr_member *m = &v->members[i];
    json_t *labels = json_object();
    for (size_t k = 0; k < m->labels.n; k++)
      json_object_set_new(labels, m->labels.v[k].name, json_string(m->labels.v[k].value));
    json_array_append_new(members, json_pack("{s:o, s:f, s:f, s:s, s:b}", "labels", labels, "value",
                                             isfinite(m->value) ? m->value : 0.0, "threshold",
                                             isfinite(m->threshold) ? m->threshold : 0.0, "op",
                                             expr_op_text(m->op), "ok", m->ok));
  }
  json_t *ev = json_object();
  json_object_set_new(ev, "members", members);
  if (v->kind == EXPR_VAL_BOOL) json_object_set_new(ev, "truth", json_boolean(v->truth));
  if (v->kind == EXPR_VAL_NUM && isfinite(v->num)) json_object_set_new(ev, "value", json_real(v->num));
  return ev;
}

/* "name{a="x", b=~"y"}" into out. */
static void format_selector(const expr_selector *sel, char *out, size_t n) {
  static const char *const ops[] = {"=", "!=", "=~", "!~"};
  size_t len = (size_t)snprintf(out, n, "%s", sel->name);
  for (size_t i = 0; i < sel->n_matchers && len < n; i++)
    len += (size_t)snprintf(out + len, n - len, "%s%s%s\"%s\"", i ? ", " : "{", sel->matchers[i].label,
                            ops[sel->matchers[i].op], sel->matchers[i].value);
  if (sel->n_matchers && len < n) snprintf(out + len, n - len, "}");
}

/* The run's history chain, noting in the job where each history came from. */
static gg_status job_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                           const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  gate_job *job = user;
  char origin[160], what[160], win[32], note[sizeof job->notes[0]];
  gg_status st = gate_env_history_read(job->run->env, &job->run->hchain, sel, window, use, ctx, out, origin,
                                       sizeof origin, err);
  if (st != GG_OK || !origin[0]) return st;
  format_selector(sel, what, sizeof what);
  gg_format_duration(window, win, sizeof win);
  snprintf(note, sizeof note, "%s[%s]: %s", what, win, origin);
  for (size_t i = 0; i < job->nnotes; i++)
    if (strcmp(job->notes[i], note) == 0) return st;
  if (job->nnotes < GATE_HISTORY_NOTES) snprintf(job->notes[job->nnotes++], sizeof note, "%s", note);
  return st;
}

void gate_job_ctx(gate_job *job, double now, probe_ctx *probes, expr_ctx *ctx, expr_series_source *srcs) {
  const gate_opts *o = job->run->opts;
  gate_env_ctx(job->run->env, o->sources ? NULL : probes, now, ctx, srcs);
  job->hist = (expr_history_source){.range = job_range, .user = job};
  ctx->history = &job->hist;
  if (!o->sources) return;
  /* The caller's sources stand where the probes would, after the journal; its history
   * (when given) stands for the whole chain. */
  size_t n = ctx->n_sources;
  for (size_t i = 0; i < o->n_sources && n < GATE_MAX_SOURCES; i++) srcs[n++] = o->sources[i];
  ctx->n_sources = n;
  if (o->history) ctx->history = o->history;
}

void gate_item_history(gate_job *job) {
  if (!job->nnotes) return;
  gate_item *it = job->item;
  gg_buf b;
  gg_buf_init(&b, 4096);
  json_t *arr = json_array();
  gg_status st = gg_buf_printf(&b, "%s%shistory: ", it->message, it->message[0] ? "; " : "");
  for (size_t i = 0; i < job->nnotes; i++) {
    if (st == GG_OK) st = gg_buf_printf(&b, "%s%s", i ? "; " : "", job->notes[i]);
    json_array_append_new(arr, json_string(job->notes[i]));
  }
  if (st == GG_OK) {
    free(it->message);
    it->message = gg_buf_detach(&b);
  }
  gg_buf_release(&b);
  if (!it->evidence) it->evidence = json_object();
  json_object_set_new(it->evidence, "history", arr);
}

/* Evaluate an expression with the shared probe context (or the caller's sources). */
static gg_status eval_shared(gate_job *job, const expr_node *n, expr_value *v, gg_error *e) {
  expr_ctx ctx;
  expr_series_source srcs[GATE_MAX_SOURCES];
  gate_job_ctx(job, job->run->now, job->run->probes, &ctx, srcs);
  return expr_eval(n, &ctx, v, e);
}

void gate_item_error(gate_job *job, const gg_error *e) {
  char *msg = gate_env_scrub(job->run->env, gg_error_message(e));
  gate_item_set(job->item, GATE_ERROR, "no value", msg);
  free(msg);
}

void gate_item_expect(gate_job *job) {
  gate_item *it = job->item;
  const plan_expr *x = &job->crit->expect;
  expr_value v;
  expr_value_init(&v);
  gg_error e;
  gg_error_clear(&e);
  if (eval_shared(job, x->ast, &v, &e) != GG_OK) {
    gate_item_error(job, &e);
  } else if (v.kind != EXPR_VAL_BOOL) {
    gate_item_describe(it, &v, false);
    gate_item_set(it, GATE_ERROR, NULL,
                  "the expression gives a value, not a condition: compare it (e.g. '> 0')");
  } else {
    gate_item_describe(it, &v, false);
    json_decref(it->evidence);
    it->evidence = value_evidence(&v);
    if (v.truth) {
      gate_item_set(it, GATE_PASS, NULL, NULL);
    } else if (calendar_only(job->run->env, x->ast, 0)) {
      /* A calendar window not open yet: wait for it, and say when it opens. */
      it->earliest = first_time(job->run->env, x->ast, job->run->now, true);
      gate_item_set(it, GATE_WAIT, NULL,
                    it->earliest > 0 ? "outside its calendar window"
                                     : "outside its calendar window (not open within 14 days)");
    } else {
      gate_item_set(it, GATE_FAIL, NULL, NULL);
    }
  }
  expr_value_release(&v);
}

void gate_item_nogo(gate_job *job) {
  gate_item *it = job->item;
  const plan_nogo *ng = job->nogo;
  expr_value v;
  expr_value_init(&v);
  gg_error e;
  gg_error_clear(&e);
  if (eval_shared(job, ng->when.ast, &v, &e) != GG_OK) {
    gate_item_error(job, &e);
  } else if (v.kind != EXPR_VAL_BOOL) {
    gate_item_describe(it, &v, false);
    gate_item_set(it, GATE_ERROR, NULL,
                  "the condition gives a value, not true/false: compare it (e.g. '> 0')");
  } else {
    gate_item_describe(it, &v, true);
    json_decref(it->evidence);
    it->evidence = value_evidence(&v);
    it->blocking = v.truth;
    if (!v.truth) {
      gate_item_set(it, GATE_PASS, NULL, "does not hold");
    } else if (ng->outcome == PLAN_OUTCOME_DEFER) {
      if (calendar_only(job->run->env, ng->when.ast, 0))
        it->earliest = first_time(job->run->env, ng->when.ast, job->run->now, false);
      gate_item_set(it, GATE_WAIT, NULL, "holds: defer");
    } else {
      gate_item_set(it, GATE_FAIL, NULL, "holds: no-go");
    }
  }
  expr_value_release(&v);
}

void gate_item_requirement(gate_job *job) {
  gate_item *it = job->item;
  const plan_requirement *r = job->req;
  if (!job->run->env->j) {
    gate_item_set(it, GATE_ERROR, "no journal",
                  "phase completion lives in the journal, which could not be opened");
    return;
  }
  gg_error e;
  gg_error_clear(&e);
  char buf[256], dur[32], need[32];
  pthread_mutex_lock(&job->run->env->jlock);
  journal_phase_info info;
  gg_status st = journal_phase(job->run->env->j, r->phase, &info, &e);
  double stable = 0;
  if (st == GG_OK && job->req_stable)
    st = journal_series_phase_stable_for(job->run->env->j, r->phase, job->run->now, &stable, &e);
  pthread_mutex_unlock(&job->run->env->jlock);
  if (st != GG_OK) {
    gate_item_error(job, &e);
    return;
  }
  bool completed = info.state == JOURNAL_STATE_COMPLETED;
  if (!job->req_stable) {
    if (completed) {
      gg_time_format(info.completed_at, buf, sizeof buf);
      gate_item_set(it, GATE_PASS, "completed", NULL);
      free(it->message);
      it->message = gate_printf("completed at %s", buf);
    } else {
      snprintf(buf, sizeof buf, "phase %s is %s", r->phase, journal_phase_state_name(info.state));
      gate_item_set(it, GATE_FAIL, journal_phase_state_name(info.state), buf);
    }
    return;
  }
  gg_format_duration(stable, dur, sizeof dur);
  gg_format_duration(r->stable_for, need, sizeof need);
  free(it->threshold);
  it->threshold = gate_printf(">= %s", need);
  if (stable >= r->stable_for) {
    gate_item_set(it, GATE_PASS, dur, "");
  } else if (!completed) {
    snprintf(buf, sizeof buf, "phase %s is %s: the soak starts when it completes", r->phase,
             journal_phase_state_name(info.state));
    gate_item_set(it, GATE_WAIT, "not completed", buf);
  } else {
    it->earliest = job->run->now + (r->stable_for - stable);
    snprintf(buf, sizeof buf, "stable for %s of %s", dur, need);
    gate_item_set(it, GATE_WAIT, dur, buf);
  }
}

/* The sign-offs come from the book read before the items run: forty attest items must not
 * mean forty queries behind the journal's lock. NULL (and the item set) when unreadable. */
static const signoff_book *signoffs(gate_job *job, const char *what) {
  const gate_run *run = job->run;
  if (run->signoffs) return run->signoffs;
  if (run->signoff_status != GG_OK) {
    gate_item_error(job, &run->signoff_err);
  } else {
    char msg[160];
    snprintf(msg, sizeof msg, "%s live in the journal, which could not be opened", what);
    gate_item_set(job->item, GATE_ERROR, strcmp(what, "attestations") == 0 ? "no journal" : "no value", msg);
  }
  return NULL;
}

void gate_item_attest(gate_job *job) {
  gate_item *it = job->item;
  const plan_criterion *c = job->crit;
  const signoff_book *book = signoffs(job, "attestations");
  if (!book) return;
  /* A preflight item counts whatever phase it was attested under (see signoff.h). */
  signoff_verdict v =
      signoff_attestation(book, it->section == GATE_SEC_PREFLIGHT ? NULL : job->run->phase, c);
  const journal_signoff *s = v.record;
  char when[40], buf[512];
  if (v.state == SIGNOFF_MISSING && v.why) {
    char role[160] = "", value[160];
    if (c->signed_by) snprintf(role, sizeof role, ", signed with a key of role %s", c->signed_by);
    snprintf(
        buf, sizeof buf,
        "the attestation by %s (#%lld) is not in force: %s; attest again%s: gonogo attest PLAN --phase %s "
        "--item %s --by NAME%s",
        s->by, s->seq, v.why, role, job->run->phase->id, c->attest, c->signed_by ? " --key FILE" : "");
    snprintf(value, sizeof value, "missing: %s", v.why);
    gate_item_set(it, GATE_WAIT, value, buf);
    return;
  }
  if (v.state == SIGNOFF_MISSING) {
    snprintf(buf, sizeof buf, "not attested: gonogo attest PLAN --phase %s --item %s --by NAME%s",
             job->run->phase->id, c->attest, c->signed_by ? " --key FILE" : "");
    gate_item_set(it, GATE_WAIT, "not given", buf);
    return;
  }
  gg_time_format(s->time, when, sizeof when);
  if (v.state == SIGNOFF_EXPIRED) {
    snprintf(buf, sizeof buf, "attested by %s at %s, expired: attest again", s->by, when);
    gate_item_set(it, GATE_WAIT, "expired", buf);
  } else {
    snprintf(buf, sizeof buf, "by %s (%s@%s) at %s%s", s->by, s->os_user, s->host, when,
             v.signed_ok ? ", signed" : "");
    gate_item_set(it, GATE_PASS, buf, "");
  }
}

/* An approval that was recorded but does not count because of its signature (v.why). */
static void approval_refused(gate_job *job, const plan_approval *a, const char *title, signoff_verdict v) {
  const journal_signoff *s = v.record;
  char buf[512], value[160];
  const plan_role *role = plan_find_role(job->run->p, a->role);
  snprintf(value, sizeof value, "missing: %s", v.why);
  char again[256] = "";
  if (role && role->nkeys)
    snprintf(
        again, sizeof again,
        "; approve again, signed with a key the role lists: gonogo approve PLAN --phase %s --role %s --by "
        "NAME --key FILE",
        job->run->phase->id, a->role);
  snprintf(buf, sizeof buf, "the approval by %s (#%lld) for %s (%s)%s is not in force: %s%s", s->by, s->seq,
           a->role, title, a->optional ? ", optional," : "", v.why, again);
  gate_item_set(job->item, a->optional ? GATE_PASS : GATE_WAIT, value, buf);
}

void gate_item_approval(gate_job *job) {
  gate_item *it = job->item;
  const plan_approval *a = job->approval;
  const signoff_book *book = signoffs(job, "approvals");
  if (!book) return;
  const plan_role *role = plan_find_role(job->run->p, a->role);
  const char *title = role && role->title ? role->title : a->role;
  signoff_verdict v = signoff_approval(book, job->run->phase, a);
  const journal_signoff *s = v.record;
  char buf[1024], when[40], changed[640] = "";
  if (v.state == SIGNOFF_MISSING && v.why) {
    approval_refused(job, a, title, v);
    return;
  }
  if (v.state == SIGNOFF_MISSING || v.state == SIGNOFF_VOID) {
    bool was_void = v.state == SIGNOFF_VOID;
    if (was_void && v.changes) snprintf(changed, sizeof changed, " (%s)", v.changes);
    if (a->optional) {
      snprintf(buf, sizeof buf, "optional approval by %s (%s): %s%s", a->role, title,
               was_void ? "void: the plan changed since it was given" : "not given", changed);
      gate_item_set(it, GATE_PASS, was_void ? "void (optional)" : "not given (optional)", buf);
    } else {
      snprintf(buf, sizeof buf,
               "waiting for approval by %s (%s)%s%s: gonogo approve PLAN --phase %s --role %s --by NAME%s",
               a->role, title, was_void ? ", the earlier one is void because the plan changed" : "", changed,
               job->run->phase->id, a->role, role && role->nkeys ? " --key FILE" : "");
      gate_item_set(it, GATE_WAIT, was_void ? "void" : "not given", buf);
    }
    return;
  }
  gg_time_format(s->time, when, sizeof when);
  char signer[200] = "";
  if (v.key)
    snprintf(signer, sizeof signer, " (signed, key %s)", v.key);
  else if (v.signed_ok)
    snprintf(signer, sizeof signer, " (signed)");
  snprintf(buf, sizeof buf, "%s by %s at %s%s%s%s", s->decision, s->by, when, signer, s->note ? ": " : "",
           s->note ? s->note : "");
  if (v.state == SIGNOFF_IN_FORCE)
    gate_item_set(it, GATE_PASS, buf, "");
  else if (v.state == SIGNOFF_DEFER)
    gate_item_set(it, GATE_WAIT, buf, "the approver asked to defer");
  else
    gate_item_set(it, GATE_FAIL, buf, "the approver decided no-go");
}
