//===- JitTest.cpp - Graphs through the JIT against naive references ------===//
//
// Each test builds a graph with the C++ API, compiles it with the CPU
// pipeline, runs it on seeded random inputs and compares every output with
// the naive loops of Reference.h. Sweeps vary layouts, ranks, strides,
// asymmetric padding, dilation, groups, batch and thread count.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include "tessel/Compiler.h"
#include "tessel/Graph.h"

#include "gtest/gtest.h"
#include "llvm/ADT/STLExtras.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace tessel;
using reference::Shape;

namespace {

/// Compiles `graph` and runs it on `inputs`; fails the test on any error.
std::vector<Tensor> compileAndRun(const Graph &graph, const std::vector<Tensor> &inputs,
                                  unsigned threads, Winograd winograd = Winograd::Auto) {
  EXPECT_TRUE(graph.status().ok()) << graph.status().message();
  CompileOptions options;
  options.threads = threads;
  options.winograd = winograd;
  // The tests' small layers are split across the threads too: the parallel
  // code is what they test.
  options.minParallelIterations = 0;
  Result<Executable> exe = compile(graph, options);
  EXPECT_TRUE(exe.ok()) << exe.message() << "\n" << graph.toMlir();
  if (!exe)
    return {};
  std::vector<Tensor> before;
  for (const Tensor &t : inputs)
    before.push_back(t.clone());
  Result<std::vector<Tensor>> out = exe->run(inputs);
  EXPECT_TRUE(out.ok()) << out.message();
  // Compiled code reads its inputs and never writes them.
  for (auto [i, t] : llvm::enumerate(inputs))
    EXPECT_EQ(std::memcmp(t.data(), before[i].data(), t.numElements() * sizeof(float)), 0)
        << "input " << i << " was written by the compiled graph";
  return out ? *out : std::vector<Tensor>{};
}

void expectClose(const Tensor &got, const Tensor &want, const std::string &what,
                 double atol = 1e-4, double rtol = 1e-4) {
  double ratio = reference::toleranceRatio(got, want, atol, rtol);
  EXPECT_LE(ratio, 1.0) << what << ": worst error is " << ratio
                        << "x the tolerance (shape " << got.shapeString() << ")";
}

Layout layoutFor(int spatialRank, bool channelsLast) {
  static const Layout first[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW};
  static const Layout last[] = {Layout::NWC, Layout::NHWC, Layout::NDHWC};
  return (channelsLast ? last : first)[spatialRank - 1];
}

FilterLayout filterLayoutFor(int spatialRank, bool spatialFirst) {
  static const FilterLayout oi[] = {FilterLayout::OIW, FilterLayout::OIHW,
                                    FilterLayout::OIDHW};
  static const FilterLayout io[] = {FilterLayout::WIO, FilterLayout::HWIO,
                                    FilterLayout::DHWIO};
  return (spatialFirst ? io : oi)[spatialRank - 1];
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

TEST(Jit, ConvRandomSweep) {
  std::mt19937 rng(2024);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int ran = 0;
  for (int iter = 0; iter < 28; ++iter) {
    int sr = iter < 12 ? 2 : pick(1, 3);
    bool channelsLast = pick(0, 1);
    bool spatialFirst = iter % 4 < 2 ? channelsLast : !channelsLast;
    Layout layout = layoutFor(sr, channelsLast);
    int kindOfGroups = pick(0, 2); // 0: dense, 1: grouped, 2: depthwise
    int64_t groups = kindOfGroups == 0 ? 1 : pick(2, 3);
    int64_t cinG = kindOfGroups == 2 ? 1 : pick(1, 3);
    int64_t coutG = kindOfGroups == 2 ? 1 : pick(1, 3);
    int64_t cin = groups * cinG, cout = groups * coutG, batch = pick(1, 2);
    reference::ConvSpec spec{layout, spatialFirst, {}, {}, {}, {}, groups};
    Shape inSp, kernel, outSp;
    for (int d = 0; d < sr; ++d) {
      kernel.push_back(pick(1, 3));
      spec.strides.push_back(pick(1, 2));
      spec.dilations.push_back(pick(1, 2));
      spec.padLow.push_back(pick(0, 2));
      spec.padHigh.push_back(pick(0, 2));
      int64_t extent = spec.dilations[d] * (kernel[d] - 1) + 1;
      inSp.push_back(std::max<int64_t>(pick(2, sr == 3 ? 5 : 8), extent));
      outSp.push_back((inSp[d] + spec.padLow[d] + spec.padHigh[d] - extent) /
                          spec.strides[d] + 1);
    }
    Shape filterShape;
    if (spatialFirst) {
      filterShape = kernel;
      filterShape.push_back(cinG);
      filterShape.push_back(cout);
    } else {
      filterShape = {cout, cinG};
      filterShape.insert(filterShape.end(), kernel.begin(), kernel.end());
    }
    bool withBias = pick(0, 1);
    Tensor x = reference::randomTensor(reference::activationShape(layout, batch, cin, inSp), rng);
    Tensor w = reference::randomTensor(filterShape, rng);
    Tensor b = reference::randomTensor({cout}, rng);

    Graph graph("conv");
    Value xv = graph.input("x", x.shape());
    Value wv = graph.input("w", w.shape());
    ConvOptions options;
    options.layout = layout;
    options.filterLayout = filterLayoutFor(sr, spatialFirst);
    options.strides = spec.strides;
    options.dilations = spec.dilations;
    options.padding = spec.padLow;
    options.padding.insert(options.padding.end(), spec.padHigh.begin(), spec.padHigh.end());
    options.groups = groups;
    std::vector<Tensor> inputs{x, w};
    std::optional<Value> bias;
    if (withBias) {
      bias = graph.input("b", b.shape());
      inputs.push_back(b);
    }
    Value y = graph.conv(xv, wv, options, bias);
    graph.output("y", y);
    Shape expectedShape = reference::activationShape(layout, batch, cout, outSp);
    ASSERT_EQ(graph.shape(y), expectedShape) << "iteration " << iter;
    std::vector<Tensor> out = compileAndRun(graph, inputs, 1 + iter % 2);
    ASSERT_EQ(out.size(), 1u) << "iteration " << iter;
    expectClose(out[0], reference::conv(x, w, withBias ? &b : nullptr, spec, expectedShape),
                "conv iteration " + std::to_string(iter));
    ++ran;
  }
  EXPECT_EQ(ran, 28);
}

/// Constant filters wider than their register tiles' output channels are
/// packed at compile time into blocks of the tile's width (tessel-vectorize):
/// 1x1 and 3x3, 1-D, strided and padded, NCHW (an OIHW filter laid out
/// first) and channels-last, filters large enough to be cut into reduction
/// blocks (whole kernel rows, or 64 output channels of one row), one filter
/// read by two convolutions, on 1 and 2 threads, against the naive
/// reference.
TEST(Jit, PackedConstantFilters) {
  std::mt19937 rng(717);
  struct Case {
    int64_t batch, channels, outChannels;
    Shape kernel, spatial, strides, padding;
    bool channelsLast;
  };
  const Case cases[] = {
      {1, 64, 96, {1, 1}, {7, 9}, {1, 1}, {0, 0}, true},     // 1x1, tiles of 32
      {2, 24, 48, {3, 3}, {9, 11}, {2, 2}, {1, 1}, false},   // OIHW, stride 2, tiles of 16
      {1, 640, 256, {1, 1}, {4, 4}, {1, 1}, {0, 0}, true},   // 655 KB: blocks of 64 channels
      {2, 128, 160, {3, 3}, {5, 6}, {1, 1}, {1, 1}, true},   // 737 KB: blocks of kernel rows
      {1, 16, 48, {3}, {13}, {1}, {1}, true},                // 1-D
      {1, 32, 80, {1}, {10}, {2}, {0}, false},               // 1-D, NCW, stride 2
  };
  for (const Case &c : cases) {
    int sr = int(c.kernel.size());
    Layout layout = sr == 1 ? (c.channelsLast ? Layout::NWC : Layout::NCW)
                            : (c.channelsLast ? Layout::NHWC : Layout::NCHW);
    Shape outSp;
    for (int d = 0; d < sr; ++d)
      outSp.push_back((c.spatial[d] + 2 * c.padding[d] - c.kernel[d]) / c.strides[d] + 1);
    Shape filterShape = c.kernel;
    filterShape.push_back(c.channels);
    filterShape.push_back(c.outChannels);
    if (!c.channelsLast) {
      filterShape = {c.outChannels, c.channels};
      filterShape.insert(filterShape.end(), c.kernel.begin(), c.kernel.end());
    }
    Tensor x = reference::randomTensor(
        reference::activationShape(layout, c.batch, c.channels, c.spatial), rng);
    Tensor w = reference::randomTensor(filterShape, rng);
    Tensor b = reference::randomTensor({c.outChannels}, rng);
    reference::ConvSpec spec{layout, c.channelsLast, c.strides, Shape(sr, 1),
                             c.padding,  c.padding,      1};
    Shape outShape = reference::activationShape(layout, c.batch, c.outChannels, outSp);
    Tensor want = reference::conv(x, w, &b, spec, outShape);
    Tensor wantRelu = reference::mapUnary(want, [](double v) { return std::max(v, 0.0); });

    ConvOptions o;
    o.layout = layout;
    o.filterLayout = filterLayoutFor(sr, c.channelsLast);
    o.strides = c.strides;
    o.padding = c.padding;
    o.padding.insert(o.padding.end(), c.padding.begin(), c.padding.end());
    for (unsigned threads : {1u, 2u}) {
      Graph graph("packed");
      Value xv = graph.input("x", x.shape());
      Value wv = graph.constant(w);
      graph.output("y", graph.conv(xv, wv, o, graph.constant(b)));
      graph.output("relu", graph.relu(graph.conv(xv, wv, o, graph.constant(b))));
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads, Winograd::Off);
      ASSERT_EQ(out.size(), 2u);
      std::string what = std::to_string(c.channels) + "->" + std::to_string(c.outChannels) +
                         " kernel " + std::to_string(c.kernel[0]) + " rank " +
                         std::to_string(sr) + (c.channelsLast ? " channels-last" : " NC..") +
                         " on " + std::to_string(threads) + " threads";
      expectClose(out[0], want, what);
      expectClose(out[1], wantRelu, what + ", with a ReLU epilogue");
    }
  }
}

/// Depthwise convolutions and pools whose channels fill vector registers
/// (their register tiles take kernel rows whole and read a padded input in
/// place: clamped columns, the padding value selected in registers): 3x3,
/// 5x5 and 7x7 windows, windows too wide to hold a row in registers (16 and
/// 17 taps: a tap at a step), strides 1 to 3, dilation 2, asymmetric padding
/// wider than a tile's overhang, maps narrower than the window's reach,
/// max pools whose windows lie partly in the padding (-inf, not zero),
/// NHWC and NCHW, 1 and 2 threads, against the naive reference.
TEST(Jit, DepthwiseAndPoolTilesReadPaddingInPlace) {
  std::mt19937 rng(404);
  struct Case {
    int64_t channels, size, kernel, stride, dilation, padLow, padHigh;
    bool pool;
    PoolKind kind;
  };
  const Case cases[] = {
      {32, 12, 3, 1, 1, 1, 1, false, PoolKind::Max},
      {48, 9, 3, 2, 1, 1, 1, false, PoolKind::Max},
      {64, 11, 5, 1, 1, 2, 2, false, PoolKind::Max},
      {32, 10, 5, 2, 1, 2, 1, false, PoolKind::Max},
      {16, 8, 3, 1, 2, 2, 2, false, PoolKind::Max},
      {32, 7, 7, 1, 1, 3, 3, false, PoolKind::Max},
      {64, 4, 3, 1, 1, 1, 2, false, PoolKind::Max},
      {64, 13, 3, 2, 1, 1, 1, true, PoolKind::Max},
      {32, 8, 3, 1, 1, 1, 1, true, PoolKind::Max},
      {32, 9, 3, 2, 1, 1, 0, true, PoolKind::Avg},
      {16, 6, 2, 2, 1, 1, 1, true, PoolKind::Avg},
      {16, 20, 17, 1, 1, 8, 8, false, PoolKind::Max},
      {32, 18, 16, 2, 1, 1, 1, true, PoolKind::Max},
      {16, 20, 17, 3, 1, 0, 0, true, PoolKind::Avg},
  };
  int index = 0;
  for (const Case &c : cases) {
    for (bool channelsLast : {true, false}) {
      Layout layout = layoutFor(2, channelsLast);
      Shape inSp{c.size, c.size + 1};
      Tensor x = reference::randomTensor(reference::activationShape(layout, 2, c.channels, inSp), rng);
      // Inputs of one sign make a max pool's -inf padding differ from zero.
      if (c.pool && index % 2)
        for (int64_t i = 0; i < x.numElements(); ++i)
          x.data()[i] = -std::fabs(x.data()[i]) - 0.5f;
      Graph graph("window");
      Value xv = graph.input("x", x.shape());
      std::vector<Tensor> inputs{x};
      Tensor expected;
      Value y;
      std::vector<int64_t> padding{c.padLow, c.padLow, c.padHigh, c.padHigh};
      if (c.pool) {
        PoolOptions o;
        o.layout = layout;
        o.kernel = {c.kernel, c.kernel};
        o.strides = {c.stride, c.stride};
        o.dilations = {c.dilation, c.dilation};
        o.padding = padding;
        y = graph.pool(c.kind, xv, o);
      } else {
        ConvOptions o;
        o.layout = layout;
        o.filterLayout = filterLayoutFor(2, channelsLast);
        o.strides = {c.stride, c.stride};
        o.dilations = {c.dilation, c.dilation};
        o.padding = padding;
        o.groups = c.channels;
        Shape filterShape = channelsLast ? Shape{c.kernel, c.kernel, 1, c.channels}
                                         : Shape{c.channels, 1, c.kernel, c.kernel};
        Tensor w = reference::randomTensor(filterShape, rng);
        inputs.push_back(w);
        y = graph.conv(xv, graph.constant(w), o);
      }
      graph.output("y", y);
      ASSERT_TRUE(graph.status().ok()) << graph.status().message();
      Shape outShape = graph.shape(y);
      if (c.pool) {
        reference::PoolSpec spec{c.kind, layout, {c.kernel, c.kernel}, {c.stride, c.stride},
                                 {c.dilation, c.dilation}, {c.padLow, c.padLow},
                                 {c.padHigh, c.padHigh}, false, 2.0};
        expected = reference::pool(x, spec, outShape);
      } else {
        reference::ConvSpec spec{layout, channelsLast, {c.stride, c.stride},
                                 {c.dilation, c.dilation}, {c.padLow, c.padLow},
                                 {c.padHigh, c.padHigh}, c.channels};
        expected = reference::conv(x, inputs[1], nullptr, spec, outShape);
      }
      for (unsigned threads : {1u, 2u}) {
        std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
        ASSERT_EQ(out.size(), 1u);
        expectClose(out[0], expected,
                    "case " + std::to_string(index) + (channelsLast ? " NHWC" : " NCHW") +
                        ", threads " + std::to_string(threads));
      }
    }
    ++index;
  }
}

/// 3x3 stride-1 convolutions by Winograd's algorithm (tessel-winograd):
/// F(4x4, 3x3) and F(2x2, 3x3), tiles overhanging odd sides, filters that
/// are constants (transformed at compile time) or inputs (on every run),
/// with a bias, a ReLU and a residual add (of a branch computed after the
/// convolution), NCHW and NHWC, 1 and 2 threads, against the
/// double-precision reference within 1e-4 of the output's scale (its
/// largest magnitude). Where the algorithm applies its rounding differs
/// from the direct algorithm's, so the output differs from
/// Winograd::Off's in some bit; where it does not (channels that do not
/// fill a vector, strides) the output is Off's exactly.
TEST(Jit, WinogradConvMatchesReference) {
  std::mt19937 rng(33);
  struct Case {
    int64_t batch, channels, outChannels, height, width;
    Shape padLow, padHigh, strides;
    bool channelsLast, epilogue;
    unsigned threads;
    bool applies;
    bool filterInput = false; // transformed on every run, not at compile time
  };
  const Case cases[] = {
      {1, 16, 16, 8, 8, {1, 1}, {1, 1}, {1, 1}, true, false, 1, true},     // small: F(2,3) is cheaper
      {2, 16, 32, 8, 12, {1, 1}, {1, 1}, {1, 1}, true, true, 2, true, true},  // filter input
      {1, 32, 16, 7, 9, {1, 1}, {1, 1}, {1, 1}, false, false, 1, true, true}, // OIHW input
      {2, 32, 48, 12, 8, {1, 1}, {1, 1}, {1, 1}, false, true, 2, true},    // F(4,3), NCHW
      {1, 64, 32, 6, 10, {1, 1}, {1, 1}, {1, 1}, true, true, 2, true},     // F(2,3)
      {1, 16, 32, 14, 14, {1, 1}, {1, 1}, {1, 1}, false, false, 1, true},  // 14x14
      {3, 16, 16, 10, 11, {0, 1}, {0, 0}, {1, 1}, true, true, 2, true},    // unpadded rows
      {1, 12, 16, 8, 8, {1, 1}, {1, 1}, {1, 1}, true, false, 1, false},    // C not a vector
      {1, 16, 16, 7, 7, {1, 1}, {1, 1}, {1, 1}, true, true, 2, true},      // odd: overhang
      {2, 16, 32, 9, 10, {0, 0}, {0, 0}, {1, 1}, false, false, 1, true},   // unpadded, 7x8
      {1, 16, 16, 16, 16, {1, 1}, {1, 1}, {2, 2}, false, false, 1, false}, // stride 2
  };
  for (const Case &c : cases) {
    std::string what = std::to_string(c.batch) + "x" + std::to_string(c.channels) + "->" +
                       std::to_string(c.outChannels) + " @" + std::to_string(c.height) + "x" +
                       std::to_string(c.width) + (c.channelsLast ? " NHWC" : " NCHW") +
                       " threads " + std::to_string(c.threads);
    Layout layout = c.channelsLast ? Layout::NHWC : Layout::NCHW;
    reference::ConvSpec spec{layout, c.channelsLast, c.strides, {1, 1}, c.padLow, c.padHigh, 1};
    Shape inSp{c.height, c.width}, outSp;
    for (int d = 0; d < 2; ++d)
      outSp.push_back((inSp[d] + c.padLow[d] + c.padHigh[d] - 3) / c.strides[d] + 1);
    Tensor x = reference::randomTensor(
        reference::activationShape(layout, c.batch, c.channels, inSp), rng);
    Tensor w = reference::randomTensor(c.channelsLast ? Shape{3, 3, c.channels, c.outChannels}
                                                      : Shape{c.outChannels, c.channels, 3, 3},
                                       rng);
    Tensor b = reference::randomTensor({c.outChannels}, rng);
    Shape outShape = reference::activationShape(layout, c.batch, c.outChannels, outSp);
    Tensor residual = reference::randomTensor(outShape, rng);

    Graph graph("winograd");
    ConvOptions o;
    o.layout = layout;
    o.filterLayout = filterLayoutFor(2, c.channelsLast);
    o.strides = c.strides;
    o.padding = {c.padLow[0], c.padLow[1], c.padHigh[0], c.padHigh[1]};
    Value xv = graph.input("x", x.shape());
    Value wv = c.filterInput ? graph.input("w", w.shape()) : graph.constant(w);
    Value y = graph.conv(xv, wv, o, graph.constant(b));
    std::vector<Tensor> inputs{x};
    if (c.filterInput)
      inputs.push_back(w);
    if (c.epilogue) {
      // The residual is a 1x1 convolution (by 2 I) built after this one, as
      // a ResNet's downsample branch: the fused epilogue must wait for it.
      Tensor twice = Tensor::zeros(c.channelsLast ? Shape{1, 1, c.outChannels, c.outChannels}
                                                  : Shape{c.outChannels, c.outChannels, 1, 1});
      for (int64_t k = 0; k < c.outChannels; ++k)
        twice.data()[k * c.outChannels + k] = 2;
      ConvOptions pointwise;
      pointwise.layout = layout;
      pointwise.filterLayout = o.filterLayout;
      Value branch =
          graph.conv(graph.input("residual", residual.shape()), graph.constant(twice), pointwise);
      y = graph.add(graph.relu(y), branch);
      inputs.push_back(residual);
    }
    graph.output("y", y);
    ASSERT_EQ(graph.shape(y), outShape) << what << ": " << graph.status().message();
    std::vector<Tensor> on = compileAndRun(graph, inputs, c.threads, Winograd::On);
    std::vector<Tensor> off = compileAndRun(graph, inputs, c.threads, Winograd::Off);
    ASSERT_EQ(on.size(), 1u) << what;
    ASSERT_EQ(off.size(), 1u) << what;

    Tensor want = reference::conv(x, w, &b, spec, outShape);
    if (c.epilogue)
      for (int64_t i = 0; i < want.numElements(); ++i)
        want.data()[i] = std::max(want.data()[i], 0.f) + 2 * residual.data()[i];
    double scale = 0;
    for (int64_t i = 0; i < want.numElements(); ++i)
      scale = std::max(scale, double(std::abs(want.data()[i])));
    expectClose(on[0], want, "Winograd " + what, 1e-4 * scale, 0);
    expectClose(off[0], want, "direct " + what, 1e-4 * scale, 0);
    bool same = std::memcmp(on[0].data(), off[0].data(), want.numElements() * sizeof(float)) == 0;
    EXPECT_EQ(same, !c.applies) << what << (c.applies ? ": Winograd did not apply"
                                                      : ": Winograd applied where it must not");
  }
}

/// Two Winograd convolutions of one input that start from the same bias
/// broadcast (CSE makes it one tensor): each output transform reads the
/// bias from it and writes its output over it. Outlined into one kernel,
/// the tensor is both an input and the destination of each call, and the
/// caller must copy it for each (it once compiled to an error: the
/// kernel copied internally and returned a buffer of its own).
TEST(Jit, WinogradConvsSharingABias) {
  std::mt19937 rng(35);
  for (unsigned threads : {1u, 2u}) {
    std::string what = "threads " + std::to_string(threads);
    reference::ConvSpec spec{Layout::NHWC, true, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
    Tensor x = reference::randomTensor({1, 12, 12, 32}, rng);
    Tensor w1 = reference::randomTensor({3, 3, 32, 64}, rng);
    Tensor w2 = reference::randomTensor({3, 3, 32, 64}, rng);
    Tensor b = reference::randomTensor({64}, rng);
    Graph graph("shared_bias");
    ConvOptions o;
    o.layout = Layout::NHWC;
    o.filterLayout = filterLayoutFor(2, true);
    o.padding = {1, 1, 1, 1};
    Value xv = graph.input("x", x.shape());
    Value bv = graph.input("b", b.shape());
    graph.output("y1", graph.conv(xv, graph.constant(w1), o, bv));
    graph.output("y2", graph.conv(xv, graph.constant(w2), o, bv));
    std::vector<Tensor> out = compileAndRun(graph, {x, b}, threads, Winograd::On);
    ASSERT_EQ(out.size(), 2u) << what;
    for (int i = 0; i < 2; ++i) {
      Tensor want = reference::conv(x, i == 0 ? w1 : w2, &b, spec, {1, 12, 12, 64});
      double scale = 0;
      for (int64_t e = 0; e < want.numElements(); ++e)
        scale = std::max(scale, double(std::abs(want.data()[e])));
      expectClose(out[i], want, "y" + std::to_string(i + 1) + " " + what, 1e-4 * scale, 0);
    }
  }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(Jit, PoolRandomSweep) {
  std::mt19937 rng(77);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int iter = 0; iter < 24; ++iter) {
    int sr = iter < 12 ? 2 : pick(1, 3);
    Layout layout = layoutFor(sr, pick(0, 1));
    PoolKind kind = static_cast<PoolKind>(iter % 3);
    bool ceilMode = pick(0, 1);
    PoolOptions options;
    options.layout = layout;
    options.ceilMode = ceilMode;
    options.countIncludePad = kind == PoolKind::Avg && pick(0, 1);
    options.p = kind == PoolKind::Lp ? (pick(0, 1) ? 2.0 : 3.0) : 2.0;
    reference::PoolSpec spec{kind, layout, {}, {}, {}, {}, {}, options.countIncludePad,
                             options.p};
    Shape inSp;
    for (int d = 0; d < sr; ++d) {
      int64_t k = pick(1, 3);
      spec.kernel.push_back(k);
      spec.strides.push_back(pick(1, 3));
      spec.dilations.push_back(kind == PoolKind::Avg ? 1 : pick(1, 2));
      spec.padLow.push_back(pick(0, k / 2));
      spec.padHigh.push_back(pick(0, k / 2));
      inSp.push_back(pick(std::max<int64_t>(2, spec.dilations[d] * (k - 1) + 1), 8));
    }
    options.kernel = spec.kernel;
    options.strides = spec.strides;
    options.dilations = spec.dilations;
    options.padding = spec.padLow;
    options.padding.insert(options.padding.end(), spec.padHigh.begin(), spec.padHigh.end());
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, 3, inSp), rng);

    Graph graph("pool");
    Value xv = graph.input("x", x.shape());
    Value y = graph.pool(kind, xv, options);
    graph.output("y", y);
    ASSERT_TRUE(graph.status().ok()) << graph.status().message();
    Shape outShape = graph.shape(y);
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1 + iter % 2);
    ASSERT_EQ(out.size(), 1u);
    expectClose(out[0], reference::pool(x, spec, outShape),
                "pool iteration " + std::to_string(iter));
  }
}

} // namespace

