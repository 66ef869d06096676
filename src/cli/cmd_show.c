/* gonogo show PLAN [--phase N] [--json]: the plan as a readable checklist, no live values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/journal_cli.h"
#include "plan/plan.h"

/* The options of `gonogo show`, each bound to its option in the table below. */
typedef struct {
  const char *phase;
  bool json;
} cmd_show_opts;

/* url with any credentials masked; *keep holds the copy until the next call or free(). */
static const char *shown_url(const char *url, char **keep) {
  free(*keep);
  *keep = gg_secret_mask_text(url);
  return *keep ? *keep : "(out of memory)";
}

static const cli_spec spec = {
    .verb = "show",
    .args = "PLAN",
    .summary = "the plan as a readable checklist (risks, criteria, approvals, actions and their inverses)",
    .min_args = 1,
    .max_args = 1,
    .opts = {CLI_STR(cmd_show_opts, phase, "phase", "N",
                     "show only phase N (with the preflight, rules and checkpoints that apply to it)"),
             CLI_FLAG(cmd_show_opts, json, "json", "print the whole plan as JSON")},
};

typedef struct {
  FILE *out;
  bool color;
} view;

static void heading(const view *v, const char *fmt, ...) GG_PRINTF(2, 3);
static void heading(const view *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (v->color) fputs("\033[1m", v->out);
  vfprintf(v->out, fmt, ap);
  va_end(ap);
  if (v->color) fputs("\033[0m", v->out);
  fputc('\n', v->out);
}

static const char *dur(double s, char *buf, size_t n) {
  return gg_format_duration(s, buf, n);
}

static void criterion(const view *v, const plan_criterion *c, const char *indent) {
  char d1[32], d2[32];
  fprintf(v->out, "%s[ ] %s\n", indent, c->name ? c->name : "?");
  switch (c->kind) {
    case PLAN_CRIT_EXPECT:
      fprintf(v->out, "%s      expect: %s\n", indent, c->expect.text ? c->expect.text : "");
      break;
    case PLAN_CRIT_RUN:
      fprintf(v->out, "%s      run: %s (exit 0 within %s)\n", indent, c->run_shown,
              dur(c->timeout, d1, sizeof d1));
      break;
    case PLAN_CRIT_ATTEST:
      if (c->valid_for >= 0)
        fprintf(v->out, "%s      attest: %s (a named person confirms; valid for %s)\n", indent, c->attest,
                dur(c->valid_for, d1, sizeof d1));
      else
        fprintf(v->out, "%s      attest: %s (a named person confirms)\n", indent, c->attest);
      break;
    case PLAN_CRIT_CANARY:
      if (c->canary_subject)
        fprintf(v->out, "%s      canary: publish to %s, then expect %s within %s\n", indent,
                c->canary_subject, c->expect.text ? c->expect.text : "", dur(c->within, d2, sizeof d2));
      else
        fprintf(v->out, "%s      canary: POST %s, then expect %s within %s\n", indent,
                c->canary_url ? c->canary_url : "?", c->expect.text ? c->expect.text : "",
                dur(c->within, d2, sizeof d2));
      break;
  }
}

static void actions(const view *v, const plan_action *a, size_t n) {
  char buf[512], inv[512];
  for (size_t i = 0; i < n; i++) {
    fprintf(v->out, "    %zu. %s\n", i + 1, plan_action_describe(&a[i], buf, sizeof buf));
    fprintf(v->out, "         rollback: %s\n", plan_action_inverse(&a[i], inv, sizeof inv));
  }
}

static bool applies(char *const *phases, size_t n, const char *id) {
  if (!id || n == 0) return true;
  for (size_t i = 0; i < n; i++)
    if (strcmp(phases[i], id) == 0) return true;
  return false;
}

