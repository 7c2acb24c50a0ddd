//===- Passes.h - Tessel's passes --------------------------------*- C++ -*-===//

#ifndef TESSEL_COMPILER_PASSES_H
#define TESSEL_COMPILER_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

#include "dialects/tessel/IR/TesselDialect.h"

namespace mlir::tessel {

/// The most threads compiled code may run on (--threads, CompileOptions,
/// the passes' threads options): far more than a machine has cores, and
/// few enough that the OpenMP runtime can always start them.
constexpr unsigned kMaxThreads = 256;

/// The default of min-parallel-iterations (the pipeline's and
/// tessel-tile-and-distribute's; tessel::kDefaultMinParallelIterations is
/// the API's, equal to it): models whose layers iterate fewer times than
/// this on average run on one thread.
constexpr int64_t kDefaultMinParallelIterations = int64_t{1} << 20;

/// Images a dense convolution's register tile may take at once
/// (tessel-vectorize, where the register file holds that many output
/// tiles); tessel-tile-and-distribute tiles a filter gradient's copy into
/// HWIO by as many input channels, so that such tiles stay possible.
constexpr int64_t kRegisterTileImages = 2;

/// Bytes in a cache line.
constexpr int64_t kLineBytes = 64;

/// f32 elements in a cache line: what tiles that must write whole lines
/// (16x16 transposes, threads' shares of a contiguous dim) step by.
constexpr int64_t kLineElements = kLineBytes / 4;

/// Bytes of filter a dense convolution's register tiles may sweep between
/// output tiles: three quarters of a 1 MB L2, the rest for the input rows
/// and output tile they touch meanwhile. tessel-vectorize cuts a larger
/// filter into reduction blocks of kFilterBlockBytes, each swept by every
/// register tile before the next, and tessel-tile-and-distribute leaves
/// such a convolution's epilogue whole rather than in output rows (each
/// row would sweep the whole filter). A 3x3 128->128 filter (590 KB) stays
/// whole: cut into kernel rows, its batch-8 stride-2 layer ran 13% slower
/// (every block reads and writes the whole output once more).
constexpr int64_t kFilterFitsBytes = 768 * 1024;

/// Bytes of a reduction block of a filter larger than kFilterFitsBytes:
/// half of a 1 MB L2, the other half for inputs and outputs.
constexpr int64_t kFilterBlockBytes = 512 * 1024;

/// The symbol function `name` has after tessel-prepare-entry.
inline std::string getEntrySymbol(llvm::StringRef name) {
  return ("__tessel_entry_" + name).str();
}

/// Adds an LLVM function attribute to `fn`'s `passthrough` list (which
/// func-to-llvm carries to the `llvm.func`): `key` alone, or `key`=`value`.
/// Kernels outlined from `fn` inherit the list.
void addPassthrough(func::FuncOp fn, llvm::StringRef key, llvm::StringRef value = {});

/// The name prefix of the functions tessel-outline-kernels makes.
constexpr llvm::StringLiteral kKernelPrefix = "__tessel_kernel_";

/// The unit attribute that marks an op on tensors for
/// tessel-outline-kernels{marked}.
constexpr llvm::StringLiteral kOutlineAttrName = "tessel.outline";

/// The attribute of a call to a kernel outlined on tensors that lists, for
/// each result, the operand it is computed in (its destination).
constexpr llvm::StringLiteral kDestinationsAttrName = "tessel.destinations";

/// The module attribute where tessel-profile-kernels lists its call sites.
constexpr llvm::StringLiteral kProfileSitesAttrName = "tessel.profile_sites";

/// The function attribute where tessel-plan-memory records the size of the
/// workspace it placed the function's buffers in (bytes).
constexpr llvm::StringLiteral kWorkspaceBytesAttrName = "tessel.workspace_bytes";

/// The names of the NameLocs in `loc` (an ONNX node's "name (OpType)"),
/// joined by " + "; empty when it has none.
std::string getOpLabel(Location loc);

/// Attaches SubsetOpInterface models to tensor's slices and vector's
/// transfers that decide one-shot bufferization's subset comparisons as
/// upstream's do, cheapest test first (compiler/Transforms/SubsetModels.cpp).
/// Register before upstream's models, which are then ignored.
void registerSubsetModels(DialectRegistry &registry);

#define GEN_PASS_DECL
#include "compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Passes.h.inc"

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_PASSES_H
