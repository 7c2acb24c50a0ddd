//===- TensorOps.cpp - Constants, shape and layout ops --------------------===//

#include "dialects/tessel/IR/Constants.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>
#include <limits>

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/TensorOps.cpp.inc"

void TesselDialect::registerTensorOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/TensorOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Shape functions
//===----------------------------------------------------------------------===//

/// The element count of `shape`, saturated at INT64_MAX: the tessel ops
/// reject such types (kMaxTensorBytes), and a saturated count never equals
/// a real one.
static int64_t getNumElements(ArrayRef<int64_t> shape) {
  return getCheckedNumElements(shape).value_or(std::numeric_limits<int64_t>::max());
}

llvm::Expected<Shape> mlir::tessel::inferReshapeShape(ArrayRef<int64_t> input,
                                                      ArrayRef<int64_t> shape) {
  int64_t known = 1;
  std::optional<size_t> inferred;
  for (auto [i, size] : llvm::enumerate(shape)) {
    if (size == -1) {
      if (inferred)
        return shapeError(llvm::formatv(
            "shape {0} may hold at most one -1", formatArray(shape)));
      inferred = i;
      continue;
    }
    if (size < 0)
      return shapeError(llvm::formatv(
          "shape {0} entries must be non-negative or -1", formatArray(shape)));
    if (llvm::MulOverflow(known, size, known))
      return shapeError(llvm::formatv("shape {0} holds more than 2^63 elements",
                                      formatArray(shape)));
  }
  int64_t total = getNumElements(input);
  Shape result(shape);
  if (inferred) {
    if (known == 0 || total % known != 0)
      return shapeError(llvm::formatv(
          "cannot infer the -1 in shape {0} from input {1} ({2} elements)",
          formatArray(shape), formatArray(input), total));
    result[*inferred] = total / known;
  } else if (known != total) {
    return shapeError(llvm::formatv(
        "shape {0} holds {1} elements but input {2} holds {3}",
        formatArray(shape), known, formatArray(input), total));
  }
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferFlattenShape(ArrayRef<int64_t> input,
                                                      int64_t startDim,
                                                      int64_t endDim) {
  if (input.empty())
    return Shape{1};
  int64_t rank = input.size();
  llvm::Expected<int64_t> start = normalizeAxis(startDim, rank, "start_dim");
  if (!start)
    return start.takeError();
  llvm::Expected<int64_t> end = normalizeAxis(endDim, rank, "end_dim");
  if (!end)
    return end.takeError();
  if (*start > *end)
    return shapeError(llvm::formatv("start_dim {0} comes after end_dim {1}",
                                    startDim, endDim));
  Shape result(input.take_front(*start));
  result.push_back(getNumElements(input.slice(*start, *end - *start + 1)));
  llvm::append_range(result, input.drop_front(*end + 1));
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferTransposeShape(ArrayRef<int64_t> input,
                                                        ArrayRef<int64_t> perm) {
  if (perm.size() != input.size())
    return shapeError(llvm::formatv("perm {0} must have {1} entries (the rank)",
                                    formatArray(perm), input.size()));
  llvm::SmallBitVector seen(perm.size());
  Shape result;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen.test(p))
      return shapeError(llvm::formatv("perm {0} is not a permutation of [0, {1})",
                                      formatArray(perm), perm.size()));
    seen.set(p);
    result.push_back(input[p]);
  }
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferSliceShape(ArrayRef<int64_t> input,
                                                    ArrayRef<int64_t> offsets,
                                                    ArrayRef<int64_t> sizes,
                                                    ArrayRef<int64_t> strides) {
  size_t rank = input.size();
  if (offsets.size() != rank || sizes.size() != rank || strides.size() != rank)
    return shapeError(llvm::formatv(
        "offsets {0}, sizes {1} and strides {2} must each have {3} entries (the rank)",
        formatArray(offsets), formatArray(sizes), formatArray(strides), rank));
  for (size_t d = 0; d < rank; ++d) {
    if (strides[d] == 0)
      return shapeError(llvm::formatv("stride of dim {0} is 0", d));
    if (sizes[d] < 0)
      return shapeError(llvm::formatv("size of dim {0} is negative ({1})", d, sizes[d]));
    if (sizes[d] == 0)
      continue;
    int64_t last = offsets[d] + (sizes[d] - 1) * strides[d];
    if (offsets[d] < 0 || offsets[d] >= input[d] || last < 0 || last >= input[d])
      return shapeError(llvm::formatv(
          "dim {0} reads elements {1} to {2} (offset {1}, size {3}, stride {4}), "
          "outside [0, {5})",
          d, offsets[d], last, sizes[d], strides[d], input[d]));
  }
  return Shape(sizes);
}

llvm::Expected<Shape> mlir::tessel::inferGatherShape(ArrayRef<int64_t> input,
                                                     ArrayRef<int64_t> indices,
                                                     int64_t axis) {
  if (input.empty())
    return shapeError("cannot gather from a 0-D tensor");
  llvm::Expected<int64_t> dim = normalizeAxis(axis, input.size());
  if (!dim)
    return dim.takeError();
  Shape result(input.take_front(*dim));
  llvm::append_range(result, indices);
  llvm::append_range(result, input.drop_front(*dim + 1));
  return result;
}

llvm::Expected<Shape>
mlir::tessel::inferConcatShape(ArrayRef<ArrayRef<int64_t>> inputs, int64_t axis) {
  if (inputs.empty())
    return shapeError("needs at least one input");
  ArrayRef<int64_t> first = inputs.front();
  if (first.empty())
    return shapeError("cannot concatenate 0-D tensors");
  llvm::Expected<int64_t> dim = normalizeAxis(axis, first.size());
  if (!dim)
    return dim.takeError();
  Shape result(first);
  for (auto [i, shape] : llvm::enumerate(inputs.drop_front())) {
    if (shape.size() != first.size())
      return shapeError(llvm::formatv("input #{0} has rank {1}, input #0 rank {2}",
                                      i + 1, shape.size(), first.size()));
    for (size_t d = 0; d < shape.size(); ++d)
      if (static_cast<int64_t>(d) != *dim && shape[d] != first[d])
        return shapeError(llvm::formatv(
            "input #{0} shape {1} differs from input #0 shape {2} in dim {3}, "
            "which is not the concatenation axis {4}",
            i + 1, formatArray(shape), formatArray(first), d, *dim));
    result[*dim] += shape[*dim];
  }
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferRelayoutShape(ArrayRef<int64_t> input,
                                                       ActivationLayout source,
                                                       ActivationLayout target) {
  if (auto err = checkLayoutRank(input, source))
    return std::move(err);
  if (getSpatialRank(source) != getSpatialRank(target))
    return shapeError(llvm::formatv("layouts {0} and {1} have different ranks",
                                    stringifyActivationLayout(source),
                                    stringifyActivationLayout(target)));
  Shape result(input.size());
  result[0] = input[0];
  result[getChannelDim(target)] = input[getChannelDim(source)];
  for (auto [from, to] :
       llvm::zip_equal(getSpatialDims(source), getSpatialDims(target)))
    result[to] = input[from];
  return result;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getValue().getType());
  return success();
}

LogicalResult ConstantOp::verify() {
  if (!isa<ElementsAttr>(getValue()))
    return emitOpError("value must be an elements attribute (e.g. dense<...>), got ")
           << getValue();
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferReshapeShape(input, adaptor.getShape());
      },
      types);
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferFlattenShape(input,
                                 static_cast<int64_t>(adaptor.getStartDim()),
                                 static_cast<int64_t>(adaptor.getEndDim()));
      },
      types);
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferTransposeShape(input, adaptor.getPerm());
      },
      types);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferSliceShape(input, adaptor.getOffsets(), adaptor.getSizes(),
                               adaptor.getStrides());
      },
      types);
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferGatherShape(input, getShape(adaptor.getIndices()),
                                static_cast<int64_t>(adaptor.getAxis()));
      },
      types);
}

