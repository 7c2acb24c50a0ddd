//===- LearningRate.h - The rule every learning rate follows ----*- C++ -*-===//
//
// Shared by trainingStep, tessel::Trainer and tessel::nn::Trainer.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_API_LEARNINGRATE_H
#define TESSEL_COMPILER_API_LEARNINGRATE_H

#include "tessel/Result.h"

#include <cmath>
#include <string>

namespace tessel {

/// Ok for a positive, finite rate; else an error starting with `who`.
inline Status checkLearningRate(double rate, const std::string &who) {
  if (rate > 0 && std::isfinite(rate))
    return Status();
  return Status::error(who + ": the learning rate must be a positive number, got " +
                       std::to_string(rate));
}

} // namespace tessel

#endif // TESSEL_COMPILER_API_LEARNINGRATE_H
