/*
 * verify.c: checking the chain (every row, the recorded head) and the head anchor outside the
 * file that lets a shortened chain be noticed (journal.h, CANONICAL ENCODING AND HASH).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/journal.h"
#include "journal/journal_int.h"

/* ---- the head anchor outside the file -------------------------------------------------------- */

char *journal_anchor_path(const journal *j) {
  if (journal_is_pg(j)) return NULL;
  size_t n = strlen(j->path) + sizeof ".head";
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s.head", j->path);
  return p;
}

/* Read "SEQ HASH" from fd; false when the file is empty or damaged. */
static bool anchor_read_fd(int fd, long long *seq, char *hash) {
  char buf[128];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  buf[n] = '\0';
  char *end = NULL;
  errno = 0;
  long long v = strtoll(buf, &end, 10);
  if (errno != 0 || end == buf || v <= 0 || *end != ' ') return false;
  const char *h = end + 1;
  size_t len = strspn(h, "0123456789abcdef");
  if (len != JOURNAL_HASH_HEX - 1 || (h[len] != '\n' && h[len] != '\0')) return false;
  *seq = v;
  memcpy(hash, h, JOURNAL_HASH_HEX - 1);
  hash[JOURNAL_HASH_HEX - 1] = '\0';
  return true;
}

/* Move the anchor forward to the head this handle just committed. Several processes append:
 * the anchor is written under an flock and only ever moves forward. Best effort: the event is
 * committed whatever happens here, and an anchor left behind only anchors less. */
void journal_anchor_advance(journal *j) {
  char *path = journal_anchor_path(j);
  int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
  free(path);
  if (fd < 0) return;
  if (flock(fd, LOCK_EX) == 0) {
    long long have = 0;
    char hash[JOURNAL_HASH_HEX];
    if (!anchor_read_fd(fd, &have, hash) || have < j->pending_seq) {
      /* One pwrite over the old line, never a truncate first: the sequence only grows, so the new
       * line is at least as long, and a process killed here leaves the old line or the new one. */
      char line[128];
      int n = snprintf(line, sizeof line, "%lld %s\n", j->pending_seq, j->pending_hash);
      if (n > 0 && pwrite(fd, line, (size_t)n, 0) == n) (void)fsync(fd);
    }
  }
  close(fd); /* releases the lock */
}

/* ---- verifying ------------------------------------------------------------------------------------ */

GG_PRINTF(3, 4)
static void verify_fail(journal_verify_result *res, long long seq, const char *fmt, ...) {
  res->ok = false;
  res->bad_seq = seq;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->what, sizeof res->what, fmt, ap);
  va_end(ap);
}

static gg_status meta_get(journal *j, const char *key, char *out, size_t n, bool *found, gg_error *err) {
  journal_stmt *st = NULL;
  *found = false;
  out[0] = '\0';
  gg_status s = journal_prepare(j, "SELECT value FROM meta WHERE key = ?", &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, key);
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    const unsigned char *v = journal_column_text(st, 0);
    snprintf(out, n, "%s", v ? (const char *)v : "");
    *found = true;
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read meta");
  }
  journal_finalize(st);
  return s;
}

