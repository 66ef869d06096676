/*
 * Every way gonogo authenticates to the secured sandbox (`sandbox up --secure`), and every
 * bad input a user meets there: user and password, an nkey, a token (on the token node), a
 * .creds file (on the operator-mode node), a client certificate, the system account alone; then a wrong
 * password, an unknown user, a refused token, a wrong system-account password, a certificate signed by
 * another CA, an expired server certificate, no CA at all, a missing creds file and an unreachable server,
 * each an ERROR naming the connection and the reason, `check` exiting 2 (NO-GO) or 3 (plan
 * error), and no secret in any output.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/spawn.h"
#include "support.h"

extern char **environ;
static const char *gonogo;
static char dir[] = "/tmp/gonogo-secure-auth-XXXXXX";
static char plan_path[128], jpath[128], other_ca[128];

static const char *plan_text =
    "migration: secure-auth\n"
    "connect:\n"
    "  nats:\n"
    "    servers: \"${A_URL}\"\n"
    "    user: \"${A_USER:-}\"\n"
    "    password: \"${A_PASSWORD:-}\"\n"
    "    token: \"${A_TOKEN:-}\"\n"
    "    nkey: \"${A_NKEY:-}\"\n"
    "    creds: \"${A_CREDS:-}\"\n"
    "    tls: { ca: \"${A_CA:-}\", cert: \"${A_CERT:-}\", key: \"${A_KEY:-}\" }\n"
    "    system: { user: \"${A_SYS_USER:-}\", password: \"${A_SYS_PASSWORD:-}\" }\n"
    "    expect_servers: ${A_EXPECT:-3}\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: Auth\n"
    "    go:\n"
    "      - { name: JetStream enabled, expect: nats.jetstream.enabled == 1 }\n";

static char *out;

/* Run gonogo with env (NULL-terminated "K=V" list) added; returns the exit code. */
static int run(const char *const *env, const char *const *args) {
  free(out);
  const char *argv[24];
  int n = 0;
  argv[n++] = gonogo;
  for (int i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
  argv[n] = NULL;
  gg_spawn_opts o = {.timeout = 60, .max_output = 1 << 16, .env = env};
  support_run_result r = support_run(argv, &o);
  out = r.out;
  print_message("$ gonogo %s → %d\n%s\n", args[0], r.code, out);
  return r.code;
}

/* The value of a secret of the sandbox, and the seed file's text. */
static void assert_no_secret(const char *text) {
  const char *vars[] = {"NATS_PASSWORD", "NATS_TOKEN", "NATS_SYSTEM_PASSWORD"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v && strstr(text, v)) fail_msg("%s's value appears in the output", vars[i]);
  }
  char seed[128] = "";
  FILE *f = fopen(getenv("NATS_NKEY_SEED"), "r");
  if (f && fgets(seed, sizeof seed, f)) seed[strcspn(seed, "\n")] = '\0';
  if (f) fclose(f);
  if (*seed && strstr(text, seed)) fail_msg("the nkey seed appears in the output");
  /* The .creds file's JWT and seed (the lines between its BEGIN and END markers). */
  f = fopen(getenv("NATS_CREDS_FILE"), "r");
  char line[4096];
  bool take = false;
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (strstr(line, "-----BEGIN")) {
      take = true;
      continue;
    }
    if (take && *line && strstr(text, line)) fail_msg("a line of the .creds file appears in the output");
    take = false;
  }
  if (f) fclose(f);
  if (strstr(text, "not-the-password-5e1")) fail_msg("the wrong password appears in the output");
}

static void assert_contains(const char *needle) {
  if (!out || !strstr(out, needle)) fail_msg("expected to find: %s", needle);
}

static char url_env[512], ca_env[160], user_env[64], pw_env[96], seed_env[160], token_env[96];
static char token_url_env[128], cert_env[160], key_env[160], sys_user_env[64], sys_pw_env[96];

static void fill_env(void) {
  snprintf(url_env, sizeof url_env, "A_URL=%s", getenv("NATS_URL"));
  snprintf(token_url_env, sizeof token_url_env, "A_URL=%s", getenv("NATS_TOKEN_URL"));
  snprintf(ca_env, sizeof ca_env, "A_CA=%s", getenv("NATS_CA"));
  snprintf(user_env, sizeof user_env, "A_USER=%s", getenv("NATS_USER"));
  snprintf(pw_env, sizeof pw_env, "A_PASSWORD=%s", getenv("NATS_PASSWORD"));
  snprintf(seed_env, sizeof seed_env, "A_NKEY=%s", getenv("NATS_NKEY_SEED"));
  snprintf(token_env, sizeof token_env, "A_TOKEN=%s", getenv("NATS_TOKEN"));
  snprintf(cert_env, sizeof cert_env, "A_CERT=%s", getenv("NATS_CERT"));
  snprintf(key_env, sizeof key_env, "A_KEY=%s", getenv("NATS_KEY"));
  snprintf(sys_user_env, sizeof sys_user_env, "A_SYS_USER=%s", getenv("NATS_SYSTEM_USER"));
  snprintf(sys_pw_env, sizeof sys_pw_env, "A_SYS_PASSWORD=%s", getenv("NATS_SYSTEM_PASSWORD"));
}

