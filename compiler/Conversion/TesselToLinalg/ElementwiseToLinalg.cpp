//===- ElementwiseToLinalg.cpp - Lower activations and arithmetic ---------===//
//
// Every elementwise op becomes an elementwise linalg.generic; binary operands
// broadcast through their indexing maps, never through a materialized copy.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Computes the scalar result of an elementwise tessel op from its operands.
Value computeScalar(Operation *op, OpBuilder &b, Location loc, ValueRange args) {
  Type type = args[0].getType();
  Value x = args[0];
  auto cst = [&](double v) { return createFloatConstant(b, loc, type, v); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](ReluOp) { return arith::MaximumFOp::create(b, loc, x, cst(0.0)); })
      .Case([&](SigmoidOp) -> Value {
        Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
        return arith::DivFOp::create(b, loc, cst(1.0),
                                     arith::AddFOp::create(b, loc, cst(1.0), e));
      })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, x); })
      .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, x); })
      .Case([&](NegOp) { return arith::NegFOp::create(b, loc, x); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
      .Case([&](ErfOp) { return math::ErfOp::create(b, loc, x); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, x); })
      .Case([&](SignOp) -> Value {
        // +1 and -1 off zero; zero (either sign) and NaN pass through.
        Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, cst(0.0));
        Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, cst(0.0));
        return arith::SelectOp::create(
            b, loc, pos, cst(1.0), arith::SelectOp::create(b, loc, neg, cst(-1.0), x));
      })
      .Case([&](LeakyReluOp leaky) -> Value {
        Value scaled = arith::MulFOp::create(
            b, loc, x, cst(leaky.getAlpha().convertToDouble()));
        Value keep = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, x, cst(0.0));
        return arith::SelectOp::create(b, loc, keep, x, scaled);
      })
      .Case([&](ClampOp clamp) -> Value {
        Value v = x;
        if (auto min = clamp.getMin())
          v = arith::MaximumFOp::create(b, loc, v, cst(min->convertToDouble()));
        if (auto max = clamp.getMax())
          v = arith::MinimumFOp::create(b, loc, v, cst(max->convertToDouble()));
        return v;
      })
      .Case([&](AddOp) { return arith::AddFOp::create(b, loc, x, args[1]); })
      .Case([&](SubOp) { return arith::SubFOp::create(b, loc, x, args[1]); })
      .Case([&](MulOp) { return arith::MulFOp::create(b, loc, x, args[1]); })
      .Case([&](DivOp) { return arith::DivFOp::create(b, loc, x, args[1]); })
      .Case([&](PowOp) { return math::PowFOp::create(b, loc, x, args[1]); })
      .Case([&](MaximumOp) { return arith::MaximumFOp::create(b, loc, x, args[1]); })
      .Case([&](MinimumOp) { return arith::MinimumFOp::create(b, loc, x, args[1]); })
      .Default([](Operation *) -> Value { llvm_unreachable("not elementwise"); });
}

template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Value result = buildElementwise(
        rewriter, op.getLoc(), resultType, adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return computeScalar(op, b, loc, args.drop_back());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tessel::populateElementwiseToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering<ReluOp>, ElementwiseLowering<SigmoidOp>,
               ElementwiseLowering<TanhOp>, ElementwiseLowering<AbsOp>,
               ElementwiseLowering<NegOp>, ElementwiseLowering<SqrtOp>,
               ElementwiseLowering<ExpOp>, ElementwiseLowering<ErfOp>,
               ElementwiseLowering<LogOp>,
               ElementwiseLowering<SignOp>, ElementwiseLowering<LeakyReluOp>,
               ElementwiseLowering<ClampOp>, ElementwiseLowering<AddOp>,
               ElementwiseLowering<SubOp>, ElementwiseLowering<MulOp>,
               ElementwiseLowering<DivOp>, ElementwiseLowering<PowOp>,
               ElementwiseLowering<MaximumOp>, ElementwiseLowering<MinimumOp>>(
      patterns.getContext());
}
