/* ingest-service configuration from the environment, validated at start. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/secret.h"
#include "base/units.h"
#include "ingest/ingest.h"
#include "svc/envconf.h"

/* A secret file larger than this is certainly not a secret. */
#define INGEST_SECRET_FILE_MAX 4096
#define INGEST_MAX_BODY_LIMIT (16u << 20)

const char ingest_usage[] =
    "usage: ingest-service [--help]\n"
    "\n"
    "HTTP in front of JetStream: POST /v1/hrv, POST /webhooks/oura, GET /health, GET /metrics.\n"
    "Configured by environment variables:\n"
    "  NATS_URL                 NATS server URLs, comma-separated (required: no default, so the\n"
    "                           service never publishes to whatever listens on "
    "localhost)\n" GG_NATS_AUTH_USAGE
    "  INGEST_LISTEN            HOST:PORT to listen on (default 127.0.0.1:8081)\n"
    "  INGEST_MAX_BODY          largest accepted request body, e.g. 64KiB (default 64KiB, at most 16MiB)\n"
    "  INGEST_HMAC_SECRET_FILE  file holding the HMAC-SHA256 secret; when set, POSTs need\n"
    "                           X-Signature: sha256=<hex of HMAC(body)> (default: none)\n"
    "  INGEST_PUBLISH_BUDGET    time to keep retrying a publish (no responders, timeouts)\n"
    "                           before answering 503 (default 15s: longer than a stream\n"
    "                           leader election, 4-9 s on nats-server 2.9)\n"
    "  INGEST_PUBLISH_TIMEOUT   time to wait for one JetStream ack (default 2s)\n"
    "  INGEST_MAX_INFLIGHT      requests awaiting acks before new ones get 503 (default 10000)\n"
    "  INGEST_THREADS           HTTP worker threads (default 2)\n"
    "  INGEST_MAX_CONNECTIONS   open HTTP connections at most (default 4096); at the limit a\n"
    "                           new connection displaces the oldest one still sending its\n"
    "                           headers; when all are busy, requests get 503 \"too many\n"
    "                           connections\" (GET /health still answers) within a further\n"
    "                           1/8, and connections past that are closed at once. Each\n"
    "                           needs an open file: ulimit -n must exceed 1.25 times this\n"
    "  INGEST_HEADER_TIMEOUT    time a connection has to send complete request headers,\n"
    "                           counted from its accept or the end of its previous request,\n"
    "                           so also how long an idle kept-alive connection stays (default 10s)\n"
    "  INGEST_BODY_TIMEOUT      time to send the request body once the headers are in (default 30s)\n"
    "  INGEST_LOG_LEVEL         debug|info|warn|error (default info)\n"
    "  INGEST_SHIFT_CORE        BUCKET/KEY of a NATS KV key holding the share (0-100) of HRV\n"
    "                           readings sent to the new topology, watched live (default: none)\n"
    "  INGEST_SHIFT_VENDOR      the same for vendor (Oura) documents (default: none)\n"
    "  INGEST_SHIFT_PREFIX      prefix of the new topology's subjects during a shift\n"
    "                           (default shift.: shift.core.hrv.<athlete>)\n"
    "A bad value stops the service with exit status 2.\n";

static gg_status read_secret(const char *path, ingest_config *cfg, gg_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return gg_error_set(err, GG_ERR_INVALID, "INGEST_HMAC_SECRET_FILE: cannot open '%s': %s", path,
                        strerror(errno));
  unsigned char *buf = malloc(INGEST_SECRET_FILE_MAX + 1);
  if (!buf) {
    fclose(f);
    return gg_error_set(err, GG_ERR_NOMEM, "INGEST_HMAC_SECRET_FILE: out of memory");
  }
  size_t n = fread(buf, 1, INGEST_SECRET_FILE_MAX + 1, f);
  fclose(f);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
  if (n == 0 || n > INGEST_SECRET_FILE_MAX) {
    OPENSSL_cleanse(buf, INGEST_SECRET_FILE_MAX + 1);
    free(buf);
    return gg_error_set(err, GG_ERR_INVALID, "INGEST_HMAC_SECRET_FILE: '%s' is %s", path,
                        n == 0 ? "empty" : "larger than 4096 bytes");
  }
  cfg->hmac_secret = buf;
  cfg->hmac_secret_len = n;
  return GG_OK;
}

