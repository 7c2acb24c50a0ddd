//===- NnTrainerTest.cpp - nn::Trainer, schedulers and DataLoader --------===//
//
// A 20-step training run of a small network against the same update rules
// written out by hand in double precision (forward, cross-entropy,
// backward, gradient clipping, SGD with momentum and parameter groups, a
// StepLR schedule), batch norm's statistics through the step, and the
// errors of run-time labels and learning rates.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include "tessel/nn.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>
#include <set>

using namespace tessel;
using reference::Shape;

namespace {

/// The reference: Linear(4, 8) -> ReLU -> Linear(8, 3), cross-entropy,
/// in double precision; W1 [8, 4], b1 [8], W2 [3, 8], b2 [3].
struct Mlp {
  std::vector<double> w1, b1, w2, b2;
  std::vector<double> vw1, vb1, vw2, vb2;

  static std::vector<double> copy(const Tensor &t) {
    return std::vector<double>(t.data(), t.data() + t.numElements());
  }

  /// One step; returns the loss before the update.
  double step(const Tensor &x, const std::vector<int64_t> &labels, double rate, double decay,
              double maxNorm, double momentum, bool first) {
    int64_t n = x.shape()[0];
    std::vector<double> h(n * 8), a(n * 8), z(n * 3), dz(n * 3), dh(n * 8);
    double loss = 0;
    for (int64_t s = 0; s < n; ++s) {
      for (int j = 0; j < 8; ++j) {
        double acc = b1[j];
        for (int i = 0; i < 4; ++i)
          acc += w1[j * 4 + i] * x.data()[s * 4 + i];
        h[s * 8 + j] = acc;
        a[s * 8 + j] = std::max(acc, 0.0);
      }
      double peak = -INFINITY;
      for (int k = 0; k < 3; ++k) {
        double acc = b2[k];
        for (int j = 0; j < 8; ++j)
          acc += w2[k * 8 + j] * a[s * 8 + j];
        z[s * 3 + k] = acc;
        peak = std::max(peak, acc);
      }
      double sum = 0;
      for (int k = 0; k < 3; ++k)
        sum += std::exp(z[s * 3 + k] - peak);
      for (int k = 0; k < 3; ++k) {
        double p = std::exp(z[s * 3 + k] - peak) / sum;
        dz[s * 3 + k] = (p - (k == labels[s] ? 1.0 : 0.0)) / double(n);
      }
      loss -= (z[s * 3 + labels[s]] - peak - std::log(sum)) / double(n);
    }
    std::vector<double> gw1(32, 0), gb1(8, 0), gw2(24, 0), gb2(3, 0);
    for (int64_t s = 0; s < n; ++s) {
      for (int k = 0; k < 3; ++k) {
        gb2[k] += dz[s * 3 + k];
        for (int j = 0; j < 8; ++j)
          gw2[k * 8 + j] += dz[s * 3 + k] * a[s * 8 + j];
      }
      for (int j = 0; j < 8; ++j) {
        double da = 0;
        for (int k = 0; k < 3; ++k)
          da += dz[s * 3 + k] * w2[k * 8 + j];
        dh[s * 8 + j] = h[s * 8 + j] > 0 ? da : 0;
        gb1[j] += dh[s * 8 + j];
        for (int i = 0; i < 4; ++i)
          gw1[j * 4 + i] += dh[s * 8 + j] * x.data()[s * 4 + i];
      }
    }
    double norm = 0;
    for (auto *g : {&gw1, &gb1, &gw2, &gb2})
      for (double v : *g)
        norm += v * v;
    double coef = std::min(1.0, maxNorm / (std::sqrt(norm) + 1e-6));
    // SGD with momentum; weight decay on the matrices only.
    auto update = [&](std::vector<double> &p, std::vector<double> &g, std::vector<double> &v,
                      double wd) {
      v.resize(p.size());
      for (size_t i = 0; i < p.size(); ++i) {
        double d = g[i] * coef + wd * p[i];
        v[i] = first ? d : momentum * v[i] + d;
        p[i] -= rate * v[i];
      }
    };
    update(w1, gw1, vw1, decay);
    update(b1, gb1, vb1, 0);
    update(w2, gw2, vw2, decay);
    update(b2, gb2, vb2, 0);
    return loss;
  }
};

TEST(NnTrainer, TwentyStepsMatchTheUpdateRulesInDoublePrecision) {
  nn::manualSeed(21);
  nn::Sequential net(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3));
  Mlp ref{Mlp::copy(net.tensor("0.weight")), Mlp::copy(net.tensor("0.bias")),
          Mlp::copy(net.tensor("2.weight")), Mlp::copy(net.tensor("2.bias")), {}, {}, {}, {}};
  nn::TrainerOptions options;
  options.optimizer = Optimizer::sgd(0.2, 0.9, /*weightDecay=*/1e-3);
  options.optimizer.maxGradNorm = 0.5;
  options.noDecayOnBiasAndNorm = true;
  auto trainer = nn::Trainer::create(net, {6, 4}, options);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  nn::StepLR schedule(*trainer, /*stepSize=*/5, /*gamma=*/0.5);

