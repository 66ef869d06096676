#include "base/secret.h"

#include <ctype.h>
#include <strings.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/http.h"

static void wipe(char *p) {
  if (!p) return;
  volatile char *v = p;
  while (*v) *v++ = 0;
}

bool gg_secret_set(gg_secret *s, const char *value, const char *label) {
  s->value = NULL;
  s->label = NULL;
  if (value) {
    s->value = strdup(value);
    if (!s->value) return false;
  }
  if (label) {
    size_t n = strlen(label) + sizeof "<secret >";
    s->label = malloc(n);
    if (!s->label) {
      gg_secret_release(s);
      return false;
    }
    snprintf(s->label, n, "<secret %s>", label);
  }
  return true;
}

const char *gg_secret_reveal(const gg_secret *s) {
  return s ? s->value : NULL;
}

bool gg_secret_present(const gg_secret *s) {
  return s && s->value && s->value[0];
}

const char *gg_secret_label(const gg_secret *s) {
  if (!s || !s->value) return "";
  return s->label ? s->label : "<secret>";
}

void gg_secret_release(gg_secret *s) {
  if (!s) return;
  wipe(s->value);
  free(s->value);
  free(s->label);
  s->value = NULL;
  s->label = NULL;
}

char *gg_secret_redact_urls(const char *list, char *out, size_t n) {
  if (!out || n == 0) return out;
  out[0] = '\0';
  size_t w = 0;
  for (const char *p = list ? list : ""; *p && w + 1 < n;) {
    size_t len = strcspn(p, ",");
    char entry[1024], red[1100];
    /* An entry too long for entry[] is shown as a stand-in rather than cut (a cut could
     * drop the '@' that marks its credentials). */
    if (len < sizeof entry) {
      memcpy(entry, p, len);
      entry[len] = '\0';
      gg_http_redact_url(entry, red, sizeof red);
    } else {
      snprintf(red, sizeof red, "<url>");
    }
    int k = snprintf(out + w, n - w, "%s%s", red, p[len] == ',' ? "," : "");
    if (k < 0) break;
    w += (size_t)k < n - w ? (size_t)k : n - w - 1;
    p += len + (p[len] == ',');
  }
  return out;
}

static bool scheme_char(char c, bool first) {
  if (isalpha((unsigned char)c)) return true;
  return !first && (isdigit((unsigned char)c) || c == '+' || c == '-' || c == '.');
}

/* The length of the key=value secret key at p ("password=", "token=", ...), 0 when none. */
static size_t secret_param(const char *text, const char *p) {
  static const char *const keys[] = {"password=", "passwd=", "token=", "secret=", "sslpassword="};
  if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) return 0;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    size_t n = strlen(keys[i]);
    if (strncasecmp(p, keys[i], n) == 0) return n;
  }
  return 0;
}

char *gg_secret_mask_text(const char *text) {
  if (!text) return strdup("");
  size_t len = strlen(text);
  char *out = malloc(3 * len + 1); /* "***" may replace a single byte */
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    size_t k = secret_param(text, text + i);
    if (k) {
      memcpy(out + o, text + i, k);
      o += k;
      i += k;
      size_t v = strcspn(text + i, " \t\n'\"&;");
      if (v > 0) {
        memcpy(out + o, "***", 3);
        o += 3;
      }
      i += v;
      continue;
    }
    if (scheme_char(text[i], true) && (i == 0 || !scheme_char(text[i - 1], false))) {
      size_t j = i + 1;
      while (j < len && scheme_char(text[j], false)) j++;
      if (strncmp(text + j, "://", 3) == 0) {
        size_t auth = j + 3;
        size_t end = auth + strcspn(text + auth, " \t\n'\"/?#");
        size_t at = 0;
        for (size_t q = auth; q < end; q++)
          if (text[q] == '@') at = q;
        memcpy(out + o, text + i, auth - i);
        o += auth - i;
        if (at > auth) {
          memcpy(out + o, "***", 3);
          o += 3;
          i = at;
        } else {
          i = auth;
        }
        continue;
      }
    }
    out[o++] = text[i++];
  }
  out[o] = '\0';
  return out;
}
