/*
 * sigkey.h: Ed25519 signing keys in PEM files, as `openssl genpkey -algorithm ed25519` writes
 * them, for signed sign-offs (DESIGN §8.1): an approver signs with her private key, the plan
 * lists the public keys (`openssl pkey -pubout`) allowed to sign for a role.
 *
 * libcrypto does the work (EVP_PKEY, EVP_DigestSign with no digest, as Ed25519 wants). Keys
 * are named in messages by their path, never by content; a passphrase is never copied into a
 * message. Public keys travel as their 32 raw bytes, in text as standard base64 (44 characters).
 */
#ifndef GG_SIGKEY_H
#define GG_SIGKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define GG_SIGKEY_PUBLIC_LEN 32  /* raw bytes of an Ed25519 public key */
#define GG_SIGKEY_SIG_LEN 64     /* raw bytes of an Ed25519 signature */
#define GG_SIGKEY_FILE_MAX 65536 /* a key file larger than this is not a key */

/* A private signing key (opaque). */
typedef struct gg_sigkey gg_sigkey;

/* Read the Ed25519 private key in the PEM file at path. An encrypted key (`openssl genpkey
 * -aes256`) is opened with `passphrase`; when it is NULL the error says the key is encrypted
 * and names `passphrase_hint` (where a passphrase can come from, e.g. "set
 * GONOGO_SIGNING_KEY_PASSPHRASE"). Errors, each naming the path: GG_ERR_NOT_FOUND (no such
 * file), GG_ERR_IO (unreadable), GG_ERR_TOO_BIG, GG_ERR_INVALID (not a PEM private key, a
 * public key, a key of another algorithm: "is an RSA key, not Ed25519"), GG_ERR_STATE
 * (encrypted without a passphrase), GG_ERR_PARSE (wrong passphrase or a damaged file). On
 * success you own *out (gg_sigkey_free). */
gg_status gg_sigkey_load(const char *path, const char *passphrase, const char *passphrase_hint,
                         gg_sigkey **out, gg_error *err) GG_WUR;

/* Free a key (its memory wiped by libcrypto). NULL-safe. */
void gg_sigkey_free(gg_sigkey *k);

/* The path the key was loaded from; owned by k. */
const char *gg_sigkey_path(const gg_sigkey *k);

/* The public half of k. */
void gg_sigkey_public(const gg_sigkey *k, unsigned char pub[GG_SIGKEY_PUBLIC_LEN]);

/* Sign n bytes of data. GG_ERR_SYSTEM when libcrypto fails. */
gg_status gg_sigkey_sign(const gg_sigkey *k, const void *data, size_t n, unsigned char sig[GG_SIGKEY_SIG_LEN],
                         gg_error *err) GG_WUR;

/* Read the Ed25519 public key in the PEM file at path (`openssl pkey -pubout` output) into pub.
 * Errors name the path, as gg_sigkey_load: GG_ERR_NOT_FOUND, GG_ERR_IO, GG_ERR_TOO_BIG,
 * GG_ERR_INVALID ("holds a private key": a public key file is wanted, never the secret one;
 * "is not a PEM public key"; "is an RSA key, not Ed25519"). */
gg_status gg_sigkey_load_public(const char *path, unsigned char pub[GG_SIGKEY_PUBLIC_LEN],
                                gg_error *err) GG_WUR;

/* Whether sig is pub's signature of data. */
bool gg_sigkey_verify(const unsigned char pub[GG_SIGKEY_PUBLIC_LEN], const void *data, size_t n,
                      const unsigned char sig[GG_SIGKEY_SIG_LEN]);

/* Standard base64 (with padding) of n bytes into out (at least 4 * ((n + 2) / 3) + 1 bytes);
 * returns out. */
char *gg_base64_encode(const void *data, size_t n, char *out, size_t cap);

/* Decode standard base64 text into out: true when text is valid base64 of exactly `want`
 * bytes. */
bool gg_base64_decode_exact(const char *text, unsigned char *out, size_t want);

#endif
