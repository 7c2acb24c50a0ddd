//===- ShapeInference.cpp - Layout helpers and shared shape checks --------===//
//
// The per-family shape functions live beside their ops (ConvOps.cpp, ...);
// this file holds what they share.
//
//===----------------------------------------------------------------------===//

#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tessel;

unsigned mlir::tessel::getSpatialRank(ActivationLayout layout) {
  switch (layout) {
  case ActivationLayout::NCW:
  case ActivationLayout::NWC:
    return 1;
  case ActivationLayout::NCHW:
  case ActivationLayout::NHWC:
    return 2;
  case ActivationLayout::NCDHW:
  case ActivationLayout::NDHWC:
    return 3;
  }
  llvm_unreachable("unknown data layout");
}

bool mlir::tessel::isChannelsLast(ActivationLayout layout) {
  return layout == ActivationLayout::NWC || layout == ActivationLayout::NHWC ||
         layout == ActivationLayout::NDHWC;
}

unsigned mlir::tessel::getChannelDim(ActivationLayout layout) {
  return isChannelsLast(layout) ? getRank(layout) - 1 : 1;
}

SmallVector<unsigned, 3> mlir::tessel::getSpatialDims(ActivationLayout layout) {
  unsigned first = isChannelsLast(layout) ? 1 : 2;
  SmallVector<unsigned, 3> dims;
  for (unsigned i = 0, e = getSpatialRank(layout); i < e; ++i)
    dims.push_back(first + i);
  return dims;
}

SmallVector<int64_t> mlir::tessel::getRelayoutPermutation(ActivationLayout source,
                                                         ActivationLayout target) {
  SmallVector<int64_t> perm(getRank(target));
  perm[0] = 0;
  perm[getChannelDim(target)] = getChannelDim(source);
  for (auto [from, to] : llvm::zip_equal(getSpatialDims(source), getSpatialDims(target)))
    perm[to] = from;
  return perm;
}

unsigned mlir::tessel::getSpatialRank(FilterLayout layout) {
  switch (layout) {
  case FilterLayout::OIW:
  case FilterLayout::IOW:
  case FilterLayout::WIO:
    return 1;
  case FilterLayout::OIHW:
  case FilterLayout::IOHW:
  case FilterLayout::HWIO:
    return 2;
  case FilterLayout::OIDHW:
  case FilterLayout::IODHW:
  case FilterLayout::DHWIO:
    return 3;
  }
  llvm_unreachable("unknown filter layout");
}

FilterFamily mlir::tessel::getFilterFamily(FilterLayout layout) {
  switch (layout) {
  case FilterLayout::OIW:
  case FilterLayout::OIHW:
  case FilterLayout::OIDHW:
    return FilterFamily::OutputFirst;
  case FilterLayout::IOW:
  case FilterLayout::IOHW:
  case FilterLayout::IODHW:
    return FilterFamily::InputFirst;
  case FilterLayout::WIO:
  case FilterLayout::HWIO:
  case FilterLayout::DHWIO:
    return FilterFamily::SpatialFirst;
  }
  llvm_unreachable("unknown filter layout");
}

ActivationLayout mlir::tessel::getChannelsLastLayout(unsigned spatialRank) {
  static const ActivationLayout layouts[] = {ActivationLayout::NWC, ActivationLayout::NHWC,
                                             ActivationLayout::NDHWC};
  assert(spatialRank >= 1 && spatialRank <= 3 && "1-D to 3-D");
  return layouts[spatialRank - 1];
}

FilterLayout mlir::tessel::getSpatialFirstFilterLayout(unsigned spatialRank) {
  static const FilterLayout layouts[] = {FilterLayout::WIO, FilterLayout::HWIO,
                                         FilterLayout::DHWIO};
  assert(spatialRank >= 1 && spatialRank <= 3 && "1-D to 3-D");
  return layouts[spatialRank - 1];
}

FilterLayout mlir::tessel::getTransposedFilterLayout(FilterLayout layout) {
  switch (layout) {
  case FilterLayout::OIW: return FilterLayout::IOW;
  case FilterLayout::OIHW: return FilterLayout::IOHW;
  case FilterLayout::OIDHW: return FilterLayout::IODHW;
  case FilterLayout::IOW: return FilterLayout::OIW;
  case FilterLayout::IOHW: return FilterLayout::OIHW;
  case FilterLayout::IODHW: return FilterLayout::OIDHW;
  case FilterLayout::WIO:
  case FilterLayout::HWIO:
  case FilterLayout::DHWIO:
    return layout;
  }
  llvm_unreachable("unknown filter layout");
}

