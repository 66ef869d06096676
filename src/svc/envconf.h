/*
 * envconf.h: typed configuration values from environment variables.
 *
 * The services are configured by the environment and validate it all at start: a bad
 * value stops them with a message that names the variable and quotes the value, e.g.
 * "INGEST_THREADS: 'x' is not a whole number". These helpers read one variable each, treat
 * an unset or empty variable as its default, and record such a message in err (the
 * default is checked like any value). Nothing is allocated.
 */
#ifndef GG_ENVCONF_H
#define GG_ENVCONF_H

#include "base/error.h"
#include "base/log.h"

/* The value of the variable name, or def when it is unset or empty. The result is
 * borrowed: the environment's string (valid until the variable changes) or def. */
const char *gg_env_or(const char *name, const char *def);

/* A duration (base/units.h: "500ms", "2s", "1m") in seconds, from min to max inclusive.
 * GG_ERR_INVALID: "NAME: '<value>' is out of range (<min>s to <max>s)", or the parser's
 * message prefixed with "NAME: ". *out is written on success (and may be on failure). */
gg_status gg_env_duration(const char *name, const char *def, double min, double max, double *out,
                          gg_error *err) GG_WUR;

/* A whole number (decimal) from min to max inclusive. GG_ERR_INVALID: "NAME: '<value>' is
 * not a whole number" or "NAME: '<value>' is out of range (<min> to <max>)". *out is
 * written only on success. */
gg_status gg_env_count(const char *name, const char *def, long long min, long long max, long long *out,
                       gg_error *err) GG_WUR;

/* A log level (debug|info|warn|error, base/log.h); errors are gg_log_parse_level's message
 * prefixed with "NAME: ". */
gg_status gg_env_log_level(const char *name, const char *def, gg_log_level *out, gg_error *err) GG_WUR;

#endif
