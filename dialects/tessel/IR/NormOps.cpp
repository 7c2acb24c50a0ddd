//===- NormOps.cpp - Batch normalization ----------------------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/NormOps.cpp.inc"

void TesselDialect::registerNormOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/NormOps.cpp.inc"
      >();
}

llvm::Expected<int64_t>
mlir::tessel::checkBatchNormShapes(ArrayRef<int64_t> input,
                                   std::optional<ActivationLayout> layout,
                                   ArrayRef<NamedShape> perChannel) {
  unsigned channelDim = 1;
  if (layout) {
    if (auto err = checkLayoutRank(input, *layout))
      return std::move(err);
    channelDim = getChannelDim(*layout);
  } else if (input.size() < 2) {
    return shapeError(llvm::formatv(
        "input rank {0} must be at least 2 ([N, C, ...]) without a layout",
        input.size()));
  }
  int64_t channels = input[channelDim];
  for (auto [name, shape] : perChannel)
    if (shape.size() != 1 || shape[0] != channels)
      return shapeError(llvm::formatv("{0} shape {1} must be [{2}] (channels)",
                                      name, formatArray(shape), channels));
  return channels;
}

static LogicalResult verifyEpsilon(Operation *op, const llvm::APFloat &epsilon) {
  if (!(epsilon.convertToDouble() >= 0.0))
    return op->emitOpError("epsilon must be non-negative, got ")
           << epsilon.convertToDouble();
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, getOperationName(), adaptor.getOperands(),
      [&]() -> llvm::Expected<Shape> {
        ArrayRef<int64_t> input = getShape(adaptor.getInput());
        llvm::Expected<int64_t> channels = checkBatchNormShapes(
            input, adaptor.getLayout(),
            {{"scale", getShape(adaptor.getScale())},
             {"bias", getShape(adaptor.getBias())},
             {"mean", getShape(adaptor.getMean())},
             {"variance", getShape(adaptor.getVariance())}});
        if (!channels)
          return channels.takeError();
        return Shape(input);
      },
      types);
}

LogicalResult BatchNormOp::verify() { return verifyEpsilon(*this, getEpsilon()); }

LogicalResult BatchNormTrainOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  FailureOr<Type> elementType =
      getSharedElementType(loc, getOperationName(), adaptor.getOperands());
  if (failed(elementType))
    return failure();
  ArrayRef<int64_t> input = getShape(adaptor.getInput());
  llvm::Expected<int64_t> channels = checkBatchNormShapes(
      input, adaptor.getLayout(),
      {{"scale", getShape(adaptor.getScale())},
       {"bias", getShape(adaptor.getBias())}});
  if (!channels)
    return emitOptionalError(loc, "'", getOperationName(), "' op ",
                             llvm::toString(channels.takeError()));
  types.push_back(RankedTensorType::get(input, *elementType));
  types.append(2, RankedTensorType::get({*channels}, *elementType));
  return success();
}

LogicalResult BatchNormTrainOp::verify() {
  return verifyEpsilon(*this, getEpsilon());
}
