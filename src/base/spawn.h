/*
 * spawn.h: run a command with a timeout and keep a bounded tail of its output.
 *
 * Used for `run:` criteria, `exec` actions and by the sandbox. The command runs in its
 * own process group so a timeout kills it and everything it started (SIGTERM, then
 * SIGKILL after a grace period). stdout and stderr are captured together; only the last
 * `max_output` bytes are kept (the tail is the useful evidence), and `truncated` says
 * when earlier output was dropped.
 */
#ifndef GG_SPAWN_H
#define GG_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct {
  double timeout;         /* seconds; <= 0 means no timeout */
  size_t max_output;      /* bytes of output tail kept; 0 means GG_BUF_CMD_OUTPUT_MAX */
  const char *cwd;        /* NULL: inherit */
  const char *const *env; /* extra "K=V" entries added to the environment (replacing the same
                           * keys; a PATH here is also where argv[0] is looked up),
                           * NULL-terminated; may be NULL */
} gg_spawn_opts;

typedef struct {
  int exit_code;   /* when exited normally; -1 otherwise */
  int term_signal; /* when killed by a signal; 0 otherwise */
  bool timed_out;  /* the timeout expired and the group was killed */
  double elapsed;  /* seconds */
  char *output;    /* NUL-terminated tail of stdout+stderr; you own it (free()) */
  size_t output_len;
  bool truncated; /* earlier output was dropped */
  double timeout; /* the timeout that applied (seconds; 0 for none), for messages */
} gg_spawn_result;

/* Run argv[0] (looked up in PATH) with argv. Returns GG_OK when the command ran, whatever
 * its exit status (inspect result); an error when it could not be started (GG_ERR_NOT_FOUND
 * for a missing program or cwd). result->output is always set on GG_OK; on error result
 * owns nothing. opts may be NULL (no timeout, default cap). stdin is /dev/null. Safe to
 * call from several threads; SIGCHLD must not be set to SIG_IGN (the child is reaped
 * with waitpid).
 *
 * The call returns when the command exits (output still in the pipe is read for a short
 * moment after) or when the timeout kills its group. Processes the command leaves running
 * in the background are not killed on a normal exit (so `pg_ctl start` works), and what
 * they write later is not captured. */
gg_status gg_spawn_run(const char *const *argv, const gg_spawn_opts *opts, gg_spawn_result *result,
                       gg_error *err) GG_WUR;

/* Run a shell command line through /bin/sh -c. */
gg_status gg_spawn_shell(const char *command, const gg_spawn_opts *opts, gg_spawn_result *result,
                         gg_error *err) GG_WUR;

/* Free what a result owns. NULL-safe. */
void gg_spawn_result_release(gg_spawn_result *result);

/* A one-line description: "exit 0", "exit 2", "killed by SIGKILL", "timed out after 5s". */
const char *gg_spawn_describe(const gg_spawn_result *result, char *out, size_t n);

#endif
