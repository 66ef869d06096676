/* libFuzzer target: the plan loader on arbitrary bytes. Loads from memory, formats every
 * diagnostic, and on success renders the plan as JSON, so the whole read path runs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* Variables starting with 'A' are set, so both substitution paths run. */
static const char *lookup(const char *name, void *ctx) {
  (void)ctx;
  return name[0] == 'A' ? "nats://127.0.0.1:4222" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  plan_load_opts opts = {.lookup = lookup, .ctx = NULL};
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (plan_load_buffer("fuzz.yaml", (const char *)data, size, &opts, &p, &d, &err) == GG_OK) {
    json_t *j = plan_to_json(p);
    char *s = j ? json_dumps(j, 0) : NULL;
    free(s);
    json_decref(j);
    char buf[512];
    for (size_t i = 0; i < p->nphases; i++)
      for (size_t k = 0; k < p->phases[i].nactions; k++) {
        plan_action_describe(&p->phases[i].actions[k], buf, sizeof buf);
        plan_action_inverse(&p->phases[i].actions[k], buf, sizeof buf);
      }
  }
  for (size_t i = 0; i < d.count; i++) free(plan_diag_format(&d, &d.items[i]));
  plan_free(p);
  plan_diags_release(&d);
  return 0;
}
