# Unit tests of src/expr (see cmake/tests.cmake for gg_unit_test).
# test_expr: evaluation against in-memory sources; test_expr_parse: parser, printer, round
# trip and error columns; test_expr_calendar: window specs, holidays, time zones.
gg_unit_test(test_expr SOURCES test_expr.c LIBS gg_expr gg_base)
gg_unit_test(test_expr_parse SOURCES test_expr_parse.c LIBS gg_expr gg_base)
gg_unit_test(test_expr_calendar SOURCES test_expr_calendar.c LIBS gg_expr gg_base)
