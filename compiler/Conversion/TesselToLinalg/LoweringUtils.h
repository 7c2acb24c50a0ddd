//===- LoweringUtils.h - Helpers shared by the tessel lowerings -*- C++ -*-===//

#ifndef TESSEL_COMPILER_CONVERSION_LOWERINGUTILS_H
#define TESSEL_COMPILER_CONVERSION_LOWERINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::tessel {

/// Builds the value a linalg.generic region yields from its block arguments
/// (inputs first, then the output accumulator).
using BodyBuilder = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A scalar float constant of `type`.
Value createFloatConstant(OpBuilder &b, Location loc, Type type, double value);
/// -infinity of `type`, the identity of max pooling and max reductions
/// (upstream's arith::getIdentityValue of maximumf).
Value createNegativeInfinity(OpBuilder &b, Location loc, Type type);
/// A tensor of `type` filled with `scalar`.
Value createFilledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                         Value scalar);
/// Pads `input` with `padValue`; returns `input` itself when no pad is set.
Value padTensor(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                ArrayRef<int64_t> high, Value padValue);

/// A linalg.generic over `init`'s shape (or a larger iteration space described
/// by `maps` and `iterators`) whose region is built by `body`.
Value buildGeneric(OpBuilder &b, Location loc, ValueRange inputs, Value init,
                   ArrayRef<AffineMap> maps,
                   ArrayRef<utils::IteratorType> iterators, BodyBuilder body);

/// The map that reads an operand of `shape` for each point of `resultShape`
/// under numpy broadcasting (dims aligned from the end, size 1 broadcasts).
AffineMap getBroadcastMap(ArrayRef<int64_t> shape, ArrayRef<int64_t> resultShape,
                          MLIRContext *context);
/// An elementwise linalg.generic producing `resultType` from `inputs`, which
/// broadcast into it.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, BodyBuilder body);

/// Creates a named linalg convolution or pooling op `OpTy` (they share one
/// builder: input, filter or window, accumulator, strides, dilations).
template <typename OpTy>
Value createWindowedOp(OpBuilder &b, Location loc, Value input, Value filter,
                       Value init, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> dilations) {
  auto attr = [&](ArrayRef<int64_t> values) {
    return DenseIntElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(values.size())},
                              b.getI64Type()),
        values);
  };
  return OpTy::create(b, loc, TypeRange{init.getType()}, ValueRange{input, filter},
                      ValueRange{init}, attr(strides), attr(dilations))
      .getResult(0);
}

/// Reshapes `value` to `type` (same element count) with collapse/expand_shape.
Value reshapeTensor(OpBuilder &b, Location loc, Value value,
                    RankedTensorType type);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_CONVERSION_LOWERINGUTILS_H
