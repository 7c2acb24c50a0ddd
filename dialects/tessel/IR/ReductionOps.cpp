//===- ReductionOps.cpp - Softmax, reductions and losses ------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tessel;

/// Checks a softmax axis against the input rank; used by Tessel_SoftmaxBase.
static LogicalResult verifyAxis(Operation *op, int64_t axis) {
  int64_t rank = cast<RankedTensorType>(op->getOperand(0).getType()).getRank();
  llvm::Expected<int64_t> dim = normalizeAxis(axis, rank);
  if (!dim)
    return op->emitOpError(llvm::toString(dim.takeError()));
  return success();
}

#define GET_OP_CLASSES
#include "dialects/tessel/IR/ReductionOps.cpp.inc"

void TesselDialect::registerReductionOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/ReductionOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Shape functions
//===----------------------------------------------------------------------===//

llvm::Expected<Shape>
mlir::tessel::inferReduceShape(ArrayRef<int64_t> input,
                               std::optional<ArrayRef<int64_t>> axes,
                               bool keepDims) {
  int64_t rank = input.size();
  llvm::SmallBitVector reduced(rank, !axes.has_value());
  if (axes) {
    for (int64_t axis : *axes) {
      llvm::Expected<int64_t> dim = normalizeAxis(axis, rank);
      if (!dim)
        return dim.takeError();
      if (reduced.test(*dim))
        return shapeError(llvm::formatv("axes {0} name dim {1} twice",
                                        formatArray(*axes), *dim));
      reduced.set(*dim);
    }
  }
  Shape result;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced.test(d))
      result.push_back(input[d]);
    else if (keepDims)
      result.push_back(1);
  }
  return result;
}

/// The result shape of a loss whose unreduced form has shape `elementwise`.
static Shape reducedLossShape(ArrayRef<int64_t> elementwise, Reduction reduction) {
  return reduction == Reduction::None ? Shape(elementwise) : Shape();
}

llvm::Expected<Shape>
mlir::tessel::inferCrossEntropyShape(ArrayRef<int64_t> logits,
                                     ArrayRef<int64_t> labels,
                                     Reduction reduction) {
  if (logits.size() < 2)
    return shapeError(llvm::formatv(
        "logits shape {0} must be [N, C] or [N, C, d1, ...]", formatArray(logits)));
  Shape expected{logits[0]};
  llvm::append_range(expected, logits.drop_front(2));
  if (labels != ArrayRef<int64_t>(expected))
    return shapeError(llvm::formatv(
        "labels shape {0} must be {1}: logits shape {2} without the class dim",
        formatArray(labels), formatArray(expected), formatArray(logits)));
  if (logits[1] < 1)
    return shapeError("logits need at least one class");
  return reducedLossShape(labels, reduction);
}

llvm::Expected<Shape> mlir::tessel::inferMseLossShape(ArrayRef<int64_t> lhs,
                                                      ArrayRef<int64_t> rhs,
                                                      Reduction reduction) {
  if (lhs != rhs)
    return shapeError(llvm::formatv("operand shapes {0} and {1} must be equal",
                                    formatArray(lhs), formatArray(rhs)));
  return reducedLossShape(lhs, reduction);
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  auto labels = dyn_cast<RankedTensorType>(adaptor.getLabels().getType());
  if (!labels)
    return emitOptionalError(loc, "'", getOperationName(),
                             "' op labels must be a ranked tensor");
  return inferFromOperand(
      loc, getOperationName(), adaptor.getLogits(),
      [&](ArrayRef<int64_t> logits) {
        return inferCrossEntropyShape(logits, labels.getShape(),
                                      adaptor.getReduction());
      },
      types);
}

LogicalResult CrossEntropyOp::verify() {
  auto logits = cast<RankedTensorType>(getLogits().getType());
  DenseIntElementsAttr constant;
  if (logits.getRank() < 2 || !matchPattern(getLabels(), m_Constant(&constant)))
    return success();
  int64_t classes = logits.getDimSize(1);
  for (const APInt &label : constant.getValues<APInt>()) {
    int64_t l = label.getSExtValue();
    if (l < 0 || l >= classes)
      return emitOpError() << "label " << l << " is outside [0, " << classes
                           << "), the classes of the logits (dim 1)";
  }
  return success();
}

LogicalResult MseLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, getOperationName(), adaptor.getOperands(),
      [&] {
        return inferMseLossShape(getShape(adaptor.getLhs()), getShape(adaptor.getRhs()),
                                 adaptor.getReduction());
      },
      types);
}
