/*
 * sigkey.c: Ed25519 PEM keys through libcrypto (see sigkey.h).
 */
#include "base/sigkey.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gg_sigkey {
  EVP_PKEY *pkey;
  char *path;
};

/* The file's text into *out (NUL-terminated; you own it: wipe and free). */
static gg_status read_key_file(const char *what, const char *path, char **out, size_t *len, gg_error *err) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    return gg_error_set(err, e == ENOENT ? GG_ERR_NOT_FOUND : GG_ERR_IO, "%s '%s': %s", what, path,
                        e == ENOENT ? "no such file" : strerror(e));
  }
  char *buf = malloc(GG_SIGKEY_FILE_MAX + 1);
  if (!buf) {
    fclose(f);
    return gg_error_set(err, GG_ERR_NOMEM, "%s '%s': out of memory", what, path);
  }
  size_t n = fread(buf, 1, GG_SIGKEY_FILE_MAX + 1, f);
  bool failed = ferror(f) != 0;
  fclose(f);
  gg_status st = GG_OK;
  if (failed)
    st = gg_error_set(err, GG_ERR_IO, "%s '%s': cannot be read", what, path);
  else if (n > GG_SIGKEY_FILE_MAX)
    st = gg_error_set(err, GG_ERR_TOO_BIG, "%s '%s' is larger than %d bytes: not a key file", what, path,
                      GG_SIGKEY_FILE_MAX);
  if (st != GG_OK) {
    OPENSSL_cleanse(buf, n > GG_SIGKEY_FILE_MAX ? GG_SIGKEY_FILE_MAX : n);
    free(buf);
    return st;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return GG_OK;
}

static void wipe_free(char *buf, size_t n) {
  if (!buf) return;
  OPENSSL_cleanse(buf, n);
  free(buf);
}

/* "RSA", "EC", "ED448": what a key that is not Ed25519 is. */
static const char *key_type(const EVP_PKEY *k) {
  const char *name = EVP_PKEY_get0_type_name(k);
  if (!name) name = OBJ_nid2sn(EVP_PKEY_get_base_id(k));
  return name ? name : "an unknown type";
}

typedef struct {
  const char *passphrase;
  bool asked;
} pass_ctx;

static int pass_cb(char *buf, int size, int rwflag, void *u) {
  (void)rwflag;
  pass_ctx *c = u;
  c->asked = true;
  if (!c->passphrase) return -1;
  size_t n = strlen(c->passphrase);
  if (size <= 0 || n > (size_t)size) return -1;
  memcpy(buf, c->passphrase, n);
  return (int)n;
}

gg_status gg_sigkey_load(const char *path, const char *passphrase, const char *passphrase_hint,
                         gg_sigkey **out, gg_error *err) {
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  gg_status st = read_key_file("signing key", path, &text, &len, err);
  if (st != GG_OK) return st;
  EVP_PKEY *k = NULL;
  BIO *bio = BIO_new_mem_buf(text, (int)len);
  pass_ctx pc = {.passphrase = passphrase};
  if (!bio) {
    st = gg_error_set(err, GG_ERR_NOMEM, "signing key '%s': out of memory", path);
    goto out;
  }
  if (strstr(text, "-----BEGIN PUBLIC KEY-----") && !strstr(text, "PRIVATE KEY-----")) {
    st = gg_error_set(err, GG_ERR_INVALID,
                      "signing key '%s' holds a public key: --key wants the private key (the .pem that "
                      "`openssl genpkey -algorithm ed25519` wrote)",
                      path);
    goto out;
  }
  k = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
  if (!k) {
    if (pc.asked && !passphrase)
      st = gg_error_set(err, GG_ERR_STATE, "signing key '%s' is encrypted and no passphrase was given%s%s",
                        path, passphrase_hint ? ": " : "", passphrase_hint ? passphrase_hint : "");
    else if (pc.asked)
      st = gg_error_set(err, GG_ERR_PARSE,
                        "signing key '%s': the passphrase does not open it (or it is damaged)", path);
    else
      st = gg_error_set(err, GG_ERR_INVALID,
                        "signing key '%s' is not a PEM private key (make one with `openssl genpkey "
                        "-algorithm ed25519 -out FILE`)",
                        path);
    goto out;
  }
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    st = gg_error_set(err, GG_ERR_INVALID, "signing key '%s' is not an Ed25519 key (it is %s)", path,
                      key_type(k));
    goto out;
  }
  gg_sigkey *sk = calloc(1, sizeof *sk);
  char *p = strdup(path);
  if (!sk || !p) {
    free(sk);
    free(p);
    st = gg_error_set(err, GG_ERR_NOMEM, "signing key '%s': out of memory", path);
    goto out;
  }
  sk->pkey = k;
  sk->path = p;
  k = NULL;
  *out = sk;
