//===- GradientBuilder.h - Building gradient graphs -------------*- C++ -*-===//
//
// The helpers the gradient rules build their tessel ops with. Every op goes
// through createInferred, so the dialect's shape rules check each one; the
// first op that fails leaves the builder failed (its diagnostic emitted) and
// every later helper returns null.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_AUTODIFF_GRADIENTBUILDER_H
#define TESSEL_COMPILER_AUTODIFF_GRADIENTBUILDER_H

#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Builders.h"

namespace mlir::tessel {

/// The builder of the gradient rules: InferredOpBuilder's chain of typed
/// creations plus the tensor algebra the rules share.
class GradientBuilder : public InferredOpBuilder {
public:
  using InferredOpBuilder::InferredOpBuilder;

  // Constants -----------------------------------------------------------------
  /// A 0-D constant of `elementType`, which broadcasts against anything.
  Value scalar(double value, Type elementType);
  /// A splat constant of `type`.
  Value splat(double value, RankedTensorType type);
  /// The [size, size] identity matrix, whose rows gather into one-hot rows.
  Value identity(int64_t size, Type elementType);
  /// A dense constant of `shape` holding `values`.
  Value dense(ArrayRef<int64_t> shape, ArrayRef<double> values, Type elementType);

  // Elementwise (numpy broadcasting) ------------------------------------------
  Value add(Value a, Value c) { return create1<AddOp>({a, c}); }
  Value sub(Value a, Value c) { return create1<SubOp>({a, c}); }
  Value mul(Value a, Value c) { return create1<MulOp>({a, c}); }
  Value div(Value a, Value c) { return create1<DivOp>({a, c}); }
  Value pow(Value a, Value c) { return create1<PowOp>({a, c}); }
  Value neg(Value a) { return create1<NegOp>({a}); }
  Value sign(Value a) { return create1<SignOp>({a}); }
  Value abs(Value a) { return create1<AbsOp>({a}); }
  Value relu(Value a) { return create1<ReluOp>({a}); }
  Value exp(Value a) { return create1<ExpOp>({a}); }
  Value log(Value a) { return create1<LogOp>({a}); }
  /// `a * value` for a scalar `value`.
  Value scale(Value a, double value);
  /// 1 where `a > 0`, else 0.
  Value positive(Value a) { return relu(sign(a)); }

  // Shapes --------------------------------------------------------------------
  Value padConstant(Value a, ArrayRef<int64_t> low, ArrayRef<int64_t> high);
  Value matmul(Value a, Value c) { return create1<MatmulOp>({a, c}); }
  /// Rows of `a` along `axis` picked by the integer `indices`.
  Value gather(Value a, Value indices, int64_t axis);
  Value softmax(Value a, int64_t axis);
  /// Swaps the last two dims.
  Value transposeLast2(Value a);
  /// `a` broadcast to `shape`.
  Value broadcastTo(Value a, ArrayRef<int64_t> shape);
  /// Sums a broadcast gradient back to an operand's `shape` (numpy rules).
  Value sumTo(Value a, ArrayRef<int64_t> shape);
  /// Applies `matrix` ([K, D]) along `axis` of `a` (size K there): the result
  /// has size D on that axis, `result[.., d, ..] = sum_k a[.., k, ..] m[k, d]`.
  Value applyAlongAxis(Value a, int64_t axis, Value matrix);
  /// The [C] tensor `a` reshaped to broadcast along dim `channelDim` of a
  /// rank-`rank` tensor.
  Value perChannel(Value a, unsigned channelDim, unsigned rank);
  /// Sums over every dim but `channelDim` into [C].
  Value sumPerChannel(Value a, unsigned channelDim);
};

/// The static shape of a tensor value.
inline ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
inline Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_AUTODIFF_GRADIENTBUILDER_H
