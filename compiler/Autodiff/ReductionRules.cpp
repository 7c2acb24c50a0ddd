//===- ReductionRules.cpp - Derivatives of softmax, reductions, losses ----===//
//
// max and min reductions split the gradient evenly between tied extremes
// (as torch.amax does); their tangents average the tangent over the ties,
// the transpose of that rule.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// The reduced axes of a reduction over `rank` dims, non-negative.
SmallVector<int64_t> reducedAxes(std::optional<ArrayRef<int64_t>> axes, int64_t rank) {
  if (!axes)
    return llvm::to_vector(llvm::seq<int64_t>(0, rank));
  SmallVector<int64_t> result;
  for (int64_t a : *axes)
    result.push_back(wrapAxis(a, rank));
  return result;
}

/// The shape of a reduction's result with keepdims.
SmallVector<int64_t> keptShape(ArrayRef<int64_t> in, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(in);
  for (int64_t a : axes)
    shape[a] = 1;
  return shape;
}

/// A max or min reduction's 1/0 mask of the elements equal to the extreme,
/// and the number of ties per reduced group (keepdims shape).
template <typename OpTy>
std::pair<Value, Value> extremeMask(GradientBuilder &gb, OpTy op, ArrayRef<int64_t> axes,
                                    ArrayRef<int64_t> kept) {
  Value x = op.getInput();
  Value y = gb.reshape(op.getResult(), kept);
  Type t = elementTypeOf(x);
  Value mask = gb.sub(gb.scalar(1.0, t), gb.sign(gb.abs(gb.sub(x, y))));
  return {mask, gb.sum(mask, axes, /*keepDims=*/true)};
}

template <typename OpTy>
void reduceRule(GradientBuilder &gb, OpTy op, Value dy, ArrayRef<bool>,
                SmallVectorImpl<Value> &grads) {
  Value x = op.getInput();
  ArrayRef<int64_t> in = shapeOf(x);
  SmallVector<int64_t> axes = reducedAxes(op.getAxes(), in.size());
  SmallVector<int64_t> kept = keptShape(in, axes);
  Value g = gb.reshape(dy, kept);
  if constexpr (std::is_same_v<OpTy, SumOp>) {
    grads[0] = gb.broadcastTo(g, in);
  } else if constexpr (std::is_same_v<OpTy, MeanOp>) {
    double count = 1;
    for (int64_t a : axes)
      count *= in[a];
    grads[0] = gb.broadcastTo(gb.scale(g, 1.0 / count), in);
  } else {
    auto [mask, ties] = extremeMask(gb, op, axes, kept);
    grads[0] = gb.mul(gb.div(g, ties), mask);
  }
}

/// Sums and means are linear; a max or min reduction's tangent averages the
/// tangent over the tied extremes (the transpose of its gradient).
template <typename OpTy>
Value reduceTangent(GradientBuilder &gb, OpTy op, ArrayRef<Value> tangents) {
  if constexpr (std::is_same_v<OpTy, SumOp> || std::is_same_v<OpTy, MeanOp>) {
    return recreate(gb, op, {tangents[0]});
  } else {
    ArrayRef<int64_t> in = shapeOf(op.getInput());
    SmallVector<int64_t> axes = reducedAxes(op.getAxes(), in.size());
    auto [mask, ties] = extremeMask(gb, op, axes, keptShape(in, axes));
    Value picked = gb.sum(gb.mul(mask, tangents[0]), axes, /*keepDims=*/true);
    return gb.reshape(gb.div(picked, ties), shapeOf(op.getResult()));
  }
}

template <typename OpTy>
int64_t softmaxAxis(OpTy op) {
  int64_t axis = op.getAxis();
  return wrapAxis(axis, static_cast<int64_t>(shapeOf(op.getInput()).size()));
}

/// The per-element gradient scale of a loss reduction: dy itself for none
/// (reshaped by `none`), dy / count for mean, dy for sum (0-D dy broadcasts).
Value lossScale(GradientBuilder &gb, Reduction reduction, Value dy, double count,
                function_ref<Value(Value)> none) {
  switch (reduction) {
  case Reduction::None:
    return none(dy);
  case Reduction::Mean:
    return gb.scale(dy, 1.0 / count);
  case Reduction::Sum:
    return dy;
  }
  llvm_unreachable("unknown reduction");
}

/// d loss_i / d logits = softmax(logits) - onehot(labels) per element i,
/// with the one-hot rows gathered from the identity and the class dim moved
/// to dim 1.
Value crossEntropySlope(GradientBuilder &gb, CrossEntropyOp op) {
  Value logits = op.getLogits();
  ArrayRef<int64_t> shape = shapeOf(logits);
  int64_t rank = shape.size(), classes = shape[1];
  Type t = elementTypeOf(logits);
  Value oneHot = gb.gather(gb.identity(classes, t), op.getLabels(), 0);
  if (rank > 2) { // [N, d..., C] -> [N, C, d...]
    SmallVector<int64_t> perm{0, rank - 1};
    for (int64_t i = 1; i < rank - 1; ++i)
      perm.push_back(i);
    oneHot = gb.transpose(oneHot, perm);
  }
  return gb.sub(gb.softmax(logits, 1), oneHot);
}

