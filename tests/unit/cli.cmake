# Unit tests of src/cli (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_cli SOURCES test_cli.c LIBS gg_cli)
