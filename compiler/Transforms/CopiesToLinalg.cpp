//===- CopiesToLinalg.cpp - Strided memref copies as linalg.copy ----------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

/// `copy` (a statically shaped linalg.copy) as an scf.parallel loop of
/// `threads` iterations, each copying a slice along the outermost dim that
/// `threads` divides, other than the innermost; the copy as it was where
/// none does or the copy is small.
void splitAcrossThreads(RewriterBase &rewriter, linalg::CopyOp copy, unsigned threads) {
  auto source = dyn_cast<MemRefType>(copy.getInputs()[0].getType());
  auto target = dyn_cast<MemRefType>(copy.getOutputs()[0].getType());
  if (!source || !target || !source.hasStaticShape() || source.getRank() < 2 ||
      source.getNumElements() * (source.getElementTypeBitWidth() / 8) < kMinParallelCopyBytes)
    return;
  std::optional<int64_t> dim;
  for (int64_t d = 0; d + 1 < source.getRank() && !dim; ++d)
    if (source.getDimSize(d) >= threads && source.getDimSize(d) % threads == 0)
      dim = d;
  if (!dim)
    return;
  Location loc = copy.getLoc();
  rewriter.setInsertionPoint(copy);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value count = arith::ConstantIndexOp::create(rewriter, loc, threads);
  int64_t chunk = source.getDimSize(*dim) / threads;
  auto loop = scf::ParallelOp::create(rewriter, loc, ValueRange{zero}, ValueRange{count},
                                      ValueRange{one});
  rewriter.setInsertionPointToStart(loop.getBody());
  Value offset = arith::MulIOp::create(rewriter, loc, loop.getInductionVars()[0],
                                       arith::ConstantIndexOp::create(rewriter, loc, chunk));
  auto slice = [&](Value buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(type.getRank(), rewriter.getIndexAttr(1));
    for (int64_t size : type.getShape())
      sizes.push_back(rewriter.getIndexAttr(size));
    offsets[*dim] = offset;
    sizes[*dim] = rewriter.getIndexAttr(chunk);
    return memref::SubViewOp::create(rewriter, loc, buffer, offsets, sizes, strides);
  };
  linalg::CopyOp::create(rewriter, loc, slice(copy.getInputs()[0]).getResult(),
                         slice(copy.getOutputs()[0]).getResult());
  rewriter.eraseOp(copy);
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
    // parallel loops), and only the copies between them (not those inside
    // a parallel loop already).
    bool parallel = threads > 1 && getOperation()
                                       .walk([](scf::ParallelOp) { return WalkResult::interrupt(); })
                                       .wasInterrupted();
    if (!parallel)
      return;
    for (linalg::CopyOp copy : copies)
      if (!copy->getParentOfType<scf::ParallelOp>() &&
          copy->getParentOp() == getOperation().getOperation())
        splitAcrossThreads(rewriter, copy, threads);
  }
};

} // namespace
