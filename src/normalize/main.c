/* normalize-service: argument handling and signals; the work is in gg_normalize. */
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "normalize/normalize.h"

int main(int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      fputs(normalize_usage, stdout);
      return 0;
    }
    fprintf(stderr, "normalize-service: unknown argument '%s'\n%s", argv[1], normalize_usage);
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
  normalize_config cfg;
  if (normalize_config_load(&cfg, &err) != GG_OK) {
    fprintf(stderr, "normalize-service: %s\n", gg_error_message(&err));
    return 2;
  }
  gg_log_set_level(cfg.log_level);
  normalize *svc = NULL;
  if (normalize_start(&cfg, &svc, &err) != GG_OK) {
    gg_log_error("cannot start", "err=\"%s\"", gg_error_message(&err));
    normalize_config_release(&cfg);
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  gg_info("stopping", "signal=%d", sig);
  normalize_stop(svc);
  normalize_config_release(&cfg);
  nats_Close();
  gg_info("stopped", "%s", "");
  return 0;
}