namespace {

//===----------------------------------------------------------------------===//
// Normalization, elementwise, linear algebra
//===----------------------------------------------------------------------===//

TEST(Jit, BatchNormEveryLayout) {
  std::mt19937 rng(5);
  const std::vector<std::optional<Layout>> layouts = {
      Layout::NCHW, Layout::NHWC, Layout::NWC, Layout::NCDHW, std::nullopt};
  for (auto [i, layout] : llvm::enumerate(layouts)) {
    Shape shape = layout ? reference::activationShape(*layout, 2, 5,
                                                      Shape(reference::spatialRank(*layout), 3))
                         : Shape{4, 5};
    int64_t channelDim = layout && reference::channelsLast(*layout) ? shape.size() - 1 : 1;
    Tensor x = reference::randomTensor(shape, rng);
    Tensor scale = reference::randomTensor({5}, rng), bias = reference::randomTensor({5}, rng);
    Tensor mean = reference::randomTensor({5}, rng);
    Tensor var = reference::randomTensor({5}, rng, 0.1f, 2.f);
    double eps = 1e-3;
    Graph graph("bn");
    Value y = graph.batchNorm(graph.input("x", shape), graph.constant(scale),
                              graph.constant(bias), graph.constant(mean),
                              graph.constant(var), layout, eps);
    graph.output("y", y);
    Tensor want = Tensor::zeros(shape);
    reference::forEachIndex(shape, [&](const Shape &idx) {
      int64_t c = idx[channelDim];
      want.at(idx) = float((x.at(idx) - mean.at({c})) / std::sqrt(var.at({c}) + eps) *
                               scale.at({c}) + bias.at({c}));
    });
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1 + i % 2);
    ASSERT_EQ(out.size(), 1u);
    expectClose(out[0], want, "batch_norm layout #" + std::to_string(i));
  }
}

