//===- FuseElementwise.cpp - Elementwise fusion that keeps weights whole --===//
//
// Upstream's linalg-fuse-elementwise-ops with two controls changed: reshapes
// are not propagated through an op that reads a large constant, which would
// be copied into the reshaped shape at compile time; and a cheap producer
// with several users is copied into each instead of being written.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "compiler/Transforms/ReversedLoops.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELFUSEELEMENTWISE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Whether `op` reads a constant of more than `maxBytes`.
bool readsLargeConstant(Operation *op, int64_t maxBytes) {
  return llvm::any_of(op->getOperands(), [&](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isIntOrFloat() ||
        !matchPattern(v, m_Constant()))
      return false;
    return type.getNumElements() * type.getElementTypeBitWidth() / 8 > maxBytes;
  });
}

/// A linalg.transpose as the generic it is, so that elementwise fusion can
/// merge it with the copies and ops around it: a conv_transpose's filter,
/// its channels swapped and then laid out for the conv, is transposed once.
struct GeneralizeTranspose : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

/// A copy that permutes the dims of a flip's result (a conv_transpose's
/// filter, flipped and then laid out for the conv, as autodiff and the
/// layout pass emit it) is rewritten to permute the unflipped tensor and
/// flip its result: a flip of a filter's kernel dims then sits between the
/// layout copy and the conv, where tessel-vectorize reads each kernel tap of
/// it from the copy at the mirrored tap instead of making the flipped copy.
/// (Fused into one op, the flip would leave the copy uncut across threads
/// and cache tiles, see ReversedLoops.h.)
struct FlipAfterPermutation : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp copy,
                                PatternRewriter &rewriter) const override {
    AffineMap in = copy.getIndexingMapsArray()[0];
    if (!tessel::isCopy(copy) || !copy.hasPureTensorSemantics() || !in.isPermutation() ||
        !copy.getIndexingMapsArray()[1].isIdentity())
      return failure();
    auto flip = copy.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
    if (!flip || !flip->hasOneUse())
      return failure();
    SmallVector<std::optional<int64_t>> reversed = tessel::getFlip(flip);
    if (reversed.empty())
      return failure();
    // The copy reads dim j of the flip as loop in.getDimPosition(j); the
    // flip of its result reverses those loops.
    Location loc = copy.getLoc();
    auto type = cast<RankedTensorType>(copy->getResult(0).getType());
    auto yieldInput = [](OpBuilder &b, Location l, ValueRange args) {
      linalg::YieldOp::create(b, l, args[0]);
    };
    Value permuted =
        linalg::GenericOp::create(rewriter, loc, type, flip.getDpsInputs()[0],
                                  copy.getDpsInits()[0], copy.getIndexingMapsArray(),
                                  copy.getIteratorTypesArray(), yieldInput)
            .getResult(0);
    SmallVector<AffineExpr> reads(type.getRank());
    for (auto [j, c] : llvm::enumerate(reversed)) {
      unsigned loop = in.getDimPosition(j);
      AffineExpr d = rewriter.getAffineDimExpr(loop);
      reads[loop] = c ? rewriter.getAffineConstantExpr(*c) - d : d;
    }
    MLIRContext *context = rewriter.getContext();
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(), type.getElementType());
    auto flipped = linalg::GenericOp::create(
        rewriter, loc, type, permuted, empty,
        ArrayRef<AffineMap>{AffineMap::get(type.getRank(), 0, reads, context),
                            AffineMap::getMultiDimIdentityMap(type.getRank(), context)},
        SmallVector<utils::IteratorType>(type.getRank(), utils::IteratorType::parallel),
        yieldInput);
    rewriter.replaceOp(copy, flipped->getResults());
    return success();
  }
};

/// Most arithmetic ops in the body of a producer copied into each of its
/// consumers (DuplicateCheapProducer).
constexpr int64_t kMaxDuplicatedOps = 4;

