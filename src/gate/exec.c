/*
 * exec.c: the items that act on the world — `run:` (a command, exit 0 within its timeout,
 * its output's tail kept as evidence) and `canary:` (send a synthetic request, then expect
 * its effect within a time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "gate/internal.h"

void gate_item_run(gate_job *job) {
  gate_item *it = job->item;
  if (job->run->opts->skip_run) {
    gate_item_set(it, GATE_ERROR, "not run", "skipped: run commands were excluded");
    return;
  }
  probe_run_result r = {0};
  gg_error e;
  gg_error_clear(&e);
  if (probe_run(job->crit->run, job->crit->timeout, job->run->p->workdir, &r, &e) != GG_OK) {
    gate_item_error(job, &e);
    return;
  }
  char *tail = gate_env_scrub(job->run->env, r.output);
  gate_item_set(it, r.ok ? GATE_PASS : GATE_FAIL, r.summary, r.ok ? "" : tail);
  json_decref(it->evidence);
  it->evidence = json_pack("{s:s, s:s, s:b, s:f}", "summary", r.summary, "output", tail ? tail : "",
                           "truncated", r.truncated, "elapsed", r.elapsed);
  free(tail);
  probe_run_result_release(&r);
}

void gate_item_canary(gate_job *job) {
  gate_item *it = job->item;
  const plan_criterion *c = job->crit;
  if (!job->run->probes) {
    gate_item_set(it, GATE_ERROR, "not sent",
                  "canaries need the live systems, which this evaluation does not use");
    return;
  }
  char id[64];
  snprintf(id, sizeof id, "%lld-%d-%lx", (long long)(gg_clock_now() * 1000), (int)getpid(),
           (unsigned long)(size_t)it & 0xffffUL);
  /* Expand {{id}} and {{now}} in the body. */
  char now_text[40];
  gg_time_format(gg_clock_now(), now_text, sizeof now_text);
  gg_buf body;
  gg_buf_init(&body, GG_BUF_HTTP_BODY_MAX);
  const char *b = c->canary_body ? c->canary_body : "";
  gg_status bs = GG_OK;
  while (*b && bs == GG_OK) {
    if (strncmp(b, "{{id}}", 6) == 0) {
      bs = gg_buf_puts(&body, id);
      b += 6;
    } else if (strncmp(b, "{{now}}", 7) == 0) {
      bs = gg_buf_puts(&body, now_text);
      b += 7;
    } else {
      bs = gg_buf_append(&body, b++, 1);
    }
  }
  gg_error e;
  gg_error_clear(&e);
  gg_status st = bs;
  if (st != GG_OK) {
    gg_error_set(&e, st, "canary body too large");
  } else if (c->canary_url) {
    long status = 0;
    st = probe_canary_post(job->run->probes, c->canary_url, c->canary_content_type, gg_buf_str(&body),
                           body.len, id, &status, &e);
  } else {
    char *stream = NULL;
    unsigned long long seq = 0;
    st = probe_canary_publish(job->run->probes, c->canary_subject, gg_buf_str(&body), body.len, id, &stream,
                              &seq, &e);
    free(stream);
  }
  gg_buf_release(&body);
  if (st != GG_OK) {
    gate_item_error(job, &e);
    return;
  }
  /* Expect the effect within its time, re-reading fresh values each try. */
  double deadline = gg_clock_mono() + (c->within > 0 ? c->within : 30);
  for (;;) {
    probe_ctx *fresh = probe_ctx_new(&job->run->env->cfg);
    expr_ctx ctx;
    expr_series_source srcs[GATE_MAX_SOURCES];
    gate_job_ctx(job, gg_clock_now(), fresh, &ctx, srcs);
    expr_value v;
    expr_value_init(&v);
    gg_error_clear(&e);
    st = fresh ? expr_eval(c->expect.ast, &ctx, &v, &e) : GG_ERR_NOMEM;
    probe_ctx_free(fresh);
    bool done = st == GG_OK && v.kind == EXPR_VAL_BOOL && v.truth;
    if (done || gg_clock_mono() > deadline) {
      char msg[256];
      snprintf(msg, sizeof msg, "canary %s %s", id, done ? "arrived" : "did not arrive in time");
      if (st == GG_OK) {
        gate_item_describe(it, &v, false);
        gate_item_set(it, done ? GATE_PASS : GATE_FAIL, NULL, msg);
      } else {
        gate_item_error(job, &e);
      }
      expr_value_release(&v);
      return;
    }
    expr_value_release(&v);
    usleep(250000);
  }
}
