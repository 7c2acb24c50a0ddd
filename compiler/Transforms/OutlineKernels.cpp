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
/// identical kernels — but not constant tensors (weights, a batch norm's
/// scales) other than splats, which would make them differ.
bool isClonedIntoKernel(Operation *op) {
  if (!op || op->getNumOperands() != 0 || op->getNumRegions() != 0 ||
      !op->hasTrait<OpTrait::ConstantLike>())
    return false;
  Attribute value;
  if (!matchPattern(op->getResult(0), m_Constant(&value)))
    return false;
  auto elements = dyn_cast<ElementsAttr>(value);
  return !elements || elements.isSplat();
}

/// Whether `op` or an op inside it is marked for outlining on tensors (a
/// marked op that tessel-tile-and-distribute tiled is inside the loops).
bool isMarked(Operation &op) {
  return op.walk([](Operation *nested) {
             return nested->hasAttr(tessel::kOutlineAttrName) ? WalkResult::interrupt()
                                                               : WalkResult::advance();
           }).wasInterrupted();
}

/// The values `op`'s results are computed in, one per result: a parallel
/// loop's shared outputs, a loop's initial values, a destination-style
/// op's inits; nullopt for other ops.
std::optional<SmallVector<Value>> getDestinations(Operation &op) {
  if (auto forall = dyn_cast<scf::ForallOp>(op))
    return SmallVector<Value>(forall.getOutputs());
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return SmallVector<Value>(loop.getInitArgs());
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    return SmallVector<Value>(dps.getDpsInits());
  return std::nullopt;
}

struct OutlineKernelsPass : tessel::impl::TesselOutlineKernelsBase<OutlineKernelsPass> {
  using Base::Base;

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
        // On buffers, every op with regions (its results, if any, would
        // be values a kernel cannot return); on tensors, the marked ones.
        if (marked ? !isMarked(op)
                   : op.getNumRegions() == 0 || op.getNumResults() != 0 ||
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
          Operation *def = v.getDefiningOp();
          auto fill = dyn_cast_if_present<linalg::FillOp>(def);
          if (isClonedIntoKernel(def)) {
            if (!llvm::is_contained(cloned, def))
              cloned.push_back(def);
          } else if (marked && fill && fill->getNumResults() == 1 &&
                     isClonedIntoKernel(fill.getInputs()[0].getDefiningOp())) {
            // A destination filled with a constant (the products' zeros,
            // a fill the tiles did not fuse): filled in the kernel, where
            // tessel-vectorize starts the accumulators from the constant
            // instead of writing a whole tensor of it and reading it back.
            Operation *constant = fill.getInputs()[0].getDefiningOp();
            if (!llvm::is_contained(cloned, constant))
              cloned.push_back(constant);
            if (!llvm::is_contained(arguments, fill.getDpsInits()[0]))
              arguments.push_back(fill.getDpsInits()[0]);
            cloned.push_back(fill);
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
            b.getFunctionType(ValueRange(arguments).getTypes(), op.getResultTypes()));
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
        Operation *clone = b.clone(op, mapping);
        clone->walk([](Operation *nested) { nested->removeAttr(tessel::kOutlineAttrName); });
        func::ReturnOp::create(b, op.getLoc(), clone->getResults());

        b.setInsertionPoint(&op);
        auto call = func::CallOp::create(b, op.getLoc(), kernel, arguments);
        // The arguments the results are computed in, for the passes that
        // give a producer its consumer's buffer (tessel-pad-in-place).
        std::optional<SmallVector<Value>> inits;
        if (marked)
          inits = getDestinations(op);
        if (inits && inits->size() == op.getNumResults()) {
          SmallVector<int64_t> destinations;
          for (Value init : *inits) {
            if (auto fill = init.getDefiningOp<linalg::FillOp>();
                fill && llvm::is_contained(cloned, fill.getOperation()))
              init = fill.getDpsInits()[0];
            destinations.push_back(llvm::find(arguments, init) - arguments.begin());
          }
          if (!llvm::is_contained(destinations, int64_t(arguments.size())))
            call->setAttr(tessel::kDestinationsAttrName, b.getDenseI64ArrayAttr(destinations));
        }
        op.replaceAllUsesWith(call.getResults());
        op.erase();
      }
      // What is left of `fn` is glue — buffers, views, calls — that LLVM's
      // optimizer and instruction scheduling cannot speed up, but spent
      // 0.9 s on for ResNet-18's gradient (thousands of descriptor values
      // in one function): it is compiled without optimization.
      bool glue = !marked && counter != first && fn.getBody().hasOneBlock() &&
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
