/*
 * tls.c: the secured sandbox's certificates, made with libcrypto: a CA, one server
 * certificate every node and PostgreSQL present (SANs 127.0.0.1 and localhost; usable as a
 * client certificate too, which routes between nodes need), a client certificate for
 * mutual TLS, and an expired copy of the server certificate (expired.pem, same key) for tests. EC P-256 keys:
 * quick to make, accepted by Go (nats-server), OpenSSL (nats.c, libpq) and PostgreSQL alike.
 */
#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/nkey.h"
#include "sandbox/internal.h"

#define CERT_DAYS 30

static EVP_PKEY *new_key(void) {
  EVP_PKEY *k = NULL;
  EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
  if (c && EVP_PKEY_keygen_init(c) == 1 &&
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) == 1)
    (void)EVP_PKEY_keygen(c, &k);
  EVP_PKEY_CTX_free(c);
  return k;
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
  bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/* A certificate for key with common name cn, signed by (issuer, ikey); self-signed when
 * issuer is NULL. ca: a CA certificate; else a leaf with the SANs. Valid from `from` to `to`
 * seconds from now. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca, long from,
                       long to) {
  X509 *x = X509_new();
  if (!x) return NULL;
  unsigned char serial[8];
  bool ok = RAND_bytes(serial, sizeof serial) == 1;
  serial[0] &= 0x7f; /* positive */
  BIGNUM *bn = ok ? BN_bin2bn(serial, sizeof serial, NULL) : NULL;
  ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(x), from) && X509_gmtime_adj(X509_getm_notAfter(x), to) &&
       X509_set_pubkey(x, key) == 1;
  BN_free(bn);
  X509_NAME *name = X509_get_subject_name(x);
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"gonogo sandbox", -1, -1,
                                  0) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
       X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1;
  X509 *iss = issuer ? issuer : x;
  if (ok && ca)
    ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, iss, NID_subject_key_identifier, "hash");
  else if (ok)
    ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         add_ext(x, iss, NID_ext_key_usage, "serverAuth,clientAuth") &&
         add_ext(x, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
         add_ext(x, iss, NID_authority_key_identifier, "keyid");
  ok = ok && X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static gg_status write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key, gg_error *err) {
  char path[SB_PATH_MAX];
  sandbox_path_join(path, sizeof path, dir, file);
  FILE *f = fopen(path, "w");
  if (!f) return gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  if (key) fchmod(fileno(f), 0600);
  bool ok =
      cert ? PEM_write_X509(f, cert) == 1 : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
  if (fclose(f) != 0) ok = false;
  return ok ? GG_OK : gg_error_set(err, GG_ERR_IO, "write '%s' (libcrypto PEM)", path);
}

gg_status sandbox_tls_make(const char *tlsdir, gg_error *err) {
  gg_status st = sandbox_make_dir(tlsdir, err);
  if (st != GG_OK) return st;
  EVP_PKEY *cakey = new_key(), *skey = new_key(), *ckey = new_key();
  X509 *ca = NULL, *srv = NULL, *cli = NULL, *old = NULL;
  const long valid = 86400L * CERT_DAYS;
  if (cakey) ca = make_cert(cakey, "gonogo sandbox CA", NULL, NULL, true, -7 * 86400L, valid);
  if (ca && skey) srv = make_cert(skey, "localhost", ca, cakey, false, -3600, valid);
  if (ca && ckey) cli = make_cert(ckey, "gonogo client", ca, cakey, false, -3600, valid);
  /* For tests of an expired server certificate: the same key, expired yesterday. */
  if (ca && skey) old = make_cert(skey, "localhost", ca, cakey, false, -2 * 86400L, -86400L);
  if (!ca || !srv || !cli || !old) {
    st = gg_error_set(err, GG_ERR_SYSTEM, "make the sandbox certificates (libcrypto)");
    goto out;
  }
  /* The CA's key is not kept: nothing else is ever signed with it. */
  if ((st = write_pem(tlsdir, "ca.pem", ca, NULL, err)) != GG_OK) goto out;
  if ((st = write_pem(tlsdir, "server.pem", srv, NULL, err)) != GG_OK) goto out;
  if ((st = write_pem(tlsdir, "server-key.pem", NULL, skey, err)) != GG_OK) goto out;
  if ((st = write_pem(tlsdir, "client.pem", cli, NULL, err)) != GG_OK) goto out;
  if ((st = write_pem(tlsdir, "expired.pem", old, NULL, err)) != GG_OK) goto out;
  st = write_pem(tlsdir, "client-key.pem", NULL, ckey, err);
out:
  X509_free(ca);
  X509_free(srv);
  X509_free(cli);
  X509_free(old);
  EVP_PKEY_free(cakey);
  EVP_PKEY_free(skey);
  EVP_PKEY_free(ckey);
  return st;
}

void sandbox_tls_path(const sandbox_state *s, const char *file, char *out, size_t n) {
  snprintf(out, n, "%s/%s/%s", s->dir, SB_TLS_DIR, file);
}

/* A random secret of 24 hex digits. */
static bool random_secret(char *out, size_t n) {
  unsigned char raw[12];
  if (n < 2 * sizeof raw + 1 || RAND_bytes(raw, sizeof raw) != 1) return false;
  for (size_t i = 0; i < sizeof raw; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
  OPENSSL_cleanse(raw, sizeof raw);
  return true;
}

gg_status sandbox_secrets_make(sandbox_state *s, gg_error *err) {
  snprintf(s->user, sizeof s->user, "app");
  snprintf(s->sys_user, sizeof s->sys_user, "sys");
  if (!random_secret(s->password, sizeof s->password) ||
      !random_secret(s->sys_password, sizeof s->sys_password) || !random_secret(s->token, sizeof s->token) ||
      !random_secret(s->pg_password, sizeof s->pg_password))
    return gg_error_set(err, GG_ERR_SYSTEM, "random bytes for the sandbox's passwords (libcrypto)");
  char seed[GG_NKEY_SEED_LEN + 1];
  gg_status st = gg_nkey_generate(seed, s->nkey_pub, err);
  if (st != GG_OK) return st;
  char path[SB_PATH_MAX];
  sandbox_tls_path(s, "nkey.seed", path, sizeof path);
  FILE *f = fopen(path, "w");
  if (!f) {
    OPENSSL_cleanse(seed, sizeof seed);
    return gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  }
  fchmod(fileno(f), 0600);
  bool ok = fprintf(f, "%s\n", seed) > 0;
  OPENSSL_cleanse(seed, sizeof seed);
  if (fclose(f) != 0 || !ok) return gg_error_set(err, GG_ERR_IO, "write '%s'", path);
  return GG_OK;
}
