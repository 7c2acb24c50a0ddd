//===- Init.cpp - torch.nn.init's initialisers ----------------------------===//
//
// One mt19937_64 (its output is fixed by the C++ standard) feeds every draw;
// uniform and normal values are computed from its raw bits here rather than
// by <random>'s distributions, whose algorithms differ between C++ libraries.
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Init.h"

#include "compiler/API/nn/Internal.h"

#include <cmath>
#include <mutex>
#include <random>

using namespace tessel;
using namespace tessel::nn;

namespace {

std::mutex generatorMutex;
std::mt19937_64 &generator() {
  static std::mt19937_64 g(0);
  return g;
}

/// [0, 1) from 53 random bits; the caller holds generatorMutex.
double uniformLocked() { return double(generator()() >> 11) * 0x1.0p-53; }

Status checkNotEmpty(const Tensor &tensor, const char *function) {
  if (tensor.empty())
    return Status::error(std::string("nn::init::") + function + ": the tensor is empty");
  if (!tensor.isContiguous())
    return Status::error(std::string("nn::init::") + function +
                         ": the tensor is not contiguous");
  return Status();
}

} // namespace

void nn::manualSeed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(generatorMutex);
  generator().seed(seed);
}

double nn::randomUniform() {
  std::lock_guard<std::mutex> lock(generatorMutex);
  return uniformLocked();
}

double nn::randomNormal() {
  std::lock_guard<std::mutex> lock(generatorMutex);
  // Box-Muller on (0, 1] x [0, 1).
  double u1 = 1.0 - uniformLocked(), u2 = uniformLocked();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Tensor nn::dropoutMask(double p, const std::vector<int64_t> &shape) {
  Tensor mask = Tensor::zeros(shape);
  if (mask.empty())
    return mask;
  float keep = p < 1.0 ? static_cast<float>(1.0 / (1.0 - p)) : 0.f;
  std::lock_guard<std::mutex> lock(generatorMutex);
  for (int64_t i = 0, n = mask.numElements(); i < n; ++i)
    mask.data()[i] = uniformLocked() < p ? 0.f : keep;
  return mask;
}

double init::calculateGain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
  case Nonlinearity::Linear:
  case Nonlinearity::Conv:
  case Nonlinearity::Sigmoid:
    return 1.0;
  case Nonlinearity::Tanh:
    return 5.0 / 3.0;
  case Nonlinearity::ReLU:
    return std::sqrt(2.0);
  case Nonlinearity::LeakyReLU:
    return std::sqrt(2.0 / (1.0 + param * param));
  case Nonlinearity::SELU:
    return 3.0 / 4.0;
  }
  return 1.0;
}

Result<std::pair<int64_t, int64_t>> init::fans(const std::vector<int64_t> &shape) {
  if (shape.size() < 2)
    return Result<std::pair<int64_t, int64_t>>::error(
        "fan in and fan out need a tensor of rank 2 or more, got shape " + shapeString(shape));
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i)
    receptive *= shape[i];
  return std::make_pair(shape[1] * receptive, shape[0] * receptive);
}

Status init::uniform(Tensor &tensor, double low, double high) {
  if (Status s = checkNotEmpty(tensor, "uniform"); !s.ok())
    return s;
  std::lock_guard<std::mutex> lock(generatorMutex);
  for (int64_t i = 0, n = tensor.numElements(); i < n; ++i)
    tensor.data()[i] = static_cast<float>(low + (high - low) * uniformLocked());
  return Status();
}

Status init::normal(Tensor &tensor, double mean, double std) {
  if (Status s = checkNotEmpty(tensor, "normal"); !s.ok())
    return s;
  for (int64_t i = 0, n = tensor.numElements(); i < n; ++i)
    tensor.data()[i] = static_cast<float>(mean + std * randomNormal());
  return Status();
}

Status init::constant(Tensor &tensor, double value) {
  if (Status s = checkNotEmpty(tensor, "constant"); !s.ok())
    return s;
  std::fill(tensor.data(), tensor.data() + tensor.numElements(), static_cast<float>(value));
  return Status();
}

Status init::zeros(Tensor &tensor) { return constant(tensor, 0.0); }
Status init::ones(Tensor &tensor) { return constant(tensor, 1.0); }

namespace {

/// The standard deviation Kaiming's rule gives `tensor`.
Result<double> kaimingStd(const Tensor &tensor, double a, init::FanMode mode,
                          init::Nonlinearity nonlinearity) {
  auto fans = init::fans(tensor.shape());
  if (!fans)
    return fans.status();
  int64_t fan = mode == init::FanMode::FanIn ? fans->first : fans->second;
  if (fan <= 0)
    return Result<double>::error("kaiming initialisation of a tensor of shape " +
                                 tensor.shapeString() + ", whose fan is 0");
  return init::calculateGain(nonlinearity, a) / std::sqrt(double(fan));
}

Result<double> xavierStd(const Tensor &tensor, double gain) {
  auto fans = init::fans(tensor.shape());
  if (!fans)
    return fans.status();
  if (fans->first + fans->second <= 0)
    return Result<double>::error("xavier initialisation of a tensor of shape " +
                                 tensor.shapeString() + ", whose fans are 0");
  return gain * std::sqrt(2.0 / double(fans->first + fans->second));
}

} // namespace

Status init::xavierUniform(Tensor &tensor, double gain) {
  auto std = xavierStd(tensor, gain);
  if (!std)
    return std.status();
  double bound = std::sqrt(3.0) * *std;
  return uniform(tensor, -bound, bound);
}

Status init::xavierNormal(Tensor &tensor, double gain) {
  auto std = xavierStd(tensor, gain);
  if (!std)
    return std.status();
  return normal(tensor, 0.0, *std);
}

Status init::kaimingUniform(Tensor &tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  auto std = kaimingStd(tensor, a, mode, nonlinearity);
  if (!std)
    return std.status();
  double bound = std::sqrt(3.0) * *std;
  return uniform(tensor, -bound, bound);
}

Status init::kaimingNormal(Tensor &tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  auto std = kaimingStd(tensor, a, mode, nonlinearity);
  if (!std)
    return std.status();
  return normal(tensor, 0.0, *std);
}

void nn::defaultInit(Tensor weight, Tensor bias) {
  if (weight.empty())
    return;
  (void)init::kaimingUniform(weight, std::sqrt(5.0));
  auto fans = init::fans(weight.shape());
  if (!bias.empty() && fans && fans->first > 0) {
    double bound = 1.0 / std::sqrt(double(fans->first));
    (void)init::uniform(bias, -bound, bound);
  }
}
