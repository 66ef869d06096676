#include "base/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Metric kinds: X(constant suffix, the word on the page's # TYPE line). */
#define METRIC_KIND_MAP(X) X(COUNTER, "counter") X(GAUGE, "gauge") X(HISTOGRAM, "histogram")

typedef enum {
#define METRIC_KIND_ENUM(name, text) KIND_##name,
  METRIC_KIND_MAP(METRIC_KIND_ENUM)
#undef METRIC_KIND_ENUM
} metric_kind;

struct gg_metric_series {
  gg_metric *family;
  char *values[GG_METRICS_MAX_LABELS];
  double value; /* counter/gauge; histogram: sum */
  unsigned long long count;
  unsigned long long *buckets; /* histogram: per-bucket (non-cumulative) counts, nbuckets + 1 */
  gg_metric_series *next;
};

struct gg_metric {
  gg_metrics *registry;
  metric_kind kind;
  char *name;
  char *help;
  size_t nlabels;
  char *labels[GG_METRICS_MAX_LABELS];
  size_t nbuckets;
  double bounds[GG_METRICS_MAX_BUCKETS];
  gg_metric_series *first, *last;
  gg_metric *next;
};

struct gg_metrics {
  pthread_mutex_t lock;
  gg_metric *first, *last;
};

gg_metrics *gg_metrics_new(void) {
  gg_metrics *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

static void series_free(gg_metric_series *s) {
  for (size_t i = 0; i < GG_METRICS_MAX_LABELS; i++) free(s->values[i]);
  free(s->buckets);
  free(s);
}

static void family_free(gg_metric *f) {
  for (gg_metric_series *s = f->first, *n; s; s = n) {
    n = s->next;
    series_free(s);
  }
  free(f->name);
  free(f->help);
  for (size_t i = 0; i < f->nlabels; i++) free(f->labels[i]);
  free(f);
}

void gg_metrics_free(gg_metrics *m) {
  if (!m) return;
  for (gg_metric *f = m->first, *n; f; f = n) {
    n = f->next;
    family_free(f);
  }
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static bool valid_name(const char *s, bool colon) {
  if (!s || !*s) return false;
  for (size_t i = 0; s[i]; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

static gg_metric *family_new(gg_metrics *m, metric_kind kind, const char *name, const char *help,
                             size_t nlabels, const char *const *labels) {
  bool names_ok = valid_name(name, true) && nlabels <= GG_METRICS_MAX_LABELS;
  for (size_t i = 0; names_ok && i < nlabels; i++)
    names_ok = valid_name(labels[i], false) && strncmp(labels[i], "__", 2) != 0 &&
               (kind != KIND_HISTOGRAM || strcmp(labels[i], "le") != 0);
  assert(names_ok);
  if (!names_ok) return NULL; /* a programmer error; without asserts, no family */
  gg_metric *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->registry = m;
  f->kind = kind;
  f->name = strdup(name);
  f->help = strdup(help ? help : "");
  f->nlabels = nlabels;
  bool ok = f->name && f->help;
  for (size_t i = 0; i < nlabels; i++) {
    f->labels[i] = strdup(labels[i]);
    if (!f->labels[i]) ok = false;
  }
  if (!ok) {
    family_free(f);
    return NULL;
  }
  return f;
}

static gg_metric *family_add(gg_metrics *m, gg_metric *f) {
  if (!f) return NULL;
  pthread_mutex_lock(&m->lock);
  for (gg_metric *g = m->first; g; g = g->next) assert(strcmp(g->name, f->name) != 0);
  if (m->last)
    m->last->next = f;
  else
    m->first = f;
  m->last = f;
  pthread_mutex_unlock(&m->lock);
  return f;
}

gg_metric *gg_metrics_counter(gg_metrics *m, const char *name, const char *help, size_t nlabels,
                              const char *const *labels) {
  return family_add(m, family_new(m, KIND_COUNTER, name, help, nlabels, labels));
}

gg_metric *gg_metrics_gauge(gg_metrics *m, const char *name, const char *help, size_t nlabels,
                            const char *const *labels) {
  return family_add(m, family_new(m, KIND_GAUGE, name, help, nlabels, labels));
}

gg_metric *gg_metrics_histogram(gg_metrics *m, const char *name, const char *help, size_t nlabels,
                                const char *const *labels, size_t nbuckets, const double *bounds) {
  assert(nbuckets <= GG_METRICS_MAX_BUCKETS);
  for (size_t i = 0; i < nbuckets; i++) assert(isfinite(bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1]));
  gg_metric *f = family_new(m, KIND_HISTOGRAM, name, help, nlabels, labels);
  if (!f) return NULL;
  f->nbuckets = nbuckets;
  if (nbuckets) memcpy(f->bounds, bounds, nbuckets * sizeof *bounds);
  return family_add(m, f);
}

gg_metric_series *gg_metrics_series(gg_metric *f, const char *const *values) {
  if (!f) return NULL;
  gg_metrics *m = f->registry;
  pthread_mutex_lock(&m->lock);
  gg_metric_series *s;
  for (s = f->first; s; s = s->next) {
    size_t i = 0;
    while (i < f->nlabels && strcmp(s->values[i], values[i]) == 0) i++;
    if (i == f->nlabels) goto out;
  }
  s = calloc(1, sizeof *s);
  if (!s) goto out;
  s->family = f;
  for (size_t i = 0; i < f->nlabels; i++) {
    s->values[i] = strdup(values[i]);
    if (!s->values[i]) goto fail;
  }
  if (f->kind == KIND_HISTOGRAM) {
    s->buckets = calloc(f->nbuckets + 1, sizeof *s->buckets);
    if (!s->buckets) goto fail;
  }
  if (f->last)
    f->last->next = s;
  else
    f->first = s;
  f->last = s;
  goto out;
fail:
  series_free(s);
  s = NULL;
out:
  pthread_mutex_unlock(&m->lock);
  return s;
}

void gg_metrics_inc(gg_metric_series *s, double v) {
  if (!s) return;
  assert(s->family->kind != KIND_HISTOGRAM);
  assert(s->family->kind == KIND_GAUGE || v >= 0);
  pthread_mutex_lock(&s->family->registry->lock);
  s->value += v;
  pthread_mutex_unlock(&s->family->registry->lock);
}

void gg_metrics_set(gg_metric_series *s, double v) {
  if (!s) return;
  assert(s->family->kind == KIND_GAUGE);
  pthread_mutex_lock(&s->family->registry->lock);
  s->value = v;
  pthread_mutex_unlock(&s->family->registry->lock);
}

void gg_metrics_observe(gg_metric_series *s, double v) {
  if (!s) return;
  gg_metric *f = s->family;
  assert(f->kind == KIND_HISTOGRAM);
  size_t b = 0;
  while (b < f->nbuckets && v > f->bounds[b]) b++;
  pthread_mutex_lock(&f->registry->lock);
  s->buckets[b]++;
  s->count++;
  s->value += v;
  pthread_mutex_unlock(&f->registry->lock);
}

double gg_metrics_value(gg_metric_series *s) {
  if (!s) return 0;
  pthread_mutex_lock(&s->family->registry->lock);
  double v = s->value;
  pthread_mutex_unlock(&s->family->registry->lock);
  return v;
}

static gg_status put_escaped(gg_buf *out, const char *s, bool quote) {
  gg_status st = GG_OK;
  for (const char *p = s; *p && st == GG_OK; p++) {
    if (*p == '\\')
      st = gg_buf_puts(out, "\\\\");
    else if (*p == '\n')
      st = gg_buf_puts(out, "\\n");
    else if (quote && *p == '"')
      st = gg_buf_puts(out, "\\\"");
    else
      st = gg_buf_append(out, p, 1);
  }
  return st;
}

static gg_status put_number(gg_buf *out, double v) {
  if (isnan(v)) return gg_buf_puts(out, "NaN");
  if (isinf(v)) return gg_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
  if (v == floor(v) && fabs(v) < 1e15) return gg_buf_printf(out, "%.0f", v);
  /* The shortest form that reads back as the same double: 0.005, not 0.0050000000000000001. */
  char tmp[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v) break;
  }
  return gg_buf_puts(out, tmp);
}

/* `{a="x",b="y"` plus an optional extra label, then `}`; nothing when there are no labels. */
static gg_status put_labels(gg_buf *out, const gg_metric_series *s, const char *extra_name,
                            const char *extra_value) {
  const gg_metric *f = s->family;
  if (f->nlabels == 0 && !extra_name) return GG_OK;
  gg_status st = gg_buf_puts(out, "{");
  for (size_t i = 0; i < f->nlabels && st == GG_OK; i++) {
    if (i) st = gg_buf_puts(out, ",");
    if (st == GG_OK) st = gg_buf_printf(out, "%s=\"", f->labels[i]);
    if (st == GG_OK) st = put_escaped(out, s->values[i], true);
    if (st == GG_OK) st = gg_buf_puts(out, "\"");
  }
  if (extra_name && st == GG_OK)
    st = gg_buf_printf(out, "%s%s=\"%s\"", f->nlabels ? "," : "", extra_name, extra_value);
  if (st == GG_OK) st = gg_buf_puts(out, "}");
  return st;
}

static gg_status render_series(gg_buf *out, const gg_metric_series *s) {
  const gg_metric *f = s->family;
  gg_status st = GG_OK;
  if (f->kind != KIND_HISTOGRAM) {
    st = gg_buf_puts(out, f->name);
    if (st == GG_OK) st = put_labels(out, s, NULL, NULL);
    if (st == GG_OK) st = gg_buf_puts(out, " ");
    if (st == GG_OK) st = put_number(out, s->value);
    if (st == GG_OK) st = gg_buf_puts(out, "\n");
    return st;
  }
  unsigned long long cum = 0;
  for (size_t b = 0; b <= f->nbuckets && st == GG_OK; b++) {
    char le[64];
    if (b == f->nbuckets) {
      snprintf(le, sizeof le, "+Inf");
    } else {
      gg_buf tmp;
      gg_buf_init(&tmp, sizeof le - 1);
      if (put_number(&tmp, f->bounds[b]) != GG_OK) {
        gg_buf_release(&tmp);
        return GG_ERR_NOMEM;
      }
      snprintf(le, sizeof le, "%s", gg_buf_str(&tmp));
      gg_buf_release(&tmp);
    }
    cum += s->buckets[b];
    st = gg_buf_printf(out, "%s_bucket", f->name);
    if (st == GG_OK) st = put_labels(out, s, "le", le);
    if (st == GG_OK) st = gg_buf_printf(out, " %llu\n", cum);
  }
  if (st == GG_OK) st = gg_buf_printf(out, "%s_sum", f->name);
  if (st == GG_OK) st = put_labels(out, s, NULL, NULL);
  if (st == GG_OK) st = gg_buf_puts(out, " ");
  if (st == GG_OK) st = put_number(out, s->value);
  if (st == GG_OK) st = gg_buf_printf(out, "\n%s_count", f->name);
  if (st == GG_OK) st = put_labels(out, s, NULL, NULL);
  if (st == GG_OK) st = gg_buf_printf(out, " %llu\n", s->count);
  return st;
}

gg_status gg_metrics_render(gg_metrics *m, gg_buf *out) {
  static const char *const kinds[] = {
#define METRIC_KIND_NAME(name, text) text,
      METRIC_KIND_MAP(METRIC_KIND_NAME)
#undef METRIC_KIND_NAME
  };
  gg_status st = GG_OK;
  pthread_mutex_lock(&m->lock);
  for (const gg_metric *f = m->first; f && st == GG_OK; f = f->next) {
    st = gg_buf_printf(out, "# HELP %s ", f->name);
    if (st == GG_OK) st = put_escaped(out, f->help, false);
    if (st == GG_OK) st = gg_buf_printf(out, "\n# TYPE %s %s\n", f->name, kinds[f->kind]);
    for (const gg_metric_series *s = f->first; s && st == GG_OK; s = s->next) st = render_series(out, s);
  }
  pthread_mutex_unlock(&m->lock);
  return st;
}