TEST(Jit, UnaryOps) {
  std::mt19937 rng(6);
  Shape shape{3, 4, 5};
  Tensor x = reference::randomTensor(shape, rng, -3.f, 3.f);
  Tensor positive = reference::randomTensor(shape, rng, 0.1f, 4.f);
  x.data()[0] = 0.0f; // sign(0) = 0
  struct Case {
    const char *name;
    std::function<Value(Graph &, Value)> build;
    std::function<double(double)> ref;
    bool needsPositive;
  };
  std::vector<Case> cases = {
      {"relu", [](Graph &g, Value v) { return g.relu(v); }, [](double a) { return std::max(a, 0.0); }, false},
      {"sigmoid", [](Graph &g, Value v) { return g.sigmoid(v); }, [](double a) { return 1 / (1 + std::exp(-a)); }, false},
      {"tanh", [](Graph &g, Value v) { return g.tanh(v); }, [](double a) { return std::tanh(a); }, false},
      {"abs", [](Graph &g, Value v) { return g.abs(v); }, [](double a) { return std::abs(a); }, false},
      {"neg", [](Graph &g, Value v) { return g.neg(v); }, [](double a) { return -a; }, false},
      {"exp", [](Graph &g, Value v) { return g.exp(v); }, [](double a) { return std::exp(a); }, false},
      {"erf", [](Graph &g, Value v) { return g.erf(v); }, [](double a) { return std::erf(a); }, false},
      {"sign", [](Graph &g, Value v) { return g.sign(v); }, [](double a) { return double((a > 0) - (a < 0)); }, false},
      {"leaky_relu", [](Graph &g, Value v) { return g.leakyRelu(v, 0.2); }, [](double a) { return a >= 0 ? a : 0.2 * a; }, false},
      {"relu6", [](Graph &g, Value v) { return g.clamp(v, 0.0, 6.0); }, [](double a) { return std::min(std::max(a, 0.0), 6.0); }, false},
      {"clamp_max", [](Graph &g, Value v) { return g.clamp(v, std::nullopt, 0.5); }, [](double a) { return std::min(a, 0.5); }, false},
      {"sqrt", [](Graph &g, Value v) { return g.sqrt(v); }, [](double a) { return std::sqrt(a); }, true},
      {"log", [](Graph &g, Value v) { return g.log(v); }, [](double a) { return std::log(a); }, true},
  };
  for (const Case &c : cases) {
    const Tensor &in = c.needsPositive ? positive : x;
    Graph graph(c.name);
    graph.output("y", c.build(graph, graph.input("x", shape)));
    std::vector<Tensor> out = compileAndRun(graph, {in}, 1);
    ASSERT_EQ(out.size(), 1u) << c.name;
    expectClose(out[0], reference::mapUnary(in, c.ref), c.name);
  }
}

TEST(Jit, BinaryOpsBroadcast) {
  std::mt19937 rng(8);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{1, 5, 3, 3}, {5, 1, 1}},
      {{4, 1, 3}, {2, 1}}, {{}, {3, 2}}, {{3, 1, 4}, {1, 2, 1}}, {{2, 5}, {2, 5}}};
  struct Case {
    const char *name;
    std::function<Value(Graph &, Value, Value)> build;
    std::function<double(double, double)> ref;
  };
  std::vector<Case> cases = {
      {"add", [](Graph &g, Value a, Value b) { return g.add(a, b); }, std::plus<double>()},
      {"sub", [](Graph &g, Value a, Value b) { return g.sub(a, b); }, std::minus<double>()},
      {"mul", [](Graph &g, Value a, Value b) { return g.mul(a, b); }, std::multiplies<double>()},
      {"div", [](Graph &g, Value a, Value b) { return g.div(a, b); }, std::divides<double>()},
      {"pow", [](Graph &g, Value a, Value b) { return g.pow(a, b); },
       [](double a, double b) { return std::pow(a, b); }},
      {"maximum", [](Graph &g, Value a, Value b) { return g.maximum(a, b); },
       [](double a, double b) { return std::max(a, b); }},
      {"minimum", [](Graph &g, Value a, Value b) { return g.minimum(a, b); },
       [](double a, double b) { return std::min(a, b); }},
  };
  for (auto [i, shapePair] : llvm::enumerate(shapes)) {
    const Case &c = cases[i % cases.size()];
    Tensor a = reference::randomTensor(shapePair.first, rng, 0.5f, 2.f);
    Tensor b = reference::randomTensor(shapePair.second, rng, 0.5f, 2.f);
    Graph graph(c.name);
    Value y = c.build(graph, graph.input("a", a.shape()), graph.input("b", b.shape()));
    graph.output("y", y);
    std::vector<Tensor> out = compileAndRun(graph, {a, b}, 2);
    ASSERT_EQ(out.size(), 1u) << c.name;
    expectClose(out[0], reference::broadcastBinary(a, b, graph.shape(y), c.ref),
                std::string(c.name) + " case " + std::to_string(i));
  }
}

TEST(Jit, LinearAndMatmul) {
  std::mt19937 rng(9);
  // linear on [..., K] with and without bias.
  for (Shape inShape : {Shape{8, 16}, Shape{2, 3, 16}, Shape{16}}) {
    Tensor x = reference::randomTensor(inShape, rng);
    Tensor w = reference::randomTensor({10, 16}, rng), b = reference::randomTensor({10}, rng);
    for (bool withBias : {false, true}) {
      Graph graph("linear");
      Value y = graph.linear(graph.input("x", inShape), graph.constant(w),
                             withBias ? std::optional<Value>(graph.constant(b)) : std::nullopt);
      graph.output("y", y);
      Shape outShape = graph.shape(y);
      Tensor want = Tensor::zeros(outShape);
      reference::forEachIndex(outShape, [&](const Shape &idx) {
        Shape xi = idx;
        double acc = withBias ? b.at({idx.back()}) : 0.0;
        for (int64_t k = 0; k < 16; ++k) {
          xi.back() = k;
          acc += double(x.at(xi)) * w.at({idx.back(), k});
        }
        want.at(idx) = float(acc);
      });
      std::vector<Tensor> out = compileAndRun(graph, {x}, 2);
      ASSERT_EQ(out.size(), 1u);
      expectClose(out[0], want, "linear " + x.shapeString());
    }
  }
  // numpy matmul with batch broadcasting and 1-D operands.
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {4, 5}}, {{2, 1, 3, 4}, {5, 4, 2}}, {{4}, {2, 4, 3}}, {{3, 4}, {4}}};
  for (const auto &[ls, rs] : shapes) {
    Tensor a = reference::randomTensor(ls, rng), b = reference::randomTensor(rs, rng);
    Graph graph("matmul");
    Value y = graph.matmul(graph.input("a", ls), graph.input("b", rs));
    graph.output("y", y);
    // Promote 1-D operands, broadcast batch dims, contract, drop promoted dims.
    Shape pa = ls.size() == 1 ? Shape{1, ls[0]} : ls;
    Shape pb = rs.size() == 1 ? Shape{rs[0], 1} : rs;
    Tensor ta = Tensor::borrow(a.data(), pa), tb = Tensor::borrow(b.data(), pb);
    size_t batchRank = std::max(pa.size(), pb.size()) - 2;
    Shape full(batchRank, 1);
    for (size_t d = 0; d < batchRank; ++d) {
      auto dimOf = [&](const Shape &s) {
        int64_t j = int64_t(d) - int64_t(batchRank) + int64_t(s.size()) - 2;
        return j >= 0 ? s[j] : 1;
      };
      full[d] = std::max(dimOf(pa), dimOf(pb));
    }
    int64_t m = pa[pa.size() - 2], k = pa.back(), n = pb.back();
    full.push_back(m);
    full.push_back(n);
    Tensor want = Tensor::zeros(full);
    reference::forEachIndex(full, [&](const Shape &idx) {
      Shape ia(idx.begin(), idx.end() - 2), ib = ia;
      double acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        Shape ai = ia, bi = ib;
        ai.push_back(idx[idx.size() - 2]);
        ai.push_back(kk);
        bi.push_back(kk);
        bi.push_back(idx.back());
        acc += double(ta.at(reference::broadcastIndex(ai, pa))) *
               tb.at(reference::broadcastIndex(bi, pb));
      }
      want.at(idx) = float(acc);
    });
    std::vector<Tensor> out = compileAndRun(graph, {a, b}, 1);
    ASSERT_EQ(out.size(), 1u);
    Tensor wantReshaped = Tensor::borrow(want.data(), graph.shape(y));
    expectClose(out[0], wantReshaped, "matmul " + a.shapeString() + " x " + b.shapeString());
  }
}

//===----------------------------------------------------------------------===//
// Shapes, layouts, padding
//===----------------------------------------------------------------------===//

TEST(Jit, ShapeAndLayoutOps) {
  std::mt19937 rng(10);
  Tensor x = reference::randomTensor({2, 3, 4, 5}, rng);
  Graph graph("shapes");
  Value xv = graph.input("x", x.shape());
  graph.output("reshape", graph.reshape(xv, {6, -1}));
  graph.output("flatten", graph.flatten(xv, 1, 2));
  graph.output("transpose", graph.transpose(xv, {3, 1, 0, 2}));
  graph.output("to_nhwc", graph.relayout(xv, Layout::NCHW, Layout::NHWC));
  Tensor y = reference::randomTensor({2, 2, 4, 5}, rng);
  graph.output("concat", graph.concat({xv, graph.input("y", y.shape()), xv}, 1));
  graph.output("pad", graph.pad(xv, PadMode::Constant, {0, 1, 0, 2, 1, 0, 2, 0}, -2.0));
  std::vector<Tensor> out = compileAndRun(graph, {x, y}, 2);
  ASSERT_EQ(out.size(), 6u);

  expectClose(out[0], Tensor::borrow(x.data(), {6, 20}), "reshape");
  expectClose(out[1], Tensor::borrow(x.data(), {2, 12, 5}), "flatten");
  expectClose(out[2], reference::transpose(x, {3, 1, 0, 2}), "transpose");
  expectClose(out[3], reference::transpose(x, {0, 2, 3, 1}), "relayout");
  Tensor concat = Tensor::zeros({2, 8, 4, 5});
  reference::forEachIndex(concat.shape(), [&](const Shape &i) {
    Shape j = i;
    if (i[1] < 3) concat.at(i) = x.at(i);
    else if (i[1] < 5) { j[1] -= 3; concat.at(i) = y.at(j); }
    else { j[1] -= 5; concat.at(i) = x.at(j); }
  });
  expectClose(out[4], concat, "concat");
  Tensor padded = Tensor::zeros({3, 4, 6, 7});
  reference::forEachIndex(padded.shape(), [&](const Shape &i) {
    Shape j{i[0], i[1] - 1, i[2], i[3] - 2};
    bool inside = j[0] < 2 && j[1] >= 0 && j[1] < 3 && j[2] < 4 && j[3] >= 0 && j[3] < 5;
    padded.at(i) = inside ? x.at(j) : -2.0f;
  });
  expectClose(out[5], padded, "pad");
}

