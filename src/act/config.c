/*
 * config.c: stream and consumer configurations between the plan and JetStream — building them,
 * comparing them field by field (drift), and keeping a stream's managed fields as JSON so an
 * inverse can restore exactly what was there. Pure: no I/O, unit-tested.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/internal.h"
#include "base/units.h"

char *act_strdup_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (len < 0) return NULL;
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return s;
}

int act_lines_add(char ***lines, size_t *n, char *line) {
  if (!line) return -1;
  char **grown = realloc(*lines, (*n + 1) * sizeof *grown);
  if (!grown) {
    free(line);
    return -1;
  }
  grown[(*n)++] = line;
  *lines = grown;
  return 0;
}

bool act_has_subject(const char *const *have, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (have[i] && strcmp(have[i], s) == 0) return true;
  return false;
}

static const char *storage_name(jsStorageType t) {
  return t == js_MemoryStorage ? "memory" : "file";
}
static const char *retention_name(jsRetentionPolicy r) {
  return r == js_InterestPolicy ? "interest" : r == js_WorkQueuePolicy ? "workqueue" : "limits";
}
static const char *discard_name(jsDiscardPolicy d) {
  return d == js_DiscardNew ? "new" : "old";
}
static jsStorageType storage_parse(const char *s) {
  return s && strcmp(s, "memory") == 0 ? js_MemoryStorage : js_FileStorage;
}
static jsRetentionPolicy retention_parse(const char *s) {
  if (s && strcmp(s, "interest") == 0) return js_InterestPolicy;
  if (s && strcmp(s, "workqueue") == 0) return js_WorkQueuePolicy;
  return js_LimitsPolicy;
}
static jsDiscardPolicy discard_parse(const char *s) {
  return s && strcmp(s, "new") == 0 ? js_DiscardNew : js_DiscardOld;
}

static const char *deliver_name(jsDeliverPolicy d) {
  switch (d) {
    case js_DeliverLast:
      return "last";
    case js_DeliverNew:
      return "new";
    case js_DeliverLastPerSubject:
      return "last_per_subject";
    case js_DeliverByStartSequence:
      return "by_start_sequence";
    case js_DeliverByStartTime:
      return "by_start_time";
    default:
      return "all";
  }
}
static jsDeliverPolicy deliver_parse(const char *s) {
  if (!s) return js_DeliverAll;
  if (strcmp(s, "last") == 0) return js_DeliverLast;
  if (strcmp(s, "new") == 0) return js_DeliverNew;
  if (strcmp(s, "last_per_subject") == 0) return js_DeliverLastPerSubject;
  return js_DeliverAll;
}
static const char *ack_name(jsAckPolicy a) {
  return a == js_AckNone ? "none" : a == js_AckAll ? "all" : "explicit";
}
static jsAckPolicy ack_parse(const char *s) {
  if (s && strcmp(s, "none") == 0) return js_AckNone;
  if (s && strcmp(s, "all") == 0) return js_AckAll;
  return js_AckExplicit;
}

static char *dur(double seconds, char *out, size_t n) {
  if (seconds <= 0) {
    snprintf(out, n, "unlimited");
    return out;
  }
  return gg_format_duration(seconds, out, n);
}

static char *limit(double v, bool bytes, char *out, size_t n) {
  if (v < 0)
    snprintf(out, n, "unlimited");
  else if (bytes)
    gg_format_size(v, out, n);
  else
    snprintf(out, n, "%.0f", v);
  return out;
}

static char *subjects_text(const char *const *s, int n, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  len += (size_t)snprintf(out, cap, "[");
  for (int i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", s[i]);
  if (len < cap) snprintf(out + len, cap - len, "]");
  return out;
}

static bool same_subject_set(const char *const *a, int na, const char *const *b, int nb) {
  for (int i = 0; i < na; i++)
    if (!act_has_subject(b, nb, a[i])) return false;
  for (int i = 0; i < nb; i++)
    if (!act_has_subject(a, na, b[i])) return false;
  return true;
}

#define ADD(...)                                                                 \
  do {                                                                           \
    if (act_lines_add(lines, n, act_strdup_printf(__VA_ARGS__)) != 0) return -1; \
    added++;                                                                     \
  } while (0)

int act_stream_diff(const plan_stream *w, const jsStreamConfig *h, bool ignore_subjects, char ***lines,
                    size_t *n) {
  int added = 0;
  char a[256], b[256];
  if (!ignore_subjects && w->nsubjects > 0 &&
      !same_subject_set((const char *const *)w->subjects, (int)w->nsubjects, h->Subjects, h->SubjectsLen))
    ADD("subjects: %s -> %s", subjects_text(h->Subjects, h->SubjectsLen, a, sizeof a),
        subjects_text((const char *const *)w->subjects, (int)w->nsubjects, b, sizeof b));
  if (w->replicas > 0 && (int64_t)w->replicas != (h->Replicas > 0 ? h->Replicas : 1))
    ADD("replicas: %lld -> %d", (long long)(h->Replicas > 0 ? h->Replicas : 1), w->replicas);
  if (w->storage && storage_parse(w->storage) != h->Storage)
    ADD("storage: %s -> %s", storage_name(h->Storage), w->storage);
  if (w->retention && retention_parse(w->retention) != h->Retention)
    ADD("retention: %s -> %s", retention_name(h->Retention), w->retention);
  if (w->discard && discard_parse(w->discard) != h->Discard)
    ADD("discard: %s -> %s", discard_name(h->Discard), w->discard);
  if (w->max_age >= 0 && llround(w->max_age * 1e9) != h->MaxAge)
    ADD("max_age: %s -> %s", dur((double)h->MaxAge / 1e9, a, sizeof a), dur(w->max_age, b, sizeof b));
  if (w->max_bytes >= 0 && llround(w->max_bytes) != h->MaxBytes)
    ADD("max_bytes: %s -> %s", limit((double)h->MaxBytes, true, a, sizeof a),
        limit(w->max_bytes, true, b, sizeof b));
  if (w->max_msgs >= 0 && w->max_msgs != h->MaxMsgs)
    ADD("max_msgs: %s -> %lld", limit((double)h->MaxMsgs, false, a, sizeof a), (long long)w->max_msgs);
  if (w->max_msgs_per_subject >= 0 && w->max_msgs_per_subject != h->MaxMsgsPerSubject)
    ADD("max_msgs_per_subject: %s -> %lld", limit((double)h->MaxMsgsPerSubject, false, a, sizeof a),
        (long long)w->max_msgs_per_subject);
  if (w->max_msg_size >= 0 && llround(w->max_msg_size) != (long long)h->MaxMsgSize)
    ADD("max_msg_size: %s -> %s", limit((double)h->MaxMsgSize, true, a, sizeof a),
        limit(w->max_msg_size, true, b, sizeof b));
  if (w->duplicates >= 0 && llround(w->duplicates * 1e9) != h->Duplicates)
    ADD("duplicates: %s -> %s", dur((double)h->Duplicates / 1e9, a, sizeof a),
        dur(w->duplicates, b, sizeof b));
  return added;
}

int act_consumer_diff(const plan_consumer *w, const jsConsumerConfig *h, char ***lines, size_t *n) {
  int added = 0;
  char a[64], b[64];
  if (w->nfilters == 1 && strcmp(w->filters[0], h->FilterSubject ? h->FilterSubject : "") != 0)
    ADD("filter: %s -> %s", h->FilterSubject && *h->FilterSubject ? h->FilterSubject : "(none)",
        w->filters[0]);
  if (w->nfilters == 0 && h->FilterSubject && *h->FilterSubject)
    ADD("filter: %s -> (none)", h->FilterSubject);
  if (w->ack_wait >= 0 && llround(w->ack_wait * 1e9) != h->AckWait)
    ADD("ack_wait: %s -> %s", dur((double)h->AckWait / 1e9, a, sizeof a), dur(w->ack_wait, b, sizeof b));
  if (w->max_deliver >= 0 && w->max_deliver != h->MaxDeliver)
    ADD("max_deliver: %lld -> %lld", (long long)h->MaxDeliver, (long long)w->max_deliver);
  if (w->max_ack_pending >= 0 && w->max_ack_pending != h->MaxAckPending)
    ADD("max_ack_pending: %lld -> %lld", (long long)h->MaxAckPending, (long long)w->max_ack_pending);
  if (w->deliver_policy && deliver_parse(w->deliver_policy) != h->DeliverPolicy)
    ADD("deliver_policy: %s -> %s", deliver_name(h->DeliverPolicy), w->deliver_policy);
  if (ack_parse(w->ack_policy) != h->AckPolicy)
    ADD("ack_policy: %s -> %s", ack_name(h->AckPolicy), ack_name(ack_parse(w->ack_policy)));
  return added;
}
#undef ADD

/* The limits the plan sets (a negative value: not set, keep cfg's). */
static void limits_overlay(const plan_stream *ps, jsStreamConfig *cfg) {
  if (ps->max_age >= 0) cfg->MaxAge = llround(ps->max_age * 1e9);
  if (ps->max_bytes >= 0) cfg->MaxBytes = llround(ps->max_bytes);
  if (ps->max_msgs >= 0) cfg->MaxMsgs = ps->max_msgs;
  if (ps->max_msgs_per_subject >= 0) cfg->MaxMsgsPerSubject = ps->max_msgs_per_subject;
  if (ps->max_msg_size >= 0) cfg->MaxMsgSize = (int32_t)llround(ps->max_msg_size);
  if (ps->duplicates >= 0) cfg->Duplicates = llround(ps->duplicates * 1e9);
}

