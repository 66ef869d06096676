# Probes against the sandbox: JetStream, monitoring (with a killed node), PostgreSQL, HTTP
# targets served by the test, Prometheus and Alertmanager.
gg_integration_test(test_probe SOURCES test_probe.c LIBS gg_probe gg_expr gg_it_support gg_base PkgConfig::PQ TIMEOUT 240)
# "Up means up": nats.server.up right after R3 streams are created, a killed node, a silent monitor.
gg_integration_test(test_probe_up SOURCES test_probe_up.c LIBS gg_probe gg_expr gg_it_support gg_base TIMEOUT 180)
