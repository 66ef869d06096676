#include "base/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
