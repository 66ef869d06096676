/*
 * proc.c: the processes a sandbox starts: finding their programs, reserving ports, starting them
 * as daemons, telling whether a recorded pid is still ours, stopping them, and their health over HTTP.
 */
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/http.h"
#include "sandbox/internal.h"

void sandbox_progress(const sandbox_opts *o, const char *fmt, ...) {
  if (!o->progress) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  o->progress(o->progress_ud, line);
}

static bool is_executable(const char *path) {
  return access(path, X_OK) == 0;
}

bool sandbox_find_program(const char *name, char *out, size_t n) {
  const char *path = getenv("PATH");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s:/usr/sbin:/usr/bin:/sbin:/bin", path ? path : "");
  char *save = NULL;
  for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    if (!*d) continue;
    if (snprintf(out, n, "%s/%s", d, name) < (int)n && is_executable(out)) return true;
  }
  /* PostgreSQL's server binaries live in a versioned directory; take the newest. */
  char pattern[128];
  snprintf(pattern, sizeof pattern, "/usr/lib/postgresql/*/bin/%s", name);
  glob_t g;
  bool found = false;
  if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
    const char *best = NULL;
    long best_ver = -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
      const char *v = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
      char *end = NULL;
      long ver = strtol(v, &end, 10);
      if (end != v && ver > best_ver && is_executable(g.gl_pathv[i])) {
        best_ver = ver;
        best = g.gl_pathv[i];
      }
    }
    if (best && strlen(best) < n) {
      snprintf(out, n, "%s", best);
      found = true;
    }
  }
  globfree(&g);
  return found;
}

gg_status sandbox_need_program(const char *name, const char *package, char *out, size_t n, gg_error *err) {
  if (sandbox_find_program(name, out, n)) return GG_OK;
  return gg_error_set(err, GG_ERR_NOT_FOUND,
                      "'%s' not found in PATH: install the Debian package '%s' (scripts/install-deps does)",
                      name, package);
}

gg_status sandbox_free_ports(int n, int *ports, gg_error *err) {
  int fds[64];
  gg_status st = GG_OK;
  int opened = 0;
  for (int i = 0; i < n && i < 64; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      st = gg_error_set(err, GG_ERR_SYSTEM, "socket: %s", strerror(errno));
      goto out;
    }
    fds[opened++] = fd;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
      st = gg_error_set(err, GG_ERR_SYSTEM, "reserve a loopback port: %s", strerror(errno));
      goto out;
    }
    ports[i] = ntohs(sa.sin_port);
  }
out:
  for (int i = 0; i < opened; i++) close(fds[i]);
  return st;
}

