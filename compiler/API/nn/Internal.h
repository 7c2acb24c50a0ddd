//===- Internal.h - What tessel::nn's files share ---------------*- C++ -*-===//

#ifndef TESSEL_COMPILER_API_NN_INTERNAL_H
#define TESSEL_COMPILER_API_NN_INTERNAL_H

#include "tessel/Graph.h"
#include "tessel/Tensor.h"

#include <string>
#include <vector>

namespace tessel {
namespace nn {

/// PyTorch's default for conv and linear layers: the weight Kaiming-uniform
/// with a = sqrt(5) (bound 1 / sqrt(fan_in)), the bias uniform within
/// 1 / sqrt(fan_in).
void defaultInit(Tensor weight, Tensor bias);

/// Whether `sizes` has `rank` entries, each at least `least`.
bool allAtLeast(const std::vector<int64_t> &sizes, size_t rank, int64_t least);

/// The product of `sizes`.
int64_t product(const std::vector<int64_t> &sizes);

/// A dropout mask of `shape`: 0 with probability p, else 1 / (1 - p).
Tensor dropoutMask(double p, const std::vector<int64_t> &shape);

/// A 0-D constant.
Value scalar(Graph &graph, double value);

} // namespace nn
} // namespace tessel

#endif // TESSEL_COMPILER_API_NN_INTERNAL_H
