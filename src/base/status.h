/*
 * status.h: the project's one status enum.
 *
 * Every fallible function returns a gg_status; GG_OK is zero. Names and messages are
 * generated from one X-macro so they cannot drift apart. Adapters around libraries
 * (libnats, libpq, libcurl, SQLite, libyaml, libmicrohttpd) translate their codes into
 * one of these at the boundary and record a message in a gg_error (error.h).
 */
#ifndef GG_STATUS_H
#define GG_STATUS_H

#define GG_STATUS_MAP(X)                            \
  X(OK, "ok")                                       \
  X(ERR_NOMEM, "out of memory")                     \
  X(ERR_INVALID, "invalid input")                   \
  X(ERR_RANGE, "value out of range")                \
  X(ERR_OVERFLOW, "value too large")                \
  X(ERR_TOO_BIG, "input exceeds its size limit")    \
  X(ERR_NOT_FOUND, "not found")                     \
  X(ERR_EXISTS, "already exists")                   \
  X(ERR_IO, "input/output error")                   \
  X(ERR_SYSTEM, "system call failed")               \
  X(ERR_TIMEOUT, "timed out")                       \
  X(ERR_CONNECT, "connection failed")               \
  X(ERR_PROTOCOL, "unexpected response")            \
  X(ERR_HTTP, "http error")                         \
  X(ERR_NATS, "nats error")                         \
  X(ERR_PG, "postgresql error")                     \
  X(ERR_SQLITE, "sqlite error")                     \
  X(ERR_YAML, "yaml error")                         \
  X(ERR_JSON, "json error")                         \
  X(ERR_PARSE, "parse error")                       \
  X(ERR_PLAN, "plan error")                         \
  X(ERR_EXPR, "expression error")                   \
  X(ERR_NO_DATA, "no data")                         \
  X(ERR_STATE, "invalid state")                     \
  X(ERR_LOCKED, "locked by another actor")          \
  X(ERR_TAMPERED, "journal integrity check failed") \
  X(ERR_UNSUPPORTED, "not supported")               \
  X(ERR_CHILD, "child process failed")              \
  X(ERR_USAGE, "usage error")

typedef enum {
#define GG_STATUS_ENUM(name, msg) GG_##name,
  GG_STATUS_MAP(GG_STATUS_ENUM)
#undef GG_STATUS_ENUM
      GG_STATUS_COUNT
} gg_status;

/* "GG_ERR_TIMEOUT" for GG_ERR_TIMEOUT; a static string, never NULL. */
const char *gg_status_name(gg_status s);

/* "timed out" for GG_ERR_TIMEOUT; a static string, never NULL. */
const char *gg_status_message(gg_status s);

#endif
