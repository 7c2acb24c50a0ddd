//===- AutodiffTest.cpp - Derivative rules against finite differences ----===//
//
// Every case builds a small graph y = f(inputs), a random cotangent v and
// the loss sum(v * y); tessel::gradient's compiled float32 gradients are
// compared with central finite differences of the same graph run in
// float64. Convolutions and pooling are also compared with naive reference
// gradients written from PyTorch's definitions (Reference.h style loops).
// Every case also checks forward mode: tessel::jvp's tangent of y along
// random tangents against finite differences along them, and the transpose
// identity <v, J t> = <J^T v, t> against the reverse-mode gradients.
// Hessian-vector products (tessel::hvp) are checked against finite
// differences of the float64 gradient and for symmetry.
//
//===----------------------------------------------------------------------===//

#include "Float64Function.h"
#include "Reference.h"
#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Training.h"

#include "gtest/gtest.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <functional>
#include <map>
#include <random>

using namespace tessel;
using reference::Shape;

namespace {

struct InputSpec {
  std::string name;
  Shape shape;
  float lo = -1.f, hi = 1.f;
};

using Builder = std::function<Value(Graph &, const std::vector<Value> &)>;
/// A naive reference for the gradients: (inputs, cotangent) -> gradients.
using NaiveGradient =
    std::function<std::vector<Tensor>(const std::vector<Tensor> &, const Tensor &)>;

struct GradCase {
  std::string name;
  std::vector<InputSpec> inputs;
  Builder build;
  NaiveGradient naive = nullptr;
};

/// Checks `got` against `want` elementwise with a tolerance relative to the
/// largest gradient entry; reports the worst element.
void expectClose(const std::string &what, const Tensor &got,
                 const std::vector<double> &want, double rtol) {
  ASSERT_EQ(got.numElements(), static_cast<int64_t>(want.size())) << what;
  double scale = 1.0;
  for (double w : want)
    scale = std::max(scale, std::abs(w));
  double worst = 0;
  int64_t worstAt = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double err = std::abs(double(got.data()[i]) - want[i]);
    if (err > worst) {
      worst = err;
      worstAt = static_cast<int64_t>(i);
    }
  }
  EXPECT_LE(worst, rtol * scale)
      << what << ": element " << worstAt << " is " << got.data()[worstAt] << ", expected "
      << want[worstAt];
}

double dot(const Tensor &a, const Tensor &b) {
  double sum = 0;
  for (int64_t i = 0; i < a.numElements(); ++i)
    sum += double(a.data()[i]) * double(b.data()[i]);
  return sum;
}

double absDot(const Tensor &a, const Tensor &b) {
  double sum = 0;
  for (int64_t i = 0; i < a.numElements(); ++i)
    sum += std::abs(double(a.data()[i]) * double(b.data()[i]));
  return sum;
}

/// Forward mode on the same case: tessel::jvp's compiled float32 tangent of
/// y along random tangents of every input against central differences of
/// the float64 graph along them, and the transpose identity
/// <v, J t> = sum_i <J_i^T v, t_i> against the gradients `grads` that
/// reverse mode computed for the cotangent v.
void checkTangents(const GradCase &c, const std::vector<Tensor> &values,
                   const Tensor &cotangent, const std::vector<Tensor> &grads,
                   std::mt19937 &rng) {
  Graph g(c.name);
  std::vector<Value> inputs;
  std::vector<Tensor> tangents;
  for (const InputSpec &in : c.inputs) {
    inputs.push_back(g.input(in.name, in.shape));
    tangents.push_back(reference::randomTensor(in.shape, rng));
  }
  Value y = c.build(g, inputs);
  g.output("y", y);
  ASSERT_TRUE(g.status()) << g.status().message();
  Shape yShape = g.shape(y);

  auto forward = jvp(g, inputs);
  ASSERT_TRUE(forward) << forward.status().message();
  CompileOptions options;
  options.threads = 2;
  options.minParallelIterations = 0; // small layers threaded too: under test
  auto exe = compile(*forward, options);
  ASSERT_TRUE(exe) << exe.status().message();
  ASSERT_EQ(exe->inputs().size(), 2 * inputs.size());
  EXPECT_EQ(exe->inputs()[inputs.size()].name, "tangent_" + c.inputs[0].name);
  ASSERT_EQ(exe->outputs().size(), 2u);
  EXPECT_EQ(exe->outputs()[1].name, "jvp_y");
  std::vector<Tensor> feed(values);
  feed.insert(feed.end(), tangents.begin(), tangents.end());
  auto outputs = exe->run(feed);
  ASSERT_TRUE(outputs) << outputs.status().message();
  const Tensor &jt = (*outputs)[1];

  std::string error;
  auto f64 = Float64Function::compile(g.toMlir(), c.name, error);
  ASSERT_TRUE(f64) << error;
  const double h = 1e-6;
  auto along = [&](double step) {
    std::vector<std::vector<double>> args;
    for (size_t i = 0; i < values.size(); ++i) {
      args.emplace_back(values[i].data(), values[i].data() + values[i].numElements());
      for (size_t e = 0; e < args.back().size(); ++e)
        args.back()[e] += step * tangents[i].data()[e];
    }
    auto result = f64->runTensors(args, {yShape});
    return result.empty() ? std::vector<double>() : result[0];
  };
  std::vector<double> plus = along(h), minus = along(-h);
  ASSERT_EQ(plus.size(), static_cast<size_t>(jt.numElements()));
  std::vector<double> fd(plus.size());
  for (size_t e = 0; e < fd.size(); ++e)
    fd[e] = (plus[e] - minus[e]) / (2 * h);
  expectClose("the tangent of y vs finite differences", jt, fd, 2e-3);

  double lhs = dot(cotangent, jt), rhs = 0, scale = absDot(cotangent, jt);
  for (size_t i = 0; i < grads.size(); ++i) {
    rhs += dot(grads[i], tangents[i]);
    scale += absDot(grads[i], tangents[i]);
  }
  EXPECT_LE(std::abs(lhs - rhs), 1e-4 * std::max(scale, 1.0))
      << c.name << ": <v, J t> = " << lhs << " but <J^T v, t> = " << rhs;
}

