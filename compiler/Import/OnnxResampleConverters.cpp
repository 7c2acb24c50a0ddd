//===- OnnxResampleConverters.cpp - Pad, Resize, depth and space ----------===//
//
// Pad (negative pads slice), Resize and Upsample onto PyTorch's
// interpolate, DepthToSpace and SpaceToDepth.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporterImpl.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>

using namespace tessel;
using namespace tessel::detail;

namespace tessel::detail::importer {

Status Importer::convertPad() {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  std::string mode = stringAttr("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0.0;
  if (opset < 11) {
    auto p = intsAttr(opset < 2 ? "paddings" : "pads");
    if (!p)
      return failAttribute("pads", "is required");
    pads = *p;
    value = floatAttr("value", 0.0);
  } else {
    auto p = intsInput(1, "pads");
    if (!p)
      return p.status();
    pads = *p;
    if (hasInput(2)) {
      auto c = requireConstant(2, "constant_value");
      if (!c)
        return c.status();
      if ((*c)->numElements() != 1)
        return fail("input 'constant_value' must be a scalar");
      value = (*c)->isFloat ? (*c)->floats[0] : static_cast<double>((*c)->ints[0]);
    }
  }
  size_t rank = xs.size();
  if (hasInput(3)) {
    // Opset 18: the pads are for these axes only.
    auto axes = intsInput(3, "axes");
    if (!axes)
      return axes.status();
    if (pads.size() != 2 * axes->size())
      return fail("pads " + formatShape(pads) + " needs " + std::to_string(2 * axes->size()) +
                  " entries (begin and end of each of the " + std::to_string(axes->size()) +
                  " axes)");
    std::vector<int64_t> full(2 * rank, 0);
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < axes->size(); ++i) {
      auto axis = normalizeAxis((*axes)[i], static_cast<int64_t>(rank));
      if (!axis)
        return fail("input 'axes': " + axis.message());
      if (seen[*axis])
        return fail("input 'axes' " + formatShape(*axes) + " repeats an axis");
      seen[*axis] = true;
      full[*axis] = pads[i];
      full[rank + *axis] = pads[axes->size() + i];
    }
    pads = std::move(full);
  }
  if (pads.size() != 2 * rank)
    return fail("pads " + formatShape(pads) + " needs " + std::to_string(2 * rank) +
                " entries (begin and end of each dim)");
  mt::PadMode padMode;
  if (mode == "constant")
    padMode = mt::PadMode::Constant;
  else if (mode == "reflect")
    padMode = mt::PadMode::Reflect;
  else if (mode == "edge")
    padMode = mt::PadMode::Replicate;
  else if (mode == "wrap")
    padMode = mt::PadMode::Circular;
  else
    return failAttribute("mode", "value '" + mode + "' is not one of constant, reflect, "
                                 "edge, wrap");
  // Negative pads remove elements: slice them off first.
  Value data = *x;
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; })) {
    Shape offsets(rank), sizes(rank), strides(rank, 1);
    for (size_t d = 0; d < rank; ++d) {
      offsets[d] = std::max<int64_t>(0, -pads[d]);
      sizes[d] = xs[d] - offsets[d] - std::max<int64_t>(0, -pads[rank + d]);
      if (sizes[d] < 0)
        return fail("pads " + formatShape(pads) + " remove more than dim " +
                    std::to_string(d) + " holds");
    }
    auto sliced = slice(data, offsets, sizes, strides);
    if (!sliced)
      return sliced.status();
    data = *sliced;
    for (int64_t &p : pads)
      p = std::max<int64_t>(0, p);
  }
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return setOutput(0, data);
  mt::PadOp::Properties p;
  p.setMode(mt::PadModeAttr::get(&context, padMode));
  p.setPadding(i64s(pads));
  if (padMode == mt::PadMode::Constant && value != 0.0)
    p.setValue(f64(value));
  auto y = build1<mt::PadOp>(data, p);
  return setOutput(0, y);
}

