/*
 * natsopts.h: the NATS connection settings both services share.
 *
 * NATS_URL lists every node, comma-separated, as the sandbox writes it; natsOptions_SetURL
 * takes one URL, so gg_nats_set_servers splits the list. gg_nats_log_connection installs
 * disconnect/reconnect callbacks that log one line each. nats.c may run them on its own
 * thread after the service is gone, so they read only a process-wide flag that the service
 * raises with gg_nats_closing(true) before it closes the connection (no "disconnected"
 * warning for a deliberate shutdown).
 */
#ifndef GG_NATSOPTS_H
#define GG_NATSOPTS_H

#include <nats/nats.h>
#include <stdbool.h>

#include "base/error.h"
#include "base/secret.h"

/* The --help lines of the NATS authentication and TLS variables both services read. */
#define GG_NATS_AUTH_USAGE                                                                    \
  "  NATS_CREDS               .creds file (user JWT and seed) to authenticate with\n"         \
  "  NATS_NKEY_SEED           nkey user seed file (SU...) to authenticate with\n"             \
  "  NATS_USER, NATS_PASSWORD user and password to authenticate with\n"                       \
  "  NATS_TOKEN               token to authenticate with\n"                                   \
  "                           (the first of these four that is set is used, in this order;\n" \
  "                           the log says which, never its value)\n"                         \
  "  NATS_CA                  PEM file of the CAs to trust for TLS (tls:// URLs)\n"           \
  "  NATS_CERT, NATS_KEY      client certificate and key for mutual TLS\n"

/* How a service authenticates to NATS, from the variables above. */
typedef struct {
  const char *method; /* "creds", "nkey", "user", "token" or "none": for the log */
  char *creds;        /* paths; NULL when unset */
  char *nkey_seed;
  char *nkey_public; /* derived from the seed */
  char *user;
  gg_secret password;
  gg_secret token;
  char *ca, *cert, *key;
} gg_nats_auth;

/* Read the variables into a (zeroed first). Files must be readable, a seed file must hold a
 * user seed, NATS_CERT and NATS_KEY go together; errors name the variable and the file,
 * never a secret. Release with gg_nats_auth_release (also after a failure). */
gg_status gg_nats_auth_load(gg_nats_auth *a, gg_error *err) GG_WUR;
void gg_nats_auth_release(gg_nats_auth *a);

/* Set o's authentication and TLS from a (TLS when a CA or client certificate is given; a
 * tls:// URL turns it on by itself). */
gg_status gg_nats_auth_apply(natsOptions *o, const gg_nats_auth *a, gg_error *err) GG_WUR;

/* nats.c's last error for s without its source locations: "Authorization Violation",
 * "SSL handshake error: ...certificate verify failed...". Borrowed (thread-local). */
const char *gg_nats_reason(natsStatus s);

/* Set the servers of o from a comma-separated list (spaces around entries ignored, at most
 * 32). NATS_INVALID_ARG when the list holds no URL. */
natsStatus gg_nats_set_servers(natsOptions *o, const char *list);

/* Log disconnections (as warnings) and reconnections (with the URL) of connections made
 * from o. */
natsStatus gg_nats_log_connection(natsOptions *o);

/* Say that the process is closing its connections on purpose (true) or running (false). */
void gg_nats_closing(bool closing);

#endif
