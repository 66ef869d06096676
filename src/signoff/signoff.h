/*
 * signoff.h: whether an approval or an attestation is in force — the one place that
 * decides it (DESIGN §3). `check` (through the gate), `status` and `report` all ask here,
 * so they cannot disagree.
 *
 * The journal records sign-offs; this module reads them back against the plan:
 *
 *   approvals     per phase and per role. The latest approval of (phase, role) counts. It
 *                 binds to the plan's content hash: recorded against another hash it is
 *                 VOID. Otherwise its decision rules: go → IN_FORCE, defer → DEFER,
 *                 no-go → NO_GO. An optional role that has not approved (or whose approval
 *                 is void) does not hold the phase back.
 *   attestations  per item. An item of a phase's go criteria counts only when attested
 *                 under that phase: "on-call available" for phase 1 says nothing about the
 *                 window of phase 2. An item of the plan's preflight gates every phase, so
 *                 its latest attestation counts whatever phase it was recorded under. The
 *                 plan's `valid_for` is authoritative: an attestation older than it has
 *                 EXPIRED, and so has one whose recorded expiry has passed. Attestations do
 *                 not void on a plan change (the person confirmed a fact about the world).
 *
 *   signatures    (journal/sign.h) a sign-off whose signature does not verify is MISSING
 *                 with why "bad signature: ...", whatever the role. For a role that lists
 *                 `keys:`, an approval counts only when signed by one of them: unsigned, it
 *                 is MISSING with why "unsigned"; signed by another key, "signed by an
 *                 unlisted key". An attest item with `signed_by: ROLE` is judged the same
 *                 against that role's keys. The record is kept in the verdict so callers
 *                 can say whose it was. A good signature is reported (signed, and the key).
 *
 * Everything is judged as of `now` (the --at time for `check`), in signoff.c's judge step,
 * the single function every verdict passes through.
 *
 * Depends on plan and journal only (no probes, no network), so the report can link it.
 */
#ifndef GG_SIGNOFF_H
#define GG_SIGNOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "journal/journal.h"
#include "plan/plan.h"

typedef enum {
  SIGNOFF_MISSING = 0, /* nothing recorded that counts */
  SIGNOFF_IN_FORCE,    /* approval: go, for this plan; attestation: given and not expired */
  SIGNOFF_VOID,        /* approval: recorded against another version of the plan */
  SIGNOFF_EXPIRED,     /* attestation: older than valid_for, or past its recorded expiry */
  SIGNOFF_DEFER,       /* approval: the approver asked to defer */
  SIGNOFF_NO_GO,       /* approval: the approver decided no-go */
} signoff_state;

/* "missing", "in force", "void", "expired", "defer", "no-go" (the words status and the
 * report print); "?" when out of range. */
const char *signoff_state_name(signoff_state s);

typedef struct {
  signoff_state state;
  bool optional;                 /* approvals: the role is optional */
  bool satisfied;                /* lets the phase go: IN_FORCE, or an optional role MISSING/VOID */
  const journal_signoff *record; /* the record judged, borrowed from the book; NULL when nothing was
                                    recorded (MISSING), set when a record was refused (why) */
  double expires;                /* attestations IN_FORCE/EXPIRED: when it (would have) expired; 0 never */
  /* approvals VOID: what changed since it was given, "DRAIN_TIMEOUT: 30m → 5m; …" (borrowed from
   * the book); NULL when the approval kept no values (recorded before they were kept). */
  const char *changes;
  const char *why;        /* MISSING with a record: why it does not count ("unsigned", "signed
                             by an unlisted key", "bad signature: ..."); borrowed from the book;
                             NULL otherwise */
  bool signed_ok;         /* the record carries a signature that verifies */
  const char *key;        /* signed_ok by a key the role lists: its path as the plan writes it */
  const char *public_key; /* the base64 public key that signed (good or refused); NULL unsigned */
} signoff_verdict;

/* Every sign-off of a migration, read from the journal once. */
typedef struct signoff_book signoff_book;

/* Read the approvals and attestations of every phase of p from j, with their signatures
 * checked, to be judged as of `now`. j may be NULL (no journal yet): every sign-off is then
 * MISSING. You own *out (signoff_book_free). GG_ERR_SQLITE / GG_ERR_NOMEM with a message on
 * failure. */
gg_status signoff_book_load(journal *j, const plan *p, double now, signoff_book **out, gg_error *err) GG_WUR;
void signoff_book_free(signoff_book *b);

/* The approval of role a->role for phase ph (ph and a from the book's plan). */
signoff_verdict signoff_approval(const signoff_book *b, const plan_phase *ph, const plan_approval *a);

/* The attestation of criterion c (kind PLAN_CRIT_ATTEST): a go criterion of phase ph, or,
 * with ph NULL, a preflight criterion of the plan. */
signoff_verdict signoff_attestation(const signoff_book *b, const plan_phase *ph, const plan_criterion *c);

/* Add what v says beyond its state to o, a sign-off's JSON object in status and the report:
 * "why" (void: "the plan changed since"; refused: v.why), "signed" (true when a good signature
 * is on it), "key" (the listed key that signed) and "public_key" (base64, when signed at all). */
void signoff_verdict_annotate(json_t *o, const signoff_verdict *v);

#endif