/* eval nats.jetstream.enabled with env: 0 and "1" when the connection works. */
static void assert_enabled(const char *const *env) {
  const char *args[] = {"eval", plan_path, "nats.jetstream.enabled", NULL};
  assert_int_equal(run(env, args), 0);
  assert_contains("} 1");
  assert_no_secret(out);
}

static void user_and_password(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, user_env, pw_env, NULL};
  assert_enabled(env);
}

static void user_password_and_client_certificate(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, user_env, pw_env, cert_env, key_env, NULL};
  assert_enabled(env);
}

static void nkey(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, seed_env, NULL};
  assert_enabled(env);
}

static void token_on_the_token_node(void **state) {
  (void)state;
  const char *env[] = {token_url_env, ca_env, token_env, "A_EXPECT=1", NULL};
  assert_enabled(env);
}

static void creds_file_on_the_operator_node(void **state) {
  (void)state;
  char url[128], creds[200];
  snprintf(url, sizeof url, "A_URL=%s", getenv("NATS_CREDS_URL"));
  snprintf(creds, sizeof creds, "A_CREDS=%s", getenv("NATS_CREDS_FILE"));
  const char *env[] = {url, ca_env, creds, "A_EXPECT=1", NULL};
  assert_enabled(env);
}

static void system_account_alone(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, sys_user_env, sys_pw_env, NULL};
  const char *args[] = {"eval", plan_path, "count(nats.server.up) == 3 and min(nats.server.up) == 1", NULL};
  assert_int_equal(run(env, args), 0);
  assert_contains("1");
  assert_no_secret(out);
}

/* check --phase 0 with env: NO-GO (2), the item an ERROR naming the servers and `reason`. */
static void assert_refused(const char *const *env, const char *reason) {
  const char *args[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--verbose", NULL};
  assert_int_equal(run(env, args), 2);
  assert_contains("  ERROR  "); /* a row, not the summary's count */
  assert_contains("connect (nats tls://127.0.0.1:");
  assert_contains(reason);
  assert_no_secret(out);
  const char *json[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--json", NULL};
  assert_int_equal(run(env, json), 2);
  assert_contains(reason);
  assert_no_secret(out);
}

static void wrong_password(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, user_env, "A_PASSWORD=not-the-password-5e1", NULL};
  assert_refused(env, "authorization violation");
}

static void unknown_user(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, "A_USER=nobody-here", pw_env, NULL};
  assert_refused(env, "authorization violation");
}

static void token_refused(void **state) {
  (void)state;
  const char *env[] = {token_url_env, ca_env, "A_TOKEN=not-the-password-5e1", "A_EXPECT=1", NULL};
  assert_refused(env, "authorization violation");
}

static void certificate_of_another_ca(void **state) {
  (void)state;
  char other[160];
  snprintf(other, sizeof other, "A_CA=%s", other_ca);
  const char *env[] = {url_env, other, user_env, pw_env, NULL};
  assert_refused(env, "certificate verify failed");
}

static void no_ca_given(void **state) {
  (void)state;
  const char *env[] = {url_env, user_env, pw_env, NULL};
  assert_refused(env, "certificate verify failed");
}

static void wrong_system_password(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, user_env, pw_env, sys_user_env, "A_SYS_PASSWORD=not-the-password-5e1",
                       NULL};
  const char *args[] = {"eval", plan_path, "nats.server.up", NULL};
  assert_int_not_equal(run(env, args), 0);
  assert_contains("connect to the system account (nats tls://127.0.0.1:");
  assert_contains("authorization violation");
  assert_no_secret(out);
}