/* INGEST_SHIFT_*: the keys are checked for their form here; the prefix must be subject tokens
 * ending in '.' so the new side's subjects never overlap the canonical ones. */
static gg_status load_shift(ingest_config *cfg, gg_error *err) {
  const char *core = getenv("INGEST_SHIFT_CORE"), *vendor = getenv("INGEST_SHIFT_VENDOR");
  const char *names[2] = {"INGEST_SHIFT_CORE", "INGEST_SHIFT_VENDOR"};
  const char *vals[2] = {core, vendor};
  for (int i = 0; i < 2; i++) {
    const char *v = vals[i];
    if (!v || !*v) continue;
    const char *slash = strchr(v, '/');
    if (!slash || slash == v || !slash[1] || strchr(slash + 1, '/') || strpbrk(v, " *>"))
      return gg_error_set(err, GG_ERR_INVALID, "%s: '%s' must be BUCKET/KEY", names[i], v);
  }
  const char *prefix = gg_env_or("INGEST_SHIFT_PREFIX", "shift.");
  size_t n = strlen(prefix);
  if (n < 2 || prefix[n - 1] != '.' || prefix[0] == '.' || strpbrk(prefix, " *>") || strstr(prefix, "..") ||
      strncmp(prefix, "core.", 5) == 0 || strncmp(prefix, "vendor.", 7) == 0)
    return gg_error_set(
        err, GG_ERR_INVALID,
        "INGEST_SHIFT_PREFIX: '%s' must be subject tokens ending in '.', outside core. and vendor.", prefix);
  cfg->shift_core = core && *core ? strdup(core) : NULL;
  cfg->shift_vendor = vendor && *vendor ? strdup(vendor) : NULL;
  cfg->shift_prefix = strdup(prefix);
  if (!cfg->shift_prefix || (core && *core && !cfg->shift_core) || (vendor && *vendor && !cfg->shift_vendor))
    return gg_error_set(err, GG_ERR_NOMEM, "configuration: out of memory");
  return GG_OK;
}

