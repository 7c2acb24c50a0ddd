//===- Layers.h - torch.nn's layers as tessel::nn modules -------*- C++ -*-===//
//
// Each layer takes PyTorch's constructor arguments, with PyTorch's defaults
// and shape formulas, its parameters under PyTorch's names and shapes, and
// PyTorch's default initialisation (drawn from nn::manualSeed's generator).
// Options are set fluently: `Conv2d(Conv2dOptions(3, 16, 3).stride(2))`.
// Activations are NCHW (NCL, NCDHW) unless a layer or the whole net is set
// channels last (Module::setDataFormat).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_NN_LAYERS_H
#define TESSEL_NN_LAYERS_H

#include "tessel/nn/Module.h"

#include <functional>

namespace tessel {
namespace nn {

/// A module over `D` spatial dims whose activations have a data format.
class SpatialModule : public Module {
public:
  SpatialModule(std::string typeName, int64_t spatialRank)
      : Module(std::move(typeName)), spatialRank_(spatialRank) {}
  void setDataFormat(DataFormat format) override;
  DataFormat dataFormat() const { return format_; }
  int64_t spatialRank() const { return spatialRank_; }

protected:
  /// The activation layout of this module's input.
  Layout layout() const { return layoutOf(format_, spatialRank_); }
  /// Checks that `input` has rank 2 + spatialRank() and, when `channels` is
  /// positive, that many channels; records an error naming `argument`
  /// (e.g. "in_channels") otherwise.
  bool checkInput(Graph &graph, Value input, int64_t channels, const char *argument);

