/* normalize-service configuration from the environment, validated at start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secret.h"
#include "normalize/normalize.h"
#include "svc/envconf.h"

#define NORMALIZE_BINDINGS_MAX 16
#define NORMALIZE_NAME_MAX 64

const char normalize_usage[] =
    "usage: normalize-service [--help]\n"
    "\n"
    "JetStream pull consumers into PostgreSQL (hrv_data); poison messages to the DLQ.\n"
    "Serves GET /health and GET /metrics. Configured by environment variables:\n"
    "  NATS_URL              NATS server URLs, comma-separated (required: no default, so the\n"
    "                        service never consumes from whatever listens on localhost)\n" GG_NATS_AUTH_USAGE
    "  PG_URL                PostgreSQL connection URL (required)\n"
    "  NORMALIZE_BINDINGS    STREAM:DURABLE list, comma-separated; each that exists is consumed\n"
    "                        (default "
    "AA_CORE_HOT:normalize-hrv-durable,ATHLETE_ALLY_EVENTS:normalize-hrv-durable,\n"
    "                        AA_VENDOR_HOT:normalize-oura,ATHLETE_ALLY_EVENTS:normalize-oura,\n"
    "                        AA_CORE_HOT:normalize-hrv-shift,AA_VENDOR_HOT:normalize-oura-shift)\n"
    "  NORMALIZE_BATCH       messages per fetch and per transaction (default 500, 1..10000)\n"
    "  NORMALIZE_FETCH_WAIT  how long a fetch waits for messages (default 500ms)\n"
    "  NORMALIZE_RECHECK     how often bindings are re-checked (default 2s)\n"
    "  NORMALIZE_LISTEN      HOST:PORT for /health and /metrics (default 127.0.0.1:8082)\n"
    "  NORMALIZE_DLQ_PREFIX  subject prefix for poison messages (default dlq)\n"
    "  NORMALIZE_SHIFT_PREFIX  prefix of the new topology's subjects during a traffic shift,\n"
    "                        read as the canonical subject after it (default shift.)\n"
    "  NORMALIZE_LOG_LEVEL   debug|info|warn|error (default info)\n"
    "A bad value stops the service with exit status 2.\n";

void normalize_bindings_free(normalize_binding_spec *b, size_t n) {
  for (size_t i = 0; b && i < n; i++) {
    free(b[i].stream);
    free(b[i].consumer);
  }
  free(b);
}

static bool name_ok(const char *s, size_t n) {
  if (n == 0 || n > NORMALIZE_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  }
  return true;
}

gg_status normalize_parse_bindings(const char *text, normalize_binding_spec **out, size_t *n, gg_error *err) {
  normalize_binding_spec *b = calloc(NORMALIZE_BINDINGS_MAX, sizeof *b);
  if (!b) return gg_error_set(err, GG_ERR_NOMEM, "NORMALIZE_BINDINGS: out of memory");
  size_t count = 0;
  gg_status st = GG_OK;
  const char *p = text;
  for (;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *colon = memchr(p, ':', len);
    if (!colon || !name_ok(p, (size_t)(colon - p)) || !name_ok(colon + 1, len - (size_t)(colon - p) - 1)) {
      st =
          gg_error_set(err, GG_ERR_INVALID,
                       "NORMALIZE_BINDINGS: '%.*s' is not STREAM:DURABLE (names of letters, digits, _ and -)",
                       (int)len, p);
      goto fail;
    }
    if (count == NORMALIZE_BINDINGS_MAX) {
      st = gg_error_set(err, GG_ERR_INVALID, "NORMALIZE_BINDINGS: more than %d bindings",
                        NORMALIZE_BINDINGS_MAX);
      goto fail;
    }
    b[count].stream = strndup(p, (size_t)(colon - p));
    b[count].consumer = strndup(colon + 1, len - (size_t)(colon - p) - 1);
    if (!b[count].stream || !b[count].consumer) {
      count++;
      st = gg_error_set(err, GG_ERR_NOMEM, "NORMALIZE_BINDINGS: out of memory");
      goto fail;
    }
    for (size_t i = 0; i < count; i++) {
      if (strcmp(b[i].stream, b[count].stream) == 0 && strcmp(b[i].consumer, b[count].consumer) == 0) {
        st = gg_error_set(err, GG_ERR_INVALID, "NORMALIZE_BINDINGS: '%s:%s' is listed twice", b[i].stream,
                          b[i].consumer);
        count++;
        goto fail;
      }
    }
    count++;
    if (!end) break;
    p = end + 1;
  }
  *out = b;
  *n = count;
  return GG_OK;
fail:
  normalize_bindings_free(b, count);
  return st;
}

gg_status normalize_config_load(normalize_config *cfg, gg_error *err) {
  memset(cfg, 0, sizeof *cfg);
  gg_status st;
  const char *pg = getenv("PG_URL");
  if (!pg || !*pg)
    return gg_error_set(err, GG_ERR_INVALID, "PG_URL: required (e.g. postgresql://user@host/db)");
  const char *nats = getenv("NATS_URL");
  if (!nats || !*nats)
    return gg_error_set(err, GG_ERR_INVALID, "NATS_URL: required (e.g. nats://127.0.0.1:4222)");
  cfg->pg_url = strdup(pg);
  cfg->nats_url = strdup(nats);
  cfg->listen = strdup(gg_env_or("NORMALIZE_LISTEN", "127.0.0.1:8082"));
  cfg->dlq_prefix = strdup(gg_env_or("NORMALIZE_DLQ_PREFIX", "dlq"));
  cfg->shift_prefix = strdup(gg_env_or("NORMALIZE_SHIFT_PREFIX", "shift."));
  if (!cfg->pg_url || !cfg->nats_url || !cfg->listen || !cfg->dlq_prefix || !cfg->shift_prefix) {
    st = gg_error_set(err, GG_ERR_NOMEM, "configuration: out of memory");
    goto fail;
  }
  if (strncmp(cfg->pg_url, "postgres://", 11) != 0 && strncmp(cfg->pg_url, "postgresql://", 13) != 0 &&
      !strchr(cfg->pg_url, '=')) {
    st = gg_error_set(err, GG_ERR_INVALID,
                      "PG_URL: must be a postgresql:// URL or key=value connection string");
    goto fail;
  }
  if (strncmp(cfg->nats_url, "nats://", 7) != 0 && strncmp(cfg->nats_url, "tls://", 6) != 0) {
    char shown[512];
    st = gg_error_set(err, GG_ERR_INVALID, "NATS_URL: '%s' must start with nats:// or tls://",
                      gg_secret_redact_urls(cfg->nats_url, shown, sizeof shown));
    goto fail;
  }
  if ((st = gg_nats_auth_load(&cfg->nats_auth, err)) != GG_OK) goto fail;
  if (!strrchr(cfg->listen, ':')) {
    st = gg_error_set(err, GG_ERR_INVALID, "NORMALIZE_LISTEN: '%s' must be HOST:PORT", cfg->listen);
    goto fail;
  }
  if (!gg_payload_token_ok(cfg->dlq_prefix, 32)) {
    st = gg_error_set(err, GG_ERR_INVALID, "NORMALIZE_DLQ_PREFIX: '%s' must be one subject token",
                      cfg->dlq_prefix);
    goto fail;
  }
  if ((st = normalize_parse_bindings(
           gg_env_or("NORMALIZE_BINDINGS",
                     /* HRV readings and the vendors' documents, each on the hot stream first and
                      * on the legacy stream while it still carries them. */
                     "AA_CORE_HOT:normalize-hrv-durable,ATHLETE_ALLY_EVENTS:normalize-hrv-durable,"
                     "AA_VENDOR_HOT:normalize-oura,ATHLETE_ALLY_EVENTS:normalize-oura,"
                     /* The new side of a gradual shift (DESIGN §14): shift.core.hrv.> and
                      * shift.vendor.> on the hot streams. */
                     "AA_CORE_HOT:normalize-hrv-shift,AA_VENDOR_HOT:normalize-oura-shift"),
           &cfg->bindings, &cfg->nbindings, err)) != GG_OK)
    goto fail;
  const char *bv = gg_env_or("NORMALIZE_BATCH", "500");
  char *end;
  errno = 0;
  long long batch = strtoll(bv, &end, 10);
  if (end == bv || *end || errno || batch < 1 || batch > 10000) {
    st =
        gg_error_set(err, GG_ERR_INVALID, "NORMALIZE_BATCH: '%s' must be a whole number from 1 to 10000", bv);
    goto fail;
  }
  cfg->batch = (int)batch;
  if ((st = gg_env_duration("NORMALIZE_FETCH_WAIT", "500ms", 0.01, 30, &cfg->fetch_wait, err)) != GG_OK ||
      (st = gg_env_duration("NORMALIZE_RECHECK", "2s", 0.1, 300, &cfg->recheck, err)) != GG_OK)
    goto fail;
  if ((st = gg_env_log_level("NORMALIZE_LOG_LEVEL", "info", &cfg->log_level, err)) != GG_OK) goto fail;
  return GG_OK;
fail:
  normalize_config_release(cfg);
  return st;
}

void normalize_config_release(normalize_config *cfg) {
  if (!cfg) return;
  gg_nats_auth_release(&cfg->nats_auth);
  free(cfg->nats_url);
  free(cfg->pg_url);
  free(cfg->listen);
  free(cfg->dlq_prefix);
  free(cfg->shift_prefix);
  normalize_bindings_free(cfg->bindings, cfg->nbindings);
  memset(cfg, 0, sizeof *cfg);
}
