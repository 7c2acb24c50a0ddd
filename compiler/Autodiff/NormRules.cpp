//===- NormRules.cpp - Derivatives of batch normalization -----------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

unsigned channelDimOf(std::optional<ActivationLayout> layout) {
  return layout ? getChannelDim(*layout) : 1;
}

/// Inference form: the statistics are operands, so every operand's gradient
/// is elementwise per channel. With inv = (var + eps)^(-1/2):
/// dx = dy scale inv, dscale = sum(dy (x - mean)) inv, dbias = sum(dy),
/// dmean = -sum(dy) scale inv, dvar = -sum(dy (x - mean)) scale inv^3 / 2.
void batchNormRule(GradientBuilder &gb, BatchNormOp op, Value dy,
                   ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  Value x = op.getInput();
  Type t = elementTypeOf(x);
  unsigned c = channelDimOf(op.getLayout()), rank = shapeOf(x).size();
  double eps = op.getEpsilon().convertToDouble();
  Value inv = gb.pow(gb.add(op.getVariance(), gb.scalar(eps, t)), gb.scalar(-0.5, t));
  Value scaleInv = gb.mul(op.getScale(), inv);
  if (needed[0])
    grads[0] = gb.mul(dy, gb.perChannel(scaleInv, c, rank));
  Value centered = gb.sub(x, gb.perChannel(op.getMean(), c, rank));
  Value dyCentered = (needed[1] || needed[4]) ? gb.sumPerChannel(gb.mul(dy, centered), c)
                                              : Value();
  Value dySum = (needed[2] || needed[3]) ? gb.sumPerChannel(dy, c) : Value();
  if (needed[1])
    grads[1] = gb.mul(dyCentered, inv);
  if (needed[2])
    grads[2] = dySum;
  if (needed[3])
    grads[3] = gb.neg(gb.mul(dySum, scaleInv));
  if (needed[4])
    grads[4] = gb.scale(gb.mul(dyCentered, gb.mul(scaleInv, gb.mul(inv, inv))), -0.5);
}

/// Training form, with xhat = (x - mu) inv over M elements per channel:
/// dx = inv / M (M g - sum(g) - xhat sum(g xhat)) with g = dy scale, plus
/// the paths through the returned batch mean (dmu / M) and variance
/// (2 dvar (x - mu) / M).
LogicalResult batchNormTrainRule(GradientBuilder &gb, const GradientRequest &request,
                                 SmallVectorImpl<Value> &grads) {
  auto op = cast<BatchNormTrainOp>(request.op);
  Value dy = request.resultGrads[0], dMean = request.resultGrads[1],
        dVar = request.resultGrads[2];
  Value x = op.getInput();
  Type t = elementTypeOf(x);
  ArrayRef<int64_t> shape = shapeOf(x);
  unsigned c = channelDimOf(op.getLayout()), rank = shape.size();
  double count = static_cast<double>(RankedTensorType::get(shape, t).getNumElements()) /
                 static_cast<double>(shape[c]);
  double eps = op.getEpsilon().convertToDouble();
  Value inv = gb.pow(gb.add(op.getBatchVariance(), gb.scalar(eps, t)),
                     gb.scalar(-0.5, t));
  Value centered = gb.sub(x, gb.perChannel(op.getBatchMean(), c, rank));
  Value xhat = dy ? gb.mul(centered, gb.perChannel(inv, c, rank)) : Value();
  Value dx;
  if (dy) {
    Value g = gb.mul(dy, gb.perChannel(op.getScale(), c, rank));
    Value gSum = gb.sumPerChannel(g, c);
    Value gXhat = gb.sumPerChannel(gb.mul(g, xhat), c);
    Value inner = gb.sub(gb.sub(gb.scale(g, count), gb.perChannel(gSum, c, rank)),
                         gb.mul(xhat, gb.perChannel(gXhat, c, rank)));
    dx = gb.mul(inner, gb.perChannel(gb.scale(inv, 1.0 / count), c, rank));
    if (request.needed[1])
      grads[1] = gb.sumPerChannel(gb.mul(dy, xhat), c);
    if (request.needed[2])
      grads[2] = gb.sumPerChannel(dy, c);
  }
  auto addToDx = [&](Value term) { dx = dx ? gb.add(dx, term) : term; };
  if (dMean)
    addToDx(gb.broadcastTo(gb.perChannel(gb.scale(dMean, 1.0 / count), c, rank), shape));
  if (dVar)
    addToDx(gb.mul(centered, gb.perChannel(gb.scale(dVar, 2.0 / count), c, rank)));
  if (request.needed[0])
    grads[0] = dx;
  return failure(gb.failed());
}

