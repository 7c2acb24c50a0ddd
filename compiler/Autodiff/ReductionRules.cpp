//===- ReductionRules.cpp - Gradients of softmax, reductions and losses ---===//
//
// max and min reductions split the gradient evenly between tied extremes
// (as torch.amax does).
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
    // Max and min: 1 where x equals the extreme, shared between ties.
    Value y = gb.reshape(op.getResult(), kept);
    Type t = elementTypeOf(x);
    Value mask = gb.sub(gb.scalar(1.0, t), gb.sign(gb.abs(gb.sub(x, y))));
    Value ties = gb.sum(mask, axes, /*keepDims=*/true);
    grads[0] = gb.mul(gb.div(g, ties), mask);
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

/// d loss / d logits = (softmax(logits) - onehot(labels)) * scale, with the
/// one-hot rows gathered from the identity and the class dim moved to dim 1.
void crossEntropyRule(GradientBuilder &gb, CrossEntropyOp op, Value dy,
                      ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  if (!needed[0])
    return;
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
  Value softmax = gb.softmax(logits, 1);
  double count = static_cast<double>(
      cast<RankedTensorType>(op.getLabels().getType()).getNumElements());
  Value scale = lossScale(gb, op.getReduction(), dy, count, [&](Value g) {
    SmallVector<int64_t> withClass(shapeOf(g));
    withClass.insert(withClass.begin() + 1, 1);
    return gb.reshape(g, withClass);
  });
  grads[0] = gb.mul(gb.sub(softmax, oneHot), scale);
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

void mlir::tessel::registerReductionRules(RuleTable &table) {
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
