//===- Trainer.cpp - nn::Trainer, learning-rate schedulers, DataLoader ----===//
//
// The training step is tessel::trainingStep of the module's training-mode
// graph plus its loss; batch norm's running-statistics updates are outputs
// named as their buffers, which the step ties to them. Class labels enter
// as float class indices ("labels", exact below 2^24 classes) and become
// one-hot rows in the graph: 1 - min(1, |label - class|).
//
//===----------------------------------------------------------------------===//

#include "tessel/nn/Trainer.h"
#include "tessel/nn/Init.h"

#include "compiler/API/LearningRate.h"
#include "compiler/API/nn/Internal.h"

#include <cmath>
#include <map>
#include <random>

namespace tessel::nn {

//===----------------------------------------------------------------------===//
// Trainer
//===----------------------------------------------------------------------===//

namespace {

const char *const kLabels = "labels";
const char *const kTarget = "target";
const char *const kStep = "optimizer.step";
const char *const kRate = "optimizer.lr";

/// The step graph of `module` on inputs of `shape`; `classes` is set to
/// the logits' class count (cross-entropy).
Result<Graph> buildStep(Module &module, const std::vector<int64_t> &shape,
                        const TrainerOptions &options, int64_t &classes) {
  bool wasTraining = module.isTraining();
  module.train(true);
  Graph g("train_step");
  Value x = g.input("input", shape);
  Value y = module(g, x);
  module.train(wasTraining);
  if (!g.status().ok())
    return g.status();
  std::vector<int64_t> out = g.shape(y);
  Value loss;
  if (options.loss == Loss::CrossEntropy) {
    if (out.size() != 2) {
      g.fail("cross-entropy training needs logits of shape (batch, classes), the module "
             "outputs " + shapeString(out));
      return g.status();
    }
    classes = out[1];
    std::vector<float> indices(classes);
    for (int64_t c = 0; c < classes; ++c)
      indices[c] = static_cast<float>(c);
    Value labels = g.reshape(g.input(kLabels, {out[0]}), {out[0], 1});
    Value classIds = g.constant(Tensor::fromValues({1, classes}, indices));
    Value one = scalar(g, 1.0);
    Value oneHot = g.sub(one, g.minimum(g.abs(g.sub(labels, classIds)), one));
    loss = g.div(g.neg(g.sum(g.mul(oneHot, g.logSoftmax(y, 1)), std::nullopt)),
                 scalar(g, static_cast<double>(out[0])));
  } else {
    loss = g.mseLoss(y, g.input(kTarget, out));
  }
  g.output("loss", loss);
  for (const auto &[name, value] : module.bufferUpdates(g))
    g.output(name, value);
  if (!g.status().ok())
    return g.status();

  std::vector<Value> parameters;
  Optimizer optimizer = options.optimizer;
  for (const NamedTensor &p : module.namedParameters()) {
    Value v = g.findInput(p.name);
    if (!v.valid())
      continue; // not used by forward(): no gradient, as PyTorch's None
    parameters.push_back(v);
    if (options.noDecayOnBiasAndNorm && p.value.rank() <= 1)
      optimizer.parameterWeightDecay.emplace(p.name, 0.0);
  }
  return trainingStep(g, loss, parameters, optimizer);
}

/// A step compiled for one input shape.
struct CompiledStep {
  Executable executable;
  int64_t classes = 0;
};

} // namespace

struct Trainer::Impl {
  Module *module;
  TrainerOptions options;
  /// Compiled steps by input shape, and eval-mode forwards by input shape.
  std::map<std::vector<int64_t>, CompiledStep> steps;
  std::map<std::vector<int64_t>, CompiledModule> predictors;
  /// Parameters, buffers and the optimizer's state by input name.
  std::map<std::string, Tensor> state;
  std::map<std::string, double> dropouts;
  int64_t stepCount = 0;
  double rate = 0;

