/*
 * lock.c: the lease that lets one `run` / `rollback` / `resume` / `watch` act on a migration at a
 * time. The lease row is mutable (outside the chain); every change of hands is journaled in the
 * same transaction, so the chain says who held the lock when.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "journal/journal_int.h"

static bool pid_alive(long pid) {
  if (pid <= 0) return false;
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static gg_status make_token(journal *j, gg_error *err) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return gg_error_set(err, GG_ERR_SYSTEM, "journal '%s': no random bytes for the lease token", j->path);
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof raw; i++) {
    j->lease_token[2 * i] = hex[raw[i] >> 4];
    j->lease_token[2 * i + 1] = hex[raw[i] & 15];
  }
  j->lease_token[32] = '\0';
  return GG_OK;
}

/* Read the lease row inside the current transaction (or outside one). *held false when free. */
static gg_status read_lease(journal *j, bool *held, journal_lease *l, char *token, size_t token_n,
                            gg_error *err) {
  journal_stmt *st = NULL;
  *held = false;
  memset(l, 0, sizeof *l);
  if (token_n) token[0] = '\0';
  gg_status s =
      journal_prepare(j, "SELECT holder, host, pid, token, since, expires FROM lease WHERE id = 1", &st, err);
  if (s != GG_OK) return s;
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    *held = true;
    snprintf(l->holder, sizeof l->holder, "%s", (const char *)journal_column_text(st, 0));
    snprintf(l->host, sizeof l->host, "%s", (const char *)journal_column_text(st, 1));
    l->pid = (long)journal_column_int64(st, 2);
    if (token_n) snprintf(token, token_n, "%s", (const char *)journal_column_text(st, 3));
    l->since = journal_column_double(st, 4);
    l->expires = journal_column_double(st, 5);
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read the lock");
  }
  journal_finalize(st);
  return s;
}

/* Why a lease is stale, or "" when it is live. */
static const char *stale_reason(const journal_lease *l, double now, char *out, size_t n) {
  out[0] = '\0';
  if (now >= l->expires) {
    char when[40];
    snprintf(out, n, "its lease expired at %s", gg_time_format(l->expires, when, sizeof when));
  } else if (strcmp(l->host, journal_host()) == 0 && !pid_alive(l->pid)) {
    snprintf(out, n, "process %ld is gone", l->pid);
  }
  return out;
}

gg_status journal_lock_get(journal *j, bool *held, bool *stale, journal_lease *out, gg_error *err) {
  gg_status s = read_lease(j, held, out, NULL, 0, err);
  if (s != GG_OK) return s;
  char why[128];
  *stale = *held && stale_reason(out, gg_clock_now(), why, sizeof why)[0] != '\0';
  return GG_OK;
}

static json_t *lease_json(const journal_lease *l) {
  char since[40], expires[40];
  return json_pack("{s:s, s:s, s:I, s:s, s:s}", "holder", l->holder, "host", l->host, "pid",
                   (json_int_t)l->pid, "since", gg_time_format(l->since, since, sizeof since), "expires",
                   gg_time_format(l->expires, expires, sizeof expires));
}

static gg_status write_lease(journal *j, const journal_lease *l, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "INSERT INTO lease (id, holder, host, pid, token, since, expires)"
                                " VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                                " holder = excluded.holder, host = excluded.host, pid = excluded.pid,"
                                " token = excluded.token, since = excluded.since, expires = excluded.expires",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, l->holder);
  journal_bind_text(st, 2, l->host);
  journal_bind_int64(st, 3, l->pid);
  journal_bind_text(st, 4, j->lease_token);
  journal_bind_double(st, 5, l->since);
  journal_bind_double(st, 6, l->expires);
  if (journal_step(st) != JOURNAL_DONE) s = journal_sql_fail(j, err, "write the lock");
  journal_finalize(st);
  return s;
}

static gg_status journal_lease_event(journal *j, journal_kind kind, const journal_lease *l, const char *why,
                                     const journal_lease *previous, gg_error *err) {
  json_t *c = lease_json(l);
  if (!c) return gg_error_set(err, GG_ERR_INVALID, "cannot encode the lock holder (not UTF-8?)");
  if (why) json_object_set_new(c, "reason", json_string(why));
  if (previous) json_object_set_new(c, "previous", lease_json(previous));
  gg_status s = journal_append_in_tx(j, kind, JOURNAL_NO_PHASE, l->holder, c, NULL, err);
  json_decref(c);
  return s;
}

