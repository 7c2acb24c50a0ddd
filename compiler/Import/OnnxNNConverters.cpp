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
  std::vector<NamedAttribute> attrs = {
      layoutAttr(xs.size()), i64s("strides", window->strides),
      i64s("dilations", window->dilations), i64("groups", groups)};
  mt::FilterLayout filter =
      transposed ? (rank == 1 ? mt::FilterLayout::IOW
                    : rank == 2 ? mt::FilterLayout::IOHW
                                : mt::FilterLayout::IODHW)
                 : (rank == 1 ? mt::FilterLayout::OIW
                    : rank == 2 ? mt::FilterLayout::OIHW
                                : mt::FilterLayout::OIDHW);
  attrs.push_back(named("filter_layout", mt::FilterLayoutAttr::get(&context, filter)));
  Shape padding = window->padding;
  if (transposed) {
    Shape outputPadding = intsAttr("output_padding").value_or(Shape(rank, 0));
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
    attrs.push_back(i64s("output_padding", outputPadding));
  }
  attrs.push_back(i64s("padding", padding));
  llvm::SmallVector<Value> operands = {*x, *w};
  if (hasInput(2)) {
    auto b = input(2);
    if (!b)
      return b.status();
    operands.push_back(*b);
  }
  auto y = build1(transposed ? "tessel.conv_transpose" : "tessel.conv", operands, attrs);
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
  bool hasDilations = kind == mt::PoolKind::Max;
  auto window = readWindow(xs, std::nullopt, hasDilations);
  if (!window)
    return window.status();
  if (kind == mt::PoolKind::Max) {
    intAttr("storage_order", 0); // only affects the Indices output
    if (outputUsed(1))
      return fail("the Indices output is not supported");
  }
  std::vector<NamedAttribute> attrs = {
      named("kind", mt::PoolKindAttr::get(&context, kind)), layoutAttr(xs.size()),
      i64s("kernel", window->kernel), i64s("strides", window->strides),
      i64s("dilations", window->dilations), i64s("padding", window->padding)};
  if (kind != mt::PoolKind::Lp && intAttr("ceil_mode", 0))
    attrs.push_back(named("ceil_mode", builder.getUnitAttr()));
  if (kind == mt::PoolKind::Avg && intAttr("count_include_pad", 0))
    attrs.push_back(named("count_include_pad", builder.getUnitAttr()));
  if (kind == mt::PoolKind::Lp)
    attrs.push_back(f64("p", static_cast<double>(intAttr("p", 2))));
  auto y = build1("tessel.pool", *x, attrs);
  return setOutput(0, y);
}

Status Importer::convertGlobalPool(mt::PoolKind kind) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 3 to 5");
  std::vector<NamedAttribute> attrs = {named("kind", mt::PoolKindAttr::get(&context, kind)),
                                       layoutAttr(xs.size())};
  if (kind == mt::PoolKind::Lp)
    attrs.push_back(f64("p", static_cast<double>(intAttr("p", 2))));
  auto y = build1("tessel.global_pool", *x, attrs);
  return setOutput(0, y);
}

Status Importer::convertBatchNorm() {
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < 5; ++i) {
    auto v = input(i);
    if (!v)
      return v.status();
    operands.push_back(*v);
  }
  Shape xs = shapeOf(operands[0]);
  double epsilon = floatAttr("epsilon", 1e-5);
  double momentum = floatAttr("momentum", 0.9);
  intAttr("is_test", 1);             // opsets before 7
  intsAttr("consumed_inputs");        // opsets before 6
  if (opset < 9 && intAttr("spatial", 1) != 1)
    return failAttribute("spatial", "= 0 (per-element statistics) is not supported");
  bool training = intAttr("training_mode", 0) != 0;
  std::vector<NamedAttribute> attrs = {f64("epsilon", epsilon)};
  if (xs.size() >= 3 && xs.size() <= 5)
    attrs.push_back(layoutAttr(xs.size()));
  else if (xs.size() != 2)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 2 to 5");
  if (!training) {
    for (int i = 1; i < node->output_size(); ++i)
      if (outputUsed(i))
        return fail("output #" + std::to_string(i) +
                    " (running statistics) exists only with training_mode = 1");
    auto y = build1("tessel.batch_norm", operands, attrs);
    return setOutput(0, y);
  }
  // Training mode: normalize with the batch statistics and update the
  // running ones, running = running * momentum + batch * (1 - momentum).
  auto op = build("tessel.batch_norm_train", {operands[0], operands[1], operands[2]},
                  attrs, 3);
  if (!op)
    return op.status();
  if (Status s = setOutput(0, (*op)->getResult(0)); !s)
    return s;
  for (int k = 1; k <= 2; ++k) {
    if (!outputUsed(k))
      continue;
    auto kept = scalarOp("tessel.mul", operands[2 + k], momentum);
    if (!kept)
      return kept.status();
    auto fresh = scalarOp("tessel.mul", (*op)->getResult(k), 1.0 - momentum);
    if (!fresh)
      return fresh.status();
    auto sum = build1("tessel.add", {*kept, *fresh});
    if (!sum)
      return sum.status();
    if (Status s = setOutput(k, *sum); !s)
      return s;
  }
  return Status();
}


} // namespace tessel::detail::importer
