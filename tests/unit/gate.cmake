# Unit tests of src/gate and src/signoff (see cmake/tests.cmake for gg_unit_test): the decision
# table with in-memory series and a temporary journal, no network.
gg_unit_test(test_gate SOURCES test_gate.c LIBS gg_gate gg_signoff)
# gate/history.h: when a history is enough, and which one check reads (journal, Prometheus,
# partial, fresh pair).
gg_unit_test(test_gate_history SOURCES test_gate_history.c LIBS gg_gate gg_signoff)
