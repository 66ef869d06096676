#include "base/nkey.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PREFIX_SEED (18u << 3) /* 'S' */
#define PREFIX_USER (20u << 3) /* 'U' */
#define RAW_KEY 32
#define SEED_FILE_MAX 16384

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

unsigned gg_nkey_crc16(const unsigned char *p, size_t n) {
  unsigned crc = 0;
  for (size_t i = 0; i < n; i++) {
    crc ^= (unsigned)p[i] << 8;
    for (int k = 0; k < 8; k++) crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/* Unpadded base32 of n bytes into out (room for ceil(n*8/5)+1). */
static void b32_encode(const unsigned char *p, size_t n, char *out) {
  size_t w = 0;
  unsigned buf = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    buf = (buf << 8) | p[i];
    bits += 8;
    while (bits >= 5) {
      out[w++] = b32[(buf >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out[w++] = b32[(buf << (5 - bits)) & 31];
  out[w] = '\0';
}

/* Decode len characters of unpadded base32; false on a character outside the alphabet or
 * more than max bytes. */
static bool b32_decode(const char *s, size_t len, unsigned char *out, size_t max, size_t *n) {
  unsigned buf = 0;
  int bits = 0;
  size_t w = 0;
  for (size_t i = 0; i < len; i++) {
    const char *c = strchr(b32, s[i]);
    if (!c || !s[i]) return false;
    buf = (buf << 5) | (unsigned)(c - b32);
    bits += 5;
    if (bits >= 8) {
      if (w >= max) return false;
      out[w++] = (unsigned char)((buf >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  *n = w;
  return true;
}

static void encode(const unsigned char *head, size_t nhead, const unsigned char *key, char *out) {
  unsigned char raw[2 + RAW_KEY + 2];
  size_t n = 0;
  memcpy(raw, head, nhead);
  n = nhead;
  memcpy(raw + n, key, RAW_KEY);
  n += RAW_KEY;
  unsigned crc = gg_nkey_crc16(raw, n);
  raw[n++] = (unsigned char)(crc & 0xff);
  raw[n++] = (unsigned char)(crc >> 8);
  b32_encode(raw, n, out);
  OPENSSL_cleanse(raw, sizeof raw);
}

static unsigned prefix_of(gg_nkey_kind kind) {
  return kind == GG_NKEY_OPERATOR ? 14u << 3 : kind == GG_NKEY_ACCOUNT ? 0u : PREFIX_USER;
}

static void encode_public_kind(unsigned prefix, const unsigned char *pubraw, char *pub) {
  unsigned char head = (unsigned char)prefix;
  encode(&head, 1, pubraw, pub);
}

static gg_status public_of_raw_seed_kind(unsigned prefix, const unsigned char *seed, char *pub,
                                         gg_error *err) {
  EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, RAW_KEY);
  unsigned char pubraw[RAW_KEY];
  size_t len = sizeof pubraw;
  bool ok = k && EVP_PKEY_get_raw_public_key(k, pubraw, &len) == 1 && len == RAW_KEY;
  EVP_PKEY_free(k);
  if (!ok) return gg_error_set(err, GG_ERR_SYSTEM, "derive the ed25519 public key (libcrypto)");
  encode_public_kind(prefix, pubraw, pub);
  return GG_OK;
}

static gg_status public_of_raw_seed(const unsigned char *seed, char *pub, gg_error *err) {
  return public_of_raw_seed_kind(PREFIX_USER, seed, pub, err);
}

gg_status gg_nkey_generate(char *seed, char *pub, gg_error *err) {
  unsigned char raw[RAW_KEY];
  if (RAND_bytes(raw, sizeof raw) != 1) return gg_error_set(err, GG_ERR_SYSTEM, "random bytes (libcrypto)");
  unsigned char head[2] = {(unsigned char)(PREFIX_SEED | (PREFIX_USER >> 5)),
                           (unsigned char)((PREFIX_USER & 31) << 3)};
  encode(head, 2, raw, seed);
  gg_status st = public_of_raw_seed(raw, pub, err);
  OPENSSL_cleanse(raw, sizeof raw);
  return st;
}

gg_status gg_nkey_public_of_seed(const char *seed, char *pub, gg_error *err) {
  unsigned char raw[2 + RAW_KEY + 2 + 4];
  size_t n = 0;
  gg_status st = GG_OK;
  if (!seed || strlen(seed) != GG_NKEY_SEED_LEN || !b32_decode(seed, GG_NKEY_SEED_LEN, raw, sizeof raw, &n) ||
      n != 2 + RAW_KEY + 2) {
    st = gg_error_set(err, GG_ERR_PARSE, "not an nkey user seed");
    goto out;
  }
  unsigned crc = gg_nkey_crc16(raw, n - 2);
  if (raw[n - 2] != (crc & 0xff) || raw[n - 1] != (crc >> 8)) {
    st = gg_error_set(err, GG_ERR_PARSE, "not an nkey user seed: checksum mismatch");
    goto out;
  }
  unsigned kind = raw[0] & 248u, prefix = ((raw[0] & 7u) << 5) | ((raw[1] & 248u) >> 3);
  if (kind != PREFIX_SEED || prefix != PREFIX_USER) {
    st = gg_error_set(err, GG_ERR_PARSE, "not an nkey user seed (a seed of another kind)");
    goto out;
  }
  st = public_of_raw_seed(raw + 2, pub, err);
out:
  OPENSSL_cleanse(raw, sizeof raw);
  return st;
}

gg_status gg_nkey_public_of_seed_file(const char *path, char *pub, gg_error *err) {
  FILE *f = fopen(path, "r");
  if (!f)
    return gg_error_set(err, errno == ENOENT ? GG_ERR_NOT_FOUND : GG_ERR_IO, "nkey seed file '%s': %s", path,
                        strerror(errno));
  char text[SEED_FILE_MAX + 1];
  size_t n = fread(text, 1, SEED_FILE_MAX, f);
  bool big = n == SEED_FILE_MAX && fgetc(f) != EOF;
  fclose(f);
  text[n] = '\0';
  gg_status st = GG_OK;
  bool found = false;
  if (big) {
    st = gg_error_set(err, GG_ERR_TOO_BIG, "nkey seed file '%s': larger than %d bytes", path, SEED_FILE_MAX);
  } else {
    /* The first line that is a user seed, spaces around it ignored. */
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
      while (*line == ' ' || *line == '\t') line++;
      size_t len = strcspn(line, " \t");
      if (len != GG_NKEY_SEED_LEN || strncmp(line, "SU", 2) != 0) continue;
      line[len] = '\0';
      found = true;
      st = gg_nkey_public_of_seed(line, pub, err);
      if (st != GG_OK) gg_error_prefix(err, "nkey seed file '%s': ", path);
      break;
    }
    if (!found)
      st = gg_error_set(err, GG_ERR_PARSE, "nkey seed file '%s': holds no nkey user seed (SU…)", path);
  }
  OPENSSL_cleanse(text, sizeof text);
  return st;
}

gg_status gg_nkey_generate_kind(gg_nkey_kind kind, char *seed, char *pub, gg_error *err) {
  unsigned prefix = prefix_of(kind);
  unsigned char raw[RAW_KEY];
  if (RAND_bytes(raw, sizeof raw) != 1) return gg_error_set(err, GG_ERR_SYSTEM, "random bytes (libcrypto)");
  unsigned char head[2] = {(unsigned char)(PREFIX_SEED | (prefix >> 5)), (unsigned char)((prefix & 31) << 3)};
  encode(head, 2, raw, seed);
  gg_status st = public_of_raw_seed_kind(prefix, raw, pub, err);
  OPENSSL_cleanse(raw, sizeof raw);
  return st;
}

gg_status gg_nkey_sign(const char *seed, const void *data, size_t n, unsigned char sig[64], gg_error *err) {
  unsigned char raw[2 + RAW_KEY + 2 + 4];
  size_t len = 0;
  gg_status st = GG_OK;
  if (!seed || strlen(seed) != GG_NKEY_SEED_LEN ||
      !b32_decode(seed, GG_NKEY_SEED_LEN, raw, sizeof raw, &len) || len != 2 + RAW_KEY + 2 ||
      (raw[0] & 248u) != PREFIX_SEED) {
    st = gg_error_set(err, GG_ERR_PARSE, "not an nkey seed");
    goto out;
  }
  EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, RAW_KEY);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  size_t siglen = 64;
  bool ok = k && md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
            EVP_DigestSign(md, sig, &siglen, data, n) == 1 && siglen == 64;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(k);
  if (!ok) st = gg_error_set(err, GG_ERR_SYSTEM, "ed25519 signature (libcrypto)");
out:
  OPENSSL_cleanse(raw, sizeof raw);
  return st;
}
