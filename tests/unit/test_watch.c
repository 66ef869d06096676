/*
 * src/watch without a sandbox: the rule state machine with an injected clock, the webhook
 * payload, the notifier's retries against a real loopback receiver, the one-watcher lock, and
 * whole watcher ticks on a fixed clock against a metrics page served here. (The SVG charts are
 * src/html's: test_html.c.)
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/httpd.h"
#include "base/json.h"
#include "watch/watch.h"

/* ---- the rule state machine ---- */

static void test_rule_lifecycle(void **state) {
  (void)state;
  watch_rule_tracker t = {0};
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_FALSE, 100), WATCH_TRANS_NONE);
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_TRUE, 101), WATCH_TRANS_PENDING);
  assert_int_equal(t.state, WATCH_RULE_PENDING);
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_TRUE, 105), WATCH_TRANS_NONE);
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_TRUE, 110.9), WATCH_TRANS_NONE);
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_TRUE, 111), WATCH_TRANS_FIRING);
  assert_int_equal(t.state, WATCH_RULE_FIRING);
  assert_true(t.fired_at == 111);
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_TRUE, 112), WATCH_TRANS_NONE); /* fires once */
  assert_int_equal(watch_rule_step(&t, 10, false, WATCH_OBS_FALSE, 113), WATCH_TRANS_RESOLVED);
  assert_int_equal(t.state, WATCH_RULE_INACTIVE);
  assert_string_equal(watch_rule_state_name(WATCH_RULE_FIRING), "firing");
}

static void test_rule_flapping_never_fires(void **state) {
  (void)state;
  watch_rule_tracker t = {0};
  int fired = 0;
  /* true for 4 s, false for 1 s, repeatedly, with for: 5s */
  for (int s = 0; s < 120; s++) {
    watch_obs o = (s % 5 == 4) ? WATCH_OBS_FALSE : WATCH_OBS_TRUE;
    fired += watch_rule_step(&t, 5, false, o, 1000 + s) == WATCH_TRANS_FIRING;
  }
  assert_int_equal(fired, 0);
}

static void test_rule_for_zero_fires_at_once(void **state) {
  (void)state;
  watch_rule_tracker t = {0};
  assert_int_equal(watch_rule_step(&t, 0, false, WATCH_OBS_TRUE, 5), WATCH_TRANS_FIRING);
}

static void test_rule_error_counts_as_not_held(void **state) {
  (void)state;
  watch_rule_tracker t = {0};
  assert_int_equal(watch_rule_step(&t, 3, false, WATCH_OBS_TRUE, 0), WATCH_TRANS_PENDING);
  assert_int_equal(watch_rule_step(&t, 3, false, WATCH_OBS_ERROR, 1), WATCH_TRANS_CLEARED);
  assert_int_equal(watch_rule_step(&t, 3, false, WATCH_OBS_TRUE, 2), WATCH_TRANS_PENDING);
  assert_int_equal(watch_rule_step(&t, 3, false, WATCH_OBS_TRUE, 4), WATCH_TRANS_NONE);
  assert_int_equal(watch_rule_step(&t, 3, false, WATCH_OBS_TRUE, 5), WATCH_TRANS_FIRING);
  assert_int_equal(watch_rule_step(&t, 3, false, WATCH_OBS_ERROR, 6), WATCH_TRANS_RESOLVED);
}

static void test_rule_on_error_hold(void **state) {
  (void)state;
  watch_rule_tracker t = {0};
  assert_int_equal(watch_rule_step(&t, 3, true, WATCH_OBS_ERROR, 0),
                   WATCH_TRANS_NONE); /* no start on error */
  assert_int_equal(t.state, WATCH_RULE_INACTIVE);
  assert_int_equal(watch_rule_step(&t, 3, true, WATCH_OBS_TRUE, 1), WATCH_TRANS_PENDING);
  assert_int_equal(watch_rule_step(&t, 3, true, WATCH_OBS_ERROR, 2), WATCH_TRANS_NONE);
  assert_int_equal(t.state, WATCH_RULE_PENDING);
  assert_int_equal(watch_rule_step(&t, 3, true, WATCH_OBS_ERROR, 9),
                   WATCH_TRANS_NONE); /* error alone never fires */
  assert_int_equal(t.state, WATCH_RULE_PENDING);
  assert_int_equal(watch_rule_step(&t, 3, true, WATCH_OBS_TRUE, 10), WATCH_TRANS_FIRING); /* held since 1 */
  assert_int_equal(watch_rule_step(&t, 3, true, WATCH_OBS_ERROR, 11), WATCH_TRANS_NONE);
  assert_int_equal(t.state, WATCH_RULE_FIRING);
}

