/* json.c: the plan as JSON (show --json). Secrets appear as their labels only. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "base/secret.h"
#include "plan/internal.h"

static json_t *str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *num_or_null(double v) {
  return v >= 0 ? json_real(v) : json_null();
}

static json_t *strs(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

/* A URL as output shows it: credentials in it masked. */
static json_t *url_or_null(const char *s) {
  if (!s) return json_null();
  char *m = gg_secret_mask_text(s);
  json_t *v = json_string(m ? m : "");
  free(m);
  return v;
}

static json_t *urls(char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, url_or_null(v[i]));
  return a;
}

static json_t *pos(plan_pos p) {
  return json_pack("{s:i,s:i}", "line", p.line, "col", p.col);
}

static json_t *expr_json(const plan_expr *e) {
  return e->text ? json_string(e->text) : json_null();
}

static json_t *criterion(const plan_criterion *c) {
  json_t *o =
      json_pack("{s:s?,s:s,s:o}", "name", c->name, "kind", plan_crit_kind_name(c->kind), "pos", pos(c->pos));
  switch (c->kind) {
    case PLAN_CRIT_EXPECT:
      json_object_set_new(o, "expect", expr_json(&c->expect));
      json_object_set_new(o, "timeout", json_real(c->timeout));
      break;
    case PLAN_CRIT_RUN:
      json_object_set_new(o, "run", str_or_null(c->run_shown));
      json_object_set_new(o, "timeout", json_real(c->timeout));
      break;
    case PLAN_CRIT_ATTEST:
      json_object_set_new(o, "attest", str_or_null(c->attest));
      if (c->signed_by) json_object_set_new(o, "signed_by", json_string(c->signed_by));
      json_object_set_new(o, "valid_for", num_or_null(c->valid_for));
      break;
    case PLAN_CRIT_CANARY:
      json_object_set_new(
          o, "canary",
          json_pack("{s:o,s:o,s:o,s:o,s:s?,s:o,s:f}", "target", str_or_null(c->canary_target), "url",
                    str_or_null(c->canary_url), "publish", str_or_null(c->canary_subject), "body",
                    str_or_null(c->canary_body), "content_type", c->canary_content_type, "expect",
                    expr_json(&c->expect), "within", c->within));
      break;
  }
  return o;
}

static json_t *criteria(const plan_criterion *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, criterion(&v[i]));
  return a;
}

static json_t *stream_json(const plan_stream *s) {
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(s->name));
  json_object_set_new(o, "existing", json_boolean(s->existing));
  json_object_set_new(o, "subjects", strs(s->subjects, s->nsubjects));
  if (s->replicas >= 0) json_object_set_new(o, "replicas", json_integer(s->replicas));
  if (s->storage) json_object_set_new(o, "storage", json_string(s->storage));
  if (s->retention) json_object_set_new(o, "retention", json_string(s->retention));
  if (s->discard) json_object_set_new(o, "discard", json_string(s->discard));
  if (s->max_age >= 0) json_object_set_new(o, "max_age", json_real(s->max_age));
  if (s->max_bytes >= 0) json_object_set_new(o, "max_bytes", json_real(s->max_bytes));
  if (s->max_msgs >= 0) json_object_set_new(o, "max_msgs", json_integer(s->max_msgs));
  if (s->max_msgs_per_subject >= 0)
    json_object_set_new(o, "max_msgs_per_subject", json_integer(s->max_msgs_per_subject));
  if (s->max_msg_size >= 0) json_object_set_new(o, "max_msg_size", json_real(s->max_msg_size));
  if (s->duplicates >= 0) json_object_set_new(o, "duplicates", json_real(s->duplicates));
  return o;
}

