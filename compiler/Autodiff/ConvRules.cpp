//===- ConvRules.cpp - Gradients of conv and conv_transpose ---------------===//
//
// conv's input gradient is a conv_transpose of the output gradient with the
// same filter, its filter gradient a conv_backward_filter; conv_transpose's
// are the other way round. `*io` filters swap their two channel dims between
// the two ops; `oi*` and `io*` filters are the same tensor read either way.
// All three ops are bilinear, so a tangent is the op applied to each
// operand's tangent with the other operand kept, summed (plus the bias's
// tangent broadcast per channel).
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Swaps the channel dims of a `*io` filter; other filters are unchanged.
Value swapSpatialFirstChannels(GradientBuilder &gb, Value filter, FilterLayout layout) {
  if (getFilterFamily(layout) != FilterFamily::SpatialFirst)
    return filter;
  return gb.transposeLast2(filter);
}

/// The properties of a conv, conv_transpose or conv_backward_filter that
/// reads the filter in `filterLayout` with `a`'s window.
template <typename OpTy>
PropertiesOf<OpTy> sharedProperties(GradientBuilder &gb, const ConvGeometry &a,
                                    FilterLayout filterLayout) {
  MLIRContext *context = gb.builder().getContext();
  PropertiesOf<OpTy> p;
  p.setLayout(ActivationLayoutAttr::get(context, a.layout));
  p.setFilterLayout(FilterLayoutAttr::get(context, filterLayout));
  p.setStrides(gb.i64Array(a.strides));
  p.setDilations(gb.i64Array(a.dilations));
  p.setPadding(gb.i64Array(a.padding));
  p.setGroups(gb.i64(a.groups));
  if constexpr (std::is_same_v<OpTy, ConvBackwardFilterOp>)
    p.setKernel(gb.i64Array(a.kernel));
  return p;
}

Value biasGradient(GradientBuilder &gb, Value dy, ActivationLayout layout) {
  return gb.sumPerChannel(dy, getChannelDim(layout));
}

void convRule(GradientBuilder &gb, ConvOp op, Value dy, ArrayRef<bool> needed,
              SmallVectorImpl<Value> &grads) {
  ConvGeometry a = getConvGeometry(op);
  if (needed[0]) {
    // output_padding recovers the input rows the forward stride skipped.
    ArrayRef<int64_t> in = shapeOf(op.getInput()), out = shapeOf(dy);
    SmallVector<unsigned, 3> dims = getSpatialDims(a.layout);
    SmallVector<int64_t> outputPadding;
    for (unsigned i = 0; i < a.spatialRank; ++i) {
      int64_t extent = a.dilations[i] * (a.kernel[i] - 1) + 1;
      outputPadding.push_back(in[dims[i]] + a.padding[i] + a.padding[a.spatialRank + i] -
                              extent - (out[dims[i]] - 1) * a.strides[i]);
    }
    auto p = sharedProperties<ConvTransposeOp>(gb, a, getTransposedFilterLayout(a.filterLayout));
    p.setOutputPadding(gb.i64Array(outputPadding));
    grads[0] = gb.create1<ConvTransposeOp>(
        {dy, swapSpatialFirstChannels(gb, op.getFilter(), a.filterLayout)}, p);
  }
  if (needed[1]) {
    grads[1] = gb.create1<ConvBackwardFilterOp>(
        {op.getInput(), dy}, sharedProperties<ConvBackwardFilterOp>(gb, a, a.filterLayout));
  }
  if (op.getBias() && needed[2])
    grads[2] = biasGradient(gb, dy, a.layout);
}

void convTransposeRule(GradientBuilder &gb, ConvTransposeOp op, Value dy,
                       ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  ConvGeometry a = getConvGeometry(op);
  FilterLayout convLayout = getTransposedFilterLayout(a.filterLayout);
  if (needed[0])
    grads[0] = gb.create1<ConvOp>(
        {dy, swapSpatialFirstChannels(gb, op.getFilter(), a.filterLayout)},
        sharedProperties<ConvOp>(gb, a, convLayout));
  if (needed[1]) {
    // The filter gradient of the conv that maps dy back onto the input.
    Value dw = gb.create1<ConvBackwardFilterOp>(
        {dy, op.getInput()}, sharedProperties<ConvBackwardFilterOp>(gb, a, convLayout));
    grads[1] = swapSpatialFirstChannels(gb, dw, a.filterLayout);
  }
  if (op.getBias() && needed[2])
    grads[2] = biasGradient(gb, dy, a.layout);
}

/// A conv's or conv_transpose's tangent: bilinear in input and filter, plus
/// the bias's tangent per channel.
template <typename OpTy>
Value convTangent(GradientBuilder &gb, OpTy op, ArrayRef<Value> tangents) {
  Value t = bilinearTangent(gb, op, tangents);
  if (op.getBias() && tangents[2]) {
    ActivationLayout layout = op.getLayout();
    ArrayRef<int64_t> shape = shapeOf(op.getResult());
    t = addTangents(gb, t,
                    gb.broadcastTo(gb.perChannel(tangents[2], getChannelDim(layout),
                                                 shape.size()),
                                   shape));
  }
  return t;
}

} // namespace

void mlir::tessel::registerConvRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addRule<ConvOp>(vjp, convRule);
  addRule<ConvTransposeOp>(vjp, convTransposeRule);
  addTangentRule<ConvOp>(jvp, convTangent<ConvOp>);
  addTangentRule<ConvTransposeOp>(jvp, convTangent<ConvTransposeOp>);
  addTangentRule<ConvBackwardFilterOp>(jvp, bilinearTangent<ConvBackwardFilterOp>);
}
