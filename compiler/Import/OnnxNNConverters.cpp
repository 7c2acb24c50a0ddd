//===- OnnxNNConverters.cpp - Conv, pooling and batch norm ----------------===//
//
// Conv, ConvTranspose, MaxPool, AveragePool, LpPool, the global pools and
// BatchNormalization, with auto_pad and output_shape resolved here.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporterImpl.h"

#include <cmath>
#include <numeric>

using namespace tessel;
using namespace tessel::detail;

namespace tessel::detail::importer {

//===----------------------------------------------------------------------===//
// Windows: convs and pools
//===----------------------------------------------------------------------===//

Result<Importer::Window> Importer::readWindow(const Shape &inputShape,
                                              std::optional<Shape> kernel,
                                              bool hasDilations) {
  size_t rank = inputShape.size() - 2;
  Window w;
  if (auto k = intsAttr("kernel_shape")) {
    if (kernel && *k != *kernel)
      return failAttribute("kernel_shape", formatShape(*k) + " differs from the weights' " +
                                               formatShape(*kernel));
    kernel = *k;
  }
  if (!kernel)
    return failAttribute("kernel_shape", "is required");
  w.kernel = *kernel;
  w.strides = intsAttr("strides").value_or(Shape(rank, 1));
  w.dilations = hasDilations ? intsAttr("dilations").value_or(Shape(rank, 1)) : Shape(rank, 1);
  w.padding = intsAttr("pads").value_or(Shape(2 * rank, 0));
  if (w.kernel.size() != rank)
    return failAttribute("kernel_shape", "has " + std::to_string(w.kernel.size()) +
                                             " entries for " + std::to_string(rank) +
                                             " spatial dims");
  if (w.strides.size() != rank)
    return failAttribute("strides", "needs " + std::to_string(rank) + " entries");
  if (w.dilations.size() != rank)
    return failAttribute("dilations", "needs " + std::to_string(rank) + " entries");
  if (w.padding.size() != 2 * rank)
    return failAttribute("pads", "needs " + std::to_string(2 * rank) + " entries");
  for (size_t i = 0; i < rank; ++i)
    if (w.strides[i] <= 0 || w.dilations[i] <= 0 || w.kernel[i] <= 0)
      return fail("kernel_shape, strides and dilations must be positive");
  std::string autoPad = stringAttr("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    w.padding.assign(2 * rank, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < rank; ++i) {
      int64_t in = inputShape[2 + i];
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - in);
      int64_t small = total / 2, large = total - small;
      w.padding[i] = autoPad == "SAME_UPPER" ? small : large;
      w.padding[rank + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return failAttribute("auto_pad", "value '" + autoPad + "' is not one of NOTSET, "
                                     "SAME_UPPER, SAME_LOWER, VALID");
  }
  return w;
}

Status Importer::convertConv(bool transposed) {
  auto x = input(0);
  if (!x)
    return x.status();
  auto w = input(1);
  if (!w)
    return w.status();
  Shape xs = shapeOf(*x), ws = shapeOf(*w);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) +
                "; Tessel convolves 1-D, 2-D and 3-D data (rank 3 to 5)");
  if (ws.size() != xs.size())
    return fail("weights have rank " + std::to_string(ws.size()) + ", the input rank " +
                std::to_string(xs.size()));
  size_t rank = xs.size() - 2;
  auto window = readWindow(xs, Shape(ws.begin() + 2, ws.end()), true);
  if (!window)
    return window.status();
  int64_t groups = intAttr("group", 1);
  mt::FilterLayout filter =
      transposed ? (rank == 1 ? mt::FilterLayout::IOW
                    : rank == 2 ? mt::FilterLayout::IOHW
                                : mt::FilterLayout::IODHW)
                 : (rank == 1 ? mt::FilterLayout::OIW
                    : rank == 2 ? mt::FilterLayout::OIHW
                                : mt::FilterLayout::OIDHW);
  Shape padding = window->padding, outputPadding;
  if (transposed) {
    outputPadding = intsAttr("output_padding").value_or(Shape(rank, 0));
    if (outputPadding.size() != rank)
      return failAttribute("output_padding", "needs " + std::to_string(rank) + " entries");
    if (auto outputShape = intsAttr("output_shape")) {
      // The spatial sizes asked for (or N, C, spatial): pads follow from them.
      Shape spatial = *outputShape;
      if (spatial.size() == rank + 2)
        spatial.erase(spatial.begin(), spatial.begin() + 2);
      if (spatial.size() != rank)
        return failAttribute("output_shape", "needs " + std::to_string(rank) + " entries");
      std::string autoPad = stringAttr("auto_pad", "NOTSET");
      for (size_t i = 0; i < rank; ++i) {
        int64_t extent = (window->kernel[i] - 1) * window->dilations[i] + 1;
        int64_t total = window->strides[i] * (xs[2 + i] - 1) + outputPadding[i] + extent -
                        spatial[i];
        if (total < 0) {
          outputPadding[i] -= total;
          total = 0;
        }
        int64_t half = total / 2;
        padding[i] = autoPad == "SAME_UPPER" ? half : total - half;
        padding[rank + i] = total - padding[i];
      }
    } else if (std::string autoPad = stringAttr("auto_pad", "NOTSET");
               autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      // Output size input * stride; the total padding is split like above.
      for (size_t i = 0; i < rank; ++i) {
        int64_t extent = (window->kernel[i] - 1) * window->dilations[i] + 1;
        int64_t total = std::max<int64_t>(
            0, window->strides[i] * (xs[2 + i] - 1) + outputPadding[i] + extent -
                   xs[2 + i] * window->strides[i]);
        int64_t half = total / 2;
        padding[i] = autoPad == "SAME_UPPER" ? half : total - half;
        padding[rank + i] = total - padding[i];
      }
    }
  }
  llvm::SmallVector<Value> operands = {*x, *w};
  if (hasInput(2)) {
    auto b = input(2);
    if (!b)
      return b.status();
    operands.push_back(*b);
  }
  auto properties = [&](auto p) {
    p.setLayout(layoutAttr(xs.size()));
    p.setFilterLayout(mt::FilterLayoutAttr::get(&context, filter));
    p.setStrides(i64s(window->strides));
    p.setDilations(i64s(window->dilations));
    p.setPadding(i64s(padding));
    p.setGroups(i64(groups));
    return p;
  };
  auto y = [&]() -> Result<Value> {
    if (!transposed)
      return build1<mt::ConvOp>(operands, properties(mt::ConvOp::Properties()));
    auto p = properties(mt::ConvTransposeOp::Properties());
    p.setOutputPadding(i64s(outputPadding));
    return build1<mt::ConvTransposeOp>(operands, p);
  }();
  return setOutput(0, y);
}

