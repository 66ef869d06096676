/*
 * secret.h: a value that must never be printed (passwords, tokens, database URLs with
 * credentials, webhook URLs).
 *
 * The plan loader keeps every secret field in a gg_secret. Code that needs the value to
 * connect calls gg_secret_reveal(); everything that prints, journals, hashes or reports
 * calls gg_secret_label(), which says where the value came from ("${PG_URL}") but never
 * what it is. The value is wiped before it is freed.
 */
#ifndef GG_SECRET_H
#define GG_SECRET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char *value; /* the secret itself; NULL when unset */
  char *label; /* how output refers to it: the variable reference it came from, or "<redacted>" */
} gg_secret;

/* Take copies of value and label (either may be NULL; label NULL means "<redacted>").
 * Returns false on ENOMEM (s is left empty then). Release with gg_secret_release. */
bool gg_secret_set(gg_secret *s, const char *value, const char *label);

/* The value for use by a connection; NULL when unset. Borrowed from s. */
const char *gg_secret_reveal(const gg_secret *s);

/* True when a non-empty value is held. */
bool gg_secret_present(const gg_secret *s);

/* The printable stand-in: "<secret ${PG_URL}>", "<secret>" or "" when unset.
 * Borrowed from s (a static string for the last two). */
const char *gg_secret_label(const gg_secret *s);

/* Wipe and free what s owns; s is empty afterwards. NULL-safe. */
void gg_secret_release(gg_secret *s);

/* Copy a comma-separated list of URLs (NATS_URL, e.g. "nats://user:pass@h1:4222,nats://tok@h2")
 * into out with each entry redacted by gg_http_redact_url: the "user:pass@" and "tok@" become
 * "***@"; separators and spaces are kept. For logging server lists. Truncated to n bytes
 * including the NUL (after redaction, so a cut never shows a credential); returns out. */
char *gg_secret_redact_urls(const char *list, char *out, size_t n);

/* A copy of free text (a shell command, a log line) with the credentials of every URL in it
 * masked: in "psql postgres: //u:pw@h/db" (without the space) the userinfo "u:pw" becomes
 * three asterisks. A URL is a scheme (a letter, then letters, digits or "+-.", then a colon and
 * two slashes) and an authority up to the next space, quote, slash, '?' or '#'; its part up to
 * the last '@' is the userinfo. Values of parameters named password, passwd, token, secret or
 * sslpassword ("password=VALUE" anywhere in the text) are masked too. You own the copy; NULL on
 * ENOMEM (NULL text gives ""). */
char *gg_secret_mask_text(const char *text);

#endif
