/*
 * gate.c: gate_check — evaluate every item of a phase, each on its own thread, and
 * decide (DESIGN §3). See gate.h for the rules.
 */
#include "gate/gate.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"
#include "gate/internal.h"

#define GATE_CALENDAR_HORIZON (14.0 * 86400.0) /* how far ahead the earliest time is searched */
#define GATE_MEMBERS_SHOWN 20

const char *gate_result_name(gate_result r) {
  static const char *const n[] = {"PASS", "FAIL", "WAIT", "ERROR"};
  return (unsigned)r < 4 ? n[r] : "?";
}

const char *gate_decision_name(gate_decision d) {
  switch (d) {
    case GATE_GO:
      return "GO";
    case GATE_DEFER:
      return "DEFER";
    case GATE_NOGO:
      return "NO-GO";
  }
  return "?";
}

const char *gate_section_name(gate_section s) {
  static const char *const n[] = {"preflight", "requires", "go", "no-go", "approval"};
  return (unsigned)s < 5 ? n[s] : "?";
}

/* ---- formatting ---- */

char *gate_format_number(double v, char unit, char *out, size_t n) {
  if (isnan(v)) {
    snprintf(out, n, "NaN");
  } else if (isinf(v)) {
    snprintf(out, n, "%s", v > 0 ? (unit == 'd' ? "never" : "inf") : "-inf");
  } else if (unit == 'd') {
    gg_format_duration(v, out, n);
  } else if (unit == 's') {
    gg_format_size(v, out, n);
  } else if (unit == '%') {
    snprintf(out, n, "%.4g%%", v * 100);
  } else if (fabs(v) >= 1e15 || (v == floor(v) && fabs(v) < 1e15)) {
    snprintf(out, n, "%.15g", v);
  } else {
    snprintf(out, n, "%.4g", v);
  }
  return out;
}

static char *xstrdup(const char *s) {
  return strdup(s ? s : "");
}

static char *xprintf(const char *fmt, ...) GG_PRINTF(1, 2);
static char *xprintf(const char *fmt, ...) {
  gg_buf b;
  gg_buf_init(&b, 1 << 20);
  va_list ap;
  va_start(ap, fmt);
  gg_status st = gg_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (st != GG_OK) {
    gg_buf_release(&b);
    return strdup("");
  }
  return gg_buf_detach(&b);
}

static void fmt_time(double t, char *out, size_t n) {
  gg_time_format(t, out, n);
}

/* `AA_CORE_HOT/normalize-hrv-durable` for the label values, or the label set itself
 * when it has more than two labels; "" for none. */
static void fmt_labels(const expr_labels *l, char *out, size_t n) {
  out[0] = '\0';
  if (l->n == 0) return;
  if (l->n > 2) {
    expr_labels_format(l, out, n);
    return;
  }
  /* stream before consumer and server before peer read naturally: put them first */
  const expr_label *a = &l->v[0], *b = l->n == 2 ? &l->v[1] : NULL;
  if (b && (strcmp(b->name, "stream") == 0 || strcmp(b->name, "server") == 0)) {
    const expr_label *t = a;
    a = b;
    b = t;
  }
  if (b)
    snprintf(out, n, "%s/%s", a->value, b->value);
  else
    snprintf(out, n, "%s", a->value);
}

static const char *op_text(expr_op op) {
  return expr_op_text(op);
}

/* ---- items ---- */

typedef struct {
  gate_env *env;
  probe_ctx *probes;
  const gate_opts *opts;
  const plan *p;
  const plan_phase *phase;
  double now;
  /* what to evaluate */
  gate_item *item;
  const plan_criterion *crit; /* preflight / go */
  const plan_nogo *nogo;
  const plan_requirement *req;
  bool req_stable; /* the stable_for half of a requirement */
  const plan_approval *approval;
  const struct att_cache *att; /* attestations, read once before the threads start */
} item_job;

/* The attestations in the journal, for this phase and for any phase (preflight items may
 * have been attested under any phase), read once: forty attest items must not mean forty
 * queries behind the journal's lock. */
typedef struct att_cache {
  journal_signoff *phase, *any;
  size_t nphase, nany;
  gg_status status;
  gg_error err;
} att_cache;

static void set_result(gate_item *it, gate_result r, const char *observed, const char *message) {
  it->result = r;
  if (observed) {
    free(it->observed);
    it->observed = xstrdup(observed);
  }
  if (message) {
    free(it->message);
    it->message = xstrdup(message);
  }
}