void checkGradients(const GradCase &c, unsigned seed = 7) {
  SCOPED_TRACE(c.name);
  std::mt19937 rng(seed);
  Graph g(c.name);
  std::vector<Value> inputs;
  std::vector<Tensor> values;
  for (const InputSpec &in : c.inputs) {
    inputs.push_back(g.input(in.name, in.shape));
    values.push_back(reference::randomTensor(in.shape, rng, in.lo, in.hi));
  }
  Value y = c.build(g, inputs);
  ASSERT_TRUE(g.status()) << g.status().message();
  Shape yShape = g.shape(y);
  Value v = g.input("cotangent", yShape);
  Tensor cotangent = reference::randomTensor(yShape, rng);
  Value loss = g.sum(g.mul(y, v), std::nullopt);
  g.output("loss", loss);
  ASSERT_TRUE(g.status()) << g.status().message();

  // Analytic gradients, compiled in float32.
  auto grads = gradient(g, loss, inputs);
  ASSERT_TRUE(grads) << grads.status().message();
  CompileOptions options;
  options.threads = 2;
  options.minParallelIterations = 0; // small layers threaded too: under test
  auto exe = compile(*grads, options);
  ASSERT_TRUE(exe) << exe.status().message();
  std::vector<Tensor> feed(values);
  feed.push_back(cotangent);
  std::vector<Tensor> before;
  for (const Tensor &t : feed)
    before.push_back(t.clone());
  auto outputs = exe->run(feed);
  ASSERT_TRUE(outputs) << outputs.status().message();
  ASSERT_EQ(outputs->size(), 1 + inputs.size());
  for (auto [i, t] : llvm::enumerate(feed))
    EXPECT_TRUE(std::equal(t.data(), t.data() + t.numElements(), before[i].data()))
        << c.name << ": input " << i << " was written by the compiled graph";

  // Central differences of the float64 graph.
  std::string error;
  auto f64 = Float64Function::compile(g.toMlir(), c.name, error);
  ASSERT_TRUE(f64) << error;
  std::vector<std::vector<double>> args;
  for (const Tensor &t : feed)
    args.emplace_back(t.data(), t.data() + t.numElements());
  const double h = 1e-6;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<double> fd(args[i].size());
    for (size_t e = 0; e < args[i].size(); ++e) {
      double x = args[i][e];
      args[i][e] = x + h;
      double plus = f64->run(args);
      args[i][e] = x - h;
      double minus = f64->run(args);
      args[i][e] = x;
      fd[e] = (plus - minus) / (2 * h);
    }
    expectClose("d loss / d " + c.inputs[i].name + " vs finite differences",
                (*outputs)[1 + i], fd, 2e-3);
  }
  checkTangents(c, values, cotangent,
                std::vector<Tensor>(outputs->begin() + 1, outputs->end()), rng);
  if (c.naive) {
    std::vector<Tensor> naive = c.naive(values, cotangent);
    for (size_t i = 0; i < naive.size(); ++i) {
      if (naive[i].empty())
        continue;
      std::vector<double> want(naive[i].data(), naive[i].data() + naive[i].numElements());
      expectClose("d loss / d " + c.inputs[i].name + " vs the naive gradient",
                  (*outputs)[1 + i], want, 1e-4);
    }
  }
}

//===----------------------------------------------------------------------===//
// Naive reference gradients of conv and pooling
//===----------------------------------------------------------------------===//

/// dx and dw of sum(v * conv(x, w)), from the forward loop nest of
/// reference::conv with each multiply-add turned into its two adjoints.
std::vector<Tensor> naiveConvGradients(const Tensor &x, const Tensor &w,
                                       const Tensor &v, const reference::ConvSpec &s) {
  reference::Activation in{x, s.layout}, out{v, s.layout};
  reference::Activation dx{Tensor::zeros(x.shape()), s.layout};
  Tensor dw = Tensor::zeros(w.shape());
  int sr = reference::spatialRank(s.layout);
  int64_t cinG = in.channels() / s.groups, coutG = out.channels() / s.groups;
  Shape inSp = in.spatial();
  Shape kernel = s.spatialFirstFilter ? Shape(w.shape().begin(), w.shape().begin() + sr)
                                      : Shape(w.shape().begin() + 2, w.shape().end());
  auto windex = [&](int64_t o, int64_t i, const Shape &k) {
    Shape index;
    if (s.spatialFirstFilter) { index = k; index.push_back(i); index.push_back(o); }
    else { index = {o, i}; index.insert(index.end(), k.begin(), k.end()); }
    return index;
  };
  for (int64_t n = 0; n < out.batch(); ++n)
    for (int64_t oc = 0; oc < out.channels(); ++oc)
      reference::forEachIndex(out.spatial(), [&](const Shape &o) {
        int64_t g = oc / coutG;
        double dy = out.at(n, oc, o);
        for (int64_t ic = 0; ic < cinG; ++ic)
          reference::forEachIndex(kernel, [&](const Shape &k) {
            Shape p(sr);
            for (int d = 0; d < sr; ++d) {
              p[d] = o[d] * s.strides[d] - s.padLow[d] + k[d] * s.dilations[d];
              if (p[d] < 0 || p[d] >= inSp[d]) return;
            }
            Shape wi = windex(oc, ic, k);
            dx.at(n, g * cinG + ic, p) += float(dy * w.at(wi));
            dw.at(wi) += float(dy * in.at(n, g * cinG + ic, p));
          });
      });
  return {dx.t, dw};
}

/// dx of sum(v * pool(x)): max to the first maximum of each window (in
/// row-major window order), avg divided by the forward's divisor, lp by
/// |x|^(p-1) sign(x) y^(1-p).
Tensor naivePoolGradient(const Tensor &x, const Tensor &v, const reference::PoolSpec &s) {
  reference::Activation in{x, s.layout}, out{v, s.layout};
  reference::Activation dx{Tensor::zeros(x.shape()), s.layout};
  Tensor y = reference::pool(x, s, v.shape());
  reference::Activation yv{y, s.layout};
  int sr = reference::spatialRank(s.layout);
  Shape inSp = in.spatial();
  for (int64_t n = 0; n < out.batch(); ++n)
    for (int64_t c = 0; c < out.channels(); ++c)
      reference::forEachIndex(out.spatial(), [&](const Shape &o) {
        std::vector<Shape> positions;
        int64_t insidePadded = 0;
        reference::forEachIndex(s.kernel, [&](const Shape &k) {
          Shape p(sr);
          bool inInput = true, inPadded = true;
          for (int d = 0; d < sr; ++d) {
            p[d] = o[d] * s.strides[d] - s.padLow[d] + k[d] * s.dilations[d];
            inInput &= p[d] >= 0 && p[d] < inSp[d];
            inPadded &= p[d] < inSp[d] + s.padHigh[d];
          }
          insidePadded += inPadded;
          if (inInput)
            positions.push_back(p);
        });
        double dy = out.at(n, c, o);
        if (s.kind == PoolKind::Max) {
          Shape best = positions.front();
          for (const Shape &p : positions)
            if (in.at(n, c, p) > in.at(n, c, best))
              best = p;
          dx.at(n, c, best) += float(dy);
          return;
        }
        double divisor = s.countIncludePad ? insidePadded : double(positions.size());
        for (const Shape &p : positions) {
          double xv = in.at(n, c, p);
          double g = s.kind == PoolKind::Avg
                         ? dy / divisor
                         : dy * std::pow(std::abs(xv), s.p - 1) * (xv > 0 ? 1 : -1) *
                               std::pow(double(yv.at(n, c, o)), 1 - s.p);
          dx.at(n, c, p) += float(g);
        }
      });
  return dx.t;
}

