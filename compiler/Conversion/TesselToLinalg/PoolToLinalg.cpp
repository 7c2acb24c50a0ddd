//===- PoolToLinalg.cpp - Lower tessel pooling ops ------------------------===//
//
// Window pooling becomes a linalg.generic whose window loops are bound by an
// empty kernel-shaped operand (as linalg's named pooling ops do), over the
// input padded with the reduction's identity. Average pooling then divides by
// the number of counted positions, computed per output position from its
// window's bounds; Lp pooling takes the p-th root.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Accumulates `x` into `acc` for a pooling kind (Lp: |x|^p).
Value accumulate(OpBuilder &b, Location loc, PoolKind kind, double p, Value x,
                 Value acc) {
  switch (kind) {
  case PoolKind::Max:
    return arith::MaximumFOp::create(b, loc, acc, x);
  case PoolKind::Avg:
    return arith::AddFOp::create(b, loc, acc, x);
  case PoolKind::Lp: {
    Value term;
    if (p == 2.0)
      term = arith::MulFOp::create(b, loc, x, x);
    else if (p == 1.0)
      term = math::AbsFOp::create(b, loc, x);
    else
      term = math::PowFOp::create(b, loc, math::AbsFOp::create(b, loc, x),
                                  createFloatConstant(b, loc, x.getType(), p));
    return arith::AddFOp::create(b, loc, acc, term);
  }
  }
  llvm_unreachable("unknown pool kind");
}

/// The p-th root that finishes Lp pooling.
Value lpRoot(OpBuilder &b, Location loc, Value sum, double p) {
  if (p == 1.0)
    return sum;
  if (p == 2.0)
    return math::SqrtOp::create(b, loc, sum);
  return math::PowFOp::create(b, loc, sum,
                              createFloatConstant(b, loc, sum.getType(), 1.0 / p));
}

/// Applies `finish` to every element of `value`.
Value mapElements(OpBuilder &b, Location loc, Value value,
                  function_ref<Value(OpBuilder &, Location, Value)> finish) {
  auto type = cast<RankedTensorType>(value.getType());
  return buildElementwise(b, loc, type, value,
                          [&](OpBuilder &nb, Location nl, ValueRange args) {
                            return finish(nb, nl, args[0]);
                          });
}

/// Number of k in [0, kernel) with lo <= start + k * dilation < hi, as index
/// arithmetic on `start`.
Value countInRange(OpBuilder &b, Location loc, Value start, int64_t kernel,
                   int64_t dilation, int64_t lo, int64_t hi) {
  auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value d = cst(dilation);
  Value first = arith::MaxSIOp::create(
      b, loc, cst(0),
      arith::CeilDivSIOp::create(b, loc,
                                 arith::SubIOp::create(b, loc, cst(lo), start), d));
  Value last = arith::MinSIOp::create(
      b, loc, cst(kernel - 1),
      arith::FloorDivSIOp::create(
          b, loc, arith::SubIOp::create(b, loc, cst(hi - 1), start), d));
  Value count = arith::AddIOp::create(
      b, loc, arith::SubIOp::create(b, loc, last, first), cst(1));
  return arith::MaxSIOp::create(b, loc, count, cst(0));
}