/// Transposing copies whose innermost dims are both cut by 16 run as 16x16
/// vector transposes (tessel-vectorize, tessel-lower-vectors); others keep
/// scalar cache tiles. Each against the reference permutation, exactly.
TEST(Jit, TransposeTiles) {
  std::mt19937 rng(17);
  struct Case {
    Shape shape, perm;
  };
  std::vector<Case> cases = {
      {{32, 48}, {1, 0}},               // 2-D, 2 x 3 squares
      {{16, 3, 5, 64}, {3, 1, 2, 0}},   // NHWC to CHWN (a filter gradient's input)
      {{4, 32, 7, 16}, {0, 3, 2, 1}},   // a middle dim with the last
      {{2, 3, 40, 24}, {0, 1, 3, 2}},   // 40 and 24: squares and partial tiles
      {{64, 32, 3, 3}, {2, 3, 1, 0}},   // OIHW to HWIO: no square tile
  };
  for (auto [i, c] : llvm::enumerate(cases)) {
    Tensor x = reference::randomTensor(c.shape, rng);
    for (unsigned threads : {1u, 2u}) {
      Graph graph("transpose");
      graph.output("y", graph.transpose(graph.input("x", x.shape()), c.perm));
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), 1u);
      expectClose(out[0], reference::transpose(x, c.perm),
                  "transpose case " + std::to_string(i) + " on " + std::to_string(threads) +
                      " threads",
                  1e-30, 0.0);
    }
  }
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

TEST(Jit, SoftmaxAndReductions) {
  std::mt19937 rng(11);
  Tensor x = reference::randomTensor({3, 4, 5}, rng, -4.f, 4.f);
  for (int64_t axis : {-1, 1, 0}) {
    int64_t a = axis < 0 ? axis + 3 : axis;
    Graph graph("softmax");
    Value xv = graph.input("x", x.shape());
    graph.output("softmax", graph.softmax(xv, axis));
    graph.output("log_softmax", graph.logSoftmax(xv, axis));
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    ASSERT_EQ(out.size(), 2u);
    Tensor soft = Tensor::zeros(x.shape()), logSoft = Tensor::zeros(x.shape());
    reference::forEachIndex(x.shape(), [&](const Shape &i) {
      Shape j = i;
      double maxV = -1e300, total = 0;
      for (j[a] = 0; j[a] < x.shape()[a]; ++j[a]) maxV = std::max(maxV, double(x.at(j)));
      for (j[a] = 0; j[a] < x.shape()[a]; ++j[a]) total += std::exp(double(x.at(j)) - maxV);
      soft.at(i) = float(std::exp(double(x.at(i)) - maxV) / total);
      logSoft.at(i) = float(double(x.at(i)) - maxV - std::log(total));
    });
    expectClose(out[0], soft, "softmax axis " + std::to_string(axis));
    expectClose(out[1], logSoft, "log_softmax axis " + std::to_string(axis));
  }

  Graph graph("reduce");
  Value xv = graph.input("x", x.shape());
  graph.output("sum_all", graph.sum(xv, std::nullopt));
  graph.output("mean_12_keep", graph.mean(xv, std::vector<int64_t>{1, -1}, true));
  graph.output("sum_0", graph.sum(xv, std::vector<int64_t>{0}));
  std::vector<Tensor> out = compileAndRun(graph, {x}, 2);
  ASSERT_EQ(out.size(), 3u);
  double all = 0;
  Tensor mean = Tensor::zeros({3, 1, 1}), sum0 = Tensor::zeros({4, 5});
  reference::forEachIndex(x.shape(), [&](const Shape &i) {
    all += x.at(i);
    mean.at({i[0], 0, 0}) += x.at(i) / 20.0f;
    sum0.at({i[1], i[2]}) += x.at(i);
  });
  expectClose(out[0], Tensor::fromValues({}, {float(all)}), "sum over all");
  expectClose(out[1], mean, "mean keepdims");
  expectClose(out[2], sum0, "sum axis 0");
}

TEST(Jit, GlobalPool) {
  std::mt19937 rng(12);
  for (Layout layout : {Layout::NCHW, Layout::NHWC, Layout::NCW}) {
    int sr = reference::spatialRank(layout);
    Shape shape = reference::activationShape(layout, 2, 3, Shape(sr, 4));
    Tensor x = reference::randomTensor(shape, rng);
    for (PoolKind kind : {PoolKind::Max, PoolKind::Avg, PoolKind::Lp}) {
      Graph graph("global");
      Value y = graph.globalPool(kind, graph.input("x", shape), layout, 3.0);
      graph.output("y", y);
      reference::PoolSpec spec{kind, layout, Shape(sr, 4), Shape(sr, 1), Shape(sr, 1),
                               Shape(sr, 0), Shape(sr, 0), false, 3.0};
      std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
      ASSERT_EQ(out.size(), 1u);
      expectClose(out[0], reference::pool(x, spec, graph.shape(y)), "global pool");
    }
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(Jit, ErrorsAreValues) {
  // A shape error names the op and the rule, and later ops are skipped.
  Graph bad("bad");
  Value x = bad.input("x", {1, 3, 8, 8});
  ConvOptions options;
  options.groups = 2;
  Value y = bad.conv(x, bad.input("w", {4, 3, 3, 3}), options);
  EXPECT_FALSE(y.valid());
  EXPECT_NE(bad.status().message().find(
                "op #3: 'tessel.conv' op input channels (3) must be divisible by groups (2)"),
            std::string::npos)
      << bad.status().message();
  bad.relu(y);
  EXPECT_NE(bad.status().message().find("op #3"), std::string::npos);
  Result<Executable> notCompiled = compile(bad);
  EXPECT_FALSE(notCompiled.ok());

  // No outputs.
  Graph empty("empty");
  empty.input("x", {2});
  Result<Executable> none = compile(empty);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("has no outputs"), std::string::npos);

  // Wrong inputs at run time.
  Graph g("g");
  g.output("y", g.relu(g.input("x", {2, 3})));
  Result<Executable> exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.message();
  Result<std::vector<Tensor>> wrongShape = exe->run({Tensor::zeros({3, 2})});
  ASSERT_FALSE(wrongShape.ok());
  EXPECT_EQ(wrongShape.message(),
            "input 'x' has shape [3, 2], the compiled graph expects [2, 3]");
  EXPECT_FALSE(exe->run(std::vector<Tensor>{}).ok());
  EXPECT_FALSE(exe->run({Tensor()}).ok());
  auto missing = exe->run(std::map<std::string, Tensor>{{"z", Tensor::zeros({2, 3})}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), "missing input 'x'; the inputs are 'x'");

  // Compiling the same graph again hits the cache and runs the same.
  Result<Executable> again = compile(g);
  ASSERT_TRUE(again.ok());
  Tensor in = Tensor::fromValues({2, 3}, {-1, 2, -3, 4, -5, 6});
  auto named = again->run(std::map<std::string, Tensor>{{"x", in}});
  ASSERT_TRUE(named.ok()) << named.message();
  EXPECT_EQ(named->at("y").at({1, 2}), 6.0f);
  EXPECT_EQ(named->at("y").at({1, 1}), 0.0f);
}

TEST(Jit, CompileTimingPhases) {
  // CompileOptions::timing receives every phase of a compilation in order;
  // the same graph again is a cache hit. (Durations are not checked.)
  Graph g("timed");
  g.output("y", g.sigmoid(g.input("x", {4, 5})));
  // On two compile threads the LLVM module is split in two first.
  CompileTiming timing;
  CompileOptions options;
  options.timing = &timing;
  options.compileThreads = 2;
  Result<Executable> exe = compile(g, options);
  ASSERT_TRUE(exe.ok()) << exe.message();
  std::vector<std::string> names;
  for (const CompileTiming::Phase &p : timing.phases) {
    names.push_back(p.name);
    EXPECT_GE(p.seconds, 0.0) << p.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "cache key", "entry point", "tessel to linalg",
                       "tiling and vectorization", "bufferization",
                       "lowering to the LLVM dialect", "weights", "translation to LLVM IR",
                       "module splitting", "LLVM optimization", "code generation",
                       "linking"}));
  EXPECT_NE(timing.table().find("total"), std::string::npos);

  CompileTiming again;
  options.timing = &again;
  ASSERT_TRUE(compile(g, options).ok());
  ASSERT_EQ(again.phases.size(), 2u);
  EXPECT_EQ(again.phases[1].name, "cache hit");
}

// Outputs come from the runtime's block cache: a dropped output's memory
// serves the next run's, which must still be computed in full (the stale
// values here are 5s; relu of the new input is 0 where it is negative).
TEST(Jit, OutputsReuseDroppedMemory) {
  Graph g("reuse");
  g.output("y", g.relu(g.input("x", {3, 70, 5})));
  Result<Executable> exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.message();
  std::mt19937 rng(3);
  Tensor fives = Tensor::zeros({3, 70, 5});
  for (int64_t i = 0; i < fives.numElements(); ++i)
    fives.data()[i] = 5.0f;
  const float *first = nullptr;
  {
    Result<std::vector<Tensor>> out = exe->run({fives});
    ASSERT_TRUE(out.ok()) << out.message();
    first = (*out)[0].data();
  }
  Tensor x = reference::randomTensor({3, 70, 5}, rng);
  Result<std::vector<Tensor>> out = exe->run({x});
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ((*out)[0].data(), first);
  Tensor want = reference::mapUnary(x, [](double a) { return std::max(a, 0.0); });
  EXPECT_LE(reference::toleranceRatio((*out)[0], want, 1e-6, 0), 1.0);
}

TEST(Jit, IdenticalGraphsShareTheCache) {
  // Two graphs built alike, with a constant large enough to be a resource
  // (whose name differs between them), are one entry of the in-process
  // cache; a different value of the constant is another.
  std::mt19937 rng(9);
  Tensor w = reference::randomTensor({64, 128}, rng); // 32 KiB
  auto build = [&](const Tensor &weights) {
    auto g = std::make_unique<Graph>("cached");
    g->output("y", g->add(g->input("x", {64, 128}), g->constant(weights)));
    return g;
  };
  auto phases = [](const Graph &g) {
    CompileTiming timing;
    CompileOptions options;
    options.timing = &timing;
    EXPECT_TRUE(compile(g, options).ok());
    std::vector<std::string> names;
    for (const CompileTiming::Phase &p : timing.phases)
      names.push_back(p.name);
    return names;
  };
  auto first = build(w), second = build(w);
  EXPECT_GT(phases(*first).size(), 2u);
  EXPECT_EQ(phases(*second), (std::vector<std::string>{"cache key", "cache hit"}));
  Tensor other = w.clone();
  other.data()[100] += 1.0f;
  EXPECT_GT(phases(*build(other)).size(), 2u);
}

