/* base/httpd: a real server on a loopback port, driven with libcurl. */
#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/httpd.h"
#include "rawhttp.h"

typedef struct {
  char *data;
  size_t len;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *arg) {
  sink *s = arg;
  char *d = realloc(s->data, s->len + size * n + 1);
  if (!d) return 0;
  memcpy(d + s->len, p, size * n);
  s->len += size * n;
  d[s->len] = '\0';
  s->data = d;
  return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
  return on_data(p, size, n, arg);
}

/* Returns the status; body and headers are malloc'd (free them). */
static long request(uint16_t port, const char *method, const char *path, const char *body, size_t len,
                    const char *header, char **out, char **headers) {
  CURL *c = curl_easy_init();
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
  struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
  if (header) hl = curl_slist_append(hl, header);
  sink s = {0}, h = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
  }
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  if (out)
    *out = s.data ? s.data : strdup("");
  else
    free(s.data);
  if (headers)
    *headers = h.data ? h.data : strdup("");
  else
    free(h.data);
  return status;
}

/* Echo: answers at once with the method, the body length and a header. */
static void on_echo(gg_httpd_req *req, void *closure) {
  size_t len;
  const char *body = gg_httpd_req_body(req, &len);
  const char *who = gg_httpd_req_header(req, "x-who");
  if (!who) who = gg_httpd_req_query(req, "who");
  char out[256];
  int n = snprintf(out, sizeof out, "%s %s %zu %s %s", gg_httpd_req_method(req), gg_httpd_req_path(req), len,
                   who ? who : "-", len ? body : "");
  gg_httpd_respond(req, 200, "text/plain", out, (size_t)n, (const char *const[]){"X-Echo", "yes", NULL});
}

/* Deferred: answered from another thread later, while the connection is suspended. Each
 * answer waits (up to 5 s) until `later_expected` requests have reached the handler, so an
 * answer given with all of them in hand proves they were in flight together. */
static pthread_mutex_t later_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t later_cond = PTHREAD_COND_INITIALIZER;
static int later_expected = 1, later_arrived, later_answered_with_all;

static void *answer_later(void *arg) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 5;
  pthread_mutex_lock(&later_lock);
  while (later_arrived < later_expected && pthread_cond_timedwait(&later_cond, &later_lock, &deadline) == 0) {
  }
  if (later_arrived >= later_expected) later_answered_with_all++;
  pthread_mutex_unlock(&later_lock);
  gg_httpd_respond_json(arg, 202, "{\"later\":true}");
  return NULL;
}

static void on_later(gg_httpd_req *req, void *closure) {
  pthread_mutex_lock(&later_lock);
  later_arrived++;
  pthread_cond_broadcast(&later_cond);
  pthread_mutex_unlock(&later_lock);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, answer_later, req), 0);
  pthread_detach(t);
}

static int answers_200, answers_404;

static void count_answer(void *closure, const char *path, unsigned status) {
  if (status == 200 && strcmp(path, "/echo") == 0) __atomic_add_fetch(&answers_200, 1, __ATOMIC_SEQ_CST);
  if (status == 404 && strcmp(path, "") == 0) __atomic_add_fetch(&answers_404, 1, __ATOMIC_SEQ_CST);
}

static gg_httpd *start(unsigned threads) {
  static const gg_httpd_route routes[] = {
      {"POST", "/echo", on_echo, NULL, 64},
      {"GET", "/echo", on_echo, NULL, 0},
      {"GET", "/later", on_later, NULL, 0},
  };
  gg_httpd_opts o = {
      .listen = "127.0.0.1:0", .threads = threads, .routes = routes, .nroutes = 3, .on_answer = count_answer};
  gg_httpd *h = NULL;
  gg_error err;
  assert_int_equal(gg_httpd_start(&o, &h, &err), GG_OK);
  assert_true(gg_httpd_port(h) > 0);
  return h;
}

static void test_routes_bodies_and_headers(void **state) {
  gg_httpd *h = start(1);
  char *body, *headers;
  assert_int_equal(request(gg_httpd_port(h), "POST", "/echo", "hello", 5, "X-Who: me", &body, &headers), 200);
  assert_string_equal(body, "POST /echo 5 me hello");
  assert_non_null(strstr(headers, "X-Echo: yes"));
  assert_non_null(strstr(headers, "Content-Type: text/plain"));
  free(body);
  free(headers);
  assert_int_equal(request(gg_httpd_port(h), "GET", "/echo", NULL, 0, NULL, &body, NULL), 200);
  assert_string_equal(body, "GET /echo 0 - ");
  free(body);
  assert_int_equal(request(gg_httpd_port(h), "GET", "/echo?who=a%20b&x=1", NULL, 0, NULL, &body, NULL), 200);
  assert_string_equal(body, "GET /echo 0 a b ");
  free(body);
  assert_int_equal(request(gg_httpd_port(h), "GET", "/missing", NULL, 0, NULL, NULL, NULL), 404);
  gg_httpd_stop(h);
  /* Every answer was reported, with its route. */
  assert_int_equal(answers_200, 3);
  assert_int_equal(answers_404, 1);
}