Status Importer::convertPool(mt::PoolKind kind) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) +
                "; Tessel pools 1-D, 2-D and 3-D data (rank 3 to 5)");
  // Dilations: MaxPool's, LpPool's from opset 18, AveragePool's from 19.
  bool hasDilations = kind == mt::PoolKind::Max || (kind == mt::PoolKind::Lp && opset >= 18) ||
                      (kind == mt::PoolKind::Avg && opset >= 19);
  auto window = readWindow(xs, std::nullopt, hasDilations);
  if (!window)
    return window.status();
  if (kind == mt::PoolKind::Max) {
    intAttr("storage_order", 0); // only affects the Indices output
    if (outputUsed(1))
      return fail("the Indices output is not supported");
  }
  mt::PoolOp::Properties p;
  p.setKind(mt::PoolKindAttr::get(&context, kind));
  p.setLayout(layoutAttr(xs.size()));
  p.setKernel(i64s(window->kernel));
  p.setStrides(i64s(window->strides));
  p.setDilations(i64s(window->dilations));
  p.setPadding(i64s(window->padding));
  p.setCeilMode(flag((kind != mt::PoolKind::Lp || opset >= 18) && intAttr("ceil_mode", 0)));
  p.setCountIncludePad(flag(kind == mt::PoolKind::Avg && intAttr("count_include_pad", 0)));
  if (kind == mt::PoolKind::Lp)
    p.setP(f64(static_cast<double>(intAttr("p", 2))));
  auto y = build1<mt::PoolOp>(*x, p);
  return setOutput(0, y);
}

Status Importer::convertGlobalPool(mt::PoolKind kind) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 3 to 5");
  mt::GlobalPoolOp::Properties p;
  p.setKind(mt::PoolKindAttr::get(&context, kind));
  p.setLayout(layoutAttr(xs.size()));
  if (kind == mt::PoolKind::Lp)
    p.setP(f64(static_cast<double>(intAttr("p", 2))));
  auto y = build1<mt::GlobalPoolOp>(*x, p);
  return setOutput(0, y);
}

