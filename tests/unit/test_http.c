/* Unit tests of src/base/http: a real libmicrohttpd server on 127.0.0.1, port 0. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/http.h"

static struct MHD_Daemon *daemon_handle;
static unsigned short port;
static volatile int stopping;

/* The request body as it arrives, kept per connection. */
typedef struct {
  gg_buf body;
} upload;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *text,
                             size_t len) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  if (type) MHD_add_response_header(r, "Content-Type", type);
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static const char *header(struct MHD_Connection *conn, const char *name) {
  const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
  return v ? v : "-";
}

static long query_number(struct MHD_Connection *conn, const char *name) {
  const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
  if (!v) return 0;
  char *end;
  long n = strtol(v, &end, 10);
  return *end ? 0 : n;
}

/* Routes: /status/NNN, /big?n=BYTES, /sleep?ms=MS, /echo (method, headers and body back). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **state) {
  (void)cls;
  (void)version;
  upload *u = *state;
  if (!u) { /* first call: headers only */
    u = calloc(1, sizeof *u);
    if (!u) return MHD_NO;
    gg_buf_init(&u->body, 4 << 20);
    *state = u;
    return MHD_YES;
  }
  if (*data_size) {
    if (gg_buf_append(&u->body, data, *data_size) != GG_OK) return MHD_NO;
    *data_size = 0;
    return MHD_YES;
  }
  if (strncmp(url, "/status/", 8) == 0) {
    unsigned code = (unsigned)strtoul(url + 8, NULL, 10);
    char text[64];
    int n = snprintf(text, sizeof text, "status %u", code);
    return reply(conn, code, "text/plain", text, (size_t)n);
  }
  if (strcmp(url, "/big") == 0) {
    size_t n = (size_t)query_number(conn, "n");
    char *text = malloc(n + 1);
    if (!text) return MHD_NO;
    memset(text, 'x', n);
    enum MHD_Result r = reply(conn, 200, "text/plain", text, n);
    free(text);
    return r;
  }
  if (strcmp(url, "/sleep") == 0) {
    long ms = query_number(conn, "ms");
    for (long slept = 0; slept < ms && !stopping; slept += 10) {
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    return reply(conn, 200, "text/plain", "slept", 5);
  }
  if (strcmp(url, "/echo") == 0) {
    gg_buf out;
    gg_buf_init(&out, 0);
    gg_status st = gg_buf_printf(&out, "method=%s\ncontent-type=%s\nx-test=%s\nagent=%s\nexpect=%s\nbody=%s",
                                 method, header(conn, "Content-Type"), header(conn, "X-Test"),
                                 header(conn, "User-Agent"), header(conn, "Expect"), gg_buf_str(&u->body));
    enum MHD_Result r = st == GG_OK ? reply(conn, 200, "application/json", out.data, out.len) : MHD_NO;
    gg_buf_release(&out);
    return r;
  }
  return reply(conn, 404, "text/plain", "no such route", 13);
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
                      enum MHD_RequestTerminationCode code) {
  (void)cls;
  (void)conn;
  (void)code;
  upload *u = *state;
  if (u) {
    gg_buf_release(&u->body);
    free(u);
    *state = NULL;
  }
}

static int start_server(void **state) {
  (void)state;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  stopping = 0;
  daemon_handle = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                                   NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                   MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
  if (!daemon_handle) return -1;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
  if (!info || info->port == 0) return -1;
  port = info->port;
  gg_error err;
  return gg_http_global_init(&err) == GG_OK ? 0 : -1;
}

static int stop_server(void **state) {
  (void)state;
  stopping = 1;
  MHD_stop_daemon(daemon_handle);
  daemon_handle = NULL;
  return 0;
}

static void url_for(char *out, size_t n, const char *path) {
  snprintf(out, n, "http://127.0.0.1:%u%s", port, path);
}

/* A port with nothing listening: bind to port 0, note it, close. */
static unsigned short free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  socklen_t len = sizeof addr;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

