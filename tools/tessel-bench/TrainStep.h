//===- TrainStep.h - tessel-bench --train -----------------------*- C++ -*-===//

#ifndef TESSEL_TOOLS_TESSEL_BENCH_TRAINSTEP_H
#define TESSEL_TOOLS_TESSEL_BENCH_TRAINSTEP_H

#include "tessel/Compiler.h"

#include <cstdint>
#include <string>

/// Times one training step (forward, backward, SGD with momentum) of
/// torchvision's ResNet-18 and MobileNetV2 in Tessel (tessel::nn) and in
/// PyTorch eager, at `batch` x 3 x `size` x `size`, at 1 thread and every
/// core, Tessel both NCHW and channels last, and prints a table with ratios
/// and peak memory. `script` is
/// train_step.py; `python` runs it. Tessel compiles with `winograd`.
/// A non-empty `model` (resnet18 or mobilenet_v2) times that model alone;
/// `profile` prints each Tessel step's kernel profile on stderr.
int benchTrainingSteps(int runs, int64_t batch, int64_t size, const std::string &python,
                       const std::string &script, tessel::Winograd winograd,
                       const std::string &model, bool profile);

#endif // TESSEL_TOOLS_TESSEL_BENCH_TRAINSTEP_H
