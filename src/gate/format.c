/*
 * format.c: names of results, decisions and sections, and values and strings formatted for
 * people ("12.1 GB", "250ms", "AA_CORE_HOT/normalize-hrv-durable").
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/units.h"
#include "gate/internal.h"

const char *gate_result_name(gate_result r) {
  static const char *const n[] = {"PASS", "FAIL", "WAIT", "ERROR"};
  return (unsigned)r < 4 ? n[r] : "?";
}

const char *gate_decision_name(gate_decision d) {
  switch (d) {
    case GATE_GO:
      return "GO";
    case GATE_DEFER:
      return "DEFER";
    case GATE_NOGO:
      return "NO-GO";
  }
  return "?";
}

const char *gate_section_name(gate_section s) {
  static const char *const n[] = {"preflight", "requires", "go", "no-go", "approval"};
  return (unsigned)s < 5 ? n[s] : "?";
}

char *gate_format_number(double v, char unit, char *out, size_t n) {
  if (isnan(v)) {
    snprintf(out, n, "NaN");
  } else if (isinf(v)) {
    snprintf(out, n, "%s", v > 0 ? (unit == 'd' ? "never" : "inf") : "-inf");
  } else if (unit == 'd') {
    gg_format_duration(v, out, n);
  } else if (unit == 's') {
    gg_format_size(v, out, n);
  } else if (unit == '%') {
    snprintf(out, n, "%.4g%%", v * 100);
  } else if (fabs(v) >= 1e15 || (v == floor(v) && fabs(v) < 1e15)) {
    snprintf(out, n, "%.15g", v);
  } else {
    snprintf(out, n, "%.4g", v);
  }
  return out;
}

char *gate_strdup(const char *s) {
  return strdup(s ? s : "");
}

char *gate_printf(const char *fmt, ...) {
  gg_buf b;
  gg_buf_init(&b, 1 << 20);
  va_list ap;
  va_start(ap, fmt);
  gg_status st = gg_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (st != GG_OK) {
    gg_buf_release(&b);
    return strdup("");
  }
  return gg_buf_detach(&b);
}

void gate_format_labels(const expr_labels *l, char *out, size_t n) {
  out[0] = '\0';
  if (l->n == 0) return;
  if (l->n > 2) {
    expr_labels_format(l, out, n);
    return;
  }
  /* stream before consumer and server before peer read naturally: put them first */
  const expr_label *a = &l->v[0], *b = l->n == 2 ? &l->v[1] : NULL;
  if (b && (strcmp(b->name, "stream") == 0 || strcmp(b->name, "server") == 0)) {
    const expr_label *t = a;
    a = b;
    b = t;
  }
  if (b)
    snprintf(out, n, "%s/%s", a->value, b->value);
  else
    snprintf(out, n, "%s", a->value);
}