static void test_status_codes(void **state) {
  (void)state;
  static const long codes[] = {200, 201, 404, 500, 503};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    char url[128], path[32], want[32];
    snprintf(path, sizeof path, "/status/%ld", codes[i]);
    url_for(url, sizeof url, path);
    gg_http_response resp;
    gg_error err;
    gg_error_clear(&err);
    /* A non-2xx status is an answer, not an error. */
    assert_int_equal(gg_http_get(url, NULL, &resp, &err), GG_OK);
    assert_int_equal(resp.status, codes[i]);
    snprintf(want, sizeof want, "status %ld", codes[i]);
    assert_string_equal(resp.body, want);
    assert_int_equal(resp.body_len, strlen(want));
    assert_string_equal(resp.content_type, "text/plain");
    assert_true(resp.elapsed > 0 && resp.elapsed < 5);
    gg_http_response_release(&resp);
    gg_http_response_release(&resp);
  }
  /* An empty body is "" (never NULL). */
  char url[128];
  url_for(url, sizeof url, "/big?n=0");
  gg_http_response resp;
  assert_int_equal(gg_http_get(url, NULL, &resp, NULL), GG_OK);
  assert_non_null(resp.body);
  assert_string_equal(resp.body, "");
  gg_http_response_release(&resp);
}

static void test_body_cap(void **state) {
  (void)state;
  char url[128];
  gg_http_opts opts = {.max_body = 1000};
  gg_http_response resp;
  gg_error err;
  gg_error_clear(&err);
  url_for(url, sizeof url, "/big?n=1000");
  assert_int_equal(gg_http_get(url, &opts, &resp, &err), GG_OK); /* exactly at the cap */
  assert_int_equal(resp.body_len, 1000);
  assert_int_equal(strlen(resp.body), 1000);
  gg_http_response_release(&resp);

  url_for(url, sizeof url, "/big?n=200000");
  assert_int_equal(gg_http_get(url, &opts, &resp, &err), GG_ERR_TOO_BIG);
  assert_null(resp.body);
  char want[256];
  snprintf(want, sizeof want, "GET %s: response body exceeds 1000 bytes", url);
  assert_string_equal(err.msg, want);
}

static void test_timeout(void **state) {
  (void)state;
  char url[128];
  url_for(url, sizeof url, "/sleep?ms=3000");
  gg_http_opts opts = {.timeout = 0.3};
  gg_http_response resp;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_http_get(url, &opts, &resp, &err), GG_ERR_TIMEOUT);
  assert_true(resp.elapsed >= 0.25 && resp.elapsed < 2.5); /* cut short: the handler sleeps 3 s */
  char want[256];
  snprintf(want, sizeof want, "GET %s: timed out after 300ms", url);
  assert_string_equal(err.msg, want);
  assert_null(resp.body);
  /* Within the timeout the same route answers. */
  url_for(url, sizeof url, "/sleep?ms=50");
  opts.timeout = 5;
  assert_int_equal(gg_http_get(url, &opts, &resp, &err), GG_OK);
  assert_string_equal(resp.body, "slept");
  gg_http_response_release(&resp);
}

static void test_connection_refused(void **state) {
  (void)state;
  unsigned short p = free_port();
  char url[256], want[512];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", p);
  gg_http_response resp;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_http_get(url, NULL, &resp, &err), GG_ERR_CONNECT);
  snprintf(want, sizeof want, "GET http://127.0.0.1:%u/healthz: Connection refused", p);
  assert_string_equal(err.msg, want);

  /* Credentials in the URL never reach the message. */
  snprintf(url, sizeof url, "http://admin:s3cret@127.0.0.1:%u/api?token=abc123&x=1", p);
  gg_error_clear(&err);
  assert_int_equal(gg_http_post(url, NULL, "{}", 2, NULL, &resp, &err), GG_ERR_CONNECT);
  snprintf(want, sizeof want, "POST http://***@127.0.0.1:%u/api?token=***&x=1: Connection refused", p);
  assert_string_equal(err.msg, want);
  assert_null(strstr(err.msg, "s3cret"));
  assert_null(strstr(err.msg, "abc123"));

  gg_error_clear(&err);
  assert_int_equal(gg_http_get("file:///etc/passwd", NULL, &resp, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "GET file:///etc/passwd: "));
}

