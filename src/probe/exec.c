/*
 * exec.c: `run:` criteria: a shell command that must exit 0 within its timeout; the tail
 * of its output is the evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/spawn.h"
#include "probe/probe.h"

gg_status probe_run(const char *command, double timeout, const char *cwd, probe_run_result *out,
                    gg_error *err) {
  memset(out, 0, sizeof *out);
  gg_spawn_opts opts = {.timeout = timeout > 0 ? timeout : 60, .cwd = cwd};
  gg_spawn_result r;
  memset(&r, 0, sizeof r);
  gg_status st = gg_spawn_shell(command, &opts, &r, err);
  /* The command is not named: it holds expanded secrets; callers name it as the plan shows it. */
  if (st != GG_OK) return gg_error_prefix(err, "run the command: ");
  out->ok = !r.timed_out && r.term_signal == 0 && r.exit_code == 0;
  gg_spawn_describe(&r, out->summary, sizeof out->summary);
  out->output = r.output;
  r.output = NULL;
  out->truncated = r.truncated;
  out->elapsed = r.elapsed;
  gg_spawn_result_release(&r);
  return GG_OK;
}

void probe_run_result_release(probe_run_result *r) {
  if (!r) return;
  free(r->output);
  r->output = NULL;
}