static void test_unknown_path_wrong_method_too_big(void **state) {
  gg_httpd *h = start(2);
  char *body, *headers;
  assert_int_equal(request(gg_httpd_port(h), "GET", "/nope", NULL, 0, NULL, &body, NULL), 404);
  assert_non_null(strstr(body, "not found"));
  free(body);
  assert_int_equal(request(gg_httpd_port(h), "DELETE", "/later", NULL, 0, NULL, &body, &headers), 405);
  assert_non_null(strstr(headers, "Allow: GET"));
  free(body);
  free(headers);
  /* The POST route caps bodies at 64 bytes. */
  char big[65];
  memset(big, 'x', sizeof big);
  assert_int_equal(request(gg_httpd_port(h), "POST", "/echo", big, 64, NULL, &body, NULL), 200);
  free(body);
  assert_int_equal(request(gg_httpd_port(h), "POST", "/echo", big, 65, NULL, &body, NULL), 413);
  free(body);
  /* Chunked (no Content-Length): the cap still holds while reading. */
  char *chunk = malloc(4096);
  memset(chunk, 'y', 4096);
  assert_int_equal(
      request(gg_httpd_port(h), "POST", "/echo", chunk, 4096, "Transfer-Encoding: chunked", &body, NULL),
      413);
  free(body);
  free(chunk);
  gg_httpd_stop(h);
}

typedef struct {
  uint16_t port;
  long status;
  char *body;
} later_call;

static void *call_later(void *arg) {
  later_call *c = arg;
  c->status = request(c->port, "GET", "/later", NULL, 0, NULL, &c->body, NULL);
  return NULL;
}

static void test_suspended_requests_hold_no_thread(void **state) {
  /* One server thread, eight requests, none answered until all eight have reached the
   * handler: if a suspended request held the thread, the second could not arrive before the
   * first was answered, and no answer would be given with all eight in flight. */
  gg_httpd *h = start(1);
  enum { N = 8 };
  pthread_mutex_lock(&later_lock);
  later_expected = N;
  later_arrived = later_answered_with_all = 0;
  pthread_mutex_unlock(&later_lock);
  later_call calls[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    calls[i] = (later_call){gg_httpd_port(h), 0, NULL};
    assert_int_equal(pthread_create(&t[i], NULL, call_later, &calls[i]), 0);
  }
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < N; i++) {
    assert_int_equal(calls[i].status, 202);
    assert_string_equal(calls[i].body, "{\"later\":true}");
    free(calls[i].body);
  }
  pthread_mutex_lock(&later_lock);
  int arrived = later_arrived, with_all = later_answered_with_all;
  pthread_mutex_unlock(&later_lock);
  assert_int_equal(arrived, N);
  assert_int_equal(with_all, N); /* every answer was given while all eight were in flight */
  assert_int_equal(gg_httpd_suspended(h), 0);
  gg_httpd_stop(h);
}

static void test_bad_listen_addresses(void **state) {
  static const char *const bad[] = {"nohost", "127.0.0.1:99999", "127.0.0.1:x", "not-an-ip:80", NULL};
  for (int i = 0; bad[i]; i++) {
    gg_httpd_opts o = {.listen = bad[i]};
    gg_httpd *h = NULL;
    gg_error err;
    gg_error_clear(&err);
    assert_int_not_equal(gg_httpd_start(&o, &h, &err), GG_OK);
    assert_non_null(strstr(gg_error_message(&err), bad[i]));
  }
  /* The same port twice: the second start fails and says where. */
  gg_httpd *h = start(1);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)gg_httpd_port(h));
  gg_httpd_opts o = {.listen = addr};
  gg_httpd *h2 = NULL;
  gg_error err;
  assert_int_not_equal(gg_httpd_start(&o, &h2, &err), GG_OK);
  assert_non_null(strstr(gg_error_message(&err), addr));
  gg_httpd_quiesce(h);
  gg_httpd_stop(h);
  gg_httpd_stop(NULL);
}

/* Counts the requests that reached a handler, and accepts them. */
static int handled;

