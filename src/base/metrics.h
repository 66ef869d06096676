/*
 * metrics.h: a Prometheus metrics registry (counters, gauges, histograms with labels),
 * rendered in the text exposition format (version 0.0.4).
 *
 * A service registers its families once at start and asks for the series it will
 * update (one per combination of label values); updating a series is a short critical
 * section, so the hot path costs a lock and an addition. Series live as long as the
 * registry: a pointer returned by gg_metrics_series stays valid until gg_metrics_free.
 * Everything is thread-safe.
 *
 *   gg_metrics *m = gg_metrics_new();
 *   gg_metric *req = gg_metrics_counter(m, "ingest_requests_total", "HTTP requests", 2,
 *                                       (const char *[]){"route", "status"});
 *   gg_metrics_inc(gg_metrics_series(req, (const char *[]){"/v1/hrv", "202"}), 1);
 *   gg_buf page; gg_buf_init(&page, 0); gg_metrics_render(m, &page);
 */
#ifndef GG_METRICS_H
#define GG_METRICS_H

#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

#define GG_METRICS_MAX_LABELS 8
#define GG_METRICS_MAX_BUCKETS 32

typedef struct gg_metrics gg_metrics;             /* the registry */
typedef struct gg_metric gg_metric;               /* one family: name, help, type, label names */
typedef struct gg_metric_series gg_metric_series; /* one family member: its label values */

/* A new empty registry; NULL on ENOMEM. Free with gg_metrics_free. */
gg_metrics *gg_metrics_new(void);

/* Free the registry, its families and series. NULL-safe. */
void gg_metrics_free(gg_metrics *m);

/* Register a family. `name` must be a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), label
 * names valid label names (not starting with "__"; "le" is reserved for histograms), at most
 * GG_METRICS_MAX_LABELS of them; name, help and label names are copied. Registering a name
 * twice is a programmer error (assert). Returns the family, owned by the registry, or NULL
 * on ENOMEM (or, with asserts off, for an invalid name). */
gg_metric *gg_metrics_counter(gg_metrics *m, const char *name, const char *help, size_t nlabels,
                              const char *const *labels);
gg_metric *gg_metrics_gauge(gg_metrics *m, const char *name, const char *help, size_t nlabels,
                            const char *const *labels);

/* A histogram with the given upper bounds (strictly increasing, finite, at most
 * GG_METRICS_MAX_BUCKETS; the +Inf bucket is implicit). */
gg_metric *gg_metrics_histogram(gg_metrics *m, const char *name, const char *help, size_t nlabels,
                                const char *const *labels, size_t nbuckets, const double *bounds);

/* The series with these label values (as many as the family has label names; NULL for a
 * family without labels), created at zero on first use. Values are copied and may be any
 * UTF-8 text (escaped when rendered). Returns a pointer owned by the registry, valid until
 * gg_metrics_free; NULL only on ENOMEM (the update functions accept NULL and do nothing). */
gg_metric_series *gg_metrics_series(gg_metric *family, const char *const *values);

/* Counter: add v (>= 0). Gauge: add v (any sign). */
void gg_metrics_inc(gg_metric_series *s, double v);

/* Gauge: set to v. */
void gg_metrics_set(gg_metric_series *s, double v);

/* Histogram: record one observation. */
void gg_metrics_observe(gg_metric_series *s, double v);

/* The current value of a counter or gauge series (tests, /health). 0 for NULL. */
double gg_metrics_value(gg_metric_series *s);

/* Append the whole registry in the text exposition format to out: families in order of
 * registration, series in order of creation, `# HELP` and `# TYPE` lines, label values
 * escaped (\\, \", \n), histograms as cumulative _bucket{le=...}, _sum and _count.
 * GG_ERR_TOO_BIG / GG_ERR_NOMEM from the buffer. */
gg_status gg_metrics_render(gg_metrics *m, gg_buf *out) GG_WUR;

/* The content type of the rendered page. */
#define GG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
