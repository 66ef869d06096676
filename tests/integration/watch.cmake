# gonogo watch against the sandbox: rules, automatic rollback, advisories, checkpoints, dashboard.
gg_integration_test(test_watch_live SOURCES test_watch_live.c LIBS gg_it_support gg_journal gg_base PkgConfig::NATS TIMEOUT 240)
