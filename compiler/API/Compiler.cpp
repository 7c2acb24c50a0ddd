//===- Compiler.cpp - Compile with the CPU pipeline, run with the JIT -----===//

#include "tessel/Compiler.h"
#include "tessel/Version.h"
#include "tessel/Runtime.h"
#include "tessel/Training.h"

#include "compiler/API/DiskCache.h"
#include "compiler/API/GraphImpl.h"
#include "compiler/API/Lowering.h"
#include "compiler/Autodiff/Autodiff.h"
#include "compiler/Passes.h"
#include "dialects/tessel/IR/Constants.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ExecutionEngine/JITEventListener.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/SectionMemoryManager.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

using namespace tessel;

struct Executable::Impl {
  /// The compiled graph's constants (weights), which the code reads in place.
  /// Declared before the JIT: they must outlive the code.
  std::vector<detail::CodeConstant> constants;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  /// kPackedEntry.
  void (*entry)(void **) = nullptr;
  std::vector<TensorInfo> inputs, outputs;
  double flops = 0;
  /// CompileOptions::profile: the call sites, and their counters.
  std::vector<KernelProfile> sites;
  std::unique_ptr<std::atomic<int64_t>[]> counters;
};

namespace {

/// 2 * multiply-adds of `op` if it is a convolution or a matrix product,
/// else 0.
double opFlops(mlir::Operation *op) {
  auto elements = [](mlir::Value v) {
    return static_cast<double>(
        llvm::cast<mlir::RankedTensorType>(v.getType()).getNumElements());
  };
  if (auto conv = llvm::dyn_cast<mlir::tessel::ConvOp>(op)) {
    // Each output element sums (C_in / groups) * prod(kernel) products:
    // the filter's elements divided by its output channels.
    auto filter = llvm::cast<mlir::RankedTensorType>(conv.getFilter().getType());
    auto layout = mlir::tessel::getFilterFamily(conv.getFilterLayout());
    int64_t outChannels = layout == mlir::tessel::FilterFamily::OutputFirst
                              ? filter.getShape().front()
                              : filter.getShape().back();
    return 2 * elements(conv.getResult()) * filter.getNumElements() / outChannels;
  }
  if (auto convT = llvm::dyn_cast<mlir::tessel::ConvTransposeOp>(op)) {
    // Every input element meets (C_out / groups) * prod(kernel) weights.
    auto filter = llvm::cast<mlir::RankedTensorType>(convT.getFilter().getType());
    auto layout = mlir::tessel::getFilterFamily(convT.getFilterLayout());
    int64_t inChannels = layout == mlir::tessel::FilterFamily::InputFirst
                             ? filter.getShape().front()
                             : filter.getShape()[filter.getRank() - 2];
    return 2 * elements(convT.getInput()) * filter.getNumElements() / inChannels;
  }
  if (auto linear = llvm::dyn_cast<mlir::tessel::LinearOp>(op)) {
    auto weight = llvm::cast<mlir::RankedTensorType>(linear.getWeight().getType());
    return 2 * elements(linear.getResult()) * weight.getShape().back();
  }
  if (auto matmul = llvm::dyn_cast<mlir::tessel::MatmulOp>(op)) {
    auto lhs = llvm::cast<mlir::RankedTensorType>(matmul.getLhs().getType());
    return 2 * elements(matmul.getResult()) * lhs.getShape().back();
  }
  return 0;
}

/// Where the running thread's profiled Executable counts its kernel calls
/// (two counters per call site: nanoseconds, calls), set by run().
thread_local std::atomic<int64_t> *profileCounters = nullptr;
thread_local int64_t profileSites = 0;

int64_t profileClock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void profileRecord(int64_t site, int64_t start) {
  if (!profileCounters || site < 0 || site >= profileSites)
    return;
  profileCounters[2 * site].fetch_add(profileClock() - start, std::memory_order_relaxed);
  profileCounters[2 * site + 1].fetch_add(1, std::memory_order_relaxed);
}

/// Takes the initializers of the module's large constant globals (the
/// weights, which memref.global lowered to dense `llvm.mlir.global`s) out of
/// the module, leaving external declarations that the JIT resolves to
/// buffers holding the same bytes. LLVM then neither translates, optimizes
/// nor emits millions of constant elements (a ResNet's weights), and the
/// code reads them where the Executable keeps them.
Result<std::vector<detail::CodeConstant>> externalizeConstants(mlir::ModuleOp module) {
  using R = Result<std::vector<detail::CodeConstant>>;
  std::vector<detail::CodeConstant> constants;
  for (auto global : module.getOps<mlir::LLVM::GlobalOp>()) {
    std::optional<llvm::ArrayRef<char>> data = detail::getLargeConstantData(global);
    if (!data)
      continue;
    llvm::ArrayRef<char> raw = *data;
    detail::CodeConstant constant;
    constant.symbol = global.getSymName().str();
    constant.size = raw.size();
    constant.alignment = std::max<size_t>(64, global.getAlignment().value_or(0));
    // A weight the importer or a fold stored as a resource is shared, not
    // copied (when aligned as the code wants it).
    constant.data = mlir::tessel::shareConstantStorage(raw);
    if (constant.data &&
        reinterpret_cast<uintptr_t>(constant.data.get()) % constant.alignment != 0)
      constant.data = nullptr;
    if (!constant.data) {
      detail::AlignedBuffer copy = detail::allocateAligned(constant.size, constant.alignment);
      if (!copy)
        return R::error(llvm::formatv("out of memory for the {0} bytes of constant '{1}'",
                                      raw.size(), global.getSymName())
                            .str());
      std::memcpy(copy.get(), raw.data(), raw.size());
      constant.data = std::move(copy);
    }
    constants.push_back(std::move(constant));
    global.removeValueAttr();
    global.setLinkage(mlir::LLVM::Linkage::External);
    global.setVisibility_(mlir::LLVM::Visibility::Default);
  }
  return constants;
}

/// The function the JIT calls: `void f(void **arguments)`, each argument
/// a pointer to one of the entry point's arguments (as the C interface takes
/// them: memref descriptors by pointer).
constexpr const char *kPackedEntry = "__tessel_packed_entry";

/// Adds kPackedEntry to `module`, unpacking its argument array into a call
/// of `entry` (what mlir::ExecutionEngine's packed functions do).
Status addPackedEntry(llvm::Module &module, llvm::StringRef entry) {
  llvm::Function *callee = module.getFunction(entry);
  if (!callee || callee->isDeclaration())
    return Status::error("the compiled module has no function '" + entry.str() + "'");
  llvm::LLVMContext &context = module.getContext();
  llvm::IRBuilder<> builder(context);
  auto *type = llvm::FunctionType::get(builder.getVoidTy(), {builder.getPtrTy()}, false);
  auto *packed = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                        kPackedEntry, module);
  builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", packed));
  llvm::SmallVector<llvm::Value *> arguments;
  for (auto [i, argument] : llvm::enumerate(callee->args())) {
    llvm::Value *slot = builder.CreateConstGEP1_64(builder.getPtrTy(), packed->getArg(0), i);
    llvm::Value *pointer = builder.CreateLoad(builder.getPtrTy(), slot);
    arguments.push_back(builder.CreateLoad(argument.getType(), pointer));
  }
  builder.CreateCall(callee, arguments);
  builder.CreateRetVoid();
  return Status();
}