struct PoolOpLowering : OpConversionPattern<PoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ActivationLayout layout = op.getLayout();
    unsigned s = getSpatialRank(layout), rank = getRank(layout);
    PoolKind kind = op.getKind();
    double p = op.getP() ? op.getP()->convertToDouble() : 2.0;
    ArrayRef<int64_t> kernel = op.getKernel();
    WindowAttrs attrs = getWindowAttrs(op, kernel);
    ArrayRef<int64_t> strides = attrs.strides, dilations = attrs.dilations,
                      padding = attrs.padding;

    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elementType = resultType.getElementType();
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);

    // Pad with the identity; in ceil mode the last window may also run past
    // the high padding, so pad until every window fits.
    SmallVector<int64_t> low(rank, 0), high(rank, 0);
    for (unsigned i = 0; i < s; ++i) {
      int64_t in = inputType.getShape()[spatialDims[i]];
      int64_t out = resultType.getShape()[spatialDims[i]];
      int64_t extent = dilations[i] * (kernel[i] - 1) + 1;
      low[spatialDims[i]] = padding[i];
      high[spatialDims[i]] = std::max(padding[s + i], (out - 1) * strides[i] +
                                                           extent - in - padding[i]);
    }
    Value identity = kind == PoolKind::Max
                         ? createNegativeInfinity(rewriter, loc, elementType)
                         : createFloatConstant(rewriter, loc, elementType, 0.0);
    Value input = padTensor(rewriter, loc, adaptor.getInput(), low, high, identity);
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, elementType);
    Value init = createFilledTensor(rewriter, loc, resultType, identity);

    // Channels-last max and average pooling use linalg's named pooling ops,
    // which the convolution decomposition and vectorization handle.
    Value pooled = createNamedPool(rewriter, loc, layout, kind, input, window,
                                   init, strides, dilations);
    if (!pooled)
      pooled = createGenericPool(rewriter, loc, rank, s, spatialDims, kind, p,
                                 input, window, init, strides, dilations);
    if (kind == PoolKind::Lp)
      pooled = mapElements(rewriter, loc, pooled,
                           [&](OpBuilder &b, Location l, Value v) {
                             return lpRoot(b, l, v, p);
                           });
    if (kind == PoolKind::Avg)
      pooled = divideByWindowCount(rewriter, loc, op, pooled, inputType, strides,
                                   dilations, padding);
    rewriter.replaceOp(op, pooled);
    return success();
  }

  /// The named max/sum pooling op for a channels-last layout, or null.
  static Value createNamedPool(OpBuilder &b, Location loc, ActivationLayout layout,
                               PoolKind kind, Value input, Value window, Value init,
                               ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> dilations) {
    if (!isChannelsLast(layout) || kind == PoolKind::Lp)
      return {};
    bool isMax = kind == PoolKind::Max;
    switch (getSpatialRank(layout)) {
    case 1:
      return isMax ? createWindowedOp<linalg::PoolingNwcMaxOp>(b, loc, input, window, init, strides, dilations)
                   : createWindowedOp<linalg::PoolingNwcSumOp>(b, loc, input, window, init, strides, dilations);
    case 2:
      return isMax ? createWindowedOp<linalg::PoolingNhwcMaxOp>(b, loc, input, window, init, strides, dilations)
                   : createWindowedOp<linalg::PoolingNhwcSumOp>(b, loc, input, window, init, strides, dilations);
    default:
      return isMax ? createWindowedOp<linalg::PoolingNdhwcMaxOp>(b, loc, input, window, init, strides, dilations)
                   : createWindowedOp<linalg::PoolingNdhwcSumOp>(b, loc, input, window, init, strides, dilations);
    }
  }

  /// Any pooling as one generic: the result dims (parallel), then the window
  /// dims (reduction) bounded by the empty `window` operand.
  static Value createGenericPool(OpBuilder &rewriter, Location loc, unsigned rank,
                                 unsigned s, ArrayRef<unsigned> spatialDims,
                                 PoolKind kind, double p, Value input, Value window,
                                 Value init, ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations) {
    MLIRContext *context = rewriter.getContext();
    unsigned numLoops = rank + s;
    SmallVector<AffineExpr> inputExprs, windowExprs;
    for (unsigned d = 0; d < rank; ++d)
      inputExprs.push_back(getAffineDimExpr(d, context));
    for (unsigned i = 0; i < s; ++i) {
      AffineExpr k = getAffineDimExpr(rank + i, context);
      windowExprs.push_back(k);
      inputExprs[spatialDims[i]] =
          getAffineDimExpr(spatialDims[i], context) * strides[i] + k * dilations[i];
    }
    SmallVector<AffineMap> maps{
        AffineMap::get(numLoops, 0, inputExprs, context),
        AffineMap::get(numLoops, 0, windowExprs, context),
        AffineMap::getMultiDimIdentityMap(numLoops, context).getMajorSubMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.append(s, utils::IteratorType::reduction);
    return buildGeneric(
        rewriter, loc, ValueRange{input, window}, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return accumulate(b, l, kind, p, args[0], args[2]);
        });
  }

  /// The number of positions in [lo, hi) that each of the `out` windows of
  /// one dim pools, when it is the same for all of them; 0 otherwise.
  static int64_t getUniformWindowCount(int64_t out, int64_t kernel, int64_t stride,
                                       int64_t dilation, int64_t padLow, int64_t lo,
                                       int64_t hi) {
    int64_t first = -1;
    for (int64_t o = 0; o < out; ++o) {
      int64_t count = 0;
      for (int64_t k = 0; k < kernel; ++k) {
        int64_t at = o * stride - padLow + k * dilation;
        count += at >= lo && at < hi;
      }
      if (first >= 0 && count != first)
        return 0;
      first = count;
    }
    return std::max<int64_t>(first, 0);
  }

  /// Divides each average by its window's count: positions inside the input
  /// and, with count_include_pad, inside the padding (PyTorch's divisor).
  static Value divideByWindowCount(OpBuilder &b, Location loc, PoolOp op,
                                   Value sums, RankedTensorType inputType,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> dilations,
                                   ArrayRef<int64_t> padding) {
    ActivationLayout layout = op.getLayout();
    unsigned s = getSpatialRank(layout);
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
    ArrayRef<int64_t> kernel = op.getKernel();
    bool includePad = op.getCountIncludePad();
    auto type = cast<RankedTensorType>(sums.getType());
    // Where every window counts the same positions (no padding, or padding
    // counted, and no window past it), the divisor is that constant: no
    // index arithmetic per element, and the division vectorizes.
    int64_t uniform = 1;
    for (unsigned i = 0; i < s && uniform; ++i) {
      int64_t in = inputType.getShape()[spatialDims[i]];
      uniform *= getUniformWindowCount(type.getShape()[spatialDims[i]], kernel[i], strides[i],
                                       dilations[i], padding[i],
                                       includePad ? -padding[i] : 0,
                                       includePad ? in + padding[s + i] : in);
    }
    if (uniform > 0)
      return buildElementwise(
          b, loc, type, sums, [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value count = arith::ConstantOp::create(
                nb, nl, nb.getFloatAttr(args[0].getType(), static_cast<double>(uniform)));
            return arith::DivFOp::create(nb, nl, args[0], count).getResult();
          });
    return buildElementwise(
        b, loc, type, sums, [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value count = arith::ConstantIndexOp::create(nb, nl, 1);
          for (unsigned i = 0; i < s; ++i) {
            int64_t in = inputType.getShape()[spatialDims[i]];
            Value o = linalg::IndexOp::create(nb, nl, spatialDims[i]);
            Value start = arith::SubIOp::create(
                nb, nl,
                arith::MulIOp::create(
                    nb, nl, o, arith::ConstantIndexOp::create(nb, nl, strides[i])),
                arith::ConstantIndexOp::create(nb, nl, padding[i]));
            int64_t lo = includePad ? -padding[i] : 0;
            int64_t hi = includePad ? in + padding[s + i] : in;
            count = arith::MulIOp::create(
                nb, nl, count,
                countInRange(nb, nl, start, kernel[i], dilations[i], lo, hi));
          }
          Value asInt = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), count);
          Value asFloat =
              arith::SIToFPOp::create(nb, nl, args[0].getType(), asInt);
          return arith::DivFOp::create(nb, nl, args[0], asFloat).getResult();
        });
  }
};

