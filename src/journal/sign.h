/*
 * sign.h: signed events (DESIGN §8.1). An approval, attestation, mark or override may carry
 * the Ed25519 signature of the person who gave it, so the journal says who signed, not only
 * who could write the file.
 *
 * The signature lives INSIDE the event's content, as the member
 *
 *   "signature": {"alg":"ed25519","public_key":B64,"sig":B64,"signed_at_ms":T}
 *
 * (B64: standard base64 of the 32 raw public key bytes and of the 64 signature bytes; T the
 * signing time in integer milliseconds since the epoch), so every backend stores it as it
 * stores any content, and the hash chain covers it like the rest.
 *
 * WHAT IS SIGNED. The UTF-8 text "gonogo signature v1\n" followed by the canonical JSON
 * (journal_canonical: sorted keys, compact) of
 *
 *   {"actor":A,"content":C,"kind":K,"migration":M,"phase":P,"signed_at_ms":T}
 *
 * where A is the event's actor (the --by name), C its content without the "signature" member,
 * K the kind's name ("approval"), M the plan's migration name, P the phase id or null, T as
 * above. seq, prev_hash and the append time are not signed: they are only known inside the
 * append, under whatever concurrency. Instead the append time must lie within
 * JOURNAL_SIGN_SKEW of T, so a signature copied into a later event (an old attestation replayed
 * to look fresh) does not verify.
 *
 * Whether a VALID signature counts (the key is one the plan lists for the role) is for
 * src/signoff to judge; this module only says whether a signature is present and holds.
 */
#ifndef GG_JOURNAL_SIGN_H
#define GG_JOURNAL_SIGN_H

#include <jansson.h>

#include "base/sigkey.h"
#include "journal/journal.h"

#define JOURNAL_SIGNATURE_MEMBER "signature"
#define JOURNAL_SIGN_PREFIX "gonogo signature v1\n"
/* Seconds the append time may differ from the signing time. */
#define JOURNAL_SIGN_SKEW 300.0
/* Characters of a base64 public key, without the NUL. */
#define JOURNAL_SIGN_PUBLIC_B64 44

/* The text a signature covers (above), without the prefix. content's "signature" member, if
 * any, is left out; phase may be NULL. You own the result (free()); NULL on ENOMEM. */
char *journal_sign_text(const char *kind, const char *phase, const char *actor, const char *migration,
                        const json_t *content, long long signed_at_ms);

/* Sign content (a JSON object) for an event of `kind` about `phase` by `actor` in migration
 * `migration`, at the current time, and set its "signature" member (replacing one). GG_ERR_INVALID
 * for a non-object content or an empty actor; GG_ERR_SYSTEM when libcrypto fails. */
gg_status journal_sign_content(const gg_sigkey *key, journal_kind kind, const char *phase, const char *actor,
                               const char *migration, json_t *content, gg_error *err) GG_WUR;

/* journal_append, with content signed first when key is not NULL (content is modified then).
 * actor NULL means the OS user, as journal_append; that is what is signed. */
gg_status journal_append_signed(journal *j, const gg_sigkey *key, const char *migration, journal_kind kind,
                                const char *phase, const char *actor, json_t *content, long long *seq,
                                gg_error *err) GG_WUR;

typedef enum {
  JOURNAL_SIG_NONE = 0, /* no "signature" member */
  JOURNAL_SIG_GOOD,     /* present and verifies */
  JOURNAL_SIG_BAD,      /* present and does not verify, or malformed (why says which) */
} journal_sig_state;

typedef struct {
  journal_sig_state state;
  bool have_key;                                  /* public_key was readable (GOOD, and BAD mostly) */
  unsigned char public_key[GG_SIGKEY_PUBLIC_LEN]; /* the key the signature names */
  char public_key_b64[JOURNAL_SIGN_PUBLIC_B64 + 4];
  double signed_at; /* seconds since the epoch; 0 when unreadable */
  char why[200];    /* BAD: "bad signature: it does not verify (...)", "bad signature: malformed: ..." */
} journal_sig_check;

/* Check the signature of ev (any kind) for migration `migration`. Never fails: the verdict is
 * in *out. */
void journal_signature_check(const journal_event *ev, const char *migration, journal_sig_check *out);

typedef struct {
  long long checked; /* events that carry a signature */
  long long good;
  long long bad_seq; /* the first event whose signature is bad; 0 when none */
  char what[256];    /* its kind and why: "approval: bad signature: it does not verify (...)" */
} journal_sig_summary;

/* Check every signature in the journal (events read in pages, in seq order). GG_OK whenever
 * the check could run, the verdict in *out; the backend's error when the journal cannot be
 * read. */
gg_status journal_verify_signatures(journal *j, const char *migration, journal_sig_summary *out,
                                    gg_error *err) GG_WUR;

#endif
