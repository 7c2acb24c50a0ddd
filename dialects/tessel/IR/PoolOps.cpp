//===- PoolOps.cpp - Window, adaptive and global pooling ------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/PoolOps.cpp.inc"

void TesselDialect::registerPoolOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/PoolOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Shape functions
//===----------------------------------------------------------------------===//

llvm::Expected<Shape> mlir::tessel::inferPoolShape(ArrayRef<int64_t> input,
                                                   const PoolParams &params) {
  if (auto err = checkLayoutRank(input, params.layout))
    return std::move(err);
  unsigned spatialRank = getSpatialRank(params.layout);
  if (auto err = checkSpatialArray("kernel", params.kernel, spatialRank, 1))
    return std::move(err);
  SmallVector<int64_t> strides(params.strides.empty() ? params.kernel
                                                      : params.strides);
  SmallVector<int64_t> dilations(params.dilations);
  if (dilations.empty())
    dilations.assign(spatialRank, 1);
  SmallVector<int64_t> padding(params.padding);
  if (padding.empty())
    padding.assign(2 * spatialRank, 0);
  if (auto err = checkSpatialArray("strides", strides, spatialRank, 1))
    return std::move(err);
  if (auto err = checkSpatialArray("dilations", dilations, spatialRank, 1))
    return std::move(err);
  if (auto err = checkSpatialArray("padding", padding, 2 * spatialRank, 0))
    return std::move(err);

  Shape result(input);
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(params.layout);
  for (unsigned i = 0; i < spatialRank; ++i) {
    int64_t in = input[spatialDims[i]];
    int64_t padLow = padding[i];
    int64_t padded = in + padLow + padding[spatialRank + i];
    int64_t extent = dilations[i] * (params.kernel[i] - 1) + 1;
    if (extent > padded)
      return shapeError(llvm::formatv("dilated kernel extent {0} exceeds padded "
                                      "input size {1} in spatial dim {2}",
                                      extent, padded, i));
    int64_t span = padded - extent;
    int64_t out = (params.ceilMode ? llvm::divideCeil(span, strides[i])
                                   : span / strides[i]) +
                  1;
    // PyTorch: with ceil_mode the last window must start inside the input or
    // its low padding.
    if (params.ceilMode && (out - 1) * strides[i] >= in + padLow)
      --out;
    result[spatialDims[i]] = out;
  }
  return result;
}

llvm::Expected<Shape>
mlir::tessel::inferAdaptivePoolShape(ArrayRef<int64_t> input, ActivationLayout layout,
                                     ArrayRef<int64_t> outputSize) {
  if (auto err = checkLayoutRank(input, layout))
    return std::move(err);
  if (auto err = checkSpatialArray("output_size", outputSize,
                                   getSpatialRank(layout), 1))
    return std::move(err);
  Shape result(input);
  for (auto [dim, size] : llvm::zip_equal(getSpatialDims(layout), outputSize)) {
    if (input[dim] < 1)
      return shapeError(llvm::formatv(
          "adaptive pooling needs a non-empty input, got size 0 in dim {0}", dim));
    result[dim] = size;
  }
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferGlobalPoolShape(ArrayRef<int64_t> input,
                                                         ActivationLayout layout) {
  if (auto err = checkLayoutRank(input, layout))
    return std::move(err);
  Shape result(input);
  for (unsigned dim : getSpatialDims(layout)) {
    if (input[dim] < 1)
      return shapeError(llvm::formatv(
          "global pooling needs a non-empty input, got size 0 in dim {0}", dim));
    result[dim] = 1;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// Checks the attributes that only some pooling kinds take.
static LogicalResult verifyKindAttributes(Operation *op, PoolKind kind,
                                          std::optional<llvm::APFloat> p,
                                          bool countIncludePad) {
  if (countIncludePad && kind != PoolKind::Avg)
    return op->emitOpError("count_include_pad applies to avg pooling only, not ")
           << stringifyPoolKind(kind);
  if (p && kind != PoolKind::Lp)
    return op->emitOpError("p applies to lp pooling only, not ")
           << stringifyPoolKind(kind);
  if (p && !(p->convertToDouble() > 0.0))
    return op->emitOpError("p must be positive, got ") << p->convertToDouble();
  return success();
}

/// The shape-function attributes of tessel.pool or tessel.pool_backward.
template <typename AdaptorT>
static PoolParams getPoolParams(AdaptorT adaptor) {
  PoolParams params;
  params.kind = adaptor.getKind();
  params.layout = adaptor.getLayout();
  params.kernel = adaptor.getKernel();
  params.strides = adaptor.getStrides().value_or(ArrayRef<int64_t>());
  params.dilations = adaptor.getDilations().value_or(ArrayRef<int64_t>());
  params.padding = adaptor.getPadding().value_or(ArrayRef<int64_t>());
  params.ceilMode = adaptor.getCeilMode();
  return params;
}

LogicalResult PoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  PoolParams params = getPoolParams(adaptor);
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) { return inferPoolShape(input, params); }, types);
}

