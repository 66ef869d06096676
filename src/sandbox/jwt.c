/*
 * jwt.c: the secured sandbox's operator-mode node: an operator, an application account with
 * JetStream, the system account and a user, as NATS JWTs signed with nkeys (base/nkey.h), and
 * the user's .creds file (JWT + seed) that `creds:` in a plan and NATS_CREDS in the services
 * take. A cluster of user/password accounts cannot also trust an operator, so these live on a
 * standalone TLS JetStream node of their own, "c1".
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/buf.h"
#include "base/nkey.h"
#include "sandbox/internal.h"

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of n bytes appended to b. */
static gg_status put_b64url(gg_buf *b, const unsigned char *p, size_t n) {
  gg_status st = GG_OK;
  for (size_t i = 0; i < n && st == GG_OK; i += 3) {
    unsigned v =
        (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    char q[4] = {b64url_alphabet[(v >> 18) & 63], b64url_alphabet[(v >> 12) & 63],
                 b64url_alphabet[(v >> 6) & 63], b64url_alphabet[v & 63]};
    st = gg_buf_append(b, q, i + 2 < n ? 4 : i + 1 < n ? 3 : 2);
  }
  return st;
}

/* A JWT for claims (JSON text) signed by issuer_seed; you own *out (free()). */
static gg_status make_jwt(const char *issuer_seed, const char *claims, char **out, gg_error *err) {
  static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  gg_status st = put_b64url(&b, (const unsigned char *)header, strlen(header));
  if (st == GG_OK) st = gg_buf_puts(&b, ".");
  if (st == GG_OK) st = put_b64url(&b, (const unsigned char *)claims, strlen(claims));
  unsigned char sig[64];
  if (st == GG_OK) st = gg_nkey_sign(issuer_seed, gg_buf_str(&b), b.len, sig, err);
  if (st == GG_OK) st = gg_buf_puts(&b, ".");
  if (st == GG_OK) st = put_b64url(&b, sig, sizeof sig);
  if (st != GG_OK) {
    gg_buf_release(&b);
    return err && err->code ? err->code : gg_error_set(err, st, "make a JWT");
  }
  *out = gg_buf_detach(&b);
  return *out ? GG_OK : gg_error_set(err, GG_ERR_NOMEM, "make a JWT");
}

static void jti(char *out, size_t n) {
  unsigned char raw[12] = {0};
  if (RAND_bytes(raw, sizeof raw) != 1) raw[0] = 1;
  for (size_t i = 0; i < sizeof raw && 2 * i + 2 < n; i++) snprintf(out + 2 * i, 3, "%02X", raw[i]);
}

static gg_status write_private(const char *path, const char *text, gg_error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  fchmod(fileno(f), 0600);
  bool ok = fputs(text, f) >= 0;
  if (fclose(f) != 0 || !ok) return gg_error_set(err, GG_ERR_IO, "write '%s'", path);
  return GG_OK;
}

gg_status sandbox_creds_make(sandbox_state *s, gg_error *err) {
  char op_seed[GG_NKEY_SEED_LEN + 1], acc_seed[GG_NKEY_SEED_LEN + 1], sys_seed[GG_NKEY_SEED_LEN + 1],
      user_seed[GG_NKEY_SEED_LEN + 1];
  char op_pub[GG_NKEY_PUBLIC_LEN + 1], user_pub[GG_NKEY_PUBLIC_LEN + 1];
  char *op_jwt = NULL, *acc_jwt = NULL, *sys_jwt = NULL, *user_jwt = NULL;
  gg_status st = gg_nkey_generate_kind(GG_NKEY_OPERATOR, op_seed, op_pub, err);
  if (st == GG_OK) st = gg_nkey_generate_kind(GG_NKEY_ACCOUNT, acc_seed, s->creds_account, err);
  if (st == GG_OK) st = gg_nkey_generate_kind(GG_NKEY_ACCOUNT, sys_seed, s->creds_sys_account, err);
  if (st == GG_OK) st = gg_nkey_generate_kind(GG_NKEY_USER, user_seed, user_pub, err);
  if (st != GG_OK) goto out;
  long now = (long)time(NULL);
  char claims[2048], id[32];
  jti(id, sizeof id);
  snprintf(claims, sizeof claims,
           "{\"jti\":\"%s\",\"iat\":%ld,\"iss\":\"%s\",\"name\":\"gonogo-sandbox\",\"sub\":\"%s\","
           "\"nats\":{\"type\":\"operator\",\"version\":2}}",
           id, now, op_pub, op_pub);
  if ((st = make_jwt(op_seed, claims, &op_jwt, err)) != GG_OK) goto out;
  jti(id, sizeof id);
  snprintf(
      claims, sizeof claims,
      "{\"jti\":\"%s\",\"iat\":%ld,\"iss\":\"%s\",\"name\":\"CREDS\",\"sub\":\"%s\",\"nats\":{\"limits\":{"
      "\"subs\":-1,\"data\":-1,\"payload\":-1,\"imports\":-1,\"exports\":-1,\"wildcards\":true,\"conn\":-1,"
      "\"leaf\":-1,\"mem_storage\":-1,\"disk_storage\":-1,\"streams\":-1,\"consumer\":-1},"
      "\"default_permissions\":{\"pub\":{},\"sub\":{}},\"type\":\"account\",\"version\":2}}",
      id, now, op_pub, s->creds_account);
  if ((st = make_jwt(op_seed, claims, &acc_jwt, err)) != GG_OK) goto out;
  jti(id, sizeof id);
  snprintf(
      claims, sizeof claims,
      "{\"jti\":\"%s\",\"iat\":%ld,\"iss\":\"%s\",\"name\":\"SYS\",\"sub\":\"%s\",\"nats\":{\"limits\":{"
      "\"subs\":-1,\"data\":-1,\"payload\":-1,\"imports\":-1,\"exports\":-1,\"wildcards\":true,\"conn\":-1,"
      "\"leaf\":-1},\"default_permissions\":{\"pub\":{},\"sub\":{}},\"type\":\"account\",\"version\":2}}",
      id, now, op_pub, s->creds_sys_account);
  if ((st = make_jwt(op_seed, claims, &sys_jwt, err)) != GG_OK) goto out;
  jti(id, sizeof id);
  snprintf(claims, sizeof claims,
           "{\"jti\":\"%s\",\"iat\":%ld,\"iss\":\"%s\",\"name\":\"creds-user\",\"sub\":\"%s\",\"nats\":{"
           "\"pub\":{},\"sub\":{},\"subs\":-1,\"data\":-1,\"payload\":-1,\"type\":\"user\",\"version\":2}}",
           id, now, s->creds_account, user_pub);
  if ((st = make_jwt(acc_seed, claims, &user_jwt, err)) != GG_OK) goto out;

  char path[SB_PATH_MAX];
  sandbox_tls_path(s, "operator.jwt", path, sizeof path);
  if ((st = write_private(path, op_jwt, err)) != GG_OK) goto out;
  /* The resolver_preload block of the node's config: the account JWTs (public, signed). */
  sandbox_tls_path(s, "accounts.conf", path, sizeof path);
  char preload[8192];
  snprintf(preload, sizeof preload, "resolver_preload: {\n  %s: \"%s\"\n  %s: \"%s\"\n}\n", s->creds_account,
           acc_jwt, s->creds_sys_account, sys_jwt);
  if ((st = write_private(path, preload, err)) != GG_OK) goto out;
  char creds[4096];
  snprintf(creds, sizeof creds,
           "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
           "************************* IMPORTANT *************************\n"
           "NKEY Seed printed below can be used to sign and prove identity.\n"
           "NKEYs are sensitive and should be treated as secrets.\n\n"
           "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
           "*************************************************************\n",
           user_jwt, user_seed);
  sandbox_tls_path(s, "user.creds", path, sizeof path);
  st = write_private(path, creds, err);
  OPENSSL_cleanse(creds, sizeof creds);
out:
  OPENSSL_cleanse(op_seed, sizeof op_seed);
  OPENSSL_cleanse(acc_seed, sizeof acc_seed);
  OPENSSL_cleanse(sys_seed, sizeof sys_seed);
  OPENSSL_cleanse(user_seed, sizeof user_seed);
  free(op_jwt);
  free(acc_jwt);
  free(sys_jwt);
  free(user_jwt);
  return st;
}

gg_status sandbox_nats_write_creds_conf(const sandbox_state *s, gg_error *err) {
  const sandbox_rec *r = &s->cred;
  char op[SB_PATH_MAX], acc[SB_PATH_MAX], cert[SB_PATH_MAX], key[SB_PATH_MAX];
  sandbox_tls_path(s, "operator.jwt", op, sizeof op);
  sandbox_tls_path(s, "accounts.conf", acc, sizeof acc);
  sandbox_tls_path(s, "server.pem", cert, sizeof cert);
  sandbox_tls_path(s, "server-key.pem", key, sizeof key);
  char preload[8192];
  FILE *f = fopen(acc, "r");
  if (!f) return gg_error_set(err, GG_ERR_IO, "read '%s': %s", acc, strerror(errno));
  size_t n = fread(preload, 1, sizeof preload - 1, f);
  fclose(f);
  preload[n] = '\0';
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  gg_status st =
      gg_buf_printf(&b,
                    "# written by `gonogo sandbox up --secure`: the operator-mode node (JWTs, .creds).\n"
                    "server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                    "jetstream {\n  store_dir: \"%s\"\n  max_memory_store: 1GB\n  max_file_store: 4GB\n}\n"
                    "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  timeout: 5\n}\n"
                    "operator: \"%s\"\nsystem_account: %s\nresolver: MEMORY\n%s",
                    r->name, r->port, r->monitor, r->data, cert, key, op, s->creds_sys_account, preload);
  if (st != GG_OK)
    st = gg_error_set(err, st, "format nats config for %s", r->name);
  else
    st = sandbox_write_file(r->conf, gg_buf_str(&b), err);
  gg_buf_release(&b);
  return st;
}
