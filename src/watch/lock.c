/*
 * lock.c: one watcher per migration. The journal's lease is for acting (run, rollback) and a
 * watcher takes it only while it rolls back, so watchers exclude each other with a pid file
 * beside the journal, held with flock: the kernel lets go of it when the process dies, so a
 * killed watcher never leaves a stale lock behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "watch/watch.h"

gg_status watch_pidlock_acquire(const char *journal_path, int *fd, gg_error *err) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s.watch.pid", journal_path) >= sizeof path)
    return gg_error_set(err, GG_ERR_INVALID, "journal path too long: '%s'", journal_path);
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f < 0) return gg_error_set(err, GG_ERR_IO, "open '%s': %s", path, strerror(errno));
  if (flock(f, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char buf[32] = "";
    ssize_t n = pread(f, buf, sizeof buf - 1, 0);
    close(f);
    if (e == EWOULDBLOCK) {
      buf[n > 0 ? n : 0] = '\0';
      buf[strcspn(buf, "\n")] = '\0';
      return gg_error_set(err, GG_ERR_LOCKED,
                          "another watch of this migration is running (pid %s, lock '%s')",
                          buf[0] ? buf : "?", path);
    }
    return gg_error_set(err, GG_ERR_IO, "lock '%s': %s", path, strerror(e));
  }
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)len, 0) != len) {
    int e = errno;
    close(f);
    return gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(e));
  }
  *fd = f;
  return GG_OK;
}

void watch_pidlock_release(const char *journal_path, int fd) {
  if (fd < 0) return;
  (void)journal_path;
  /* Emptied rather than unlinked: unlinking would let a watcher that opened the old file and
   * one that creates a new one both hold "the" lock. */
  if (ftruncate(fd, 0) != 0) {
    /* nothing to do: the lock goes with the descriptor either way */
  }
  close(fd); /* closing drops the flock */
}
