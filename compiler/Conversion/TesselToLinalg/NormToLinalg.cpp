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

/// (x - mean) * (scale / sqrt(variance + epsilon)) + bias, elementwise, with
/// the per-channel operands read through `channel`.
Value normalize(OpBuilder &b, Location loc, RankedTensorType type,
                unsigned channelDim, double epsilon, Value input, Value scale,
                Value bias, Value mean, Value variance) {
  unsigned rank = type.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap channel =
      AffineMap::get(rank, 0, b.getAffineDimExpr(channelDim), b.getContext());
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  return buildGeneric(
      b, loc, ValueRange{input, scale, bias, mean, variance}, init,
      {identity, channel, channel, channel, channel, identity},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value eps = createFloatConstant(nb, l, args[0].getType(), epsilon);
        Value invStd =
            math::RsqrtOp::create(nb, l, arith::AddFOp::create(nb, l, args[4], eps));
        Value centered = arith::SubFOp::create(nb, l, args[0], args[3]);
        Value scaled = arith::MulFOp::create(
            nb, l, centered, arith::MulFOp::create(nb, l, invStd, args[1]));
        return arith::AddFOp::create(nb, l, scaled, args[2]).getResult();
      });
}

unsigned channelDimOf(std::optional<ActivationLayout> layout) {
  return layout ? getChannelDim(*layout) : 1;
}

struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, normalize(rewriter, op.getLoc(), cast<RankedTensorType>(op.getType()),
                      channelDimOf(op.getLayout()), op.getEpsilon().convertToDouble(),
                      adaptor.getInput(), adaptor.getScale(), adaptor.getBias(),
                      adaptor.getMean(), adaptor.getVariance()));
    return success();
  }
};

/// Batch statistics: the mean, then the biased variance around it, over
/// every dim but the channel dim; then the same normalization.
struct BatchNormTrainLowering : OpConversionPattern<BatchNormTrainOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(BatchNormTrainOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    unsigned rank = type.getRank(), channelDim = channelDimOf(op.getLayout());
    Type elementType = type.getElementType();
    int64_t channels = type.getShape()[channelDim];
    double count = static_cast<double>(type.getNumElements() / channels);
    auto statsType = RankedTensorType::get({channels}, elementType);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel = AffineMap::get(rank, 0, rewriter.getAffineDimExpr(channelDim),
                                       rewriter.getContext());
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
    iterators[channelDim] = utils::IteratorType::parallel;
    Value zeros = createFilledTensor(rewriter, loc, statsType,
                                     createFloatConstant(rewriter, loc, elementType, 0.0));
    auto perChannelMean = [&](ValueRange inputs, SmallVector<AffineMap> maps,
                              function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
      maps.push_back(channel);
      Value sum = buildGeneric(rewriter, loc, inputs, zeros, maps, iterators,
                               [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                                 return arith::AddFOp::create(
                                     b, l, args.back(), term(b, l, args.drop_back()));
                               });
      return buildElementwise(rewriter, loc, statsType, sum,
                              [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                                return arith::DivFOp::create(
                                    b, l, args[0],
                                    createFloatConstant(b, l, elementType, count));
                              });
    };
    Value input = adaptor.getInput();
    Value mean = perChannelMean(input, {identity},
                                [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    Value variance = perChannelMean(
        ValueRange{input, mean}, {identity, channel},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value d = arith::SubFOp::create(b, l, args[0], args[1]);
          return arith::MulFOp::create(b, l, d, d);
        });
    Value result = normalize(rewriter, loc, type, channelDim,
                             op.getEpsilon().convertToDouble(), input, adaptor.getScale(),
                             adaptor.getBias(), mean, variance);
    rewriter.replaceOp(op, ValueRange{result, mean, variance});
    return success();
  }
};

} // namespace

void mlir::tessel::populateNormToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, BatchNormTrainLowering>(patterns.getContext());
}
