//===- TiedResults.cpp - Results computed in their argument's buffer ------===//
//
// A result marked `tessel.updates = <index>` is the new value of that
// argument. Before bufferization, tessel-tie-results asks for it to be
// materialized in the argument (one-shot bufferization then computes it
// there, or copies where it must); after bufferization,
// tessel-drop-tied-results removes the results, which are the arguments'
// buffers by then.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELTIERESULTS
#define GEN_PASS_DEF_TESSELDROPTIEDRESULTS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

constexpr StringLiteral kUpdates = tessel::TesselDialect::kUpdatesAttrName;

/// The argument each result of `fn` is tied to, if any; an error when an
/// attribute names no argument.
FailureOr<SmallVector<std::optional<unsigned>>> getTiedArguments(func::FuncOp fn) {
  SmallVector<std::optional<unsigned>> tied(fn.getNumResults());
  for (unsigned k = 0; k < fn.getNumResults(); ++k) {
    auto attr = fn.getResultAttr(k, kUpdates);
    if (!attr)
      continue;
    auto integer = dyn_cast<IntegerAttr>(attr);
    if (!integer || integer.getInt() < 0 ||
        integer.getInt() >= static_cast<int64_t>(fn.getNumArguments()))
      return fn.emitError() << "result " << k << ": " << kUpdates << " = " << attr
                            << " names no argument of '" << fn.getName() << "'";
    tied[k] = integer.getInt();
  }
  return tied;
}

struct TieResultsPass : tessel::impl::TesselTieResultsBase<TieResultsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    // Kernels outlined on tensors write their destination arguments in
    // place, which their callers own (tessel-bufferize).
    if (fn.isExternal() || fn.getSymName().starts_with(tessel::kKernelPrefix))
      return;
    MLIRContext *context = &getContext();
    FailureOr<SmallVector<std::optional<unsigned>>> ties = getTiedArguments(fn);
    if (failed(ties))
      return signalPassFailure();
    SmallVector<bool> tied(fn.getNumArguments(), false);
    auto ret = dyn_cast<func::ReturnOp>(fn.getBody().back().getTerminator());
    for (auto [k, arg] : llvm::enumerate(*ties)) {
      if (!arg)
        continue;
      unsigned j = *arg;
      if (!ret || !fn.getBody().hasOneBlock()) {
        fn.emitError() << kUpdates << " needs a function of one block ending in func.return";
        return signalPassFailure();
      }
      if (tied[j]) {
        fn.emitError() << "argument " << j << " of '" << fn.getName()
                       << "' is updated by two results";
        return signalPassFailure();
      }
      if (fn.getArgument(j).getType() != fn.getResultTypes()[k] ||
          !isa<RankedTensorType>(fn.getArgument(j).getType())) {
        fn.emitError() << "result " << k << " has type " << fn.getResultTypes()[k]
                       << ", but the argument " << j << " it updates has type "
                       << fn.getArgument(j).getType();
        return signalPassFailure();
      }
      tied[j] = true;
      OpBuilder b(ret);
      Value value = ret.getOperand(k);
      Value dest = fn.getArgument(j);
      // An update computed on a collapsed view of the argument (the 2-D
      // transposes of tessel-vectorize) and expanded back is materialized
      // before the expansion, in that same view: one-shot bufferization
      // does not see through the reshapes that the expanded value is the
      // argument's buffer, and would copy the argument, update the copy
      // and copy it back.
      auto expand = value.getDefiningOp<tensor::ExpandShapeOp>();
      tensor::CollapseShapeOp view;
      if (expand)
        for (Operation *user : dest.getUsers())
          if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(user);
              collapse && collapse->getBlock() == ret->getBlock() &&
              collapse.getResultType() == expand.getSrcType() &&
              collapse.getReassociationIndices() == expand.getReassociationIndices()) {
            view = collapse;
            break;
          }
      if (view) {
        auto materialized = bufferization::MaterializeInDestinationOp::create(
            b, ret.getLoc(), expand.getSrc(), view.getResult());
        ret.setOperand(k, tensor::ExpandShapeOp::create(b, ret.getLoc(), expand.getResultType(),
                                                        materialized.getResult(),
                                                        expand.getReassociationIndices()));
        continue;
      }
      auto materialized =
          bufferization::MaterializeInDestinationOp::create(b, ret.getLoc(), value, dest);
      ret.setOperand(k, materialized.getResult());
    }
    // Only tied arguments may be written: the others are the caller's
    // read-only inputs.
    for (auto [i, arg] : llvm::enumerate(fn.getArguments()))
      if (isa<TensorType>(arg.getType()))
        fn.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                      BoolAttr::get(context, tied[i]));
  }
};

struct DropTiedResultsPass
    : tessel::impl::TesselDropTiedResultsBase<DropTiedResultsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    auto ret = dyn_cast<func::ReturnOp>(fn.getBody().back().getTerminator());
    FailureOr<SmallVector<std::optional<unsigned>>> ties = getTiedArguments(fn);
    if (failed(ties))
      return signalPassFailure();
    BitVector drop(fn.getNumResults());
    for (auto [k, arg] : llvm::enumerate(*ties)) {
      if (!arg)
        continue;
      // The argument's buffer, or a view of it collapsed and expanded back
      // to its shape (tessel-tie-results).
      Value buffer = ret ? ret.getOperand(k) : Value();
      if (auto expand = buffer ? buffer.getDefiningOp<memref::ExpandShapeOp>() : nullptr)
        if (auto collapse = expand.getSrc().getDefiningOp<memref::CollapseShapeOp>();
            collapse && collapse.getSrc().getType() == expand.getType() &&
            collapse.getReassociationIndices() == expand.getReassociationIndices())
          buffer = collapse.getSrc();
      if (!ret || buffer != fn.getArgument(*arg)) {
        fn.emitError() << "result " << k << " of '" << fn.getName()
                       << "' was not computed in the buffer of argument " << *arg;
        return signalPassFailure();
      }
      drop.set(k);
    }
    if (drop.any()) {
      ret->eraseOperands(drop);
      if (failed(fn.eraseResults(drop)))
        return signalPassFailure();
    }
    // A buffer returned twice becomes two: results become out-parameters
    // next, each result's buffer the caller's, and one buffer cannot be two
    // of them.
    if (!ret)
      return;
    llvm::SmallPtrSet<Value, 8> returned;
    OpBuilder b(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type || returned.insert(operand.get()).second)
        continue;
      if (!type.hasStaticShape() || !type.getLayout().isIdentity())
        continue; // copied into its out-parameter anyway
      Value copy = memref::AllocOp::create(b, ret.getLoc(), type);
      memref::CopyOp::create(b, ret.getLoc(), operand.get(), copy);
      operand.set(copy);
    }
  }
};

} // namespace
