/*===- Weights.c - Loading an AOT model's weights from a file -------------===*\
|*                                                                          *|
|* tessel-compile --weights=file writes the weights next to the object; the *|
|* generated <prefix>_load_weights reads them here, checking the header     *|
|* against what the model was compiled with before trusting a byte.         *|
\*===----------------------------------------------------------------------===*/

#include "tessel/Runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tessel_runtime_load_weights(const char *path, uint64_t size, uint64_t id, void **slot) {
  if (!path || !slot)
    return TESSEL_ERROR_NULL_POINTER;
  FILE *file = fopen(path, "rb");
  if (!file)
    return TESSEL_ERROR_WEIGHTS_UNREADABLE;
  tessel_weights_header header;
  if (fread(&header, sizeof header, 1, file) != 1 ||
      memcmp(header.magic, "TESSELWT", sizeof header.magic) != 0 || header.size != size ||
      header.id != id) {
    fclose(file);
    return TESSEL_ERROR_WEIGHTS_MISMATCH;
  }
  /* aligned_alloc wants a multiple of the alignment. */
  size_t rounded = (size_t)((size + 63) / 64 * 64);
  void *data = aligned_alloc(64, rounded ? rounded : 64);
  if (!data) {
    fclose(file);
    return TESSEL_ERROR_OUT_OF_MEMORY;
  }
  int extra = 0;
  int complete = fread(data, 1, (size_t)size, file) == (size_t)size;
  if (complete)
    extra = fgetc(file) != EOF; /* a longer file is not this model's either */
  int failed = ferror(file);
  fclose(file);
  if (failed || !complete || extra) {
    free(data);
    return failed ? TESSEL_ERROR_WEIGHTS_UNREADABLE : TESSEL_ERROR_WEIGHTS_MISMATCH;
  }
  free(*slot);
  *slot = data;
  return TESSEL_OK;
}

void tessel_runtime_free_weights(void **slot) {
  if (!slot)
    return;
  free(*slot);
  *slot = NULL;
}
