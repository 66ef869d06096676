#include "svc/payload.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

static gg_status problem(gg_payload_problem *prob, const char *error, const char *field, const char *fmt, ...)
    GG_PRINTF(4, 5);

static gg_status problem(gg_payload_problem *prob, const char *error, const char *field, const char *fmt,
                         ...) {
  if (prob) {
    snprintf(prob->error, sizeof prob->error, "%s", error);
    snprintf(prob->field, sizeof prob->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prob->problem, sizeof prob->problem, fmt, ap);
    va_end(ap);
  }
  return GG_ERR_INVALID;
}

static bool charset_ok(const char *s, size_t max, const char *extra) {
  size_t n = strlen(s);
  if (n == 0 || n > max) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
      continue;
    if (c && strchr(extra, c)) continue;
    return false;
  }
  return true;
}

bool gg_payload_token_ok(const char *s, size_t max) {
  return s && charset_ok(s, max, "");
}

static gg_status parse_doc(const char *body, size_t len, json_t **root, gg_payload_problem *prob) {
  json_error_t jerr;
  *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!*root)
    return problem(prob, "invalid json", "", "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
  if (!json_is_object(*root)) {
    json_decref(*root);
    *root = NULL;
    return problem(prob, "invalid json", "", "must be a JSON object");
  }
  return GG_OK;
}

/* A string member of charset `extra` (beyond [A-Za-z0-9_-]), 1..max bytes. */
static gg_status get_id(json_t *obj, const char *name, const char *field, size_t max, const char *extra,
                        const char *allowed, const char **out, gg_payload_problem *prob) {
  json_t *v = json_object_get(obj, name);
  if (!v) return problem(prob, "invalid field", field, "is required");
  if (!json_is_string(v)) return problem(prob, "invalid field", field, "must be a string");
  const char *s = json_string_value(v);
  if (strlen(s) != json_string_length(v))
    return problem(prob, "invalid field", field, "must not contain NUL");
  if (!*s) return problem(prob, "invalid field", field, "must not be empty");
  if (strlen(s) > max) return problem(prob, "invalid field", field, "must be at most %zu bytes", max);
  if (!charset_ok(s, max, extra))
    return problem(prob, "invalid field", field, "may contain only %s", allowed);
  *out = s;
  return GG_OK;
}

static gg_status get_time(json_t *obj, const char *name, const char *field, double *out,
                          gg_payload_problem *prob) {
  json_t *v = json_object_get(obj, name);
  if (!v) return problem(prob, "invalid field", field, "is required");
  if (!json_is_string(v)) return problem(prob, "invalid field", field, "must be an RFC 3339 time string");
  const char *s = json_string_value(v);
  gg_error err;
  gg_error_clear(&err);
  if (strlen(s) > 64 || !strchr(s, 'T') || gg_time_parse(s, out, &err) != GG_OK)
    return problem(prob, "invalid field", field, "must be an RFC 3339 time such as 2026-11-28T07:00:00Z");
  return GG_OK;
}

static gg_status check_rmssd(json_t *v, const char *field, double *out, gg_payload_problem *prob) {
  if (!json_is_number(v)) return problem(prob, "invalid field", field, "must be a number");
  double x = json_number_value(v);
  if (!isfinite(x) || x <= 0) return problem(prob, "invalid field", field, "must be > 0");
  if (x > GG_PAYLOAD_RMSSD_MAX)
    return problem(prob, "invalid field", field, "must be <= %g", GG_PAYLOAD_RMSSD_MAX);
  *out = x;
  return GG_OK;
}

#define EVENT_ID_CHARS "letters, digits and . _ : -"
#define TOKEN_CHARS "letters, digits, _ and -"

gg_status gg_payload_parse_hrv(const char *body, size_t len, json_t **root, gg_hrv_reading *out,
                               gg_payload_problem *prob) {
  gg_status st = parse_doc(body, len, root, prob);
  if (st != GG_OK) return st;
  json_t *o = *root;
  memset(out, 0, sizeof *out);
  if ((st = get_id(o, "event_id", "event_id", GG_PAYLOAD_EVENT_ID_MAX, ".:", EVENT_ID_CHARS, &out->event_id,
                   prob)) != GG_OK ||
      (st = get_id(o, "athlete_id", "athlete_id", GG_PAYLOAD_ATHLETE_ID_MAX, "", TOKEN_CHARS,
                   &out->athlete_id, prob)) != GG_OK ||
      (st = get_time(o, "measured_at", "measured_at", &out->measured_at, prob)) != GG_OK)
    goto fail;
  json_t *r = json_object_get(o, "rmssd_ms");
  if (!r) {
    st = problem(prob, "invalid field", "rmssd_ms", "is required");
    goto fail;
  }
  if ((st = check_rmssd(r, "rmssd_ms", &out->rmssd_ms, prob)) != GG_OK ||
      (st = get_id(o, "source", "source", GG_PAYLOAD_SOURCE_MAX, ".:/", "letters, digits and . _ : / -",
                   &out->source, prob)) != GG_OK)
    goto fail;
  return GG_OK;
fail:
  json_decref(*root);
  *root = NULL;
  return st;
}

