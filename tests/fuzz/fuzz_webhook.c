/*
 * fuzz_webhook.c: libFuzzer target for the webhook and reading parsers (base/payload.h)
 * and the signature check ingest-service applies to the same bytes.
 *
 * Properties checked on every input: a refusal always names a problem (and its root is
 * NULL); an accepted reading has ids that are safe subject tokens and an rmssd in range;
 * an accepted Oura document expands to exactly as many rows as it has non-null items,
 * each in range and with an id "<event_id>:<i>". The input is also tried as an
 * X-Signature header value, which must never verify against a different body.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"
#include "svc/payload.h"

static void check(int ok) {
  if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  json_t *root = NULL;
  gg_payload_problem prob;

  gg_hrv_reading r;
  memset(&prob, 0, sizeof prob);
  if (gg_payload_parse_hrv(text, size, &root, &r, &prob) == GG_OK) {
    check(gg_payload_token_ok(r.athlete_id, GG_PAYLOAD_ATHLETE_ID_MAX));
    check(strlen(r.event_id) <= GG_PAYLOAD_EVENT_ID_MAX && r.event_id[0]);
    check(r.rmssd_ms > 0 && r.rmssd_ms <= GG_PAYLOAD_RMSSD_MAX);
    check(isfinite(r.measured_at));
    json_decref(root);
  } else {
    check(root == NULL && prob.problem[0]);
  }

  gg_oura_doc d;
  memset(&prob, 0, sizeof prob);
  if (gg_payload_parse_oura(text, size, &root, &d, &prob) == GG_OK) {
    check(gg_payload_token_ok(d.event_type, GG_PAYLOAD_EVENT_TYPE_MAX));
    size_t n = gg_oura_expand(&d, NULL, 0), nonnull = 0;
    for (size_t i = 0; i < json_array_size(d.items); i++)
      nonnull += !json_is_null(json_array_get(d.items, i));
    check(n == nonnull && n <= GG_PAYLOAD_OURA_ITEMS_MAX);
    gg_hrv_row *rows = n ? calloc(n, sizeof *rows) : NULL;
    check(n == 0 || rows != NULL);
    check(gg_oura_expand(&d, rows, n) == n);
    for (size_t i = 0; i < n; i++) {
      check(rows[i].rmssd_ms > 0 && rows[i].rmssd_ms <= GG_PAYLOAD_RMSSD_MAX);
      check(strncmp(rows[i].msg_id, d.event_id, strlen(d.event_id)) == 0 &&
            rows[i].msg_id[strlen(d.event_id)] == ':');
    }
    free(rows);
    json_decref(root);
  } else {
    check(root == NULL && prob.problem[0]);
  }

  /* As a signature header: NUL-terminate a copy; it must not verify for the body "x". */
  char *header = malloc(size + 1);
  check(header != NULL);
  memcpy(header, data, size);
  header[size] = '\0';
  check(!ingest_signature_ok((const unsigned char *)"key", 3, "x", 1, header) ||
        strlen(header) >= 64); /* only a 64-hex value can (if it is the real MAC) */
  free(header);
  return 0;
}
