//===- Passes.td - Tessel's passes ---------------------------*- tablegen -*-===//
//
// Every Tessel pass is declared here; compiler/Passes.h generates their
// declarations and registration.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_PASSES_TD
#define TESSEL_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesselToLinalg : Pass<"tessel-to-linalg"> {
  let summary = "Lower tessel ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Rewrites every tessel op into ops on tensors: channels-last convolutions
    with spatial-first filters and depthwise convolutions become linalg's named
    convolution ops (which the decomposition and vectorization patterns know);
    every other convolution, pooling and the remaining ops become
    `linalg.generic`. Padding becomes `tensor.pad`, which tiling fuses into
    its consumer. An op without a lowering is reported by name.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // TESSEL_COMPILER_PASSES_TD