static void add_member(gate_item *it, const char *text) {
  char **m = realloc(it->members, (it->nmembers + 1) * sizeof *m);
  if (!m) return;
  it->members = m;
  it->members[it->nmembers++] = xstrdup(text);
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
      static const char *const ok[] = {"now", "hour", "weekday", "holiday", "in_window", "off_hours"};
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
  for (; t <= from + GATE_CALENDAR_HORIZON; t += 60.0) {
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
static void describe_value(gate_item *it, const expr_value *v, bool list_ok_members) {
  char buf[640], num[64], thr[64];
  if (v->kind == EXPR_VAL_BOOL && v->n_members > 0) {
    const expr_member *m0 = &v->members[0];
    gate_format_number(m0->threshold, m0->unit, thr, sizeof thr);
    free(it->threshold);
    it->threshold = xprintf("%s %s", op_text(m0->op), thr);
    gg_buf obs;
    gg_buf_init(&obs, 4096);
    size_t shown = 0;
    for (size_t i = 0; i < v->n_members; i++) {
      const expr_member *m = &v->members[i];
      char lab[256];
      fmt_labels(&m->labels, lab, sizeof lab);
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
                 list_ok_members ? ", holds" : ", want", op_text(m->op), thr);
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
    it->observed = xstrdup(v->truth ? "true" : "false");
  } else if (v->kind == EXPR_VAL_NUM) {
    free(it->observed);
    it->observed = xstrdup(gate_format_number(v->num, v->unit, num, sizeof num));
  } else if (v->kind == EXPR_VAL_STR) {
    free(it->observed);
    it->observed = xprintf("\"%s\"", v->str);
  } else {
    free(it->observed);
    it->observed = xprintf("%zu samples", v->vec.n);
  }
}

static json_t *value_evidence(const expr_value *v) {
  json_t *members = json_array();
  for (size_t i = 0; i < v->n_members; i++) {
    const expr_member *m = &v->members[i];
    json_t *labels = json_object();
    for (size_t k = 0; k < m->labels.n; k++)
      json_object_set_new(labels, m->labels.v[k].name, json_string(m->labels.v[k].value));
    json_array_append_new(
        members, json_pack("{s:o, s:f, s:f, s:s, s:b}", "labels", labels, "value",
                           isfinite(m->value) ? m->value : 0.0, "threshold",
                           isfinite(m->threshold) ? m->threshold : 0.0, "op", op_text(m->op), "ok", m->ok));
  }
  json_t *ev = json_object();
  json_object_set_new(ev, "members", members);
  if (v->kind == EXPR_VAL_BOOL) json_object_set_new(ev, "truth", json_boolean(v->truth));
  if (v->kind == EXPR_VAL_NUM && isfinite(v->num)) json_object_set_new(ev, "value", json_real(v->num));
  return ev;
}

/* Evaluate an expression with the shared probe context. */
static gg_status eval_shared(item_job *job, const expr_node *n, expr_value *v, gg_error *e) {
  expr_ctx ctx;
  expr_series_source srcs[2];
  gate_env_ctx(job->env, job->probes, job->now, &ctx, srcs);
  return expr_eval(n, &ctx, v, e);
}

static void record_error(item_job *job, const gg_error *e) {
  char *msg = gate_env_scrub(job->env, gg_error_message(e));
  set_result(job->item, GATE_ERROR, "no value", msg);
  free(msg);
}

static void do_expect(item_job *job, const plan_expr *x) {
  gate_item *it = job->item;
  expr_value v;
  expr_value_init(&v);
  gg_error e;
  gg_error_clear(&e);
  if (eval_shared(job, x->ast, &v, &e) != GG_OK) {
    record_error(job, &e);
  } else if (v.kind != EXPR_VAL_BOOL) {
    describe_value(it, &v, false);
    set_result(it, GATE_ERROR, NULL,
               "the expression gives a value, not a condition: compare it (e.g. '> 0')");
  } else {
    describe_value(it, &v, false);
    json_decref(it->evidence);
    it->evidence = value_evidence(&v);
    if (v.truth) {
      set_result(it, GATE_PASS, NULL, NULL);
    } else if (calendar_only(job->env, x->ast, 0)) {
      /* A calendar window not open yet: wait for it, and say when it opens. */
      it->earliest = first_time(job->env, x->ast, job->now, true);
      set_result(it, GATE_WAIT, NULL,
                 it->earliest > 0 ? "outside its calendar window"
                                  : "outside its calendar window (not open within 14 days)");
    } else {
      set_result(it, GATE_FAIL, NULL, NULL);
    }
  }
  expr_value_release(&v);
}

static void do_nogo(item_job *job) {
  gate_item *it = job->item;
  const plan_nogo *ng = job->nogo;
  expr_value v;
  expr_value_init(&v);
  gg_error e;
  gg_error_clear(&e);
  if (eval_shared(job, ng->when.ast, &v, &e) != GG_OK) {
    record_error(job, &e);
  } else if (v.kind != EXPR_VAL_BOOL) {
    describe_value(it, &v, false);
    set_result(it, GATE_ERROR, NULL, "the condition gives a value, not true/false: compare it (e.g. '> 0')");
  } else {
    describe_value(it, &v, true);
    json_decref(it->evidence);
    it->evidence = value_evidence(&v);
    it->blocking = v.truth;
    if (!v.truth) {
      set_result(it, GATE_PASS, NULL, "does not hold");
    } else if (ng->outcome == PLAN_OUTCOME_DEFER) {
      if (calendar_only(job->env, ng->when.ast, 0))
        it->earliest = first_time(job->env, ng->when.ast, job->now, false);
      set_result(it, GATE_WAIT, NULL, "holds: defer");
    } else {
      set_result(it, GATE_FAIL, NULL, "holds: no-go");
    }
  }
  expr_value_release(&v);
}

static void do_run(item_job *job) {
  gate_item *it = job->item;
  if (job->opts->skip_run) {
    set_result(it, GATE_ERROR, "not run", "skipped: run commands were excluded");
    return;
  }
  probe_run_result r = {0};
  gg_error e;
  gg_error_clear(&e);
  if (probe_run(job->crit->run, job->crit->timeout, NULL, &r, &e) != GG_OK) {
    record_error(job, &e);
    return;
  }
  char *tail = gate_env_scrub(job->env, r.output);
  set_result(it, r.ok ? GATE_PASS : GATE_FAIL, r.summary, r.ok ? "" : tail);
  json_decref(it->evidence);
  it->evidence = json_pack("{s:s, s:s, s:b, s:f}", "summary", r.summary, "output", tail ? tail : "",
                           "truncated", r.truncated, "elapsed", r.elapsed);
  free(tail);
  probe_run_result_release(&r);
}

static void do_attest(item_job *job, bool any_phase) {
  gate_item *it = job->item;
  const plan_criterion *c = job->crit;
  if (!job->env->j) {
    set_result(it, GATE_ERROR, "no journal", "attestations live in the journal, which could not be opened");
    return;
  }
  const att_cache *ac = job->att;
  if (ac->status != GG_OK) {
    record_error(job, &ac->err);
    return;
  }
  const journal_signoff *s = any_phase ? ac->any : ac->phase;
  size_t n = any_phase ? ac->nany : ac->nphase;
  const journal_signoff *found = NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(s[i].role, c->attest) == 0) found = &s[i];
  char when[40], buf[512];
  if (!found) {
    snprintf(buf, sizeof buf, "not attested: gonogo attest PLAN --phase %s --item %s --by NAME",
             job->phase->id, c->attest);
    set_result(it, GATE_WAIT, "not given", buf);
  } else {
    fmt_time(found->time, when, sizeof when);
    /* The plan's valid_for is authoritative: an attestation older than it has expired,
     * whatever was recorded when it was given. */
    bool expired = !found->in_force || (c->valid_for > 0 && job->now > found->time + c->valid_for);
    if (expired) {
      snprintf(buf, sizeof buf, "attested by %s at %s, expired: attest again", found->by, when);
      set_result(it, GATE_WAIT, "expired", buf);
    } else {
      snprintf(buf, sizeof buf, "by %s (%s@%s) at %s", found->by, found->os_user, found->host, when);
      set_result(it, GATE_PASS, buf, "");
    }
  }
}

static void do_canary(item_job *job) {
  gate_item *it = job->item;
  const plan_criterion *c = job->crit;
  char id[64];
  snprintf(id, sizeof id, "%lld-%d-%lx", (long long)(gg_clock_now() * 1000), (int)getpid(),
           (unsigned long)(size_t)it & 0xffffUL);
  /* Expand {{id}} and {{now}} in the body. */
  char now_text[40];
  fmt_time(gg_clock_now(), now_text, sizeof now_text);
  gg_buf body;
  gg_buf_init(&body, GG_BUF_HTTP_BODY_MAX);
  const char *b = c->canary_body ? c->canary_body : "";
  gg_status bs = GG_OK;
  while (*b && bs == GG_OK) {
    if (strncmp(b, "{{id}}", 6) == 0) {
      bs = gg_buf_puts(&body, id);
      b += 6;
    } else if (strncmp(b, "{{now}}", 7) == 0) {
      bs = gg_buf_puts(&body, now_text);
      b += 7;
    } else {
      bs = gg_buf_append(&body, b++, 1);
    }
  }
  gg_error e;
  gg_error_clear(&e);
  gg_status st = bs;
  if (st != GG_OK) {
    gg_error_set(&e, st, "canary body too large");
  } else if (c->canary_url) {
    long status = 0;
    st = probe_canary_post(job->probes, c->canary_url, c->canary_content_type, gg_buf_str(&body), body.len,
                           id, &status, &e);
  } else {
    char *stream = NULL;
    unsigned long long seq = 0;
    st = probe_canary_publish(job->probes, c->canary_subject, gg_buf_str(&body), body.len, id, &stream, &seq,
                              &e);
    free(stream);
  }
  gg_buf_release(&body);
  if (st != GG_OK) {
    record_error(job, &e);
    return;
  }
  /* Expect the effect within its time, re-reading fresh values each try. */
  double deadline = gg_clock_mono() + (c->within > 0 ? c->within : 30);
  for (;;) {
    probe_ctx *fresh = probe_ctx_new(&job->env->cfg);
    expr_ctx ctx;
    expr_series_source srcs[2];
    gate_env_ctx(job->env, fresh, gg_clock_now(), &ctx, srcs);
    expr_value v;
    expr_value_init(&v);
    gg_error_clear(&e);
    st = fresh ? expr_eval(c->expect.ast, &ctx, &v, &e) : GG_ERR_NOMEM;
    probe_ctx_free(fresh);
    bool done = st == GG_OK && v.kind == EXPR_VAL_BOOL && v.truth;
    if (done || gg_clock_mono() > deadline) {
      char msg[256];
      snprintf(msg, sizeof msg, "canary %s %s", id, done ? "arrived" : "did not arrive in time");
      if (st == GG_OK) {
        describe_value(it, &v, false);
        set_result(it, done ? GATE_PASS : GATE_FAIL, NULL, msg);
      } else {
        record_error(job, &e);
      }
      expr_value_release(&v);
      return;
    }
    expr_value_release(&v);
    usleep(250000);
  }
}

static void do_requirement(item_job *job) {
  gate_item *it = job->item;
  const plan_requirement *r = job->req;
  if (!job->env->j) {
    set_result(it, GATE_ERROR, "no journal",
               "phase completion lives in the journal, which could not be opened");
    return;
  }
  gg_error e;
  gg_error_clear(&e);
  char buf[256], dur[32], need[32];
  pthread_mutex_lock(&job->env->jlock);
  journal_phase_info info;
  gg_status st = journal_phase(job->env->j, r->phase, &info, &e);
  double stable = 0;
  if (st == GG_OK && job->req_stable)
    st = journal_series_phase_stable_for(job->env->j, r->phase, job->now, &stable, &e);
  pthread_mutex_unlock(&job->env->jlock);
  if (st != GG_OK) {
    record_error(job, &e);
    return;
  }
  bool completed = info.state == JOURNAL_STATE_COMPLETED;
  if (!job->req_stable) {
    if (completed) {
      fmt_time(info.completed_at, buf, sizeof buf);
      set_result(it, GATE_PASS, "completed", NULL);
      free(it->message);
      it->message = xprintf("completed at %s", buf);
    } else {
      snprintf(buf, sizeof buf, "phase %s is %s", r->phase, journal_phase_state_name(info.state));
      set_result(it, GATE_FAIL, journal_phase_state_name(info.state), buf);
    }
    return;
  }
  gg_format_duration(stable, dur, sizeof dur);
  gg_format_duration(r->stable_for, need, sizeof need);
  free(it->threshold);
  it->threshold = xprintf(">= %s", need);
  if (stable >= r->stable_for) {
    set_result(it, GATE_PASS, dur, "");
  } else if (!completed) {
    snprintf(buf, sizeof buf, "phase %s is %s: the soak starts when it completes", r->phase,
             journal_phase_state_name(info.state));
    set_result(it, GATE_WAIT, "not completed", buf);
  } else {
    it->earliest = job->now + (r->stable_for - stable);
    snprintf(buf, sizeof buf, "stable for %s of %s", dur, need);
    set_result(it, GATE_WAIT, dur, buf);
  }
}

static void do_approval(item_job *job, const journal_signoff *s, size_t n) {
  gate_item *it = job->item;
  const plan_approval *a = job->approval;
  const plan_role *role = plan_find_role(job->p, a->role);
  const char *title = role && role->title ? role->title : a->role;
  const journal_signoff *found = NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(s[i].role, a->role) == 0) found = &s[i];
  char buf[512], when[40];
  if (!found || found->void_plan_changed) {
    const char *state = found ? "void: the plan changed since it was given" : "not given";
    if (a->optional) {
      snprintf(buf, sizeof buf, "optional approval by %s (%s): %s", a->role, title, state);
      set_result(it, GATE_PASS, found ? "void (optional)" : "not given (optional)", buf);
    } else {
      snprintf(buf, sizeof buf,
               "waiting for approval by %s (%s)%s: gonogo approve PLAN --phase %s --role %s --by NAME",
               a->role, title, found ? ", the earlier one is void because the plan changed" : "",
               job->phase->id, a->role);
      set_result(it, GATE_WAIT, found ? "void" : "not given", buf);
    }
    return;
  }
  fmt_time(found->time, when, sizeof when);
  snprintf(buf, sizeof buf, "%s by %s at %s%s%s", found->decision, found->by, when, found->note ? ": " : "",
           found->note ? found->note : "");
  if (strcmp(found->decision, "go") == 0)
    set_result(it, GATE_PASS, buf, "");
  else if (strcmp(found->decision, "defer") == 0)
    set_result(it, GATE_WAIT, buf, "the approver asked to defer");
  else
    set_result(it, GATE_FAIL, buf, "the approver decided no-go");
}