TEST(Jit, KernelProfile) {
  // A profiled executable counts every kernel call of every run, computes
  // what the reference loops do, and its sites' FLOPs add up to the graph's.
  std::mt19937 rng(4);
  Tensor w = reference::randomTensor({4, 3, 3, 3}, rng);
  Tensor in = reference::randomTensor({1, 3, 6, 6}, rng);
  ConvOptions same;
  same.padding = {1, 1, 1, 1};
  Graph g("profiled");
  g.output("y", g.relu(g.conv(g.input("x", {1, 3, 6, 6}), g.constant(w), same)));
  reference::ConvSpec spec{Layout::NCHW, false, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
  Tensor want = reference::mapUnary(reference::conv(in, w, nullptr, spec, {1, 4, 6, 6}),
                                    [](double v) { return v > 0 ? v : 0; });
  CompileOptions options;
  options.profile = true;
  Result<Executable> exe = compile(g, options);
  ASSERT_TRUE(exe.ok()) << exe.message();
  for (int i = 0; i < 3; ++i) {
    auto out = exe->run({in});
    ASSERT_TRUE(out.ok()) << out.message();
    EXPECT_LE(reference::toleranceRatio((*out)[0], want), 1.0);
  }
  std::vector<KernelProfile> sites = exe->profile();
  ASSERT_FALSE(sites.empty());
  for (const KernelProfile &site : sites) {
    EXPECT_EQ(site.calls, 3) << site.kernel;
    EXPECT_GT(site.bytes, 0) << site.kernel;
  }
  EXPECT_NE(exe->profileTable().find(sites.front().kernel), std::string::npos);
  exe->resetProfile();
  for (const KernelProfile &site : exe->profile())
    EXPECT_EQ(site.calls, 0) << site.kernel;

  // Not asked for: no sites, and the table says how to get one.
  Result<Executable> plain = compile(g);
  ASSERT_TRUE(plain.ok()) << plain.message();
  EXPECT_TRUE(plain->profile().empty());
  EXPECT_NE(plain->profileTable().find("CompileOptions::profile"), std::string::npos);
}

TEST(Jit, CompileThreads) {
  // The same graph compiled on 1, 2 and 3 LLVM threads (one module, or
  // split in parts) matches the reference loops.
  std::mt19937 rng(3);
  Tensor w1 = reference::randomTensor({4, 3, 3, 3}, rng);
  Tensor w2 = reference::randomTensor({2, 4, 3, 3}, rng);
  Tensor in = reference::randomTensor({1, 3, 6, 6}, rng);
  ConvOptions same;
  same.padding = {1, 1, 1, 1};
  Graph g("split");
  Value hidden = g.relu(g.conv(g.input("x", {1, 3, 6, 6}), g.constant(w1), same));
  g.output("y", g.conv(hidden, g.constant(w2), same));
  reference::ConvSpec spec{Layout::NCHW, false, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
  Tensor want = reference::conv(
      reference::mapUnary(reference::conv(in, w1, nullptr, spec, {1, 4, 6, 6}),
                          [](double v) { return v > 0 ? v : 0; }),
      w2, nullptr, spec, {1, 2, 6, 6});
  for (unsigned threads : {1u, 2u, 3u}) {
    CompileOptions options;
    options.compileThreads = threads;
    options.threads = threads; // a cache key of its own each time
    Result<Executable> exe = compile(g, options);
    ASSERT_TRUE(exe.ok()) << exe.message();
    auto out = exe->run({in});
    ASSERT_TRUE(out.ok()) << out.message();
    EXPECT_LE(reference::toleranceRatio((*out)[0], want), 1.0) << threads << " threads";
  }
  CompileOptions absurd;
  absurd.compileThreads = 100000;
  Result<Executable> refused = compile(g, absurd);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("at most 256"), std::string::npos) << refused.message();
}

TEST(Jit, StridedInputsAreCopied) {
  // A transposed view as input: the executable reads it through its strides.
  std::vector<float> storage{1, 2, 3, 4, 5, 6};
  Tensor view = Tensor::borrow(storage.data(), {3, 2}, {1, 3});
  Graph g("strided");
  g.output("y", g.neg(g.input("x", {3, 2})));
  Result<Executable> exe = compile(g);
  ASSERT_TRUE(exe.ok());
  auto out = exe->run({view});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].at({0, 1}), -4.0f);
  EXPECT_EQ((*out)[0].at({2, 0}), -3.0f);
}

} // namespace

namespace {

/// A convolution with padding 1 on every side, as the register-tiling
/// tests build it: its shapes, options and reference spec.
struct PaddedConv {
  Layout layout;
  Shape inSpatial, kernel, strides, dilations;
  int64_t cin, cout, groups;
  int64_t batch = 1;

  int spatialRank() const { return reference::spatialRank(layout); }
  Shape inputShape() const {
    return reference::activationShape(layout, batch, cin, inSpatial);
  }
  Shape filterShape() const {
    Shape shape = kernel;
    shape.push_back(cin / groups);
    shape.push_back(cout);
    return shape;
  }
  Shape outputShape() const {
    Shape outSp;
    for (int d = 0; d < spatialRank(); ++d) {
      int64_t extent = dilations[d] * (kernel[d] - 1) + 1;
      outSp.push_back((inSpatial[d] + 2 - extent) / strides[d] + 1);
    }
    return reference::activationShape(layout, batch, cout, outSp);
  }
  ConvOptions options() const {
    ConvOptions o;
    o.layout = layout;
    o.filterLayout = filterLayoutFor(spatialRank(), true);
    o.strides = strides;
    o.dilations = dilations;
    o.padding = Shape(2 * spatialRank(), 1);
    o.groups = groups;
    return o;
  }
  /// The naive convolution of `x` by `w` (plus `b` where given).
  Tensor naive(const Tensor &x, const Tensor &w, const Tensor *b) const {
    Shape pad(spatialRank(), 1);
    reference::ConvSpec spec{layout, true, strides, dilations, pad, pad, groups};
    return reference::conv(x, w, b, spec, outputShape());
  }
};

/// Channels-last convolutions large enough for full register tiles (64
/// output channels, several columns, input-channel steps), dense and
/// depthwise, 1-D to 3-D, strided and dilated.
TEST(Jit, RegisterTiledConvs) {
  std::mt19937 rng(13);
  // Cases 8-10 have even batches and narrow rows: their tiles take two
  // images (tessel-vectorize).
  std::vector<PaddedConv> cases = {
      {Layout::NHWC, {12, 12}, {3, 3}, {1, 1}, {1, 1}, 32, 64, 1},
      {Layout::NHWC, {14, 13}, {3, 3}, {2, 2}, {1, 1}, 16, 48, 1},
      {Layout::NHWC, {9, 9}, {3, 3}, {1, 1}, {2, 2}, 8, 32, 1},
      {Layout::NHWC, {10, 10}, {3, 3}, {1, 1}, {1, 1}, 32, 32, 32},
      {Layout::NWC, {20}, {5}, {1}, {1}, 6, 64, 1},
      {Layout::NDHWC, {5, 6, 6}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, 4, 16, 1},
      // 3-D depthwise: upstream's op has its channel loop last.
      {Layout::NDHWC, {4, 6, 9}, {3, 3, 3}, {1, 2, 1}, {1, 1, 2}, 32, 32, 32},
      {Layout::NHWC, {7, 7}, {1, 1}, {1, 1}, {1, 1}, 64, 128, 1},
      {Layout::NHWC, {7, 7}, {3, 3}, {1, 1}, {1, 1}, 16, 64, 1, 4},
      {Layout::NHWC, {14, 14}, {3, 3}, {2, 2}, {1, 1}, 8, 32, 1, 2},
      {Layout::NWC, {9}, {3}, {1}, {1}, 4, 48, 1, 6},
      // Filters whose kernel rows exceed 512 KB: blocks of 64 (or 16)
      // output channels by the input channels that fit, 256 of 256, 150 of
      // 600 with stride 2, all 512 of a 1x1, 320 of 640 in 1-D.
      {Layout::NHWC, {5, 5}, {3, 3}, {1, 1}, {1, 1}, 256, 256, 1, 2},
      {Layout::NHWC, {4, 6}, {3, 3}, {2, 2}, {1, 1}, 600, 128, 1},
      {Layout::NHWC, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 512, 272, 1},
      {Layout::NWC, {10}, {3}, {1}, {2}, 640, 256, 1},
  };
  for (auto [i, c] : llvm::enumerate(cases)) {
    Tensor x = reference::randomTensor(c.inputShape(), rng);
    Tensor w = reference::randomTensor(c.filterShape(), rng);
    Tensor b = reference::randomTensor({c.cout}, rng);
    Tensor want = reference::mapUnary(c.naive(x, w, &b),
                                      [](double v) { return std::max(v, 0.0); });
    for (unsigned threads : {1u, 2u}) {
      Graph graph("tiled");
      Value y = graph.relu(graph.conv(graph.input("x", x.shape()), graph.constant(w),
                                      c.options(), graph.constant(b)));
      graph.output("y", y);
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), 1u);
      expectClose(out[0], want,
                  "register-tiled conv case " + std::to_string(i) + " on " +
                      std::to_string(threads) + " threads");
    }
  }
}

/// Convs with zero biases (BatchNorm-folded ones of a fresh export): the
/// bias folds into a generic writing zeros, equal ones of two convs merge,
/// and tessel-tile-and-distribute makes them fills fused into each conv's
/// tiles. Two convs of one input with the same output shape, each with a
/// zero bias and a ReLU6, against the naive conv, at 1 and 2 threads.
TEST(Jit, ZeroBiasConvsShareNoFill) {
  std::mt19937 rng(29);
  std::vector<PaddedConv> cases = {
      {Layout::NHWC, {12, 12}, {3, 3}, {2, 2}, {1, 1}, 3, 32, 1, 2},
      {Layout::NHWC, {9, 9}, {1, 1}, {1, 1}, {1, 1}, 24, 144, 1, 2},
      {Layout::NHWC, {10, 10}, {3, 3}, {1, 1}, {1, 1}, 48, 48, 48},
      {Layout::NCHW, {7, 7}, {3, 3}, {1, 1}, {1, 1}, 16, 64, 1, 4},
      {Layout::NWC, {20}, {5}, {1}, {1}, 6, 64, 1},
  };
  auto relu6 = [](double t) { return std::min(std::max(t, 0.0), 6.0); };
  for (auto [i, c] : llvm::enumerate(cases)) {
    Tensor x = reference::randomTensor(c.inputShape(), rng);
    std::vector<Tensor> filters = {reference::randomTensor(c.filterShape(), rng),
                                   reference::randomTensor(c.filterShape(), rng)};
    Tensor zero = Tensor::zeros({c.cout});
    for (unsigned threads : {1u, 2u}) {
      Graph graph("zero_bias");
      Value in = graph.input("x", x.shape());
      for (auto [k, w] : llvm::enumerate(filters))
        graph.output("y" + std::to_string(k),
                     graph.clamp(graph.conv(in, graph.constant(w), c.options(),
                                            graph.constant(zero)),
                                 0.0, 6.0));
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), filters.size());
      for (auto [k, w] : llvm::enumerate(filters))
        expectClose(out[k], reference::mapUnary(c.naive(x, w, nullptr), relu6),
                    "zero-bias conv case " + std::to_string(i) + ", conv " +
                        std::to_string(k) + ", on " + std::to_string(threads) + " threads");
    }
  }
}

/// Max pooling and ReLU propagate NaN as PyTorch does (the vector max
/// leaves only the sign of a zero open): a NaN makes every window that
/// holds it NaN, at vector widths (64 channels) and in scalar tails.
TEST(Jit, MaxPropagatesNaN) {
  for (int64_t channels : {64, 3}) {
    Tensor x = Tensor::zeros({1, 6, 6, channels});
    for (int64_t i = 0; i < x.numElements(); ++i)
      x.data()[i] = float(i % 7) - 3.f;
    // NaN at (h=2, w=3), channel 1; the pool's windows of rows 1-3 and
    // columns 2-4 hold it.
    x.data()[(2 * 6 + 3) * channels + 1] = std::numeric_limits<float>::quiet_NaN();
    for (unsigned threads : {1u, 2u}) {
      Graph graph("nan");
      Value r = graph.relu(graph.input("x", x.shape()));
      PoolOptions options;
      options.layout = Layout::NHWC;
      options.kernel = {3, 3};
      options.strides = {1, 1};
      options.padding = {1, 1, 1, 1};
      graph.output("pool", graph.pool(PoolKind::Max, r, options));
      graph.output("relu", r);
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), 2u);
      for (int64_t h = 0; h < 6; ++h)
        for (int64_t w = 0; w < 6; ++w)
          for (int64_t c = 0; c < channels; ++c) {
            int64_t i = (h * 6 + w) * channels + c;
            bool nanWindow = c == 1 && h >= 1 && h <= 3 && w >= 2 && w <= 4;
            EXPECT_EQ(std::isnan(out[0].data()[i]), nanWindow)
                << "pool at (" << h << ", " << w << ", " << c << "), " << channels
                << " channels, " << threads << " threads";
            EXPECT_EQ(std::isnan(out[1].data()[i]), c == 1 && h == 2 && w == 3)
                << "relu at (" << h << ", " << w << ", " << c << ")";
          }
    }
  }
}

