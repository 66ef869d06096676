# Integration tests of `gonogo validate` and `gonogo show` (the real binary; no sandbox needed).
gg_integration_test(test_plan_cli SOURCES test_plan_cli.c LIBS gg_it_support gg_base TIMEOUT 120)
add_dependencies(test_plan_cli gonogo)
# What operators expect of the binary (#18): --yes off a terminal, the cluster line, --nagios,
# run: in the plan's directory, NATS_URL unset, help VERB, did-you-mean, completion (the sandbox).
gg_integration_test(test_cli_ops SOURCES test_cli_ops.c LIBS gg_it_support gg_base PkgConfig::JANSSON PkgConfig::NATS TIMEOUT 180)
add_dependencies(test_cli_ops gonogo)