typedef struct {
  const gate_env *env;
  int depth;
  bool found;
} change_walk;

static bool calls_change_fn(const expr_node *n, void *user);

static bool expr_calls_change(const gate_env *env, const expr_node *x, int depth) {
  change_walk w = {env, depth, false};
  if (x && depth < 8) expr_walk(x, calls_change_fn, &w);
  return w.found;
}

static bool calls_change_fn(const expr_node *n, void *user) {
  change_walk *w = user;
  if (expr_node_kind(n) == EXPR_CALL) {
    const char *f = expr_node_text(n);
    if (strcmp(f, "rate") == 0 || strcmp(f, "increase") == 0 || strcmp(f, "delta") == 0) w->found = true;
  } else if (expr_node_kind(n) == EXPR_SELECTOR) {
    for (size_t i = 0; i < w->env->ndefines; i++)
      if (strcmp(w->env->defines[i].name, expr_node_text(n)) == 0 &&
          expr_calls_change(w->env, w->env->defines[i].expr, w->depth + 1))
        w->found = true;
  }
  return !w->found;
}

/* Whether an item may wait on something other than the prefetched values: a command, a
 * canary, or a rate() (directly or through a define) that may take two fresh samples
 * seconds apart. Those run on threads of their own so they wait side by side. */
static bool job_waits(const item_job *job) {
  if (job->nogo) return expr_calls_change(job->env, job->nogo->when.ast, 0);
  if (!job->crit) return false;
  if (job->crit->kind == PLAN_CRIT_EXPECT) return expr_calls_change(job->env, job->crit->expect.ast, 0);
  return job->crit->kind == PLAN_CRIT_RUN || job->crit->kind == PLAN_CRIT_CANARY;
}

