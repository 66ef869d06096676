/* The shared main of the services: see service.h. */
#include "svc/service.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

int gg_service_main(int argc, char **argv, const gg_service_def *def, void *cfg) {
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      fputs(def->usage, stdout);
      return 0;
    }
    fprintf(stderr, "%s: unknown argument '%s'\n%s", def->name, argv[1], def->usage);
    return 2;
  }
  /* Block the stop signals in every thread; main waits for them with sigwait. This must
   * happen before any thread starts: threads inherit the mask. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  gg_error err;
  gg_error_clear(&err);
  gg_log_level level = GG_LOG_INFO;
  if (def->config_load(cfg, &level, &err) != GG_OK) {
    fprintf(stderr, "%s: %s\n", def->name, gg_error_message(&err));
    return 2;
  }
  gg_log_set_level(level);
  void *svc = NULL;
  if (def->start(cfg, &svc, &err) != GG_OK) {
    gg_log_error("cannot start", "err=\"%s\"", gg_error_message(&err));
    def->config_release(cfg);
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  gg_info("stopping", "signal=%d", sig);
  def->stop(svc);
  def->config_release(cfg);
  if (def->shutdown) def->shutdown();
  gg_info("stopped", "%s", "");
  return 0;
}

void gg_service_respond_metrics(gg_httpd_req *req, gg_metrics *metrics) {
  gg_buf b;
  gg_buf_init(&b, GG_BUF_METRICS_PAGE_MAX);
  if (gg_metrics_render(metrics, &b) != GG_OK) {
    gg_buf_release(&b);
    gg_httpd_respond_json(req, 500, "{\"error\":\"metrics page too large\"}");
    return;
  }
  gg_httpd_respond(req, 200, GG_METRICS_CONTENT_TYPE, b.data, b.len, NULL);
  gg_buf_release(&b);
}
