//===- Trainer.h - Training loops over tessel::nn modules -------*- C++ -*-===//
//
// nn::Trainer compiles a module's training step (forward in training mode,
// loss, backward, optimizer update, batch-norm statistics) once per batch
// shape and its eval-mode forward once per input shape; both read the
// module's own parameter tensors, which the step updates in place. Labels,
// the learning rate and Adam's step number are run-time inputs, so a loop
// over a DataLoader with a scheduler never recompiles.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_NN_TRAINER_H
#define TESSEL_NN_TRAINER_H

#include "tessel/Training.h"
#include "tessel/nn/Module.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessel {
namespace nn {

/// What a Trainer minimizes: PyTorch's CrossEntropyLoss of the logits
/// (N, C) and class labels (N), or MSELoss of the output and a float target
/// of its shape; both averaged over the batch.
enum class Loss { CrossEntropy, MSE };

struct TrainerOptions {
  Optimizer optimizer = Optimizer::sgd(0.01);
  Loss loss = Loss::CrossEntropy;
  /// No weight decay on parameters of rank 1 (biases, batch-norm weights):
  /// the usual PyTorch parameter groups. optimizer.parameterWeightDecay
  /// (by dotted name) takes precedence.
  bool noDecayOnBiasAndNorm = false;
  CompileOptions compile;
};

/// Trains a module. The module must outlive the trainer (as a PyTorch
/// optimizer holds its parameters).
class Trainer {
public:
  /// Prepares training `module` on batches whose input has `inputShape`
  /// (compiling that step now; other batch sizes compile on first use).
  static Result<Trainer> create(Module &module, std::vector<int64_t> inputShape,
                                TrainerOptions options = {});

  /// One step on a batch with class labels (Loss::CrossEntropy): one per
  /// sample, each in [0, classes). Returns the batch loss before the
  /// update. A label out of range is an error naming it; nothing changes.
  Result<float> step(const Tensor &input, const std::vector<int64_t> &labels);
  /// One step with a float target of the output's shape (Loss::MSE).
  Result<float> step(const Tensor &input, const Tensor &target);

  /// The module's output in eval mode on `input` (batch norm's running
  /// statistics, no dropout), with the current parameters; compiled once
  /// per input shape. The module's own mode is left as it was.
  Result<Tensor> predict(const Tensor &input);

  /// The learning rate of the next steps; a non-positive or non-finite
  /// rate is an error and changes nothing.
  Status setLearningRate(double rate);
  double learningRate() const;
  /// Steps run so far.
  int64_t steps() const;
  /// Where the steps' run time went, kernel by kernel
  /// (Executable::profileTable() of the step compiled for each input shape),
  /// when options.compile.profile is set; its message otherwise.
  std::string profileTable() const;

  struct Impl;
  explicit Trainer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

private:
  /// Runs the step for `input`'s shape with `target` fed to `targetName`.
  Result<float> run(const Tensor &input, const char *targetName, const Tensor &target);
  std::shared_ptr<Impl> impl_;
};

/// A learning-rate schedule applied to a Trainer once per epoch, as
/// torch.optim.lr_scheduler: rate(epoch) from the trainer's rate at
/// construction, and step() moving to the next epoch.
class LRScheduler {
public:
  explicit LRScheduler(Trainer &trainer);
  virtual ~LRScheduler() = default;
  /// The rate of epoch `epoch` (0 is the first).
  virtual double rate(int64_t epoch) const = 0;
  /// Ends an epoch: sets the next epoch's rate on the trainer.
  Status step();
  int64_t epoch() const { return epoch_; }

protected:
  double base_;

private:
  Trainer &trainer_;
  int64_t epoch_ = 0;
};

/// base * gamma^(epoch / stepSize) (integer division).
class StepLR : public LRScheduler {
public:
  StepLR(Trainer &trainer, int64_t stepSize, double gamma = 0.1);
  double rate(int64_t epoch) const override;

private:
  int64_t stepSize_;
  double gamma_;
};

/// etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2.
class CosineAnnealingLR : public LRScheduler {
public:
  CosineAnnealingLR(Trainer &trainer, int64_t tMax, double etaMin = 0.0);
  double rate(int64_t epoch) const override;

private:
  int64_t tMax_;
  double etaMin_;
};

/// Warm-up: base * factor, the factor going linearly from startFactor to
/// endFactor over totalIters epochs, then staying.
class LinearLR : public LRScheduler {
public:
  LinearLR(Trainer &trainer, double startFactor = 1.0 / 3, double endFactor = 1.0,
           int64_t totalIters = 5);
  double rate(int64_t epoch) const override;

private:
  double start_, end_;
  int64_t total_;
};

/// Batches over in-memory samples, as torch.utils.data.DataLoader over a
/// TensorDataset: `inputs` holds one sample per index of its first dim,
/// `labels` one class per sample. Each pass (begin()) draws a new order
/// when shuffling, from its own generator seeded by `seed`.
class DataLoader {
public:
  struct Batch {
    Tensor input;
    std::vector<int64_t> labels;
  };
  static Result<DataLoader> create(Tensor inputs, std::vector<int64_t> labels,
                                   int64_t batchSize, bool shuffle = true,
                                   bool dropLast = false, uint64_t seed = 0);
  /// Batches per pass.
  size_t size() const;
  /// Batch `index` of the current order.
  Batch batch(size_t index) const;

  class Iterator {
  public:
    Iterator(const DataLoader *loader, size_t index) : loader_(loader), index_(index) {}
    Batch operator*() const { return loader_->batch(index_); }
    Iterator &operator++() {
      ++index_;
      return *this;
    }
    bool operator!=(const Iterator &other) const { return index_ != other.index_; }

  private:
    const DataLoader *loader_;
    size_t index_;
  };
  /// Starts a pass: a new order when shuffling.
  Iterator begin();
  Iterator end() const { return Iterator(this, size()); }

  struct Impl;
  explicit DataLoader(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace nn
} // namespace tessel

#endif // TESSEL_NN_TRAINER_H
