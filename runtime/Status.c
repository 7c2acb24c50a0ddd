/*===- Status.c - Status codes and the entry points' tensor checks -------===*\
|*                                                                          *|
|* AOT entry points call tessel_runtime_check_tensors before touching any   *|
|* buffer, so that a wrong count, rank or shape is an error code instead of *|
|* an out-of-bounds read or write.                                          *|
\*===----------------------------------------------------------------------===*/

#include "tessel/Runtime.h"

int tessel_runtime_abi_version(void) { return TESSEL_RUNTIME_ABI_VERSION; }

const char *tessel_status_string(int status) {
  switch (status) {
  case TESSEL_OK:
    return "success";
  case TESSEL_ERROR_NULL_POINTER:
    return "a tensor, its data or its shape is a null pointer";
  case TESSEL_ERROR_MISALIGNED:
    return "a data pointer is not aligned to 4 bytes";
  case TESSEL_ERROR_TENSOR_COUNT:
    return "wrong number of tensors";
  case TESSEL_ERROR_RANK:
    return "a tensor has the wrong rank";
  case TESSEL_ERROR_SHAPE:
    return "a tensor has the wrong shape";
  case TESSEL_ERROR_ABI:
    return "the linked Tessel runtime implements another ABI version";
  case TESSEL_ERROR_NO_WEIGHTS:
    return "the model's weights were not loaded (call <prefix>_load_weights first)";
  case TESSEL_ERROR_WEIGHTS_UNREADABLE:
    return "the weights file cannot be read";
  case TESSEL_ERROR_WEIGHTS_MISMATCH:
    return "the weights file does not hold this model's weights";
  case TESSEL_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case TESSEL_ERROR_OVERLAP:
    return "an output buffer overlaps an input or another output";
  default:
    return "unknown status";
  }
}

int tessel_runtime_check_tensors(const tessel_tensor *tensors, int64_t count,
                                 const int64_t *expected, int64_t expected_count) {
  if (count != expected_count)
    return TESSEL_ERROR_TENSOR_COUNT;
  if (count > 0 && !tensors)
    return TESSEL_ERROR_NULL_POINTER;
  for (int64_t i = 0; i < count; ++i) {
    const tessel_tensor *t = &tensors[i];
    int64_t rank = *expected++;
    if (!t->data || (rank > 0 && !t->shape))
      return TESSEL_ERROR_NULL_POINTER;
    if (t->rank != rank)
      return TESSEL_ERROR_RANK;
    for (int64_t d = 0; d < rank; ++d)
      if (t->shape[d] != expected[d])
        return TESSEL_ERROR_SHAPE;
    expected += rank;
  }
  return TESSEL_OK;
}

int tessel_runtime_check_overlap(void *const *data, const int64_t *bytes, int64_t count,
                                 int64_t first_output) {
  for (int64_t i = first_output; i < count; ++i) {
    uintptr_t a = (uintptr_t)data[i];
    for (int64_t j = 0; j < count; ++j) {
      uintptr_t b = (uintptr_t)data[j];
      if (j != i && a < b + (uintptr_t)bytes[j] && b < a + (uintptr_t)bytes[i])
        return TESSEL_ERROR_OVERLAP;
    }
  }
  return TESSEL_OK;
}
