//===- DecomposeConv.cpp - Transposed convs and filter gradients as convs -===//
//
// Rewrites that put the convolutions autodiff produces (conv_transpose for
// input gradients, conv_backward_filter for filter gradients) on the forward
// conv's register-tiled path. Run by tessel-decompose.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Decompositions.h"
#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// An InferredOpBuilder whose `replace` ends a decomposition: if an op
/// failed to build, or the result's type is not the replaced op's, it erases
/// what was built and fails, so a failing pattern leaves the IR as it found
/// it (the greedy driver requires that).
class DecompositionBuilder : public InferredOpBuilder {
public:
  DecompositionBuilder(PatternRewriter &rewriter, Location loc)
      : InferredOpBuilder(rewriter, loc), rewriter(rewriter) {}

  LogicalResult replace(Operation *op, Value result) {
    if (failed() || !result || result.getType() != op->getResult(0).getType()) {
      for (Operation *built : llvm::reverse(getCreated()))
        rewriter.eraseOp(built);
      return rewriter.notifyMatchFailure(op, "the decomposition does not verify");
    }
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  PatternRewriter &rewriter;
};

/// With unit strides, conv_transpose(x, w) is conv(x, w') where w' swaps
/// each group's input and output channels and flips the kernel, padded by
/// dilation * (k - 1) - pad on each side (plus output_padding high).
struct StrideOneTransposeToConv : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    ActivationLayout layout = op.getLayout();
    unsigned s = getSpatialRank(layout);
    if (auto strides = op.getStrides();
        strides && llvm::any_of(*strides, [](int64_t v) { return v != 1; }))
      return rewriter.notifyMatchFailure(op, "strided");
    WindowAttrs window = getWindowAttrs(op);
    ArrayRef<int64_t> dilations = window.dilations, padding = window.padding;
    SmallVector<int64_t> outputPadding(op.getOutputPadding().value_or(ArrayRef<int64_t>()));
    if (outputPadding.empty())
      outputPadding.assign(s, 0);
    Value filter = op.getFilter();
    ArrayRef<int64_t> shape = getShape(filter);
    bool spatialFirst = getFilterFamily(op.getFilterLayout()) == FilterFamily::SpatialFirst;
    unsigned spatialStart = spatialFirst ? 0 : 2, channelStart = spatialFirst ? s : 0;
    SmallVector<int64_t> convPadding(2 * s);
    for (unsigned i = 0; i < s; ++i) {
      int64_t extent = dilations[i] * (shape[spatialStart + i] - 1);
      convPadding[i] = extent - padding[i];
      convPadding[s + i] = extent - padding[s + i] + outputPadding[i];
      if (convPadding[i] < 0 || convPadding[s + i] < 0)
        return rewriter.notifyMatchFailure(op, "padding larger than the kernel extent");
    }

    DecompositionBuilder db(rewriter, op.getLoc());
    // Flip the kernel first: a copy that streams through the filter (its
    // reversed dims are the innermost or outermost ones, see
    // ReversedLoops.h), which the channel transposes below do not fuse with.
    SmallVector<int64_t> offsets(shape.size(), 0), steps(shape.size(), 1);
    for (unsigned i = 0; i < s; ++i) {
      offsets[spatialStart + i] = shape[spatialStart + i] - 1;
      steps[spatialStart + i] = -1;
    }
    Value w = db.slice(filter, offsets, shape, steps);
    int64_t groups = static_cast<int64_t>(op.getGroups());
    if (groups != 1) {
      // [.., Cin, Cout/g, ..] -> [.., g, Cin/g, Cout/g, ..] -> swap -> merge.
      int64_t in = shape[channelStart], outPerGroup = shape[channelStart + 1];
      SmallVector<int64_t> split(shape);
      split[channelStart] = in / groups;
      split.insert(split.begin() + channelStart, groups);
      SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, split.size()));
      SmallVector<int64_t> merged(shape);
      if (spatialFirst) { // [k.., g, Cin/g, Cout/g] -> [k.., Cin/g, g, Cout/g]
        std::swap(perm[channelStart], perm[channelStart + 1]);
        merged[channelStart] = in / groups;
        merged[channelStart + 1] = outPerGroup * groups;
      } else { // [g, Cin/g, Cout/g, k..] -> [g, Cout/g, Cin/g, k..]
        std::swap(perm[1], perm[2]);
        merged[0] = outPerGroup * groups;
        merged[1] = in / groups;
      }
      w = db.reshape(db.transpose(db.reshape(w, split), perm), merged);
    } else if (!spatialFirst) {
      // One group needs no group dim: io.. filters swap their channel dims
      // (..io ones stay as they are).
      SmallVector<int64_t> swap = llvm::to_vector(llvm::seq<int64_t>(0, shape.size()));
      std::swap(swap[0], swap[1]);
      w = db.transpose(w, swap);
    }
    // io* filters, now with O first, are read as oi*; *io ones stay *io.
    FilterLayout convLayout = getTransposedFilterLayout(op.getFilterLayout());
    SmallVector<Value> operands{op.getInput(), w};
    if (op.getBias())
      operands.push_back(op.getBias());
    ConvOp::Properties p;
    p.setLayout(op.getLayoutAttr());
    p.setFilterLayout(FilterLayoutAttr::get(getContext(), convLayout));
    p.setDilations(db.i64Array(dilations));
    p.setPadding(db.i64Array(convPadding));
    p.setGroups(op.getGroupsAttr());
    return db.replace(op, db.create1<ConvOp>(operands, p));
  }
};

