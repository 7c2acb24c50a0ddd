//===- ConvertLayout.cpp - Channels-last inside, layouts at the edges -----===//
//
// The vectorized convolution path needs channels-last data and spatial-first
// filters (output channels on vector lanes). This pass rewrites channels-first
// ops into channels-last ones wrapped in relayouts, then moves the relayouts
// down through elementwise ops until they cancel against each other.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELCONVERTLAYOUT
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;
using namespace mlir::tessel;

namespace {

Value relayout(PatternRewriter &rewriter, Location loc, Value value,
               ActivationLayout from, ActivationLayout to) {
  return RelayoutOp::create(rewriter, loc, value, from, to);
}

/// A conv (or conv_transpose) in any layout becomes channels-last with a
/// spatial-first filter.
struct ConvToChannelsLast : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    ActivationLayout layout = op.getLayout();
    FilterLayout filterLayout = op.getFilterLayout();
    FilterFamily family = getFilterFamily(filterLayout);
    if (isChannelsLast(layout) && family == FilterFamily::SpatialFirst)
      return failure();
    Location loc = op.getLoc();
    ActivationLayout last = getChannelsLastLayout(getSpatialRank(layout));
    Value input = op.getInput();
    if (!isChannelsLast(layout))
      input = relayout(rewriter, loc, input, layout, last);
    Value filter = op.getFilter();
    if (family != FilterFamily::SpatialFirst) {
      // [O, I, k...] -> [k..., I, O]
      int64_t rank = getSpatialRank(filterLayout) + 2;
      SmallVector<int64_t> perm;
      for (int64_t d = 2; d < rank; ++d)
        perm.push_back(d);
      perm.append({1, 0});
      filter = TransposeOp::create(rewriter, loc, filter,
                                   rewriter.getDenseI64ArrayAttr(perm));
    }
    MLIRContext *context = op.getContext();
    auto conv = ConvOp::create(
        rewriter, loc, input, filter, op.getBias(),
        ActivationLayoutAttr::get(context, last),
        FilterLayoutAttr::get(context,
                              getSpatialFirstFilterLayout(getSpatialRank(filterLayout))),
        op.getStridesAttr(), op.getDilationsAttr(), op.getPaddingAttr(),
        op.getGroupsAttr());
    Value result = conv.getResult();
    if (!isChannelsLast(layout))
      result = relayout(rewriter, loc, result, last, layout);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// An op with a channels-first `layout` attribute is rebuilt channels-last
/// between relayouts of its first `numActivations` operands (the input, and
/// for pooling gradients also grad_output) and of its first result.
template <typename OpTy, unsigned numActivations = 1>
struct ActivationToChannelsLast : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    std::optional<ActivationLayout> layout = op.getLayout();
    if (!layout || isChannelsLast(*layout))
      return failure();
    Location loc = op.getLoc();
    ActivationLayout last = getChannelsLastLayout(getSpatialRank(*layout));
    SmallVector<Value> inputs;
    for (unsigned i = 0; i < numActivations; ++i)
      inputs.push_back(relayout(rewriter, loc, op->getOperand(i), *layout, last));
    Operation *clone = rewriter.clone(*op.getOperation());
    clone->setAttr("layout", ActivationLayoutAttr::get(op.getContext(), last));
    for (auto [i, input] : llvm::enumerate(inputs))
      clone->setOperand(i, input);
    // Result types follow the new layout; per-channel results (batch stats)
    // have no layout.
    SmallVector<Type> types;
    auto inferred = cast<InferTypeOpInterface>(clone);
    if (failed(inferred.inferReturnTypes(
            op.getContext(), loc, clone->getOperands(), clone->getRawDictionaryAttrs(),
            clone->getPropertiesStorage(), clone->getRegions(), types))) {
      rewriter.eraseOp(clone);
      return failure();
    }
    SmallVector<Value> results;
    for (auto [result, type] : llvm::zip(clone->getResults(), types)) {
      result.setType(type);
      results.push_back(result);
    }
    results[0] = relayout(rewriter, loc, results[0], last, *layout);
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// unary(relayout(x)) -> relayout(unary(x)): elementwise ops commute with
/// layout changes, so relayouts sink until they meet their inverse.
struct SinkRelayoutThroughUnary : RewritePattern {
  SinkRelayoutThroughUnary(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!op->hasTrait<OpTrait::SameOperandsAndResultType>() ||
        op->getNumOperands() != 1 || !isa<TesselDialect>(op->getDialect()))
      return failure();
    auto producer = op->getOperand(0).getDefiningOp<RelayoutOp>();
    if (!producer)
      return failure();
    Operation *moved = rewriter.clone(*op);
    moved->setOperand(0, producer.getInput());
    moved->getResult(0).setType(producer.getInput().getType());
    rewriter.replaceOp(op, relayout(rewriter, op->getLoc(), moved->getResult(0),
                                    producer.getSource(), producer.getTarget()));
    return success();
  }
};

