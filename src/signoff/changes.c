/*
 * changes.c: why an approval is void. An approval keeps the resolved values of the plan it
 * approved (journal_approve_values); when the plan has changed since, the difference is what
 * `check`, `status` and `approve` say, so the approver sees "DRAIN_TIMEOUT: 30m → 5m" rather
 * than "the plan changed".
 */
#include <stdlib.h>
#include <string.h>

#include "signoff/internal.h"

#define CHANGES_SHOWN 6

char *signoff_explain(journal *j, const plan *p, long long seq) {
  journal_filter f = journal_filter_all();
  f.after_seq = seq - 1;
  f.limit = 1;
  f.kind = "approval";
  journal_event *ev = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  if (journal_events(j, &f, &ev, &n, &err) != GG_OK) return NULL;
  char *out = NULL;
  if (n == 1 && ev[0].seq == seq) {
    json_t *c = journal_event_content(&ev[0]);
    out = plan_values_diff(json_object_get(c, "plan_values"), p, CHANGES_SHOWN);
    json_decref(c);
  }
  journal_events_free(ev, n);
  return out;
}
