//===- Internal.h - What tessel::nn's files share ---------------*- C++ -*-===//

#ifndef TESSEL_COMPILER_API_NN_INTERNAL_H
#define TESSEL_COMPILER_API_NN_INTERNAL_H

#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Tensor.h"

#include <map>
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

class Module;

/// The dropout layers of `module` (itself included) by the name of their
/// mask input, with their probability.
std::map<std::string, double> dropoutMasks(const Module &module);

/// The module's parameters and buffers by dotted name.
std::map<std::string, Tensor> stateByName(const Module &module);

/// The tensors for a compiled graph's inputs `infos`, in order: each from
/// `fixed` (parameters, buffers, optimizer state) or `perRun` by name, or
/// a new mask for a dropout input. An input found nowhere is an error.
Result<std::vector<Tensor>> gatherInputs(const std::vector<TensorInfo> &infos,
                                         const std::map<std::string, Tensor> &fixed,
                                         const std::map<std::string, double> &dropouts,
                                         const std::map<std::string, Tensor> &perRun);

/// A 0-D constant.
Value scalar(Graph &graph, double value);

} // namespace nn
} // namespace tessel

#endif // TESSEL_COMPILER_API_NN_INTERNAL_H