using SymbolAdder = llvm::function_ref<void(llvm::StringRef, const void *)>;

/// An ORC JIT holding `objects`, their external symbols resolved in this
/// process (the OpenMP runtime, libm) and to what `define` adds.
Result<std::unique_ptr<llvm::orc::LLJIT>>
loadObjects(llvm::ArrayRef<llvm::SmallString<0>> objects, const llvm::DataLayout &dataLayout,
            llvm::function_ref<void(SymbolAdder)> define) {
  using R = Result<std::unique_ptr<llvm::orc::LLJIT>>;
  auto jit =
      llvm::orc::LLJITBuilder()
          .setDataLayout(dataLayout)
          .setObjectLinkingLayerCreator([](llvm::orc::ExecutionSession &session)
                                            -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
            auto layer = std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
                session, [](const llvm::MemoryBuffer &) {
                  return std::make_unique<llvm::SectionMemoryManager>();
                });
            // gdb sees the JIT-ed code, as under mlir::ExecutionEngine.
            layer->registerJITEventListener(
                *llvm::JITEventListener::createGDBRegistrationListener());
            return layer;
          })
          .create();
  if (!jit)
    return R::error(llvm::toString(jit.takeError()));
  llvm::orc::JITDylib &library = (*jit)->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      dataLayout.getGlobalPrefix());
  if (!process)
    return R::error(llvm::toString(process.takeError()));
  library.addGenerator(std::move(*process));
  llvm::orc::SymbolMap symbols;
  llvm::orc::MangleAndInterner mangle((*jit)->getExecutionSession(), dataLayout);
  define([&](llvm::StringRef symbol, const void *address) {
    symbols[mangle(symbol)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                               llvm::JITSymbolFlags::Exported};
  });
  if (llvm::Error e = library.define(llvm::orc::absoluteSymbols(std::move(symbols))))
    return R::error(llvm::toString(std::move(e)));
  for (const llvm::SmallString<0> &object : objects)
    if (llvm::Error e = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(
            llvm::StringRef(object.data(), object.size()), "tessel-kernels")))
      return R::error(llvm::toString(std::move(e)));
  return std::move(*jit);
}