static void *run_job(void *arg) {
  item_job *job = arg;
  double t0 = gg_clock_mono();
  gate_item *it = job->item;
  if (job->nogo) {
    do_nogo(job);
  } else if (job->req) {
    do_requirement(job);
  } else if (job->crit) {
    switch (job->crit->kind) {
      case PLAN_CRIT_EXPECT:
        do_expect(job, &job->crit->expect);
        break;
      case PLAN_CRIT_RUN:
        do_run(job);
        break;
      case PLAN_CRIT_ATTEST:
        do_attest(job, it->section == GATE_SEC_PREFLIGHT);
        break;
      case PLAN_CRIT_CANARY:
        do_canary(job);
        break;
    }
  }
  it->elapsed = gg_clock_mono() - t0;
  return NULL;
}

/* ---- the report ---- */

static gate_item *new_item(gate_report *r, gate_section sec, const char *name, const char *kind,
                           const char *what) {
  gate_item *it = &r->items[r->nitems++];
  memset(it, 0, sizeof *it);
  it->section = sec;
  it->name = xstrdup(name);
  it->kind = xstrdup(kind);
  it->what = xstrdup(what);
  it->observed = xstrdup("");
  it->threshold = xstrdup("");
  it->message = xstrdup("");
  it->result = GATE_ERROR;
  return it;
}