/* ---- payload ---- */

static void test_payload(void **state) {
  (void)state;
  json_t *ev = json_pack("{s:s, s:s}", "rule", "Error rate", "then", "rollback");
  json_t *p = watch_notify_payload("mig-1", "rule 'Error rate' firing", ev);
  json_decref(ev);
  char *s = gg_json_dump(p);
  assert_string_equal(s,
                      "{\"event\":{\"rule\":\"Error rate\",\"then\":\"rollback\"},\"migration\":\"mig-1\","
                      "\"source\":\"gonogo watch\",\"text\":\"rule 'Error rate' firing\"}");
  free(s);
  json_decref(p);
}

/* ---- the notifier against a real receiver ---- */

typedef struct {
  pthread_mutex_t mu;
  int posts;
  int fail_first; /* answer 500 to this many posts first */
  char last[4096];
} receiver;

static void on_hook(gg_httpd_req *req, void *closure) {
  receiver *r = closure;
  size_t len;
  const char *body = gg_httpd_req_body(req, &len);
  pthread_mutex_lock(&r->mu);
  r->posts++;
  snprintf(r->last, sizeof r->last, "%s", body);
  bool fail = r->fail_first > 0;
  if (fail) r->fail_first--;
  pthread_mutex_unlock(&r->mu);
  gg_httpd_respond(req, fail ? 500 : 200, "text/plain", "ok", 2, NULL);
}

static void test_notifier_retries_and_redacts(void **state) {
  (void)state;
  receiver r = {.fail_first = 1};
  pthread_mutex_init(&r.mu, NULL);
  gg_httpd_route routes[] = {{"POST", "/hook/SECRETTOKEN", on_hook, &r, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 1};
  gg_httpd *h = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_httpd_start(&ho, &h, &err), GG_OK);
  char url[128], dead[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hook/SECRETTOKEN", gg_httpd_port(h));
  snprintf(dead, sizeof dead, "http://127.0.0.1:1/hook/SECRETTOKEN");
  plan_notify hooks[2];
  memset(hooks, 0, sizeof hooks);
  assert_true(gg_secret_set(&hooks[0].webhook, url, "${HOOK}"));
  assert_true(gg_secret_set(&hooks[1].webhook, dead, "${DEAD_HOOK}"));
  watch_notifier_opts o = {.attempts = 3, .backoff = 0.1, .timeout = 2};
  watch_notifier *nt = NULL;
  assert_int_equal(watch_notifier_new(hooks, 2, &o, &nt, &err), GG_OK);
  json_t *ev = json_pack("{s:s}", "rule", "r1");
  json_t *p = watch_notify_payload("m", "hello", ev);
  double t0 = gg_clock_mono();
  watch_notifier_send(nt, p); /* returns at once */
  assert_true(gg_clock_mono() - t0 < 0.05);
  json_decref(p);
  json_decref(ev);
  watch_notifier_stats s = {0};
  for (int i = 0; i < 100; i++) {
    watch_notifier_get_stats(nt, &s);
    if (s.queued == 0) break;
    usleep(50 * 1000);
  }
  assert_int_equal(s.queued, 0);
  assert_int_equal(s.sent, 1);   /* the live hook, on its second try */
  assert_int_equal(s.failed, 1); /* the dead one, after 3 tries */
  assert_int_equal(s.retries, 3);
  assert_null(strstr(s.last_error, "SECRETTOKEN"));
  assert_non_null(strstr(s.last_error, "${DEAD_HOOK}"));
  pthread_mutex_lock(&r.mu);
  assert_int_equal(r.posts, 2);
  assert_non_null(strstr(r.last, "\"text\":\"hello\""));
  pthread_mutex_unlock(&r.mu);
  watch_notifier_free(nt, 1);
  gg_httpd_stop(h);
  gg_secret_release(&hooks[0].webhook);
  gg_secret_release(&hooks[1].webhook);
  pthread_mutex_destroy(&r.mu);
}

/* ---- the lock ---- */

static void test_pidlock(void **state) {
  (void)state;
  char dir[] = "/tmp/gonogo-watch-lock-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/j.db", dir);
  int fd = -1, fd2 = -1;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(watch_pidlock_acquire(path, &fd, &err), GG_OK);
  assert_int_equal(watch_pidlock_acquire(path, &fd2, &err), GG_ERR_LOCKED);
  char pid[32];
  snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
  assert_non_null(strstr(gg_error_message(&err), pid));
  watch_pidlock_release(path, fd);
  assert_int_equal(watch_pidlock_acquire(path, &fd2, &err), GG_OK);
  watch_pidlock_release(path, fd2);
  char lock[160];
  snprintf(lock, sizeof lock, "%s.watch.pid", path);
  unlink(lock);
  rmdir(dir);
}

