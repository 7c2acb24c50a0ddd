//===- ReductionToLinalg.cpp - Lower softmax, reductions and losses -------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/SmallBitVector.h"


using namespace mlir;
using namespace mlir::tessel;

namespace {

using Combine = function_ref<Value(OpBuilder &, Location, Value, Value)>;

/// Reduces the dims set in `reduced` with `combine`, starting from
/// `identity`; reduced dims stay as size 1 with `keepDims`.
Value reduce(OpBuilder &b, Location loc, Value input,
             const llvm::SmallBitVector &reduced, bool keepDims, Value identity,
             Combine combine) {
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> exprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    iterators.push_back(reduced.test(d) ? utils::IteratorType::reduction
                                        : utils::IteratorType::parallel);
    if (!reduced.test(d)) {
      shape.push_back(type.getShape()[d]);
      exprs.push_back(getAffineDimExpr(d, context));
    } else if (keepDims) {
      shape.push_back(1);
      exprs.push_back(getAffineConstantExpr(0, context));
    }
  }
  Value init = createFilledTensor(
      b, loc, RankedTensorType::get(shape, type.getElementType()), identity);
  return buildGeneric(b, loc, input, init,
                      {b.getMultiDimIdentityMap(type.getRank()),
                       AffineMap::get(type.getRank(), 0, exprs, context)},
                      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
                        return combine(nb, nl, args[1], args[0]);
                      });
}

Value add(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::AddFOp::create(b, loc, acc, x);
}
Value max(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::MaximumFOp::create(b, loc, acc, x);
}
Value min(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::MinimumFOp::create(b, loc, acc, x);
}

/// softmax and log_softmax with the maximum subtracted first.
template <typename OpTy, bool isLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type elementType = type.getElementType();
    int64_t axis = wrapAxis(op.getAxis(), type.getRank());
    llvm::SmallBitVector reduced(type.getRank());
    reduced.set(axis);
    Value maxima = reduce(rewriter, loc, x, reduced, /*keepDims=*/true,
                          createNegativeInfinity(rewriter, loc, elementType), max);
    Value exps = buildElementwise(
        rewriter, loc, type, ValueRange{x, maxima},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return math::ExpOp::create(b, l, arith::SubFOp::create(b, l, args[0], args[1]));
        });
    Value sums = reduce(rewriter, loc, exps, reduced, /*keepDims=*/true,
                        createFloatConstant(rewriter, loc, elementType, 0.0), add);
    Value result;
    if (isLog)
      result = buildElementwise(
          rewriter, loc, type, ValueRange{x, maxima, sums},
          [](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value shifted = arith::SubFOp::create(b, l, args[0], args[1]);
            return arith::SubFOp::create(b, l, shifted,
                                         math::LogOp::create(b, l, args[2]));
          });
    else
      result = buildElementwise(rewriter, loc, type, ValueRange{exps, sums},
                                [](OpBuilder &b, Location l, ValueRange args) -> Value {
                                  return arith::DivFOp::create(b, l, args[0], args[1]);
                                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The dims an optional `axes` list names (all dims when absent).
llvm::SmallBitVector getReducedDims(std::optional<ArrayRef<int64_t>> axes,
                                    int64_t rank) {
  llvm::SmallBitVector reduced(rank, !axes.has_value());
  if (axes)
    for (int64_t axis : *axes)
      reduced.set(wrapAxis(axis, rank));
  return reduced;
}

enum class ReduceKind { Sum, Mean, Max, Min };

template <typename OpTy, ReduceKind kind>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    llvm::SmallBitVector reduced = getReducedDims(op.getAxes(), type.getRank());
    Type elementType = type.getElementType();
    // Each reduction starts from its identity: -inf, +inf or 0.
    arith::AtomicRMWKind identity = kind == ReduceKind::Max   ? arith::AtomicRMWKind::maximumf
                                    : kind == ReduceKind::Min ? arith::AtomicRMWKind::minimumf
                                                              : arith::AtomicRMWKind::addf;
    Value init = arith::getIdentityValue(identity, elementType, rewriter, loc);
    Combine combine = kind == ReduceKind::Max   ? Combine(max)
                      : kind == ReduceKind::Min ? Combine(min)
                                                : Combine(add);
    Value sums = reduce(rewriter, loc, adaptor.getInput(), reduced, op.getKeepdims(), init,
                        combine);
    if (kind == ReduceKind::Mean) {
      int64_t count = 1;
      for (int64_t d : reduced.set_bits())
        count *= type.getShape()[d];
      sums = buildElementwise(
          rewriter, loc, cast<RankedTensorType>(sums.getType()), sums,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(
                b, l, args[0], createFloatConstant(b, l, args[0].getType(), count));
          });
    }
    rewriter.replaceOp(op, sums);
    return success();
  }
};

