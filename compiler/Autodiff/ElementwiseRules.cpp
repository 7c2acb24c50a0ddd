//===- ElementwiseRules.cpp - Gradients of activations and arithmetic -----===//
//
// Activations follow PyTorch's conventions at their kinks: relu, leaky_relu
// and clamp pass the gradient where x > 0 (relu), x > 0 else alpha (leaky),
// min <= x <= max (clamp); sign has a zero gradient. Binary ops broadcast,
// so each operand's gradient is summed back to its shape. The Jacobians are
// diagonal (up to broadcasting), so the tangent rules reuse the same partial
// derivatives.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Registers `dx = fn(gb, op, dy)` for a unary op. Its Jacobian is
/// diagonal, so the same function maps a tangent of x to one of y.
template <typename OpTy>
void addUnary(RuleTable &vjp, TangentRuleTable &jvp,
              Value (*fn)(GradientBuilder &, OpTy, Value)) {
  addRule<OpTy>(vjp, [fn](GradientBuilder &gb, OpTy op, Value dy, ArrayRef<bool>,
                          SmallVectorImpl<Value> &grads) { grads[0] = fn(gb, op, dy); });
  addTangentRule<OpTy>(jvp, [fn](GradientBuilder &gb, OpTy op, ArrayRef<Value> tangents) {
    return fn(gb, op, tangents[0]);
  });
}

Value one(GradientBuilder &gb, Value like) { return gb.scalar(1.0, elementTypeOf(like)); }

/// Registers a binary op's rules from the gradients before broadcasting:
/// `lhsFn(gb, op, dy)` is dy times the elementwise partial derivative in
/// lhs. The tangent applies the same functions to each operand's tangent
/// (broadcast to the result) and sums them.
template <typename OpTy>
void addBinary(RuleTable &vjp, TangentRuleTable &jvp,
               Value (*lhsFn)(GradientBuilder &, OpTy, Value),
               Value (*rhsFn)(GradientBuilder &, OpTy, Value)) {
  addRule<OpTy>(vjp, [lhsFn, rhsFn](GradientBuilder &gb, OpTy op, Value dy,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
    if (needed[0])
      grads[0] = gb.sumTo(lhsFn(gb, op, dy), shapeOf(op.getLhs()));
    if (needed[1])
      grads[1] = gb.sumTo(rhsFn(gb, op, dy), shapeOf(op.getRhs()));
  });
  addTangentRule<OpTy>(jvp, [lhsFn, rhsFn](GradientBuilder &gb, OpTy op,
                                           ArrayRef<Value> tangents) {
    ArrayRef<int64_t> shape = shapeOf(op.getResult());
    Value t;
    if (tangents[0])
      t = gb.broadcastTo(lhsFn(gb, op, tangents[0]), shape);
    if (tangents[1])
      t = addTangents(gb, t, gb.broadcastTo(rhsFn(gb, op, tangents[1]), shape));
    return t;
  });
}

/// dy (1 + sign(larger - smaller)) / 2: dy where `larger` is the larger
/// operand, half of it at a tie, zero elsewhere.
Value toLarger(GradientBuilder &gb, Value larger, Value smaller, Value dy) {
  return gb.mul(dy, gb.scale(gb.add(one(gb, dy), gb.sign(gb.sub(larger, smaller))), 0.5));
}

} // namespace

