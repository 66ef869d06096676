/* pipe2 (O_CLOEXEC from the start, so a child forked by another thread cannot inherit
 * our pipe) is a GNU extension in glibc 2.36: CMakeLists.txt defines _GNU_SOURCE for this
 * file, on the command line because the force-included base/banned.h reads the system
 * headers before the first line here. */
#include "base/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"

extern char **environ;

/* How long a timed-out group gets between SIGTERM and SIGKILL. */
#define KILL_GRACE 1.0
/* After the command exits, output still in the pipe is read for at most this long: a
 * background process that keeps the pipe open must not hold the caller. */
#define DRAIN_AFTER_EXIT 0.2

/* The last `max` bytes written, as a ring. */
typedef struct {
  char *data;
  size_t max;
  size_t head; /* next write position */
  size_t filled;
  unsigned long long total;
} tail_ring;

static void ring_add(tail_ring *r, const char *p, size_t n) {
  r->total += n;
  if (n >= r->max) { /* only the end of this chunk survives */
    memcpy(r->data, p + n - r->max, r->max);
    r->head = 0;
    r->filled = r->max;
    return;
  }
  size_t first = r->max - r->head < n ? r->max - r->head : n;
  memcpy(r->data + r->head, p, first);
  memcpy(r->data, p + first, n - first);
  r->head = (r->head + n) % r->max;
  r->filled = r->filled + n > r->max ? r->max : r->filled + n;
}

/* The ring's contents in order, NUL-terminated; you own it. NULL on ENOMEM. */
static char *ring_take(const tail_ring *r, size_t *len) {
  char *out = malloc(r->filled + 1);
  if (!out) return NULL;
  size_t start = r->filled < r->max ? 0 : r->head;
  size_t first = r->max - start < r->filled ? r->max - start : r->filled;
  memcpy(out, r->data + start, first);
  memcpy(out + first, r->data, r->filled - first);
  out[r->filled] = '\0';
  *len = r->filled;
  return out;
}

/* Find name in PATH (the one the child will have: opts->env may set it) as an executable
 * regular file; you own the returned path. */
static gg_status resolve_program(const char *name, const char *const *extra_env, char **out, gg_error *err) {
  *out = NULL;
  if (!*name) return gg_error_set(err, GG_ERR_INVALID, "run: empty program name");
  if (strchr(name, '/')) {
    *out = strdup(name);
    return *out ? GG_OK : gg_error_set(err, GG_ERR_NOMEM, "run '%s': out of memory", name);
  }
  const char *path = getenv("PATH");
  for (const char *const *e = extra_env; e && *e; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  }
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  const char *p = path;
  for (;;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    gg_buf b;
    gg_buf_init(&b, 0);
    gg_status st = len ? gg_buf_printf(&b, "%.*s/%s", (int)len, p, name) : gg_buf_printf(&b, "./%s", name);
    if (st != GG_OK) {
      gg_buf_release(&b);
      return gg_error_set(err, GG_ERR_NOMEM, "run '%s': out of memory", name);
    }
    struct stat sb;
    if (stat(b.data, &sb) == 0 && S_ISREG(sb.st_mode) && access(b.data, X_OK) == 0) {
      *out = gg_buf_detach(&b);
      return *out ? GG_OK : gg_error_set(err, GG_ERR_NOMEM, "run '%s': out of memory", name);
    }
    gg_buf_release(&b);
    if (!colon) break;
    p = colon + 1;
  }
  return gg_error_set(err, GG_ERR_NOT_FOUND, "run '%s': program not found in PATH (%s)", name, path);
}

/* The parent's environment with the extra "K=V" entries added (replacing the same keys).
 * The array is malloc'd; the strings are borrowed from environ and extra. */
