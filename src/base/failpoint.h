/*
 * failpoint.h: named places where a fault test stops or kills the process (FreeBSD's fail
 * points, TiKV's fail-rs), so a test can SIGKILL `gonogo` exactly between the two API calls of a
 * cutover, or pause it there while it kills a NATS node, instead of racing a timer.
 *
 * Off unless the environment sets GONOGO_FAILPOINTS, a comma-separated list of
 *
 *   NAME[@N][=ACTION]      ACTION: kill (default: SIGKILL this process), stop (SIGSTOP: the test
 *                          sees it stopped, does its work, then SIGCONTs it), exit (_exit 99), or
 *                          on (for the places that ask gg_failpoint_on: they take a test-only
 *                          branch, such as a deliberately lossy cutover)
 *
 * where NAME is a failpoint's name ("act.cutover.between", "act.after.move_subjects", ...;
 * `gonogo` prints each one it passes at debug level) and @N fires on the Nth pass only
 * (default 1). When the variable is unset a failpoint costs one load and a branch. Never set it
 * in production: it exists for tests/integration and bench/faults.
 *
 * The failpoints placed (KIND is an action kind as the plan spells it: create_stream,
 * move_subjects, create_consumer, drain, verify_continuity, wait, ...):
 *
 *   act.before.KIND          src/act/run.c step(): the forward action's intent is journaled, nothing
 *                            done yet (a resume finds it in flight and re-observes it)
 *   act.after.KIND           run.c step(): its outcome is journaled, the next action not begun
 *   act.undo.before.KIND     run.c step(): the same for an inverse, in a rollback
 *   act.undo.after.KIND      run.c step(): the inverse's outcome journaled
 *   act.cutover.between      src/act/cutover.c move(): the subjects are off the source stream and
 *                            not yet on the destination (both directions: a rollback passes it too)
 *   act.drain.progress       src/act/drain.c: each poll of the drained consumer, before it is
 *                            compared with `until` (so the first poll always passes it)
 *   act.carryback.progress   src/act/carryback.c carry_one(): after every 256th message republished
 *                            by a carry-back (CARRY_FAILPOINT_EVERY), acks possibly still owed
 *   act.cutover.lose         src/act/cutover.c, a forward move_subjects once it is done: with =on,
 *                            wait 500 ms and purge the destination stream, losing what reached it
 *                            before its consumer: the lossy action `gonogo rehearse` must catch
 *                            (tests/integration/test_rehearse.c)
 *   act.shift.step           src/act/shift.c run_step(): a shift step's share is put and its "set"
 *                            note journaled, before the service's report and the hold (@N: step N)
 *   act.shift.reverted       shift.c revert(): a failed step's share is back at 0 % and its
 *                            "reverted" note journaled, the action's outcome not yet
 */
#ifndef GG_FAILPOINT_H
#define GG_FAILPOINT_H

#include <stdbool.h>

/* Pass the failpoint `name`: fire it when GONOGO_FAILPOINTS names it (and this is its Nth pass).
 * Thread-safe. Returns normally unless the action ends the process. */
void gg_failpoint(const char *name);

/* The same with a second part of the name ("act.after", "move_subjects" is the failpoint
 * "act.after.move_subjects"), for places that pass one failpoint per action kind. */
void gg_failpoint2(const char *prefix, const char *name);

/* Whether the failpoint `name` is set to `on` and this is its Nth pass: the caller then takes its
 * test-only branch. Another action configured for it (kill, stop, exit) fires as gg_failpoint.
 * False, for one load and a branch, when GONOGO_FAILPOINTS is unset. */
bool gg_failpoint_on(const char *name);

/* Forget what was read from the environment (tests of the failpoints themselves). */
void gg_failpoint_reset(void);

#endif