Status Importer::convertBatchNorm() {
  auto read = inputs(5);
  if (!read)
    return read.status();
  llvm::SmallVector<Value> &operands = *read;
  Shape xs = shapeOf(operands[0]);
  double epsilon = floatAttr("epsilon", 1e-5);
  double momentum = floatAttr("momentum", 0.9);
  intAttr("is_test", 1);             // opsets before 7
  intsAttr("consumed_inputs");        // opsets before 6
  if (opset < 9 && intAttr("spatial", 1) != 1)
    return failAttribute("spatial", "= 0 (per-element statistics) is not supported");
  // Training mode is an attribute from opset 14 on; before, a node in
  // training mode is one that names its running statistics (outputs 1 and
  // 2), read or not. Its saved mean and variance (outputs 3 and 4) are not
  // supported where something reads them.
  bool training = intAttr("training_mode", 0) != 0;
  if (opset < 14) {
    training = outputNamed(1) || outputNamed(2);
    for (int i = 3; i <= 4; ++i)
      if (outputUsed(i))
        return fail("output #" + std::to_string(i) +
                    " (saved statistics) is not supported");
  }
  mt::ActivationLayoutAttr layout;
  if (xs.size() >= 3 && xs.size() <= 5)
    layout = layoutAttr(xs.size());
  else if (xs.size() != 2)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 2 to 5");
  if (!training) {
    for (int i = 1; i < node->output_size(); ++i)
      if (outputUsed(i))
        return fail("output #" + std::to_string(i) +
                    " (running statistics) exists only with training_mode = 1");
    mt::BatchNormOp::Properties p;
    p.setEpsilon(f64(epsilon));
    p.setLayout(layout);
    return setOutput(0, build1<mt::BatchNormOp>(operands, p));
  }
  // Training mode: normalize with the batch statistics and update the
  // running ones, running = running * momentum + batch * (1 - momentum).
  mt::BatchNormTrainOp::Properties p;
  p.setEpsilon(f64(epsilon));
  p.setLayout(layout);
  auto op = build<mt::BatchNormTrainOp>({operands[0], operands[1], operands[2]}, p);
  if (!op)
    return op.status();
  if (Status s = setOutput(0, (*op)->getResult(0)); !s)
    return s;
  for (int k = 1; k <= 2; ++k) {
    if (!outputUsed(k))
      continue;
    auto kept = scale(operands[2 + k], momentum);
    if (!kept)
      return kept.status();
    auto fresh = scale((*op)->getResult(k), 1.0 - momentum);
    if (!fresh)
      return fresh.status();
    auto sum = build1<mt::AddOp>({*kept, *fresh});
    if (!sum)
      return sum.status();
    if (Status s = setOutput(k, *sum); !s)
      return s;
  }
  return Status();
}


Importer::Normalized Importer::normalize(Status &s, Value x, llvm::ArrayRef<int64_t> axes,
                               double epsilon) {
  mt::MeanOp::Properties p;
  p.setAxes(i64s(axes));
  p.setKeepdims(flag(true));
  Normalized n;
  n.mean = chain<mt::MeanOp>(s, {x}, p);
  Value centered = chain<mt::SubOp>(s, {x, n.mean});
  Value variance = chain<mt::MeanOp>(s, {chain<mt::MulOp>(s, {centered, centered})}, p);
  Value stdDev = chain<mt::SqrtOp>(s, {chain<mt::AddOp>(s, {variance, scalar(epsilon)})});
  n.invStdDev = chain<mt::DivOp>(s, {scalar(1.0), stdDev});
  n.y = chain<mt::MulOp>(s, {centered, n.invStdDev});
  return n;
}

/// LayerNormalization (opset 17): normalized over the dims from `axis` on,
/// times Scale plus B (broadcast against those dims); outputs Mean and
/// InvStdDev when used.
Status Importer::convertLayerNorm() {
  auto x = input(0);
  if (!x)
    return x.status();
  int64_t rank = static_cast<int64_t>(shapeOf(*x).size());
  auto axis = normalizeAxis(intAttr("axis", -1), rank);
  if (!axis)
    return failAttribute("axis", axis.message());
  int64_t stash = intAttr("stash_type", 1);
  if (stash != 1)
    return failAttribute("stash_type", "must be 1 (float32); Tessel computes in float32");
  Shape axes;
  for (int64_t d = *axis; d < rank; ++d)
    axes.push_back(d);
  Status s;
  Normalized n = normalize(s, *x, axes, floatAttr("epsilon", 1e-5));
  Value y = n.y;
  for (int i = 1; i <= 2; ++i) {
    if (!hasInput(i))
      continue;
    auto operand = input(i);
    if (!operand)
      return operand.status();
    y = i == 1 ? chain<mt::MulOp>(s, {y, *operand}) : chain<mt::AddOp>(s, {y, *operand});
  }
  if (!s)
    return s;
  if (Status st = setOutput(0, y); !st)
    return st;
  if (Status st = setOutput(1, n.mean); !st)
    return st;
  return setOutput(2, n.invStdDev);
}

