# Unit tests of the reference pipeline's pieces: base/metrics, base/httpd, src/ingest and
# src/normalize (src/svc's are in svc.cmake; see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_metrics SOURCES test_metrics.c LIBS gg_base)
gg_unit_test(test_httpd SOURCES test_httpd.c rawhttp.c LIBS gg_base PkgConfig::CURL)
gg_unit_test(test_ingest SOURCES test_ingest.c LIBS gg_ingest)
gg_unit_test(test_normalize SOURCES test_normalize.c LIBS gg_normalize)
