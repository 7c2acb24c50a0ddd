//===- CpuPipeline.cpp - tessel -> LLVM dialect for CPUs ------------------===//

#include "compiler/Pipelines/CpuPipeline.h"
#include "compiler/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::tessel::buildEntryPipeline(OpPassManager &pm,
                                      const CpuPipelineOptions &options) {
  TesselPrepareEntryOptions entry;
  entry.entry = options.entry;
  entry.cInterface = options.cInterface;
  pm.addPass(createTesselPrepareEntry(entry));
  if (!options.entry.empty()) {
    pm.addPass(createSymbolPrivatizePass({getEntrySymbol(options.entry)}));
    pm.addPass(createSymbolDCEPass());
  }
  pm.addPass(createTesselCheckCompilable());
}

void mlir::tessel::buildTesselToLinalgPipeline(OpPassManager &pm,
                                               const CpuPipelineOptions &) {
  // Decompositions onto the fast paths, then tessel -> linalg on tensors,
  // elementwise chains fused into one generic. Batch norms folded into the
  // filters and the filters' layout change each rewrite the weights: the
  // storage of the previous version is freed for the next between them.
  OpPassManager &decompose = pm.nest<func::FuncOp>();
  decompose.addPass(createTesselDecompose());
  decompose.addPass(createCanonicalizerPass());
  pm.addPass(createTesselReleaseConstants());
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createTesselConvertLayout());
  func.addPass(createTesselToLinalg());
  func.addPass(createCanonicalizerPass());
  func.addPass(createCSEPass());
  pm.addPass(createTesselReleaseConstants());
  pm.addPass(createTesselFuseElementwise());
}

void mlir::tessel::buildTilePipeline(OpPassManager &pm, const CpuPipelineOptions &options) {
  // 3x3 convolutions by Winograd's algorithm, then parallel tiles with their
  // producers fused in.
  if (options.winograd != WinogradMode::Off) {
    TesselWinogradOptions winograd;
    winograd.vectorBits = options.vectorBits;
    winograd.everywhere = options.winograd == WinogradMode::On;
    pm.addNestedPass<func::FuncOp>(createTesselWinograd(winograd));
    pm.addPass(createTesselReleaseConstants());
  }
  TesselTileAndDistributeOptions tileOptions;
  tileOptions.threads = options.threads;
  tileOptions.minParallelIterations = options.minParallelIterations;
  pm.addNestedPass<func::FuncOp>(createTesselTileAndDistribute(tileOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Winograd's transforms are the same in every layer of a shape (the 58
  // of a DenseNet-121 come in 4): one function each, identical ones
  // merged, so the passes below and LLVM work on each once.
  if (options.outlineKernels && options.winograd != WinogradMode::Off) {
    TesselOutlineKernelsOptions outline;
    outline.marked = true;
    pm.addPass(createTesselOutlineKernels(outline));
    pm.addPass(func::createDuplicateFunctionEliminationPass());
  }
  if (options.vectorize) {
    TesselVectorizeOptions vectorizeOptions;
    vectorizeOptions.vectorBits = options.vectorBits;
    vectorizeOptions.accumulators = options.vectorBits >= 512 ? 24 : 12;
    pm.addNestedPass<func::FuncOp>(createTesselVectorize(vectorizeOptions));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addPass(createTesselReleaseConstants()); // the filters it packed
  }
}

void mlir::tessel::buildBufferizePipeline(OpPassManager &pm,
                                          const CpuPipelineOptions &options) {
  // Bufferize; results tied to an argument (tessel.updates) are computed in
  // its buffer, the others become out-parameters the caller owns.
  pm.addNestedPass<func::FuncOp>(createTesselPadInPlace());
  pm.addNestedPass<func::FuncOp>(createTesselTieResults());
  pm.addPass(createTesselBufferize());
  pm.addNestedPass<func::FuncOp>(createTesselDropTiedResults());
  // Hoisted subsets bufferize to copies of a view onto itself; CSE makes the
  // two views one value and canonicalization drops the self-copy. Before the
  // out-parameters: a result computed by loops (one thread: scf.for, not
  // scf.forall) is their loop-carried buffer, and only once folded to the
  // allocation it is does the out-parameter replace it instead of a copy
  // into it (the whole output, a quarter to a half of a one-thread layer).
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  // Parallel tiles become scf.parallel before deallocation: the ownership-
  // based deallocation frees buffers allocated inside scf.parallel bodies
  // (each thread's temporaries) but silently leaves those in scf.forall.
  pm.addNestedPass<func::FuncOp>(createForallToParallelLoopPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  // Strided copies (into padded buffers, concatenations) become linalg.copy
  // ops before the outlining, so that they too are kernels of their own
  // rather than loop nests piling up in the entry function.
  TesselCopiesToLinalgOptions copies;
  copies.threads = options.threads;
  pm.addNestedPass<func::FuncOp>(createTesselCopiesToLinalg(copies));
  // One function per layer, identical ones merged: LLVM then works on each
  // distinct kernel once instead of on one function of the whole network.
  if (options.outlineKernels) {
    pm.addPass(createTesselOutlineKernels());
    pm.addPass(func::createDuplicateFunctionEliminationPass());
    if (options.profile)
      pm.addPass(createTesselProfileKernels());
  }
  // The buffers left in each function's body (the network's activations
  // between its kernels) in one workspace, reused by liveness.
  pm.addNestedPass<func::FuncOp>(createTesselPlanMemory());
}

void mlir::tessel::buildLowerToLLVMPipeline(OpPassManager &pm,
                                            const CpuPipelineOptions &options) {
  // Loops: parallel tiles to OpenMP, the rest to sequential loops.
  if (options.threads > 1) {
    ConvertSCFToOpenMPPassOptions omp;
    omp.numThreads = options.threads;
    pm.addPass(createConvertSCFToOpenMPPass(omp));
  }
  // Each function (one per kernel) is lowered on its own, in parallel over
  // MLIR's threads, wherever a pass allows it; only the passes that add
  // declarations or convert functions themselves see the whole module.
  OpPassManager &loops = pm.nest<func::FuncOp>();
  loops.addPass(createConvertLinalgToLoopsPass());
  loops.addPass(createTesselLowerVectors());
  // n-D transfers become unrolled rank-1 ones (the n-D loops VectorToSCF
  // would otherwise build miscompile, see docs/performance.md).
  loops.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().setTargetRank(1).enableFullUnroll()));

  // Everything to the LLVM dialect. MemRefs go first: the OpenMP loop bodies
  // sit in single-block memref.alloca_scope ops, which must be lowered before
  // their nested loops become branches.
  loops.addPass(memref::createExpandStridedMetadataPass());
  // Once, after the last pass that creates affine ops (the strided-metadata
  // expansion's index arithmetic).
  loops.addPass(createLowerAffinePass());
  // Buffers come from the runtime's caching allocator (runtime/Allocator.c).
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  // The allocator aligns every block to 64 bytes, so the lowering need not
  // over-allocate and align each pointer itself (ten ops an allocation, a
  // third of a network's entry function).
  memrefToLLVM.useAlignedAlloc = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  OpPassManager &bodies = pm.nest<func::FuncOp>();
  bodies.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering = vector::VectorContractLowering::OuterProduct;
  vectorToLLVM.x86Vector = true;
  bodies.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  bodies.addPass(createConvertMathToLLVMPass());
  bodies.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertMathToLibmPass());
  OpPassManager &scalars = pm.nest<func::FuncOp>();
  scalars.addPass(createArithToLLVMConversionPass());
  scalars.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addNestedPass<LLVM::LLVMFuncOp>(createCanonicalizerPass());
  // Kernels that differ only in loop bounds and strides become one.
  if (options.outlineKernels)
    pm.addPass(createTesselMergeKernels());
}

