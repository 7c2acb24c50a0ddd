//===- LinearOps.cpp - tessel.linear and tessel.matmul --------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/LinearOps.cpp.inc"

void TesselDialect::registerLinearOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/LinearOps.cpp.inc"
      >();
}

llvm::Expected<Shape>
mlir::tessel::inferLinearShape(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
                               std::optional<ArrayRef<int64_t>> bias) {
  if (input.empty())
    return shapeError("input must have rank 1 or more ([..., in])");
  if (weight.size() != 2)
    return shapeError(llvm::formatv("weight shape {0} must be 2-D ([out, in])",
                                    formatArray(weight)));
  if (weight[1] != input.back())
    return shapeError(llvm::formatv(
        "weight shape {0} does not match input features {1} (expects [out, {1}])",
        formatArray(weight), input.back()));
  if (bias && (bias->size() != 1 || (*bias)[0] != weight[0]))
    return shapeError(llvm::formatv("bias shape {0} must be [{1}] (out features)",
                                    formatArray(*bias), weight[0]));
  Shape result(input.drop_back());
  result.push_back(weight[0]);
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferMatmulShape(ArrayRef<int64_t> lhs,
                                                     ArrayRef<int64_t> rhs) {
  if (lhs.empty() || rhs.empty())
    return shapeError("matmul operands must have rank 1 or more");
  // numpy: a 1-D lhs is a row vector, a 1-D rhs a column vector.
  Shape a(lhs), b(rhs);
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t k = a.back(), kRhs = b[b.size() - 2];
  if (k != kRhs)
    return shapeError(llvm::formatv(
        "contraction sizes differ: lhs {0} has {1} columns, rhs {2} has {3} rows",
        formatArray(lhs), k, formatArray(rhs), kRhs));
  llvm::Expected<Shape> batch = inferBroadcastShape(ArrayRef(a).drop_back(2),
                                                    ArrayRef(b).drop_back(2));
  if (!batch)
    return shapeError("batch dims: " + llvm::toString(batch.takeError()));
  Shape result = *batch;
  if (lhs.size() > 1)
    result.push_back(a[a.size() - 2]);
  if (rhs.size() > 1)
    result.push_back(b.back());
  return result;
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, getOperationName(), adaptor.getOperands(),
      [&] {
        std::optional<ArrayRef<int64_t>> bias;
        if (Value b = adaptor.getBias())
          bias = getShape(b);
        return inferLinearShape(getShape(adaptor.getInput()),
                                getShape(adaptor.getWeight()), bias);
      },
      types);
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, getOperationName(), adaptor.getOperands(),
      [&] {
        return inferMatmulShape(getShape(adaptor.getLhs()), getShape(adaptor.getRhs()));
      },
      types);
}
