# Against the secured sandbox (label `secure`; see gg_secure_test in cmake/tests.cmake).
gg_secure_test(test_secure_auth SOURCES test_secure_auth.c LIBS gg_it_support gg_base TIMEOUT 180)
gg_secure_test(test_secure_sys SOURCES test_secure_sys.c LIBS gg_it_support gg_base PkgConfig::JANSSON TIMEOUT 180)
gg_secure_test(test_secure_story SOURCES test_secure_story.c LIBS gg_it_support gg_base PkgConfig::NATS TIMEOUT 300)
gg_secure_test(test_secure_journal SOURCES test_secure_journal.c LIBS gg_it_support gg_base PkgConfig::PQ TIMEOUT 180)
add_dependencies(test_secure_journal gonogo)