ArrayRef<tessel::CpuPipelineStage> mlir::tessel::getCpuPipelineStages() {
  static const CpuPipelineStage stages[] = {
      {"entry point", "tessel-entry-pipeline",
       "Stage 1: the entry point renamed, other functions privatized or dropped, "
       "uncompilable tensors refused",
       buildEntryPipeline},
      {"tessel to linalg", "tessel-to-linalg-pipeline",
       "Stage 2: decompositions, channels-last layouts, tessel to linalg, "
       "elementwise fusion",
       buildTesselToLinalgPipeline},
      {"tiling and vectorization", "tessel-tile-pipeline",
       "Stage 3: parallel tiles with fused producers, register tiles, vectorization",
       buildTilePipeline},
      {"bufferization", "tessel-bufferize-pipeline",
       "Stage 4: bufferization, tied results and out-parameters, deallocation, "
       "one function per kernel, the memory plan",
       buildBufferizePipeline},
      {"lowering to the LLVM dialect", "tessel-lower-to-llvm-pipeline",
       "Stage 5: loops, OpenMP, vectors and everything else to the LLVM dialect",
       buildLowerToLLVMPipeline}};
  return stages;
}

void mlir::tessel::buildCpuPipeline(OpPassManager &pm,
                                    const CpuPipelineOptions &options) {
  for (const CpuPipelineStage &stage : getCpuPipelineStages())
    stage.build(pm, options);
}

void mlir::tessel::registerCpuPipeline() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "tessel-cpu-pipeline",
      "Lower tessel IR to the LLVM dialect: linalg, fusion, tiling across "
      "threads, bufferization, OpenMP (the five stages below)",
      buildCpuPipeline);
  for (const CpuPipelineStage &stage : getCpuPipelineStages())
    PassPipelineRegistration<CpuPipelineOptions>(stage.argument, stage.summary,
                                                 stage.build);
}
