//===- Constants.cpp - Where constant tensors keep their bytes ------------===//

#include "dialects/tessel/IR/Constants.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

using namespace mlir;
using namespace mlir::tessel;

char *mlir::tessel::allocateConstantStorage(size_t bytes, size_t alignment) {
  // Megabytes go on 2 MiB pages where the kernel offers them on request:
  // one fault per 2 MiB instead of 512, and the kernels stream the weights
  // through fewer TLB entries.
  constexpr size_t kHugePage = size_t{2} << 20;
  bool huge = bytes >= kHugePage;
  if (huge)
    alignment = std::max(alignment, kHugePage);
  // aligned_alloc wants a multiple of the alignment.
  size_t rounded = (std::max<size_t>(bytes, 1) + alignment - 1) / alignment * alignment;
  if (rounded < bytes)
    return nullptr;
  auto *data = static_cast<char *>(std::aligned_alloc(alignment, rounded));
#ifdef MADV_HUGEPAGE
  if (data && huge)
    ::madvise(data, rounded, MADV_HUGEPAGE); // advice: failing changes nothing
#endif
  return data;
}

namespace {

/// The storage getConstantAttr made and something still holds, by address.
struct StorageRegistry {
  std::mutex mutex;
  llvm::DenseMap<const char *, std::weak_ptr<const char>> live;
};

StorageRegistry &getRegistry() {
  // Never destroyed: storage may outlive static destructors (an executable
  // held by a static).
  static auto *registry = new StorageRegistry;
  return *registry;
}

/// Storage of `bytes` that frees itself (and leaves the registry) when its
/// last holder lets go.
std::shared_ptr<const char> makeStorage(size_t bytes, size_t alignment) {
  char *data = allocateConstantStorage(bytes, alignment);
  if (!data)
    return nullptr;
  std::shared_ptr<const char> storage(data, [](const char *p) {
    StorageRegistry &registry = getRegistry();
    {
      std::lock_guard<std::mutex> lock(registry.mutex);
      registry.live.erase(p);
    }
    std::free(const_cast<char *>(p));
  });
  StorageRegistry &registry = getRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.live[data] = storage;
  return storage;
}

} // namespace

ElementsAttr
mlir::tessel::getConstantAttr(ShapedType type, StringRef name,
                              llvm::function_ref<void(MutableArrayRef<char>)> fill) {
  size_t bytes = static_cast<size_t>(type.getNumElements()) *
                 (type.getElementTypeBitWidth() / 8);
  if (bytes < kResourceConstantBytes) {
    std::vector<char> data(bytes);
    fill(data);
    return DenseElementsAttr::getFromRawBuffer(type, data);
  }
  constexpr size_t kAlignment = 64;
  std::shared_ptr<const char> storage = makeStorage(bytes, kAlignment);
  if (!storage)
    return {};
  char *data = const_cast<char *>(storage.get());
  fill(MutableArrayRef<char>(data, bytes));
  // The blob holds one reference; the executable may take another.
  AsmResourceBlob blob(ArrayRef<char>(data, bytes), kAlignment,
                       [storage](void *, size_t, size_t) mutable { storage.reset(); },
                       /*dataIsMutable=*/false);
  return DenseResourceElementsAttr::get(type, name, std::move(blob));
}

ElementsAttr mlir::tessel::getConstantAttr(ShapedType type, StringRef name,
                                           ArrayRef<char> bytes) {
  return getConstantAttr(type, name, [&](MutableArrayRef<char> out) {
    std::copy(bytes.begin(), bytes.end(), out.begin());
  });
}

std::optional<ArrayRef<char>> mlir::tessel::getConstantBytes(Attribute attr) {
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(attr)) {
    if (dense.isSplat() || dense.getElementType().getIntOrFloatBitWidth() % 8 != 0)
      return std::nullopt;
    return dense.getRawData();
  }
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
  return std::nullopt;
}

std::shared_ptr<const char> mlir::tessel::shareConstantStorage(ArrayRef<char> data) {
  StorageRegistry &registry = getRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.live.find(data.data());
  return it == registry.live.end() ? nullptr : it->second.lock();
}