  // 36 samples, 6 batches of 6 per epoch; the class is the largest of the
  // first three features.
  std::mt19937 rng(22);
  Tensor data = reference::randomTensor({36, 4}, rng);
  std::vector<int64_t> labels;
  for (int64_t s = 0; s < 36; ++s) {
    const float *f = data.data() + s * 4;
    labels.push_back(std::max_element(f, f + 3) - f);
  }
  auto loader = nn::DataLoader::create(data, labels, 6, /*shuffle=*/true, false, /*seed=*/9);
  ASSERT_TRUE(loader.ok()) << loader.message();
  int step = 0;
  double firstLoss = 0, lastLoss = 0;
  while (step < 20)
    for (nn::DataLoader::Batch batch : *loader) {
      if (step == 20)
        break;
      double rate = trainer->learningRate();
      auto loss = trainer->step(batch.input, batch.labels);
      ASSERT_TRUE(loss.ok()) << loss.message();
      double want = ref.step(batch.input, batch.labels, rate, 1e-3, 0.5, 0.9, step == 0);
      EXPECT_NEAR(*loss, want, 1e-5 + 1e-4 * std::abs(want)) << "step " << step;
      (step == 0 ? firstLoss : lastLoss) = want;
      ++step;
      // Each step is an "epoch" of the schedule: the rate halves every 5.
      ASSERT_TRUE(schedule.step().ok());
    }
  EXPECT_EQ(trainer->steps(), 20);
  EXPECT_NEAR(trainer->learningRate(), 0.2 * std::pow(0.5, 4), 1e-12);
  EXPECT_LT(lastLoss, firstLoss);
  auto expectParams = [&](const char *name, const std::vector<double> &want) {
    Tensor got = net.tensor(name);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got.data()[i], want[i], 1e-4) << name << "[" << i << "]";
  };
  expectParams("0.weight", ref.w1);
  expectParams("0.bias", ref.b1);
  expectParams("2.weight", ref.w2);
  expectParams("2.bias", ref.b2);

  // predict() runs the trained parameters in eval mode.
  auto logits = trainer->predict(data);
  ASSERT_TRUE(logits.ok()) << logits.message();
  EXPECT_EQ(logits->shape(), (Shape{36, 3}));

  // Bad labels: an error naming them, and nothing changes.
  float before = net.tensor("0.weight").data()[0];
  Tensor six = Tensor::zeros({6, 4});
  auto outside = trainer->step(six, {0, 1, 2, 3, 0, 1});
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.message().find("label 3 (sample 3) is outside [0, 3)"), std::string::npos)
      << outside.message();
  auto negative = trainer->step(six, {0, -1, 2, 0, 0, 1});
  EXPECT_NE(negative.message().find("label -1"), std::string::npos) << negative.message();
  auto count = trainer->step(six, {0, 1});
  EXPECT_NE(count.message().find("2 labels for a batch of 6"), std::string::npos)
      << count.message();
  EXPECT_NE(trainer->step(six, Tensor::zeros({6, 3})).message().find("cross-entropy"),
            std::string::npos);
  EXPECT_EQ(net.tensor("0.weight").data()[0], before);
  EXPECT_EQ(trainer->steps(), 20);
  EXPECT_FALSE(trainer->setLearningRate(-0.1).ok());

  // Another batch size compiles another step on the same parameters.
  auto other = trainer->step(Tensor::zeros({2, 4}), {0, 2});
  EXPECT_TRUE(other.ok()) << other.message();
}