struct GlobalPoolOpLowering : OpConversionPattern<GlobalPoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GlobalPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    ActivationLayout layout = op.getLayout();
    unsigned rank = getRank(layout);
    PoolKind kind = op.getKind();
    double p = op.getP() ? op.getP()->convertToDouble() : 2.0;
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elementType = resultType.getElementType();
    Value identity = kind == PoolKind::Max
                         ? createNegativeInfinity(rewriter, loc, elementType)
                         : createFloatConstant(rewriter, loc, elementType, 0.0);
    Value init = createFilledTensor(rewriter, loc, resultType, identity);

    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
    int64_t count = 1;
    for (unsigned d = 0; d < rank; ++d) {
      bool spatial = llvm::is_contained(spatialDims, d);
      outExprs.push_back(spatial ? getAffineConstantExpr(0, context)
                                 : getAffineDimExpr(d, context));
      iterators.push_back(spatial ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
      if (spatial)
        count *= cast<RankedTensorType>(adaptor.getInput().getType()).getShape()[d];
    }
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank),
                                AffineMap::get(rank, 0, outExprs, context)};
    Value pooled = buildGeneric(rewriter, loc, adaptor.getInput(), init, maps,
                                iterators,
                                [&](OpBuilder &b, Location l, ValueRange args) {
                                  return accumulate(b, l, kind, p, args[0], args[1]);
                                });
    if (kind != PoolKind::Max)
      pooled = mapElements(rewriter, loc, pooled,
                           [&](OpBuilder &b, Location l, Value v) -> Value {
                             if (kind == PoolKind::Lp)
                               return lpRoot(b, l, v, p);
                             return arith::DivFOp::create(
                                 b, l, v,
                                 createFloatConstant(b, l, v.getType(), count));
                           });
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