static const char *crit_kind(const plan_criterion *c) {
  static const char *const k[] = {"expect", "run", "attest", "canary"};
  return k[c->kind];
}

static const char *crit_what(const plan_criterion *c) {
  switch (c->kind) {
    case PLAN_CRIT_EXPECT:
    case PLAN_CRIT_CANARY:
      return c->expect.text;
    case PLAN_CRIT_RUN:
      return c->run;
    case PLAN_CRIT_ATTEST:
      return c->attest;
  }
  return "";
}

static void push_str(char ***v, size_t *n, char *s) {
  if (!s) return;
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv) {
    free(s);
    return;
  }
  *v = nv;
  (*v)[(*n)++] = s;
}

static void decide(gate_report *r) {
  bool nogo = false, wait = false, earliest_known = true;
  double earliest = 0;
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    /* One line per reason: a command's output tail is evidence, not a reason. */
    const char *what = strcmp(it->kind, "run") == 0 || !it->message[0] ? it->observed : it->message;
    int len = (int)strcspn(what, "\n");
    if (it->result == GATE_FAIL || it->result == GATE_ERROR) {
      nogo = true;
      push_str(&r->reasons, &r->nreasons,
               xprintf("%s %s: %s%s%.*s", gate_section_name(it->section), gate_result_name(it->result),
                       it->name, len ? " — " : "", len, what));
    }
  }
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    if (it->result != GATE_WAIT) continue;
    wait = true;
    if (!nogo)
      push_str(&r->reasons, &r->nreasons,
               xprintf("%s WAIT: %s%s%s", gate_section_name(it->section), it->name,
                       it->message[0] ? " — " : "", it->message));
    if (strcmp(it->kind, "approval") == 0 || strcmp(it->kind, "attest") == 0) {
      push_str(&r->pending, &r->npending,
               strcmp(it->kind, "approval") == 0 ? xprintf("approval by %s", it->what)
                                                 : xprintf("attestation '%s'", it->what));
      earliest_known = false;
    } else if (it->earliest > 0) {
      if (it->earliest > earliest) earliest = it->earliest;
    } else {
      earliest_known = false;
    }
  }
  r->decision = nogo ? GATE_NOGO : wait ? GATE_DEFER : GATE_GO;
  /* The earliest time the calendar and soak waits can pass; human waits have no time. */
  r->earliest = (r->decision == GATE_DEFER && earliest > 0) ? earliest : 0;
  (void)earliest_known;
}