TEST(NnTrainer, BatchNormStatisticsAndDropoutThroughTheStep) {
  nn::manualSeed(23);
  nn::Sequential net(nn::Linear(5, 6), nn::BatchNorm1d(6), nn::ReLU(), nn::Dropout(0.5),
                     nn::Linear(6, 2));
  nn::TrainerOptions options;
  options.optimizer = Optimizer::adam(1e-2);
  auto trainer = nn::Trainer::create(net, {8, 5}, options);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  std::mt19937 rng(24);
  for (int s = 0; s < 3; ++s) {
    Tensor x = reference::randomTensor({8, 5}, rng, 0.5f, 2.f);
    auto loss = trainer->step(x, {0, 1, 0, 1, 1, 1, 0, 0});
    ASSERT_TRUE(loss.ok()) << loss.message();
    EXPECT_TRUE(std::isfinite(*loss));
  }
  EXPECT_EQ(net.tensor("1.num_batches_tracked").data()[0], 3.f);
  EXPECT_NE(net.tensor("1.running_mean").data()[0], 0.f);
  EXPECT_NE(net.tensor("1.running_var").data()[0], 1.f);
  // Eval mode: deterministic (no dropout) and normalized by the running
  // statistics, so one sample's output does not depend on the others.
  Tensor x = reference::randomTensor({4, 5}, rng);
  auto a = trainer->predict(x), b = trainer->predict(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(std::equal(a->data(), a->data() + 8, b->data()));
  Tensor first = Tensor::zeros({1, 5});
  std::copy(x.data(), x.data() + 5, first.data());
  auto alone = trainer->predict(first);
  ASSERT_TRUE(alone.ok());
  for (int k = 0; k < 2; ++k)
    EXPECT_NEAR(alone->data()[k], a->data()[k], 1e-5);
  EXPECT_TRUE(net.isTraining()) << "predict() leaves the module's mode alone";
}

TEST(NnTrainer, MseRegression) {
  nn::manualSeed(25);
  nn::Linear net(3, 1);
  nn::TrainerOptions options;
  options.loss = nn::Loss::MSE;
  options.optimizer = Optimizer::sgd(0.1);
  auto trainer = nn::Trainer::create(net, {16, 3}, options);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  // y = 2 x0 - x1 + 0.5 x2 + 1: the weights converge to it.
  std::mt19937 rng(26);
  Tensor x = reference::randomTensor({16, 3}, rng), y = Tensor::zeros({16, 1});
  for (int s = 0; s < 16; ++s)
    y.data()[s] = 2 * x.data()[s * 3] - x.data()[s * 3 + 1] + 0.5f * x.data()[s * 3 + 2] + 1;
  for (int s = 0; s < 300; ++s)
    ASSERT_TRUE(trainer->step(x, y).ok());
  EXPECT_NEAR(net.weight().data()[0], 2.0, 1e-2);
  EXPECT_NEAR(net.weight().data()[1], -1.0, 1e-2);
  EXPECT_NEAR(net.bias().data()[0], 1.0, 1e-2);
  EXPECT_NE(trainer->step(x, std::vector<int64_t>(16, 0)).message().find("MSE"),
            std::string::npos);
}

/// profileTable(): a table of the kernel calls of the steps run, one per
/// input shape compiled; without CompileOptions::profile, the message
/// saying how to get one.
TEST(NnTrainer, ProfileTableCountsTheSteps) {
  nn::manualSeed(27);
  nn::Linear net(3, 2);
  nn::TrainerOptions options;
  options.loss = nn::Loss::MSE;
  options.compile.profile = true;
  auto trainer = nn::Trainer::create(net, {4, 3}, options);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  std::mt19937 rng(28);
  Tensor x = reference::randomTensor({4, 3}, rng), y = reference::randomTensor({4, 2}, rng);
  Tensor x2 = reference::randomTensor({2, 3}, rng), y2 = reference::randomTensor({2, 2}, rng);
  for (int s = 0; s < 3; ++s)
    ASSERT_TRUE(trainer->step(x, y).ok());
  std::string one = trainer->profileTable();
  EXPECT_NE(one.find("__tessel_kernel_"), std::string::npos) << one;
  EXPECT_NE(one.find("kernel calls per run"), std::string::npos) << one;
  EXPECT_EQ(one.find("input shape"), std::string::npos) << one;
  // A second batch size compiles a second step: a table each, headed by
  // its shape.
  ASSERT_TRUE(trainer->step(x2, y2).ok());
  std::string two = trainer->profileTable();
  EXPECT_NE(two.find("step on input shape 2 3:"), std::string::npos) << two;
  EXPECT_NE(two.find("step on input shape 4 3:"), std::string::npos) << two;

  nn::TrainerOptions plain;
  plain.loss = nn::Loss::MSE;
  auto unprofiled = nn::Trainer::create(net, {4, 3}, plain);
  ASSERT_TRUE(unprofiled.ok()) << unprofiled.message();
  ASSERT_TRUE(unprofiled->step(x, y).ok());
  EXPECT_NE(unprofiled->profileTable().find("CompileOptions::profile"), std::string::npos);
}

TEST(NnTrainer, SchedulersFollowPyTorchsFormulas) {
  nn::Linear net(2, 2);
  nn::TrainerOptions options;
  options.optimizer = Optimizer::sgd(0.1);
  auto trainer = nn::Trainer::create(net, {1, 2}, options);
  ASSERT_TRUE(trainer.ok()) << trainer.message();
  nn::CosineAnnealingLR cosine(*trainer, 10, 0.001);
  EXPECT_NEAR(cosine.rate(0), 0.1, 1e-12);
  EXPECT_NEAR(cosine.rate(5), 0.001 + 0.099 * 0.5, 1e-12);
  EXPECT_NEAR(cosine.rate(10), 0.001, 1e-12);
  nn::LinearLR warmup(*trainer, 0.25, 1.0, 4);
  EXPECT_NEAR(warmup.rate(0), 0.025, 1e-12);
  EXPECT_NEAR(warmup.rate(2), 0.0625, 1e-12);
  EXPECT_NEAR(warmup.rate(7), 0.1, 1e-12);
  ASSERT_TRUE(warmup.step().ok());
  EXPECT_NEAR(trainer->learningRate(), 0.04375, 1e-12);
  nn::StepLR steps(*trainer, 2, 0.1);
  EXPECT_NEAR(steps.rate(3), 0.04375 * 0.1, 1e-12);
  // A schedule reaching 0 is refused by the trainer.
  nn::CosineAnnealingLR toZero(*trainer, 1);
  EXPECT_FALSE(toZero.step().ok());
}

TEST(NnTrainer, DataLoaderVisitsEverySampleOncePerPass) {
  Tensor x = Tensor::zeros({10, 2});
  std::vector<int64_t> labels;
  for (int s = 0; s < 10; ++s) {
    x.data()[s * 2] = float(s);
    labels.push_back(s % 3);
  }
  auto loader = nn::DataLoader::create(x, labels, 4, true, false, 5);
  ASSERT_TRUE(loader.ok());
  EXPECT_EQ(loader->size(), 3u);
  std::vector<float> firstOrder;
  for (int pass = 0; pass < 2; ++pass) {
    std::multiset<float> seen;
    std::vector<float> order;
    for (nn::DataLoader::Batch b : *loader)
      for (int64_t i = 0; i < b.input.shape()[0]; ++i) {
        float sample = b.input.data()[i * 2];
        seen.insert(sample);
        order.push_back(sample);
        EXPECT_EQ(b.labels[i], int64_t(sample) % 3);
      }
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(std::set<float>(seen.begin(), seen.end()).size(), 10u);
    if (pass == 0)
      firstOrder = order;
    else
      EXPECT_NE(order, firstOrder) << "each pass draws a new order";
  }
  auto dropLast = nn::DataLoader::create(x, labels, 4, false, true);
  ASSERT_TRUE(dropLast.ok());
  EXPECT_EQ(dropLast->size(), 2u);
  EXPECT_EQ(dropLast->batch(1).input.data()[0], 4.f);
  EXPECT_FALSE(nn::DataLoader::create(x, {1, 2}, 4).ok());
  EXPECT_FALSE(nn::DataLoader::create(x, labels, 0).ok());
}

} // namespace