/// Adaptive pooling: output index o of a dim of `in` elements pools
/// [floor(o * in / out), ceil((o + 1) * in / out)). The window loops run to
/// the largest window; positions past a window's end are skipped.
struct AdaptivePoolOpLowering : OpConversionPattern<AdaptivePoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AdaptivePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    ActivationLayout layout = op.getLayout();
    unsigned s = getSpatialRank(layout), rank = getRank(layout);
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
    Value input = adaptor.getInput();
    ArrayRef<int64_t> inShape = cast<RankedTensorType>(input.getType()).getShape();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elementType = resultType.getElementType();
    bool isMax = op.getKind() == PoolKind::Max;
    ArrayRef<int64_t> outSizes = op.getOutputSize();
    SmallVector<int64_t> window;
    for (unsigned i = 0; i < s; ++i) {
      int64_t in = inShape[spatialDims[i]], out = outSizes[i], widest = 1;
      for (int64_t o = 0; o < out; ++o)
        widest = std::max<int64_t>(
            widest, llvm::divideCeilSigned((o + 1) * in, out) - o * in / out);
      window.push_back(widest);
    }
    // Window bounds of output index `o` in spatial dim i.
    auto bounds = [&](OpBuilder &b, Location l, Value o, unsigned i) {
      int64_t in = inShape[spatialDims[i]], out = outSizes[i];
      auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
      Value start = arith::FloorDivSIOp::create(
          b, l, arith::MulIOp::create(b, l, o, cst(in)), cst(out));
      Value end = arith::CeilDivSIOp::create(
          b, l,
          arith::MulIOp::create(b, l, arith::AddIOp::create(b, l, o, cst(1)), cst(in)),
          cst(out));
      return std::make_pair(start, end);
    };

    Value identity = isMax ? createNegativeInfinity(rewriter, loc, elementType)
                           : createFloatConstant(rewriter, loc, elementType, 0.0);
    Value init = createFilledTensor(rewriter, loc, resultType, identity);
    Value windowOperand = tensor::EmptyOp::create(rewriter, loc, window, elementType);
    unsigned numLoops = rank + s;
    SmallVector<AffineExpr> windowExprs;
    for (unsigned i = 0; i < s; ++i)
      windowExprs.push_back(getAffineDimExpr(rank + i, context));
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.append(s, utils::IteratorType::reduction);
    Value pooled = buildGeneric(
        rewriter, loc, windowOperand, init,
        {AffineMap::get(numLoops, 0, windowExprs, context),
         AffineMap::getMultiDimIdentityMap(numLoops, context).getMajorSubMap(rank)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          SmallVector<Value> index;
          for (unsigned d = 0; d < rank; ++d)
            index.push_back(linalg::IndexOp::create(b, l, d));
          Value inside = arith::ConstantIntOp::create(b, l, 1, 1);
          for (unsigned i = 0; i < s; ++i) {
            auto [start, end] = bounds(b, l, index[spatialDims[i]], i);
            Value at = arith::AddIOp::create(b, l, start,
                                             linalg::IndexOp::create(b, l, rank + i));
            inside = arith::AndIOp::create(
                b, l, inside,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, at, end));
            index[spatialDims[i]] = arith::MinSIOp::create(
                b, l, at,
                arith::ConstantIndexOp::create(b, l, inShape[spatialDims[i]] - 1));
          }
          Value x = tensor::ExtractOp::create(b, l, input, index);
          Value combined = isMax ? arith::MaximumFOp::create(b, l, args[1], x).getResult()
                                 : arith::AddFOp::create(b, l, args[1], x).getResult();
          return arith::SelectOp::create(b, l, inside, combined, args[1]);
        });
    if (!isMax)
      pooled = buildElementwise(
          rewriter, loc, resultType, pooled,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value count = arith::ConstantIndexOp::create(b, l, 1);
            for (unsigned i = 0; i < s; ++i) {
              auto [start, end] =
                  bounds(b, l, linalg::IndexOp::create(b, l, spatialDims[i]), i);
              count = arith::MulIOp::create(b, l, count,
                                            arith::SubIOp::create(b, l, end, start));
            }
            Value asFloat = arith::SIToFPOp::create(
                b, l, elementType,
                arith::IndexCastOp::create(b, l, b.getI64Type(), count));
            return arith::DivFOp::create(b, l, args[0], asFloat);
          });
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

/// The windows of one spatial dim of a pooling op, for its gradient. A
/// window pools input positions start(o) + k * dilation, k in [0, extent).
/// Regular windows start at o * stride - pad_low; adaptive windows pool
/// [floor(o * in / out), ceil((o + 1) * in / out)).
struct WindowDim {
  bool adaptive = false;
  int64_t in = 1, out = 1, kernel = 1, stride = 1, dilation = 1, padLow = 0,
          padHigh = 0;

