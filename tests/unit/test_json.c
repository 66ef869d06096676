/* Unit tests of src/base/json: parsing untrusted text, path lookups, stable dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"

static const char doc[] =
    "{\"server_id\":\"NABC\",\"now\":1.5,\"config\":{\"max_memory\":1073741824,\"store_dir\":\"/tmp/js\"},"
    "\"meta_cluster\":{\"leader\":\"n1\",\"cluster_size\":3,\"peers\":[{\"name\":\"n2\",\"current\":true}]},"
    "\"disabled\":false,\"streams\":2.0,\"ratio\":0.25,\"nothing\":null}";

static json_t *load(void) {
  json_t *root = NULL;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_json_parse(doc, strlen(doc), "jsz", &root, &err), GG_OK);
  assert_non_null(root);
  return root;
}

static void test_parse_ok_not_terminated(void **state) {
  (void)state;
  /* The text need not be NUL-terminated: only n bytes are read. */
  char text[] = {'[', '1', ',', '2', ']', 'x', 'x'};
  json_t *root = NULL;
  assert_int_equal(gg_json_parse(text, 5, "array", &root, NULL), GG_OK);
  assert_int_equal(json_array_size(root), 2);
  json_decref(root);
}

static void test_parse_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    const char *said;
  } cases[] = {
      {"{\"a\":1,}", "parse response from http://127.0.0.1:8222/jsz: line 1, column 8"},
      {"{\"a\":1,\n\"b\":}", "line 2, column 5"},
      {"{\"a\":1,\"a\":2}", "duplicate object key"},
      {"", "line 1, column 0"},
      {"{\"a\":1} trailing", "end of file expected"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *root = (json_t *)&root; /* must be reset to NULL */
    gg_error err;
    gg_error_clear(&err);
    gg_status st = gg_json_parse(cases[i].text, strlen(cases[i].text),
                                 "response from http://127.0.0.1:8222/jsz", &root, &err);
    if (st != GG_ERR_JSON || !strstr(err.msg, cases[i].said))
      print_error("parse '%s': %s \"%s\", want \"%s\"\n", cases[i].text, gg_status_name(st), err.msg,
                  cases[i].said);
    assert_int_equal(st, GG_ERR_JSON);
    assert_non_null(strstr(err.msg, cases[i].said));
    assert_non_null(strstr(err.msg, "response from http://127.0.0.1:8222/jsz"));
    assert_null(root);
  }
}

static void test_path(void **state) {
  (void)state;
  json_t *root = load();
  assert_ptr_equal(gg_json_path(root, "meta_cluster"), json_object_get(root, "meta_cluster"));
  assert_string_equal(json_string_value(gg_json_path(root, "meta_cluster.leader")), "n1");
  assert_int_equal(json_integer_value(gg_json_path(root, "config.max_memory")), 1073741824);
  assert_null(gg_json_path(root, "meta_cluster.missing"));
  assert_null(gg_json_path(root, "server_id.x")); /* through a string */
  assert_null(gg_json_path(root, "meta_cluster."));
  assert_null(gg_json_path(NULL, "a"));
  assert_true(json_is_null(gg_json_path(root, "nothing")));
  json_decref(root);
}

static void test_typed_getters(void **state) {
  (void)state;
  json_t *root = load();
  const char *s = NULL;
  double d = 0;
  long long ll = 0;
  bool b = true;
  assert_int_equal(gg_json_get_string(root, "meta_cluster.leader", &s, NULL), GG_OK);
  assert_string_equal(s, "n1");
  assert_int_equal(gg_json_get_number(root, "now", &d, NULL), GG_OK);
  assert_true(d == 1.5);
  assert_int_equal(gg_json_get_number(root, "meta_cluster.cluster_size", &d, NULL), GG_OK);
  assert_true(d == 3);
  assert_int_equal(gg_json_get_int(root, "config.max_memory", &ll, NULL), GG_OK);
  assert_int_equal(ll, 1073741824LL);
  assert_int_equal(gg_json_get_int(root, "streams", &ll, NULL), GG_OK); /* 2.0 is integral */
  assert_int_equal(ll, 2);
  assert_int_equal(gg_json_get_bool(root, "disabled", &b, NULL), GG_OK);
  assert_false(b);
  json_decref(root);
}

static void test_getter_errors(void **state) {
  (void)state;
  json_t *root = load();
  static const struct {
    char type;
    const char *path;
    gg_status want;
    const char *said;
  } cases[] = {
      {'s', "meta_cluster.lead", GG_ERR_NOT_FOUND, "missing 'meta_cluster.lead'"},
      {'s', "now", GG_ERR_INVALID, "'now' is a number, want a string"},
      {'n', "server_id", GG_ERR_INVALID, "'server_id' is a string, want a number"},
      {'n', "nothing", GG_ERR_INVALID, "'nothing' is null, want a number"},
      {'i', "ratio", GG_ERR_INVALID, "'ratio' is 0.25, want an integer"},
      {'i', "meta_cluster.peers", GG_ERR_INVALID, "'meta_cluster.peers' is an array, want an integer"},
      {'b', "meta_cluster", GG_ERR_INVALID, "'meta_cluster' is an object, want a boolean"},
      {'b', "server_id.up", GG_ERR_INVALID, "'server_id' is a string, not an object"},
      {'n', "config.store_dir.size", GG_ERR_INVALID, "'config.store_dir' is a string, not an object"},
      {'n', "absent.deeper", GG_ERR_NOT_FOUND, "missing 'absent.deeper'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gg_error err;
    gg_error_clear(&err);
    const char *s = "unchanged";
    double d = -1;
    long long ll = -1;
    bool b = true;
    gg_status st;
    switch (cases[i].type) {
      case 's':
        st = gg_json_get_string(root, cases[i].path, &s, &err);
        break;
      case 'n':
        st = gg_json_get_number(root, cases[i].path, &d, &err);
        break;
      case 'i':
        st = gg_json_get_int(root, cases[i].path, &ll, &err);
        break;
      default:
        st = gg_json_get_bool(root, cases[i].path, &b, &err);
        break;
    }
    if (st != cases[i].want || !strstr(err.msg, cases[i].said))
      print_error("get '%s': %s \"%s\", want %s \"%s\"\n", cases[i].path, gg_status_name(st), err.msg,
                  gg_status_name(cases[i].want), cases[i].said);
    assert_int_equal(st, cases[i].want);
    assert_non_null(strstr(err.msg, cases[i].said));
    assert_string_equal(s, "unchanged");
    assert_true(d == -1 && ll == -1 && b);
  }
  json_decref(root);
}

static void test_dump_sorted_compact(void **state) {
  (void)state;
  json_t *v = json_pack("{s:i, s:s, s:[i,b], s:{s:n, s:f}}", "zeta", 1, "alpha", "x y", "mid", 2, 1, "obj",
                        "b", "a", 0.5);
  assert_non_null(v);
  char *s = gg_json_dump(v);
  assert_string_equal(s, "{\"alpha\":\"x y\",\"mid\":[2,true],\"obj\":{\"a\":0.5,\"b\":null},\"zeta\":1}");
  free(s);
  json_t *str = json_string("bare");
  s = gg_json_dump(str);
  assert_string_equal(s, "\"bare\"");
  free(s);
  json_decref(str);
  json_decref(v);
  assert_null(gg_json_dump(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_ok_not_terminated),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_path),
      cmocka_unit_test(test_typed_getters),
      cmocka_unit_test(test_getter_errors),
      cmocka_unit_test(test_dump_sorted_compact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
