//===- CopiesToLinalg.cpp - Strided memref copies as linalg.copy ----------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELCOPIESTOLINALG
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

struct CopiesToLinalgPass
    : tessel::impl::TesselCopiesToLinalgBase<CopiesToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
        return; // a memcpy
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    });
  }
};

} // namespace
