//===- nn_demo.cpp - A CNN written and trained with tessel::nn ------------===//
//
// The tessel::nn part of `make demo`: a small CNN (conv-BN-ReLU-pool twice,
// dropout, linear) written with PyTorch-style modules learns the synthetic
// four-shape task of examples/LeNet.h from a DataLoader, with SGD, momentum,
// weight decay without the biases and BN weights, and a cosine learning-rate
// schedule; then it saves a checkpoint (.npz), loads it into a fresh model
// and checks that both predict the same.
//
//   tessel-nn-demo [--epochs N] [--batch N] [--train-size N] [--seed N]
//                  [--checkpoint PATH] [--require-accuracy A]
//   tessel-nn-demo --port small_resnet|resnet18|mobilenet_v2 --from DIR
//
// --port is the porting check of docs/nn.md: a network written with
// tessel::nn (the small ResNet below, or torchvision's resnet18 and
// mobilenet_v2 of TorchvisionModels.h) loads DIR/weights.npz (a PyTorch
// state_dict saved with np.savez), runs DIR/input.npy in eval mode and
// compares the result with DIR/output.npy, PyTorch's.
//
//===----------------------------------------------------------------------===//

#include "LeNet.h"
#include "TorchvisionModels.h"

#include "tessel/Npy.h"
#include "tessel/nn.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace tessel;

namespace {

/// A two-stage torchvision-style ResNet: the stem, layer1 (16 channels),
/// layer2 (32, stride 2), global average pooling and fc.
struct SmallResNet : nn::Module {
  std::shared_ptr<nn::Sequential> layer1, layer2;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Linear> fc;

  SmallResNet() : Module("SmallResNet") {
    // torchvision names the stem's layers conv1/bn1 at the top level.
    conv1 = registerModule(
        "conv1", nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding(1).bias(false)));
    bn1 = registerModule("bn1", nn::BatchNorm2d(16));
    maxpool = registerModule("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
    layer1 = registerModule("layer1", nn::Sequential(resnet::BasicBlock(16, 16)));
    layer2 = registerModule("layer2", nn::Sequential(resnet::BasicBlock(16, 32, 2)));
    avgpool = registerModule("avgpool", nn::AdaptiveAvgPool2d(1));
    fc = registerModule("fc", nn::Linear(32, 10));
  }

  Value forward(Graph &g, Value x) override {
    x = (*maxpool)(g, g.relu((*bn1)(g, (*conv1)(g, x))));
    x = (*layer2)(g, (*layer1)(g, x));
    return (*fc)(g, g.flatten((*avgpool)(g, x), 1));
  }

private:
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::MaxPool2d> maxpool;
};

int portCheck(const std::string &name, const std::string &dir) {
  std::unique_ptr<nn::Module> model;
  if (name == "small_resnet")
    model = std::make_unique<SmallResNet>();
  else if (name == "resnet18")
    model = std::make_unique<torchvision::ResNet>();
  else if (name == "mobilenet_v2")
    model = std::make_unique<torchvision::MobileNetV2>();
  else {
    std::fprintf(stderr, "tessel-nn-demo: --port takes small_resnet, resnet18 or mobilenet_v2\n");
    return 2;
  }
  nn::Module &net = *model;
  net.eval();
  if (Status s = nn::load(net, dir + "/weights.npz"); !s.ok()) {
    std::fprintf(stderr, "tessel-nn-demo: %s\n", s.message().c_str());
    return 1;
  }
  auto input = readNpy(dir + "/input.npy");
  auto expected = readNpy(dir + "/output.npy");
  if (!input || !expected) {
    std::fprintf(stderr, "tessel-nn-demo: %s\n",
                 (!input ? input.message() : expected.message()).c_str());
    return 1;
  }
  auto compiled = nn::compile(net, input->shape());
  auto output = compiled ? compiled->run(*input) : Result<Tensor>(compiled.status());
  if (!output) {
    std::fprintf(stderr, "tessel-nn-demo: %s\n", output.message().c_str());
    return 1;
  }
  double worst = 0;
  bool same = output->shape() == expected->shape();
  for (int64_t i = 0; same && i < output->numElements(); ++i)
    worst = std::max(worst, double(std::abs(output->data()[i] - expected->data()[i])));
  // Relative to the output's scale: deep nets reach logits in the tens.
  double scale = 1;
  for (int64_t i = 0; i < expected->numElements(); ++i)
    scale = std::max(scale, double(std::abs(expected->data()[i])));
  same = same && worst < 1e-4 * scale;
  std::printf("%s, %lld parameters loaded from weights.npz\n", name.c_str(),
              static_cast<long long>(net.numParameters()));
  std::printf("matches PyTorch: %s (largest difference %.2e)\n", same ? "yes" : "NO", worst);
  return same ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  int epochs = 4, batch = 32, trainSize = 1024;
  unsigned seed = 1;
  double required = -1;
  std::string checkpoint = "tessel-nn-demo.npz", port, from;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tessel-nn-demo: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--epochs"))
      epochs = std::atoi(next());
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::atoi(next());
    else if (!std::strcmp(argv[i], "--train-size"))
      trainSize = std::atoi(next());
    else if (!std::strcmp(argv[i], "--seed"))
      seed = static_cast<unsigned>(std::atoi(next()));
    else if (!std::strcmp(argv[i], "--checkpoint"))
      checkpoint = next();
    else if (!std::strcmp(argv[i], "--require-accuracy"))
      required = std::atof(next());
    else if (!std::strcmp(argv[i], "--port"))
      port = next();
    else if (!std::strcmp(argv[i], "--from"))
      from = next();
    else {
      std::fprintf(stderr, "tessel-nn-demo: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (!port.empty() || !from.empty()) {
    if (port.empty() || from.empty()) {
      std::fprintf(stderr, "tessel-nn-demo: --port and --from go together\n");
      return 2;
    }
    return portCheck(port, from);
  }
  if (epochs < 1 || epochs > 1000 || batch < 1 || batch > 4096 || trainSize < batch ||
      trainSize > 1 << 20) {
    std::fprintf(stderr, "tessel-nn-demo: --epochs takes 1-1000, --batch 1-4096, "
                         "--train-size from the batch size to 2^20\n");
    return 2;
  }

  // The network, as one would write it with torch.nn.
  nn::manualSeed(seed);
  auto makeNet = [] {
    return nn::Sequential(
        nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::BatchNorm2d(8), nn::ReLU(),
        nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(8, 16, 3).padding(1)),
        nn::BatchNorm2d(16), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.25),
        nn::Linear(16 * 4 * 4, lenet::kClasses));
  };
  nn::Sequential net = makeNet();
  auto table = nn::summary(net, {1, 1, lenet::kSize, lenet::kSize});
  if (table)
    std::printf("%s\n", table->c_str());

