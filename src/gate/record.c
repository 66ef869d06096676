/*
 * record.c: the report as JSON (the same facts as `check`'s human view) and into the journal.
 */
#include <jansson.h>

#include "base/clock.h"
#include "gate/internal.h"

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
    if (it->overridden) {
      json_object_set_new(o, "overridden", json_true());
      json_object_set_new(o, "override_reason", json_string(it->override_reason));
    }
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
