//===- PrepareEntry.cpp - The tessel-prepare-entry pass -------------------===//

#include "compiler/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELPREPAREENTRY
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

struct PrepareEntryPass : tessel::impl::TesselPrepareEntryBase<PrepareEntryPass> {
  using Base::Base;

  void runOnOperation() override {
    if (entry.empty())
      return;
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(entry);
    if (!fn) {
      module.emitError() << "tessel-prepare-entry: no function named '" << entry
                         << "' to compile";
      return signalPassFailure();
    }
    auto symbol = StringAttr::get(&getContext(), tessel::getEntrySymbol(entry));
    if (module.lookupSymbol(symbol)) {
      fn.emitError() << "the module already has a symbol named '" << symbol.getValue()
                     << "', the name the entry point takes";
      return signalPassFailure();
    }
    if (failed(SymbolTable::replaceAllSymbolUses(fn, symbol, module)))
      return signalPassFailure();
    fn.setSymName(symbol);
    fn.setPublic();
    if (cInterface)
      fn->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
  }
};

} // namespace
