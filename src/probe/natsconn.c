#include "probe/natsconn.h"

#include <stdio.h>
#include <string.h>

#include "base/nkey.h"

const char *probe_nats_reason(natsStatus s) {
  static __thread char buf[512];
  const char *last = nats_GetLastError(NULL);
  if (!last || !*last) last = natsStatus_GetText(s);
  /* Drop nats.c's source locations ("(conn.c:1905): ") and name the two reasons people
   * look for in the words they search for. */
  char clean[512];
  size_t w = 0;
  for (const char *p = last; *p && w + 1 < sizeof clean;) {
    if (*p == '(' && strstr(p, ".c:") && strchr(p, ')') && strchr(p, ')') - p < 40) {
      p = strchr(p, ')') + 1;
      while (*p == ':' || *p == ' ') p++;
      continue;
    }
    clean[w++] = *p++;
  }
  clean[w] = '\0';
  if (s == NATS_NOT_PERMITTED || strstr(clean, "Authorization Violation") || strstr(clean, "Authentication"))
    snprintf(buf, sizeof buf,
             "authorization violation (the server refused the user, password, token or key)");
  else if (s == NATS_SSL_ERROR && strstr(clean, "handshake") && strstr(clean, "certificate"))
    snprintf(buf, sizeof buf, "certificate verify failed: %s", clean);
  else
    snprintf(buf, sizeof buf, "%s", clean);
  return buf;
}

static bool any_tls_url(const probe_config *cfg) {
  for (size_t i = 0; i < cfg->n_nats_servers; i++)
    if (strncmp(cfg->nats_servers[i], "tls://", 6) == 0) return true;
  return false;
}

static gg_status fail(gg_error *err, natsStatus s, const char *step) {
  return gg_error_set(err, GG_ERR_NATS, "%s: %s", step, probe_nats_reason(s));
}

gg_status probe_nats_options(const probe_config *cfg, bool system, const char *name, double timeout,
                             natsOptions **out, gg_error *err) {
  *out = NULL;
  if (cfg->n_nats_servers == 0)
    return gg_error_set(err, GG_ERR_INVALID, "no NATS servers configured (connect.nats.servers)");
  if (system && !cfg->nats_sys_user && !cfg->nats_sys_creds)
    return gg_error_set(err, GG_ERR_INVALID, "no system account configured (connect.nats.system)");
  natsOptions *o = NULL;
  gg_status st = GG_OK;
  natsStatus s = natsOptions_Create(&o);
  if (s != NATS_OK) return fail(err, s, "nats options");
  s = natsOptions_SetServers(o, (const char **)cfg->nats_servers, (int)cfg->n_nats_servers);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, (int64_t)((timeout > 0 ? timeout : 5) * 1000));
  if (s == NATS_OK) s = natsOptions_SetName(o, name);
  if (s != NATS_OK) {
    st = fail(err, s, "nats options");
    goto out;
  }
  if (system) {
    if (cfg->nats_sys_creds) {
      if ((s = natsOptions_SetUserCredentialsFromFiles(o, cfg->nats_sys_creds, NULL)) != NATS_OK) {
        st = gg_error_set(err, GG_ERR_NATS, "system account creds file '%s': %s", cfg->nats_sys_creds,
                          probe_nats_reason(s));
        goto out;
      }
    } else if ((s = natsOptions_SetUserInfo(o, cfg->nats_sys_user,
                                            cfg->nats_sys_password ? cfg->nats_sys_password : "")) !=
               NATS_OK) {
      st = fail(err, s, "system account user");
      goto out;
    }
  } else if (cfg->nats_creds) {
    if ((s = natsOptions_SetUserCredentialsFromFiles(o, cfg->nats_creds, NULL)) != NATS_OK) {
      st = gg_error_set(err, GG_ERR_NATS, "creds file '%s': %s", cfg->nats_creds, probe_nats_reason(s));
      goto out;
    }
  } else if (cfg->nats_nkey) {
    char pub[GG_NKEY_PUBLIC_LEN + 1];
    if ((st = gg_nkey_public_of_seed_file(cfg->nats_nkey, pub, err)) != GG_OK) goto out;
    if ((s = natsOptions_SetNKeyFromSeed(o, pub, cfg->nats_nkey)) != NATS_OK) {
      st = gg_error_set(err, GG_ERR_NATS, "nkey seed file '%s': %s", cfg->nats_nkey, probe_nats_reason(s));
      goto out;
    }
  } else if (cfg->nats_token) {
    if ((s = natsOptions_SetToken(o, cfg->nats_token)) != NATS_OK) {
      st = fail(err, s, "token");
      goto out;
    }
  } else if (cfg->nats_user) {
    if ((s = natsOptions_SetUserInfo(o, cfg->nats_user, cfg->nats_password ? cfg->nats_password : "")) !=
        NATS_OK) {
      st = fail(err, s, "user");
      goto out;
    }
  }
  if (cfg->nats_tls_ca || cfg->nats_tls_cert || any_tls_url(cfg)) {
    if ((s = natsOptions_SetSecure(o, true)) != NATS_OK) {
      st = fail(err, s, "set up TLS");
      goto out;
    }
    if (cfg->nats_tls_ca && (s = natsOptions_LoadCATrustedCertificates(o, cfg->nats_tls_ca)) != NATS_OK) {
      st = gg_error_set(err, GG_ERR_NATS, "TLS CA file '%s': %s", cfg->nats_tls_ca, probe_nats_reason(s));
      goto out;
    }
    if (cfg->nats_tls_cert &&
        (s = natsOptions_LoadCertificatesChain(o, cfg->nats_tls_cert, cfg->nats_tls_key)) != NATS_OK) {
      st = gg_error_set(err, GG_ERR_NATS, "TLS certificate '%s' and key '%s': %s", cfg->nats_tls_cert,
                        cfg->nats_tls_key ? cfg->nats_tls_key : "", probe_nats_reason(s));
      goto out;
    }
  }
out:
  if (st != GG_OK) {
    natsOptions_Destroy(o);
    return st;
  }
  *out = o;
  return GG_OK;
}
