//===- ElementwiseRules.cpp - Gradients of activations and arithmetic -----===//
//
// Activations follow PyTorch's conventions at their kinks: relu, leaky_relu
// and clamp pass the gradient where x > 0 (relu), x > 0 else alpha (leaky),
// min <= x <= max (clamp); sign has a zero gradient. Binary ops broadcast,
// so each operand's gradient is summed back to its shape.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Registers `dx = fn(gb, op, dy)` for a unary op.
template <typename OpTy>
void addUnary(RuleTable &table, Value (*fn)(GradientBuilder &, OpTy, Value)) {
  addRule<OpTy>(table, [fn](GradientBuilder &gb, OpTy op, Value dy, ArrayRef<bool>,
                            SmallVectorImpl<Value> &grads) { grads[0] = fn(gb, op, dy); });
}

Value one(GradientBuilder &gb, Value like) { return gb.scalar(1.0, elementTypeOf(like)); }

/// Registers a binary op's rule from the gradients before broadcasting.
template <typename OpTy>
void addBinary(RuleTable &table, Value (*lhsFn)(GradientBuilder &, OpTy, Value),
               Value (*rhsFn)(GradientBuilder &, OpTy, Value)) {
  addRule<OpTy>(table, [lhsFn, rhsFn](GradientBuilder &gb, OpTy op, Value dy,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &grads) {
    if (needed[0])
      grads[0] = gb.sumTo(lhsFn(gb, op, dy), shapeOf(op.getLhs()));
    if (needed[1])
      grads[1] = gb.sumTo(rhsFn(gb, op, dy), shapeOf(op.getRhs()));
  });
}

/// dy (1 + sign(larger - smaller)) / 2: dy where `larger` is the larger
/// operand, half of it at a tie, zero elsewhere.
Value toLarger(GradientBuilder &gb, Value larger, Value smaller, Value dy) {
  return gb.mul(dy, gb.scale(gb.add(one(gb, dy), gb.sign(gb.sub(larger, smaller))), 0.5));
}

} // namespace

