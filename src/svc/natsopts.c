#include "svc/natsopts.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "base/log.h"
#include "base/nkey.h"
#include "base/secret.h"

static atomic_bool closing;

void gg_nats_closing(bool c) {
  atomic_store(&closing, c);
}

static void on_disconnected(natsConnection *nc, void *closure) {
  (void)nc;
  (void)closure;
  if (!atomic_load(&closing)) gg_warn("nats disconnected", NULL);
}

static void on_reconnected(natsConnection *nc, void *closure) {
  (void)closure;
  char url[256] = "", shown[300];
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  gg_info("nats reconnected", "url=%s", gg_secret_redact_urls(url, shown, sizeof shown));
}

natsStatus gg_nats_log_connection(natsOptions *o) {
  natsStatus s = natsOptions_SetDisconnectedCB(o, on_disconnected, NULL);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, on_reconnected, NULL);
  return s;
}

natsStatus gg_nats_set_servers(natsOptions *o, const char *list) {
  char *copy = strdup(list);
  const char *urls[32];
  int n = 0;
  if (!copy) return NATS_NO_MEMORY;
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && n < 32;
       tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ') tok++;
    size_t len = strlen(tok);
    while (len && tok[len - 1] == ' ') tok[--len] = '\0';
    if (*tok) urls[n++] = tok;
  }
  natsStatus s = n ? natsOptions_SetServers(o, urls, n) : NATS_INVALID_ARG;
  free(copy);
  return s;
}

/* A copy of the variable's value, NULL when unset or empty. */
static char *env_dup(const char *name, bool *nomem) {
  const char *v = getenv(name);
  if (!v || !*v) return NULL;
  char *c = strdup(v);
  if (!c) *nomem = true;
  return c;
}

static gg_status need_file(const char *var, const char *path, gg_error *err) {
  if (!path || access(path, R_OK) == 0) return GG_OK;
  return gg_error_set(err, GG_ERR_INVALID, "%s: '%s': %s", var, path,
                      errno == ENOENT ? "file not found" : strerror(errno));
}

gg_status gg_nats_auth_load(gg_nats_auth *a, gg_error *err) {
  memset(a, 0, sizeof *a);
  /* nats.c must set up OpenSSL before anything else uses libcrypto (the nkey below):
   * otherwise nats_Close() at exit and OpenSSL's own exit handler free the same state
   * twice and the process crashes on its way out. */
  natsStatus ns = nats_Open(-1);
  if (ns != NATS_OK) return gg_error_set(err, GG_ERR_NATS, "initialise nats.c: %s", natsStatus_GetText(ns));
  bool nomem = false;
  a->creds = env_dup("NATS_CREDS", &nomem);
  a->nkey_seed = env_dup("NATS_NKEY_SEED", &nomem);
  a->user = env_dup("NATS_USER", &nomem);
  a->ca = env_dup("NATS_CA", &nomem);
  a->cert = env_dup("NATS_CERT", &nomem);
  a->key = env_dup("NATS_KEY", &nomem);
  const char *pw = getenv("NATS_PASSWORD"), *tok = getenv("NATS_TOKEN");
  if (pw && *pw && !gg_secret_set(&a->password, pw, "${NATS_PASSWORD}")) nomem = true;
  if (tok && *tok && !gg_secret_set(&a->token, tok, "${NATS_TOKEN}")) nomem = true;
  if (nomem) return gg_error_set(err, GG_ERR_NOMEM, "NATS settings: out of memory");
  gg_status st = GG_OK;
  if ((st = need_file("NATS_CREDS", a->creds, err)) != GG_OK ||
      (st = need_file("NATS_NKEY_SEED", a->nkey_seed, err)) != GG_OK ||
      (st = need_file("NATS_CA", a->ca, err)) != GG_OK ||
      (st = need_file("NATS_CERT", a->cert, err)) != GG_OK ||
      (st = need_file("NATS_KEY", a->key, err)) != GG_OK)
    return st;
  if (!a->cert != !a->key)
    return gg_error_set(err, GG_ERR_INVALID,
                        "NATS_CERT and NATS_KEY go together (a client certificate and its key)");
  a->method = a->creds                       ? "creds"
              : a->nkey_seed                 ? "nkey"
              : a->user                      ? "user"
              : gg_secret_present(&a->token) ? "token"
                                             : "none";
  if (strcmp(a->method, "nkey") == 0) {
    char pub[GG_NKEY_PUBLIC_LEN + 1];
    if ((st = gg_nkey_public_of_seed_file(a->nkey_seed, pub, err)) != GG_OK)
      return gg_error_prefix(err, "NATS_NKEY_SEED: ");
    if (!(a->nkey_public = strdup(pub)))
      return gg_error_set(err, GG_ERR_NOMEM, "NATS settings: out of memory");
  }
  return GG_OK;
}

void gg_nats_auth_release(gg_nats_auth *a) {
  if (!a) return;
  free(a->creds);
  free(a->nkey_seed);
  free(a->nkey_public);
  free(a->user);
  gg_secret_release(&a->password);
  gg_secret_release(&a->token);
  free(a->ca);
  free(a->cert);
  free(a->key);
  memset(a, 0, sizeof *a);
}

const char *gg_nats_reason(natsStatus s) {
  static __thread char buf[512];
  const char *last = nats_GetLastError(NULL);
  if (!last || !*last) last = natsStatus_GetText(s);
  size_t w = 0;
  for (const char *p = last; *p && w + 1 < sizeof buf;) {
    const char *close = *p == '(' ? strchr(p, ')') : NULL;
    const char *dotc = close ? strstr(p, ".c:") : NULL;
    if (close && dotc && dotc < close && close - p < 40) {
      p = close + 1;
      while (*p == ':' || *p == ' ') p++;
      continue;
    }
    buf[w++] = *p++;
  }
  buf[w] = '\0';
  return buf;
}

gg_status gg_nats_auth_apply(natsOptions *o, const gg_nats_auth *a, gg_error *err) {
  natsStatus s = NATS_OK;
  const char *what = "NATS authentication";
  if (a->creds) {
    what = "NATS_CREDS";
    s = natsOptions_SetUserCredentialsFromFiles(o, a->creds, NULL);
  } else if (a->nkey_seed) {
    what = "NATS_NKEY_SEED";
    s = natsOptions_SetNKeyFromSeed(o, a->nkey_public, a->nkey_seed);
  } else if (a->user) {
    what = "NATS_USER";
    s = natsOptions_SetUserInfo(o, a->user,
                                gg_secret_present(&a->password) ? gg_secret_reveal(&a->password) : "");
  } else if (gg_secret_present(&a->token)) {
    what = "NATS_TOKEN";
    s = natsOptions_SetToken(o, gg_secret_reveal(&a->token));
  }
  if (s == NATS_OK && (a->ca || a->cert)) {
    what = "NATS TLS";
    s = natsOptions_SetSecure(o, true);
    if (s == NATS_OK && a->ca) {
      what = "NATS_CA";
      s = natsOptions_LoadCATrustedCertificates(o, a->ca);
    }
    if (s == NATS_OK && a->cert) {
      what = "NATS_CERT/NATS_KEY";
      s = natsOptions_LoadCertificatesChain(o, a->cert, a->key);
    }
  }
  if (s != NATS_OK) return gg_error_set(err, GG_ERR_NATS, "%s: %s", what, gg_nats_reason(s));
  return GG_OK;
}
