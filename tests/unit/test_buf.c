/* Unit tests of src/base/buf: caps, growth, detach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"

static void test_empty(void **state) {
  (void)state;
  gg_buf b;
  gg_buf_init(&b, 100);
  assert_null(b.data); /* nothing allocated until the first append */
  assert_int_equal(b.len, 0);
  assert_int_equal(b.max, 100);
  assert_string_equal(gg_buf_str(&b), "");
  gg_buf_release(&b);
  gg_buf_release(&b);
  gg_buf_release(NULL);
  gg_buf_init(&b, 0); /* 0: no practical cap */
  assert_true(b.max >= SIZE_MAX / 2);
}

static void test_append_and_cap(void **state) {
  (void)state;
  gg_buf b;
  gg_buf_init(&b, 10);
  assert_int_equal(gg_buf_append(&b, "abc", 3), GG_OK);
  assert_int_equal(gg_buf_puts(&b, "defg"), GG_OK);
  assert_string_equal(gg_buf_str(&b), "abcdefg");
  assert_int_equal(b.len, 7);
  /* Past the cap: refused, buffer unchanged. */
  assert_int_equal(gg_buf_append(&b, "hijk", 4), GG_ERR_TOO_BIG);
  assert_string_equal(gg_buf_str(&b), "abcdefg");
  assert_int_equal(b.len, 7);
  assert_int_equal(gg_buf_printf(&b, "%d", 1234), GG_ERR_TOO_BIG);
  assert_string_equal(gg_buf_str(&b), "abcdefg");
  /* Exactly up to the cap is fine. */
  assert_int_equal(gg_buf_append(&b, "hij", 3), GG_OK);
  assert_int_equal(b.len, 10);
  assert_string_equal(gg_buf_str(&b), "abcdefghij");
  assert_int_equal(gg_buf_append(&b, "", 0), GG_OK);
  assert_int_equal(gg_buf_append(&b, "x", 1), GG_ERR_TOO_BIG);
  /* Binary data: len counts embedded NULs, a NUL still follows. */
  gg_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(gg_buf_str(&b), "");
  assert_int_equal(gg_buf_append(&b, "a\0b", 3), GG_OK);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.data, "a\0b\0", 4);
  gg_buf_release(&b);
}

static void test_printf_growth(void **state) {
  (void)state;
  gg_buf b;
  gg_buf_init(&b, 0);
  size_t expect = 0;
  for (int i = 0; i < 5000; i++) {
    assert_int_equal(gg_buf_printf(&b, "%d,", i), GG_OK);
    expect += (size_t)snprintf(NULL, 0, "%d,", i);
  }
  assert_int_equal(b.len, expect);
  assert_int_equal(strlen(gg_buf_str(&b)), expect);
  assert_true(b.cap > b.len);
  assert_int_equal(strncmp(b.data, "0,1,2,3,", 8), 0);
  assert_string_equal(b.data + b.len - 5, "4999,");
  /* One printf much larger than the current capacity. */
  char big[10000];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  gg_buf_reset(&b);
  assert_int_equal(gg_buf_printf(&b, "<%s>", big), GG_OK);
  assert_int_equal(b.len, sizeof big + 1);
  assert_int_equal(b.data[0], '<');
  assert_int_equal(b.data[b.len - 1], '>');
  assert_int_equal(b.data[b.len], '\0');
  gg_buf_release(&b);
}

static void test_detach(void **state) {
  (void)state;
  gg_buf b;
  gg_buf_init(&b, 64);
  assert_int_equal(gg_buf_puts(&b, "owned"), GG_OK);
  char *s = gg_buf_detach(&b);
  assert_string_equal(s, "owned");
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.max, 64); /* the cap survives */
  free(s);
  /* An empty buffer detaches as a malloc'd "". */
  s = gg_buf_detach(&b);
  assert_non_null(s);
  assert_string_equal(s, "");
  free(s);
  /* Reusable after detach. */
  assert_int_equal(gg_buf_puts(&b, "again"), GG_OK);
  assert_string_equal(gg_buf_str(&b), "again");
  gg_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_append_and_cap),
      cmocka_unit_test(test_printf_growth),
      cmocka_unit_test(test_detach),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
