/*===- Runtime.h - The C runtime compiled Tessel code calls ------*- C -*-===*\
|*                                                                          *|
|* Compiled graphs (JIT or AOT) call these functions; they build without    *|
|* MLIR or LLVM. The ABI is versioned by TESSEL_RUNTIME_ABI_VERSION.        *|
\*===----------------------------------------------------------------------===*/

#ifndef TESSEL_RUNTIME_H
#define TESSEL_RUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TESSEL_RUNTIME_ABI_VERSION 1

/// The ABI version this runtime implements.
int tessel_runtime_abi_version(void);

/// Allocates `size` bytes (16-byte aligned) for a compiled graph's temporary
/// buffers. Freed blocks are kept per size class and handed out again, so a
/// graph run repeatedly does not map and fault fresh pages on every call.
/// Thread-safe. Compiled code reaches it as `_mlir_memref_to_llvm_alloc`.
void *tessel_runtime_alloc(size_t size);
/// Returns a block from tessel_runtime_alloc to the cache (or to the system
/// when the cache is full). Null is ignored.
void tessel_runtime_free(void *pointer);
/// Releases every cached block to the system.
void tessel_runtime_trim(void);

#ifdef __cplusplus
}
#endif

#endif /* TESSEL_RUNTIME_H */