void mlir::tessel::registerElementwiseRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addUnary<ReluOp>(vjp, jvp, +[](GradientBuilder &gb, ReluOp op, Value dy) {
    return gb.mul(dy, gb.positive(op.getInput()));
  });
  addUnary<SigmoidOp>(vjp, jvp, +[](GradientBuilder &gb, SigmoidOp op, Value dy) {
    Value y = op.getResult();
    return gb.mul(dy, gb.mul(y, gb.sub(one(gb, y), y)));
  });
  addUnary<TanhOp>(vjp, jvp, +[](GradientBuilder &gb, TanhOp op, Value dy) {
    Value y = op.getResult();
    return gb.mul(dy, gb.sub(one(gb, y), gb.mul(y, y)));
  });
  addUnary<AbsOp>(vjp, jvp, +[](GradientBuilder &gb, AbsOp op, Value dy) {
    return gb.mul(dy, gb.sign(op.getInput()));
  });
  // d erf(x) = 2/sqrt(pi) exp(-x^2).
  addUnary<ErfOp>(vjp, jvp, +[](GradientBuilder &gb, ErfOp op, Value dy) {
    Value x = op.getInput();
    return gb.mul(dy, gb.scale(gb.exp(gb.neg(gb.mul(x, x))), 1.1283791670955126 /* 2 / sqrt(pi) */));
  });
  addUnary<NegOp>(vjp, jvp, +[](GradientBuilder &gb, NegOp, Value dy) { return gb.neg(dy); });
  addUnary<SqrtOp>(vjp, jvp, +[](GradientBuilder &gb, SqrtOp op, Value dy) {
    Value y = op.getResult();
    return gb.div(gb.scale(dy, 0.5), y);
  });
  addUnary<ExpOp>(vjp, jvp, +[](GradientBuilder &gb, ExpOp op, Value dy) {
    return gb.mul(dy, op.getResult());
  });
  addUnary<LogOp>(vjp, jvp, +[](GradientBuilder &gb, LogOp op, Value dy) {
    return gb.div(dy, op.getInput());
  });
  addUnary<SignOp>(vjp, jvp, +[](GradientBuilder &gb, SignOp op, Value) {
    return gb.splat(0.0, cast<RankedTensorType>(op.getType()));
  });
  addUnary<LeakyReluOp>(vjp, jvp, +[](GradientBuilder &gb, LeakyReluOp op, Value dy) {
    double alpha = op.getAlpha().convertToDouble();
    Type t = elementTypeOf(dy);
    // alpha + (1 - alpha) [x > 0]
    Value factor = gb.add(gb.scalar(alpha, t),
                          gb.scale(gb.positive(op.getInput()), 1.0 - alpha));
    return gb.mul(dy, factor);
  });
  addUnary<ClampOp>(vjp, jvp, +[](GradientBuilder &gb, ClampOp op, Value dy) {
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
      vjp, jvp, +[](GradientBuilder &, AddOp, Value dy) { return dy; },
      +[](GradientBuilder &, AddOp, Value dy) { return dy; });
  addBinary<SubOp>(
      vjp, jvp, +[](GradientBuilder &, SubOp, Value dy) { return dy; },
      +[](GradientBuilder &gb, SubOp, Value dy) { return gb.neg(dy); });
  addBinary<MulOp>(
      vjp, jvp, +[](GradientBuilder &gb, MulOp op, Value dy) { return gb.mul(dy, op.getRhs()); },
      +[](GradientBuilder &gb, MulOp op, Value dy) { return gb.mul(dy, op.getLhs()); });
  addBinary<DivOp>(
      vjp, jvp, +[](GradientBuilder &gb, DivOp op, Value dy) { return gb.div(dy, op.getRhs()); },
      +[](GradientBuilder &gb, DivOp op, Value dy) {
        // -dy * lhs / rhs^2 = -dy * y / rhs
        return gb.neg(gb.div(gb.mul(dy, op.getResult()), op.getRhs()));
      });
  addBinary<PowOp>(
      vjp, jvp,
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
      vjp, jvp,
      +[](GradientBuilder &gb, MaximumOp op, Value dy) {
        return toLarger(gb, op.getLhs(), op.getRhs(), dy);
      },
      +[](GradientBuilder &gb, MaximumOp op, Value dy) {
        return toLarger(gb, op.getRhs(), op.getLhs(), dy);
      });
  addBinary<MinimumOp>(
      vjp, jvp,
      +[](GradientBuilder &gb, MinimumOp op, Value dy) {
        return toLarger(gb, op.getRhs(), op.getLhs(), dy);
      },
      +[](GradientBuilder &gb, MinimumOp op, Value dy) {
        return toLarger(gb, op.getLhs(), op.getRhs(), dy);
      });
}
