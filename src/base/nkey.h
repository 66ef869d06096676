/*
 * nkey.h: NATS nkeys (ed25519 key pairs in the nkeys text encoding) for user authentication.
 *
 * An nkey user is known to the server by its public key ("U…", 56 characters) and proves
 * itself by signing the server's nonce with its seed ("SU…", 58 characters), which only the
 * client holds. nats.c signs with natsOptions_SetNKeyFromSeed, which wants both the public
 * key and the seed file; the plan and the services name only the seed file, so the public
 * key is derived from it here. The encoding follows the nkeys spec: a prefix byte (two for a
 * seed), the 32 raw key bytes, a CRC-16/XMODEM of those in little-endian order, all in
 * unpadded RFC 4648 base32. libcrypto does the ed25519 part.
 *
 * A seed is a secret: callers keep it out of messages; the functions here never copy it into
 * an error message.
 */
#ifndef GG_NKEY_H
#define GG_NKEY_H

#include <stddef.h>

#include "base/error.h"

#define GG_NKEY_PUBLIC_LEN 56 /* characters of an encoded public key, without the NUL */
#define GG_NKEY_SEED_LEN 58   /* characters of an encoded seed, without the NUL */

/* A new user key pair: seed[GG_NKEY_SEED_LEN + 1] and pub[GG_NKEY_PUBLIC_LEN + 1] receive the
 * encoded texts. GG_ERR_SYSTEM when libcrypto fails. */
gg_status gg_nkey_generate(char *seed, char *pub, gg_error *err) GG_WUR;

/* The public key of an encoded user seed into pub[GG_NKEY_PUBLIC_LEN + 1]. GG_ERR_PARSE
 * ("not an nkey user seed", "checksum mismatch") for a text that is not one. */
gg_status gg_nkey_public_of_seed(const char *seed, char *pub, gg_error *err) GG_WUR;

/* Read a seed file (the seed alone, or any text holding one on a line of its own, such as a
 * .creds file) and derive its public key into pub[GG_NKEY_PUBLIC_LEN + 1]. Errors name the
 * file: GG_ERR_NOT_FOUND / GG_ERR_IO when it cannot be read, GG_ERR_PARSE when it holds no
 * valid user seed. The seed read is wiped before returning. */
gg_status gg_nkey_public_of_seed_file(const char *path, char *pub, gg_error *err) GG_WUR;

/* The kinds of key a NATS operator-mode setup (JWTs, .creds files) is made of. */
typedef enum { GG_NKEY_USER, GG_NKEY_ACCOUNT, GG_NKEY_OPERATOR } gg_nkey_kind;

/* As gg_nkey_generate for any kind: seeds "SU…", "SA…", "SO…", public keys "U…", "A…", "O…". */
gg_status gg_nkey_generate_kind(gg_nkey_kind kind, char *seed, char *pub, gg_error *err) GG_WUR;

/* The ed25519 signature (64 bytes) of n bytes of data with an encoded seed of any kind, as
 * NATS JWTs are signed. GG_ERR_PARSE for a text that is not a seed. */
gg_status gg_nkey_sign(const char *seed, const void *data, size_t n, unsigned char sig[64],
                       gg_error *err) GG_WUR;

/* CRC-16/XMODEM (poly 0x1021, init 0) of n bytes: the nkeys checksum. For tests. */
unsigned gg_nkey_crc16(const unsigned char *p, size_t n);

#endif