/// dW[k, ci, co] = sum_{n, o} x[n, o * stride + k * dilation, ci] dy[n, o, co]
/// is a channels-last conv of x' = x as [ci, spatial..., n] with dy' = dy as
/// a [o..., n, co] filter, stride `dilation` and dilation `stride`, whose
/// result [ci, k..., co] is the filter gradient. The high padding is cut
/// (or the input cropped) so that exactly k outputs are computed.
///
/// A depthwise filter gradient (one filter per channel, groups = C),
/// dW[k, c] = sum_{n, o} x[n, o * stride + k * dilation, c] dy[n, o, c], is
/// likewise a depthwise conv, one spatial rank up, with the batch as its
/// first spatial dim: x' = x as [1, N, spatial..., C] with dy' = dy as an
/// [N, o..., 1, C] filter, whose [1, 1, k..., C] result is the gradient
/// (the register-tiled depthwise path instead of a scalar loop nest per
/// tap). Channels-last x and dy are only reshaped: the tiles read them, and
/// x's padding, in place. A 3-D one, which would need a 4-D conv, is a
/// depthwise conv over the N * C channels q = (n, c) of x' = x as
/// [1, spatial..., N * C] (transposed) with dy' = dy as a [o..., 1, N * C]
/// filter, its [1, k..., N * C] result summed over n.
struct FilterGradientToConv : OpRewritePattern<ConvBackwardFilterOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvBackwardFilterOp op,
                                PatternRewriter &rewriter) const override {
    ActivationLayout layout = op.getLayout();
    unsigned s = getSpatialRank(layout), rank = s + 2;
    unsigned channel = getChannelDim(layout);
    ArrayRef<int64_t> in = getShape(op.getInput()), out = getShape(op.getGradOutput());
    int64_t groups = static_cast<int64_t>(op.getGroups());
    bool depthwise = groups > 1 && groups == in[channel] && groups == out[channel];
    if (groups != 1 && !depthwise)
      return rewriter.notifyMatchFailure(op, "grouped, not depthwise");
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
    WindowAttrs window = getWindowAttrs(op);
    ArrayRef<int64_t> strides = window.strides, dilations = window.dilations;
    ArrayRef<int64_t> padding = window.padding;
    ArrayRef<int64_t> kernel = op.getKernel();

    DecompositionBuilder db(rewriter, op.getLoc());
    // Exactly k outputs: padded size s * (o - 1) + d * (k - 1) + 1.
    Value x = op.getInput();
    SmallVector<int64_t> convPadding(padding);
    SmallVector<int64_t> sizes(in), offsets(rank, 0), steps(rank, 1);
    bool crop = false;
    for (unsigned i = 0; i < s; ++i) {
      int64_t need = strides[i] * (out[spatialDims[i]] - 1) + dilations[i] * (kernel[i] - 1) + 1;
      int64_t high = need - in[spatialDims[i]] - padding[i];
      convPadding[s + i] = std::max<int64_t>(high, 0);
      if (high < 0) {
        sizes[spatialDims[i]] += high;
        crop = true;
      }
    }
    if (crop)
      x = db.slice(x, offsets, sizes, steps);
    ConvOp::Properties p;
    p.setLayout(ActivationLayoutAttr::get(getContext(), getChannelsLastLayout(s)));
    p.setFilterLayout(FilterLayoutAttr::get(getContext(), getSpatialFirstFilterLayout(s)));
    p.setStrides(db.i64Array(dilations));
    p.setDilations(db.i64Array(strides));
    p.setPadding(db.i64Array(convPadding));
    bool spatialFirst = getFilterFamily(op.getFilterLayout()) == FilterFamily::SpatialFirst;
    SmallVector<int64_t> kernelShape(kernel);

    if (depthwise) {
      int64_t batch = in[0], channels = in[channel];
      // The gradient's elements in [k..., C] order.
      Value grad;
      if (s < 3) {
        // x' = [1, N, spatial..., C], dy' = [N, o..., 1, C]: channels-last
        // views of x and dy (no copy where they are channels-last already);
        // the result [1, 1, k..., C].
        Value dy = op.getGradOutput();
        if (channel == 1) {
          SmallVector<int64_t> toChannelsLast{0};
          toChannelsLast.append(spatialDims.begin(), spatialDims.end());
          toChannelsLast.push_back(1);
          x = db.transpose(x, toChannelsLast);
          dy = db.transpose(dy, toChannelsLast);
        }
        SmallVector<int64_t> xShape{1}, dyShape{batch};
        llvm::append_range(xShape, getShape(x));
        for (unsigned d : spatialDims)
          dyShape.push_back(out[d]);
        dyShape.append({1, channels});
        // The batch (depth) dim: stride and dilation 1, no padding.
        SmallVector<int64_t> depthStrides{1}, depthDilations{1}, depthPadding{0};
        llvm::append_range(depthStrides, dilations);
        llvm::append_range(depthDilations, strides);
        depthPadding.append(convPadding.begin(), convPadding.begin() + s);
        depthPadding.push_back(0);
        depthPadding.append(convPadding.begin() + s, convPadding.end());
        p.setLayout(ActivationLayoutAttr::get(getContext(), getChannelsLastLayout(s + 1)));
        p.setFilterLayout(
            FilterLayoutAttr::get(getContext(), getSpatialFirstFilterLayout(s + 1)));
        p.setStrides(db.i64Array(depthStrides));
        p.setDilations(db.i64Array(depthDilations));
        p.setPadding(db.i64Array(depthPadding));
        p.setGroups(db.i64(channels));
        grad = db.create1<ConvOp>({db.reshape(x, xShape), db.reshape(dy, dyShape)}, p);
      } else {
        // 3-D: x' = [1, spatial..., N * C], dy' = [o..., 1, N * C]; the
        // result [1, k..., N * C] as [k..., N, C], summed over N.
        int64_t merged = batch * channels;
        SmallVector<int64_t> perm(spatialDims.begin(), spatialDims.end());
        perm.append({0, channel});
        SmallVector<int64_t> xShape{1}, dyShape;
        for (unsigned d : spatialDims) {
          xShape.push_back(getShape(x)[d]);
          dyShape.push_back(out[d]);
        }
        xShape.push_back(merged);
        dyShape.append({1, merged});
        x = db.reshape(db.transpose(x, perm), xShape);
        Value dy = db.reshape(db.transpose(op.getGradOutput(), perm), dyShape);
        p.setGroups(db.i64(merged));
        Value conv = db.create1<ConvOp>({x, dy}, p);
        SmallVector<int64_t> split(kernelShape);
        split.append({batch, channels});
        grad = db.sum(db.reshape(conv, split), {static_cast<int64_t>(s)});
      }
      // -> [k..., 1, C] or [C, 1, k...].
      SmallVector<int64_t> shape(kernelShape);
      if (spatialFirst) {
        shape.append({1, channels});
        return db.replace(op, db.reshape(grad, shape));
      }
      shape.push_back(channels);
      SmallVector<int64_t> toChannelsFirst{static_cast<int64_t>(s)};
      for (unsigned i = 0; i < s; ++i)
        toChannelsFirst.push_back(i);
      grad = db.transpose(db.reshape(grad, shape), toChannelsFirst);
      SmallVector<int64_t> oihw{channels, 1};
      oihw.append(kernelShape.begin(), kernelShape.end());
      return db.replace(op, db.reshape(grad, oihw));
    }

    // x' = [ci, spatial..., n], dy' = [o..., n, co].
    SmallVector<int64_t> xPerm, dyPerm;
    xPerm.push_back(channel);
    dyPerm.assign(spatialDims.begin(), spatialDims.end());
    xPerm.append(spatialDims.begin(), spatialDims.end());
    xPerm.push_back(0);
    dyPerm.append({0, channel});
    x = db.transpose(x, xPerm);
    Value dy = db.transpose(op.getGradOutput(), dyPerm);
    Value conv = db.create1<ConvOp>({x, dy}, p);
    // [ci, k..., co] -> the filter layout.
    SmallVector<int64_t> resultPerm;
    if (spatialFirst) {
      for (unsigned i = 0; i < s; ++i)
        resultPerm.push_back(1 + i);
      resultPerm.append({0, s + 1});
    } else {
      resultPerm = {s + 1, 0};
      for (unsigned i = 0; i < s; ++i)
        resultPerm.push_back(1 + i);
    }
    return db.replace(op, db.transpose(conv, resultPerm));
  }
};

