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

/* The timeline: a bar a phase that ran (amber, then green), a mark an event with its tooltip
 * escaped, the rollback labelled, an event outside the window left out, a lane per phase. */
static void test_svg_timeline(void **state) {
  (void)state;
  const char *lanes[] = {"0", "1"}, *names[] = {"Create <DLQ>", "Move"};
  html_tl_event ev[] = {
      {.t = 100, .kind = HTML_TL_DECISION, .lane = "1", .label = "GO for phase 1"},
      {.t = 110, .kind = HTML_TL_STARTED, .lane = "1", .label = "phase 1 started"},
      {.t = 120, .kind = HTML_TL_CUTOVER, .lane = "1", .label = "move_subjects: gap 4.2 ms"},
      {.t = 130, .kind = HTML_TL_COMPLETED, .lane = "1", .label = "phase 1 completed"},
      {.t = 150, .kind = HTML_TL_FIRING, .lane = "1", .label = "rule 'Errors <high>' fired", .severe = true},
      {.t = 151, .kind = HTML_TL_ROLLED_BACK, .lane = "1", .label = "phase 1 rolled back"},
      {.t = 999, .kind = HTML_TL_FIRING, .lane = "1", .label = "after the window"},
  };
  html_timeline tl = {
      .lanes = lanes, .names = names, .nlanes = 2, .events = ev, .nevents = 7, .t0 = 90, .t1 = 200};
  gg_buf out;
  gg_buf_init(&out, 0);
  assert_int_equal(html_svg_timeline(&out, &tl), GG_OK);
  const char *s = gg_buf_str(&out);
  assert_non_null(strstr(s, "<svg class=\"timeline\""));
  assert_non_null(strstr(s, "0 · Create &lt;DLQ&gt;"));
  assert_int_equal(count(s, "fill=\"#f59e0b\"/>"), 1 + 1); /* the running bar, and the legend's */
  assert_int_equal(count(s, "fill=\"#16a34a\"/>"),
                   1 + 1); /* completed until the rollback, and the legend's */
  assert_non_null(strstr(s, "<title>rule &#39;Errors &lt;high&gt;&#39; fired</title>"));
  assert_non_null(strstr(s, "class=\"firing\" cx=\"552.5\"")); /* 150 + (150 - 90) / 110 * 738 */
  assert_non_null(strstr(s, "fill=\"#dc2626\""));              /* a firing that rolls back is red */
  assert_non_null(strstr(s, ">rolled back</text>"));
  assert_null(strstr(s, "after the window"));
  assert_null(strstr(s, "nothing has happened yet"));
  gg_buf_reset(&out);
  tl.nevents = 0;
  assert_int_equal(html_svg_timeline(&out, &tl), GG_OK);
  assert_non_null(strstr(gg_buf_str(&out), "nothing has happened yet"));
  /* a long name is cut at a character, not inside one: "1 · " and 16 é's are 4 + 2 + 32 bytes */
  gg_buf_reset(&out);
  names[1] = "éééééééééééééééé";
  assert_int_equal(html_svg_timeline(&out, &tl), GG_OK);
  assert_non_null(strstr(gg_buf_str(&out), ">1 · ééééééé…</text>"));
  gg_buf_release(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_escape), cmocka_unit_test(test_svg_chart),
                                     cmocka_unit_test(test_svg_timeline)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
