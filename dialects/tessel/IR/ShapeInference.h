//===- ShapeInference.h - Shape functions of the tessel ops ----*- C++ -*-===//
//
// The shape formulas of every tessel op, on plain shapes and attribute values.
// The ops' type inference calls them; so do the unit tests and any frontend
// that must validate a graph before it builds IR. Each returns the result
// shape or an error whose message names the rule and the offending values.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TESSEL_IR_SHAPEINFERENCE_H
#define TESSEL_DIALECTS_TESSEL_IR_SHAPEINFERENCE_H

#include "dialects/tessel/IR/TesselDialect.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <type_traits>

namespace mlir::tessel {

using Shape = llvm::SmallVector<int64_t, 6>;

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

/// Number of spatial dims (1-3) of an activation layout.
unsigned getSpatialRank(ActivationLayout layout);
/// Whether channels are the last dim (nwc, nhwc, ndhwc).
bool isChannelsLast(ActivationLayout layout);
/// Rank of a tensor in `layout`: batch, channels and the spatial dims.
inline unsigned getRank(ActivationLayout layout) { return getSpatialRank(layout) + 2; }
/// Position of the channel dim of a tensor in `layout`.
unsigned getChannelDim(ActivationLayout layout);
/// Positions of the spatial dims of a tensor in `layout`, in D, H, W order.
llvm::SmallVector<unsigned, 3> getSpatialDims(ActivationLayout layout);

/// The transpose a relayout is: result dim `i` is input dim `perm[i]`.
llvm::SmallVector<int64_t> getRelayoutPermutation(ActivationLayout source,
                                                  ActivationLayout target);

/// Number of spatial dims of a filter layout.
unsigned getSpatialRank(FilterLayout layout);
/// The family of a filter layout: O first (oihw), I first (iohw) or spatial
/// dims first (hwio).
enum class FilterFamily { OutputFirst, InputFirst, SpatialFirst };
FilterFamily getFilterFamily(FilterLayout layout);

/// The channels-last layout (nwc, nhwc, ndhwc) with `spatialRank` spatial
/// dims.
ActivationLayout getChannelsLastLayout(unsigned spatialRank);
/// The spatial-first filter layout (wio, hwio, dhwio) with `spatialRank`
/// spatial dims.
FilterLayout getSpatialFirstFilterLayout(unsigned spatialRank);
/// The layout that reads the same filter tensor with its channel dims named
/// the other way, as the other op of the conv / conv_transpose pair does:
/// oi* <-> io*; *io stays *io.
FilterLayout getTransposedFilterLayout(FilterLayout layout);

/// `axis` of an op that verified (so in [-rank, rank)) counted from 0.
inline int64_t wrapAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Shape functions, one block per op family
//===----------------------------------------------------------------------===//

/// Attributes of tessel.conv and tessel.conv_transpose. Empty arrays take the
/// defaults: strides and dilations 1, padding and output padding 0.
struct ConvParams {
  ActivationLayout layout = ActivationLayout::NCHW;
  FilterLayout filterLayout = FilterLayout::OIHW;
  llvm::ArrayRef<int64_t> strides, dilations, padding, outputPadding;
  int64_t groups = 1;
  bool transposed = false;
};
llvm::Expected<Shape> inferConvShape(llvm::ArrayRef<int64_t> input,
                                     llvm::ArrayRef<int64_t> filter,
                                     std::optional<llvm::ArrayRef<int64_t>> bias,
                                     const ConvParams &params);

/// The window attributes of a conv, pool or gradient op with every default
/// filled in: strides `defaultStrides` (a pool's kernel) or 1, dilations 1,
/// padding (low pads, then high pads) 0.
struct WindowAttrs {
  llvm::SmallVector<int64_t> strides, dilations, padding;
};
WindowAttrs getWindowAttrs(unsigned spatialRank,
                           std::optional<llvm::ArrayRef<int64_t>> strides,
                           std::optional<llvm::ArrayRef<int64_t>> dilations,
                           std::optional<llvm::ArrayRef<int64_t>> padding,
                           llvm::ArrayRef<int64_t> defaultStrides = {});
template <typename OpTy>
WindowAttrs getWindowAttrs(OpTy op, llvm::ArrayRef<int64_t> defaultStrides = {}) {
  return getWindowAttrs(getSpatialRank(op.getLayout()), op.getStrides(),
                        op.getDilations(), op.getPadding(), defaultStrides);
}

/// The geometry of a tessel.conv, conv_transpose or conv_backward_filter with
/// every default filled in; the lowering, the decompositions and the gradient
/// rules all read it here.
struct ConvGeometry {
  ActivationLayout layout;
  FilterLayout filterLayout;
  unsigned spatialRank;
  /// Padding holds the low pads, then the high pads.
  llvm::SmallVector<int64_t> strides, dilations, padding, kernel;
  int64_t groups;
  llvm::ArrayRef<int64_t> padLow() const {
    return llvm::ArrayRef(padding).take_front(spatialRank);
  }
  llvm::ArrayRef<int64_t> padHigh() const {
    return llvm::ArrayRef(padding).drop_front(spatialRank);
  }
};
template <typename OpTy>
ConvGeometry getConvGeometry(OpTy op) {
  ConvGeometry g;
  g.layout = op.getLayout();
  g.filterLayout = op.getFilterLayout();
  g.spatialRank = getSpatialRank(g.layout);
  WindowAttrs window = getWindowAttrs(op);
  g.strides = std::move(window.strides);
  g.dilations = std::move(window.dilations);
  g.padding = std::move(window.padding);
  g.groups = static_cast<int64_t>(op.getGroups());
  if constexpr (std::is_same_v<OpTy, ConvBackwardFilterOp>) {
    g.kernel.assign(op.getKernel().begin(), op.getKernel().end());
  } else {
    auto filter = llvm::cast<RankedTensorType>(op.getFilter().getType()).getShape();
    g.kernel.assign(getFilterFamily(g.filterLayout) == FilterFamily::SpatialFirst
                        ? filter.take_front(g.spatialRank)
                        : filter.drop_front(2));
  }
  return g;
}

/// Attributes of tessel.pool. Empty strides default to the kernel.
struct PoolParams {
  PoolKind kind = PoolKind::Max;
  ActivationLayout layout = ActivationLayout::NCHW;
  llvm::ArrayRef<int64_t> kernel, strides, dilations, padding;
  bool ceilMode = false;
};
llvm::Expected<Shape> inferPoolShape(llvm::ArrayRef<int64_t> input,
                                     const PoolParams &params);
llvm::Expected<Shape> inferAdaptivePoolShape(llvm::ArrayRef<int64_t> input,
                                             ActivationLayout layout,
                                             llvm::ArrayRef<int64_t> outputSize);
llvm::Expected<Shape> inferGlobalPoolShape(llvm::ArrayRef<int64_t> input,
                                           ActivationLayout layout);

/// Checks batch_norm's per-channel operands against the input and returns
/// the channel count. Without a layout the input is channels-first.
/// `perChannel` pairs each operand's name with its shape.
using NamedShape = std::pair<llvm::StringRef, llvm::ArrayRef<int64_t>>;
llvm::Expected<int64_t>
checkBatchNormShapes(llvm::ArrayRef<int64_t> input,
                     std::optional<ActivationLayout> layout,
                     llvm::ArrayRef<NamedShape> perChannel);

/// numpy broadcasting of two shapes.
llvm::Expected<Shape> inferBroadcastShape(llvm::ArrayRef<int64_t> lhs,
                                          llvm::ArrayRef<int64_t> rhs);

llvm::Expected<Shape> inferLinearShape(llvm::ArrayRef<int64_t> input,
                                       llvm::ArrayRef<int64_t> weight,
                                       std::optional<llvm::ArrayRef<int64_t>> bias);
llvm::Expected<Shape> inferMatmulShape(llvm::ArrayRef<int64_t> lhs,
                                       llvm::ArrayRef<int64_t> rhs);

llvm::Expected<Shape> inferReshapeShape(llvm::ArrayRef<int64_t> input,
                                        llvm::ArrayRef<int64_t> shape);
llvm::Expected<Shape> inferFlattenShape(llvm::ArrayRef<int64_t> input,
                                        int64_t startDim, int64_t endDim);
llvm::Expected<Shape> inferTransposeShape(llvm::ArrayRef<int64_t> input,
                                          llvm::ArrayRef<int64_t> perm);
llvm::Expected<Shape> inferSliceShape(llvm::ArrayRef<int64_t> input,
                                      llvm::ArrayRef<int64_t> offsets,
                                      llvm::ArrayRef<int64_t> sizes,
                                      llvm::ArrayRef<int64_t> strides);
llvm::Expected<Shape> inferGatherShape(llvm::ArrayRef<int64_t> input,
                                       llvm::ArrayRef<int64_t> indices, int64_t axis);
llvm::Expected<Shape>
inferConcatShape(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs, int64_t axis);
llvm::Expected<Shape> inferRelayoutShape(llvm::ArrayRef<int64_t> input,
                                         ActivationLayout source, ActivationLayout target);

llvm::Expected<Shape> inferPadShape(llvm::ArrayRef<int64_t> input, PadMode mode,
                                    llvm::ArrayRef<int64_t> padding);
llvm::Expected<Shape>
inferUpsampleShape(llvm::ArrayRef<int64_t> input, ActivationLayout layout,
                   std::optional<llvm::ArrayRef<int64_t>> size,
                   std::optional<llvm::ArrayRef<double>> scales);
/// pixel_shuffle, or pixel_unshuffle when `inverse` is set.
llvm::Expected<Shape> inferPixelShuffleShape(llvm::ArrayRef<int64_t> input,
                                             ActivationLayout layout, int64_t factor,
                                             bool inverse);

llvm::Expected<Shape>
inferReduceShape(llvm::ArrayRef<int64_t> input,
                 std::optional<llvm::ArrayRef<int64_t>> axes, bool keepDims);
llvm::Expected<Shape> inferCrossEntropyShape(llvm::ArrayRef<int64_t> logits,
                                             llvm::ArrayRef<int64_t> labels,
                                             Reduction reduction);
llvm::Expected<Shape> inferMseLossShape(llvm::ArrayRef<int64_t> lhs,
                                        llvm::ArrayRef<int64_t> rhs,
                                        Reduction reduction);

//===----------------------------------------------------------------------===//
// Helpers shared by the shape functions and the op implementations
//===----------------------------------------------------------------------===//

/// An error carrying `message`.
llvm::Error shapeError(const llvm::Twine &message);
/// Formats a shape or attribute array as "[1, 2, 3]".
std::string formatArray(llvm::ArrayRef<int64_t> values);
/// Returns `axis` in [0, rank), counting negative axes from the end, or an
/// error naming `what`.
llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                      llvm::StringRef what = "axis");
/// Checks that a tensor of `shape` has the rank `layout` implies.
llvm::Error checkLayoutRank(llvm::ArrayRef<int64_t> shape, ActivationLayout layout,
                            llvm::StringRef operand = "input");
