//===- OptimizerOps.cpp - tessel.sgd_update and tessel.adam_update --------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/OptimizerOps.cpp.inc"

void TesselDialect::registerOptimizerOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/OptimizerOps.cpp.inc"
      >();
}

/// Every state operand has the parameter's type; the results repeat it.
static LogicalResult inferUpdateTypes(std::optional<Location> loc, StringRef opName,
                                      ValueRange state, unsigned numResults,
                                      SmallVectorImpl<Type> &types) {
  Type param = state.front().getType();
  for (Value v : state.drop_front())
    if (v.getType() != param)
      return emitOptionalError(loc, "'", opName, "' op every state operand must have ",
                               "the parameter's type ", param, ", got ", v.getType());
  types.assign(numResults, param);
  return success();
}

/// Checks that `value` (an optimizer hyperparameter) lies in [lo, hi).
static LogicalResult checkRange(Operation *op, StringRef name, double value,
                                double lo, double hi) {
  if (value >= lo && value < hi)
    return success();
  if (std::isinf(hi))
    return op->emitOpError() << name << " must be non-negative, got " << value;
  return op->emitOpError() << name << " must lie in [" << static_cast<int>(lo) << ", "
                           << static_cast<int>(hi) << "), got " << value;
}

static constexpr double kInf = std::numeric_limits<double>::infinity();

/// The run-time learning rate, when given, has the parameter's element type.
static LogicalResult checkRuntimeRate(std::optional<Location> loc, StringRef opName,
                                      Value lr, Value param) {
  if (lr && cast<RankedTensorType>(lr.getType()).getElementType() !=
                cast<RankedTensorType>(param.getType()).getElementType())
    return emitOptionalError(loc, "'", opName,
                             "' op lr must have the parameter's element type");
  return success();
}

LogicalResult SgdUpdateOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (failed(checkRuntimeRate(loc, getOperationName(), adaptor.getLr(), adaptor.getParam())))
    return failure();
  return inferUpdateTypes(
      loc, getOperationName(),
      {adaptor.getParam(), adaptor.getGrad(), adaptor.getVelocity()}, 2, types);
}

LogicalResult SgdUpdateOp::verify() {
  if (failed(checkRange(*this, "learning_rate", getLearningRate().convertToDouble(),
                        0, kInf)) ||
      failed(checkRange(*this, "momentum", getMomentum().convertToDouble(), 0, kInf)) ||
      failed(checkRange(*this, "weight_decay", getWeightDecay().convertToDouble(), 0,
                        kInf)))
    return failure();
  return success();
}

LogicalResult AdamUpdateOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  if (cast<RankedTensorType>(adaptor.getStep().getType()).getElementType() !=
      cast<RankedTensorType>(adaptor.getParam().getType()).getElementType())
    return emitOptionalError(loc, "'", getOperationName(),
                             "' op step must have the parameter's element type");
  if (failed(checkRuntimeRate(loc, getOperationName(), adaptor.getLr(), adaptor.getParam())))
    return failure();
  return inferUpdateTypes(loc, getOperationName(),
                          {adaptor.getParam(), adaptor.getGrad(), adaptor.getM(),
                           adaptor.getV()},
                          3, types);
}

LogicalResult AdamUpdateOp::verify() {
  if (failed(checkRange(*this, "learning_rate", getLearningRate().convertToDouble(),
                        0, kInf)) ||
      failed(checkRange(*this, "beta1", getBeta1().convertToDouble(), 0, 1)) ||
      failed(checkRange(*this, "beta2", getBeta2().convertToDouble(), 0, 1)) ||
      failed(checkRange(*this, "epsilon", getEpsilon().convertToDouble(), 0, kInf)) ||
      failed(checkRange(*this, "weight_decay", getWeightDecay().convertToDouble(), 0,
                        kInf)))
    return failure();
  return success();
}
