/*
 * promql.c: instant queries against the Prometheus HTTP API (GET /api/v1/query).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "probe/internal.h"

static gg_status url_escape(gg_buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char c = (char)*p;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~';
    gg_status st = plain ? gg_buf_append(b, &c, 1) : gg_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    if (st != GG_OK) return st;
  }
  return GG_OK;
}

static bool parse_sample_value(json_t *pair, double *ts, double *v) {
  if (!json_is_array(pair) || json_array_size(pair) != 2) return false;
  json_t *t = json_array_get(pair, 0), *s = json_array_get(pair, 1);
  if (!json_is_number(t) || !json_is_string(s)) return false;
  *ts = json_number_value(t);
  const char *text = json_string_value(s);
  char *endp = NULL;
  *v = strtod(text, &endp);
  return endp != text && *endp == '\0';
}

void probe_promql_run(probe_ctx *ctx, probe_job *job) {
  const char *base = ctx->cfg->prometheus_url;
  if (!base || !*base) {
    job->status = gg_error_set(&job->err, GG_ERR_INVALID,
                               "promql(\"%s\"): no Prometheus URL (connect.prometheus)", job->a);
    return;
  }
  gg_buf url;
  gg_buf_init(&url, 64u << 10);
  size_t blen = strlen(base);
  while (blen > 0 && base[blen - 1] == '/') blen--;
  json_t *doc = NULL;
  gg_http_response resp;
  memset(&resp, 0, sizeof resp);
  char red[1024];
  gg_http_redact_url(base, red, sizeof red);
  if (gg_buf_printf(&url, "%.*s/api/v1/query?query=", (int)blen, base) != GG_OK ||
      url_escape(&url, job->a) != GG_OK) {
    job->status = gg_error_set(&job->err, GG_ERR_TOO_BIG, "promql(\"%s\"): query too long", job->a);
    goto out;
  }
  gg_http_opts opts = {.timeout = job->timeout};
  if ((job->status = gg_http_get(gg_buf_str(&url), &opts, &resp, &job->err)) != GG_OK) {
    gg_error_prefix(&job->err, "promql(\"%s\"): ", job->a);
    goto out;
  }
  gg_error perr;
  if (gg_json_parse(resp.body, resp.body_len, "prometheus response", &doc, &perr) != GG_OK) {
    job->status =
        gg_error_set(&job->err, resp.status >= 400 ? GG_ERR_HTTP : GG_ERR_PROTOCOL,
                     "promql(\"%s\") at %s: HTTP %ld, %s", job->a, red, resp.status, gg_error_message(&perr));
    goto out;
  }
  const char *status = json_string_value(json_object_get(doc, "status"));
  if (!status || strcmp(status, "success") != 0) {
    const char *etype = json_string_value(json_object_get(doc, "errorType"));
    const char *emsg = json_string_value(json_object_get(doc, "error"));
    job->status = gg_error_set(&job->err, GG_ERR_EXPR, "promql(\"%s\") at %s: %s: %s", job->a, red,
                               etype ? etype : "error", emsg ? emsg : "no error message");
    goto out;
  }
  const char *rtype = json_string_value(gg_json_path(doc, "data.resultType"));
  json_t *result = gg_json_path(doc, "data.result");
  double ts, v;
  if (rtype && strcmp(rtype, "scalar") == 0) {
    if (!parse_sample_value(result, &ts, &v)) goto bad;
    probe_job_add(job, "promql", v, ts, NULL);
  } else if (rtype && strcmp(rtype, "vector") == 0 && json_is_array(result)) {
    size_t i;
    json_t *s;
    json_array_foreach(result, i, s) {
      if (!parse_sample_value(json_object_get(s, "value"), &ts, &v)) goto bad;
      expr_labels l = {0};
      gg_status st = expr_labels_set(&l, "__name__", "promql");
      const char *k;
      json_t *lv;
      json_t *metric = json_object_get(s, "metric");
      json_object_foreach(metric, k, lv) {
        if (st == GG_OK && json_is_string(lv) && strcmp(k, "__name__") != 0)
          st = expr_labels_set(&l, k, json_string_value(lv));
      }
      if (st == GG_OK) st = expr_vector_add_labels(&job->vec, v, ts, &l);
      expr_labels_release(&l);
      if (st != GG_OK) {
        job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
        goto out;
      }
    }
  } else {
    job->status =
        gg_error_set(&job->err, GG_ERR_EXPR,
                     "promql(\"%s\") at %s: result type '%s' is not supported (want an instant vector or "
                     "scalar)",
                     job->a, red, rtype ? rtype : "?");
  }
  goto out;
bad:
  job->status = gg_error_set(&job->err, GG_ERR_PROTOCOL,
                             "promql(\"%s\") at %s: malformed sample in the response", job->a, red);
out:
  json_decref(doc);
  gg_http_response_release(&resp);
  gg_buf_release(&url);
}

/* ---- history of scraped target metrics (probe_prom_history) ---- */

