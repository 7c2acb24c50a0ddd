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
/// the per-channel operands read through `channel`. With `factorFirst` the
/// factor scale / sqrt(variance + epsilon) is computed per channel first and
/// the elementwise op reads it: the square root is taken once a channel,
/// not once an element (a training step's batch norm, whose statistics are
/// not constants, spent more time in it than in reading its input).
/// Inference keeps one op: its statistics are constants, and an op with a
/// computed operand would no longer fuse into the 1x1 convolution that
/// reads it (DenseNet's pre-activation batch norms).
Value normalize(OpBuilder &b, Location loc, RankedTensorType type,
                unsigned channelDim, double epsilon, Value input, Value scale,
                Value bias, Value mean, Value variance, bool factorFirst) {
  unsigned rank = type.getRank();
  Type elementType = type.getElementType();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap channel =
      AffineMap::get(rank, 0, b.getAffineDimExpr(channelDim), b.getContext());
  auto invStdOf = [&](OpBuilder &nb, Location l, Value variance) -> Value {
    Value eps = createFloatConstant(nb, l, elementType, epsilon);
    return math::RsqrtOp::create(nb, l, arith::AddFOp::create(nb, l, variance, eps));
  };
  // (x - mean) * factor + bias, the factor built after the subtraction.
  auto normalized = [&](OpBuilder &nb, Location l, Value x, Value mean, Value bias,
                        function_ref<Value()> factor) -> Value {
    Value centered = arith::SubFOp::create(nb, l, x, mean);
    Value scaled = arith::MulFOp::create(nb, l, centered, factor());
    return arith::AddFOp::create(nb, l, scaled, bias);
  };
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), elementType);
  SmallVector<utils::IteratorType> parallel(rank, utils::IteratorType::parallel);
  if (!factorFirst)
    return buildGeneric(
        b, loc, ValueRange{input, scale, bias, mean, variance}, init,
        {identity, channel, channel, channel, channel, identity}, parallel,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value invStd = invStdOf(nb, l, args[4]);
          return normalized(nb, l, args[0], args[3], args[2], [&]() -> Value {
            return arith::MulFOp::create(nb, l, invStd, args[1]);
          });
        });
  auto statsType = RankedTensorType::get({type.getDimSize(channelDim)}, elementType);
  Value factor = buildElementwise(b, loc, statsType, ValueRange{scale, variance},
                                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                                    return arith::MulFOp::create(
                                        nb, l, invStdOf(nb, l, args[1]), args[0]);
                                  });
  return buildGeneric(b, loc, ValueRange{input, factor, bias, mean}, init,
                      {identity, channel, channel, channel, identity}, parallel,
                      [&](OpBuilder &nb, Location l, ValueRange args) {
                        return normalized(nb, l, args[0], args[3], args[2],
                                          [&] { return args[1]; });
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
                      adaptor.getMean(), adaptor.getVariance(), /*factorFirst=*/false));
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
                             adaptor.getBias(), mean, variance, /*factorFirst=*/true);
    rewriter.replaceOp(op, ValueRange{result, mean, variance});
    return success();
  }
};

} // namespace

void mlir::tessel::populateNormToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, BatchNormTrainLowering>(patterns.getContext());
}
