/*
 * seed.h: create a plan's pre-existing topology on a rehearsal cluster.
 *
 * A plan marks the streams and consumers that exist before the migration (`existing: true`:
 * the legacy stream and its consumers). In production they are there already; on the sandbox
 * they are not, so a rehearsal (and `make demo`) starts with `gonogo sandbox seed PLAN`, which
 * creates each one that is missing from its topology entry and leaves every one that exists
 * alone (it reports drift but never changes a live stream). Nothing else in the plan is touched.
 */
#ifndef GG_ACT_SEED_H
#define GG_ACT_SEED_H

#include "act/act.h"

/* Create the plan's existing-marked streams, then consumers, where missing. Progress lines
 * ("+ created stream ATHLETE_ALLY_EVENTS (R3, vendor.>, core.>)", "= consumer … exists") go to
 * progress. GG_OK when every one exists afterwards. */
gg_status act_seed_existing(const plan *p, act_progress_fn progress, void *ud, gg_error *err) GG_WUR;

#endif