static void phase(const view *v, const plan *p, const plan_phase *ph) {
  char d1[32];
  fputc('\n', v->out);
  heading(v, "phase %s: %s", ph->id, ph->name ? ph->name : "");
  if (ph->description[0]) fprintf(v->out, "  %s\n", ph->description);
  fprintf(v->out, "  overall risk: %s (%s)\n", plan_level_name(ph->risk),
          ph->risk_declared ? "declared" : "derived: highest residual");
  if (ph->nrequires) {
    fprintf(v->out, "  requires:\n");
    for (size_t i = 0; i < ph->nrequires; i++) {
      fprintf(v->out, "    [ ] phase %s completed\n", ph->requires[i].phase);
      if (ph->requires[i].stable_for > 0)
        fprintf(v->out, "    [ ] phase %s stable for %s (no rollback or automatic trigger since)\n",
                ph->requires[i].phase, dur(ph->requires[i].stable_for, d1, sizeof d1));
    }
  }
  if (ph->nrisks) {
    int w = 4;
    for (size_t i = 0; i < ph->nrisks; i++) {
      int len = (int)strlen(ph->risks[i].risk);
      if (len > w) w = len;
    }
    if (w > 48) w = 48;
    fprintf(v->out, "  risks:\n    %-*s  %-11s %-8s  %-8s  %-8s  %s\n", w, "risk", "probability", "impact",
            "inherent", "residual", "mitigation");
    for (size_t i = 0; i < ph->nrisks; i++) {
      const plan_risk *r = &ph->risks[i];
      fprintf(v->out, "    %-*.*s  %-11s %-8s  %-8s  %-8s  %s\n", w, w, r->risk,
              plan_level_name(r->probability), plan_level_name(r->impact), plan_level_name(r->inherent),
              plan_level_name(r->residual), r->mitigation);
    }
  }
  if (ph->ngo) {
    fprintf(v->out, "  go criteria (all must pass; the preflight too):\n");
    for (size_t i = 0; i < ph->ngo; i++) criterion(v, &ph->go[i], "    ");
  }
  if (ph->nno_go) {
    fprintf(v->out, "  no-go conditions (any that holds stops the phase):\n");
    for (size_t i = 0; i < ph->nno_go; i++) {
      const plan_nogo *g = &ph->no_go[i];
      fprintf(v->out, "    [ ] %s -> %s\n          when: %s\n", g->name ? g->name : "?",
              g->outcome == PLAN_OUTCOME_DEFER ? "DEFER" : "NO-GO", g->when.text ? g->when.text : "");
    }
  }
  if (ph->napprovals) {
    fprintf(v->out, "  approvals:\n");
    for (size_t i = 0; i < ph->napprovals; i++) {
      const plan_role *r = plan_find_role(p, ph->approvals[i].role);
      fprintf(v->out, "    [ ] %s (%s)%s\n", r ? r->title : ph->approvals[i].role, ph->approvals[i].role,
              ph->approvals[i].optional ? " optional" : "");
    }
  }
  if (ph->nprepare) {
    fprintf(v->out, "  prepare (runs before the go decision; the criteria observe it):\n");
    actions(v, ph->prepare, ph->nprepare);
  }
  if (ph->nactions) {
    fprintf(v->out, "  actions (on failure: %s):\n",
            ph->on_failure == PLAN_ON_FAILURE_STOP ? "stop" : "rollback");
    actions(v, ph->actions, ph->nactions);
  }
  if (ph->nverify) {
    fprintf(v->out, "  verify (right after the actions; a failure is an action failure):\n");
    for (size_t i = 0; i < ph->nverify; i++) criterion(v, &ph->verify[i], "    ");
  }
  if (ph->rollback_complexity || ph->rollback_estimate >= 0) {
    fprintf(v->out, "  rollback: %s", ph->rollback_complexity ? ph->rollback_complexity : "");
    if (ph->rollback_estimate >= 0)
      fprintf(v->out, ", estimate %s", dur(ph->rollback_estimate, d1, sizeof d1));
    if (ph->rollback_note) fprintf(v->out, " (%s)", ph->rollback_note);
    fputc('\n', v->out);
  }
}