/// binary(relayout(a), relayout(b)) with the same layouts and shapes ->
/// relayout(binary(a, b)).
template <typename OpTy>
struct SinkRelayoutThroughBinary : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto lhs = op.getLhs().template getDefiningOp<RelayoutOp>();
    auto rhs = op.getRhs().template getDefiningOp<RelayoutOp>();
    if (!lhs || !rhs || lhs.getSource() != rhs.getSource() ||
        lhs.getTarget() != rhs.getTarget() ||
        lhs.getInput().getType() != rhs.getInput().getType() ||
        op.getLhs().getType() != op.getType())
      return failure();
    Value inner = OpTy::create(rewriter, op.getLoc(), lhs.getInput(), rhs.getInput());
    rewriter.replaceOp(op, relayout(rewriter, op.getLoc(), inner, lhs.getSource(),
                                    lhs.getTarget()));
    return success();
  }
};

/// binary(relayout(a), c) or binary(c, relayout(a)) where c only varies
/// along the channel dim (a per-channel scale or shift, such as a batch
/// norm's, of shape [C, 1, 1] or [1, C, 1, 1]) -> relayout(binary(a, c'))
/// with c' the same values shaped for a's layout.
template <typename OpTy>
struct SinkRelayoutThroughChannelBroadcast : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto lhs = op.getLhs().template getDefiningOp<RelayoutOp>();
    auto rhs = op.getRhs().template getDefiningOp<RelayoutOp>();
    if ((lhs != nullptr) == (rhs != nullptr))
      return failure();
    RelayoutOp relayoutOp = lhs ? lhs : rhs;
    Value other = lhs ? op.getRhs() : op.getLhs();
    if (relayoutOp.getType() != op.getType())
      return failure();
    // Right-aligned against the result, `other` may only vary along the
    // channel dim.
    ActivationLayout from = relayoutOp.getSource(), to = relayoutOp.getTarget();
    ArrayRef<int64_t> shape = cast<RankedTensorType>(other.getType()).getShape();
    unsigned rank = getRank(to);
    if (shape.size() > rank)
      return failure();
    int64_t channels = 1;
    for (auto [i, size] : llvm::enumerate(shape)) {
      unsigned dim = rank - shape.size() + i;
      if (dim == getChannelDim(to))
        channels = size;
      else if (size != 1)
        return failure();
    }
    SmallVector<int64_t> reshaped(rank, 1);
    reshaped[getChannelDim(from)] = channels;
    Location loc = op.getLoc();
    Value moved = ReshapeOp::create(
        rewriter, loc,
        RankedTensorType::get(reshaped, getElementTypeOrSelf(other.getType())), other,
        rewriter.getDenseI64ArrayAttr(reshaped));
    Value inner = lhs ? OpTy::create(rewriter, loc, relayoutOp.getInput(), moved)
                      : OpTy::create(rewriter, loc, moved, relayoutOp.getInput());
    rewriter.replaceOp(op, relayout(rewriter, loc, inner, from, to));
    return success();
  }
};

