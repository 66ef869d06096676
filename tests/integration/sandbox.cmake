# Integration tests: sandbox (brings up its own sandbox in a temp dir).
gg_integration_test(test_sandbox SOURCES test_sandbox.c LIBS gg_it_support gg_base PkgConfig::JANSSON TIMEOUT 240)
