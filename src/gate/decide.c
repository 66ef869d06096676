/*
 * decide.c: gate_decide — evaluated items → GO / NO-GO / DEFER (DESIGN §3). Pure: it reads
 * the items and writes the decision, the reasons, who must act and the earliest time.
 */
#include <stdlib.h>
#include <string.h>

#include "gate/internal.h"

static void push_str(char ***v, size_t *n, char *s) {
  if (!s) return;
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv) {
    free(s);
    return;
  }
  *v = nv;
  (*v)[(*n)++] = s;
}

static void free_strs(char ***v, size_t *n) {
  for (size_t i = 0; i < *n; i++) free((*v)[i]);
  free(*v);
  *v = NULL;
  *n = 0;
}

void gate_decide(gate_report *r) {
  bool nogo = false, wait = false;
  double earliest = 0;
  free_strs(&r->reasons, &r->nreasons);
  free_strs(&r->pending, &r->npending);
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    /* One line per reason: a command's output tail is evidence, not a reason. */
    const char *what = strcmp(it->kind, "run") == 0 || !it->message[0] ? it->observed : it->message;
    int len = (int)strcspn(what, "\n");
    if (it->overridden) {
      push_str(&r->reasons, &r->nreasons,
               gate_printf("%s %s OVERRIDDEN: %s — %s", gate_section_name(it->section),
                           gate_result_name(it->result), it->name, it->override_reason));
      continue;
    }
    if (it->result == GATE_FAIL || it->result == GATE_ERROR) {
      nogo = true;
      push_str(&r->reasons, &r->nreasons,
               gate_printf("%s %s: %s%s%.*s", gate_section_name(it->section), gate_result_name(it->result),
                           it->name, len ? " — " : "", len, what));
    }
  }
  for (size_t i = 0; i < r->nitems; i++) {
    const gate_item *it = &r->items[i];
    if (it->result != GATE_WAIT || it->overridden) continue;
    wait = true;
    if (!nogo)
      push_str(&r->reasons, &r->nreasons,
               gate_printf("%s WAIT: %s%s%s", gate_section_name(it->section), it->name,
                           it->message[0] ? " — " : "", it->message));
    if (strcmp(it->kind, "approval") == 0 || strcmp(it->kind, "attest") == 0)
      push_str(&r->pending, &r->npending,
               strcmp(it->kind, "approval") == 0 ? gate_printf("approval by %s", it->what)
                                                 : gate_printf("attestation '%s'", it->what));
    else if (it->earliest > earliest)
      earliest = it->earliest; /* human waits have no time; the latest computable one rules */
  }
  r->decision = nogo ? GATE_NOGO : wait ? GATE_DEFER : GATE_GO;
  r->earliest = (r->decision == GATE_DEFER && earliest > 0) ? earliest : 0;
}
