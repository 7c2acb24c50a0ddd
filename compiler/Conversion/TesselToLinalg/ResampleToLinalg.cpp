//===- ResampleToLinalg.cpp - Lower padding, pixel shuffle, upsampling ----===//
//
// Constant padding is a tensor.pad. The other modes, and upsampling, are
// gathers: a linalg.generic over the result whose body computes the source
// index of each element from linalg.index and reads it with tensor.extract.
// Pixel shuffle is a reshape, a transpose and a reshape.
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

/// A linalg.generic over `type` whose element at each index is
/// `input[sourceIndex(index)]` (optionally post-processed by the callback).
Value buildGather(
    OpBuilder &b, Location loc, RankedTensorType type,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> element) {
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  return buildGeneric(
      b, loc, ValueRange{}, init, {b.getMultiDimIdentityMap(type.getRank())},
      SmallVector<utils::IteratorType>(type.getRank(), utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        SmallVector<Value> index;
        for (int64_t d = 0; d < type.getRank(); ++d)
          index.push_back(linalg::IndexOp::create(nb, nl, d));
        return element(nb, nl, index);
      });
}

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Source index of output position `o` along a dim of `size` elements padded
/// by `low` in a non-constant mode (PyTorch's reflect, replicate, circular).
Value padSource(OpBuilder &b, Location loc, PadMode mode, Value o, int64_t low,
                int64_t size) {
  Value i = arith::SubIOp::create(b, loc, o, indexConstant(b, loc, low));
  Value zero = indexConstant(b, loc, 0), last = indexConstant(b, loc, size - 1);
  switch (mode) {
  case PadMode::Reflect: {
    // |i| folds the low side; 2 * last - i folds the high side.
    Value reflectedLow = arith::MaxSIOp::create(
        b, loc, i, arith::SubIOp::create(b, loc, zero, i));
    Value twiceLast = indexConstant(b, loc, 2 * (size - 1));
    return arith::MinSIOp::create(
        b, loc, reflectedLow, arith::SubIOp::create(b, loc, twiceLast, reflectedLow));
  }
  case PadMode::Replicate:
    return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, i, zero), last);
  case PadMode::Circular: {
    Value n = indexConstant(b, loc, size);
    Value r = arith::RemSIOp::create(b, loc, i, n);
    return arith::RemSIOp::create(b, loc, arith::AddIOp::create(b, loc, r, n), n);
  }
  case PadMode::Constant:
    break;
  }
  llvm_unreachable("constant padding is a tensor.pad");
}

struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> padding = op.getPadding();
    size_t rank = padding.size() / 2;
    auto type = cast<RankedTensorType>(op.getType());
    Value input = adaptor.getInput();
    if (op.getMode() == PadMode::Constant) {
      double value = op.getValue() ? op.getValue()->convertToDouble() : 0.0;
      Value fill = createFloatConstant(rewriter, loc, type.getElementType(), value);
      rewriter.replaceOp(op, padTensor(rewriter, loc, input, padding.take_front(rank),
                                       padding.drop_front(rank), fill));
      return success();
    }
    ArrayRef<int64_t> inShape = cast<RankedTensorType>(input.getType()).getShape();
    rewriter.replaceOp(
        op, buildGather(rewriter, loc, type,
                        [&](OpBuilder &b, Location l, ArrayRef<Value> index) -> Value {
                          SmallVector<Value> source;
                          for (size_t d = 0; d < rank; ++d)
                            source.push_back(
                                padding[d] == 0 && padding[rank + d] == 0
                                    ? index[d]
                                    : padSource(b, l, op.getMode(), index[d], padding[d],
                                                inShape[d]));
                          return tensor::ExtractOp::create(b, l, input, source);
                        }));
    return success();
  }
};