/* The host:port Prometheus's default `instance` label gives a target scraped at url:
 * "127.0.0.1:8082" for http://127.0.0.1:8082/metrics, the scheme's port when none is given. */
static bool url_instance(const char *url, char *out, size_t n) {
  const char *p = strstr(url, "://");
  if (!p) return false;
  bool https = (size_t)(p - url) == 5 && strncmp(url, "https", 5) == 0;
  p += 3;
  size_t len = strcspn(p, "/?#");
  const char *at = memchr(p, '@', len);
  if (at) {
    len -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  if (len == 0) return false;
  /* A port follows the last ':' after any IPv6 bracket. */
  const char *close = memchr(p, ']', len);
  const char *from = close ? close : p;
  bool has_port = memchr(from, ':', len - (size_t)(from - p)) != NULL;
  int w = has_port ? snprintf(out, n, "%.*s", (int)len, p)
                   : snprintf(out, n, "%.*s:%s", (int)len, p, https ? "443" : "80");
  return w > 0 && (size_t)w < n;
}

/* A PromQL string literal: backslash and double quote escaped. */
static gg_status promql_string(gg_buf *b, const char *s) {
  gg_status st = gg_buf_puts(b, "\"");
  for (; st == GG_OK && *s; s++) {
    if (*s == '\\' || *s == '"') st = gg_buf_puts(b, "\\");
    if (st == GG_OK) st = gg_buf_append(b, s, 1);
  }
  return st == GG_OK ? gg_buf_puts(b, "\"") : st;
}

/* `name{matchers but target, instance="host:port"}[Wms]`. */
static gg_status range_query(gg_buf *q, const expr_selector *sel, const char *instance, double window) {
  static const char *const ops[] = {"=", "!=", "=~", "!~"};
  gg_status st = gg_buf_printf(q, "%s{", sel->name);
  for (size_t i = 0; st == GG_OK && i < sel->n_matchers; i++) {
    const expr_matcher *m = &sel->matchers[i];
    if (strcmp(m->label, "target") == 0) continue;
    st = gg_buf_printf(q, "%s%s", m->label, ops[m->op]);
    if (st == GG_OK) st = promql_string(q, m->value);
    if (st == GG_OK) st = gg_buf_puts(q, ", ");
  }
  if (st == GG_OK) st = gg_buf_puts(q, "instance=");
  if (st == GG_OK) st = promql_string(q, instance);
  if (st == GG_OK) st = gg_buf_printf(q, "}[%.0fms]", window * 1000.0);
  return st;
}

/* One target's series from a range-vector query's answer, labelled as the probes label a
 * scraped metric: target plus the metric's own labels (Prometheus's job and instance
 * dropped). */
static gg_status add_matrix(json_t *result, const char *target, expr_matrix *out, gg_error *err) {
  size_t i;
  json_t *s;
  json_array_foreach(result, i, s) {
    json_t *values = json_object_get(s, "values");
    if (!json_is_array(values))
      return gg_error_set(err, GG_ERR_PROTOCOL, "prometheus: a series without values");
    size_t np = json_array_size(values);
    expr_point *pts = np ? calloc(np, sizeof *pts) : NULL;
    if (np && !pts) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    size_t k;
    json_t *pair;
    bool ok = true;
    json_array_foreach(values, k, pair) {
      if (!parse_sample_value(pair, &pts[k].t, &pts[k].v)) ok = false;
    }
    expr_labels l = {0};
    gg_status st = ok ? expr_labels_set(&l, "target", target) : GG_ERR_PROTOCOL;
    const char *name;
    json_t *lv;
    json_object_foreach(json_object_get(s, "metric"), name, lv) {
      if (st != GG_OK || !json_is_string(lv)) continue;
      if (strcmp(name, "__name__") == 0 || strcmp(name, "job") == 0 || strcmp(name, "instance") == 0 ||
          strcmp(name, "target") == 0)
        continue;
      st = expr_labels_set(&l, name, json_string_value(lv));
    }
    if (st == GG_OK) st = expr_matrix_add(out, &l, pts, np);
    expr_labels_release(&l);
    free(pts);
    if (st == GG_ERR_PROTOCOL) return gg_error_set(err, st, "prometheus: a malformed sample");
    if (st != GG_OK) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  return GG_OK;
}

static gg_status query_target(const probe_config *cfg, const expr_selector *sel, const probe_target *t,
                              double window, double now, double timeout, expr_matrix *out, gg_error *err) {
  char instance[256], red[1024];
  if (!url_instance(t->metrics, instance, sizeof instance))
    return gg_error_set(err, GG_ERR_INVALID, "target '%s': cannot tell host and port of its metrics URL",
                        t->name);
  const char *base = cfg->prometheus_url;
  size_t blen = strlen(base);
  while (blen > 0 && base[blen - 1] == '/') blen--;
  gg_http_redact_url(base, red, sizeof red);
  gg_buf q, url;
  gg_buf_init(&q, 16u << 10);
  gg_buf_init(&url, 64u << 10);
  json_t *doc = NULL;
  gg_http_response resp;
  memset(&resp, 0, sizeof resp);
  gg_status st = range_query(&q, sel, instance, window);
  if (st == GG_OK) st = gg_buf_printf(&url, "%.*s/api/v1/query?query=", (int)blen, base);
  if (st == GG_OK) st = url_escape(&url, gg_buf_str(&q));
  if (st == GG_OK) st = gg_buf_printf(&url, "&time=%.3f", now);
  if (st != GG_OK) {
    st = gg_error_set(err, GG_ERR_TOO_BIG, "prometheus history of '%s': query too long", sel->name);
    goto out;
  }
  gg_http_opts opts = {.timeout = timeout};
  if ((st = gg_http_get(gg_buf_str(&url), &opts, &resp, err)) != GG_OK) {
    gg_error_prefix(err, "prometheus history of '%s': ", sel->name);
    goto out;
  }
  gg_error perr;
  gg_error_clear(&perr);
  if (resp.status != 200 ||
      gg_json_parse(resp.body, resp.body_len, "prometheus response", &doc, &perr) != GG_OK) {
    st = gg_error_set(err, GG_ERR_HTTP, "prometheus history of '%s' at %s: HTTP %ld", sel->name, red,
                      resp.status);
    goto out;
  }
  const char *status = json_string_value(json_object_get(doc, "status"));
  const char *rtype = json_string_value(gg_json_path(doc, "data.resultType"));
  json_t *result = gg_json_path(doc, "data.result");
  if (!status || strcmp(status, "success") != 0 || !rtype || strcmp(rtype, "matrix") != 0 ||
      !json_is_array(result)) {
    const char *emsg = json_string_value(json_object_get(doc, "error"));
    st = gg_error_set(err, GG_ERR_PROTOCOL, "prometheus history of '%s' at %s: %s", sel->name, red,
                      emsg ? emsg : "not a range vector");
    goto out;
  }
  st = add_matrix(result, t->name, out, err);
out:
  json_decref(doc);
  gg_http_response_release(&resp);
  gg_buf_release(&url);
  gg_buf_release(&q);
  return st;
}

gg_status probe_prom_history(const probe_config *cfg, const expr_selector *sel, double window, double now,
                             double timeout, expr_matrix *out, gg_error *err) {
  if (!cfg->prometheus_url || !*cfg->prometheus_url || probe_is_builtin(sel->name)) return GG_ERR_NOT_FOUND;
  /* The targets the selector's target matchers accept, those with a metrics URL. */
  size_t nt = 0;
  expr_matcher tm[8];
  for (size_t i = 0; i < sel->n_matchers && nt < 8; i++)
    if (strcmp(sel->matchers[i].label, "target") == 0) tm[nt++] = sel->matchers[i];
  expr_selector tsel = {.name = sel->name, .matchers = tm, .n_matchers = nt};
  size_t asked = 0;
  gg_status st = GG_OK;
  for (size_t i = 0; i < cfg->n_targets && st == GG_OK; i++) {
    const probe_target *t = &cfg->targets[i];
    if (!t->metrics || !*t->metrics) continue;
    expr_vector one = {0};
    if ((st = expr_vector_add(&one, 0, 0, "target", t->name, NULL)) != GG_OK) {
      st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
      break;
    }
    st = expr_vector_filter(&one, &tsel, err);
    bool wanted = st == GG_OK && one.n == 1;
    expr_vector_release(&one);
    if (!wanted) continue;
    asked++;
    st = query_target(cfg, sel, t, window, now, timeout, out, err);
  }
  if (st == GG_OK && asked == 0) return GG_ERR_NOT_FOUND;
  return st;
}
