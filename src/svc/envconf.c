/* Typed environment variables for the services' configuration: see envconf.h. */
#include "svc/envconf.h"

#include <errno.h>
#include <stdlib.h>

#include "base/units.h"

const char *gg_env_or(const char *name, const char *def) {
  const char *v = getenv(name);
  return v && *v ? v : def;
}

gg_status gg_env_duration(const char *name, const char *def, double min, double max, double *out,
                          gg_error *err) {
  const char *v = gg_env_or(name, def);
  gg_status st = gg_parse_duration(v, 0, out, err);
  if (st != GG_OK) {
    gg_error_prefix(err, "%s: ", name);
    return st;
  }
  if (*out < min || *out > max)
    return gg_error_set(err, GG_ERR_INVALID, "%s: '%s' is out of range (%gs to %gs)", name, v, min, max);
  return GG_OK;
}

gg_status gg_env_count(const char *name, const char *def, long long min, long long max, long long *out,
                       gg_error *err) {
  const char *v = gg_env_or(name, def);
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (end == v || *end || errno)
    return gg_error_set(err, GG_ERR_INVALID, "%s: '%s' is not a whole number", name, v);
  if (n < min || n > max)
    return gg_error_set(err, GG_ERR_INVALID, "%s: '%s' is out of range (%lld to %lld)", name, v, min, max);
  *out = n;
  return GG_OK;
}

gg_status gg_env_log_level(const char *name, const char *def, gg_log_level *out, gg_error *err) {
  gg_status st = gg_log_parse_level(gg_env_or(name, def), out, err);
  if (st != GG_OK) gg_error_prefix(err, "%s: ", name);
  return st;
}
