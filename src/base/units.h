/*
 * units.h: durations, sizes and percentages as operators write them.
 *
 * Durations: a number (decimal fraction and exponent allowed: `1.5h`, `1e3ms`) followed
 * by one unit, or several such terms back to back, largest unit first and each once:
 * `250ms`, `90s`, `1.5h`, `14d`, `2w`, `1h30m`. Units: ms s m h d w (case-sensitive).
 * A bare number is rejected (say which unit you mean) unless GG_UNITS_BARE_SECONDS.
 * Sizes: `512B`, `20KB`, `20GB` (decimal: 1 KB = 1000 B) and `20KiB`, `20GiB` (binary),
 * also TB/TiB and MB/MiB; a bare number is bytes; one space may separate number and unit
 * (`12.1 GB`, as gg_format_size writes it). Percentages: `80%` = 0.8.
 * No whitespace around the text, no sign but a '-' where allowed, no hex, inf or nan.
 *
 * Parsing is strict: garbage, trailing text, an unknown unit, a negative value, NaN/inf
 * or a value that overflows are errors whose message quotes the text and says what was
 * wrong. Values are doubles (seconds, bytes, fraction) since the expression language
 * computes in doubles; sizes are exact up to 2^53 bytes.
 */
#ifndef GG_UNITS_H
#define GG_UNITS_H

#include <stddef.h>

#include "base/error.h"

enum { GG_UNITS_BARE_SECONDS = 1 };

/* Parse a duration into seconds (>= 0). flags: GG_UNITS_BARE_SECONDS accepts "30". */
gg_status gg_parse_duration(const char *text, int flags, double *seconds, gg_error *err) GG_WUR;

/* Parse a size into bytes (>= 0). */
gg_status gg_parse_size(const char *text, double *bytes, gg_error *err) GG_WUR;

/* Parse "80%" into 0.8 (a trailing % is required; negative allowed: "-5%"). */
gg_status gg_parse_percent(const char *text, double *fraction, gg_error *err) GG_WUR;

/* Format seconds compactly: 0.25 → "250ms", 90 → "1m30s", 5400 → "1h30m", 1209600 → "14d".
 * Writes at most n bytes including the NUL; returns out. Negative values get a '-'. */
char *gg_format_duration(double seconds, char *out, size_t n);

/* Format bytes with a decimal unit and up to one decimal: 12100000000 → "12.1 GB". */
char *gg_format_size(double bytes, char *out, size_t n);

/* The multiplier for a unit suffix as written after a number in an expression
 * ("ms" → 0.001, "GiB" → 1073741824, "%" → 0.01). Returns 0 when unknown. The kind is
 * set to 'd' (duration), 's' (size) or '%'. */
double gg_unit_factor(const char *unit, size_t len, char *kind);

#endif