/// Constant indices are checked here; run-time ones are clamped when lowered.
LogicalResult GatherOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += inputType.getRank();
  int64_t size = inputType.getDimSize(axis);
  DenseIntElementsAttr constant;
  if (!matchPattern(getIndices(), m_Constant(&constant)))
    return success();
  for (const APInt &index : constant.getValues<APInt>()) {
    int64_t i = index.getSExtValue();
    if (i < -size || i >= size)
      return emitOpError() << "index " << i << " is outside [" << -size << ", " << size
                           << ") along axis " << axis;
  }
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, getOperationName(), adaptor.getInputs(),
      [&] {
        SmallVector<ArrayRef<int64_t>> shapes;
        for (Value input : adaptor.getInputs())
          shapes.push_back(getShape(input));
        return inferConcatShape(shapes, static_cast<int64_t>(adaptor.getAxis()));
      },
      types);
}

LogicalResult RelayoutOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferRelayoutShape(input, adaptor.getSource(),
                                  adaptor.getTarget());
      },
      types);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) and reshape(flatten(x)) read x directly.
  Operation *producer = getInput().getDefiningOp();
  if (isa_and_nonnull<ReshapeOp, FlattenOp>(producer)) {
    getInputMutable().assign(producer->getOperand(0));
    return getResult();
  }
  if (auto constant = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    return constant.reshape(cast<ShapedType>(getType()));
  // The same bytes under another shape: the new attribute shares the blob.
  if (auto resource = dyn_cast_if_present<DenseResourceElementsAttr>(adaptor.getInput()))
    return DenseResourceElementsAttr::get(cast<ShapedType>(getType()),
                                          resource.getRawHandle());
  return {};
}

