//===- Constants.h - Where constant tensors keep their bytes ----*- C++ -*-===//
//
// Weights are megabytes each and a model's are hundreds of them. A
// DenseElementsAttr copies its bytes into the context's uniquer and hashes
// them all; every copy of fresh memory also pays a page fault per 4 KiB
// (VGG-16's 528 MB: about 1.3 s a copy on this machine's VMs). Constants of
// kResourceConstantBytes or more are therefore resources
// (DenseResourceElementsAttr) over storage allocated here: filled once, on
// huge pages, never hashed by the uniquer, and shared with the executable
// that reads them (shareConstantStorage) instead of copied out again.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TESSEL_IR_CONSTANTS_H
#define TESSEL_DIALECTS_TESSEL_IR_CONSTANTS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstddef>
#include <memory>
#include <optional>

namespace mlir::tessel {

/// Constants of at least this many bytes are resources.
constexpr size_t kResourceConstantBytes = size_t{16} << 10;

/// `bytes` of memory aligned to `alignment` (a power of two), on transparent
/// huge pages (advised) when it is megabytes; release it with std::free.
/// Null when memory runs out.
char *allocateConstantStorage(size_t bytes, size_t alignment = 64);

/// A constant of `type` whose row-major bytes (in `type`'s element layout)
/// `fill` writes: a DenseResourceElementsAttr named after `name` (made
/// unique) over storage from allocateConstantStorage when it has
/// kResourceConstantBytes or more, else a DenseElementsAttr. Null when the
/// storage cannot be allocated. `type` has whole-byte elements.
ElementsAttr getConstantAttr(ShapedType type, StringRef name,
                             llvm::function_ref<void(MutableArrayRef<char>)> fill);
/// The same, copying `bytes`.
ElementsAttr getConstantAttr(ShapedType type, StringRef name, ArrayRef<char> bytes);

/// The row-major bytes of a constant: those of a DenseElementsAttr that is
/// not a splat and has whole-byte elements, or a DenseResourceElementsAttr's
/// blob. Nullopt for anything else (a splat, i1, a resource without data).
std::optional<ArrayRef<char>> getConstantBytes(Attribute attr);

/// Shared ownership of `data` when it is storage that getConstantAttr made
/// and a constant still holds: the JIT's executable keeps the weights this
/// way instead of copying them. Null otherwise.
std::shared_ptr<const char> shareConstantStorage(ArrayRef<char> data);

/// While alive, the constants getConstantAttr makes in `context` are
/// recorded, releaseUnusedConstants frees those that no op refers to any
/// more, and freed storage is kept for reuse instead of returned to the
/// system (until the last ConstantRecycling of the process ends). Compiling
/// a model rewrites each weight several times (batch norm folded in, the
/// layout changed, Winograd's transform, packed for the register tiles);
/// each rewrite then writes into memory the previous ones touched instead
/// of faulting in fresh pages (ResNet-50: 443 MiB of fresh storage, a fifth
/// to a third of its compile time on a VM). At most one per context, and
/// only for a context that holds the one module being compiled.
class ConstantRecycling {
public:
  explicit ConstantRecycling(MLIRContext *context);
  ~ConstantRecycling();
  ConstantRecycling(const ConstantRecycling &) = delete;
  ConstantRecycling &operator=(const ConstantRecycling &) = delete;

private:
  MLIRContext *context;
};

/// Frees the storage of the constants recorded for `root`'s context (see
/// ConstantRecycling) that no attribute of an op in `root` refers to and no
/// executable shares; their attributes then have no bytes
/// (getConstantBytes). Does nothing without a ConstantRecycling.
void releaseUnusedConstants(Operation *root);

} // namespace mlir::tessel

#endif // TESSEL_DIALECTS_TESSEL_IR_CONSTANTS_H
