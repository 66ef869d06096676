/*
 * rehearsal.c: the report's rehearsal section: the latest `gonogo rehearse` of each phase (the
 * journal's `rehearsal` events), its figures, and whether it still counts for this plan.
 */
#include <stdio.h>
#include <string.h>

#include "report/internal.h"

static void copy(json_t *dst, const json_t *src, const char *key) {
  json_t *v = json_object_get(src, key);
  if (v && !json_is_null(v)) json_object_set(dst, key, v);
}

gg_status report_gather_rehearsals(const plan *p, journal *j, double now, json_t *doc, gg_error *err) {
  json_t *arr = json_array();
  if (!arr) return gg_error_set(err, GG_ERR_NOMEM, "gather the rehearsals");
  json_object_set_new(doc, "rehearsals", arr);
  if (!j) return GG_OK;
  for (size_t i = 0; i < p->nphases; i++) {
    journal_filter f = journal_filter_all();
    f.any_phase = false;
    f.phase = p->phases[i].id;
    f.kind = "rehearsal";
    journal_event *evs = NULL;
    size_t n = 0;
    gg_status st = journal_events(j, &f, &evs, &n, err);
    if (st != GG_OK) return st;
    if (n) {
      const journal_event *ev = &evs[n - 1];
      json_t *c = journal_event_content(ev);
      json_t *o = json_object();
      char when[40];
      json_object_set_new(o, "phase", json_string(p->phases[i].id));
      json_object_set_new(o, "at", json_string(gg_time_format(ev->time, when, sizeof when)));
      static const char *const keys[] = {
          "result",   "failure",        "published",    "consumed",    "lost",        "duplicated",
          "gap_ms",   "rollback_s",     "carried_back", "node_killed", "nats_server", "plan_hash",
          "lost_ids", "duplicated_ids", "check",        "soak",        "rate"};
      for (size_t k = 0; c && k < sizeof keys / sizeof keys[0]; k++) copy(o, c, keys[k]);
      const char *hash = json_string_value(json_object_get(c, "plan_hash"));
      bool same = hash && strcmp(hash, p->hash) == 0;
      bool fresh = now - ev->time <= (p->rehearsal_valid_for > 0 ? p->rehearsal_valid_for : 7 * 86400.0);
      const char *result = json_string_value(json_object_get(c, "result"));
      json_object_set_new(o, "counts",
                          json_boolean(same && fresh && result && strcmp(result, "passed") == 0));
      json_object_set_new(o, "why_not",
                          json_string(!same    ? "another plan hash (the plan changed since)"
                                      : !fresh ? "older than rehearsal_valid_for"
                                               : ""));
      json_decref(c);
      json_array_append_new(arr, o);
    }
    journal_events_free(evs, n);
  }
  return GG_OK;
}
