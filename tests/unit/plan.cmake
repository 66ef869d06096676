# Unit tests of src/plan (see cmake/tests.cmake for gg_unit_test).
gg_unit_test(test_plan SOURCES test_plan.c LIBS gg_plan gg_expr gg_base)
target_compile_definitions(test_plan PRIVATE GONOGO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gg_unit_test(test_plan_connect SOURCES test_plan_connect.c LIBS gg_plan gg_expr gg_base)
# test_reference: docs/plan-reference.md documents every key, series, function, action and
# journal kind the code's own tables hold.
gg_unit_test(test_reference SOURCES test_reference.c LIBS gg_plan gg_journal gg_expr gg_base)
target_compile_definitions(test_reference PRIVATE GONOGO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gg_unit_test(test_plan_shift SOURCES test_plan_shift.c plan_fixture.c LIBS gg_plan gg_expr gg_base)
target_compile_definitions(test_plan_shift PRIVATE GONOGO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gg_unit_test(test_plan_rehearsal SOURCES test_plan_rehearsal.c plan_fixture.c LIBS gg_plan gg_expr gg_base)