/// Resize (opset 10+) and Upsample. tessel.upsample is PyTorch's
/// interpolate: nearest is the asymmetric transform with floor, linear the
/// half-pixel transform or align_corners. Other combinations are refused,
/// except nearest with half_pixel rounding on integer upscaling factors,
/// which picks the same pixels.
Status Importer::convertResize(bool upsample) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  size_t rank = xs.size();
  if (rank < 3 || rank > 5)
    return fail("input has rank " + std::to_string(rank) +
                "; Tessel resizes 1-D, 2-D and 3-D data (rank 3 to 5)");
  std::string mode = stringAttr("mode", "nearest");
  std::string transform = "asymmetric", nearest = "floor";
  std::optional<std::vector<double>> scales;
  std::optional<Shape> sizes;
  auto readScales = [&](int i) -> Status {
    auto c = requireConstant(i, "scales");
    if (!c)
      return c.status();
    if (!(*c)->isFloat)
      return fail("input 'scales' must hold floats");
    if ((*c)->numElements() > 0)
      scales = (*c)->floats;
    return Status();
  };
  if (upsample) {
    if (opset >= 9) {
      if (Status s = readScales(1); !s)
        return s;
    } else {
      scales = floatsAttr("scales");
    }
    if (!scales)
      return fail("scales are required");
  } else {
    if (opset >= 11) {
      transform = stringAttr("coordinate_transformation_mode", "half_pixel");
      nearest = stringAttr("nearest_mode", "round_prefer_floor");
      floatAttr("cubic_coeff_a", -0.75);
      if (intAttr("exclude_outside", 0) != 0)
        return failAttribute("exclude_outside", "= 1 is not supported");
      floatAttr("extrapolation_value", 0.0);
      if (hasInput(2))
        if (Status s = readScales(2); !s)
          return s;
      if (hasInput(3)) {
        auto c = intsInput(3, "sizes");
        if (!c)
          return c.status();
        sizes = *c;
      }
    } else if (Status s = readScales(1); !s) {
      return s;
    }
  }
  if (!upsample && opset >= 18) {
    // Opset 18: scales or sizes for some axes only; antialiasing (which only
    // changes downscaling); sizes fitted to keep the aspect ratio.
    if (auto axes = intsAttr("axes")) {
      size_t given = scales ? scales->size() : sizes ? sizes->size() : axes->size();
      if (given != axes->size())
        return fail("scales or sizes need " + std::to_string(axes->size()) +
                    " entries (one per axis in 'axes')");
      std::vector<double> fullScales(rank, 1.0);
      Shape fullSizes(xs);
      std::vector<bool> seen(rank, false);
      for (size_t i = 0; i < axes->size(); ++i) {
        auto axis = normalizeAxis((*axes)[i], static_cast<int64_t>(rank));
        if (!axis)
          return failAttribute("axes", axis.message());
        if (seen[*axis])
          return failAttribute("axes", formatShape(*axes) + " repeats an axis");
        seen[*axis] = true;
        if (scales)
          fullScales[*axis] = (*scales)[i];
        if (sizes)
          fullSizes[*axis] = (*sizes)[i];
      }
      if (scales)
        scales = fullScales;
      if (sizes)
        sizes = fullSizes;
    }
    std::string policy = stringAttr("keep_aspect_ratio_policy", "stretch");
    if (policy != "stretch" && sizes)
      return failAttribute("keep_aspect_ratio_policy",
                           "'" + policy + "' is not supported (only 'stretch')");
    if (intAttr("antialias", 0) != 0) {
      bool downscales = false;
      for (size_t i = 2; i < rank; ++i)
        downscales |= scales && i < scales->size() ? (*scales)[i] < 1.0
                      : sizes && i < sizes->size() ? (*sizes)[i] < xs[i]
                                                   : false;
      if (downscales && mode != "nearest")
        return failAttribute("antialias", "= 1 is not supported when downscaling");
    }
  }
  if (scales && sizes)
    return fail("give either 'scales' or 'sizes', not both");
  if (!scales && !sizes)
    return fail("needs 'scales' or 'sizes'");
  if ((scales && scales->size() != rank) || (sizes && sizes->size() != rank))
    return fail("scales or sizes need " + std::to_string(rank) + " entries (one per dim)");
  if ((scales && ((*scales)[0] != 1.0 || (*scales)[1] != 1.0)) ||
      (sizes && ((*sizes)[0] != xs[0] || (*sizes)[1] != xs[1])))
    return fail("resizing the batch or channel dim is not supported");

  Shape out(rank - 2);
  std::vector<double> spatialScales;
  for (size_t i = 2; i < rank; ++i) {
    if (scales && (!std::isfinite((*scales)[i]) || (*scales)[i] <= 0 ||
                   std::floor(xs[i] * (*scales)[i]) >= 0x1p62))
      return fail(llvm::formatv("scale {0} of dim {1} must be positive and finite and "
                                "keep the size below 2^62",
                                llvm::formatv("{0:e}", (*scales)[i]).str(), i)
                      .str());
    out[i - 2] = sizes ? (*sizes)[i]
                       : static_cast<int64_t>(std::floor(xs[i] * (*scales)[i]));
    if (scales)
      spatialScales.push_back((*scales)[i]);
  }
  mt::UpsampleMode upsampleMode;
  bool alignCorners = false;
  if (mode == "nearest") {
    upsampleMode = mt::UpsampleMode::Nearest;
    bool integerUpscale = true;
    for (size_t i = 2; i < rank; ++i) {
      double factor = sizes ? static_cast<double>((*sizes)[i]) / xs[i] : (*scales)[i];
      integerUpscale &= factor >= 1.0 && factor == std::floor(factor) &&
                        out[i - 2] == xs[i] * static_cast<int64_t>(factor);
    }
    bool asymmetricFloor = transform == "asymmetric" && nearest == "floor";
    bool halfPixelRound =
        (transform == "half_pixel" || transform == "pytorch_half_pixel") &&
        (nearest == "round_prefer_floor" || nearest == "round_prefer_ceil") && integerUpscale;
    if (!asymmetricFloor && !halfPixelRound)
      return fail("nearest resizing with coordinate_transformation_mode '" + transform +
                  "' and nearest_mode '" + nearest +
                  "' is not supported (supported: asymmetric with floor, or half_pixel "
                  "rounding for integer upscaling factors)");
  } else if (mode == "linear" || mode == "bilinear" || mode == "trilinear") {
    upsampleMode = mt::UpsampleMode::Linear;
    bool allAboveOne = llvm::all_of(out, [](int64_t o) { return o > 1; });
    if (transform == "align_corners") {
      alignCorners = true;
      // ONNX aligns corners on the unrounded size in * scale; PyTorch's (and
      // tessel's) on the rounded output size. They agree on whole sizes only.
      for (size_t i = 2; scales && i < rank; ++i)
        if (xs[i] * (*scales)[i] != std::floor(xs[i] * (*scales)[i]))
          return fail("linear resizing with align_corners and a scale that does not "
                      "give a whole output size is not supported");
    }
    else if (!(transform == "half_pixel" ||
               (transform == "pytorch_half_pixel" && allAboveOne)))
      return fail("linear resizing with coordinate_transformation_mode '" + transform +
                  "' is not supported (supported: half_pixel, pytorch_half_pixel, "
                  "align_corners)");
  } else {
    return failAttribute("mode", "value '" + mode + "' is not supported (nearest, linear)");
  }
  mt::UpsampleOp::Properties p;
  p.setMode(mt::UpsampleModeAttr::get(&context, upsampleMode));
  p.setLayout(layoutAttr(rank));
  if (scales && !alignCorners)
    p.setScales(builder.getDenseF64ArrayAttr(spatialScales));
  else
    p.setSize(i64s(out));
  p.setAlignCorners(flag(alignCorners));
  auto y = build1<mt::UpsampleOp>(*x, p);
  return setOutput(0, y);
}

