//===- ResampleRules.cpp - Derivatives of pad, upsample and pixel shuffle -===//
//
// Padding in any mode is separable: each dim's pad reads the input through
// its own index map. Its gradient undoes the dims one at a time: the centre
// is sliced out and the pads' gradients, sliced (reversed for reflect) and
// padded with zeros to the input size, are added where they were read.
// Upsampling is separable too: per spatial dim it multiplies by an
// interpolation matrix [out, in], built here with the lowering's formulas,
// and its gradient multiplies by the transpose. Pixel shuffle and unshuffle
// are permutations, each the other's inverse. All are linear: a tangent is
// the op applied to the input's tangent (constant padding filling zeros).
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Rules.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// The gradient of padding one dim `d` by (lo, hi) in `mode`, from the
/// gradient `g` of the padded tensor to that of the tensor before.
Value unpadDim(GradientBuilder &gb, Value g, PadMode mode, int64_t d, int64_t lo,
               int64_t hi, int64_t n) {
  SmallVector<int64_t> shape(shapeOf(g));
  int64_t rank = shape.size();
  SmallVector<int64_t> offsets(rank, 0), strides(rank, 1), zeros(rank, 0);
  auto part = [&](int64_t offset, int64_t size, int64_t stride) {
    SmallVector<int64_t> o(offsets), sizes(shape), s(strides);
    o[d] = offset;
    sizes[d] = size;
    s[d] = stride;
    return gb.slice(g, o, sizes, s);
  };
  // Places a gradient of size `size` along d at [at, at + size) of n.
  auto place = [&](Value v, int64_t at, int64_t size) {
    SmallVector<int64_t> low(zeros), high(zeros);
    low[d] = at;
    high[d] = n - at - size;
    return gb.padConstant(v, low, high);
  };
  Value result = part(lo, n, 1);
  if (mode == PadMode::Constant)
    return result;
  if (lo > 0) {
    switch (mode) {
    case PadMode::Replicate:
      result = gb.add(result, place(gb.sum(part(0, lo, 1), {d}, true), 0, 1));
      break;
    case PadMode::Reflect: // padded j < lo reads x[lo - j]
      result = gb.add(result, place(part(lo - 1, lo, -1), 1, lo));
      break;
    case PadMode::Circular: // padded j < lo reads x[n - lo + j]
      result = gb.add(result, place(part(0, lo, 1), n - lo, lo));
      break;
    case PadMode::Constant:
      break;
    }
  }
  if (hi > 0) {
    int64_t last = lo + n + hi - 1;
    switch (mode) {
    case PadMode::Replicate:
      result = gb.add(result, place(gb.sum(part(lo + n, hi, 1), {d}, true), n - 1, 1));
      break;
    case PadMode::Reflect: // padded lo + n + t reads x[n - 2 - t]
      result = gb.add(result, place(part(last, hi, -1), n - 1 - hi, hi));
      break;
    case PadMode::Circular: // padded lo + n + t reads x[t]
      result = gb.add(result, place(part(lo + n, hi, 1), 0, hi));
      break;
    case PadMode::Constant:
      break;
    }
  }
  return result;
}

void padRule(GradientBuilder &gb, PadOp op, Value dy, ArrayRef<bool>,
             SmallVectorImpl<Value> &grads) {
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  int64_t rank = in.size();
  ArrayRef<int64_t> padding = op.getPadding();
  Value g = dy;
  if (op.getMode() == PadMode::Constant) {
    grads[0] = gb.slice(dy, padding.take_front(rank), in, SmallVector<int64_t>(rank, 1));
    return;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (padding[d] || padding[rank + d])
      g = unpadDim(gb, g, op.getMode(), d, padding[d], padding[rank + d], in[d]);
  grads[0] = g;
}

/// The [out, in] matrix of one spatial dim of tessel.upsample, with the
/// lowering's source-index formulas (ResampleToLinalg.cpp).
SmallVector<double> interpolationMatrix(UpsampleOp op, unsigned i, int64_t in,
                                        int64_t out) {
  bool linear = op.getMode() == UpsampleMode::Linear;
  double scale;
  if (linear && op.getAlignCorners())
    scale = out > 1 ? double(in - 1) / double(out - 1) : 0.0;
  else if (auto scales = op.getScales())
    scale = 1.0 / (*scales)[i];
  else
    scale = double(in) / double(out);
  SmallVector<double> m(out * in, 0.0);
  for (int64_t o = 0; o < out; ++o) {
    if (!linear) {
      int64_t src = std::min<int64_t>(static_cast<int64_t>(std::floor(o * scale)), in - 1);
      m[o * in + src] = 1.0;
      continue;
    }
    double src = op.getAlignCorners() ? o * scale : std::max((o + 0.5) * scale - 0.5, 0.0);
    double floor = std::floor(src);
    int64_t i0 = std::min<int64_t>(static_cast<int64_t>(floor), in - 1);
    int64_t i1 = std::min<int64_t>(i0 + 1, in - 1);
    double w = src - floor;
    m[o * in + i0] += 1.0 - w;
    m[o * in + i1] += w;
  }
  return m;
}

void upsampleRule(GradientBuilder &gb, UpsampleOp op, Value dy, ArrayRef<bool>,
                  SmallVectorImpl<Value> &grads) {
  ArrayRef<int64_t> in = shapeOf(op.getInput()), out = shapeOf(dy);
  Type t = elementTypeOf(dy);
  Value g = dy;
  for (auto [i, d] : llvm::enumerate(getSpatialDims(op.getLayout()))) {
    SmallVector<double> m = interpolationMatrix(op, i, in[d], out[d]);
    g = gb.applyAlongAxis(g, d, gb.dense({out[d], in[d]}, m, t));
  }
  grads[0] = g;
}

/// The gradient of a pixel (un)shuffle is its `InverseOp` with the same
/// layout and factor.
template <typename OpTy, typename InverseOp>
void addShuffle(RuleTable &table) {
  addRule<OpTy>(table, [](GradientBuilder &gb, OpTy op, Value dy, ArrayRef<bool>,
                          SmallVectorImpl<Value> &grads) {
    typename InverseOp::Properties p;
    p.setLayout(op.getLayoutAttr());
    p.setFactor(op.getFactorAttr());
    grads[0] = gb.create1<InverseOp>({dy}, p);
  });
}

/// Padding is linear but for the constant it fills with: the tangent pads
/// the input's tangent with zeros (or mirrors it, in the other modes).
Value padTangent(GradientBuilder &gb, PadOp op, ArrayRef<Value> tangents) {
  PropertiesOf<PadOp> p = op.getProperties();
  p.setValue(FloatAttr());
  return gb.create1<PadOp>({tangents[0]}, p);
}

} // namespace

void mlir::tessel::registerResampleRules(RuleTable &vjp, TangentRuleTable &jvp) {
  addRule<PadOp>(vjp, padRule);
  addRule<UpsampleOp>(vjp, upsampleRule);
  addShuffle<PixelShuffleOp, PixelUnshuffleOp>(vjp);
  addShuffle<PixelUnshuffleOp, PixelShuffleOp>(vjp);
  addTangentRule<PadOp>(jvp, padTangent);
  addTangentRule<UpsampleOp>(jvp, linearTangent<UpsampleOp>);
  addTangentRule<PixelShuffleOp>(jvp, linearTangent<PixelShuffleOp>);
  addTangentRule<PixelUnshuffleOp>(jvp, linearTangent<PixelUnshuffleOp>);
}
