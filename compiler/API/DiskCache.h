//===- DiskCache.h - Compiled code kept on disk between processes -*- C++ -*-===//
//
// Private to the API library. An entry is one file, <dir>/<key>.tessel: the
// objects the JIT links and the constants they read, with a BLAKE3 digest of
// the whole. It is written to a unique temporary file and renamed into
// place, so a reader sees a complete entry or none; an entry that does not
// check out (truncated, corrupt, another version's) is ignored and rebuilt.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_API_DISKCACHE_H
#define TESSEL_COMPILER_API_DISKCACHE_H

#include "tessel/Compiler.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessel::detail {

/// Memory aligned for the vector loads of the kernels.
struct AlignedFree {
  void operator()(void *p) const;
};
using AlignedBuffer = std::unique_ptr<char, AlignedFree>;
/// `size` bytes aligned to `alignment` (a power of two); null when memory
/// runs out.
AlignedBuffer allocateAligned(size_t size, size_t alignment);

/// A constant the compiled code reads by symbol (a weight tensor).
struct CodeConstant {
  std::string symbol;
  /// Read-only for the code; shared with the constant that held it when it
  /// was a resource (mlir::tessel::shareConstantStorage).
  std::shared_ptr<const char> data;
  size_t size = 0, alignment = 64;
};

/// What a compilation leaves for the JIT to link.
struct CompiledCode {
  std::vector<llvm::SmallString<0>> objects;
  std::vector<CodeConstant> constants;
};

/// The directory compilations with `options` cache in: options.cacheDir,
/// else the TESSEL_CACHE_DIR environment variable; empty: no caching.
std::string getCacheDirectory(const CompileOptions &options);

/// This build of Tessel beyond its version: the file that holds this code
/// (the executable, or the shared library), its size and modification
/// time. Part of every cache key, so that a rebuilt compiler never loads
/// what an older build of the same version cached.
const std::string &getBuildIdentity();

/// The entry `key` of `dir`, or nothing when there is none or it does not
/// check out.
std::optional<CompiledCode> loadCachedCode(const std::string &dir, const std::string &key);

/// Writes `code` as entry `key` of `dir` (created if need be).
Status storeCachedCode(const std::string &dir, const std::string &key,
                       const CompiledCode &code);

} // namespace tessel::detail

#endif // TESSEL_COMPILER_API_DISKCACHE_H
