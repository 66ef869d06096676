# Integration tests of src/journal: real processes on a local journal file (no sandbox needed).
gg_integration_test(test_journal_chain SOURCES test_journal_chain.c LIBS gg_journal TIMEOUT 300)
gg_integration_test(test_journal_cli SOURCES test_journal_cli.c LIBS gg_journal gg_it_support PkgConfig::SQLITE TIMEOUT 300)
add_dependencies(test_journal_cli gonogo)
gg_integration_test(test_signoff_keys SOURCES test_signoff_keys.c LIBS gg_journal gg_it_support PkgConfig::SQLITE TIMEOUT 300)
add_dependencies(test_signoff_keys gonogo)
