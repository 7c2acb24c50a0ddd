//===- Autodiff.cpp - The tessel-autodiff pass ----------------------------===//

#include "compiler/Autodiff/Autodiff.h"
#include "compiler/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELAUTODIFF
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;
using namespace mlir::tessel;

namespace {

struct TesselAutodiffPass : tessel::impl::TesselAutodiffBase<TesselAutodiffPass> {
  using TesselAutodiffBase::TesselAutodiffBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    func::FuncOp fn;
    if (!function.empty()) {
      fn = module.lookupSymbol<func::FuncOp>(function);
      if (!fn) {
        module.emitError() << "tessel-autodiff: no function named '" << function << "'";
        return signalPassFailure();
      }
    } else if (functions.size() == 1) {
      fn = functions.front();
    } else {
      module.emitError() << "tessel-autodiff: the module has " << functions.size()
                         << " functions; name one with function=NAME";
      return signalPassFailure();
    }
    DifferentiateOptions options;
    options.outputs.assign(loss.begin(), loss.end());
    options.wrt.assign(wrt.begin(), wrt.end());
    options.seedsAsInputs = seedsAsInputs;
    if (failed(differentiateFunction(fn, options)))
      signalPassFailure();
  }
};

} // namespace
