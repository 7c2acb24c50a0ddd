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

/// The operands `op`'s results are computed in, one per result: a parallel
/// loop's shared outputs, a loop's initial values, a destination-style
/// op's inits; none for other ops.
SmallVector<OpOperand *> getDestinationOperands(Operation &op) {
  SmallVector<OpOperand *> operands;
  auto append = [&](MutableOperandRange range) {
    for (OpOperand &operand : range)
      operands.push_back(&operand);
  };
  if (auto forall = dyn_cast<scf::ForallOp>(op))
    append(forall.getOutputsMutable());
  else if (auto loop = dyn_cast<scf::ForOp>(op))
    append(loop.getInitArgsMutable());
  else if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    append(dps.getDpsInitsMutable());
  if (operands.size() != op.getNumResults())
    return {};
  return operands;
}

/// `type` (a strided memref) with dynamic sizes, strides and offset, the
/// innermost stride kept where it is 1 (so the fill's loop stays
/// contiguous); null for other types.
MemRefType getDynamicType(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!memref || failed(memref.getStridesAndOffset(strides, offset)))
    return {};
  SmallVector<int64_t> dynamicStrides(strides.size(), ShapedType::kDynamic);
  if (!strides.empty() && strides.back() == 1)
    dynamicStrides.back() = 1;
  return MemRefType::get(SmallVector<int64_t>(memref.getRank(), ShapedType::kDynamic),
                         memref.getElementType(),
                         StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic,
                                                dynamicStrides),
                         memref.getMemorySpace());
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
        // On tensors, the operands the results are computed in.
        SmallVector<OpOperand *> destinations;
        if (marked)
          destinations = getDestinationOperands(op);
        // What the op reads from outside: its other operands and the
        // values its regions capture, in order of first use.
        llvm::SetVector<Value> captured;
        for (OpOperand &operand : op.getOpOperands())
          if (!llvm::is_contained(destinations, &operand))
            captured.insert(operand.get());
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
        // Then each destination, an argument of its own even where the op
        // also reads its value (a bias broadcast two layers start from):
        // the kernel's result is then always that argument's buffer, and
        // the caller copies the value where the read needs it kept. A
        // destination filled with a constant (the products' zeros, a fill
        // the tiles did not fuse) is filled in the kernel instead, where
        // tessel-vectorize starts the accumulators from the constant
        // rather than from a whole tensor of it written and read back.
        SmallVector<linalg::FillOp> fills;
        for (OpOperand *destination : destinations) {
          Value value = destination->get();
          auto fill = value.getDefiningOp<linalg::FillOp>();
          if (fill && !captured.contains(value) &&
              isClonedIntoKernel(fill.getInputs()[0].getDefiningOp())) {
            if (!llvm::is_contained(cloned, fill.getInputs()[0].getDefiningOp()))
              cloned.push_back(fill.getInputs()[0].getDefiningOp());
            value = fill.getDpsInits()[0];
          } else {
            fill = {};
          }
          fills.push_back(fill);
          arguments.push_back(value);
        }

        OpBuilder b(context);
        // A fill on buffers takes its buffer with dynamic sizes, strides
        // and offset: the borders of padded buffers then share one kernel
        // per rank.
        SmallVector<Value> operands = arguments;
        if (!marked && isa<linalg::FillOp>(op)) {
          b.setInsertionPoint(&op);
          for (Value &arg : operands)
            if (MemRefType dynamic = getDynamicType(arg.getType()))
              arg = memref::CastOp::create(b, op.getLoc(), dynamic, arg);
        }
        b.setInsertionPoint(fn);
        std::string name;
        do
          name = (tessel::kKernelPrefix + std::to_string(counter++)).str();
        while (symbols.lookup(name));
        auto kernel = func::FuncOp::create(
            b, op.getLoc(), name,
            b.getFunctionType(ValueRange(operands).getTypes(), op.getResultTypes()));
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
        // What the body reads maps to the arguments before the
        // destinations (a destination's value may be one of them too).
        unsigned firstDestination = arguments.size() - destinations.size();
        IRMapping mapping;
        for (unsigned i = 0; i < firstDestination; ++i)
          mapping.map(arguments[i], body->getArgument(i));
        b.setInsertionPointToStart(body);
        for (Operation *c : cloned)
          b.clone(*c, mapping);
        // The destinations' arguments (filled where a fill moves in).
        SmallVector<Value> computedIn;
        for (auto [i, fill] : llvm::enumerate(fills)) {
          Value arg = body->getArgument(firstDestination + i);
          computedIn.push_back(
              fill ? linalg::FillOp::create(b, fill.getLoc(),
                                            mapping.lookup(fill.getInputs()[0]), arg)
                         .getResult(0)
                   : arg);
        }
        Operation *clone = b.clone(op, mapping);
        for (auto [operand, value] : llvm::zip_equal(getDestinationOperands(*clone), computedIn))
          operand->set(value);
        clone->walk([](Operation *nested) { nested->removeAttr(tessel::kOutlineAttrName); });
        func::ReturnOp::create(b, op.getLoc(), clone->getResults());

        b.setInsertionPoint(&op);
        auto call = func::CallOp::create(b, op.getLoc(), kernel, operands);
        // The arguments the results are computed in, for the passes that
        // give a producer its consumer's buffer (tessel-pad-in-place).
        if (!destinations.empty())
          call->setAttr(tessel::kDestinationsAttrName,
                        b.getDenseI64ArrayAttr(llvm::to_vector(llvm::seq<int64_t>(
                            firstDestination, arguments.size()))));
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
