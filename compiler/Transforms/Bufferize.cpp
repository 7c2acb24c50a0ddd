//===- Bufferize.cpp - The tessel-bufferize pass --------------------------===//
//
// Upstream one-shot module bufferization with one change of calling
// convention: kernels outlined on tensors take strided views.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELBUFFERIZE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// The buffer type of a kernel's tensor argument or result: any offset and
/// outer strides, channels (the innermost dim) contiguous.
MemRefType getKernelBufferType(RankedTensorType type, Attribute memorySpace) {
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  if (!strides.empty())
    strides.back() = 1;
  auto layout = StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides);
  return MemRefType::get(type.getShape(), type.getElementType(), layout, memorySpace);
}

/// The argument of `fn` whose buffer `value` (returned by `fn`) is, seen
/// through casts and through loops that carry it unchanged (one thread's
/// tiles: scf.for over the destination); null if none.
BlockArgument getReturnedArgument(func::FuncOp fn, Value value) {
  while (true) {
    if (auto cast = value.getDefiningOp<memref::CastOp>()) {
      value = cast.getSource();
      continue;
    }
    auto loop = value.getDefiningOp<scf::ForOp>();
    if (!loop)
      break;
    unsigned i = cast<OpResult>(value).getResultNumber();
    Value yielded = loop.getYieldedValues()[i];
    while (auto cast = yielded.getDefiningOp<memref::CastOp>())
      yielded = cast.getSource();
    if (yielded != loop.getRegionIterArgs()[i])
      break;
    value = loop.getInitArgs()[i];
  }
  auto arg = dyn_cast<BlockArgument>(value);
  return arg && arg.getOwner() == &fn.getBody().front() ? arg : BlockArgument();
}

/// Drops the results of kernels that are an argument's buffer, the callers
/// using what they pass instead (upstream's drop-equivalent-buffer-results
/// does not see through the loops of one thread's tiles, and a result left
/// would become an out-parameter and a copy).
void dropKernelResults(ModuleOp module) {
  DenseMap<StringRef, SmallVector<func::CallOp>> calls;
  module.walk([&](func::CallOp call) { calls[call.getCallee()].push_back(call); });
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal() || !fn.isPrivate() || fn.getNumResults() == 0 ||
        !fn.getSymName().starts_with(tessel::kKernelPrefix) || !fn.getBody().hasOneBlock())
      continue;
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    BitVector drop(fn.getNumResults());
    SmallVector<unsigned> tied(fn.getNumResults());
    for (auto [k, value] : llvm::enumerate(ret.getOperands()))
      if (BlockArgument arg = getReturnedArgument(fn, value)) {
        drop.set(k);
        tied[k] = arg.getArgNumber();
      }
    if (drop.none())
      continue;
    for (func::CallOp call : calls.lookup(fn.getSymName())) {
      OpBuilder b(call);
      SmallVector<Type> kept;
      for (unsigned k = 0; k < call.getNumResults(); ++k)
        if (!drop.test(k))
          kept.push_back(call.getResult(k).getType());
      auto replacement = func::CallOp::create(b, call.getLoc(), fn.getSymName(), kept,
                                              call.getOperands());
      replacement->setDiscardableAttrs(call->getDiscardableAttrDictionary());
      unsigned next = 0;
      for (unsigned k = 0; k < call.getNumResults(); ++k) {
        Value result = call.getResult(k);
        Value value = drop.test(k) ? call.getOperand(tied[k]) : replacement.getResult(next++);
        if (value.getType() != result.getType())
          value = memref::CastOp::create(b, call.getLoc(), result.getType(), value);
        result.replaceAllUsesWith(value);
      }
      call.erase();
    }
    ret->eraseOperands(drop);
    (void)fn.eraseResults(drop);
  }
}

/// The most static layout that both `a` and `b` (memrefs of one shape and
/// element type) cast to: each stride and the offset kept where they agree,
/// dynamic where they do not.
MemRefType getCommonType(MemRefType a, MemRefType b) {
  if (a == b)
    return a;
  SmallVector<int64_t> stridesA, stridesB;
  int64_t offsetA, offsetB;
  if (failed(a.getStridesAndOffset(stridesA, offsetA)) ||
      failed(b.getStridesAndOffset(stridesB, offsetB)))
    return {};
  SmallVector<int64_t> strides;
  for (auto [x, y] : llvm::zip_equal(stridesA, stridesB))
    strides.push_back(x == y ? x : ShapedType::kDynamic);
  int64_t offset = offsetA == offsetB ? offsetA : ShapedType::kDynamic;
  auto layout = StridedLayoutAttr::get(a.getContext(), offset, strides);
  return MemRefType::get(a.getShape(), a.getElementType(), layout, a.getMemorySpace());
}

