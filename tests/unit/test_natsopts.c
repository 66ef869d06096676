/*
 * The server list the services take from NATS_URL. natsOptions has no getters, so the test
 * reads the servers back the way nats.c uses them: three loopback listeners that accept and
 * hang up, and a connect (no randomising) that must try exactly those, in the list's order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc/natsopts.h"

#define NLISTEN 3

typedef struct {
  int fd[NLISTEN];
  unsigned port[NLISTEN];
  int order[16]; /* the listener index of each connection, in the order they came */
  int n;
} listeners;

static void listeners_open(listeners *l) {
  memset(l, 0, sizeof *l);
  for (int i = 0; i < NLISTEN; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    l->fd[i] = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd[i] >= 0);
    assert_int_equal(bind(l->fd[i], (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l->fd[i], 8), 0);
    assert_int_equal(getsockname(l->fd[i], (struct sockaddr *)&a, &len), 0);
    l->port[i] = ntohs(a.sin_port);
  }
}

static void listeners_close(listeners *l) {
  for (int i = 0; i < NLISTEN; i++) close(l->fd[i]);
}

/* Accept and hang up on every connection until 1 s passes without one. */
static void *accept_main(void *arg) {
  listeners *l = arg;
  struct pollfd p[NLISTEN];
  for (int i = 0; i < NLISTEN; i++) p[i] = (struct pollfd){.fd = l->fd[i], .events = POLLIN};
  while (l->n < (int)(sizeof l->order / sizeof l->order[0]) && poll(p, NLISTEN, 1000) > 0) {
    for (int i = 0; i < NLISTEN; i++) {
      if (!(p[i].revents & POLLIN)) continue;
      int c = accept(l->fd[i], NULL, NULL);
      if (c < 0) continue;
      l->order[l->n++] = i;
      close(c);
    }
  }
  return NULL;
}

/* Connect with the servers list sets; returns how many connections the listeners saw, their
 * order in l->order. */
static int servers_tried(listeners *l, const char *list) {
  natsOptions *o = NULL;
  assert_int_equal(natsOptions_Create(&o), NATS_OK);
  assert_int_equal(gg_nats_set_servers(o, list), NATS_OK);
  assert_int_equal(natsOptions_SetNoRandomize(o, true), NATS_OK);
  assert_int_equal(natsOptions_SetTimeout(o, 2000), NATS_OK);
  assert_int_equal(gg_nats_log_connection(o), NATS_OK);
  pthread_t t;
  l->n = 0;
  assert_int_equal(pthread_create(&t, NULL, accept_main, l), 0);
  natsConnection *nc = NULL;
  natsStatus s = natsConnection_Connect(&nc, o);
  assert_int_not_equal(s, NATS_OK); /* nobody speaks NATS there */
  pthread_join(t, NULL);
  natsOptions_Destroy(o);
  return l->n;
}

static void test_every_entry_becomes_a_server(void **state) {
  (void)state;
  listeners l;
  listeners_open(&l);
  char list[256];
  /* Spaces around entries and empty entries are ignored; the order is kept. */
  snprintf(list, sizeof list, " nats://127.0.0.1:%u, nats://127.0.0.1:%u ,,nats://127.0.0.1:%u ", l.port[2],
           l.port[0], l.port[1]);
  assert_int_equal(servers_tried(&l, list), 3);
  assert_int_equal(l.order[0], 2);
  assert_int_equal(l.order[1], 0);
  assert_int_equal(l.order[2], 1);

  /* One URL: only that server. */
  snprintf(list, sizeof list, "nats://127.0.0.1:%u", l.port[1]);
  assert_int_equal(servers_tried(&l, list), 1);
  assert_int_equal(l.order[0], 1);
  listeners_close(&l);
}

static void test_empty_lists_are_refused(void **state) {
  (void)state;
  natsOptions *o = NULL;
  assert_int_equal(natsOptions_Create(&o), NATS_OK);
  assert_int_equal(gg_nats_set_servers(o, ""), NATS_INVALID_ARG);
  assert_int_equal(gg_nats_set_servers(o, " , ,"), NATS_INVALID_ARG);
  natsOptions_Destroy(o);
}

/* The auth variables: the first method set wins (and is what the log names), files must
 * exist, and no message quotes a secret. */
static void clear_auth_env(void) {
  const char *vars[] = {"NATS_CREDS", "NATS_NKEY_SEED", "NATS_USER", "NATS_PASSWORD",
                        "NATS_TOKEN", "NATS_CA",        "NATS_CERT", "NATS_KEY"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

static void test_auth_method_precedence(void **state) {
  (void)state;
  clear_auth_env();
  gg_nats_auth a;
  assert_int_equal(gg_nats_auth_load(&a, NULL), GG_OK);
  assert_string_equal(a.method, "none");
  gg_nats_auth_release(&a);
  setenv("NATS_TOKEN", "tok-secret", 1);
  assert_int_equal(gg_nats_auth_load(&a, NULL), GG_OK);
  assert_string_equal(a.method, "token");
  gg_nats_auth_release(&a);
  setenv("NATS_USER", "app", 1);
  setenv("NATS_PASSWORD", "pw-secret", 1);
  assert_int_equal(gg_nats_auth_load(&a, NULL), GG_OK);
  assert_string_equal(a.method, "user");
  assert_string_equal(gg_secret_reveal(&a.password), "pw-secret");
  gg_nats_auth_release(&a);
  clear_auth_env();
}

static void test_auth_files_must_exist(void **state) {
  (void)state;
  clear_auth_env();
  gg_nats_auth a;
  gg_error err;
  gg_error_clear(&err);
  setenv("NATS_CREDS", "/nonexistent/app.creds", 1);
  assert_int_equal(gg_nats_auth_load(&a, &err), GG_ERR_INVALID);
  assert_string_equal(err.msg, "NATS_CREDS: '/nonexistent/app.creds': file not found");
  gg_nats_auth_release(&a);
  clear_auth_env();
  setenv("NATS_CERT", "/dev/null", 1);
  setenv("NATS_PASSWORD", "pw-secret", 1);
  assert_int_equal(gg_nats_auth_load(&a, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "NATS_CERT and NATS_KEY go together"));
  assert_null(strstr(err.msg, "pw-secret"));
  gg_nats_auth_release(&a);
  clear_auth_env();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_entry_becomes_a_server), cmocka_unit_test(test_empty_lists_are_refused),
      cmocka_unit_test(test_auth_method_precedence), cmocka_unit_test(test_auth_files_must_exist)};
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  nats_Close();
  return failed;
}
