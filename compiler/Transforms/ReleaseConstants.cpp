//===- ReleaseConstants.cpp - The tessel-release-constants pass -----------===//
//
// Frees the storage of the constants this compile made that no op refers to
// any more, for the next rewrite of the weights to reuse
// (dialects/tessel/IR/Constants.h, ConstantRecycling).
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "dialects/tessel/IR/Constants.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELRELEASECONSTANTS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

struct ReleaseConstantsPass
    : tessel::impl::TesselReleaseConstantsBase<ReleaseConstantsPass> {
  void runOnOperation() override {
    tessel::releaseUnusedConstants(getOperation());
    markAllAnalysesPreserved();
  }
};

} // namespace
