#include "svc/natsopts.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
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