/// Padded inputs are computed in place (tessel-pad-in-place): a conv pads
/// the graph input (copied into the interior), a ReLU feeds two padded
/// consumers (a depthwise conv with asymmetric zero padding and a max pool
/// with -inf padding; only one of them can get the ReLU's buffer) and is
/// read again by an add and as an output; one result is returned twice.
TEST(Jit, ProducersWriteIntoPaddedInputs) {
  std::mt19937 rng(29);
  for (bool channelsLast : {true, false}) {
    Layout layout = channelsLast ? Layout::NHWC : Layout::NCHW;
    const int64_t c = 16;
    Shape inSp = {9, 10};
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, 3, inSp), rng);
    Tensor w = reference::randomTensor({c, 3, 3, 3}, rng);
    Tensor b = reference::randomTensor({c}, rng);
    Tensor dw = reference::randomTensor({c, 1, 3, 3}, rng);

    // References.
    reference::ConvSpec convSpec{layout, false, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
    Tensor r = reference::mapUnary(
        reference::conv(x, w, &b, convSpec, reference::activationShape(layout, 2, c, inSp)),
        [](double v) { return std::max(v, 0.0); });
    reference::ConvSpec dwSpec{layout, false, {1, 1}, {1, 1}, {2, 0}, {0, 2}, c};
    Tensor d = reference::conv(r, dw, nullptr, dwSpec, r.shape());
    Shape rank4 = r.shape();
    Tensor sum = reference::broadcastBinary(d, r, rank4, [](double a, double b) { return a + b; });
    reference::PoolSpec poolSpec{PoolKind::Max, layout, {3, 3}, {2, 2}, {1, 1},
                                 {1, 1}, {1, 1}, false, 2.0};

    for (unsigned threads : {1u, 2u}) {
      Graph graph("padded");
      ConvOptions convOptions;
      convOptions.layout = layout;
      convOptions.padding = {1, 1, 1, 1};
      Value rv = graph.relu(graph.conv(graph.input("x", x.shape()), graph.constant(w),
                                       convOptions, graph.constant(b)));
      ConvOptions dwOptions;
      dwOptions.layout = layout;
      dwOptions.padding = {2, 0, 0, 2};
      dwOptions.groups = c;
      Value dv = graph.conv(rv, graph.constant(dw), dwOptions);
      PoolOptions poolOptions;
      poolOptions.layout = layout;
      poolOptions.kernel = {3, 3};
      poolOptions.strides = {2, 2};
      poolOptions.padding = {1, 1, 1, 1};
      Value mv = graph.pool(PoolKind::Max, rv, poolOptions);
      Value sv = graph.add(dv, rv);
      graph.output("sum", sv);
      graph.output("max", mv);
      graph.output("relu", rv);
      graph.output("sum_again", sv);
      Shape poolShape = graph.shape(mv);
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), 4u);
      std::string where = std::string(channelsLast ? "NHWC" : "NCHW") + " on " +
                          std::to_string(threads) + " threads";
      expectClose(out[0], sum, "depthwise conv of the ReLU plus the ReLU, " + where);
      expectClose(out[1], reference::pool(r, poolSpec, poolShape), "max pool, " + where);
      expectClose(out[2], r, "ReLU, " + where);
      expectClose(out[3], sum, "the sum returned again, " + where);
      EXPECT_NE(out[0].data(), out[3].data()) << "two outputs share memory, " << where;
    }
  }
}

} // namespace

namespace {

//===----------------------------------------------------------------------===//
// Losses, training batch norm, resampling
//===----------------------------------------------------------------------===//

TEST(Jit, Losses) {
  std::mt19937 rng(14);
  Tensor a = reference::randomTensor({4, 6}, rng), b = reference::randomTensor({4, 6}, rng);
  Tensor logits = reference::randomTensor({3, 5, 2, 2}, rng, -3.f, 3.f);
  std::vector<int64_t> labelValues;
  for (int i = 0; i < 12; ++i)
    labelValues.push_back((i * 7) % 5);
  for (Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    Graph graph("losses");
    graph.output("mse", graph.mseLoss(graph.input("a", a.shape()), graph.input("b", b.shape()),
                                      reduction));
    graph.output("ce", graph.crossEntropy(graph.input("logits", logits.shape()),
                                          graph.labels({3, 2, 2}, labelValues), reduction));
    std::vector<Tensor> out = compileAndRun(graph, {a, b, logits}, 1);
    ASSERT_EQ(out.size(), 2u);
    // Reference: per-element losses in double, then the reduction.
    std::vector<double> mse, ce;
    for (int64_t i = 0; i < a.numElements(); ++i)
      mse.push_back(std::pow(double(a.data()[i]) - b.data()[i], 2));
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t y = 0; y < 2; ++y)
        for (int64_t x = 0; x < 2; ++x) {
          double top = -1e300, total = 0;
          for (int64_t c = 0; c < 5; ++c) top = std::max(top, double(logits.at({n, c, y, x})));
          for (int64_t c = 0; c < 5; ++c) total += std::exp(logits.at({n, c, y, x}) - top);
          int64_t label = labelValues[(n * 2 + y) * 2 + x];
          ce.push_back(top + std::log(total) - logits.at({n, label, y, x}));
        }
    auto reduced = [&](const std::vector<double> &v, Shape shape) {
      if (reduction == Reduction::None) {
        std::vector<float> f(v.begin(), v.end());
        return Tensor::fromValues(shape, f);
      }
      double s = 0;
      for (double x : v) s += x;
      if (reduction == Reduction::Mean) s /= double(v.size());
      return Tensor::fromValues({}, {float(s)});
    };
    expectClose(out[0], reduced(mse, {4, 6}), "mse_loss");
    expectClose(out[1], reduced(ce, {3, 2, 2}), "cross_entropy");
  }
}

TEST(Jit, BatchNormTrain) {
  std::mt19937 rng(15);
  for (Layout layout : {Layout::NCHW, Layout::NHWC}) {
    Shape shape = reference::activationShape(layout, 3, 4, {5, 2});
    int64_t channelDim = reference::channelsLast(layout) ? 3 : 1;
    Tensor x = reference::randomTensor(shape, rng, -2.f, 3.f);
    Tensor scale = reference::randomTensor({4}, rng), bias = reference::randomTensor({4}, rng);
    Graph graph("bn_train");
    std::vector<Value> r = graph.batchNormTrain(graph.input("x", shape), graph.constant(scale),
                                                graph.constant(bias), layout, 1e-3);
    ASSERT_EQ(r.size(), 3u) << graph.status().message();
    graph.output("y", r[0]);
    graph.output("mean", r[1]);
    graph.output("var", r[2]);
    std::vector<Tensor> out = compileAndRun(graph, {x}, 2);
    ASSERT_EQ(out.size(), 3u);
    std::vector<double> mean(4, 0), var(4, 0);
    double count = double(x.numElements() / 4);
    reference::forEachIndex(shape, [&](const Shape &i) { mean[i[channelDim]] += x.at(i) / count; });
    reference::forEachIndex(shape, [&](const Shape &i) {
      var[i[channelDim]] += std::pow(x.at(i) - mean[i[channelDim]], 2) / count;
    });
    Tensor y = Tensor::zeros(shape);
    reference::forEachIndex(shape, [&](const Shape &i) {
      int64_t c = i[channelDim];
      y.at(i) = float((x.at(i) - mean[c]) / std::sqrt(var[c] + 1e-3) * scale.at({c}) +
                      bias.at({c}));
    });
    expectClose(out[0], y, "batch_norm_train result");
    expectClose(out[1], Tensor::fromValues({4}, {float(mean[0]), float(mean[1]), float(mean[2]), float(mean[3])}), "batch mean");
    expectClose(out[2], Tensor::fromValues({4}, {float(var[0]), float(var[1]), float(var[2]), float(var[3])}), "batch variance");
  }
}

TEST(Jit, PadModes) {
  std::mt19937 rng(16);
  Tensor x = reference::randomTensor({2, 3, 4, 5}, rng);
  std::vector<int64_t> padding{0, 1, 3, 2, 1, 0, 2, 5};
  for (PadMode mode : {PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
    std::vector<int64_t> pads = padding;
    if (mode == PadMode::Reflect)
      pads = {0, 1, 3, 2, 1, 0, 2, 4}; // reflection needs pads < size
    Graph graph("pad");
    Value y = graph.pad(graph.input("x", x.shape()), mode, pads);
    graph.output("y", y);
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    ASSERT_EQ(out.size(), 1u);
    Tensor want = Tensor::zeros(graph.shape(y));
    reference::forEachIndex(want.shape(), [&](const Shape &o) {
      Shape i(4);
      for (int d = 0; d < 4; ++d) {
        int64_t n = x.shape()[d], p = o[d] - pads[d];
        if (mode == PadMode::Reflect) p = p < 0 ? -p : (p >= n ? 2 * (n - 1) - p : p);
        else if (mode == PadMode::Replicate) p = std::min(std::max<int64_t>(p, 0), n - 1);
        else p = ((p % n) + n) % n;
        i[d] = p;
      }
      want.at(o) = x.at(i);
    });
    expectClose(out[0], want, "pad mode " + std::to_string(int(mode)));
  }
}

TEST(Jit, PixelShuffle) {
  std::mt19937 rng(17);
  for (Layout layout : {Layout::NCHW, Layout::NHWC}) {
    bool last = layout == Layout::NHWC;
    int64_t r = 2, c = 3, h = 2, w = 3;
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, c * r * r, {h, w}), rng);
    Graph graph("shuffle");
    Value xv = graph.input("x", x.shape());
    Value shuffled = graph.pixelShuffle(xv, layout, r);
    graph.output("shuffled", shuffled);
    graph.output("round_trip", graph.pixelUnshuffle(shuffled, layout, r));
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    ASSERT_EQ(out.size(), 2u);
    reference::Activation in{x, layout};
    reference::Activation want{Tensor::zeros(reference::activationShape(layout, 2, c, {h * r, w * r})), layout};
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h * r; ++y)
          for (int64_t xx = 0; xx < w * r; ++xx)
            want.at(n, ch, {y, xx}) = in.at(n, ch * r * r + (y % r) * r + (xx % r), {y / r, xx / r});
    expectClose(out[0], want.t, std::string("pixel_shuffle ") + (last ? "nhwc" : "nchw"));
    expectClose(out[1], x, "pixel_unshuffle undoes pixel_shuffle");
  }
}

TEST(Jit, UpsampleKnownValues) {
  // PyTorch: F.interpolate on [[1, 2], [3, 4]] to 4x4.
  Tensor x = Tensor::fromValues({1, 1, 2, 2}, {1, 2, 3, 4});
  auto run = [&](UpsampleMode mode, bool alignCorners) {
    Graph graph("up");
    graph.output("y", graph.upsample(graph.input("x", x.shape()), mode, Layout::NCHW, {4, 4},
                                     {}, alignCorners));
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    return out.empty() ? Tensor() : out[0];
  };
  expectClose(run(UpsampleMode::Linear, false),
              Tensor::fromValues({1, 1, 4, 4}, {1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5,
                                                2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0}),
              "bilinear");
  float t = 1.0f / 3, s = 2.0f / 3;
  expectClose(run(UpsampleMode::Linear, true),
              Tensor::fromValues({1, 1, 4, 4}, {1, 1 + t, 1 + s, 2, 1 + 2 * t, 2, 2 + t, 2 + s,
                                                2 + t, 2 + s, 3, 3 + t, 3, 3 + t, 3 + s, 4}),
              "bilinear align_corners");
  expectClose(run(UpsampleMode::Nearest, false),
              Tensor::fromValues({1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}),
              "nearest");
}