Result<Value> Importer::scaleAndShift(Value y, Value scale, Value bias,
                                      llvm::StringRef biasName, int64_t count,
                                      const Shape &shape, llvm::StringRef per) {
  Value params[2] = {scale, bias};
  for (int i = 0; i < 2; ++i) {
    if (shapeOf(params[i]) != Shape{count})
      return fail("input '" + (i == 0 ? std::string("scale") : biasName.str()) +
                  "' has shape " + formatShape(shapeOf(params[i])) + "; expected [" +
                  std::to_string(count) + "] (one per " + per.str() + ")");
    auto r = reshape(params[i], shape);
    if (!r)
      return r.status();
    params[i] = *r;
  }
  Status s;
  Value result = chain<mt::AddOp>(s, {chain<mt::MulOp>(s, {y, params[0]}), params[1]});
  if (!s)
    return s;
  return result;
}

/// InstanceNormalization: each sample's channels normalized over their
/// spatial dims, times scale plus B (one per channel).
Status Importer::convertInstanceNorm() {
  auto read = inputs(3);
  if (!read)
    return read.status();
  llvm::SmallVector<Value> &operands = *read;
  Shape xs = shapeOf(operands[0]);
  if (xs.size() < 3)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 3 or more");
  Shape axes, perChannel(xs.size() - 1, 1);
  for (size_t d = 2; d < xs.size(); ++d)
    axes.push_back(static_cast<int64_t>(d));
  perChannel[0] = xs[1];
  Status s;
  Normalized n = normalize(s, operands[0], axes, floatAttr("epsilon", 1e-5));
  if (!s)
    return s;
  return setOutput(0, scaleAndShift(n.y, operands[1], operands[2], "B", xs[1], perChannel,
                                    "channel"));
}

/// GroupNormalization: each sample's channels in num_groups groups, each
/// group normalized over its channels and spatial dims; then times scale
/// plus bias, one per group at opset 18 and one per channel from opset 21
/// (the spec's change; PyTorch's GroupNorm is the latter).
Status Importer::convertGroupNorm() {
  auto read = inputs(3);
  if (!read)
    return read.status();
  llvm::SmallVector<Value> &operands = *read;
  Shape xs = shapeOf(operands[0]);
  if (xs.size() < 3)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 3 or more");
  const onnx::AttributeProto *groupsAttr = attribute("num_groups");
  if (!groupsAttr)
    return failAttribute("num_groups", "is required");
  int64_t groups = groupsAttr->i();
  if (groups <= 0 || xs[1] % groups != 0)
    return failAttribute("num_groups", "(" + std::to_string(groups) +
                                           ") must be positive and divide the " +
                                           std::to_string(xs[1]) + " channels");
  if (intAttr("stash_type", 1) != 1)
    return failAttribute("stash_type", "must be 1 (float32); Tessel computes in float32");
  // Normalized as [N, G, C/G * spatial]; the affine parameters broadcast
  // over that shape (per group) or, reshaped back, the input's (per channel).
  auto x = reshape(operands[0], {xs[0], groups, product(xs) / xs[0] / groups});
  if (!x)
    return x.status();
  Status s;
  Value y = normalize(s, *x, {2}, floatAttr("epsilon", 1e-5)).y;
  if (!s)
    return s;
  if (opset < 21) {
    auto scaled = scaleAndShift(y, operands[1], operands[2], "bias", groups, {groups, 1},
                                "group at opset 18-20");
    return setOutput(0, scaled ? reshape(*scaled, xs) : scaled);
  }
  auto back = reshape(y, xs);
  if (!back)
    return back.status();
  Shape perChannel(xs.size() - 1, 1);
  perChannel[0] = xs[1];
  return setOutput(0, scaleAndShift(*back, operands[1], operands[2], "bias", xs[1], perChannel,
                                    "channel"));
}

} // namespace tessel::detail::importer