void act_stream_config_from_plan(const plan_stream *ps, const char **subjects, int nsubjects,
                                 jsStreamConfig *cfg) {
  jsStreamConfig_Init(cfg);
  cfg->Name = ps->name;
  cfg->Subjects = subjects;
  cfg->SubjectsLen = nsubjects;
  cfg->Replicas = ps->replicas > 0 ? ps->replicas : 1;
  cfg->Storage = storage_parse(ps->storage);
  cfg->Retention = retention_parse(ps->retention);
  cfg->Discard = discard_parse(ps->discard);
  limits_overlay(ps, cfg);
}

void act_stream_config_overlay(const plan_stream *ps, jsStreamConfig *cfg) {
  if (ps->nsubjects > 0) {
    cfg->Subjects = (const char **)ps->subjects;
    cfg->SubjectsLen = (int)ps->nsubjects;
  }
  if (ps->replicas > 0) cfg->Replicas = ps->replicas;
  if (ps->storage) cfg->Storage = storage_parse(ps->storage);
  if (ps->retention) cfg->Retention = retention_parse(ps->retention);
  if (ps->discard) cfg->Discard = discard_parse(ps->discard);
  limits_overlay(ps, cfg);
}

void act_consumer_config_from_plan(const plan_consumer *pc, jsConsumerConfig *cfg) {
  jsConsumerConfig_Init(cfg);
  cfg->Durable = pc->name;
  cfg->FilterSubject = pc->nfilters > 0 ? pc->filters[0] : NULL;
  cfg->AckPolicy = ack_parse(pc->ack_policy);
  cfg->DeliverPolicy = deliver_parse(pc->deliver_policy);
  if (pc->ack_wait >= 0) cfg->AckWait = llround(pc->ack_wait * 1e9);
  if (pc->max_deliver >= 0) cfg->MaxDeliver = pc->max_deliver;
  if (pc->max_ack_pending >= 0) cfg->MaxAckPending = pc->max_ack_pending;
}