TEST(Jit, UpsampleSweep) {
  std::mt19937 rng(18);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int iter = 0; iter < 8; ++iter) {
    int sr = 1 + iter % 3;
    Layout layout = layoutFor(sr, pick(0, 1));
    UpsampleMode mode = pick(0, 1) ? UpsampleMode::Linear : UpsampleMode::Nearest;
    bool align = mode == UpsampleMode::Linear && pick(0, 1);
    bool byScale = pick(0, 1);
    Shape inSp, outSp;
    std::vector<double> scales;
    for (int d = 0; d < sr; ++d) {
      inSp.push_back(pick(1, 5));
      double sc = 0.5 * pick(2, 6); // 1.0 .. 3.0
      scales.push_back(sc);
      outSp.push_back(byScale ? int64_t(std::floor(inSp[d] * sc)) : pick(1, 9));
    }
    Tensor x = reference::randomTensor(reference::activationShape(layout, 1, 2, inSp), rng);
    Graph graph("up");
    Value y = graph.upsample(graph.input("x", x.shape()), mode, layout,
                             byScale ? Shape{} : outSp, byScale ? scales : std::vector<double>{},
                             align);
    graph.output("y", y);
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    ASSERT_EQ(out.size(), 1u);
    // Reference: PyTorch's source-index rules, dimension by dimension.
    reference::Activation in{x, layout};
    reference::Activation want{Tensor::zeros(graph.shape(y)), layout};
    for (int64_t c = 0; c < 2; ++c)
      reference::forEachIndex(outSp, [&](const Shape &o) {
        std::vector<std::pair<int64_t, int64_t>> idx(sr);
        std::vector<double> frac(sr);
        for (int d = 0; d < sr; ++d) {
          double in_ = inSp[d], out_ = outSp[d];
          double scale = align ? (out_ > 1 ? (in_ - 1) / (out_ - 1) : 0)
                               : (byScale ? 1 / scales[d] : in_ / out_);
          if (mode == UpsampleMode::Nearest) {
            idx[d] = {std::min<int64_t>(int64_t(std::floor(o[d] * scale)), inSp[d] - 1), 0};
            continue;
          }
          double src = align ? o[d] * scale : std::max((o[d] + 0.5) * scale - 0.5, 0.0);
          int64_t i0 = std::min<int64_t>(int64_t(std::floor(src)), inSp[d] - 1);
          idx[d] = {i0, std::min<int64_t>(i0 + 1, inSp[d] - 1)};
          frac[d] = src - std::floor(src);
        }
        double value = 0;
        int corners = mode == UpsampleMode::Nearest ? 1 : 1 << sr;
        for (int corner = 0; corner < corners; ++corner) {
          double weight = 1;
          Shape p(sr);
          for (int d = 0; d < sr; ++d) {
            bool up = corner & (1 << d);
            p[d] = up ? idx[d].second : idx[d].first;
            if (mode == UpsampleMode::Linear) weight *= up ? frac[d] : 1 - frac[d];
          }
          value += weight * in.at(0, c, p);
        }
        want.at(0, c, o) = float(value);
      });
    expectClose(out[0], want.t, "upsample iteration " + std::to_string(iter));
  }
}

} // namespace

namespace {

/// A transposed convolution by scattering every input element through
/// every kernel offset (bias first). Filters are [k..., C_in, C_out/g]
/// (spatial first) or [C_in, C_out/g, k...].
Tensor referenceConvTranspose(const Tensor &x, const Tensor &w, const Tensor &b, Layout layout,
                              bool spatialFirst, const Shape &k, const Shape &st,
                              const Shape &dl, const Shape &pl, const Shape &outShape) {
  size_t sr = k.size();
  reference::Activation in{x, layout};
  reference::Activation want{Tensor::zeros(outShape), layout};
  Shape inSp = in.spatial(), outSp = want.spatial();
  int64_t cin = in.channels(), cout = want.channels();
  int64_t ocg = w.shape()[spatialFirst ? sr + 1 : 1], icg = cin / (cout / ocg);
  for (int64_t n = 0; n < in.batch(); ++n)
    for (int64_t c = 0; c < cout; ++c)
      reference::forEachIndex(outSp, [&](const Shape &p) { want.at(n, c, p) = b.at({c}); });
  for (int64_t n = 0; n < in.batch(); ++n)
    for (int64_t ci = 0; ci < cin; ++ci)
      reference::forEachIndex(inSp, [&](const Shape &i) {
        reference::forEachIndex(k, [&](const Shape &kk) {
          Shape p(sr);
          for (size_t d = 0; d < sr; ++d) {
            p[d] = i[d] * st[d] - pl[d] + kk[d] * dl[d];
            if (p[d] < 0 || p[d] >= outSp[d]) return;
          }
          int64_t g = ci / icg;
          for (int64_t oc = 0; oc < ocg; ++oc) {
            Shape wi;
            if (spatialFirst) { wi = kk; wi.push_back(ci); wi.push_back(oc); }
            else { wi = {ci, oc}; wi.insert(wi.end(), kk.begin(), kk.end()); }
            want.at(n, g * ocg + oc, p) += in.at(n, ci, i) * w.at(wi);
          }
        });
      });
  return want.t;
}

TEST(Jit, ConvTransposeSweep) {
  std::mt19937 rng(19);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int iter = 0; iter < 10; ++iter) {
    int sr = 1 + iter % 3;
    Layout layout = layoutFor(sr, pick(0, 1));
    bool spatialFirst = pick(0, 1);
    int64_t groups = pick(1, 2), icg = pick(1, 3), ocg = pick(1, 3);
    int64_t cin = groups * icg, cout = groups * ocg;
    Shape inSp, k, st, dl, pl, ph, op, outSp;
    for (int d = 0; d < sr; ++d) {
      inSp.push_back(pick(1, 4));
      k.push_back(pick(1, 3));
      st.push_back(pick(1, 3));
      dl.push_back(pick(1, 2));
      pl.push_back(pick(0, 1));
      ph.push_back(pick(0, 1));
      op.push_back(pick(0, std::max(st[d], dl[d]) - 1));
      outSp.push_back((inSp[d] - 1) * st[d] - pl[d] - ph[d] + dl[d] * (k[d] - 1) + op[d] + 1);
    }
    if (std::any_of(outSp.begin(), outSp.end(), [](int64_t v) { return v < 1; }))
      continue;
    Shape filterShape;
    if (spatialFirst) {
      filterShape = k;
      filterShape.push_back(cin);
      filterShape.push_back(ocg);
    } else {
      filterShape = {cin, ocg};
      filterShape.insert(filterShape.end(), k.begin(), k.end());
    }
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, cin, inSp), rng);
    Tensor w = reference::randomTensor(filterShape, rng);
    Tensor b = reference::randomTensor({cout}, rng);
    Graph graph("convT");
    ConvOptions o;
    o.layout = layout;
    o.filterLayout = spatialFirst ? filterLayoutFor(sr, true)
                                  : std::array<FilterLayout, 3>{FilterLayout::IOW, FilterLayout::IOHW,
                                                                FilterLayout::IODHW}[sr - 1];
    o.strides = st;
    o.dilations = dl;
    o.padding = pl;
    o.padding.insert(o.padding.end(), ph.begin(), ph.end());
    o.outputPadding = op;
    o.groups = groups;
    Value y = graph.convTranspose(graph.input("x", x.shape()), graph.input("w", w.shape()), o,
                                  graph.constant(b));
    graph.output("y", y);
    Shape outShape = reference::activationShape(layout, 2, cout, outSp);
    ASSERT_EQ(graph.shape(y), outShape) << graph.status().message();
    std::vector<Tensor> out = compileAndRun(graph, {x, w}, 1 + iter % 2);
    ASSERT_EQ(out.size(), 1u);
    Tensor want = referenceConvTranspose(x, w, b, layout, spatialFirst, k, st, dl, pl, outShape);
    expectClose(out[0], want, "conv_transpose iteration " + std::to_string(iter));
  }
}

/// A 3x3 transposed convolution with padding 1 (output padding stride - 1)
/// of a random input by a random filter given at run time, HWIO or IOHW
/// (`spatialFirst`), with a constant bias: the graph, its inputs (x, w), the
/// shape it infers and the double-precision reference result.
struct ConvTranspose3x3 {
  Graph graph{"convT3x3"};
  std::vector<Tensor> inputs;
  Shape shape;
  Tensor want;
};

ConvTranspose3x3 makeConvTranspose3x3(std::mt19937 &rng, Layout layout, bool spatialFirst,
                                      int64_t batch, int64_t channels, int64_t outChannels,
                                      const Shape &inSp, int64_t stride) {
  Shape k{3, 3}, st{stride, stride}, dl{1, 1}, pl{1, 1}, op{stride - 1, stride - 1}, outSp;
  for (int d = 0; d < 2; ++d)
    outSp.push_back((inSp[d] - 1) * st[d] - 2 * pl[d] + dl[d] * (k[d] - 1) + op[d] + 1);
  Shape filterShape = spatialFirst ? Shape{3, 3, channels, outChannels}
                                   : Shape{channels, outChannels, 3, 3};
  Tensor x = reference::randomTensor(reference::activationShape(layout, batch, channels, inSp), rng);
  Tensor w = reference::randomTensor(filterShape, rng);
  Tensor b = reference::randomTensor({outChannels}, rng);
  ConvTranspose3x3 t;
  ConvOptions o;
  o.layout = layout;
  o.filterLayout = spatialFirst ? filterLayoutFor(2, true) : FilterLayout::IOHW;
  o.strides = st;
  o.padding = {1, 1, 1, 1};
  o.outputPadding = op;
  Value y = t.graph.convTranspose(t.graph.input("x", x.shape()), t.graph.input("w", w.shape()), o,
                                  t.graph.constant(b));
  t.graph.output("y", y);
  t.shape = t.graph.shape(y);
  Shape outShape = reference::activationShape(layout, batch, outChannels, outSp);
  t.want = referenceConvTranspose(x, w, b, layout, spatialFirst, k, st, dl, pl, outShape);
  t.inputs = {x, w};
  return t;
}

// Filters of 2 MiB and more: the convolution the transposed one becomes
// reads each kernel tap of the flipped filter from the given one at the
// mirrored tap instead of making a flipped copy (tessel-vectorize), for
// HWIO filters and for IOHW ones laid out first (tessel-fuse-elementwise),
// stride 1 and stride 2 (one convolution per output phase), 1 and 2
// threads.
TEST(Jit, WideConvTransposeReadsFlippedTapsInPlace) {
  std::mt19937 rng(23);
  struct Case {
    int64_t channels, size, stride;
    bool spatialFirst, channelsLast;
    unsigned threads;
  };
  for (const Case &c : {Case{256, 3, 1, true, true, 1}, Case{256, 4, 1, false, false, 2},
                        Case{512, 2, 2, true, true, 2}, Case{384, 3, 2, false, true, 1}}) {
    Layout layout = c.channelsLast ? Layout::NHWC : Layout::NCHW;
    ConvTranspose3x3 t = makeConvTranspose3x3(rng, layout, c.spatialFirst, 1, c.channels,
                                              c.channels, {c.size, c.size + 1}, c.stride);
    ASSERT_EQ(t.shape, t.want.shape()) << t.graph.status().message();
    std::vector<Tensor> out = compileAndRun(t.graph, t.inputs, c.threads);
    ASSERT_EQ(out.size(), 1u);
    expectClose(out[0], t.want, "conv_transpose " + std::to_string(c.channels) + " stride " +
                                    std::to_string(c.stride), 1e-3, 1e-3);
  }
}

// The stride-1 transposed convolution of an input gradient with a filter
// given at run time, by Winograd's algorithm: its filter transform reads
// the flipped filter's taps from the given filter (tessel-winograd) instead
// of a flipped copy. HWIO filters (a pure flip) and IOHW ones (a transpose
// too), F(4x4, 3x3) and F(2x2, 3x3), an overhanging odd side, 1 and 2
// threads, against the double-precision reference; Winograd must apply.
TEST(Jit, WinogradConvTransposeReadsFlippedFilter) {
  std::mt19937 rng(41);
  struct Case {
    int64_t channels, outChannels, height, width;
    bool spatialFirst;
    unsigned threads;
  };
  for (const Case &c : {Case{16, 32, 12, 8, true, 1}, Case{32, 16, 7, 9, true, 2},
                        Case{16, 16, 8, 8, false, 2}, Case{32, 32, 14, 14, true, 2}}) {
    ConvTranspose3x3 t = makeConvTranspose3x3(rng, Layout::NHWC, c.spatialFirst, 2, c.channels,
                                              c.outChannels, {c.height, c.width}, 1);
    ASSERT_EQ(t.shape, t.want.shape()) << t.graph.status().message();
    std::vector<Tensor> on = compileAndRun(t.graph, t.inputs, c.threads, Winograd::On);
    std::vector<Tensor> off = compileAndRun(t.graph, t.inputs, c.threads, Winograd::Off);
    ASSERT_EQ(on.size(), 1u);
    ASSERT_EQ(off.size(), 1u);
    double scale = 0;
    for (int64_t i = 0; i < t.want.numElements(); ++i)
      scale = std::max(scale, double(std::abs(t.want.data()[i])));
    std::string what = std::to_string(c.channels) + "->" + std::to_string(c.outChannels) + " @" +
                       std::to_string(c.height) + "x" + std::to_string(c.width) +
                       (c.spatialFirst ? " HWIO" : " IOHW");
    expectClose(on[0], t.want, "Winograd conv_transpose " + what, 1e-4 * scale, 0);
    expectClose(off[0], t.want, "direct conv_transpose " + what, 1e-4 * scale, 0);
    EXPECT_NE(std::memcmp(on[0].data(), off[0].data(), t.want.numElements() * sizeof(float)), 0)
        << what << ": Winograd did not apply";
  }
}

