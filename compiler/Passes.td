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

def TesselTileAndDistribute : Pass<"tessel-tile-and-distribute",
                                   "::mlir::func::FuncOp"> {
  let summary = "Tile the last op of each fusion group across threads and fuse its producers";
  let description = [{
    For every linalg op whose result feeds no other tileable op (the end of a
    chain such as conv -> batch_norm -> relu), tiles its outermost parallel
    loop with more than one iteration into `threads` chunks with an
    `scf.forall`, and fuses every producer (the conv, its `tensor.pad`, the
    fills) into the tile with the TilingInterface utilities. After
    bufferization the `scf.forall` becomes an OpenMP parallel loop.
  }];
  let options = [
    Option<"threads", "threads", "unsigned", "1",
           "Number of parallel tiles (1 leaves the ops untiled)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // TESSEL_COMPILER_PASSES_TD
