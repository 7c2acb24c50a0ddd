//===- TrainStep.cpp - Training steps, Tessel against PyTorch eager -------===//
//
// Tessel runs twice: as the user writes it (NCHW) and with the whole net
// and its input channels last (Module::setDataFormat). Each measurement
// runs in a process of its own, so that its peak resident
// memory (getrusage of the child) is that one model's: Tessel's in a
// forked child of tessel-bench (which has started no thread before), the
// compiled step of nn::Trainer on torchvision's architecture written with
// tessel::nn (examples/TorchvisionModels.h); PyTorch's in a Python process
// running train_step.py. Both time the median of `runs` steps after two
// warm-up steps, on the same shapes, batch-norm in training mode, MobileNetV2's
// dropout on.
//
//===----------------------------------------------------------------------===//

#include "TrainStep.h"

#include "examples/TorchvisionModels.h"
#include "tessel/nn.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace tessel;

namespace {

struct Measurement {
  double milliseconds = 0, compileSeconds = 0, peakMiB = 0;
  bool ok = false;
};

/// How Tessel compiles the 3x3 convolutions (tessel-bench --winograd).
tessel::Winograd stepWinograd = tessel::Winograd::Auto;
/// Whether each step's kernel profile goes to stderr (tessel-bench --profile).
bool stepProfile = false;

/// Runs in the child: compiles and times the step, writes the result to `fd`.
/// Channels last, the whole net and its input are NHWC.
void timeTessel(const std::string &model, int64_t batch, int64_t size, unsigned threads,
                bool channelsLast, int runs, int fd) {
  nn::manualSeed(0);
  std::unique_ptr<nn::Module> net;
  if (model == "resnet18")
    net = std::make_unique<torchvision::ResNet>();
  else
    net = std::make_unique<torchvision::MobileNetV2>();
  std::vector<int64_t> shape{batch, 3, size, size};
  if (channelsLast) {
    net->setDataFormat(nn::DataFormat::ChannelsLast);
    shape = {batch, size, size, 3};
  }
  nn::TrainerOptions options;
  options.optimizer = Optimizer::sgd(0.01, 0.9);
  options.compile.threads = threads;
  options.compile.winograd = stepWinograd;
  options.compile.profile = stepProfile;
  auto start = std::chrono::steady_clock::now();
  auto trainer = nn::Trainer::create(*net, shape, options);
  double compile = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Measurement m;
  if (!trainer) {
    std::fprintf(stderr, "tessel-bench: %s: %s\n", model.c_str(), trainer.message().c_str());
  } else {
    std::mt19937 rng(0);
    std::normal_distribution<float> gauss;
    Tensor x = Tensor::zeros(shape);
    for (int64_t i = 0; i < x.numElements(); ++i)
      x.data()[i] = gauss(rng);
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < batch; ++i)
      labels.push_back(rng() % 1000);
    std::vector<double> times;
    m.ok = true;
    for (int r = 0; r < runs + 2 && m.ok; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      m.ok = trainer->step(x, labels).ok();
      if (r >= 2)
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    if (m.ok && stepProfile)
      std::fprintf(stderr, "tessel-bench: %s, %s, %u thread(s): kernel profile over %d steps\n%s",
                   model.c_str(), channelsLast ? "channels last" : "NCHW", threads, runs + 2,
                   trainer->profileTable().c_str());
    if (m.ok) {
      std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
      m.milliseconds = times[times.size() / 2];
      m.compileSeconds = compile;
    }
  }
  if (write(fd, &m, sizeof m) != sizeof m)
    _exit(1);
}

Measurement measureTessel(const std::string &model, int64_t batch, int64_t size,
                          unsigned threads, bool channelsLast, int runs) {
  Measurement m;
  int fds[2];
  if (pipe(fds) != 0)
    return m;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    timeTessel(model, batch, size, threads, channelsLast, runs, fds[1]);
    _exit(0);
  }
  close(fds[1]);
  if (child < 0 || read(fds[0], &m, sizeof m) != sizeof m)
    m.ok = false;
  close(fds[0]);
  int status = 0;
  struct rusage usage;
  if (child > 0 && wait4(child, &status, 0, &usage) == child)
    m.peakMiB = usage.ru_maxrss / 1024.0;
  return m;
}

Measurement measurePyTorch(const std::string &python, const std::string &script,
                           const std::string &model, int64_t batch, int64_t size,
                           unsigned threads, int runs) {
  Measurement m;
  std::string command = python + " " + script + " " + model + " " + std::to_string(batch) +
                        " " + std::to_string(size) + " " + std::to_string(threads) + " " +
                        std::to_string(runs);
  FILE *pipe = popen(command.c_str(), "r");
  if (!pipe)
    return m;
  m.ok = std::fscanf(pipe, "%lf %lf", &m.milliseconds, &m.peakMiB) == 2;
  m.ok = pclose(pipe) == 0 && m.ok;
  return m;
}

} // namespace

int benchTrainingSteps(int runs, int64_t batch, int64_t size, const std::string &python,
                       const std::string &script,
                       tessel::Winograd winograd, const std::string &onlyModel,
                       bool profile) {
  stepWinograd = winograd;
  stepProfile = profile;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<unsigned> threadCounts{1};
  if (cores > 1)
    threadCounts.push_back(cores);
  std::printf("| training step (batch %lld, %lldx%lld, SGD momentum) | threads | Tessel NCHW | "
              "Tessel channels last | PyTorch 1.13 eager | PyTorch/Tessel NCHW | "
              "PyTorch/Tessel channels last | peak memory Tessel NCHW, channels last, PyTorch | "
              "Tessel compile NCHW, channels last |\n",
              (long long)batch, (long long)size, (long long)size);
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  double logFirst = 0, logLast = 0;
  int rows = 0;
  for (const char *model : {"resnet18", "mobilenet_v2"})
    for (unsigned threads : threadCounts) {
      if (!onlyModel.empty() && onlyModel != model)
        continue;
      Measurement first = measureTessel(model, batch, size, threads, false, runs);
      Measurement last = measureTessel(model, batch, size, threads, true, runs);
      Measurement p = measurePyTorch(python, script, model, batch, size, threads, runs);
      if (!first.ok || !last.ok || !p.ok) {
        std::fprintf(stderr, "tessel-bench: %s at %u thread(s): the %s measurement failed\n",
                     model, threads, !p.ok ? "PyTorch" : "Tessel");
        return 1;
      }
      double ratioFirst = p.milliseconds / first.milliseconds;
      double ratioLast = p.milliseconds / last.milliseconds;
      logFirst += std::log(ratioFirst);
      logLast += std::log(ratioLast);
      ++rows;
      std::printf("| %s | %u | %.1f ms | %.1f ms | %.1f ms | %.2f | %.2f | %.0f, %.0f, %.0f MiB | "
                  "%.1f s, %.1f s |\n",
                  model, threads, first.milliseconds, last.milliseconds, p.milliseconds,
                  ratioFirst, ratioLast, first.peakMiB, last.peakMiB, p.peakMiB,
                  first.compileSeconds, last.compileSeconds);
      std::fflush(stdout);
    }
  std::printf("| geomean | | | | | %.2f | %.2f | | |\n", std::exp(logFirst / rows),
              std::exp(logLast / rows));
  return 0;
}
