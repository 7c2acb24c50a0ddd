//===- NnTest.cpp - tessel::nn modules against naive references ----------===//
//
// Every layer is compiled through nn::compile and compared with the naive
// loops of Reference.h (or loops written here from PyTorch's definitions);
// initialisation against PyTorch's bounds, batch norm's running statistics
// against PyTorch's update rule, names, .npz round trips and the errors a
// user meets.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "examples/BasicBlock.h"

#include "tessel/Training.h"
#include "tessel/nn.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

using namespace tessel;
using reference::Shape;

namespace {

/// The module's forward pass on `input`; fails the test on any error.
Tensor runModule(nn::Module &module, const Tensor &input) {
  auto compiled = nn::compile(module, input.shape());
  EXPECT_TRUE(compiled.ok()) << compiled.message();
  if (!compiled)
    return Tensor();
  auto output = compiled->run(input);
  EXPECT_TRUE(output.ok()) << output.message();
  return output ? *output : Tensor();
}

void expectClose(const Tensor &got, const Tensor &want, const std::string &what,
                 double atol = 1e-4, double rtol = 1e-4) {
  ASSERT_FALSE(got.empty()) << what;
  double ratio = reference::toleranceRatio(got, want, atol, rtol);
  EXPECT_LE(ratio, 1.0) << what << ": worst error is " << ratio << "x the tolerance (got shape "
                        << got.shapeString() << ", want " << want.shapeString() << ")";
}

/// The error of building `module` on an input of `shape`.
std::string buildError(nn::Module &module, const Shape &shape) {
  auto graph = nn::buildGraph(module, shape);
  EXPECT_FALSE(graph.ok());
  return graph.ok() ? std::string() : graph.message();
}

Layout channelsFirst(size_t spatialRank) {
  return nn::layoutOf(nn::DataFormat::ChannelsFirst, static_cast<int64_t>(spatialRank));
}

/// PyTorch's F.pad of the spatial dims of an NC... activation.
Tensor padSpatial(const Tensor &x, PadMode mode, const Shape &low, const Shape &high) {
  Shape shape = x.shape();
  size_t sr = shape.size() - 2;
  for (size_t d = 0; d < sr; ++d)
    shape[2 + d] += low[d] + high[d];
  Tensor out = Tensor::zeros(shape);
  reference::forEachIndex(shape, [&](const Shape &i) {
    Shape src = i;
    for (size_t d = 0; d < sr; ++d) {
      int64_t n = x.shape()[2 + d], p = i[2 + d] - low[d];
      if (mode == PadMode::Reflect)
        p = p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p;
      else if (mode == PadMode::Replicate)
        p = std::clamp<int64_t>(p, 0, n - 1);
      else if (mode == PadMode::Circular)
        p = ((p % n) + n) % n;
      else if (p < 0 || p >= n)
        return;
      src[2 + d] = p;
    }
    out.at(i) = x.at(src);
  });
  return out;
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// Runs a conv layer and compares it with reference::conv.
template <int D>
void checkConv(const nn::ConvOptionsNd<D> &o, const Shape &inputShape, std::mt19937 &rng,
               const std::string &what) {
  nn::ConvNd<D> conv(o);
  ASSERT_TRUE(conv.status().ok()) << what << ": " << conv.status().message();
  Tensor x = reference::randomTensor(inputShape, rng);
  Tensor got = runModule(conv, x);
  bool last = o.dataFormat() == nn::DataFormat::ChannelsLast;
  Layout layout = nn::layoutOf(o.dataFormat(), D);
  // The reference pads as PyTorch does, then convolves without padding.
  Shape k = o.kernelSize().expand(D), s = o.stride().expand(D), dl = o.dilation().expand(D);
  Shape low(D), high(D);
  if (o.padding().kind() == nn::Padding::Kind::Same)
    for (int i = 0; i < D; ++i) {
      int64_t total = dl[i] * (k[i] - 1);
      low[i] = total / 2;
      high[i] = total - total / 2;
    }
  else if (o.padding().kind() == nn::Padding::Kind::Explicit)
    low = high = o.padding().sizes().expand(D);
  Tensor padded = x;
  Shape refLow = low, refHigh = high;
  if (o.paddingMode() != nn::PaddingMode::Zeros) {
    static const PadMode modes[] = {PadMode::Constant, PadMode::Reflect, PadMode::Replicate,
                                    PadMode::Circular};
    padded = padSpatial(x, modes[int(o.paddingMode())], low, high);
    refLow = refHigh = Shape(D, 0);
  }
  Shape spatial;
  Shape inSp(padded.shape().begin() + (last ? 1 : 2),
             padded.shape().begin() + (last ? 1 : 2) + D);
  for (int i = 0; i < D; ++i)
    spatial.push_back((inSp[i] + refLow[i] + refHigh[i] - dl[i] * (k[i] - 1) - 1) / s[i] + 1);
  Shape outShape = reference::activationShape(layout, inputShape[0], o.outChannels(), spatial);
  Tensor bias = conv.bias();
  Tensor want = reference::conv(padded, conv.weight(), o.bias() ? &bias : nullptr,
                                {layout, false, s, dl, refLow, refHigh, o.groups()}, outShape);
  expectClose(got, want, what);
}

TEST(Nn, ConvLayersMatchReference) {
  std::mt19937 rng(11);
  checkConv<2>(nn::Conv2dOptions(3, 8, 3).stride(2).padding(1), {2, 3, 9, 9}, rng, "stride 2");
  checkConv<2>(nn::Conv2dOptions(4, 6, {3, 1}).groups(2).dilation({2, 1}).padding({2, 0}).bias(
                   false),
               {1, 4, 7, 5}, rng, "groups, dilation, no bias");
  checkConv<2>(nn::Conv2dOptions(4, 4, 3).padding("same").dilation(2), {1, 4, 6, 7}, rng,
               "same, dilation 2");
  checkConv<2>(nn::Conv2dOptions(2, 3, 4).padding("same"), {1, 2, 5, 6}, rng,
               "same, even kernel (odd pad on the high side)");
  checkConv<2>(nn::Conv2dOptions(2, 3, 3).padding("valid"), {1, 2, 5, 6}, rng, "valid");
  checkConv<1>(nn::Conv1dOptions(2, 4, 5).stride(3).padding(2), {2, 2, 17}, rng, "conv1d");
  checkConv<3>(nn::Conv3dOptions(2, 3, {2, 3, 3}).stride({1, 2, 2}).padding({0, 1, 1}),
               {1, 2, 4, 6, 6}, rng, "conv3d");
  checkConv<2>(nn::Conv2dOptions(8, 8, 3).groups(8).padding(1).dataFormat(
                   nn::DataFormat::ChannelsLast),
               {2, 6, 6, 8}, rng, "depthwise, channels last");
  checkConv<2>(nn::Conv2dOptions(3, 4, 3).padding(1).paddingMode(nn::PaddingMode::Reflect),
               {1, 3, 5, 6}, rng, "reflect padding");
  checkConv<2>(nn::Conv2dOptions(3, 4, 3).padding(2).paddingMode(nn::PaddingMode::Circular),
               {1, 3, 5, 6}, rng, "circular padding");
  checkConv<1>(nn::Conv1dOptions(2, 2, 3).padding(1).paddingMode(nn::PaddingMode::Replicate),
               {1, 2, 8}, rng, "replicate padding");
}

/// PyTorch's conv_transpose (NC... activations, (in, out/groups, k...)
/// weights) as a scatter.
Tensor convTransposeReference(const Tensor &x, const Tensor &w, const Tensor &bias,
                              const Shape &s, const Shape &p, const Shape &op, const Shape &d,
                              int64_t groups) {
  size_t sr = x.rank() - 2;
  int64_t cin = x.shape()[1], coutG = w.shape()[1], cinG = cin / groups;
  Shape out{x.shape()[0], coutG * groups};
  Shape k(w.shape().begin() + 2, w.shape().end());
  for (size_t i = 0; i < sr; ++i)
    out.push_back((x.shape()[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1);
  std::vector<double> acc(Tensor::zeros(out).numElements(), 0.0);
  Tensor y = Tensor::zeros(out);
  reference::forEachIndex(x.shape(), [&](const Shape &i) {
    int64_t g = i[1] / cinG;
    for (int64_t oc = 0; oc < coutG; ++oc)
      reference::forEachIndex(k, [&](const Shape &kk) {
        Shape o{i[0], g * coutG + oc};
        for (size_t a = 0; a < sr; ++a) {
          int64_t pos = i[2 + a] * s[a] - p[a] + kk[a] * d[a];
          if (pos < 0 || pos >= out[2 + a])
            return;
          o.push_back(pos);
        }
        Shape wi{i[1], oc};
        wi.insert(wi.end(), kk.begin(), kk.end());
        y.at(o) += x.at(i) * w.at(wi);
      });
  });
  if (!bias.empty())
    reference::forEachIndex(out, [&](const Shape &i) { y.at(i) += bias.at({i[1]}); });
  return y;
}

TEST(Nn, ConvTransposeLayersMatchReference) {
  std::mt19937 rng(12);
  {
    nn::ConvTranspose2d layer(
        nn::ConvTranspose2dOptions(4, 6, 3).stride(2).padding(1).outputPadding(1).groups(2));
    Tensor x = reference::randomTensor({2, 4, 5, 4}, rng);
    expectClose(runModule(layer, x),
                convTransposeReference(x, layer.weight(), layer.bias(), {2, 2}, {1, 1}, {1, 1},
                                       {1, 1}, 2),
                "conv_transpose2d");
  }
  {
    nn::ConvTranspose1d layer(
        nn::ConvTranspose1dOptions(3, 2, 4).stride(2).dilation(2).bias(false));
    Tensor x = reference::randomTensor({1, 3, 6}, rng);
    expectClose(runModule(layer, x),
                convTransposeReference(x, layer.weight(), Tensor(), {2}, {0}, {0}, {2}, 1),
                "conv_transpose1d");
  }
  {
    nn::ConvTranspose3d layer(nn::ConvTranspose3dOptions(2, 2, 2).stride(2));
    Tensor x = reference::randomTensor({1, 2, 2, 3, 2}, rng);
    expectClose(runModule(layer, x),
                convTransposeReference(x, layer.weight(), layer.bias(), {2, 2, 2}, {0, 0, 0},
                                       {0, 0, 0}, {1, 1, 1}, 1),
                "conv_transpose3d");
  }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The output size of a window pool as PyTorch computes it.
int64_t pooledSize(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  int64_t span = in + 2 * p - d * (k - 1) - 1;
  int64_t out = (ceil ? (span + s - 1) / s : span / s) + 1;
  if (ceil && (out - 1) * s >= in + p)
    --out;
  return out;
}

void checkPool(nn::Module &layer, PoolKind kind, const Shape &inputShape, const Shape &k,
               const Shape &s, const Shape &p, const Shape &d, bool ceil, bool includePad,
               double norm, std::mt19937 &rng, const std::string &what) {
  Tensor x = reference::randomTensor(inputShape, rng, kind == PoolKind::Lp ? 0.1f : -1.f, 1.f);
  size_t sr = inputShape.size() - 2;
  Shape spatial;
  for (size_t i = 0; i < sr; ++i)
    spatial.push_back(pooledSize(inputShape[2 + i], k[i], s[i], p[i], d[i], ceil));
  Shape outShape{inputShape[0], inputShape[1]};
  outShape.insert(outShape.end(), spatial.begin(), spatial.end());
  // The reference counts padded positions up to the high padding, which
  // with ceil_mode PyTorch takes as the padding p (the window is clipped).
  Tensor want = reference::pool(x, {kind, channelsFirst(sr), k, s, d, p, p, includePad, norm},
                                outShape);
  expectClose(runModule(layer, x), want, what);
}

TEST(Nn, PoolLayersMatchReference) {
  std::mt19937 rng(13);
  nn::MaxPool2d max1(nn::MaxPool2dOptions(3).stride(2).padding(1));
  checkPool(max1, PoolKind::Max, {2, 3, 9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false, false, 0,
            rng, "max pool 3/2 pad 1");
  nn::MaxPool2d max2(nn::MaxPool2dOptions(2).ceilMode(true));
  checkPool(max2, PoolKind::Max, {1, 2, 7, 5}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, true, false, 0,
            rng, "max pool ceil mode");
  nn::MaxPool1d max3(nn::MaxPool1dOptions(3).stride(1).dilation(2));
  checkPool(max3, PoolKind::Max, {1, 2, 11}, {3}, {1}, {0}, {2}, false, false, 0, rng,
            "max pool 1d dilation 2");
  nn::AvgPool2d avg1(nn::AvgPool2dOptions(3).stride(2).padding(1));
  checkPool(avg1, PoolKind::Avg, {1, 3, 8, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false, true, 0,
            rng, "avg pool counting the padding (PyTorch's default)");
  nn::AvgPool2d avg2(nn::AvgPool2dOptions(3).stride(2).padding(1).countIncludePad(false));
  checkPool(avg2, PoolKind::Avg, {1, 3, 8, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false, false, 0,
            rng, "avg pool without the padding");
  nn::AvgPool3d avg3(2);
  checkPool(avg3, PoolKind::Avg, {1, 2, 4, 4, 6}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1},
            false, true, 0, rng, "avg pool 3d");
  nn::LPPool2d lp(nn::LPPool2dOptions(2.0, 2).stride(1));
  checkPool(lp, PoolKind::Lp, {1, 2, 5, 5}, {2, 2}, {1, 1}, {0, 0}, {1, 1}, false, false, 2.0,
            rng, "lp pool");
}

TEST(Nn, AdaptivePoolsMatchReference) {
  std::mt19937 rng(14);
  Tensor x = reference::randomTensor({2, 3, 7, 5}, rng);
  Shape outSize{3, 2};
  for (PoolKind kind : {PoolKind::Avg, PoolKind::Max}) {
    std::unique_ptr<nn::Module> layer;
    if (kind == PoolKind::Avg)
      layer = std::make_unique<nn::AdaptiveAvgPool2d>(nn::Sizes{3, 2});
    else
      layer = std::make_unique<nn::AdaptiveMaxPool2d>(nn::Sizes{3, 2});
    Tensor want = Tensor::zeros({2, 3, 3, 2});
    reference::forEachIndex(want.shape(), [&](const Shape &i) {
      // PyTorch's bins: [floor(i * in / out), ceil((i + 1) * in / out)).
      int64_t h0 = i[2] * 7 / 3, h1 = ((i[2] + 1) * 7 + 2) / 3;
      int64_t w0 = i[3] * 5 / 2, w1 = ((i[3] + 1) * 5 + 1) / 2;
      double acc = kind == PoolKind::Max ? -INFINITY : 0.0;
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = w0; w < w1; ++w)
          acc = kind == PoolKind::Max ? std::max(acc, double(x.at({i[0], i[1], h, w})))
                                      : acc + x.at({i[0], i[1], h, w});
      want.at(i) = float(kind == PoolKind::Max ? acc : acc / double((h1 - h0) * (w1 - w0)));
    });
    expectClose(runModule(*layer, x), want, layer->typeName());
  }
}

//===----------------------------------------------------------------------===//
// Batch norm
//===----------------------------------------------------------------------===//

TEST(Nn, BatchNormTrainingUpdatesRunningStatisticsAsPyTorch) {
  std::mt19937 rng(15);
  nn::BatchNorm2d bn(nn::BatchNormOptions(3).momentum(0.3).eps(1e-3));
  Tensor weight = bn.tensor("weight"), bias = bn.tensor("bias");
  for (int c = 0; c < 3; ++c) {
    weight.data()[c] = 0.5f + c;
    bias.data()[c] = -0.25f * c;
  }
  auto compiled = nn::compile(bn, {4, 3, 5, 5});
  ASSERT_TRUE(compiled.ok()) << compiled.message();
  std::vector<double> mean(3, 0.0), var(3, 1.0);
  for (int step = 0; step < 3; ++step) {
    Tensor x = reference::randomTensor({4, 3, 5, 5}, rng, -1.f + step, 2.f + step);
    auto y = compiled->run(x);
    ASSERT_TRUE(y.ok()) << y.message();
    Tensor want = Tensor::zeros(x.shape());
    for (int64_t c = 0; c < 3; ++c) {
      double sum = 0, sq = 0;
      int64_t n = 0;
      reference::forEachIndex({4, 5, 5}, [&](const Shape &i) {
        double v = x.at({i[0], c, i[1], i[2]});
        sum += v;
        sq += v * v;
        ++n;
      });
      double m = sum / n, v = sq / n - m * m;
      reference::forEachIndex({4, 5, 5}, [&](const Shape &i) {
        want.at({i[0], c, i[1], i[2]}) =
            float((x.at({i[0], c, i[1], i[2]}) - m) / std::sqrt(v + 1e-3) * (0.5 + c) -
                  0.25 * c);
      });
      mean[c] = 0.7 * mean[c] + 0.3 * m;
      var[c] = 0.7 * var[c] + 0.3 * v * n / (n - 1);
    }
    expectClose(*y, want, "batch norm (training) step " + std::to_string(step), 1e-4, 1e-3);
  }
  Tensor runningMean = Tensor::fromValues({3}, {float(mean[0]), float(mean[1]), float(mean[2])});
  Tensor runningVar = Tensor::fromValues({3}, {float(var[0]), float(var[1]), float(var[2])});
  expectClose(bn.tensor("running_mean"), runningMean, "running_mean", 1e-5, 1e-4);
  expectClose(bn.tensor("running_var"), runningVar, "running_var", 1e-5, 1e-4);
  EXPECT_EQ(bn.tensor("num_batches_tracked").data()[0], 3.f);

  // Eval mode normalizes by the running statistics.
  bn.eval();
  Tensor x = reference::randomTensor({2, 3, 4, 4}, rng);
  Tensor want = Tensor::zeros(x.shape());
  reference::forEachIndex(x.shape(), [&](const Shape &i) {
    int64_t c = i[1];
    want.at(i) = float((x.at(i) - mean[c]) / std::sqrt(var[c] + 1e-3) * (0.5 + c) - 0.25 * c);
  });
  expectClose(runModule(bn, x), want, "batch norm (eval)", 1e-4, 1e-3);
}

TEST(Nn, BatchNorm1dTakesFeatureVectors) {
  std::mt19937 rng(16);
  nn::BatchNorm1d bn(nn::BatchNormOptions(4).affine(false));
  EXPECT_TRUE(bn.namedParameters().empty());
  Tensor x = reference::randomTensor({6, 4}, rng);
  Tensor want = Tensor::zeros(x.shape());
  for (int64_t c = 0; c < 4; ++c) {
    double m = 0, v = 0;
    for (int64_t n = 0; n < 6; ++n)
      m += x.at({n, c}) / 6.0;
    for (int64_t n = 0; n < 6; ++n)
      v += (x.at({n, c}) - m) * (x.at({n, c}) - m) / 6.0;
    for (int64_t n = 0; n < 6; ++n)
      want.at({n, c}) = float((x.at({n, c}) - m) / std::sqrt(v + 1e-5));
  }
  expectClose(runModule(bn, x), want, "batch norm 1d on (N, C)", 1e-4, 1e-3);
}

//===----------------------------------------------------------------------===//
// Linear, activations, shapes, dropout
//===----------------------------------------------------------------------===//

TEST(Nn, LinearAndActivationsMatchTheirFormulas) {
  std::mt19937 rng(17);
  Tensor x = reference::randomTensor({3, 5}, rng, -4.f, 4.f);
  struct Case {
    std::shared_ptr<nn::Module> act;
    std::function<double(double)> f;
  };
  std::vector<Case> cases = {
      {std::make_shared<nn::Identity>(), [](double v) { return v; }},
      {std::make_shared<nn::ReLU>(), [](double v) { return std::max(v, 0.0); }},
      {std::make_shared<nn::ReLU6>(), [](double v) { return std::clamp(v, 0.0, 6.0); }},
      {std::make_shared<nn::LeakyReLU>(0.2), [](double v) { return v < 0 ? 0.2 * v : v; }},
      {std::make_shared<nn::Sigmoid>(), [](double v) { return 1 / (1 + std::exp(-v)); }},
      {std::make_shared<nn::Tanh>(), [](double v) { return std::tanh(v); }},
      {std::make_shared<nn::SiLU>(), [](double v) { return v / (1 + std::exp(-v)); }},
      {std::make_shared<nn::Hardswish>(),
       [](double v) { return v * std::clamp(v + 3, 0.0, 6.0) / 6; }},
      {std::make_shared<nn::GELU>(),
       [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }},
  };
  for (Case &c : cases) {
    nn::Sequential net(nn::Linear(5, 4), c.act);
    Tensor w = net[0]->tensor("weight"), b = net[0]->tensor("bias");
    Tensor want = Tensor::zeros({3, 4});
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t o = 0; o < 4; ++o) {
        double acc = b.at({o});
        for (int64_t i = 0; i < 5; ++i)
          acc += double(x.at({n, i})) * w.at({o, i});
        want.at({n, o}) = float(c.f(acc));
      }
    expectClose(runModule(net, x), want, "Linear then " + c.act->typeName());
  }
}

TEST(Nn, ShapeLayersMatchReference) {
  std::mt19937 rng(18);
  Tensor x = reference::randomTensor({2, 8, 3, 4}, rng);
  {
    nn::PixelShuffle shuffle(2);
    Tensor want = Tensor::zeros({2, 2, 6, 8});
    reference::forEachIndex(want.shape(), [&](const Shape &i) {
      want.at(i) = x.at({i[0], i[1] * 4 + (i[2] % 2) * 2 + i[3] % 2, i[2] / 2, i[3] / 2});
    });
    expectClose(runModule(shuffle, x), want, "pixel shuffle");
  }
  {
    nn::ReflectionPad2d pad(nn::Sizes{1, 2, 0, 1});
    expectClose(runModule(pad, x), padSpatial(x, PadMode::Reflect, {0, 1}, {1, 2}),
                "reflection pad (left 1, right 2, top 0, bottom 1)");
    nn::ZeroPad2d zero(2);
    expectClose(runModule(zero, x), padSpatial(x, PadMode::Constant, {2, 2}, {2, 2}),
                "zero pad");
  }
  {
    nn::Upsample up(nn::UpsampleOptions().scaleFactor({2.0}));
    Tensor want = Tensor::zeros({2, 8, 6, 8});
    reference::forEachIndex(want.shape(), [&](const Shape &i) {
      want.at(i) = x.at({i[0], i[1], i[2] / 2, i[3] / 2});
    });
    expectClose(runModule(up, x), want, "nearest upsample x2");
  }
  {
    // Channels last, Flatten takes PyTorch's (C, H, W) order.
    nn::Flatten first, last;
    last.setDataFormat(nn::DataFormat::ChannelsLast);
    Tensor nhwc = reference::transpose(x, {0, 2, 3, 1});
    expectClose(runModule(last, nhwc), runModule(first, x), "flatten channels last");
    EXPECT_EQ(runModule(first, x).shape(), (Shape{2, 96}));
  }
}

TEST(Nn, DropoutDropsInTrainingOnly) {
  nn::manualSeed(3);
  nn::Dropout drop(0.25);
  Tensor x = Tensor::zeros({64, 64});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.data()[i] = 1.f;
  auto compiled = nn::compile(drop, x.shape());
  ASSERT_TRUE(compiled.ok()) << compiled.message();
  Tensor a = *compiled->run(x), b = *compiled->run(x);
  int64_t zeros = 0, differ = 0;
  for (int64_t i = 0; i < x.numElements(); ++i) {
    EXPECT_TRUE(a.data()[i] == 0.f || std::abs(a.data()[i] - 1 / 0.75f) < 1e-6);
    zeros += a.data()[i] == 0.f;
    differ += a.data()[i] != b.data()[i];
  }
  EXPECT_NEAR(double(zeros) / x.numElements(), 0.25, 0.03);
  EXPECT_GT(differ, 0) << "each run draws a new mask";
  drop.eval();
  expectClose(runModule(drop, x), x, "dropout in eval mode");
  EXPECT_NE(nn::Dropout(1.5).status().message().find("[0, 1]"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Modules, names, init, state
//===----------------------------------------------------------------------===//

using resnet::BasicBlock;

TEST(Nn, NamesFollowPyTorch) {
  nn::Sequential net;
  net.push_back(nn::Conv2d(3, 8, 3));
  nn::Sequential layer1(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2));
  net.push_back("layer1", std::move(layer1));
  std::vector<std::string> names;
  for (const nn::NamedTensor &p : net.namedParameters())
    names.push_back(p.name);
  std::vector<std::string> want = {
      "0.weight", "0.bias",
      "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
      "layer1.0.conv2.weight", "layer1.0.bn2.weight", "layer1.0.bn2.bias",
      "layer1.1.conv1.weight", "layer1.1.bn1.weight", "layer1.1.bn1.bias",
      "layer1.1.conv2.weight", "layer1.1.bn2.weight", "layer1.1.bn2.bias",
      "layer1.1.downsample.0.weight", "layer1.1.downsample.1.weight",
      "layer1.1.downsample.1.bias"};
  EXPECT_EQ(names, want);
  std::vector<std::string> buffers;
  for (const nn::NamedTensor &b : net.namedBuffers())
    buffers.push_back(b.name);
  EXPECT_EQ(buffers.front(), "layer1.0.bn1.running_mean");
  EXPECT_EQ(buffers.size(), 15u);
  EXPECT_EQ(net.numParameters(), 8 * 27 + 8 + 2 * (8 * 72 + 16) + (16 * 72 + 16 * 144 + 64) +
                                     (16 * 8 + 32));
  EXPECT_FALSE(net.tensor("layer1.1.downsample.1.running_var").empty());
  net.eval();
  EXPECT_FALSE(net.namedModules().back().second->isTraining());

  // The graph's inputs are the dotted names.
  auto graph = nn::buildGraph(net, {1, 3, 8, 8});
  ASSERT_TRUE(graph.ok()) << graph.message();
  EXPECT_TRUE(graph->findInput("layer1.1.downsample.0.weight").valid());
  EXPECT_TRUE(graph->findInput("layer1.0.bn2.running_mean").valid());

  // A module used twice has its parameters once.
  auto shared = std::make_shared<nn::Linear>(4, 4);
  nn::Sequential twice(shared, std::make_shared<nn::ReLU>(), shared);
  EXPECT_EQ(twice.namedParameters().size(), 2u);
  auto twiceGraph = nn::buildGraph(twice, {2, 4});
  EXPECT_TRUE(twiceGraph.ok()) << twiceGraph.message();
}

TEST(Nn, InitFollowsPyTorchsBounds) {
  nn::manualSeed(7);
  nn::Conv2d conv(16, 32, 3);
  double bound = 1.0 / std::sqrt(16.0 * 9.0);
  Tensor w = conv.weight();
  double sum = 0, sq = 0, peak = 0;
  for (int64_t i = 0; i < w.numElements(); ++i) {
    sum += w.data()[i];
    sq += double(w.data()[i]) * w.data()[i];
    peak = std::max(peak, double(std::abs(w.data()[i])));
  }
  int64_t n = w.numElements();
  EXPECT_LE(peak, bound);
  EXPECT_GT(peak, 0.95 * bound);
  EXPECT_NEAR(sum / n, 0.0, 0.1 * bound);
  EXPECT_NEAR(std::sqrt(sq / n), bound / std::sqrt(3.0), 0.05 * bound);
  for (int64_t i = 0; i < 32; ++i)
    EXPECT_LE(std::abs(conv.bias().data()[i]), bound);

  // ConvTranspose's fan-in is out_channels / groups * kernel (size(1)).
  nn::ConvTranspose2d deconv(nn::ConvTranspose2dOptions(4, 6, 2).groups(2));
  double deconvBound = 1.0 / std::sqrt(3.0 * 4.0);
  for (int64_t i = 0; i < deconv.weight().numElements(); ++i)
    EXPECT_LE(std::abs(deconv.weight().data()[i]), deconvBound);

  nn::BatchNorm2d bn(4);
  EXPECT_EQ(bn.tensor("weight").data()[3], 1.f);
  EXPECT_EQ(bn.tensor("bias").data()[3], 0.f);
  EXPECT_EQ(bn.tensor("running_var").data()[0], 1.f);

  // The same seed gives the same parameters.
  nn::manualSeed(42);
  nn::Linear a(10, 3);
  nn::manualSeed(42);
  nn::Linear b(10, 3);
  nn::Linear c(10, 3);
  EXPECT_TRUE(std::equal(a.weight().data(), a.weight().data() + 30, b.weight().data()));
  EXPECT_FALSE(std::equal(a.weight().data(), a.weight().data() + 30, c.weight().data()));

  Tensor big = Tensor::zeros({256, 128});
  ASSERT_TRUE(nn::init::kaimingNormal(big, 0.0, nn::init::FanMode::FanIn,
                                      nn::init::Nonlinearity::ReLU)
                  .ok());
  double s2 = 0;
  for (int64_t i = 0; i < big.numElements(); ++i)
    s2 += double(big.data()[i]) * big.data()[i];
  EXPECT_NEAR(std::sqrt(s2 / big.numElements()), std::sqrt(2.0 / 128), 0.02 * std::sqrt(2.0 / 128));
  ASSERT_TRUE(nn::init::xavierUniform(big).ok());
  double xavier = std::sqrt(6.0 / (128 + 256));
  for (int64_t i = 0; i < big.numElements(); ++i)
    ASSERT_LE(std::abs(big.data()[i]), xavier);
  Tensor vector = Tensor::zeros({5});
  EXPECT_FALSE(nn::init::kaimingUniform(vector).ok());
  EXPECT_TRUE(nn::init::normal(vector, 1.0, 0.0).ok());
  EXPECT_EQ(vector.data()[4], 1.f);
}

TEST(Nn, SaveAndLoadRoundTrip) {
  std::string path = ::testing::TempDir() + "tessel-nn-state.npz";
  nn::manualSeed(1);
  nn::Sequential a(nn::Conv2d(2, 4, 3), nn::BatchNorm2d(4), nn::ReLU(), nn::Flatten(),
                   nn::Linear(4 * 4 * 4, 3));
  a.tensor("1.running_mean").data()[2] = 0.5f;
  ASSERT_TRUE(nn::save(a, path).ok());
  nn::manualSeed(2);
  nn::Sequential b(nn::Conv2d(2, 4, 3), nn::BatchNorm2d(4), nn::ReLU(), nn::Flatten(),
                   nn::Linear(4 * 4 * 4, 3));
  Status loaded = nn::load(b, path);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  for (const nn::NamedTensor &entry : a.stateDict()) {
    Tensor other = b.tensor(entry.name);
    ASSERT_EQ(other.shape(), entry.value.shape()) << entry.name;
    EXPECT_TRUE(std::equal(other.data(), other.data() + other.numElements(), entry.value.data()))
        << entry.name;
  }
  a.eval();
  b.eval();
  std::mt19937 rng(19);
  Tensor x = reference::randomTensor({2, 2, 6, 6}, rng);
  expectClose(runModule(b, x), runModule(a, x), "loaded module");

  // A module of other shapes: an error naming the differences, nothing loaded.
  nn::Sequential c(nn::Conv2d(2, 5, 3), nn::BatchNorm2d(5), nn::ReLU(), nn::Flatten(),
                   nn::Linear(5 * 4 * 4, 3), nn::Linear(3, 2));
  float before = c.tensor("0.weight").data()[0];
  Status mismatch = nn::load(c, path);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.message().find("missing '5.weight'"), std::string::npos)
      << mismatch.message();
  EXPECT_NE(mismatch.message().find("shape mismatch '0.weight' (file [4, 2, 3, 3], module "
                                    "[5, 2, 3, 3])"),
            std::string::npos)
      << mismatch.message();
  EXPECT_NE(mismatch.message().find("nothing was loaded"), std::string::npos);
  EXPECT_EQ(c.tensor("0.weight").data()[0], before);

  // Not a zip, a missing file, an unwritable path.
  std::string junk = ::testing::TempDir() + "tessel-nn-junk.npz";
  std::ofstream(junk) << "not a zip archive";
  EXPECT_NE(nn::load(b, junk).message().find("cannot read"), std::string::npos);
  EXPECT_FALSE(nn::load(b, junk + ".missing").ok());
  EXPECT_FALSE(nn::save(a, "/nonexistent-dir/x.npz").ok());
  std::remove(path.c_str());
  std::remove(junk.c_str());
}

//===----------------------------------------------------------------------===//
// Errors and summary
//===----------------------------------------------------------------------===//

TEST(Nn, ErrorsNameTheModuleAndTheRule) {
  nn::Sequential wrongChannels(nn::Conv2d(3, 8, 3), nn::ReLU(), nn::Conv2d(4, 8, 3));
  std::string e = buildError(wrongChannels, {1, 3, 8, 8});
  EXPECT_NE(e.find("expects 4 input channels (in_channels), got 8"), std::string::npos) << e;
  EXPECT_NE(e.find("[in Conv2d '2']"), std::string::npos) << e;

  nn::Sequential badGroups(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).groups(2)));
  e = buildError(badGroups, {1, 3, 8, 8});
  EXPECT_NE(e.find("Conv2d '0': in_channels (3) and out_channels (8) must be divisible by "
                   "groups (2)"),
            std::string::npos)
      << e;

  nn::Sequential tooBig(nn::Conv2d(3, 4, 5));
  e = buildError(tooBig, {1, 3, 3, 3});
  EXPECT_NE(e.find("[in Conv2d '0']"), std::string::npos) << e;

  nn::Sequential wrongFeatures(nn::Flatten(), nn::Linear(10, 2));
  e = buildError(wrongFeatures, {2, 3, 3});
  EXPECT_NE(e.find("in_features = 10"), std::string::npos) << e;
  EXPECT_NE(e.find("Linear '1'"), std::string::npos) << e;

  nn::BatchNorm2d bn(3);
  e = buildError(bn, {1, 3, 1, 1});
  EXPECT_NE(e.find("more than 1 value per channel"), std::string::npos) << e;

  nn::Conv2d badPadding(nn::Conv2dOptions(3, 4, 3).padding("full"));
  EXPECT_NE(badPadding.status().message().find("'full'"), std::string::npos);
  nn::Conv2d stridedSame(nn::Conv2dOptions(3, 4, 3).padding("same").stride(2));
  EXPECT_NE(stridedSame.status().message().find("strided"), std::string::npos);
  nn::MaxPool2d badPool(nn::MaxPool2dOptions(2).padding(2));
  EXPECT_NE(badPool.status().message().find("at most half"), std::string::npos);
  nn::Conv2d wrongKernel(3, 4, nn::Sizes{3, 3, 3});
  EXPECT_NE(wrongKernel.status().message().find("kernel_size must be 2 positive sizes"),
            std::string::npos);
  nn::Linear absurd(int64_t(1) << 40, int64_t(1) << 40);
  EXPECT_FALSE(absurd.status().ok());
  nn::Sequential wrongRank(nn::MaxPool2d(2));
  e = buildError(wrongRank, {2, 3, 8});
  EXPECT_NE(e.find("expects a 4-D input"), std::string::npos) << e;
}

TEST(Nn, ExportedMlirCompilesToTheSameForward) {
  std::mt19937 rng(28);
  nn::manualSeed(28);
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(2, 4, 3).padding(1)), nn::BatchNorm2d(4),
                     nn::ReLU(), nn::Dropout(0.5), nn::AdaptiveAvgPool2d(1), nn::Flatten(),
                     nn::Linear(4, 3));
  net.tensor("1.running_var").data()[1] = 2.f;
  std::string path = ::testing::TempDir() + "tessel-nn-export.mlir";
  ASSERT_TRUE(nn::exportMlir(net, {2, 2, 6, 6}, path, "cnn").ok());
  EXPECT_TRUE(net.isTraining()) << "export leaves the module's mode alone";
  auto exe = compileFile(path);
  ASSERT_TRUE(exe.ok()) << exe.message();
  ASSERT_EQ(exe->inputs().size(), 1u) << "the parameters are constants";
  Tensor x = reference::randomTensor({2, 2, 6, 6}, rng);
  auto exported = exe->run({x});
  ASSERT_TRUE(exported.ok()) << exported.message();
  net.eval();
  expectClose((*exported)[0], runModule(net, x), "exported .mlir");
  EXPECT_FALSE(nn::exportMlir(net, {2, 2, 6, 6}, "/nonexistent-dir/x.mlir").ok());
  std::remove(path.c_str());
}

TEST(Nn, SummaryListsLayersShapesParametersAndFlops) {
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).padding(1)), nn::BatchNorm2d(8),
                     nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(8 * 8 * 8, 10));
  auto table = nn::summary(net, {1, 3, 16, 16});
  ASSERT_TRUE(table.ok()) << table.message();
  const std::string &t = *table;
  EXPECT_NE(t.find("Conv2d 0"), std::string::npos) << t;
  EXPECT_NE(t.find("[1, 8, 16, 16]"), std::string::npos) << t;
  EXPECT_NE(t.find("[1, 512]"), std::string::npos) << t;
  // conv: 2 * (8 * 16 * 16) * 3 * 9 = 110592; linear: 2 * 10 * 512 = 10240.
  EXPECT_NE(t.find("110.59 KFLOP"), std::string::npos) << t;
  EXPECT_NE(t.find("120.83 KFLOP"), std::string::npos) << t;
  int64_t params = 8 * 27 + 8 + 16 + 512 * 10 + 10;
  EXPECT_EQ(net.numParameters(), params);
  EXPECT_NE(t.find("Total params: 5,370"), std::string::npos) << t;
  nn::Sequential bad(nn::Linear(3, 2));
  EXPECT_FALSE(nn::summary(bad, {1, 4}).ok());
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