static void human(const view *v, const plan *p, const plan_phase *only) {
  char d1[32];
  heading(v, "%s", p->migration);
  if (p->description[0]) fprintf(v->out, "%s\n", p->description);
  fprintf(v->out, "plan %s, sha256 %s\n", p->file, p->hash);
  fprintf(v->out, "%zu phases, %zu criteria, %zu monitor rules, %zu checkpoints\n", p->nphases,
          plan_count_criteria(p), p->monitor.nrules, p->nvalidation);

  fputc('\n', v->out);
  heading(v, "risk matrix (%s): probability x impact -> level",
          p->risk_matrix.is_default ? "default" : "the plan's");
  fprintf(v->out, "    %-18s", "");
  for (int i = 0; i < PLAN_IMPACT_LEVELS; i++)
    fprintf(v->out, i + 1 < PLAN_IMPACT_LEVELS ? " %-9s" : " %s  (impact)\n", plan_level_key((plan_level)i));
  for (int pr = 0; pr < PLAN_PROBABILITY_LEVELS; pr++) {
    fprintf(v->out, "    probability %-6s", plan_level_key((plan_level)pr));
    for (int i = 0; i < PLAN_IMPACT_LEVELS; i++)
      fprintf(v->out, i + 1 < PLAN_IMPACT_LEVELS ? " %-9s" : " %s\n",
              plan_level_name(p->risk_matrix.cell[pr][i]));
  }

  const plan_connect *cn = &p->connect;
  char *u1 = NULL, *u2 = NULL;
  fputc('\n', v->out);
  heading(v, "connect (secrets shown by the variable they come from)");
  for (size_t i = 0; i < cn->nats.nservers; i++)
    fprintf(v->out, "    nats          %s\n", shown_url(cn->nats.servers[i], &u1));
  for (size_t i = 0; i < cn->nats.nmonitor; i++)
    fprintf(v->out, "    monitor       %s\n", shown_url(cn->nats.monitor[i], &u1));
  if (cn->nats.expect_servers) fprintf(v->out, "    expect        %d servers\n", cn->nats.expect_servers);
  for (size_t i = 0; i < cn->ndatabases; i++)
    fprintf(v->out, "    database      %s = %s\n", cn->databases[i].name,
            gg_secret_label(&cn->databases[i].url));
  for (size_t i = 0; i < cn->ntargets; i++)
    fprintf(v->out, "    target        %s: health %s, metrics %s\n", cn->targets[i].name,
            cn->targets[i].health ? shown_url(cn->targets[i].health, &u1) : "-",
            cn->targets[i].metrics ? shown_url(cn->targets[i].metrics, &u2) : "-");
  fprintf(v->out, "    prometheus    %s\n    alertmanager  %s\n",
          cn->prometheus ? shown_url(cn->prometheus, &u1) : "(none)",
          cn->alertmanager ? shown_url(cn->alertmanager, &u2) : "(none)");
  free(u1);
  free(u2);
  for (size_t i = 0; i < cn->nnotify; i++)
    fprintf(v->out, "    notify        %s\n", gg_secret_label(&cn->notify[i].webhook));

  if (p->nroles) {
    fputc('\n', v->out);
    heading(v, "approver roles");
    for (size_t i = 0; i < p->nroles; i++) {
      const plan_role *r = &p->roles[i];
      fprintf(v->out, "    %-22s %s%s", r->name, r->title, r->optional ? " (optional)" : "");
      for (size_t k = 0; k < r->nkeys; k++)
        fprintf(v->out, "%s%s", k ? ", " : "; signed by keys ", r->keys[k].path);
      fputc('\n', v->out);
    }
  }
  if (p->npreflight) {
    fputc('\n', v->out);
    heading(v, "preflight (gates every phase)");
    for (size_t i = 0; i < p->npreflight; i++) criterion(v, &p->preflight[i], "  ");
  }
  for (size_t i = 0; i < p->nphases; i++)
    if (!only || only == &p->phases[i]) phase(v, p, &p->phases[i]);

  const char *id = only ? only->id : NULL;
  if (p->monitor.nrules) {
    fputc('\n', v->out);
    heading(v, "monitor rules (evaluated every %s)", dur(p->monitor.interval, d1, sizeof d1));
    for (size_t i = 0; i < p->monitor.nrules; i++) {
      const plan_rule *r = &p->monitor.rules[i];
      if (!applies(r->phases, r->nphases, id)) continue;
      char d2[32];
      fprintf(v->out, "  %s -> %s\n      when: %s", r->name ? r->name : "?", plan_then_name(r->then),
              r->when.text ? r->when.text : "");
      if (r->for_ > 0) fprintf(v->out, "  for %s", dur(r->for_, d2, sizeof d2));
      fputc('\n', v->out);
    }
  }
  if (p->nvalidation) {
    fputc('\n', v->out);
    heading(v, "checkpoints (after each phase completes)");
    for (size_t i = 0; i < p->nvalidation; i++) {
      const plan_checkpoint *c = &p->validation[i];
      if (!applies(c->phases, c->nphases, id)) continue;
      fprintf(v->out, "  T+%s: %s", dur(c->at, d1, sizeof d1), c->name);
      if (c->nphases) {
        fprintf(v->out, " after phase");
        for (size_t j = 0; j < c->nphases; j++) fprintf(v->out, "%s%s", j ? ", " : " ", c->phases[j]);
      }
      fputc('\n', v->out);
      for (size_t j = 0; j < c->nitems; j++) criterion(v, &c->items[j], "    ");
    }
  }
  if (p->nreferences) {
    fputc('\n', v->out);
    heading(v, "references");
    for (size_t i = 0; i < p->nreferences; i++)
      fprintf(v->out, "  %s: %s\n", p->references[i].title, p->references[i].url);
  }
}

int cmd_show(int argc, char **argv) {
  cmd_show_opts opt = {0};
  cli_parsed args;
  int rc = cli_parse(&spec, argc, argv, &opt, &args);
  if (rc >= 0) return rc;
  plan *p = NULL;
  rc = jcli_load_plan(args.args[0], &p, NULL);
  if (rc >= 0) return rc;
  const char *phase_id = opt.phase;
  const plan_phase *only = NULL;
  if (phase_id) {
    only = plan_find_phase(p, phase_id);
    if (!only) {
      rc = cli_fail(CLI_EXIT_USAGE, "show: plan '%s' has no phase '%s'", args.args[0], phase_id);
      goto out;
    }
  }
  if (opt.json) {
    json_t *j = plan_to_json(p);
    if (j && only) {
      json_t *phases = json_object_get(j, "phases");
      json_t *keep = json_deep_copy(json_array_get(phases, (size_t)(only - p->phases)));
      json_t *arr = json_array();
      json_array_append_new(arr, keep);
      json_object_set_new(j, "phases", arr);
    }
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text) {
      rc = cli_fail(CLI_EXIT_FAIL, "show: out of memory");
      goto out;
    }
    puts(text);
    free(text);
  } else {
    view v = {stdout, cli_color(stdout)};
    human(&v, p, only);
  }
  rc = CLI_EXIT_OK;
out:
  plan_free(p);
  return rc;
}
