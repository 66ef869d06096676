# Integration tests: the reference pipeline (ingest-service, normalize-service) on the sandbox.
add_library(gg_svc_fixture STATIC svc_fixture.c)
target_include_directories(gg_svc_fixture PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(gg_svc_fixture PUBLIC PkgConfig::NATS PkgConfig::PQ PkgConfig::CURL PkgConfig::CMOCKA Threads::Threads)

foreach(t test_pipeline test_pipeline_pg test_pipeline_cutover test_pipeline_faults)
  gg_integration_test(${t} SOURCES ${t}.c LIBS gg_svc_fixture gg_ingest Threads::Threads)
  target_compile_definitions(${t} PRIVATE INGEST_BIN="$<TARGET_FILE:ingest-service>"
                                          NORMALIZE_BIN="$<TARGET_FILE:normalize-service>")
  add_dependencies(${t} ingest-service normalize-service)
endforeach()

# ingest-service under slow clients, driven by the raw loopback clients of tests/unit/rawhttp.c.
gg_integration_test(test_ingest_limits SOURCES test_ingest_limits.c ${PROJECT_SOURCE_DIR}/tests/unit/rawhttp.c
                    LIBS gg_svc_fixture Threads::Threads)
target_include_directories(test_ingest_limits PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
target_compile_definitions(test_ingest_limits PRIVATE INGEST_BIN="$<TARGET_FILE:ingest-service>")
add_dependencies(test_ingest_limits ingest-service)
