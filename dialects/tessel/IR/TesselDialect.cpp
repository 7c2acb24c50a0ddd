//===- TesselDialect.cpp - The tessel dialect -----------------------------===//

#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tessel;

#include "dialects/tessel/IR/TesselDialect.cpp.inc"
#include "dialects/tessel/IR/TesselEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tessel/IR/TesselAttrs.cpp.inc"

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
