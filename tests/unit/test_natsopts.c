/* The server list the services take from NATS_URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "svc/natsopts.h"

static void test_server_lists(void **state) {
  (void)state;
  natsOptions *o = NULL;
  assert_int_equal(natsOptions_Create(&o), NATS_OK);
  assert_int_equal(gg_nats_set_servers(o, "nats://127.0.0.1:4222"), NATS_OK);
  assert_int_equal(
      gg_nats_set_servers(o, "nats://127.0.0.1:4222, nats://127.0.0.1:4223 ,,nats://127.0.0.1:4224"),
      NATS_OK);
  assert_int_equal(gg_nats_set_servers(o, ""), NATS_INVALID_ARG);
  assert_int_equal(gg_nats_set_servers(o, " , ,"), NATS_INVALID_ARG);
  assert_int_equal(gg_nats_log_connection(o), NATS_OK);
  natsOptions_Destroy(o);
  nats_Close();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_server_lists)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
