/*
 * rawhttp.h: hand-written HTTP/1.1 on loopback sockets, for the server tests that libcurl
 * cannot write: requests with conflicting framing (request smuggling) and many slow
 * clients that hold connections open (slowloris). Everything is bounded by a timeout the
 * caller gives; nothing here waits forever.
 */
#ifndef RAWHTTP_H
#define RAWHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Send `req` (len bytes) on a new connection to 127.0.0.1:port and read what comes back
 * until the server closes the connection or `timeout` seconds pass. The reply (at most
 * cap-1 bytes, NUL-terminated) goes to out; *closed tells whether the server closed the
 * connection. Returns the status of the first reply line, 0 when there was none. */
int raw_exchange(uint16_t port, const char *req, size_t len, double timeout, char *out, size_t cap,
                 bool *closed);

/* A GET of `path` with Connection: close; the status (0 when none came within timeout). */
int raw_get(uint16_t port, const char *path, double timeout);

/* Slow clients: n connections that each sent the start of a request and then send one
 * more byte whenever raw_slow_drip is called, so that no connection is ever idle long. */
typedef struct {
  int *fds; /* -1 once the server closed it */
  int n;
  int opened; /* connections established */
  bool body;  /* dripping into a body (headers complete) rather than into the headers */
} raw_slow;

/* Open n connections to 127.0.0.1:port, at most `timeout` seconds in all. With body,
 * each sends complete headers of a POST to path with a large Content-Length and then
 * drips body bytes; otherwise it drips header bytes and never ends the headers.
 * Release with raw_slow_close. */
void raw_slow_open(raw_slow *s, uint16_t port, const char *path, int n, bool body, double timeout);

/* One more byte on every connection still open; notes the ones the server closed. */
void raw_slow_drip(raw_slow *s);

/* Connections the server has not closed (polls each one without blocking). */
int raw_slow_open_count(raw_slow *s);

void raw_slow_close(raw_slow *s);

/* Monotonic seconds. */
double raw_now(void);

#endif
