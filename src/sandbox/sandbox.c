/*
 * sandbox.c: start, watch and stop the processes of a local sandbox (see sandbox.h).
 *
 * The state file is the single source of truth about what we started. Every signal we
 * send goes through proc_is_ours(), which checks /proc/PID/cmdline for the program and the
 * config or data path we gave it, so a recycled pid is never signalled.
 */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/http.h"
#include "base/json.h"
#include "base/spawn.h"

#define SB_PATH_MAX 512
#define SB_STATE_FILE "sandbox.json"
#define SB_STOP_GRACE 10.0

typedef struct {
  char name[32];
  char bin[SB_PATH_MAX];
  char conf[SB_PATH_MAX]; /* config file (nats, prometheus, alertmanager) */
  char data[SB_PATH_MAX]; /* data or store directory */
  char log[SB_PATH_MAX];
  char marker[SB_PATH_MAX]; /* a path that appears in the process's command line */
  int pid;
  int port;    /* client / listen port */
  int cluster; /* nats cluster port */
  int monitor; /* nats monitoring port */
} proc_rec;

typedef struct {
  char dir[SB_PATH_MAX];
  int nnodes;
  proc_rec nodes[SANDBOX_MAX_NODES];
  proc_rec pg;
  bool has_prom, has_am;
  proc_rec prom, am;
  bool pg_tmp; /* pg data lives outside dir (root, dir not reachable by postgres) */
} sb_state;

static void progress(const sandbox_opts *o, const char *fmt, ...) GG_PRINTF(2, 3);
static void progress(const sandbox_opts *o, const char *fmt, ...) {
  if (!o->progress) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  o->progress(o->progress_ud, line);
}

static int path_join(char *out, size_t n, const char *a, const char *b) {
  int w = snprintf(out, n, "%s/%s", a, b);
  return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* ---------- finding programs ---------- */

static bool is_executable(const char *path) {
  return access(path, X_OK) == 0;
}

/* Look `name` up in PATH, then in the extra directories Debian uses for servers. */
static bool find_program(const char *name, char *out, size_t n) {
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

static gg_status need_program(const char *name, const char *package, char *out, size_t n, gg_error *err) {
  if (find_program(name, out, n)) return GG_OK;
  return gg_error_set(err, GG_ERR_NOT_FOUND,
                      "'%s' not found in PATH: install the Debian package '%s' (scripts/install-deps does)",
                      name, package);
}

/* ---------- ports ---------- */

/* Reserve n distinct free loopback ports by binding them all at once, then release them. */
static gg_status free_ports(int n, int *ports, gg_error *err) {
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

/* ---------- state file ---------- */

static json_t *rec_to_json(const proc_rec *r) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i}", "name", r->name, "bin", r->bin,
                   "conf", r->conf, "data", r->data, "log", r->log, "marker", r->marker, "pid", r->pid,
                   "port", r->port, "cluster", r->cluster, "monitor", r->monitor);
}

static void copy_str(char *dst, size_t n, json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  snprintf(dst, n, "%s", s ? s : "");
}

static void rec_from_json(proc_rec *r, json_t *o) {
  memset(r, 0, sizeof *r);
  copy_str(r->name, sizeof r->name, o, "name");
  copy_str(r->bin, sizeof r->bin, o, "bin");
  copy_str(r->conf, sizeof r->conf, o, "conf");
  copy_str(r->data, sizeof r->data, o, "data");
  copy_str(r->log, sizeof r->log, o, "log");
  copy_str(r->marker, sizeof r->marker, o, "marker");
  r->pid = (int)json_integer_value(json_object_get(o, "pid"));
  r->port = (int)json_integer_value(json_object_get(o, "port"));
  r->cluster = (int)json_integer_value(json_object_get(o, "cluster"));
  r->monitor = (int)json_integer_value(json_object_get(o, "monitor"));
}

static gg_status state_save(const sb_state *s, gg_error *err) {
  json_t *nodes = json_array();
  for (int i = 0; i < s->nnodes; i++) json_array_append_new(nodes, rec_to_json(&s->nodes[i]));
  json_t *root = json_pack("{s:i, s:o, s:o, s:b}", "version", 1, "nodes", nodes, "postgres",
                           rec_to_json(&s->pg), "pg_tmp", s->pg_tmp);
  if (s->has_prom) json_object_set_new(root, "prometheus", rec_to_json(&s->prom));
  if (s->has_am) json_object_set_new(root, "alertmanager", rec_to_json(&s->am));
  char path[SB_PATH_MAX], tmp[SB_PATH_MAX + 8];
  path_join(path, sizeof path, s->dir, SB_STATE_FILE);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  gg_status st = GG_OK;
  if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0)
    st = gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  json_decref(root);
  return st;
}

/* Load the state; GG_ERR_NOT_FOUND when the dir holds no sandbox. */
static gg_status state_load(const char *dir, sb_state *s, gg_error *err) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  char path[SB_PATH_MAX];
  path_join(path, sizeof path, dir, SB_STATE_FILE);
  if (access(path, F_OK) != 0) return gg_error_set(err, GG_ERR_NOT_FOUND, "no sandbox in '%s'", dir);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root) return gg_error_set(err, GG_ERR_JSON, "read '%s': line %d: %s", path, je.line, je.text);
  json_t *nodes = json_object_get(root, "nodes");
  size_t i;
  json_t *v;
  json_array_foreach(nodes, i, v) {
    if (s->nnodes >= SANDBOX_MAX_NODES) break;
    rec_from_json(&s->nodes[s->nnodes++], v);
  }
  rec_from_json(&s->pg, json_object_get(root, "postgres"));
  s->pg_tmp = json_is_true(json_object_get(root, "pg_tmp"));
  if ((v = json_object_get(root, "prometheus"))) {
    s->has_prom = true;
    rec_from_json(&s->prom, v);
  }
  if ((v = json_object_get(root, "alertmanager"))) {
    s->has_am = true;
    rec_from_json(&s->am, v);
  }
  json_decref(root);
  return GG_OK;
}

