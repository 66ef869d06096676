/*
 * subjects.c: the topology played forward. JetStream refuses a subject on two streams and a
 * consumer whose filter lies outside its stream's subjects; both would pass a YAML check and
 * fail mid-migration. Streams start as the topology declares the existing ones; each phase's
 * prepare and actions then create (with the subjects no move brings: the placeholder rule of
 * src/act), update, move and delete, and after every phase no two streams may overlap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

#define SUBJECT_TOKENS_MAX 64

/* Split a subject into tokens (borrowed into buf); the count, or -1 when too long. */
static int tokens(const char *s, char *buf, size_t cap, const char **out) {
  size_t len = strlen(s);
  if (len + 1 > cap) return -1;
  memcpy(buf, s, len + 1);
  int n = 0;
  for (char *t = buf; n < SUBJECT_TOKENS_MAX;) {
    out[n++] = t;
    char *dot = strchr(t, '.');
    if (!dot) return n;
    *dot = 0;
    t = dot + 1;
  }
  return -1;
}

bool plan_subjects_overlap(const char *a, const char *b) {
  char ba[512], bb[512];
  const char *ta[SUBJECT_TOKENS_MAX], *tb[SUBJECT_TOKENS_MAX];
  int na = tokens(a, ba, sizeof ba, ta), nb = tokens(b, bb, sizeof bb, tb);
  if (na < 0 || nb < 0) return false;
  for (int i = 0; i < na && i < nb; i++) {
    if (strcmp(ta[i], ">") == 0 || strcmp(tb[i], ">") == 0) return true;
    if (strcmp(ta[i], "*") == 0 || strcmp(tb[i], "*") == 0) continue;
    if (strcmp(ta[i], tb[i]) != 0) return false;
  }
  return na == nb;
}

bool plan_subject_within(const char *inner, const char *outer) {
  char bi[512], bo[512];
  const char *ti[SUBJECT_TOKENS_MAX], *to[SUBJECT_TOKENS_MAX];
  int ni = tokens(inner, bi, sizeof bi, ti), no = tokens(outer, bo, sizeof bo, to);
  if (ni < 0 || no < 0) return false;
  for (int i = 0; i < no; i++) {
    if (i >= ni) return false;
    if (strcmp(to[i], ">") == 0) return true;
    if (strcmp(to[i], "*") == 0) {
      if (strcmp(ti[i], ">") == 0) return false;
      continue;
    }
    if (strcmp(ti[i], to[i]) != 0) return false;
  }
  return ni == no;
}

/* One stream as the migration leaves it so far. */
typedef struct {
  const plan_stream *s;
  bool present;
  const char **subjects;
  size_t n, cap;
  plan_pos changed; /* the action that last gave it subjects */
} live_stream;

static void add_subject(live_stream *ls, const char *subj) {
  for (size_t i = 0; i < ls->n; i++)
    if (strcmp(ls->subjects[i], subj) == 0) return;
  if (ls->n == ls->cap) {
    size_t cap = ls->cap ? ls->cap * 2 : 8;
    const char **grown = realloc(ls->subjects, cap * sizeof *grown);
    if (!grown) return;
    ls->subjects = grown;
    ls->cap = cap;
  }
  ls->subjects[ls->n++] = subj;
}

static void remove_subject(live_stream *ls, const char *subj) {
  for (size_t i = 0; i < ls->n; i++)
    if (strcmp(ls->subjects[i], subj) == 0) {
      ls->subjects[i] = ls->subjects[--ls->n];
      return;
    }
}

/* Whether some move_subjects of the plan brings subj to stream. */
static bool arrives(const plan *p, const char *stream, const char *subj) {
  for (size_t f = 0; f < p->nphases; f++) {
    const plan_phase *ph = &p->phases[f];
    for (size_t a = 0; a < ph->nactions + ph->nprepare; a++) {
      const plan_action *x = a < ph->nprepare ? &ph->prepare[a] : &ph->actions[a - ph->nprepare];
      if (x->kind != PLAN_ACT_MOVE_SUBJECTS || !x->to || strcmp(x->to, stream) != 0) continue;
      for (size_t m = 0; m < x->nsubjects; m++)
        if (strcmp(x->subjects[m], subj) == 0) return true;
    }
  }
  return false;
}

static live_stream *find_live(live_stream *v, size_t n, const char *name) {
  for (size_t i = 0; name && i < n; i++)
    if (strcmp(v[i].s->name, name) == 0) return &v[i];
  return NULL;
}

static void apply(const plan *p, live_stream *v, size_t n, const plan_action *a) {
  live_stream *ls = find_live(v, n, a->stream);
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM:
      if (!ls || ls->present) return;
      ls->present = true;
      for (size_t i = 0; i < ls->s->nsubjects; i++)
        if (!arrives(p, ls->s->name, ls->s->subjects[i])) add_subject(ls, ls->s->subjects[i]);
      ls->changed = a->pos;
      break;
    case PLAN_ACT_UPDATE_STREAM:
      if (!ls || !a->update || a->update->nsubjects == 0) return;
      ls->n = 0;
      for (size_t i = 0; i < a->update->nsubjects; i++) add_subject(ls, a->update->subjects[i]);
      ls->changed = a->pos;
      break;
    case PLAN_ACT_DELETE_STREAM:
      if (ls) ls->present = false, ls->n = 0;
      break;
    case PLAN_ACT_MOVE_SUBJECTS: {
      live_stream *from = find_live(v, n, a->from), *to = find_live(v, n, a->to);
      for (size_t i = 0; i < a->nsubjects; i++) {
        if (from) remove_subject(from, a->subjects[i]);
        if (to) add_subject(to, a->subjects[i]);
      }
      if (to) to->changed = a->pos;
      break;
    }
    default:
      break;
  }
}