gg_status gate_check(const plan *p, const char *phase_id, const gate_opts *opts, gate_report *out,
                     gg_error *err) {
  memset(out, 0, sizeof *out);
  const plan_phase *ph = plan_find_phase(p, phase_id);
  if (!ph) return gg_error_set(err, GG_ERR_NOT_FOUND, "the plan has no phase '%s'", phase_id);
  gate_opts none = {0};
  if (!opts) opts = &none;

  gate_env *env = NULL;
  gg_status st = gate_env_new(p, opts->journal, &env, err);
  if (st != GG_OK) return st;
  env->no_fresh_pairs = opts->skip_rate_samples;

  out->phase = xstrdup(ph->id);
  out->phase_name = xstrdup(ph->name);
  out->plan_hash = xstrdup(p->hash);
  out->started = gg_clock_now();
  out->at_given = opts->at > 0;
  out->now = opts->at > 0 ? opts->at : out->started;
  double t0 = gg_clock_mono();

  size_t max = p->npreflight + 2 * ph->nrequires + ph->ngo + ph->nno_go + ph->napprovals;
  out->items = calloc(max + 1, sizeof *out->items);
  item_job *jobs = calloc(max + 1, sizeof *jobs);
  pthread_t *threads = calloc(max + 1, sizeof *threads);
  probe_want *wants = calloc(max + 1, sizeof *wants);
  probe_ctx *probes = probe_ctx_new(&env->cfg);
  journal_signoff *approvals = NULL;
  size_t napprovals = 0;
  att_cache att = {0};
  if (!out->items || !jobs || !threads || !wants || !probes) {
    st = gg_error_set(err, GG_ERR_NOMEM, "check phase '%s'", phase_id);
    goto out;
  }

  /* Lay out the items in the order the report shows them. */
  size_t nw = 0;
  for (size_t i = 0; i < p->npreflight; i++) {
    const plan_criterion *c = &p->preflight[i];
    jobs[out->nitems] = (item_job){.crit = c};
    new_item(out, GATE_SEC_PREFLIGHT, c->name, crit_kind(c), crit_what(c));
    if (c->kind == PLAN_CRIT_EXPECT) wants[nw++] = (probe_want){c->expect.ast, c->timeout};
  }
  for (size_t i = 0; i < ph->nrequires; i++) {
    const plan_requirement *rq = &ph->requires[i];
    char name[128], dur[32];
    snprintf(name, sizeof name, "Phase %s completed", rq->phase);
    jobs[out->nitems] = (item_job){.req = rq};
    new_item(out, GATE_SEC_REQUIRES, name, "completed", rq->phase);
    if (rq->stable_for > 0) {
      gg_format_duration(rq->stable_for, dur, sizeof dur);
      snprintf(name, sizeof name, "Phase %s stable for %s", rq->phase, dur);
      jobs[out->nitems] = (item_job){.req = rq, .req_stable = true};
      new_item(out, GATE_SEC_REQUIRES, name, "stable_for", rq->phase);
    }
  }
  for (size_t i = 0; i < ph->ngo; i++) {
    const plan_criterion *c = &ph->go[i];
    jobs[out->nitems] = (item_job){.crit = c};
    new_item(out, GATE_SEC_GO, c->name, crit_kind(c), crit_what(c));
    if (c->kind == PLAN_CRIT_EXPECT) wants[nw++] = (probe_want){c->expect.ast, c->timeout};
  }
  for (size_t i = 0; i < ph->nno_go; i++) {
    const plan_nogo *ng = &ph->no_go[i];
    jobs[out->nitems] = (item_job){.nogo = ng};
    gate_item *it = new_item(out, GATE_SEC_NOGO, ng->name, "when", ng->when.text);
    it->outcome = ng->outcome;
    wants[nw++] = (probe_want){ng->when.ast, 0};
  }
  size_t first_approval = out->nitems;
  for (size_t i = 0; i < ph->napprovals; i++) {
    const plan_approval *a = &ph->approvals[i];
    const plan_role *role = plan_find_role(p, a->role);
    char name[256];
    snprintf(name, sizeof name, "Approval: %s%s", role && role->title ? role->title : a->role,
             a->optional ? " (optional)" : "");
    jobs[out->nitems] = (item_job){.approval = a};
    new_item(out, GATE_SEC_APPROVAL, name, "approval", a->role);
  }

  /* Fetch every series concurrently, then evaluate every item concurrently. */
  if (env->j) {
    pthread_mutex_lock(&env->jlock);
    att.status = journal_attestations(env->j, ph->id, out->now, &att.phase, &att.nphase, &att.err);
    if (att.status == GG_OK)
      att.status = journal_attestations(env->j, JOURNAL_ANY_PHASE, out->now, &att.any, &att.nany, &att.err);
    pthread_mutex_unlock(&env->jlock);
  }
  double tp = gg_clock_mono();
  if ((st = probe_prefetch(probes, wants, nw, err)) != GG_OK) goto out;
  out->probes = gg_clock_mono() - tp;
  out->slowest_probe = probe_ctx_slowest(probes, out->slowest_probe_what, sizeof out->slowest_probe_what);
  size_t started = 0;
  for (size_t i = 0; i < first_approval; i++) {
    jobs[i].env = env;
    jobs[i].probes = probes;
    jobs[i].opts = opts;
    jobs[i].p = p;
    jobs[i].phase = ph;
    jobs[i].now = out->now;
    jobs[i].item = &out->items[i];
    jobs[i].att = &att;
    if (!job_waits(&jobs[i])) continue; /* evaluated below, from the prefetched values */
    if (pthread_create(&threads[i], NULL, run_job, &jobs[i]) != 0) {
      run_job(&jobs[i]); /* no thread to be had: do it here */
      threads[i] = 0;
    } else {
      started++;
    }
  }
  /* Everything else reads what the prefetch fetched: microseconds each, no thread needed. */
  for (size_t i = 0; i < first_approval; i++)
    if (!job_waits(&jobs[i])) run_job(&jobs[i]);
  /* Approvals: one read of the journal. */
  if (ph->napprovals > 0) {
    gg_error e;
    gg_error_clear(&e);
    gg_status ast = GG_ERR_STATE;
    if (env->j) {
      pthread_mutex_lock(&env->jlock);
      ast = journal_approvals(env->j, ph->id, p->hash, &approvals, &napprovals, &e);
      pthread_mutex_unlock(&env->jlock);
    } else {
      gg_error_set(&e, GG_ERR_STATE, "approvals live in the journal, which could not be opened");
    }
    for (size_t i = first_approval; i < out->nitems; i++) {
      const plan_approval *a = jobs[i].approval;
      jobs[i] =
          (item_job){.env = env, .p = p, .phase = ph, .now = out->now, .item = &out->items[i], .approval = a};
      if (ast == GG_OK)
        do_approval(&jobs[i], approvals, napprovals);
      else
        record_error(&jobs[i], &e);
    }
  }
  for (size_t i = 0; i < first_approval; i++)
    if (threads[i]) pthread_join(threads[i], NULL);
  (void)started;

  out->elapsed = gg_clock_mono() - t0;
  for (size_t i = 0; i < out->nitems; i++)
    if (out->items[i].elapsed > out->slowest) out->slowest = out->items[i].elapsed;
  decide(out);
out:
  journal_signoffs_free(att.phase, att.nphase);
  journal_signoffs_free(att.any, att.nany);
  journal_signoffs_free(approvals, napprovals);
  probe_ctx_free(probes);
  free(wants);
  free(threads);
  free(jobs);
  gate_env_free(env);
  if (st != GG_OK) gate_report_release(out);
  return st;
}

