# gg_unit_test(NAME SOURCES... LIBS...): a cmocka test binary run by ctest with the label
# `unit` and a timeout; each test file is its own process.
function(gg_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT ${T_TIMEOUT})
endfunction()

# gg_integration_test(NAME SOURCES... LIBS...): like gg_unit_test, labelled `integration`.
# These run against the sandbox that `make test` brings up (its env is exported), and
# get the built gonogo binary's path in GONOGO_BIN.
function(gg_integration_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "GONOGO_BIN=$<TARGET_FILE:gonogo>;GONOGO_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# gg_fuzz_target(NAME SOURCES... LIBS...): a libFuzzer target (clang, GONOGO_FUZZ=ON), run by
# ctest with the label `fuzz` as a short smoke run (FUZZ_SECONDS, default 10) over the
# seed corpus in tests/fuzz/corpus/NAME (if present).
function(gg_fuzz_target name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  set_property(GLOBAL APPEND PROPERTY GG_FUZZ_TARGETS ${name})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  if(NOT DEFINED FUZZ_SECONDS)
    set(FUZZ_SECONDS 10)
  endif()
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set(work ${CMAKE_CURRENT_BINARY_DIR}/corpus-${name})
  add_test(NAME ${name}
    COMMAND sh -c "mkdir -p '${work}' && seeds='' && if [ -d '${corpus}' ]; then seeds='${corpus}'; fi && exec '$<TARGET_FILE:${name}>' -max_total_time=${FUZZ_SECONDS} -timeout=5 -rss_limit_mb=2048 '${work}' $seeds")
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 120)
endfunction()

# gg_secure_test(NAME SOURCES... LIBS...): an integration test labelled `secure` (not
# `integration`): it runs against the secured sandbox (`sandbox up --secure`), whose env
# scripts/test exports for these tests alone.
function(gg_secure_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS secure TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "GONOGO_BIN=$<TARGET_FILE:gonogo>;GONOGO_SOURCE_DIR=${PROJECT_SOURCE_DIR};GONOGO_INGEST_BIN=$<TARGET_FILE:ingest-service>;GONOGO_NORMALIZE_BIN=$<TARGET_FILE:normalize-service>")
endfunction()
