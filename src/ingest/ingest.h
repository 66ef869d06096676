/*
 * ingest.h: ingest-service, HTTP in front of JetStream.
 *
 * POST /v1/hrv (a reading, svc/payload.h) is published to core.hrv.<athlete_id>, POST
 * /webhooks/oura (a sleep document) to vendor.oura.<event_type>, each with Nats-Msg-Id set
 * from the event id so a retried publish is stored once. A request is answered 202 only
 * after the JetStream ack: the handler publishes asynchronously and returns, the
 * connection stays suspended (no thread held), and the ack handler answers it. "No
 * responders" (no stream for the subject, as during a subject cutover) and ack timeouts
 * are retried with backoff until INGEST_PUBLISH_BUDGET is spent, then the answer is 503
 * with Retry-After. GET /health is 200 only when NATS is connected and JetStream answers;
 * GET /metrics is the Prometheus page.
 *
 * The traffic split (INGEST_SHIFT_CORE / INGEST_SHIFT_VENDOR, shift.c): a reading whose id
 * hashes below the share read from a NATS KV key goes to INGEST_SHIFT_PREFIX + its subject
 * (shift.core.hrv.<athlete>, shift.vendor.oura.<type>), which the new topology's stream holds
 * during a shift; the rest to the canonical subject. Each root has its own key and share.
 * /health and /metrics say the share in force and where it came from.
 */
#ifndef GG_INGEST_H
#define GG_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/log.h"
#include "svc/natsopts.h"

/* What `ingest-service --help` prints: every variable with its default. */
extern const char ingest_usage[];

typedef struct {
  gg_nats_auth nats_auth;     /* NATS_CREDS, NATS_NKEY_SEED, NATS_USER, NATS_TOKEN, NATS_CA, ... */
  char *nats_url;             /* NATS_URL: comma-separated server URLs */
  char *listen;               /* INGEST_LISTEN: HOST:PORT */
  size_t max_body;            /* INGEST_MAX_BODY: bytes */
  unsigned char *hmac_secret; /* from INGEST_HMAC_SECRET_FILE; NULL: no signatures required */
  size_t hmac_secret_len;
  double publish_budget;    /* INGEST_PUBLISH_BUDGET: seconds for all attempts of one publish */
  double publish_timeout;   /* INGEST_PUBLISH_TIMEOUT: seconds to wait for one ack */
  size_t max_inflight;      /* INGEST_MAX_INFLIGHT: requests awaiting acks before 503 */
  unsigned threads;         /* INGEST_THREADS: HTTP worker threads */
  unsigned max_connections; /* INGEST_MAX_CONNECTIONS: open HTTP connections at most */
  double header_timeout;    /* INGEST_HEADER_TIMEOUT: seconds to send complete headers */
  double body_timeout;      /* INGEST_BODY_TIMEOUT: seconds to send the body */
  gg_log_level log_level;   /* INGEST_LOG_LEVEL */
  char *shift_core;         /* INGEST_SHIFT_CORE: BUCKET/KEY of the core share; NULL: no split */
  char *shift_vendor;       /* INGEST_SHIFT_VENDOR: BUCKET/KEY of the vendor share; NULL: no split */
  char *shift_prefix;       /* INGEST_SHIFT_PREFIX: prepended to the subject of the new side */
} ingest_config;

/* Read and validate the configuration from the environment. An invalid value is
 * GG_ERR_INVALID with a message naming the variable. Release with ingest_config_release. */
gg_status ingest_config_load(ingest_config *cfg, gg_error *err) GG_WUR;
void ingest_config_release(ingest_config *cfg);

/* Verify an X-Signature header value ("sha256=<hex>" or "<hex>") against the HMAC-SHA256
 * of body under secret, in constant time. false for NULL or malformed headers. */
bool ingest_signature_ok(const unsigned char *secret, size_t secret_len, const void *body, size_t len,
                         const char *header);

/* Format the HMAC-SHA256 of body as "sha256=<64 hex>" into out (at least 72 bytes). */
void ingest_signature_format(const unsigned char *secret, size_t secret_len, const void *body, size_t len,
                             char *out, size_t n);

/* The traffic split (DESIGN §14). Parse a KV value "10", "12.5" or "50%" (surrounding blanks
 * allowed) into a percentage 0..100; GG_ERR_INVALID with why (n bytes) saying what is wrong. */
gg_status ingest_shift_parse(const char *text, size_t len, double *percent, char *why, size_t n) GG_WUR;

/* Whether the reading with this id goes to the new topology at `percent`: a hash of the id
 * (FNV-1a, 10,000 buckets) against the share, so the same id always goes the same way and a
 * rising share only ever moves readings from old to new. */
bool ingest_shift_goes_new(const char *id, double percent);

/* The subject roots a traffic split applies to, each with a share of its own. */
typedef enum { INGEST_ROOT_CORE = 0, INGEST_ROOT_VENDOR = 1 } ingest_root;

/* The subject of a message of `root` with this id and last token (the athlete of a reading,
 * the event type of a vendor document) into out (n bytes): "core.hrv.<token>" or
 * "vendor.oura.<token>", with `prefix` before it when the id goes to the new topology at that
 * root's own share, share[root] (percent; core's share never moves vendor documents, nor the
 * other way round). Returns whether it did. */
bool ingest_shift_subject(const double share[2], ingest_root root, const char *prefix, const char *id,
                          const char *token, char *out, size_t n);

/* Whether a Content-Type header value is JSON (application/json, optional parameters). */
bool ingest_content_type_ok(const char *value);

typedef struct ingest ingest;

/* Connect to NATS and start serving per cfg (borrowed; must outlive the service).
 * You own *out; stop it with ingest_stop. */
gg_status ingest_start(const ingest_config *cfg, ingest **out, gg_error *err) GG_WUR;

/* The HTTP port actually bound. */
uint16_t ingest_port(const ingest *svc);

/* Graceful stop: stop accepting, answer every request in flight (waiting for its acks, at
 * most the publish budget plus a second), close NATS, free. NULL-safe. */
void ingest_stop(ingest *svc);

#endif
