/* normalize-service: a thin main; the work is in gg_normalize, the run loop in base/service. */
#include <nats/nats.h>

#include "normalize/normalize.h"
#include "svc/service.h"

static gg_status config_load(void *cfg, gg_log_level *level, gg_error *err) {
  normalize_config *c = cfg;
  gg_status st = normalize_config_load(c, err);
  if (st == GG_OK) *level = c->log_level;
  return st;
}

static void config_release(void *cfg) {
  normalize_config_release(cfg);
}

static gg_status start(const void *cfg, void **svc, gg_error *err) {
  normalize *s = NULL;
  gg_status st = normalize_start(cfg, &s, err);
  *svc = s;
  return st;
}

static void stop(void *svc) {
  normalize_stop(svc);
}

static void shutdown_nats(void) {
  nats_Close();
}

int main(int argc, char **argv) {
  static const gg_service_def def = {
      "normalize-service", normalize_usage, config_load, config_release, start, stop, shutdown_nats};
  normalize_config cfg;
  return gg_service_main(argc, argv, &def, &cfg);
}
