//===- TensorRules.cpp - Gradients of shape and layout ops ----------------===//
//
// Reshapes, transposes and relayouts are undone on the gradient; concat
// slices it. Slices and gathers pick elements, so their gradients scatter:
// per dim, the gradient is multiplied by the 0/1 matrix of the selection,
// which also sums the contributions of indices that repeat. Every op here is
// linear, so a tangent is the op applied to the tangents.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

SmallVector<int64_t> invertPermutation(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = static_cast<int64_t>(i);
  return inverse;
}

void reshapeLike(GradientBuilder &gb, Value input, Value dy,
                 SmallVectorImpl<Value> &grads) {
  grads[0] = gb.reshape(dy, shapeOf(input));
}

void sliceRule(GradientBuilder &gb, SliceOp op, Value dy, ArrayRef<bool>,
               SmallVectorImpl<Value> &grads) {
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  ArrayRef<int64_t> offsets = op.getOffsets(), sizes = op.getSizes(),
                    strides = op.getStrides();
  Type t = elementTypeOf(dy);
  Value g = dy;
  for (size_t d = 0; d < in.size(); ++d) {
    if (offsets[d] == 0 && sizes[d] == in[d] && strides[d] == 1)
      continue;
    // selection[k, offset + k * stride] = 1
    SmallVector<double> selection(sizes[d] * in[d], 0.0);
    for (int64_t k = 0; k < sizes[d]; ++k)
      selection[k * in[d] + offsets[d] + k * strides[d]] = 1.0;
    g = gb.applyAlongAxis(g, d, gb.dense({sizes[d], in[d]}, selection, t));
  }
  grads[0] = g;
}

/// result = input[..., indices, ...] along `axis`: the gradient is dy times
/// the one-hot rows of the indices (a gather of the identity matrix).
void gatherRule(GradientBuilder &gb, GatherOp op, Value dy, ArrayRef<bool>,
                SmallVectorImpl<Value> &grads) {
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  int64_t rank = in.size();
  int64_t axis = wrapAxis(op.getAxis(), rank);
  int64_t size = in[axis];
  int64_t count = cast<RankedTensorType>(op.getIndices().getType()).getNumElements();
  Type t = elementTypeOf(dy);
  Value oneHot = gb.gather(gb.identity(size, t), op.getIndices(), 0);
  oneHot = gb.reshape(oneHot, {count, size});
  SmallVector<int64_t> flat(in.take_front(axis));
  flat.push_back(count);
  flat.append(in.begin() + axis + 1, in.end());
  grads[0] = gb.applyAlongAxis(gb.reshape(dy, flat), axis, oneHot);
}

void concatRule(GradientBuilder &gb, const GradientRequest &request,
                SmallVectorImpl<Value> &grads, Value dy) {
  auto op = cast<ConcatOp>(request.op);
  ArrayRef<int64_t> out = shapeOf(dy);
  int64_t rank = out.size();
  int64_t axis = wrapAxis(op.getAxis(), rank);
  int64_t offset = 0;
  for (auto [i, input] : llvm::enumerate(op.getInputs())) {
    ArrayRef<int64_t> shape = shapeOf(input);
    if (request.needed[i]) {
      SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
      offsets[axis] = offset;
      grads[i] = gb.slice(dy, offsets, shape, strides);
    }
    offset += shape[axis];
  }
}

} // namespace

void mlir::tessel::registerTensorRules(RuleTable &vjp, TangentRuleTable &jvp) {
  // Every op here is linear in its float operands.
  addTangentRule<ReshapeOp>(jvp, linearTangent<ReshapeOp>);
  addTangentRule<FlattenOp>(jvp, linearTangent<FlattenOp>);
  addTangentRule<TransposeOp>(jvp, linearTangent<TransposeOp>);
  addTangentRule<RelayoutOp>(jvp, linearTangent<RelayoutOp>);
  addTangentRule<SliceOp>(jvp, linearTangent<SliceOp>);
  addTangentRule<GatherOp>(jvp, linearTangent<GatherOp>);
  addTangentRule<ConcatOp>(jvp, linearTangent<ConcatOp>);
  RuleTable &table = vjp;
  addRule<ReshapeOp>(table, [](GradientBuilder &gb, ReshapeOp op, Value dy,
                               ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
    reshapeLike(gb, op.getInput(), dy, grads);
  });
  addRule<FlattenOp>(table, [](GradientBuilder &gb, FlattenOp op, Value dy,
                               ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
    reshapeLike(gb, op.getInput(), dy, grads);
  });
  addRule<TransposeOp>(table, [](GradientBuilder &gb, TransposeOp op, Value dy,
                                 ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
    grads[0] = gb.transpose(dy, invertPermutation(op.getPerm()));
  });
  addRule<RelayoutOp>(table, [](GradientBuilder &gb, RelayoutOp op, Value dy,
                                ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
    RelayoutOp::Properties p;
    p.setSource(op.getTargetAttr());
    p.setTarget(op.getSourceAttr());
    grads[0] = gb.create1<RelayoutOp>({dy}, p);
  });
  addRule<SliceOp>(table, sliceRule);
  addRule<GatherOp>(table, gatherRule);
  table[ConcatOp::getOperationName()] = [](GradientBuilder &gb,
                                           const GradientRequest &request,
                                           SmallVectorImpl<Value> &grads) {
    concatRule(gb, request, grads, request.resultGrads.front());
    return failure(gb.failed());
  };
}