  std::mt19937 rng(seed);
  lenet::Batch train = lenet::makeBatch(trainSize, rng), test = lenet::makeBatch(512, rng);
  std::vector<int64_t> labels(train.labels.begin(), train.labels.end());
  auto loader = nn::DataLoader::create(train.images, labels, batch, /*shuffle=*/true,
                                       /*dropLast=*/false, seed);
  nn::TrainerOptions options;
  options.optimizer = Optimizer::sgd(0.05, 0.9, /*weightDecay=*/1e-4);
  options.noDecayOnBiasAndNorm = true;
  auto start = std::chrono::steady_clock::now();
  auto trainer = nn::Trainer::create(net, {batch, 1, lenet::kSize, lenet::kSize}, options);
  if (!loader || !trainer) {
    std::fprintf(stderr, "tessel-nn-demo: %s\n",
                 (!loader ? loader.message() : trainer.message()).c_str());
    return 1;
  }
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nn::CosineAnnealingLR schedule(*trainer, epochs, 1e-3);

  auto accuracy = [&](nn::Trainer &t) -> double {
    auto logits = t.predict(test.images);
    if (!logits)
      return -1;
    std::vector<int> predicted = lenet::argmax(*logits);
    int correct = 0;
    for (size_t i = 0; i < predicted.size(); ++i)
      correct += predicted[i] == test.labels[i];
    return double(correct) / double(predicted.size());
  };

  std::printf("training step compiled in %.2f s; %zu batches of %d per epoch\n",
              compileSeconds, loader->size(), batch);
  std::printf("epoch  learning rate  mean loss  held-out accuracy\n");
  double firstLoss = 0, lastLoss = 0, lastAccuracy = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double rate = trainer->learningRate(), total = 0;
    int count = 0;
    for (nn::DataLoader::Batch b : *loader) {
      auto loss = trainer->step(b.input, b.labels);
      if (!loss) {
        std::fprintf(stderr, "tessel-nn-demo: %s\n", loss.message().c_str());
        return 1;
      }
      total += *loss;
      ++count;
    }
    if (Status s = schedule.step(); !s.ok()) {
      std::fprintf(stderr, "tessel-nn-demo: %s\n", s.message().c_str());
      return 1;
    }
    double mean = total / count;
    lastAccuracy = accuracy(*trainer);
    if (epoch == 1)
      firstLoss = mean;
    lastLoss = mean;
    std::printf("%5d  %13.5f  %9.4f  %15.1f %%\n", epoch, rate, mean, 100 * lastAccuracy);
  }

  // A checkpoint, loaded into a fresh model, predicts the same.
  if (Status s = nn::save(net, checkpoint); !s.ok()) {
    std::fprintf(stderr, "tessel-nn-demo: %s\n", s.message().c_str());
    return 1;
  }
  nn::manualSeed(seed + 1);
  nn::Sequential restored = makeNet();
  Status loaded = nn::load(restored, checkpoint);
  auto restoredTrainer = nn::Trainer::create(restored, {batch, 1, lenet::kSize, lenet::kSize});
  bool same = loaded.ok() && restoredTrainer && accuracy(*restoredTrainer) == lastAccuracy;
  std::printf("checkpoint %s: reloaded model predicts the same: %s\n", checkpoint.c_str(),
              same ? "yes" : "NO");
  if (required >= 0) {
    bool ok = same && lastAccuracy >= required && (epochs == 1 || lastLoss < firstLoss);
    std::printf("%s: loss %.4f -> %.4f, accuracy %.1f %% (required %.1f %%)\n",
                ok ? "PASS" : "FAIL", firstLoss, lastLoss, 100 * lastAccuracy, 100 * required);
    return ok ? 0 : 1;
  }
  return same ? 0 : 1;
}