TEST(Nn, GradientOfAModuleMatchesFiniteDifferences) {
  std::mt19937 rng(20);
  nn::manualSeed(5);
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(2, 3, 3).padding(1)), nn::BatchNorm2d(3),
                     nn::Tanh(), nn::AvgPool2d(2), nn::Flatten(), nn::Linear(12, 2));
  // loss = sum(net(x)^2), in training mode (batch statistics).
  Graph g("loss");
  Value x = g.input("input", {2, 2, 4, 4});
  Value y = net(g, x);
  Value loss = g.sum(g.mul(y, y), std::nullopt);
  g.output("loss", loss);
  std::vector<std::string> wrt = {"0.weight", "1.bias", "5.weight"};
  std::vector<Value> handles;
  for (const std::string &name : wrt)
    handles.push_back(g.findInput(name));
  auto withGradients = gradient(g, loss, handles);
  ASSERT_TRUE(withGradients.ok()) << withGradients.message();
  auto forward = compile(g);
  auto backward = compile(*withGradients);
  ASSERT_TRUE(forward.ok() && backward.ok());
  std::map<std::string, Tensor> inputs{{"input", reference::randomTensor({2, 2, 4, 4}, rng)}};
  for (const nn::NamedTensor &entry : net.stateDict())
    if (g.findInput(entry.name).valid())
      inputs.emplace(entry.name, entry.value);
  auto grads = backward->run(inputs);
  ASSERT_TRUE(grads.ok()) << grads.message();
  auto lossAt = [&]() { return double((*forward->run(inputs)).at("loss").data()[0]); };
  for (const std::string &name : wrt) {
    Tensor p = net.tensor(name), grad = grads->at("grad_" + name);
    for (int64_t i = 0; i < p.numElements(); i += 3) {
      float saved = p.data()[i];
      double eps = 1e-2;
      p.data()[i] = saved + float(eps);
      double up = lossAt();
      p.data()[i] = saved - float(eps);
      double down = lossAt();
      p.data()[i] = saved;
      double fd = (up - down) / (2 * eps);
      EXPECT_NEAR(grad.data()[i], fd, 2e-3 + 2e-2 * std::abs(fd)) << name << "[" << i << "]";
    }
  }
}