/* Check one row against its predecessor; false (with res filled) at the first problem. */
static bool verify_row(journal_stmt *st, long long expect_seq, const char *prev, journal_verify_result *res) {
  long long seq = journal_column_int64(st, 0);
  long long time_ms = journal_column_int64(st, 1);
  const char *kind = (const char *)journal_column_text(st, 2);
  const char *phase = (const char *)journal_column_text(st, 3);
  const char *actor = (const char *)journal_column_text(st, 4);
  const char *os_user = (const char *)journal_column_text(st, 5);
  const char *host = (const char *)journal_column_text(st, 6);
  const char *content = (const char *)journal_column_text(st, 7);
  const char *prev_hash = (const char *)journal_column_text(st, 8);
  const char *hash = (const char *)journal_column_text(st, 9);
  if (seq != expect_seq) {
    if (expect_seq == seq - 1)
      verify_fail(res, seq, "row %lld is missing before it (deleted)", expect_seq);
    else
      verify_fail(res, seq, "rows %lld to %lld are missing before it (deleted)", expect_seq, seq - 1);
    return false;
  }
  if (!kind || !actor || !os_user || !host || !content || !prev_hash || !hash) {
    verify_fail(res, seq, "a column is NULL (row edited)");
    return false;
  }
  if (strcmp(prev_hash, prev) != 0) {
    if (seq == 1)
      verify_fail(res, seq, "prev_hash is not the chain's start (rows before it deleted or row inserted)");
    else
      verify_fail(res, seq,
                  "prev_hash does not match the hash of row %lld (a row was deleted, inserted or reordered "
                  "here)",
                  seq - 1);
    return false;
  }
  json_t *c = json_loads(content, 0, NULL);
  char *canon = c && json_is_object(c) ? journal_canonical(c) : NULL;
  bool canonical = canon && strcmp(canon, content) == 0;
  free(canon);
  json_decref(c);
  if (!canonical) {
    verify_fail(res, seq, "content is not canonical JSON (row edited)");
    return false;
  }
  char computed[JOURNAL_HASH_HEX];
  gg_error herr;
  gg_error_clear(&herr);
  if (journal_row_hash(seq, time_ms, kind, phase, actor, os_user, host, content, prev, computed, &herr) !=
      GG_OK) {
    verify_fail(res, seq, "cannot recompute its hash: %s", gg_error_message(&herr));
    return false;
  }
  if (strcmp(computed, hash) != 0) {
    verify_fail(res, seq, "its fields do not match its hash (row edited)");
    return false;
  }
  return true;
}

/* The anchor beside the file, when there is one (journals written before it have none). */
static gg_status verify_head_file(journal *j, journal_verify_result *res, gg_error *err) {
  if (journal_is_pg(j)) {
    bool found = false;
    long long aseq = 0;
    char ahash[JOURNAL_HASH_HEX];
    gg_status as = journal_pg_anchor_read(j, &found, &aseq, ahash, err);
    if (as != GG_OK || !found) return as;
    as = journal_verify_anchor(j, aseq, ahash, "the head anchor table", res, err);
    if (as == GG_OK && res->ok) res->anchored = true;
    return as;
  }
  char *path = journal_anchor_path(j);
  if (!path) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  gg_status s = GG_OK;
  if (fd < 0) {
    if (errno != ENOENT)
      verify_fail(res, res->head_seq, "cannot read its head anchor '%s': %s", path, strerror(errno));
    goto out;
  }
  long long seq = 0;
  char hash[JOURNAL_HASH_HEX];
  struct stat sb;
  (void)flock(fd, LOCK_SH); /* not while an appender rewrites it */
  bool empty = fstat(fd, &sb) == 0 && sb.st_size == 0;
  bool ok = !empty && anchor_read_fd(fd, &seq, hash);
  close(fd);
  if (empty) goto out; /* created, not yet written (its creator was killed): no anchor yet */
  if (!ok) {
    verify_fail(res, res->head_seq, "its head anchor '%s' is damaged", path);
    goto out;
  }
  char source[64];
  snprintf(source, sizeof source, "the head anchor beside the journal");
  s = journal_verify_anchor(j, seq, hash, source, res, err);
  if (s == GG_OK && res->ok) res->anchored = true;
out:
  free(path);
  return s;
}

