/*
 * support.h: what the integration tests that drive the gonogo binary share: running a
 * program (usually gonogo) and keeping its exit code and output, and connecting to the
 * sandbox's NATS cluster. Linked as the static library gg_it_support (tests/integration/CMakeLists.txt).
 */
#ifndef GG_TESTS_SUPPORT_H
#define GG_TESTS_SUPPORT_H

#include <nats/nats.h>

#include "base/spawn.h"

typedef struct {
  int code;    /* exit code; -1 when killed by a signal or timed out */
  char *out;   /* stdout and stderr together (the tail o->max_output keeps); you own it (free) */
  double took; /* seconds */
} support_run_result;

/* Run argv (argv[0] the program, NULL-terminated) with o. Fails the current cmocka test
 * when the program cannot be started. */
support_run_result support_run(const char *const *argv, const gg_spawn_opts *o);

/* Run the program `bin` with the arguments that follow (NULL-terminated), 60 s at most; returns
 * its exit code and, when out is not NULL, its output in *out (you own it: free). Fails the
 * current cmocka test when it cannot be started. */
int support_gonogo(const char *bin, char **out, ...);

/* Connect to `urls` (comma-separated, as the sandbox's NATS_URL) and open a JetStream context;
 * with the secured sandbox's NATS_USER, NATS_PASSWORD and NATS_CA when they are set.
 * Returns 0 with *nc and *js set (natsConnection_Destroy and jsCtx_Destroy them), or -1 after
 * printing what failed to stderr. */
int support_nats_connect(const char *urls, natsConnection **nc, jsCtx **js);

/* The environment variable `name` (the sandbox's env file sets it); exits with a message naming
 * the test (`who`) when it is not set, since the test cannot run outside a sandbox. */
const char *support_need_env(const char *who, const char *name);

/* The text of the file `rel` under the source tree ($GONOGO_SOURCE_DIR), read whole; exits with a
 * message naming the test (`who`) and the path when it cannot be read. You own it (free). */
char *support_source_file(const char *who, const char *rel);

/* A loopback listener that accepts connections and never answers (a server that hangs):
 * returns its fd (close it when done) and the port in *port, or -1. */
int support_blackhole(int *port);

#endif