/* ---- whole ticks on a fixed clock ---- */

static pthread_mutex_t page_mu = PTHREAD_MUTEX_INITIALIZER;
static double page_errors, page_lag;

static void on_metrics(gg_httpd_req *req, void *closure) {
  (void)closure;
  char page[256];
  pthread_mutex_lock(&page_mu);
  int n = snprintf(page, sizeof page, "svc_errors %g\nsvc_lag{queue=\"a\"} %g\n", page_errors, page_lag);
  pthread_mutex_unlock(&page_mu);
  gg_httpd_respond(req, 200, "text/plain; version=0.0.4", page, (size_t)n, NULL);
}

static void set_page(double errors, double lag) {
  pthread_mutex_lock(&page_mu);
  page_errors = errors;
  page_lag = lag;
  pthread_mutex_unlock(&page_mu);
}

static int rollbacks;
static int locked_left; /* answer GG_ERR_LOCKED this many times first */

static gg_status test_rollback(void *ud, const plan *p, journal *j, const char *phase, const char *reason,
                               gg_error *err) {
  (void)ud;
  (void)p;
  rollbacks++;
  if (locked_left > 0) {
    locked_left--;
    return gg_error_set(err, GG_ERR_LOCKED, "lease held by 'gonogo run phase 1'");
  }
  json_t *c = json_pack("{s:s}", "reason", reason);
  gg_status st = journal_append(j, JOURNAL_PHASE_ROLLED_BACK, phase, "test", c, NULL, err);
  json_decref(c);
  return st;
}

static size_t count_events(journal *j, const char *kind) {
  journal_filter f = journal_filter_all();
  f.kind = kind;
  journal_event *ev = NULL;
  size_t n = 0;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(journal_events(j, &f, &ev, &n, &err), GG_OK);
  journal_events_free(ev, n);
  return n;
}

/* One fault rolls back the latest phase only: the phases completed before the rollback stay,
 * however long the condition keeps holding. */