/// Gives each strided argument of a kernel outlined on tensors the layout
/// its callers' buffers share (a padded buffer's strides, a concatenation's
/// channel stride): the kernel's index arithmetic then folds as it did
/// before the outlining instead of multiplying by strides read from the
/// descriptor (Winograd's transforms on DenseNet-121 were a quarter
/// slower). The body sees the old type through a cast, which the
/// canonicalizer folds into its users.
void specializeKernelLayouts(ModuleOp module) {
  DenseMap<StringRef, SmallVector<func::CallOp>> calls;
  module.walk([&](func::CallOp call) { calls[call.getCallee()].push_back(call); });
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal() || !fn.getSymName().starts_with(tessel::kKernelPrefix))
      continue;
    auto sites = calls.find(fn.getSymName());
    if (sites == calls.end())
      continue;
    SmallVector<Type> inputs(fn.getArgumentTypes());
    for (auto [i, arg] : llvm::enumerate(fn.getArguments())) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || type.getLayout().isIdentity())
        continue;
      // The type of what each call passes, seen through the cast to `type`.
      MemRefType common;
      for (func::CallOp call : sites->second) {
        Value operand = call.getOperand(i);
        if (auto cast = operand.getDefiningOp<memref::CastOp>())
          operand = cast.getSource();
        auto passed = dyn_cast<MemRefType>(operand.getType());
        common = !passed ? MemRefType() : common ? getCommonType(common, passed) : passed;
        if (!common)
          break;
      }
      if (!common || common == type || !memref::CastOp::areCastCompatible(common, type))
        continue;
      OpBuilder b(fn.getBody());
      arg.setType(common);
      auto view = memref::CastOp::create(b, arg.getLoc(), type, arg);
      arg.replaceAllUsesExcept(view, view);
      inputs[i] = common;
      for (func::CallOp call : sites->second) {
        b.setInsertionPoint(call);
        Value operand = call.getOperand(i);
        if (auto cast = operand.getDefiningOp<memref::CastOp>())
          operand = cast.getSource();
        if (operand.getType() != common)
          operand = memref::CastOp::create(b, call.getLoc(), common, operand);
        call->setOperand(i, operand);
      }
    }
    fn.setFunctionType(FunctionType::get(fn.getContext(), inputs, fn.getResultTypes()));
  }
}

struct BufferizePass : tessel::impl::TesselBufferizeBase<BufferizePass> {
  void runOnOperation() override {
    OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = true;
    options.setFunctionBoundaryTypeConversion(LayoutMapOption::IdentityLayoutMap);
    options.functionArgTypeConverterFn =
        [](TensorLikeType type, Attribute memorySpace, func::FuncOp fn,
           const BufferizationOptions &) -> BufferLikeType {
      auto tensor = cast<TensorType>(type);
      auto ranked = dyn_cast<RankedTensorType>(tensor);
      if (ranked && fn.getSymName().starts_with(tessel::kKernelPrefix))
        return cast<BufferLikeType>(getKernelBufferType(ranked, memorySpace));
      return cast<BufferLikeType>(getMemRefTypeWithStaticIdentityLayout(tensor, memorySpace));
    };
    // Values of other types than function boundaries' (upstream's default).
    options.unknownTypeConverterFn = [](TensorType type, Attribute memorySpace,
                                        const BufferizationOptions &) {
      return getMemRefTypeWithFullyDynamicLayout(type, memorySpace);
    };
    BufferizationState state;
    if (failed(runOneShotModuleBufferize(getOperation(), options, state)))
      return signalPassFailure();
    dropKernelResults(getOperation());
    specializeKernelLayouts(getOperation());
    // Destinations are operands of results on tensors; the calls have none.
    getOperation().walk(
        [](func::CallOp call) { call->removeAttr(tessel::kDestinationsAttrName); });
  }
};

} // namespace
