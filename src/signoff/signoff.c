/*
 * signoff.c: judging approvals and attestations against the plan (see signoff.h). The
 * journal is read once into a book; every verdict then goes through judge().
 */
#include "signoff/signoff.h"

#include "journal/sign.h"
#include "signoff/internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  journal_signoff *v;
  journal_sig_check *sig; /* v[i]'s signature */
  size_t n;
  char **changes; /* approvals: per record, what changed since (void ones only); NULL entries */
} signoff_list;

struct signoff_book {
  const plan *p;
  double now;
  signoff_list *approvals;    /* per phase of p, in plan order */
  signoff_list *attestations; /* per phase of p: recorded under that phase */
  signoff_list any;           /* the latest attestation of each item, whatever the phase */
};

const char *signoff_state_name(signoff_state s) {
  static const char *const n[] = {"missing", "in force", "void", "expired", "defer", "no-go"};
  return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

/* For each approval recorded against another plan, what changed since (signoff_explain). */
static void explain_void(journal *j, const plan *p, signoff_list *l) {
  if (!l->n || !(l->changes = calloc(l->n, sizeof *l->changes))) return;
  for (size_t k = 0; k < l->n; k++)
    if (strcmp(l->v[k].plan_hash ? l->v[k].plan_hash : "", p->hash) != 0)
      l->changes[k] = signoff_explain(j, p, l->v[k].seq);
}

static void list_free(signoff_list *l) {
  for (size_t k = 0; l->changes && k < l->n; k++) free(l->changes[k]);
  free(l->changes);
  journal_signoffs_free(l->v, l->n);
}

/* Events read per page when checking signatures. */
#define SIGNOFF_EVENT_PAGE 500

static bool alloc_sigs(signoff_list *l) {
  l->sig = calloc(l->n ? l->n : 1, sizeof *l->sig);
  return l->sig != NULL;
}

/* Give ev's signature check to every record of l that is ev. */
static void match_event(signoff_list *l, const journal_event *ev, const char *migration) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].seq == ev->seq) journal_signature_check(ev, migration, &l->sig[i]);
}

/* Check the signature of every record in the book: the records come from the journal's
 * views, the signatures from their events' content. */
static gg_status check_signatures(journal *j, signoff_book *b, gg_error *err) {
  const plan *p = b->p;
  bool ok = alloc_sigs(&b->any);
  for (size_t i = 0; i < p->nphases && ok; i++)
    ok = alloc_sigs(&b->approvals[i]) && alloc_sigs(&b->attestations[i]);
  if (!ok) return gg_error_set(err, GG_ERR_NOMEM, "check the sign-offs' signatures");
  static const journal_kind kinds[] = {JOURNAL_APPROVAL, JOURNAL_ATTESTATION};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    journal_filter f = journal_filter_all();
    f.kind = journal_kind_name(kinds[k]);
    f.limit = SIGNOFF_EVENT_PAGE;
    size_t n;
    do {
      journal_event *ev = NULL;
      n = 0;
      gg_status st = journal_events(j, &f, &ev, &n, err);
      if (st != GG_OK) return st;
      for (size_t e = 0; e < n; e++) {
        bool approval = kinds[k] == JOURNAL_APPROVAL;
        for (size_t i = 0; i < p->nphases; i++)
          match_event(approval ? &b->approvals[i] : &b->attestations[i], &ev[e], p->migration);
        if (!approval) match_event(&b->any, &ev[e], p->migration);
      }
      if (n) f.after_seq = ev[n - 1].seq;
      journal_events_free(ev, n);
    } while (n == SIGNOFF_EVENT_PAGE);
  }
  return GG_OK;
}

gg_status signoff_book_load(journal *j, const plan *p, double now, signoff_book **out, gg_error *err) {
  *out = NULL;
  signoff_book *b = calloc(1, sizeof *b);
  gg_status st = GG_OK;
  if (!b) return gg_error_set(err, GG_ERR_NOMEM, "read the sign-offs");
  b->p = p;
  b->now = now;
  b->approvals = calloc(p->nphases + 1, sizeof *b->approvals);
  b->attestations = calloc(p->nphases + 1, sizeof *b->attestations);
  if (!b->approvals || !b->attestations) {
    st = gg_error_set(err, GG_ERR_NOMEM, "read the sign-offs");
    goto out;
  }
  if (!j) goto out;
  /* The hash is judged below, not by the query: pass none. */
  for (size_t i = 0; i < p->nphases && st == GG_OK; i++) {
    const char *id = p->phases[i].id;
    st = journal_approvals(j, id, NULL, &b->approvals[i].v, &b->approvals[i].n, err);
    if (st == GG_OK) explain_void(j, p, &b->approvals[i]);
    if (st == GG_OK) st = journal_attestations(j, id, now, &b->attestations[i].v, &b->attestations[i].n, err);
  }
  if (st == GG_OK) st = journal_attestations(j, JOURNAL_ANY_PHASE, now, &b->any.v, &b->any.n, err);
  if (st == GG_OK) st = check_signatures(j, b, err);
out:
  if (st != GG_OK) {
    signoff_book_free(b);
    return st;
  }
  *out = b;
  return GG_OK;
}