/// Links `code` into a runnable Executable.
Result<Executable> linkCode(detail::CompiledCode code, const std::string &name,
                            const llvm::DataLayout &dataLayout,
                            const detail::Signature &signature, double flops,
                            std::vector<KernelProfile> sites, CompileTiming *timing) {
  detail::ScopedPhase phase(timing, "linking");
  auto impl = std::make_shared<Executable::Impl>();
  impl->constants = std::move(code.constants);
  impl->counters = std::make_unique<std::atomic<int64_t>[]>(2 * sites.size());
  impl->sites = std::move(sites);
  auto jit = loadObjects(code.objects, dataLayout, [&](SymbolAdder add) {
    // Temporary buffers come from the runtime's caching allocator; the
    // constants are where externalizeConstants put them.
    add("_mlir_memref_to_llvm_aligned_alloc",
        reinterpret_cast<const void *>(&tessel_runtime_aligned_alloc));
    add("_mlir_memref_to_llvm_free", reinterpret_cast<const void *>(&tessel_runtime_free));
    add("tessel_profile_clock", reinterpret_cast<const void *>(&profileClock));
    add("tessel_profile_record", reinterpret_cast<const void *>(&profileRecord));
    for (const detail::CodeConstant &constant : impl->constants)
      add(constant.symbol, constant.data.get());
  });
  if (!jit)
    return Result<Executable>::error("linking the code of '" + name + "' failed: " +
                                     jit.message());
  impl->jit = std::move(*jit);
  auto address = impl->jit->lookup(kPackedEntry);
  if (!address)
    return Result<Executable>::error("linking the code of '" + name + "' failed: " +
                                     llvm::toString(address.takeError()));
  impl->entry = address->toPtr<void (*)(void **)>();
  impl->inputs = signature.inputs;
  impl->outputs = signature.outputs;
  impl->flops = flops;
  return Executable(std::move(impl));
}