//===----------------------------------------------------------------------===//
// Cases
//===----------------------------------------------------------------------===//

Shape filterShape(bool spatialFirst, int64_t out, int64_t in, const Shape &k) {
  Shape s;
  if (spatialFirst) { s = k; s.push_back(in); s.push_back(out); }
  else { s = {out, in}; s.insert(s.end(), k.begin(), k.end()); }
  return s;
}

FilterLayout filterLayoutFor(Layout l, bool spatialFirst) {
  switch (reference::spatialRank(l)) {
  case 1: return spatialFirst ? FilterLayout::WIO : FilterLayout::OIW;
  case 2: return spatialFirst ? FilterLayout::HWIO : FilterLayout::OIHW;
  default: return spatialFirst ? FilterLayout::DHWIO : FilterLayout::OIDHW;
  }
}

/// A conv case with its naive reference gradient.
GradCase convCase(std::string name, Layout layout, bool spatialFirst, int64_t n,
                  int64_t cin, int64_t cout, Shape spatial, Shape kernel, Shape strides,
                  Shape dilations, Shape padLow, Shape padHigh, int64_t groups,
                  bool bias) {
  GradCase c;
  c.name = std::move(name);
  c.inputs = {{"x", reference::activationShape(layout, n, cin, spatial)},
              {"w", filterShape(spatialFirst, cout, cin / groups, kernel)}};
  if (bias)
    c.inputs.push_back({"b", {cout}});
  ConvOptions o;
  o.layout = layout;
  o.filterLayout = filterLayoutFor(layout, spatialFirst);
  o.strides = strides;
  o.dilations = dilations;
  o.padding = padLow;
  o.padding.insert(o.padding.end(), padHigh.begin(), padHigh.end());
  o.groups = groups;
  c.build = [o, bias](Graph &g, const std::vector<Value> &in) {
    return g.conv(in[0], in[1], o, bias ? std::optional<Value>(in[2]) : std::nullopt);
  };
  reference::ConvSpec spec{layout, spatialFirst, strides, dilations, padLow, padHigh, groups};
  c.naive = [spec](const std::vector<Tensor> &in, const Tensor &v) {
    return naiveConvGradients(in[0], in[1], v, spec);
  };
  return c;
}

GradCase poolCase(std::string name, PoolKind kind, Layout layout, Shape inShape,
                  Shape kernel, Shape strides, Shape dilations, Shape padLow,
                  Shape padHigh, bool ceil, bool includePad, double p = 2.0) {
  GradCase c;
  c.name = std::move(name);
  // Lp pooling is smooth away from x = 0 only.
  c.inputs = {{"x", inShape, kind == PoolKind::Lp ? 0.2f : -1.f, 1.f}};
  PoolOptions o;
  o.layout = layout;
  o.kernel = kernel;
  o.strides = strides;
  o.dilations = dilations;
  o.padding = padLow;
  o.padding.insert(o.padding.end(), padHigh.begin(), padHigh.end());
  o.ceilMode = ceil;
  o.countIncludePad = includePad;
  o.p = p;
  c.build = [o, kind](Graph &g, const std::vector<Value> &in) {
    return g.pool(kind, in[0], o);
  };
  if (!ceil) {
    reference::PoolSpec spec{kind, layout, kernel, strides, dilations, padLow, padHigh,
                             includePad, p};
    c.naive = [spec](const std::vector<Tensor> &in, const Tensor &v) {
      return std::vector<Tensor>{naivePoolGradient(in[0], v, spec)};
    };
  }
  return c;
}

GradCase unary(std::string name, Value (Graph::*op)(Value), float lo = -1.f,
               float hi = 1.f) {
  return {name, {{"x", {2, 3, 4}, lo, hi}},
          [op](Graph &g, const std::vector<Value> &in) { return (g.*op)(in[0]); }};
}

GradCase binary(std::string name, Value (Graph::*op)(Value, Value), Shape a, Shape b,
                float lo = -1.f, float hi = 1.f) {
  return {name, {{"a", a, lo, hi}, {"b", b, 0.5f, 1.5f}},
          [op](Graph &g, const std::vector<Value> &in) { return (g.*op)(in[0], in[1]); }};
}

} // namespace

