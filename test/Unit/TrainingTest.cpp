//===- TrainingTest.cpp - Optimizer steps and the Trainer ----------------===//
//
// The compiled SGD and Adam steps against PyTorch's update rules written
// out by hand in double precision, over several steps (so momentum, the
// moments and the bias corrections all matter), and the Trainer's errors.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "tessel/Training.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace tessel;
using reference::Shape;

namespace {

/// loss = sum(w * x) + 0.5 * sum(w * w), so dloss/dw = x + w.
struct Quadratic {
  Graph g{"quadratic"};
  Value w, x, loss;
  Quadratic() {
    w = g.input("w", {2, 3});
    x = g.input("x", {2, 3});
    Value half = g.constant(Tensor::fromValues({}, {0.5f}));
    loss = g.add(g.sum(g.mul(w, x), std::nullopt),
                 g.mul(half, g.sum(g.mul(w, w), std::nullopt)));
  }
};

/// PyTorch's SGD (dampening 0) and Adam/AdamW, element by element.
std::vector<double> referenceSteps(const Optimizer &o, std::vector<double> w,
                                   const std::vector<double> &x, int steps) {
  std::vector<double> buf(w.size(), 0), m(w.size(), 0), v(w.size(), 0);
  for (int t = 1; t <= steps; ++t)
    for (size_t i = 0; i < w.size(); ++i) {
      double g = x[i] + w[i];
      if (o.kind == Optimizer::Kind::Sgd) {
        g += o.weightDecay * w[i];
        buf[i] = t == 1 ? g : o.momentum * buf[i] + g;
        double d = o.nesterov ? g + o.momentum * buf[i] : buf[i];
        w[i] -= o.learningRate * d;
      } else {
        if (o.decoupled)
          w[i] *= 1 - o.learningRate * o.weightDecay;
        else
          g += o.weightDecay * w[i];
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
        v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
        double mHat = m[i] / (1 - std::pow(o.beta1, t));
        double vHat = v[i] / (1 - std::pow(o.beta2, t));
        w[i] -= o.learningRate * mHat / (std::sqrt(vHat) + o.epsilon);
      }
    }
  return w;
}

void checkOptimizer(const std::string &name, const Optimizer &o) {
  SCOPED_TRACE(name);
  Quadratic q;
  std::mt19937 rng(3);
  Tensor w0 = reference::randomTensor({2, 3}, rng), x = reference::randomTensor({2, 3}, rng);
  auto trainer = Trainer::create(q.g, q.loss, {{"w", w0}}, o);
  ASSERT_TRUE(trainer) << trainer.status().message();
  Tensor w = trainer->parameter("w"); // shares the trainer's memory
  const int steps = 4;
  for (int s = 0; s < steps; ++s) {
    auto loss = trainer->step({{"x", x}});
    ASSERT_TRUE(loss) << loss.status().message();
  }
  EXPECT_EQ(trainer->steps(), steps);
  std::vector<double> want = referenceSteps(
      o, std::vector<double>(w0.data(), w0.data() + 6), std::vector<double>(x.data(), x.data() + 6),
      steps);
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(w.data()[i], want[i], 1e-5) << "element " << i;
  // The caller's initial values are left alone.
  EXPECT_NE(w0.data()[0], w.data()[0]);
}

} // namespace

TEST(Training, SgdMatchesPyTorchRule) {
  checkOptimizer("plain", Optimizer::sgd(0.1));
  checkOptimizer("momentum_decay", Optimizer::sgd(0.05, 0.9, 0.01));
  checkOptimizer("nesterov", Optimizer::sgd(0.05, 0.8, 0.0, /*nesterov=*/true));
}

