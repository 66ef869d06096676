/*
 * journal_cli.h: what the verbs share: loading the plan with its diagnostics (every verb that
 * reads a plan), and for the journal verbs (approve, attest, mark, status, journal) finding the
 * plan's journal and naming a phase.
 */
#ifndef GG_CLI_JOURNAL_CLI_H
#define GG_CLI_JOURNAL_CLI_H

#include <stddef.h>

#include "base/sigkey.h"
#include "journal/journal.h"
#include "plan/plan.h"

/* Load the plan at path, printing its diagnostics (errors and warnings) to stderr. Returns -1 with
 * *out set (you own it: plan_free), or the exit code to return (the error printed). When warnings
 * is not NULL it receives how many warnings were printed. Every verb that reads a plan loads it
 * here. */
int jcli_load_plan(const char *path, plan **out, size_t *warnings);

/* Open the plan's journal: `override` (--journal PATH) when given, else `.gonogo/<migration>.db`
 * beside the plan. flags as journal_open. Returns -1 with *out set (journal_close), or the exit
 * code (the error printed). With `missing_ok`, a journal that does not exist yet gives -1 with
 * *out NULL. */
int jcli_open_journal(const plan *p, const char *plan_path, const char *override, int flags, bool missing_ok,
                      journal **out);

/* Load the plan at plan_path, find the phase named by --phase and open (creating) the plan's
 * journal (`override` as jcli_open_journal): how the verbs that act on one phase (check, run,
 * rollback) begin. Returns -1 with *p, *ph (when ph is not NULL) and *j set (you own *p:
 * plan_free, and *j: journal_close), or the exit code to return (the error printed; nothing
 * to free). */
int jcli_open_phase(const char *plan_path, const char *phase, const char *override, plan **p,
                    const plan_phase **ph, journal **j);

/* Find the phase named by --phase; NULL (after printing which phases exist) when unknown. */
const plan_phase *jcli_find_phase(const plan *p, const char *id);

/* The attestation criterion `item` that applies to phase ph (its go criteria, then the plan's
 * preflight); NULL when none. */
const plan_criterion *jcli_find_attest(const plan *p, const plan_phase *ph, const char *item);

/* The signing key of a verb that records a sign-off (approve, attest, mark, run --override-item):
 * the file `key_opt` (--key), else $GONOGO_SIGNING_KEY; *out NULL when neither is set. An
 * encrypted key is opened with the first line of `passfile_opt` (--key-passphrase-file), else
 * $GONOGO_SIGNING_KEY_PASSPHRASE; the passphrase is never printed. Returns -1 with *out set
 * (gg_sigkey_free; may be NULL), or the exit code (the error printed, naming the key file). */
int jcli_signing_key(const char *key_opt, const char *passfile_opt, gg_sigkey **out);

/* jcli_signing_key for a sign-off that counts only when signed by a key of role role_id (an
 * approval for it, or an attest item's signed_by; NULL: no role): a role that lists keys gets
 * one that counts or none, so no key, or a key the role does not list, is refused (exit 3)
 * before anything is recorded. `what` names the sign-off in the message ("approval"). */
int jcli_role_signing_key(const plan *p, const char *role_id, const char *what, const char *key_opt,
                          const char *passfile_opt, gg_sigkey **out);

/* The options every signing verb has, for its help text. */
#define JCLI_KEY_HELP "sign it with this Ed25519 private key (PEM; default $GONOGO_SIGNING_KEY)"
#define JCLI_KEY_PASS_HELP \
  "the first line of FILE opens an encrypted --key (default $GONOGO_SIGNING_KEY_PASSPHRASE)"

/* " signed with KEY_FILE (public key B64)" for what the verb prints after recording; "" when
 * key is NULL. */
const char *jcli_signed_note(const gg_sigkey *key, char *buf, size_t n);

#endif
