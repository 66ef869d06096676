/* ingest-service: a thin main; the work is in gg_ingest, the run loop in base/service. */
#include <nats/nats.h>

#include "ingest/ingest.h"
#include "svc/service.h"

static gg_status config_load(void *cfg, gg_log_level *level, gg_error *err) {
  ingest_config *c = cfg;
  gg_status st = ingest_config_load(c, err);
  if (st == GG_OK) *level = c->log_level;
  return st;
}

static void config_release(void *cfg) {
  ingest_config_release(cfg);
}

static gg_status start(const void *cfg, void **svc, gg_error *err) {
  ingest *s = NULL;
  gg_status st = ingest_start(cfg, &s, err);
  *svc = s;
  return st;
}

static void stop(void *svc) {
  ingest_stop(svc);
}

static void shutdown_nats(void) {
  nats_Close();
}

int main(int argc, char **argv) {
  static const gg_service_def def = {"ingest-service", ingest_usage, config_load, config_release, start, stop,
                                     shutdown_nats};
  ingest_config cfg;
  return gg_service_main(argc, argv, &def, &cfg);
}