TEST(Autodiff, Convolutions) {
  using L = Layout;
  checkGradients(convCase("conv2d_nchw_stride2_pad_bias", L::NCHW, false, 2, 3, 4, {7, 7},
                          {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, true));
  checkGradients(convCase("conv2d_nhwc_dilated_asym_pad", L::NHWC, true, 1, 4, 5, {8, 7},
                          {3, 3}, {1, 1}, {2, 2}, {1, 0}, {2, 1}, 1, false));
  checkGradients(convCase("conv2d_grouped", L::NCHW, false, 1, 4, 6, {6, 6}, {3, 3},
                          {1, 1}, {1, 1}, {0, 0}, {0, 0}, 2, true));
  checkGradients(convCase("conv2d_depthwise_nhwc", L::NHWC, true, 1, 4, 4, {6, 6},
                          {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 4, false));
  // Depthwise filter gradients run as depthwise convs over batch x channels
  // (DecomposeConv.cpp): batches above 1, strides, dilations, crops, 1-D/3-D.
  checkGradients(convCase("conv2d_depthwise_nchw_batch3_dilated", L::NCHW, false, 3, 5, 5,
                          {7, 6}, {3, 2}, {1, 2}, {2, 1}, {2, 0}, {1, 1}, 5, true));
  checkGradients(convCase("conv1d_depthwise_nwc_stride2_crop", L::NWC, true, 2, 3, 3, {10},
                          {3}, {2}, {1}, {0}, {0}, 3, false));
  checkGradients(convCase("conv3d_depthwise_ncdhw", L::NCDHW, false, 2, 2, 2, {4, 4, 3},
                          {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 0, 1}, {0, 1, 0}, 2, false));
  checkGradients(convCase("conv2d_stride3_leftover", L::NCHW, false, 1, 2, 2, {8, 8},
                          {2, 2}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, 1, false));
  checkGradients(convCase("conv1d_ncw_strided_dilated", L::NCW, false, 2, 3, 4, {11},
                          {3}, {2}, {2}, {1}, {0}, 1, true));
  checkGradients(convCase("conv1d_nwc_grouped", L::NWC, true, 1, 6, 3, {9}, {2}, {1},
                          {1}, {1}, {1}, 3, false));
  checkGradients(convCase("conv3d_ncdhw_pad", L::NCDHW, false, 1, 2, 3, {4, 4, 4},
                          {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 1, 0}, 1, true));
  checkGradients(convCase("conv3d_ndhwc_stride2", L::NDHWC, true, 1, 2, 2, {5, 5, 5},
                          {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1, false));
}

namespace {

/// A 3x3 OIHW filter gradient (padding 1) checked against the naive
/// reference on one and two threads: for sizes too large for finite
/// differences.
struct FilterGradientCase {
  const char *name;
  Layout layout;
  int64_t n, cin, cout, size, stride;
  int64_t groups = 1;
};

void expectNaiveFilterGradient(const FilterGradientCase &k, std::mt19937 &rng) {
  SCOPED_TRACE(k.name);
  Shape xShape = reference::activationShape(k.layout, k.n, k.cin, {k.size, k.size});
  Shape wShape = {k.cout, k.cin / k.groups, 3, 3};
  Tensor x = reference::randomTensor(xShape, rng), w = reference::randomTensor(wShape, rng);
  Graph g(k.name);
  Value xv = g.input("x", xShape), wv = g.input("w", wShape);
  ConvOptions o;
  o.layout = k.layout;
  o.filterLayout = FilterLayout::OIHW;
  o.strides = {k.stride, k.stride};
  o.padding = {1, 1, 1, 1};
  o.groups = k.groups;
  Value y = g.conv(xv, wv, o);
  Shape yShape = g.shape(y);
  Tensor v = reference::randomTensor(yShape, rng);
  Value loss = g.sum(g.mul(y, g.input("cotangent", yShape)), std::nullopt);
  g.output("loss", loss);
  auto grads = gradient(g, loss, {wv});
  ASSERT_TRUE(grads) << grads.status().message();
  reference::ConvSpec spec{k.layout, false, {k.stride, k.stride}, {1, 1}, {1, 1}, {1, 1},
                           k.groups};
  Tensor want = naiveConvGradients(x, w, v, spec)[1];
  for (unsigned threads : {1u, 2u}) {
    CompileOptions options;
    options.threads = threads;
    auto exe = compile(*grads, options);
    ASSERT_TRUE(exe) << exe.status().message();
    auto outputs = exe->run({x, w, v});
    ASSERT_TRUE(outputs) << outputs.status().message();
    ASSERT_EQ(outputs->size(), 2u);
    expectClose(std::string("d loss / d w on ") + std::to_string(threads) +
                    " threads vs the naive gradient",
                (*outputs)[1], std::vector<double>(want.data(), want.data() + want.numElements()),
                1e-4);
  }
}

/// expectNaiveFilterGradient for each of `cases`, inputs drawn from `seed`.
void expectNaiveFilterGradients(std::initializer_list<FilterGradientCase> cases,
                                unsigned seed) {
  std::mt19937 rng(seed);
  for (const FilterGradientCase &k : cases)
    expectNaiveFilterGradient(k, rng);
}

} // namespace

/// Filter gradients whose output gradient is larger than L2 (over 512 KB)
/// are computed in blocks of its rows (tessel-vectorize's reduction
/// blocks).
TEST(Autodiff, FilterGradientsOfLargeMaps) {
  using L = Layout;
  expectNaiveFilterGradients(
      {FilterGradientCase{"nhwc_stride1", L::NHWC, 4, 8, 64, 30, 1},
       FilterGradientCase{"nchw_stride2", L::NCHW, 4, 4, 64, 60, 2},
       FilterGradientCase{"nhwc_stride2_odd_rows", L::NHWC, 8, 3, 64, 42, 2}},
      11);
}

/// OIHW filter gradients are copied out of the convolution 16 input
/// channels at a time by 16x16 transposes, streamed to memory (non-temporal
/// stores) where the gradient is 1 MB or more: both sides of that size, and
/// an input channel count 16 does not divide.
TEST(Autodiff, FilterGradientsIntoOihw) {
  using L = Layout;
  expectNaiveFilterGradients(
      {FilterGradientCase{"nchw_streamed", L::NCHW, 1, 64, 512, 2, 1},
       FilterGradientCase{"nhwc_streamed_stride2", L::NHWC, 2, 32, 1024, 5, 2},
       FilterGradientCase{"nhwc_cached", L::NHWC, 2, 32, 48, 6, 1},
       FilterGradientCase{"nchw_24_channels", L::NCHW, 1, 24, 64, 4, 1}},
      5);
}

/// A dense filter gradient copies its input to [C, H, W, N]: from NHWC, in
/// tiles of 16 channels by N x (16 / N) columns that tessel-vectorize
/// gathers into 16x16 transposes (batches 4 and 8), a batch of 16 as plain
/// 16x16 transposes, a batch of 2 with scalar copies; strides 1 and 2, and
/// an NCHW input.
TEST(Autodiff, FilterGradientsOfBatches) {
  using L = Layout;
  expectNaiveFilterGradients(
      {FilterGradientCase{"nhwc_batch8_stride2", L::NHWC, 8, 32, 16, 12, 2},
       FilterGradientCase{"nhwc_batch4", L::NHWC, 4, 48, 32, 9, 1},
       FilterGradientCase{"nhwc_batch16_stride2", L::NHWC, 16, 16, 16, 8, 2},
       FilterGradientCase{"nhwc_batch2", L::NHWC, 2, 32, 16, 10, 1},
       FilterGradientCase{"nchw_batch8", L::NCHW, 8, 16, 32, 8, 1}},
      29);
}

/// Depthwise filter gradients are depthwise convs one rank up, the batch
/// their depth and the output gradient's columns their taps
/// (DecomposeConv.cpp): on maps of 16 columns or more a kernel row is too
/// long to hold in registers, and the register tiles take it a tap at a
/// step, over channel vectors. Strides 1 and 2, NCHW and NHWC, 24, 16 and
/// 32 channels.
TEST(Autodiff, DepthwiseFilterGradientsOfWideMaps) {
  using L = Layout;
  expectNaiveFilterGradients(
      {FilterGradientCase{"nchw_stride2", L::NCHW, 2, 24, 24, 40, 2, 24},
       FilterGradientCase{"nhwc_stride1", L::NHWC, 4, 16, 16, 20, 1, 16},
       FilterGradientCase{"nhwc_stride2_odd", L::NHWC, 3, 32, 32, 37, 2, 32}},
      23);
}

TEST(Autodiff, TransposedConvolutions) {
  auto convT = [](std::string name, Layout layout, FilterLayout fl, Shape x, Shape w,
                  ConvOptions o, bool bias) {
    o.layout = layout;
    o.filterLayout = fl;
    GradCase c{name, {{"x", x}, {"w", w}},
               [o, bias](Graph &g, const std::vector<Value> &in) {
                 return g.convTranspose(in[0], in[1], o,
                                        bias ? std::optional<Value>(in[2]) : std::nullopt);
               }};
    if (bias)
      c.inputs.push_back({"b", {o.groups * (fl == FilterLayout::HWIO ? w.back() : w[1])}});
    return c;
  };
  ConvOptions a;
  a.strides = {2, 2};
  a.padding = {1, 1, 1, 1};
  a.outputPadding = {1, 1};
  checkGradients(convT("convT_nchw_stride2", Layout::NCHW, FilterLayout::IOHW,
                       {1, 3, 4, 4}, {3, 2, 3, 3}, a, true));
  ConvOptions b;
  b.groups = 2;
  b.dilations = {2, 1};
  checkGradients(convT("convT_nhwc_grouped_dilated", Layout::NHWC, FilterLayout::HWIO,
                       {1, 4, 4, 4}, {3, 3, 4, 2}, b, false));
  ConvOptions c;
  c.strides = {3};
  c.padding = {0, 1};
  checkGradients(convT("convT_1d", Layout::NCW, FilterLayout::IOW, {2, 2, 5}, {2, 3, 4},
                       c, true));
  // Stride 3 over a 2-wide kernel: one output phase of each dim meets no
  // kernel tap and holds the bias alone.
  ConvOptions d;
  d.strides = {3, 3};
  d.padding = {1, 0, 0, 1};
  checkGradients(convT("convT_empty_phase", Layout::NHWC, FilterLayout::HWIO,
                       {1, 3, 3, 2}, {2, 2, 2, 3}, d, true));
}

TEST(Autodiff, Pooling) {
  using K = PoolKind;
  using L = Layout;
  checkGradients(poolCase("max2d_k3s2p1", K::Max, L::NCHW, {2, 3, 7, 7}, {3, 3}, {2, 2},
                          {1, 1}, {1, 1}, {1, 1}, false, false));
  checkGradients(poolCase("max2d_nhwc_dilated_ceil", K::Max, L::NHWC, {1, 8, 7, 3},
                          {2, 2}, {2, 2}, {2, 1}, {0, 0}, {0, 0}, true, false));
  checkGradients(poolCase("avg2d_exclude_pad", K::Avg, L::NCHW, {1, 2, 7, 6}, {3, 3},
                          {2, 2}, {1, 1}, {1, 1}, {1, 1}, false, false));
  checkGradients(poolCase("avg2d_include_pad_ceil", K::Avg, L::NCHW, {1, 2, 6, 6},
                          {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, true));
  checkGradients(poolCase("avg2d_nhwc_include_pad", K::Avg, L::NHWC, {1, 5, 5, 2},
                          {2, 2}, {1, 1}, {1, 1}, {1, 0}, {0, 1}, false, true));
  checkGradients(poolCase("lp2_2d", K::Lp, L::NCHW, {1, 2, 6, 6}, {2, 2}, {2, 2}, {1, 1},
                          {0, 0}, {0, 0}, false, false, 2.0));
  checkGradients(poolCase("lp3_1d_overlapping", K::Lp, L::NCW, {2, 2, 9}, {3}, {1}, {1},
                          {0}, {0}, false, false, 3.0));
  checkGradients(poolCase("max1d", K::Max, L::NWC, {2, 9, 3}, {3}, {2}, {1}, {1}, {1},
                          false, false));
  checkGradients(poolCase("avg3d", K::Avg, L::NCDHW, {1, 2, 4, 4, 4}, {2, 2, 2},
                          {2, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, false, false));
  checkGradients(poolCase("max3d_ndhwc", K::Max, L::NDHWC, {1, 5, 4, 4, 2}, {2, 2, 2},
                          {1, 2, 2}, {1, 1, 1}, {1, 0, 0}, {0, 0, 0}, false, false));
}

TEST(Autodiff, AdaptiveAndGlobalPooling) {
  auto adaptive = [](std::string name, PoolKind kind, Layout layout, Shape x, Shape out) {
    return GradCase{name, {{"x", x}}, [=](Graph &g, const std::vector<Value> &in) {
                      return g.adaptivePool(kind, in[0], layout, out);
                    }};
  };
  checkGradients(adaptive("adaptive_avg_7x5_to_3x2", PoolKind::Avg, Layout::NCHW,
                          {1, 2, 7, 5}, {3, 2}));
  checkGradients(adaptive("adaptive_max_nhwc_5x6_to_3x4", PoolKind::Max, Layout::NHWC,
                          {1, 5, 6, 2}, {3, 4}));
  checkGradients(adaptive("adaptive_avg_1d_upsampling", PoolKind::Avg, Layout::NCW,
                          {1, 2, 3}, {5}));
  auto global = [](std::string name, PoolKind kind, Layout layout, Shape x, float lo) {
    return GradCase{name, {{"x", x, lo, 1.f}}, [=](Graph &g, const std::vector<Value> &in) {
                      return g.globalPool(kind, in[0], layout, 3.0);
                    }};
  };
  checkGradients(global("global_avg", PoolKind::Avg, Layout::NCHW, {2, 3, 4, 5}, -1.f));
  checkGradients(global("global_max_nhwc", PoolKind::Max, Layout::NHWC, {2, 4, 3, 3}, -1.f));
  checkGradients(global("global_lp3", PoolKind::Lp, Layout::NCW, {1, 2, 6}, 0.2f));
}

TEST(Autodiff, BatchNorm) {
  checkGradients({"batch_norm_inference",
                  {{"x", {2, 3, 4, 4}}, {"scale", {3}}, {"bias", {3}}, {"mean", {3}},
                   {"var", {3}, 0.5f, 2.f}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.batchNorm(in[0], in[1], in[2], in[3], in[4], Layout::NCHW, 1e-3);
                  }});
  for (auto layout : {std::optional<Layout>(Layout::NCHW), std::optional<Layout>(Layout::NHWC),
                      std::optional<Layout>()}) {
    Shape x = !layout ? Shape{6, 3} : layout == Layout::NCHW ? Shape{2, 3, 3, 4} : Shape{2, 3, 4, 3};
    checkGradients({"batch_norm_train",
                    {{"x", x}, {"gamma", {3}}, {"beta", {3}}},
                    [layout](Graph &g, const std::vector<Value> &in) {
                      return g.batchNormTrain(in[0], in[1], in[2], layout)[0];
                    }});
  }
  // The batch statistics are outputs too: a loss reading them differentiates
  // through them.
  checkGradients({"batch_norm_train_statistics",
                  {{"x", {4, 3, 2}}, {"gamma", {3}}, {"beta", {3}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    auto r = g.batchNormTrain(in[0], in[1], in[2], Layout::NCW);
                    Value stats = g.add(g.mul(r[1], r[1]), g.sqrt(r[2]));
                    return g.add(g.sum(r[0], std::vector<int64_t>{0, 2}), stats);
                  }});
}

TEST(Autodiff, Elementwise) {
  checkGradients(unary("relu", &Graph::relu));
  checkGradients(unary("sigmoid", &Graph::sigmoid));
  checkGradients(unary("tanh", &Graph::tanh));
  checkGradients(unary("abs", &Graph::abs));
  checkGradients(unary("neg", &Graph::neg));
  checkGradients(unary("sqrt", &Graph::sqrt, 0.2f, 2.f));
  checkGradients(unary("exp", &Graph::exp));
  checkGradients(unary("erf", &Graph::erf, -2.f, 2.f));
  checkGradients(unary("log", &Graph::log, 0.2f, 2.f));
  checkGradients(unary("sign", &Graph::sign));
  checkGradients({"leaky_relu", {{"x", {3, 5}}},
                  [](Graph &g, const std::vector<Value> &in) { return g.leakyRelu(in[0], 0.2); }});
  checkGradients({"clamp", {{"x", {3, 5}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.clamp(in[0], -0.5, 0.4);
                  }});
  checkGradients({"relu6_min_only", {{"x", {3, 5}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.clamp(in[0], 0.1, std::nullopt);
                  }});
  checkGradients(binary("add_broadcast", &Graph::add, {2, 3, 4}, {3, 1}));
  checkGradients(binary("sub_broadcast", &Graph::sub, {4}, {2, 3, 4}));
  checkGradients(binary("mul_broadcast", &Graph::mul, {2, 1, 4}, {3, 1}));
  checkGradients(binary("div_broadcast", &Graph::div, {2, 3}, {3}));
  checkGradients(binary("pow", &Graph::pow, {2, 3}, {1, 3}, 0.5f, 1.5f));
  // a in [-1, 3] against b in [0.5, 1.5]: each operand the larger somewhere.
  checkGradients(binary("maximum_broadcast", &Graph::maximum, {2, 3}, {3}, -1.f, 3.f));
  checkGradients(binary("minimum_broadcast", &Graph::minimum, {2, 1, 3}, {4, 1}, -1.f, 3.f));
  // A value used twice sums both paths.
  checkGradients({"reuse", {{"x", {4, 3}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.mul(g.tanh(in[0]), g.add(in[0], in[0]));
                  }});
}

TEST(Autodiff, LinearAndMatmul) {
  checkGradients({"linear_bias_3d", {{"x", {2, 3, 5}}, {"w", {4, 5}}, {"b", {4}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.linear(in[0], in[1], in[2]);
                  }});
  checkGradients({"linear_1d", {{"x", {5}}, {"w", {3, 5}}},
                  [](Graph &g, const std::vector<Value> &in) { return g.linear(in[0], in[1]); }});
  auto mm = [](std::string name, Shape a, Shape b) {
    return GradCase{name, {{"a", a}, {"b", b}}, [](Graph &g, const std::vector<Value> &in) {
                      return g.matmul(in[0], in[1]);
                    }};
  };
  checkGradients(mm("matmul_batched_broadcast", {2, 1, 3, 4}, {3, 4, 2}));
  checkGradients(mm("matmul_vector_matrix", {4}, {2, 4, 3}));
  checkGradients(mm("matmul_matrix_vector", {3, 4}, {4}));
  checkGradients(mm("matmul_2d", {3, 4}, {4, 5}));
}

TEST(Autodiff, ShapesAndLayouts) {
  checkGradients({"reshape_flatten_transpose", {{"x", {2, 3, 4}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    Value t = g.transpose(in[0], {2, 0, 1});
                    return g.flatten(g.reshape(t, {4, 6}), 0);
                  }});
  checkGradients({"concat", {{"a", {2, 1, 3}}, {"b", {2, 3, 3}}, {"c", {2, 2, 3}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.concat({in[0], in[1], in[2], in[0]}, 1);
                  }});
  checkGradients({"relayout", {{"x", {1, 3, 2, 4}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.relayout(in[0], Layout::NCHW, Layout::NHWC);
                  }});
  checkGradients({"slice_negative_and_strided", {{"x", {3, 7, 4}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.slice(in[0], {2, 1, 0}, {2, 3, 4}, {-1, 2, 1});
                  }});
  checkGradients({"gather_repeated_negative", {{"x", {3, 5}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.gather(in[0], g.labels({2, 2}, {4, -1, 0, 4}), 1);
                  }});
}

TEST(Autodiff, Resampling) {
  for (PadMode mode : {PadMode::Constant, PadMode::Reflect, PadMode::Replicate,
                       PadMode::Circular}) {
    checkGradients({"pad_" + std::to_string(static_cast<int>(mode)), {{"x", {1, 2, 4, 5}}},
                    [mode](Graph &g, const std::vector<Value> &in) {
                      return g.pad(in[0], mode, {0, 0, 2, 1, 0, 1, 1, 3}, 0.5);
                    }});
  }
  auto up = [](std::string name, UpsampleMode mode, Layout layout, Shape x, Shape size,
               std::vector<double> scales, bool align) {
    return GradCase{name, {{"x", x}}, [=](Graph &g, const std::vector<Value> &in) {
                      return g.upsample(in[0], mode, layout, size, scales, align);
                    }};
  };
  checkGradients(up("nearest_scale2", UpsampleMode::Nearest, Layout::NCHW, {1, 2, 3, 3}, {},
                    {2.0, 2.0}, false));
  checkGradients(up("nearest_size_5_to_7", UpsampleMode::Nearest, Layout::NWC, {1, 5, 2},
                    {7}, {}, false));
  checkGradients(up("bilinear_align_corners", UpsampleMode::Linear, Layout::NCHW,
                    {1, 2, 3, 4}, {5, 7}, {}, true));
  checkGradients(up("bilinear_half_pixel_nhwc", UpsampleMode::Linear, Layout::NHWC,
                    {1, 3, 3, 2}, {}, {2.0, 1.5}, false));
  checkGradients({"pixel_shuffle", {{"x", {1, 8, 2, 3}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.pixelShuffle(in[0], Layout::NCHW, 2);
                  }});
  checkGradients({"pixel_unshuffle_nhwc", {{"x", {1, 4, 6, 2}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.pixelUnshuffle(in[0], Layout::NHWC, 2);
                  }});
}

TEST(Autodiff, ReductionsAndLosses) {
  checkGradients({"softmax", {{"x", {3, 5}}},
                  [](Graph &g, const std::vector<Value> &in) { return g.softmax(in[0], 1); }});
  checkGradients({"log_softmax", {{"x", {2, 4, 3}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.logSoftmax(in[0], -1);
                  }});
  checkGradients({"sum_keepdims", {{"x", {2, 3, 4}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.sum(in[0], std::vector<int64_t>{0, 2}, true);
                  }});
  checkGradients({"mean", {{"x", {2, 3, 4}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.mean(in[0], std::vector<int64_t>{-1});
                  }});
  checkGradients({"max_min", {{"x", {3, 4, 2}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.add(g.reduceMax(in[0], std::vector<int64_t>{1}),
                                 g.reduceMin(in[0], std::vector<int64_t>{1}));
                  }});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    checkGradients({"cross_entropy_" + std::to_string(static_cast<int>(r)),
                    {{"logits", {4, 5}}},
                    [r](Graph &g, const std::vector<Value> &in) {
                      return g.crossEntropy(in[0], g.labels({4}, {1, 4, 0, 1}), r);
                    }});
    checkGradients({"mse_" + std::to_string(static_cast<int>(r)),
                    {{"a", {3, 4}}, {"b", {3, 4}}},
                    [r](Graph &g, const std::vector<Value> &in) {
                      return g.mseLoss(in[0], in[1], r);
                    }});
  }
  checkGradients({"cross_entropy_spatial", {{"logits", {2, 3, 2, 2}}},
                  [](Graph &g, const std::vector<Value> &in) {
                    return g.crossEntropy(in[0], g.labels({2, 2, 2}, {0, 2, 1, 1, 2, 0, 0, 1}),
                                          Reduction::None);
                  }});
}

// The rules composed: a small residual network (both convs' gradients,
// training batch norm, a skip connection whose gradient sums two paths, max
// and global pooling, linear, cross-entropy) against finite differences of
// the whole graph, for every parameter and the input.
TEST(Autodiff, ResidualNetwork) {
  checkGradients(
      {"residual_network",
       {{"x", {2, 3, 8, 8}},
        {"w1", {4, 3, 3, 3}},
        {"gamma", {4}, 0.5f, 1.5f},
        {"beta", {4}},
        {"w2", {4, 4, 3, 3}},
        {"projection", {4, 3, 1, 1}},
        {"fc", {5, 4}},
        {"fc_bias", {5}}},
       [](Graph &g, const std::vector<Value> &in) {
         ConvOptions same;
         same.padding = {1, 1, 1, 1};
         ConvOptions strided = same;
         strided.strides = {2, 2};
         Value h = g.conv(in[0], in[1], strided);
         h = g.relu(g.batchNormTrain(h, in[2], in[3])[0]);
         h = g.conv(h, in[4], same);
         ConvOptions down;
         down.strides = {2, 2};
         h = g.relu(g.add(h, g.conv(in[0], in[5], down)));
         PoolOptions pool;
         pool.kernel = {2, 2};
         h = g.pool(PoolKind::Max, h, pool);
         h = g.flatten(g.globalPool(PoolKind::Avg, h, Layout::NCHW));
         Value logits = g.linear(h, in[6], in[7]);
         return g.crossEntropy(logits, g.labels({2}, {3, 1}));
       }});
}

TEST(Autodiff, MaxPoolTiesGoToTheFirstMaximum) {
  // Finite differences cannot see ties: PyTorch's rule sends each window's
  // gradient to its first maximum in row-major window order. A 1x1x3x4
  // input of 1s with one 2; 2x2 windows with stride 1.
  Graph g("ties");
  Value x = g.input("x", {1, 1, 3, 4});
  PoolOptions o;
  o.kernel = {2, 2};
  o.strides = {1, 1};
  Value loss = g.sum(g.maxPool(x, o), std::nullopt);
  auto grads = gradient(g, loss, {x});
  ASSERT_TRUE(grads) << grads.status().message();
  auto exe = compile(*grads);
  ASSERT_TRUE(exe) << exe.status().message();
  auto out = exe->run({Tensor::fromValues({1, 1, 3, 4}, {1, 1, 1, 1,  //
                                                         1, 1, 2, 1,  //
                                                         1, 1, 1, 1})});
  ASSERT_TRUE(out) << out.status().message();
  // Windows (row, col) -> winner: (0,0)->(0,0); (0,1),(0,2),(1,1),(1,2)->the 2
  // at (1,2); (1,0)->(1,0).
  std::vector<float> want{1, 0, 0, 0, 1, 0, 4, 0, 0, 0, 0, 0};
  const Tensor &dx = (*out)[0];
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(dx.data()[i], want[i]) << "element " << i;
}

TEST(Autodiff, MaxPoolTangentTakesTheFirstMaximum) {
  // The transpose of the tie rule above: each window's tangent is the
  // tangent at its first maximum.
  Graph g("tangent_ties");
  Value x = g.input("x", {1, 1, 3, 4});
  PoolOptions o;
  o.kernel = {2, 2};
  o.strides = {1, 1};
  g.output("y", g.maxPool(x, o));
  auto forward = jvp(g, {x});
  ASSERT_TRUE(forward) << forward.status().message();
  auto exe = compile(*forward);
  ASSERT_TRUE(exe) << exe.status().message();
  std::vector<float> tangent(12);
  for (int i = 0; i < 12; ++i)
    tangent[i] = float(i + 1);
  auto out = exe->run({Tensor::fromValues({1, 1, 3, 4}, {1, 1, 1, 1,  //
                                                         1, 1, 2, 1,  //
                                                         1, 1, 1, 1}),
                       Tensor::fromValues({1, 1, 3, 4}, tangent)});
  ASSERT_TRUE(out) << out.status().message();
  // Winners (see MaxPoolTiesGoToTheFirstMaximum): (0,0), the 2 at (1,2)
  // four times, and (1,0); flat positions 0, 6, 6, 4, 6, 6.
  std::vector<float> want{1, 7, 7, 5, 7, 7};
  const Tensor &dy = (*out)[1];
  ASSERT_EQ(dy.numElements(), 6);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(dy.data()[i], want[i]) << "element " << i;
}

namespace {

/// Hessian-vector products of a scalar loss: tessel::hvp's compiled float32
/// H v against central differences of the float64 gradient along v, and
/// the symmetry <w, H v> = <v, H w>.
void checkHessianVectorProducts(const GradCase &c, unsigned seed = 11) {
  SCOPED_TRACE(c.name);
  std::mt19937 rng(seed);
  Graph g(c.name);
  std::vector<Value> inputs;
  std::vector<Tensor> values, v, w;
  for (const InputSpec &in : c.inputs) {
    inputs.push_back(g.input(in.name, in.shape));
    values.push_back(reference::randomTensor(in.shape, rng, in.lo, in.hi));
    v.push_back(reference::randomTensor(in.shape, rng));
    w.push_back(reference::randomTensor(in.shape, rng));
  }
  Value loss = c.build(g, inputs);
  g.output("loss", loss);
  ASSERT_TRUE(g.status()) << g.status().message();
  size_t n = inputs.size();

  auto second = hvp(g, loss, inputs);
  ASSERT_TRUE(second) << second.status().message();
  CompileOptions options;
  options.threads = 2;
  options.minParallelIterations = 0; // small layers threaded too: under test
  auto exe = compile(*second, options);
  ASSERT_TRUE(exe) << exe.status().message();
  ASSERT_EQ(exe->outputs().size(), 1 + 2 * n);
  EXPECT_EQ(exe->outputs()[1 + n].name, "hvp_" + c.inputs[0].name);
  auto run = [&](const std::vector<Tensor> &direction) {
    std::vector<Tensor> feed(values);
    feed.insert(feed.end(), direction.begin(), direction.end());
    auto out = exe->run(feed);
    EXPECT_TRUE(out) << out.status().message();
    return out ? std::vector<Tensor>(out->begin() + 1 + n, out->end())
               : std::vector<Tensor>();
  };
  std::vector<Tensor> hv = run(v), hw = run(w);
  ASSERT_EQ(hv.size(), n);
  ASSERT_EQ(hw.size(), n);

  // Central differences of the float64 gradient along v.
  auto grads = gradient(g, loss, inputs);
  ASSERT_TRUE(grads) << grads.status().message();
  std::string error;
  auto f64 = Float64Function::compile(grads->toMlir(), c.name, error);
  ASSERT_TRUE(f64) << error;
  std::vector<std::vector<int64_t>> shapes{{}};
  for (const InputSpec &in : c.inputs)
    shapes.push_back(in.shape);
  const double h = 1e-5;
  auto along = [&](double step) {
    std::vector<std::vector<double>> args;
    for (size_t i = 0; i < n; ++i) {
      args.emplace_back(values[i].data(), values[i].data() + values[i].numElements());
      for (size_t e = 0; e < args.back().size(); ++e)
        args.back()[e] += step * v[i].data()[e];
    }
    return f64->runTensors(args, shapes);
  };
  auto plus = along(h), minus = along(-h);
  ASSERT_EQ(plus.size(), 1 + n);
  ASSERT_EQ(minus.size(), 1 + n);
  double wHv = 0, vHw = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> fd(plus[1 + i].size());
    for (size_t e = 0; e < fd.size(); ++e)
      fd[e] = (plus[1 + i][e] - minus[1 + i][e]) / (2 * h);
    expectClose("(H v) for " + c.inputs[i].name + " vs finite differences of the gradient",
                hv[i], fd, 3e-3);
    wHv += dot(w[i], hv[i]);
    vHw += dot(v[i], hw[i]);
    scale += absDot(w[i], hv[i]) + absDot(v[i], hw[i]);
  }
  EXPECT_LE(std::abs(wHv - vHw), 1e-4 * std::max(scale, 1.0))
      << "<w, H v> = " << wHv << " but <v, H w> = " << vHw;
}

} // namespace

TEST(Autodiff, HessianVectorProducts) {
  checkHessianVectorProducts(
      {"hvp_smooth", {{"x", {3, 4}}, {"w", {5, 4}}, {"b", {5}}},
       [](Graph &g, const std::vector<Value> &in) {
         Value h = g.tanh(g.linear(in[0], in[1], in[2]));
         return g.sum(g.mul(g.softmax(h, 1), g.sigmoid(h)), std::nullopt);
       }});
  // Through every backward op of a convolutional network: conv_transpose and
  // conv_backward_filter, pool_backward (max, avg), batch norm's training
  // gradient, cross-entropy.
  checkHessianVectorProducts(
      {"hvp_conv_network",
       {{"x", {2, 2, 6, 6}},
        {"w1", {3, 2, 3, 3}},
        {"gamma", {3}, 0.5f, 1.5f},
        {"beta", {3}},
        {"fc", {4, 3}}},
       [](Graph &g, const std::vector<Value> &in) {
         ConvOptions same;
         same.padding = {1, 1, 1, 1};
         Value h = g.conv(in[0], in[1], same);
         h = g.tanh(g.batchNormTrain(h, in[2], in[3])[0]);
         PoolOptions pool;
         pool.kernel = {2, 2};
         h = g.pool(PoolKind::Max, h, pool);
         h = g.pool(PoolKind::Avg, h, pool);
         Value logits = g.linear(g.flatten(h), in[4]);
         return g.crossEntropy(logits, g.labels({2}, {3, 1}));
       }});
  checkHessianVectorProducts(
      {"hvp_depthwise_adaptive_mse",
       {{"x", {1, 4, 5, 5}}, {"w", {4, 1, 3, 3}}, {"target", {1, 4, 2, 2}}},
       [](Graph &g, const std::vector<Value> &in) {
         ConvOptions depthwise;
         depthwise.groups = 4;
         depthwise.strides = {2, 2};
         depthwise.padding = {1, 1, 1, 1};
         Value h = g.sigmoid(g.conv(in[0], in[1], depthwise));
         h = g.adaptivePool(PoolKind::Max, g.mul(h, h), Layout::NCHW, {2, 2});
         return g.mseLoss(h, in[2]);
       }});
}

TEST(Autodiff, ForwardModeErrors) {
  Graph g("errors");
  Value x = g.input("x", {2, 3});
  Value y = g.relu(x);
  g.output("y", y);
  auto twice = jvp(g, {x, x});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.message().find("'x' is named twice"), std::string::npos) << twice.message();
  Graph other("other");
  Value z = other.input("z", {2});
  other.output("z2", other.neg(z));
  auto foreign = jvp(g, {z});
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.message().find("not a value of it"), std::string::npos)
      << foreign.message();
  // Integer outputs have no tangent.
  Graph indices("indices");
  Value in = indices.input("x", {2});
  indices.output("y", indices.neg(in));
  indices.output("labels", indices.labels({2}, {0, 1}));
  auto integer = jvp(indices, {in});
  ASSERT_FALSE(integer);
  EXPECT_NE(integer.message().find("output 'labels' is not a float tensor"),
            std::string::npos)
      << integer.message();
  // A wrong tangent shape is an error at run time naming the input.
  auto forward = jvp(g, {x});
  ASSERT_TRUE(forward) << forward.status().message();
  auto exe = compile(*forward);
  ASSERT_TRUE(exe) << exe.status().message();
  auto out = exe->run({Tensor::zeros({2, 3}), Tensor::zeros({3, 2})});
  ASSERT_FALSE(out);
  EXPECT_NE(out.message().find("tangent_x"), std::string::npos) << out.message();
  // An optimizer update has no tangent rule.
  Graph step("step");
  Value p = step.input("p", {3});
  Value loss = step.sum(step.mul(p, p), std::nullopt);
  auto training = trainingStep(step, loss, {p}, Optimizer::sgd(0.1));
  ASSERT_TRUE(training) << training.status().message();
  auto noRule = jvp(*training, {p});
  ASSERT_FALSE(noRule);
  EXPECT_NE(noRule.message().find("no tangent rule for 'tessel.sgd_update'"),
            std::string::npos)
      << noRule.message();
}