static void on_count(gg_httpd_req *req, void *closure) {
  __atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
  gg_httpd_respond_json(req, 202, "{\"accepted\":true}");
}

/* Request smuggling (issue #19 item 9): framing that two servers could read differently is
 * answered 400 and the connection closed, so nothing after it is read as a request. */
static gg_httpd *start_counting(void) {
  static const gg_httpd_route routes[] = {
      {"POST", "/in", on_count, NULL, 0},
      {"GET", "/in", on_count, NULL, 0},
  };
  gg_httpd_opts o = {.listen = "127.0.0.1:0", .threads = 2, .routes = routes, .nroutes = 2};
  gg_httpd *h = NULL;
  gg_error err;
  assert_int_equal(gg_httpd_start(&o, &h, &err), GG_OK);
  handled = 0;
  return h;
}

/* Send a request as written; the status, with the connection required closed after it. */
static int send_raw(gg_httpd *h, const char *req, char *resp, size_t cap) {
  bool closed = false;
  int status = raw_exchange(gg_httpd_port(h), req, strlen(req), 3.0, resp, cap, &closed);
  assert_true(closed);
  return status;
}

static void test_smuggled_request_is_refused(void **state) {
  gg_httpd *h = start_counting();
  char resp[4096];
  /* A front end that goes by Content-Length sees one request with a 45-byte body; going
   * by chunked, the body ends at "0" and a second request follows. */
  static const char smuggle[] =
      "POST /in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 45\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n"
      "GET /in HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  assert_int_equal(send_raw(h, smuggle, resp, sizeof resp), 400);
  assert_non_null(strstr(resp, "Connection: close"));
  assert_null(strstr(resp, "HTTP/1.1 202"));
  assert_null(strstr(strstr(resp, "\r\n\r\n"), "HTTP/1.1"));
  assert_int_equal(handled, 0);
  gg_httpd_stop(h);
}

