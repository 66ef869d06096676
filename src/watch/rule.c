/*
 * rule.c: the alerting-rule state machine, Prometheus' semantics: a condition must hold at
 * every evaluation for `for:` before the rule fires; a single evaluation that does not hold
 * resets it.
 */
#include "watch/watch.h"

static const char *const state_names[WATCH_RULE_STATE_COUNT] = {
#define WATCH_RULE_STATE_NAME(name, text) text,
    WATCH_RULE_STATE_MAP(WATCH_RULE_STATE_NAME)
#undef WATCH_RULE_STATE_NAME
};

const char *watch_rule_state_name(watch_rule_state s) {
  return (unsigned)s < WATCH_RULE_STATE_COUNT ? state_names[s] : "?";
}

watch_transition watch_rule_step(watch_rule_tracker *t, double for_, bool hold_on_error, watch_obs obs,
                                 double now) {
  if (obs == WATCH_OBS_ERROR) {
    if (hold_on_error) return WATCH_TRANS_NONE; /* keep whatever state we are in */
    obs = WATCH_OBS_FALSE;
  }
  if (obs == WATCH_OBS_FALSE) {
    watch_rule_state was = t->state;
    t->state = WATCH_RULE_INACTIVE;
    t->active_since = 0;
    if (was == WATCH_RULE_FIRING) return WATCH_TRANS_RESOLVED;
    if (was == WATCH_RULE_PENDING) return WATCH_TRANS_CLEARED;
    return WATCH_TRANS_NONE;
  }
  switch (t->state) {
    case WATCH_RULE_INACTIVE:
      t->active_since = now;
      if (for_ <= 0) {
        t->state = WATCH_RULE_FIRING;
        t->fired_at = now;
        return WATCH_TRANS_FIRING;
      }
      t->state = WATCH_RULE_PENDING;
      return WATCH_TRANS_PENDING;
    case WATCH_RULE_PENDING:
      if (now - t->active_since >= for_) {
        t->state = WATCH_RULE_FIRING;
        t->fired_at = now;
        return WATCH_TRANS_FIRING;
      }
      return WATCH_TRANS_NONE;
    case WATCH_RULE_FIRING:
      return WATCH_TRANS_NONE;
  }
  return WATCH_TRANS_NONE;
}
