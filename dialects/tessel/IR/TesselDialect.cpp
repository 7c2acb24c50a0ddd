//===- TesselDialect.cpp - The tessel dialect -----------------------------===//

#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tessel;

#include "dialects/tessel/IR/TesselDialect.cpp.inc"
#include "dialects/tessel/IR/TesselEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tessel/IR/TesselAttrs.cpp.inc"

std::optional<int64_t> mlir::tessel::getCheckedNumElements(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    if (size < 0 || llvm::MulOverflow(count, size, count))
      return std::nullopt;
  return count;
}

bool mlir::tessel::fitsInMemory(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return false;
  std::optional<int64_t> count = getCheckedNumElements(tensor.getShape());
  int64_t bytes = (tensor.getElementTypeBitWidth() + 7) / 8;
  return count && *count <= kMaxTensorBytes / std::max<int64_t>(bytes, 1);
}

void TesselDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tessel/IR/TesselAttrs.cpp.inc"
      >();
  registerConvOps();
  registerPoolOps();
  registerNormOps();
  registerElementwiseOps();
  registerLinearOps();
  registerTensorOps();
  registerResampleOps();
  registerReductionOps();
  registerOptimizerOps();
}

Operation *TesselDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                              Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
