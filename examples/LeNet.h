//===- LeNet.h - A LeNet-style CNN and a synthetic image task ---*- C++ -*-===//
//
// Shared by the training demo (examples/train_demo.cpp) and its test
// (test/Unit/TrainingTest.cpp). The task: 16x16 grey images of one of four
// shapes (a horizontal bar, a vertical bar, a diagonal, a filled square) at
// a random position, under Gaussian noise; the label is the shape.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_EXAMPLES_LENET_H
#define TESSEL_EXAMPLES_LENET_H

#include "tessel/Graph.h"
#include "tessel/Tensor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace lenet {

constexpr int64_t kSize = 16, kClasses = 4;

/// A batch: images [N, 1, 16, 16], one-hot targets [N, 4] and the labels.
struct Batch {
  tessel::Tensor images, targets;
  std::vector<int> labels;
};

inline Batch makeBatch(int64_t n, std::mt19937 &rng, float noise = 0.35f) {
  Batch b{tessel::Tensor::zeros({n, 1, kSize, kSize}), tessel::Tensor::zeros({n, kClasses}),
          {}};
  std::uniform_int_distribution<int> label(0, kClasses - 1), at(2, kSize - 3),
      corner(0, kSize - 5);
  std::normal_distribution<float> gauss(0.f, noise);
  for (int64_t i = 0; i < n; ++i) {
    int y = label(rng);
    b.labels.push_back(y);
    b.targets.at({i, y}) = 1.f;
    float *img = b.images.data() + i * kSize * kSize;
    int p = at(rng), q = corner(rng), r = corner(rng);
    for (int64_t h = 0; h < kSize; ++h)
      for (int64_t w = 0; w < kSize; ++w) {
        bool on = false;
        switch (y) {
        case 0: on = h == p && w >= 2 && w < kSize - 2; break;      // horizontal
        case 1: on = w == p && h >= 2 && h < kSize - 2; break;      // vertical
        case 2: on = h - w == p - kSize / 2 && h >= 1 && h < kSize - 1; break; // diagonal
        case 3: on = h >= q && h < q + 4 && w >= r && w < r + 4; break;         // square
        }
        img[h * kSize + w] = (on ? 1.f : 0.f) + gauss(rng);
      }
  }
  return b;
}

/// The network's parameters: conv 5x5 (1->6, pad 2), max pool 2, conv 5x5
/// (6->16), max pool 2, linear 64->32, linear 32->4, ReLU between.
inline std::map<std::string, tessel::Tensor> initialParameters(std::mt19937 &rng) {
  // PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  auto uniform = [&](std::vector<int64_t> shape, int64_t fanIn) {
    tessel::Tensor t = tessel::Tensor::zeros(shape);
    float bound = 1.f / std::sqrt(float(fanIn));
    std::uniform_real_distribution<float> d(-bound, bound);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data()[i] = d(rng);
    return t;
  };
  return {{"conv1.w", uniform({6, 1, 5, 5}, 25)},   {"conv1.b", uniform({6}, 25)},
          {"conv2.w", uniform({16, 6, 5, 5}, 150)}, {"conv2.b", uniform({16}, 150)},
          {"fc1.w", uniform({32, 64}, 64)},          {"fc1.b", uniform({32}, 64)},
          {"fc2.w", uniform({kClasses, 32}, 32)},    {"fc2.b", uniform({kClasses}, 32)}};
}

/// The graph for batches of `n`: inputs "images", "targets" and the
/// parameters (by the names above); returns {logits, loss}, the loss being
/// the mean cross-entropy -mean(sum(targets * log_softmax(logits))).
inline std::pair<tessel::Value, tessel::Value>
build(tessel::Graph &g, int64_t n,
      const std::map<std::string, tessel::Tensor> &parameters) {
  using namespace tessel;
  Value x = g.input("images", {n, 1, kSize, kSize});
  Value t = g.input("targets", {n, kClasses});
  std::map<std::string, Value> p;
  for (const auto &[name, value] : parameters)
    p[name] = g.input(name, value.shape());
  ConvOptions c1;
  c1.padding = {2, 2, 2, 2};
  PoolOptions pool;
  pool.kernel = {2, 2};
  Value h = g.maxPool(g.relu(g.conv(x, p["conv1.w"], c1, p["conv1.b"])), pool);
  h = g.maxPool(g.relu(g.conv(h, p["conv2.w"], ConvOptions{}, p["conv2.b"])), pool);
  h = g.relu(g.linear(g.flatten(h), p["fc1.w"], p["fc1.b"]));
  Value logits = g.linear(h, p["fc2.w"], p["fc2.b"]);
  Value nll = g.neg(g.sum(g.mul(t, g.logSoftmax(logits, 1)), std::vector<int64_t>{1}));
  return {logits, g.mean(nll, std::nullopt)};
}

/// The class with the largest logit, per row of [N, C] logits.
inline std::vector<int> argmax(const tessel::Tensor &logits) {
  std::vector<int> out;
  int64_t c = logits.shape()[1];
  for (int64_t i = 0; i < logits.shape()[0]; ++i) {
    const float *row = logits.data() + i * c;
    out.push_back(static_cast<int>(std::max_element(row, row + c) - row));
  }
  return out;
}

} // namespace lenet

#endif // TESSEL_EXAMPLES_LENET_H
