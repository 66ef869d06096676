/* internal.h: what the sign-off evaluator's files share (not for other modules). */
#ifndef GG_SIGNOFF_INTERNAL_H
#define GG_SIGNOFF_INTERNAL_H

#include "signoff/signoff.h"

/* changes.c: what differs between the plan approval `seq` approved and p
 * (plan_values_diff), or NULL when the approval kept no values. You own the result. */
char *signoff_explain(journal *j, const plan *p, long long seq);

#endif
