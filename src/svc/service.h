/*
 * service.h: the main of a long-running service (ingest-service, normalize-service).
 *
 * Every service does the same around its own work: answer --help, refuse other
 * arguments, block SIGTERM and SIGINT in every thread before any thread starts (so that
 * only main receives them, with sigwait), ignore SIGPIPE, load its configuration from the
 * environment, start, wait for a stop signal, stop and clean up. gg_service_main does
 * that once; a service describes itself with a gg_service_def and its main is one call.
 * gg_service_respond_metrics answers GET /metrics the same way for every service.
 *
 * Exit statuses: 0 after a clean stop or --help, 2 for an unknown argument or a bad
 * configuration (printed to stderr as "<name>: <message>"), 1 when the service cannot
 * start (logged as level=error msg="cannot start").
 */
#ifndef GG_SERVICE_H
#define GG_SERVICE_H

#include "base/error.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/metrics.h"

/* What a service plugs into gg_service_main. The strings and the function pointers are
 * borrowed and must stay valid for the call (static storage in practice). */
typedef struct {
  const char *name;  /* the binary's name, prefixed to argument and configuration errors */
  const char *usage; /* printed to stdout by --help and -h, to stderr after a bad argument */
  /* Fill the configuration at cfg from the environment and say which log level it asks
   * for. On failure the configuration holds nothing to release and err names the
   * variable. */
  gg_status (*config_load)(void *cfg, gg_log_level *level, gg_error *err);
  /* Free what config_load put into cfg (not cfg itself). */
  void (*config_release)(void *cfg);
  /* Start serving per cfg (borrowed until after stop). On GG_OK *svc is the service's;
   * it is handed back to stop. */
  gg_status (*start)(const void *cfg, void **svc, gg_error *err);
  /* Stop gracefully and free svc. */
  void (*stop)(void *svc);
  /* Called once after stop and config_release, before exiting 0 (e.g. nats_Close);
   * may be NULL. */
  void (*shutdown)(void);
} gg_service_def;

/* Run a service from its main: argument handling, signals, configuration, start, wait
 * for SIGTERM or SIGINT, stop. cfg is the caller's storage for the configuration
 * (borrowed; config_load fills it). Returns the exit status for main to return. */
int gg_service_main(int argc, char **argv, const gg_service_def *def, void *cfg);

/* Answer req with the Prometheus page of metrics (borrowed): 200 with
 * GG_METRICS_CONTENT_TYPE, or 500 {"error":"metrics page too large"} when the page would
 * exceed GG_BUF_METRICS_PAGE_MAX. For a service's GET /metrics handler. */
void gg_service_respond_metrics(gg_httpd_req *req, gg_metrics *metrics);

#endif
