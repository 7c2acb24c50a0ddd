//===- NormToLinalg.cpp - Lower inference batch normalization -------------===//
//
// Inference batch norm is one elementwise linalg.generic reading the four
// per-channel operands through a map onto the channel dim, so it fuses into
// the convolution before it.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    unsigned rank = type.getRank();
    std::optional<ActivationLayout> layout = op.getLayout();
    unsigned channelDim = layout ? getChannelDim(*layout) : 1;
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel = AffineMap::get(
        rank, 0, rewriter.getAffineDimExpr(channelDim), rewriter.getContext());
    double epsilon = op.getEpsilon().convertToDouble();
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    Value result = buildGeneric(
        rewriter, loc,
        ValueRange{adaptor.getInput(), adaptor.getScale(), adaptor.getBias(),
                   adaptor.getMean(), adaptor.getVariance()},
        init, {identity, channel, channel, channel, channel, identity},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], scale = args[1], bias = args[2], mean = args[3],
                var = args[4];
          Value eps = createFloatConstant(b, l, x.getType(), epsilon);
          Value invStd = math::RsqrtOp::create(b, l, arith::AddFOp::create(b, l, var, eps));
          Value centered = arith::SubFOp::create(b, l, x, mean);
          Value normalized = arith::MulFOp::create(
              b, l, centered, arith::MulFOp::create(b, l, invStd, scale));
          return arith::AddFOp::create(b, l, normalized, bias).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tessel::populateNormToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering>(patterns.getContext());
}