gg_status journal_verify(journal *j, journal_verify_result *res, gg_error *err) {
  memset(res, 0, sizeof *res);
  res->ok = true;
  journal_stmt *st = NULL;
  /* One read transaction: a consistent snapshot even while others append. */
  gg_status s = journal_begin_read(j, err);
  if (s != GG_OK) return s;
  s = journal_prepare(j, "SELECT " EVENT_COLUMNS " FROM events ORDER BY seq", &st, err);
  if (s != GG_OK) goto out;
  char prev[JOURNAL_HASH_HEX];
  memcpy(prev, JOURNAL_ZERO_HASH, sizeof prev);
  long long expect = 1, last = 0;
  int rc;
  while ((rc = journal_step(st)) == JOURNAL_ROW) {
    res->rows++;
    if (!verify_row(st, expect, prev, res)) goto out;
    const unsigned char *h = journal_column_text(st, 9);
    snprintf(prev, sizeof prev, "%s", (const char *)h);
    last = expect;
    expect++;
  }
  if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read events");
    goto out;
  }
  snprintf(res->head_hash, sizeof res->head_hash, "%s", last ? prev : "");
  res->head_seq = last;
  char head_seq[32], head_hash[JOURNAL_HASH_HEX + 8];
  bool have_seq = false, have_hash = false;
  s = meta_get(j, "head_seq", head_seq, sizeof head_seq, &have_seq, err);
  if (s == GG_OK) s = meta_get(j, "head_hash", head_hash, sizeof head_hash, &have_hash, err);
  if (s != GG_OK) goto out;
  if (!have_seq && last == 0) goto out;
  char *end = NULL;
  long long hs = have_seq ? strtoll(head_seq, &end, 10) : 0;
  if (!have_seq || !have_hash || !end || *end != '\0') {
    verify_fail(res, last, "the recorded chain head is missing or damaged");
  } else if (hs > last) {
    verify_fail(res, last + 1,
                "the chain ends at row %lld but row %lld was appended (rows deleted at the end)", last, hs);
  } else if (hs < last) {
    verify_fail(res, hs + 1, "rows after %lld were not appended by gonogo (inserted)", hs);
  } else if (strcmp(head_hash, prev) != 0) {
    verify_fail(res, last, "the last row's hash differs from the recorded chain head (row replaced)");
  }
out:
  journal_finalize(st);
  /* PostgreSQL's anchor is read in the same snapshot as the rows, so a concurrent append never
   * looks like a shortened chain; the file anchor can only be read after. */
  if (journal_is_pg(j) && s == GG_OK && res->ok) s = verify_head_file(j, res, err);
  if ((journal_is_pg(j) ? journal_pg_commit(j, NULL) : journal_exec(j, "COMMIT", NULL)) != GG_OK)
    journal_rollback(j);
  if (!journal_is_pg(j) && s == GG_OK && res->ok) s = verify_head_file(j, res, err);
  return s;
}

gg_status journal_anchor_parse(const char *text, long long *seq, char *hash, gg_error *err) {
  const char *colon = text ? strchr(text, ':') : NULL;
  char *end = NULL;
  errno = 0;
  long long v = colon ? strtoll(text, &end, 10) : 0;
  size_t len = colon ? strlen(colon + 1) : 0;
  if (!colon || errno != 0 || end != colon || v <= 0 || len != JOURNAL_HASH_HEX - 1 ||
      strspn(colon + 1, "0123456789abcdef") != len)
    return gg_error_set(err, GG_ERR_INVALID,
                        "anchor '%s': expected SEQ:HASH, a row number and its 64 lower-case hex digits "
                        "(as `journal verify` prints them)",
                        text ? text : "");
  *seq = v;
  memcpy(hash, colon + 1, JOURNAL_HASH_HEX);
  return GG_OK;
}

gg_status journal_verify_anchor(journal *j, long long seq, const char *hash, const char *source,
                                journal_verify_result *res, gg_error *err) {
  if (!res->ok) return GG_OK; /* the first fault is already named */
  if (seq > res->head_seq) {
    verify_fail(res, res->head_seq + 1,
                "the chain ends at row %lld but %s names row %lld (rows deleted at the end)", res->head_seq,
                source, seq);
    return GG_OK;
  }
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j, "SELECT hash FROM events WHERE seq = ?", &st, err);
  if (s != GG_OK) return s;
  journal_bind_int64(st, 1, seq);
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    const unsigned char *h = journal_column_text(st, 0);
    if (!h || strcmp((const char *)h, hash) != 0)
      verify_fail(res, seq, "its hash differs from the one %s names (the chain was rewritten)", source);
  } else if (rc == JOURNAL_DONE) {
    verify_fail(res, seq, "row is missing although %s names it", source);
  } else {
    s = journal_sql_fail(j, err, "read an anchored row");
  }
  journal_finalize(st);
  return s;
}
