//===- ConvToLinalg.cpp - Lower tessel.conv -------------------------------===//
//
// Channels-last convolutions with spatial-first filters become linalg's named
// conv_{1,2,3}d_n*c_*cf ops and channels-last depthwise convolutions the named
// depthwise ops: those are the forms linalg's decomposition and vectorizer
// handle. Every other convolution (channels-first, grouped, O-first filters)
// becomes one linalg.generic whose maps spell out the layouts and groups.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Pads the spatial dims of an activation in `layout`.
Value padSpatial(OpBuilder &b, Location loc, Value input, ActivationLayout layout,
                 ArrayRef<int64_t> padLow, ArrayRef<int64_t> padHigh,
                 Value padValue) {
  unsigned rank = getRank(layout);
  SmallVector<int64_t> low(rank, 0), high(rank, 0);
  for (auto [i, dim] : llvm::enumerate(getSpatialDims(layout))) {
    low[dim] = padLow[i];
    high[dim] = padHigh[i];
  }
  return padTensor(b, loc, input, low, high, padValue);
}

/// The accumulator the convolution starts from: the bias broadcast along the
/// channel dim, or zeros.
Value createAccumulator(OpBuilder &b, Location loc, RankedTensorType type,
                        ActivationLayout layout, Value bias) {
  Type elementType = type.getElementType();
  if (!bias)
    return createFilledTensor(b, loc, type,
                              createFloatConstant(b, loc, elementType, 0.0));
  MLIRContext *context = b.getContext();
  AffineMap channel = AffineMap::get(
      type.getRank(), 0, getAffineDimExpr(getChannelDim(layout), context));
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), elementType);
  return buildGeneric(
      b, loc, bias, init, {channel, b.getMultiDimIdentityMap(type.getRank())},
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

/// Lowers a channels-last, spatial-first-filter conv to a named linalg op, or
/// returns null when the conv has another form.
Value lowerToNamedConv(OpBuilder &b, Location loc, const ConvGeometry &g,
                       Value input, Value filter, Value init) {
  if (!isChannelsLast(g.layout) ||
      getFilterFamily(g.filterLayout) != FilterFamily::SpatialFirst)
    return {};
  auto filterType = cast<RankedTensorType>(filter.getType());
  ArrayRef<int64_t> filterShape = filterType.getShape();
  int64_t channels =
      cast<RankedTensorType>(input.getType()).getShape()[getChannelDim(g.layout)];
  unsigned s = g.spatialRank;
  if (g.groups == 1) {
    switch (s) {
    case 1:
      return createWindowedOp<linalg::Conv1DNwcWcfOp>(b, loc, input, filter, init, g.strides, g.dilations);
    case 2:
      return createWindowedOp<linalg::Conv2DNhwcHwcfOp>(b, loc, input, filter, init, g.strides, g.dilations);
    case 3:
      return createWindowedOp<linalg::Conv3DNdhwcDhwcfOp>(b, loc, input, filter, init, g.strides, g.dilations);
    }
  }
  // Depthwise with channel multiplier 1: filter [k..., 1, C].
  if (g.groups == channels && filterShape[s] == 1 && filterShape[s + 1] == channels) {
    SmallVector<ReassociationIndices> groups;
    for (unsigned i = 0; i < s; ++i)
      groups.push_back({i});
    groups.push_back({s, s + 1});
    SmallVector<int64_t> shape(filterShape.take_front(s));
    shape.push_back(channels);
    Value collapsed = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(shape, filterType.getElementType()), filter,
        groups);
    switch (s) {
    case 1:
      return createWindowedOp<linalg::DepthwiseConv1DNwcWcOp>(b, loc, input, collapsed, init, g.strides, g.dilations);
    case 2:
      return createWindowedOp<linalg::DepthwiseConv2DNhwcHwcOp>(b, loc, input, collapsed, init, g.strides, g.dilations);
    case 3:
      return createWindowedOp<linalg::DepthwiseConv3DNdhwcDhwcOp>(b, loc, input, collapsed, init, g.strides, g.dilations);
    }
  }
  return {};
}

/// Reassociation between a rank-`rank` shape and the shape with dim `dim`
/// split in two.
SmallVector<ReassociationIndices> groupReassociation(int64_t rank, int64_t dim) {
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0; i < rank; ++i) {
    if (i == dim)
      reassociation.push_back({i, i + 1});
    else
      reassociation.push_back({i < dim ? i : i + 1});
  }
  return reassociation;
}

/// Splits dim `dim` of `value` into [groups, size / groups].
Value splitGroups(OpBuilder &b, Location loc, Value value, unsigned dim,
                  int64_t groups) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] /= groups;
  shape.insert(shape.begin() + dim, groups);
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      groupReassociation(type.getRank(), dim));
}