static json_t *actions(const plan_action *v, size_t n) {
  json_t *a = json_array();
  char buf[512], inv[512];
  for (size_t i = 0; i < n; i++) {
    const plan_action *x = &v[i];
    json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "kind", plan_action_kind_name(x->kind), "describe",
                          plan_action_describe(x, buf, sizeof buf), "inverse",
                          plan_action_inverse(x, inv, sizeof inv), "pos", pos(x->pos));
    if (x->stream) json_object_set_new(o, "stream", json_string(x->stream));
    if (x->consumer) json_object_set_new(o, "consumer", json_string(x->consumer));
    if (x->nsubjects) json_object_set_new(o, "subjects", strs(x->subjects, x->nsubjects));
    if (x->from) json_object_set_new(o, "from", json_string(x->from));
    if (x->to) json_object_set_new(o, "to", json_string(x->to));
    if (x->publisher_counter) json_object_set_new(o, "publisher_counter", json_string(x->publisher_counter));
    if (x->kind == PLAN_ACT_DELETE_STREAM)
      json_object_set_new(o, "allow_data_loss", json_boolean(x->allow_data_loss));
    if (x->update) json_object_set_new(o, "update", stream_json(x->update));
    if (x->kind == PLAN_ACT_DRAIN) json_object_set_new(o, "until", json_real(x->until));
    if (x->timeout >= 0) json_object_set_new(o, "timeout", json_real(x->timeout));
    if (x->duration >= 0) json_object_set_new(o, "duration", json_real(x->duration));
    if (x->until_expr.text) json_object_set_new(o, "until_expr", json_string(x->until_expr.text));
    if (x->run_shown) json_object_set_new(o, "run", json_string(x->run_shown));
    if (x->undo_shown) json_object_set_new(o, "undo", json_string(x->undo_shown));
    if (x->bucket) json_object_set_new(o, "bucket", json_string(x->bucket));
    if (x->key) json_object_set_new(o, "key", json_string(x->key));
    if (x->value) json_object_set_new(o, "value", json_string(x->value));
    if (x->create_bucket) json_object_set_new(o, "create", json_true());
    if (x->kind == PLAN_ACT_SHIFT) {
      json_t *st = json_array();
      for (size_t k = 0; k < x->nsteps; k++) json_array_append_new(st, json_real(x->steps[k]));
      json_object_set_new(o, "steps", st);
      json_object_set_new(o, "hold", json_real(x->hold));
      json_object_set_new(o, "gate", criteria(x->gate, x->ngate));
      if (x->target) json_object_set_new(o, "target", json_string(x->target));
    }
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *phase_json(const plan *p, const plan_phase *ph) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(ph->id));
  json_object_set_new(o, "name", str_or_null(ph->name));
  json_object_set_new(o, "description", json_string(ph->description));
  json_object_set_new(o, "risk", json_string(plan_level_name(ph->risk)));
  json_object_set_new(o, "risk_declared", json_boolean(ph->risk_declared));
  json_t *req = json_array();
  for (size_t i = 0; i < ph->nrequires; i++)
    json_array_append_new(req, json_pack("{s:s?,s:f}", "phase", ph->requires[i].phase, "stable_for",
                                         ph->requires[i].stable_for));
  json_object_set_new(o, "requires", req);
  json_t *risks = json_array();
  for (size_t i = 0; i < ph->nrisks; i++) {
    const plan_risk *r = &ph->risks[i];
    json_array_append_new(
        risks, json_pack("{s:s?,s:s,s:s,s:s,s:s,s:s}", "risk", r->risk, "probability",
                         plan_level_name(r->probability), "impact", plan_level_name(r->impact), "inherent",
                         plan_level_name(r->inherent), "mitigation", r->mitigation, "residual",
                         plan_level_name(r->residual)));
  }
  json_object_set_new(o, "risks", risks);
  json_object_set_new(
      o, "rollback",
      json_pack("{s:o,s:o,s:o}", "complexity", str_or_null(ph->rollback_complexity), "estimate",
                num_or_null(ph->rollback_estimate), "note", str_or_null(ph->rollback_note)));
  json_t *ap = json_array();
  for (size_t i = 0; i < ph->napprovals; i++) {
    const plan_role *role = plan_find_role(p, ph->approvals[i].role);
    json_array_append_new(
        ap, json_pack("{s:s,s:s,s:b}", "role", ph->approvals[i].role, "title",
                      role ? role->title : ph->approvals[i].role, "optional", ph->approvals[i].optional));
  }
  json_object_set_new(o, "approvals", ap);
  json_object_set_new(o, "go", criteria(ph->go, ph->ngo));
  json_t *ng = json_array();
  for (size_t i = 0; i < ph->nno_go; i++)
    json_array_append_new(
        ng, json_pack("{s:s?,s:o,s:s}", "name", ph->no_go[i].name, "when", expr_json(&ph->no_go[i].when),
                      "outcome", plan_outcome_name(ph->no_go[i].outcome)));
  json_object_set_new(o, "no_go", ng);
  json_object_set_new(o, "prepare", actions(ph->prepare, ph->nprepare));
  json_object_set_new(o, "actions", actions(ph->actions, ph->nactions));
  json_object_set_new(o, "verify", criteria(ph->verify, ph->nverify));
  json_object_set_new(o, "on_failure", json_string(plan_on_failure_name(ph->on_failure)));
  return o;
}