  Result<CompiledStep *> stepFor(const std::vector<int64_t> &shape) {
    if (auto it = steps.find(shape); it != steps.end())
      return &it->second;
    int64_t classes = 0;
    auto graph = buildStep(*module, shape, options, classes);
    if (!graph)
      return graph.status();
    auto exe = tessel::compile(*graph, options.compile);
    if (!exe)
      return exe.status();
    // Optimizer state starts at zero, shared by the steps of every shape.
    for (const TensorInfo &info : exe->inputs())
      if (!state.count(info.name) && info.name != "input" && info.name != kLabels &&
          info.name != kTarget && info.name != kStep && info.name != kRate &&
          !dropouts.count(info.name)) {
        Tensor zeros = Tensor::zeros(info.shape);
        if (zeros.empty())
          return Result<CompiledStep *>::error(
              "trainer: no memory for the optimizer state '" + info.name + "'");
        state.emplace(info.name, zeros);
      }
    return &steps.emplace(shape, CompiledStep{*exe, classes}).first->second;
  }
};

Result<Trainer> Trainer::create(Module &module, std::vector<int64_t> inputShape,
                                TrainerOptions options) {
  if (Status s = module.status(); !s.ok())
    return s;
  auto impl = std::make_shared<Impl>();
  impl->module = &module;
  impl->options = std::move(options);
  impl->state = stateByName(module);
  impl->dropouts = dropoutMasks(module);
  impl->rate = impl->options.optimizer.learningRate;
  auto step = impl->stepFor(inputShape);
  if (!step)
    return step.status();
  return Trainer(std::move(impl));
}

Result<float> Trainer::run(const Tensor &input, const char *targetName, const Tensor &target) {
  Impl &t = *impl_;
  auto step = t.stepFor(input.shape());
  if (!step)
    return step.status();
  std::map<std::string, Tensor> perRun{
      {"input", input},
      {targetName, target},
      {kStep, Tensor::fromValues({}, {static_cast<float>(t.stepCount + 1)})},
      {kRate, Tensor::fromValues({}, {static_cast<float>(t.rate)})}};
  auto inputs = gatherInputs((*step)->executable.inputs(), t.state, t.dropouts, perRun);
  if (!inputs)
    return inputs.status();
  // Parameters, optimizer state and buffers are updated in place.
  auto outputs = (*step)->executable.runInPlace(*inputs);
  if (!outputs)
    return outputs.status();
  ++t.stepCount;
  return (*outputs)[0].data()[0];
}

Result<float> Trainer::step(const Tensor &input, const std::vector<int64_t> &labels) {
  if (impl_->options.loss != Loss::CrossEntropy)
    return Result<float>::error("trainer: the loss is MSE; step() takes a float target");
  if (input.rank() == 0)
    return Result<float>::error("trainer: the input needs a batch dim, got shape " +
                                input.shapeString());
  auto step = impl_->stepFor(input.shape());
  if (!step)
    return step.status();
  int64_t batch = input.shape()[0], classes = (*step)->classes;
  if (static_cast<int64_t>(labels.size()) != batch)
    return Result<float>::error("trainer: " + std::to_string(labels.size()) +
                                " labels for a batch of " + std::to_string(batch));
  Tensor target = Tensor::zeros({batch});
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes)
      return Result<float>::error("trainer: label " + std::to_string(labels[i]) +
                                  " (sample " + std::to_string(i) + ") is outside [0, " +
                                  std::to_string(classes) + ")");
    target.data()[i] = static_cast<float>(labels[i]);
  }
  return run(input, kLabels, target);
}

Result<float> Trainer::step(const Tensor &input, const Tensor &target) {
  if (impl_->options.loss != Loss::MSE)
    return Result<float>::error("trainer: the loss is cross-entropy; step() takes labels");
  return run(input, kTarget, target);
}

Result<Tensor> Trainer::predict(const Tensor &input) {
  Impl &t = *impl_;
  auto it = t.predictors.find(input.shape());
  if (it == t.predictors.end()) {
    bool wasTraining = t.module->isTraining();
    t.module->eval();
    auto compiled = nn::compile(*t.module, input.shape(), t.options.compile);
    t.module->train(wasTraining);
    if (!compiled)
      return compiled.status();
    it = t.predictors.emplace(input.shape(), *compiled).first;
  }
  return it->second.run(input);
}

Status Trainer::setLearningRate(double rate) {
  if (Status s = checkLearningRate(rate, "trainer"); !s)
    return s;
  impl_->rate = rate;
  return Status();
}

double Trainer::learningRate() const { return impl_->rate; }

int64_t Trainer::steps() const { return impl_->stepCount; }

std::string Trainer::profileTable() const {
  std::string text;
  for (const auto &[shape, step] : impl_->steps) {
    if (impl_->steps.size() > 1) {
      text += "step on input shape";
      for (int64_t d : shape)
        text += " " + std::to_string(d);
      text += ":\n";
    }
    text += step.executable.profileTable();
  }
  return text;
}

//===----------------------------------------------------------------------===//
// Schedulers
//===----------------------------------------------------------------------===//

LRScheduler::LRScheduler(Trainer &trainer) : base_(trainer.learningRate()), trainer_(trainer) {}