static gg_status build_env(const char *const *extra, char ***out, gg_error *err) {
  size_t n_env = 0, n_extra = 0;
  while (environ && environ[n_env]) n_env++;
  while (extra && extra[n_extra]) {
    if (!strchr(extra[n_extra], '=') || extra[n_extra][0] == '=')
      return gg_error_set(err, GG_ERR_INVALID, "run: environment entry '%s' is not KEY=VALUE",
                          extra[n_extra]);
    n_extra++;
  }
  char **env = calloc(n_env + n_extra + 1, sizeof *env);
  if (!env) return gg_error_set(err, GG_ERR_NOMEM, "run: out of memory");
  size_t k = 0;
  for (size_t i = 0; i < n_env; i++) {
    const char *eq = strchr(environ[i], '=');
    size_t keylen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
    bool replaced = false;
    for (size_t j = 0; j < n_extra && !replaced; j++) {
      replaced = strncmp(extra[j], environ[i], keylen) == 0 && extra[j][keylen] == '=';
    }
    if (!replaced) env[k++] = environ[i];
  }
  for (size_t j = 0; j < n_extra; j++) env[k++] = (char *)extra[j];
  env[k] = NULL;
  *out = env;
  return GG_OK;
}

/* In the child, between fork and exec: only async-signal-safe calls. On failure the
 * stage ('d' chdir, 'x' exec, 'i' setup) and errno go back through errfd. */
static void child_exec(const char *path, const char *const *argv, char **envp, const char *cwd, int outfd,
                       int errfd) {
  int report[2] = {'i', 0};
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(outfd, STDOUT_FILENO) < 0 ||
      dup2(outfd, STDERR_FILENO) < 0)
    goto fail;
  if (devnull > STDERR_FILENO) close(devnull);
  if (outfd > STDERR_FILENO) close(outfd);
  if (cwd && chdir(cwd) != 0) {
    report[0] = 'd';
    goto fail;
  }
  report[0] = 'x';
  execve(path, (char *const *)argv, envp);
fail:
  report[1] = errno;
  if (write(errfd, report, sizeof report) < 0) {
    /* Nothing more can be done: the parent sees exit 127. */
  }
  _exit(127);
}

static void sleep_seconds(double s) {
  struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Is a process of group pgid still running? kill(-pgid, 0) also counts zombies, and
 * where PID 1 does not reap orphans (some containers and VMs) a killed grandchild stays
 * a zombie for good; so on Linux look at each process's state in /proc before waiting
 * out the grace period for nothing. */
static bool group_alive(pid_t pgid) {
  if (kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  DIR *d = opendir("/proc");
  if (!d) return true;
  bool alive = false;
  struct dirent *e;
  while (!alive && (e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], line[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0) continue;
    line[n] = '\0';
    /* "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses. */
    char *p = strrchr(line, ')');
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (p && sscanf(p + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3)
      alive = pgrp == (long)pgid && state != 'Z' && state != 'X';
  }
  closedir(d);
  return alive;
}

/* Read what is available on fd into the ring; false once EOF or an error ends the stream. */
static bool read_some(int fd, tail_ring *ring) {
  char chunk[8192];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r > 0) {
      ring_add(ring, chunk, (size_t)r);
      if ((size_t)r < sizeof chunk) return true;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return true;
    return false;
  }
}

/* Wait up to `seconds` for fd to become readable and read it; false on EOF. */
static bool pump(int fd, tail_ring *ring, double seconds) {
  struct pollfd pfd = {fd, POLLIN, 0};
  int ms = seconds <= 0 ? 0 : (int)ceil(seconds * 1000);
  int r = poll(&pfd, 1, ms);
  if (r < 0) return errno == EINTR;
  if (r == 0) return true;
  return read_some(fd, ring);
}

/* Reap pid if it has exited; true once reaped (status set). */
static bool try_reap(pid_t pid, int *status) {
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { /* ECHILD: someone else reaped it; treat it as gone */
      *status = 0;
      return true;
    }
    return false;
  }
}

static void reap_blocking(pid_t pid, int *status) {
  while (waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) {
      *status = 0;
      return;
    }
  }
}

