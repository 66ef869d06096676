/*
 * payload.h: the reference pipeline's message schema (HRV readings and Oura sleep
 * documents), validated the same way at both ends.
 *
 * ingest-service validates a request body before it publishes; normalize-service
 * validates again what it fetches (anything can be published to a subject) and expands
 * an Oura document into one row per non-null 5-minute HRV item. The two services link
 * gg_base only, so the schema lives here, in one place.
 *
 * A reading:   {"event_id":"e1","athlete_id":"a1","measured_at":"2026-11-28T07:00:00Z",
 *               "rmssd_ms":42.5,"source":"polar"}
 * An Oura doc: {"event_id":"o1","event_type":"sleep","athlete_id":"a1",
 *               "hrv":{"interval":300,"timestamp":"2026-11-28T00:00:00Z","items":[41.2,null,...]}}
 * Unknown members are ignored; duplicate keys and numbers that do not fit a double are
 * invalid JSON. A failure fills a gg_payload_problem that names the field and the problem,
 * which ingest returns as its 400 body and normalize puts in the DLQ headers.
 */
#ifndef GG_PAYLOAD_H
#define GG_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

#define GG_PAYLOAD_EVENT_ID_MAX 128  /* bytes; [A-Za-z0-9._:-] */
#define GG_PAYLOAD_ATHLETE_ID_MAX 64 /* bytes; [A-Za-z0-9_-]: one subject token */
#define GG_PAYLOAD_EVENT_TYPE_MAX 32 /* bytes; [a-z0-9_-]: one subject token */
#define GG_PAYLOAD_SOURCE_MAX 64     /* bytes; [A-Za-z0-9._:/-] */
#define GG_PAYLOAD_RMSSD_MAX 1000.0  /* ms; a physiological RMSSD is well under this */
#define GG_PAYLOAD_OURA_ITEMS_MAX 1024
#define GG_PAYLOAD_OURA_INTERVAL_MAX 3600.0 /* seconds */
#define GG_PAYLOAD_MSG_ID_MAX (GG_PAYLOAD_EVENT_ID_MAX + 16)

typedef struct {
  char error[32];    /* "invalid json", "invalid field" */
  char field[48];    /* "rmssd_ms", "hrv.items[3]"; "" for invalid json */
  char problem[160]; /* "must be > 0", "line 1 column 9: ..." */
} gg_payload_problem;

/* A validated reading. The strings are borrowed from the parsed document. */
typedef struct {
  const char *event_id;
  const char *athlete_id;
  const char *source;
  double measured_at; /* seconds since the epoch */
  double rmssd_ms;
} gg_hrv_reading;

/* A validated Oura sleep document. Strings and items are borrowed from the document. */
typedef struct {
  const char *event_id;
  const char *event_type;
  const char *athlete_id;
  double timestamp; /* of items[0] */
  double interval;  /* seconds between items */
  json_t *items;    /* array of number|null, each number in (0, GG_PAYLOAD_RMSSD_MAX] */
} gg_oura_doc;

/* One row of hrv_data as the pipeline derives it. */
typedef struct {
  char msg_id[GG_PAYLOAD_MSG_ID_MAX]; /* event_id, or "<event_id>:<i>" for an Oura item */
  const char *athlete_id;             /* borrowed */
  const char *source;                 /* borrowed */
  double measured_at;
  double rmssd_ms;
} gg_hrv_row;

/* Parse and validate a reading from len bytes of JSON. On GG_OK you own *root (json_decref)
 * and *out borrows from it; on GG_ERR_INVALID *root is NULL and prob says why. */
gg_status gg_payload_parse_hrv(const char *body, size_t len, json_t **root, gg_hrv_reading *out,
                               gg_payload_problem *prob) GG_WUR;

/* The same for an Oura document. */
gg_status gg_payload_parse_oura(const char *body, size_t len, json_t **root, gg_oura_doc *out,
                                gg_payload_problem *prob) GG_WUR;

/* Expand a validated document into rows (one per non-null item, at timestamp + i·interval,
 * msg_id "<event_id>:<i>"), writing at most max rows; returns how many there are in all
 * (call with max 0 to count). Rows borrow from doc. */
size_t gg_oura_expand(const gg_oura_doc *doc, gg_hrv_row *rows, size_t max);

/* Whether s (len bytes, 1..max) consists only of characters safe in one subject token:
 * [A-Za-z0-9_-]. */
bool gg_payload_token_ok(const char *s, size_t max);

/* Append the problem as the JSON error body:
 * {"error":"invalid field","field":"rmssd_ms","problem":"must be > 0"}. */
gg_status gg_payload_problem_json(const gg_payload_problem *prob, gg_buf *out) GG_WUR;

#endif
