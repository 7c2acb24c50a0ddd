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

template <int D>
MaxPoolNd<D>::MaxPoolNd(const MaxPoolOptionsNd<D> &o)
    : SpatialModule(poolName("MaxPool", D), D), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  windowOptions(D, o.kernelSize(), o.stride(), o.padding(), o.dilation(), error);
  if (!error.empty())
    invalid(error);
}

template <int D> Value MaxPoolNd<D>::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, 0, ""))
    return Value();
  std::string error;
  PoolOptions o = windowOptions(D, options_.kernelSize(), options_.stride(), options_.padding(),
                                options_.dilation(), error);
  o.layout = layout();
  o.ceilMode = options_.ceilMode();
  return graph.maxPool(input, o);
}

template <int D>
AvgPoolNd<D>::AvgPoolNd(const AvgPoolOptionsNd<D> &o)
    : SpatialModule(poolName("AvgPool", D), D), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  windowOptions(D, o.kernelSize(), o.stride(), o.padding(), 1, error);
  if (!error.empty())
    invalid(error);
}

template <int D> Value AvgPoolNd<D>::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, 0, ""))
    return Value();
  std::string error;
  PoolOptions o =
      windowOptions(D, options_.kernelSize(), options_.stride(), options_.padding(), 1, error);
  o.dilations.clear();
  o.layout = layout();
  o.ceilMode = options_.ceilMode();
  o.countIncludePad = options_.countIncludePad();
  return graph.avgPool(input, o);
}

template <int D>
LPPoolNd<D>::LPPoolNd(const LPPoolOptionsNd<D> &o)
    : SpatialModule(poolName("LPPool", D), D), options_(o) {
  format_ = o.dataFormat();
  std::string error;
  windowOptions(D, o.kernelSize(), o.stride(), 0, 1, error);
  if (error.empty() && !(o.normType() > 0))
    error = "norm_type must be positive, got " + std::to_string(o.normType());
  if (!error.empty())
    invalid(error);
}

template <int D> Value LPPoolNd<D>::forward(Graph &graph, Value input) {
  if (!checkInput(graph, input, 0, ""))
    return Value();
  std::string error;
  PoolOptions o = windowOptions(D, options_.kernelSize(), options_.stride(), 0, 1, error);
  o.dilations.clear();
  o.padding.clear();
  o.layout = layout();
  o.ceilMode = options_.ceilMode();
  o.p = options_.normType();
  return graph.pool(PoolKind::Lp, input, o);
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
