/*
 * internal.h: what the files of src/ingest share. Not installed; callers use ingest.h.
 */
#ifndef GG_INGEST_INTERNAL_H
#define GG_INGEST_INTERNAL_H

#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ingest/ingest.h"

/* The traffic share of one subject root (shift.c). `percent` is read on the hot path without
 * the lock; the rest (what /health says) under mu. */
typedef struct {
  char root[16]; /* "core", "vendor" */
  char kv[256];  /* "BUCKET/KEY" as configured; "" when the root is not split */
  char bucket[128];
  char key[128];
  bool enabled;
  _Atomic double percent; /* 0..100: the last good share */
  pthread_mutex_t mu;
  char state[16];    /* "off", "waiting", "unset", "ok", "kept" */
  char problem[256]; /* why the share is not the key's current value; "" when it is */
  uint64_t revision; /* of the entry last seen; 0 none */
  jsCtx *js;
  pthread_t thread;
  bool started;
  _Atomic bool stop;
} ingest_shift;

/* Set up sh for `root` from kv ("BUCKET/KEY", or NULL/"" for no split). GG_ERR_INVALID naming
 * INGEST_SHIFT_<ROOT> when kv is not BUCKET/KEY. Release with ingest_shift_release. */
gg_status ingest_shift_init(ingest_shift *sh, const char *root, const char *kv, gg_error *err) GG_WUR;
/* Start watching (nothing when not enabled). */
gg_status ingest_shift_start(ingest_shift *sh, jsCtx *js, gg_error *err) GG_WUR;
/* Stop the watcher thread (idempotent); then release. */
void ingest_shift_stop(ingest_shift *sh);
void ingest_shift_release(ingest_shift *sh);
/* {"key", "share" (percent), "state", "revision"[, "problem"]}; you own it. */
json_t *ingest_shift_json(ingest_shift *sh);

#endif
