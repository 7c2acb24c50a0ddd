//===- Shape.cpp - Flatten, Upsample, PixelShuffle, padding, Dropout ------===//

#include "tessel/nn/Layers.h"

#include "compiler/API/nn/Internal.h"

using namespace tessel;
using namespace tessel::nn;

namespace {

/// The tessel layout of a rank-`rank` activation (3-5) in `format`.
Layout layoutOfRank(DataFormat format, size_t rank) {
  return layoutOf(format, static_cast<int64_t>(rank) - 2);
}

} // namespace

//===----------------------------------------------------------------------===//
// Flatten
//===----------------------------------------------------------------------===//

Flatten::Flatten(int64_t startDim, int64_t endDim)
    : SpatialModule("Flatten", 2), startDim_(startDim), endDim_(endDim) {}

Value Flatten::forward(Graph &graph, Value input) {
  std::vector<int64_t> shape = graph.shape(input);
  Value x = input;
  // Channels last, the activation is first brought to PyTorch's order.
  if (format_ == DataFormat::ChannelsLast && shape.size() >= 3 && shape.size() <= 5)
    x = graph.relayout(x, layoutOfRank(DataFormat::ChannelsLast, shape.size()),
                       layoutOfRank(DataFormat::ChannelsFirst, shape.size()));
  return graph.flatten(x, startDim_, endDim_);
}

//===----------------------------------------------------------------------===//
// Upsample
//===----------------------------------------------------------------------===//

Upsample::Upsample(const UpsampleOptions &o) : SpatialModule("Upsample", 2), options_(o) {
  if (o.size().empty() == o.scaleFactor().empty())
    invalid("give exactly one of size and scale_factor");
  else if (o.alignCorners() && o.mode() == UpsampleOptions::Mode::Nearest)
    invalid("align_corners can only be set with the interpolating modes (linear, bilinear, "
            "trilinear)");
}

Value Upsample::forward(Graph &graph, Value input) {
  std::vector<int64_t> shape = graph.shape(input);
  size_t rank = shape.size();
  if (rank < 3 || rank > 5) {
    graph.fail("expects a 3-D, 4-D or 5-D input, got shape " + shapeString(shape));
    return Value();
  }
  using Mode = UpsampleOptions::Mode;
  Mode mode = options_.mode();
  if ((mode == Mode::Linear && rank != 3) || (mode == Mode::Bilinear && rank != 4) ||
      (mode == Mode::Trilinear && rank != 5)) {
    graph.fail("mode linear takes 3-D inputs, bilinear 4-D and trilinear 5-D; got shape " +
               shapeString(shape));
    return Value();
  }
  size_t spatial = rank - 2;
  std::vector<int64_t> size = options_.size();
  std::vector<double> scales = options_.scaleFactor();
  if (size.size() == 1)
    size.assign(spatial, size[0]);
  if (scales.size() == 1)
    scales.assign(spatial, scales[0]);
  if ((!size.empty() && size.size() != spatial) || (!scales.empty() && scales.size() != spatial)) {
    graph.fail("size or scale_factor must give one value or " + std::to_string(spatial) +
               " for an input of shape " + shapeString(shape));
    return Value();
  }
  return graph.upsample(input, mode == Mode::Nearest ? UpsampleMode::Nearest : UpsampleMode::Linear,
                        layoutOfRank(format_, rank), size, scales, options_.alignCorners());
}

//===----------------------------------------------------------------------===//
// PixelShuffle
//===----------------------------------------------------------------------===//

PixelShuffle::PixelShuffle(int64_t factor, bool inverse)
    : SpatialModule(inverse ? "PixelUnshuffle" : "PixelShuffle", 2), factor_(factor),
      inverse_(inverse) {
  if (factor <= 0)
    invalid("the factor must be positive, got " + std::to_string(factor));
}

Value PixelShuffle::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, 0, ""))
    return Value();
  return inverse_ ? graph.pixelUnshuffle(input, layout(), factor_)
                  : graph.pixelShuffle(input, layout(), factor_);
}

//===----------------------------------------------------------------------===//
// Padding
//===----------------------------------------------------------------------===//

Pad2d::Pad2d(std::string typeName, PadMode mode, Sizes padding, double value)
    : SpatialModule(std::move(typeName), 2), mode_(mode), value_(value) {
  padding_ = padding.values().size() == 1 ? padding.expand(4) : padding.values();
  if (!allAtLeast(padding_, 4, 0))
    invalid("padding must be one non-negative size or four (left, right, top, bottom), got " +
            shapeString(padding.values()));
}

Value Pad2d::forward(Graph &graph, Value input) {
  std::vector<int64_t> shape = graph.shape(input);
  size_t rank = shape.size();
  if (rank != 3 && rank != 4) {
    graph.fail("expects a 3-D or 4-D input, got shape " + shapeString(shape));
    return Value();
  }
  // The height and width dims: the last two, or before the channels.
  size_t h = format_ == DataFormat::ChannelsLast && rank == 4 ? 1 : rank - 2;
  std::vector<int64_t> pads(2 * rank, 0);
  pads[h + 1] = padding_[0];
  pads[rank + h + 1] = padding_[1];
  pads[h] = padding_[2];
  pads[rank + h] = padding_[3];
  return graph.pad(input, mode_, pads, value_);
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

Dropout::Dropout(double p) : Module("Dropout"), p_(p) {
  if (!(p >= 0 && p <= 1))
    invalid("dropout probability must be in [0, 1], got " + std::to_string(p));
}

Value Dropout::forward(Graph &graph, Value input) {
  if (!isTraining() || p_ == 0)
    return input;
  std::string name = qualifiedName();
  name = name.empty() ? "mask" : name + ".mask";
  Value mask = graph.findInput(name);
  if (!mask.valid())
    mask = graph.input(name, graph.shape(input));
  return graph.mul(input, mask);
}