/// Compiles function `name` of `module` (which it consumes) to machine code,
/// or loads it from the disk cache, whose entries `key` (the in-process
/// cache's) and the target name.
Result<Executable> compileModule(mlir::ModuleOp module, const std::string &name,
                                 const std::vector<std::string> &inputNames,
                                 const std::vector<std::string> &outputNames,
                                 const CompileOptions &options, const std::string &key) {
  auto fn = module.lookupSymbol<mlir::func::FuncOp>(name);
  if (!fn)
    return Result<Executable>::error("no function named '" + name + "' to compile");
  auto signature = detail::getSignature(fn, inputNames, outputNames);
  if (!signature)
    return signature.status();
  double flops = 0;
  std::map<std::string, double> labelFlops; // for the profile's rows
  fn.walk([&](mlir::Operation *op) {
    if (double f = opFlops(op)) {
      flops += f;
      labelFlops[mlir::tessel::getOpLabel(op->getLoc())] += f;
    }
  });
  if (options.compileThreads > mlir::tessel::kMaxThreads)
    return Result<Executable>::error(
        "compiling '" + name + "' on " + std::to_string(options.compileThreads) +
        " compile threads: at most " + std::to_string(mlir::tessel::kMaxThreads) +
        " are supported");

  // The target first: its vector width sizes the register tiles.
  auto machine = detail::createTargetMachine("", options.cpu, options.features);
  if (!machine)
    return machine.status();
  llvm::DataLayout dataLayout = (*machine)->createDataLayout();

  // The disk cache's key adds what the in-process one leaves implicit: this
  // build of Tessel and the CPU that "this machine" resolved to.
  std::string cacheDir = options.profile ? "" : detail::getCacheDirectory(options);
  std::string diskKey;
  std::optional<detail::CompiledCode> cached;
  if (!cacheDir.empty()) {
    detail::ScopedPhase phase(options.timing, "cache lookup");
    llvm::BLAKE3 hasher;
    hasher.update(key + "\n" + TESSEL_VERSION_STRING + "\n" + detail::getBuildIdentity() + "\n" +
                  (*machine)->getTargetTriple().str() + "\n" +
                  (*machine)->getTargetCPU().str() + "\n" +
                  (*machine)->getTargetFeatureString().str());
    diskKey = llvm::toHex(hasher.final(), /*LowerCase=*/true);
    cached = detail::loadCachedCode(cacheDir, diskKey);
  }
  if (cached)
    return linkCode(std::move(*cached), name, dataLayout, *signature, flops, {},
                    options.timing);

  unsigned threads = options.threads ? options.threads
                                     : std::max(1u, std::thread::hardware_concurrency());
  detail::LoweringOptions lowering;
  lowering.entry = name;
  lowering.cInterface = true;
  lowering.threads = threads;
  lowering.minParallelIterations = options.minParallelIterations;
  lowering.winograd = options.winograd;
  lowering.dumpIR = options.dumpIR;
  lowering.timing = options.timing;
  lowering.profile = options.profile;
  if (Status s = detail::lowerToLLVMDialect(module, **machine, lowering); !s)
    return s;
  std::vector<KernelProfile> sites;
  if (auto list = module->getAttrOfType<mlir::ArrayAttr>(mlir::tessel::kProfileSitesAttrName))
    for (auto site : list.getAsRange<mlir::DictionaryAttr>()) {
      KernelProfile p;
      p.kernel = site.getAs<mlir::StringAttr>("kernel").str();
      p.label = site.getAs<mlir::StringAttr>("label").str();
      p.bytes = static_cast<double>(site.getAs<mlir::IntegerAttr>("bytes").getInt());
      llvm::SmallVector<llvm::StringRef> layers;
      site.getAs<mlir::StringAttr>("computes").getValue().split(layers, " + ", -1,
                                                               /*KeepEmpty=*/false);
      for (llvm::StringRef layer : layers)
        p.flops += labelFlops[layer.str()];
      sites.push_back(p);
    }
  detail::CompiledCode code;
  {
    detail::ScopedPhase phase(options.timing, "weights");
    auto constants = externalizeConstants(module);
    if (!constants)
      return constants.status();
    code.constants = std::move(*constants);
  }
  std::string entry = "_mlir_ciface_" + mlir::tessel::getEntrySymbol(name);

  auto llvmContext = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> llvmModule;
  {
    detail::ScopedPhase phase(options.timing, "translation to LLVM IR");
    detail::DiagnosticCollector diagnostics(module.getContext());
    llvmModule = mlir::translateModuleToLLVMIR(module, *llvmContext, name);
    if (!llvmModule)
      return Result<Executable>::error("translating '" + name + "' to LLVM IR failed:\n" +
                                       diagnostics.str("no message"));
  }
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout(dataLayout);
  if (Status s = addPackedEntry(*llvmModule, entry); !s)
    return s;

  // The JIT maps code and data sections separately, wherever the address
  // space has room: they may end up more than 2 GiB apart (seen under
  // AddressSanitizer, whose reservations fragment the address space), past
  // the reach of the small code model's 32-bit relocations, which the JIT
  // then truncates into wild addresses. The large code model addresses data
  // and calls with 64 bits.
  detail::TargetMachineFactory makeMachine = [&options] {
    auto made = detail::createTargetMachine("", options.cpu, options.features);
    if (made)
      (*made)->setCodeModel(llvm::CodeModel::Large);
    return made;
  };
  unsigned compileThreads = options.compileThreads
                                ? options.compileThreads
                                : std::max(1u, std::thread::hardware_concurrency());
  auto objects = detail::generateObjects(std::move(llvmModule), makeMachine, compileThreads,
                                         options.timing);
  if (!objects)
    return Result<Executable>::error("compiling '" + name + "' failed: " + objects.message());
  code.objects = std::move(*objects);

  if (!cacheDir.empty()) {
    // A cache that cannot be written costs the next compilation its hit,
    // nothing more: say so and go on.
    detail::ScopedPhase phase(options.timing, "cache store");
    if (Status s = detail::storeCachedCode(cacheDir, diskKey, code); !s)
      llvm::errs() << "tessel: warning: " << s.message() << "\n";
  }
  return linkCode(std::move(code), name, dataLayout, *signature, flops, std::move(sites),
                  options.timing);
}

