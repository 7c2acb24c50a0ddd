//===- LinearRules.cpp - Derivatives of linear and matmul -----------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// y = x W^T + b over x [..., in]: dx = dy W, dW = dy2^T x2 over the
/// flattened leading dims, db = dy summed over the leading dims.
void linearRule(GradientBuilder &gb, LinearOp op, Value dy, ArrayRef<bool> needed,
                SmallVectorImpl<Value> &grads) {
  Value x = op.getInput(), w = op.getWeight();
  int64_t in = shapeOf(w)[1], out = shapeOf(w)[0];
  if (needed[0])
    grads[0] = gb.reshape(gb.matmul(dy, w), shapeOf(x));
  if (needed[1]) {
    int64_t rows = cast<RankedTensorType>(x.getType()).getNumElements() / in;
    Value dy2 = gb.reshape(dy, {rows, out});
    Value x2 = gb.reshape(x, {rows, in});
    grads[1] = gb.matmul(gb.transposeLast2(dy2), x2);
  }
  if (op.getBias() && needed[2]) {
    int64_t rank = shapeOf(dy).size();
    grads[2] = gb.sum(dy, llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), false);
  }
}

/// numpy matmul: 1-D operands are promoted to matrices, batch dims
/// broadcast. dA = dY B^T, dB = A^T dY, each summed back to its operand.
void matmulRule(GradientBuilder &gb, MatmulOp op, Value dy, ArrayRef<bool> needed,
                SmallVectorImpl<Value> &grads) {
  Value a = op.getLhs(), b = op.getRhs();
  ArrayRef<int64_t> aShape = shapeOf(a), bShape = shapeOf(b);
  SmallVector<int64_t> aPromoted(aShape), bPromoted(bShape);
  if (aShape.size() == 1)
    aPromoted.insert(aPromoted.begin(), 1);
  if (bShape.size() == 1)
    bPromoted.push_back(1);
  // dy with the promoted dims restored: [batch..., m, n].
  SmallVector<int64_t> dyPromoted(shapeOf(dy));
  if (aShape.size() == 1)
    dyPromoted.insert(dyPromoted.end() - (bShape.size() == 1 ? 0 : 1), 1);
  if (bShape.size() == 1)
    dyPromoted.push_back(1);
  Value a2 = gb.reshape(a, aPromoted), b2 = gb.reshape(b, bPromoted);
  Value dy2 = gb.reshape(dy, dyPromoted);
  if (needed[0])
    grads[0] = gb.reshape(gb.sumTo(gb.matmul(dy2, gb.transposeLast2(b2)), aPromoted),
                          aShape);
  if (needed[1])
    grads[1] = gb.reshape(gb.sumTo(gb.matmul(gb.transposeLast2(a2), dy2), bPromoted),
                          bShape);
}

/// Bilinear in input and weight, plus the bias's tangent broadcast over the
/// leading dims.
Value linearOpTangent(GradientBuilder &gb, LinearOp op, ArrayRef<Value> tangents) {
  Value t = bilinearTangent(gb, op, tangents);
  if (op.getBias() && tangents[2])
    t = addTangents(gb, t, gb.broadcastTo(tangents[2], shapeOf(op.getResult())));
  return t;
}

} // namespace

void mlir::tessel::registerLinearRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addRule<LinearOp>(vjp, linearRule);
  addRule<MatmulOp>(vjp, matmulRule);
  addTangentRule<LinearOp>(jvp, linearOpTangent);
  addTangentRule<MatmulOp>(jvp, bilinearTangent<MatmulOp>);
}
