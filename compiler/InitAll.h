//===- InitAll.h - Register every dialect and pass Tessel uses --*- C++ -*-===//
//
// The one registration point: tessel-opt, the JIT and the AOT driver call
// these so that they all see the same dialects and passes.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_INITALL_H
#define TESSEL_COMPILER_INITALL_H

#include "compiler/Passes.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::tessel {

/// Registers the tessel dialect and the upstream dialects its IR lives in.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<TesselDialect, func::FuncDialect>();
}

/// Registers Tessel's passes and the generic upstream ones that run on tessel
/// IR (canonicalize, cse, ...).
inline void registerAllPasses() {
  registerTesselPasses();
  registerTransformsPasses();
}

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_INITALL_H