/// Executables by (IR, options), so that compiling the same graph twice
/// reuses the machine code.
struct Cache {
  std::mutex mutex;
  std::unordered_map<std::string, Executable> entries;
};

/// The cache lives as long as the process and is never destroyed: JIT-ed
/// code must not be torn down after the OpenMP runtime it calls is gone.
Cache &getCache() {
  static Cache *cache = new Cache;
  return *cache;
}

/// A BLAKE3 digest of the module and everything else the machine code
/// depends on. The IR is printed with large constants elided (printing 11M
/// weights as hex took 0.7 s for ResNet-18); their raw bytes are hashed
/// instead, in the order the ops hold them.
std::string cacheKey(mlir::ModuleOp module, const std::string &name,
                     const std::vector<std::string> &inputNames,
                     const std::vector<std::string> &outputNames,
                     const CompileOptions &options) {
  llvm::BLAKE3 hasher;
  std::string text;
  llvm::raw_string_ostream os(text);
  // The module's ops one by one: printing the module itself would add its
  // resources section, each weight as hex (elided only once printed).
  auto flags = mlir::OpPrintingFlags().printGenericOpForm().elideLargeElementsAttrs(16);
  os << module->getAttrDictionary() << "\n";
  for (mlir::Operation &op : *module.getBody()) {
    op.print(os, flags);
    os << "\n";
  }
  os << "\nfunction=" << name << " threads=" << options.threads
     << " minParallelIterations=" << options.minParallelIterations
     << " winograd=" << static_cast<int>(options.winograd)
     << " cpu=" << options.cpu << " features=" << options.features
     << " initializersAsInputs=" << options.initializersAsInputs
     << " profile=" << options.profile;
  for (const std::string &n : inputNames)
    os << "\ninput " << n;
  for (const std::string &n : outputNames)
    os << "\noutput " << n;
  hasher.update(text);
  auto hashElements = [&](mlir::Attribute attr) {
    if (attr)
      attr.walk([&](mlir::ElementsAttr elements) {
        auto update = [&](llvm::ArrayRef<char> raw) {
          hasher.update(llvm::ArrayRef<uint8_t>(
              reinterpret_cast<const uint8_t *>(raw.data()), raw.size()));
        };
        if (auto dense = llvm::dyn_cast<mlir::DenseElementsAttr>(elements)) {
          update(dense.getRawData());
        } else if (auto resource =
                       llvm::dyn_cast<mlir::DenseResourceElementsAttr>(elements)) {
          // Printed as its name only; the name is not unique across contexts.
          if (mlir::AsmResourceBlob *blob = resource.getRawHandle().getBlob())
            update(blob->getData());
        } else { // printed whole
          std::string printed;
          llvm::raw_string_ostream(printed) << elements;
          hasher.update(printed);
        }
      });
  };
  module.walk([&](mlir::Operation *op) {
    hashElements(op->getPropertiesAsAttribute());
    hashElements(op->getRawDictionaryAttrs());
  });
  return llvm::toHex(hasher.final());
}

Result<Executable> compileCached(mlir::ModuleOp module, const std::string &name,
                                 const std::vector<std::string> &inputNames,
                                 const std::vector<std::string> &outputNames,
                                 const CompileOptions &options) {
  std::string key;
  {
    detail::ScopedPhase phase(options.timing, "cache key");
    key = cacheKey(module, name, inputNames, outputNames, options);
  }
  Cache &cache = getCache();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.entries.find(key);
    if (it != cache.entries.end()) {
      if (options.timing)
        options.timing->phases.push_back({"cache hit", 0.0});
      return it->second;
    }
  }
  Result<Executable> compiled =
      compileModule(module, name, inputNames, outputNames, options, key);
  if (compiled) {
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.entries.emplace(key, *compiled);
  }
  return compiled;
}

} // namespace

const char *tessel::version() { return TESSEL_VERSION_STRING; }