/// d sum(module(x) * r) / d(x and every parameter), compiled, against
/// central differences of the compiled forward pass in float32.
void checkLayerGradients(nn::Module &module, const Shape &inputShape, std::mt19937 &rng,
                         float lo = -1.f, float hi = 1.f) {
  SCOPED_TRACE(module.typeName());
  Graph g("layer");
  Value x = g.input("input", inputShape);
  Value y = module(g, x);
  ASSERT_TRUE(g.status().ok()) << g.status().message();
  Tensor r = reference::randomTensor(g.shape(y), rng);
  Value loss = g.sum(g.mul(y, g.constant(r)), std::nullopt);
  g.output("loss", loss);
  std::vector<std::string> names{"input"};
  for (const nn::NamedTensor &p : module.namedParameters())
    names.push_back(p.name);
  std::vector<Value> wrt;
  for (const std::string &name : names)
    wrt.push_back(g.findInput(name));
  auto withGradients = gradient(g, loss, wrt);
  ASSERT_TRUE(withGradients.ok()) << withGradients.message();
  auto forward = compile(g), backward = compile(*withGradients);
  ASSERT_TRUE(forward.ok()) << forward.message();
  ASSERT_TRUE(backward.ok()) << backward.message();
  std::map<std::string, Tensor> inputs{{"input", reference::randomTensor(inputShape, rng, lo, hi)}};
  for (const nn::NamedTensor &entry : module.stateDict())
    if (g.findInput(entry.name).valid())
      inputs.emplace(entry.name, entry.value);
  auto grads = backward->run(inputs);
  ASSERT_TRUE(grads.ok()) << grads.message();
  for (const std::string &name : names) {
    Tensor p = inputs.at(name), grad = grads->at("grad_" + name);
    int64_t stride = std::max<int64_t>(1, p.numElements() / 24);
    for (int64_t i = 0; i < p.numElements(); i += stride) {
      float saved = p.data()[i];
      const float eps = 1e-2f;
      p.data()[i] = saved + eps;
      double up = forward->run(inputs)->at("loss").data()[0];
      p.data()[i] = saved - eps;
      double down = forward->run(inputs)->at("loss").data()[0];
      p.data()[i] = saved;
      double fd = (up - down) / (2.0 * eps);
      EXPECT_NEAR(grad.data()[i], fd, 5e-3 + 2e-2 * std::abs(fd)) << name << "[" << i << "]";
    }
  }
}

