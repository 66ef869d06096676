/*
 * canary.c: synthetic requests for `canary:` criteria (DESIGN §3). The data is marked as
 * canary data (the Gonogo-Canary header) so receivers can tell it from real traffic; the
 * caller then expects an expression within a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/internal.h"

gg_status probe_canary_post(probe_ctx *ctx, const char *url, const char *content_type, const void *body,
                            size_t len, const char *id, long *status, gg_error *err) {
  char header[300];
  snprintf(header, sizeof header, "%s: %s", PROBE_CANARY_HEADER, id);
  const char *headers[] = {header, NULL};
  gg_http_opts opts = {.timeout = ctx->timeout, .headers = headers};
  gg_http_response resp;
  memset(&resp, 0, sizeof resp);
  if (status) *status = 0;
  gg_status st = gg_http_post(url, content_type, body, len, &opts, &resp, err);
  if (st != GG_OK) return gg_error_prefix(err, "canary %s: ", id);
  if (status) *status = resp.status;
  if (resp.status < 200 || resp.status > 299) {
    char red[512];
    gg_http_redact_url(url, red, sizeof red);
    int blen = (int)(resp.body_len > 160 ? 160 : resp.body_len);
    st = gg_error_set(err, GG_ERR_HTTP, "canary %s: POST %s: HTTP %ld%s%.*s", id, red, resp.status,
                      blen ? ": " : "", blen, resp.body ? resp.body : "");
  }
  gg_http_response_release(&resp);
  return st;
}

gg_status probe_canary_publish(probe_ctx *ctx, const char *subject, const void *body, size_t len,
                               const char *id, char **stream, unsigned long long *seq, gg_error *err) {
  if (stream) *stream = NULL;
  if (seq) *seq = 0;
  jsCtx *js;
  gg_status st = probe_nats_get_js(ctx, &js, NULL, err);
  if (st != GG_OK) return gg_error_prefix(err, "canary %s: ", id);
  natsMsg *msg = NULL;
  jsPubAck *ack = NULL;
  jsErrCode jerr = 0;
  char msgid[300];
  snprintf(msgid, sizeof msgid, "gonogo-canary-%s", id);
  natsStatus s = natsMsg_Create(&msg, subject, NULL, body, (int)len);
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, PROBE_CANARY_HEADER, id);
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", msgid);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = (int64_t)(ctx->timeout * 1000);
  if (s == NATS_OK) s = js_PublishMsg(&ack, js, msg, &po, &jerr);
  if (s != NATS_OK) {
    char servers[512];
    probe_nats_servers_text(ctx, servers, sizeof servers);
    const char *why = s == NATS_NO_RESPONDERS ? "no stream captures the subject" : natsStatus_GetText(s);
    st = gg_error_set(err, s == NATS_TIMEOUT ? GG_ERR_TIMEOUT : GG_ERR_NATS,
                      "canary %s: publish to '%s' (nats %s): %s", id, subject, servers, why);
  } else {
    if (stream && ack->Stream) {
      *stream = strdup(ack->Stream);
      if (!*stream) st = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    }
    if (seq) *seq = ack->Sequence;
  }
  jsPubAck_Destroy(ack);
  natsMsg_Destroy(msg);
  return st;
}
