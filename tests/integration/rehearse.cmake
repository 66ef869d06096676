# gonogo rehearse (#14): each test's rehearsal brings up a sandbox of its own and takes it down.
gg_integration_test(test_rehearse SOURCES test_rehearse.c LIBS gg_it_support gg_base TIMEOUT 900)
add_dependencies(test_rehearse gonogo ingest-service normalize-service)
# The plan's own rehearsal.services commands in place of the reference services.
gg_integration_test(test_rehearse_cmd SOURCES test_rehearse_cmd.c LIBS gg_it_support gg_base TIMEOUT 900)
add_dependencies(test_rehearse_cmd gonogo ingest-service normalize-service)
# --from-live alone: the live cluster's legacy settings replace the plan's (no rehearsal runs).
gg_integration_test(test_rehearse_live SOURCES test_rehearse_live.c LIBS gg_rehearse gg_it_support gg_base TIMEOUT 60)
