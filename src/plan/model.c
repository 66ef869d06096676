/* model.c: freeing, lookups and descriptions over the loaded plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "plan/internal.h"

static void free_strs(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void expr_release(plan_expr *e) {
  free(e->text);
  expr_free(e->ast);
}

static void stream_release(plan_stream *s) {
  free(s->name);
  free_strs(s->subjects, s->nsubjects);
  free(s->storage);
  free(s->retention);
  free(s->discard);
}

static void criterion_release(plan_criterion *c) {
  free(c->name);
  expr_release(&c->expect);
  free(c->run);
  free(c->run_shown);
  free(c->attest);
  free(c->signed_by);
  free(c->canary_target);
  free(c->canary_url);
  free(c->canary_subject);
  free(c->canary_body);
  free(c->canary_content_type);
}

static void criteria_free(plan_criterion *v, size_t n) {
  for (size_t i = 0; i < n; i++) criterion_release(&v[i]);
  free(v);
}

static void actions_free(plan_action *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    plan_action *a = &v[i];
    free(a->stream);
    free(a->consumer);
    free_strs(a->subjects, a->nsubjects);
    free(a->from);
    free(a->to);
    free(a->publisher_counter);
    if (a->update) {
      stream_release(a->update);
      free(a->update);
    }
    expr_release(&a->until_expr);
    free(a->run);
    free(a->undo);
    free(a->run_shown);
    free(a->undo_shown);
    free(a->bucket);
    free(a->key);
    free(a->value);
    free(a->steps);
    criteria_free(a->gate, a->ngate);
    free(a->target);
  }
  free(v);
}

void plan_free(plan *p) {
  if (!p) return;
  free(p->file);
  free(p->migration);
  gg_secret_release(&p->journal);
  free(p->description);
  free(p->workdir);
  plan_nats *nt = &p->connect.nats;
  free_strs(nt->servers, nt->nservers);
  free_strs(nt->monitor, nt->nmonitor);
  free(nt->credentials);
  gg_secret_release(&nt->token);
  free(nt->user);
  gg_secret_release(&nt->password);
  free(nt->nkey);
  free(nt->tls_ca);
  free(nt->tls_cert);
  free(nt->tls_key);
  free(nt->sys_user);
  gg_secret_release(&nt->sys_password);
  free(nt->sys_creds);
  for (size_t i = 0; i < p->connect.ndatabases; i++) {
    free(p->connect.databases[i].name);
    gg_secret_release(&p->connect.databases[i].url);
  }
  free(p->connect.databases);
  for (size_t i = 0; i < p->connect.ntargets; i++) {
    plan_target *t = &p->connect.targets[i];
    free(t->name);
    free(t->health);
    free(t->metrics);
    free(t->url);
  }
  free(p->connect.targets);
  free(p->connect.prometheus);
  free(p->connect.alertmanager);
  for (size_t i = 0; i < p->connect.nnotify; i++) gg_secret_release(&p->connect.notify[i].webhook);
  free(p->connect.notify);
  free(p->calendar.timezone);
  free_strs(p->calendar.holidays, p->calendar.nholidays);
  free(p->calendar.off_hours);
  json_decref(p->values);
  free_strs(p->calendar.freezes, p->calendar.nfreezes);
  free_strs(p->calendar.window_names, p->calendar.nwindows);
  free_strs(p->calendar.window_specs, p->calendar.nwindows);
  for (size_t i = 0; i < p->ndefines; i++) {
    free(p->defines[i].name);
    expr_release(&p->defines[i].expr);
  }
  free(p->defines);
  for (size_t i = 0; i < p->nroles; i++) {
    free(p->roles[i].name);
    free(p->roles[i].title);
    for (size_t k = 0; k < p->roles[i].nkeys; k++) {
      free(p->roles[i].keys[k].path);
      free(p->roles[i].keys[k].file);
    }
    free(p->roles[i].keys);
  }
  free(p->roles);
  criteria_free(p->preflight, p->npreflight);
  for (size_t i = 0; i < p->topology.nstreams; i++) stream_release(&p->topology.streams[i]);
  free(p->topology.streams);
  for (size_t i = 0; i < p->topology.nconsumers; i++) {
    plan_consumer *c = &p->topology.consumers[i];
    free(c->stream);
    free(c->name);
    free_strs(c->filters, c->nfilters);
    free(c->deliver_policy);
    free(c->ack_policy);
  }
  free(p->topology.consumers);
  for (size_t i = 0; i < p->nphases; i++) {
    plan_phase *ph = &p->phases[i];
    free(ph->id);
    free(ph->name);
    free(ph->description);
    for (size_t j = 0; j < ph->nrequires; j++) free(ph->requires[j].phase);
    free(ph->requires);
    for (size_t j = 0; j < ph->nrisks; j++) {
      free(ph->risks[j].risk);
      free(ph->risks[j].mitigation);
    }
    free(ph->risks);
    free(ph->rollback_complexity);
    free(ph->rollback_note);
    for (size_t j = 0; j < ph->napprovals; j++) free(ph->approvals[j].role);
    free(ph->approvals);
    criteria_free(ph->go, ph->ngo);
    for (size_t j = 0; j < ph->nno_go; j++) {
      free(ph->no_go[j].name);
      expr_release(&ph->no_go[j].when);
    }
    free(ph->no_go);
    actions_free(ph->prepare, ph->nprepare);
    actions_free(ph->actions, ph->nactions);
    criteria_free(ph->verify, ph->nverify);
  }
  free(p->phases);
  for (size_t i = 0; i < p->monitor.nrules; i++) {
    plan_rule *r = &p->monitor.rules[i];
    free(r->name);
    expr_release(&r->when);
    free_strs(r->phases, r->nphases);
  }
  free(p->monitor.rules);
  for (size_t i = 0; i < p->nvalidation; i++) {
    plan_checkpoint *c = &p->validation[i];
    free(c->name);
    free_strs(c->phases, c->nphases);
    criteria_free(c->items, c->nitems);
  }
  free(p->validation);
  for (size_t i = 0; i < p->nreferences; i++) {
    free(p->references[i].title);
    free(p->references[i].url);
  }
  free(p->references);
  plan_rehearsal *rh = &p->rehearsal;
  for (size_t i = 0; i < rh->nservices; i++) {
    plan_rehearsal_service *s = &rh->services[i];
    free(s->name);
    free(s->run);
    free(s->ready_url);
    expr_release(&s->ready);
    free_strs(s->env_names, s->nenv);
    free_strs(s->env_values, s->nenv);
  }
  free(rh->services);
  free(rh->publish_url);
  free(rh->publish_body);
  free(rh->consumed_db);
  free(rh->consumed_sql);
  free(p);
}

const plan_phase *plan_find_phase(const plan *p, const char *id) {
  for (size_t i = 0; i < p->nphases; i++)
    if (strcmp(p->phases[i].id, id) == 0) return &p->phases[i];
  return NULL;
}

const plan_stream *plan_find_stream(const plan *p, const char *name) {
  for (size_t i = 0; i < p->topology.nstreams; i++)
    if (strcmp(p->topology.streams[i].name, name) == 0) return &p->topology.streams[i];
  return NULL;
}

const plan_consumer *plan_find_consumer(const plan *p, const char *stream, const char *name) {
  for (size_t i = 0; i < p->topology.nconsumers; i++) {
    const plan_consumer *c = &p->topology.consumers[i];
    if (strcmp(c->stream, stream) == 0 && strcmp(c->name, name) == 0) return c;
  }
  return NULL;
}

const plan_key *plan_role_key(const plan_role *r, const unsigned char pub[GG_SIGKEY_PUBLIC_LEN]) {
  for (size_t i = 0; r && i < r->nkeys; i++)
    if (memcmp(r->keys[i].pub, pub, GG_SIGKEY_PUBLIC_LEN) == 0) return &r->keys[i];
  return NULL;
}

const plan_role *plan_find_role(const plan *p, const char *id) {
  for (size_t i = 0; i < p->nroles; i++)
    if (strcmp(p->roles[i].name, id) == 0) return &p->roles[i];
  return NULL;
}

const plan_target *plan_find_target(const plan *p, const char *name) {
  for (size_t i = 0; i < p->connect.ntargets; i++)
    if (strcmp(p->connect.targets[i].name, name) == 0) return &p->connect.targets[i];
  return NULL;
}

const plan_define *plan_find_define(const plan *p, const char *name) {
  for (size_t i = 0; i < p->ndefines; i++)
    if (strcmp(p->defines[i].name, name) == 0) return &p->defines[i];
  return NULL;
}

size_t plan_count_criteria(const plan *p) {
  size_t n = p->npreflight;
  for (size_t i = 0; i < p->nphases; i++) n += p->phases[i].ngo + p->phases[i].nno_go + p->phases[i].nverify;
  for (size_t i = 0; i < p->nvalidation; i++) n += p->validation[i].nitems;
  return n;
}

/* The enums' names, generated from their X-macros in plan.h so they cannot drift apart. */
#define PLAN_NAME_OF(name, word) word,

