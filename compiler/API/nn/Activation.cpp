//===- Activation.cpp - ReLU, Sigmoid, SiLU, GELU, ... --------------------===//
//
// Each activation is its formula in PyTorch's order of operations over
// tessel's elementwise ops.
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Layers.h"

#include "compiler/API/nn/Internal.h"

#include <cmath>

using namespace tessel;
using namespace tessel::nn;

Value nn::scalar(Graph &graph, double value) {
  return graph.constant(Tensor::fromValues({}, {static_cast<float>(value)}));
}

Identity::Identity() : Activation("Identity", [](Graph &, Value x) { return x; }) {}

ReLU::ReLU() : Activation("ReLU", [](Graph &g, Value x) { return g.relu(x); }) {}

ReLU6::ReLU6() : Activation("ReLU6", [](Graph &g, Value x) { return g.clamp(x, 0.0, 6.0); }) {}

LeakyReLU::LeakyReLU(double slope)
    : Activation("LeakyReLU", [slope](Graph &g, Value x) { return g.leakyRelu(x, slope); }) {}

Sigmoid::Sigmoid() : Activation("Sigmoid", [](Graph &g, Value x) { return g.sigmoid(x); }) {}

Tanh::Tanh() : Activation("Tanh", [](Graph &g, Value x) { return g.tanh(x); }) {}

SiLU::SiLU() : Activation("SiLU", [](Graph &g, Value x) { return g.mul(x, g.sigmoid(x)); }) {}

Hardswish::Hardswish()
    : Activation("Hardswish", [](Graph &g, Value x) {
        return g.div(g.mul(x, g.clamp(g.add(x, scalar(g, 3.0)), 0.0, 6.0)), scalar(g, 6.0));
      }) {}

GELU::GELU()
    : Activation("GELU", [](Graph &g, Value x) {
        Value half = g.mul(x, scalar(g, 0.5));
        return g.mul(half, g.add(scalar(g, 1.0), g.erf(g.mul(x, scalar(g, M_SQRT1_2)))));
      }) {}

Softmax::Softmax(int64_t dim)
    : Activation("Softmax", [dim](Graph &g, Value x) { return g.softmax(x, dim); }) {}

LogSoftmax::LogSoftmax(int64_t dim)
    : Activation("LogSoftmax", [dim](Graph &g, Value x) { return g.logSoftmax(x, dim); }) {}