  Value cst(OpBuilder &b, Location l, int64_t v) const {
    return arith::ConstantIndexOp::create(b, l, v);
  }
  Value start(OpBuilder &b, Location l, Value o) const {
    if (adaptive)
      return arith::FloorDivSIOp::create(
          b, l, arith::MulIOp::create(b, l, o, cst(b, l, in)), cst(b, l, out));
    return arith::SubIOp::create(
        b, l, arith::MulIOp::create(b, l, o, cst(b, l, stride)), cst(b, l, padLow));
  }
  Value end(OpBuilder &b, Location l, Value o) const {
    return arith::CeilDivSIOp::create(
        b, l,
        arith::MulIOp::create(b, l, arith::AddIOp::create(b, l, o, cst(b, l, 1)),
                              cst(b, l, in)),
        cst(b, l, out));
  }
  /// Loop extent over the elements of one window.
  int64_t windowExtent() const {
    if (!adaptive)
      return kernel;
    int64_t widest = 1;
    for (int64_t o = 0; o < out; ++o)
      widest = std::max<int64_t>(widest, llvm::divideCeilSigned((o + 1) * in, out) -
                                             o * in / out);
    return widest;
  }
  /// Input position of element k of window o, and whether it is a real
  /// element of the input inside the window.
  std::pair<Value, Value> element(OpBuilder &b, Location l, Value o, Value k) const {
    Value first = start(b, l, o);
    Value at = arith::AddIOp::create(
        b, l, first,
        adaptive ? k : arith::MulIOp::create(b, l, k, cst(b, l, dilation)).getResult());
    Value valid = arith::AndIOp::create(
        b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, at, cst(b, l, 0)),
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, at, cst(b, l, in)));
    if (adaptive)
      valid = arith::AndIOp::create(
          b, l, valid,
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, at, end(b, l, o)));
    return {at, valid};
  }
  /// Loop extent over the windows that may hold one input position: the
  /// kernel's taps, or the windows starting before it when the stride skips
  /// most taps (2 instead of 3 for ResNet's 3x3/2 pool).
  int64_t candidates() const {
    if (!adaptive)
      return std::min(kernel, windowsAtOnePosition());
    int64_t most = 1;
    for (int64_t x = 0; x < in; ++x)
      most = std::max<int64_t>(most, llvm::divideCeilSigned((x + 1) * out, in) -
                                         x * out / in);
    return most;
  }
  /// Window index of candidate j for input position x (clamped into the
  /// output) and whether x really is an element of that window.
  std::pair<Value, Value> window(OpBuilder &b, Location l, Value x, Value j) const {
    Value o, valid;
    if (adaptive) {
      o = arith::AddIOp::create(
          b, l,
          arith::FloorDivSIOp::create(
              b, l, arith::MulIOp::create(b, l, x, cst(b, l, out)), cst(b, l, in)),
          j);
      Value clamped = arith::MinSIOp::create(b, l, o, cst(b, l, out - 1));
      valid = arith::AndIOp::create(
          b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, o, cst(b, l, out)),
          arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle,
                                    start(b, l, clamped), x),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x,
                                    end(b, l, clamped))));
      return {clamped, valid};
    }
    if (windowsAtOnePosition() < kernel) {
      // Strided windows: the candidates are the windows o starting at or
      // before x, latest first; x is tap k = x + pad_low - o * stride of o.
      Value shifted = arith::AddIOp::create(b, l, x, cst(b, l, padLow));
      o = arith::SubIOp::create(
          b, l, arith::FloorDivSIOp::create(b, l, shifted, cst(b, l, stride)), j);
      Value tap = arith::SubIOp::create(b, l, shifted,
                                        arith::MulIOp::create(b, l, o, cst(b, l, stride)));
      Value k = arith::FloorDivSIOp::create(b, l, tap, cst(b, l, dilation));
      valid = arith::AndIOp::create(
          b, l,
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                arith::MulIOp::create(b, l, k, cst(b, l, dilation)), tap),
          arith::AndIOp::create(
              b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, k, cst(b, l, kernel)),
              arith::AndIOp::create(
                  b, l,
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, o, cst(b, l, 0)),
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, o,
                                        cst(b, l, out)))));
      Value clamped = arith::MinSIOp::create(
          b, l, arith::MaxSIOp::create(b, l, o, cst(b, l, 0)), cst(b, l, out - 1));
      return {clamped, valid};
    }
    // x = o * stride - pad_low + j * dilation.
    Value t = arith::SubIOp::create(
        b, l, arith::AddIOp::create(b, l, x, cst(b, l, padLow)),
        arith::MulIOp::create(b, l, j, cst(b, l, dilation)));
    o = arith::FloorDivSIOp::create(b, l, t, cst(b, l, stride));
    valid = arith::AndIOp::create(
        b, l,
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                              arith::MulIOp::create(b, l, o, cst(b, l, stride)), t),
        arith::AndIOp::create(
            b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, o, cst(b, l, 0)),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, o, cst(b, l, out))));
    Value clamped = arith::MinSIOp::create(
        b, l, arith::MaxSIOp::create(b, l, o, cst(b, l, 0)), cst(b, l, out - 1));
    return {clamped, valid};
  }
  /// How many regular windows can hold one input position: those starting
  /// within the dilated kernel's extent before it, one per stride.
  int64_t windowsAtOnePosition() const { return (kernel - 1) * dilation / stride + 1; }
  /// The divisor of average pooling for window o (as the forward op counts).
  Value divisor(OpBuilder &b, Location l, Value o, bool includePad) const {
    if (adaptive)
      return arith::SubIOp::create(b, l, end(b, l, o), start(b, l, o));
    int64_t lo = includePad ? -padLow : 0;
    int64_t hi = includePad ? in + padHigh : in;
    return countInRange(b, l, start(b, l, o), kernel, dilation, lo, hi);
  }
};