/// Inference form's tangent, every operand's term per channel:
/// dy = dx scale inv + (x - mean) inv dscale + dbias - dmean scale inv
///      - (x - mean) scale inv^3 dvar / 2.
Value batchNormTangent(GradientBuilder &gb, BatchNormOp op, ArrayRef<Value> tangents) {
  Value x = op.getInput();
  Type t = elementTypeOf(x);
  ArrayRef<int64_t> shape = shapeOf(x);
  unsigned c = channelDimOf(op.getLayout()), rank = shape.size();
  double eps = op.getEpsilon().convertToDouble();
  Value inv = gb.pow(gb.add(op.getVariance(), gb.scalar(eps, t)), gb.scalar(-0.5, t));
  Value scaleInv = gb.mul(op.getScale(), inv);
  Value centered = (tangents[1] || tangents[4])
                       ? gb.sub(x, gb.perChannel(op.getMean(), c, rank))
                       : Value();
  auto perChannel = [&](Value v) { return gb.perChannel(v, c, rank); };
  Value dy;
  if (tangents[0])
    dy = gb.mul(tangents[0], perChannel(scaleInv));
  if (tangents[1])
    dy = addTangents(gb, dy, gb.mul(centered, perChannel(gb.mul(tangents[1], inv))));
  if (tangents[2])
    dy = addTangents(gb, dy, perChannel(tangents[2]));
  if (tangents[3])
    dy = addTangents(gb, dy, perChannel(gb.neg(gb.mul(tangents[3], scaleInv))));
  if (tangents[4])
    dy = addTangents(
        gb, dy,
        gb.mul(centered, perChannel(gb.scale(
                             gb.mul(tangents[4], gb.mul(scaleInv, gb.mul(inv, inv))),
                             -0.5))));
  return gb.broadcastTo(dy, shape);
}

/// Training form's tangents over M elements per channel, with
/// xhat = (x - mu) inv: dmu = sum(dx) / M, dvar = 2 sum((x - mu) dx) / M,
/// dxhat = (dx - dmu) inv - (x - mu) inv^3 dvar / 2,
/// dy = scale dxhat + xhat dscale + dbias.
LogicalResult batchNormTrainTangent(GradientBuilder &gb, const TangentRequest &request,
                                    SmallVectorImpl<Value> &tangents) {
  auto op = cast<BatchNormTrainOp>(request.op);
  Value dx = request.operandTangents[0], dScale = request.operandTangents[1],
        dBias = request.operandTangents[2];
  Value x = op.getInput();
  Type t = elementTypeOf(x);
  ArrayRef<int64_t> shape = shapeOf(x);
  unsigned c = channelDimOf(op.getLayout()), rank = shape.size();
  auto perChannel = [&](Value v) { return gb.perChannel(v, c, rank); };
  double count = static_cast<double>(RankedTensorType::get(shape, t).getNumElements()) /
                 static_cast<double>(shape[c]);
  double eps = op.getEpsilon().convertToDouble();
  Value inv = gb.pow(gb.add(op.getBatchVariance(), gb.scalar(eps, t)),
                     gb.scalar(-0.5, t));
  Value centered = gb.sub(x, perChannel(op.getBatchMean()));
  Value dy;
  if (dx) {
    Value dMean = gb.scale(gb.sumPerChannel(dx, c), 1.0 / count);
    Value dVar = gb.scale(gb.sumPerChannel(gb.mul(centered, dx), c), 2.0 / count);
    Value dInv = gb.scale(gb.mul(dVar, gb.mul(inv, gb.mul(inv, inv))), -0.5);
    Value dXhat = gb.add(gb.mul(gb.sub(dx, perChannel(dMean)), perChannel(inv)),
                         gb.mul(centered, perChannel(dInv)));
    dy = gb.mul(dXhat, perChannel(op.getScale()));
    tangents[1] = dMean;
    tangents[2] = dVar;
  }
  if (dScale)
    dy = addTangents(gb, dy,
                     gb.mul(gb.mul(centered, perChannel(inv)), perChannel(dScale)));
  if (dBias)
    dy = addTangents(gb, dy, perChannel(dBias));
  tangents[0] = gb.broadcastTo(dy, shape);
  return failure(gb.failed());
}

} // namespace

void mlir::tessel::registerNormRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addRule<BatchNormOp>(vjp, batchNormRule);
  vjp[BatchNormTrainOp::getOperationName()] = batchNormTrainRule;
  addTangentRule<BatchNormOp>(jvp, batchNormTangent);
  jvp[BatchNormTrainOp::getOperationName()] = batchNormTrainTangent;
}