llvm::Error mlir::tessel::shapeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string mlir::tessel::formatArray(ArrayRef<int64_t> values) {
  std::string out = "[";
  llvm::raw_string_ostream os(out);
  llvm::interleaveComma(values, os);
  os << "]";
  return out;
}

llvm::Expected<int64_t> mlir::tessel::normalizeAxis(int64_t axis, int64_t rank,
                                                    StringRef what) {
  if (axis < -rank || axis >= rank)
    return shapeError(llvm::formatv("{0} {1} is out of range for rank {2} "
                                    "(expected [{3}, {4}])",
                                    what, axis, rank, -rank, rank - 1));
  return wrapAxis(axis, rank);
}

llvm::Error mlir::tessel::checkLayoutRank(ArrayRef<int64_t> shape,
                                          ActivationLayout layout, StringRef operand) {
  if (shape.size() == getRank(layout))
    return llvm::Error::success();
  return shapeError(llvm::formatv("{0} rank {1} does not match layout {2} "
                                  "(expects rank {3})",
                                  operand, shape.size(), stringifyActivationLayout(layout),
                                  getRank(layout)));
}

llvm::Error mlir::tessel::checkSpatialArray(StringRef name,
                                            ArrayRef<int64_t> values,
                                            size_t size, int64_t min) {
  if (values.size() != size)
    return shapeError(llvm::formatv("{0} {1} must have {2} entries, got {3}", name,
                                    formatArray(values), size, values.size()));
  for (int64_t v : values)
    if (v < min)
      return shapeError(llvm::formatv("{0} {1} must be {2}, got {3}", name,
                                      formatArray(values),
                                      min > 0 ? "positive" : "non-negative", v));
  return llvm::Error::success();
}

FailureOr<Type> mlir::tessel::getSharedElementType(std::optional<Location> loc,
                                                   StringRef opName,
                                                   ValueRange operands) {
  Type elementType;
  for (Value operand : operands) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return emitOptionalError(loc, "'", opName, "' op operand type ",
                               operand.getType(), " is not a ranked tensor");
    if (elementType && type.getElementType() != elementType)
      return emitOptionalError(loc, "'", opName,
                               "' op operands must share one element type, got ",
                               elementType, " and ", type.getElementType());
    elementType = type.getElementType();
  }
  return elementType;
}

ArrayRef<int64_t> mlir::tessel::getShape(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

LogicalResult mlir::tessel::appendInferredType(std::optional<Location> loc,
                                               StringRef opName,
                                               llvm::Expected<Shape> shape,
                                               Type elementType,
                                               SmallVectorImpl<Type> &types) {
  if (!shape)
    return emitOptionalError(loc, "'", opName, "' op ",
                             llvm::toString(shape.takeError()));
  types.push_back(RankedTensorType::get(*shape, elementType));
  return success();
}

LogicalResult mlir::tessel::inferFromOperands(
    std::optional<Location> loc, StringRef opName, ValueRange operands,
    llvm::function_ref<llvm::Expected<Shape>()> shapeFn,
    SmallVectorImpl<Type> &types) {
  FailureOr<Type> elementType = getSharedElementType(loc, opName, operands);
  if (failed(elementType))
    return failure();
  return appendInferredType(loc, opName, shapeFn(), *elementType, types);
}

LogicalResult mlir::tessel::inferFromOperand(
    std::optional<Location> loc, StringRef opName, Value operand,
    llvm::function_ref<llvm::Expected<Shape>(ArrayRef<int64_t>)> shapeFn,
    SmallVectorImpl<Type> &types) {
  return inferFromOperands(
      loc, opName, operand, [&] { return shapeFn(getShape(operand)); }, types);
}

WindowAttrs mlir::tessel::getWindowAttrs(unsigned spatialRank,
                                         std::optional<ArrayRef<int64_t>> strides,
                                         std::optional<ArrayRef<int64_t>> dilations,
                                         std::optional<ArrayRef<int64_t>> padding,
                                         ArrayRef<int64_t> defaultStrides) {
  auto orFill = [](std::optional<ArrayRef<int64_t>> v, size_t size, int64_t fill) {
    return v && !v->empty() ? SmallVector<int64_t>(*v) : SmallVector<int64_t>(size, fill);
  };
  WindowAttrs a;
  a.strides = strides && !strides->empty() ? SmallVector<int64_t>(*strides)
              : defaultStrides.empty()    ? SmallVector<int64_t>(spatialRank, 1)
                                          : SmallVector<int64_t>(defaultStrides);
  a.dilations = orFill(dilations, spatialRank, 1);
  a.padding = orFill(padding, 2 * spatialRank, 0);
  return a;
}
