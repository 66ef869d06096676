/*
 * log.h: one line per event, level first, then key=value pairs.
 *
 *   level=warn msg="fetch failed" stream=AA_CORE_HOT err=timeout
 *
 * GG_LOG checks the level before anything is formatted, so a debug line costs one
 * comparison when debug is off (redis serverLog, curl infof). Output goes to stderr
 * unless gg_log_set_output says otherwise. Values with spaces or quotes are quoted by
 * the caller (or passed through the msg field, which is quoted). With no pairs, pass NULL as
 * the format: gg_info("started", NULL).
 */
#ifndef GG_LOG_H
#define GG_LOG_H

#include <stdio.h>

#include "base/error.h"

/* Levels, lowest first: X(constant suffix, the name written as level= and parsed). */
#define GG_LOG_LEVEL_MAP(X) X(DEBUG, "debug") X(INFO, "info") X(WARN, "warn") X(ERROR, "error") X(OFF, "off")

typedef enum {
#define GG_LOG_LEVEL_ENUM(name, text) GG_LOG_##name,
  GG_LOG_LEVEL_MAP(GG_LOG_LEVEL_ENUM)
#undef GG_LOG_LEVEL_ENUM
} gg_log_level;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define GG_LOG_LEVEL_COUNT (0 GG_LOG_LEVEL_MAP(GG_COUNT_ONE))

extern gg_log_level gg_log_threshold;

/* Set the lowest level written (default GG_LOG_INFO). */
void gg_log_set_level(gg_log_level level);

/* Parse "debug|info|warn|error|off" (case-insensitive). */
gg_status gg_log_parse_level(const char *text, gg_log_level *out, gg_error *err) GG_WUR;

/* Write to `out` instead of stderr (NULL restores stderr). Not owned. */
void gg_log_set_output(FILE *out);

/* Write one line: `level=L msg="MSG"` then the key=value pairs formatted from `fmt`
 * (which may be NULL or empty). Thread-safe: a line is written whole. */
void gg_log_write(gg_log_level level, const char *msg, const char *fmt, ...) GG_PRINTF(3, 4);

#define GG_LOG(level, msg, ...)                                                 \
  do {                                                                          \
    if ((level) >= gg_log_threshold) gg_log_write((level), (msg), __VA_ARGS__); \
  } while (0)

#define gg_debug(msg, ...) GG_LOG(GG_LOG_DEBUG, msg, __VA_ARGS__)
#define gg_info(msg, ...) GG_LOG(GG_LOG_INFO, msg, __VA_ARGS__)
#define gg_warn(msg, ...) GG_LOG(GG_LOG_WARN, msg, __VA_ARGS__)
#define gg_log_error(msg, ...) GG_LOG(GG_LOG_ERROR, msg, __VA_ARGS__)

#endif
