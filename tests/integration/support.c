/* Helpers shared by the integration tests; see support.h. */
#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

support_run_result support_run(const char *const *argv, const gg_spawn_opts *o) {
  gg_spawn_result r = {0};
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_spawn_run(argv, o, &r, &err), GG_OK);
  support_run_result rr = {.code = r.exit_code, .out = r.output, .took = r.elapsed};
  r.output = NULL;
  gg_spawn_result_release(&r);
  return rr;
}

int support_nats_connect(const char *urls, natsConnection **nc, jsCtx **js) {
  char buf[1024];
  const char *list[16];
  int n = 0;
  snprintf(buf, sizeof buf, "%s", urls);
  char *save = NULL;
  for (char *u = strtok_r(buf, ",", &save); u && n < 16; u = strtok_r(NULL, ",", &save)) list[n++] = u;
  natsOptions *o = NULL;
  /* On the secured sandbox: its user and password, and its CA. */
  const char *user = getenv("NATS_USER"), *ca = getenv("NATS_CA");
  bool ok = natsOptions_Create(&o) == NATS_OK && natsOptions_SetServers(o, list, n) == NATS_OK;
  if (ok && user && *user) ok = natsOptions_SetUserInfo(o, user, getenv("NATS_PASSWORD")) == NATS_OK;
  if (ok && ca && *ca)
    ok = natsOptions_SetSecure(o, true) == NATS_OK && natsOptions_LoadCATrustedCertificates(o, ca) == NATS_OK;
  if (!ok || natsConnection_Connect(nc, o) != NATS_OK || natsConnection_JetStream(js, *nc, NULL) != NATS_OK) {
    fprintf(stderr, "connect to %s: %s\n", urls, nats_GetLastError(NULL));
    natsOptions_Destroy(o);
    return -1;
  }
  natsOptions_Destroy(o);
  return 0;
}

int support_gonogo(const char *bin, char **out, ...) {
  const char *argv[24];
  int n = 0;
  argv[n++] = bin;
  va_list ap;
  va_start(ap, out);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && n < 23) argv[n++] = a;
  va_end(ap);
  argv[n] = NULL;
  gg_spawn_opts opts = {.timeout = 60};
  support_run_result r = support_run(argv, &opts);
  if (out)
    *out = r.out;
  else
    free(r.out);
  return r.code;
}

const char *support_need_env(const char *who, const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) {
    fprintf(stderr, "%s: %s is not set: run under `make test` or `source DIR/env` of a running sandbox\n",
            who, name);
    exit(1);
  }
  return v;
}

int support_blackhole(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

char *support_source_file(const char *who, const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", support_need_env(who, "GONOGO_SOURCE_DIR"), rel);
  FILE *f = fopen(path, "r");
  char *text = NULL;
  long n = -1;
  if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (text = malloc((size_t)n + 1)) != NULL && fread(text, 1, (size_t)n, f) == (size_t)n) {
    text[n] = '\0';
    fclose(f);
    return text;
  }
  fprintf(stderr, "%s: cannot read %s\n", who, path);
  exit(1);
}
