/*
 * override.c: an operator's override covers the items it names, nothing else (#19): one given
 * for a missing exporter must not also carry a failing "NATS nodes healthy" or a void approval.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"
#include "gate/internal.h"

char *gate_item_slug(const char *name, char *out, size_t n) {
  size_t o = 0;
  bool dash = false;
  if (n == 0) return out;
  for (const char *p = name ? name : ""; *p && o + 1 < n; p++) {
    unsigned char c = (unsigned char)*p;
    if (isalnum(c)) {
      if (dash && o > 0 && o + 2 < n) out[o++] = '-';
      out[o++] = (char)tolower(c);
      dash = false;
    } else {
      dash = true;
    }
  }
  out[o] = '\0';
  return out;
}

static bool needs_override(const gate_item *it) {
  return it->result != GATE_PASS;
}

static bool matches(const gate_item *it, const char *want) {
  char slug[256], wslug[256];
  if (strcasecmp(it->name, want) == 0) return true;
  if (strcmp(gate_item_slug(it->name, slug, sizeof slug), want) == 0) return true;
  if (strcmp(gate_item_slug(want, wslug, sizeof wslug), slug) == 0 && wslug[0]) return true;
  /* approval:ROLE, attest:ITEM */
  const char *colon = strchr(want, ':');
  if (colon && it->what && strcmp(colon + 1, it->what) == 0) {
    size_t k = (size_t)(colon - want);
    if (k == 8 && strncmp(want, "approval", 8) == 0) return strcmp(it->kind, "approval") == 0;
    if (k == 6 && strncmp(want, "attest", 6) == 0) return strcmp(it->kind, "attest") == 0;
  }
  return false;
}

/* "a-b, c-d" of the items that did not pass, for the error message. */
static void candidates(const gate_report *r, char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < r->nitems && used + 1 < n; i++) {
    const gate_item *it = &r->items[i];
    if (!needs_override(it)) continue;
    char slug[256];
    if (strcmp(it->kind, "approval") == 0)
      snprintf(slug, sizeof slug, "approval:%s", it->what);
    else
      gate_item_slug(it->name, slug, sizeof slug);
    int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", slug);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (!out[0]) snprintf(out, n, "none: every item passed");
}

gg_status gate_apply_overrides(gate_report *r, const gate_override *ov, size_t n, gg_error *err) {
  size_t *hit = calloc(n ? n : 1, sizeof *hit);
  if (!hit) return gg_error_set(err, GG_ERR_NOMEM, "apply overrides");
  gg_status st = GG_OK;
  char list[2048];
  for (size_t k = 0; k < n && st == GG_OK; k++) {
    size_t found = 0, at = 0;
    for (size_t i = 0; i < r->nitems; i++) {
      if (!matches(&r->items[i], ov[k].item)) continue;
      found++;
      at = i;
    }
    if (!ov[k].reason || !ov[k].reason[0]) {
      st =
          gg_error_set(err, GG_ERR_INVALID, "override of '%s' has no reason (write ITEM=REASON)", ov[k].item);
    } else if (found == 0) {
      candidates(r, list, sizeof list);
      st = gg_error_set(err, GG_ERR_NOT_FOUND,
                        "override '%s' names no item of phase %s (items that did not pass: %s)", ov[k].item,
                        r->phase, list);
    } else if (found > 1) {
      st = gg_error_set(err, GG_ERR_INVALID, "override '%s' names %zu items of phase %s: name one (its slug)",
                        ov[k].item, found, r->phase);
    } else if (!needs_override(&r->items[at])) {
      st = gg_error_set(err, GG_ERR_INVALID, "override '%s': item '%s' passed; there is nothing to override",
                        ov[k].item, r->items[at].name);
    }
    hit[k] = at;
  }
  if (st == GG_OK) {
    for (size_t k = 0; k < n; k++) {
      gate_item *it = &r->items[hit[k]];
      char *reason = strdup(ov[k].reason);
      if (!reason) {
        st = gg_error_set(err, GG_ERR_NOMEM, "apply overrides");
        break;
      }
      free(it->override_reason);
      it->override_reason = reason;
      it->overridden = true;
    }
    gate_decide(r);
  }
  free(hit);
  return st;
}