/// concat(relayout(a), relayout(b), ...) with the same layouts ->
/// relayout(concat(a, b, ...)) along the same dim of the inputs' layout: a
/// DenseNet's or an Inception block's channel concatenation then stays
/// channels-last, and the relayouts of its convs' outputs and of its
/// consumers' inputs cancel instead of transposing every activation twice.
struct SinkRelayoutThroughConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs;
    RelayoutOp first;
    for (Value input : op.getInputs()) {
      auto producer = input.getDefiningOp<RelayoutOp>();
      if (!producer || (first && (producer.getSource() != first.getSource() ||
                                  producer.getTarget() != first.getTarget())))
        return failure();
      first = first ? first : producer;
      inputs.push_back(producer.getInput());
    }
    if (!first)
      return failure();
    ActivationLayout from = first.getSource(), to = first.getTarget();
    int64_t rank = getRank(to);
    // Result dim i of the relayout is input dim perm[i].
    int64_t axis = getRelayoutPermutation(from, to)[wrapAxis(op.getAxis(), rank)];
    PropertiesOf<ConcatOp> properties;
    properties.setAxis(rewriter.getI64IntegerAttr(axis));
    auto inner = createInferred<ConcatOp>(rewriter, op.getLoc(), inputs, properties);
    if (!inner)
      return failure();
    rewriter.replaceOp(op, relayout(rewriter, op.getLoc(), inner, from, to));
    return success();
  }
};

/// reduce(relayout(x)) -> reduce(x) over the same dims, where the dims the
/// reduction keeps come out in the same order either way (a batch norm
/// gradient's sum over all but the channels); with `keepdims` the small
/// result is relayouted instead of the input.
template <typename OpTy>
struct SinkRelayoutIntoReduction : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto producer = op.getInput().template getDefiningOp<RelayoutOp>();
    if (!producer)
      return failure();
    int64_t rank = getRank(producer.getTarget());
    // Result dim i of the relayout is input dim perm[i].
    SmallVector<int64_t> perm =
        getRelayoutPermutation(producer.getSource(), producer.getTarget());
    SmallVector<bool> reduced(rank, !op.getAxes().has_value());
    if (std::optional<ArrayRef<int64_t>> axes = op.getAxes())
      for (int64_t axis : *axes)
        reduced[wrapAxis(axis, rank)] = true;
    SmallVector<int64_t> axes;
    int64_t previous = -1;
    for (int64_t d = 0; d < rank; ++d) {
      if (reduced[d]) {
        axes.push_back(perm[d]);
        continue;
      }
      if (!op.getKeepdims() && perm[d] < previous)
        return failure(); // the kept dims would come out transposed
      previous = perm[d];
    }
    llvm::sort(axes);
    Location loc = op.getLoc();
    Value inner = OpTy::create(rewriter, loc, producer.getInput(),
                               rewriter.getDenseI64ArrayAttr(axes), op.getKeepdims());
    if (op.getKeepdims())
      inner = relayout(rewriter, loc, inner, producer.getSource(), producer.getTarget());
    rewriter.replaceOp(op, inner);
    return success();
  }
};

struct ConvertLayoutPass : tessel::impl::TesselConvertLayoutBase<ConvertLayoutPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<ConvToChannelsLast, ActivationToChannelsLast<PoolOp>,
                 ActivationToChannelsLast<PoolBackwardOp, 2>,
                 ActivationToChannelsLast<AdaptivePoolBackwardOp, 2>,
                 ActivationToChannelsLast<PoolTangentOp, 2>,
                 ActivationToChannelsLast<AdaptivePoolTangentOp, 2>,
                 ActivationToChannelsLast<GlobalPoolOp>,
                 ActivationToChannelsLast<BatchNormOp>,
                 ActivationToChannelsLast<BatchNormTrainOp>, SinkRelayoutThroughUnary,
                 SinkRelayoutThroughBinary<AddOp>, SinkRelayoutThroughBinary<SubOp>,
                 SinkRelayoutThroughBinary<MulOp>, SinkRelayoutThroughBinary<DivOp>,
                 SinkRelayoutThroughChannelBroadcast<AddOp>,
                 SinkRelayoutThroughChannelBroadcast<SubOp>,
                 SinkRelayoutThroughChannelBroadcast<MulOp>,
                 SinkRelayoutThroughChannelBroadcast<DivOp>, SinkRelayoutThroughConcat,
                 SinkRelayoutIntoReduction<SumOp>, SinkRelayoutIntoReduction<MeanOp>,
                 SinkRelayoutIntoReduction<MaxOp>, SinkRelayoutIntoReduction<MinOp>>(context);
    RelayoutOp::getCanonicalizationPatterns(patterns, context);
    TransposeOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