gg_status ingest_config_load(ingest_config *cfg, gg_error *err) {
  memset(cfg, 0, sizeof *cfg);
  gg_status st;
  const char *nats = getenv("NATS_URL");
  if (!nats || !*nats)
    return gg_error_set(err, GG_ERR_INVALID, "NATS_URL: required (e.g. nats://127.0.0.1:4222)");
  cfg->nats_url = strdup(nats);
  cfg->listen = strdup(gg_env_or("INGEST_LISTEN", "127.0.0.1:8081"));
  if (!cfg->nats_url || !cfg->listen) {
    st = gg_error_set(err, GG_ERR_NOMEM, "configuration: out of memory");
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
    st = gg_error_set(err, GG_ERR_INVALID, "INGEST_LISTEN: '%s' must be HOST:PORT", cfg->listen);
    goto fail;
  }
  double bytes;
  const char *mb = gg_env_or("INGEST_MAX_BODY", "64KiB");
  if (gg_parse_size(mb, &bytes, err) != GG_OK) {
    st = gg_error_prefix(err, "INGEST_MAX_BODY: ");
    goto fail;
  }
  if (bytes < 256 || bytes > INGEST_MAX_BODY_LIMIT) {
    st = gg_error_set(err, GG_ERR_INVALID, "INGEST_MAX_BODY: '%s' is out of range (256B to 16MiB)", mb);
    goto fail;
  }
  cfg->max_body = (size_t)bytes;
  if ((st = gg_env_duration("INGEST_PUBLISH_BUDGET", "15s", 0, 600, &cfg->publish_budget, err)) != GG_OK ||
      (st = gg_env_duration("INGEST_PUBLISH_TIMEOUT", "2s", 0.01, 60, &cfg->publish_timeout, err)) != GG_OK)
    goto fail;
  long long n;
  if ((st = gg_env_count("INGEST_MAX_INFLIGHT", "10000", 1, 1000000, &n, err)) != GG_OK) goto fail;
  cfg->max_inflight = (size_t)n;
  if ((st = gg_env_count("INGEST_THREADS", "2", 1, 64, &n, err)) != GG_OK) goto fail;
  cfg->threads = (unsigned)n;
  if ((st = gg_env_count("INGEST_MAX_CONNECTIONS", "4096", 16, 1000000, &n, err)) != GG_OK) goto fail;
  cfg->max_connections = (unsigned)n;
  if ((st = gg_env_duration("INGEST_HEADER_TIMEOUT", "10s", 0.1, 3600, &cfg->header_timeout, err)) != GG_OK ||
      (st = gg_env_duration("INGEST_BODY_TIMEOUT", "30s", 0.1, 3600, &cfg->body_timeout, err)) != GG_OK)
    goto fail;
  if ((st = gg_env_log_level("INGEST_LOG_LEVEL", "info", &cfg->log_level, err)) != GG_OK) goto fail;
  if ((st = load_shift(cfg, err)) != GG_OK) goto fail;
  const char *secret = getenv("INGEST_HMAC_SECRET_FILE");
  if (secret && *secret && (st = read_secret(secret, cfg, err)) != GG_OK) goto fail;
  return GG_OK;
fail:
  ingest_config_release(cfg);
  return st;
}

void ingest_config_release(ingest_config *cfg) {
  if (!cfg) return;
  gg_nats_auth_release(&cfg->nats_auth);
  free(cfg->nats_url);
  free(cfg->listen);
  free(cfg->shift_core);
  free(cfg->shift_vendor);
  free(cfg->shift_prefix);
  if (cfg->hmac_secret) OPENSSL_cleanse(cfg->hmac_secret, cfg->hmac_secret_len);
  free(cfg->hmac_secret);
  memset(cfg, 0, sizeof *cfg);
}

void ingest_signature_format(const unsigned char *secret, size_t secret_len, const void *body, size_t len,
                             char *out, size_t n) {
  unsigned char mac[32];
  unsigned int maclen = 0;
  HMAC(EVP_sha256(), secret, (int)secret_len, body, len, mac, &maclen);
  char hex[65];
  for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  snprintf(out, n, "sha256=%s", hex);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ingest_signature_ok(const unsigned char *secret, size_t secret_len, const void *body, size_t len,
                         const char *header) {
  if (!header) return false;
  if (strncasecmp(header, "sha256=", 7) == 0) header += 7;
  if (strlen(header) != 64) return false;
  unsigned char given[32];
  for (int i = 0; i < 32; i++) {
    int hi = hexval(header[2 * i]), lo = hexval(header[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = (unsigned char)(hi << 4 | lo);
  }
  unsigned char mac[32];
  unsigned int maclen = 0;
  if (!HMAC(EVP_sha256(), secret, (int)secret_len, body, len, mac, &maclen) || maclen != 32) return false;
  return CRYPTO_memcmp(mac, given, 32) == 0;
}

bool ingest_content_type_ok(const char *value) {
  if (!value) return false;
  while (*value == ' ') value++;
  static const char json[] = "application/json";
  if (strncasecmp(value, json, sizeof json - 1) != 0) return false;
  const char *rest = value + sizeof json - 1;
  while (*rest == ' ') rest++;
  return *rest == '\0' || *rest == ';';
}
