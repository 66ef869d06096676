# Unit tests of src/svc, what only the two services share (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_natsopts SOURCES test_natsopts.c LIBS gg_svc)
gg_unit_test(test_envconf SOURCES test_envconf.c LIBS gg_svc)
gg_unit_test(test_ingest_payload SOURCES test_ingest_payload.c LIBS gg_svc)
