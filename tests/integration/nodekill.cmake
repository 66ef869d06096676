# A NATS node killed and restarted around gonogo's subject changes (issue #19 item 1).
# jsctl: the tiny JetStream driver scripts/repro-nodekill uses (the nats CLI is not installed).
add_executable(jsctl jsctl.c)
target_link_libraries(jsctl PRIVATE PkgConfig::NATS)
# The guard's primitives (src/act/peers.c) against the sandbox: a killed replica is reported,
# its return is waited for, the meta checkpoint works. Passes today.
gg_integration_test(test_act_peers SOURCES test_act_peers.c LIBS gg_act gg_it_support TIMEOUT 120)
# A node killed while `gonogo watch` runs under traffic rejoins and nothing is lost. Fails on
# nats-server 2.9.10 without the replica guard in move() (src/act/actions.c: act_wait_peers_current
# before, act_meta_checkpoint after); -DGONOGO_NODE_RESTART_TEST=OFF disables it if that guard is
# taken out again.
option(GONOGO_NODE_RESTART_TEST "run test_node_restart (needs the replica guard in src/act)" ON)
gg_integration_test(test_node_restart SOURCES test_node_restart.c LIBS gg_act_fixture gg_act gg_base TIMEOUT 300)
if(NOT GONOGO_NODE_RESTART_TEST)
  set_tests_properties(test_node_restart PROPERTIES DISABLED TRUE)
endif()
