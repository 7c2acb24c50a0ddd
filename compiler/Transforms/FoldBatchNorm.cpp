//===- FoldBatchNorm.cpp - Inference batch norms into their conv ----------===//
//
// Run by tessel-decompose.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Decompositions.h"
#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/Constants.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// batch_norm(conv(x, W, b)) with constant weights and statistics becomes
/// conv(x, W', b'): each output channel's filter is scaled by
/// scale / sqrt(variance + epsilon) and its bias becomes
/// (b - mean) * that + bias. Inference graphs exported from training
/// frameworks keep their batch norms separate; this removes one elementwise
/// pass per layer.
struct FoldBatchNormIntoConv : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn, PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "input is not a conv used once");
    unsigned bnChannelDim = bn.getLayout() ? getChannelDim(*bn.getLayout()) : 1;
    if (bnChannelDim != getChannelDim(conv.getLayout()))
      return rewriter.notifyMatchFailure(bn, "layouts differ");
    // The values of a constant operand: a dense attribute, or for f32 and
    // f64 also a resource (a weight the importer kept as one). f32 and f64
    // read their raw data; APFloat per element (other float types) costs
    // seconds on a ResNet's 11M weights.
    auto values = [](Value operand) -> std::optional<SmallVector<double>> {
      Attribute attr;
      if (!matchPattern(operand, m_Constant(&attr)))
        return std::nullopt;
      Type type = cast<ShapedType>(operand.getType()).getElementType();
      SmallVector<double> v;
      if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
        v.reserve(dense.getNumElements());
        if (type.isF32())
          llvm::append_range(v, dense.getValues<float>());
        else if (type.isF64())
          llvm::append_range(v, dense.getValues<double>());
        else
          for (const APFloat &x : dense.getValues<APFloat>())
            v.push_back(x.convertToDouble());
        return v;
      }
      std::optional<ArrayRef<char>> raw = getConstantBytes(attr);
      if (!raw || !(type.isF32() || type.isF64()))
        return std::nullopt;
      if (type.isF32())
        llvm::append_range(v, ArrayRef<float>(reinterpret_cast<const float *>(raw->data()),
                                              raw->size() / sizeof(float)));
      else
        llvm::append_range(v, ArrayRef<double>(reinterpret_cast<const double *>(raw->data()),
                                               raw->size() / sizeof(double)));
      return v;
    };
    std::optional<SmallVector<double>> scale = values(bn.getScale()),
                                       shift = values(bn.getBias()),
                                       mean = values(bn.getMean()),
                                       variance = values(bn.getVariance()), bias;
    if (conv.getBias())
      bias = values(conv.getBias());
    Attribute filterAttr;
    if (!scale || !shift || !mean || !variance || (conv.getBias() && !bias) ||
        !matchPattern(conv.getFilter(), m_Constant(&filterAttr)))
      return rewriter.notifyMatchFailure(bn, "weights or statistics are not constants");
    SmallVector<double> &g = *scale, &beta = *shift, &mu = *mean, &var = *variance;
    int64_t channels = static_cast<int64_t>(g.size());
    SmallVector<double> b = bias ? *bias : SmallVector<double>(channels, 0.0);
    double epsilon = bn.getEpsilon().convertToDouble();
    SmallVector<double> factor(channels);
    for (int64_t o = 0; o < channels; ++o)
      factor[o] = g[o] / std::sqrt(var[o] + epsilon);
    for (int64_t o = 0; o < channels; ++o)
      b[o] = (b[o] - mu[o]) * factor[o] + beta[o];
    auto filterType = cast<ShapedType>(conv.getFilter().getType());
    bool outputFirst =
        getFilterFamily(conv.getFilterLayout()) == FilterFamily::OutputFirst;
    int64_t perChannel = filterType.getNumElements() / channels;
    auto channelOf = [&](int64_t i) { return outputFirst ? i / perChannel : i % channels; };

    auto constant = [&](ShapedType type, ArrayRef<double> data) -> Value {
      auto elementType = cast<FloatType>(type.getElementType());
      ElementsAttr attr;
      if (elementType.isF32()) {
        SmallVector<float> narrowed(data.begin(), data.end());
        attr = getConstantAttr(
            type, "tessel_folded",
            ArrayRef<char>(reinterpret_cast<const char *>(narrowed.data()),
                           narrowed.size() * sizeof(float)));
        if (!attr)
          return nullptr;
      } else if (elementType.isF64()) {
        attr = DenseElementsAttr::get(type, data);
      } else {
        SmallVector<APFloat> converted;
        for (double x : data) {
          APFloat f(x);
          bool lost;
          f.convert(elementType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
          converted.push_back(f);
        }
        attr = DenseElementsAttr::get(type, converted);
      }
      return ConstantOp::create(rewriter, bn.getLoc(), cast<TypedAttr>(attr)).getResult();
    };
    // An f32 filter (every exported model's) is scaled straight from its
    // bytes into the new constant's: the weights are the model's megabytes,
    // and each copy of them is fresh memory faulted in page by page.
    Value newFilter;
    std::optional<ArrayRef<char>> filterBytes = getConstantBytes(filterAttr);
    if (filterType.getElementType().isF32() && filterBytes) {
      const auto *w = reinterpret_cast<const float *>(filterBytes->data());
      ElementsAttr attr =
          getConstantAttr(filterType, "tessel_folded", [&](MutableArrayRef<char> out) {
            auto *to = reinterpret_cast<float *>(out.data());
            for (int64_t i = 0, n = filterType.getNumElements(); i < n; ++i)
              to[i] = static_cast<float>(double(w[i]) * factor[channelOf(i)]);
          });
      if (attr)
        newFilter = ConstantOp::create(rewriter, bn.getLoc(), cast<TypedAttr>(attr));
    } else {
      std::optional<SmallVector<double>> w = values(conv.getFilter());
      if (!w)
        return rewriter.notifyMatchFailure(bn, "weights or statistics are not constants");
      for (int64_t i = 0, n = static_cast<int64_t>(w->size()); i < n; ++i)
        (*w)[i] *= factor[channelOf(i)];
      newFilter = constant(filterType, *w);
    }
    auto biasType = RankedTensorType::get({channels}, filterType.getElementType());
    Value newBias = constant(biasType, b);
    if (!newFilter || !newBias) {
      for (Value v : {newFilter, newBias})
        if (v)
          rewriter.eraseOp(v.getDefiningOp());
      return rewriter.notifyMatchFailure(bn, "out of memory for the folded weights");
    }
    auto folded = createInferred<ConvOp>(rewriter, conv.getLoc(),
                                         {conv.getInput(), newFilter, newBias},
                                         conv.getProperties());
    if (!folded) {
      // Leave the IR as it was: a failing pattern must not change it.
      rewriter.eraseOp(newFilter.getDefiningOp());
      rewriter.eraseOp(newBias.getDefiningOp());
      return rewriter.notifyMatchFailure(bn, "the folded conv does not verify");
    }
    rewriter.replaceOp(bn, folded);
    return success();
  }
};

} // namespace

void mlir::tessel::populateBatchNormFoldingPatterns(RewritePatternSet &patterns) {
  patterns.add<FoldBatchNormIntoConv>(patterns.getContext());
}
