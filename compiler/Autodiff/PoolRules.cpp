//===- PoolRules.cpp - Gradients of pooling -------------------------------===//
//
// Max and average pooling map onto pool_backward / adaptive_pool_backward;
// global pooling is window pooling with the whole spatial extent as kernel.
// Lp pooling y = (sum |x|^p)^(1/p) has dy/dx = sign(x) |x|^(p-1) y^(1-p):
// the window sum part is pool_backward's lp kind, the rest elementwise.
//
// Tangents: average pooling is linear, so its tangent is the pool of the
// tangent; max pooling takes each window's tangent at its first maximum
// (pool_tangent, the transpose of pool_backward); Lp pooling's tangent is
// y^(1-p) times the window sum of sign(x) |x|^(p-1) dx. The gradient ops
// are linear in their gradient operand and piecewise constant in the input,
// so their tangents (for Hessian-vector products) are the same ops applied
// to the gradient's tangent.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// d |x|^p / dx / p = sign(x) |x|^(p-1), the elementwise factor of Lp
/// pooling's derivatives.
Value lpFactor(GradientBuilder &gb, Value x, double p) {
  if (p == 2.0)
    return x;
  return gb.mul(gb.sign(x), gb.pow(gb.abs(x), gb.scalar(p - 1.0, elementTypeOf(x))));
}

/// sign(x) |x|^(p-1) * scatter(dy * y^(1-p)), where `scatter` spreads a
/// window gradient over its elements unscaled.
Value lpGradient(GradientBuilder &gb, Value x, Value y, Value dy, double p,
                 function_ref<Value(Value)> scatter) {
  Value perWindow = gb.mul(dy, gb.pow(y, gb.scalar(1.0 - p, elementTypeOf(x))));
  return gb.mul(lpFactor(gb, x, p), scatter(perWindow));
}

/// The window attributes of `op` (all but the kind) as the properties of
/// its pool_backward or pool_tangent.
template <typename PropertiesT>
PropertiesT windowProperties(PoolOp op) {
  PropertiesT p;
  p.setLayout(op.getLayoutAttr());
  p.setKernel(op.getKernelAttr());
  p.setStrides(op.getStridesAttr());
  p.setDilations(op.getDilationsAttr());
  p.setPadding(op.getPaddingAttr());
  p.setCeilMode(op.getCeilModeAttr());
  p.setCountIncludePad(op.getCountIncludePadAttr());
  return p;
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
  grads[0] = windowPoolGradient(gb, op.getInput(), op.getResult(), dy, op.getKind(),
                                op.getP(), windowProperties<PoolBackwardOp::Properties>(op));
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

/// The tangent of a window or global pool of `kind` from pool_tangent with
/// `properties` (all but the kind); Lp pools scale it elementwise.
Value windowPoolTangent(GradientBuilder &gb, Value input, Value result, Value dx,
                        PoolKind kind, std::optional<APFloat> p,
                        PoolTangentOp::Properties properties) {
  MLIRContext *context = gb.builder().getContext();
  auto windows = [&](PoolKind k, Value t) {
    properties.setKind(PoolKindAttr::get(context, k));
    return gb.create1<PoolTangentOp>({input, t}, properties);
  };
  if (kind != PoolKind::Lp)
    return windows(kind, dx);
  double pv = p ? p->convertToDouble() : 2.0;
  return gb.mul(windows(PoolKind::Lp, gb.mul(lpFactor(gb, input, pv), dx)),
                gb.pow(result, gb.scalar(1.0 - pv, elementTypeOf(input))));
}

Value poolTangent(GradientBuilder &gb, PoolOp op, ArrayRef<Value> tangents) {
  if (op.getKind() == PoolKind::Avg)
    return recreate(gb, op, {tangents[0]});
  return windowPoolTangent(gb, op.getInput(), op.getResult(), tangents[0], op.getKind(),
                           op.getP(), windowProperties<PoolTangentOp::Properties>(op));
}

Value adaptivePoolTangent(GradientBuilder &gb, AdaptivePoolOp op,
                          ArrayRef<Value> tangents) {
  if (op.getKind() == PoolKind::Avg)
    return recreate(gb, op, {tangents[0]});
  AdaptivePoolTangentOp::Properties p;
  p.setKind(op.getKindAttr());
  p.setLayout(op.getLayoutAttr());
  p.setOutputSize(op.getOutputSizeAttr());
  return gb.create1<AdaptivePoolTangentOp>({op.getInput(), tangents[0]}, p);
}

Value globalPoolTangent(GradientBuilder &gb, GlobalPoolOp op, ArrayRef<Value> tangents) {
  if (op.getKind() == PoolKind::Avg)
    return recreate(gb, op, {tangents[0]});
  SmallVector<int64_t> kernel;
  for (unsigned d : getSpatialDims(op.getLayout()))
    kernel.push_back(shapeOf(op.getInput())[d]);
  PoolTangentOp::Properties p;
  p.setLayout(op.getLayoutAttr());
  p.setKernel(gb.i64Array(kernel));
  return windowPoolTangent(gb, op.getInput(), op.getResult(), tangents[0], op.getKind(),
                           op.getP(), p);
}

/// pool_backward, adaptive_pool_backward, pool_tangent and
/// adaptive_pool_tangent: linear in their second operand, piecewise constant
/// in the input.
template <typename OpTy>
Value secondOperandTangent(GradientBuilder &gb, OpTy op, ArrayRef<Value> tangents) {
  if (!tangents[1])
    return {};
  return recreate(gb, op, {op->getOperand(0), tangents[1]});
}

} // namespace

void mlir::tessel::registerPoolRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addRule<PoolOp>(vjp, poolRule);
  addRule<AdaptivePoolOp>(vjp, adaptivePoolRule);
  addRule<GlobalPoolOp>(vjp, globalPoolRule);
  addTangentRule<PoolOp>(jvp, poolTangent);
  addTangentRule<AdaptivePoolOp>(jvp, adaptivePoolTangent);
  addTangentRule<GlobalPoolOp>(jvp, globalPoolTangent);
  addTangentRule<PoolBackwardOp>(jvp, secondOperandTangent<PoolBackwardOp>);
  addTangentRule<AdaptivePoolBackwardOp>(jvp, secondOperandTangent<AdaptivePoolBackwardOp>);
  addTangentRule<PoolTangentOp>(jvp, secondOperandTangent<PoolTangentOp>);
  addTangentRule<AdaptivePoolTangentOp>(jvp, secondOperandTangent<AdaptivePoolTangentOp>);
}
