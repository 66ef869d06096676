/*
 * normalize.h: normalize-service, JetStream pull consumers into PostgreSQL.
 *
 * For every listed stream/durable (NORMALIZE_BINDINGS) that exists, a worker binds a pull
 * subscription by stream AND consumer name (never by subject lookup, which could bind
 * elsewhere after a cutover), fetches batches, turns each message into hrv_data rows
 * (svc/payload.h: an HRV reading is one row, an Oura document one row per non-null item),
 * inserts the batch in one transaction with ON CONFLICT (msg_id) DO NOTHING and acks after
 * the commit. A message that cannot be parsed or validated is published to
 * dlq.<subject> with headers naming where it came from and why, then terminated. While
 * PostgreSQL is down the worker holds its batch (telling JetStream it is in progress) and
 * fetches nothing more, so an outage neither floods the DLQ nor burns deliveries.
 * Bindings are re-checked every NORMALIZE_RECHECK: one that appears is picked up, one
 * whose stream or consumer is deleted is let go.
 */
#ifndef GG_NORMALIZE_H
#define GG_NORMALIZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "svc/natsopts.h"
#include "svc/payload.h"

extern const char normalize_usage[];

typedef struct {
  char *stream;
  char *consumer;
} normalize_binding_spec;

typedef struct {
  gg_nats_auth nats_auth;           /* NATS_CREDS, NATS_NKEY_SEED, NATS_USER, NATS_TOKEN, NATS_CA, ... */
  char *nats_url;                   /* NATS_URL */
  char *pg_url;                     /* PG_URL (required) */
  char *listen;                     /* NORMALIZE_LISTEN */
  char *dlq_prefix;                 /* NORMALIZE_DLQ_PREFIX: a subject token, "dlq" */
  char *shift_prefix;               /* NORMALIZE_SHIFT_PREFIX: "shift.", stripped before reading a subject */
  normalize_binding_spec *bindings; /* NORMALIZE_BINDINGS */
  size_t nbindings;
  int batch;         /* NORMALIZE_BATCH: messages per fetch */
  double fetch_wait; /* NORMALIZE_FETCH_WAIT: seconds a fetch waits for messages */
  double recheck;    /* NORMALIZE_RECHECK: seconds between binding checks */
  gg_log_level log_level;
} normalize_config;

/* Read and validate the configuration from the environment; an invalid value is an error
 * naming the variable. Release with normalize_config_release. */
gg_status normalize_config_load(normalize_config *cfg, gg_error *err) GG_WUR;
void normalize_config_release(normalize_config *cfg);

/* Parse "STREAM:CONSUMER,STREAM:CONSUMER" (names: [A-Za-z0-9_-], no duplicates, at most 16).
 * You own *out (normalize_bindings_free). */
gg_status normalize_parse_bindings(const char *text, normalize_binding_spec **out, size_t *n,
                                   gg_error *err) GG_WUR;
void normalize_bindings_free(normalize_binding_spec *b, size_t n);

typedef enum { NORMALIZE_HRV, NORMALIZE_OURA } normalize_kind;

/* Turn one message into rows. core.hrv.<athlete> carries a reading (its athlete_id must
 * match the subject's), vendor.oura.<type> an Oura document; any other subject is invalid.
 * On GG_OK *root is yours (json_decref; rows borrow from it), *kind says which, and *nrows
 * rows were written to rows (at most max; an Oura document has at most
 * GG_PAYLOAD_OURA_ITEMS_MAX). On GG_ERR_INVALID prob says why and *root is NULL. */
gg_status normalize_message(const char *subject, const char *data, size_t len, json_t **root,
                            normalize_kind *kind, gg_hrv_row *rows, size_t max, size_t *nrows,
                            gg_payload_problem *prob) GG_WUR;

/* Append s to a PostgreSQL array literal element list as a quoted element ("a\"b"). */
gg_status normalize_pg_array_quote(gg_buf *b, const char *s) GG_WUR;

/* The SQL that creates hrv_data if missing (idempotent). */
extern const char normalize_schema_sql[];

typedef struct normalize normalize;

/* Apply the schema, connect to NATS, start the workers and the HTTP server (/health,
 * /metrics). cfg is borrowed and must outlive the service. You own *out. */
gg_status normalize_start(const normalize_config *cfg, normalize **out, gg_error *err) GG_WUR;

uint16_t normalize_port(const normalize *svc);

/* Graceful stop: each worker finishes the batch in hand (acking what committed; a batch
 * that cannot be committed is handed back to JetStream with a nak), then everything is
 * closed and freed. NULL-safe. */
void normalize_stop(normalize *svc);

#endif