json_t *act_stream_config_json(const jsStreamConfig *c) {
  json_t *subj = json_array();
  for (int i = 0; i < c->SubjectsLen; i++) json_array_append_new(subj, json_string(c->Subjects[i]));
  return json_pack("{s:s, s:o, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "name",
                   c->Name ? c->Name : "", "subjects", subj, "replicas", (json_int_t)c->Replicas, "storage",
                   storage_name(c->Storage), "retention", retention_name(c->Retention), "discard",
                   discard_name(c->Discard), "max_age_ns", (json_int_t)c->MaxAge, "max_bytes",
                   (json_int_t)c->MaxBytes, "max_msgs", (json_int_t)c->MaxMsgs, "max_msgs_per_subject",
                   (json_int_t)c->MaxMsgsPerSubject, "max_msg_size", (json_int_t)c->MaxMsgSize,
                   "duplicates_ns", (json_int_t)c->Duplicates);
}

gg_status act_stream_config_apply_json(const json_t *j, jsStreamConfig *cfg, const char ***subjects_out,
                                       gg_error *err) {
  *subjects_out = NULL;
  json_t *subj = json_object_get(j, "subjects");
  if (!json_is_object(j) || !json_is_array(subj))
    return gg_error_set(err, GG_ERR_INVALID, "journaled stream configuration has no subjects");
  size_t n = json_array_size(subj);
  const char **s = calloc(n + 1, sizeof *s);
  if (!s) return gg_error_set(err, GG_ERR_NOMEM, "restore stream configuration");
  for (size_t i = 0; i < n; i++) s[i] = json_string_value(json_array_get(subj, i));
  cfg->Subjects = s;
  cfg->SubjectsLen = (int)n;
  json_t *v;
  if ((v = json_object_get(j, "name")) && json_string_length(v)) cfg->Name = json_string_value(v);
  if ((v = json_object_get(j, "replicas"))) cfg->Replicas = json_integer_value(v);
  if ((v = json_object_get(j, "storage"))) cfg->Storage = storage_parse(json_string_value(v));
  if ((v = json_object_get(j, "retention"))) cfg->Retention = retention_parse(json_string_value(v));
  if ((v = json_object_get(j, "discard"))) cfg->Discard = discard_parse(json_string_value(v));
  if ((v = json_object_get(j, "max_age_ns"))) cfg->MaxAge = json_integer_value(v);
  if ((v = json_object_get(j, "max_bytes"))) cfg->MaxBytes = json_integer_value(v);
  if ((v = json_object_get(j, "max_msgs"))) cfg->MaxMsgs = json_integer_value(v);
  if ((v = json_object_get(j, "max_msgs_per_subject"))) cfg->MaxMsgsPerSubject = json_integer_value(v);
  if ((v = json_object_get(j, "max_msg_size"))) cfg->MaxMsgSize = (int32_t)json_integer_value(v);
  if ((v = json_object_get(j, "duplicates_ns"))) cfg->Duplicates = json_integer_value(v);
  *subjects_out = s;
  return GG_OK;
}

