/*
 * series.h: the journal as a source for the expression evaluator (DESIGN §5, §6).
 *
 * journal_series_source serves the journal-backed series, each sample labelled as shown and
 * stamped with ctx->now:
 *
 *   phase.completed{phase}      1 when the phase's latest lifecycle event is phase_completed, else 0
 *   phase.completed_age{phase}  seconds since completion (no sample when not completed: "no data")
 *   phase.stable_for{phase}     seconds since completion or the last automatic trigger after it; 0
 *                               when not completed
 *   event.age{kind}             seconds since the latest event of that kind (kinds of journal.h, plus
 *                               the marks "deployment" and "incident"); +Inf ("never") when asked
 *                               for one kind (kind="…") that the journal has never recorded
 *   attested{item}              1 when the item's latest attestation is in force, else 0
 *   retro.completed             1 once `gonogo retro PLAN --complete` closed the retrospective, else 0
 *   rehearsal.passed{phase}     1 while the phase's latest `gonogo rehearse` passed for the plan set
 *                               by journal_set_plan and is younger than its rehearsal_valid_for
 *
 * With an equality matcher on the label (phase="2") the source answers for that one value, even
 * one the journal has never seen (phase.completed 0); without it, for every value the journal
 * knows. Other names are GG_ERR_NOT_FOUND, so the evaluator asks the next source.
 *
 * journal_history_source serves the `samples` table (written by `watch`) to rate(), increase(),
 * delta() and *_over_time(): the points of the window per label set the selector's matchers
 * accept, or GG_ERR_NO_DATA "insufficient history: have X of Y" when those samples do not
 * cover the window (within 5% or a minute) or, for rate & co., one of them has fewer than two
 * points. This is what `watch` reads; `check` judges the answer again, more strictly
 * (gate/history.h).
 *
 * Both borrow the journal handle: it must outlive the evaluation. Kept apart from journal.h so
 * the journal core does not depend on the expression module.
 */
#ifndef GG_JOURNAL_SERIES_H
#define GG_JOURNAL_SERIES_H

#include "expr/expr.h"
#include "journal/journal.h"

/* A series source over j (borrowed; user = j). Name "journal". */
expr_series_source journal_series_source(journal *j);

/* A history source over j's samples (borrowed; user = j). */
expr_history_source journal_history_source(journal *j);

/* The same samples without the judgement: every point of the window the selector's
 * matchers accept, GG_OK even when there are none, range [now - window, now]. For callers
 * that judge the coverage themselves (`check`, gate/history.h). */
expr_history_source journal_history_source_raw(journal *j);

#endif
