# Unit tests of src/watch (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_watch SOURCES test_watch.c LIBS gg_watch)
