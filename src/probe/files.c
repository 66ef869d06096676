/*
 * files.c: file.age and fs.free on this machine.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "base/clock.h"
#include "probe/internal.h"

void probe_files_run_age(probe_ctx *ctx, probe_job *job) {
  (void)ctx;
  struct stat sb;
  if (stat(job->a, &sb) != 0) {
    job->status = gg_error_set(&job->err, errno == ENOENT ? GG_ERR_NO_DATA : GG_ERR_IO,
                               "file.age: stat '%s': %s", job->a, strerror(errno));
    return;
  }
  double now = gg_clock_now();
  double mtime = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
  probe_job_add(job, "file.age", now - mtime, now, "path", job->a, NULL);
}

void probe_files_run_fs(probe_ctx *ctx, probe_job *job) {
  (void)ctx;
  struct statvfs vb;
  if (statvfs(job->a, &vb) != 0) {
    job->status = gg_error_set(&job->err, errno == ENOENT ? GG_ERR_NO_DATA : GG_ERR_IO,
                               "fs.free: statvfs '%s': %s", job->a, strerror(errno));
    return;
  }
  probe_job_add(job, "fs.free", (double)vb.f_bavail * (double)vb.f_frsize, gg_clock_now(), "path", job->a,
                NULL);
}
