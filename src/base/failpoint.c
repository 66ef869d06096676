/* failpoint.c: see failpoint.h. */
#include "base/failpoint.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define FAILPOINTS_MAX 16
#define FAILPOINT_NAME_MAX 96

typedef enum { FP_KILL = 0, FP_STOP, FP_EXIT, FP_ON } fp_action;

typedef struct {
  char name[FAILPOINT_NAME_MAX];
  long nth;    /* fire on this pass */
  long passes; /* passes so far */
  fp_action action;
} failpoint;

static pthread_mutex_t fp_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int fp_state; /* 0 unread, 1 none configured, 2 some */
static failpoint fps[FAILPOINTS_MAX];
static size_t nfps;

/* Parse one "NAME[@N][=ACTION]"; false (ignored, with a warning) when malformed. */
static bool parse_one(const char *text, size_t len, failpoint *out) {
  char item[FAILPOINT_NAME_MAX + 32];
  if (len == 0 || len >= sizeof item) return false;
  memcpy(item, text, len);
  item[len] = '\0';
  memset(out, 0, sizeof *out);
  out->nth = 1;
  char *eq = strchr(item, '=');
  if (eq) {
    *eq = '\0';
    if (strcmp(eq + 1, "kill") == 0)
      out->action = FP_KILL;
    else if (strcmp(eq + 1, "stop") == 0)
      out->action = FP_STOP;
    else if (strcmp(eq + 1, "exit") == 0)
      out->action = FP_EXIT;
    else if (strcmp(eq + 1, "on") == 0)
      out->action = FP_ON;
    else
      return false;
  }
  char *at = strchr(item, '@');
  if (at) {
    *at = '\0';
    char *end = NULL;
    long n = strtol(at + 1, &end, 10);
    if (!end || *end != '\0' || n < 1) return false;
    out->nth = n;
  }
  if (!item[0] || strlen(item) >= sizeof out->name) return false;
  snprintf(out->name, sizeof out->name, "%s", item);
  return true;
}

static void load(void) {
  const char *env = getenv("GONOGO_FAILPOINTS");
  nfps = 0;
  for (const char *p = env; p && *p && nfps < FAILPOINTS_MAX;) {
    size_t len = strcspn(p, ",");
    if (len > 0 && !parse_one(p, len, &fps[nfps]))
      gg_log_write(GG_LOG_WARN, "malformed failpoint ignored", "spec=\"%.*s\"", (int)len, p);
    else if (len > 0)
      nfps++;
    p += len;
    if (*p == ',') p++;
  }
  atomic_store(&fp_state, nfps ? 2 : 1);
}

static void fire(const failpoint *fp) {
  gg_log_write(GG_LOG_WARN, "failpoint fired", "name=%s pass=%ld", fp->name, fp->passes);
  switch (fp->action) {
    case FP_STOP:
      raise(SIGSTOP);
      break;
    case FP_EXIT:
      _exit(99);
    case FP_ON: /* a test-only branch the place takes itself (gg_failpoint_on) */
      break;
    case FP_KILL:
    default:
      raise(SIGKILL);
      break;
  }
}

/* Count a pass of `name`; true (with *hit) when this pass fires. */
static bool pass(const char *name, failpoint *hit) {
  pthread_mutex_lock(&fp_lock);
  if (atomic_load(&fp_state) == 0) load();
  bool fires = false;
  for (size_t i = 0; i < nfps; i++) {
    if (strcmp(fps[i].name, name) != 0) continue;
    if (++fps[i].passes == fps[i].nth) {
      *hit = fps[i];
      fires = true;
    }
  }
  pthread_mutex_unlock(&fp_lock);
  return fires;
}

bool gg_failpoint_on(const char *name) {
  if (atomic_load(&fp_state) == 1) return false;
  failpoint hit;
  bool fires = pass(name, &hit);
  GG_LOG(GG_LOG_DEBUG, "failpoint", "name=%s", name);
  if (fires && hit.action != FP_ON) fire(&hit);
  if (fires && hit.action == FP_ON)
    gg_log_write(GG_LOG_WARN, "failpoint on", "name=%s pass=%ld", hit.name, hit.passes);
  return fires && hit.action == FP_ON;
}

void gg_failpoint(const char *name) {
  int state = atomic_load(&fp_state);
  if (state == 1) return;
  pthread_mutex_lock(&fp_lock);
  if (atomic_load(&fp_state) == 0) load();
  failpoint hit;
  bool fires = false;
  for (size_t i = 0; i < nfps; i++) {
    if (strcmp(fps[i].name, name) != 0) continue;
    if (++fps[i].passes == fps[i].nth) {
      hit = fps[i];
      fires = true;
    }
  }
  pthread_mutex_unlock(&fp_lock);
  GG_LOG(GG_LOG_DEBUG, "failpoint", "name=%s", name);
  if (fires) fire(&hit);
}

void gg_failpoint2(const char *prefix, const char *name) {
  if (atomic_load(&fp_state) == 1) return;
  char full[FAILPOINT_NAME_MAX * 2];
  snprintf(full, sizeof full, "%s.%s", prefix, name);
  gg_failpoint(full);
}

void gg_failpoint_reset(void) {
  pthread_mutex_lock(&fp_lock);
  nfps = 0;
  atomic_store(&fp_state, 0);
  pthread_mutex_unlock(&fp_lock);
}
