//===- Init.h - Parameter initialisation as torch.nn.init -------*- C++ -*-===//
//
// The functions fill a tensor in place from one process-wide generator,
// seeded by manualSeed() (as torch.manual_seed): the same seed gives the same
// parameters on every machine (the draws do not depend on the C++ library's
// distributions). Fans follow torch.nn.init._calculate_fan_in_and_fan_out:
// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_NN_INIT_H
#define TESSEL_NN_INIT_H

#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <cstdint>

namespace tessel {
namespace nn {

/// Seeds the generator that layer constructors, the init functions and
/// dropout masks draw from.
void manualSeed(uint64_t seed);
/// A uniform draw in [0, 1) and a standard normal draw from that generator.
double randomUniform();
double randomNormal();

namespace init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Conv, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

/// torch.nn.init.calculate_gain.
double calculateGain(Nonlinearity nonlinearity, double param = 0.01);
/// fan_in and fan_out of a weight of `shape` (rank >= 2).
Result<std::pair<int64_t, int64_t>> fans(const std::vector<int64_t> &shape);

// Each returns an error for an empty tensor or, where a fan is needed, a
// tensor of rank < 2 (as PyTorch raises).
Status uniform(Tensor &tensor, double low = 0.0, double high = 1.0);
Status normal(Tensor &tensor, double mean = 0.0, double std = 1.0);
Status constant(Tensor &tensor, double value);
Status zeros(Tensor &tensor);
Status ones(Tensor &tensor);
Status xavierUniform(Tensor &tensor, double gain = 1.0);
Status xavierNormal(Tensor &tensor, double gain = 1.0);
Status kaimingUniform(Tensor &tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
Status kaimingNormal(Tensor &tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

} // namespace init
} // namespace nn
} // namespace tessel

#endif // TESSEL_NN_INIT_H