void signoff_book_free(signoff_book *b) {
  if (!b) return;
  for (size_t i = 0; b->approvals && i < b->p->nphases; i++) {
    list_free(&b->approvals[i]);
    free(b->approvals[i].sig);
  }
  for (size_t i = 0; b->attestations && i < b->p->nphases; i++) {
    journal_signoffs_free(b->attestations[i].v, b->attestations[i].n);
    free(b->attestations[i].sig);
  }
  journal_signoffs_free(b->any.v, b->any.n);
  free(b->any.sig);
  free(b->approvals);
  free(b->attestations);
  free(b);
}

/* The latest record of `key` in l, and its signature check in *sig; NULL when none. */
static const journal_signoff *find(const signoff_list *l, const char *key, const journal_sig_check **sig) {
  *sig = NULL;
  for (size_t i = 0; l && i < l->n; i++)
    if (strcmp(l->v[i].role, key) == 0) {
      *sig = l->sig ? &l->sig[i] : NULL;
      return &l->v[i];
    }
  return NULL;
}

static long phase_index(const signoff_book *b, const plan_phase *ph) {
  for (size_t i = 0; i < b->p->nphases; i++)
    if (&b->p->phases[i] == ph || strcmp(b->p->phases[i].id, ph->id) == 0) return (long)i;
  return -1;
}

/* Whether the record's signature lets it count; sets v->why when not, and what signed. A role
 * with keys (an approval's, or an attest item's signed_by) wants one of them; any sign-off with
 * a signature wants it good. */
static bool trusted(signoff_verdict *v, const journal_sig_check *sig, const plan_role *role) {
  if (sig && sig->have_key) v->public_key = sig->public_key_b64;
  if (sig && sig->state == JOURNAL_SIG_BAD) {
    v->why = sig->why;
    return false;
  }
  bool good = sig && sig->state == JOURNAL_SIG_GOOD;
  v->signed_ok = good;
  if (!role || role->nkeys == 0) return true;
  if (!good) {
    v->why = "unsigned";
    return false;
  }
  const plan_key *k = plan_role_key(role, sig->public_key);
  if (!k) {
    v->why = "signed by an unlisted key";
    return false;
  }
  v->key = k->path;
  return true;
}

/* The one verdict: every approval and attestation is judged here. */
static signoff_verdict judge(const signoff_book *b, const journal_signoff *s, const journal_sig_check *sig,
                             const plan_role *role, bool approval, double valid_for, bool optional) {
  signoff_verdict v = {.state = SIGNOFF_MISSING, .optional = optional, .record = s};
  if (!s) {
    /* nothing recorded */
  } else if (!trusted(&v, sig, role)) {
    /* MISSING, with why */
  } else if (approval) {
    if (strcmp(s->plan_hash ? s->plan_hash : "", b->p->hash) != 0)
      v.state = SIGNOFF_VOID;
    else if (s->decision && strcmp(s->decision, "no-go") == 0)
      v.state = SIGNOFF_NO_GO;
    else if (s->decision && strcmp(s->decision, "defer") == 0)
      v.state = SIGNOFF_DEFER;
    else
      v.state = SIGNOFF_IN_FORCE;
  } else {
    double expires = s->expires;
    if (valid_for > 0 && (expires <= 0 || s->time + valid_for < expires)) expires = s->time + valid_for;
    v.expires = expires;
    v.state = expires > 0 && b->now >= expires ? SIGNOFF_EXPIRED : SIGNOFF_IN_FORCE;
  }
  v.satisfied =
      v.state == SIGNOFF_IN_FORCE || (optional && (v.state == SIGNOFF_MISSING || v.state == SIGNOFF_VOID));
  return v;
}

signoff_verdict signoff_approval(const signoff_book *b, const plan_phase *ph, const plan_approval *a) {
  long i = phase_index(b, ph);
  const journal_sig_check *sig = NULL;
  const journal_signoff *s = i < 0 ? NULL : find(&b->approvals[i], a->role, &sig);
  signoff_verdict v = judge(b, s, sig, plan_find_role(b->p, a->role), true, 0, a->optional);
  if (v.state == SIGNOFF_VOID && s && b->approvals[i].changes)
    v.changes = b->approvals[i].changes[s - b->approvals[i].v];
  return v;
}

signoff_verdict signoff_attestation(const signoff_book *b, const plan_phase *ph, const plan_criterion *c) {
  const signoff_list *l = &b->any;
  if (ph) {
    long i = phase_index(b, ph);
    l = i < 0 ? NULL : &b->attestations[i];
  }
  const journal_sig_check *sig = NULL;
  const journal_signoff *s = find(l, c->attest, &sig);
  const plan_role *role = c->signed_by ? plan_find_role(b->p, c->signed_by) : NULL;
  return judge(b, s, sig, role, false, c->valid_for, false);
}

void signoff_verdict_annotate(json_t *o, const signoff_verdict *v) {
  const char *why = v->why ? v->why : v->state == SIGNOFF_VOID ? "the plan changed since" : NULL;
  if (why) json_object_set_new(o, "why", json_string(why));
  if (v->signed_ok) json_object_set_new(o, "signed", json_true());
  if (v->key) json_object_set_new(o, "key", json_string(v->key));
  if (v->public_key) json_object_set_new(o, "public_key", json_string(v->public_key));
}
