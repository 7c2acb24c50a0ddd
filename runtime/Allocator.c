/*===- Allocator.c - Size-class cache for temporary buffers --------------===*\
|*                                                                          *|
|* Each block carries a 64-byte header with its size class. Freed blocks go *|
|* to a per-class list under one mutex, up to a total cached size; beyond   *|
|* it they return to the system.                                            *|
\*===----------------------------------------------------------------------===*/

#include "tessel/Runtime.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum {
  kHeader = 64,            /* keeps the payload 64-byte aligned */
  kClasses = 48,           /* powers of two up to 2^47 bytes */
};
/* Freed blocks kept for reuse, at most. A training step frees and
 * reallocates its activations and gradients every step (MobileNetV2 at
 * batch 16, 112x112: 1.3-1.9 GiB at peak); with 512 MiB the rest went back
 * to the system and was faulted in again each step, which took the step
 * from 277 to 2168 ms (docs/performance.md). tessel_runtime_trim releases
 * the cache. */
static const size_t kMaxCached = (size_t)4 << 30; /* 4 GiB */

typedef struct Block {
  struct Block *next;
  unsigned sizeClass;
} Block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Block *freeLists[kClasses];
static size_t cachedBytes;

static unsigned classOf(size_t size) {
  unsigned c = 6; /* at least 64 bytes */
  while (c < kClasses - 1 && ((size_t)1 << c) < size)
    ++c;
  return c;
}

void *tessel_runtime_try_alloc(size_t size) {
  unsigned c = classOf(size);
  if (c == kClasses - 1 && ((size_t)1 << c) < size)
    return NULL;
  Block *block = NULL;
  pthread_mutex_lock(&lock);
  if (freeLists[c]) {
    block = freeLists[c];
    freeLists[c] = block->next;
    cachedBytes -= (size_t)1 << c;
  }
  pthread_mutex_unlock(&lock);
  if (!block) {
    void *memory = NULL;
    if (posix_memalign(&memory, kHeader, kHeader + ((size_t)1 << c)) != 0)
      return NULL;
    block = (Block *)memory;
    block->sizeClass = c;
  }
  return (char *)block + kHeader;
}

void *tessel_runtime_alloc(size_t size) {
  void *memory = tessel_runtime_try_alloc(size);
  if (!memory) {
    fprintf(stderr, "tessel runtime: out of memory allocating %zu bytes\n", size);
    abort();
  }
  return memory;
}

void *tessel_runtime_aligned_alloc(size_t alignment, size_t size) {
  if (alignment > kHeader || (alignment & (alignment - 1)) != 0) {
    fprintf(stderr, "tessel runtime: cannot align a buffer to %zu bytes (at most %d)\n",
            alignment, kHeader);
    abort();
  }
  return tessel_runtime_alloc(size);
}

void tessel_runtime_free(void *pointer) {
  if (!pointer)
    return;
  Block *block = (Block *)((char *)pointer - kHeader);
  size_t bytes = (size_t)1 << block->sizeClass;
  pthread_mutex_lock(&lock);
  if (cachedBytes + bytes <= kMaxCached) {
    block->next = freeLists[block->sizeClass];
    freeLists[block->sizeClass] = block;
    cachedBytes += bytes;
    block = NULL;
  }
  pthread_mutex_unlock(&lock);
  free(block);
}

void tessel_runtime_trim(void) {
  pthread_mutex_lock(&lock);
  for (unsigned c = 0; c < kClasses; ++c) {
    while (freeLists[c]) {
      Block *next = freeLists[c]->next;
      free(freeLists[c]);
      freeLists[c] = next;
    }
  }
  cachedBytes = 0;
  pthread_mutex_unlock(&lock);
}

/* The names MLIR's memref lowering calls with use-generic-functions. */
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  return tessel_runtime_aligned_alloc(alignment, size);
}
void _mlir_memref_to_llvm_free(void *pointer) { tessel_runtime_free(pointer); }