/// Reduces a per-element loss with `reduction` (none: as is).
Value reduceLoss(OpBuilder &b, Location loc, Value losses, Reduction reduction) {
  if (reduction == Reduction::None)
    return losses;
  auto type = cast<RankedTensorType>(losses.getType());
  llvm::SmallBitVector all(type.getRank(), true);
  Value sum = reduce(b, loc, losses, all, /*keepDims=*/false,
                     createFloatConstant(b, loc, type.getElementType(), 0.0), add);
  if (reduction == Reduction::Sum)
    return sum;
  double count = static_cast<double>(type.getNumElements());
  return buildElementwise(b, loc, cast<RankedTensorType>(sum.getType()), sum,
                          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                            return arith::DivFOp::create(
                                nb, nl, args[0],
                                createFloatConstant(nb, nl, args[0].getType(), count));
                          });
}

struct MseLossLowering : OpConversionPattern<MseLossOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MseLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(adaptor.getLhs().getType());
    Value squares = buildElementwise(
        rewriter, loc, type, ValueRange{adaptor.getLhs(), adaptor.getRhs()},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value d = arith::SubFOp::create(b, l, args[0], args[1]);
          return arith::MulFOp::create(b, l, d, d);
        });
    rewriter.replaceOp(op, reduceLoss(rewriter, loc, squares, op.getReduction()));
    return success();
  }
};

/// -log_softmax(logits)[label] per element (NaN for a label outside
/// [0, C)), then reduced.
struct CrossEntropyLowering : OpConversionPattern<CrossEntropyOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CrossEntropyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logits = adaptor.getLogits(), labels = adaptor.getLabels();
    auto logitsType = cast<RankedTensorType>(logits.getType());
    auto labelsType = cast<RankedTensorType>(labels.getType());
    Type elementType = logitsType.getElementType();
    int64_t classes = logitsType.getShape()[1];
    llvm::SmallBitVector classDim(logitsType.getRank());
    classDim.set(1);
    Value maxima = reduce(rewriter, loc, logits, classDim, /*keepDims=*/false,
                          createNegativeInfinity(rewriter, loc, elementType), max);
    // sum(exp(x - max)) over classes, as [N, d...].
    Value sums = [&] {
      MLIRContext *context = rewriter.getContext();
      unsigned rank = logitsType.getRank();
      SmallVector<AffineExpr> dropClass;
      for (unsigned d = 0; d < rank; ++d)
        if (d != 1)
          dropClass.push_back(getAffineDimExpr(d, context));
      AffineMap reduced = AffineMap::get(rank, 0, dropClass, context);
      SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
      iterators[1] = utils::IteratorType::reduction;
      Value init = createFilledTensor(
          rewriter, loc, RankedTensorType::get(labelsType.getShape(), elementType),
          createFloatConstant(rewriter, loc, elementType, 0.0));
      return buildGeneric(rewriter, loc, ValueRange{logits, maxima}, init,
                          {rewriter.getMultiDimIdentityMap(rank), reduced, reduced},
                          iterators, [](OpBuilder &b, Location l, ValueRange args) -> Value {
                            Value e = math::ExpOp::create(
                                b, l, arith::SubFOp::create(b, l, args[0], args[1]));
                            return arith::AddFOp::create(b, l, args[2], e);
                          });
    }();
    auto lossType = RankedTensorType::get(labelsType.getShape(), elementType);
    Value losses = buildElementwise(
        rewriter, loc, lossType, ValueRange{labels, maxima, sums},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value label = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          SmallVector<Value> index;
          for (int64_t d = 0; d < lossType.getRank(); ++d)
            index.push_back(linalg::IndexOp::create(b, l, d));
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value inRange = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, label, zero),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, label,
                                    arith::ConstantIndexOp::create(b, l, classes)));
          Value safe = arith::SelectOp::create(b, l, inRange, label, zero);
          index.insert(index.begin() + 1, safe);
          Value picked = tensor::ExtractOp::create(b, l, logits, index);
          // -(x - max - log(sum))
          Value logSum = math::LogOp::create(b, l, args[2]);
          Value loss = arith::SubFOp::create(
              b, l, arith::AddFOp::create(b, l, args[1], logSum), picked);
          Value nan = createFloatConstant(b, l, elementType, std::nan(""));
          return arith::SelectOp::create(b, l, inRange, loss, nan);
        });
    rewriter.replaceOp(op, reduceLoss(rewriter, loc, losses, op.getReduction()));
    return success();
  }
};

} // namespace

void mlir::tessel::populateReductionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<SoftmaxLowering<SoftmaxOp, false>, SoftmaxLowering<LogSoftmaxOp, true>,
               ReduceLowering<SumOp, ReduceKind::Sum>,
               ReduceLowering<MeanOp, ReduceKind::Mean>, ReduceLowering<MaxOp, ReduceKind::Max>,
               ReduceLowering<MinOp, ReduceKind::Min>,
               MseLossLowering, CrossEntropyLowering>(patterns.getContext());
}