gg_status journal_lock_acquire(journal *j, const char *holder, double ttl, bool break_stale,
                               journal_lease *other, gg_error *err) {
  gg_status s = journal_need_writable(j, "take the lock", err);
  if (s != GG_OK) return s;
  if (ttl <= 0) ttl = JOURNAL_LEASE_TTL;
  if (!j->lease_token[0]) {
    s = make_token(j, err);
    if (s != GG_OK) return s;
  }
  s = journal_begin(j, err);
  if (s != GG_OK) return s;
  bool held = false;
  journal_lease cur;
  char token[64];
  s = read_lease(j, &held, &cur, token, sizeof token, err);
  if (s != GG_OK) goto out;
  double now = gg_clock_now();
  journal_lease mine = {.pid = (long)getpid(), .since = now, .expires = now + ttl};
  snprintf(mine.holder, sizeof mine.holder, "%s", holder && holder[0] ? holder : journal_os_user());
  snprintf(mine.host, sizeof mine.host, "%s", journal_host());
  bool broke = false;
  char why[128] = "";
  if (held && strcmp(token, j->lease_token) == 0) {
    mine.since = cur.since; /* ours already: a renewal */
  } else if (held) {
    if (other) *other = cur;
    char since[40], until[40];
    gg_time_format(cur.since, since, sizeof since);
    if (stale_reason(&cur, now, why, sizeof why)[0] == '\0') {
      s = gg_error_set(
          err, GG_ERR_LOCKED, "migration is locked by '%s' (pid %ld on %s) since %s; its lease runs until %s",
          cur.holder, cur.pid, cur.host, since, gg_time_format(cur.expires, until, sizeof until));
      goto out;
    }
    if (!break_stale) {
      s = gg_error_set(err, GG_ERR_LOCKED,
                       "migration has a stale lock held by '%s' (pid %ld on %s) since %s: %s; take it over "
                       "with --break-lock",
                       cur.holder, cur.pid, cur.host, since, why);
      goto out;
    }
    broke = true;
  }
  s = write_lease(j, &mine, err);
  if (s != GG_OK) goto out;
  if (broke) s = journal_lease_event(j, JOURNAL_LOCK_BROKEN, &mine, why, &cur, err);
  if (s == GG_OK && !(held && !broke)) s = journal_lease_event(j, JOURNAL_LOCK_TAKEN, &mine, NULL, NULL, err);
  if (s != GG_OK) goto out;
  s = journal_commit(j, err);
  if (s == GG_OK) j->lease_held = true;
  return s;
out:
  journal_rollback(j);
  return s;
}

gg_status journal_lock_renew(journal *j, double ttl, gg_error *err) {
  if (ttl <= 0) ttl = JOURNAL_LEASE_TTL;
  if (!j->lease_held) return gg_error_set(err, GG_ERR_LOCKED, "journal '%s': renew a lock not held", j->path);
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j, "UPDATE lease SET expires = ? WHERE id = 1 AND token = ?", &st, err);
  if (s != GG_OK) return s;
  journal_bind_double(st, 1, gg_clock_now() + ttl);
  journal_bind_text(st, 2, j->lease_token);
  if (journal_step(st) != JOURNAL_DONE)
    s = journal_sql_fail(j, err, "renew the lock");
  else if (journal_changes(j) != 1) {
    j->lease_held = false;
    s = gg_error_set(err, GG_ERR_LOCKED,
                     "journal '%s': the lock was lost (broken or taken over by another actor)", j->path);
  }
  journal_finalize(st);
  return s;
}

gg_status journal_lock_release(journal *j, gg_error *err) {
  if (!j->lease_held) return GG_OK;
  gg_status s = journal_begin(j, err);
  if (s != GG_OK) return s;
  bool held = false;
  journal_lease cur;
  char token[64];
  s = read_lease(j, &held, &cur, token, sizeof token, err);
  if (s != GG_OK) goto out;
  j->lease_held = false;
  if (!held || strcmp(token, j->lease_token) != 0) {
    journal_rollback(j); /* lost meanwhile: nothing of ours to release */
    return GG_OK;
  }
  s = journal_exec(j, "DELETE FROM lease WHERE id = 1", err);
  if (s == GG_OK) s = journal_lease_event(j, JOURNAL_LOCK_RELEASED, &cur, NULL, NULL, err);
  if (s != GG_OK) goto out;
  return journal_commit(j, err);
out:
  journal_rollback(j);
  return s;
}

void journal_lock_share(journal *dst, const journal *src) {
  memcpy(dst->lease_token, src->lease_token, sizeof dst->lease_token);
  dst->lease_held = src->lease_held;
}
