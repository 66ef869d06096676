/*
 * cluster_cli.h: the first lines of `check`, `run` and `watch`: which NATS cluster and which
 * databases the plan's settings reach, as the servers report themselves, so the wrong
 * environment shows before anything is decided or changed.
 */
#ifndef GG_CLI_CLUSTER_CLI_H
#define GG_CLI_CLUSTER_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "plan/plan.h"

/* Print the lines naming the cluster (the servers configured, their names and cluster name as
 * they report them, or why those are unknown) and each database's host to `out`. Asks the
 * servers (a few seconds at most when they do not answer); never prints a secret. */
void cli_cluster_print(FILE *out, const plan *p);

/* The same facts as JSON: {"nats": {"servers": [...], "names": [...], "cluster": ..., ...},
 * "databases": [{"name", "where"}]}. You own the result. */
json_t *cli_cluster_json(const plan *p);

#endif
