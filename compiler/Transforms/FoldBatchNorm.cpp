//===- FoldBatchNorm.cpp - Inference batch norms into their conv ----------===//
//
// Run by tessel-decompose.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Decompositions.h"
#include "dialects/tessel/IR/Builders.h"
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
    DenseElementsAttr filter, bias, scale, shift, mean, variance;
    if (!matchPattern(conv.getFilter(), m_Constant(&filter)) ||
        !matchPattern(bn.getScale(), m_Constant(&scale)) ||
        !matchPattern(bn.getBias(), m_Constant(&shift)) ||
        !matchPattern(bn.getMean(), m_Constant(&mean)) ||
        !matchPattern(bn.getVariance(), m_Constant(&variance)) ||
        (conv.getBias() && !matchPattern(conv.getBias(), m_Constant(&bias))))
      return rewriter.notifyMatchFailure(bn, "weights or statistics are not constants");

    // f32 and f64 read and write their raw data; APFloat per element (other
    // float types) costs seconds on a ResNet's 11M weights.
    auto values = [](DenseElementsAttr attr) {
      SmallVector<double> v;
      v.reserve(attr.getNumElements());
      Type type = attr.getElementType();
      if (type.isF32())
        llvm::append_range(v, attr.getValues<float>());
      else if (type.isF64())
        llvm::append_range(v, attr.getValues<double>());
      else
        for (const APFloat &x : attr.getValues<APFloat>())
          v.push_back(x.convertToDouble());
      return v;
    };
    SmallVector<double> w = values(filter), g = values(scale), beta = values(shift),
                        mu = values(mean), var = values(variance);
    int64_t channels = static_cast<int64_t>(g.size());
    SmallVector<double> b = bias ? values(bias) : SmallVector<double>(channels, 0.0);
    double epsilon = bn.getEpsilon().convertToDouble();
    SmallVector<double> factor(channels);
    for (int64_t o = 0; o < channels; ++o)
      factor[o] = g[o] / std::sqrt(var[o] + epsilon);
    bool outputFirst =
        getFilterFamily(conv.getFilterLayout()) == FilterFamily::OutputFirst;
    int64_t perChannel = static_cast<int64_t>(w.size()) / channels;
    for (int64_t i = 0, n = static_cast<int64_t>(w.size()); i < n; ++i)
      w[i] *= factor[outputFirst ? i / perChannel : i % channels];
    for (int64_t o = 0; o < channels; ++o)
      b[o] = (b[o] - mu[o]) * factor[o] + beta[o];

    auto constant = [&](ShapedType type, ArrayRef<double> data) -> Value {
      auto elementType = cast<FloatType>(type.getElementType());
      DenseElementsAttr attr;
      if (elementType.isF32()) {
        SmallVector<float> narrowed(data.begin(), data.end());
        attr = DenseElementsAttr::get(type, ArrayRef<float>(narrowed));
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
      return ConstantOp::create(rewriter, bn.getLoc(), attr).getResult();
    };
    auto biasType = RankedTensorType::get({channels}, filter.getType().getElementType());
    Value newFilter = constant(filter.getType(), w), newBias = constant(biasType, b);
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
