//===- MergeKernels.cpp - The tessel-merge-kernels pass -------------------===//
//
// Kernels that are the same LLVM-dialect code up to the values of some scalar
// constants (loop bounds and strides: DenseNet's layers differ only in their
// channel counts) become one function that takes those values as arguments.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELMERGEKERNELS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Whether `use` could take a run-time value instead of a constant without
/// making the code slower or invalid: not an alloca's size (a dynamic alloca
/// is not promoted to registers), not a vector lane index, not an operand
/// of an intrinsic call whose operands may have to be immediates.
bool acceptsRuntimeValue(OpOperand &use) {
  Operation *user = use.getOwner();
  if (isa<LLVM::AllocaOp, LLVM::ShuffleVectorOp, LLVM::CallIntrinsicOp>(user))
    return false;
  if (auto extract = dyn_cast<LLVM::ExtractElementOp>(user))
    return use.get() != extract.getPosition();
  if (auto insert = dyn_cast<LLVM::InsertElementOp>(user))
    return use.get() != insert.getPosition();
  Dialect *dialect = user->getDialect();
  return dialect && isa<LLVM::LLVMDialect, omp::OpenMPDialect>(dialect);
}

/// Whether constant `op` of kernel `kernel` may become an argument.
bool isParameter(LLVM::ConstantOp op, LLVM::LLVMFuncOp kernel) {
  Type type = op.getType();
  if (!type.isIntOrFloat() || type.isInteger(1))
    return false;
  if (op->getParentWithTrait<OpTrait::IsIsolatedFromAbove>() != kernel)
    return false;
  return llvm::all_of(op->getUses(),
                      [](OpOperand &use) { return acceptsRuntimeValue(use); });
}

/// A kernel's code with the values of its parameter constants left out:
/// two kernels with equal shapes are the same function of those values.
/// Every op contributes its name, attributes (uniqued, so pointers compare),
/// result types, operands (numbered in order of definition) and regions.
struct KernelShape {
  SmallVector<const void *> words;
  SmallVector<LLVM::ConstantOp> parameters;
  llvm::hash_code hash;

  explicit KernelShape(LLVM::LLVMFuncOp kernel) {
    DenseMap<Value, uintptr_t> numbers;
    DenseMap<Block *, uintptr_t> blocks;
    auto word = [&](uintptr_t w) { words.push_back(reinterpret_cast<const void *>(w)); };
    for (NamedAttribute attr : kernel->getAttrs())
      if (attr.getName() != SymbolTable::getSymbolAttrName())
        words.push_back(attr.getValue().getAsOpaquePointer());
    std::function<void(Region &)> visitRegion = [&](Region &region) {
      word(region.getBlocks().size());
      for (Block &block : region)
        blocks.try_emplace(&block, blocks.size());
      for (Block &block : region) {
        for (BlockArgument arg : block.getArguments()) {
          numbers.try_emplace(arg, numbers.size());
          words.push_back(arg.getType().getAsOpaquePointer());
        }
        for (Operation &op : block) {
          words.push_back(op.getName().getAsOpaquePointer());
          auto constant = dyn_cast<LLVM::ConstantOp>(op);
          if (constant && isParameter(constant, kernel)) {
            parameters.push_back(constant);
            words.push_back(constant.getType().getAsOpaquePointer());
          } else {
            words.push_back(op.getRawDictionaryAttrs().getAsOpaquePointer());
            words.push_back(op.getPropertiesAsAttribute().getAsOpaquePointer());
          }
          word(op.getNumOperands());
          for (Value operand : op.getOperands()) {
            auto it = numbers.find(operand);
            // A value from outside the kernel: never the case for an
            // llvm.func, but compare by identity if it were.
            word(it == numbers.end() ? ~reinterpret_cast<uintptr_t>(
                                           operand.getAsOpaquePointer())
                                     : it->second);
          }
          word(op.getNumSuccessors());
          for (Block *successor : op.getSuccessors())
            word(blocks.lookup(successor));
          for (Value result : op.getResults()) {
            numbers.try_emplace(result, numbers.size());
            words.push_back(result.getType().getAsOpaquePointer());
          }
          word(op.getNumRegions());
          for (Region &nested : op.getRegions())
            visitRegion(nested);
        }
      }
    };
    visitRegion(kernel.getBody());
    hash = llvm::hash_combine_range(words.begin(), words.end());
  }
};

