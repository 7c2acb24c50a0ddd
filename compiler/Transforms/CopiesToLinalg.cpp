//===- CopiesToLinalg.cpp - Strided memref copies as linalg.copy ----------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELCOPIESTOLINALG
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Copies at least this large are split across the threads.
constexpr int64_t kMinParallelCopyBytes = 256 * 1024;

/// Fills touching at least this many cache lines are split across the
/// threads: a padded buffer's border strip of one float a row (a batch-1
/// filter gradient's `[C, H, W, 1]` input: 7,168 rows at 128 channels and
/// 56x56) writes a line per element, each a miss.
constexpr int64_t kMinParallelFillLines = 2048;

/// The cache lines `type` touches, about: its elements over the run of
/// them contiguous in its innermost non-unit dim (at most a line).
int64_t getLinesTouched(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return 0;
  int64_t run = 1;
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    if (type.getDimSize(d) == 1)
      continue;
    if (strides[d] == 1)
      run = type.getDimSize(d);
    break;
  }
  int64_t lineElements = tessel::kLineBytes / (type.getElementTypeBitWidth() / 8);
  return type.getNumElements() / std::min(run, lineElements);
}

/// Splits `op` (a linalg.copy or linalg.fill of a statically shaped
/// buffer) into `threads` slices along its outermost dim that `threads`
/// divides (a copy's other than the innermost), written by an scf.parallel
/// loop; leaves it whole where no dim does or the op is small.
void splitAcrossThreads(RewriterBase &rewriter, linalg::LinalgOp op, unsigned threads) {
  auto type = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  bool fill = isa<linalg::FillOp>(op.getOperation());
  // A copy keeps its innermost dim whole; a fill of a flat buffer (a padded
  // buffer filled whole) is cut into halves of it.
  if (!type || !type.hasStaticShape() || type.getRank() < (fill ? 1 : 2))
    return;
  int64_t bytes = type.getNumElements() * (type.getElementTypeBitWidth() / 8);
  if (bytes < kMinParallelCopyBytes &&
      !(fill && getLinesTouched(type) >= kMinParallelFillLines))
    return;
  int64_t splittable = fill ? type.getRank() : type.getRank() - 1;
  for (int64_t d = 0; d < splittable; ++d) {
    int64_t size = type.getDimSize(d);
    if (size < threads || size % threads != 0)
      continue;
    SmallVector<int64_t> tile(type.getRank(), 0);
    tile[d] = size / threads;
    linalg::LinalgTilingOptions options;
    options.setTileSizes(tile).setLoopType(linalg::LinalgTilingLoopType::ParallelLoops);
    if (succeeded(linalg::tileLinalgOp(rewriter, op, options)))
      rewriter.eraseOp(op);
    return;
  }
}

struct CopiesToLinalgPass
    : tessel::impl::TesselCopiesToLinalgBase<CopiesToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
        return; // a memcpy
      rewriter.setInsertionPoint(copy);
      copies.push_back(rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                                   copy.getTarget()));
    });
    // Only where the layers run on several threads (the function has
    // parallel loops), and only the copies between them (at the function's
    // top level, not inside a layer's loops).
    bool parallel = threads > 1 && getOperation()
                                       .walk([](scf::ParallelOp) { return WalkResult::interrupt(); })
                                       .wasInterrupted();
    if (!parallel)
      return;
    // The fills between them too: the border strips of padded buffers.
    SmallVector<linalg::LinalgOp> glue(copies.begin(), copies.end());
    for (linalg::FillOp fill : getOperation().getFunctionBody().getOps<linalg::FillOp>())
      if (fill.hasPureBufferSemantics())
        glue.push_back(fill);
    for (linalg::LinalgOp op : glue)
      if (op->getParentOp() == getOperation().getOperation())
        splitAcrossThreads(rewriter, op, threads);
  }
};

} // namespace
