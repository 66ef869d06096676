# Probes: the text-format parser, Go durations, subject coverage, files and commands.
gg_unit_test(test_probe_promtext SOURCES test_probe_promtext.c LIBS gg_probe)