/// Lowers any convolution to one linalg.generic. The channel dims of the
/// input, filter and result are split into [groups, channels per group], so
/// every loop is a plain dim of some operand. Loops: n, g, oc, o_i, ic, k_i;
/// the forward conv reduces over ic and k_i into the result, the filter
/// gradient (`filterGradient`: `filter` is then the result's gradient and
/// `init` the filter-shaped accumulator) reduces over n and o_i.
Value lowerToGenericConv(OpBuilder &b, Location loc, const ConvGeometry &g,
                         Value input, Value filter, Value init,
                         bool filterGradient = false) {
  MLIRContext *context = b.getContext();
  unsigned s = g.spatialRank;
  bool channelsLast = isChannelsLast(g.layout);
  bool outputFirst = getFilterFamily(g.filterLayout) == FilterFamily::OutputFirst;
  unsigned channelDim = getChannelDim(g.layout);
  unsigned filterChannelDim = outputFirst ? 0 : s + 1;
  Value groupedInput = splitGroups(b, loc, input, channelDim, g.groups);
  Value groupedFilter = splitGroups(b, loc, filter,
                                    filterGradient ? channelDim : filterChannelDim,
                                    g.groups);
  Value groupedInit = splitGroups(b, loc, init,
                                  filterGradient ? filterChannelDim : channelDim,
                                  g.groups);

  unsigned next = 0;
  AffineExpr n = getAffineDimExpr(next++, context);
  AffineExpr group = getAffineDimExpr(next++, context);
  AffineExpr oc = getAffineDimExpr(next++, context);
  SmallVector<AffineExpr> out, k;
  for (unsigned i = 0; i < s; ++i)
    out.push_back(getAffineDimExpr(next++, context));
  AffineExpr ic = getAffineDimExpr(next++, context);
  for (unsigned i = 0; i < s; ++i)
    k.push_back(getAffineDimExpr(next++, context));
  unsigned numLoops = next;

  auto activation = [&](AffineExpr channel, ArrayRef<AffineExpr> spatial) {
    SmallVector<AffineExpr> exprs{n};
    if (!channelsLast)
      exprs.append({group, channel});
    llvm::append_range(exprs, spatial);
    if (channelsLast)
      exprs.append({group, channel});
    return AffineMap::get(numLoops, 0, exprs, context);
  };
  SmallVector<AffineExpr> window;
  for (unsigned i = 0; i < s; ++i)
    window.push_back(out[i] * g.strides[i] + k[i] * g.dilations[i]);
  SmallVector<AffineExpr> filterExprs;
  if (outputFirst) {
    filterExprs = {group, oc, ic};
    llvm::append_range(filterExprs, k);
  } else {
    filterExprs.assign(k.begin(), k.end());
    filterExprs.append({ic, group, oc});
  }
  AffineMap filterMap = AffineMap::get(numLoops, 0, filterExprs, context);
  SmallVector<AffineMap> maps{activation(ic, window), filterMap, activation(oc, out)};
  SmallVector<utils::IteratorType> iterators(numLoops - s - 1,
                                             utils::IteratorType::parallel);
  iterators.append(s + 1, utils::IteratorType::reduction);
  if (filterGradient) {
    maps = {activation(ic, window), activation(oc, out), filterMap};
    iterators.assign(numLoops, utils::IteratorType::parallel);
    iterators[0] = utils::IteratorType::reduction; // n
    for (unsigned i = 0; i < s; ++i)
      iterators[3 + i] = utils::IteratorType::reduction; // o_i
  }
  Value result = buildGeneric(
      b, loc, ValueRange{groupedInput, groupedFilter}, groupedInit, maps,
      iterators, [](OpBuilder &nb, Location nl, ValueRange args) {
        Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
        return arith::AddFOp::create(nb, nl, args[2], product).getResult();
      });
  auto initType = cast<RankedTensorType>(init.getType());
  return tensor::CollapseShapeOp::create(
      b, loc, initType, result,
      groupReassociation(initType.getRank(),
                         filterGradient ? filterChannelDim : channelDim));
}

struct ConvOpLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ConvGeometry g = getConvGeometry(op);
    auto resultType = cast<RankedTensorType>(op.getType());
    Value zero = createFloatConstant(rewriter, loc, resultType.getElementType(), 0.0);
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), g.layout,
                             g.padLow(), g.padHigh(), zero);
    Value init = createAccumulator(rewriter, loc, resultType, g.layout,
                                   adaptor.getBias());
    Value result =
        lowerToNamedConv(rewriter, loc, g, input, adaptor.getFilter(), init);
    if (!result)
      result = lowerToGenericConv(rewriter, loc, g, input, adaptor.getFilter(), init);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// conv_transpose as a gather: output position o meets input position
