//===- OutlineKernels.cpp - The tessel-outline-kernels pass ---------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELOUTLINEKERNELS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

void tessel::addPassthrough(func::FuncOp fn, StringRef key, StringRef value) {
  Builder b(fn.getContext());
  SmallVector<Attribute> list;
  if (auto existing = fn->getAttrOfType<ArrayAttr>("passthrough"))
    list.append(existing.begin(), existing.end());
  if (value.empty())
    list.push_back(b.getStringAttr(key));
  else
    list.push_back(b.getArrayAttr({b.getStringAttr(key), b.getStringAttr(value)}));
  fn->setAttr("passthrough", b.getArrayAttr(list));
}

namespace {

/// Whether the kernel should clone `op` rather than take its result as an
/// argument: constants, so that layers differing only in their buffers give
/// identical kernels.
bool isClonedIntoKernel(Operation *op) {
  return op && op->getNumOperands() == 0 && op->getNumRegions() == 0 &&
         op->hasTrait<OpTrait::ConstantLike>();
}

struct OutlineKernelsPass : tessel::impl::TesselOutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    MLIRContext *context = &getContext();
    unsigned counter = 0;
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (fn.isExternal() || fn.getSymName().starts_with(tessel::kKernelPrefix))
        continue;
      unsigned first = counter;
      for (Operation &op : llvm::make_early_inc_range(fn.getBody().front())) {
        if (op.getNumRegions() == 0 || op.getNumResults() != 0 ||
            op.hasTrait<OpTrait::IsTerminator>())
          continue;
        // What the op reads from outside: its operands and the values its
        // regions capture, in order of first use.
        llvm::SetVector<Value> captured;
        for (Value v : op.getOperands())
          captured.insert(v);
        llvm::SetVector<Value> above;
        getUsedValuesDefinedAbove(op.getRegions(), above);
        captured.insert(above.begin(), above.end());
        SmallVector<Value> arguments;
        SmallVector<Operation *> cloned;
        for (Value v : captured) {
          if (Operation *def = v.getDefiningOp(); isClonedIntoKernel(def)) {
            if (!llvm::is_contained(cloned, def))
              cloned.push_back(def);
          } else {
            arguments.push_back(v);
          }
        }

        OpBuilder b(context);
        b.setInsertionPoint(fn);
        std::string name;
        do
          name = (tessel::kKernelPrefix + std::to_string(counter++)).str();
        while (symbols.lookup(name));
        auto kernel = func::FuncOp::create(
            b, op.getLoc(), name,
            b.getFunctionType(ValueRange(arguments).getTypes(), {}));
        kernel.setPrivate();
        // Both carried to the llvm.func by the func-to-llvm conversion
        // (with what `fn` passes through, e.g. its vector width): the
        // kernels stay out of the inliner and out of the object's symbols
        // (two AOT models linked into one program each have kernel 0).
        if (Attribute inherited = fn->getAttr("passthrough"))
          kernel->setAttr("passthrough", inherited);
        tessel::addPassthrough(kernel, "noinline");
        kernel->setAttr("llvm.linkage",
                        LLVM::LinkageAttr::get(context, LLVM::Linkage::Internal));
        symbols.insert(kernel);
        Block *body = kernel.addEntryBlock();
        IRMapping mapping;
        for (auto [outer, inner] : llvm::zip_equal(arguments, body->getArguments()))
          mapping.map(outer, inner);
        b.setInsertionPointToStart(body);
        for (Operation *c : cloned)
          b.clone(*c, mapping);
        b.clone(op, mapping);
        func::ReturnOp::create(b, op.getLoc());

        b.setInsertionPoint(&op);
        func::CallOp::create(b, op.getLoc(), kernel, arguments);
        op.erase();
      }
      // What is left of `fn` is glue — buffers, views, calls — that LLVM's
      // optimizer and instruction scheduling cannot speed up, but spent
      // 0.9 s on for ResNet-18's gradient (thousands of descriptor values
      // in one function): it is compiled without optimization.
      bool glue = counter != first && fn.getBody().hasOneBlock() &&
                  llvm::none_of(fn.getBody().front(),
                                [](Operation &op) { return op.getNumRegions() != 0; });
      if (glue) {
        tessel::addPassthrough(fn, "noinline");
        tessel::addPassthrough(fn, "optnone");
      }
    }
  }
};

} // namespace
