# Unit tests of src/act's pure logic (config diffs, placeholder subjects, journaled configs).
gg_unit_test(test_act_config SOURCES test_act_config.c LIBS gg_act)
