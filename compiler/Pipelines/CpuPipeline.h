//===- CpuPipeline.h - tessel -> LLVM dialect for CPUs ----------*- C++ -*-===//
//
// The one pipeline that takes tessel IR to the LLVM dialect. tessel-opt
// registers it as --tessel-cpu-pipeline; the JIT and the AOT driver build it
// with the same function.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_PIPELINES_CPUPIPELINE_H
#define TESSEL_COMPILER_PIPELINES_CPUPIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::tessel {

struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  Option<unsigned> threads{
      *this, "threads",
      llvm::cl::desc("Threads the parallel tiles run on (1: no threading; at most 256)"),
      llvm::cl::init(1)};
  Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Vector register width of the target: 512 (AVX-512), "
                     "256 (AVX2) or 128 (NEON, SSE); sizes the register tiles"),
      llvm::cl::init(512)};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Register-tile convolutions and vectorize linalg ops"),
      llvm::cl::init(true)};
};

/// Lowers tessel ops to linalg, fuses and tiles them across `threads`,
/// bufferizes (function results become out-parameters) and lowers everything
/// to the LLVM dialect, with OpenMP for the parallel tiles.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers --tessel-cpu-pipeline.
void registerCpuPipeline();

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_PIPELINES_CPUPIPELINE_H