/// An elementwise generic with several users, every one a generic it fuses
/// into (`fusable`) or a reshape that such generics read, is copied for
/// each: each copy then fuses into its user, and the producer's result is
/// never written. Only cheap ones (a few arithmetic ops) that read one
/// tensor of their own size (the rest broadcasts): the users then read that
/// tensor instead, as many bytes as before, and the producer's write and its
/// reads are saved. A training
/// step's batch-norm gradient computed (x - mean) * inv and dy * scale as
/// tensors that three reductions and dx each read back; a stride-2
/// depthwise conv's input gradient reads the ReLU6 mask through a reshape
/// into its four phases, which left the forward clamp a kernel of its own.
struct DuplicateCheapProducer : OpRewritePattern<linalg::GenericOp> {
  DuplicateCheapProducer(MLIRContext *context, linalg::ControlFusionFn fusable)
      : OpRewritePattern(context), fusable(std::move(fusable)) {}

  LogicalResult matchAndRewrite(linalg::GenericOp producer,
                                PatternRewriter &rewriter) const override {
    if (producer->getNumResults() != 1 || producer.getNumReductionLoops() != 0 ||
        producer->getResult(0).hasOneUse() || producer->getResult(0).use_empty() ||
        !producer.getMatchingIndexingMap(producer.getDpsInitOperand(0)).isIdentity())
      return failure();
    auto resultType = dyn_cast<RankedTensorType>(producer->getResult(0).getType());
    if (!resultType || !resultType.hasStaticShape())
      return failure();
    int64_t large = llvm::count_if(producer.getDpsInputs(), [&](Value input) {
      auto type = dyn_cast<RankedTensorType>(input.getType());
      return !type || !type.hasStaticShape() ||
             type.getNumElements() >= resultType.getNumElements();
    });
    if (large > 1 ||
        llvm::range_size(producer.getBody()->without_terminator()) > kMaxDuplicatedOps)
      return failure();
    // Every use an input of a generic the copy would fuse into, or an
    // expand_shape read only by such generics: the copy then takes the
    // reshape's shape (FoldReshapeWithGenericOpByExpansion) and fuses.
    auto fusesInto = [&](OpOperand &use) {
      auto user = dyn_cast<linalg::GenericOp>(use.getOwner());
      return user && user.isDpsInput(&use) && fusable(&use);
    };
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : producer->getResult(0).getUses()) {
      auto expand = dyn_cast<tensor::ExpandShapeOp>(use.getOwner());
      if (expand ? expand->use_empty() || !llvm::all_of(expand->getUses(), fusesInto)
                 : !fusesInto(use))
        return failure();
      uses.push_back(&use);
    }
    rewriter.setInsertionPoint(producer);
    for (OpOperand *use : llvm::drop_begin(uses)) {
      Operation *copy = rewriter.clone(*producer);
      rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(copy->getResult(0)); });
    }
    return success();
  }

  /// Whether a use fuses, but for the producer's other uses.
  linalg::ControlFusionFn fusable;
};

struct FuseElementwisePass : tessel::impl::TesselFuseElementwiseBase<FuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t maxBytes = maxConstantBytes;
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    // Upstream's control: a producer with one use. Copies that read
    // backwards (flips) stay apart: fused with a transpose they would make
    // one op that no tile may cut (see ReversedLoops.h). A producer that its
    // consumer broadcasts stays apart too: fused, it would be recomputed for
    // every element it is broadcast to (a squeeze-and-excitation block's
    // sigmoid of C gates, once per pixel of the H x W x C activation).
    linalg::ControlFusionFn fusable = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      if (!producer)
        return false;
      if (auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
          consumer && isa<linalg::LinalgOp>(producer) &&
          !consumer.getMatchingIndexingMap(operand).isPermutation())
        return false;
      for (Operation *op : {producer, operand->getOwner()})
        if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
            linalgOp && tessel::getReversedLoops(linalgOp).any())
          return false;
      return true;
    };
    linalg::ControlFusionFn fuse = [fusable](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() && fusable(operand);
    };
    // A reshape meets a generic either as its operand's producer or as the
    // user of its result: neither generic may read a large constant.
    linalg::ControlFusionFn reshape = [fuse, maxBytes](OpOperand *operand) {
      if (!fuse(operand))
        return false;
      for (Operation *op : {operand->getOwner(), operand->get().getDefiningOp()})
        if (isa<linalg::LinalgOp>(op) && readsLargeConstant(op, maxBytes))
          return false;
      return true;
    };
    patterns.add<GeneralizeTranspose, FlipAfterPermutation>(context);
    patterns.add<DuplicateCheapProducer>(context, fusable);
    linalg::populateElementwiseOpsFusionPatterns(patterns, fuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, reshape);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, fuse);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