/// DepthToSpace in CRD mode is PyTorch's pixel_shuffle; DCR mode and
/// SpaceToDepth are a reshape, a transpose and a reshape.
Status Importer::convertDepthToSpace(bool inverse) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() != 4)
    return fail("input must have rank 4 (NCHW)");
  const onnx::AttributeProto *blockAttr = attribute("blocksize");
  if (!blockAttr || blockAttr->i() <= 0)
    return failAttribute("blocksize", "must be given and positive");
  int64_t b = blockAttr->i();
  int64_t n = xs[0], c = xs[1], h = xs[2], w = xs[3];
  Result<Value> y = *x;
  if (!inverse) {
    std::string mode = stringAttr("mode", "DCR");
    if (c % (b * b) != 0)
      return fail("channels (" + std::to_string(c) + ") must be divisible by blocksize^2");
    if (mode == "CRD") {
      mt::PixelShuffleOp::Properties p;
      p.setLayout(layoutAttr(4));
      p.setFactor(i64(b));
      y = build1<mt::PixelShuffleOp>(*x, p);
    } else if (mode == "DCR") {
      y = reshape(*x, {n, b, b, c / (b * b), h, w});
      if (y)
        y = transpose(*y, {0, 3, 4, 1, 5, 2});
      if (y)
        y = reshape(*y, {n, c / (b * b), h * b, w * b});
    } else {
      return failAttribute("mode", "value '" + mode + "' is not DCR or CRD");
    }
  } else {
    if (h % b != 0 || w % b != 0)
      return fail("height and width must be divisible by blocksize");
    y = reshape(*x, {n, c, h / b, b, w / b, b});
    if (y)
      y = transpose(*y, {0, 3, 5, 1, 2, 4});
    if (y)
      y = reshape(*y, {n, c * b * b, h / b, w / b});
  }
  return setOutput(0, y);
}


} // namespace tessel::detail::importer