/// Makes `kernel`'s type take its entry block's arguments, padding its
/// argument attributes with empty ones for new trailing arguments.
void updateSignature(LLVM::LLVMFuncOp kernel) {
  MLIRContext *context = kernel.getContext();
  LLVM::LLVMFunctionType type = kernel.getFunctionType();
  SmallVector<Type> inputs(kernel.getBody().getArgumentTypes());
  kernel.setFunctionType(
      LLVM::LLVMFunctionType::get(type.getReturnType(), inputs, type.isVarArg()));
  if (ArrayAttr argAttrs = kernel.getArgAttrsAttr()) {
    SmallVector<Attribute> padded(argAttrs.begin(), argAttrs.end());
    padded.resize(inputs.size(), DictionaryAttr::get(context));
    kernel.setArgAttrsAttr(ArrayAttr::get(context, padded));
  }
}

/// Each kernel's calls; nullopt when a kernel is used other than by a call.
std::optional<DenseMap<StringAttr, SmallVector<LLVM::CallOp>>> collectCalls(ModuleOp module) {
  if (auto uses = SymbolTable::getSymbolUses(module))
    for (const SymbolTable::SymbolUse &use : *uses)
      if (!isa<LLVM::CallOp>(use.getUser()) &&
          use.getSymbolRef().getRootReference().getValue().starts_with(tessel::kKernelPrefix))
        return std::nullopt;
  DenseMap<StringAttr, SmallVector<LLVM::CallOp>> calls;
  module.walk([&](LLVM::CallOp call) {
    if (auto callee = call.getCalleeAttr())
      calls[callee.getAttr()].push_back(call);
  });
  return calls;
}

SmallVector<LLVM::LLVMFuncOp> getKernels(ModuleOp module) {
  SmallVector<LLVM::LLVMFuncOp> kernels;
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
    if (!fn.isExternal() && fn.getSymName().starts_with(tessel::kKernelPrefix))
      kernels.push_back(fn);
  return kernels;
}

/// Merges the kernels of the same shape; returns the names of those merged
/// into another, mapped to its name.
llvm::StringMap<std::string>
mergeKernels(ModuleOp module, DenseMap<StringAttr, SmallVector<LLVM::CallOp>> &calls) {
  // Kernels grouped by shape, in module order.
  SmallVector<LLVM::LLVMFuncOp> kernels = getKernels(module);
  std::vector<std::unique_ptr<KernelShape>> shapes;
  llvm::MapVector<unsigned, SmallVector<unsigned>> groups;
  DenseMap<llvm::hash_code, SmallVector<unsigned>> byHash;
  for (auto [index, fn] : llvm::enumerate(kernels)) {
    shapes.push_back(std::make_unique<KernelShape>(fn));
    KernelShape &shape = *shapes.back();
    SmallVector<unsigned> &candidates = byHash[shape.hash];
    auto leader = llvm::find_if(
        candidates, [&](unsigned other) { return shapes[other]->words == shape.words; });
    if (leader != candidates.end()) {
      groups[*leader].push_back(index);
    } else {
      candidates.push_back(index);
      groups[index].push_back(index);
    }
  }

  llvm::StringMap<std::string> renamed;
  for (auto &[leaderIndex, members] : groups) {
    if (members.size() < 2)
      continue;
    LLVM::LLVMFuncOp leader = kernels[leaderIndex];
    KernelShape &leaderShape = *shapes[leaderIndex];
    // The parameters whose values differ between members.
    SmallVector<unsigned> varying;
    for (unsigned p = 0, e = leaderShape.parameters.size(); p != e; ++p) {
      Attribute value = leaderShape.parameters[p].getValue();
      if (llvm::any_of(members, [&](unsigned m) {
            return shapes[m]->parameters[p].getValue() != value;
          }))
        varying.push_back(p);
    }

    // The leader takes them as trailing arguments.
    unsigned firstNew = leader.getNumArguments();
    Block &entry = leader.getBody().front();
    for (unsigned p : varying) {
      LLVM::ConstantOp constant = leaderShape.parameters[p];
      entry.addArgument(constant.getType(), constant.getLoc());
    }
    updateSignature(leader);
    for (auto [i, p] : llvm::enumerate(varying))
      leaderShape.parameters[p].getResult().replaceAllUsesWith(
          leader.getArgument(firstNew + i));

    // Every member's calls call the leader with their values.
    SmallVector<LLVM::CallOp> &leaderCalls = calls[leader.getSymNameAttr()];
    for (unsigned m : members) {
      LLVM::LLVMFuncOp member = kernels[m];
      for (LLVM::CallOp call : calls.lookup(member.getSymNameAttr())) {
        OpBuilder b(call);
        SmallVector<Value> operands(call.getArgOperands());
        for (unsigned p : varying) {
          LLVM::ConstantOp constant = shapes[m]->parameters[p];
          operands.push_back(LLVM::ConstantOp::create(b, call.getLoc(), constant.getType(),
                                                      constant.getValue()));
        }
        call.setCallee(leader.getSymName());
        call.getCalleeOperandsMutable().assign(operands);
        if (m != leaderIndex)
          leaderCalls.push_back(call);
      }
      if (m != leaderIndex) {
        renamed[member.getSymName()] = leader.getSymName().str();
        calls.erase(member.getSymNameAttr());
      }
    }
    for (unsigned p : varying)
      leaderShape.parameters[p].erase();
    for (unsigned m : members)
      if (m != leaderIndex)
        kernels[m].erase();
  }
  return renamed;
}

