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

/// Splits `copy` (a statically shaped linalg.copy) into `threads` slices
/// along its outermost dim that `threads` divides, other than the
/// innermost, copied by an scf.parallel loop; leaves it whole where no dim
/// does or the copy is small.
void splitAcrossThreads(RewriterBase &rewriter, linalg::CopyOp copy, unsigned threads) {
  auto type = dyn_cast<MemRefType>(copy.getInputs()[0].getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 2 ||
      type.getNumElements() * (type.getElementTypeBitWidth() / 8) < kMinParallelCopyBytes)
    return;
  for (int64_t d = 0; d + 1 < type.getRank(); ++d) {
    int64_t size = type.getDimSize(d);
    if (size < threads || size % threads != 0)
      continue;
    SmallVector<int64_t> tile(type.getRank(), 0);
    tile[d] = size / threads;
    linalg::LinalgTilingOptions options;
    options.setTileSizes(tile).setLoopType(linalg::LinalgTilingLoopType::ParallelLoops);
    if (succeeded(linalg::tileLinalgOp(rewriter, copy, options)))
      rewriter.eraseOp(copy);
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
    for (linalg::CopyOp copy : copies)
      if (copy->getParentOp() == getOperation().getOperation())
        splitAcrossThreads(rewriter, copy, threads);
  }
};

} // namespace