/// The window dims of a pool_backward or pool_tangent op over an input of
/// shape `in` pooled to `out`.
template <typename OpTy>
SmallVector<WindowDim> getWindowDims(OpTy op, ArrayRef<int64_t> in,
                                     ArrayRef<int64_t> out) {
  unsigned s = getSpatialRank(op.getLayout());
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(op.getLayout());
  ArrayRef<int64_t> kernel = op.getKernel();
  WindowAttrs window = getWindowAttrs(op, kernel);
  SmallVector<WindowDim> dims;
  for (unsigned i = 0; i < s; ++i) {
    WindowDim d;
    d.in = in[spatialDims[i]];
    d.out = out[spatialDims[i]];
    d.kernel = kernel[i];
    d.stride = window.strides[i];
    d.dilation = window.dilations[i];
    d.padLow = window.padding[i];
    d.padHigh = window.padding[s + i];
    dims.push_back(d);
  }
  return dims;
}

/// The window dims of an adaptive_pool_backward or adaptive_pool_tangent op.
template <typename OpTy>
SmallVector<WindowDim> getAdaptiveWindowDims(OpTy op, ArrayRef<int64_t> in) {
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(op.getLayout());
  SmallVector<WindowDim> dims;
  for (auto [i, size] : llvm::enumerate(op.getOutputSize())) {
    WindowDim d;
    d.adaptive = true;
    d.in = in[spatialDims[i]];
    d.out = size;
    dims.push_back(d);
  }
  return dims;
}

/// The gradient of window, adaptive or global pooling: `grad` (the forward
/// result's shape) spread back over the windows of `input`.
/// Moves the channel loop of a pooling-gradient or -tangent generic (one loop per
/// result dim, then the window loops) innermost for channels-last layouts:
/// the loops lowered from it then walk contiguous channels innermost, which
/// LLVM vectorizes, instead of a window's taps.
Value channelsInnermost(RewriterBase &rewriter, Value result, ActivationLayout layout) {
  if (!isChannelsLast(layout))
    return result;
  auto generic = cast<linalg::GenericOp>(result.getDefiningOp());
  unsigned rank = getRank(layout), loops = generic.getNumLoops();
  SmallVector<unsigned> order;
  for (unsigned d = 0; d < loops; ++d)
    if (d != rank - 1)
      order.push_back(d);
  order.push_back(rank - 1);
  // A permutation of the generic's own loops: the interchange cannot fail.
  (void)linalg::interchangeGenericOp(rewriter, generic, order);
  return result;
}

