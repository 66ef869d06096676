/*
 * failpoint.h: named places where a fault test stops or kills the process (FreeBSD's fail
 * points, TiKV's fail-rs), so a test can SIGKILL `gonogo` exactly between the two API calls of a
 * cutover, or pause it there while it kills a NATS node, instead of racing a timer.
 *
 * Off unless the environment sets GONOGO_FAILPOINTS, a comma-separated list of
 *
 *   NAME[@N][=ACTION]      ACTION: kill (default: SIGKILL this process), stop (SIGSTOP: the test
 *                          sees it stopped, does its work, then SIGCONTs it), or exit (_exit 99)
 *
 * where NAME is a failpoint's name ("act.cutover.between", "act.after.move_subjects", ...;
 * `gonogo` prints each one it passes at debug level) and @N fires on the Nth pass only
 * (default 1). When the variable is unset a failpoint costs one load and a branch. Never set it
 * in production: it exists for tests/integration and bench/faults.
 */
#ifndef GG_FAILPOINT_H
#define GG_FAILPOINT_H

/* Pass the failpoint `name`: fire it when GONOGO_FAILPOINTS names it (and this is its Nth pass).
 * Thread-safe. Returns normally unless the action ends the process. */
void gg_failpoint(const char *name);

/* The same with a second part of the name ("act.after", "move_subjects" is the failpoint
 * "act.after.move_subjects"), for places that pass one failpoint per action kind. */
void gg_failpoint2(const char *prefix, const char *name);

/* Forget what was read from the environment (tests of the failpoints themselves). */
void gg_failpoint_reset(void);

#endif
