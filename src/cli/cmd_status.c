/* gonogo status PLAN [--json]: where the migration stands — each phase's state, the approvals
 * and attestations in force, missing or void, the lock, and the one next step. The facts are
 * gathered once as JSON; the human view is rendered from that document, so both say the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "signoff/signoff.h"

/* The options of `gonogo status`, each bound to its option in the table below. */
typedef struct {
  bool json;
  const char *journal;
} cmd_status_opts;

static const cli_spec spec = {
    .verb = "status",
    .args = "PLAN",
    .summary = "phases, decisions, approvals and attestations, the lock, and the next step",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_FLAG(cmd_status_opts, json, "json", "the same facts as JSON"),
             CLI_STR(cmd_status_opts, journal, "journal", "PATH|URL",
                     "the journal: a file or a postgres:// URL (default: the plan's journal:, else "
                     ".gonogo/<migration>.db)")},
};

static void set_time(json_t *o, const char *key, double t) {
  if (t <= 0) return;
  char when[40];
  json_object_set_new(o, key, json_string(gg_time_format(t, when, sizeof when)));
}

static void set_str(json_t *o, const char *key, const char *v) {
  if (v) json_object_set_new(o, key, json_string(v));
}

static const char *jstr(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

/* The approvals of ph as the one sign-off evaluator judges them: one object per role the
 * phase asks for. *missing counts the roles that hold the phase back; *first_missing names
 * the first. */
static json_t *approvals_json(const signoff_book *book, const plan_phase *ph, int *missing,
                              const char **first_missing, double *latest) {
  json_t *arr = json_array();
  for (size_t i = 0; i < ph->napprovals; i++) {
    const plan_approval *a = &ph->approvals[i];
    signoff_verdict v = signoff_approval(book, ph, a);
    const journal_signoff *got = v.record;
    json_t *o = json_object();
    set_str(o, "role", a->role);
    json_object_set_new(o, "optional", json_boolean(a->optional));
    if (got) {
      set_str(o, "by", got->by);
      set_str(o, "os_user", got->os_user);
      set_str(o, "host", got->host);
      set_str(o, "decision", got->decision);
      set_time(o, "at", got->time);
      set_str(o, "note", got->note);
      signoff_verdict_annotate(o, &v);
      if (v.state == SIGNOFF_VOID && v.changes) set_str(o, "changed", v.changes);
      if (got->time > *latest) *latest = got->time;
    }
    set_str(o, "status", signoff_state_name(v.state));
    if (!v.satisfied) {
      if (!*missing) *first_missing = a->role;
      (*missing)++;
    }
    json_array_append_new(arr, o);
  }
  return arr;
}

/* The attestation items of criteria[0..n): the go criteria of ph, or with ph NULL the
 * plan's preflight (judged once for every phase), one object each. */
static json_t *attestations_json(const signoff_book *book, const plan_phase *ph, const plan_criterion *crit,
                                 size_t ncrit, int *missing, const char **first_missing, double *latest) {
  json_t *arr = json_array();
  for (size_t i = 0; i < ncrit; i++) {
    const plan_criterion *c = &crit[i];
    if (c->kind != PLAN_CRIT_ATTEST) continue;
    bool seen = false; /* an item may be listed twice */
    size_t m;
    json_t *prev;
    json_array_foreach(arr, m, prev) seen = seen || strcmp(jstr(prev, "item"), c->attest) == 0;
    if (seen) continue;
    signoff_verdict v = signoff_attestation(book, ph, c);
    const journal_signoff *got = v.record;
    json_t *o = json_object();
    set_str(o, "item", c->attest);
    set_str(o, "name", c->name);
    if (got) {
      set_str(o, "by", got->by);
      set_str(o, "os_user", got->os_user);
      set_str(o, "host", got->host);
      set_str(o, "phase", got->phase);
      set_time(o, "at", got->time);
      set_time(o, "expires", v.expires);
      set_str(o, "note", got->note);
      signoff_verdict_annotate(o, &v);
      if (got->time > *latest) *latest = got->time;
    }
    set_str(o, "status", signoff_state_name(v.state));
    if (!v.satisfied) {
      if (!*missing) *first_missing = c->attest;
      (*missing)++;
    }
    json_array_append_new(arr, o);
  }
  return arr;
}

/* The validation checkpoints that follow phase ph: each one's latest result since the phase
 * completed (journaled by `watch`), or when it is due. */
static json_t *checkpoints_json(const plan *p, const plan_phase *ph, const journal_phase_info *pi, journal *j,
                                gg_error *err, bool *ok) {
  json_t *arr = json_array();
  journal_event *evs = NULL;
  size_t n = 0;
  if (j && pi->completed_at > 0) {
    journal_filter f = journal_filter_all();
    f.any_phase = false;
    f.phase = ph->id;
    f.kind = "checkpoint";
    f.since = pi->completed_at;
    if (journal_events(j, &f, &evs, &n, err) != GG_OK) {
      *ok = false;
      return arr;
    }
  }
  for (size_t c = 0; c < p->nvalidation; c++) {
    const plan_checkpoint *cp = &p->validation[c];
    bool applies = cp->nphases == 0;
    for (size_t k = 0; k < cp->nphases && !applies; k++) applies = strcmp(cp->phases[k], ph->id) == 0;
    if (!applies) continue;
    json_t *o = json_object();
    set_str(o, "checkpoint", cp->name);
    const char *result = NULL;
    double at = 0;
    for (size_t i = 0; i < n; i++) {
      json_t *ct = journal_event_content(&evs[i]);
      const char *name = ct ? json_string_value(json_object_get(ct, "checkpoint")) : NULL;
      if (name && strcmp(name, cp->name) == 0) {
        const char *r = json_string_value(json_object_get(ct, "result"));
        result = r && strcmp(r, "PASS") == 0   ? "PASS"
                 : r && strcmp(r, "FAIL") == 0 ? "FAIL"
                 : r                           ? "ERROR"
                                               : NULL;
        at = evs[i].time;
      }
      json_decref(ct);
    }
    if (result) {
      set_str(o, "result", result);
      set_time(o, "at", at);
    } else if (journal_phase_checkpoints_cancelled(pi)) {
      set_str(o, "result", JOURNAL_CHECKPOINT_CANCELLED);
    } else if (pi->state == JOURNAL_STATE_COMPLETED) {
      set_str(o, "result", "due");
      set_time(o, "due", pi->completed_at + cp->at);
    } else {
      set_str(o, "result", "after completion");
    }
    json_array_append_new(arr, o);
  }
  journal_events_free(evs, n);
  return arr;
}

static const char *state_key(journal_phase_state s) {
  return journal_phase_state_name(s);
}

/* The one next step, from the first phase that is not completed. */
static char *next_step(const plan *p, const char *plan_path, const journal_phase_info *infos,
                       const char *const *missing_attest, const char *const *missing_role,
                       const double *latest, bool lock_held, bool lock_stale, bool chain_ok) {
  char buf[1024];
  if (!chain_ok) {
    snprintf(buf, sizeof buf,
             "the journal is damaged: run 'gonogo journal verify %s' and investigate before acting",
             plan_path);
    return strdup(buf);
  }
  for (size_t i = 0; i < p->nphases; i++) {
    const plan_phase *ph = &p->phases[i];
    const journal_phase_info *pi = &infos[i];
    switch (pi->state) {
      case JOURNAL_STATE_COMPLETED:
        continue;
      case JOURNAL_STATE_RUNNING:
        if (lock_held && !lock_stale)
          snprintf(buf, sizeof buf, "phase '%s' is running: wait for it (or follow 'gonogo watch %s')",
                   ph->id, plan_path);
        else
          snprintf(buf, sizeof buf, "phase '%s' was interrupted: gonogo resume %s%s", ph->id, plan_path,
                   lock_stale ? " --break-lock" : "");
        return strdup(buf);
      case JOURNAL_STATE_ROLLBACK_INCOMPLETE:
        snprintf(
            buf, sizeof buf,
            "phase '%s' rollback incomplete (%s): handle what remains, then gonogo rollback %s --phase %s "
            "--reason TEXT%s",
            ph->id, pi->reason[0] ? pi->reason : "under way or interrupted", plan_path, ph->id,
            lock_stale ? " --break-lock" : "");
        return strdup(buf);
      case JOURNAL_STATE_FAILED:
      case JOURNAL_STATE_ROLLED_BACK:
        snprintf(buf, sizeof buf, "phase '%s' %s (%s): investigate, then gonogo check %s --phase %s", ph->id,
                 pi->state == JOURNAL_STATE_FAILED ? "failed" : "was rolled back",
                 pi->reason[0] ? pi->reason : "no reason recorded", plan_path, ph->id);
        return strdup(buf);
      default:
        break;
    }
    if (missing_attest[i]) {
      const plan_criterion *c = jcli_find_attest(p, ph, missing_attest[i]);
      snprintf(buf, sizeof buf, "gonogo attest %s --phase %s --item %s --by NAME%s", plan_path, ph->id,
               missing_attest[i], c && c->signed_by ? " --key FILE" : "");
    } else if (missing_role[i]) {
      const plan_role *r = plan_find_role(p, missing_role[i]);
      snprintf(buf, sizeof buf, "gonogo approve %s --phase %s --role %s --by NAME%s", plan_path, ph->id,
               missing_role[i], r && r->nkeys ? " --key FILE" : "");
    } else if (pi->state == JOURNAL_STATE_DECIDED && strcmp(pi->decision, "GO") == 0 &&
               pi->decided_at >= latest[i]) {
      snprintf(buf, sizeof buf, "gonogo run %s --phase %s", plan_path, ph->id);
    } else if (pi->state == JOURNAL_STATE_DECIDED && strcmp(pi->decision, "NO-GO") == 0 &&
               pi->decided_at >= latest[i]) {
      snprintf(buf, sizeof buf, "phase '%s' is NO-GO: fix what failed, then gonogo check %s --phase %s",
               ph->id, plan_path, ph->id);
    } else if (pi->state == JOURNAL_STATE_DECIDED && strcmp(pi->decision, "DEFER") == 0 &&
               pi->decided_at >= latest[i]) {
      snprintf(buf, sizeof buf,
               "phase '%s' is deferred: wait for what is pending, then gonogo check %s --phase %s", ph->id,
               plan_path, ph->id);
    } else {
      snprintf(buf, sizeof buf, "gonogo check %s --phase %s", plan_path, ph->id);
    }
    return strdup(buf);
  }
  snprintf(buf, sizeof buf, "every phase is completed: gonogo report %s", plan_path);
  return strdup(buf);
}

/* Gather every fact into one JSON document. Returns NULL (error printed) on failure. */
/* The phase's latest traffic-shift note (DESIGN §14: share, step, state); NULL when none. */
static json_t *latest_shift(journal *j, const char *phase) {
  journal_filter f = journal_filter_all();
  f.any_phase = false;
  f.phase = phase;
  f.kind = "note";
  journal_event *ev = NULL;
  size_t n = 0;
  gg_error e;
  json_t *found = NULL;
  if (j && journal_events(j, &f, &ev, &n, &e) == GG_OK)
    for (size_t i = n; i-- > 0 && !found;) {
      json_t *c = journal_event_content(&ev[i]);
      if (json_is_string(json_object_get(c, "note")) &&
          strcmp(json_string_value(json_object_get(c, "note")), "shift") == 0)
        found = json_incref(c);
      json_decref(c);
    }
  journal_events_free(ev, n);
  return found;
}

static json_t *gather(const plan *p, const char *plan_path, journal *j) {
  gg_error err;
  gg_error_clear(&err);
  double now = gg_clock_now();
  json_t *doc = json_object();
  set_str(doc, "migration", p->migration);
  set_str(doc, "plan", plan_path);
  set_str(doc, "plan_hash", p->hash);
  set_time(doc, "now", now);
  bool chain_ok = true, lock_held = false, lock_stale = false;
  if (j) {
    set_str(doc, "journal", journal_path(j));
    journal_verify_result r;
    if (journal_verify(j, &r, &err) != GG_OK) goto fail;
    chain_ok = r.ok;
    json_t *chain = json_pack("{s:b, s:I}", "ok", r.ok, "events", (json_int_t)r.rows);
    if (!r.ok) {
      json_object_set_new(chain, "bad_seq", json_integer(r.bad_seq));
      set_str(chain, "what", r.what);
    }
    json_object_set_new(doc, "chain", chain);
    journal_lease l;
    if (journal_lock_get(j, &lock_held, &lock_stale, &l, &err) != GG_OK) goto fail;
    if (lock_held) {
      json_t *lock = json_pack("{s:s, s:s, s:I, s:b}", "holder", l.holder, "host", l.host, "pid",
                               (json_int_t)l.pid, "stale", lock_stale);
      set_time(lock, "since", l.since);
      set_time(lock, "expires", l.expires);
      json_object_set_new(doc, "lock", lock);
    } else {
      json_object_set_new(doc, "lock", json_null());
    }
  } else {
    json_object_set_new(doc, "journal", json_null());
    json_object_set_new(doc, "lock", json_null());
  }

  signoff_book *book = NULL;
  if (signoff_book_load(j, p, now, &book, &err) != GG_OK) goto fail;
  /* The preflight gates every phase: its attestations are judged, and shown, once. */
  int pre_missing = 0;
  const char *pre_first = NULL;
  double pre_latest = 0;
  json_t *pre = json_object();
  json_object_set_new(
      pre, "attestations",
      attestations_json(book, NULL, p->preflight, p->npreflight, &pre_missing, &pre_first, &pre_latest));
  json_object_set_new(doc, "preflight", pre);
  journal_phase_info *infos = calloc(p->nphases ? p->nphases : 1, sizeof *infos);
  const char **miss_att = calloc(p->nphases ? p->nphases : 1, sizeof *miss_att);
  const char **miss_role = calloc(p->nphases ? p->nphases : 1, sizeof *miss_role);
  double *latest = calloc(p->nphases ? p->nphases : 1, sizeof *latest);
  json_t *phases = json_array();
  bool ok = infos && miss_att && miss_role && latest;
  for (size_t i = 0; ok && i < p->nphases; i++) {
    const plan_phase *ph = &p->phases[i];
    journal_phase_info *pi = &infos[i];
    if (j && journal_phase(j, ph->id, pi, &err) != GG_OK) {
      ok = false;
      break;
    }
    json_t *o = json_object();
    set_str(o, "id", ph->id);
    set_str(o, "name", ph->name);
    set_str(o, "state", state_key(pi->state));
    if (pi->decision[0]) {
      set_str(o, "decision", pi->decision);
      set_time(o, "decided_at", pi->decided_at);
      json_object_set_new(o, "overridden", json_boolean(pi->overridden));
    }
    set_time(o, "prepared_at", pi->prepared_at);
    set_time(o, "started_at", pi->started_at);
    set_time(o, "completed_at", pi->completed_at);
    set_time(o, "failed_at", pi->failed_at);
    set_time(o, "rolled_back_at", pi->rolled_back_at);
    if (pi->reason[0]) set_str(o, "reason", pi->reason);
    if (pi->carried_back >= 0) json_object_set_new(o, "carried_back", json_integer(pi->carried_back));
    if (pi->kept[0]) set_str(o, "kept", pi->kept); /* what the rollback left in place, and why */
    json_t *shift = latest_shift(j, ph->id);
    if (shift) json_object_set_new(o, "shift", shift);
    int nmiss = 0, amiss = 0;
    latest[i] = pre_latest;
    json_object_set_new(o, "approvals", approvals_json(book, ph, &nmiss, &miss_role[i], &latest[i]));
    json_object_set_new(o, "attestations",
                        attestations_json(book, ph, ph->go, ph->ngo, &amiss, &miss_att[i], &latest[i]));
    if (!miss_att[i]) miss_att[i] = pre_first;
    json_object_set_new(o, "checkpoints", checkpoints_json(p, ph, pi, j, &err, &ok));
    json_array_append_new(phases, o);
  }
  signoff_book_free(book);
  if (ok) {
    json_object_set_new(doc, "phases", phases);
    phases = NULL;
    char *next = next_step(p, plan_path, infos, miss_att, miss_role, latest, lock_held, lock_stale, chain_ok);
    set_str(doc, "next", next ? next : "");
    free(next);
  }
  json_decref(phases);
  free(infos);
  free(miss_att);
  free(miss_role);
  free(latest);
  if (ok) return doc;
  if (err.code == GG_OK) gg_error_set(&err, GG_ERR_NOMEM, "out of memory");
fail:
  json_decref(doc);
  cli_fail_error(CLI_EXIT_FAIL, &err);
  return NULL;
}

/* One line per sign-off: "  approvals     platform-lead: in force (alice, 2026-...)". */
static void print_signoffs(FILE *out, json_t *arr, const char *title, const char *key, bool color) {
  const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "",
             *yellow = color ? "\033[33m" : "", *off = color ? "\033[0m" : "";
  size_t m;
  json_t *a;
  json_array_foreach(arr, m, a) {
    const char *status = jstr(a, "status");
    const char *c = strcmp(status, "in force") == 0 ? green : strcmp(status, "missing") == 0 ? yellow : red;
    fprintf(out, "  %-13s %s%s: %s%s%s", m == 0 ? title : "", jstr(a, key),
            json_is_true(json_object_get(a, "optional")) ? " (optional)" : "", c, status, off);
    if (json_object_get(a, "by")) fprintf(out, " (%s, %s", jstr(a, "by"), jstr(a, "at"));
    if (json_object_get(a, "expires")) fprintf(out, ", until %s", jstr(a, "expires"));
    if (json_object_get(a, "key"))
      fprintf(out, ", signed with %s", jstr(a, "key"));
    else if (json_is_true(json_object_get(a, "signed")))
      fprintf(out, ", signed");
    if (json_object_get(a, "why")) fprintf(out, "; %s", jstr(a, "why"));
    if (json_object_get(a, "changed")) fprintf(out, ": %s", jstr(a, "changed"));
    if (json_object_get(a, "by")) fprintf(out, ")");
    fprintf(out, "\n");
  }
}

static void render(json_t *doc, FILE *out) {
  bool color = cli_color(out);
  const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "",
             *yellow = color ? "\033[33m" : "", *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
  fprintf(out, "%smigration %s%s\n", bold, jstr(doc, "migration"), off);
  fprintf(out, "plan      %s (hash %.12s)\n", jstr(doc, "plan"), jstr(doc, "plan_hash"));
  json_t *chain = json_object_get(doc, "chain");
  if (!chain) {
    fprintf(out, "journal   none yet (nothing recorded)\n");
  } else if (json_is_true(json_object_get(chain, "ok"))) {
    fprintf(out, "journal   %s: %lld events, chain %sintact%s\n", jstr(doc, "journal"),
            (long long)json_integer_value(json_object_get(chain, "events")), green, off);
  } else {
    fprintf(out, "journal   %s: %sDAMAGED at row %lld%s: %s\n", jstr(doc, "journal"), red,
            (long long)json_integer_value(json_object_get(chain, "bad_seq")), off, jstr(chain, "what"));
  }
  json_t *lock = json_object_get(doc, "lock");
  if (!json_is_object(lock))
    fprintf(out, "lock      free\n");
  else
    fprintf(out, "lock      held by '%s' (pid %lld on %s) since %s, lease until %s%s%s%s\n",
            jstr(lock, "holder"), (long long)json_integer_value(json_object_get(lock, "pid")),
            jstr(lock, "host"), jstr(lock, "since"), jstr(lock, "expires"),
            json_is_true(json_object_get(lock, "stale")) ? yellow : "",
            json_is_true(json_object_get(lock, "stale")) ? " (stale)" : "", off);
  /* The preflight gates every phase: its sign-offs once, not under each phase. */
  json_t *pre = json_object_get(json_object_get(doc, "preflight"), "attestations");
  if (json_array_size(pre) > 0) {
    fprintf(out, "\n%spreflight%s     (gates every phase)\n", bold, off);
    print_signoffs(out, pre, "attestations", "item", color);
  }
  size_t i;
  json_t *ph;
  json_array_foreach(json_object_get(doc, "phases"), i, ph) {
    fprintf(out, "\n%sphase %s%s  %s\n", bold, jstr(ph, "id"), off, jstr(ph, "name"));
    const char *state = jstr(ph, "state");
    const char *decision = jstr(ph, "decision");
    const char *sc = strcmp(state, "completed") == 0 ? green
                     : strcmp(state, "failed") == 0 || strcmp(state, "rolled back") == 0 ||
                             strcmp(state, "rollback incomplete") == 0
                         ? red
                         : yellow;
    fprintf(out, "  state         %s%s%s", sc, state, off);
    if (strcmp(state, "completed") == 0) fprintf(out, " at %s", jstr(ph, "completed_at"));
    if (strcmp(state, "running") == 0) fprintf(out, " since %s", jstr(ph, "started_at"));
    if (strcmp(state, "prepared") == 0) fprintf(out, " at %s", jstr(ph, "prepared_at"));
    if (strcmp(state, "rolled back") == 0)
      fprintf(out, " at %s: %s", jstr(ph, "rolled_back_at"), jstr(ph, "reason"));
    if (strcmp(state, "rolled back") == 0 && json_object_get(ph, "carried_back"))
      fprintf(out, " (%lld messages carried back)",
              (long long)json_integer_value(json_object_get(ph, "carried_back")));
    if (strcmp(state, "rollback incomplete") == 0)
      fprintf(out, ": %s", json_object_get(ph, "reason") ? jstr(ph, "reason") : "under way or interrupted");
    if (strcmp(state, "failed") == 0) fprintf(out, " at %s: %s", jstr(ph, "failed_at"), jstr(ph, "reason"));
    if (strcmp(state, "decided") == 0 && json_object_get(ph, "reason"))
      fprintf(out, " (after %s: %s)",
              strcmp(jstr(ph, "failed_at"), jstr(ph, "rolled_back_at")) > 0 ? "a failure" : "a rollback",
              jstr(ph, "reason"));
    if (decision[0]) {
      const char *dc = strcmp(decision, "GO") == 0 ? green : strcmp(decision, "NO-GO") == 0 ? red : yellow;
      fprintf(out, "%s%s%s%s%s at %s%s", strcmp(state, "decided") == 0 ? " " : "; last decision ", dc,
              decision, off, json_is_true(json_object_get(ph, "overridden")) ? " (OVERRIDDEN)" : "",
              jstr(ph, "decided_at"), "");
    }
    fprintf(out, "\n");
    if (json_object_get(ph, "kept")) fprintf(out, "  %-13s %s%s%s\n", "kept", yellow, jstr(ph, "kept"), off);
    json_t *sh = json_object_get(ph, "shift");
    if (sh)
      fprintf(out, "  %-13s %s: %g%% to the new topology (step %lld/%lld, %s)\n", "shift", jstr(sh, "kv"),
              json_number_value(json_object_get(sh, "share")),
              (long long)json_integer_value(json_object_get(sh, "step")),
              (long long)json_integer_value(json_object_get(sh, "steps")), jstr(sh, "state"));
    print_signoffs(out, json_object_get(ph, "approvals"), "approvals", "role", color);
    print_signoffs(out, json_object_get(ph, "attestations"), "attestations", "item", color);
    size_t m;
    json_t *c;
    json_array_foreach(json_object_get(ph, "checkpoints"), m, c) {
      const char *r = jstr(c, "result");
      const char *col = strcmp(r, "PASS") == 0                              ? green
                        : strcmp(r, "FAIL") == 0 || strcmp(r, "ERROR") == 0 ? red
                                                                            : "";
      fprintf(out, "  %-13s %s: %s%s%s", m == 0 ? "checkpoints" : "", jstr(c, "checkpoint"), col, r, off);
      if (json_object_get(c, "at")) fprintf(out, " at %s", jstr(c, "at"));
      if (json_object_get(c, "due")) fprintf(out, " %s", jstr(c, "due"));
      fprintf(out, "\n");
    }
  }
  fprintf(out, "\n%snext:%s %s\n", bold, off, jstr(doc, "next"));
}

int cmd_status(int argc, char **argv) {
  cmd_status_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  plan *p = NULL;
  journal *j = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  rc = jcli_open_journal(p, args.args[0], opt.journal, JOURNAL_OPEN_READONLY, true, &j);
  if (rc >= 0) goto out;
  json_t *doc = gather(p, args.args[0], j);
  if (!doc) {
    rc = CLI_EXIT_FAIL;
    goto out;
  }
  if (opt.json) {
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) printf("%s\n", text);
    free(text);
  } else {
    render(doc, stdout);
  }
  json_decref(doc);
  rc = CLI_EXIT_OK;
out:
  journal_close(j);
  plan_free(p);
  return rc;
}