/* The roles, with the public keys allowed to sign for each (base64, as signatures name them). */
static json_t *roles_json(const plan *p) {
  json_t *roles = json_array();
  for (size_t i = 0; i < p->nroles; i++) {
    const plan_role *r = &p->roles[i];
    json_t *ro = json_pack("{s:s,s:s,s:b}", "id", r->name, "title", r->title, "optional", r->optional);
    if (ro && r->nkeys) {
      json_t *keys = json_array();
      for (size_t k = 0; k < r->nkeys; k++) {
        char b64[4 * ((GG_SIGKEY_PUBLIC_LEN + 2) / 3) + 1];
        gg_base64_encode(r->keys[k].pub, GG_SIGKEY_PUBLIC_LEN, b64, sizeof b64);
        json_array_append_new(keys, json_pack("{s:s,s:s}", "path", r->keys[k].path, "public_key", b64));
      }
      json_object_set_new(ro, "keys", keys);
    }
    json_array_append_new(roles, ro);
  }
  return roles;
}

/* rehearsal: the services' names, readiness and env names (a command or value may hold a
 * secret: never shown), the publish URL (masked), the count query. */
static json_t *rehearsal_json(const plan_rehearsal *r) {
  json_t *svcs = json_array();
  for (size_t i = 0; i < r->nservices; i++) {
    const plan_rehearsal_service *s = &r->services[i];
    json_t *env = json_array();
    for (size_t k = 0; k < s->nenv; k++) json_array_append_new(env, json_string(s->env_names[k]));
    json_array_append_new(svcs, json_pack("{s:s, s:o, s:f, s:o, s:o}", "name", s->name, "ready",
                                          s->ready_url ? url_or_null(s->ready_url) : expr_json(&s->ready),
                                          "ready_timeout", s->ready_timeout, "env", env, "pos", pos(s->pos)));
  }
  return json_pack("{s:o, s:o, s:o, s:o}", "services", svcs, "publish_url", url_or_null(r->publish_url),
                   "consumed_db", str_or_null(r->consumed_db), "consumed_sql", str_or_null(r->consumed_sql));
}