/* Kill the whole group: SIGTERM, then SIGKILL after the grace period if anything is left.
 * Keeps reading the pipe meanwhile so a writer never blocks on a full pipe. */
static void kill_group(pid_t pid, int fd, bool *eof, tail_ring *ring, bool *reaped, int *status) {
  kill(-pid, SIGTERM);
  double until = gg_clock_mono() + KILL_GRACE;
  for (;;) {
    if (!*reaped) *reaped = try_reap(pid, status);
    if (*reaped && !group_alive(pid)) return;
    double left = until - gg_clock_mono();
    if (left <= 0) break;
    if (!*eof)
      *eof = !pump(fd, ring, left < 0.02 ? left : 0.02);
    else
      sleep_seconds(left < 0.02 ? left : 0.02);
  }
  kill(-pid, SIGKILL);
  if (!*reaped) {
    reap_blocking(pid, status);
    *reaped = true;
  }
  /* SIGKILL cannot be refused but takes effect asynchronously: wait (briefly) until the
   * other members are gone too, so the caller may rely on nothing being left. */
  double killed_by = gg_clock_mono() + KILL_GRACE;
  while (group_alive(pid) && gg_clock_mono() < killed_by) sleep_seconds(0.005);
}

/* Read the command's output until it exits (and a short drain after) or the deadline
 * passes, then kill its group. Always reaps pid into *status. True when it timed out. */
static bool supervise(pid_t pid, int fd, double deadline, tail_ring *ring, int *status) {
  bool eof = false, reaped = false, timed_out = false;
  double exited_at = 0;
  for (;;) {
    if (!reaped && try_reap(pid, status)) {
      reaped = true;
      exited_at = gg_clock_mono();
    }
    double now = gg_clock_mono();
    if (reaped && (eof || now - exited_at >= DRAIN_AFTER_EXIT)) break;
    if (!reaped && now >= deadline) {
      timed_out = true;
      kill_group(pid, fd, &eof, ring, &reaped, status);
      /* Whatever the killed processes wrote last is still in the pipe. */
      if (!eof) read_some(fd, ring);
      break;
    }
    /* Poll in short slices: the child's exit is noticed by waitpid, not by the pipe,
     * since a background process may keep the pipe open. */
    double slice = reaped ? DRAIN_AFTER_EXIT - (now - exited_at) : fmin(0.05, deadline - now);
    if (!eof)
      eof = !pump(fd, ring, slice);
    else
      sleep_seconds(fmin(slice, 0.005));
  }
  return timed_out;
}

