//===- TesselDialect.h - The tessel dialect and its ops ---------*- C++ -*-===//
//
// Include this one header to use the tessel dialect: the dialect, its enums
// and attributes, and every op family.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TESSEL_IR_TESSELDIALECT_H
#define TESSEL_DIALECTS_TESSEL_IR_TESSELDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

namespace mlir::tessel {

/// The largest tensor Tessel compiles, in bytes: 2^47 (128 TiB), the user
/// address space of x86-64 and AArch64 Linux. The verifier rejects bigger
/// types, so no size computation downstream (lowering, buffer sizes, the AOT
/// header, the runtime's checks) can overflow int64.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 47;

/// The element count of `shape`, or nullopt when a size is negative or
/// dynamic or the product overflows int64.
std::optional<int64_t> getCheckedNumElements(ArrayRef<int64_t> shape);

/// Whether `type` is a statically shaped tensor of at most kMaxTensorBytes.
bool fitsInMemory(Type type);

} // namespace mlir::tessel

#include "dialects/tessel/IR/TesselDialect.h.inc"
#include "dialects/tessel/IR/TesselEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tessel/IR/TesselAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/tessel/IR/ConvOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/PoolOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/NormOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/ElementwiseOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/LinearOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/TensorOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/ResampleOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/ReductionOps.h.inc"
#define GET_OP_CLASSES
#include "dialects/tessel/IR/OptimizerOps.h.inc"

#endif // TESSEL_DIALECTS_TESSEL_IR_TESSELDIALECT_H
