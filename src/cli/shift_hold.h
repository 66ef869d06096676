/*
 * shift_hold.h: what `run` and `resume` give act for a shift step's hold (DESIGN §14): the
 * plan's monitor rules evaluated by a watcher (watch_holder) made on the first hold and kept
 * for the rest, since act does not link watch.
 */
#ifndef GG_CLI_SHIFT_HOLD_H
#define GG_CLI_SHIFT_HOLD_H

#include "act/act.h"
#include "watch/watch.h"

typedef struct {
  watch_holder *h; /* made on first use */
} cli_shift_hold;

/* An act_hold_fn; ud is a cli_shift_hold. */
gg_status cli_shift_hold_fn(void *ud, const plan *p, journal *j, const char *phase, double seconds,
                            char *fired, size_t cap, gg_error *err);
/* Free the watcher, if one was made. */
void cli_shift_hold_release(cli_shift_hold *sh);

#endif
