# Unit tests of src/html (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_html SOURCES test_html.c LIBS gg_html)