out:
  EVP_PKEY_free(k);
  BIO_free(bio);
  wipe_free(text, len);
  ERR_clear_error();
  return st;
}

void gg_sigkey_free(gg_sigkey *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey);
  free(k->path);
  free(k);
}

const char *gg_sigkey_path(const gg_sigkey *k) {
  return k->path;
}

void gg_sigkey_public(const gg_sigkey *k, unsigned char pub[GG_SIGKEY_PUBLIC_LEN]) {
  size_t n = GG_SIGKEY_PUBLIC_LEN;
  if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1 || n != GG_SIGKEY_PUBLIC_LEN)
    memset(pub, 0, GG_SIGKEY_PUBLIC_LEN);
}

gg_status gg_sigkey_sign(const gg_sigkey *k, const void *data, size_t n, unsigned char sig[GG_SIGKEY_SIG_LEN],
                         gg_error *err) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  size_t siglen = GG_SIGKEY_SIG_LEN;
  bool ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
            EVP_DigestSign(md, sig, &siglen, data, n) == 1 && siglen == GG_SIGKEY_SIG_LEN;
  EVP_MD_CTX_free(md);
  ERR_clear_error();
  if (!ok) return gg_error_set(err, GG_ERR_SYSTEM, "sign with key '%s': libcrypto failed", k->path);
  return GG_OK;
}

gg_status gg_sigkey_load_public(const char *path, unsigned char pub[GG_SIGKEY_PUBLIC_LEN], gg_error *err) {
  char *text = NULL;
  size_t len = 0;
  gg_status st = read_key_file("public key", path, &text, &len, err);
  if (st != GG_OK) return st;
  EVP_PKEY *k = NULL;
  BIO *bio = NULL;
  if (strstr(text, "PRIVATE KEY-----")) {
    st = gg_error_set(err, GG_ERR_INVALID,
                      "public key '%s' holds a private key: list the public half (`openssl pkey -in KEY.pem "
                      "-pubout -out %s`) and keep the private key with its owner",
                      path, path);
    goto out;
  }
  bio = BIO_new_mem_buf(text, (int)len);
  if (!bio) {
    st = gg_error_set(err, GG_ERR_NOMEM, "public key '%s': out of memory", path);
    goto out;
  }
  k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  if (!k) {
    st = gg_error_set(err, GG_ERR_INVALID,
                      "public key '%s' is not a PEM public key (-----BEGIN PUBLIC KEY-----)", path);
    goto out;
  }
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    st = gg_error_set(err, GG_ERR_INVALID, "public key '%s' is not an Ed25519 key (it is %s)", path,
                      key_type(k));
    goto out;
  }
  size_t n = GG_SIGKEY_PUBLIC_LEN;
  if (EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != GG_SIGKEY_PUBLIC_LEN)
    st = gg_error_set(err, GG_ERR_INVALID, "public key '%s': cannot read its 32 bytes", path);
out:
  EVP_PKEY_free(k);
  BIO_free(bio);
  wipe_free(text, len);
  ERR_clear_error();
  return st;
}

bool gg_sigkey_verify(const unsigned char pub[GG_SIGKEY_PUBLIC_LEN], const void *data, size_t n,
                      const unsigned char sig[GG_SIGKEY_SIG_LEN]) {
  EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, GG_SIGKEY_PUBLIC_LEN);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  bool ok = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
            EVP_DigestVerify(md, sig, GG_SIGKEY_SIG_LEN, data, n) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(k);
  ERR_clear_error();
  return ok;
}

char *gg_base64_encode(const void *data, size_t n, char *out, size_t cap) {
  size_t need = 4 * ((n + 2) / 3) + 1;
  if (cap < need || n > (size_t)1 << 20) {
    if (cap) out[0] = '\0';
    return out;
  }
  EVP_EncodeBlock((unsigned char *)out, data, (int)n);
  return out;
}

bool gg_base64_decode_exact(const char *text, unsigned char *out, size_t want) {
  size_t len = text ? strlen(text) : 0;
  size_t enc = 4 * ((want + 2) / 3);
  if (len != enc || want > 1024) return false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    bool pad = c == '=' && i >= len - 2;
    if (!pad &&
        !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
    if (c == '=' && i + 1 < len && text[i + 1] != '=') return false;
  }
  unsigned char buf[1024 + 3];
  int n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
  size_t pad = (size_t)(len >= 1 && text[len - 1] == '=') + (size_t)(len >= 2 && text[len - 2] == '=');
  if (n < 0 || (size_t)n < pad || (size_t)n - pad != want) return false;
  /* Only the canonical encoding of those bytes is accepted, so one signature has one text. */
  char again[4 * ((1024 + 2) / 3) + 1];
  gg_base64_encode(buf, want, again, sizeof again);
  if (strcmp(again, text) != 0) return false;
  memcpy(out, buf, want);
  return true;
}
