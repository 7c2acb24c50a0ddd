//===- GradientBuilder.cpp - Building gradient graphs ---------------------===//

#include "compiler/Autodiff/GradientBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::tessel;

Value GradientBuilder::scalar(double value, Type elementType) {
  return splat(value, RankedTensorType::get({}, elementType));
}

Value GradientBuilder::splat(double value, RankedTensorType type) {
  auto attr = DenseElementsAttr::get(
      type, FloatAttr::get(type.getElementType(), value).getValue());
  ConstantOp::Properties p;
  p.setValue(attr);
  return create1<ConstantOp>({}, p);
}

Value GradientBuilder::dense(ArrayRef<int64_t> shape, ArrayRef<double> values,
                             Type elementType) {
  auto type = RankedTensorType::get(shape, elementType);
  SmallVector<APFloat> floats;
  for (double v : values)
    floats.push_back(FloatAttr::get(elementType, v).getValue());
  ConstantOp::Properties p;
  p.setValue(DenseElementsAttr::get(type, floats));
  return create1<ConstantOp>({}, p);
}

Value GradientBuilder::identity(int64_t size, Type elementType) {
  SmallVector<double> values(size * size, 0.0);
  for (int64_t i = 0; i < size; ++i)
    values[i * size + i] = 1.0;
  return dense({size, size}, values, elementType);
}

Value GradientBuilder::scale(Value a, double value) {
  if (!a)
    return {};
  if (value == 1.0)
    return a;
  return mul(a, scalar(value, elementTypeOf(a)));
}

Value GradientBuilder::gather(Value a, Value indices, int64_t axis) {
  GatherOp::Properties p;
  p.setAxis(i64(axis));
  return create1<GatherOp>({a, indices}, p);
}

Value GradientBuilder::softmax(Value a, int64_t axis) {
  SoftmaxOp::Properties p;
  p.setAxis(i64(axis));
  return create1<SoftmaxOp>({a}, p);
}

Value GradientBuilder::padConstant(Value a, ArrayRef<int64_t> low,
                                   ArrayRef<int64_t> high) {
  if (llvm::all_of(low, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(high, [](int64_t v) { return v == 0; }))
    return a;
  SmallVector<int64_t> padding(low);
  padding.append(high.begin(), high.end());
  PadOp::Properties p;
  p.setMode(PadModeAttr::get(b.getContext(), PadMode::Constant));
  p.setPadding(i64Array(padding));
  return create1<PadOp>({a}, p);
}

Value GradientBuilder::transposeLast2(Value a) {
  if (!a)
    return {};
  int64_t rank = shapeOf(a).size();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return transpose(a, perm);
}

Value GradientBuilder::broadcastTo(Value a, ArrayRef<int64_t> shape) {
  if (!a)
    return {};
  if (shapeOf(a) == shape)
    return a;
  return add(splat(0.0, RankedTensorType::get(shape, elementTypeOf(a))), a);
}

Value GradientBuilder::sumTo(Value a, ArrayRef<int64_t> shape) {
  if (!a)
    return {};
  ArrayRef<int64_t> from = shapeOf(a);
  if (from == shape)
    return a;
  // Dims the operand lacks (leading) or holds as 1 while the result does not.
  SmallVector<int64_t> axes;
  size_t offset = from.size() - shape.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (i < offset || (shape[i - offset] == 1 && from[i] != 1))
      axes.push_back(static_cast<int64_t>(i));
  return reshape(sum(a, axes, /*keepDims=*/true), shape);
}

Value GradientBuilder::applyAlongAxis(Value a, int64_t axis, Value matrix) {
  if (!a || !matrix)
    return {};
  int64_t rank = shapeOf(a).size();
  if (axis == rank - 1)
    return matmul(a, matrix);
  SmallVector<int64_t> perm, inverse(rank);
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      perm.push_back(i);
  perm.push_back(axis);
  for (int64_t i = 0; i < rank; ++i)
    inverse[perm[i]] = i;
  return transpose(matmul(transpose(a, perm), matrix), inverse);
}

Value GradientBuilder::perChannel(Value a, unsigned channelDim, unsigned rank) {
  if (!a)
    return {};
  SmallVector<int64_t> shape{shapeOf(a)[0]};
  shape.append(rank - 1 - channelDim, 1);
  return reshape(a, shape);
}

Value GradientBuilder::sumPerChannel(Value a, unsigned channelDim) {
  if (!a)
    return {};
  SmallVector<int64_t> axes;
  for (int64_t i = 0, e = shapeOf(a).size(); i < e; ++i)
    if (i != channelDim)
      axes.push_back(i);
  return sum(a, axes, /*keepDims=*/false);
}
