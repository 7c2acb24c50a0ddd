//===- Reference.h - Naive reference implementations for the tests -*- C++ -*-===//
//
// Plain loops with double accumulation, written from PyTorch's definitions
// and sharing no code with the compiler. Activations are indexed through
// their layout, so one loop nest serves NC... and N...C in 1-3 spatial dims.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TEST_UNIT_REFERENCE_H
#define TESSEL_TEST_UNIT_REFERENCE_H

#include "tessel/Graph.h"
#include "tessel/Tensor.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace reference {

using tessel::Layout;
using tessel::Tensor;
using Shape = std::vector<int64_t>;

inline int spatialRank(Layout l) {
  switch (l) {
  case Layout::NCW: case Layout::NWC: return 1;
  case Layout::NCHW: case Layout::NHWC: return 2;
  default: return 3;
  }
}
inline bool channelsLast(Layout l) {
  return l == Layout::NWC || l == Layout::NHWC || l == Layout::NDHWC;
}

/// An activation shape from batch, channels and spatial sizes.
inline Shape activationShape(Layout l, int64_t n, int64_t c, const Shape &spatial) {
  Shape s{n};
  if (!channelsLast(l)) s.push_back(c);
  s.insert(s.end(), spatial.begin(), spatial.end());
  if (channelsLast(l)) s.push_back(c);
  return s;
}

/// A view of an activation by (n, c, spatial...) whatever its layout.
struct Activation {
  Tensor t;
  Layout layout;
  int64_t batch() const { return t.shape()[0]; }
  int64_t channels() const { return t.shape()[channelsLast(layout) ? t.rank() - 1 : 1]; }
  Shape spatial() const {
    int first = channelsLast(layout) ? 1 : 2;
    return Shape(t.shape().begin() + first, t.shape().begin() + first + spatialRank(layout));
  }
  float &at(int64_t n, int64_t c, const Shape &sp) {
    Shape index{n};
    if (!channelsLast(layout)) index.push_back(c);
    index.insert(index.end(), sp.begin(), sp.end());
    if (channelsLast(layout)) index.push_back(c);
    return t.at(index);
  }
};