/// The constant whose element i0, i1, ... is element `base + sum_d i_d *
/// strides[d]` of the constant `input` (strides in elements, possibly
/// negative): what a transpose or a slice of constant weights folds to.
/// Null for storage Tessel does not fold.
static OpFoldResult foldStridedCopy(Attribute input, RankedTensorType resultType,
                                    int64_t base, ArrayRef<int64_t> strides,
                                    StringRef name) {
  if (auto splat = dyn_cast_if_present<SplatElementsAttr>(input))
    return splat.resizeSplat(resultType);
  std::optional<ArrayRef<char>> raw = getConstantBytes(input);
  if (!raw)
    return {};
  size_t bytes = resultType.getElementTypeBitWidth() / 8;
  if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
    return {}; // no element type Tessel folds is wider
  ArrayRef<int64_t> outShape = resultType.getShape();
  int64_t rank = resultType.getRank(), count = resultType.getNumElements();
  if (count == 0)
    return getConstantAttr(resultType, name, [](MutableArrayRef<char>) {});
  if (rank == 0)
    return getConstantAttr(resultType, name, [&](MutableArrayRef<char> out) {
      std::memcpy(out.data(), raw->data() + base * bytes, bytes);
    });
  // The result walks the source along strides: every result index but its
  // last dim's (and `blocked`'s, below) in row-major order, and for each a
  // plane of `rows` by the last dim's `inner` elements (a model's weights
  // are millions of elements: no per-element index math). Where the
  // source's contiguous dim is another than the result's last (a transpose
  // of OIHW weights into HWIO), the plane is that dim by the last one,
  // copied in 16x16 blocks so that each block reads 16 source lines and
  // writes 16 result lines: row by row, every element of a result row was
  // a cache line of its own (a third of a ResNet-18 gradient's layout
  // pass). Elsewhere a plane is one row.
  int64_t inner = outShape[rank - 1], step = strides[rank - 1], blocked = -1;
  if (inner > 1 && step != 1)
    for (int64_t d = 0; d + 1 < rank; ++d)
      if (strides[d] == 1 && outShape[d] > 1)
        blocked = d;
  SmallVector<int64_t> outStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    outStrides[d] = outStrides[d + 1] * outShape[d + 1];
  int64_t rows = blocked < 0 ? 1 : outShape[blocked];
  int64_t rowStride = blocked < 0 ? 0 : outStrides[blocked];
  auto copy = [&](auto element, MutableArrayRef<char> out) {
    using T = decltype(element);
    const auto *in = reinterpret_cast<const T *>(raw->data());
    auto *to = reinterpret_cast<T *>(out.data());
    constexpr int64_t kBlock = 16;
    int64_t at = base, outAt = 0;
    SmallVector<int64_t> index(rank, 0);
    for (int64_t plane = 0, planes = count / (rows * inner); plane < planes; ++plane) {
      for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
        for (int64_t j0 = 0; j0 < inner; j0 += kBlock)
          for (int64_t j = j0, je = std::min(inner, j0 + kBlock); j < je; ++j)
            for (int64_t i = i0, ie = std::min(rows, i0 + kBlock); i < ie; ++i)
              std::memcpy(to + outAt + i * rowStride + j, in + at + i + j * step, sizeof(T));
      for (int64_t d = rank - 2; d >= 0; --d) {
        if (d == blocked)
          continue;
        at += strides[d];
        outAt += outStrides[d];
        if (++index[d] < outShape[d])
          break;
        at -= strides[d] * outShape[d];
        outAt -= outStrides[d] * outShape[d];
        index[d] = 0;
      }
    }
  };
  return getConstantAttr(resultType, name, [&](MutableArrayRef<char> out) {
    switch (bytes) {
    case 1: copy(uint8_t(), out); break;
    case 2: copy(uint16_t(), out); break;
    case 4: copy(uint32_t(), out); break;
    default: copy(uint64_t(), out); break;
    }
  });
}

/// The row-major strides of `shape`, in elements.
static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// Folds a transpose of constant weights at compile time: the layout pass
/// turns every O-first filter into a spatial-first one this way.
OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  if (llvm::equal(getPerm(), llvm::seq<int64_t>(0, getPerm().size())))
    return getInput();
  SmallVector<int64_t> inStrides = rowMajorStrides(getInput().getType().getShape());
  SmallVector<int64_t> strides;
  for (int64_t p : getPerm())
    strides.push_back(inStrides[p]);
  return foldStridedCopy(adaptor.getInput(), cast<RankedTensorType>(getType()), 0,
                         strides, "tessel_transposed");
}

