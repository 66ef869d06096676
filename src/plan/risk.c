/* risk.c: risk levels and the probability x impact matrix (see plan.h for the default). */
#include <strings.h>

#include "plan/internal.h"

static const char *const level_names[PLAN_LEVEL_COUNT] = {
#define PLAN_LEVEL_DISPLAY(name, display, key) display,
    PLAN_LEVEL_MAP(PLAN_LEVEL_DISPLAY)
#undef PLAN_LEVEL_DISPLAY
};

static const char *const level_keys[PLAN_LEVEL_COUNT] = {
#define PLAN_LEVEL_KEY(name, display, key) key,
    PLAN_LEVEL_MAP(PLAN_LEVEL_KEY)
#undef PLAN_LEVEL_KEY
};

const char *plan_level_name(plan_level l) {
  return (unsigned)l < PLAN_LEVEL_COUNT ? level_names[l] : "?";
}

const char *plan_level_key(plan_level l) {
  return (unsigned)l < PLAN_LEVEL_COUNT ? level_keys[l] : "?";
}

bool plan_level_parse(const char *text, plan_level *out) {
  for (int i = 0; i < 4; i++)
    if (strcasecmp(text, level_names[i]) == 0) {
      *out = (plan_level)i;
      return true;
    }
  return false;
}

void plan_risk_matrix_default(plan_risk_matrix *m) {
  static const plan_level def[PLAN_PROBABILITY_LEVELS][PLAN_IMPACT_LEVELS] = {
      /* impact:   low               medium              high                critical */
      /* low */ {PLAN_LEVEL_LOW, PLAN_LEVEL_MEDIUM, PLAN_LEVEL_MEDIUM, PLAN_LEVEL_HIGH},
      /* medium */ {PLAN_LEVEL_LOW, PLAN_LEVEL_MEDIUM, PLAN_LEVEL_HIGH, PLAN_LEVEL_CRITICAL},
      /* high */ {PLAN_LEVEL_MEDIUM, PLAN_LEVEL_HIGH, PLAN_LEVEL_CRITICAL, PLAN_LEVEL_CRITICAL},
  };
  for (int p = 0; p < PLAN_PROBABILITY_LEVELS; p++)
    for (int i = 0; i < PLAN_IMPACT_LEVELS; i++) m->cell[p][i] = def[p][i];
  m->is_default = true;
}

plan_level plan_risk_level(const plan_risk_matrix *m, plan_level probability, plan_level impact) {
  if ((unsigned)probability >= PLAN_PROBABILITY_LEVELS) probability = PLAN_LEVEL_HIGH;
  if ((unsigned)impact >= PLAN_IMPACT_LEVELS) impact = PLAN_LEVEL_CRITICAL;
  return m->cell[probability][impact];
}