/// A strided transposed conv (dilation 1) is the interleaving of
/// prod(strides) stride-1 transposed convs, one per output phase r (output
/// positions o = s * j + r): phase r only meets the kernel taps
/// k = k0 + s * m with k0 = (r + pad_low) mod s, so it is a transposed conv
/// of the input with that strided slice of the filter, unit stride and low
/// padding (pad_low + r - k0) / s; StrideOneTransposeToConv then makes each
/// a conv. Every phase is computed with ceil(out / s) rows so that the
/// phases interleave by concat and reshape; the result is sliced to size.
struct StridedTransposeToPhases : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    ActivationLayout layout = op.getLayout();
    unsigned s = getSpatialRank(layout), rank = s + 2;
    WindowAttrs window = getWindowAttrs(op);
    if (llvm::all_of(window.strides, [](int64_t v) { return v == 1; }) ||
        llvm::any_of(window.dilations, [](int64_t v) { return v != 1; }))
      return rewriter.notifyMatchFailure(op, "unit strides or dilated");
    SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
    ArrayRef<int64_t> in = getShape(op.getInput()), out = getShape(op.getResult());
    ArrayRef<int64_t> filterShape = getShape(op.getFilter());
    bool spatialFirst = getFilterFamily(op.getFilterLayout()) == FilterFamily::SpatialFirst;
    unsigned kernelStart = spatialFirst ? 0 : 2;
    MLIRContext *context = getContext();
    DecompositionBuilder db(rewriter, op.getLoc());

    // Rows per phase, and the phases in row-major order of r.
    SmallVector<int64_t> rows(s), phaseCounts(window.strides);
    for (unsigned d = 0; d < s; ++d)
      rows[d] = llvm::divideCeil(out[spatialDims[d]], window.strides[d]);
    int64_t numPhases = 1;
    for (int64_t c : phaseCounts)
      numPhases *= c;
    SmallVector<Value> phases;
    for (int64_t flat = 0; flat < numPhases; ++flat) {
      SmallVector<int64_t> r(s);
      for (int64_t d = s - 1, rest = flat; d >= 0; --d) {
        r[d] = rest % phaseCounts[d];
        rest /= phaseCounts[d];
      }
      SmallVector<int64_t> offsets(filterShape.size(), 0), sizes(filterShape),
          steps(filterShape.size(), 1), padding(2 * s), grow(2 * rank, 0);
      bool empty = false;
      for (unsigned d = 0; d < s; ++d) {
        int64_t stride = window.strides[d], k = filterShape[kernelStart + d];
        int64_t k0 = (r[d] + window.padding[d]) % stride;
        int64_t taps = k0 < k ? llvm::divideCeil(k - k0, stride) : 0;
        empty |= taps == 0;
        offsets[kernelStart + d] = k0;
        sizes[kernelStart + d] = std::max<int64_t>(taps, 1);
        steps[kernelStart + d] = stride;
        int64_t low = (window.padding[d] + r[d] - k0) / stride;
        int64_t natural = in[spatialDims[d]] + taps - 1 - low; // rows without high pad
        padding[d] = low;
        padding[s + d] = std::max<int64_t>(natural - rows[d], 0);
        grow[rank + spatialDims[d]] = std::max<int64_t>(rows[d] - natural, 0);
      }
      Value phase;
      if (empty) {
        // No tap reaches this phase: zeros, plus the bias.
        SmallVector<int64_t> shape(out);
        for (unsigned d = 0; d < s; ++d)
          shape[spatialDims[d]] = rows[d];
        auto type = RankedTensorType::get(
            shape, cast<RankedTensorType>(op.getType()).getElementType());
        ConstantOp::Properties zeros;
        zeros.setValue(
            DenseElementsAttr::get(type, rewriter.getZeroAttr(type.getElementType())));
        phase = db.create1<ConstantOp>({}, zeros);
        if (op.getBias()) {
          SmallVector<int64_t> biasShape(rank, 1);
          biasShape[getChannelDim(layout)] = out[getChannelDim(layout)];
          Value bias = db.reshape(op.getBias(), ArrayRef<int64_t>(biasShape).drop_front());
          phase = db.create1<AddOp>({phase, bias});
        }
      } else {
        Value filter = db.slice(op.getFilter(), offsets, sizes, steps);
        SmallVector<Value> operands{op.getInput(), filter};
        if (op.getBias())
          operands.push_back(op.getBias());
        ConvTransposeOp::Properties p;
        p.setLayout(op.getLayoutAttr());
        p.setFilterLayout(op.getFilterLayoutAttr());
        p.setPadding(db.i64Array(padding));
        p.setGroups(op.getGroupsAttr());
        phase = db.create1<ConvTransposeOp>(operands, p);
        if (llvm::any_of(grow, [](int64_t v) { return v != 0; })) {
          PadOp::Properties pad;
          pad.setMode(PadModeAttr::get(context, PadMode::Constant));
          pad.setPadding(db.i64Array(grow));
          phase = db.create1<PadOp>(phase, pad);
        }
      }
      if (!phase)
        return db.replace(op, Value());
      // Insert a unit dim after each spatial dim, for the interleaving.
      SmallVector<int64_t> expanded;
      for (unsigned dim = 0; dim < rank; ++dim) {
        expanded.push_back(getShape(phase)[dim]);
        if (llvm::is_contained(spatialDims, dim))
          expanded.push_back(1);
      }
      phases.push_back(db.reshape(phase, expanded));
    }
    // Interleave: concat along the unit dims, innermost spatial dim first.
    for (int64_t d = s - 1; d >= 0; --d) {
      int64_t axis = spatialDims[d] + d + 1; // the unit dim after spatial dim d
      SmallVector<Value> merged;
      for (size_t i = 0; i < phases.size(); i += phaseCounts[d]) {
        ConcatOp::Properties p;
        p.setAxis(rewriter.getI64IntegerAttr(axis));
        merged.push_back(db.create1<ConcatOp>(ValueRange(phases).slice(i, phaseCounts[d]), p));
      }
      phases = merged;
    }
    SmallVector<int64_t> full(out);
    for (unsigned d = 0; d < s; ++d)
      full[spatialDims[d]] = rows[d] * window.strides[d];
    Value result = db.reshape(phases.front(), full);
    if (ArrayRef<int64_t>(full) != out)
      result = db.slice(result, SmallVector<int64_t>(rank, 0), out,
                        SmallVector<int64_t>(rank, 1));
    return db.replace(op, result);
  }
};

} // namespace

void mlir::tessel::populateConvTransposeDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<StrideOneTransposeToConv, StridedTransposeToPhases>(patterns.getContext());
}

void mlir::tessel::populateFilterGradientDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<FilterGradientToConv>(patterns.getContext());
}