Result<Executable> tessel::compile(const Graph &graph, const CompileOptions &options) {
  const Graph::Impl &g = graph.impl();
  if (!graph.status())
    return graph.status();
  if (g.outputs.empty())
    return Result<Executable>::error("graph '" + g.name +
                                     "' has no outputs; mark them with output()");
  mlir::OwningOpRef<mlir::ModuleOp> module = g.finish();
  std::vector<std::string> outputNames;
  for (const auto &output : g.outputs)
    outputNames.push_back(output.first);
  return compileCached(*module, g.name, g.inputNames, outputNames, options);
}

/// Loads a model file, picks its function, lets `transform` rewrite it (when
/// given) and compiles it.
static Result<Executable>
compileModelFile(const std::string &path, const CompileOptions &options,
                 const std::string &function,
                 llvm::function_ref<Status(mlir::func::FuncOp)> transform = nullptr) {
  Result<detail::LoadedModel> model = [&] {
    detail::ScopedPhase phase(options.timing, "import");
    return detail::loadModelFile(path, options.initializersAsInputs, options.inputShapes);
  }();
  if (!model)
    return model.status();
  auto name = detail::pickFunction(*model->module, path, function);
  if (!name)
    return name.status();
  if (transform) {
    detail::ScopedPhase phase(options.timing, "differentiation");
    if (Status s = transform(model->module->lookupSymbol<mlir::func::FuncOp>(*name)); !s)
      return s;
  }
  return compileCached(*model->module, *name, {}, {}, options);
}

Result<Executable> tessel::compileFile(const std::string &path,
                                       const CompileOptions &options,
                                       const std::string &function) {
  return compileModelFile(path, options, function);
}

/// Compiles a model file after `transform` differentiated its function,
/// reporting the transform's diagnostics.
static Result<Executable>
compileDerivative(const std::string &path, const CompileOptions &options,
                  const std::string &function,
                  llvm::function_ref<mlir::LogicalResult(mlir::func::FuncOp)> transform) {
  return compileModelFile(path, options, function, [&](mlir::func::FuncOp fn) {
    detail::DiagnosticCollector diagnostics(fn.getContext());
    if (mlir::failed(transform(fn)))
      return Status::error(path + ": " + diagnostics.str("differentiation failed"));
    return Status();
  });
}

/// Compiles a model file after `transform` (differentiateFunction or
/// hvpFunction) ran reverse mode over every output of its function, each
/// output's cotangent an input.
static Result<Executable> compileReverse(
    const std::string &path, const std::vector<std::string> &wrt,
    const CompileOptions &options, const std::string &function,
    mlir::LogicalResult (*transform)(mlir::func::FuncOp,
                                     const mlir::tessel::DifferentiateOptions &)) {
  if (wrt.empty())
    return Result<Executable>::error(path + ": name the values to differentiate with "
                                            "respect to");
  return compileDerivative(path, options, function, [&](mlir::func::FuncOp fn) {
    mlir::tessel::DifferentiateOptions differentiate;
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      differentiate.outputs.push_back(mlir::tessel::getResultName(fn, i));
    differentiate.wrt = wrt;
    differentiate.seedsAsInputs = true;
    return transform(fn, differentiate);
  });
}

Result<Executable> tessel::compileFileGradient(const std::string &path,
                                               const std::vector<std::string> &wrt,
                                               const CompileOptions &options,
                                               const std::string &function) {
  return compileReverse(path, wrt, options, function,
                        mlir::tessel::differentiateFunction);
}

Result<Executable> tessel::compileFileJvp(const std::string &path,
                                          const std::vector<std::string> &wrt,
                                          const CompileOptions &options,
                                          const std::string &function) {
  if (wrt.empty())
    return Result<Executable>::error(path + ": name the values given tangents");
  return compileDerivative(path, options, function, [&](mlir::func::FuncOp fn) {
    mlir::tessel::JvpOptions jvp;
    jvp.wrt = wrt;
    return mlir::tessel::jvpFunction(fn, jvp);
  });
}

Result<Executable> tessel::compileFileHvp(const std::string &path,
                                          const std::vector<std::string> &wrt,
                                          const CompileOptions &options,
                                          const std::string &function) {
  return compileReverse(path, wrt, options, function, mlir::tessel::hvpFunction);
}

