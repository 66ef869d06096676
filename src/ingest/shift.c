/*
 * shift.c: the live traffic split of ingest-service (DESIGN §14).
 *
 * Each subject root (core, vendor) may have a NATS KV key that holds the share of its traffic
 * that goes to the new topology, as a percentage ("10", "12.5%"). A watcher thread per key
 * (nats.c kvStore_Watch) applies a change as it arrives, so within a second and without a
 * restart. A missing bucket or key is 0 % until it appears; a malformed value or a deleted key
 * keeps the last good share and says so (log, /health). The choice for one reading is a hash
 * of its id against the share, so every retry of a reading goes the same way and, since the
 * share only rises during a shift, a reading that went to the new side keeps going there.
 */
#include <errno.h>
#include <math.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "ingest/internal.h"

#define SHIFT_WATCH_POLL_MS 250 /* how often a watcher looks at the stop flag */
#define SHIFT_RETRY_US 1000000  /* a bucket that does not exist yet is looked for this often */

gg_status ingest_shift_parse(const char *text, size_t len, double *percent, char *why, size_t n) {
  char buf[64];
  while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\t')) len--;
  while (len > 0 && (*text == ' ' || *text == '\t')) text++, len--;
  if (len == 0 || len >= sizeof buf) {
    snprintf(why, n, len == 0 ? "empty value" : "value longer than 63 bytes");
    return GG_ERR_INVALID;
  }
  memcpy(buf, text, len);
  buf[len] = '\0';
  if (buf[len - 1] == '%') buf[--len] = '\0';
  char *end = NULL;
  errno = 0;
  double v = strtod(buf, &end);
  if (len == 0 || end == buf || *end != '\0' || errno != 0 || !isfinite(v)) {
    snprintf(why, n, "'%.*s' is not a percentage (0 to 100)", (int)len, buf);
    return GG_ERR_INVALID;
  }
  if (v < 0 || v > 100) {
    snprintf(why, n, "%g is outside 0 to 100", v);
    return GG_ERR_INVALID;
  }
  *percent = v;
  return GG_OK;
}

bool ingest_shift_goes_new(const char *id, double percent) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  uint64_t h = 14695981039346656037ull; /* FNV-1a: stable across builds and hosts */
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
    h ^= *p;
    h *= 1099511628211ull;
  }
  /* 10,000 buckets: a share is honoured to 0.01 %. */
  return (double)(h % 10000u) < percent * 100.0;
}

bool ingest_shift_subject(const double share[2], ingest_root root, const char *prefix, const char *id,
                          const char *token, char *out, size_t n) {
  bool new_side = ingest_shift_goes_new(id, share[root]);
  snprintf(out, n, "%s%s%s", new_side ? prefix : "", root == INGEST_ROOT_CORE ? "core.hrv." : "vendor.oura.",
           token);
  return new_side;
}

/* Under sh->mu. */
static void set_state(ingest_shift *sh, const char *state, const char *problem) {
  snprintf(sh->state, sizeof sh->state, "%s", state);
  snprintf(sh->problem, sizeof sh->problem, "%s", problem ? problem : "");
}

static void apply_entry(ingest_shift *sh, kvEntry *e) {
  kvOperation op = kvEntry_Operation(e);
  uint64_t rev = kvEntry_Revision(e);
  pthread_mutex_lock(&sh->mu);
  sh->revision = rev;
  if (op != kvOp_Put) {
    set_state(sh, "kept", "key deleted: keeping the last good share");
    pthread_mutex_unlock(&sh->mu);
    gg_warn("traffic share key deleted", "root=%s key=%s share=%g action=keep", sh->root, sh->kv,
            atomic_load(&sh->percent));
    return;
  }
  double pct = 0;
  char why[160];
  const char *val = (const char *)kvEntry_Value(e);
  size_t len = (size_t)kvEntry_ValueLen(e);
  if (ingest_shift_parse(val ? val : "", val ? len : 0, &pct, why, sizeof why) != GG_OK) {
    char problem[200];
    snprintf(problem, sizeof problem, "malformed value at revision %llu: %s; keeping the last good share",
             (unsigned long long)rev, why);
    set_state(sh, "kept", problem);
    pthread_mutex_unlock(&sh->mu);
    gg_warn("traffic share value malformed",
            "root=%s key=%s revision=%llu problem=\"%s\" share=%g action=keep", sh->root, sh->kv,
            (unsigned long long)rev, why, atomic_load(&sh->percent));
    return;
  }
  double before = atomic_load(&sh->percent);
  atomic_store(&sh->percent, pct);
  set_state(sh, "ok", NULL);
  pthread_mutex_unlock(&sh->mu);
  gg_info("traffic share applied", "root=%s key=%s revision=%llu share=%g previous=%g", sh->root, sh->kv,
          (unsigned long long)rev, pct, before);
}

static bool stopping(ingest_shift *sh) {
  return atomic_load(&sh->stop);
}

