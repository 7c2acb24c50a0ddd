//===- LowerVectors.cpp - n-D vector ops to LLVM-ready forms --------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELLOWERVECTORS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

struct LowerVectorsPass : tessel::impl::TesselLowerVectorsBase<LowerVectorsPass> {
  using Base::Base;

  /// math.erf has no LLVM intrinsic, and MathToLibm cannot unroll a vector
  /// one once vectors are LLVM's: MLIR's float32 polynomial approximation
  /// instead, where there is one.
  template <typename Apply>
  LogicalResult lowerErf(Apply &apply) {
    WalkResult found =
        getOperation()->walk([](math::ErfOp) { return WalkResult::interrupt(); });
    if (!found.wasInterrupted())
      return success();
    return apply([](RewritePatternSet &p) { populatePolynomialApproximateErfPattern(p); });
  }

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    auto apply = [&](function_ref<void(RewritePatternSet &)> populate) {
      RewritePatternSet patterns(context);
      populate(patterns);
      return applyPatternsGreedily(getOperation(), std::move(patterns));
    };
    // Reductions over leading dims only (a channels-last sum over batch and
    // space, keeping the channels) become elementwise adds of whole rows;
    // the inner-reduction lowering below would first transpose them.
    SmallVector<Operation *> outerReductions;
    getOperation()->walk([&](vector::MultiDimReductionOp op) {
      SmallVector<bool> mask = op.getReductionMask();
      if (llvm::is_sorted(mask, std::greater<bool>()) && !mask.back())
        outerReductions.push_back(op);
    });
    if (!outerReductions.empty()) {
      RewritePatternSet patterns(context);
      vector::populateVectorMultiReductionLoweringPatterns(
          patterns, vector::VectorMultiReductionLowering::InnerParallel);
      GreedyRewriteConfig config;
      config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
      if (failed(applyOpPatternsGreedily(outerReductions, std::move(patterns), config)))
        return signalPassFailure();
    }
    if (failed(apply([](RewritePatternSet &p) {
          vector::populateVectorContractLoweringPatterns(
              p, vector::VectorContractLowering::OuterProduct);
          vector::populateVectorMaskOpLoweringPatterns(p);
        })) ||
        failed(apply([](RewritePatternSet &p) {
          vector::populateVectorOuterProductLoweringPatterns(p);
          vector::populateVectorMultiReductionLoweringPatterns(
              p, vector::VectorMultiReductionLowering::InnerReduction);
        })) ||
        failed(lowerErf(apply)) ||
        failed(apply([](RewritePatternSet &p) {
          vector::populateVectorTransferPermutationMapLoweringPatterns(p);
          vector::populateVectorBroadcastLoweringPatterns(p);
          vector::populateVectorTransposeLoweringPatterns(
              p, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorShapeCastLoweringPatterns(p);
        })))
      signalPassFailure();
  }
};

} // namespace