/* A server of our own presenting the sandbox's expired certificate (DIR/tls/expired.pem). */
static void expired_server_certificate(void **state) {
  (void)state;
  char tls[160], conf[200], cert[200], key[200], logf[200];
  snprintf(tls, sizeof tls, "%s", getenv("NATS_CA"));
  char *slash = strrchr(tls, '/');
  assert_non_null(slash);
  *slash = '\0';
  snprintf(cert, sizeof cert, "%s/expired.pem", tls);
  snprintf(key, sizeof key, "%s/server-key.pem", tls);
  snprintf(conf, sizeof conf, "%s/expired.conf", dir);
  snprintf(logf, sizeof logf, "%s/expired.log", dir);
  int port = 0;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
      port = ntohs(sa.sin_port);
    close(fd);
  }
  assert_true(port > 0);
  FILE *f = fopen(conf, "w");
  assert_non_null(f);
  fprintf(f, "listen: 127.0.0.1:%d\ntls { cert_file: \"%s\", key_file: \"%s\" }\n", port, cert, key);
  fclose(f);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  /* Debian installs it in /usr/sbin, which a user's PATH may lack. */
  char *bin = access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "nats-server";
  char *argv[] = {bin, "-c", conf, NULL};
  pid_t pid = -1;
  assert_int_equal(posix_spawnp(&pid, bin, &fa, NULL, argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  usleep(500 * 1000); /* it listens within a few ms */
  char url[64];
  snprintf(url, sizeof url, "A_URL=tls://127.0.0.1:%d", port);
  const char *env[] = {url, ca_env, "A_EXPECT=1", NULL};
  const char *args[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--verbose", NULL};
  int code = run(env, args);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  assert_int_equal(code, 2);
  assert_contains("certificate verify failed");
  assert_contains("certificate has expired");
}

static void missing_creds_file(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, "A_CREDS=/nonexistent/app.creds", NULL};
  const char *args[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--verbose", NULL};
  assert_int_equal(run(env, args), 3);
  assert_contains("plan.yaml:9:12: connect.nats.creds: '/nonexistent/app.creds': file not found");
  const char *validate[] = {"validate", plan_path, NULL};
  assert_int_equal(run(env, validate), 3);
  assert_contains("file not found");
}

static void unreachable_server(void **state) {
  (void)state;
  const char *env[] = {"A_URL=tls://127.0.0.1:1", ca_env, user_env, pw_env, NULL};
  const char *args[] = {"check", plan_path, "--phase", "0", "--journal", jpath, "--verbose", NULL};
  assert_int_equal(run(env, args), 2);
  assert_contains("  ERROR  "); /* a row, not the summary's count */
  assert_contains("tls://127.0.0.1:1");
  assert_no_secret(out);
}

static void journal_holds_no_secret(void **state) {
  (void)state;
  const char *env[] = {url_env, ca_env, user_env, pw_env, NULL};
  const char *args[] = {"journal", "log", plan_path, "--journal", jpath, "--json", NULL};
  assert_int_equal(run(env, args), 0);
  assert_contains("authorization violation");
  assert_no_secret(out);
}

static int setup(void **state) {
  (void)state;
  gonogo = getenv("GONOGO_BIN");
  if (!gonogo || !getenv("NATS_TOKEN_URL") || !getenv("NATS_CA") || !getenv("NATS_CREDS_FILE")) {
    fprintf(stderr,
            "test_secure_auth needs the secured sandbox's env (sandbox up --secure) and GONOGO_BIN\n");
    return -1;
  }
  if (!mkdtemp(dir)) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.yaml", dir);
  snprintf(jpath, sizeof jpath, "%s/journal.db", dir);
  snprintf(other_ca, sizeof other_ca, "%s/other-ca.pem", dir);
  FILE *f = fopen(plan_path, "w");
  if (!f) return -1;
  fputs(plan_text, f);
  fclose(f);
  /* A CA nobody signed the sandbox's certificates with. */
  char key[160];
  snprintf(key, sizeof key, "%s/other-ca-key.pem", dir);
  const char *argv[] = {
      "openssl", "req",     "-x509", "-newkey", "ec",     "-pkeyopt", "ec_paramgen_curve:prime256v1",
      "-nodes",  "-keyout", key,     "-out",    other_ca, "-subj",    "/CN=another CA",
      "-days",   "1",       NULL};
  gg_spawn_opts o = {.timeout = 30};
  gg_spawn_result r = {0};
  gg_error err;
  gg_error_clear(&err);
  if (gg_spawn_run(argv, &o, &r, &err) != GG_OK || r.exit_code != 0) {
    fprintf(stderr, "openssl req: %s\n", r.output ? r.output : gg_error_message(&err));
    gg_spawn_result_release(&r);
    return -1;
  }
  gg_spawn_result_release(&r);
  fill_env();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(out);
  out = NULL;
  const char *argv[] = {"rm", "-rf", dir, NULL};
  gg_spawn_result r = {0};
  if (gg_spawn_run(argv, NULL, &r, NULL) == GG_OK) gg_spawn_result_release(&r);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(user_and_password),
      cmocka_unit_test(user_password_and_client_certificate),
      cmocka_unit_test(nkey),
      cmocka_unit_test(token_on_the_token_node),
      cmocka_unit_test(creds_file_on_the_operator_node),
      cmocka_unit_test(system_account_alone),
      cmocka_unit_test(wrong_password),
      cmocka_unit_test(unknown_user),
      cmocka_unit_test(token_refused),
      cmocka_unit_test(certificate_of_another_ca),
      cmocka_unit_test(no_ca_given),
      cmocka_unit_test(wrong_system_password),
      cmocka_unit_test(expired_server_certificate),
      cmocka_unit_test(missing_creds_file),
      cmocka_unit_test(unreachable_server),
      cmocka_unit_test(journal_holds_no_secret),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
