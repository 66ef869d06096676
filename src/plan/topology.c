/*
 * topology.c: the `topology:` section: streams and consumers, and references to its streams.
 */
#include <stdio.h>
#include <string.h>

#include "plan/internal.h"

void plan_load_stream_settings(plan_loader *l, ynode *v, plan_stream *s, const char *where) {
  plan_load_strlist(l, plan_ynode_get(v, "subjects"), "subjects", false, &s->subjects, &s->nsubjects);
  s->replicas = (int)plan_load_int(l, v, "replicas", 1, 5, -1);
  plan_load_str(l, v, "storage", false, where, &s->storage);
  plan_load_str(l, v, "retention", false, where, &s->retention);
  plan_load_str(l, v, "discard", false, where, &s->discard);
  static const char *const storages[] = {"file", "memory"};
  static const char *const retentions[] = {"limits", "interest", "workqueue"};
  static const char *const discards[] = {"old", "new"};
  struct {
    const char *key, *val;
    const char *const *ok;
    size_t n;
  } enums[] = {{"storage", s->storage, storages, 2},
               {"retention", s->retention, retentions, 3},
               {"discard", s->discard, discards, 2}};
  for (size_t e = 0; e < PLAN_COUNT(enums); e++) {
    if (!enums[e].val) continue;
    bool ok = false;
    for (size_t j = 0; j < enums[e].n; j++) ok |= strcmp(enums[e].val, enums[e].ok[j]) == 0;
    if (!ok) {
      const char *sg = plan_suggest(enums[e].val, enums[e].ok, enums[e].n);
      char hint[100];
      if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
      const ynode *at = plan_ynode_get(v, enums[e].key);
      plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line, at->col, sg ? hint : NULL, "unknown %s '%s' in %s",
                    enums[e].key, enums[e].val, where);
    }
  }
  s->max_age = plan_load_dur(l, v, "max_age", -1);
  s->max_bytes = plan_load_size(l, v, "max_bytes", -1);
  s->max_msgs = plan_load_int(l, v, "max_msgs", -1, INT64_MAX, -1);
  s->max_msgs_per_subject = plan_load_int(l, v, "max_msgs_per_subject", -1, INT64_MAX, -1);
  s->max_msg_size = plan_load_size(l, v, "max_msg_size", -1);
  s->duplicates = plan_load_dur(l, v, "duplicates", -1);
}

const char *const plan_load_stream_keys[PLAN_LOAD_STREAM_KEYS] = {
    "subjects",     "replicas",   "storage",
    "retention",    "discard",    "max_age",
    "max_bytes",    "max_msgs",   "max_msgs_per_subject",
    "max_msg_size", "duplicates", "existing",
    "description"};

void plan_load_topology(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"streams", "consumers"};
  static const char *const ckeys[] = {"filter",      "filters",         "ack_wait",
                                      "max_deliver", "max_ack_pending", "deliver_policy",
                                      "ack_policy",  "existing",        "description"};
  if (!v || !plan_load_want_map(l, v, "'topology'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "topology");
  plan_topology *t = &l->p->topology;
  ynode *ss = plan_ynode_get(v, "streams");
  if (ss && plan_load_want_map(l, ss, "'streams'")) {
    t->streams = plan_load_alloc(l, ss->n, sizeof *t->streams);
    for (size_t i = 0; t->streams && i < ss->n; i++) {
      ynode *k = ss->items[2 * i], *sv = ss->items[2 * i + 1];
      plan_stream *s = &t->streams[t->nstreams++];
      s->name = plan_load_dup(l, k->text);
      s->pos = plan_load_pos(k);
      s->replicas = -1;
      s->max_age = s->max_bytes = s->max_msg_size = s->duplicates = -1;
      s->max_msgs = s->max_msgs_per_subject = -1;
      char where[160];
      snprintf(where, sizeof where, "stream '%s'", k->text);
      if (sv->kind == YN_SCALAR && sv->is_null) continue;
      if (!plan_load_want_map(l, sv, where)) continue;
      plan_load_check_keys(l, sv, plan_load_stream_keys, PLAN_COUNT(plan_load_stream_keys), where);
      s->existing = plan_load_bool(l, sv, "existing", false);
      plan_load_stream_settings(l, sv, s, where);
    }
  }
  ynode *cs = plan_ynode_get(v, "consumers");
  if (cs && plan_load_want_map(l, cs, "'consumers'")) {
    t->consumers = plan_load_alloc(l, cs->n, sizeof *t->consumers);
    for (size_t i = 0; t->consumers && i < cs->n; i++) {
      ynode *k = cs->items[2 * i], *cv = cs->items[2 * i + 1];
      const char *slash = strchr(k->text, '/');
      if (!slash || slash == k->text || !slash[1] || strchr(slash + 1, '/')) {
        perr(l->c, k, "consumer key '%s' must be STREAM/NAME", k->text);
        continue;
      }
      plan_consumer *c = &t->consumers[t->nconsumers++];
      c->stream = strndup(k->text, (size_t)(slash - k->text));
      c->name = plan_load_dup(l, slash + 1);
      c->pos = plan_load_pos(k);
      c->ack_wait = -1;
      c->max_deliver = c->max_ack_pending = -1;
      if (c->stream && !plan_find_stream(l->p, c->stream)) {
        const char *names[64];
        size_t nn = 0;
        for (size_t j = 0; j < t->nstreams && nn < 64; j++) names[nn++] = t->streams[j].name;
        const char *sg = plan_suggest(c->stream, names, nn);
        char hint[200];
        if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
        plan_diag_add(l->c, PLAN_DIAG_ERROR, k->line, k->col, sg ? hint : NULL,
                      "consumer '%s': stream '%s' is not in topology.streams", k->text, c->stream);
      }
      char where[200];
      snprintf(where, sizeof where, "consumer '%s'", k->text);
      if (cv->kind == YN_SCALAR && cv->is_null) continue;
      if (!plan_load_want_map(l, cv, where)) continue;
      plan_load_check_keys(l, cv, ckeys, PLAN_COUNT(ckeys), where);
      c->existing = plan_load_bool(l, cv, "existing", false);
      ynode *f = plan_ynode_get(cv, "filter");
      ynode *fs = plan_ynode_get(cv, "filters");
      if (f && fs) perr(l->c, fs, "%s has both 'filter' and 'filters'", where);
      plan_load_strlist(l, f ? f : fs, f ? "filter" : "filters", false, &c->filters, &c->nfilters);
      c->ack_wait = plan_load_dur(l, cv, "ack_wait", -1);
      c->max_deliver = plan_load_int(l, cv, "max_deliver", -1, INT32_MAX, -1);
      c->max_ack_pending = plan_load_int(l, cv, "max_ack_pending", -1, INT32_MAX, -1);
      plan_load_str(l, cv, "deliver_policy", false, where, &c->deliver_policy);
      plan_load_str(l, cv, "ack_policy", false, where, &c->ack_policy);
    }
  }
}

void plan_load_stream_ref(plan_loader *l, const ynode *at, const char *name, const char *what) {
  if (!name || plan_find_stream(l->p, name)) return;
  const char *names[64];
  size_t nn = 0;
  for (size_t j = 0; j < l->p->topology.nstreams && nn < 64; j++)
    names[nn++] = l->p->topology.streams[j].name;
  const char *sg = plan_suggest(name, names, nn);
  char hint[200];
  if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
  plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line, at->col, sg ? hint : "declare it under topology.streams",
                "%s names unknown stream '%s'", what, name);
}
