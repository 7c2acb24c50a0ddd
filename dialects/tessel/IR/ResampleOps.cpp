//===- ResampleOps.cpp - Pad, upsample and pixel shuffle ------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/ResampleOps.cpp.inc"

void TesselDialect::registerResampleOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/ResampleOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Shape functions
//===----------------------------------------------------------------------===//

llvm::Expected<Shape> mlir::tessel::inferPadShape(ArrayRef<int64_t> input,
                                                  PadMode mode,
                                                  ArrayRef<int64_t> padding) {
  size_t rank = input.size();
  if (auto err = checkSpatialArray("padding", padding, 2 * rank, 0))
    return std::move(err);
  Shape result(input);
  for (size_t d = 0; d < rank; ++d) {
    int64_t size = input[d];
    for (int64_t pad : {padding[d], padding[rank + d]}) {
      if (pad == 0)
        continue;
      bool ok = true;
      StringRef rule;
      switch (mode) {
      case PadMode::Constant:
        break;
      case PadMode::Reflect:
        ok = pad < size;
        rule = "smaller than";
        break;
      case PadMode::Replicate:
        ok = size > 0;
        rule = "applied to a non-empty dim, not one of size";
        break;
      case PadMode::Circular:
        ok = pad <= size;
        rule = "at most";
        break;
      }
      if (!ok)
        return shapeError(llvm::formatv("{0} padding {1} of dim {2} must be {3} "
                                        "the dim's size {4}",
                                        stringifyPadMode(mode), pad, d, rule,
                                        size));
    }
    result[d] = size + padding[d] + padding[rank + d];
  }
  return result;
}

llvm::Expected<Shape>
mlir::tessel::inferUpsampleShape(ArrayRef<int64_t> input, ActivationLayout layout,
                                 std::optional<ArrayRef<int64_t>> size,
                                 std::optional<ArrayRef<double>> scales) {
  if (auto err = checkLayoutRank(input, layout))
    return std::move(err);
  if (size.has_value() == scales.has_value())
    return shapeError("needs exactly one of size and scales");
  unsigned spatialRank = getSpatialRank(layout);
  Shape result(input);
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
  if (size) {
    if (auto err = checkSpatialArray("size", *size, spatialRank, 1))
      return std::move(err);
    for (unsigned i = 0; i < spatialRank; ++i)
      result[spatialDims[i]] = (*size)[i];
    return result;
  }
  if (scales->size() != spatialRank)
    return shapeError(llvm::formatv("scales must have {0} entries, got {1}",
                                    spatialRank, scales->size()));
  for (unsigned i = 0; i < spatialRank; ++i) {
    double scale = (*scales)[i];
    if (!std::isfinite(scale) || scale <= 0.0)
      return shapeError(llvm::formatv(
          "scales must be positive and finite, got {0} in spatial dim {1}",
          scale, i));
    int64_t in = input[spatialDims[i]];
    double scaled = std::floor(static_cast<double>(in) * scale);
    // Converting a double beyond int64 is undefined: such sizes are refused
    // here (the type check would refuse them anyway, at 2^47 bytes).
    if (scaled >= 0x1p62)
      return shapeError(llvm::formatv(
          "scale {0} maps input size {1} to more than 2^62 elements in spatial dim {2}",
          scale, in, i));
    auto out = static_cast<int64_t>(scaled);
    if (out < 1)
      return shapeError(llvm::formatv(
          "scale {0} maps input size {1} to an empty output in spatial dim {2}",
          scale, in, i));
    result[spatialDims[i]] = out;
  }
  return result;
}

llvm::Expected<Shape> mlir::tessel::inferPixelShuffleShape(ArrayRef<int64_t> input,
                                                           ActivationLayout layout,
                                                           int64_t factor,
                                                           bool inverse) {
  if (getSpatialRank(layout) != 2)
    return shapeError(llvm::formatv("needs a 2-D layout (nchw or nhwc), got {0}",
                                    stringifyActivationLayout(layout)));
  if (auto err = checkLayoutRank(input, layout))
    return std::move(err);
  if (factor < 1)
    return shapeError(llvm::formatv("factor must be positive, got {0}", factor));
  unsigned channelDim = getChannelDim(layout);
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(layout);
  Shape result(input);
  if (!inverse) {
    if (input[channelDim] % (factor * factor) != 0)
      return shapeError(llvm::formatv(
          "input channels ({0}) must be divisible by factor^2 ({1})",
          input[channelDim], factor * factor));
    result[channelDim] = input[channelDim] / (factor * factor);
    for (unsigned d : spatialDims)
      result[d] = input[d] * factor;
    return result;
  }
  for (unsigned d : spatialDims)
    if (input[d] % factor != 0)
      return shapeError(llvm::formatv(
          "spatial size {0} in dim {1} must be divisible by factor ({2})",
          input[d], d, factor));
  result[channelDim] = input[channelDim] * factor * factor;
  for (unsigned d : spatialDims)
    result[d] = input[d] / factor;
  return result;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferPadShape(input, adaptor.getMode(), adaptor.getPadding());
      },
      types);
}

LogicalResult PadOp::verify() {
  if (getValue() && getMode() != PadMode::Constant)
    return emitOpError("value applies to constant padding only, not ")
           << stringifyPadMode(getMode());
  return success();
}

LogicalResult UpsampleOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferFromOperand(
      loc, getOperationName(), adaptor.getInput(),
      [&](ArrayRef<int64_t> input) {
        return inferUpsampleShape(input, adaptor.getLayout(), adaptor.getSize(),
                                  adaptor.getScales());
      },
      types);
}

LogicalResult UpsampleOp::verify() {
  if (getAlignCorners() && getMode() != UpsampleMode::Linear)
    return emitOpError("align_corners applies to linear mode only, not ")
           << stringifyUpsampleMode(getMode());
  return success();
}
