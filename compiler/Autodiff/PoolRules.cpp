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
  auto attrsFor = [&](PoolKind kind) {
    SmallVector<NamedAttribute> attrs{
        gb.attr("kind", PoolKindAttr::get(context, kind)),
        gb.attr("layout", op.getLayoutAttr()), gb.attr("kernel", op.getKernelAttr())};
    if (auto v = op.getStridesAttr())
      attrs.push_back(gb.attr("strides", v));
    if (auto v = op.getDilationsAttr())
      attrs.push_back(gb.attr("dilations", v));
    if (auto v = op.getPaddingAttr())
      attrs.push_back(gb.attr("padding", v));
    if (op.getCeilMode())
      attrs.push_back(gb.attr("ceil_mode", gb.builder().getUnitAttr()));
    if (op.getCountIncludePad())
      attrs.push_back(gb.attr("count_include_pad", gb.builder().getUnitAttr()));
    return attrs;
  };
  if (op.getKind() != PoolKind::Lp) {
    grads[0] = gb.create1("tessel.pool_backward", {op.getInput(), dy},
                          attrsFor(op.getKind()));
    return;
  }
  double p = op.getP() ? op.getP()->convertToDouble() : 2.0;
  grads[0] = lpGradient(gb, op.getInput(), op.getResult(), dy, p, [&](Value g) {
    return gb.create1("tessel.pool_backward", {op.getInput(), g},
                      attrsFor(PoolKind::Lp));
  });
}

void adaptivePoolRule(GradientBuilder &gb, AdaptivePoolOp op, Value dy,
                      ArrayRef<bool>, SmallVectorImpl<Value> &grads) {
  grads[0] = gb.create1("tessel.adaptive_pool_backward", {op.getInput(), dy},
                        {gb.attr("kind", op.getKindAttr()),
                         gb.attr("layout", op.getLayoutAttr()),
                         gb.attr("output_size", op.getOutputSizeAttr())});
}

void globalPoolRule(GradientBuilder &gb, GlobalPoolOp op, Value dy, ArrayRef<bool>,
                    SmallVectorImpl<Value> &grads) {
  MLIRContext *context = gb.builder().getContext();
  SmallVector<int64_t> kernel;
  for (unsigned d : getSpatialDims(op.getLayout()))
    kernel.push_back(shapeOf(op.getInput())[d]);
  auto backward = [&](PoolKind kind, Value g) {
    return gb.create1("tessel.pool_backward", {op.getInput(), g},
                      {gb.attr("kind", PoolKindAttr::get(context, kind)),
                       gb.attr("layout", op.getLayoutAttr()),
                       gb.i64Array("kernel", kernel)});
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
