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

/// The gradient of a window or global pool: pool_backward with `properties`
/// (all but the kind) scatters dy over the windows; Lp pools go through
/// lpGradient.
Value windowPoolGradient(GradientBuilder &gb, Value input, Value result, Value dy,
                         PoolKind kind, std::optional<APFloat> p,
                         PoolBackwardOp::Properties properties) {
  MLIRContext *context = gb.builder().getContext();
  auto backward = [&](PoolKind k, Value g) {
    properties.setKind(PoolKindAttr::get(context, k));
    return gb.create1<PoolBackwardOp>({input, g}, properties);
  };
  if (kind != PoolKind::Lp)
    return backward(kind, dy);
  return lpGradient(gb, input, result, dy, p ? p->convertToDouble() : 2.0,
                    [&](Value g) { return backward(PoolKind::Lp, g); });
}

void poolRule(GradientBuilder &gb, PoolOp op, Value dy, ArrayRef<bool>,
              SmallVectorImpl<Value> &grads) {
  PoolBackwardOp::Properties p;
  p.setLayout(op.getLayoutAttr());
  p.setKernel(op.getKernelAttr());
  p.setStrides(op.getStridesAttr());
  p.setDilations(op.getDilationsAttr());
  p.setPadding(op.getPaddingAttr());
  p.setCeilMode(op.getCeilModeAttr());
  p.setCountIncludePad(op.getCountIncludePadAttr());
  grads[0] = windowPoolGradient(gb, op.getInput(), op.getResult(), dy, op.getKind(),
                                op.getP(), p);
}

void adaptivePoolRule(GradientBuilder &gb, AdaptivePoolOp op, Value dy,
                      ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
  AdaptivePoolBackwardOp::Properties p;
  p.setKind(op.getKindAttr());
  p.setLayout(op.getLayoutAttr());
  p.setOutputSize(op.getOutputSizeAttr());
  grads[0] = gb.create1<AdaptivePoolBackwardOp>({op.getInput(), dy}, p);
}

/// A global pool's gradient is that of one window covering the input.
void globalPoolRule(GradientBuilder &gb, GlobalPoolOp op, Value dy, ArrayRef<bool>,
                    SmallVectorImpl<Value> &grads) {
  SmallVector<int64_t> kernel;
  for (unsigned d : getSpatialDims(op.getLayout()))
    kernel.push_back(shapeOf(op.getInput())[d]);
  PoolBackwardOp::Properties p;
  p.setLayout(op.getLayoutAttr());
  p.setKernel(gb.i64Array(kernel));
  grads[0] = windowPoolGradient(gb, op.getInput(), op.getResult(), dy, op.getKind(),
                                op.getP(), p);
}

} // namespace

void mlir::tessel::registerPoolRules(RuleTable &table) {
  addRule<PoolOp>(table, poolRule);
  addRule<AdaptivePoolOp>(table, adaptivePoolRule);
  addRule<GlobalPoolOp>(table, globalPoolRule);
}