/* Warn once per pair of streams that overlap after phase ph. */
static void check_overlaps(plan_ctx *c, live_stream *v, size_t n, const plan_phase *ph, bool *warned) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      if (!v[i].present || !v[j].present || warned[i * n + j]) continue;
      for (size_t x = 0; x < v[i].n; x++)
        for (size_t y = 0; y < v[j].n; y++) {
          if (warned[i * n + j] || !plan_subjects_overlap(v[i].subjects[x], v[j].subjects[y])) continue;
          warned[i * n + j] = true;
          const live_stream *later = v[i].changed.line >= v[j].changed.line ? &v[i] : &v[j];
          plan_pos at = later->changed.line ? later->changed : ph->pos;
          plan_diag_add(
              c, PLAN_DIAG_WARNING, at.line, at.col,
              "move the subjects with move_subjects, or leave them off the new stream until the cutover",
              "after phase '%s', streams '%s' ('%s') and '%s' ('%s') hold overlapping subjects: "
              "JetStream refuses a subject on two streams",
              ph->id, v[i].s->name, v[i].subjects[x], v[j].s->name, v[j].subjects[y]);
        }
    }
}

/* Whether an action of the plan gives stream a subject that holds filter: an update_stream's
 * inline subjects (a traffic shift's parallel prefix) or a move_subjects to it. The consumer is
 * created when the stream holds them, not necessarily with the topology's subjects. */
static bool action_holds(const plan *p, const char *stream, const char *filter) {
  for (size_t f = 0; f < p->nphases; f++) {
    const plan_phase *ph = &p->phases[f];
    for (size_t a = 0; a < ph->nactions + ph->nprepare; a++) {
      const plan_action *x = a < ph->nprepare ? &ph->prepare[a] : &ph->actions[a - ph->nprepare];
      if (x->kind == PLAN_ACT_UPDATE_STREAM && x->update && x->stream && strcmp(x->stream, stream) == 0) {
        for (size_t i = 0; i < x->update->nsubjects; i++)
          if (plan_subject_within(filter, x->update->subjects[i])) return true;
      } else if (x->kind == PLAN_ACT_MOVE_SUBJECTS && x->to && strcmp(x->to, stream) == 0) {
        for (size_t i = 0; i < x->nsubjects; i++)
          if (plan_subject_within(filter, x->subjects[i])) return true;
      }
    }
  }
  return false;
}

static void check_filters(plan_ctx *c, const plan *p) {
  for (size_t i = 0; i < p->topology.nconsumers; i++) {
    const plan_consumer *pc = &p->topology.consumers[i];
    const plan_stream *ps = plan_find_stream(p, pc->stream);
    if (!ps || ps->nsubjects == 0) continue;
    for (size_t f = 0; f < pc->nfilters; f++) {
      bool within = false;
      for (size_t s = 0; s < ps->nsubjects && !within; s++)
        within = plan_subject_within(pc->filters[f], ps->subjects[s]);
      if (within || action_holds(p, ps->name, pc->filters[f])) continue;
      char hint[300];
      snprintf(hint, sizeof hint, "stream '%s' holds %s%s", ps->name, ps->subjects[0],
               ps->nsubjects > 1 ? ", ..." : "");
      plan_diag_add(
          c, PLAN_DIAG_ERROR, pc->pos.line, pc->pos.col, hint,
          "consumer '%s/%s': filter '%s' lies outside the subjects of stream '%s' (JetStream refuses it)",
          pc->stream, pc->name, pc->filters[f], ps->name);
    }
  }
}

void plan_check_subjects(plan_ctx *c, const plan *p) {
  check_filters(c, p);
  size_t n = p->topology.nstreams;
  if (!n) return;
  live_stream *v = calloc(n, sizeof *v);
  bool *warned = calloc(n * n, sizeof *warned);
  if (!v || !warned) goto out;
  for (size_t i = 0; i < n; i++) {
    v[i].s = &p->topology.streams[i];
    v[i].present = v[i].s->existing;
    if (v[i].present)
      for (size_t k = 0; k < v[i].s->nsubjects; k++) add_subject(&v[i], v[i].s->subjects[k]);
  }
  for (size_t f = 0; f < p->nphases; f++) {
    const plan_phase *ph = &p->phases[f];
    for (size_t a = 0; a < ph->nprepare; a++) apply(p, v, n, &ph->prepare[a]);
    for (size_t a = 0; a < ph->nactions; a++) apply(p, v, n, &ph->actions[a]);
    check_overlaps(c, v, n, ph, warned);
  }
out:
  for (size_t i = 0; v && i < n; i++) free(v[i].subjects);
  free(v);
  free(warned);
}
