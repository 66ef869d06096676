/* normalize-service: from a message to hrv_data rows (no I/O, unit-tested). */
#include <stdio.h>
#include <string.h>

#include "normalize/normalize.h"

const char normalize_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS hrv_data ("
    " msg_id text PRIMARY KEY,"
    " athlete_id text NOT NULL,"
    " measured_at timestamptz NOT NULL,"
    " rmssd_ms double precision NOT NULL CHECK (rmssd_ms > 0),"
    " source text NOT NULL,"
    " stream text NOT NULL,"
    " stream_seq bigint NOT NULL,"
    " received_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX IF NOT EXISTS hrv_data_athlete_measured ON hrv_data (athlete_id, measured_at);";

static gg_status bad_subject(gg_payload_problem *prob, const char *subject) {
  snprintf(prob->error, sizeof prob->error, "invalid subject");
  snprintf(prob->field, sizeof prob->field, "subject");
  snprintf(prob->problem, sizeof prob->problem,
           "'%.100s' is neither core.hrv.<athlete> nor vendor.oura.<type>", subject);
  return GG_ERR_INVALID;
}

gg_status normalize_message(const char *subject, const char *data, size_t len, json_t **root,
                            normalize_kind *kind, gg_hrv_row *rows, size_t max, size_t *nrows,
                            gg_payload_problem *prob) {
  *root = NULL;
  *nrows = 0;
  if (strncmp(subject, "core.hrv.", 9) == 0 && gg_payload_token_ok(subject + 9, GG_PAYLOAD_ATHLETE_ID_MAX)) {
    gg_hrv_reading r;
    gg_status st = gg_payload_parse_hrv(data, len, root, &r, prob);
    if (st != GG_OK) return st;
    if (strcmp(r.athlete_id, subject + 9) != 0) {
      json_decref(*root);
      *root = NULL;
      snprintf(prob->error, sizeof prob->error, "invalid field");
      snprintf(prob->field, sizeof prob->field, "athlete_id");
      snprintf(prob->problem, sizeof prob->problem, "does not match the subject's athlete");
      return GG_ERR_INVALID;
    }
    *kind = NORMALIZE_HRV;
    if (max >= 1) {
      snprintf(rows[0].msg_id, sizeof rows[0].msg_id, "%s", r.event_id);
      rows[0].athlete_id = r.athlete_id;
      rows[0].source = r.source;
      rows[0].measured_at = r.measured_at;
      rows[0].rmssd_ms = r.rmssd_ms;
      *nrows = 1;
    }
    return GG_OK;
  }
  if (strncmp(subject, "vendor.oura.", 12) == 0 &&
      gg_payload_token_ok(subject + 12, GG_PAYLOAD_EVENT_TYPE_MAX)) {
    gg_oura_doc d;
    gg_status st = gg_payload_parse_oura(data, len, root, &d, prob);
    if (st != GG_OK) return st;
    *kind = NORMALIZE_OURA;
    size_t n = gg_oura_expand(&d, rows, max);
    *nrows = n < max ? n : max;
    return GG_OK;
  }
  return bad_subject(prob, subject);
}

gg_status normalize_pg_array_quote(gg_buf *b, const char *s) {
  gg_status st = gg_buf_puts(b, "\"");
  for (const char *p = s; *p && st == GG_OK; p++) {
    if (*p == '"' || *p == '\\') st = gg_buf_puts(b, "\\");
    if (st == GG_OK) st = gg_buf_append(b, p, 1);
  }
  if (st == GG_OK) st = gg_buf_puts(b, "\"");
  return st;
}