/* Watch until stopped or the watcher fails (then the caller opens it again). */
static void watch_key(ingest_shift *sh, kvStore *kv) {
  kvWatcher *w = NULL;
  natsStatus s = kvStore_Watch(&w, kv, sh->key, NULL);
  if (s != NATS_OK) {
    pthread_mutex_lock(&sh->mu);
    set_state(sh, "waiting", "cannot watch the key");
    pthread_mutex_unlock(&sh->mu);
    gg_warn("traffic share watch failed", "root=%s key=%s err=\"%s\"", sh->root, sh->kv,
            natsStatus_GetText(s));
    return;
  }
  bool initial = true;
  while (!stopping(sh)) {
    kvEntry *e = NULL;
    s = kvWatcher_Next(&e, w, SHIFT_WATCH_POLL_MS);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      gg_warn("traffic share watch lost", "root=%s key=%s err=\"%s\"", sh->root, sh->kv,
              natsStatus_GetText(s));
      break;
    }
    if (!e) {
      /* The end of the initial values: no value at all means the key is not set yet. */
      if (initial) {
        pthread_mutex_lock(&sh->mu);
        if (sh->revision == 0) set_state(sh, "unset", "key not set: 0% to the new topology");
        pthread_mutex_unlock(&sh->mu);
      }
      initial = false;
      continue;
    }
    apply_entry(sh, e);
    kvEntry_Destroy(e);
  }
  kvWatcher_Stop(w);
  kvWatcher_Destroy(w);
}

static void *shift_main(void *arg) {
  ingest_shift *sh = arg;
  bool said = false;
  while (!stopping(sh)) {
    kvStore *kv = NULL;
    natsStatus s = js_KeyValue(&kv, sh->js, sh->bucket);
    if (s != NATS_OK) {
      pthread_mutex_lock(&sh->mu);
      set_state(sh, "waiting", "kv bucket does not exist (yet): keeping the last good share");
      pthread_mutex_unlock(&sh->mu);
      if (!said)
        gg_warn("traffic share bucket missing", "root=%s key=%s err=\"%s\" share=%g", sh->root, sh->kv,
                natsStatus_GetText(s), atomic_load(&sh->percent));
      said = true;
      for (int i = 0; i < 10 && !stopping(sh); i++) usleep(SHIFT_RETRY_US / 10);
      continue;
    }
    said = false;
    watch_key(sh, kv);
    kvStore_Destroy(kv);
    for (int i = 0; i < 10 && !stopping(sh); i++) usleep(SHIFT_RETRY_US / 10);
  }
  return NULL;
}

gg_status ingest_shift_init(ingest_shift *sh, const char *root, const char *kv, gg_error *err) {
  memset(sh, 0, sizeof *sh);
  snprintf(sh->root, sizeof sh->root, "%s", root);
  atomic_store(&sh->percent, 0.0);
  pthread_mutex_init(&sh->mu, NULL);
  set_state(sh, "off", NULL);
  if (!kv || !*kv) return GG_OK;
  const char *slash = strchr(kv, '/');
  if (!slash || slash == kv || !slash[1] || strlen(kv) >= sizeof sh->kv)
    return gg_error_set(err, GG_ERR_INVALID, "INGEST_SHIFT_%s: '%s' must be BUCKET/KEY",
                        strcmp(root, "core") == 0 ? "CORE" : "VENDOR", kv);
  snprintf(sh->kv, sizeof sh->kv, "%s", kv);
  snprintf(sh->bucket, sizeof sh->bucket, "%.*s", (int)(slash - kv), kv);
  snprintf(sh->key, sizeof sh->key, "%s", slash + 1);
  sh->enabled = true;
  set_state(sh, "waiting", "not read yet");
  return GG_OK;
}

gg_status ingest_shift_start(ingest_shift *sh, jsCtx *js, gg_error *err) {
  if (!sh->enabled) return GG_OK;
  sh->js = js;
  if (pthread_create(&sh->thread, NULL, shift_main, sh) != 0)
    return gg_error_set(err, GG_ERR_SYSTEM, "start the traffic share watcher for '%s'", sh->kv);
  sh->started = true;
  return GG_OK;
}

void ingest_shift_stop(ingest_shift *sh) {
  atomic_store(&sh->stop, true);
  if (sh->started) pthread_join(sh->thread, NULL);
  sh->started = false;
}

void ingest_shift_release(ingest_shift *sh) {
  ingest_shift_stop(sh);
  pthread_mutex_destroy(&sh->mu);
}

json_t *ingest_shift_json(ingest_shift *sh) {
  pthread_mutex_lock(&sh->mu);
  json_t *o = json_pack("{s:s,s:f,s:s,s:I}", "key", sh->enabled ? sh->kv : "", "share",
                        atomic_load(&sh->percent), "state", sh->state, "revision", (json_int_t)sh->revision);
  if (o && sh->problem[0]) json_object_set_new(o, "problem", json_string(sh->problem));
  pthread_mutex_unlock(&sh->mu);
  return o;
}
