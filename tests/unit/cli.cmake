# Unit tests of src/cli (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_cli SOURCES test_cli.c LIBS gg_cli)
# The man page is built from the help text: it holds every verb's options and exit codes.
if(HELP2MAN)
  add_test(NAME man_page COMMAND sh -c "grep -q '^.TH GONOGO \"1\"' \"$0\" && grep -q 'nagios' \"$0\" && grep -q 'usage: gonogo journal verify' \"$0\" && grep -q 'exit: 0 GO, 1 DEFER, 2 NO' \"$0\""
           ${PROJECT_BINARY_DIR}/src/cli/gonogo.1)
  set_tests_properties(man_page PROPERTIES LABELS unit)
endif()