Status LRScheduler::step() {
  double next = rate(epoch_ + 1);
  if (Status s = trainer_.setLearningRate(next); !s.ok())
    return s;
  ++epoch_;
  return Status();
}

StepLR::StepLR(Trainer &trainer, int64_t stepSize, double gamma)
    : LRScheduler(trainer), stepSize_(std::max<int64_t>(stepSize, 1)), gamma_(gamma) {}

double StepLR::rate(int64_t epoch) const {
  return base_ * std::pow(gamma_, static_cast<double>(epoch / stepSize_));
}

CosineAnnealingLR::CosineAnnealingLR(Trainer &trainer, int64_t tMax, double etaMin)
    : LRScheduler(trainer), tMax_(std::max<int64_t>(tMax, 1)), etaMin_(etaMin) {}

double CosineAnnealingLR::rate(int64_t epoch) const {
  return etaMin_ + (base_ - etaMin_) * (1 + std::cos(M_PI * double(epoch) / double(tMax_))) / 2;
}

LinearLR::LinearLR(Trainer &trainer, double startFactor, double endFactor, int64_t totalIters)
    : LRScheduler(trainer), start_(startFactor), end_(endFactor),
      total_(std::max<int64_t>(totalIters, 1)) {}

double LinearLR::rate(int64_t epoch) const {
  double progress = double(std::min(epoch, total_)) / double(total_);
  return base_ * (start_ + (end_ - start_) * progress);
}

//===----------------------------------------------------------------------===//
// DataLoader
//===----------------------------------------------------------------------===//

struct DataLoader::Impl {
  Tensor inputs;
  std::vector<int64_t> labels;
  int64_t batchSize;
  bool shuffle, dropLast;
  std::mt19937_64 generator;
  std::vector<int64_t> order;
};

Result<DataLoader> DataLoader::create(Tensor inputs, std::vector<int64_t> labels,
                                      int64_t batchSize, bool shuffle, bool dropLast,
                                      uint64_t seed) {
  if (inputs.empty() || inputs.rank() == 0)
    return Result<DataLoader>::error("data loader: the inputs need a sample dim, got shape " +
                                     inputs.shapeString());
  int64_t n = inputs.shape()[0];
  if (static_cast<int64_t>(labels.size()) != n)
    return Result<DataLoader>::error("data loader: " + std::to_string(labels.size()) +
                                     " labels for " + std::to_string(n) + " samples");
  if (batchSize <= 0)
    return Result<DataLoader>::error("data loader: the batch size must be positive, got " +
                                     std::to_string(batchSize));
  auto impl = std::make_shared<Impl>();
  impl->inputs = inputs.isContiguous() ? inputs : inputs.clone();
  impl->labels = std::move(labels);
  impl->batchSize = batchSize;
  impl->shuffle = shuffle;
  impl->dropLast = dropLast;
  impl->generator.seed(seed);
  impl->order.resize(n);
  for (int64_t i = 0; i < n; ++i)
    impl->order[i] = i;
  return DataLoader(std::move(impl));
}

size_t DataLoader::size() const {
  int64_t n = impl_->inputs.shape()[0], b = impl_->batchSize;
  return static_cast<size_t>(impl_->dropLast ? n / b : (n + b - 1) / b);
}

DataLoader::Batch DataLoader::batch(size_t index) const {
  const Impl &d = *impl_;
  int64_t n = d.inputs.shape()[0];
  int64_t first = static_cast<int64_t>(index) * d.batchSize;
  int64_t count = std::min(d.batchSize, n - first);
  std::vector<int64_t> shape = d.inputs.shape();
  shape[0] = count;
  Batch batch{Tensor::zeros(shape), {}};
  int64_t sample = d.inputs.numElements() / n;
  for (int64_t i = 0; i < count; ++i) {
    int64_t from = d.order[first + i];
    std::copy(d.inputs.data() + from * sample, d.inputs.data() + (from + 1) * sample,
              batch.input.data() + i * sample);
    batch.labels.push_back(d.labels[from]);
  }
  return batch;
}

DataLoader::Iterator DataLoader::begin() {
  Impl &d = *impl_;
  if (d.shuffle)
    // Fisher-Yates from the generator's raw bits: the same order for a seed
    // with every C++ library.
    for (int64_t i = static_cast<int64_t>(d.order.size()) - 1; i > 0; --i)
      std::swap(d.order[i], d.order[d.generator() % uint64_t(i + 1)]);
  return Iterator(this, 0);
}

} // namespace tessel::nn
