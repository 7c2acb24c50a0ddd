//===- CheckCompilable.cpp - The tessel-check-compilable pass -------------===//

#include "compiler/Passes.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELCHECKCOMPILABLE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

struct CheckCompilablePass
    : tessel::impl::TesselCheckCompilableBase<CheckCompilablePass> {
  void runOnOperation() override {
    bool failed = false;
    auto check = [&](Type type, Operation *op, Location loc) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor)
        return;
      // Printed without the quotes a diagnostic puts around a type.
      std::string typeText;
      llvm::raw_string_ostream(typeText) << type;
      if (llvm::is_contained(tensor.getShape(), 0)) {
        emitError(loc) << "'" << op->getName() << "' has the zero-size tensor type "
                       << typeText << "; Tessel does not compile zero-size tensors";
        failed = true;
      } else if (tensor.hasStaticShape() && !tessel::fitsInMemory(tensor)) {
        emitError(loc) << "'" << op->getName() << "' has the tensor type " << typeText
                       << ", more than the 2^47 bytes a Tessel tensor may hold";
        failed = true;
      }
    };
    getOperation().walk([&](Operation *op) {
      for (Value result : op->getResults())
        check(result.getType(), op, op->getLoc());
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument arg : block.getArguments())
            check(arg.getType(), op, arg.getLoc());
      return failed ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
