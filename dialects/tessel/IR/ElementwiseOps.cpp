//===- ElementwiseOps.cpp - Activations and broadcasting arithmetic -------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

/// Result type of a broadcasting binary op; used by every Tessel_BinaryOp.
static LogicalResult inferBroadcastType(std::optional<Location> loc,
                                        StringRef opName, Value lhs, Value rhs,
                                        SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, opName, ValueRange{lhs, rhs},
      [&] { return inferBroadcastShape(getShape(lhs), getShape(rhs)); }, types);
}

#define GET_OP_CLASSES
#include "dialects/tessel/IR/ElementwiseOps.cpp.inc"

void TesselDialect::registerElementwiseOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/ElementwiseOps.cpp.inc"
      >();
}

llvm::Expected<Shape> mlir::tessel::inferBroadcastShape(ArrayRef<int64_t> lhs,
                                                        ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the last dim; a missing dim counts as 1.
    int64_t a = i < lhs.size() ? lhs[lhs.size() - 1 - i] : 1;
    int64_t b = i < rhs.size() ? rhs[rhs.size() - 1 - i] : 1;
    if (a != b && a != 1 && b != 1)
      return shapeError(llvm::formatv(
          "shapes {0} and {1} do not broadcast: sizes {2} and {3} at dim "
          "-{4} (counted from the end) must be equal or 1",
          formatArray(lhs), formatArray(rhs), a, b, i + 1));
    result[rank - 1 - i] = a == 1 ? b : a;
  }
  return result;
}

LogicalResult LeakyReluOp::verify() {
  if (!std::isfinite(getAlpha().convertToDouble()))
    return emitOpError("alpha must be finite, got ")
           << getAlpha().convertToDouble();
  return success();
}

LogicalResult ClampOp::verify() {
  std::optional<llvm::APFloat> min = getMin(), max = getMax();
  if (!min && !max)
    return emitOpError("needs a min or a max bound, or both");
  if ((min && std::isnan(min->convertToDouble())) ||
      (max && std::isnan(max->convertToDouble())))
    return emitOpError("bounds must not be NaN");
  if (min && max && min->convertToDouble() > max->convertToDouble())
    return emitOpError(llvm::formatv("min ({0}) must not exceed max ({1})",
                                     min->convertToDouble(),
                                     max->convertToDouble())
                           .str());
  return success();
}