/// A convolution's OIHW filter updated by SGD: the channels-last
/// convolution computes the filter gradient as [C_in, kh, kw, C_out], which
/// the update reads transposed (tessel-vectorize collapses it into a 2-D
/// transpose cut into 16x16 tiles). The loss sum(conv(x, w) * t) is linear
/// in w, so its gradient is the same every step: the naive correlation of t
/// and x, in double precision. Full and partial tiles, 1x1 and 5x5
/// kernels, strides, padding, both layouts, one and two threads.
TEST(Training, ConvFilterUpdatesMatchTheNaiveGradient) {
  struct Case {
    Layout layout;
    int64_t batch, in, out, size, kernel, stride, pad;
  };
  const Case cases[] = {{Layout::NCHW, 2, 16, 32, 9, 3, 1, 1},
                        {Layout::NCHW, 3, 3, 24, 11, 3, 2, 0},
                        {Layout::NHWC, 2, 32, 48, 6, 1, 1, 0},
                        {Layout::NHWC, 1, 8, 64, 7, 5, 1, 2},
                        {Layout::NCHW, 2, 32, 16, 5, 3, 2, 1}};
  std::mt19937 rng(5);
  for (const Case &c : cases)
    for (unsigned threads : {1u, 2u}) {
      SCOPED_TRACE(testing::Message() << "in " << c.in << " out " << c.out << " kernel "
                                      << c.kernel << " stride " << c.stride
                                      << (c.layout == Layout::NHWC ? " NHWC" : " NCHW")
                                      << ", " << threads << " threads");
      int64_t outSize = (c.size + 2 * c.pad - c.kernel) / c.stride + 1;
      Shape xShape = reference::activationShape(c.layout, c.batch, c.in, {c.size, c.size});
      Shape tShape = reference::activationShape(c.layout, c.batch, c.out, {outSize, outSize});
      Shape wShape{c.out, c.in, c.kernel, c.kernel};
      Graph g("conv_step");
      Value x = g.input("x", xShape), t = g.input("t", tShape), w = g.input("w", wShape);
      ConvOptions options;
      options.layout = c.layout;
      options.strides = {c.stride, c.stride};
      options.padding = {c.pad, c.pad, c.pad, c.pad};
      Value loss = g.sum(g.mul(g.conv(x, w, options), t), std::nullopt);
      Tensor x0 = reference::randomTensor(xShape, rng), t0 = reference::randomTensor(tShape, rng);
      Tensor w0 = reference::randomTensor(wShape, rng);
      Optimizer sgd = Optimizer::sgd(0.01, 0.9, 0.05, /*nesterov=*/c.kernel == 5);
      CompileOptions compile;
      compile.threads = threads;
      auto trainer = Trainer::create(g, loss, {{"w", w0}}, sgd, compile);
      ASSERT_TRUE(trainer) << trainer.status().message();
      const int steps = 3;
      for (int step = 0; step < steps; ++step)
        ASSERT_TRUE(trainer->step({{"x", x0}, {"t", t0}}));

      reference::Activation xa{x0, c.layout}, ta{t0, c.layout};
      std::vector<double> gradient(w0.numElements());
      for (int64_t o = 0; o < c.out; ++o)
        for (int64_t i = 0; i < c.in; ++i)
          for (int64_t kh = 0; kh < c.kernel; ++kh)
            for (int64_t kw = 0; kw < c.kernel; ++kw) {
              double sum = 0;
              for (int64_t n = 0; n < c.batch; ++n)
                for (int64_t oh = 0; oh < outSize; ++oh)
                  for (int64_t ow = 0; ow < outSize; ++ow) {
                    int64_t h = oh * c.stride - c.pad + kh, v = ow * c.stride - c.pad + kw;
                    if (h >= 0 && h < c.size && v >= 0 && v < c.size)
                      sum += double(ta.at(n, o, {oh, ow})) * double(xa.at(n, i, {h, v}));
                  }
              gradient[((o * c.in + i) * c.kernel + kh) * c.kernel + kw] = sum;
            }
      Tensor got = trainer->parameter("w");
      for (int64_t e = 0; e < w0.numElements(); ++e) {
        double want = w0.data()[e], buffer = 0;
        for (int step = 1; step <= steps; ++step) {
          double d = gradient[e] + sgd.weightDecay * want;
          buffer = step == 1 ? d : sgd.momentum * buffer + d;
          want -= sgd.learningRate * (sgd.nesterov ? d + sgd.momentum * buffer : buffer);
        }
        ASSERT_NEAR(got.data()[e], want, 1e-4 * (1 + std::abs(want))) << "element " << e;
      }
    }
}