bool sandbox_proc_is_ours(const sandbox_rec *r) {
  if (r->pid <= 0) return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", r->pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char stat[512];
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *rp = strrchr(stat, ')');
  if (!rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X') return false;
  snprintf(path, sizeof path, "/proc/%d/cmdline", r->pid);
  f = fopen(path, "r");
  if (!f) return false;
  char cmd[4096];
  n = fread(cmd, 1, sizeof cmd - 1, f);
  fclose(f);
  for (size_t i = 0; i < n; i++)
    if (cmd[i] == '\0') cmd[i] = ' ';
  cmd[n] = '\0';
  return r->marker[0] && strstr(cmd, r->marker) != NULL;
}

void sandbox_reap_quietly(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

void sandbox_proc_stop(sandbox_rec *r, int sig, double grace) {
  if (!sandbox_proc_is_ours(r)) return;
  kill(r->pid, sig);
  double deadline = gg_clock_mono() + grace;
  while (gg_clock_mono() < deadline) {
    sandbox_reap_quietly();
    if (!sandbox_proc_is_ours(r)) return;
    usleep(20000);
  }
  kill(r->pid, SIGKILL);
  deadline = gg_clock_mono() + 5;
  while (sandbox_proc_is_ours(r) && gg_clock_mono() < deadline) {
    sandbox_reap_quietly();
    usleep(20000);
  }
}

bool sandbox_postgres_user(uid_t *uid, gid_t *gid) {
  struct passwd *pw = getpwnam("postgres");
  if (!pw) return false;
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return true;
}

gg_status sandbox_spawn_daemon(char *const argv[], const char *logpath, bool as_postgres, int *pid_out,
                               gg_error *err) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return gg_error_set(err, GG_ERR_SYSTEM, "pipe: %s", strerror(errno));
  fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
  uid_t uid = 0;
  gid_t gid = 0;
  if (as_postgres && !sandbox_postgres_user(&uid, &gid)) {
    close(pipefd[0]);
    close(pipefd[1]);
    return gg_error_set(err, GG_ERR_NOT_FOUND,
                        "running as root, PostgreSQL needs the 'postgres' user: install the Debian package "
                        "'postgresql' (scripts/install-deps does)");
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return gg_error_set(err, GG_ERR_SYSTEM, "fork: %s", strerror(errno));
  }
  if (pid == 0) {
    setsid();
    int in = open("/dev/null", O_RDONLY);
    int out = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    for (int fd = 3; fd < 1024; fd++)
      if (fd != pipefd[1]) close(fd);
    signal(SIGPIPE, SIG_DFL);
    if (as_postgres && (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      int e = errno;
      ssize_t w = write(pipefd[1], &e, sizeof e);
      (void)w;
      _exit(127);
    }
    execv(argv[0], argv);
    int e = errno;
    ssize_t w = write(pipefd[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  close(pipefd[1]);
  int child_errno = 0;
  ssize_t r = read(pipefd[0], &child_errno, sizeof child_errno);
  close(pipefd[0]);
  if (r == (ssize_t)sizeof child_errno) {
    waitpid(pid, NULL, 0);
    return gg_error_set(err, GG_ERR_SYSTEM, "start '%s': %s", argv[0], strerror(child_errno));
  }
  *pid_out = (int)pid;
  return GG_OK;
}

/* The last few lines of a log file, for error messages. */
static void log_tail(const char *path, char *out, size_t n, int lines) {
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  char buf[8192];
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    long start = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    if (fseek(f, start, SEEK_SET) != 0) start = 0;
  }
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[got] = '\0';
  while (got > 0 && buf[got - 1] == '\n') buf[--got] = '\0';
  const char *p = buf + got;
  int seen = 0;
  while (p > buf) {
    if (p[-1] == '\n' && ++seen >= lines) break;
    p--;
  }
  snprintf(out, n, "%s", p);
}

gg_status sandbox_exited_error(const sandbox_rec *r, gg_error *err) {
  char tail[1024];
  log_tail(r->log, tail, sizeof tail, 6);
  const char *hint =
      strstr(tail, "address already in use") ? "\n(a port was taken: run `up` again for new ports)" : "";
  return gg_error_set(err, GG_ERR_CHILD, "%s exited during start-up; the end of %s:\n%s%s", r->name, r->log,
                      tail, hint);
}

bool sandbox_http_ok(const char *url, double timeout, char *why, size_t n, char **body_out) {
  gg_http_opts ho = {.timeout = timeout, .max_body = 1 << 20, .headers = NULL};
  gg_http_response resp = {0};
  gg_error e;
  gg_error_clear(&e);
  if (gg_http_get(url, &ho, &resp, &e) != GG_OK) {
    snprintf(why, n, "%s", gg_error_message(&e));
    return false;
  }
  bool ok = resp.status == 200;
  if (!ok)
    snprintf(why, n, "GET %s: HTTP %ld", url, resp.status);
  else
    snprintf(why, n, "ok");
  if (body_out) {
    *body_out = resp.body;
    resp.body = NULL;
  }
  gg_http_response_release(&resp);
  return ok;
}

gg_status sandbox_http_wait_ready(sandbox_rec *r, const char *path, double deadline, gg_error *err) {
  char url[128], why[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", r->port, path);
  while (!sandbox_http_ok(url, 1.0, why, sizeof why, NULL)) {
    if (!sandbox_proc_is_ours(r)) return sandbox_exited_error(r, err);
    if (gg_clock_mono() > deadline)
      return gg_error_set(err, GG_ERR_TIMEOUT, "%s not ready in time: %s; see %s", r->name, why, r->log);
    usleep(100000);
  }
  return GG_OK;
}