/// Checks that `values` has `size` entries, each at least `min`.
llvm::Error checkSpatialArray(llvm::StringRef name, llvm::ArrayRef<int64_t> values,
                              size_t size, int64_t min);

/// Returns the element type shared by every operand, or emits an error at
/// `loc` naming `opName` if the operands are not ranked tensors of one
/// element type.
FailureOr<Type> getSharedElementType(std::optional<Location> loc,
                                     llvm::StringRef opName, ValueRange operands);
/// Shape of a ranked tensor value.
llvm::ArrayRef<int64_t> getShape(Value value);
/// Appends `tensor<shape x elementType>` to `types`, or emits the shape
/// function's error at `loc` as a diagnostic of `opName`.
LogicalResult appendInferredType(std::optional<Location> loc,
                                 llvm::StringRef opName,
                                 llvm::Expected<Shape> shape, Type elementType,
                                 llvm::SmallVectorImpl<Type> &types);

/// Infers the single result of an op: checks that `operands` share one
/// element type, then appends `shapeFn()`'s shape with that element type.
LogicalResult inferFromOperands(std::optional<Location> loc,
                                llvm::StringRef opName, ValueRange operands,
                                llvm::function_ref<llvm::Expected<Shape>()> shapeFn,
                                llvm::SmallVectorImpl<Type> &types);

/// Infers the single result of an op whose shape depends on one tensor
/// operand: `shapeFn` maps the operand's shape to the result's; the element
/// type is the operand's.
LogicalResult inferFromOperand(
    std::optional<Location> loc, llvm::StringRef opName, Value operand,
    llvm::function_ref<llvm::Expected<Shape>(llvm::ArrayRef<int64_t>)> shapeFn,
    llvm::SmallVectorImpl<Type> &types);

} // namespace mlir::tessel

#endif // TESSEL_DIALECTS_TESSEL_IR_SHAPEINFERENCE_H
