/*
 * promtext.h: a parser for the Prometheus text exposition format (version 0.0.4).
 *
 * The probes read the metrics pages of the plan's targets with it; `watch` and the tests
 * use it too. It accepts what real exporters write: `# HELP` and `# TYPE` lines, other
 * comments, counters, gauges, untyped samples, histograms and summaries (their _bucket,
 * _sum, _count and quantile series are ordinary samples with their own names and labels),
 * label values with the escapes \\ \" \n, a trailing comma in a label set, NaN/+Inf/-Inf
 * values and optional integer timestamps in milliseconds. CRLF line ends are tolerated.
 *
 * Input is untrusted: every malformed line is an error naming its 1-based line number and
 * what was wrong with it ("line 7: expected '=' after label name 'code'"); nothing crashes
 * and nothing is silently skipped. A page is bounded by the caller (GG_BUF_METRICS_PAGE_MAX).
 */
#ifndef GG_PROBE_PROMTEXT_H
#define GG_PROBE_PROMTEXT_H

#include <stddef.h>

#include "base/error.h"
#include "expr/expr.h"

/* Most labels one sample may carry; more is an error (a runaway page, not a real metric). */
#define PROMTEXT_MAX_LABELS 64

/* Parse `len` bytes of `text` (need not be NUL-terminated) and append one sample per
 * sample line to `out`: the metric name is the label "__name__", the timestamp (if the
 * line has one) is in seconds, otherwise `default_ts`. Samples appended before an error
 * stay in `out` (the caller owns `out` either way and releases it with
 * expr_vector_release). On a malformed line returns GG_ERR_PARSE with err naming `what`
 * (e.g. the URL; may be NULL) and the line: "http://x/metrics: line 7: ...". */
gg_status probe_promtext_parse(const char *text, size_t len, const char *what, double default_ts,
                               expr_vector *out, gg_error *err) GG_WUR;

#endif
