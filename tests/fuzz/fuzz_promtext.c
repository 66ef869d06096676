/*
 * fuzz_promtext: the Prometheus text parser on arbitrary bytes. It must never crash,
 * read out of bounds or leak, and a failure must always carry a message naming a line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly `size` bytes, so ASan sees any read past the end. */
  char *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  expr_vector v = {0};
  gg_error err;
  gg_error_clear(&err);
  gg_status st = probe_promtext_parse(copy, size, "fuzz", 1.0, &v, &err);
  if (st != GG_OK && st != GG_ERR_NOMEM && !strstr(err.msg, "line ")) abort();
  for (size_t i = 0; i < v.n; i++)
    if (!expr_labels_get(&v.v[i].labels, "__name__")) abort();
  expr_vector_release(&v);
  free(copy);
  return 0;
}
