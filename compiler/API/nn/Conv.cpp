//===- Conv.cpp - Conv1d/2d/3d and ConvTranspose1d/2d/3d ------------------===//
//
// PyTorch's arguments map onto one tessel.conv / tessel.conv_transpose with
// O-first (I-first) filters, so weights keep PyTorch's shapes in either
// activation layout. Non-zero padding modes pad first, as PyTorch does.
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Layers.h"

#include "compiler/API/nn/Internal.h"

using namespace tessel;
using namespace tessel::nn;

//===----------------------------------------------------------------------===//
// Shared by the layers with spatial dims
//===----------------------------------------------------------------------===//

bool nn::allAtLeast(const std::vector<int64_t> &sizes, size_t rank, int64_t least) {
  if (sizes.size() != rank)
    return false;
  for (int64_t s : sizes)
    if (s < least)
      return false;
  return true;
}

int64_t nn::product(const std::vector<int64_t> &sizes) {
  int64_t n = 1;
  for (int64_t s : sizes)
    n *= s;
  return n;
}

void SpatialModule::setDataFormat(DataFormat format) {
  format_ = format;
  Module::setDataFormat(format);
}

bool SpatialModule::checkInput(Graph &graph, Value input, int64_t channels,
                               const char *argument) {
  std::vector<int64_t> shape = graph.shape(input);
  if (static_cast<int64_t>(shape.size()) != 2 + spatialRank_) {
    graph.fail("expects a " + std::to_string(2 + spatialRank_) + "-D input (batch, channels " +
               "and " + std::to_string(spatialRank_) + " spatial dims), got shape " +
               shapeString(shape));
    return false;
  }
  int64_t got = format_ == DataFormat::ChannelsLast ? shape.back() : shape[1];
  if (channels > 0 && got != channels) {
    graph.fail("expects " + std::to_string(channels) + " input channels (" + argument +
               "), got " + std::to_string(got) + " in an input of shape " + shapeString(shape));
    return false;
  }
  return true;
}

namespace {

FilterLayout filterLayout(int rank, bool transposed) {
  static const FilterLayout o[] = {FilterLayout::OIW, FilterLayout::OIHW, FilterLayout::OIDHW};
  static const FilterLayout i[] = {FilterLayout::IOW, FilterLayout::IOHW, FilterLayout::IODHW};
  return transposed ? i[rank - 1] : o[rank - 1];
}

std::string convName(const char *base, int rank) {
  return base + std::to_string(rank) + "d";
}

/// Checks what conv and conv_transpose share; returns the kernel sizes.
std::vector<int64_t> checkConv(int rank, int64_t in, int64_t out, int64_t groups,
                               const Sizes &kernel, const Sizes &stride, const Sizes &dilation,
                               std::string &error) {
  std::vector<int64_t> k = kernel.expand(rank);
  if (in <= 0 || out <= 0)
    error = "in_channels and out_channels must be positive, got " + std::to_string(in) +
            " and " + std::to_string(out);
  else if (groups <= 0)
    error = "groups must be positive, got " + std::to_string(groups);
  else if (in % groups || out % groups)
    error = "in_channels (" + std::to_string(in) + ") and out_channels (" +
            std::to_string(out) + ") must be divisible by groups (" + std::to_string(groups) +
            ")";
  else if (!allAtLeast(k, rank, 1))
    error = "kernel_size must be " + std::to_string(rank) + " positive sizes, got " +
            shapeString(kernel.values());
  else if (!allAtLeast(stride.expand(rank), rank, 1))
    error = "stride must be " + std::to_string(rank) + " positive sizes, got " +
            shapeString(stride.values());
  else if (!allAtLeast(dilation.expand(rank), rank, 1))
    error = "dilation must be " + std::to_string(rank) + " positive sizes, got " +
            shapeString(dilation.values());
  return k;
}

/// A tessel.pad padding vector (low pads of every dim, then high) that pads
/// the spatial dims of a (2 + rank)-D activation in `format` by `low` and
/// `high`.
std::vector<int64_t> spatialPadding(DataFormat format, const std::vector<int64_t> &low,
                                    const std::vector<int64_t> &high) {
  size_t rank = low.size();
  size_t first = format == DataFormat::ChannelsLast ? 1 : 2;
  std::vector<int64_t> pads(2 * (rank + 2), 0);
  for (size_t i = 0; i < rank; ++i) {
    pads[first + i] = low[i];
    pads[rank + 2 + first + i] = high[i];
  }
  return pads;
}

} // namespace

//===----------------------------------------------------------------------===//
// ConvNd
//===----------------------------------------------------------------------===//