/* ---------- processes ---------- */

/* True when pid is alive (not a zombie) and its command line mentions rec->marker. */
static bool proc_is_ours(const proc_rec *r) {
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

static void reap_quietly(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

/* Send sig and wait up to grace seconds for the process to go; SIGKILL after that. */
static void proc_stop(proc_rec *r, int sig, double grace) {
  if (!proc_is_ours(r)) return;
  kill(r->pid, sig);
  double deadline = gg_clock_mono() + grace;
  while (gg_clock_mono() < deadline) {
    reap_quietly();
    if (!proc_is_ours(r)) return;
    usleep(20000);
  }
  kill(r->pid, SIGKILL);
  deadline = gg_clock_mono() + 5;
  while (proc_is_ours(r) && gg_clock_mono() < deadline) {
    reap_quietly();
    usleep(20000);
  }
}

static bool postgres_user(uid_t *uid, gid_t *gid) {
  struct passwd *pw = getpwnam("postgres");
  if (!pw) return false;
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return true;
}

/* Start argv as a daemon in its own session, stdout/stderr appended to logpath. When
 * as_postgres, drop to the postgres user first (PostgreSQL refuses to run as root). */
static gg_status spawn_daemon(char *const argv[], const char *logpath, bool as_postgres, int *pid_out,
                              gg_error *err) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return gg_error_set(err, GG_ERR_SYSTEM, "pipe: %s", strerror(errno));
  fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
  uid_t uid = 0;
  gid_t gid = 0;
  if (as_postgres && !postgres_user(&uid, &gid)) {
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

static gg_status exited_error(const proc_rec *r, gg_error *err) {
  char tail[1024];
  log_tail(r->log, tail, sizeof tail, 6);
  const char *hint =
      strstr(tail, "address already in use") ? "\n(a port was taken: run `up` again for new ports)" : "";
  return gg_error_set(err, GG_ERR_CHILD, "%s exited during start-up; the end of %s:\n%s%s", r->name, r->log,
                      tail, hint);
}

/* ---------- health ---------- */

static bool http_ok(const char *url, double timeout, char *why, size_t n, char **body_out) {
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

/* /healthz: the server and every stream and consumer it holds are current. */
static bool node_healthy(const proc_rec *r, char *why, size_t n) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", r->monitor);
  return http_ok(url, 1.0, why, n, NULL);
}

/* The server is up and its JetStream has rejoined the cluster, whatever its assets say:
 * nats-server 2.9 can report an R3 consumer that existed while the node was down as "not
 * current" long after the node is back, which `status` shows. */
static bool node_serving(const proc_rec *r, char *why, size_t n) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz?js-server-only=true", r->monitor);
  return http_ok(url, 1.0, why, n, NULL);
}

/* The meta leader's name as node r sees it, or false. */
static bool node_meta_leader(const proc_rec *r, char *leader, size_t n) {
  char url[128], why[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/jsz", r->monitor);
  char *body = NULL;
  bool ok = false;
  if (http_ok(url, 1.0, why, sizeof why, &body) && body) {
    json_t *root = json_loads(body, 0, NULL);
    const char *l = json_string_value(json_object_get(json_object_get(root, "meta_cluster"), "leader"));
    if (l && *l) {
      snprintf(leader, n, "%s", l);
      ok = true;
    }
    json_decref(root);
  }
  free(body);
  return ok;
}

static void pg_conninfo(const sb_state *s, const char *db, char *out, size_t n) {
  snprintf(out, n, "host=127.0.0.1 port=%d user=postgres dbname=%s connect_timeout=2", s->pg.port, db);
}

static bool pg_accepts(const sb_state *s, char *why, size_t n) {
  char ci[256];
  pg_conninfo(s, "postgres", ci, sizeof ci);
  PGconn *c = PQconnectdb(ci);
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (!ok) {
    snprintf(why, n, "connect to 127.0.0.1:%d: %s", s->pg.port, PQerrorMessage(c));
    size_t l = strlen(why);
    while (l && (why[l - 1] == '\n' || why[l - 1] == ' ')) why[--l] = '\0';
  } else {
    snprintf(why, n, "ok");
  }
  PQfinish(c);
  return ok;
}

static gg_status pg_create_athlete(const sb_state *s, gg_error *err) {
  char ci[256];
  pg_conninfo(s, "postgres", ci, sizeof ci);
  PGconn *c = PQconnectdb(ci);
  gg_status st = GG_OK;
  if (PQstatus(c) != CONNECTION_OK) {
    st = gg_error_set(err, GG_ERR_PG, "connect to 127.0.0.1:%d: %s", s->pg.port, PQerrorMessage(c));
    goto out;
  }
  PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = 'athlete'");
  bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  PQclear(r);
  if (!exists) {
    r = PQexec(c, "CREATE DATABASE athlete");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      st = gg_error_set(err, GG_ERR_PG, "create database 'athlete': %s", PQresultErrorMessage(r));
    PQclear(r);
  }
out:
  PQfinish(c);
  return st;
}

/* ---------- configuration files ---------- */

static gg_status write_file(const char *path, const char *text, gg_error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  bool ok = fputs(text, f) >= 0;
  ok = (fclose(f) == 0) && ok;
  return ok ? GG_OK : gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
}

static gg_status make_dir(const char *path, gg_error *err) {
  if (mkdir(path, 0755) == 0 || errno == EEXIST) return GG_OK;
  return gg_error_set(err, GG_ERR_IO, "cannot create directory '%s': %s", path, strerror(errno));
}

/* Name r, make its directory DIR/NAME and lay out its config file, data directory and log
 * there; the config file's path is the marker that finds the process again. */
static gg_status proc_layout(proc_rec *r, const char *dir, const char *name, const char *bin,
                             const char *conf, const char *data, const char *log, gg_error *err) {
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->bin, sizeof r->bin, "%s", bin);
  char d[SB_PATH_MAX];
  path_join(d, sizeof d, dir, r->name);
  gg_status st = make_dir(d, err);
  if (st != GG_OK) return st;
  path_join(r->conf, sizeof r->conf, d, conf);
  path_join(r->data, sizeof r->data, d, data);
  path_join(r->log, sizeof r->log, d, log);
  memcpy(r->marker, r->conf, sizeof r->marker);
  return GG_OK;
}

static gg_status write_nats_conf(const sb_state *s, int i, gg_error *err) {
  const proc_rec *r = &s->nodes[i];
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  gg_status st = gg_buf_printf(&b,
                               "# written by `gonogo sandbox up`\n"
                               "server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                               "jetstream {\n  store_dir: \"%s\"\n  max_memory_store: 4GB\n"
                               "  max_file_store: 32GB\n}\n"
                               "cluster {\n  name: gonogo-sandbox\n  listen: 127.0.0.1:%d\n  routes: [\n",
                               r->name, r->port, r->monitor, r->data, r->cluster);
  for (int j = 0; st == GG_OK && j < s->nnodes; j++)
    if (j != i) st = gg_buf_printf(&b, "    nats-route://127.0.0.1:%d\n", s->nodes[j].cluster);
  if (st == GG_OK) st = gg_buf_puts(&b, "  ]\n}\n");
  if (st != GG_OK)
    st = gg_error_set(err, st, "format nats config for %s", r->name);
  else
    st = write_file(r->conf, gg_buf_str(&b), err);
  gg_buf_release(&b);
  return st;
}

static gg_status write_prometheus_conf(const sb_state *s, gg_error *err) {
  char rules[SB_PATH_MAX], targets[SB_PATH_MAX], dir[SB_PATH_MAX];
  path_join(dir, sizeof dir, s->dir, "prometheus");
  path_join(rules, sizeof rules, dir, "rules");
  path_join(targets, sizeof targets, dir, "targets");
  gg_status st = make_dir(rules, err);
  if (st == GG_OK) st = make_dir(targets, err);
  if (st != GG_OK) return st;
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  st = gg_buf_printf(&b,
                     "# written by `gonogo sandbox up`; add scrape targets as file_sd JSON in\n"
                     "# %s/*.json and rules in %s/*.yml, then POST /-/reload.\n"
                     "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "rule_files:\n  - \"%s/*.yml\"\n",
                     targets, rules, rules);
  if (st == GG_OK && s->has_am)
    st = gg_buf_printf(&b,
                       "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: "
                       "[\"127.0.0.1:%d\"]\n",
                       s->am.port);
  if (st == GG_OK)
    st = gg_buf_printf(&b,
                       "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
                       "      - targets: [\"127.0.0.1:%d\"]\n"
                       "  - job_name: targets\n    file_sd_configs:\n      - files: [\"%s/*.json\"]\n"
                       "        refresh_interval: 1s\n",
                       s->prom.port, targets);
  if (st == GG_OK) st = write_file(s->prom.conf, gg_buf_str(&b), err);
  gg_buf_release(&b);
  return st;
}

static gg_status write_alertmanager_conf(const sb_state *s, gg_error *err) {
  return write_file(
      s->am.conf,
      "# written by `gonogo sandbox up`\n"
      "route:\n  receiver: default\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
      "receivers:\n  - name: default\n",
      err);
}

/* ---------- starting each kind of process ---------- */

static gg_status start_nats(sb_state *s, int i, gg_error *err) {
  proc_rec *r = &s->nodes[i];
  char *argv[] = {r->bin, "-c", r->conf, NULL};
  return spawn_daemon(argv, r->log, false, &r->pid, err);
}

static gg_status start_pg(sb_state *s, gg_error *err) {
  proc_rec *r = &s->pg;
  char port[16];
  snprintf(port, sizeof port, "%d", r->port);
  /* No unix socket (its path length is limited and the dir may be deep); fsync off because
   * a sandbox is disposable and tests want speed. */
  char *argv[] = {r->bin,
                  "-D",
                  r->data,
                  "-p",
                  port,
                  "-c",
                  "listen_addresses=127.0.0.1",
                  "-c",
                  "unix_socket_directories=",
                  "-c",
                  "fsync=off",
                  "-c",
                  "max_connections=200",
                  NULL};
  return spawn_daemon(argv, r->log, getuid() == 0, &r->pid, err);
}

static gg_status start_prom(sb_state *s, gg_error *err) {
  proc_rec *r = &s->prom;
  char cfg[SB_PATH_MAX + 20], store[SB_PATH_MAX + 24], listen[64];
  snprintf(cfg, sizeof cfg, "--config.file=%s", r->conf);
  snprintf(store, sizeof store, "--storage.tsdb.path=%s", r->data);
  snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", r->port);
  char *argv[] = {r->bin, cfg, store, listen, "--web.enable-lifecycle", NULL};
  return spawn_daemon(argv, r->log, false, &r->pid, err);
}

static gg_status start_am(sb_state *s, gg_error *err) {
  proc_rec *r = &s->am;
  char cfg[SB_PATH_MAX + 20], store[SB_PATH_MAX + 20], listen[64];
  snprintf(cfg, sizeof cfg, "--config.file=%s", r->conf);
  snprintf(store, sizeof store, "--storage.path=%s", r->data);
  snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", r->port);
  char *argv[] = {r->bin, cfg, store, listen, "--cluster.listen-address=", NULL};
  return spawn_daemon(argv, r->log, false, &r->pid, err);
}

/* ---------- waiting ---------- */

static gg_status wait_nats(sb_state *s, const sandbox_opts *o, double deadline, gg_error *err) {
  char why[256] = "not checked";
  for (;;) {
    int healthy = 0;
    char leader[64] = "";
    for (int i = 0; i < s->nnodes; i++) {
      if (!proc_is_ours(&s->nodes[i])) return exited_error(&s->nodes[i], err);
      if (node_healthy(&s->nodes[i], why, sizeof why)) healthy++;
    }
    bool has_leader = healthy == s->nnodes && node_meta_leader(&s->nodes[0], leader, sizeof leader);
    if (has_leader) {
      progress(o, "nats: %d nodes healthy, meta leader %s", s->nnodes, leader);
      return GG_OK;
    }
    if (gg_clock_mono() > deadline)
      return gg_error_set(
          err, GG_ERR_TIMEOUT,
          "nats cluster not ready in time: %d of %d nodes healthy%s (last: %s); see the logs in %s", healthy,
          s->nnodes, healthy == s->nnodes ? ", no meta leader elected" : "", why, s->dir);
    usleep(100000);
  }
}

static gg_status wait_http_ready(proc_rec *r, const char *path, double deadline, gg_error *err) {
  char url[128], why[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", r->port, path);
  while (!http_ok(url, 1.0, why, sizeof why, NULL)) {
    if (!proc_is_ours(r)) return exited_error(r, err);
    if (gg_clock_mono() > deadline)
      return gg_error_set(err, GG_ERR_TIMEOUT, "%s not ready in time: %s; see %s", r->name, why, r->log);
    usleep(100000);
  }
  return GG_OK;
}

static gg_status wait_pg(sb_state *s, double deadline, gg_error *err) {
  char why[512];
  while (!pg_accepts(s, why, sizeof why)) {
    if (!proc_is_ours(&s->pg)) return exited_error(&s->pg, err);
    if (gg_clock_mono() > deadline)
      return gg_error_set(err, GG_ERR_TIMEOUT, "postgres not ready in time: %s; see %s", why, s->pg.log);
    usleep(100000);
  }
  return GG_OK;
}

/* ---------- directory and lock ---------- */

static gg_status prepare_dir(const char *dir, gg_error *err) {
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

/* An exclusive flock on DIR/.lock so two sandbox commands on one dir do not interleave. */
static gg_status lock_dir(const char *dir, int *fd_out, gg_error *err) {
  char path[SB_PATH_MAX];
  path_join(path, sizeof path, dir, ".lock");
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return gg_error_set(err, GG_ERR_IO, "open '%s': %s", path, strerror(errno));
  if (flock(fd, LOCK_EX) != 0) {
    close(fd);
    return gg_error_set(err, GG_ERR_IO, "lock '%s': %s", path, strerror(errno));
  }
  *fd_out = fd;
  return GG_OK;
}

static void unlock_dir(int fd) {
  if (fd >= 0) close(fd);
}

/* True when every ancestor of path lets `uid`/`gid` through (x bit for other, or owner/group). */
static bool reachable_by(const char *path, uid_t uid, gid_t gid) {
  char p[SB_PATH_MAX];
  if (!realpath(path, p)) return false;
  for (;;) {
    struct stat sb;
    if (stat(p, &sb) != 0) return false;
    bool ok = (sb.st_mode & S_IXOTH) || (sb.st_uid == uid && (sb.st_mode & S_IXUSR)) ||
              (sb.st_gid == gid && (sb.st_mode & S_IXGRP));
    if (!ok) return false;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p) break;
    *slash = '\0';
  }
  return true;
}

static gg_status chown_tree(const char *path, uid_t uid, gid_t gid, gg_error *err) {
  const char *argv[] = {"chown", "-R", NULL, NULL, NULL};
  char owner[64];
  snprintf(owner, sizeof owner, "%u:%u", (unsigned)uid, (unsigned)gid);
  argv[2] = owner;
  argv[3] = path;
  gg_spawn_opts so = {.timeout = 30};
  gg_spawn_result res = {0};
  gg_status st = gg_spawn_run(argv, &so, &res, err);
  if (st == GG_OK && res.exit_code != 0)
    st = gg_error_set(err, GG_ERR_CHILD, "chown '%s': %s", path, res.output ? res.output : "");
  gg_spawn_result_release(&res);
  return st;
}

static gg_status remove_tree(const char *path) {
  if (!path[0] || strcmp(path, "/") == 0) return GG_OK;
  const char *argv[] = {"rm", "-rf", "--", path, NULL};
  gg_spawn_opts so = {.timeout = 60};
  gg_spawn_result res = {0};
  gg_status st = gg_spawn_run(argv, &so, &res, NULL);
  gg_spawn_result_release(&res);
  return st;
}

/* ---------- initdb ---------- */

static gg_status init_pg(sb_state *s, const sandbox_opts *o, gg_error *err) {
  char initdb[SB_PATH_MAX];
  gg_status st = need_program("initdb", "postgresql", initdb, sizeof initdb, err);
  if (st != GG_OK) return st;
  bool root = getuid() == 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (root && !postgres_user(&uid, &gid))
    return gg_error_set(err, GG_ERR_NOT_FOUND,
                        "running as root, PostgreSQL needs the 'postgres' user: install the Debian package "
                        "'postgresql' (scripts/install-deps does)");
  if (root && !reachable_by(s->dir, uid, gid)) {
    /* The postgres user cannot reach DIR (e.g. under /root): keep the cluster in /tmp. */
    char tmpl[] = "/tmp/gonogo-sandbox-pg-XXXXXX";
    if (!mkdtemp(tmpl)) return gg_error_set(err, GG_ERR_IO, "mkdtemp in /tmp: %s", strerror(errno));
    path_join(s->pg.data, sizeof s->pg.data, tmpl, "data");
    s->pg_tmp = true;
    st = chown_tree(tmpl, uid, gid, err);
    if (st != GG_OK) return st;
  } else {
    char base[SB_PATH_MAX];
    path_join(base, sizeof base, s->dir, "postgres");
    st = make_dir(base, err);
    if (st != GG_OK) return st;
    path_join(s->pg.data, sizeof s->pg.data, base, "data");
    if (root && (st = chown_tree(base, uid, gid, err)) != GG_OK) return st;
  }
  memcpy(s->pg.marker, s->pg.data, sizeof s->pg.marker);
  progress(o, "postgres: initdb %s", s->pg.data);
  const char *argv_user[] = {
      "runuser", "-u",       "postgres",     "--", initdb, "-D",        s->pg.data,
      "-U",      "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions",
      NULL};
  const char *const *argv = root ? argv_user : argv_user + 4;
  gg_spawn_opts so = {.timeout = 120, .max_output = 4096};
  gg_spawn_result res = {0};
  st = gg_spawn_run(argv, &so, &res, err);
  if (st == GG_OK && (res.exit_code != 0 || res.timed_out)) {
    char how[64];
    st = gg_error_set(err, GG_ERR_CHILD, "initdb '%s' failed (%s):\n%s", s->pg.data,
                      gg_spawn_describe(&res, how, sizeof how), res.output ? res.output : "");
  }
  gg_spawn_result_release(&res);
  return st;
}

/* ---------- public ---------- */

static const char *opts_dir(const sandbox_opts *o) {
  return o->dir && *o->dir ? o->dir : ".sandbox";
}

/* True when every recorded process runs; otherwise names the first one down. */
static bool all_running(const sb_state *s, char *first_down, size_t n) {
  const proc_rec *down = NULL;
  for (int i = 0; i < s->nnodes && !down; i++)
    if (!proc_is_ours(&s->nodes[i])) down = &s->nodes[i];
  if (!down && !proc_is_ours(&s->pg)) down = &s->pg;
  if (!down && s->has_prom && !proc_is_ours(&s->prom)) down = &s->prom;
  if (!down && s->has_am && !proc_is_ours(&s->am)) down = &s->am;
  if (down) snprintf(first_down, n, "%s", down->name);
  return down == NULL;
}

static bool any_running(const sb_state *s) {
  for (int i = 0; i < s->nnodes; i++)
    if (proc_is_ours(&s->nodes[i])) return true;
  return proc_is_ours(&s->pg) || (s->has_prom && proc_is_ours(&s->prom)) ||
         (s->has_am && proc_is_ours(&s->am));
}

static gg_status write_env(const sb_state *s, gg_error *err) {
  sandbox_opts o = {.dir = s->dir};
  char *text = NULL;
  gg_status st = sandbox_env_text(&o, &text, err);
  if (st != GG_OK) return st;
  char path[SB_PATH_MAX];
  path_join(path, sizeof path, s->dir, "env");
  st = write_file(path, text, err);
  free(text);
  return st;
}

static void stop_all(sb_state *s) {
  for (int i = 0; i < s->nnodes; i++) proc_stop(&s->nodes[i], SIGTERM, SB_STOP_GRACE);
  proc_stop(&s->pg, SIGINT, SB_STOP_GRACE);
  if (s->has_prom) proc_stop(&s->prom, SIGTERM, SB_STOP_GRACE);
  if (s->has_am) proc_stop(&s->am, SIGTERM, SB_STOP_GRACE);
}

static void remove_data(sb_state *s) {
  for (int i = 0; i < s->nnodes; i++) remove_tree(s->nodes[i].data);
  if (s->pg_tmp) {
    char parent[SB_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", s->pg.data);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = '\0';
    if (strncmp(parent, "/tmp/gonogo-sandbox-pg-", 23) == 0) remove_tree(parent);
  } else {
    remove_tree(s->pg.data);
  }
  if (s->has_prom) remove_tree(s->prom.data);
  if (s->has_am) remove_tree(s->am.data);
}

static gg_status up_locked(const sandbox_opts *o, const char *dir, bool *already, gg_error *err) {
  sb_state s;
  gg_error le;
  gg_error_clear(&le);
  if (state_load(dir, &s, &le) == GG_OK) {
    char down[32];
    if (all_running(&s, down, sizeof down)) {
      *already = true;
      return write_env(&s, err);
    }
    if (any_running(&s))
      return gg_error_set(
          err, GG_ERR_STATE,
          "the sandbox in '%s' is partly running (%s is down): use `gonogo sandbox start-node` or "
          "`gonogo sandbox down --dir %s` first",
          dir, down, dir);
    remove_data(&s); /* a stopped sandbox: start afresh */
  }
  memset(&s, 0, sizeof s);
  char real[SB_PATH_MAX];
  if (!realpath(dir, real)) return gg_error_set(err, GG_ERR_IO, "resolve '%s': %s", dir, strerror(errno));
  snprintf(s.dir, sizeof s.dir, "%s", real);
  s.nnodes = o->nodes > 0 ? o->nodes : 3;
  if (s.nnodes > SANDBOX_MAX_NODES)
    return gg_error_set(err, GG_ERR_RANGE, "--nodes %d: at most %d", s.nnodes, SANDBOX_MAX_NODES);

  char nats_bin[SB_PATH_MAX], pg_bin[SB_PATH_MAX];
  gg_status st = need_program("nats-server", "nats-server", nats_bin, sizeof nats_bin, err);
  if (st == GG_OK) st = need_program("postgres", "postgresql", pg_bin, sizeof pg_bin, err);
  if (st != GG_OK) return st;
  char prom_bin[SB_PATH_MAX], am_bin[SB_PATH_MAX];
  s.has_prom = find_program("prometheus", prom_bin, sizeof prom_bin);
  s.has_am = find_program("prometheus-alertmanager", am_bin, sizeof am_bin);

  int ports[3 * SANDBOX_MAX_NODES + 3];
  int nports = 3 * s.nnodes + 3;
  if ((st = free_ports(nports, ports, err)) != GG_OK) return st;
  for (int i = 0; i < s.nnodes; i++) {
    proc_rec *r = &s.nodes[i];
    char name[16];
    snprintf(name, sizeof name, "n%d", i + 1);
    if ((st = proc_layout(r, s.dir, name, nats_bin, "nats.conf", "jetstream", "nats.log", err)) != GG_OK)
      return st;
    r->port = ports[3 * i];
    r->cluster = ports[3 * i + 1];
    r->monitor = ports[3 * i + 2];
  }
  snprintf(s.pg.name, sizeof s.pg.name, "postgres");
  snprintf(s.pg.bin, sizeof s.pg.bin, "%s", pg_bin);
  path_join(s.pg.log, sizeof s.pg.log, s.dir, "postgres.log");
  s.pg.port = ports[3 * s.nnodes];
  if (s.has_prom) {
    st = proc_layout(&s.prom, s.dir, "prometheus", prom_bin, "prometheus.yml", "data", "prometheus.log", err);
    if (st != GG_OK) return st;
    s.prom.port = ports[3 * s.nnodes + 1];
  }
  if (s.has_am) {
    st = proc_layout(&s.am, s.dir, "alertmanager", am_bin, "alertmanager.yml", "data", "alertmanager.log",
                     err);
    if (st != GG_OK) return st;
    s.am.port = ports[3 * s.nnodes + 2];
  }

  double deadline = gg_clock_mono() + (o->timeout > 0 ? o->timeout : 30);
  /* Start the nats nodes first: their cluster forms while initdb runs. */
  for (int i = 0; i < s.nnodes && st == GG_OK; i++) {
    st = write_nats_conf(&s, i, err);
    if (st == GG_OK) st = start_nats(&s, i, err);
    if (st == GG_OK)
      progress(o, "%s: started pid %d, client 127.0.0.1:%d", s.nodes[i].name, s.nodes[i].pid,
               s.nodes[i].port);
  }
  if (st == GG_OK) st = state_save(&s, err); /* record pids early: a failure below can still be cleaned up */
  if (st == GG_OK) st = init_pg(&s, o, err);
  if (st == GG_OK) st = start_pg(&s, err);
  if (st == GG_OK) progress(o, "postgres: started pid %d, 127.0.0.1:%d", s.pg.pid, s.pg.port);
  if (st == GG_OK && s.has_am) {
    st = write_alertmanager_conf(&s, err);
    if (st == GG_OK) st = start_am(&s, err);
  }
  if (st == GG_OK && s.has_prom) {
    st = write_prometheus_conf(&s, err);
    if (st == GG_OK) st = start_prom(&s, err);
  }
  if (st == GG_OK) st = state_save(&s, err);
  if (st == GG_OK) st = wait_nats(&s, o, deadline, err);
  if (st == GG_OK) st = wait_pg(&s, deadline, err);
  if (st == GG_OK) st = pg_create_athlete(&s, err);
  if (st == GG_OK) progress(o, "postgres: accepting connections, database athlete ready");
  if (st == GG_OK && s.has_prom && (st = wait_http_ready(&s.prom, "/-/ready", deadline, err)) == GG_OK)
    progress(o, "prometheus: ready on 127.0.0.1:%d", s.prom.port);
  if (st == GG_OK && s.has_am && (st = wait_http_ready(&s.am, "/-/ready", deadline, err)) == GG_OK)
    progress(o, "alertmanager: ready on 127.0.0.1:%d", s.am.port);
  if (st == GG_OK) st = write_env(&s, err);
  if (st != GG_OK) {
    stop_all(&s);
    gg_error_prefix(err, "sandbox up in '%s': ", s.dir);
  }
  return st;
}

gg_status sandbox_up(const sandbox_opts *o, bool *already, gg_error *err) {
  const char *dir = opts_dir(o);
  *already = false;
  gg_status st = prepare_dir(dir, err);
  if (st != GG_OK) return st;
  int lock = -1;
  if ((st = lock_dir(dir, &lock, err)) != GG_OK) return st;
  st = up_locked(o, dir, already, err);
  unlock_dir(lock);
  return st;
}

gg_status sandbox_down(const sandbox_opts *o, gg_error *err) {
  const char *dir = opts_dir(o);
  sb_state s;
  gg_error le;
  gg_error_clear(&le);
  if (access(dir, F_OK) != 0 || state_load(dir, &s, &le) == GG_ERR_NOT_FOUND) {
    progress(o, "no sandbox in '%s': nothing to stop", dir);
    return GG_OK;
  }
  if (le.code != GG_OK) return gg_error_set(err, le.code, "%s", le.msg);
  int lock = -1;
  gg_status st = lock_dir(dir, &lock, err);
  if (st != GG_OK) return st;
  for (int i = 0; i < s.nnodes; i++)
    if (proc_is_ours(&s.nodes[i])) progress(o, "%s: stopping pid %d", s.nodes[i].name, s.nodes[i].pid);
  if (proc_is_ours(&s.pg)) progress(o, "postgres: stopping pid %d", s.pg.pid);
  if (s.has_prom && proc_is_ours(&s.prom)) progress(o, "prometheus: stopping pid %d", s.prom.pid);
  if (s.has_am && proc_is_ours(&s.am)) progress(o, "alertmanager: stopping pid %d", s.am.pid);
  stop_all(&s);
  if (any_running(&s)) {
    st = gg_error_set(err, GG_ERR_STATE,
                      "some sandbox processes in '%s' did not stop; see `gonogo sandbox status`", dir);
  } else {
    remove_data(&s);
    char env[SB_PATH_MAX];
    path_join(env, sizeof env, s.dir, "env");
    unlink(env);
    progress(o, "sandbox in '%s' is down", dir);
  }
  unlock_dir(lock);
  return st;
}

static void fill_proc(sandbox_proc *p, const proc_rec *r) {
  snprintf(p->name, sizeof p->name, "%s", r->name);
  p->pid = r->pid;
  p->running = proc_is_ours(r);
  snprintf(p->address, sizeof p->address, "127.0.0.1:%d", r->port);
  if (!p->running) snprintf(p->health, sizeof p->health, "not running");
}

gg_status sandbox_get_status(const sandbox_opts *o, sandbox_status *st, gg_error *err) {
  const char *dir = opts_dir(o);
  memset(st, 0, sizeof *st);
  sb_state s;
  gg_status rc = state_load(dir, &s, err);
  if (rc != GG_OK) return rc;
  path_join(st->env_path, sizeof st->env_path, s.dir, "env");
  char leader[32] = "";
  for (int i = 0; i < s.nnodes; i++) {
    sandbox_proc *p = &st->procs[st->nprocs++];
    fill_proc(p, &s.nodes[i]);
    if (p->running) {
      p->healthy = node_healthy(&s.nodes[i], p->health, sizeof p->health);
      if (p->healthy && !leader[0]) node_meta_leader(&s.nodes[i], leader, sizeof leader);
    }
  }
  /* A node keeps naming a killed leader until the election timeout: count a leader only
   * when it is one of the healthy nodes. */
  for (int i = 0; leader[0] && i < s.nnodes; i++) {
    if (strcmp(st->procs[i].name, leader) == 0 && st->procs[i].healthy) {
      st->meta_leader = true;
      snprintf(st->leader, sizeof st->leader, "%s", leader);
    }
  }
  sandbox_proc *p = &st->procs[st->nprocs++];
  fill_proc(p, &s.pg);
  if (p->running) p->healthy = pg_accepts(&s, p->health, sizeof p->health);
  const proc_rec *extra[2] = {s.has_prom ? &s.prom : NULL, s.has_am ? &s.am : NULL};
  for (int k = 0; k < 2; k++) {
    if (!extra[k]) continue;
    p = &st->procs[st->nprocs++];
    fill_proc(p, extra[k]);
    if (p->running) {
      char url[128];
      snprintf(url, sizeof url, "http://127.0.0.1:%d/-/ready", extra[k]->port);
      p->healthy = http_ok(url, 1.0, p->health, sizeof p->health, NULL);
    }
  }
  return GG_OK;
}

static gg_status node_index(const sb_state *s, int n, gg_error *err) {
  if (n < 1 || n > s->nnodes)
    return gg_error_set(err, GG_ERR_RANGE, "no node %d in the sandbox in '%s' (it has n1..n%d)", n, s->dir,
                        s->nnodes);
  return GG_OK;
}

gg_status sandbox_kill_node(const sandbox_opts *o, int n, gg_error *err) {
  sb_state s;
  gg_status st = state_load(opts_dir(o), &s, err);
  if (st == GG_OK) st = node_index(&s, n, err);
  if (st != GG_OK) return st;
  proc_rec *r = &s.nodes[n - 1];
  if (!proc_is_ours(r)) {
    progress(o, "%s is not running", r->name);
    return GG_OK;
  }
  kill(r->pid, SIGKILL);
  double deadline = gg_clock_mono() + 5;
  while (proc_is_ours(r) && gg_clock_mono() < deadline) {
    reap_quietly();
    usleep(10000);
  }
  if (proc_is_ours(r))
    return gg_error_set(err, GG_ERR_STATE, "%s (pid %d) survived SIGKILL", r->name, r->pid);
  progress(o, "%s: killed pid %d (SIGKILL)", r->name, r->pid);
  return GG_OK;
}

gg_status sandbox_start_node(const sandbox_opts *o, int n, gg_error *err) {
  sb_state s;
  const char *dir = opts_dir(o);
  gg_status st = state_load(dir, &s, err);
  if (st == GG_OK) st = node_index(&s, n, err);
  if (st != GG_OK) return st;
  proc_rec *r = &s.nodes[n - 1];
  int lock = -1;
  if ((st = lock_dir(dir, &lock, err)) != GG_OK) return st;
  if (proc_is_ours(r)) {
    progress(o, "%s is already running (pid %d)", r->name, r->pid);
  } else {
    st = start_nats(&s, n - 1, err);
    if (st == GG_OK) st = state_save(&s, err);
    if (st == GG_OK) progress(o, "%s: started pid %d with its data", r->name, r->pid);
  }
  double deadline = gg_clock_mono() + (o->timeout > 0 ? o->timeout : 30);
  char why[256];
  while (st == GG_OK && !node_serving(r, why, sizeof why)) {
    if (!proc_is_ours(r))
      st = exited_error(r, err);
    else if (gg_clock_mono() > deadline)
      st = gg_error_set(err, GG_ERR_TIMEOUT, "%s not healthy in time: %s; see %s", r->name, why, r->log);
    else
      usleep(100000);
  }
  if (st == GG_OK) {
    if (node_healthy(r, why, sizeof why))
      progress(o, "%s: healthy", r->name);
    else
      progress(o, "%s: serving; still catching up: %s", r->name, why);
  }
  unlock_dir(lock);
  return st;
}

gg_status sandbox_pg_stop(const sandbox_opts *o, gg_error *err) {
  sb_state s;
  gg_status st = state_load(opts_dir(o), &s, err);
  if (st != GG_OK) return st;
  if (!proc_is_ours(&s.pg)) {
    progress(o, "postgres is not running");
    return GG_OK;
  }
  progress(o, "postgres: stopping pid %d", s.pg.pid);
  proc_stop(&s.pg, SIGINT, SB_STOP_GRACE);
  return GG_OK;
}

gg_status sandbox_pg_start(const sandbox_opts *o, gg_error *err) {
  sb_state s;
  const char *dir = opts_dir(o);
  gg_status st = state_load(dir, &s, err);
  if (st != GG_OK) return st;
  int lock = -1;
  if ((st = lock_dir(dir, &lock, err)) != GG_OK) return st;
  if (proc_is_ours(&s.pg)) {
    progress(o, "postgres is already running (pid %d)", s.pg.pid);
  } else {
    st = start_pg(&s, err);
    if (st == GG_OK) st = state_save(&s, err);
    if (st == GG_OK) progress(o, "postgres: started pid %d with its data", s.pg.pid);
  }
  if (st == GG_OK) st = wait_pg(&s, gg_clock_mono() + (o->timeout > 0 ? o->timeout : 30), err);
  if (st == GG_OK) progress(o, "postgres: accepting connections");
  unlock_dir(lock);
  return st;
}

gg_status sandbox_env_text(const sandbox_opts *o, char **out, gg_error *err) {
  sb_state s;
  gg_status st = state_load(opts_dir(o), &s, err);
  if (st != GG_OK) return st;
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  st = gg_buf_puts(&b, "export NATS_URL=");
  for (int i = 0; st == GG_OK && i < s.nnodes; i++)
    st = gg_buf_printf(&b, "%snats://127.0.0.1:%d", i ? "," : "", s.nodes[i].port);
  if (st == GG_OK) st = gg_buf_puts(&b, "\nexport NATS_MONITOR_URLS=");
  for (int i = 0; st == GG_OK && i < s.nnodes; i++)
    st = gg_buf_printf(&b, "%shttp://127.0.0.1:%d", i ? "," : "", s.nodes[i].monitor);
  if (st == GG_OK)
    st = gg_buf_printf(&b, "\nexport PG_URL=postgresql://postgres@127.0.0.1:%d/athlete\n", s.pg.port);
  if (st == GG_OK) {
    if (s.has_prom)
      st = gg_buf_printf(&b, "export PROMETHEUS_URL=http://127.0.0.1:%d\n", s.prom.port);
    else
      st = gg_buf_puts(&b, "export PROMETHEUS_URL=\n");
  }
  if (st == GG_OK) {
    if (s.has_am)
      st = gg_buf_printf(&b, "export ALERTMANAGER_URL=http://127.0.0.1:%d\n", s.am.port);
    else
      st = gg_buf_puts(&b, "export ALERTMANAGER_URL=\n");
  }
  if (st == GG_OK && s.has_prom)
    st = gg_buf_printf(&b, "export PROMETHEUS_TARGETS_DIR=%s/prometheus/targets\n", s.dir);
  if (st == GG_OK) st = gg_buf_printf(&b, "export GONOGO_SANDBOX_DIR=%s\n", s.dir);
  if (st != GG_OK) {
    gg_buf_release(&b);
    return gg_error_set(err, st, "format the sandbox env");
  }
  *out = gg_buf_detach(&b);
  return *out ? GG_OK : gg_error_set(err, GG_ERR_NOMEM, "format the sandbox env");
}