gg_status gg_payload_parse_oura(const char *body, size_t len, json_t **root, gg_oura_doc *out,
                                gg_payload_problem *prob) {
  gg_status st = parse_doc(body, len, root, prob);
  if (st != GG_OK) return st;
  json_t *o = *root;
  memset(out, 0, sizeof *out);
  if ((st = get_id(o, "event_id", "event_id", GG_PAYLOAD_EVENT_ID_MAX, ".:", EVENT_ID_CHARS, &out->event_id,
                   prob)) != GG_OK ||
      (st = get_id(o, "event_type", "event_type", GG_PAYLOAD_EVENT_TYPE_MAX, "", TOKEN_CHARS,
                   &out->event_type, prob)) != GG_OK ||
      (st = get_id(o, "athlete_id", "athlete_id", GG_PAYLOAD_ATHLETE_ID_MAX, "", TOKEN_CHARS,
                   &out->athlete_id, prob)) != GG_OK)
    goto fail;
  json_t *hrv = json_object_get(o, "hrv");
  if (!hrv) {
    st = problem(prob, "invalid field", "hrv", "is required");
    goto fail;
  }
  if (!json_is_object(hrv)) {
    st = problem(prob, "invalid field", "hrv", "must be an object");
    goto fail;
  }
  json_t *iv = json_object_get(hrv, "interval");
  if (!iv) {
    st = problem(prob, "invalid field", "hrv.interval", "is required");
    goto fail;
  }
  if (!json_is_number(iv) || !(json_number_value(iv) > 0) ||
      json_number_value(iv) > GG_PAYLOAD_OURA_INTERVAL_MAX) {
    st = problem(prob, "invalid field", "hrv.interval", "must be a number of seconds in (0, %g]",
                 GG_PAYLOAD_OURA_INTERVAL_MAX);
    goto fail;
  }
  out->interval = json_number_value(iv);
  if ((st = get_time(hrv, "timestamp", "hrv.timestamp", &out->timestamp, prob)) != GG_OK) goto fail;
  json_t *items = json_object_get(hrv, "items");
  if (!items) {
    st = problem(prob, "invalid field", "hrv.items", "is required");
    goto fail;
  }
  if (!json_is_array(items)) {
    st = problem(prob, "invalid field", "hrv.items", "must be an array");
    goto fail;
  }
  if (json_array_size(items) > GG_PAYLOAD_OURA_ITEMS_MAX) {
    st = problem(prob, "invalid field", "hrv.items", "must have at most %d items", GG_PAYLOAD_OURA_ITEMS_MAX);
    goto fail;
  }
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *it = json_array_get(items, i);
    if (json_is_null(it)) continue;
    char field[48];
    snprintf(field, sizeof field, "hrv.items[%zu]", i);
    double x;
    if ((st = check_rmssd(it, field, &x, prob)) != GG_OK) goto fail;
  }
  out->items = items;
  return GG_OK;
fail:
  json_decref(*root);
  *root = NULL;
  return st;
}

size_t gg_oura_expand(const gg_oura_doc *doc, gg_hrv_row *rows, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < json_array_size(doc->items); i++) {
    json_t *it = json_array_get(doc->items, i);
    if (!json_is_number(it)) continue;
    if (n < max) {
      gg_hrv_row *r = &rows[n];
      snprintf(r->msg_id, sizeof r->msg_id, "%s:%zu", doc->event_id, i);
      r->athlete_id = doc->athlete_id;
      r->source = "oura";
      r->measured_at = doc->timestamp + (double)i * doc->interval;
      r->rmssd_ms = json_number_value(it);
    }
    n++;
  }
  return n;
}

gg_status gg_payload_problem_json(const gg_payload_problem *prob, gg_buf *out) {
  json_t *o = json_object();
  if (!o) return GG_ERR_NOMEM;
  json_object_set_new(o, "error", json_string(prob->error));
  if (prob->field[0]) json_object_set_new(o, "field", json_string(prob->field));
  json_object_set_new(o, "problem", json_string(prob->problem));
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (!s) return GG_ERR_NOMEM;
  gg_status st = gg_buf_puts(out, s);
  free(s);
  return st;
}