void gate_report_release(gate_report *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nitems; i++) {
    gate_item *it = &r->items[i];
    free(it->name);
    free(it->kind);
    free(it->what);
    free(it->observed);
    free(it->threshold);
    free(it->message);
    for (size_t k = 0; k < it->nmembers; k++) free(it->members[k]);
    free(it->members);
    json_decref(it->evidence);
  }
  free(r->items);
  for (size_t i = 0; i < r->nreasons; i++) free(r->reasons[i]);
  free(r->reasons);
  for (size_t i = 0; i < r->npending; i++) free(r->pending[i]);
  free(r->pending);
  free(r->phase);
  free(r->phase_name);
  free(r->plan_hash);
  memset(r, 0, sizeof *r);
}

static json_t *str_array(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *time_or_null(double t) {
  if (t <= 0) return json_null();
  char buf[40];
  gg_time_format(t, buf, sizeof buf);
  return json_string(buf);
}

json_t *gate_report_json(const gate_report *r) {
  json_t *items = json_array();
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:f}", "section",
                          gate_section_name(it->section), "name", it->name, "kind", it->kind, "what",
                          it->what, "result", gate_result_name(it->result), "observed", it->observed,
                          "threshold", it->threshold, "failing", str_array(it->members, it->nmembers),
                          "message", it->message, "elapsed_ms", it->elapsed * 1000.0);
    json_object_set_new(o, "earliest", time_or_null(it->earliest));
    if (it->section == GATE_SEC_NOGO) {
      json_object_set_new(o, "outcome", json_string(it->outcome == PLAN_OUTCOME_DEFER ? "defer" : "no-go"));
      json_object_set_new(o, "holds", json_boolean(it->blocking));
    }
    if (it->evidence) json_object_set(o, "evidence", it->evidence);
    json_array_append_new(items, o);
  }
  json_t *root =
      json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:f, s:f}", "phase", r->phase, "phase_name",
                r->phase_name, "plan_hash", r->plan_hash, "decision", gate_decision_name(r->decision),
                "reasons", str_array(r->reasons, r->nreasons), "pending", str_array(r->pending, r->npending),
                "items", items, "elapsed_ms", r->elapsed * 1000.0, "slowest_ms", r->slowest * 1000.0);
  json_object_set_new(root, "earliest", time_or_null(r->earliest));
  json_object_set_new(root, "evaluated_at", time_or_null(r->now));
  json_object_set_new(root, "probes_ms", json_real(r->probes * 1000.0));
  json_object_set_new(root, "slowest_probe_ms", json_real(r->slowest_probe * 1000.0));
  json_object_set_new(root, "slowest_probe", json_string(r->slowest_probe_what));
  json_object_set_new(root, "at_given", json_boolean(r->at_given));
  json_object_set_new(root, "exit_code", json_integer((int)r->decision));
  return root;
}

gg_status gate_record(journal *j, const gate_report *r, const char *actor, gg_error *err) {
  json_t *ev = gate_report_json(r);
  if (!ev) return gg_error_set(err, GG_ERR_NOMEM, "journal the evaluation");
  gg_status st = journal_append(j, JOURNAL_EVALUATION, r->phase, actor, ev, NULL, err);
  json_decref(ev);
  if (st != GG_OK) return st;
  json_t *dec = json_pack("{s:s, s:s, s:o, s:o}", "decision", gate_decision_name(r->decision), "plan_hash",
                          r->plan_hash, "reasons", str_array(r->reasons, r->nreasons), "pending",
                          str_array(r->pending, r->npending));
  json_object_set_new(dec, "earliest", time_or_null(r->earliest));
  json_object_set_new(dec, "at_given", json_boolean(r->at_given));
  st = journal_append(j, JOURNAL_DECISION, r->phase, actor, dec, NULL, err);
  json_decref(dec);
  return st;
}
