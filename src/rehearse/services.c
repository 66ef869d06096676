/*
 * services.c: the reference services (ingest-service, normalize-service), or the plan's own
 * `rehearsal.services` commands, as children of the rehearsal, each in a process group of its
 * own that is stopped at the end, each dying with it (PR_SET_PDEATHSIG).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/http.h"
#include "rehearse/internal.h"

int rehearse_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static bool executable(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

gg_status rehearse_find_program(const char *bindir, const char *subdir, const char *name, char *out, size_t n,
                                gg_error *err) {
  if (bindir) {
    snprintf(out, n, "%s/%s", bindir, name);
    if (executable(out)) return GG_OK;
    return gg_error_set(err, GG_ERR_NOT_FOUND, "'%s' is not an executable in '%s'", name, bindir);
  }
  /* The build tree: BUILD/src/cli/gonogo beside BUILD/src/<subdir>/<name>. */
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len > 0) {
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = '\0';
      snprintf(out, n, "%s/../%s/%s", self, subdir, name);
      if (executable(out)) return GG_OK;
      snprintf(out, n, "%s/%s", self, name);
      if (executable(out)) return GG_OK;
    }
  }
  const char *path = getenv("PATH");
  for (const char *p = path; p && *p;) {
    size_t l = strcspn(p, ":");
    snprintf(out, n, "%.*s/%s", (int)l, p, name);
    if (l && executable(out)) return GG_OK;
    p += l;
    if (*p == ':') p++;
  }
  return gg_error_set(err, GG_ERR_NOT_FOUND,
                      "cannot find '%s' beside gonogo's build tree or on PATH (build it: cmake --build BUILD "
                      "--target %s)",
                      name, name);
}

/* argv NULL: run bin; else exec argv (/bin/sh -c COMMAND) in workdir. */
static void child(const char *bin, char *const *argv_cmd, const char *workdir, char **envp, const char *log) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  setpgid(0, 0);
  if (workdir && chdir(workdir) != 0) _exit(126);
  int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
  }
  int nul = open("/dev/null", O_RDONLY);
  if (nul >= 0) dup2(nul, STDIN_FILENO);
  char *const argv[] = {(char *)bin, NULL};
  execve(bin, argv_cmd ? argv_cmd : argv, envp);
  _exit(127);
}

bool rehearse_url_ready(void *url, char *why, size_t n) {
  gg_http_opts o = {.timeout = 1};
  gg_http_response r = {0};
  gg_error e;
  gg_error_clear(&e);
  if (gg_http_get(url, &o, &r, &e) != GG_OK) {
    snprintf(why, n, "%s", gg_error_message(&e));
    return false;
  }
  long code = r.status;
  gg_http_response_release(&r);
  snprintf(why, n, "HTTP %ld", code);
  return code >= 200 && code < 300;
}

/* Wait until ready() says so, the child exits or the deadline passes. */
static gg_status wait_ready(rehearse_service *s, rehearse_ready_fn ready, void *ud, double seconds,
                            gg_error *err) {
  double until = gg_clock_mono() + seconds;
  char why[256] = "no answer";
  while (gg_clock_mono() < until) {
    if (!rehearse_service_alive(s))
      return gg_error_set(err, GG_ERR_STATE, "%s exited at start (exit %d); its log: %s", s->name,
                          s->exit_code, s->log);
    if (ready(ud, why, sizeof why)) return GG_OK;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return gg_error_set(err, GG_ERR_TIMEOUT, "%s not ready after %.0f s (%s); its log: %s", s->name, seconds,
                      why, s->log);
}

bool rehearse_service_alive(rehearse_service *s) {
  if (s->pid <= 0) return false;
  int status = 0;
  if (waitpid(s->pid, &status, WNOHANG) != s->pid) return true;
  s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  kill(-s->pid, SIGTERM); /* what it left running in its group */
  s->pid = 0;
  return false;
}

/* envp plus extra (NULL-terminated, may be NULL): borrowed strings; you free the array. */
static char **joined(char **envp, const char *const *extra) {
  size_t n = 0, k = 0;
  while (envp[n]) n++;
  while (extra && extra[k]) k++;
  char **full = calloc(n + k + 1, sizeof *full);
  if (!full) return NULL;
  memcpy(full, envp, n * sizeof *full);
  for (size_t i = 0; i < k; i++) full[n + i] = (char *)extra[i];
  return full;
}

gg_status rehearse_command_start(rehearse_service *s, const char *name, const char *run, const char *workdir,
                                 char **envp, const char *const *extra, const char *dir,
                                 rehearse_ready_fn ready, void *ud, double seconds, gg_error *err) {
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  snprintf(s->log, sizeof s->log, "%s/%s.log", dir, name);
  char **full = joined(envp, extra);
  if (!full) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  char *const argv[] = {"/bin/sh", "-c", (char *)run, NULL};
  pid_t pid = fork();
  if (pid == 0) child("/bin/sh", argv, workdir, full, s->log);
  free(full);
  if (pid < 0) return gg_error_set(err, GG_ERR_SYSTEM, "start %s: fork: %s", name, strerror(errno));
  s->pid = pid;
  gg_status st = wait_ready(s, ready, ud, seconds, err);
  if (st != GG_OK) rehearse_service_stop(s);
  return st;
}

gg_status rehearse_service_start(rehearse_service *s, const char *name, const char *bin,
                                 const char *listen_var, int port, char **envp, const char *dir,
                                 gg_error *err) {
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  snprintf(s->log, sizeof s->log, "%s/%s.log", dir, name);
  s->port = port > 0 ? port : rehearse_free_port();
  if (s->port < 0)
    return gg_error_set(err, GG_ERR_SYSTEM, "%s: no free loopback port: %s", name, strerror(errno));
  char listen[128];
  snprintf(listen, sizeof listen, "%s=127.0.0.1:%d", listen_var, s->port);
  const char *extra[] = {listen, NULL};
  char **full = joined(envp, extra);
  if (!full) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  pid_t pid = fork();
  if (pid == 0) child(bin, NULL, NULL, full, s->log);
  free(full);
  if (pid < 0) return gg_error_set(err, GG_ERR_SYSTEM, "start %s: fork: %s", name, strerror(errno));
  s->pid = pid;
  char url[160];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/health", s->port);
  gg_status st = wait_ready(s, rehearse_url_ready, url, 20, err);
  if (st != GG_OK) rehearse_service_stop(s);
  return st;
}

void rehearse_service_stop(rehearse_service *s) {
  if (!s || s->pid <= 0) return;
  kill(-s->pid, SIGTERM); /* its process group: a command's shell and what it started */
  double until = gg_clock_mono() + 10;
  int status;
  while (waitpid(s->pid, &status, WNOHANG) == 0) {
    if (gg_clock_mono() >= until) {
      kill(-s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
      break;
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(-s->pid, SIGKILL); /* anything of its group still there */
  s->pid = 0;
}
