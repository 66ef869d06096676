# Integration tests of `gonogo validate` and `gonogo show` (the real binary; no sandbox needed).
gg_integration_test(test_plan_cli SOURCES test_plan_cli.c LIBS gg_it_support gg_base TIMEOUT 120)
add_dependencies(test_plan_cli gonogo)