TEST(Training, AdamMatchesPyTorchRule) {
  checkOptimizer("adam", Optimizer::adam(0.01));
  checkOptimizer("adam_l2", Optimizer::adam(0.01, 0.1));
  checkOptimizer("adamw", Optimizer::adam(0.01, 0.1, /*decoupled=*/true));
}

TEST(Training, StepGraphNamesItsInputsAndOutputs) {
  Quadratic q;
  auto step = trainingStep(q.g, q.loss, {q.w}, Optimizer::adam());
  ASSERT_TRUE(step) << step.status().message();
  auto exe = compile(*step);
  ASSERT_TRUE(exe) << exe.status().message();
  std::vector<std::string> in, out;
  for (const TensorInfo &i : exe->inputs())
    in.push_back(i.name);
  for (const TensorInfo &o : exe->outputs())
    out.push_back(o.name);
  EXPECT_EQ(in, (std::vector<std::string>{"w", "x", "optimizer.step", "optimizer.lr", "w.m",
                                           "w.v"}));
  EXPECT_EQ(out, (std::vector<std::string>{"loss", "w", "w.m", "w.v"}));
  // The updated parameter and moments are tied to their inputs.
  std::vector<int> updates;
  for (const TensorInfo &o : exe->outputs())
    updates.push_back(o.updates);
  EXPECT_EQ(updates, (std::vector<int>{-1, 0, 4, 5}));

  // An output named as a (non-parameter) input is its new value: kept and
  // tied (batch norm's running statistics).
  Quadratic r;
  Value count = r.g.input("count", {1});
  r.g.output("count", r.g.add(count, r.g.constant(Tensor::fromValues({1}, {1.f}))));
  auto withBuffer = trainingStep(r.g, r.loss, {r.w}, Optimizer::sgd(0.1));
  ASSERT_TRUE(withBuffer) << withBuffer.status().message();
  auto bufferExe = compile(*withBuffer);
  ASSERT_TRUE(bufferExe) << bufferExe.status().message();
  ASSERT_EQ(bufferExe->outputs().back().name, "count");
  EXPECT_EQ(bufferExe->outputs().back().updates, 2);
}

