/*
 * banned.h: the C library calls this code does not use, made compile errors (git's banned.h).
 *
 * CMake force-includes this header into every translation unit (-include), so it first pulls
 * in the system headers that declare these functions: their declarations are seen before the
 * macros exist, and a later #include of them is a no-op behind its include guard. A use of a
 * banned call then fails to compile with its reason in the name:
 *   strcpy, strcat, strncpy, strncat, sprintf, vsprintf: unbounded or silently truncating
 *     copies; use snprintf or gg_buf (base/buf.h).
 *   atoi, atol, atoll, atof: no error report, "12x" is 12; use strtol/strtod with an end check
 *     or the parsers in base/units.h.
 *   strtok, gmtime, localtime, ctime, asctime: hidden static state, not thread-safe; use
 *     strtok_r, gmtime_r, localtime_r, gg_time_format (base/clock.h).
 *   gets, mktemp, tmpnam: cannot be used safely at all; use fgets, mkstemp, mkdtemp.
 */
#ifndef GG_BANNED_H
#define GG_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GG_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) GG_BANNED(strcpy)
#undef strcat
#define strcat(x, y) GG_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) GG_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) GG_BANNED(strncat)
#undef sprintf
#define sprintf(...) GG_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) GG_BANNED(vsprintf)

#undef atoi
#define atoi(x) GG_BANNED(atoi)
#undef atol
#define atol(x) GG_BANNED(atol)
#undef atoll
#define atoll(x) GG_BANNED(atoll)
#undef atof
#define atof(x) GG_BANNED(atof)

#undef strtok
#define strtok(x, y) GG_BANNED(strtok)
#undef gmtime
#define gmtime(t) GG_BANNED(gmtime)
#undef localtime
#define localtime(t) GG_BANNED(localtime)
#undef ctime
#define ctime(t) GG_BANNED(ctime)
#undef asctime
#define asctime(t) GG_BANNED(asctime)

#undef gets
#define gets(x) GG_BANNED(gets)
#undef mktemp
#define mktemp(x) GG_BANNED(mktemp)
#undef tmpnam
#define tmpnam(x) GG_BANNED(tmpnam)

#endif
