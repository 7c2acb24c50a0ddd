//===- TesselToLinalg.cpp - The tessel-to-linalg pass ---------------------===//

#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "compiler/Passes.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELTOLINALG
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;
using namespace mlir::tessel;

void mlir::tessel::populateTesselToLinalgPatterns(RewritePatternSet &patterns) {
  populateConvToLinalgPatterns(patterns);
  populatePoolToLinalgPatterns(patterns);
  populateNormToLinalgPatterns(patterns);
  populateElementwiseToLinalgPatterns(patterns);
  populateLinearToLinalgPatterns(patterns);
  populateTensorToLinalgPatterns(patterns);
  populateResampleToLinalgPatterns(patterns);
  populateReductionToLinalgPatterns(patterns);
  populateOptimizerToLinalgPatterns(patterns);
}

namespace {

struct TesselToLinalgPass
    : tessel::impl::TesselToLinalgBase<TesselToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target.addIllegalDialect<TesselDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(context);
    populateTesselToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
