/* Unit tests of base/nkey.c: the nkeys checksum against its published check value, a
 * generated seed giving back its public key, and seed files. (That nats-server accepts the
 * keys is the secured sandbox's integration test.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/nkey.h"

static void crc16_xmodem_check_value(void **state) {
  (void)state;
  /* CRC-16/XMODEM of "123456789" is 0x31C3 (the catalogue's check value). */
  assert_int_equal(gg_nkey_crc16((const unsigned char *)"123456789", 9), 0x31C3);
}

static void generated_pair_round_trips(void **state) {
  (void)state;
  char seed[GG_NKEY_SEED_LEN + 1], pub[GG_NKEY_PUBLIC_LEN + 1], again[GG_NKEY_PUBLIC_LEN + 1];
  assert_int_equal(gg_nkey_generate(seed, pub, NULL), GG_OK);
  assert_int_equal(strlen(seed), GG_NKEY_SEED_LEN);
  assert_int_equal(strlen(pub), GG_NKEY_PUBLIC_LEN);
  assert_memory_equal(seed, "SU", 2);
  assert_int_equal(pub[0], 'U');
  assert_int_equal(gg_nkey_public_of_seed(seed, again, NULL), GG_OK);
  assert_string_equal(pub, again);
}

static void a_changed_seed_fails_its_checksum(void **state) {
  (void)state;
  char seed[GG_NKEY_SEED_LEN + 1], pub[GG_NKEY_PUBLIC_LEN + 1];
  assert_int_equal(gg_nkey_generate(seed, pub, NULL), GG_OK);
  seed[20] = seed[20] == 'A' ? 'B' : 'A';
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_nkey_public_of_seed(seed, pub, &err), GG_ERR_PARSE);
  assert_non_null(strstr(err.msg, "checksum"));
  assert_null(strstr(err.msg, seed)); /* never the seed in a message */
  assert_int_equal(gg_nkey_public_of_seed("SUshort", pub, NULL), GG_ERR_PARSE);
}

static void seed_file_with_other_lines(void **state) {
  (void)state;
  char seed[GG_NKEY_SEED_LEN + 1], pub[GG_NKEY_PUBLIC_LEN + 1], got[GG_NKEY_PUBLIC_LEN + 1];
  assert_int_equal(gg_nkey_generate(seed, pub, NULL), GG_OK);
  char path[] = "/tmp/gg-nkey-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n", seed);
  fclose(f);
  assert_int_equal(gg_nkey_public_of_seed_file(path, got, NULL), GG_OK);
  assert_string_equal(got, pub);
  unlink(path);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_nkey_public_of_seed_file(path, got, &err), GG_ERR_NOT_FOUND);
  assert_non_null(strstr(err.msg, path));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(crc16_xmodem_check_value),
      cmocka_unit_test(generated_pair_round_trips),
      cmocka_unit_test(a_changed_seed_fails_its_checksum),
      cmocka_unit_test(seed_file_with_other_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
