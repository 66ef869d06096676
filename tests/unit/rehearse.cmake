# Unit tests of src/rehearse's pure parts: the sandbox's settings in place of the caller's.
gg_unit_test(test_rehearse_env SOURCES test_rehearse_env.c LIBS gg_rehearse)
