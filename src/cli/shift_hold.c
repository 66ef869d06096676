/* shift_hold.c: a shift step's hold for `run` and `resume` (shift_hold.h). */
#include "cli/shift_hold.h"

gg_status cli_shift_hold_fn(void *ud, const plan *p, journal *j, const char *phase, double seconds,
                            char *fired, size_t cap, gg_error *err) {
  (void)phase;
  cli_shift_hold *sh = ud;
  if (!sh->h) {
    gg_status st = watch_holder_new(p, j, 0, &sh->h, err);
    if (st != GG_OK) return st;
  }
  return watch_holder_hold(sh->h, seconds, fired, cap, err);
}

void cli_shift_hold_release(cli_shift_hold *sh) {
  watch_holder_free(sh->h);
  sh->h = NULL;
}
