//===- train_demo.cpp - Train a LeNet-style CNN with the JIT --------------===//
//
// The training part of `make demo`: a LeNet-style CNN (examples/LeNet.h)
// learns to tell four shapes apart in noisy synthetic images generated here.
// One JIT-compiled function runs each step's forward pass, backward pass and
// optimizer update; a forward-only function measures held-out accuracy after
// every epoch.
//
//   tessel-train-demo [--epochs N] [--steps-per-epoch N] [--batch N]
//                     [--optimizer sgd|adam] [--threads N] [--seed N]
//                     [--require-accuracy A]
//
// With --require-accuracy the exit status is 1 unless the final held-out
// accuracy reaches A and the last epoch's mean loss is below the first's.
//
//===----------------------------------------------------------------------===//

#include "LeNet.h"

#include "tessel/Compiler.h"
#include "tessel/Training.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace tessel;

int main(int argc, char **argv) {
  int epochs = 5, stepsPerEpoch = 40, batch = 32, threads = 0;
  unsigned seed = 1;
  double required = -1;
  std::string optimizerName = "sgd";
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tessel-train-demo: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    std::string arg = argv[i];
    if (arg == "--epochs") epochs = std::atoi(next());
    else if (arg == "--steps-per-epoch") stepsPerEpoch = std::atoi(next());
    else if (arg == "--batch") batch = std::atoi(next());
    else if (arg == "--threads") threads = std::atoi(next());
    else if (arg == "--seed") seed = static_cast<unsigned>(std::atoi(next()));
    else if (arg == "--optimizer") optimizerName = next();
    else if (arg == "--require-accuracy") required = std::atof(next());
    else {
      std::fprintf(stderr, "tessel-train-demo: unknown argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  if (epochs < 1 || epochs > 1000 || stepsPerEpoch < 1 || stepsPerEpoch > 100000 ||
      batch < 1 || batch > 4096 || threads < 0 ||
      (optimizerName != "sgd" && optimizerName != "adam")) {
    std::fprintf(stderr, "tessel-train-demo: --epochs takes 1-1000, --steps-per-epoch "
                         "1-100000, --batch 1-4096, --threads 0 (every core) or more, "
                         "--optimizer sgd or adam\n");
    return 2;
  }

  std::mt19937 rng(seed);
  std::map<std::string, Tensor> initial = lenet::initialParameters(rng);
  Graph train("lenet_train");
  auto [logits, loss] = lenet::build(train, batch, initial);
  Optimizer optimizer = optimizerName == "sgd" ? Optimizer::sgd(0.05, 0.9, 1e-4)
                                               : Optimizer::adam(2e-3);
  CompileOptions options;
  options.threads = static_cast<unsigned>(threads);
  auto start = std::chrono::steady_clock::now();
  auto trainer = Trainer::create(train, loss, initial, optimizer, options);
  if (!trainer) {
    std::fprintf(stderr, "tessel-train-demo: %s\n", trainer.status().message().c_str());
    return 1;
  }
  // Held-out accuracy with a forward-only graph over the same parameters.
  const int64_t testSize = 512;
  Graph eval("lenet_eval");
  auto evalOut = lenet::build(eval, testSize, initial);
  eval.output("logits", evalOut.first);
  auto evaluate = compile(eval, options);
  if (!evaluate) {
    std::fprintf(stderr, "tessel-train-demo: %s\n", evaluate.status().message().c_str());
    return 1;
  }
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("LeNet-style CNN, %s, batch %d, %d steps per epoch (compiled in %.2f s)\n",
              optimizerName.c_str(), batch, stepsPerEpoch, compileSeconds);

  std::mt19937 testRng(seed + 1000);
  lenet::Batch test = lenet::makeBatch(testSize, testRng);
  auto accuracy = [&]() -> double {
    std::map<std::string, Tensor> feed = trainer->parameters();
    feed["images"] = test.images;
    feed["targets"] = test.targets;
    auto out = evaluate->run(feed);
    if (!out)
      return -1;
    std::vector<int> predicted = lenet::argmax(out->at("logits"));
    int correct = 0;
    for (size_t i = 0; i < predicted.size(); ++i)
      correct += predicted[i] == test.labels[i];
    return double(correct) / double(predicted.size());
  };

  std::printf("epoch  mean loss  held-out accuracy  median step\n");
  std::printf("    0          -             %5.1f %%            -\n", 100 * accuracy());
  double firstLoss = 0, lastLoss = 0, lastAccuracy = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double total = 0;
    std::vector<double> times;
    for (int s = 0; s < stepsPerEpoch; ++s) {
      lenet::Batch b = lenet::makeBatch(batch, rng);
      auto t0 = std::chrono::steady_clock::now();
      auto l = trainer->step({{"images", b.images}, {"targets", b.targets}});
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
              .count());
      if (!l) {
        std::fprintf(stderr, "tessel-train-demo: %s\n", l.status().message().c_str());
        return 1;
      }
      total += *l;
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    double ms = times[times.size() / 2];
    double mean = total / stepsPerEpoch;
    lastAccuracy = accuracy();
    if (epoch == 1)
      firstLoss = mean;
    lastLoss = mean;
    std::printf("%5d  %9.4f             %5.1f %%     %6.2f ms\n", epoch, mean,
                100 * lastAccuracy, ms);
  }
  if (required >= 0) {
    bool ok = lastAccuracy >= required && (epochs == 1 || lastLoss < firstLoss);
    std::printf("%s: loss %.4f -> %.4f, accuracy %.1f %% (required %.1f %%)\n",
                ok ? "PASS" : "FAIL", firstLoss, lastLoss, 100 * lastAccuracy,
                100 * required);
    return ok ? 0 : 1;
  }
  return 0;
}
