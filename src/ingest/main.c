/* ingest-service: argument handling and signals; the work is in gg_ingest. */
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "ingest/ingest.h"

int main(int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      fputs(ingest_usage, stdout);
      return 0;
    }
    fprintf(stderr, "ingest-service: unknown argument '%s'\n%s", argv[1], ingest_usage);
    return 2;
  }
  /* Block the stop signals in every thread; main waits for them with sigwait. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  gg_error err;
  gg_error_clear(&err);
  ingest_config cfg;
  if (ingest_config_load(&cfg, &err) != GG_OK) {
    fprintf(stderr, "ingest-service: %s\n", gg_error_message(&err));
    return 2;
  }
  gg_log_set_level(cfg.log_level);
  ingest *svc = NULL;
  if (ingest_start(&cfg, &svc, &err) != GG_OK) {
    gg_log_error("cannot start", "err=\"%s\"", gg_error_message(&err));
    ingest_config_release(&cfg);
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  gg_info("stopping", "signal=%d", sig);
  ingest_stop(svc);
  ingest_config_release(&cfg);
  nats_Close();
  gg_info("stopped", "%s", "");
  return 0;
}