/// Drops the arguments a kernel never reads — most of its buffers'
/// descriptors: their sizes and strides are constants in its code — from it
/// and from its calls, and what computed them in the callers. The entry
/// function then passes 2-3 values per buffer instead of 5 or more.
void dropUnusedArguments(ModuleOp module,
                         DenseMap<StringAttr, SmallVector<LLVM::CallOp>> &calls) {
  SmallVector<Operation *> maybeDead;
  for (LLVM::LLVMFuncOp kernel : getKernels(module)) {
    llvm::BitVector unused(kernel.getNumArguments());
    for (BlockArgument arg : kernel.getArguments())
      if (arg.use_empty())
        unused.set(arg.getArgNumber());
    if (unused.none())
      continue;
    for (LLVM::CallOp call : calls.lookup(kernel.getSymNameAttr())) {
      SmallVector<Value> kept;
      for (auto [i, operand] : llvm::enumerate(call.getArgOperands())) {
        if (!unused.test(i))
          kept.push_back(operand);
        else if (Operation *def = operand.getDefiningOp())
          maybeDead.push_back(def);
      }
      call.getCalleeOperandsMutable().assign(kept);
    }
    if (ArrayAttr argAttrs = kernel.getArgAttrsAttr()) {
      SmallVector<Attribute> kept;
      for (auto [i, attr] : llvm::enumerate(argAttrs))
        if (!unused.test(i))
          kept.push_back(attr);
      kernel.setArgAttrsAttr(ArrayAttr::get(module.getContext(), kept));
    }
    kernel.getBody().front().eraseArguments(unused);
    updateSignature(kernel);
  }
  // What only computed the dropped arguments (descriptor fields, constants).
  // An op can be listed more than once: it is erased at its last listing.
  llvm::DenseMap<Operation *, unsigned> listings;
  for (Operation *op : maybeDead)
    ++listings[op];
  while (!maybeDead.empty()) {
    Operation *op = maybeDead.pop_back_val();
    if (--listings[op] != 0 || !isOpTriviallyDead(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp()) {
        maybeDead.push_back(def);
        ++listings[def];
      }
    op->erase();
  }
}

struct MergeKernelsPass : tessel::impl::TesselMergeKernelsBase<MergeKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto calls = collectCalls(module);
    if (!calls)
      return;
    llvm::StringMap<std::string> renamed = mergeKernels(module, *calls);
    dropUnusedArguments(module, *calls);

    // The profile's call sites name the kernel each one calls.
    auto sites = module->getAttrOfType<ArrayAttr>(tessel::kProfileSitesAttrName);
    if (renamed.empty() || !sites)
      return;
    Builder b(module.getContext());
    SmallVector<Attribute> updated;
    for (Attribute site : sites) {
      auto dict = cast<DictionaryAttr>(site);
      auto kernel = dict.getAs<StringAttr>("kernel");
      auto it = kernel ? renamed.find(kernel.getValue()) : renamed.end();
      if (it == renamed.end()) {
        updated.push_back(site);
        continue;
      }
      NamedAttrList entries(dict);
      entries.set("kernel", b.getStringAttr(it->second));
      updated.push_back(entries.getDictionary(b.getContext()));
    }
    module->setAttr(tessel::kProfileSitesAttrName, b.getArrayAttr(updated));
  }
};

} // namespace
