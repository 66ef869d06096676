/*
 * json.h: small helpers over jansson for reading untrusted documents and writing ours.
 *
 * Readers take a dotted path ("meta_cluster.leader") and report a missing member or a
 * wrong type as an error that names the path, so a probe can say exactly what was wrong
 * with the response it got.
 */
#ifndef GG_JSON_H
#define GG_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Parse text of length n (need not be NUL-terminated). On error, err names `what`
 * (e.g. "response from http://…/jsz") with jansson's line, column and reason:
 * "parse response from http://…/jsz: line 1, column 8: string or '}' expected near '}'".
 * Duplicate object keys are an error. You own the returned reference (json_decref);
 * *out is NULL on error. */
gg_status gg_json_parse(const char *text, size_t n, const char *what, json_t **out, gg_error *err) GG_WUR;

/* The member at a dotted path, or NULL. Borrowed reference. */
json_t *gg_json_path(json_t *root, const char *path);

/* Typed lookups at a dotted path; GG_ERR_NOT_FOUND or GG_ERR_INVALID (naming the path and
 * the type found) when absent or of another type. Strings are borrowed from root. */
gg_status gg_json_get_string(json_t *root, const char *path, const char **out, gg_error *err) GG_WUR;
gg_status gg_json_get_number(json_t *root, const char *path, double *out, gg_error *err) GG_WUR;
gg_status gg_json_get_int(json_t *root, const char *path, long long *out, gg_error *err) GG_WUR;
gg_status gg_json_get_bool(json_t *root, const char *path, bool *out, gg_error *err) GG_WUR;

/* Serialise compactly with sorted keys (stable output for hashing and tests).
 * You own the returned string (free()); NULL on ENOMEM. */
char *gg_json_dump(const json_t *value);

#endif
