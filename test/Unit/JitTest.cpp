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

#include <random>

using namespace tessel;
using reference::Shape;

namespace {

/// Compiles `graph` and runs it on `inputs`; fails the test on any error.
std::vector<Tensor> compileAndRun(const Graph &graph, const std::vector<Tensor> &inputs,
                                  unsigned threads) {
  EXPECT_TRUE(graph.status().ok()) << graph.status().message();
  CompileOptions options;
  options.threads = threads;
  Result<Executable> exe = compile(graph, options);
  EXPECT_TRUE(exe.ok()) << exe.message() << "\n" << graph.toMlir();
  if (!exe)
    return {};
  Result<std::vector<Tensor>> out = exe->run(inputs);
  EXPECT_TRUE(out.ok()) << out.message();
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