static const char *const action_names[PLAN_ACT_COUNT] = {PLAN_ACTION_KIND_MAP(PLAN_NAME_OF)};
static const char *const crit_kind_names[PLAN_CRIT_COUNT] = {PLAN_CRIT_KIND_MAP(PLAN_NAME_OF)};
static const char *const outcome_names[PLAN_OUTCOME_COUNT] = {PLAN_OUTCOME_MAP(PLAN_NAME_OF)};
static const char *const on_failure_names[PLAN_ON_FAILURE_COUNT] = {PLAN_ON_FAILURE_MAP(PLAN_NAME_OF)};
static const char *const then_names[PLAN_THEN_COUNT] = {PLAN_THEN_MAP(PLAN_NAME_OF)};

#undef PLAN_NAME_OF

const char *plan_action_kind_name(plan_action_kind k) {
  return (unsigned)k < PLAN_ACT_COUNT ? action_names[k] : "?";
}

const char *plan_crit_kind_name(plan_crit_kind k) {
  return (unsigned)k < PLAN_CRIT_COUNT ? crit_kind_names[k] : "?";
}

const char *plan_outcome_name(plan_outcome o) {
  return (unsigned)o < PLAN_OUTCOME_COUNT ? outcome_names[o] : "?";
}

const char *plan_on_failure_name(plan_on_failure f) {
  return (unsigned)f < PLAN_ON_FAILURE_COUNT ? on_failure_names[f] : "?";
}

