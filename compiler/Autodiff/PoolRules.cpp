//===- PoolRules.cpp - Gradients of pooling -------------------------------===//
//
// Max and average pooling map onto pool_backward / adaptive_pool_backward;
// global pooling is window pooling with the whole spatial extent as kernel.
// Lp pooling y = (sum |x|^p)^(1/p) has dy/dx = sign(x) |x|^(p-1) y^(1-p):
// the window sum part is pool_backward's lp kind, the rest elementwise.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// sign(x) |x|^(p-1) * scatter(dy * y^(1-p)), where `scatter` spreads a
/// window gradient over its elements unscaled.
Value lpGradient(GradientBuilder &gb, Value x, Value y, Value dy, double p,
                 function_ref<Value(Value)> scatter) {
  Type t = elementTypeOf(x);
  Value perWindow = gb.mul(dy, gb.pow(y, gb.scalar(1.0 - p, t)));
  Value spread = scatter(perWindow);
  Value factor = p == 2.0 ? x
                          : gb.mul(gb.sign(x), gb.pow(gb.abs(x), gb.scalar(p - 1.0, t)));
  return gb.mul(factor, spread);
}

void poolRule(GradientBuilder &gb, PoolOp op, Value dy, ArrayRef<bool>,
              SmallVectorImpl<Value> &grads) {
  MLIRContext *context = gb.builder().getContext();
  auto backward = [&](PoolKind kind, Value g) {
    PoolBackwardOp::Properties p;
    p.setKind(PoolKindAttr::get(context, kind));
    p.setLayout(op.getLayoutAttr());
    p.setKernel(op.getKernelAttr());
    p.setStrides(op.getStridesAttr());
    p.setDilations(op.getDilationsAttr());
    p.setPadding(op.getPaddingAttr());
    p.setCeilMode(op.getCeilModeAttr());
    p.setCountIncludePad(op.getCountIncludePadAttr());
    return gb.create1<PoolBackwardOp>({op.getInput(), g}, p);
  };
  if (op.getKind() != PoolKind::Lp) {
    grads[0] = backward(op.getKind(), dy);
    return;
  }
  double p = op.getP() ? op.getP()->convertToDouble() : 2.0;
  grads[0] = lpGradient(gb, op.getInput(), op.getResult(), dy, p,
                        [&](Value g) { return backward(PoolKind::Lp, g); });
}

void adaptivePoolRule(GradientBuilder &gb, AdaptivePoolOp op, Value dy,
                      ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
  AdaptivePoolBackwardOp::Properties p;
  p.setKind(op.getKindAttr());
  p.setLayout(op.getLayoutAttr());
  p.setOutputSize(op.getOutputSizeAttr());
  grads[0] = gb.create1<AdaptivePoolBackwardOp>({op.getInput(), dy}, p);
}

void globalPoolRule(GradientBuilder &gb, GlobalPoolOp op, Value dy, ArrayRef<bool>,
                    SmallVectorImpl<Value> &grads) {
  MLIRContext *context = gb.builder().getContext();
  SmallVector<int64_t> kernel;
  for (unsigned d : getSpatialDims(op.getLayout()))
    kernel.push_back(shapeOf(op.getInput())[d]);
  auto backward = [&](PoolKind kind, Value g) {
    PoolBackwardOp::Properties p;
    p.setKind(PoolKindAttr::get(context, kind));
    p.setLayout(op.getLayoutAttr());
    p.setKernel(gb.i64Array(kernel));
    return gb.create1<PoolBackwardOp>({op.getInput(), g}, p);
  };
  if (op.getKind() != PoolKind::Lp) {
    grads[0] = backward(op.getKind(), dy);
    return;
  }
  double p = op.getP() ? op.getP()->convertToDouble() : 2.0;
  grads[0] = lpGradient(gb, op.getInput(), op.getResult(), dy, p,
                        [&](Value g) { return backward(PoolKind::Lp, g); });
}

} // namespace

void mlir::tessel::registerPoolRules(RuleTable &table) {
  addRule<PoolOp>(table, poolRule);
  addRule<AdaptivePoolOp>(table, adaptivePoolRule);
  addRule<GlobalPoolOp>(table, globalPoolRule);
}