/// pixel_shuffle / pixel_unshuffle: split the channel (or spatial) dims into
/// factors, move the factors, merge again. Both orders are CRD: channel
/// c * r * r + i * r + j holds output (c, h * r + i, w * r + j).
template <typename OpTy, bool inverse>
struct PixelShuffleLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool last = isChannelsLast(op.getLayout());
    int64_t r = static_cast<int64_t>(op.getFactor());
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    Type elementType = inType.getElementType();
    // Work in the six-dim form; name the dims n, c, h, w and the factors i, j.
    ArrayRef<int64_t> small = inverse ? outType.getShape() : inType.getShape();
    ArrayRef<int64_t> large = inverse ? inType.getShape() : outType.getShape();
    int64_t n = large[0];
    int64_t c = last ? large[3] : large[1];
    int64_t h = last ? small[1] : small[2], w = last ? small[2] : small[3];
    // Channel-split form: NCHW [n, c, i, j, h, w]; NHWC [n, h, w, c, i, j].
    // Space-split form:   NCHW [n, c, h, i, w, j]; NHWC [n, h, i, w, j, c].
    SmallVector<int64_t> channelSplit =
        last ? SmallVector<int64_t>{n, h, w, c, r, r}
             : SmallVector<int64_t>{n, c, r, r, h, w};
    SmallVector<int64_t> spaceSplit =
        last ? SmallVector<int64_t>{n, h, r, w, r, c}
             : SmallVector<int64_t>{n, c, h, r, w, r};
    // Transpose from channel-split to space-split (forward) and back.
    SmallVector<int64_t> toSpace = last ? SmallVector<int64_t>{0, 1, 4, 2, 5, 3}
                                        : SmallVector<int64_t>{0, 1, 4, 2, 5, 3};
    SmallVector<int64_t> toChannel(6);
    for (int64_t d = 0; d < 6; ++d)
      toChannel[toSpace[d]] = d;
    SmallVector<ReassociationIndices> channelGroups =
        last ? SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4, 5}}
             : SmallVector<ReassociationIndices>{{0}, {1, 2, 3}, {4}, {5}};
    SmallVector<ReassociationIndices> spaceGroups =
        last ? SmallVector<ReassociationIndices>{{0}, {1, 2}, {3, 4}, {5}}
             : SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}};
    auto fromType = RankedTensorType::get(inverse ? spaceSplit : channelSplit, elementType);
    auto toType = RankedTensorType::get(inverse ? channelSplit : spaceSplit, elementType);
    Value expanded = tensor::ExpandShapeOp::create(
        rewriter, loc, fromType, adaptor.getInput(), inverse ? spaceGroups : channelGroups);
    Value init = tensor::EmptyOp::create(rewriter, loc, toType.getShape(), elementType);
    Value moved = linalg::TransposeOp::create(rewriter, loc, expanded, init,
                                              inverse ? toChannel : toSpace)
                      .getResult()[0];
    rewriter.replaceOp(op, tensor::CollapseShapeOp::create(
                               rewriter, loc, outType, moved,
                               inverse ? channelGroups : spaceGroups));
    return success();
  }
};

