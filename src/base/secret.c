#include "base/secret.h"

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
