//===- MergeKernels.cpp - The tessel-merge-kernels pass -------------------===//
//
// Kernels that are the same LLVM-dialect code up to the values of some scalar
// constants (loop bounds, strides, buffer offsets: DenseNet's layers differ
// only in their channel counts) become one function that takes those values
// as arguments.
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
#include "llvm/ADT/SetVector.h"

#include <map>

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

/// Whether `op` is a scalar constant of `kernel`'s own body (not of a
/// region isolated from it). Such constants are compared by their uses, not
/// by where they stand: the canonicalizer hoists and uniques them, so two
/// kernels of the same code can define them in different orders, or share
/// one constant for two uses whose values coincide in one kernel only.
bool isScalarConstant(Operation *op, LLVM::LLVMFuncOp kernel) {
  auto constant = dyn_cast_or_null<LLVM::ConstantOp>(op);
  return constant && constant.getType().isIntOrFloat() &&
         constant->getParentWithTrait<OpTrait::IsIsolatedFromAbove>() == kernel;
}

/// A value a merged kernel can take as an argument: a use of a scalar
/// constant (not i1) that could take a run-time value, or the constant
/// first index of a getelementptr (an offset into a buffer).
struct Parameter {
  OpOperand *use = nullptr;
  mutable LLVM::GEPOp gep; // Op handles' accessors are not const.

  Type getType() const {
    return use ? use->get().getType() : IntegerType::get(gep.getContext(), 64);
  }
  Attribute getValue() const {
    if (use)
      return use->get().getDefiningOp<LLVM::ConstantOp>().getValue();
    return IntegerAttr::get(getType(), gep.getRawConstantIndices().front());
  }
  /// Makes the kernel read it from `value`.
  void replaceWith(Value value) const {
    if (use) {
      use->set(value);
      return;
    }
    SmallVector<int32_t> raw(gep.getRawConstantIndices());
    raw.front() = LLVM::GEPOp::kDynamicIndex;
    SmallVector<Value> dynamic{value};
    llvm::append_range(dynamic, gep.getDynamicIndices());
    gep.setRawConstantIndicesAttr(DenseI32ArrayAttr::get(gep.getContext(), raw));
    gep.getDynamicIndicesMutable().assign(dynamic);
  }
};

/// A kernel's code with the values of its parameters left out: two kernels
/// with equal shapes are the same function of those values. Every op
/// contributes its name, attributes (uniqued, so pointers compare), result
/// types, operands (numbered in order of definition, scalar constants by
/// their value) and regions; scalar constants themselves do not appear.
struct KernelShape {
  SmallVector<const void *> words;
  SmallVector<Parameter> parameters;
  llvm::hash_code hash;

  explicit KernelShape(LLVM::LLVMFuncOp kernel) {
    DenseMap<Value, uintptr_t> numbers;
    DenseMap<Block *, uintptr_t> blocks;
    auto word = [&](uintptr_t w) { words.push_back(reinterpret_cast<const void *>(w)); };
    enum : uintptr_t { kParameter = ~uintptr_t(0), kConstant = ~uintptr_t(1) };
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
          if (isScalarConstant(&op, kernel))
            continue;
          words.push_back(op.getName().getAsOpaquePointer());
          words.push_back(op.getRawDictionaryAttrs().getAsOpaquePointer());
          auto gep = dyn_cast<LLVM::GEPOp>(op);
          if (gep && gep.getRawConstantIndices().front() != LLVM::GEPOp::kDynamicIndex &&
              gep->getParentWithTrait<OpTrait::IsIsolatedFromAbove>() == kernel) {
            word(kParameter);
            parameters.push_back({nullptr, gep});
            words.push_back(gep.getElemTypeAttr().getAsOpaquePointer());
            word(static_cast<uintptr_t>(gep.getNoWrapFlags()));
            words.push_back(DenseI32ArrayAttr::get(gep.getContext(),
                                                   gep.getRawConstantIndices().drop_front())
                                .getAsOpaquePointer());
          } else {
            words.push_back(op.getPropertiesAsAttribute().getAsOpaquePointer());
          }
          word(op.getNumOperands());
          for (OpOperand &use : op.getOpOperands()) {
            Value operand = use.get();
            if (isScalarConstant(operand.getDefiningOp(), kernel)) {
              auto constant = operand.getDefiningOp<LLVM::ConstantOp>();
              if (!constant.getType().isInteger(1) && acceptsRuntimeValue(use)) {
                word(kParameter);
                words.push_back(constant.getType().getAsOpaquePointer());
                parameters.push_back({&use, {}});
              } else {
                word(kConstant);
                words.push_back(constant.getValue().getAsOpaquePointer());
              }
              continue;
            }
            auto it = numbers.find(operand);
            // A value from outside the kernel: never the case for an
            // llvm.func, but compare by identity if it were.
            word(it == numbers.end() ? ~reinterpret_cast<uintptr_t>(
                                           operand.getAsOpaquePointer()) -
                                           2
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
    // The parameters whose values differ between members; those with the
    // same type and values in every member share one argument.
    std::map<SmallVector<const void *>, unsigned> argumentOf;
    SmallVector<std::pair<unsigned, unsigned>> varying; // (parameter, argument)
    SmallVector<unsigned> firstOfArgument;              // a parameter per argument
    for (unsigned p = 0, e = leaderShape.parameters.size(); p != e; ++p) {
      SmallVector<const void *> key{leaderShape.parameters[p].getType().getAsOpaquePointer()};
      for (unsigned m : members)
        key.push_back(shapes[m]->parameters[p].getValue().getAsOpaquePointer());
      if (llvm::all_equal(llvm::drop_begin(key)))
        continue;
      auto [it, inserted] = argumentOf.try_emplace(key, firstOfArgument.size());
      if (inserted)
        firstOfArgument.push_back(p);
      varying.push_back({p, it->second});
    }

    // Every member's calls call the leader with their values.
    SmallVector<LLVM::CallOp> &leaderCalls = calls[leader.getSymNameAttr()];
    for (unsigned m : members) {
      LLVM::LLVMFuncOp member = kernels[m];
      for (LLVM::CallOp call : calls.lookup(member.getSymNameAttr())) {
        OpBuilder b(call);
        SmallVector<Value> operands(call.getArgOperands());
        for (unsigned p : firstOfArgument) {
          const Parameter &parameter = shapes[m]->parameters[p];
          operands.push_back(LLVM::ConstantOp::create(b, call.getLoc(), parameter.getType(),
                                                      parameter.getValue()));
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

    // The leader takes them as trailing arguments; the constants left
    // without uses go. Uses are replaced before getelementptr indices: an
    // index rewrite reallocates its op's operands.
    unsigned firstNew = leader.getNumArguments();
    Block &entry = leader.getBody().front();
    for (unsigned p : firstOfArgument)
      entry.addArgument(leaderShape.parameters[p].getType(), leader.getLoc());
    updateSignature(leader);
    SetVector<Operation *> replaced;
    for (bool indices : {false, true})
      for (auto [p, argument] : varying) {
        const Parameter &parameter = leaderShape.parameters[p];
        if (indices != !parameter.use)
          continue;
        if (parameter.use)
          replaced.insert(parameter.use->get().getDefiningOp());
        parameter.replaceWith(leader.getArgument(firstNew + argument));
      }
    for (Operation *constant : replaced)
      if (constant->use_empty())
        constant->erase();
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
    // Unread arguments first: kernels that differ in them alone then merge.
    dropUnusedArguments(module, *calls);
    llvm::StringMap<std::string> renamed = mergeKernels(module, *calls);

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