Value buildPoolGradient(RewriterBase &b, Location loc, ActivationLayout layout,
                        PoolKind kind, bool includePad, ArrayRef<WindowDim> dims,
                        Value input, Value grad) {
  MLIRContext *context = b.getContext();
  unsigned s = getSpatialRank(layout), rank = getRank(layout);
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
  auto inputType = cast<RankedTensorType>(input.getType());
  auto gradType = cast<RankedTensorType>(grad.getType());
  Type elementType = inputType.getElementType();
  unsigned numLoops = rank + s;
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators.append(s, utils::IteratorType::reduction);
  AffineMap outer =
      AffineMap::getMultiDimIdentityMap(numLoops, context).getMajorSubMap(rank);
  SmallVector<AffineExpr> innerExprs;
  for (unsigned i = 0; i < s; ++i)
    innerExprs.push_back(getAffineDimExpr(rank + i, context));
  AffineMap inner = AffineMap::get(numLoops, 0, innerExprs, context);
  auto cst = [](OpBuilder &nb, Location nl, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(nb, nl, v);
  };
  // Flat spatial position of an input element, row-major over the spatial dims.
  auto flatPosition = [&](OpBuilder &nb, Location nl, ArrayRef<Value> spatial) {
    Value flat = cst(nb, nl, 0);
    for (unsigned i = 0; i < s; ++i)
      flat = arith::AddIOp::create(
          nb, nl, arith::MulIOp::create(nb, nl, flat, cst(nb, nl, dims[i].in)),
          spatial[i]);
    return flat;
  };

  // Max: the flat spatial position of each window's first maximum.
  Value argmax;
  if (kind == PoolKind::Max) {
    SmallVector<int64_t> extents;
    for (const WindowDim &d : dims)
      extents.push_back(d.windowExtent());
    Value window = tensor::EmptyOp::create(b, loc, extents, elementType);
    Value best = createFilledTensor(b, loc, gradType,
                                    createNegativeInfinity(b, loc, elementType));
    auto indexType = RankedTensorType::get(gradType.getShape(), b.getIndexType());
    Value where = createFilledTensor(b, loc, indexType, cst(b, loc, -1));
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{gradType, indexType}, ValueRange{window},
        ValueRange{best, where}, ArrayRef<AffineMap>{inner, outer, outer}, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          SmallVector<Value> index, spatial;
          for (unsigned d = 0; d < rank; ++d)
            index.push_back(linalg::IndexOp::create(nb, nl, d));
          Value valid = arith::ConstantIntOp::create(nb, nl, 1, 1);
          for (unsigned i = 0; i < s; ++i) {
            auto [at, inside] =
                dims[i].element(nb, nl, index[spatialDims[i]],
                                linalg::IndexOp::create(nb, nl, rank + i));
            valid = arith::AndIOp::create(nb, nl, valid, inside);
            Value clamped = arith::MinSIOp::create(
                nb, nl, arith::MaxSIOp::create(nb, nl, at, cst(nb, nl, 0)),
                cst(nb, nl, dims[i].in - 1));
            index[spatialDims[i]] = clamped;
            spatial.push_back(clamped);
          }
          Value x = tensor::ExtractOp::create(nb, nl, input, index);
          // Strictly greater (or NaN) replaces: the first maximum wins.
          Value better = arith::OrIOp::create(
              nb, nl, arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, x, args[1]),
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, x, x));
          Value take = arith::AndIOp::create(nb, nl, valid, better);
          linalg::YieldOp::create(
              nb, nl,
              ValueRange{arith::SelectOp::create(nb, nl, take, x, args[1]),
                         arith::SelectOp::create(nb, nl, take,
                                                 flatPosition(nb, nl, spatial), args[2])});
        });
    argmax = channelsInnermost(b, generic.getResult(1), layout);
  }

  // Every input element sums the gradients of the windows holding it.
  SmallVector<int64_t> candidates;
  for (const WindowDim &d : dims)
    candidates.push_back(d.candidates());
  Value candidateOperand = tensor::EmptyOp::create(b, loc, candidates, elementType);
  Value init = createFilledTensor(b, loc, inputType,
                                  createFloatConstant(b, loc, elementType, 0.0));
  Value scattered = buildGeneric(
      b, loc, candidateOperand, init, {inner, outer}, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        SmallVector<Value> index, spatial;
        for (unsigned d = 0; d < rank; ++d)
          index.push_back(linalg::IndexOp::create(nb, nl, d));
        Value valid = arith::ConstantIntOp::create(nb, nl, 1, 1);
        Value divisor = cst(nb, nl, 1);
        for (unsigned i = 0; i < s; ++i) {
          Value x = index[spatialDims[i]];
          spatial.push_back(x);
          auto [o, inside] =
              dims[i].window(nb, nl, x, linalg::IndexOp::create(nb, nl, rank + i));
          valid = arith::AndIOp::create(nb, nl, valid, inside);
          index[spatialDims[i]] = o;
          if (kind == PoolKind::Avg)
            divisor = arith::MulIOp::create(nb, nl, divisor,
                                            dims[i].divisor(nb, nl, o, includePad));
        }
        Value g = tensor::ExtractOp::create(nb, nl, grad, index);
        if (kind == PoolKind::Avg) {
          Value asFloat = arith::SIToFPOp::create(
              nb, nl, elementType,
              arith::IndexCastOp::create(nb, nl, nb.getI64Type(), divisor));
          g = arith::DivFOp::create(nb, nl, g, asFloat);
        }
        if (kind == PoolKind::Max) {
          Value winner = tensor::ExtractOp::create(nb, nl, argmax, index);
          valid = arith::AndIOp::create(
              nb, nl, valid,
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, winner,
                                    flatPosition(nb, nl, spatial)));
        }
        Value sum = arith::AddFOp::create(nb, nl, args[1], g);
        return arith::SelectOp::create(nb, nl, valid, sum, args[1]);
      });
  return channelsInnermost(b, scattered, layout);
}