Result<std::string> tessel::importToTessel(const std::string &path,
                                           const CompileOptions &options) {
  auto model =
      detail::loadModelFile(path, options.initializersAsInputs, options.inputShapes);
  if (!model)
    return model.status();
  std::string text;
  llvm::raw_string_ostream os(text);
  model->module->print(os);
  return text;
}

//===----------------------------------------------------------------------===//
// Executable
//===----------------------------------------------------------------------===//

const std::vector<TensorInfo> &Executable::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo> &Executable::outputs() const { return impl_->outputs; }
double Executable::flops() const { return impl_->flops; }

std::vector<KernelProfile> Executable::profile() const {
  std::vector<KernelProfile> sites = impl_->sites;
  for (auto [i, site] : llvm::enumerate(sites)) {
    site.seconds = impl_->counters[2 * i].load(std::memory_order_relaxed) * 1e-9;
    site.calls = impl_->counters[2 * i + 1].load(std::memory_order_relaxed);
  }
  return sites;
}

void Executable::resetProfile() const {
  for (size_t i = 0; i < 2 * impl_->sites.size(); ++i)
    impl_->counters[i].store(0, std::memory_order_relaxed);
}

std::string Executable::profileTable() const {
  std::vector<KernelProfile> sites = profile();
  if (sites.empty())
    return "no kernel profile: compile with CompileOptions::profile (tessel-run --profile)\n";
  double total = 0;
  for (const KernelProfile &s : sites)
    total += s.seconds;
  std::stable_sort(sites.begin(), sites.end(),
                   [](const KernelProfile &a, const KernelProfile &b) {
                     return a.seconds > b.seconds;
                   });
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0,6}  {1,10}  {2,8}  {3,8}  {4,-18} {5}\n", "share", "ms/call",
                      "GFLOP/s", "GB/s", "kernel", "layer");
  for (const KernelProfile &s : sites) {
    double perCall = s.calls ? s.seconds / s.calls : 0;
    auto rate = [&](double amount) {
      return perCall > 0 && amount > 0 ? llvm::formatv("{0,8:f1}", amount / perCall * 1e-9).str()
                                       : std::string(8, ' ');
    };
    os << llvm::formatv("{0,5:f1}%  {1,10:f3}  {2}  {3}  {4,-18} {5}\n",
                        total > 0 ? 100 * s.seconds / total : 0.0, perCall * 1e3,
                        rate(s.flops), rate(s.bytes), s.kernel, s.label);
  }
  os << llvm::formatv("total {0:f3} ms per run over {1} kernel calls per run\n",
                      sites.front().calls ? total / sites.front().calls * 1e3 : 0.0,
                      sites.size());
  return text;
}

namespace {

/// A memref descriptor {allocated, aligned, offset, sizes[], strides[]} for a
/// contiguous tensor, laid out as the C interface expects.
std::vector<int64_t> makeDescriptor(Tensor &tensor) {
  std::vector<int64_t> d;
  auto pointer = reinterpret_cast<intptr_t>(tensor.data());
  d.push_back(pointer);
  d.push_back(pointer);
  d.push_back(0);
  for (int64_t size : tensor.shape())
    d.push_back(size);
  for (int64_t stride : rowMajorStrides(tensor.shape()))
    d.push_back(stride);
  return d;
}

} // namespace

Result<std::vector<Tensor>> Executable::run(const std::vector<Tensor> &inputs) const {
  return runImpl(inputs, /*inPlace=*/false);
}

Result<std::vector<Tensor>>
Executable::runInPlace(const std::vector<Tensor> &inputs) const {
  return runImpl(inputs, /*inPlace=*/true);
}

