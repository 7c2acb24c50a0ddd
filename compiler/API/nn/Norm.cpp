//===- Norm.cpp - BatchNorm1d/2d/3d ---------------------------------------===//
//
// Training mode normalizes by the batch statistics (tessel.batch_norm_train)
// and records the running-statistics updates PyTorch makes:
//   running = (1 - momentum) * running + momentum * batch statistic,
// with the batch variance made unbiased (n / (n - 1)), and
// num_batches_tracked + 1. Eval mode normalizes by the running statistics.
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Init.h"
#include "tessel/nn/Layers.h"

#include "compiler/API/nn/Internal.h"

#include <cmath>

using namespace tessel;
using namespace tessel::nn;

template <int D>
BatchNormNd<D>::BatchNormNd(const BatchNormOptions &o)
    : SpatialModule("BatchNorm" + std::to_string(D) + "d", D), options_(o) {
  format_ = o.dataFormat();
  if (o.numFeatures() <= 0) {
    invalid("num_features must be positive, got " + std::to_string(o.numFeatures()));
    return;
  }
  if (!(o.eps() >= 0) || !std::isfinite(o.eps())) {
    invalid("eps must be a non-negative number, got " + std::to_string(o.eps()));
    return;
  }
  if (!(o.momentum() >= 0 && o.momentum() <= 1)) {
    invalid("momentum must be in [0, 1], got " + std::to_string(o.momentum()));
    return;
  }
  int64_t c = o.numFeatures();
  if (o.affine()) {
    Tensor weight = registerParameter("weight", newTensor({c}));
    registerParameter("bias", newTensor({c}));
    (void)init::ones(weight);
  }
  if (o.trackRunningStats()) {
    registerBuffer("running_mean", newTensor({c}));
    Tensor var = registerBuffer("running_var", newTensor({c}));
    (void)init::ones(var);
    registerBuffer("num_batches_tracked", newTensor({}));
  }
}

template <int D> Value BatchNormNd<D>::forward(Graph &graph, Value input) {
  std::vector<int64_t> shape = graph.shape(input);
  Value x = input;
  // BatchNorm1d also takes (N, C): normalized as (N, C, 1).
  bool flat = D == 1 && shape.size() == 2;
  if (flat)
    x = graph.reshape(x, {shape[0], shape[1], 1});
  Layout l = flat ? Layout::NCW : layout();
  if (!flat && !checkInput(graph, x, options_.numFeatures(), "num_features"))
    return Value();
  if (flat && shape[1] != options_.numFeatures()) {
    graph.fail("expects " + std::to_string(options_.numFeatures()) +
               " features (num_features), got " + std::to_string(shape[1]) +
               " in an input of shape " + shapeString(shape));
    return Value();
  }
  int64_t c = options_.numFeatures();
  Value weight, bias;
  if (options_.affine()) {
    weight = use(graph, "weight");
    bias = use(graph, "bias");
  } else {
    Tensor ones = Tensor::zeros({c});
    (void)init::ones(ones);
    weight = graph.constant(ones);
    bias = graph.constant(Tensor::zeros({c}));
  }
  bool track = options_.trackRunningStats();
  if (!isTraining() && track) {
    Value y = graph.batchNorm(x, weight, bias, use(graph, "running_mean"),
                              use(graph, "running_var"), l, options_.eps());
    return flat ? graph.reshape(y, shape) : y;
  }
  std::vector<Value> results = graph.batchNormTrain(x, weight, bias, l, options_.eps());
  if (results.size() != 3)
    return Value();
  if (isTraining() && track) {
    int64_t count = product(shape) / c;
    if (count < 2) {
      graph.fail("expects more than 1 value per channel when training, got an input of "
                 "shape " + shapeString(shape));
      return Value();
    }
    double m = options_.momentum();
    auto blend = [&](const char *name, Value batch) {
      updateBuffer(graph, name,
                   graph.add(graph.mul(use(graph, name), scalar(graph, 1.0 - m)),
                             graph.mul(batch, scalar(graph, m))));
    };
    blend("running_mean", results[1]);
    blend("running_var",
          graph.mul(results[2], scalar(graph, double(count) / double(count - 1))));
    updateBuffer(graph, "num_batches_tracked",
                 graph.add(use(graph, "num_batches_tracked"), scalar(graph, 1.0)));
  }
  return flat ? graph.reshape(results[0], shape) : results[0];
}

namespace tessel::nn {
template class BatchNormNd<1>;
template class BatchNormNd<2>;
template class BatchNormNd<3>;
} // namespace tessel::nn
