//===- ConvOps.cpp - tessel.conv and tessel.conv_transpose ----------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tessel;

#define GET_OP_CLASSES
#include "dialects/tessel/IR/ConvOps.cpp.inc"

void TesselDialect::registerConvOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessel/IR/ConvOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Shape function
//===----------------------------------------------------------------------===//

/// Returns `values`, or `size` copies of `fallback` when it is empty.
static SmallVector<int64_t> orDefault(ArrayRef<int64_t> values, size_t size,
                                      int64_t fallback) {
  if (values.empty())
    return SmallVector<int64_t>(size, fallback);
  return SmallVector<int64_t>(values);
}

llvm::Expected<Shape>
mlir::tessel::inferConvShape(ArrayRef<int64_t> input, ArrayRef<int64_t> filter,
                             std::optional<ArrayRef<int64_t>> bias,
                             const ConvParams &params) {
  if (auto err = checkLayoutRank(input, params.layout))
    return std::move(err);
  unsigned rank = getRank(params.layout);
  unsigned spatialRank = getSpatialRank(params.layout);
  StringRef filterLayoutName = stringifyFilterLayout(params.filterLayout);
  if (getSpatialRank(params.filterLayout) != spatialRank)
    return shapeError(llvm::formatv(
        "filter layout {0} is {1}-D but layout {2} is {3}-D", filterLayoutName,
        getSpatialRank(params.filterLayout), stringifyActivationLayout(params.layout),
        spatialRank));
  FilterFamily family = getFilterFamily(params.filterLayout);
  if (!params.transposed && family == FilterFamily::InputFirst)
    return shapeError(llvm::formatv("filter layout {0} is for conv_transpose; "
                                    "conv takes an oi* or *io filter layout",
                                    filterLayoutName));
  if (params.transposed && family == FilterFamily::OutputFirst)
    return shapeError(llvm::formatv("filter layout {0} is for conv; "
                                    "conv_transpose takes an io* or *io filter layout",
                                    filterLayoutName));
  if (filter.size() != rank)
    return shapeError(llvm::formatv(
        "filter rank {0} does not match filter layout {1} (expects rank {2})",
        filter.size(), filterLayoutName, rank));

  SmallVector<int64_t> strides = orDefault(params.strides, spatialRank, 1);
  SmallVector<int64_t> dilations = orDefault(params.dilations, spatialRank, 1);
  SmallVector<int64_t> padding = orDefault(params.padding, 2 * spatialRank, 0);
  SmallVector<int64_t> outputPadding =
      orDefault(params.outputPadding, spatialRank, 0);
  if (auto err = checkSpatialArray("strides", strides, spatialRank, 1))
    return std::move(err);
  if (auto err = checkSpatialArray("dilations", dilations, spatialRank, 1))
    return std::move(err);
  if (auto err = checkSpatialArray("padding", padding, 2 * spatialRank, 0))
    return std::move(err);
  if (!params.transposed && !params.outputPadding.empty())
    return shapeError("output_padding applies to conv_transpose only");
  if (auto err =
          checkSpatialArray("output_padding", outputPadding, spatialRank, 0))
    return std::move(err);
  if (params.groups < 1)
    return shapeError(
        llvm::formatv("groups must be positive, got {0}", params.groups));

  // Split the filter into its channel dims and kernel sizes.
  int64_t filterOut, filterIn;
  ArrayRef<int64_t> kernel;
  switch (family) {
  case FilterFamily::OutputFirst:
    filterOut = filter[0];
    filterIn = filter[1];
    kernel = filter.drop_front(2);
    break;
  case FilterFamily::InputFirst:
    filterIn = filter[0];
    filterOut = filter[1];
    kernel = filter.drop_front(2);
    break;
  case FilterFamily::SpatialFirst:
    kernel = filter.take_front(spatialRank);
    filterIn = filter[spatialRank];
    filterOut = filter[spatialRank + 1];
    break;
  }
  for (int64_t k : kernel)
    if (k < 1)
      return shapeError(llvm::formatv("filter kernel sizes {0} must be positive",
                                      formatArray(kernel)));

  int64_t channels = input[getChannelDim(params.layout)];
  if (channels % params.groups != 0)
    return shapeError(
        llvm::formatv("input channels ({0}) must be divisible by groups ({1})",
                      channels, params.groups));
  int64_t outChannels;
  if (!params.transposed) {
    if (filterOut % params.groups != 0)
      return shapeError(llvm::formatv(
          "filter output channels ({0}) must be divisible by groups ({1})",
          filterOut, params.groups));
    if (filterIn * params.groups != channels)
      return shapeError(llvm::formatv(
          "filter input channels ({0}) times groups ({1}) must equal input "
          "channels ({2})",
          filterIn, params.groups, channels));
    outChannels = filterOut;
  } else {
    if (filterIn != channels)
      return shapeError(llvm::formatv(
          "filter input channels ({0}) must equal input channels ({1})",
          filterIn, channels));
    outChannels = filterOut * params.groups;
  }
  if (bias && (bias->size() != 1 || (*bias)[0] != outChannels))
    return shapeError(llvm::formatv("bias shape {0} must be [{1}] (output channels)",
                                    formatArray(*bias), outChannels));

  Shape result(rank);
  result[0] = input[0];
  result[getChannelDim(params.layout)] = outChannels;
  SmallVector<unsigned, 3> spatialDims = getSpatialDims(params.layout);
  for (unsigned i = 0; i < spatialRank; ++i) {
    int64_t in = input[spatialDims[i]];
    int64_t extent = dilations[i] * (kernel[i] - 1) + 1;
    int64_t padLow = padding[i], padHigh = padding[spatialRank + i];
    int64_t out;
    if (!params.transposed) {
      int64_t padded = in + padLow + padHigh;
      if (extent > padded)
        return shapeError(llvm::formatv(
            "dilated kernel extent {0} exceeds padded input size {1} in "
            "spatial dim {2}",
            extent, padded, i));
      out = (padded - extent) / strides[i] + 1;
    } else {
      if (outputPadding[i] >= strides[i] && outputPadding[i] >= dilations[i])
        return shapeError(llvm::formatv(
            "output_padding {0} must be smaller than stride {1} or dilation "
            "{2} in spatial dim {3}",
            outputPadding[i], strides[i], dilations[i], i));
      out = (in - 1) * strides[i] - padLow - padHigh + extent + outputPadding[i];
      if (out < 1)
        return shapeError(llvm::formatv(
            "output size {0} in spatial dim {1} is not positive", out, i));
    }
    result[spatialDims[i]] = out;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// Infers the result type of a conv-like op from its adaptor.
template <typename AdaptorT>
static LogicalResult inferConvType(std::optional<Location> loc, StringRef opName,
                                   AdaptorT adaptor, ConvParams params,
                                   SmallVectorImpl<Type> &types) {
  params.layout = adaptor.getLayout();
  params.filterLayout = adaptor.getFilterLayout();
  params.strides = adaptor.getStrides().value_or(ArrayRef<int64_t>());
  params.dilations = adaptor.getDilations().value_or(ArrayRef<int64_t>());
  params.padding = adaptor.getPadding().value_or(ArrayRef<int64_t>());
  params.groups = static_cast<int64_t>(adaptor.getGroups());
  return inferFromOperands(
      loc, opName, adaptor.getOperands(),
      [&] {
        std::optional<ArrayRef<int64_t>> bias;
        if (Value b = adaptor.getBias())
          bias = getShape(b);
        return inferConvShape(getShape(adaptor.getInput()),
                              getShape(adaptor.getFilter()), bias, params);
      },
      types);
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferConvType(loc, getOperationName(), adaptor, ConvParams(), types);
}

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  ConvParams params;
  params.transposed = true;
  params.outputPadding =
      adaptor.getOutputPadding().value_or(ArrayRef<int64_t>());
  return inferConvType(loc, getOperationName(), adaptor, params, types);
}

LogicalResult ConvBackwardFilterOp::inferReturnTypes(MLIRContext *,
                                                     std::optional<Location> loc,
                                                     Adaptor adaptor,
                                                     SmallVectorImpl<Type> &types) {
  ConvParams params;
  params.layout = adaptor.getLayout();
  params.filterLayout = adaptor.getFilterLayout();
  params.strides = adaptor.getStrides().value_or(ArrayRef<int64_t>());
  params.dilations = adaptor.getDilations().value_or(ArrayRef<int64_t>());
  params.padding = adaptor.getPadding().value_or(ArrayRef<int64_t>());
  params.groups = static_cast<int64_t>(adaptor.getGroups());
  return inferFromOperands(
      loc, getOperationName(), adaptor.getOperands(),
      [&]() -> llvm::Expected<Shape> {
        ArrayRef<int64_t> input = getShape(adaptor.getInput());
        ArrayRef<int64_t> gradOutput = getShape(adaptor.getGradOutput());
        if (auto err = checkLayoutRank(input, params.layout))
          return std::move(err);
        if (auto err = checkLayoutRank(gradOutput, params.layout, "grad_output"))
          return std::move(err);
        unsigned s = getSpatialRank(params.layout);
        ArrayRef<int64_t> kernel = adaptor.getKernel();
        if (auto err = checkSpatialArray("kernel", kernel, s, 1))
          return std::move(err);
        if (params.groups < 1)
          return shapeError(
              llvm::formatv("groups must be positive, got {0}", params.groups));
        int64_t inChannels = input[getChannelDim(params.layout)];
        int64_t outChannels = gradOutput[getChannelDim(params.layout)];
        if (inChannels % params.groups != 0)
          return shapeError(llvm::formatv(
              "input channels ({0}) must be divisible by groups ({1})", inChannels,
              params.groups));
        Shape filter;
        switch (getFilterFamily(params.filterLayout)) {
        case FilterFamily::OutputFirst:
          filter = {outChannels, inChannels / params.groups};
          filter.append(kernel.begin(), kernel.end());
          break;
        case FilterFamily::SpatialFirst:
          filter.assign(kernel.begin(), kernel.end());
          filter.append({inChannels / params.groups, outChannels});
          break;
        case FilterFamily::InputFirst:
          return shapeError(llvm::formatv(
              "filter layout {0} is for conv_transpose; the filter gradient of a "
              "conv takes an oi* or *io filter layout",
              stringifyFilterLayout(params.filterLayout)));
        }
        // The forward conv with this filter must produce grad_output's shape.
        auto forward = inferConvShape(input, filter, std::nullopt, params);
        if (!forward)
          return forward.takeError();
        if (ArrayRef<int64_t>(*forward) != gradOutput)
          return shapeError(llvm::formatv(
              "grad_output shape {0} differs from the forward conv's result "
              "shape {1}",
              formatArray(gradOutput), formatArray(*forward)));
        return filter;
      },
      types);
}
