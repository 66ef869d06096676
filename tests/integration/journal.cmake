# Integration tests of src/journal: real processes on a local journal file (no sandbox needed),
# and the same suites again on the PostgreSQL backend (a schema of the sandbox's PG_URL a test).
gg_integration_test(test_journal_chain SOURCES test_journal_chain.c LIBS gg_journal PkgConfig::PQ TIMEOUT 300)
gg_integration_test(test_journal_cli SOURCES test_journal_cli.c LIBS gg_journal gg_it_support PkgConfig::SQLITE TIMEOUT 300)
add_dependencies(test_journal_cli gonogo)
gg_integration_test(test_journal_chain_pg SOURCES test_journal_chain.c LIBS gg_journal PkgConfig::PQ TIMEOUT 300)
target_compile_definitions(test_journal_chain_pg PRIVATE JOURNAL_TEST_PG=1)
gg_integration_test(test_journal_pg SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_journal.c
  LIBS gg_journal PkgConfig::SQLITE PkgConfig::PQ PkgConfig::CRYPTO TIMEOUT 300)
target_compile_definitions(test_journal_pg PRIVATE JOURNAL_TEST_PG=1)
gg_integration_test(test_journal_shared SOURCES test_journal_shared.c LIBS gg_journal gg_it_support PkgConfig::PQ TIMEOUT 300)
add_dependencies(test_journal_shared gonogo)
gg_integration_test(test_signoff_keys SOURCES test_signoff_keys.c LIBS gg_journal gg_it_support PkgConfig::SQLITE TIMEOUT 300)
add_dependencies(test_signoff_keys gonogo)
