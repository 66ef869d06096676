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
