/* src/html: escaping and the SVG charts the dashboard and the HTML report draw. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "html/html.h"

static void test_escape(void **state) {
  (void)state;
  gg_buf out;
  gg_buf_init(&out, 0);
  assert_int_equal(html_escape(&out, "a<b>&\"c'd"), GG_OK);
  assert_string_equal(gg_buf_str(&out), "a&lt;b&gt;&amp;&quot;c&#39;d");
  gg_buf_reset(&out);
  assert_int_equal(html_escape(&out, NULL), GG_OK);
  assert_string_equal(gg_buf_str(&out), "");
  gg_buf_release(&out);
}

/* ---- charts ---- */

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

static void test_svg_chart(void **state) {
  (void)state;
  double t[] = {100, 101, 102, 103, 104};
  double a[] = {1, 2, NAN, 4, 5};
  double b[] = {3, 3, 3, 3, 3};
  html_chart_line lines[] = {{"{stream=\"A\"}", t, a, 5}, {"{stream=\"B\"}", t, b, 5}};
  html_chart c = {.title = "lag <b>&",
                  .lines = lines,
                  .nlines = 2,
                  .has_threshold = true,
                  .threshold = 4.5,
                  .t0 = 100,
                  .t1 = 104,
                  .width = 400,
                  .height = 100};
  gg_buf out;
  gg_buf_init(&out, 1 << 20);
  assert_int_equal(html_svg_chart(&out, &c), GG_OK);
  const char *s = gg_buf_str(&out);
  assert_non_null(strstr(s, "<svg"));
  assert_non_null(strstr(s, "</svg>"));
  assert_non_null(strstr(s, "lag &lt;b&gt;&amp;"));
  assert_null(strstr(s, "<b>"));
  assert_int_equal(count(s, "<polyline"), 3); /* the NaN splits line A in two */
  assert_non_null(strstr(s, "class=\"threshold\""));
  assert_non_null(strstr(s, "threshold 4.5"));
  assert_non_null(strstr(s, "{stream=&quot;B&quot;}"));
  /* the threshold line lies between the max (5, top) and the min (1, bottom) */
  assert_null(strstr(s, "no data"));
  gg_buf_reset(&out);
  html_chart empty = {.title = "nothing", .t0 = 0, .t1 = 10};
  assert_int_equal(html_svg_chart(&out, &empty), GG_OK);
  assert_non_null(strstr(gg_buf_str(&out), "no data"));
  gg_buf_release(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_escape), cmocka_unit_test(test_svg_chart)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
