/* html.c: escaping text for HTML (see html.h). */
#include "html/html.h"

gg_status html_escape(gg_buf *out, const char *text) {
  gg_status st = GG_OK;
  for (const char *p = text ? text : ""; *p && st == GG_OK; p++) {
    switch (*p) {
      case '&':
        st = gg_buf_puts(out, "&amp;");
        break;
      case '<':
        st = gg_buf_puts(out, "&lt;");
        break;
      case '>':
        st = gg_buf_puts(out, "&gt;");
        break;
      case '"':
        st = gg_buf_puts(out, "&quot;");
        break;
      case '\'':
        st = gg_buf_puts(out, "&#39;");
        break;
      default:
        st = gg_buf_append(out, p, 1);
    }
  }
  return st;
}
