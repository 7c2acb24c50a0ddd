//===- Constants.cpp - Where constant tensors keep their bytes ------------===//

#include "dialects/tessel/IR/Constants.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

using namespace mlir;
using namespace mlir::tessel;

namespace {

using BlobEntry = DialectResourceBlobManager::BlobEntry;

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

/// What ConstantRecycling scopes share: the contexts being compiled, the
/// resources made in each since, and the freed storage waiting for reuse.
struct Recycler {
  std::mutex mutex;
  /// For each context with a ConstantRecycling (one each), the resources
  /// getConstantAttr made in it.
  llvm::DenseMap<MLIRContext *, std::vector<BlobEntry *>> made;
  /// Freed storage by capacity, while a ConstantRecycling is alive.
  std::multimap<size_t, char *> pool;
};

Recycler &getRecycler() {
  static auto *recycler = new Recycler; // never destroyed, as the registry
  return *recycler;
}

/// The bytes allocateConstantStorage reserves for `bytes` at `alignment`
/// (raised to 2 MiB for huge pages); 0 on overflow.
size_t getCapacity(size_t bytes, size_t &alignment) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes >= kHugePage)
    alignment = std::max(alignment, kHugePage);
  // aligned_alloc wants a multiple of the alignment.
  size_t rounded = (std::max<size_t>(bytes, 1) + alignment - 1) / alignment * alignment;
  return rounded < bytes ? 0 : rounded;
}

/// `capacity` bytes (getCapacity's) at `alignment`, on transparent huge
/// pages when aligned to them.
char *allocateChunk(size_t capacity, size_t alignment) {
  auto *data = static_cast<char *>(std::aligned_alloc(alignment, capacity));
#ifdef MADV_HUGEPAGE
  // Megabytes go on 2 MiB pages where the kernel offers them on request:
  // one fault per 2 MiB instead of 512, and the kernels stream the weights
  // through fewer TLB entries (advice: failing changes nothing).
  if (data && alignment >= (size_t{2} << 20))
    ::madvise(data, capacity, MADV_HUGEPAGE);
#endif
  return data;
}

/// Storage of `bytes` that frees itself (and leaves the registry) when its
/// last holder lets go; while a ConstantRecycling scope is alive it comes
/// from, and returns to, the pool of freed storage instead (memory already
/// touched: no page faults).
std::shared_ptr<const char> makeStorage(size_t bytes, size_t alignment) {
  size_t capacity = getCapacity(bytes, alignment);
  if (!capacity)
    return nullptr;
  char *data = nullptr;
  {
    Recycler &recycler = getRecycler();
    std::lock_guard<std::mutex> lock(recycler.mutex);
    // The smallest freed chunk that fits, wasting at most half of it.
    auto it = recycler.pool.lower_bound(capacity);
    if (it != recycler.pool.end() && it->first / 2 <= capacity &&
        reinterpret_cast<uintptr_t>(it->second) % alignment == 0) {
      capacity = it->first;
      data = it->second;
      recycler.pool.erase(it);
    }
  }
  if (!data)
    data = allocateChunk(capacity, alignment);
  if (!data)
    return nullptr;
  std::shared_ptr<const char> storage(data, [capacity](const char *p) {
    StorageRegistry &registry = getRegistry();
    {
      std::lock_guard<std::mutex> lock(registry.mutex);
      registry.live.erase(p);
    }
    Recycler &recycler = getRecycler();
    {
      std::lock_guard<std::mutex> lock(recycler.mutex);
      if (!recycler.made.empty()) {
        recycler.pool.emplace(capacity, const_cast<char *>(p));
        return;
      }
    }
    std::free(const_cast<char *>(p));
  });
  StorageRegistry &registry = getRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.live[data] = storage;
  return storage;
}

} // namespace

char *mlir::tessel::allocateConstantStorage(size_t bytes, size_t alignment) {
  size_t capacity = getCapacity(bytes, alignment);
  return capacity ? allocateChunk(capacity, alignment) : nullptr;
}

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
  auto attr = DenseResourceElementsAttr::get(type, name, std::move(blob));
  Recycler &recycler = getRecycler();
  std::lock_guard<std::mutex> lock(recycler.mutex);
  auto made = recycler.made.find(type.getContext());
  if (made != recycler.made.end())
    made->second.push_back(attr.getRawHandle().getResource());
  return attr;
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
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(attr)) {
    ShapedType type = resource.getType();
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    // A blob of another size (released storage is empty) is not this
    // constant's bytes.
    if (blob && type.getElementTypeBitWidth() % 8 == 0 &&
        blob->getData().size() == static_cast<size_t>(type.getNumElements()) *
                                      (type.getElementTypeBitWidth() / 8))
      return blob->getData();
  }
  return std::nullopt;
}

std::shared_ptr<const char> mlir::tessel::shareConstantStorage(ArrayRef<char> data) {
  StorageRegistry &registry = getRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.live.find(data.data());
  return it == registry.live.end() ? nullptr : it->second.lock();
}

ConstantRecycling::ConstantRecycling(MLIRContext *context) : context(context) {
  Recycler &recycler = getRecycler();
  std::lock_guard<std::mutex> lock(recycler.mutex);
  recycler.made[context];
}

ConstantRecycling::~ConstantRecycling() {
  std::multimap<size_t, char *> pool;
  {
    Recycler &recycler = getRecycler();
    std::lock_guard<std::mutex> lock(recycler.mutex);
    recycler.made.erase(context);
    if (recycler.made.empty())
      pool.swap(recycler.pool);
  }
  for (auto &chunk : pool)
    std::free(chunk.second);
}

void mlir::tessel::releaseUnusedConstants(Operation *root) {
  std::vector<BlobEntry *> made;
  Recycler &recycler = getRecycler();
  {
    std::lock_guard<std::mutex> lock(recycler.mutex);
    auto it = recycler.made.find(root->getContext());
    if (it == recycler.made.end())
      return;
    made = it->second;
  }
  llvm::DenseSet<BlobEntry *> used;
  root->walk([&](Operation *op) {
    op->getAttrDictionary().walk([&](DenseResourceElementsAttr attr) {
      used.insert(attr.getRawHandle().getResource());
    });
  });
  std::vector<BlobEntry *> kept, released;
  for (BlobEntry *entry : made) {
    AsmResourceBlob *blob = entry->getBlob();
    if (!blob || blob->getData().empty())
      continue; // released before
    if (used.contains(entry)) {
      kept.push_back(entry);
      continue;
    }
    // Only storage that no executable shares yet.
    std::shared_ptr<const char> storage = shareConstantStorage(blob->getData());
    (storage && storage.use_count() == 2 ? released : kept).push_back(entry);
  }
  {
    std::lock_guard<std::mutex> lock(recycler.mutex);
    auto it = recycler.made.find(root->getContext());
    if (it != recycler.made.end())
      it->second = std::move(kept);
  }
  // Outside the locks: dropping a blob returns its storage to the pool.
  for (BlobEntry *entry : released)
    entry->setBlob(AsmResourceBlob());
}
