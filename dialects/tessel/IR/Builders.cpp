//===- Builders.cpp - Typed creation of tessel ops ------------------------===//

#include "dialects/tessel/IR/Builders.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace mlir::tessel;

Operation *mlir::tessel::detail::insertIfValid(OpBuilder &b, OperationState &state) {
  Operation *op = Operation::create(state);
  if (failed(verify(op))) {
    op->destroy();
    return nullptr;
  }
  return b.insert(op);
}

Value InferredOpBuilder::reshape(Value a, ArrayRef<int64_t> shape) {
  if (a && cast<RankedTensorType>(a.getType()).getShape() == shape)
    return a;
  ReshapeOp::Properties p;
  p.setShape(i64Array(shape));
  return create1<ReshapeOp>({a}, p);
}

Value InferredOpBuilder::transpose(Value a, ArrayRef<int64_t> perm) {
  TransposeOp::Properties p;
  p.setPerm(i64Array(perm));
  return create1<TransposeOp>({a}, p);
}

Value InferredOpBuilder::slice(Value a, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                               ArrayRef<int64_t> strides) {
  SliceOp::Properties p;
  p.setOffsets(i64Array(offsets));
  p.setSizes(i64Array(sizes));
  p.setStrides(i64Array(strides));
  return create1<SliceOp>({a}, p);
}

Value InferredOpBuilder::sum(Value a, ArrayRef<int64_t> axes, bool keepDims) {
  if (!a)
    return {};
  if (axes.empty())
    return a;
  SumOp::Properties p;
  p.setAxes(i64Array(axes));
  if (keepDims)
    p.setKeepdims(b.getUnitAttr());
  return create1<SumOp>({a}, p);
}