const char *plan_then_name(plan_then t) {
  return (unsigned)t < PLAN_THEN_COUNT ? then_names[t] : "?";
}

static void join(const char *const *v, size_t n, char *out, size_t cap) {
  size_t used = 0;
  out[0] = 0;
  for (size_t i = 0; i < n && used < cap; i++) {
    int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", v[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

char *plan_action_describe(const plan_action *a, char *out, size_t n) {
  char subj[256], d1[32], d2[32];
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      snprintf(out, n, "create stream %s", a->stream);
      break;
    case PLAN_ACT_UPDATE_STREAM:
      snprintf(out, n, "update stream %s%s", a->stream,
               a->update ? " (inline settings)" : " to its topology config");
      break;
    case PLAN_ACT_DELETE_STREAM:
      snprintf(out, n, "delete stream %s%s", a->stream,
               a->allow_data_loss ? " (allow data loss)" : " (only if empty)");
      break;
    case PLAN_ACT_MOVE_SUBJECTS:
      join((const char *const *)a->subjects, a->nsubjects, subj, sizeof subj);
      snprintf(out, n, "move subjects %s from %s to %s", subj, a->from, a->to);
      break;
    case PLAN_ACT_CREATE_CONSUMER:
      snprintf(out, n, "create consumer %s/%s (bind if it exists with the same config)", a->stream,
               a->consumer);
      break;
    case PLAN_ACT_DRAIN:
      snprintf(out, n, "drain %s/%s until pending <= %g (timeout %s)", a->stream, a->consumer, a->until,
               a->timeout >= 0 ? gg_format_duration(a->timeout, d1, sizeof d1) : "none");
      break;
    case PLAN_ACT_VERIFY_CONTINUITY:
      join((const char *const *)a->subjects, a->nsubjects, subj, sizeof subj);
      snprintf(out, n, "verify continuity of %s across %s + %s%s%s", subj, a->from, a->to,
               a->publisher_counter ? " against " : "", a->publisher_counter ? a->publisher_counter : "");
      break;
    case PLAN_ACT_WAIT:
      if (a->until_expr.ast)
        snprintf(out, n, "wait until %s (timeout %s)", a->until_expr.text,
                 a->timeout >= 0 ? gg_format_duration(a->timeout, d1, sizeof d1) : "none");
      else
        snprintf(out, n, "wait %s", gg_format_duration(a->duration, d2, sizeof d2));
      break;
    case PLAN_ACT_EXEC:
      snprintf(out, n, "exec: %s", a->run_shown ? a->run_shown : "");
      break;
    case PLAN_ACT_KV_PUT:
      snprintf(out, n, "kv put %s.%s = %s%s", a->bucket, a->key, a->value,
               a->create_bucket ? " (bucket created if missing)" : "");
      break;
    case PLAN_ACT_SHIFT: {
      size_t len = 0;
      subj[0] = '\0';
      for (size_t i = 0; i < a->nsteps && len < sizeof subj; i++)
        len += (size_t)snprintf(subj + len, sizeof subj - len, "%s%g%%", i ? " -> " : "", a->steps[i]);
      snprintf(out, n, "shift %s/%s: %s, holding %s each%s", a->bucket, a->key, subj,
               gg_format_duration(a->hold, d1, sizeof d1), a->ngate ? " (gated)" : "");
      break;
    }
    default:
      snprintf(out, n, "?");
  }
  return out;
}

char *plan_action_inverse(const plan_action *a, char *out, size_t n) {
  char subj[256];
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      snprintf(out, n, "delete stream %s, only if this run created it and nothing in it is left unconsumed",
               a->stream);
      break;
    case PLAN_ACT_UPDATE_STREAM:
      snprintf(out, n, "restore the previous config of %s", a->stream);
      break;
    case PLAN_ACT_DELETE_STREAM:
      snprintf(out, n, "recreate %s from its journaled config (empty)", a->stream);
      break;
    case PLAN_ACT_MOVE_SUBJECTS:
      join((const char *const *)a->subjects, a->nsubjects, subj, sizeof subj);
      snprintf(out, n, "move subjects %s back from %s to %s", subj, a->to, a->from);
      break;
    case PLAN_ACT_CREATE_CONSUMER:
      snprintf(out, n, "delete consumer %s/%s, only if this run created it", a->stream, a->consumer);
      break;
    case PLAN_ACT_EXEC:
      if (a->undo)
        snprintf(out, n, "exec: %s", a->undo_shown);
      else
        snprintf(out, n, "none (no undo given)");
      break;
    case PLAN_ACT_KV_PUT:
      snprintf(out, n, "restore the previous value of %s.%s", a->bucket, a->key);
      break;
    case PLAN_ACT_SHIFT:
      snprintf(out, n, "set %s/%s to 0%%%s%s%s", a->bucket, a->key, a->consumer ? ", drain " : "",
               a->consumer ? a->stream : "", a->consumer ? "/" : "");
      if (a->consumer) {
        size_t len = strlen(out);
        snprintf(out + len, n > len ? n - len : 0, "%s", a->consumer);
      }
      break;
    default:
      snprintf(out, n, "none (observes only)");
  }
  return out;
}
