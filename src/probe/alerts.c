/*
 * alerts.c: alerts.firing{alertname, severity} from Alertmanager's API v2: the number of
 * active (not silenced, not inhibited) alerts with those labels.
 */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "probe/internal.h"

void probe_alerts_run(probe_ctx *ctx, probe_job *job) {
  const char *base = ctx->cfg->alertmanager_url;
  if (!base || !*base) {
    job->status =
        gg_error_set(&job->err, GG_ERR_INVALID, "alerts.firing: no Alertmanager URL (connect.alertmanager)");
    return;
  }
  char url[1024];
  size_t blen = strlen(base);
  while (blen > 0 && base[blen - 1] == '/') blen--;
  snprintf(url, sizeof url, "%.*s/api/v2/alerts?active=true&silenced=false&inhibited=false", (int)blen, base);
  gg_http_response resp;
  if (probe_http_get(job, url, 0, &resp) != GG_OK) {
    gg_error_prefix(&job->err, "alerts.firing: ");
    return;
  }
  json_t *doc = NULL;
  char red[1024], what[1100];
  gg_http_redact_url(url, red, sizeof red);
  snprintf(what, sizeof what, "response from %s", red);
  gg_status st = gg_json_parse(resp.body, resp.body_len, what, &doc, &job->err);
  gg_http_response_release(&resp);
  if (st != GG_OK) {
    job->status = st;
    return;
  }
  if (!json_is_array(doc)) {
    job->status = gg_error_set(&job->err, GG_ERR_PROTOCOL, "%s: want a JSON array of alerts", what);
    json_decref(doc);
    return;
  }
  double now = gg_clock_now();
  size_t i;
  json_t *a;
  json_array_foreach(doc, i, a) {
    const char *state = json_string_value(gg_json_path(a, "status.state"));
    if (state && strcmp(state, "active") != 0) continue;
    const char *name = json_string_value(gg_json_path(a, "labels.alertname"));
    const char *sev = json_string_value(gg_json_path(a, "labels.severity"));
    if (!name) continue;
    if (!sev) sev = "";
    /* Count alerts per (alertname, severity). */
    bool found = false;
    for (size_t k = 0; k < job->vec.n && !found; k++) {
      expr_sample *s = &job->vec.v[k];
      if (strcmp(expr_labels_get(&s->labels, "alertname"), name) == 0 &&
          strcmp(expr_labels_get(&s->labels, "severity"), sev) == 0) {
        s->value += 1;
        found = true;
      }
    }
    if (!found &&
        probe_job_add(job, "alerts.firing", 1, now, "alertname", name, "severity", sev, NULL) != GG_OK)
      break;
  }
  json_decref(doc);
}