/// Folds a slice of constant weights at compile time: the gradient of a
/// conv with constant weights flips its filter this way (negative strides).
OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      llvm::all_of(getOffsets(), [](int64_t v) { return v == 0; }) &&
      llvm::all_of(getStrides(), [](int64_t v) { return v == 1; }))
    return getInput();
  SmallVector<int64_t> inStrides = rowMajorStrides(getInput().getType().getShape());
  int64_t base = 0;
  SmallVector<int64_t> strides;
  for (auto [offset, step, inStride] : llvm::zip_equal(getOffsets(), getStrides(), inStrides)) {
    base += offset * inStride;
    strides.push_back(step * inStride);
  }
  return foldStridedCopy(adaptor.getInput(), cast<RankedTensorType>(getType()), base,
                         strides, "tessel_sliced");
}

namespace {
/// transpose(transpose(x)) and transpose(relayout(x)) are one transpose of x:
/// a layout pass's relayout followed by an autodiff rule's transpose (a
/// filter gradient's operands) then moves the data once, or not at all.
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Value input;
    SmallVector<int64_t> inner;
    if (auto producer = op.getInput().getDefiningOp<TransposeOp>()) {
      input = producer.getInput();
      llvm::append_range(inner, producer.getPerm());
    } else if (auto producer = op.getInput().getDefiningOp<RelayoutOp>()) {
      input = producer.getInput();
      inner = getRelayoutPermutation(producer.getSource(), producer.getTarget());
    } else {
      return failure();
    }
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), input,
                                             rewriter.getDenseI64ArrayAttr(perm));
    return success();
  }
};

/// A transpose that keeps the dims of size > 1 in order moves no data: it is
/// a reshape.
struct TransposeOfUnitDimsToReshape : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    int64_t previous = -1;
    for (int64_t p : op.getPerm()) {
      if (shape[p] == 1)
        continue;
      if (p < previous)
        return failure();
      previous = p;
    }
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, type, op.getInput(),
                                           rewriter.getDenseI64ArrayAttr(type.getShape()));
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ComposeTransposes, TransposeOfUnitDimsToReshape>(context);
}

namespace {
/// concat(a, b, c, d) where an earlier concat(a, b) (same axis, same block)
/// exists is concat(concat(a, b), c, d): the longest such earlier
/// concatenation is reused. Chained, the concatenations of a DenseNet block
/// share one buffer after bufferization (tessel-pad-in-place) instead of
/// each copying all its inputs (quadratic in the block's depth).
struct ConcatOfConcatenatedPrefix : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    OperandRange inputs = op.getInputs();
    if (inputs.size() < 3)
      return failure();
    ConcatOp best;
    for (Operation *user : inputs.front().getUsers()) {
      auto other = dyn_cast<ConcatOp>(user);
      if (!other || other == op || other.getAxis() != op.getAxis() ||
          other->getBlock() != op->getBlock() || !other->isBeforeInBlock(op))
        continue;
      OperandRange prefix = other.getInputs();
      if (prefix.size() < 2 || prefix.size() >= inputs.size() ||
          (best && prefix.size() <= best.getInputs().size()) ||
          !std::equal(prefix.begin(), prefix.end(), inputs.begin()))
        continue;
      best = other;
    }
    if (!best)
      return failure();
    SmallVector<Value> chained{best.getResult()};
    llvm::append_range(chained, inputs.drop_front(best.getInputs().size()));
    rewriter.modifyOpInPlace(op, [&] { op.getInputsMutable().assign(chained); });
    return success();
  }
};
} // namespace

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<ConcatOfConcatenatedPrefix>(context);
}

namespace {
/// A relayout of a tensor whose spatial dims are all 1 moves no data: it is a
/// reshape, which folds with the shape ops around it.
struct RelayoutOfUnitSpatialToReshape : OpRewritePattern<RelayoutOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RelayoutOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    if (op.getSource() == op.getTarget() ||
        llvm::any_of(getSpatialDims(op.getSource()),
                     [&](unsigned d) { return shape[d] != 1; }))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOpWithNewOp<ReshapeOp>(
        op, type, op.getInput(), rewriter.getDenseI64ArrayAttr(type.getShape()));
    return success();
  }
};
} // namespace

void RelayoutOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                             MLIRContext *context) {
  patterns.add<RelayoutOfUnitSpatialToReshape>(context);
}

OpFoldResult RelayoutOp::fold(FoldAdaptor) {
  if (getSource() == getTarget())
    return getInput();
  // relayout(relayout(x, a -> b), b -> a) is x.
  if (auto producer = getInput().getDefiningOp<RelayoutOp>())
    if (producer.getSource() == getTarget())
      return producer.getInput();
  return {};
}
