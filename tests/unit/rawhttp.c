#include "rawhttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double raw_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_nonblocking(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static bool wait_for(int fd, short events, double deadline) {
  for (;;) {
    double left = deadline - raw_now();
    if (left <= 0) return false;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, (int)(left * 1000) + 1);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

int raw_exchange(uint16_t port, const char *req, size_t len, double timeout, char *out, size_t cap,
                 bool *closed) {
  double deadline = raw_now() + timeout;
  size_t got = 0;
  if (cap) out[0] = '\0';
  if (closed) *closed = false;
  int fd = connect_nonblocking(port);
  if (fd < 0) return 0;
  size_t sent = 0;
  while (sent < len) {
    if (!wait_for(fd, POLLOUT, deadline)) goto out;
    ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) goto out;
    if (w > 0) sent += (size_t)w;
  }
  while (got + 1 < cap) {
    if (!wait_for(fd, POLLIN, deadline)) goto out;
    ssize_t r = recv(fd, out + got, cap - 1 - got, 0);
    if (r == 0 || (r < 0 && errno == ECONNRESET)) {
      if (closed) *closed = true;
      goto out;
    }
    if (r < 0 && errno != EAGAIN && errno != EINTR) goto out;
    if (r > 0) got += (size_t)r;
  }
out:
  if (cap) out[got < cap ? got : cap - 1] = '\0';
  close(fd);
  int status = 0;
  if (got > 0 && sscanf(out, "HTTP/1.%*d %d", &status) != 1) status = 0;
  return status;
}

int raw_get(uint16_t port, const char *path, double timeout) {
  char req[256], resp[4096];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  return raw_exchange(port, req, (size_t)n, timeout, resp, sizeof resp, NULL);
}

void raw_slow_open(raw_slow *s, uint16_t port, const char *path, int n, bool body, double timeout) {
  memset(s, 0, sizeof *s);
  s->fds = malloc((size_t)n * sizeof *s->fds);
  if (!s->fds) return;
  s->n = n;
  s->body = body;
  double deadline = raw_now() + timeout;
  char start[256];
  int len = body ? snprintf(start, sizeof start,
                            "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            "Content-Length: 100000\r\n\r\n{",
                            path)
                 : snprintf(start, sizeof start, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", path);
  bool *started = calloc((size_t)n, sizeof *started);
  if (!started) return;
  for (int i = 0; i < n; i++) s->fds[i] = raw_now() < deadline ? connect_nonblocking(port) : -1;
  /* Send each connection's start once its handshake is done. */
  int pending = 0;
  for (int i = 0; i < n; i++) pending += s->fds[i] >= 0;
  struct pollfd *p = calloc((size_t)n, sizeof *p);
  while (p && pending > 0 && raw_now() < deadline) {
    for (int i = 0; i < n; i++) p[i] = (struct pollfd){.fd = started[i] ? -1 : s->fds[i], .events = POLLOUT};
    if (poll(p, (nfds_t)n, 100) <= 0) continue;
    for (int i = 0; i < n; i++) {
      if (!(p[i].revents & (POLLOUT | POLLERR | POLLHUP))) continue;
      started[i] = true;
      pending--;
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      getsockopt(s->fds[i], SOL_SOCKET, SO_ERROR, &soerr, &sl);
      if (soerr == 0 && send(s->fds[i], start, (size_t)len, MSG_NOSIGNAL) == len) {
        s->opened++;
      } else {
        close(s->fds[i]);
        s->fds[i] = -1;
      }
    }
  }
  for (int i = 0; i < n; i++)
    if (s->fds[i] >= 0 && !started[i]) {
      close(s->fds[i]);
      s->fds[i] = -1;
    }
  free(p);
  free(started);
}

void raw_slow_drip(raw_slow *s) {
  for (int i = 0; i < s->n; i++) {
    if (s->fds[i] < 0) continue;
    if (send(s->fds[i], s->body ? " " : "x", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
      close(s->fds[i]);
      s->fds[i] = -1;
    }
  }
}

int raw_slow_open_count(raw_slow *s) {
  int open = 0;
  for (int i = 0; i < s->n; i++) {
    if (s->fds[i] < 0) continue;
    char buf[512];
    ssize_t r;
    /* Whatever the server wrote (an error page) is read and dropped; EOF or a reset is a close. */
    while ((r = recv(s->fds[i], buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close(s->fds[i]);
      s->fds[i] = -1;
      continue;
    }
    open++;
  }
  return open;
}

void raw_slow_close(raw_slow *s) {
  for (int i = 0; s->fds && i < s->n; i++)
    if (s->fds[i] >= 0) close(s->fds[i]);
  free(s->fds);
  memset(s, 0, sizeof *s);
}