/// PyTorch's interpolate: per spatial dim, the source coordinate of output
/// index o is o * scale (nearest: floored, clamped; align_corners: scale is
/// (in - 1) / (out - 1)) or (o + 0.5) * scale - 0.5 clamped at 0 (linear),
/// where scale is in / out, or 1 / scale_factor when scales were given.
/// Linear modes blend the 2^S neighbours.
struct UpsampleLowering : OpConversionPattern<UpsampleOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(UpsampleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> inShape = cast<RankedTensorType>(input.getType()).getShape();
    auto type = cast<RankedTensorType>(op.getType());
    Type elementType = type.getElementType();
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(op.getLayout());
    bool linear = op.getMode() == UpsampleMode::Linear;
    std::optional<ArrayRef<double>> scales = op.getScales();
    SmallVector<double> scale;
    for (auto [i, d] : llvm::enumerate(spatialDims)) {
      double in = inShape[d], out = type.getShape()[d];
      if (linear && op.getAlignCorners())
        scale.push_back(out > 1 ? (in - 1) / (out - 1) : 0.0);
      else if (scales)
        scale.push_back(1.0 / (*scales)[i]);
      else
        scale.push_back(in / out);
    }
    rewriter.replaceOp(op, buildGather(rewriter, loc, type, [&](OpBuilder &b, Location l,
                                                               ArrayRef<Value> index) {
      auto f = [&](double v) { return createFloatConstant(b, l, b.getF64Type(), v); };
      auto toF64 = [&](Value i) {
        return arith::SIToFPOp::create(
            b, l, b.getF64Type(), arith::IndexCastOp::create(b, l, b.getI64Type(), i));
      };
      auto toIndex = [&](Value x) {
        return arith::IndexCastOp::create(
            b, l, b.getIndexType(), arith::FPToSIOp::create(b, l, b.getI64Type(), x));
      };
      // Per spatial dim: the two neighbours and the second one's weight.
      SmallVector<Value> lower, upper, weight;
      for (auto [i, d] : llvm::enumerate(spatialDims)) {
        Value last = indexConstant(b, l, inShape[d] - 1);
        Value o = toF64(index[d]);
        if (!linear) {
          Value src = math::FloorOp::create(b, l, arith::MulFOp::create(b, l, o, f(scale[i])));
          lower.push_back(arith::MinSIOp::create(b, l, toIndex(src), last));
          continue;
        }
        Value src = op.getAlignCorners()
                        ? arith::MulFOp::create(b, l, o, f(scale[i])).getResult()
                        : arith::MaximumFOp::create(
                              b, l,
                              arith::SubFOp::create(
                                  b, l,
                                  arith::MulFOp::create(
                                      b, l, arith::AddFOp::create(b, l, o, f(0.5)),
                                      f(scale[i])),
                                  f(0.5)),
                              f(0.0))
                              .getResult();
        Value floor = math::FloorOp::create(b, l, src);
        Value i0 = arith::MinSIOp::create(b, l, toIndex(floor), last);
        lower.push_back(i0);
        upper.push_back(arith::MinSIOp::create(
            b, l, arith::AddIOp::create(b, l, i0, indexConstant(b, l, 1)), last));
        weight.push_back(arith::SubFOp::create(b, l, src, floor));
      }
      SmallVector<Value> source(index);
      if (!linear) {
        for (auto [i, d] : llvm::enumerate(spatialDims))
          source[d] = lower[i];
        return tensor::ExtractOp::create(b, l, input, source).getResult();
      }
      // Sum over the 2^S corners of (product of weights) * value, in f64.
      Value sum = f(0.0);
      for (unsigned corner = 0; corner < (1u << spatialDims.size()); ++corner) {
        Value w = f(1.0);
        for (auto [i, d] : llvm::enumerate(spatialDims)) {
          bool up = corner & (1u << i);
          source[d] = up ? upper[i] : lower[i];
          w = arith::MulFOp::create(
              b, l, w, up ? weight[i] : arith::SubFOp::create(b, l, f(1.0), weight[i]));
        }
        Value v = tensor::ExtractOp::create(b, l, input, source);
        if (!elementType.isF64())
          v = arith::ExtFOp::create(b, l, b.getF64Type(), v);
        sum = arith::AddFOp::create(b, l, sum, arith::MulFOp::create(b, l, w, v));
      }
      return elementType.isF64()
                 ? sum
                 : arith::TruncFOp::create(b, l, elementType, sum).getResult();
    }));
    return success();
  }
};

} // namespace

void mlir::tessel::populateResampleToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<PadLowering, UpsampleLowering,
               PixelShuffleLowering<PixelShuffleOp, false>,
               PixelShuffleLowering<PixelUnshuffleOp, true>>(patterns.getContext());
}
