# Unit tests of src/base (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_units SOURCES test_units.c LIBS gg_base)
gg_unit_test(test_clock SOURCES test_clock.c LIBS gg_base)
gg_unit_test(test_json SOURCES test_json.c LIBS gg_base)
gg_unit_test(test_spawn SOURCES test_spawn.c LIBS gg_base)
gg_unit_test(test_http SOURCES test_http.c LIBS gg_base PkgConfig::MHD)
gg_unit_test(test_status SOURCES test_status.c LIBS gg_base)
gg_unit_test(test_buf SOURCES test_buf.c LIBS gg_base)
gg_unit_test(test_log SOURCES test_log.c LIBS gg_base)
gg_unit_test(test_failpoint SOURCES test_failpoint.c LIBS gg_base)
gg_unit_test(test_secret SOURCES test_secret.c LIBS gg_base)
gg_unit_test(test_nkey SOURCES test_nkey.c LIBS gg_base)
# banned.h: a strcpy must not compile (the header is force-included by the top CMakeLists).
add_test(NAME test_banned COMMAND ${CMAKE_C_COMPILER} -std=c11 -fsyntax-only -include ${GG_BANNED_H}
  ${CMAKE_CURRENT_SOURCE_DIR}/banned_use.c)
set_tests_properties(test_banned PROPERTIES LABELS unit
  PASS_REGULAR_EXPRESSION "sorry_strcpy_is_a_banned_function")