/// Calls `f` on every multi-index of `shape`.
inline void forEachIndex(const Shape &shape, const std::function<void(const Shape &)> &f) {
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  Shape index(shape.size(), 0);
  for (int64_t i = 0; i < total; ++i) {
    f(index);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

inline Tensor randomTensor(const Shape &shape, std::mt19937 &rng, float lo = -1.f,
                           float hi = 1.f) {
  Tensor t = Tensor::zeros(shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numElements(); ++i) t.data()[i] = dist(rng);
  return t;
}

/// PyTorch conv with O-first (`oi*`) or spatial-first (`*io`) filters.
struct ConvSpec {
  Layout layout;
  bool spatialFirstFilter;
  Shape strides, dilations, padLow, padHigh;
  int64_t groups;
};

inline Tensor conv(const Tensor &input, const Tensor &filter, const Tensor *bias,
                   const ConvSpec &s, const Shape &outShape) {
  Activation in{input, s.layout};
  Activation out{Tensor::zeros(outShape), s.layout};
  int sr = spatialRank(s.layout);
  int64_t cin = in.channels(), cout = out.channels();
  int64_t cinG = cin / s.groups, coutG = cout / s.groups;
  Shape inSp = in.spatial();
  Shape kernel = s.spatialFirstFilter ? Shape(filter.shape().begin(), filter.shape().begin() + sr)
                                      : Shape(filter.shape().begin() + 2, filter.shape().end());
  auto w = [&](int64_t o, int64_t i, const Shape &k) {
    Shape index;
    if (s.spatialFirstFilter) { index = k; index.push_back(i); index.push_back(o); }
    else { index = {o, i}; index.insert(index.end(), k.begin(), k.end()); }
    return filter.at(index);
  };
  for (int64_t n = 0; n < out.batch(); ++n)
    for (int64_t oc = 0; oc < cout; ++oc)
      forEachIndex(out.spatial(), [&](const Shape &o) {
        int64_t g = oc / coutG;
        double acc = bias ? bias->at({oc}) : 0.0;
        for (int64_t ic = 0; ic < cinG; ++ic)
          forEachIndex(kernel, [&](const Shape &k) {
            Shape p(sr);
            for (int d = 0; d < sr; ++d) {
              p[d] = o[d] * s.strides[d] - s.padLow[d] + k[d] * s.dilations[d];
              if (p[d] < 0 || p[d] >= inSp[d]) return;
            }
            acc += double(in.at(n, g * cinG + ic, p)) * double(w(oc, ic, k));
          });
        out.at(n, oc, o) = float(acc);
      });
  return out.t;
}

/// PyTorch pooling: max over in-bounds positions; avg divided by the window
/// positions inside the input (or also inside the padding with
/// countIncludePad); lp as (sum |x|^p)^(1/p).
struct PoolSpec {
  tessel::PoolKind kind;
  Layout layout;
  Shape kernel, strides, dilations, padLow, padHigh;
  bool countIncludePad;
  double p;
};

inline Tensor pool(const Tensor &input, const PoolSpec &s, const Shape &outShape) {
  Activation in{input, s.layout};
  Activation out{Tensor::zeros(outShape), s.layout};
  int sr = spatialRank(s.layout);
  Shape inSp = in.spatial();
  for (int64_t n = 0; n < out.batch(); ++n)
    for (int64_t c = 0; c < out.channels(); ++c)
      forEachIndex(out.spatial(), [&](const Shape &o) {
        double acc = s.kind == tessel::PoolKind::Max
                         ? -std::numeric_limits<double>::infinity() : 0.0;
        int64_t inside = 0, insidePadded = 0;
        forEachIndex(s.kernel, [&](const Shape &k) {
          bool inInput = true, inPadded = true;
          Shape p(sr);
          for (int d = 0; d < sr; ++d) {
            p[d] = o[d] * s.strides[d] - s.padLow[d] + k[d] * s.dilations[d];
            inInput &= p[d] >= 0 && p[d] < inSp[d];
            inPadded &= p[d] < inSp[d] + s.padHigh[d];
          }
          insidePadded += inPadded;
          if (!inInput) return;
          ++inside;
          double x = in.at(n, c, p);
          if (s.kind == tessel::PoolKind::Max) acc = std::max(acc, x);
          else if (s.kind == tessel::PoolKind::Avg) acc += x;
          else acc += std::pow(std::abs(x), s.p);
        });
        if (s.kind == tessel::PoolKind::Avg)
          acc /= double(s.countIncludePad ? insidePadded : inside);
        if (s.kind == tessel::PoolKind::Lp) acc = std::pow(acc, 1.0 / s.p);
        out.at(n, c, o) = float(acc);
      });
  return out.t;
}

/// Maps an index of a numpy-broadcast result onto an operand of `shape`.
inline Shape broadcastIndex(const Shape &index, const Shape &shape) {
  Shape out(shape.size());
  size_t offset = index.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    out[i] = shape[i] == 1 ? 0 : index[offset + i];
  return out;
}

/// Applies `f` elementwise with numpy broadcasting into `resultShape`.
inline Tensor broadcastBinary(const Tensor &a, const Tensor &b, const Shape &resultShape,
                              const std::function<double(double, double)> &f) {
  Tensor out = Tensor::zeros(resultShape);
  forEachIndex(resultShape, [&](const Shape &i) {
    out.at(i) = float(f(a.at(broadcastIndex(i, a.shape())), b.at(broadcastIndex(i, b.shape()))));
  });
  return out;
}

inline Tensor mapUnary(const Tensor &a, const std::function<double(double)> &f) {
  Tensor out = Tensor::zeros(a.shape());
  for (int64_t i = 0; i < a.numElements(); ++i) out.data()[i] = float(f(a.data()[i]));
  return out;
}

/// Result dim i is input dim perm[i].
inline Tensor transpose(const Tensor &a, const Shape &perm) {
  Shape shape;
  for (int64_t p : perm) shape.push_back(a.shape()[p]);
  Tensor out = Tensor::zeros(shape);
  forEachIndex(shape, [&](const Shape &i) {
    Shape src(perm.size());
    for (size_t d = 0; d < perm.size(); ++d) src[perm[d]] = i[d];
    out.at(i) = a.at(src);
  });
  return out;
}

/// Largest |a - b| / (atol + rtol * |b|); <= 1 means within tolerance.
inline double toleranceRatio(const Tensor &got, const Tensor &want, double atol = 1e-4,
                             double rtol = 1e-4) {
  if (got.shape() != want.shape()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double a = got.data()[i], b = want.data()[i];
    if (std::isnan(a) != std::isnan(b)) return std::numeric_limits<double>::infinity();
    if (std::isnan(a)) continue;
    if (std::isinf(b) || std::isinf(a)) {
      if (a != b) return std::numeric_limits<double>::infinity();
      continue;
    }
    worst = std::max(worst, std::abs(a - b) / (atol + rtol * std::abs(b)));
  }
  return worst;
}

} // namespace reference

#endif // TESSEL_TEST_UNIT_REFERENCE_H