template <int D>
ConvNd<D>::ConvNd(const ConvOptionsNd<D> &o) : SpatialModule(convName("Conv", D), D), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  kernel_ = checkConv(D, o.inChannels(), o.outChannels(), o.groups(), o.kernelSize(),
                      o.stride(), o.dilation(), error);
  stride_ = o.stride().expand(D);
  dilation_ = o.dilation().expand(D);
  if (error.empty()) {
    switch (o.padding().kind()) {
    case Padding::Kind::Explicit: {
      std::vector<int64_t> p = o.padding().sizes().expand(D);
      if (!allAtLeast(p, D, 0))
        error = "padding must be " + std::to_string(D) + " non-negative sizes, 'same' or " +
                "'valid', got " + shapeString(o.padding().sizes().values());
      padding_ = p;
      padding_.insert(padding_.end(), p.begin(), p.end());
      break;
    }
    case Padding::Kind::Valid:
      padding_.assign(2 * D, 0);
      break;
    case Padding::Kind::Same:
      if (product(stride_) != 1) {
        error = "padding='same' is not supported for strided convolutions";
        break;
      }
      padding_.assign(2 * D, 0);
      // PyTorch pads the odd remainder on the high side.
      for (int i = 0; i < D; ++i) {
        int64_t total = dilation_[i] * (kernel_[i] - 1);
        padding_[i] = total / 2;
        padding_[D + i] = total - total / 2;
      }
      break;
    case Padding::Kind::Invalid:
      error = "padding must be sizes, 'same' or 'valid', got '" + o.padding().text() + "'";
      break;
    }
  }
  if (!error.empty()) {
    invalid(error);
    return;
  }
  std::vector<int64_t> weightShape{o.outChannels(), o.inChannels() / o.groups()};
  weightShape.insert(weightShape.end(), kernel_.begin(), kernel_.end());
  Tensor weight = registerParameter("weight", newTensor(weightShape));
  Tensor bias = o.bias() ? registerParameter("bias", newTensor({o.outChannels()})) : Tensor();
  defaultInit(weight, bias);
}

template <int D> Value ConvNd<D>::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, options_.inChannels(), "in_channels"))
    return Value();
  Value x = input;
  std::vector<int64_t> padding = padding_;
  bool padded = std::any_of(padding.begin(), padding.end(), [](int64_t p) { return p > 0; });
  if (options_.paddingMode() != PaddingMode::Zeros && padded) {
    static const PadMode modes[] = {PadMode::Constant, PadMode::Reflect, PadMode::Replicate,
                                    PadMode::Circular};
    x = graph.pad(x, modes[static_cast<int>(options_.paddingMode())],
                  spatialPadding(format_, {padding.begin(), padding.begin() + D},
                                 {padding.begin() + D, padding.end()}));
    padding.assign(2 * D, 0);
  }
  ConvOptions conv;
  conv.layout = layout();
  conv.filterLayout = filterLayout(D, false);
  conv.strides = stride_;
  conv.dilations = dilation_;
  conv.padding = padding;
  conv.groups = options_.groups();
  std::optional<Value> bias;
  if (options_.bias())
    bias = use(graph, "bias");
  return graph.conv(x, use(graph, "weight"), conv, bias);
}

template <int D>
double ConvNd<D>::flops(const std::vector<int64_t> &, const std::vector<int64_t> &output) const {
  return 2.0 * double(product(output)) * double(options_.inChannels() / options_.groups()) *
         double(product(kernel_));
}

//===----------------------------------------------------------------------===//
// ConvTransposeNd
//===----------------------------------------------------------------------===//

template <int D>
ConvTransposeNd<D>::ConvTransposeNd(const ConvTransposeOptionsNd<D> &o)
    : SpatialModule(convName("ConvTranspose", D), D), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  std::vector<int64_t> kernel = checkConv(D, o.inChannels(), o.outChannels(), o.groups(),
                                          o.kernelSize(), o.stride(), o.dilation(), error);
  if (error.empty() && !allAtLeast(o.padding().expand(D), D, 0))
    error = "padding must be " + std::to_string(D) + " non-negative sizes, got " +
            shapeString(o.padding().values());
  if (error.empty() && !allAtLeast(o.outputPadding().expand(D), D, 0))
    error = "output_padding must be " + std::to_string(D) + " non-negative sizes, got " +
            shapeString(o.outputPadding().values());
  if (!error.empty()) {
    invalid(error);
    return;
  }
  std::vector<int64_t> weightShape{o.inChannels(), o.outChannels() / o.groups()};
  weightShape.insert(weightShape.end(), kernel.begin(), kernel.end());
  Tensor weight = registerParameter("weight", newTensor(weightShape));
  Tensor bias = o.bias() ? registerParameter("bias", newTensor({o.outChannels()})) : Tensor();
  defaultInit(weight, bias);
}

template <int D> Value ConvTransposeNd<D>::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, options_.inChannels(), "in_channels"))
    return Value();
  std::vector<int64_t> padding = options_.padding().expand(D);
  ConvOptions conv;
  conv.layout = layout();
  conv.filterLayout = filterLayout(D, true);
  conv.strides = options_.stride().expand(D);
  conv.dilations = options_.dilation().expand(D);
  conv.padding = padding;
  conv.padding.insert(conv.padding.end(), padding.begin(), padding.end());
  conv.outputPadding = options_.outputPadding().expand(D);
  conv.groups = options_.groups();
  std::optional<Value> bias;
  if (options_.bias())
    bias = use(graph, "bias");
  return graph.convTranspose(input, use(graph, "weight"), conv, bias);
}

template <int D>
double ConvTransposeNd<D>::flops(const std::vector<int64_t> &input,
                                 const std::vector<int64_t> &) const {
  return 2.0 * double(product(input)) * double(options_.outChannels() / options_.groups()) *
         double(product(options_.kernelSize().expand(D)));
}

namespace tessel::nn {
template class ConvNd<1>;
template class ConvNd<2>;
template class ConvNd<3>;
template class ConvTransposeNd<1>;
template class ConvTransposeNd<2>;
template class ConvTransposeNd<3>;
} // namespace tessel::nn
