/* base/metrics: the registry and its text exposition. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/metrics.h"

static char *render(gg_metrics *m) {
  gg_buf b;
  gg_buf_init(&b, 0);
  assert_int_equal(gg_metrics_render(m, &b), GG_OK);
  return gg_buf_detach(&b);
}

static void test_counter_and_gauge_text(void **state) {
  gg_metrics *m = gg_metrics_new();
  gg_metric *req = gg_metrics_counter(m, "app_requests_total", "Requests, by route", 2,
                                      (const char *const[]){"route", "status"});
  gg_metric *up = gg_metrics_gauge(m, "app_up", "1 when up", 0, NULL);
  gg_metrics_inc(gg_metrics_series(req, (const char *const[]){"/v1/hrv", "202"}), 2);
  gg_metrics_inc(gg_metrics_series(req, (const char *const[]){"/v1/hrv", "400"}), 1);
  gg_metrics_inc(gg_metrics_series(req, (const char *const[]){"/v1/hrv", "202"}), 1.5);
  gg_metric_series *u = gg_metrics_series(up, NULL);
  gg_metrics_set(u, 1);
  gg_metrics_inc(u, -3);
  char *text = render(m);
  assert_string_equal(text,
                      "# HELP app_requests_total Requests, by route\n"
                      "# TYPE app_requests_total counter\n"
                      "app_requests_total{route=\"/v1/hrv\",status=\"202\"} 3.5\n"
                      "app_requests_total{route=\"/v1/hrv\",status=\"400\"} 1\n"
                      "# HELP app_up 1 when up\n"
                      "# TYPE app_up gauge\n"
                      "app_up -2\n");
  free(text);
  assert_true(gg_metrics_value(u) == -2);
  gg_metrics_free(m);
}

static void test_label_values_and_help_are_escaped(void **state) {
  gg_metrics *m = gg_metrics_new();
  gg_metric *f = gg_metrics_counter(m, "x_total", "help with \\ and\nnewline", 1, (const char *const[]){"v"});
  gg_metrics_inc(gg_metrics_series(f, (const char *const[]){"a\"b\\c\nd"}), 1);
  char *text = render(m);
  assert_string_equal(text,
                      "# HELP x_total help with \\\\ and\\nnewline\n"
                      "# TYPE x_total counter\n"
                      "x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
  free(text);
  gg_metrics_free(m);
}

static void test_histogram_buckets_are_cumulative(void **state) {
  gg_metrics *m = gg_metrics_new();
  static const double bounds[] = {0.005, 0.1, 1};
  gg_metric *h =
      gg_metrics_histogram(m, "lat_seconds", "Latency", 1, (const char *const[]){"root"}, 3, bounds);
  gg_metric_series *s = gg_metrics_series(h, (const char *const[]){"core"});
  gg_metrics_observe(s, 0.001);
  gg_metrics_observe(s, 0.005); /* on the bound: counts in that bucket (le) */
  gg_metrics_observe(s, 0.05);
  gg_metrics_observe(s, 3);
  char *text = render(m);
  assert_string_equal(text,
                      "# HELP lat_seconds Latency\n"
                      "# TYPE lat_seconds histogram\n"
                      "lat_seconds_bucket{root=\"core\",le=\"0.005\"} 2\n"
                      "lat_seconds_bucket{root=\"core\",le=\"0.1\"} 3\n"
                      "lat_seconds_bucket{root=\"core\",le=\"1\"} 3\n"
                      "lat_seconds_bucket{root=\"core\",le=\"+Inf\"} 4\n"
                      "lat_seconds_sum{root=\"core\"} 3.056\n"
                      "lat_seconds_count{root=\"core\"} 4\n");
  free(text);
  gg_metrics_free(m);
}

static void test_histogram_without_labels(void **state) {
  gg_metrics *m = gg_metrics_new();
  static const double bounds[] = {1};
  gg_metric *h = gg_metrics_histogram(m, "h", "", 0, NULL, 1, bounds);
  gg_metrics_observe(gg_metrics_series(h, NULL), 0.5);
  char *text = render(m);
  assert_string_equal(
      text,
      "# HELP h \n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\n"
      "h_count 1\n");
  free(text);
  gg_metrics_free(m);
}

static void test_same_labels_same_series(void **state) {
  gg_metrics *m = gg_metrics_new();
  gg_metric *f = gg_metrics_counter(m, "c_total", "", 1, (const char *const[]){"k"});
  gg_metric_series *a = gg_metrics_series(f, (const char *const[]){"x"});
  gg_metric_series *b = gg_metrics_series(f, (const char *const[]){"x"});
  gg_metric_series *c = gg_metrics_series(f, (const char *const[]){"y"});
  assert_ptr_equal(a, b);
  assert_ptr_not_equal(a, c);
  /* NULL series (what ENOMEM returns) are accepted by the updates. */
  gg_metrics_inc(NULL, 1);
  gg_metrics_observe(NULL, 1);
  assert_true(gg_metrics_value(NULL) == 0);
  gg_metrics_free(m);
}

static gg_metric *shared_family;

static void *hammer(void *arg) {
  for (int i = 0; i < 20000; i++) {
    char k[8];
    k[0] = (char)('a' + i % 4);
    k[1] = '\0';
    gg_metrics_inc(gg_metrics_series(shared_family, (const char *const[]){k}), 1);
  }
  return NULL;
}

static void test_concurrent_updates_are_not_lost(void **state) {
  gg_metrics *m = gg_metrics_new();
  shared_family = gg_metrics_counter(m, "n_total", "", 1, (const char *const[]){"k"});
  pthread_t t[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (char c = 'a'; c <= 'd'; c++) {
    char k[2] = {c, '\0'};
    assert_true(gg_metrics_value(gg_metrics_series(shared_family, (const char *const[]){k})) == 20000);
  }
  gg_metrics_free(m);
}

static void test_render_respects_the_buffer_cap(void **state) {
  gg_metrics *m = gg_metrics_new();
  gg_metric *f = gg_metrics_counter(m, "long_metric_name_total", "a help text", 0, NULL);
  gg_metrics_inc(gg_metrics_series(f, NULL), 1);
  gg_buf b;
  gg_buf_init(&b, 16);
  assert_int_equal(gg_metrics_render(m, &b), GG_ERR_TOO_BIG);
  gg_buf_release(&b);
  gg_metrics_free(m);
  gg_metrics_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_and_gauge_text),
      cmocka_unit_test(test_label_values_and_help_are_escaped),
      cmocka_unit_test(test_histogram_buckets_are_cumulative),
      cmocka_unit_test(test_histogram_without_labels),
      cmocka_unit_test(test_same_labels_same_series),
      cmocka_unit_test(test_concurrent_updates_are_not_lost),
      cmocka_unit_test(test_render_respects_the_buffer_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
