# Unit tests of src/report (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_report_format SOURCES test_report_format.c LIBS gg_report)