/// loss = sum(w * x) + 0.5 * sum(w * w) + 0.5 * sum(b * b) + sum(b): the
/// gradients are x + w and b + 1.
TEST(Training, ScheduleClippingAndParameterGroupsMatchPyTorch) {
  Quadratic q;
  Value b = q.g.input("b", {3});
  Value half = q.g.constant(Tensor::fromValues({}, {0.5f}));
  Value loss = q.g.add(q.loss, q.g.add(q.g.mul(half, q.g.sum(q.g.mul(b, b), std::nullopt)),
                                      q.g.sum(b, std::nullopt)));
  Optimizer o = Optimizer::sgd(0.2, 0.9, /*weightDecay=*/0.1);
  o.parameterWeightDecay["b"] = 0.0;
  o.maxGradNorm = 1.5;
  std::mt19937 rng(4);
  Tensor w0 = reference::randomTensor({2, 3}, rng, 1.f, 2.f),
         b0 = reference::randomTensor({3}, rng), x = reference::randomTensor({2, 3}, rng);
  auto trainer = Trainer::create(q.g, loss, {{"w", w0}, {"b", b0}}, o);
  ASSERT_TRUE(trainer) << trainer.status().message();
  std::vector<double> w(w0.data(), w0.data() + 6), bb(b0.data(), b0.data() + 3);
  std::vector<double> vw(6, 0), vb(3, 0);
  const double rates[] = {0.2, 0.2, 0.1, 0.05, 0.05};
  for (int t = 0; t < 5; ++t) {
    ASSERT_TRUE(trainer->setLearningRate(rates[t]).ok());
    ASSERT_TRUE(trainer->step({{"x", x}}));
    // torch: clip_grad_norm_(1.5), then SGD(momentum 0.9) with the groups'
    // weight decay (0.1 for w, 0 for b) at this step's rate.
    std::vector<double> gw(6), gb(3);
    double norm = 0;
    for (int i = 0; i < 6; ++i)
      norm += (gw[i] = x.data()[i] + w[i]) * gw[i];
    for (int i = 0; i < 3; ++i)
      norm += (gb[i] = bb[i] + 1) * gb[i];
    double coef = std::min(1.0, 1.5 / (std::sqrt(norm) + 1e-6));
    for (int i = 0; i < 6; ++i) {
      double g = gw[i] * coef + 0.1 * w[i];
      vw[i] = t == 0 ? g : 0.9 * vw[i] + g;
      w[i] -= rates[t] * vw[i];
    }
    for (int i = 0; i < 3; ++i) {
      double g = gb[i] * coef;
      vb[i] = t == 0 ? g : 0.9 * vb[i] + g;
      bb[i] -= rates[t] * vb[i];
    }
  }
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(trainer->parameter("w").data()[i], w[i], 1e-5) << "w element " << i;
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(trainer->parameter("b").data()[i], bb[i], 1e-5) << "b element " << i;
  EXPECT_EQ(trainer->learningRate(), 0.05);
  EXPECT_FALSE(trainer->setLearningRate(0).ok());
  EXPECT_FALSE(trainer->setLearningRate(NAN).ok());
  EXPECT_EQ(trainer->learningRate(), 0.05);
  Optimizer unknown = Optimizer::sgd(0.1);
  unknown.parameterWeightDecay["nope"] = 0.0;
  auto refused = trainingStep(q.g, loss, {q.w, b}, unknown);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("'nope', which is not a parameter"), std::string::npos)
      << refused.message();
}

TEST(Training, StepUpdatesInPlaceOnlyWhenAsked) {
  Quadratic q;
  auto step = trainingStep(q.g, q.loss, {q.w}, Optimizer::sgd(0.1, 0.5));
  ASSERT_TRUE(step) << step.status().message();
  auto exe = compile(*step);
  ASSERT_TRUE(exe) << exe.status().message();
  std::mt19937 rng(5);
  Tensor w = reference::randomTensor({2, 3}, rng), x = reference::randomTensor({2, 3}, rng),
         velocity = reference::randomTensor({2, 3}, rng);
  std::vector<double> w0(w.data(), w.data() + 6), v0(velocity.data(), velocity.data() + 6);
  // The first step of SGD with momentum 0.5 from velocity v0, by hand.
  std::vector<double> wantW(6), wantV(6);
  for (int i = 0; i < 6; ++i) {
    wantV[i] = 0.5 * v0[i] + (x.data()[i] + w0[i]);
    wantW[i] = w0[i] - 0.1 * wantV[i];
  }
  auto check = [&](const Tensor &gotW, const Tensor &gotV) {
    for (int i = 0; i < 6; ++i) {
      EXPECT_NEAR(gotW.data()[i], wantW[i], 1e-6) << "w element " << i;
      EXPECT_NEAR(gotV.data()[i], wantV[i], 1e-6) << "velocity element " << i;
    }
  };

  // run() returns the new values in memory of their own.
  Tensor rate = Tensor::fromValues({}, {0.1f});
  auto functional = exe->run({w, x, rate, velocity});
  ASSERT_TRUE(functional) << functional.status().message();
  check((*functional)[1], (*functional)[2]);
  EXPECT_NE((*functional)[1].data(), w.data());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(w.data()[i], static_cast<float>(w0[i]));
    EXPECT_EQ(velocity.data()[i], static_cast<float>(v0[i]));
  }

  // runInPlace() writes them into the inputs and returns those.
  auto inPlace = exe->runInPlace({w, x, rate, velocity});
  ASSERT_TRUE(inPlace) << inPlace.status().message();
  EXPECT_EQ((*inPlace)[1].data(), w.data());
  EXPECT_EQ((*inPlace)[2].data(), velocity.data());
  check(w, velocity);
  EXPECT_EQ((*inPlace)[0].data()[0], (*functional)[0].data()[0]); // the same loss

  // An input updated in place may not alias another input.
  auto aliased = exe->runInPlace({w, w, rate, velocity});
  ASSERT_FALSE(aliased);
  EXPECT_NE(aliased.status().message().find(
                "input 'w' is updated in place but shares memory with input 'x'"),
            std::string::npos)
      << aliased.status().message();
  // run() copies the updated inputs, so aliasing is fine there.
  EXPECT_TRUE(exe->run({w, w, rate, velocity}));
}

