# Unit tests of src/journal (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_journal SOURCES test_journal.c LIBS gg_journal PkgConfig::SQLITE PkgConfig::CRYPTO)
gg_unit_test(test_journal_series SOURCES test_journal_series.c LIBS gg_journal)
gg_unit_test(test_sign SOURCES test_sign.c LIBS gg_journal gg_plan PkgConfig::CRYPTO)