TEST(Nn, EveryLayersGradientMatchesFiniteDifferences) {
  std::mt19937 rng(27);
  nn::manualSeed(27);
  // Smooth layers, and piecewise ones on inputs away from their kinks.
  nn::Conv2d reflect(nn::Conv2dOptions(4, 4, 3).padding(1).groups(2).paddingMode(
      nn::PaddingMode::Reflect));
  checkLayerGradients(reflect, {2, 4, 5, 5}, rng);
  nn::Conv1d strided(nn::Conv1dOptions(2, 3, 3).stride(2).padding("valid"));
  checkLayerGradients(strided, {2, 2, 9}, rng);
  nn::Conv3d conv3(nn::Conv3dOptions(2, 2, 2).padding(1));
  checkLayerGradients(conv3, {1, 2, 3, 3, 3}, rng);
  nn::ConvTranspose2d deconv(nn::ConvTranspose2dOptions(3, 2, 3).stride(2).padding(1).outputPadding(1));
  checkLayerGradients(deconv, {1, 3, 4, 4}, rng);
  nn::AvgPool2d avg(nn::AvgPool2dOptions(3).stride(2).padding(1));
  checkLayerGradients(avg, {1, 2, 6, 6}, rng);
  nn::LPPool2d lp(2.0, 2);
  checkLayerGradients(lp, {1, 2, 4, 4}, rng, 0.5f, 1.5f);
  nn::AdaptiveAvgPool2d adaptive(nn::Sizes{2, 3});
  checkLayerGradients(adaptive, {1, 2, 5, 7}, rng);
  nn::BatchNorm2d bn(3);
  checkLayerGradients(bn, {3, 3, 2, 2}, rng);
  nn::Linear linear(6, 4);
  checkLayerGradients(linear, {3, 6}, rng);
  nn::Sequential act(nn::Linear(5, 5), nn::SiLU(), nn::Linear(5, 5), nn::GELU(), nn::Tanh(),
                     nn::Sigmoid(), nn::Hardswish());
  checkLayerGradients(act, {2, 5}, rng);
  nn::Upsample bilinear(
      nn::UpsampleOptions().size({5, 7}).mode(nn::UpsampleOptions::Mode::Bilinear).alignCorners(
          true));
  checkLayerGradients(bilinear, {1, 2, 3, 4}, rng);
  nn::Sequential shapes(nn::ReflectionPad2d(1), nn::PixelShuffle(2), nn::Flatten(),
                        nn::Linear(2 * 8 * 8, 3));
  checkLayerGradients(shapes, {1, 8, 2, 2}, rng);
  nn::Sequential last(nn::Conv2d(nn::Conv2dOptions(3, 4, 3)), nn::Flatten(), nn::Linear(16, 2));
  last.setDataFormat(nn::DataFormat::ChannelsLast);
  checkLayerGradients(last, {1, 4, 4, 3}, rng);
  // Max pooling on distinct values (no ties within a window).
  nn::MaxPool2d max(nn::MaxPool2dOptions(2).stride(1));
  checkLayerGradients(max, {1, 2, 4, 4}, rng);
}

} // namespace
