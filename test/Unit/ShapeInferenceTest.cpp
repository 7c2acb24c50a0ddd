//===- ShapeInferenceTest.cpp - The shape formulas against references -----===//
//
// Each shape function is checked against an independent reference: PyTorch's
// documented formulas, or counting sliding-window positions one by one, over
// seeded random sweeps of sizes and attributes in every layout; and each rule
// is checked to fail with a message that names it.
//
//===----------------------------------------------------------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir::tessel;
using llvm::ArrayRef;

namespace {

using Vec = std::vector<int64_t>;

/// Expects success and returns the shape as a std::vector.
Vec ok(llvm::Expected<Shape> shape) {
  if (!shape) {
    ADD_FAILURE() << "unexpected error: " << llvm::toString(shape.takeError());
    return {};
  }
  return Vec(shape->begin(), shape->end());
}

/// Expects an error whose message contains `needle`.
template <typename T>
void fails(llvm::Expected<T> result, const std::string &needle) {
  if (result) {
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
    return;
  }
  std::string message = llvm::toString(result.takeError());
  EXPECT_NE(message.find(needle), std::string::npos)
      << "message '" << message << "' lacks '" << needle << "'";
}

/// Number of window positions, counted one by one: starts 0, s, 2s, ...
/// whose window of extent `extent` fits in `padded` (floor mode); in ceil mode
/// a window may run past the end but must start before `padded - extent + s`
/// and inside the input plus its low padding (`inPlusLow`).
int64_t countWindows(int64_t padded, int64_t extent, int64_t stride,
                     bool ceilMode, int64_t inPlusLow) {
  int64_t n = 0;
  for (int64_t start = 0;; start += stride) {
    if (!ceilMode && start + extent > padded)
      break;
    if (ceilMode && (start >= padded - extent + stride || start >= inPlusLow))
      break;
    ++n;
  }
  return n;
}

/// Builds an activation shape in `layout` from batch, channels and spatial sizes.
Vec activation(ActivationLayout layout, int64_t n, int64_t c, const Vec &spatial) {
  Vec shape{n};
  if (!isChannelsLast(layout))
    shape.push_back(c);
  shape.insert(shape.end(), spatial.begin(), spatial.end());
  if (isChannelsLast(layout))
    shape.push_back(c);
  return shape;
}

ActivationLayout layoutFor(unsigned spatialRank, bool channelsLast) {
  static const ActivationLayout first[] = {ActivationLayout::NCW, ActivationLayout::NCHW,
                                     ActivationLayout::NCDHW};
  static const ActivationLayout last[] = {ActivationLayout::NWC, ActivationLayout::NHWC,
                                    ActivationLayout::NDHWC};
  return (channelsLast ? last : first)[spatialRank - 1];
}

FilterLayout filterLayoutFor(unsigned spatialRank, FilterFamily family) {
  static const FilterLayout table[3][3] = {
      {FilterLayout::OIW, FilterLayout::OIHW, FilterLayout::OIDHW},
      {FilterLayout::IOW, FilterLayout::IOHW, FilterLayout::IODHW},
      {FilterLayout::WIO, FilterLayout::HWIO, FilterLayout::DHWIO}};
  return table[static_cast<int>(family)][spatialRank - 1];
}

/// Builds a filter shape: `first`/`second` are the two channel dims in the
/// order the family names them (O, I for oi*; I, O for io* and *io).
Vec filterShape(FilterFamily family, int64_t first, int64_t second,
                const Vec &kernel) {
  Vec shape;
  if (family != FilterFamily::SpatialFirst)
    shape = {first, second};
  shape.insert(shape.end(), kernel.begin(), kernel.end());
  if (family == FilterFamily::SpatialFirst) {
    shape.push_back(first);
    shape.push_back(second);
  }
  return shape;
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

TEST(ConvShape, ResNetLayers) {
  ConvParams stem;
  Vec strides{2, 2}, padding{3, 3, 3, 3};
  stem.strides = strides;
  stem.padding = padding;
  EXPECT_EQ(ok(inferConvShape({1, 3, 224, 224}, {64, 3, 7, 7}, ArrayRef<int64_t>{64},
                              stem)),
            (Vec{1, 64, 112, 112}));
  ConvParams nhwc;
  nhwc.layout = ActivationLayout::NHWC;
  nhwc.filterLayout = FilterLayout::HWIO;
  Vec pad1{1, 1, 1, 1};
  nhwc.padding = pad1;
  EXPECT_EQ(ok(inferConvShape({8, 56, 56, 64}, {3, 3, 64, 64}, std::nullopt, nhwc)),
            (Vec{8, 56, 56, 64}));
  ConvParams depthwise;
  depthwise.padding = pad1;
  depthwise.groups = 256;
  EXPECT_EQ(ok(inferConvShape({1, 256, 28, 28}, {256, 1, 3, 3}, std::nullopt,
                              depthwise)),
            (Vec{1, 256, 28, 28}));
}

TEST(ConvShape, RandomSweepMatchesWindowCount) {
  std::mt19937 rng(1234);
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int checked = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    unsigned spatialRank = pick(1, 3);
    ActivationLayout layout = layoutFor(spatialRank, pick(0, 1));
    FilterFamily family =
        pick(0, 1) ? FilterFamily::OutputFirst : FilterFamily::SpatialFirst;
    int64_t groups = pick(1, 3);
    int64_t cin = groups * pick(1, 3), cout = groups * pick(1, 3);
    Vec in, k, s, d, pad(2 * spatialRank);
    for (unsigned i = 0; i < spatialRank; ++i) {
      in.push_back(pick(1, 12));
      k.push_back(pick(1, 4));
      s.push_back(pick(1, 3));
      d.push_back(pick(1, 3));
    }
    for (auto &p : pad)
      p = pick(0, 3);
    ConvParams params;
    params.layout = layout;
    params.filterLayout = filterLayoutFor(spatialRank, family);
    params.strides = s;
    params.dilations = d;
    params.padding = pad;
    params.groups = groups;
    Vec filter = family == FilterFamily::OutputFirst
                     ? filterShape(family, cout, cin / groups, k)
                     : filterShape(family, cin / groups, cout, k);
    Vec expectedSpatial;
    bool valid = true;
    for (unsigned i = 0; i < spatialRank; ++i) {
      int64_t padded = in[i] + pad[i] + pad[spatialRank + i];
      int64_t extent = d[i] * (k[i] - 1) + 1;
      int64_t windows = countWindows(padded, extent, s[i], false, 0);
      valid &= windows > 0;
      expectedSpatial.push_back(windows);
    }
    auto result = inferConvShape(activation(layout, 2, cin, in), filter,
                                 ArrayRef<int64_t>{cout}, params);
    if (!valid) {
      fails(std::move(result), "exceeds padded input size");
      continue;
    }
    EXPECT_EQ(ok(std::move(result)), activation(layout, 2, cout, expectedSpatial))
        << "iteration " << iter;
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

TEST(ConvTransposeShape, RandomSweepInvertsConv) {
  std::mt19937 rng(99);
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  for (int iter = 0; iter < 2000; ++iter) {
    unsigned spatialRank = pick(1, 3);
    ActivationLayout layout = layoutFor(spatialRank, pick(0, 1));
    FilterFamily family =
        pick(0, 1) ? FilterFamily::InputFirst : FilterFamily::SpatialFirst;
    int64_t groups = pick(1, 3);
    int64_t cin = groups * pick(1, 3), coutPerGroup = pick(1, 3);
    Vec in, k, s, d, op, pad(2 * spatialRank);
    for (unsigned i = 0; i < spatialRank; ++i) {
      in.push_back(pick(1, 9));
      k.push_back(pick(1, 4));
      s.push_back(pick(1, 3));
      d.push_back(pick(1, 2));
      op.push_back(pick(0, std::max(s.back(), d.back()) - 1));
    }
    for (unsigned i = 0; i < spatialRank; ++i)
      pad[i] = pad[spatialRank + i] = pick(0, 2);
    ConvParams params;
    params.transposed = true;
    params.layout = layout;
    params.filterLayout = filterLayoutFor(spatialRank, family);
    params.strides = s;
    params.dilations = d;
    params.padding = pad;
    params.outputPadding = op;
    params.groups = groups;
    Vec expectedSpatial;
    bool valid = true;
    for (unsigned i = 0; i < spatialRank; ++i) {
      // PyTorch's ConvTranspose formula.
      int64_t out = (in[i] - 1) * s[i] - 2 * pad[i] + d[i] * (k[i] - 1) + op[i] + 1;
      valid &= out > 0;
      expectedSpatial.push_back(out);
    }
    auto result =
        inferConvShape(activation(layout, 1, cin, in),
                       filterShape(family, cin, coutPerGroup, k), std::nullopt, params);
    if (!valid) {
      fails(std::move(result), "is not positive");
      continue;
    }
    Vec out = ok(std::move(result));
    ASSERT_EQ(out, activation(layout, 1, groups * coutPerGroup, expectedSpatial));
    // A forward conv with the same geometry maps the output size back to the
    // input size (output_padding only adds positions no window starts at).
    for (unsigned i = 0; i < spatialRank; ++i) {
      if (op[i] >= s[i])
        continue; // output_padding past the stride adds whole windows
      int64_t padded = expectedSpatial[i] + 2 * pad[i];
      int64_t extent = d[i] * (k[i] - 1) + 1;
      EXPECT_EQ(countWindows(padded, extent, s[i], false, 0), in[i])
          << "iteration " << iter << " dim " << i;
    }
  }
}

TEST(ConvShape, RulesNameTheirValues) {
  ConvParams p;
  fails(inferConvShape({1, 3, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "input rank 3 does not match layout nchw (expects rank 4)");
  p.groups = 2;
  fails(inferConvShape({1, 3, 8, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "input channels (3) must be divisible by groups (2)");
  p.groups = 1;
  fails(inferConvShape({1, 4, 8, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "filter input channels (3) times groups (1) must equal input channels (4)");
  Vec zeroStride{1, 0};
  p.strides = zeroStride;
  fails(inferConvShape({1, 3, 8, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "strides [1, 0] must be positive, got 0");
  p.strides = {};
  Vec badDil{-1, 1};
  p.dilations = badDil;
  fails(inferConvShape({1, 3, 8, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "dilations [-1, 1] must be positive");
  p.dilations = {};
  fails(inferConvShape({1, 3, 2, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "dilated kernel extent 3 exceeds padded input size 2 in spatial dim 0");
  fails(inferConvShape({1, 3, 8, 8}, {4, 3, 3, 3}, ArrayRef<int64_t>{5}, p),
        "bias shape [5] must be [4]");
  p.filterLayout = FilterLayout::IOHW;
  fails(inferConvShape({1, 3, 8, 8}, {3, 4, 3, 3}, std::nullopt, p),
        "filter layout iohw is for conv_transpose");
  p.filterLayout = FilterLayout::OIW;
  fails(inferConvShape({1, 3, 8, 8}, {4, 3, 3}, std::nullopt, p),
        "filter layout oiw is 1-D but layout nchw is 2-D");
  p.filterLayout = FilterLayout::OIHW;
  p.groups = 0;
  fails(inferConvShape({1, 3, 8, 8}, {4, 3, 3, 3}, std::nullopt, p),
        "groups must be positive, got 0");
  ConvParams t;
  t.transposed = true;
  t.filterLayout = FilterLayout::IOHW;
  Vec s2{2, 2}, op2{2, 0};
  t.strides = s2;
  t.outputPadding = op2;
  fails(inferConvShape({1, 3, 8, 8}, {3, 4, 3, 3}, std::nullopt, t),
        "output_padding 2 must be smaller than stride 2 or dilation 1");
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(PoolShape, RandomSweepMatchesWindowCount) {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  for (int iter = 0; iter < 3000; ++iter) {
    unsigned spatialRank = pick(1, 3);
    ActivationLayout layout = layoutFor(spatialRank, pick(0, 1));
    bool ceilMode = pick(0, 1);
    Vec in, k, s, d, pad(2 * spatialRank);
    for (unsigned i = 0; i < spatialRank; ++i) {
      in.push_back(pick(1, 14));
      k.push_back(pick(1, 4));
      s.push_back(pick(1, 4));
      d.push_back(pick(1, 2));
    }
    // PyTorch requires padding of at most half the kernel.
    for (unsigned i = 0; i < 2 * spatialRank; ++i)
      pad[i] = pick(0, k[i % spatialRank] / 2);
    PoolParams params;
    params.layout = layout;
    params.kernel = k;
    bool defaultStride = pick(0, 3) == 0;
    if (!defaultStride)
      params.strides = s;
    params.dilations = d;
    params.padding = pad;
    params.ceilMode = ceilMode;
    Vec expected;
    bool valid = true;
    for (unsigned i = 0; i < spatialRank; ++i) {
      int64_t stride = defaultStride ? k[i] : s[i];
      int64_t padded = in[i] + pad[i] + pad[spatialRank + i];
      int64_t extent = d[i] * (k[i] - 1) + 1;
      valid &= extent <= padded;
      expected.push_back(
          countWindows(padded, extent, stride, ceilMode, in[i] + pad[i]));
    }
    auto result = inferPoolShape(activation(layout, 3, 5, in), params);
    if (!valid) {
      fails(std::move(result), "exceeds padded input size");
      continue;
    }
    EXPECT_EQ(ok(std::move(result)), activation(layout, 3, 5, expected))
        << "iteration " << iter;
  }
}

TEST(PoolShape, CeilModeDropsWindowStartingInPadding) {
  // PyTorch: MaxPool2d(2, stride=2, padding=1, ceil_mode=True) on 4x4 gives
  // 3x3, not 4x4: a fourth window would start in the high padding.
  PoolParams p;
  Vec k{2, 2}, pad{1, 1, 1, 1};
  p.kernel = k;
  p.padding = pad;
  p.ceilMode = true;
  EXPECT_EQ(ok(inferPoolShape({1, 1, 4, 4}, p)), (Vec{1, 1, 3, 3}));
  // Without padding ceil mode keeps the partial window: 5 -> 3.
  PoolParams q;
  q.kernel = k;
  q.ceilMode = true;
  EXPECT_EQ(ok(inferPoolShape({1, 1, 5, 5}, q)), (Vec{1, 1, 3, 3}));
}

TEST(PoolShape, AdaptiveAndGlobal) {
  Vec out{7, 7};
  EXPECT_EQ(ok(inferAdaptivePoolShape({2, 512, 14, 13}, ActivationLayout::NCHW, out)),
            (Vec{2, 512, 7, 7}));
  Vec out1{3};
  EXPECT_EQ(ok(inferAdaptivePoolShape({2, 10, 8}, ActivationLayout::NWC, out1)),
            (Vec{2, 3, 8}));
  EXPECT_EQ(ok(inferGlobalPoolShape({8, 7, 7, 2048}, ActivationLayout::NHWC)),
            (Vec{8, 1, 1, 2048}));
  EXPECT_EQ(ok(inferGlobalPoolShape({1, 4, 3, 5, 6}, ActivationLayout::NCDHW)),
            (Vec{1, 4, 1, 1, 1}));
  Vec zero{0, 7};
  fails(inferAdaptivePoolShape({1, 3, 8, 8}, ActivationLayout::NCHW, zero),
        "output_size [0, 7] must be positive");
  fails(inferAdaptivePoolShape({1, 3, 8, 8}, ActivationLayout::NCHW, out1),
        "output_size [3] must have 2 entries");
  fails(inferGlobalPoolShape({1, 3, 8}, ActivationLayout::NCHW), "input rank 3");
}

//===----------------------------------------------------------------------===//
// Normalization, elementwise, linear
//===----------------------------------------------------------------------===//

TEST(BatchNormShape, ChannelDimFollowsLayout) {
  Vec c64{64}, c3{3};
  EXPECT_EQ(*checkBatchNormShapes({1, 64, 8, 8}, ActivationLayout::NCHW, {{"scale", c64}}),
            64);
  EXPECT_EQ(*checkBatchNormShapes({1, 8, 8, 3}, ActivationLayout::NHWC, {{"scale", c3}}),
            3);
  EXPECT_EQ(*checkBatchNormShapes({16, 64}, std::nullopt, {{"mean", c64}}), 64);
  fails(checkBatchNormShapes({1, 8, 8, 3}, ActivationLayout::NCHW, {{"scale", c3}}),
        "scale shape [3] must be [8] (channels)");
  fails(checkBatchNormShapes({5}, std::nullopt, {}), "must be at least 2");
}

TEST(BroadcastShape, NumpyRules) {
  EXPECT_EQ(ok(inferBroadcastShape({8, 1, 6, 1}, {7, 1, 5})), (Vec{8, 7, 6, 5}));
  EXPECT_EQ(ok(inferBroadcastShape({5, 4}, {1})), (Vec{5, 4}));
  EXPECT_EQ(ok(inferBroadcastShape({}, {3, 2})), (Vec{3, 2}));
  EXPECT_EQ(ok(inferBroadcastShape({15, 3, 5}, {15, 1, 5})), (Vec{15, 3, 5}));
  fails(inferBroadcastShape({2, 1}, {8, 4, 3}),
        "sizes 2 and 4 at dim -2");
  fails(inferBroadcastShape({4, 3}, {2, 3}), "do not broadcast");
}

TEST(LinearShape, PyTorchAndNumpy) {
  EXPECT_EQ(ok(inferLinearShape({8, 512}, {1000, 512}, ArrayRef<int64_t>{1000})),
            (Vec{8, 1000}));
  EXPECT_EQ(ok(inferLinearShape({2, 3, 4}, {5, 4}, std::nullopt)), (Vec{2, 3, 5}));
  fails(inferLinearShape({8, 512}, {1000, 256}, std::nullopt),
        "does not match input features 512");
  fails(inferLinearShape({8, 4}, {5, 4}, ArrayRef<int64_t>{4}), "bias shape [4]");
  // numpy.matmul shapes.
  EXPECT_EQ(ok(inferMatmulShape({3, 4}, {4, 5})), (Vec{3, 5}));
  EXPECT_EQ(ok(inferMatmulShape({4}, {4, 5})), (Vec{5}));
  EXPECT_EQ(ok(inferMatmulShape({3, 4}, {4})), (Vec{3}));
  EXPECT_EQ(ok(inferMatmulShape({4}, {4})), (Vec{}));
  EXPECT_EQ(ok(inferMatmulShape({2, 1, 3, 4}, {5, 4, 6})), (Vec{2, 5, 3, 6}));
  fails(inferMatmulShape({3, 4}, {5, 6}), "contraction sizes differ");
  fails(inferMatmulShape({2, 3, 4}, {3, 4, 5}), "batch dims");
}

//===----------------------------------------------------------------------===//
// Tensor, resample and reduction ops
//===----------------------------------------------------------------------===//

TEST(TensorShape, ReshapeFlattenTransposeConcat) {
  Vec s1{8, -1};
  EXPECT_EQ(ok(inferReshapeShape({8, 512, 1, 1}, s1)), (Vec{8, 512}));
  Vec bad{-1, -1};
  fails(inferReshapeShape({4}, bad), "at most one -1");
  Vec s3{3, 3};
  fails(inferReshapeShape({2, 4}, s3), "holds 9 elements but input [2, 4] holds 8");
  Vec s4{3, -1};
  fails(inferReshapeShape({2, 4}, s4), "cannot infer the -1");

  EXPECT_EQ(ok(inferFlattenShape({2, 3, 4, 5}, 1, -1)), (Vec{2, 60}));
  EXPECT_EQ(ok(inferFlattenShape({2, 3, 4, 5}, 1, 2)), (Vec{2, 12, 5}));
  EXPECT_EQ(ok(inferFlattenShape({2, 3}, 0, -1)), (Vec{6}));
  EXPECT_EQ(ok(inferFlattenShape({}, 0, -1)), (Vec{1}));
  fails(inferFlattenShape({2, 3, 4}, 2, 1), "start_dim 2 comes after end_dim 1");
  fails(inferFlattenShape({2, 3, 4}, 3, -1), "start_dim 3 is out of range for rank 3");

  Vec perm{0, 2, 3, 1}, dup{0, 0, 1, 2};
  EXPECT_EQ(ok(inferTransposeShape({1, 3, 224, 225}, perm)), (Vec{1, 224, 225, 3}));
  fails(inferTransposeShape({1, 2, 3, 4}, dup), "is not a permutation");

  Vec a{1, 64, 28, 28}, b{1, 32, 28, 28}, c{1, 32, 27, 28};
  EXPECT_EQ(ok(inferConcatShape({a, b}, 1)), (Vec{1, 96, 28, 28}));
  EXPECT_EQ(ok(inferConcatShape({a, b, b}, -3)), (Vec{1, 128, 28, 28}));
  fails(inferConcatShape({a, c}, 1), "differs from input #0 shape [1, 64, 28, 28] in dim 2");

  EXPECT_EQ(ok(inferRelayoutShape({2, 3, 4, 5}, ActivationLayout::NCHW, ActivationLayout::NHWC)),
            (Vec{2, 4, 5, 3}));
  EXPECT_EQ(ok(inferRelayoutShape({2, 4, 5, 6, 3}, ActivationLayout::NDHWC,
                                  ActivationLayout::NCDHW)),
            (Vec{2, 3, 4, 5, 6}));
  fails(inferRelayoutShape({2, 3, 4, 5}, ActivationLayout::NCHW, ActivationLayout::NWC),
        "different ranks");
}

TEST(ResampleShape, PadUpsamplePixelShuffle) {
  Vec pads{0, 0, 1, 2, 0, 0, 3, 4};
  EXPECT_EQ(ok(inferPadShape({1, 3, 8, 8}, PadMode::Constant, pads)),
            (Vec{1, 3, 12, 14}));
  EXPECT_EQ(ok(inferPadShape({1, 3, 8, 8}, PadMode::Reflect, pads)),
            (Vec{1, 3, 12, 14}));
  Vec big{0, 0, 4, 0, 0, 0, 0, 0};
  fails(inferPadShape({1, 3, 4, 4}, PadMode::Reflect, big),
        "reflect padding 4 of dim 2 must be smaller than the dim's size 4");
  EXPECT_EQ(ok(inferPadShape({1, 3, 4, 4}, PadMode::Circular, big)),
            (Vec{1, 3, 8, 4}));
  Vec neg{0, 0, -1, 0, 0, 0, 0, 0};
  fails(inferPadShape({1, 3, 4, 4}, PadMode::Constant, neg), "must be non-negative");

  Vec size{16, 20};
  std::vector<double> scales{2.0, 1.5};
  EXPECT_EQ(ok(inferUpsampleShape({1, 8, 5, 7}, ActivationLayout::NCHW,
                                  ArrayRef<int64_t>(size), std::nullopt)),
            (Vec{1, 8, 16, 20}));
  // floor(5 * 2.0) = 10, floor(7 * 1.5) = 10.
  EXPECT_EQ(ok(inferUpsampleShape({1, 5, 7, 8}, ActivationLayout::NHWC, std::nullopt,
                                  ArrayRef<double>(scales))),
            (Vec{1, 10, 10, 8}));
  fails(inferUpsampleShape({1, 8, 5, 7}, ActivationLayout::NCHW, ArrayRef<int64_t>(size),
                           ArrayRef<double>(scales)),
        "exactly one of size and scales");

  EXPECT_EQ(ok(inferPixelShuffleShape({1, 64, 16, 16}, ActivationLayout::NCHW, 2, false)),
            (Vec{1, 16, 32, 32}));
  EXPECT_EQ(ok(inferPixelShuffleShape({1, 32, 32, 16}, ActivationLayout::NHWC, 2, true)),
            (Vec{1, 16, 16, 64}));
  fails(inferPixelShuffleShape({1, 10, 4, 4}, ActivationLayout::NCHW, 2, false),
        "input channels (10) must be divisible by factor^2 (4)");
  fails(inferPixelShuffleShape({1, 4, 5, 4}, ActivationLayout::NCHW, 2, true),
        "spatial size 5 in dim 2 must be divisible by factor (2)");
  fails(inferPixelShuffleShape({1, 4, 5}, ActivationLayout::NCW, 2, true),
        "needs a 2-D layout");
}

TEST(ReductionShape, ReduceAndLosses) {
  Vec axes{2, -1};
  EXPECT_EQ(ok(inferReduceShape({8, 64, 7, 7}, ArrayRef<int64_t>(axes), true)),
            (Vec{8, 64, 1, 1}));
  EXPECT_EQ(ok(inferReduceShape({8, 64, 7, 7}, ArrayRef<int64_t>(axes), false)),
            (Vec{8, 64}));
  EXPECT_EQ(ok(inferReduceShape({8, 64}, std::nullopt, false)), (Vec{}));
  Vec twice{1, -2};
  fails(inferReduceShape({2, 3, 4}, ArrayRef<int64_t>(twice), false),
        "name dim 1 twice");

  EXPECT_EQ(ok(inferCrossEntropyShape({32, 10}, {32}, Reduction::Mean)), (Vec{}));
  EXPECT_EQ(ok(inferCrossEntropyShape({4, 10, 5, 6}, {4, 5, 6}, Reduction::None)),
            (Vec{4, 5, 6}));
  fails(inferCrossEntropyShape({32, 10}, {31}, Reduction::Sum),
        "labels shape [31] must be [32]");
  EXPECT_EQ(ok(inferMseLossShape({2, 3}, {2, 3}, Reduction::None)), (Vec{2, 3}));
  fails(inferMseLossShape({2, 3}, {3, 2}, Reduction::Mean), "must be equal");
}

} // namespace
