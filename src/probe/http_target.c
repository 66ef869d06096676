/*
 * http_target.c: the plan's HTTP targets: GET of the health URL (http.up, http.status,
 * http.latency) and the metrics page parsed from the Prometheus text format.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "probe/internal.h"
#include "probe/promtext.h"

void probe_http_run_health(probe_ctx *ctx, probe_job *job) {
  const probe_target *t = probe_find_target(ctx, job->a);
  if (!t || !t->health) {
    job->status = gg_error_set(&job->err, GG_ERR_NO_DATA, "target '%s' has no health URL", job->a);
    return;
  }
  gg_http_opts opts = {.timeout = job->timeout, .max_body = 1u << 20};
  gg_http_response resp;
  memset(&resp, 0, sizeof resp);
  gg_error e;
  gg_error_clear(&e);
  double now = gg_clock_now();
  gg_status st = gg_http_get(t->health, &opts, &resp, &e);
  if (st != GG_OK) {
    /* Unreachable is a value (http.up 0); status and latency have none. */
    probe_note(ctx, "http.up{target=\"%s\"} = 0: %s", job->a, gg_error_message(&e));
    probe_job_add(job, "http.up", 0, now, "target", job->a, NULL);
    job->status = st;
    job->err = e;
    return;
  }
  bool ok = resp.status >= 200 && resp.status <= 299;
  if (!ok) {
    char red[512];
    gg_http_redact_url(t->health, red, sizeof red);
    int blen = (int)(resp.body_len > 160 ? 160 : resp.body_len);
    for (int i = 0; i < blen; i++)
      if (resp.body[i] == '\n' || resp.body[i] == '\r') resp.body[i] = ' ';
    probe_note(ctx, "http.up{target=\"%s\"} = 0: GET %s: HTTP %ld%s%.*s", job->a, red, resp.status,
               blen ? ": " : "", blen, resp.body);
  }
  probe_job_add(job, "http.up", ok ? 1 : 0, now, "target", job->a, NULL);
  probe_job_add(job, "http.status", (double)resp.status, now, "target", job->a, NULL);
  probe_job_add(job, "http.latency", resp.elapsed, now, "target", job->a, NULL);
  gg_http_response_release(&resp);
}

void probe_http_run_scrape(probe_ctx *ctx, probe_job *job) {
  const probe_target *t = probe_find_target(ctx, job->a);
  if (!t || !t->metrics) {
    job->status = gg_error_set(&job->err, GG_ERR_NO_DATA, "target '%s' has no metrics URL", job->a);
    return;
  }
  gg_http_response resp;
  if (probe_http_get(job, t->metrics, GG_BUF_METRICS_PAGE_MAX, &resp) != GG_OK) {
    gg_error_prefix(&job->err, "metrics of target '%s': ", job->a);
    return;
  }
  char red[512];
  gg_http_redact_url(t->metrics, red, sizeof red);
  expr_vector page = {0};
  double now = gg_clock_now();
  gg_status st = probe_promtext_parse(resp.body, resp.body_len, red, now, &page, &job->err);
  gg_http_response_release(&resp);
  if (st != GG_OK) {
    job->status = st;
    gg_error_prefix(&job->err, "metrics of target '%s': ", job->a);
    expr_vector_release(&page);
    return;
  }
  /* Every scraped series carries the target's name; a page's own `target` label yields. */
  for (size_t i = 0; i < page.n; i++) {
    if (expr_labels_set(&page.v[i].labels, "target", job->a) != GG_OK) {
      job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
      break;
    }
  }
  job->vec = page;
}