gg_status act_initial_subjects(const plan *p, const plan_stream *ps, const char ***out, int *n,
                               bool *placeholder, gg_error *err) {
  const char **s = calloc(ps->nsubjects + 1, sizeof *s);
  if (!s) return gg_error_set(err, GG_ERR_NOMEM, "subjects of stream '%s'", ps->name);
  int k = 0;
  for (size_t i = 0; i < ps->nsubjects; i++) {
    bool arrives = false;
    for (size_t f = 0; f < p->nphases && !arrives; f++) {
      const plan_phase *ph = &p->phases[f];
      for (size_t a = 0; a < ph->nactions + ph->nprepare && !arrives; a++) {
        const plan_action *x = a < ph->nprepare ? &ph->prepare[a] : &ph->actions[a - ph->nprepare];
        if (x->kind != PLAN_ACT_MOVE_SUBJECTS || !x->to || strcmp(x->to, ps->name) != 0) continue;
        for (size_t m = 0; m < x->nsubjects; m++)
          if (strcmp(x->subjects[m], ps->subjects[i]) == 0) arrives = true;
      }
    }
    if (!arrives) s[k++] = ps->subjects[i];
  }
  *placeholder = k == 0;
  if (k == 0) s[k++] = ps->name;
  *out = s;
  *n = k;
  return GG_OK;
}
