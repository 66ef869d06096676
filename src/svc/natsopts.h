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

/* Set the servers of o from a comma-separated list (spaces around entries ignored, at most
 * 32). NATS_INVALID_ARG when the list holds no URL. */
natsStatus gg_nats_set_servers(natsOptions *o, const char *list);

/* Log disconnections (as warnings) and reconnections (with the URL) of connections made
 * from o. */
natsStatus gg_nats_log_connection(natsOptions *o);

/* Say that the process is closing its connections on purpose (true) or running (false). */
void gg_nats_closing(bool closing);

#endif