TEST(Training, Errors) {
  Quadratic q;
  auto expectError = [](const Status &s, const std::string &part) {
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
  };
  expectError(Trainer::create(q.g, q.loss, {{"nope", Tensor::zeros({2, 3})}},
                              Optimizer::sgd(0.1))
                  .status(),
              "no input named 'nope'");
  expectError(Trainer::create(q.g, q.loss, {{"w", Tensor::zeros({3, 2})}}, Optimizer::sgd(0.1))
                  .status(),
              "parameter 'w' has shape [3, 2]");
  expectError(Trainer::create(q.g, q.loss, {{"w", Tensor::zeros({2, 3})}}, Optimizer::sgd(-1))
                  .status(),
              "the learning rate must be a positive number, got -1");
  expectError(trainingStep(q.g, q.loss, {q.loss}, Optimizer::sgd(0.1)).status(),
              "every parameter must be an input");
  auto trainer = Trainer::create(q.g, q.loss, {{"w", Tensor::zeros({2, 3})}}, Optimizer::sgd(0.1));
  ASSERT_TRUE(trainer);
  expectError(trainer->step({}).status(), "batch input 'x' is missing");
  expectError(trainer->step({{"x", Tensor::zeros({2, 3})}, {"y", Tensor::zeros({1})}}).status(),
              "'y' is not a batch input");
  expectError(trainer->step({{"x", Tensor::zeros({3, 3})}}).status(), "input 'x' has shape");
}

TEST(Autodiff, GradientErrors) {
  auto expectError = [](const Status &s, const std::string &part) {
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
  };
  Graph g("errors");
  Value x = g.input("x", {2, 3});
  Value y = g.tanh(x);
  Value labels = g.labels({2}, {0, 1});
  Value loss = g.sum(y, std::nullopt);
  // A non-scalar loss.
  expectError(gradient(g, y, {x}).status(), "the loss must be a float scalar");
  // A non-float wrt value.
  expectError(gradient(g, loss, {labels}).status(), "is not a float tensor");
  // Values that are not part of the graph: another graph's, even at a
  // position this graph has.
  Graph elsewhere("elsewhere");
  Value foreign = elsewhere.input("x", {2, 3});
  expectError(gradient(g, loss, {foreign}).status(), "not a value of it");
  expectError(gradient(g, loss, {Value(1000, x.graph())}).status(), "not a value of it");
  // The same value twice.
  expectError(gradient(g, loss, {x, x}).status(), "'x' is named twice in wrt");
  // A loss that does not depend on the value: a documented zero gradient.
  Value other = g.input("other", {4});
  auto grads = gradient(g, loss, {x, other});
  ASSERT_TRUE(grads) << grads.status().message();
  auto exe = compile(*grads);
  ASSERT_TRUE(exe) << exe.status().message();
  auto out = exe->run({{"x", Tensor::fromValues({2, 3}, {0, 1, -1, 2, 0.5f, -2})},
                       {"other", Tensor::fromValues({4}, {1, 2, 3, 4})}});
  ASSERT_TRUE(out) << out.status().message();
  const Tensor &zero = out->at("grad_other");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(zero.data()[i], 0.f);
  // d/dx sum(tanh x) = 1 - tanh(x)^2, checked by hand at x = 2.
  EXPECT_NEAR(out->at("grad_x").data()[3], 1 - std::tanh(2.0) * std::tanh(2.0), 1e-6);
}