TEST(Jit, AdaptivePool) {
  std::mt19937 rng(20);
  for (int iter = 0; iter < 6; ++iter) {
    int sr = 1 + iter % 3;
    Layout layout = layoutFor(sr, iter % 2);
    PoolKind kind = iter < 3 ? PoolKind::Avg : PoolKind::Max;
    Shape inSp, outSp;
    for (int d = 0; d < sr; ++d) {
      inSp.push_back(3 + (iter + d) % 5);
      outSp.push_back(1 + (iter * 3 + d) % 6); // may exceed the input: windows repeat
    }
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, 3, inSp), rng);
    Graph graph("adaptive");
    Value y = graph.adaptivePool(kind, graph.input("x", x.shape()), layout, outSp);
    graph.output("y", y);
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    ASSERT_EQ(out.size(), 1u) << graph.status().message();
    reference::Activation in{x, layout};
    reference::Activation want{Tensor::zeros(graph.shape(y)), layout};
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = 0; c < 3; ++c)
        reference::forEachIndex(outSp, [&](const Shape &o) {
          Shape start(sr), size(sr);
          for (int d = 0; d < sr; ++d) {
            start[d] = o[d] * inSp[d] / outSp[d];
            int64_t end = ((o[d] + 1) * inSp[d] + outSp[d] - 1) / outSp[d];
            size[d] = end - start[d];
          }
          double acc = kind == PoolKind::Max ? -1e300 : 0;
          int64_t count = 0;
          reference::forEachIndex(size, [&](const Shape &kk) {
            Shape p(sr);
            for (int d = 0; d < sr; ++d) p[d] = start[d] + kk[d];
            double v = in.at(n, c, p);
            acc = kind == PoolKind::Max ? std::max(acc, v) : acc + v;
            ++count;
          });
          want.at(n, c, o) = float(kind == PoolKind::Max ? acc : acc / count);
        });
    expectClose(out[0], want.t, "adaptive pool iteration " + std::to_string(iter));
  }
}

} // namespace

namespace {

/// An AVX2 target (x86-64-v3) gets 256-bit register tiles; the results match
/// the reference there too. An unknown CPU is an error.
TEST(Jit, TargetCpuOverride) {
  std::mt19937 rng(21);
  Tensor x = reference::randomTensor({1, 9, 9, 16}, rng);
  Tensor w = reference::randomTensor({3, 3, 16, 32}, rng);
  Graph graph("avx2");
  ConvOptions o;
  o.layout = Layout::NHWC;
  o.filterLayout = FilterLayout::HWIO;
  o.padding = {1, 1, 1, 1};
  graph.output("y", graph.conv(graph.input("x", x.shape()), graph.constant(w), o));
  CompileOptions options;
  options.threads = 1;
  options.cpu = "x86-64-v3";
  Result<Executable> exe = compile(graph, options);
  ASSERT_TRUE(exe.ok()) << exe.message();
  Result<std::vector<Tensor>> out = exe->run({x});
  ASSERT_TRUE(out.ok()) << out.message();
  reference::ConvSpec spec{Layout::NHWC, true, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
  expectClose((*out)[0], reference::conv(x, w, nullptr, spec, {1, 9, 9, 32}), "AVX2 conv");

  options.cpu = "no-such-cpu";
  Result<Executable> bad = compile(graph, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message().rfind("unknown target CPU 'no-such-cpu' for '", 0), 0u)
      << bad.message();
}


namespace {
/// Naive concatenation of `parts` along `axis`.
Tensor naiveConcat(const std::vector<Tensor> &parts, int64_t axis) {
  Shape shape = parts[0].shape();
  shape[axis] = 0;
  for (const Tensor &p : parts)
    shape[axis] += p.shape()[axis];
  Tensor out = Tensor::zeros(shape);
  reference::forEachIndex(shape, [&](const Shape &i) {
    Shape src = i;
    for (const Tensor &p : parts) {
      if (src[axis] < p.shape()[axis]) {
        out.at(i) = p.at(src);
        return;
      }
      src[axis] -= p.shape()[axis];
    }
  });
  return out;
}
} // namespace

/// Concatenations are computed in place (tessel-pad-in-place): a
/// DenseNet-style block whose concatenations chain (each one's first input
/// is the previous one, each layer reads the block so far through a ReLU
/// and a padded conv) shares one buffer, and the block so far is also an
/// output read after later layers wrote theirs. A concatenation of a graph
/// input and of one value twice copies what it cannot take over.
TEST(Jit, ProducersWriteIntoConcatenations) {
  std::mt19937 rng(31);
  auto relu = [](const Tensor &t) {
    return reference::mapUnary(t, [](double v) { return std::max(v, 0.0); });
  };
  for (bool channelsLast : {true, false}) {
    Layout layout = channelsLast ? Layout::NHWC : Layout::NCHW;
    int64_t axis = channelsLast ? 3 : 1;
    const int64_t growth = 16;
    Shape sp = {6, 7};
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, 8, sp), rng);
    std::vector<Tensor> w;
    for (int64_t in : {8, 16, 32})
      w.push_back(reference::randomTensor({growth, in, 3, 3}, rng));

    // References.
    reference::ConvSpec spec{layout, false, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
    Shape outShape = reference::activationShape(layout, 2, growth, sp);
    Tensor f0 = relu(reference::conv(x, w[0], nullptr, spec, outShape));
    Tensor g1 = reference::conv(relu(f0), w[1], nullptr, spec, outShape);
    Tensor cat1 = naiveConcat({f0, g1}, axis);
    Tensor g2 = reference::conv(relu(cat1), w[2], nullptr, spec, outShape);
    Tensor cat2 = naiveConcat({cat1, g2}, axis);
    Tensor cat3 = naiveConcat({x, g2, g2}, axis);

    for (unsigned threads : {1u, 2u}) {
      Graph graph("concatenated");
      ConvOptions options;
      options.layout = layout;
      options.padding = {1, 1, 1, 1};
      Value xv = graph.input("x", x.shape());
      Value f0v = graph.relu(graph.conv(xv, graph.constant(w[0]), options));
      Value g1v = graph.conv(graph.relu(f0v), graph.constant(w[1]), options);
      Value cat1v = graph.concat({f0v, g1v}, axis);
      Value g2v = graph.conv(graph.relu(cat1v), graph.constant(w[2]), options);
      graph.output("cat2", graph.concat({cat1v, g2v}, axis));
      graph.output("cat1", cat1v);
      graph.output("cat3", graph.concat({xv, g2v, g2v}, axis));
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), 3u);
      std::string where = std::string(channelsLast ? "NHWC" : "NCHW") + " on " +
                          std::to_string(threads) + " threads";
      expectClose(out[0], cat2, "the block of three, " + where);
      expectClose(out[1], cat1, "the block of two, read after the third layer, " + where);
      expectClose(out[2], cat3, "the input and one layer twice, " + where);
    }
  }
}

/// A DenseNet block as PyTorch exports it: each layer concatenates the
/// block's input and every feature map so far, a flat list each time
/// (canonicalization chains them onto the previous concatenation). Also a
/// concatenation of the same values in another order, which must not reuse
/// the block's, and one of the block so far read after later layers.
TEST(Jit, FlatConcatenationsOfABlock) {
  std::mt19937 rng(32);
  auto relu = [](const Tensor &t) {
    return reference::mapUnary(t, [](double v) { return std::max(v, 0.0); });
  };
  for (bool channelsLast : {true, false}) {
    Layout layout = channelsLast ? Layout::NHWC : Layout::NCHW;
    int64_t axis = channelsLast ? 3 : 1;
    const int64_t growth = 8, layers = 4;
    Shape sp = {5, 6};
    Tensor x = reference::randomTensor(reference::activationShape(layout, 2, 16, sp), rng);
    reference::ConvSpec spec{layout, false, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
    Shape outShape = reference::activationShape(layout, 2, growth, sp);
    auto concat = [&](const std::vector<Tensor> &parts) { return naiveConcat(parts, axis); };
    std::vector<Tensor> w, features{x}, blocks;
    Tensor block = x;
    for (int64_t l = 0; l < layers; ++l) {
      w.push_back(reference::randomTensor({growth, 16 + l * growth, 3, 3}, rng));
      features.push_back(reference::conv(relu(block), w.back(), nullptr, spec, outShape));
      block = concat(features);
      blocks.push_back(block);
    }
    Tensor reordered = concat({features[2], features[0], features[1]});

    for (unsigned threads : {1u, 2u}) {
      Graph graph("flat_block");
      ConvOptions options;
      options.layout = layout;
      options.padding = {1, 1, 1, 1};
      std::vector<Value> fv{graph.input("x", x.shape())}, bv;
      Value blockv = fv[0];
      for (int64_t l = 0; l < layers; ++l) {
        fv.push_back(graph.conv(graph.relu(blockv), graph.constant(w[l]), options));
        blockv = graph.concat(fv, axis);
        bv.push_back(blockv);
      }
      graph.output("block", blockv);
      graph.output("second", bv[1]);
      graph.output("reordered", graph.concat({fv[2], fv[0], fv[1]}, axis));
      std::vector<Tensor> out = compileAndRun(graph, {x}, threads);
      ASSERT_EQ(out.size(), 3u);
      std::string where = std::string(channelsLast ? "NHWC" : "NCHW") + " on " +
                          std::to_string(threads) + " threads";
      expectClose(out[0], blocks.back(), "the whole block, " + where);
      expectClose(out[1], blocks[1], "the block of two layers, read after the others, " + where);
      expectClose(out[2], reordered, "the features reordered, " + where);
    }
  }
}


/// float32 exp, tanh and sigmoid are polynomial approximations
/// (tessel-lower-vectors), log a libm call: within a few ulp of the
/// double-precision result
/// over the whole range, including overflow to infinity, underflow to zero,
/// infinities, NaN, zeros and subnormals, both in the vector code of small
/// ops and in the loops LLVM vectorizes for large ones.
TEST(Jit, TranscendentalsAgreeWithLibm) {
  std::vector<float> values = {0.f, -0.f, 1e-30f, -1e-30f, 1e-40f, 1.f, -1.f, 0.5f,
                               88.7f, 88.8f, 89.f, -87.f, -103.f, -104.f, -200.f, 200.f,
                               9.f, -9.f, 20.f, -20.f, 3.4e38f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  // And a sweep of [-100, 100].
  for (int i = 0; values.size() < 4096; ++i)
    values.push_back(-100.f + 200.f * float(i) / 4000.f);
  struct Op {
    const char *name;
    Value (Graph::*build)(Value);
    double (*reference)(double);
  };
  const Op ops[] = {
      {"exp", &Graph::exp, [](double v) { return std::exp(v); }},
      {"tanh", &Graph::tanh, [](double v) { return std::tanh(v); }},
      {"sigmoid", &Graph::sigmoid, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
      {"log", &Graph::log, [](double v) { return std::log(v); }},
  };
  // 4096 elements are loops for LLVM's vectorizer; 16 are vectorized by
  // Tessel itself.
  for (int64_t count : {int64_t(4096), int64_t(16)}) {
    Tensor x = Tensor::fromValues({count},
                                  std::vector<float>(values.begin(), values.begin() + count));
    Graph graph("transcendentals");
    Value xv = graph.input("x", x.shape());
    for (const Op &op : ops)
      graph.output(op.name, (graph.*op.build)(xv));
    std::vector<Tensor> out = compileAndRun(graph, {x}, 1);
    ASSERT_EQ(out.size(), std::size(ops));
    for (size_t k = 0; k < std::size(ops); ++k) {
      Tensor want = reference::mapUnary(x, ops[k].reference);
      // A few float ulps relative, absolute only below the normal range.
      expectClose(out[k], want,
                  std::string(ops[k].name) + " of " + std::to_string(count) + " values",
                  /*atol=*/1e-37, /*rtol=*/1e-6);
    }
  }
}

} // namespace