static void test_no_cascade(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  gg_httpd_route routes[] = {{"GET", "/metrics", on_metrics, NULL, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 1};
  gg_httpd *h = NULL;
  assert_int_equal(gg_httpd_start(&ho, &h, &err), GG_OK);
  char text[1024];
  snprintf(text, sizeof text,
           "migration: watch-cascade\n"
           "connect: { targets: { svc: { metrics: \"http://127.0.0.1:%u/metrics\" } } }\n"
           "phases:\n"
           "  - { id: 0, name: Zero, actions: [ { wait: 1s } ] }\n"
           "  - { id: 1, name: One, actions: [ { wait: 1s } ] }\n"
           "monitor:\n"
           "  interval: 1s\n"
           "  rules:\n"
           "    - { name: Errors, when: 'svc_errors{target=\"svc\"} > 5', for: 0s, then: rollback }\n",
           gg_httpd_port(h));
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_status st = plan_load_buffer("cascade.yaml", text, strlen(text), NULL, &p, &d, &err);
  for (size_t i = 0; i < d.count; i++) print_message("%s\n", d.items[i].message);
  plan_diags_release(&d);
  assert_int_equal(st, GG_OK);
  char dir[] = "/tmp/gonogo-watch-cascade-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char jpath[128];
  snprintf(jpath, sizeof jpath, "%s/j.db", dir);
  journal *j = NULL;
  assert_int_equal(journal_open(jpath, JOURNAL_OPEN_CREATE, &j, &err), GG_OK);
  double t = floor(gg_clock_now());
  gg_clock_set_fixed(t);
  const char *ids[] = {"0", "1"};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(journal_append(j, JOURNAL_PHASE_STARTED, ids[i], "test", NULL, NULL, &err), GG_OK);
    assert_int_equal(journal_append(j, JOURNAL_PHASE_COMPLETED, ids[i], "test", NULL, NULL, &err), GG_OK);
    gg_clock_advance(1);
  }
  watch_opts o = {.listen = "127.0.0.1:0", .rollback = test_rollback, .advise_repeat = 3};
  watch *w = NULL;
  assert_int_equal(watch_new(p, j, &o, &w, &err), GG_OK);
  rollbacks = 0;
  locked_left = 0;
  set_page(50, 0);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  assert_int_equal(rollbacks, 1);
  journal_phase_info info;
  assert_int_equal(journal_phase(j, "1", &info, &err), GG_OK);
  assert_int_equal(info.state, JOURNAL_STATE_ROLLED_BACK);
  assert_int_equal(journal_phase(j, "0", &info, &err), GG_OK);
  assert_int_equal(info.state, JOURNAL_STATE_COMPLETED); /* not unwound */
  watch_free(w);
  gg_clock_clear_fixed();
  journal_close(j);
  plan_free(p);
  gg_httpd_stop(h);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

/* The watcher samples what the plan's criteria, no-go conditions and checkpoints take history
 * of (so check finds it in the journal), not what they only read now; each selector once. */
static void test_watch_samples_criteria_history(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  gg_httpd_route routes[] = {{"GET", "/metrics", on_metrics, NULL, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 1};
  gg_httpd *h = NULL;
  assert_int_equal(gg_httpd_start(&ho, &h, &err), GG_OK);
  char text[2048];
  snprintf(text, sizeof text,
           "migration: watch-history\n"
           "connect: { targets: { svc: { metrics: \"http://127.0.0.1:%u/metrics\" } } }\n"
           "define:\n"
           "  lag: svc_lag{target=\"svc\"}\n"
           "preflight:\n"
           "  - { name: Errors now, expect: 'svc_errors{target=\"svc\"} < 1' }\n"
           "phases:\n"
           "  - id: 1\n"
           "    name: One\n"
           "    go:\n"
           "      - { name: Lag flat, expect: 'increase(lag, 1h) == 0' }\n"
           "    no_go:\n"
           "      - { name: Lag high, when: 'max_over_time(lag, 10m) > 100' }\n"
           "    actions: [ { wait: 1s } ]\n"
           "monitor:\n"
           "  interval: 1s\n"
           "validation:\n"
           "  - at: 1h\n"
           "    expect:\n"
           "      - { name: Lag low, expect: 'avg_over_time(svc_lag{target=\"svc\"}, 24h) < 1' }\n",
           gg_httpd_port(h));
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_status st = plan_load_buffer("history.yaml", text, strlen(text), NULL, &p, &d, &err);
  for (size_t i = 0; i < d.count; i++) print_message("%s\n", d.items[i].message);
  plan_diags_release(&d);
  assert_int_equal(st, GG_OK);
  char dir[] = "/tmp/gonogo-watch-history-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char jpath[128];
  snprintf(jpath, sizeof jpath, "%s/j.db", dir);
  journal *j = NULL;
  assert_int_equal(journal_open(jpath, JOURNAL_OPEN_CREATE, &j, &err), GG_OK);
  double t = floor(gg_clock_now());
  gg_clock_set_fixed(t);
  watch_opts o = {.rollback = test_rollback};
  watch *w = NULL;
  assert_int_equal(watch_new(p, j, &o, &w, &err), GG_OK);
  set_page(0, 7);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  journal_sample_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(journal_samples_query(j, "svc_lag", t - 1, t + 10, &rows, &n, &err), GG_OK);
  assert_int_equal(n, 3); /* three ticks, sampled once each for all three uses */
  assert_non_null(strstr(rows[0].labels, "\"target\":\"svc\""));
  assert_true(rows[2].value == 7);
  journal_sample_rows_free(rows, n);
  /* svc_errors is only read now (no rule names it): not sampled */
  assert_int_equal(journal_samples_query(j, "svc_errors", t - 1, t + 10, &rows, &n, &err), GG_OK);
  assert_int_equal(n, 0);
  journal_sample_rows_free(rows, n);
  watch_free(w);
  gg_clock_clear_fixed();
  journal_close(j);
  plan_free(p);
  gg_httpd_stop(h);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_watch_ticks(void **state) {
  (void)state;
  gg_error err;
  gg_error_clear(&err);
  gg_httpd_route routes[] = {{"GET", "/metrics", on_metrics, NULL, 0}};
  gg_httpd_opts ho = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 1};
  gg_httpd *h = NULL;
  assert_int_equal(gg_httpd_start(&ho, &h, &err), GG_OK);
  char text[2048];
  snprintf(
      text, sizeof text,
      "migration: watch-unit\n"
      "connect:\n"
      "  targets:\n"
      "    svc: { metrics: \"http://127.0.0.1:%u/metrics\" }\n"
      "phases:\n"
      "  - id: 1\n"
      "    name: First\n"
      "    actions:\n"
      "      - wait: 1s\n"
      "monitor:\n"
      "  interval: 1s\n"
      "  rules:\n"
      "    - { name: Errors, when: 'svc_errors{target=\"svc\"} > 5', for: 3s, then: rollback }\n"
      "    - { name: Lag, when: 'max_over_time(svc_lag{target=\"svc\"}, 2s) > 100', for: 0s, then: advise }\n"
      "validation:\n"
      "  - at: 5s\n"
      "    expect:\n"
      "      - { name: Errors low, expect: 'svc_errors{target=\"svc\"} < 1' }\n",
      gg_httpd_port(h));
  plan_diags d;
  plan_diags_init(&d);
  plan *p = NULL;
  gg_status st = plan_load_buffer("watch.yaml", text, strlen(text), NULL, &p, &d, &err);
  for (size_t i = 0; i < d.count; i++) print_message("%s\n", d.items[i].message);
  plan_diags_release(&d);
  assert_int_equal(st, GG_OK);

  char dir[] = "/tmp/gonogo-watch-unit-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char jpath[128];
  snprintf(jpath, sizeof jpath, "%s/j.db", dir);
  journal *j = NULL;
  assert_int_equal(journal_open(jpath, JOURNAL_OPEN_CREATE, &j, &err), GG_OK);

  double t = floor(gg_clock_now());
  gg_clock_set_fixed(t);
  watch_opts o = {.listen = "127.0.0.1:0", .rollback = test_rollback, .advise_repeat = 3};
  watch *w = NULL;
  assert_int_equal(watch_new(p, j, &o, &w, &err), GG_OK);

  /* no phase running: the rules are idle whatever the values */
  set_page(50, 0);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  assert_int_equal(count_events(j, "rule_firing"), 0);

  /* the phase completes */
  assert_int_equal(journal_append(j, JOURNAL_PHASE_STARTED, "1", "test", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_COMPLETED, "1", "test", NULL, NULL, &err), GG_OK);

  /* flapping: 2 s high, 1 s low, for 12 s: never fires (for: 3s) */
  for (int i = 0; i < 12; i++) {
    set_page(i % 3 == 2 ? 0 : 50, 0);
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  assert_int_equal(count_events(j, "rule_firing"), 0);
  assert_true(count_events(j, "rule_pending") >= 3);
  assert_int_equal(rollbacks, 0);
  /* the checkpoint at T+5s ran once */
  assert_int_equal(count_events(j, "checkpoint"), 1);

  /* sustained: fires once, rolls back once, then resolves (the phase is rolled back) */
  set_page(50, 0);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  assert_int_equal(count_events(j, "rule_firing"), 1);
  assert_int_equal(rollbacks, 1);
  assert_int_equal(count_events(j, "phase_rolled_back"), 1);
  json_t *s = watch_state(w);
  json_t *r0 = json_array_get(json_object_get(s, "rules"), 0);
  assert_string_equal(json_string_value(json_object_get(r0, "state")), "inactive");
  assert_false(json_is_true(json_object_get(r0, "armed")));
  assert_non_null(strstr(json_string_value(json_object_get(r0, "action")), "rolled back phase 1"));
  json_decref(s);

  /* the phase runs again; the advisory fires on lag, reminds, and stops after an ack */
  assert_int_equal(journal_append(j, JOURNAL_PHASE_STARTED, "1", "test", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_COMPLETED, "1", "test", NULL, NULL, &err), GG_OK);
  set_page(0, 500);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  assert_int_equal(count_events(j, "rule_firing"), 2); /* the advisory */
  assert_int_equal(rollbacks, 1);                      /* advise never rolls back */
  assert_int_equal(watch_acknowledge(p, j, "Lag", "carol", "looking at it", &err), GG_OK);
  assert_int_equal(watch_acknowledge(p, j, "Nope", "carol", NULL, &err), GG_ERR_NOT_FOUND);
  assert_int_equal(watch_tick(w, &err), GG_OK);
  s = watch_state(w);
  json_t *r1 = json_array_get(json_object_get(s, "rules"), 1);
  assert_string_equal(json_string_value(json_object_get(r1, "state")), "firing");
  assert_true(json_is_true(json_object_get(r1, "acknowledged")));
  /* charts carry the rule's value and threshold */
  json_t *chart = json_object_get(r1, "chart");
  assert_true(json_real_value(json_object_get(chart, "threshold")) == 100);
  assert_true(json_array_size(json_object_get(s, "series")) >= 2);
  json_decref(s);

  /* samples were journaled for history */
  journal_sample_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(journal_samples_query(j, "svc_errors", 0, 1e12, &rows, &n, &err), GG_OK);
  assert_true(n >= 25);
  journal_sample_rows_free(rows, n);

  /* the HTTP views */
  char url[128];
  gg_http_response resp = {0};
  snprintf(url, sizeof url, "http://127.0.0.1:%u/", watch_port(w));
  assert_int_equal(gg_http_get(url, NULL, &resp, &err), GG_OK);
  assert_int_equal(resp.status, 200);
  assert_non_null(strstr(resp.body, "<svg"));
  assert_non_null(strstr(resp.body, "Lag"));
  assert_non_null(strstr(resp.body, "http-equiv=\"refresh\""));
  assert_null(strstr(resp.body, "<script"));
  gg_http_response_release(&resp);
  snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", watch_port(w));
  assert_int_equal(gg_http_get(url, NULL, &resp, &err), GG_OK);
  assert_non_null(strstr(resp.body, "gonogo_watch_rule_state{rule=\"Lag\"} 2"));
  assert_non_null(strstr(resp.body, "gonogo_watch_rollbacks_total{result=\"ok\"} 1"));
  gg_http_response_release(&resp);

  /* a rollback that finds the lease held is tried again at the next evaluations */
  assert_int_equal(journal_append(j, JOURNAL_PHASE_STARTED, "1", "test", NULL, NULL, &err), GG_OK);
  assert_int_equal(journal_append(j, JOURNAL_PHASE_COMPLETED, "1", "test", NULL, NULL, &err), GG_OK);
  set_page(50, 0);
  locked_left = 2;
  for (int i = 0; i < 8; i++) {
    assert_int_equal(watch_tick(w, &err), GG_OK);
    gg_clock_advance(1);
  }
  assert_int_equal(rollbacks, 4); /* 1 before, then 2 refused and 1 done */
  assert_int_equal(count_events(j, "phase_rolled_back"), 2);
  assert_int_equal(count_events(j, "rule_firing"), 3); /* one firing, however many tries */

  watch_free(w);
  gg_clock_clear_fixed();
  journal_close(j);
  plan_free(p);
  gg_httpd_stop(h);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  gg_error err;
  gg_error_clear(&err);
  if (gg_http_global_init(&err) != GG_OK) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rule_lifecycle),
      cmocka_unit_test(test_rule_flapping_never_fires),
      cmocka_unit_test(test_rule_for_zero_fires_at_once),
      cmocka_unit_test(test_rule_error_counts_as_not_held),
      cmocka_unit_test(test_rule_on_error_hold),
      cmocka_unit_test(test_payload),
      cmocka_unit_test(test_notifier_retries_and_redacts),
      cmocka_unit_test(test_pidlock),
      cmocka_unit_test(test_watch_ticks),
      cmocka_unit_test(test_no_cascade),
      cmocka_unit_test(test_watch_samples_criteria_history),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
