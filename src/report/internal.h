/*
 * internal.h: what the report's files share; not for other modules.
 */
#ifndef GG_REPORT_INTERNAL_H
#define GG_REPORT_INTERNAL_H

#include "base/clock.h"
#include "report/report.h"

/* doc["rehearsals"]: the latest rehearsal event of each of p's phases, with its figures and
 * whether it counts (passed, this plan's hash, younger than rehearsal_valid_for at now). */
gg_status report_gather_rehearsals(const plan *p, journal *j, double now, json_t *doc, gg_error *err) GG_WUR;

#endif
