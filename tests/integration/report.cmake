# Integration tests of src/report: the real binary on a local journal file (no sandbox needed).
gg_integration_test(test_report SOURCES test_report.c LIBS gg_report gg_it_support PkgConfig::SQLITE TIMEOUT 300)
add_dependencies(test_report gonogo)
