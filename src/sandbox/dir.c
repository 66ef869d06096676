/*
 * dir.c: the sandbox directory: its lock, the files and directories laid out in it, and their removal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/spawn.h"
#include "sandbox/internal.h"

const char *sandbox_opts_dir(const sandbox_opts *o) {
  return o->dir && *o->dir ? o->dir : ".sandbox";
}

int sandbox_path_join(char *out, size_t n, const char *a, const char *b) {
  int w = snprintf(out, n, "%s/%s", a, b);
  return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

gg_status sandbox_write_file(const char *path, const char *text, gg_error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  bool ok = fputs(text, f) >= 0;
  ok = (fclose(f) == 0) && ok;
  return ok ? GG_OK : gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
}

gg_status sandbox_make_dir(const char *path, gg_error *err) {
  if (mkdir(path, 0755) == 0 || errno == EEXIST) return GG_OK;
  return gg_error_set(err, GG_ERR_IO, "cannot create directory '%s': %s", path, strerror(errno));
}

gg_status sandbox_proc_layout(sandbox_rec *r, const char *dir, const char *name, const char *bin,
                              const char *conf, const char *data, const char *log, gg_error *err) {
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->bin, sizeof r->bin, "%s", bin);
  char d[SB_PATH_MAX];
  sandbox_path_join(d, sizeof d, dir, r->name);
  gg_status st = sandbox_make_dir(d, err);
  if (st != GG_OK) return st;
  sandbox_path_join(r->conf, sizeof r->conf, d, conf);
  sandbox_path_join(r->data, sizeof r->data, d, data);
  sandbox_path_join(r->log, sizeof r->log, d, log);
  memcpy(r->marker, r->conf, sizeof r->marker);
  return GG_OK;
}

gg_status sandbox_prepare_dir(const char *dir, gg_error *err) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return gg_error_set(err, GG_ERR_IO,
                        "cannot create sandbox directory '%s': %s (choose another with --dir)", dir,
                        strerror(errno));
  if (access(dir, W_OK | X_OK) != 0)
    return gg_error_set(err, GG_ERR_IO,
                        "sandbox directory '%s' is not writable: %s (choose another with --dir)", dir,
                        strerror(errno));
  return GG_OK;
}

gg_status sandbox_lock_dir(const char *dir, int *fd_out, gg_error *err) {
  char path[SB_PATH_MAX];
  sandbox_path_join(path, sizeof path, dir, ".lock");
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return gg_error_set(err, GG_ERR_IO, "open '%s': %s", path, strerror(errno));
  if (flock(fd, LOCK_EX) != 0) {
    close(fd);
    return gg_error_set(err, GG_ERR_IO, "lock '%s': %s", path, strerror(errno));
  }
  *fd_out = fd;
  return GG_OK;
}

void sandbox_unlock_dir(int fd) {
  if (fd >= 0) close(fd);
}

gg_status sandbox_remove_tree(const char *path) {
  if (!path[0] || strcmp(path, "/") == 0) return GG_OK;
  const char *argv[] = {"rm", "-rf", "--", path, NULL};
  gg_spawn_opts so = {.timeout = 60};
  gg_spawn_result res = {0};
  gg_status st = gg_spawn_run(argv, &so, &res, NULL);
  gg_spawn_result_release(&res);
  return st;
}
