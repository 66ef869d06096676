/*
 * natsconn.h: the one place natsOptions are built from a plan's NATS settings.
 *
 * The probes, the actions (act_connect) and, through the probes, `watch` all connect with
 * the options made here, so a setting (a CA, an nkey, the system account) works for all
 * of them or for none. The settings are the nats_* fields of probe_config, which gate_env
 * fills from the plan's `connect.nats`.
 */
#ifndef GG_PROBE_NATSCONN_H
#define GG_PROBE_NATSCONN_H

#include <nats/nats.h>
#include <stdbool.h>

#include "base/error.h"
#include "probe/probe.h"

/* New options for cfg's servers with one way to authenticate (user + password, token, nkey
 * seed file, or .creds file) and TLS (on when a CA, a client certificate or a tls:// URL is
 * given), named `name`, with a connect timeout of `timeout` seconds. `system`: the system
 * account's user + password or creds instead of the application's. You own *out
 * (natsOptions_Destroy). Errors say which setting failed and why (a file that cannot be
 * loaded, "no system account configured"); they never hold a secret. */
gg_status probe_nats_options(const probe_config *cfg, bool system, const char *name, double timeout,
                             natsOptions **out, gg_error *err) GG_WUR;

/* The reason of a failed nats.c call in a few words, for "connect to X: <reason>": the
 * library's last error text when it has one, else the status text. Borrowed (nats.c's
 * thread-local buffer or a static string). */
const char *probe_nats_reason(natsStatus s);

#endif