double elementCount(Value v) {
  return static_cast<double>(cast<RankedTensorType>(v.getType()).getNumElements());
}

/// d loss / d logits = slope * scale.
void crossEntropyRule(GradientBuilder &gb, CrossEntropyOp op, Value dy,
                      ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  if (!needed[0])
    return;
  Value scale = lossScale(gb, op.getReduction(), dy, elementCount(op.getLabels()),
                          [&](Value g) {
                            SmallVector<int64_t> withClass(shapeOf(g));
                            withClass.insert(withClass.begin() + 1, 1);
                            return gb.reshape(g, withClass);
                          });
  grads[0] = gb.mul(crossEntropySlope(gb, op), scale);
}

/// The tangent of a loss from the per-element tangents `d` of its unreduced
/// form: kept for none, summed (and divided by the element count for mean)
/// into the loss's shape otherwise.
Value reduceLossTangent(GradientBuilder &gb, Reduction reduction, Value d, Value loss) {
  if (reduction == Reduction::None)
    return d;
  int64_t rank = shapeOf(d).size();
  Value total = gb.reshape(gb.sum(d, llvm::to_vector(llvm::seq<int64_t>(0, rank)), false),
                           shapeOf(loss));
  return reduction == Reduction::Mean ? gb.scale(total, 1.0 / elementCount(d)) : total;
}

Value crossEntropyTangent(GradientBuilder &gb, CrossEntropyOp op,
                          ArrayRef<Value> tangents) {
  Value d = gb.sum(gb.mul(crossEntropySlope(gb, op), tangents[0]), {1}, false);
  return reduceLossTangent(gb, op.getReduction(), d, op.getResult());
}

/// d (a - b)^2 = 2 (a - b) (da - db).
Value mseLossTangent(GradientBuilder &gb, MseLossOp op, ArrayRef<Value> tangents) {
  Value diff = tangents[0];
  if (tangents[1])
    diff = diff ? gb.sub(diff, tangents[1]) : gb.neg(tangents[1]);
  Value d = gb.mul(gb.scale(gb.sub(op.getLhs(), op.getRhs()), 2.0), diff);
  return reduceLossTangent(gb, op.getReduction(), d, op.getResult());
}

void mseLossRule(GradientBuilder &gb, MseLossOp op, Value dy, ArrayRef<bool> needed,
                 SmallVectorImpl<Value> &grads) {
  double count = static_cast<double>(
      cast<RankedTensorType>(op.getLhs().getType()).getNumElements());
  Value scale = lossScale(gb, op.getReduction(), dy, count, [](Value g) { return g; });
  Value d = gb.mul(gb.scale(gb.sub(op.getLhs(), op.getRhs()), 2.0), scale);
  if (needed[0])
    grads[0] = d;
  if (needed[1])
    grads[1] = gb.neg(d);
}

} // namespace

void mlir::tessel::registerReductionRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addTangentRule<SoftmaxOp>(jvp, [](GradientBuilder &gb, SoftmaxOp op,
                                    ArrayRef<Value> tangents) {
    // y (dx - sum(dx y))
    Value y = op.getResult(), dx = tangents[0];
    return gb.mul(y, gb.sub(dx, gb.sum(gb.mul(dx, y), {softmaxAxis(op)}, true)));
  });
  addTangentRule<LogSoftmaxOp>(jvp, [](GradientBuilder &gb, LogSoftmaxOp op,
                                       ArrayRef<Value> tangents) {
    // dx - sum(exp(y) dx)
    Value dx = tangents[0];
    return gb.sub(dx, gb.sum(gb.mul(gb.exp(op.getResult()), dx), {softmaxAxis(op)}, true));
  });
  addTangentRule<SumOp>(jvp, reduceTangent<SumOp>);
  addTangentRule<MeanOp>(jvp, reduceTangent<MeanOp>);
  addTangentRule<MaxOp>(jvp, reduceTangent<MaxOp>);
  addTangentRule<MinOp>(jvp, reduceTangent<MinOp>);
  addTangentRule<CrossEntropyOp>(jvp, crossEntropyTangent);
  addTangentRule<MseLossOp>(jvp, mseLossTangent);
  RuleTable &table = vjp;
  addRule<SoftmaxOp>(table, [](GradientBuilder &gb, SoftmaxOp op, Value dy,
                               ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
    // y (dy - sum(dy y))
    Value y = op.getResult();
    Value dot = gb.sum(gb.mul(dy, y), {softmaxAxis(op)}, true);
    grads[0] = gb.mul(y, gb.sub(dy, dot));
  });
  addRule<LogSoftmaxOp>(table, [](GradientBuilder &gb, LogSoftmaxOp op, Value dy,
                                  ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
    // dy - exp(y) sum(dy)
    Value total = gb.sum(dy, {softmaxAxis(op)}, true);
    grads[0] = gb.sub(dy, gb.mul(gb.exp(op.getResult()), total));
  });
  addRule<SumOp>(table, reduceRule<SumOp>);
  addRule<MeanOp>(table, reduceRule<MeanOp>);
  addRule<MaxOp>(table, reduceRule<MaxOp>);
  addRule<MinOp>(table, reduceRule<MinOp>);
  addRule<CrossEntropyOp>(table, crossEntropyRule);
  addRule<MseLossOp>(table, mseLossRule);
}
