# gonogo check against the sandbox: decisions, exit codes and evidence.
gg_integration_test(test_check SOURCES test_check.c LIBS gg_it_support gg_journal gg_base PkgConfig::NATS TIMEOUT 300)
