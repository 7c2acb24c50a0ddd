//===- CpuPipeline.h - tessel -> LLVM dialect for CPUs ----------*- C++ -*-===//
//
// The one pipeline that takes tessel IR to the LLVM dialect, in five named
// stages. tessel-opt registers it as --tessel-cpu-pipeline and each stage on
// its own; the JIT and the AOT driver build it with the same function.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_PIPELINES_CPUPIPELINE_H
#define TESSEL_COMPILER_PIPELINES_CPUPIPELINE_H

#include "compiler/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::tessel {

/// Where 3x3 convolutions use Winograd's algorithm (tessel-winograd).
enum class WinogradMode { Off, Auto, On };

struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("The function to compile, renamed __tessel_entry_<name>; the "
                     "others become private and unused ones are dropped (empty: "
                     "compile every function as it is)"),
      llvm::cl::init("")};
  Option<bool> cInterface{
      *this, "c-interface",
      llvm::cl::desc("Give the entry point MLIR's C interface wrapper (the JIT's)"),
      llvm::cl::init(false)};
  Option<unsigned> threads{
      *this, "threads",
      llvm::cl::desc("Threads the parallel tiles run on (1: no threading; at most 256)"),
      llvm::cl::init(1)};
  Option<int64_t> minParallelIterations{
      *this, "min-parallel-iterations",
      llvm::cl::desc("Fewest loop iterations per layer, on average, worth threads; "
                     "a model below it runs on one thread (0: always split)"),
      llvm::cl::init(kDefaultMinParallelIterations)};
  Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Vector register width of the target: 512 (AVX-512), "
                     "256 (AVX2) or 128 (NEON, SSE); sizes the register tiles"),
      llvm::cl::init(512)};
  Option<bool> outlineKernels{
      *this, "outline-kernels",
      llvm::cl::desc("Give each layer a function of its own and merge identical ones"),
      llvm::cl::init(true)};
  Option<bool> profile{
      *this, "profile",
      llvm::cl::desc("Time every kernel call (tessel-profile-kernels; needs outline-kernels)"),
      llvm::cl::init(false)};
  Option<WinogradMode> winograd{
      *this, "winograd",
      llvm::cl::desc("3x3 stride-1 convolutions by Winograd's algorithm (tessel-winograd)"),
      llvm::cl::init(WinogradMode::Auto),
      llvm::cl::values(
          clEnumValN(WinogradMode::Off, "off", "never"),
          clEnumValN(WinogradMode::Auto, "auto", "where the cost model expects it to be faster"),
          clEnumValN(WinogradMode::On, "on", "wherever it applies"))};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Register-tile convolutions and vectorize linalg ops"),
      llvm::cl::init(true)};
};

/// The whole pipeline, tessel IR to the LLVM dialect: the five stages below
/// in order. The JIT, the AOT driver and `tessel-opt --tessel-cpu-pipeline`
/// all build it with this function, so tessel-opt reproduces what they
/// compile for the same options.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Stage 1 (--tessel-entry-pipeline): the entry point renamed, the other
/// functions privatized or dropped, and what cannot be compiled refused.
void buildEntryPipeline(OpPassManager &pm, const CpuPipelineOptions &options);
/// Stage 2 (--tessel-to-linalg-pipeline): decompositions, channels-last
/// layouts, tessel -> linalg on tensors, elementwise chains fused.
void buildTesselToLinalgPipeline(OpPassManager &pm, const CpuPipelineOptions &options);
/// Stage 3 (--tessel-tile-pipeline): parallel tiles with their producers
/// fused in, then register tiles and vectorization.
void buildTilePipeline(OpPassManager &pm, const CpuPipelineOptions &options);
/// Stage 4 (--tessel-bufferize-pipeline): one-shot bufferization, results
/// tied to their argument or made out-parameters, deallocation.
void buildBufferizePipeline(OpPassManager &pm, const CpuPipelineOptions &options);
/// Stage 5 (--tessel-lower-to-llvm-pipeline): loops (OpenMP for the parallel
/// tiles), vectors and everything else to the LLVM dialect.
void buildLowerToLLVMPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// One stage of the pipeline: its name in timings, its tessel-opt pipeline
/// argument and summary, and the function that builds it.
struct CpuPipelineStage {
  const char *name;
  const char *argument;
  const char *summary;
  void (*build)(OpPassManager &, const CpuPipelineOptions &);
};
/// The five stages in order; buildCpuPipeline builds them one after another.
ArrayRef<CpuPipelineStage> getCpuPipelineStages();

/// Registers --tessel-cpu-pipeline and its five stages.
void registerCpuPipeline();

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_PIPELINES_CPUPIPELINE_H