gg_status gg_spawn_run(const char *const *argv, const gg_spawn_opts *opts, gg_spawn_result *result,
                       gg_error *err) {
  static const gg_spawn_opts defaults = {0, 0, NULL, NULL};
  if (!opts) opts = &defaults;
  memset(result, 0, sizeof *result);
  result->exit_code = -1;
  result->timeout = opts->timeout > 0 ? opts->timeout : 0;
  if (!argv || !argv[0]) return gg_error_set(err, GG_ERR_INVALID, "run: no command given");

  gg_status st = GG_OK;
  char *path = NULL;
  char **envp = NULL;
  tail_ring ring = {NULL, opts->max_output ? opts->max_output : GG_BUF_CMD_OUTPUT_MAX, 0, 0, 0};
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  pid_t pid = -1;
  int status = 0;
  double start = 0;

  st = resolve_program(argv[0], opts->env, &path, err);
  if (st != GG_OK) goto out;
  st = build_env(opts->env, &envp, err);
  if (st != GG_OK) goto out;
  ring.data = malloc(ring.max);
  if (!ring.data) {
    st = gg_error_set(err, GG_ERR_NOMEM, "run '%s': out of memory", argv[0]);
    goto out;
  }
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
    st = gg_error_set(err, GG_ERR_SYSTEM, "run '%s': pipe: %s", argv[0], strerror(errno));
    goto out;
  }

  start = gg_clock_mono();
  pid = fork();
  if (pid < 0) {
    st = gg_error_set(err, GG_ERR_SYSTEM, "run '%s': fork: %s", argv[0], strerror(errno));
    goto out;
  }
  if (pid == 0) child_exec(path, argv, envp, opts->cwd, outp[1], errp[1]);

  /* Set the group from both sides so a kill right after fork cannot miss it. */
  setpgid(pid, pid);
  close(outp[1]);
  outp[1] = -1;
  close(errp[1]);
  errp[1] = -1;

  int report[2];
  ssize_t got;
  do {
    got = read(errp[0], report, sizeof report);
  } while (got < 0 && errno == EINTR);
  if (got == (ssize_t)sizeof report) {
    reap_blocking(pid, &status);
    pid = -1;
    int e = report[1];
    if (report[0] == 'd')
      st = gg_error_set(err, e == ENOENT ? GG_ERR_NOT_FOUND : GG_ERR_SYSTEM,
                        "run '%s': cannot enter '%s': %s", argv[0], opts->cwd, strerror(e));
    else if (report[0] == 'x')
      st = gg_error_set(err, e == ENOENT ? GG_ERR_NOT_FOUND : GG_ERR_SYSTEM,
                        "run '%s': cannot execute '%s': %s", argv[0], path, strerror(e));
    else
      st = gg_error_set(err, GG_ERR_SYSTEM, "run '%s': cannot set up the child: %s", argv[0], strerror(e));
    goto out;
  }

  fcntl(outp[0], F_SETFL, fcntl(outp[0], F_GETFL) | O_NONBLOCK);
  result->timed_out =
      supervise(pid, outp[0], opts->timeout > 0 ? start + opts->timeout : INFINITY, &ring, &status);
  pid = -1;
  result->elapsed = gg_clock_mono() - start;
  if (WIFEXITED(status)) {
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->term_signal = WTERMSIG(status);
  }
  result->output = ring_take(&ring, &result->output_len);
  if (!result->output) {
    st = gg_error_set(err, GG_ERR_NOMEM, "run '%s': out of memory", argv[0]);
    goto out;
  }
  result->truncated = ring.total > ring.max;

out:
  if (pid > 0) { /* an error after fork: never leave the child behind */
    kill(-pid, SIGKILL);
    reap_blocking(pid, &status);
  }
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0) close(outp[i]);
    if (errp[i] >= 0) close(errp[i]);
  }
  free(ring.data);
  free(envp);
  free(path);
  return st;
}

gg_status gg_spawn_shell(const char *command, const gg_spawn_opts *opts, gg_spawn_result *result,
                         gg_error *err) {
  const char *argv[] = {"/bin/sh", "-c", command, NULL};
  if (!command) {
    memset(result, 0, sizeof *result);
    result->exit_code = -1;
    return gg_error_set(err, GG_ERR_INVALID, "run: no command given");
  }
  return gg_spawn_run(argv, opts, result, err);
}

void gg_spawn_result_release(gg_spawn_result *result) {
  if (!result) return;
  free(result->output);
  result->output = NULL;
  result->output_len = 0;
}

static const char *signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
      {SIGABRT, "SIGABRT"}, {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"},
      {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"},
      {SIGUSR2, "SIGUSR2"}, {SIGBUS, "SIGBUS"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (names[i].sig == sig) return names[i].name;
  }
  return NULL;
}

const char *gg_spawn_describe(const gg_spawn_result *result, char *out, size_t n) {
  if (!out || n == 0) return out;
  if (result->timed_out) {
    char d[32];
    snprintf(out, n, "timed out after %s", gg_format_duration(result->timeout, d, sizeof d));
  } else if (result->term_signal) {
    const char *name = signal_name(result->term_signal);
    if (name)
      snprintf(out, n, "killed by %s", name);
    else
      snprintf(out, n, "killed by signal %d", result->term_signal);
  } else {
    snprintf(out, n, "exit %d", result->exit_code);
  }
  return out;
}
