# gonogo plan / run / rollback / resume on the sandbox (src/act).
add_library(gg_act_fixture STATIC test_act_fixture.c)
target_include_directories(gg_act_fixture PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(gg_act_fixture PUBLIC gg_journal PkgConfig::NATS PkgConfig::CMOCKA Threads::Threads)
gg_integration_test(test_act SOURCES test_act.c LIBS gg_act_fixture TIMEOUT 180)
gg_integration_test(test_act_rollback SOURCES test_act_rollback.c LIBS gg_act_fixture TIMEOUT 180)
gg_integration_test(test_act_resume SOURCES test_act_resume.c LIBS gg_act_fixture TIMEOUT 180)
gg_integration_test(test_act_guards SOURCES test_act_guards.c LIBS gg_act_fixture TIMEOUT 120)
gg_integration_test(test_act_carryback SOURCES test_act_carryback.c LIBS gg_act_fixture TIMEOUT 300)
# The carry-back through the real services: rows in PostgreSQL, once each.
gg_integration_test(test_act_pipeline_rollback SOURCES test_act_pipeline_rollback.c
                    LIBS gg_svc_fixture gg_it_support gg_ingest Threads::Threads TIMEOUT 240)
target_compile_definitions(test_act_pipeline_rollback PRIVATE INGEST_BIN="$<TARGET_FILE:ingest-service>"
                                                              NORMALIZE_BIN="$<TARGET_FILE:normalize-service>")
add_dependencies(test_act_pipeline_rollback ingest-service normalize-service gonogo)
gg_integration_test(test_act_orphan SOURCES test_act_orphan.c LIBS gg_act_fixture TIMEOUT 180)
# The fault suite (issue 16): gonogo killed, or a stream leader's node killed, at action
# boundaries under a 2,000 msg/s publisher; rows in PostgreSQL once each. A subset here; the full
# matrix is bench/faults (FAULTS_CASES=all).
gg_integration_test(test_faults SOURCES test_faults.c LIBS gg_svc_fixture Threads::Threads TIMEOUT 600)
target_compile_definitions(test_faults PRIVATE NORMALIZE_BIN="$<TARGET_FILE:normalize-service>")
add_dependencies(test_faults normalize-service gonogo)
# The gradual traffic shift (issue 15) through the real services at 1,000 readings/s.
gg_integration_test(test_shift SOURCES test_shift.c
                    LIBS gg_svc_fixture gg_it_support gg_journal PkgConfig::CURL Threads::Threads m TIMEOUT 300)
target_compile_definitions(test_shift PRIVATE INGEST_BIN="$<TARGET_FILE:ingest-service>"
                                              NORMALIZE_BIN="$<TARGET_FILE:normalize-service>")
add_dependencies(test_shift ingest-service normalize-service gonogo)