/// i = (o + pad_low - k * dilation) / stride of every kernel offset k for
/// which the division is exact and i is inside the input. Channel dims are
/// split into [groups, per group] as for conv; the input is read with
/// tensor.extract, so its index can be computed.
struct ConvTransposeOpLowering : OpConversionPattern<ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    ConvGeometry geometry = getConvGeometry(op);
    ActivationLayout layout = geometry.layout;
    bool inputFirst = getFilterFamily(geometry.filterLayout) == FilterFamily::InputFirst;
    unsigned s = geometry.spatialRank, channelDim = getChannelDim(layout);
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
    auto resultType = cast<RankedTensorType>(op.getType());
    Value input = adaptor.getInput();
    ArrayRef<int64_t> inShape = cast<RankedTensorType>(input.getType()).getShape();
    int64_t groups = geometry.groups;
    int64_t inGroup = inShape[channelDim] / groups;
    ArrayRef<int64_t> strides = geometry.strides, dilations = geometry.dilations;
    ArrayRef<int64_t> padLow = geometry.padLow();

    // Filter [I, O/g, k...] or [k..., I, O/g] with I split into [g, I/g].
    Value filter = splitGroups(rewriter, loc, adaptor.getFilter(), inputFirst ? 0 : s,
                               groups);
    Value init = splitGroups(
        rewriter, loc,
        createAccumulator(rewriter, loc, resultType, layout, adaptor.getBias()),
        channelDim, groups);

    // Loops: n, g, oc, o_i (parallel), ic, k_i (reduction).
    unsigned numLoops = 4 + 2 * s;
    auto dim = [&](unsigned i) { return getAffineDimExpr(i, context); };
    AffineExpr n = dim(0), g = dim(1), oc = dim(2), ic = dim(3 + s);
    SmallVector<AffineExpr> out, k;
    for (unsigned i = 0; i < s; ++i) {
      out.push_back(dim(3 + i));
      k.push_back(dim(4 + s + i));
    }
    SmallVector<AffineExpr> filterExprs;
    if (inputFirst) {
      filterExprs = {g, ic, oc};
      llvm::append_range(filterExprs, k);
    } else {
      filterExprs.assign(k.begin(), k.end());
      filterExprs.append({g, ic, oc});
    }
    SmallVector<AffineExpr> outExprs{n};
    if (!isChannelsLast(layout))
      outExprs.append({g, oc});
    llvm::append_range(outExprs, out);
    if (isChannelsLast(layout))
      outExprs.append({g, oc});
    SmallVector<utils::IteratorType> iterators(3 + s, utils::IteratorType::parallel);
    iterators.append(s + 1, utils::IteratorType::reduction);

    Value result = buildGeneric(
        rewriter, loc, filter, init,
        {AffineMap::get(numLoops, 0, filterExprs, context),
         AffineMap::get(numLoops, 0, outExprs, context)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
          auto index = [&](unsigned d) { return linalg::IndexOp::create(b, l, d); };
          Value channel = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, index(1), cst(inGroup)), index(3 + s));
          SmallVector<Value> position(inShape.size());
          position[0] = index(0);
          position[channelDim] = channel;
          Value valid = arith::ConstantIntOp::create(b, l, 1, 1);
          for (unsigned i = 0; i < s; ++i) {
            Value t = arith::SubIOp::create(
                b, l, arith::AddIOp::create(b, l, index(3 + i), cst(padLow[i])),
                arith::MulIOp::create(b, l, index(4 + s + i), cst(dilations[i])));
            Value q = arith::FloorDivSIOp::create(b, l, t, cst(strides[i]));
            Value exact = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::eq,
                arith::MulIOp::create(b, l, q, cst(strides[i])), t);
            Value inRange = arith::AndIOp::create(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, q, cst(0)),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, q,
                                      cst(inShape[spatialDims[i]])));
            valid = arith::AndIOp::create(b, l, valid,
                                          arith::AndIOp::create(b, l, exact, inRange));
            position[spatialDims[i]] = arith::MinSIOp::create(
                b, l, arith::MaxSIOp::create(b, l, q, cst(0)),
                cst(inShape[spatialDims[i]] - 1));
          }
          Value x = tensor::ExtractOp::create(b, l, input, position);
          Value sum = arith::AddFOp::create(b, l, args[1],
                                            arith::MulFOp::create(b, l, x, args[0]));
          return arith::SelectOp::create(b, l, valid, sum, args[1]);
        });
    rewriter.replaceOp(op, tensor::CollapseShapeOp::create(
                               rewriter, loc, resultType, result,
                               groupReassociation(resultType.getRank(), channelDim)));
    return success();
  }
};

/// The filter gradient: the forward conv's generic with the filter as the
/// accumulator, reducing over the batch and output positions.
struct ConvBackwardFilterOpLowering : OpConversionPattern<ConvBackwardFilterOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvBackwardFilterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ConvGeometry g = getConvGeometry(op);
    auto resultType = cast<RankedTensorType>(op.getType());
    Value zero = createFloatConstant(rewriter, loc, resultType.getElementType(), 0.0);
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), g.layout, g.padLow(),
                             g.padHigh(), zero);
    Value init = createFilledTensor(rewriter, loc, resultType, zero);
    rewriter.replaceOp(op, lowerToGenericConv(rewriter, loc, g, input,
                                              adaptor.getGradOutput(), init,
                                              /*filterGradient=*/true));
    return success();
  }
};

} // namespace

void mlir::tessel::populateConvToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvOpLowering, ConvTransposeOpLowering, ConvBackwardFilterOpLowering>(
      patterns.getContext());
}
