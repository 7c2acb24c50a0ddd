//===- Autodiff.cpp - The tessel-autodiff and tessel-jvp passes -----------===//

#include "compiler/Autodiff/Autodiff.h"
#include "compiler/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELAUTODIFF
#define GEN_PASS_DEF_TESSELJVP
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// The function a pass named `pass` works on: `name`, else the only one.
func::FuncOp pickFunction(ModuleOp module, StringRef name, StringRef pass) {
  if (!name.empty()) {
    auto fn = module.lookupSymbol<func::FuncOp>(name);
    if (!fn)
      module.emitError() << pass << ": no function named '" << name << "'";
    return fn;
  }
  SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
  if (functions.size() == 1)
    return functions.front();
  module.emitError() << pass << ": the module has " << functions.size()
                     << " functions; name one with function=NAME";
  return {};
}

struct TesselAutodiffPass : tessel::impl::TesselAutodiffBase<TesselAutodiffPass> {
  using TesselAutodiffBase::TesselAutodiffBase;

  void runOnOperation() override {
    func::FuncOp fn = pickFunction(getOperation(), function, "tessel-autodiff");
    if (!fn)
      return signalPassFailure();
    DifferentiateOptions options;
    options.outputs.assign(loss.begin(), loss.end());
    options.wrt.assign(wrt.begin(), wrt.end());
    options.seedsAsInputs = seedsAsInputs;
    if (failed(differentiateFunction(fn, options)))
      signalPassFailure();
  }
};

struct TesselJvpPass : tessel::impl::TesselJvpBase<TesselJvpPass> {
  using TesselJvpBase::TesselJvpBase;

  void runOnOperation() override {
    func::FuncOp fn = pickFunction(getOperation(), function, "tessel-jvp");
    if (!fn)
      return signalPassFailure();
    JvpOptions options;
    options.wrt.assign(wrt.begin(), wrt.end());
    options.outputs.assign(outputs.begin(), outputs.end());
    if (failed(jvpFunction(fn, options)))
      signalPassFailure();
  }
};

} // namespace
