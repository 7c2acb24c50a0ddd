//===- PlanMemory.cpp - A function's buffers in one workspace -------------===//
//
// Statically shaped buffers allocated and freed in a function's body are
// placed, by their live ranges, at offsets of one workspace allocated once
// per call. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <algorithm>

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELPLANMEMORY
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Offsets and sizes are multiples of a cache line (the runtime's allocator
/// aligns the workspace to one).
constexpr int64_t kAlignment = tessel::kLineBytes;

/// A buffer of the function's body: its allocation and deallocation, the
/// positions in the body of the allocation and of its last use, its size
/// and its place.
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t start = 0, end = 0;
  int64_t bytes = 0;
  int64_t offset = 0;
};

/// The position in `body` of the last op that uses `alloc`'s buffer, through
/// its views (a use inside a loop is its loop's), the deallocation aside;
/// nullopt where an alias may outlive those ops (a view passed on by an op
/// that is not a view, a loop's yield).
std::optional<int64_t> getLastUse(memref::AllocOp alloc, Block &body,
                                  const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(alloc);
  SmallVector<Value> aliases{alloc.getResult()};
  while (!aliases.empty()) {
    Value alias = aliases.pop_back_val();
    for (OpOperand &use : alias.getUses()) {
      Operation *user = use.getOwner();
      // The buffer's own deallocation goes; a view's would free a pointer
      // into the workspace.
      if (isa<memref::DeallocOp>(user)) {
        if (alias != alloc.getResult())
          return std::nullopt;
        continue;
      }
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top)
        return std::nullopt;
      last = std::max(last, position.lookup(top));
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == alias) {
        llvm::append_range(aliases, user->getResults());
        continue;
      }
      if (user->hasTrait<OpTrait::IsTerminator>() ||
          llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
        return std::nullopt;
    }
  }
  return last;
}

/// The deallocation of `alloc` in its block, after it, when that is its
/// only deallocation; null otherwise.
memref::DeallocOp getDeallocation(memref::AllocOp alloc) {
  memref::DeallocOp found;
  for (Operation *user : alloc->getUsers()) {
    auto dealloc = dyn_cast<memref::DeallocOp>(user);
    if (!dealloc)
      continue;
    if (found || dealloc->getBlock() != alloc->getBlock() ||
        dealloc->isBeforeInBlock(alloc))
      return {};
    found = dealloc;
  }
  return found;
}

/// Computes in the caller's buffer each result that the function's body
/// computed in a buffer of its own and copied into an out-parameter as that
/// buffer's last use: the buffer becomes the out-parameter. (A kernel
/// outlined on tensors, Winograd's output transform, returns a strided view
/// (tessel-bufferize's kernel calling convention) where the function returns
/// an identity layout, so bufferization returns a copy; dropping the
/// kernel's result leaves a copy from its destination: a serial copy of the
/// whole output at the end of every call.)
void computeResultsInPlace(Block &body,
                           const llvm::DenseMap<Operation *, int64_t> &position) {
  for (auto copy : llvm::make_early_inc_range(body.getOps<memref::CopyOp>())) {
    auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
    auto result = dyn_cast<BlockArgument>(copy.getTarget());
    if (!alloc || alloc->getBlock() != &body || !result || result.getOwner() != &body ||
        !result.hasOneUse() || alloc.getType() != result.getType())
      continue;
    memref::DeallocOp dealloc = getDeallocation(alloc);
    std::optional<int64_t> last = getLastUse(alloc, body, position);
    if (!dealloc || !last || *last != position.lookup(copy))
      continue;
    copy.erase();
    dealloc.erase();
    alloc.replaceAllUsesWith(result);
    alloc.erase();
  }
}

struct PlanMemoryPass : tessel::impl::TesselPlanMemoryBase<PlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    Block &body = func.getBody().front();
    llvm::DenseMap<Operation *, int64_t> position;
    auto number = [&] {
      position.clear();
      for (auto [i, op] : llvm::enumerate(body))
        position[&op] = i;
    };
    number();
    computeResultsInPlace(body, position);
    number();

    SmallVector<Buffer> buffers;
    for (auto alloc : body.getOps<memref::AllocOp>()) {
      MemRefType type = alloc.getType();
      Type element = type.getElementType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
          type.getMemorySpace() || !element.isIntOrFloat() ||
          element.getIntOrFloatBitWidth() % 8 != 0 || !alloc.getDynamicSizes().empty() ||
          !alloc.getSymbolOperands().empty() ||
          alloc.getAlignment().value_or(kAlignment) > kAlignment)
        continue;
      // The deallocation (ownership-based deallocation puts them at the
      // block's end) proves the buffer does not escape; it is live until
      // its last use.
      memref::DeallocOp dealloc = getDeallocation(alloc);
      std::optional<int64_t> last = getLastUse(alloc, body, position);
      if (!dealloc || !last)
        continue;
      int64_t bytes = type.getNumElements() * (element.getIntOrFloatBitWidth() / 8);
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.dealloc = dealloc;
      buffer.start = position[alloc];
      buffer.end = *last;
      buffer.bytes = llvm::alignTo(std::max<int64_t>(bytes, 1), kAlignment);
      buffers.push_back(buffer);
    }
    if (buffers.empty())
      return;

    // First fit, largest first: each buffer at the lowest offset where it
    // overlaps none of the buffers placed so far that are live with it.
    SmallVector<Buffer *> order;
    for (Buffer &buffer : buffers)
      order.push_back(&buffer);
    // A total order: no two buffers start at one position.
    llvm::sort(order, [](const Buffer *a, const Buffer *b) {
      return a->bytes > b->bytes || (a->bytes == b->bytes && a->start < b->start);
    });
    SmallVector<Buffer *> placed;
    int64_t total = 0;
    for (Buffer *buffer : order) {
      SmallVector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *other : placed)
        if (other->start <= buffer->end && buffer->start <= other->end)
          taken.emplace_back(other->offset, other->offset + other->bytes);
      llvm::sort(taken);
      int64_t offset = 0;
      for (auto [begin, end] : taken) {
        if (offset + buffer->bytes <= begin)
          break;
        offset = std::max(offset, end);
      }
      buffer->offset = offset;
      total = std::max(total, offset + buffer->bytes);
      placed.push_back(buffer);
    }

    // The workspace, and each buffer a view of it.
    OpBuilder b(&body, body.begin());
    Location loc = func.getLoc();
    auto workspaceType = MemRefType::get({total}, b.getI8Type());
    Value workspace =
        memref::AllocOp::create(b, loc, workspaceType, b.getI64IntegerAttr(kAlignment));
    for (Buffer &buffer : buffers) {
      b.setInsertionPoint(buffer.alloc);
      Value offset = arith::ConstantIndexOp::create(b, buffer.alloc.getLoc(), buffer.offset);
      Value view = memref::ViewOp::create(b, buffer.alloc.getLoc(), buffer.alloc.getType(),
                                          workspace, offset, ValueRange{});
      buffer.dealloc.erase();
      buffer.alloc.replaceAllUsesWith(view);
      buffer.alloc.erase();
    }
    Operation *terminator = body.getTerminator();
    b.setInsertionPoint(terminator);
    memref::DeallocOp::create(b, loc, workspace);
    func->setAttr(tessel::kWorkspaceBytesAttrName, b.getI64IntegerAttr(total));
  }
};

} // namespace