void mlir::tessel::registerElementwiseRules(RuleTable &table) {
  addUnary<ReluOp>(table, +[](GradientBuilder &gb, ReluOp op, Value dy) {
    return gb.mul(dy, gb.positive(op.getInput()));
  });
  addUnary<SigmoidOp>(table, +[](GradientBuilder &gb, SigmoidOp op, Value dy) {
    Value y = op.getResult();
    return gb.mul(dy, gb.mul(y, gb.sub(one(gb, y), y)));
  });
  addUnary<TanhOp>(table, +[](GradientBuilder &gb, TanhOp op, Value dy) {
    Value y = op.getResult();
    return gb.mul(dy, gb.sub(one(gb, y), gb.mul(y, y)));
  });
  addUnary<AbsOp>(table, +[](GradientBuilder &gb, AbsOp op, Value dy) {
    return gb.mul(dy, gb.sign(op.getInput()));
  });
  // d erf(x) = 2/sqrt(pi) exp(-x^2).
  addUnary<ErfOp>(table, +[](GradientBuilder &gb, ErfOp op, Value dy) {
    Value x = op.getInput();
    return gb.mul(dy, gb.scale(gb.exp(gb.neg(gb.mul(x, x))), 1.1283791670955126 /* 2 / sqrt(pi) */));
  });
  addUnary<NegOp>(table, +[](GradientBuilder &gb, NegOp, Value dy) { return gb.neg(dy); });
  addUnary<SqrtOp>(table, +[](GradientBuilder &gb, SqrtOp op, Value dy) {
    Value y = op.getResult();
    return gb.div(gb.scale(dy, 0.5), y);
  });
  addUnary<ExpOp>(table, +[](GradientBuilder &gb, ExpOp op, Value dy) {
    return gb.mul(dy, op.getResult());
  });
  addUnary<LogOp>(table, +[](GradientBuilder &gb, LogOp op, Value dy) {
    return gb.div(dy, op.getInput());
  });
  addUnary<SignOp>(table, +[](GradientBuilder &gb, SignOp op, Value) {
    return gb.splat(0.0, cast<RankedTensorType>(op.getType()));
  });
  addUnary<LeakyReluOp>(table, +[](GradientBuilder &gb, LeakyReluOp op, Value dy) {
    double alpha = op.getAlpha().convertToDouble();
    Type t = elementTypeOf(dy);
    // alpha + (1 - alpha) [x > 0]
    Value factor = gb.add(gb.scalar(alpha, t),
                          gb.scale(gb.positive(op.getInput()), 1.0 - alpha));
    return gb.mul(dy, factor);
  });
  addUnary<ClampOp>(table, +[](GradientBuilder &gb, ClampOp op, Value dy) {
    Value x = op.getInput();
    Type t = elementTypeOf(x);
    Value mask;
    auto andMask = [&](Value m) { mask = mask ? gb.mul(mask, m) : m; };
    // [x >= min] = 1 - [min - x > 0], [x <= max] = 1 - [x - max > 0].
    if (auto min = op.getMin())
      andMask(gb.sub(one(gb, x), gb.positive(gb.sub(gb.scalar(min->convertToDouble(), t), x))));
    if (auto max = op.getMax())
      andMask(gb.sub(one(gb, x), gb.positive(gb.sub(x, gb.scalar(max->convertToDouble(), t)))));
    return gb.mul(dy, mask);
  });

  addBinary<AddOp>(
      table, +[](GradientBuilder &, AddOp, Value dy) { return dy; },
      +[](GradientBuilder &, AddOp, Value dy) { return dy; });
  addBinary<SubOp>(
      table, +[](GradientBuilder &, SubOp, Value dy) { return dy; },
      +[](GradientBuilder &gb, SubOp, Value dy) { return gb.neg(dy); });
  addBinary<MulOp>(
      table, +[](GradientBuilder &gb, MulOp op, Value dy) { return gb.mul(dy, op.getRhs()); },
      +[](GradientBuilder &gb, MulOp op, Value dy) { return gb.mul(dy, op.getLhs()); });
  addBinary<DivOp>(
      table, +[](GradientBuilder &gb, DivOp op, Value dy) { return gb.div(dy, op.getRhs()); },
      +[](GradientBuilder &gb, DivOp op, Value dy) {
        // -dy * lhs / rhs^2 = -dy * y / rhs
        return gb.neg(gb.div(gb.mul(dy, op.getResult()), op.getRhs()));
      });
  addBinary<PowOp>(
      table,
      +[](GradientBuilder &gb, PowOp op, Value dy) {
        Value b = op.getRhs();
        return gb.mul(dy, gb.mul(b, gb.pow(op.getLhs(), gb.sub(b, one(gb, b)))));
      },
      +[](GradientBuilder &gb, PowOp op, Value dy) {
        return gb.mul(dy, gb.mul(op.getResult(), gb.log(op.getLhs())));
      });
  // max(a, b) and min(a, b): dy to the larger (smaller) operand, half to
  // each at a tie, as PyTorch.
  addBinary<MaximumOp>(
      table,
      +[](GradientBuilder &gb, MaximumOp op, Value dy) {
        return toLarger(gb, op.getLhs(), op.getRhs(), dy);
      },
      +[](GradientBuilder &gb, MaximumOp op, Value dy) {
        return toLarger(gb, op.getRhs(), op.getLhs(), dy);
      });
  addBinary<MinimumOp>(
      table,
      +[](GradientBuilder &gb, MinimumOp op, Value dy) {
        return toLarger(gb, op.getRhs(), op.getLhs(), dy);
      },
      +[](GradientBuilder &gb, MinimumOp op, Value dy) {
        return toLarger(gb, op.getLhs(), op.getRhs(), dy);
      });
}
