//===- OptimizerToLinalg.cpp - Lower tessel optimizer updates -------------===//
//
// Each update is one elementwise linalg.generic with a result per updated
// tensor, so a parameter and its state are read and written in one pass.
// The updated tensors are the generic's outs (read through its output block
// arguments): bufferization then writes them in place wherever it may, so a
// training step whose results are tied to its inputs (tessel.updates)
// updates the caller's buffers without a copy.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// An elementwise generic that updates `updated` (each of `type`) from
/// `inputs` (each of `type`, or 0-D and read as a scalar); `body` receives
/// the updated tensors' elements, then the inputs'.
SmallVector<Value> buildUpdate(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange updated,
    ValueRange inputs,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *context = b.getContext();
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(cast<RankedTensorType>(v.getType()).getRank() == 0
                       ? AffineMap::get(rank, 0, context)
                       : b.getMultiDimIdentityMap(rank));
  maps.append(updated.size(), b.getMultiDimIdentityMap(rank));
  auto generic = linalg::GenericOp::create(
      b, loc, SmallVector<Type>(updated.size(), type), inputs, updated, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> ordered(args.drop_front(inputs.size()));
        llvm::append_range(ordered, args.take_front(inputs.size()));
        linalg::YieldOp::create(nb, nl, body(nb, nl, ordered));
      });
  return generic.getResults();
}

/// The learning rate: the attribute's `constant`, times the run-time rate
/// when the op has one (`runtime` holds it, or is empty).
Value runtimeRate(OpBuilder &b, Location l, Value constant, ValueRange runtime) {
  if (runtime.empty())
    return constant;
  return arith::MulFOp::create(b, l, constant, runtime.front());
}

struct SgdUpdateOpLowering : OpConversionPattern<SgdUpdateOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SgdUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    double lr = op.getLearningRate().convertToDouble();
    double momentum = op.getMomentum().convertToDouble();
    double decay = op.getWeightDecay().convertToDouble();
    bool nesterov = op.getNesterov();
    SmallVector<Value> inputs{adaptor.getGrad()};
    if (adaptor.getLr())
      inputs.push_back(adaptor.getLr());
    rewriter.replaceOp(
        op, buildUpdate(
                rewriter, op.getLoc(), type,
                {adaptor.getParam(), adaptor.getVelocity()}, inputs,
                [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
                  // args: param, velocity, grad, then the run-time rate.
                  Type t = args[0].getType();
                  auto c = [&](double v) { return createFloatConstant(b, l, t, v); };
                  Value p = args[0], g = args[2];
                  if (decay != 0)
                    g = arith::AddFOp::create(b, l, g,
                                              arith::MulFOp::create(b, l, c(decay), p));
                  Value v = arith::AddFOp::create(
                      b, l, arith::MulFOp::create(b, l, c(momentum), args[1]), g);
                  Value step = nesterov ? arith::AddFOp::create(
                                              b, l, g,
                                              arith::MulFOp::create(b, l, c(momentum), v))
                                              .getResult()
                                        : v;
                  Value rate = runtimeRate(b, l, c(lr), args.drop_front(3));
                  Value updated = arith::SubFOp::create(
                      b, l, p, arith::MulFOp::create(b, l, rate, step));
                  return {updated, v};
                }));
    return success();
  }
};

struct AdamUpdateOpLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    double lr = op.getLearningRate().convertToDouble();
    double beta1 = op.getBeta1().convertToDouble();
    double beta2 = op.getBeta2().convertToDouble();
    double epsilon = op.getEpsilon().convertToDouble();
    double decay = op.getWeightDecay().convertToDouble();
    bool decoupled = op.getDecoupled();
    SmallVector<Value> inputs{adaptor.getGrad(), adaptor.getStep()};
    if (adaptor.getLr())
      inputs.push_back(adaptor.getLr());
    rewriter.replaceOp(
        op, buildUpdate(
                rewriter, op.getLoc(), type,
                {adaptor.getParam(), adaptor.getM(), adaptor.getV()}, inputs,
                [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
                  // args: param, m, v, grad, step, then the run-time rate.
                  Type t = args[0].getType();
                  auto c = [&](double v) { return createFloatConstant(b, l, t, v); };
                  auto mul = [&](Value x, Value y) {
                    return arith::MulFOp::create(b, l, x, y).getResult();
                  };
                  auto add = [&](Value x, Value y) {
                    return arith::AddFOp::create(b, l, x, y).getResult();
                  };
                  Value p = args[0], g = args[3], step = args[4];
                  auto rate = [&] { return runtimeRate(b, l, c(lr), args.drop_front(5)); };
                  if (decay != 0 && !decoupled)
                    g = add(g, mul(c(decay), p));
                  if (decay != 0 && decoupled)
                    p = mul(p, args.size() > 5 ? arith::SubFOp::create(
                                                     b, l, c(1), mul(rate(), c(decay)))
                                                     .getResult()
                                               : c(1 - lr * decay));
                  Value m = add(mul(c(beta1), args[1]), mul(c(1 - beta1), g));
                  Value v = add(mul(c(beta2), args[2]), mul(c(1 - beta2), mul(g, g)));
                  // Bias corrections 1 - beta^step.
                  auto correction = [&](double beta) {
                    Value power = math::PowFOp::create(b, l, c(beta), step);
                    return arith::SubFOp::create(b, l, c(1), power).getResult();
                  };
                  Value mHat = arith::DivFOp::create(b, l, m, correction(beta1));
                  Value vHat = arith::DivFOp::create(b, l, v, correction(beta2));
                  Value denominator = add(math::SqrtOp::create(b, l, vHat), c(epsilon));
                  Value updated = arith::SubFOp::create(
                      b, l, p,
                      mul(rate(), arith::DivFOp::create(b, l, mHat, denominator)));
                  return {updated, m, v};
                }));
    return success();
  }
};

} // namespace

void mlir::tessel::populateOptimizerToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<SgdUpdateOpLowering, AdamUpdateOpLowering>(patterns.getContext());
}
