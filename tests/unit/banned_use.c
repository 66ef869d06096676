/* Not built: test_banned compiles it on its own and wants each banned call refused. */
#include <string.h>

void banned_use(char *dst, size_t n);

void banned_use(char *dst, size_t n) {
  (void)n;
  strcpy(dst, "x");
}