/// The tangent of window, adaptive or global pooling, the transpose of
/// buildPoolGradient: each window of `tangent` (the input's shape) reduces to
/// one element of `resultType`. Max carries each window's running maximum of
/// `input` with the tangent at it (the first maximum wins, as in the
/// gradient); avg sums the tangent over the divisor; lp sums it.
Value buildPoolTangent(RewriterBase &b, Location loc, ActivationLayout layout,
                       PoolKind kind, bool includePad, ArrayRef<WindowDim> dims,
                       Value input, Value tangent, RankedTensorType resultType) {
  MLIRContext *context = b.getContext();
  unsigned s = getSpatialRank(layout), rank = getRank(layout);
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
  Type elementType = resultType.getElementType();
  unsigned numLoops = rank + s;
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators.append(s, utils::IteratorType::reduction);
  AffineMap outer =
      AffineMap::getMultiDimIdentityMap(numLoops, context).getMajorSubMap(rank);
  SmallVector<AffineExpr> innerExprs;
  SmallVector<int64_t> extents;
  for (unsigned i = 0; i < s; ++i) {
    innerExprs.push_back(getAffineDimExpr(rank + i, context));
    extents.push_back(dims[i].windowExtent());
  }
  AffineMap inner = AffineMap::get(numLoops, 0, innerExprs, context);
  Value window = tensor::EmptyOp::create(b, loc, extents, elementType);
  Value zeros =
      createFilledTensor(b, loc, resultType, createFloatConstant(b, loc, elementType, 0.0));
  bool isMax = kind == PoolKind::Max;
  SmallVector<Value> inits{zeros};
  SmallVector<Type> types{resultType};
  SmallVector<AffineMap> maps{inner, outer};
  if (isMax) {
    inits.insert(inits.begin(), createFilledTensor(b, loc, resultType,
                                                   createNegativeInfinity(b, loc, elementType)));
    types.push_back(resultType);
    maps.push_back(outer);
  }
  auto generic = linalg::GenericOp::create(
      b, loc, types, ValueRange{window}, inits, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> index;
        for (unsigned d = 0; d < rank; ++d)
          index.push_back(linalg::IndexOp::create(nb, nl, d));
        SmallVector<Value> windowIndex(index);
        Value valid = arith::ConstantIntOp::create(nb, nl, 1, 1);
        Value divisor = arith::ConstantIndexOp::create(nb, nl, 1);
        for (unsigned i = 0; i < s; ++i) {
          Value o = windowIndex[spatialDims[i]];
          auto [at, inside] =
              dims[i].element(nb, nl, o, linalg::IndexOp::create(nb, nl, rank + i));
          valid = arith::AndIOp::create(nb, nl, valid, inside);
          index[spatialDims[i]] = arith::MinSIOp::create(
              nb, nl, arith::MaxSIOp::create(nb, nl, at, dims[i].cst(nb, nl, 0)),
              dims[i].cst(nb, nl, dims[i].in - 1));
          if (kind == PoolKind::Avg)
            divisor = arith::MulIOp::create(nb, nl, divisor,
                                            dims[i].divisor(nb, nl, o, includePad));
        }
        Value t = tensor::ExtractOp::create(nb, nl, tangent, index);
        if (!isMax) {
          if (kind == PoolKind::Avg)
            t = arith::DivFOp::create(
                nb, nl, t,
                arith::SIToFPOp::create(
                    nb, nl, elementType,
                    arith::IndexCastOp::create(nb, nl, nb.getI64Type(), divisor)));
          Value sum = arith::AddFOp::create(nb, nl, args[1], t);
          linalg::YieldOp::create(nb, nl,
                                  ValueRange{arith::SelectOp::create(nb, nl, valid, sum,
                                                                     args[1])});
          return;
        }
        Value x = tensor::ExtractOp::create(nb, nl, input, index);
        // Strictly greater (or NaN) replaces: the first maximum wins.
        Value better = arith::OrIOp::create(
            nb, nl, arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, x, args[1]),
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, x, x));
        Value take = arith::AndIOp::create(nb, nl, valid, better);
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::SelectOp::create(nb, nl, take, x, args[1]),
                       arith::SelectOp::create(nb, nl, take, t, args[2])});
      });
  return channelsInnermost(b, generic.getResult(isMax ? 1 : 0), layout);
}

/// pool_backward, adaptive_pool_backward, pool_tangent and
/// adaptive_pool_tangent: the windows of their forward pooling, then the
/// gradient's scatter or the tangent's reduction over them.
template <typename OpTy>
struct PoolDerivativeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool isAdaptive = std::is_same_v<OpTy, AdaptivePoolBackwardOp> ||
                                     std::is_same_v<OpTy, AdaptivePoolTangentOp>;
  static constexpr bool isTangent =
      std::is_same_v<OpTy, PoolTangentOp> || std::is_same_v<OpTy, AdaptivePoolTangentOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value input = adaptor.getOperands()[0], other = adaptor.getOperands()[1];
    auto resultType = cast<RankedTensorType>(op.getType());
    // The forward pooling's result: the tangent's result, the gradient's
    // second operand.
    ArrayRef<int64_t> pooled = isTangent ? resultType.getShape() : getShape(other);
    SmallVector<WindowDim> dims;
    bool includePad = false;
    if constexpr (isAdaptive) {
      dims = getAdaptiveWindowDims(op, getShape(input));
    } else {
      dims = getWindowDims(op, getShape(input), pooled);
      includePad = op.getCountIncludePad();
    }
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op, isTangent ? buildPoolTangent(rewriter, loc, op.getLayout(), op.getKind(),
                                         includePad, dims, input, other, resultType)
                      : buildPoolGradient(rewriter, loc, op.getLayout(), op.getKind(),
                                          includePad, dims, input, other));
    return success();
  }
};

} // namespace

void mlir::tessel::populatePoolToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<PoolOpLowering, AdaptivePoolOpLowering, GlobalPoolOpLowering,
               PoolDerivativeLowering<PoolBackwardOp>,
               PoolDerivativeLowering<AdaptivePoolBackwardOp>,
               PoolDerivativeLowering<PoolTangentOp>,
               PoolDerivativeLowering<AdaptivePoolTangentOp>>(
      patterns.getContext());
}
