# Probes against the sandbox: JetStream, monitoring (with a killed node), PostgreSQL, HTTP
# targets served by the test, Prometheus and Alertmanager.
gg_integration_test(test_probe SOURCES test_probe.c LIBS gg_probe gg_expr gg_base PkgConfig::PQ TIMEOUT 240)