static void test_post_body_and_headers(void **state) {
  (void)state;
  char url[128];
  url_for(url, sizeof url, "/echo");
  const char *headers[] = {"X-Test: hello there", NULL};
  gg_http_opts opts = {.headers = headers};
  gg_http_response resp;
  gg_error err;
  gg_error_clear(&err);
  const char body[] = "{\"reading\":42}";
  assert_int_equal(gg_http_post(url, NULL, body, strlen(body), &opts, &resp, &err), GG_OK);
  assert_int_equal(resp.status, 200);
  assert_string_equal(resp.body,
                      "method=POST\ncontent-type=application/json\nx-test=hello there\nagent=gonogo/0.1\n"
                      "expect=-\nbody={\"reading\":42}");
  assert_string_equal(resp.content_type, "application/json");
  gg_http_response_release(&resp);

  /* A larger body with another content type arrives whole, sent without "Expect: 100-continue"
   * (which would cost a second's wait on servers that do not answer it). */
  size_t n = 2000000; /* libcurl 7.88 adds the Expect header above 1 MB */
  char *big = malloc(n + 1);
  assert_non_null(big);
  for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
  big[n] = '\0';
  assert_int_equal(gg_http_post(url, "text/plain", big, n, NULL, &resp, &err), GG_OK);
  assert_non_null(strstr(resp.body, "content-type=text/plain\n"));
  assert_non_null(strstr(resp.body, "expect=-\n"));
  const char *echoed = strstr(resp.body, "body=");
  assert_non_null(echoed);
  assert_string_equal(echoed + 5, big);
  gg_http_response_release(&resp);
  free(big);

  /* Other methods. */
  assert_int_equal(gg_http_request("PUT", url, "text/plain", "v", 1, NULL, &resp, &err), GG_OK);
  assert_non_null(strstr(resp.body, "method=PUT\n"));
  assert_non_null(strstr(resp.body, "body=v"));
  gg_http_response_release(&resp);
  assert_int_equal(gg_http_request("DELETE", url, NULL, NULL, 0, NULL, &resp, &err), GG_OK);
  assert_non_null(strstr(resp.body, "method=DELETE\n"));
  gg_http_response_release(&resp);
  assert_int_equal(gg_http_get(url, NULL, &resp, &err), GG_OK);
  assert_non_null(strstr(resp.body, "method=GET\ncontent-type=-\n"));
  gg_http_response_release(&resp);
}

static void test_redact_url(void **state) {
  (void)state;
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
      {"http://127.0.0.1:8222/healthz", "http://127.0.0.1:8222/healthz"},
      {"http://user:pass@host:8080/x", "http://***@host:8080/x"},
      {"https://user@host/", "https://***@host/"},
      {"http://u:p@ss@host/a", "http://***@host/a"},
      {"http://host/a@b", "http://host/a@b"}, /* an '@' in the path is not userinfo */
      {"http://host/q?token=abc&x=1", "http://host/q?token=***&x=1"},
      {"http://host/q?x=1&access_token=abc", "http://host/q?x=1&access_token=***"},
      {"http://host/q?API_KEY=k1&Password=p&secret=s&sig=z",
       "http://host/q?API_KEY=***&Password=***&secret=***&sig=***"},
      {"http://host/q?X-Amz-Signature=ff#frag", "http://host/q?X-Amz-Signature=***#frag"},
      {"http://host/q?token", "http://host/q?token"},
      {"http://host/q?name=token", "http://host/q?name=token"},
      {"http://a:b@host/q?token=1&&key=", "http://***@host/q?token=***&&key=***"},
      {"nats://u:p@127.0.0.1:4222", "nats://***@127.0.0.1:4222"},
      {"nats://tok3n@127.0.0.1:4222", "nats://***@127.0.0.1:4222"},
      {"u:p@127.0.0.1:4222", "***@127.0.0.1:4222"}, /* no scheme: still the authority */
      {"127.0.0.1:4222/a@b", "127.0.0.1:4222/a@b"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[256];
    gg_http_redact_url(cases[i].in, out, sizeof out);
    if (strcmp(out, cases[i].out) != 0) print_error("redact '%s' = '%s'\n", cases[i].in, out);
    assert_string_equal(out, cases[i].out);
  }
  char tiny[12];
  assert_string_equal(gg_http_redact_url("http://u:p@host/x", tiny, sizeof tiny), "http://***@");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_codes),
      cmocka_unit_test(test_body_cap),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_connection_refused),
      cmocka_unit_test(test_post_body_and_headers),
      cmocka_unit_test(test_redact_url),
  };
  return cmocka_run_group_tests(tests, start_server, stop_server);
}