LogicalResult PoolOp::verify() {
  return verifyKindAttributes(*this, getKind(), getP(), getCountIncludePad());
}

/// Adaptive pooling and its derivatives have max and avg kinds only.
template <typename OpTy>
static LogicalResult verifyAdaptiveKind(OpTy op) {
  if (op.getKind() == PoolKind::Lp)
    return op.emitOpError("adaptive pooling supports max and avg, not lp");
  return success();
}

LogicalResult AdaptivePoolOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferAdaptivePoolShape(input, adaptor.getLayout(),
                                      adaptor.getOutputSize());
      },
      types);
}

LogicalResult AdaptivePoolOp::verify() { return verifyAdaptiveKind(*this); }

LogicalResult GlobalPoolOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferGlobalPoolShape(input, adaptor.getLayout());
      },
      types);
}

LogicalResult GlobalPoolOp::verify() {
  return verifyKindAttributes(*this, getKind(), getP(),
                              /*countIncludePad=*/false);
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

/// The result types of a pooling derivative op: `forward` gives the forward
/// pooling's result shape from the input's. A gradient (pool_backward,
/// adaptive_pool_backward) has the input's shape and its second operand the
/// forward result's; a tangent (pool_tangent, adaptive_pool_tangent) the
/// other way round.
template <typename AdaptorT>
static LogicalResult
inferPoolDerivative(std::optional<Location> loc, StringRef name, AdaptorT adaptor,
                    bool isTangent,
                    function_ref<llvm::Expected<Shape>(ArrayRef<int64_t>)> forward,
                    SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, name, adaptor.getOperands(),
      [&]() -> llvm::Expected<Shape> {
        ArrayRef<int64_t> input = getShape(adaptor.getOperands()[0]);
        ArrayRef<int64_t> second = getShape(adaptor.getOperands()[1]);
        llvm::Expected<Shape> pooled = forward(input);
        if (!pooled)
          return pooled.takeError();
        if (isTangent && second != input)
          return shapeError(llvm::formatv(
              "tangent shape {0} differs from the input shape {1}",
              formatArray(second), formatArray(input)));
        if (!isTangent && ArrayRef<int64_t>(*pooled) != second)
          return shapeError(llvm::formatv(
              "grad_output shape {0} differs from the forward pooling's result shape {1}",
              formatArray(second), formatArray(*pooled)));
        return isTangent ? std::move(pooled) : Shape(input);
      },
      types);
}

template <typename AdaptorT>
static LogicalResult inferWindowDerivative(std::optional<Location> loc, StringRef name,
                                           AdaptorT adaptor, bool isTangent,
                                           SmallVectorImpl<Type> &types) {
  PoolParams params = getPoolParams(adaptor);
  return inferPoolDerivative(
      loc, name, adaptor, isTangent,
      [&](ArrayRef<int64_t> input) { return inferPoolShape(input, params); }, types);
}

template <typename AdaptorT>
static LogicalResult inferAdaptiveDerivative(std::optional<Location> loc, StringRef name,
                                             AdaptorT adaptor, bool isTangent,
                                             SmallVectorImpl<Type> &types) {
  return inferPoolDerivative(
      loc, name, adaptor, isTangent,
      [&](ArrayRef<int64_t> input) {
        return inferAdaptivePoolShape(input, adaptor.getLayout(), adaptor.getOutputSize());
      },
      types);
}

LogicalResult PoolBackwardOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return inferWindowDerivative(loc, getOperationName(), adaptor, false, types);
}

LogicalResult PoolBackwardOp::verify() {
  return verifyKindAttributes(*this, getKind(), std::nullopt, getCountIncludePad());
}

LogicalResult AdaptivePoolBackwardOp::inferReturnTypes(MLIRContext *,
                                                       std::optional<Location> loc,
                                                       Adaptor adaptor,
                                                       SmallVectorImpl<Type> &types) {
  return inferAdaptiveDerivative(loc, getOperationName(), adaptor, false, types);
}

LogicalResult AdaptivePoolBackwardOp::verify() { return verifyAdaptiveKind(*this); }

//===----------------------------------------------------------------------===//
// Tangents
//===----------------------------------------------------------------------===//

LogicalResult PoolTangentOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferWindowDerivative(loc, getOperationName(), adaptor, true, types);
}

LogicalResult PoolTangentOp::verify() {
  return verifyKindAttributes(*this, getKind(), std::nullopt, getCountIncludePad());
}

LogicalResult AdaptivePoolTangentOp::inferReturnTypes(MLIRContext *,
                                                      std::optional<Location> loc,
                                                      Adaptor adaptor,
                                                      SmallVectorImpl<Type> &types) {
  return inferAdaptiveDerivative(loc, getOperationName(), adaptor, true, types);
}

LogicalResult AdaptivePoolTangentOp::verify() { return verifyAdaptiveKind(*this); }