  DataFormat format_ = DataFormat::ChannelsFirst;
  int64_t spatialRank_;
};

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

enum class PaddingMode { Zeros, Reflect, Replicate, Circular };

template <int D> class ConvOptionsNd {
public:
  ConvOptionsNd(int64_t inChannels, int64_t outChannels, Sizes kernelSize)
      : inChannels_(inChannels), outChannels_(outChannels), kernelSize_(std::move(kernelSize)) {}
  TESSEL_ARG(int64_t, inChannels);
  TESSEL_ARG(int64_t, outChannels);
  TESSEL_ARG(Sizes, kernelSize);
  TESSEL_ARG(Sizes, stride) = 1;
  TESSEL_ARG(Padding, padding) = 0;
  TESSEL_ARG(Sizes, dilation) = 1;
  TESSEL_ARG(int64_t, groups) = 1;
  TESSEL_ARG(bool, bias) = true;
  TESSEL_ARG(PaddingMode, paddingMode) = PaddingMode::Zeros;
  TESSEL_ARG(DataFormat, dataFormat) = DataFormat::ChannelsFirst;
};
using Conv1dOptions = ConvOptionsNd<1>;
using Conv2dOptions = ConvOptionsNd<2>;
using Conv3dOptions = ConvOptionsNd<3>;

/// torch.nn.ConvNd: weight (out, in / groups, k...), bias (out).
template <int D> class ConvNd : public SpatialModule {
public:
  ConvNd(const ConvOptionsNd<D> &options);
  ConvNd(int64_t inChannels, int64_t outChannels, Sizes kernelSize)
      : ConvNd(ConvOptionsNd<D>(inChannels, outChannels, std::move(kernelSize))) {}
  Value forward(Graph &graph, Value input) override;
  double flops(const std::vector<int64_t> &input,
               const std::vector<int64_t> &output) const override;
  const ConvOptionsNd<D> &options() const { return options_; }
  Tensor weight() const { return tensor("weight"); }
  Tensor bias() const { return tensor("bias"); }

private:
  ConvOptionsNd<D> options_;
  std::vector<int64_t> kernel_, stride_, dilation_, padding_; // padding: low..., high...
};
using Conv1d = ConvNd<1>;
using Conv2d = ConvNd<2>;
using Conv3d = ConvNd<3>;

template <int D> class ConvTransposeOptionsNd {
public:
  ConvTransposeOptionsNd(int64_t inChannels, int64_t outChannels, Sizes kernelSize)
      : inChannels_(inChannels), outChannels_(outChannels), kernelSize_(std::move(kernelSize)) {}
  TESSEL_ARG(int64_t, inChannels);
  TESSEL_ARG(int64_t, outChannels);
  TESSEL_ARG(Sizes, kernelSize);
  TESSEL_ARG(Sizes, stride) = 1;
  TESSEL_ARG(Sizes, padding) = 0;
  TESSEL_ARG(Sizes, outputPadding) = 0;
  TESSEL_ARG(int64_t, groups) = 1;
  TESSEL_ARG(bool, bias) = true;
  TESSEL_ARG(Sizes, dilation) = 1;
  TESSEL_ARG(DataFormat, dataFormat) = DataFormat::ChannelsFirst;
};
using ConvTranspose1dOptions = ConvTransposeOptionsNd<1>;
using ConvTranspose2dOptions = ConvTransposeOptionsNd<2>;
using ConvTranspose3dOptions = ConvTransposeOptionsNd<3>;

/// torch.nn.ConvTransposeNd: weight (in, out / groups, k...), bias (out).
template <int D> class ConvTransposeNd : public SpatialModule {
public:
  ConvTransposeNd(const ConvTransposeOptionsNd<D> &options);
  ConvTransposeNd(int64_t inChannels, int64_t outChannels, Sizes kernelSize)
      : ConvTransposeNd(
            ConvTransposeOptionsNd<D>(inChannels, outChannels, std::move(kernelSize))) {}
  Value forward(Graph &graph, Value input) override;
  double flops(const std::vector<int64_t> &input,
               const std::vector<int64_t> &output) const override;
  const ConvTransposeOptionsNd<D> &options() const { return options_; }
  Tensor weight() const { return tensor("weight"); }
  Tensor bias() const { return tensor("bias"); }

private:
  ConvTransposeOptionsNd<D> options_;
};
using ConvTranspose1d = ConvTransposeNd<1>;
using ConvTranspose2d = ConvTransposeNd<2>;
using ConvTranspose3d = ConvTransposeNd<3>;

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

template <int D> class MaxPoolOptionsNd {
public:
  MaxPoolOptionsNd(Sizes kernelSize) : kernelSize_(std::move(kernelSize)) {}
  TESSEL_ARG(Sizes, kernelSize);
  /// Empty: the kernel size (PyTorch's stride=None).
  TESSEL_ARG(Sizes, stride) = std::vector<int64_t>{};
  TESSEL_ARG(Sizes, padding) = 0;
  TESSEL_ARG(Sizes, dilation) = 1;
  TESSEL_ARG(bool, ceilMode) = false;
  TESSEL_ARG(DataFormat, dataFormat) = DataFormat::ChannelsFirst;
};
template <int D> class AvgPoolOptionsNd {
public:
  AvgPoolOptionsNd(Sizes kernelSize) : kernelSize_(std::move(kernelSize)) {}
  TESSEL_ARG(Sizes, kernelSize);
  TESSEL_ARG(Sizes, stride) = std::vector<int64_t>{};
  TESSEL_ARG(Sizes, padding) = 0;
  TESSEL_ARG(bool, ceilMode) = false;
  TESSEL_ARG(bool, countIncludePad) = true;
  TESSEL_ARG(DataFormat, dataFormat) = DataFormat::ChannelsFirst;
};
template <int D> class LPPoolOptionsNd {
public:
  LPPoolOptionsNd(double normType, Sizes kernelSize)
      : normType_(normType), kernelSize_(std::move(kernelSize)) {}
  TESSEL_ARG(double, normType);
  TESSEL_ARG(Sizes, kernelSize);
  TESSEL_ARG(Sizes, stride) = std::vector<int64_t>{};
  TESSEL_ARG(bool, ceilMode) = false;
  TESSEL_ARG(DataFormat, dataFormat) = DataFormat::ChannelsFirst;
};
using MaxPool1dOptions = MaxPoolOptionsNd<1>;
using MaxPool2dOptions = MaxPoolOptionsNd<2>;
using MaxPool3dOptions = MaxPoolOptionsNd<3>;
using AvgPool1dOptions = AvgPoolOptionsNd<1>;
using AvgPool2dOptions = AvgPoolOptionsNd<2>;
using AvgPool3dOptions = AvgPoolOptionsNd<3>;
using LPPool1dOptions = LPPoolOptionsNd<1>;
using LPPool2dOptions = LPPoolOptionsNd<2>;

/// What MaxPoolNd, AvgPoolNd and LPPoolNd share: one tessel.pool whose
/// window their constructors check and fill in.
class WindowPool : public SpatialModule {
public:
  WindowPool(std::string typeName, int64_t spatialRank, PoolKind kind)
      : SpatialModule(std::move(typeName), spatialRank), kind_(kind) {}
  Value forward(Graph &graph, Value input) override;

protected:
  PoolKind kind_;
  /// Everything but the layout, which follows dataFormat().
  PoolOptions window_;
};

/// torch.nn.MaxPoolNd, AvgPoolNd and LPPoolNd.
template <int D> class MaxPoolNd : public WindowPool {
public:
  MaxPoolNd(const MaxPoolOptionsNd<D> &options);
  MaxPoolNd(Sizes kernelSize) : MaxPoolNd(MaxPoolOptionsNd<D>(std::move(kernelSize))) {}
  const MaxPoolOptionsNd<D> &options() const { return options_; }

private:
  MaxPoolOptionsNd<D> options_;
};
template <int D> class AvgPoolNd : public WindowPool {
public:
  AvgPoolNd(const AvgPoolOptionsNd<D> &options);
  AvgPoolNd(Sizes kernelSize) : AvgPoolNd(AvgPoolOptionsNd<D>(std::move(kernelSize))) {}
  const AvgPoolOptionsNd<D> &options() const { return options_; }

private:
  AvgPoolOptionsNd<D> options_;
};
template <int D> class LPPoolNd : public WindowPool {
public:
  LPPoolNd(const LPPoolOptionsNd<D> &options);
  LPPoolNd(double normType, Sizes kernelSize)
      : LPPoolNd(LPPoolOptionsNd<D>(normType, std::move(kernelSize))) {}
  const LPPoolOptionsNd<D> &options() const { return options_; }

private:
  LPPoolOptionsNd<D> options_;
};
using MaxPool1d = MaxPoolNd<1>;
using MaxPool2d = MaxPoolNd<2>;
using MaxPool3d = MaxPoolNd<3>;
using AvgPool1d = AvgPoolNd<1>;
using AvgPool2d = AvgPoolNd<2>;
using AvgPool3d = AvgPoolNd<3>;
using LPPool1d = LPPoolNd<1>;
using LPPool2d = LPPoolNd<2>;

/// torch.nn.AdaptiveAvgPoolNd / AdaptiveMaxPoolNd (without indices).
template <int D> class AdaptivePoolNd : public SpatialModule {
public:
  AdaptivePoolNd(PoolKind kind, Sizes outputSize);
  Value forward(Graph &graph, Value input) override;

private:
  PoolKind kind_;
  Sizes outputSize_;
};
template <int D> struct AdaptiveAvgPoolNd : AdaptivePoolNd<D> {
  AdaptiveAvgPoolNd(Sizes outputSize) : AdaptivePoolNd<D>(PoolKind::Avg, std::move(outputSize)) {}
};
template <int D> struct AdaptiveMaxPoolNd : AdaptivePoolNd<D> {
  AdaptiveMaxPoolNd(Sizes outputSize) : AdaptivePoolNd<D>(PoolKind::Max, std::move(outputSize)) {}
};
using AdaptiveAvgPool1d = AdaptiveAvgPoolNd<1>;
using AdaptiveAvgPool2d = AdaptiveAvgPoolNd<2>;
using AdaptiveAvgPool3d = AdaptiveAvgPoolNd<3>;
using AdaptiveMaxPool1d = AdaptiveMaxPoolNd<1>;
using AdaptiveMaxPool2d = AdaptiveMaxPoolNd<2>;
using AdaptiveMaxPool3d = AdaptiveMaxPoolNd<3>;

//===----------------------------------------------------------------------===//
// Normalization, linear, dropout
//===----------------------------------------------------------------------===//

class BatchNormOptions {
public:
  BatchNormOptions(int64_t numFeatures) : numFeatures_(numFeatures) {}
  TESSEL_ARG(int64_t, numFeatures);
  TESSEL_ARG(double, eps) = 1e-5;
  TESSEL_ARG(double, momentum) = 0.1;
  TESSEL_ARG(bool, affine) = true;
  TESSEL_ARG(bool, trackRunningStats) = true;
  TESSEL_ARG(DataFormat, dataFormat) = DataFormat::ChannelsFirst;
};

/// torch.nn.BatchNormNd: weight and bias (affine), buffers running_mean,
/// running_var and num_batches_tracked (trackRunningStats). Training mode
/// normalizes by the batch statistics and updates the running ones
/// (momentum, unbiased variance); eval mode uses the running ones.
/// BatchNorm1d takes (N, C) or (N, C, L).
template <int D> class BatchNormNd : public SpatialModule {
public:
  BatchNormNd(const BatchNormOptions &options);
  BatchNormNd(int64_t numFeatures) : BatchNormNd(BatchNormOptions(numFeatures)) {}
  Value forward(Graph &graph, Value input) override;
  const BatchNormOptions &options() const { return options_; }

private:
  BatchNormOptions options_;
};
using BatchNorm1d = BatchNormNd<1>;
using BatchNorm2d = BatchNormNd<2>;
using BatchNorm3d = BatchNormNd<3>;

class LinearOptions {
public:
  LinearOptions(int64_t inFeatures, int64_t outFeatures)
      : inFeatures_(inFeatures), outFeatures_(outFeatures) {}
  TESSEL_ARG(int64_t, inFeatures);
  TESSEL_ARG(int64_t, outFeatures);
  TESSEL_ARG(bool, bias) = true;
};

/// torch.nn.Linear: weight (out, in), bias (out); input (..., in).
class Linear : public Module {
public:
  Linear(const LinearOptions &options);
  Linear(int64_t inFeatures, int64_t outFeatures)
      : Linear(LinearOptions(inFeatures, outFeatures)) {}
  Value forward(Graph &graph, Value input) override;
  double flops(const std::vector<int64_t> &input,
               const std::vector<int64_t> &output) const override;
  Tensor weight() const { return tensor("weight"); }
  Tensor bias() const { return tensor("bias"); }

private:
  LinearOptions options_;
};

/// torch.nn.Dropout: in training mode multiplies by a mask of zeros
/// (probability p) and 1 / (1 - p), fed as the graph input "<name>.mask"
/// (nn::compile draws it from nn::manualSeed's generator at each run);
/// the identity in eval mode.
class Dropout : public Module {
public:
  Dropout(double p = 0.5);
  Value forward(Graph &graph, Value input) override;
  double p() const { return p_; }

private:
  double p_;
};

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// A module without parameters that applies `f` to its input.
class Activation : public Module {
public:
  Activation(std::string typeName, std::function<Value(Graph &, Value)> f)
      : Module(std::move(typeName)), f_(std::move(f)) {}
  Value forward(Graph &graph, Value input) override { return f_(graph, input); }

private:
  std::function<Value(Graph &, Value)> f_;
};

struct Identity : Activation { Identity(); };
struct ReLU : Activation { ReLU(); };
struct ReLU6 : Activation { ReLU6(); };
struct LeakyReLU : Activation { LeakyReLU(double negativeSlope = 0.01); };
struct Sigmoid : Activation { Sigmoid(); };
struct Tanh : Activation { Tanh(); };
/// x * sigmoid(x).
struct SiLU : Activation { SiLU(); };
/// x * relu6(x + 3) / 6.
struct Hardswish : Activation { Hardswish(); };
/// The exact (erf) GELU.
struct GELU : Activation { GELU(); };
struct Softmax : Activation { Softmax(int64_t dim); };
struct LogSoftmax : Activation { LogSoftmax(int64_t dim); };

//===----------------------------------------------------------------------===//
// Shapes and resampling
//===----------------------------------------------------------------------===//

/// torch.nn.Flatten. Channels last, it flattens in PyTorch's (C, H, W)
/// order, so that a Linear layer after it keeps PyTorch's weights.
class Flatten : public SpatialModule {
public:
  Flatten(int64_t startDim = 1, int64_t endDim = -1);
  Value forward(Graph &graph, Value input) override;

private:
  int64_t startDim_, endDim_;
};

class UpsampleOptions {
public:
  enum class Mode { Nearest, Linear, Bilinear, Trilinear };
  TESSEL_ARG(std::vector<int64_t>, size);
  TESSEL_ARG(std::vector<double>, scaleFactor);
  TESSEL_ARG(Mode, mode) = Mode::Nearest;
  TESSEL_ARG(bool, alignCorners) = false;
};

/// torch.nn.Upsample over the spatial dims of a 3-D, 4-D or 5-D input:
/// exactly one of size and scaleFactor (one value for all dims, or one per
/// dim).
class Upsample : public SpatialModule {
public:
  Upsample(const UpsampleOptions &options);
  Value forward(Graph &graph, Value input) override;

private:
  UpsampleOptions options_;
};

/// torch.nn.PixelShuffle / PixelUnshuffle.
class PixelShuffle : public SpatialModule {
public:
  PixelShuffle(int64_t upscaleFactor, bool inverse = false);
  Value forward(Graph &graph, Value input) override;

private:
  int64_t factor_;
  bool inverse_;
};
struct PixelUnshuffle : PixelShuffle {
  PixelUnshuffle(int64_t downscaleFactor) : PixelShuffle(downscaleFactor, true) {}
};

/// torch.nn's 2-D padding layers: one size for all sides, or (left, right,
/// top, bottom).
class Pad2d : public SpatialModule {
public:
  Pad2d(std::string typeName, PadMode mode, Sizes padding, double value = 0.0);
  Value forward(Graph &graph, Value input) override;

private:
  PadMode mode_;
  std::vector<int64_t> padding_;
  double value_;
};
struct ZeroPad2d : Pad2d {
  ZeroPad2d(Sizes padding) : Pad2d("ZeroPad2d", PadMode::Constant, std::move(padding)) {}
};
struct ConstantPad2d : Pad2d {
  ConstantPad2d(Sizes padding, double value)
      : Pad2d("ConstantPad2d", PadMode::Constant, std::move(padding), value) {}
};
struct ReflectionPad2d : Pad2d {
  ReflectionPad2d(Sizes padding) : Pad2d("ReflectionPad2d", PadMode::Reflect, std::move(padding)) {}
};
struct ReplicationPad2d : Pad2d {
  ReplicationPad2d(Sizes padding)
      : Pad2d("ReplicationPad2d", PadMode::Replicate, std::move(padding)) {}
};
struct CircularPad2d : Pad2d {
  CircularPad2d(Sizes padding) : Pad2d("CircularPad2d", PadMode::Circular, std::move(padding)) {}
};

} // namespace nn
} // namespace tessel

#endif // TESSEL_NN_LAYERS_H
