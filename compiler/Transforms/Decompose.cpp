//===- Decompose.cpp - The tessel-decompose pass --------------------------===//

#include "compiler/Passes.h"
#include "compiler/Transforms/Decompositions.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELDECOMPOSE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

struct DecomposePass : tessel::impl::TesselDecomposeBase<DecomposePass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet set(context);
    if (convTranspose)
      tessel::populateConvTransposeDecompositionPatterns(set);
    if (filterGradient)
      tessel::populateFilterGradientDecompositionPatterns(set);
    if (foldBatchNorm)
      tessel::populateBatchNormFoldingPatterns(set);
    patterns = std::move(set);
    return success();
  }

  void runOnOperation() override {
    // Each rewrite replaces an op by ops it does not match again, so the
    // driver converges; like the canonicalizer, a driver that stops at its
    // iteration limit leaves valid IR.
    (void)applyPatternsGreedily(getOperation(), patterns);
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