static void test_ambiguous_framing_is_refused(void **state) {
  gg_httpd *h = start_counting();
  char resp[4096];
  static const struct {
    const char *headers;
    int status;
  } cases[] = {
      {"Content-Length: 2\r\nContent-Length: 3\r\n", 400},
      {"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", 400},
      {"Transfer-Encoding: gzip\r\n", 400},
      {"Transfer-Encoding: chunked, identity\r\n", 400},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding: \r\n", 400},
      {"Transfer-Encoding: gzip, chunked\r\n", 501},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char req[512];
    snprintf(req, sizeof req, "POST /in HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n2\r\n{}\r\n0\r\n\r\n",
             cases[i].headers);
    if (send_raw(h, req, resp, sizeof resp) != cases[i].status)
      fail_msg("%s: answered %s", cases[i].headers, resp);
  }
  /* Transfer-Encoding in HTTP/1.0 is faulty framing too. */
  assert_int_equal(send_raw(h,
                            "POST /in HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "2\r\n{}\r\n0\r\n\r\n",
                            resp, sizeof resp),
                   400);
  assert_int_equal(handled, 0);
  /* What is unambiguous still works: chunked alone, one length, a length repeated. */
  assert_int_equal(send_raw(h,
                            "POST /in HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: Chunked\r\n"
                            "Connection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                            resp, sizeof resp),
                   202);
  assert_int_equal(send_raw(h,
                            "POST /in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                            "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
                            resp, sizeof resp),
                   202);
  assert_int_equal(handled, 2);
  gg_httpd_stop(h);
}

/* Slow clients (issue #19 item 8), in small: a limit of 32, a header deadline of half a
 * second, a body deadline of one (room for the 503 checks on a busy machine). */
/* A server of 32 connections with short header and body deadlines (body_timeout seconds). */
static gg_httpd *start_limited_body(double body_timeout) {
  static const gg_httpd_route routes[] = {
      {"POST", "/in", on_count, NULL, 0},
      {"GET", "/health", on_count, NULL, 0},
  };
  gg_httpd_opts o = {.listen = "127.0.0.1:0",
                     .threads = 2,
                     .routes = routes,
                     .nroutes = 2,
                     .connection_limit = 32,
                     .header_timeout = 0.5,
                     .body_timeout = body_timeout,
                     .health_path = "/health"};
  gg_httpd *h = NULL;
  gg_error err;
  assert_int_equal(gg_httpd_start(&o, &h, &err), GG_OK);
  return h;
}

static gg_httpd *start_limited(void) {
  return start_limited_body(1.0);
}

static int post_in(gg_httpd *h, char *resp, size_t cap) {
  static const char req[] =
      "POST /in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\n{}";
  return raw_exchange(gg_httpd_port(h), req, sizeof req - 1, 2.0, resp, cap, NULL);
}

static void test_slow_headers_give_way(void **state) {
  gg_httpd *h = start_limited();
  raw_slow s;
  raw_slow_open(&s, gg_httpd_port(h), "/in", 200, false, 3.0);
  assert_int_equal(s.opened, 200);
  raw_slow_drip(&s);
  /* Over the limit, the oldest slow clients make room: nobody waits unserved. */
  double t0 = raw_now();
  assert_int_equal(raw_get(gg_httpd_port(h), "/health", 1.0), 202);
  assert_true(raw_now() - t0 < 1.0);
  char resp[2048];
  assert_int_equal(post_in(h, resp, sizeof resp), 202);
  usleep(100 * 1000);
  assert_true(raw_slow_open_count(&s) <= 32);
  /* Bytes keep coming, but the header deadline closes every one of them. */
  for (int i = 0; i < 12; i++) {
    raw_slow_drip(&s);
    usleep(100 * 1000);
  }
  assert_int_equal(raw_slow_open_count(&s), 0);
  raw_slow_close(&s);
  gg_httpd_stop(h);
}

static void test_busy_connections_get_a_clear_503(void **state) {
  /* A body deadline long enough that none of the 32 ends while the machine (ASan, other builds)
   * is slow to open them and send the three POSTs below; the deadline itself is then waited for. */
  gg_httpd *h = start_limited_body(4.0);
  /* 32 clients stuck in their bodies: none can be displaced, so the next ones are over. */
  raw_slow busy;
  raw_slow_open(&busy, gg_httpd_port(h), "/in", 32, true, 3.0);
  assert_int_equal(busy.opened, 32);
  /* Wait (bounded) until the server has read all 32 sets of headers: on a loaded machine that
   * takes longer than any fixed sleep, and a client still in its headers may be displaced. */
  unsigned in_headers = 0, past = 0;
  for (int i = 0; i < 200; i++) {
    gg_httpd_connections(h, &in_headers, &past);
    if (past == 32) break;
    usleep(10 * 1000);
  }
  assert_int_equal(past, 32);
  raw_slow_drip(&busy);
  assert_int_equal(raw_slow_open_count(&busy), 32);
  char resp[2048];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(post_in(h, resp, sizeof resp), 503);
    assert_non_null(strstr(resp, "too many connections"));
    assert_non_null(strstr(resp, "Retry-After: 1"));
  }
  /* The health check still answers. */
  assert_int_equal(raw_get(gg_httpd_port(h), "/health", 1.0), 202);
  /* The body deadline ends them (bounded wait: 4 s deadline plus slack), and then a POST is
   * served again. */
  for (int i = 0; i < 100 && raw_slow_open_count(&busy) > 0; i++) {
    raw_slow_drip(&busy);
    usleep(100 * 1000);
  }
  assert_int_equal(raw_slow_open_count(&busy), 0);
  assert_int_equal(post_in(h, resp, sizeof resp), 202);
  raw_slow_close(&busy);
  gg_httpd_stop(h);
}

/* A limit the open-file limit cannot hold is refused, naming both; the default one shrinks
 * to fit. Lowers this process's hard limit for good, so it runs last. */
static void test_connection_limit_must_fit_open_files(void **state) {
  struct rlimit rl = {512, 512};
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
  gg_httpd_opts o = {.listen = "127.0.0.1:0", .connection_limit = 4096};
  gg_httpd *h = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_not_equal(gg_httpd_start(&o, &h, &err), GG_OK);
  assert_non_null(strstr(gg_error_message(&err), "4096 connections"));
  assert_non_null(strstr(gg_error_message(&err), "ulimit -n"));
  o.connection_limit = 0;
  assert_int_equal(gg_httpd_start(&o, &h, &err), GG_OK);
  assert_int_equal(raw_get(gg_httpd_port(h), "/nothing", 1.0), 404);
  gg_httpd_stop(h);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_routes_bodies_and_headers),
      cmocka_unit_test(test_unknown_path_wrong_method_too_big),
      cmocka_unit_test(test_suspended_requests_hold_no_thread),
      cmocka_unit_test(test_bad_listen_addresses),
      cmocka_unit_test(test_smuggled_request_is_refused),
      cmocka_unit_test(test_ambiguous_framing_is_refused),
      cmocka_unit_test(test_slow_headers_give_way),
      cmocka_unit_test(test_busy_connections_get_a_clear_503),
      cmocka_unit_test(test_connection_limit_must_fit_open_files),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
