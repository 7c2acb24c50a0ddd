//===- Pool.cpp - MaxPool, AvgPool, LPPool and adaptive pools -------------===//
//
// Each maps onto one tessel.pool / tessel.adaptive_pool with PyTorch's
// defaults: the stride is the kernel unless given, and AvgPool counts the
// padding in its divisor (count_include_pad=True).
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Layers.h"

#include "compiler/API/nn/Internal.h"

using namespace tessel;
using namespace tessel::nn;

namespace {

std::string poolName(const char *base, int rank) { return base + std::to_string(rank) + "d"; }

/// Kernel, stride (the kernel when empty), padding and dilation of a window
/// pool, checked as PyTorch does; `error` is set when one is invalid.
PoolOptions windowOptions(int rank, const Sizes &kernel, const Sizes &stride,
                          const Sizes &padding, const Sizes &dilation, std::string &error) {
  PoolOptions o;
  o.kernel = kernel.expand(rank);
  o.strides = stride.empty() ? o.kernel : stride.expand(rank);
  std::vector<int64_t> pad = padding.expand(rank);
  o.dilations = dilation.expand(rank);
  std::string r = std::to_string(rank);
  if (!allAtLeast(o.kernel, rank, 1))
    error = "kernel_size must be " + r + " positive sizes, got " + shapeString(kernel.values());
  else if (!allAtLeast(o.strides, rank, 1))
    error = "stride must be " + r + " positive sizes, got " + shapeString(stride.values());
  else if (!allAtLeast(o.dilations, rank, 1))
    error = "dilation must be " + r + " positive sizes, got " + shapeString(dilation.values());
  else if (!allAtLeast(pad, rank, 0))
    error = "padding must be " + r + " non-negative sizes, got " + shapeString(padding.values());
  else
    for (int i = 0; i < rank; ++i)
      if (2 * pad[i] > o.kernel[i])
        error = "padding " + shapeString(pad) + " must be at most half the kernel size " +
                shapeString(o.kernel);
  o.padding = pad;
  o.padding.insert(o.padding.end(), pad.begin(), pad.end());
  return o;
}

} // namespace

Value WindowPool::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, 0, ""))
    return Value();
  PoolOptions o = window_;
  o.layout = layout();
  return graph.pool(kind_, input, o);
}

template <int D>
MaxPoolNd<D>::MaxPoolNd(const MaxPoolOptionsNd<D> &o)
    : WindowPool(poolName("MaxPool", D), D, PoolKind::Max), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  window_ = windowOptions(D, o.kernelSize(), o.stride(), o.padding(), o.dilation(), error);
  window_.ceilMode = o.ceilMode();
  if (!error.empty())
    invalid(error);
}

template <int D>
AvgPoolNd<D>::AvgPoolNd(const AvgPoolOptionsNd<D> &o)
    : WindowPool(poolName("AvgPool", D), D, PoolKind::Avg), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  window_ = windowOptions(D, o.kernelSize(), o.stride(), o.padding(), 1, error);
  window_.dilations.clear();
  window_.ceilMode = o.ceilMode();
  window_.countIncludePad = o.countIncludePad();
  if (!error.empty())
    invalid(error);
}

template <int D>
LPPoolNd<D>::LPPoolNd(const LPPoolOptionsNd<D> &o)
    : WindowPool(poolName("LPPool", D), D, PoolKind::Lp), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  window_ = windowOptions(D, o.kernelSize(), o.stride(), 0, 1, error);
  window_.dilations.clear();
  window_.padding.clear();
  window_.ceilMode = o.ceilMode();
  window_.p = o.normType();
  if (error.empty() && !(o.normType() > 0))
    error = "norm_type must be positive, got " + std::to_string(o.normType());
  if (!error.empty())
    invalid(error);
}

template <int D>
AdaptivePoolNd<D>::AdaptivePoolNd(PoolKind kind, Sizes outputSize)
    : SpatialModule(poolName(kind == PoolKind::Max ? "AdaptiveMaxPool" : "AdaptiveAvgPool", D), D),
      kind_(kind), outputSize_(std::move(outputSize)) {
  if (!allAtLeast(outputSize_.expand(D), D, 1))
    invalid("output_size must be " + std::to_string(D) + " positive sizes, got " +
            shapeString(outputSize_.values()));
}

template <int D> Value AdaptivePoolNd<D>::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, 0, ""))
    return Value();
  return graph.adaptivePool(kind_, input, layout(), outputSize_.expand(D));
}

namespace tessel::nn {
template class MaxPoolNd<1>;
template class MaxPoolNd<2>;
template class MaxPoolNd<3>;
template class AvgPoolNd<1>;
template class AvgPoolNd<2>;
template class AvgPoolNd<3>;
template class LPPoolNd<1>;
template class LPPoolNd<2>;
template class AdaptivePoolNd<1>;
template class AdaptivePoolNd<2>;
template class AdaptivePoolNd<3>;
} // namespace tessel::nn
