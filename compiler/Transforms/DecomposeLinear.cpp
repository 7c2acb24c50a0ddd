//===- DecomposeLinear.cpp - Fully connected layers as matmuls ------------===//
//
// Run by tessel-decompose.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Decompositions.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// linear(x, W, b) -> matmul(x, transpose(W)) + b. The linear lowering reads
/// W [out, in] along `in` for each output, a reduction LLVM keeps scalar
/// (vectorizing it would reorder the sum); the matmul's innermost loop runs
/// along a row of transpose(W) and of the result instead, which vectorizes
/// and sums each output in the same order. A constant W transposes at
/// compile time (TransposeOp::fold); a run-time one (training) costs one
/// copy of it.
struct LinearAsMatmul : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value transposed = TransposeOp::create(rewriter, loc, op.getWeight(),
                                           rewriter.getDenseI64ArrayAttr({1, 0}));
    Value result = MatmulOp::create(rewriter, loc, op.getInput(), transposed);
    if (Value bias = op.getBias())
      result = AddOp::create(rewriter, loc, result, bias);
    if (result.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "matmul gives another type");
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tessel::populateLinearDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearAsMatmul>(patterns.getContext());
}