json_t *plan_to_json(const plan *p) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "file", str_or_null(p->file));
  json_object_set_new(o, "migration", json_string(p->migration));
  json_object_set_new(o, "description", json_string(p->description));
  json_object_set_new(o, "hash", json_string(p->hash));
  json_object_set_new(o, "rehearsal_valid_for", json_real(p->rehearsal_valid_for));
  json_object_set_new(o, "rehearsal", rehearsal_json(&p->rehearsal));

  const plan_connect *cn = &p->connect;
  json_t *nats = json_object();
  json_object_set_new(nats, "servers", urls(cn->nats.servers, cn->nats.nservers));
  json_object_set_new(nats, "monitor", urls(cn->nats.monitor, cn->nats.nmonitor));
  json_object_set_new(nats, "credentials", str_or_null(cn->nats.credentials));
  json_object_set_new(nats, "token", json_string(gg_secret_label(&cn->nats.token)));
  json_object_set_new(nats, "user", str_or_null(cn->nats.user));
  json_object_set_new(nats, "password", json_string(gg_secret_label(&cn->nats.password)));
  json_object_set_new(nats, "nkey", str_or_null(cn->nats.nkey));
  json_object_set_new(nats, "tls",
                      json_pack("{s:o,s:o,s:o}", "ca", str_or_null(cn->nats.tls_ca), "cert",
                                str_or_null(cn->nats.tls_cert), "key", str_or_null(cn->nats.tls_key)));
  json_object_set_new(
      nats, "system",
      json_pack("{s:o,s:s,s:o}", "user", str_or_null(cn->nats.sys_user), "password",
                gg_secret_label(&cn->nats.sys_password), "creds", str_or_null(cn->nats.sys_creds)));
  json_object_set_new(nats, "expect_servers", json_integer(cn->nats.expect_servers));
  if (cn->nats.api_timeout != 10.0) /* shown when set: plans that leave it keep their JSON */
    json_object_set_new(nats, "api_timeout", json_real(cn->nats.api_timeout));
  json_t *dbs = json_object();
  for (size_t i = 0; i < cn->ndatabases; i++)
    json_object_set_new(dbs, cn->databases[i].name, json_string(gg_secret_label(&cn->databases[i].url)));
  json_t *tg = json_object();
  for (size_t i = 0; i < cn->ntargets; i++)
    json_object_set_new(
        tg, cn->targets[i].name,
        json_pack("{s:o,s:o,s:o}", "health", url_or_null(cn->targets[i].health), "metrics",
                  url_or_null(cn->targets[i].metrics), "url", url_or_null(cn->targets[i].url)));
  json_t *nt = json_array();
  for (size_t i = 0; i < cn->nnotify; i++)
    json_array_append_new(nt, json_pack("{s:s}", "webhook", gg_secret_label(&cn->notify[i].webhook)));
  json_object_set_new(
      o, "connect",
      json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "nats", nats, "databases", dbs, "targets", tg, "prometheus",
                url_or_null(cn->prometheus), "alertmanager", url_or_null(cn->alertmanager), "notify", nt));

  json_t *windows = json_object();
  for (size_t i = 0; i < p->calendar.nwindows; i++)
    json_object_set_new(windows, p->calendar.window_names[i], json_string(p->calendar.window_specs[i]));
  json_object_set_new(o, "calendar",
                      json_pack("{s:s,s:o,s:o,s:o,s:o}", "timezone", p->calendar.timezone, "holidays",
                                strs(p->calendar.holidays, p->calendar.nholidays), "off_hours",
                                str_or_null(p->calendar.off_hours), "freeze",
                                strs(p->calendar.freezes, p->calendar.nfreezes), "windows", windows));
  json_t *defs = json_object();
  for (size_t i = 0; i < p->ndefines; i++)
    json_object_set_new(defs, p->defines[i].name, expr_json(&p->defines[i].expr));
  json_object_set_new(o, "define", defs);

  json_t *rm = json_object();
  for (int pr = 0; pr < PLAN_PROBABILITY_LEVELS; pr++) {
    json_t *row = json_object();
    for (int im = 0; im < PLAN_IMPACT_LEVELS; im++)
      json_object_set_new(row, plan_level_key((plan_level)im),
                          json_string(plan_level_name(p->risk_matrix.cell[pr][im])));
    json_object_set_new(rm, plan_level_key((plan_level)pr), row);
  }
  json_object_set_new(o, "risk_matrix",
                      json_pack("{s:b,s:o}", "default", p->risk_matrix.is_default, "cells", rm));

  json_object_set_new(o, "roles", roles_json(p));
  json_object_set_new(o, "preflight", criteria(p->preflight, p->npreflight));

  json_t *streams = json_array();
  for (size_t i = 0; i < p->topology.nstreams; i++)
    json_array_append_new(streams, stream_json(&p->topology.streams[i]));
  json_t *consumers = json_array();
  for (size_t i = 0; i < p->topology.nconsumers; i++) {
    const plan_consumer *c = &p->topology.consumers[i];
    json_t *co = json_pack("{s:s,s:s,s:b,s:o}", "stream", c->stream, "name", c->name, "existing", c->existing,
                           "filters", strs(c->filters, c->nfilters));
    if (c->ack_wait >= 0) json_object_set_new(co, "ack_wait", json_real(c->ack_wait));
    if (c->max_deliver >= 0) json_object_set_new(co, "max_deliver", json_integer(c->max_deliver));
    if (c->max_ack_pending >= 0) json_object_set_new(co, "max_ack_pending", json_integer(c->max_ack_pending));
    if (c->deliver_policy) json_object_set_new(co, "deliver_policy", json_string(c->deliver_policy));
    if (c->ack_policy) json_object_set_new(co, "ack_policy", json_string(c->ack_policy));
    json_array_append_new(consumers, co);
  }
  json_object_set_new(o, "topology", json_pack("{s:o,s:o}", "streams", streams, "consumers", consumers));

  json_t *phases = json_array();
  for (size_t i = 0; i < p->nphases; i++) json_array_append_new(phases, phase_json(p, &p->phases[i]));
  json_object_set_new(o, "phases", phases);

  json_t *rules = json_array();
  for (size_t i = 0; i < p->monitor.nrules; i++) {
    const plan_rule *r = &p->monitor.rules[i];
    json_array_append_new(
        rules, json_pack("{s:s?,s:o,s:f,s:s,s:s,s:o}", "name", r->name, "when", expr_json(&r->when), "for",
                         r->for_, "then", plan_then_name(r->then), "on_error",
                         r->on_error_hold ? "hold" : "ignore", "phases", strs(r->phases, r->nphases)));
  }
  json_object_set_new(o, "monitor", json_pack("{s:f,s:o}", "interval", p->monitor.interval, "rules", rules));

  json_t *val = json_array();
  for (size_t i = 0; i < p->nvalidation; i++) {
    const plan_checkpoint *c = &p->validation[i];
    json_array_append_new(val,
                          json_pack("{s:f,s:s,s:o,s:o}", "at", c->at, "name", c->name, "phases",
                                    strs(c->phases, c->nphases), "expect", criteria(c->items, c->nitems)));
  }
  json_object_set_new(o, "validation", val);
  json_t *refs = json_array();
  for (size_t i = 0; i < p->nreferences; i++)
    json_array_append_new(
        refs, json_pack("{s:s,s:s}", "title", p->references[i].title, "url", p->references[i].url));
  json_object_set_new(o, "references", refs);
  json_object_set_new(o, "counts",
                      json_pack("{s:I,s:I,s:I}", "phases", (json_int_t)p->nphases, "criteria",
                                (json_int_t)plan_count_criteria(p), "rules", (json_int_t)p->monitor.nrules));
  return o;
}