Result<std::vector<Tensor>> Executable::runImpl(const std::vector<Tensor> &inputs,
                                                bool inPlace) const {
  using R = Result<std::vector<Tensor>>;
  if (inputs.size() != impl_->inputs.size())
    return R::error(llvm::formatv("expected {0} inputs, got {1}",
                                  impl_->inputs.size(), inputs.size())
                        .str());
  std::vector<bool> updated(inputs.size(), false);
  for (const TensorInfo &info : impl_->outputs)
    if (info.updates >= 0)
      updated[info.updates] = true;
  std::vector<Tensor> args;
  for (auto [i, tensor] : llvm::enumerate(inputs)) {
    const TensorInfo &info = impl_->inputs[i];
    if (tensor.empty())
      return R::error("input '" + info.name +
                      "' is an empty tensor (a Tensor factory returns one for an "
                      "invalid shape or when memory runs out)");
    if (tensor.shape() != info.shape)
      return R::error("input '" + info.name + "' has shape " + tensor.shapeString() +
                      ", the compiled graph expects " +
                      shapeString(info.shape));
    if (inPlace && updated[i] && !tensor.isContiguous())
      return R::error("input '" + info.name +
                      "' is updated in place, so it must be contiguous");
    // The compiled code reads row-major memory; copy strided views. Inputs
    // the code updates are copied too unless the caller asked for that.
    bool copy = !tensor.isContiguous() || (updated[i] && !inPlace);
    args.push_back(copy ? tensor.clone() : tensor);
  }
  // An input updated in place must not be read through another input.
  if (inPlace)
    for (size_t i = 0; i < args.size(); ++i)
      for (size_t j = 0; j < args.size() && updated[i]; ++j) {
        const float *a = args[i].data(), *b = args[j].data();
        if (j != i && a < b + args[j].numElements() && b < a + args[i].numElements())
          return R::error("input '" + impl_->inputs[i].name +
                          "' is updated in place but shares memory with input '" +
                          impl_->inputs[j].name + "'");
      }
  // Tied outputs live in their input's memory; the others come from the
  // runtime's block cache, where they return when the caller drops them: a
  // training loop's gradients reuse the same pages every step instead of
  // faulting in fresh ones (45 MB for ResNet-18's, 130 ms a step). The
  // compiled code writes every element of an output.
  std::vector<Tensor> outputs;
  for (const TensorInfo &info : impl_->outputs) {
    if (info.updates >= 0) {
      outputs.push_back(args[info.updates]);
      continue;
    }
    // The shape passed the verifier's 2^47-byte limit.
    int64_t count = std::max<int64_t>(mlir::tessel::getCheckedNumElements(info.shape).value_or(0), 1);
    auto *memory = static_cast<float *>(tessel_runtime_try_alloc(count * sizeof(float)));
    outputs.push_back(Tensor::adopt(
        memory ? std::shared_ptr<float[]>(memory, [](float *p) { tessel_runtime_free(p); })
               : nullptr,
        info.shape));
    if (outputs.back().empty())
      return R::error("out of memory for output '" + info.name + "' of shape " +
                      shapeString(info.shape));
  }

  std::vector<std::vector<int64_t>> descriptors;
  for (Tensor &t : args)
    descriptors.push_back(makeDescriptor(t));
  for (auto [info, t] : llvm::zip_equal(impl_->outputs, outputs))
    if (info.updates < 0)
      descriptors.push_back(makeDescriptor(t));
  std::vector<void *> pointers, packed;
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  for (void *&p : pointers)
    packed.push_back(&p);
  if (impl_->sites.empty()) {
    impl_->entry(packed.data());
  } else {
    std::atomic<int64_t> *outerCounters = profileCounters;
    int64_t outerSites = profileSites;
    profileCounters = impl_->counters.get();
    profileSites = static_cast<int64_t>(impl_->sites.size());
    impl_->entry(packed.data());
    profileCounters = outerCounters;
    profileSites = outerSites;
  }
  return outputs;
}

Result<std::map<std::string, Tensor>>
Executable::run(const std::map<std::string, Tensor> &inputs) const {
  using R = Result<std::map<std::string, Tensor>>;
  std::vector<Tensor> ordered;
  for (const TensorInfo &info : impl_->inputs) {
    auto it = inputs.find(info.name);
    if (it == inputs.end())
      return R::error("missing input '" + info.name + "'; the inputs are " +
                      listNames(impl_->inputs));
    ordered.push_back(it->second);
  }
  if (inputs.size() != impl_->inputs.size())
    for (const auto &entry : inputs)
      if (llvm::none_of(impl_->inputs,
                        [&](const TensorInfo &i) { return i.name == entry.first; }))
        return R::error("no input named '" + entry.first + "'; the inputs are " +
                        listNames(impl_->inputs));
  Result<std::vector<Tensor>> results = run(ordered);
  if (!results)
    return results.status();
  std::map<std::string, Tensor> named;
  for (auto [info, tensor] : llvm::zip(impl_->outputs, *results))
    named.emplace(info.name, tensor);
  return named;
}
