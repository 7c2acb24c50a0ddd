//===- Lowering.h - What the JIT and the AOT driver share -------*- C++ -*-===//
//
// Private to the API library: target selection, the function signature
// check, and the run of the CPU pipeline down to the LLVM dialect. The JIT
// (Compiler.cpp) and the AOT driver (Aot.cpp) both go through these.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_API_LOWERING_H
#define TESSEL_COMPILER_API_LOWERING_H

#include "tessel/Compiler.h"

#include "dialects/tessel/IR/Constants.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessel::detail {

/// Collects the error diagnostics emitted while it lives.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext *context);
  /// The collected messages, one per line, or `fallback` when there are none.
  std::string str(const std::string &fallback) const;

private:
  std::vector<std::string> messages;
  mlir::ScopedDiagnosticHandler handler;
};

/// Names and shapes of a function's arguments and results.
struct Signature {
  std::vector<TensorInfo> inputs, outputs;
};

/// Checks that every argument and result of `fn` is a static f32 tensor.
/// Names come from `inputNames`/`outputNames` when given, else from the
/// `tessel.name` attributes, else `arg<i>`/`result<i>`.
Result<Signature> getSignature(mlir::func::FuncOp fn,
                               const std::vector<std::string> &inputNames = {},
                               const std::vector<std::string> &outputNames = {});

/// A target machine for `triple` (empty: this machine) and `cpu` (empty: the
/// host CPU and its features when the triple is the host's, else "generic"),
/// plus `features` ("+avx2,-avx512f"). Unknown triples and CPUs are errors.
Result<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const std::string &triple, const std::string &cpu,
                    const std::string &features);

/// Appends the wall-clock time from its construction to its destruction to
/// `timing` (when not null) as phase `name`.
class ScopedPhase {
public:
  ScopedPhase(CompileTiming *timing, std::string name);
  ~ScopedPhase();
  ScopedPhase(const ScopedPhase &) = delete;
  ScopedPhase &operator=(const ScopedPhase &) = delete;

private:
  CompileTiming *timing;
  std::string name;
  std::chrono::steady_clock::time_point start;
};

/// What lowerToLLVMDialect compiles, and how.
struct LoweringOptions {
  /// The function compiled; it becomes mlir::tessel::getEntrySymbol(entry),
  /// the functions it calls private, the module's others are dropped.
  std::string entry;
  /// Give the entry point MLIR's C interface wrapper (the JIT calls that).
  bool cInterface = false;
  unsigned threads = 1;
  /// Smaller models run on one thread (CompileOptions::minParallelIterations).
  int64_t minParallelIterations = kDefaultMinParallelIterations;
  /// CompileOptions::winograd.
  Winograd winograd = Winograd::Auto;
  /// Write the lowered module here, headed by the tessel-opt options that
  /// reproduce it (CompileOptions::dumpIR).
  std::string dumpIR;
  /// Instrument the kernel calls (tessel-profile-kernels).
  bool profile = false;
  /// Each pipeline stage becomes a phase here when set.
  CompileTiming *timing = nullptr;
};

/// Runs the CPU pipeline on `module` for `machine`, leaving the LLVM dialect.
Status lowerToLLVMDialect(mlir::ModuleOp module, llvm::TargetMachine &machine,
                          const LoweringOptions &options);

/// The bytes of a constant `llvm.mlir.global` worth keeping out of LLVM (a
/// weight tensor: at least 256 bytes of whole-byte elements, not a splat),
/// in the row-major order the code reads them; none for any other global.
std::optional<llvm::ArrayRef<char>> getLargeConstantData(mlir::LLVM::GlobalOp global);

/// LLVM's -O3 function and module passes on `module` for `machine`, without
/// partial and runtime loop unrolling: the pipeline's loops are already
/// register-tiled and vectorized, and unrolling them again multiplies the
/// code LLVM then has to generate (7x for ResNet-18) for no measured gain;
/// and without LoopLoadElimination, quadratic on those register tiles.
void optimizeLLVMModule(llvm::Module &module, llvm::TargetMachine &machine);

/// Makes a target machine; called once per thread of generateObjects.
using TargetMachineFactory =
    std::function<Result<std::unique_ptr<llvm::TargetMachine>>()>;

/// Optimizes `module` (optimizeLLVMModule) and generates an object file for
/// it with machines from `makeMachine`. With `threads` > 1 the module is
/// first split into up to that many parts (llvm::SplitModule, kernels spread
/// by size), each optimized and compiled on a thread of its own in a context
/// of its own; one object per part. Its phases "LLVM optimization" and
/// "code generation" go to `timing` when set.
Result<std::vector<llvm::SmallString<0>>>
generateObjects(std::unique_ptr<llvm::Module> module, const TargetMachineFactory &makeMachine,
                unsigned threads, CompileTiming *timing);

/// A model file read into a context of its own, with every dialect the
/// pipeline needs. The context is declared first so that it outlives the
/// module.
struct LoadedModel {
  std::unique_ptr<mlir::MLIRContext> context;
  /// The context holds this module only: the pipeline may free the weights
  /// it has rewritten and reuse their storage (tessel-release-constants).
  std::unique_ptr<mlir::tessel::ConstantRecycling> recycling;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// Reads a tessel .mlir file, or imports an ONNX model (.onnx, .onnxtxt).
/// `initializersAsInputs` and `inputShapes` apply to ONNX models only (see
/// CompileOptions); `inputShapes` for another file is an error.
Result<LoadedModel>
loadModelFile(const std::string &path, bool initializersAsInputs = false,
              const std::map<std::string, std::vector<int64_t>> &inputShapes = {});

/// The name of `function` in `module`, or of its only function when
/// `function` is empty; `path` names the file in messages.
Result<std::string> pickFunction(mlir::ModuleOp module, const std::string &path,
                                 const std::string &function);

} // namespace tessel::detail

#endif // TESSEL_COMPILER_API_LOWERING_H
