//===- Lowering.cpp - What the JIT and the AOT driver share ---------------===//

#include "compiler/API/Lowering.h"
#include "compiler/Import/OnnxImporter.h"
#include "compiler/InitAll.h"
#include "compiler/Passes.h"
#include "compiler/Pipelines/CpuPipeline.h"
#include "dialects/tessel/IR/Constants.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Transforms/Utils/SplitModule.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>
#include <mutex>

using namespace tessel;
using namespace tessel::detail;

DiagnosticCollector::DiagnosticCollector(mlir::MLIRContext *context)
    : handler(context, [this](mlir::Diagnostic &diag) {
        if (diag.getSeverity() == mlir::DiagnosticSeverity::Error) {
          std::string text;
          llvm::raw_string_ostream os(text);
          os << diag.getLocation() << ": " << diag;
          messages.push_back(text);
        }
        return mlir::success();
      }) {}

std::string DiagnosticCollector::str(const std::string &fallback) const {
  if (messages.empty())
    return fallback;
  std::string all;
  for (const std::string &m : messages)
    all += (all.empty() ? "" : "\n") + m;
  return all;
}

Result<Signature> detail::getSignature(mlir::func::FuncOp fn,
                                       const std::vector<std::string> &inputNames,
                                       const std::vector<std::string> &outputNames) {
  Signature signature;
  auto describe = [&](bool isInput, const std::vector<std::string> &names,
                      std::vector<TensorInfo> &infos) -> Status {
    mlir::TypeRange types = isInput ? mlir::TypeRange(fn.getArgumentTypes())
                                    : mlir::TypeRange(fn.getResultTypes());
    for (auto [i, type] : llvm::enumerate(types)) {
      auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type);
      if (!tensor || !tensor.hasStaticShape() || !tensor.getElementType().isF32()) {
        std::string text;
        llvm::raw_string_ostream os(text);
        os << "function '" << fn.getName() << "' " << (isInput ? "input" : "output")
           << " #" << i << " has type " << type
           << "; compiled functions take and return statically shaped float32 "
              "tensors";
        return Status::error(text);
      }
      if (!mlir::tessel::fitsInMemory(tensor)) {
        std::string text;
        llvm::raw_string_ostream os(text);
        os << "function '" << fn.getName() << "' " << (isInput ? "input" : "output")
           << " #" << i << " has type " << type
           << ", more than the 2^47 bytes a Tessel tensor may hold";
        return Status::error(text);
      }
      llvm::StringRef nameAttr = mlir::tessel::TesselDialect::kNameAttrName;
      auto attr = isInput ? fn.getArgAttrOfType<mlir::StringAttr>(i, nameAttr)
                          : fn.getResultAttrOfType<mlir::StringAttr>(i, nameAttr);
      std::string name = i < names.size() ? names[i]
                         : attr           ? attr.str()
                                          : (isInput ? "arg" : "result") + std::to_string(i);
      infos.push_back({name, std::vector<int64_t>(tensor.getShape().begin(),
                                                  tensor.getShape().end())});
    }
    return Status();
  };
  if (Status s = describe(true, inputNames, signature.inputs); !s)
    return s;
  if (Status s = describe(false, outputNames, signature.outputs); !s)
    return s;
  // Results tied to an argument; tessel-tie-results checks them.
  for (auto [i, info] : llvm::enumerate(signature.outputs))
    if (auto tied = fn.getResultAttrOfType<mlir::IntegerAttr>(
            i, mlir::tessel::TesselDialect::kUpdatesAttrName))
      if (tied.getInt() >= 0 && tied.getInt() < static_cast<int64_t>(fn.getNumArguments()))
        info.updates = static_cast<int>(tied.getInt());
  return signature;
}

void detail::optimizeLLVMModule(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  // LoopLoadElimination's dependence analysis is quadratic in a loop's
  // memory accesses: 9.6 of the 18 s LLVM spent on ResNet-18's gradient,
  // whose register tiles are loops of hundreds of vector loads and stores.
  // The tiles already keep their accumulators in registers across
  // iterations, which is what the pass would do.
  llvm::PassInstrumentationCallbacks instrumentation;
  instrumentation.registerShouldRunOptionalPassCallback(
      [](llvm::StringRef pass, llvm::Any) { return pass != "LoopLoadEliminationPass"; });
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine, tuning, std::nullopt, &instrumentation);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(module, modules);
}

namespace {

/// One part of a module being compiled: its own context (LLVM contexts are
/// not thread-safe), module and machine.
struct ModulePart {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> machine;
  llvm::SmallString<0> object;
  std::string error;
};

/// Runs `work` on every part, on up to `threads` threads.
void forEachPart(std::vector<ModulePart> &parts, unsigned threads,
                 llvm::function_ref<void(ModulePart &)> work) {
  if (threads <= 1 || parts.size() <= 1) {
    for (ModulePart &part : parts)
      work(part);
    return;
  }
  llvm::DefaultThreadPool pool(llvm::hardware_concurrency(threads));
  for (ModulePart &part : parts)
    pool.async([&work, &part] { work(part); });
  pool.wait();
}

} // namespace

Result<std::vector<llvm::SmallString<0>>>
detail::generateObjects(std::unique_ptr<llvm::Module> module,
                        const TargetMachineFactory &makeMachine, unsigned threads,
                        CompileTiming *timing) {
  using R = Result<std::vector<llvm::SmallString<0>>>;
  unsigned functions = 0;
  for (const llvm::Function &f : *module)
    functions += !f.isDeclaration();
  unsigned count = std::max(1u, std::min(threads, functions));
  std::vector<ModulePart> parts;
  if (count == 1) {
    parts.push_back({nullptr, std::move(module), nullptr, {}, {}});
  } else {
    // Each part travels to its context as bitcode, as LLVM's own parallel
    // code generation (llvm::splitCodeGen) does.
    std::vector<llvm::SmallString<0>> bitcode;
    {
      ScopedPhase phase(timing, "module splitting");
      // Round-robin splitting deals functions out by count in module order,
      // where each kernel's small wrapper precedes its OpenMP body: with two
      // parts, one got every body (a ResNet-18 gradient's code generation
      // 0.43 s against 1.15 s). Dealt largest first, the parts even out.
      std::vector<std::tuple<int64_t, size_t, llvm::Function *>> functions;
      for (llvm::Function &f : *module)
        functions.emplace_back(-int64_t(f.getInstructionCount()), functions.size(), &f);
      llvm::sort(functions);
      for (auto &[size, position, f] : functions) {
        f->removeFromParent();
        module->getFunctionList().push_back(f);
      }
      llvm::SplitModule(
          *module, count,
          [&](std::unique_ptr<llvm::Module> part) {
            llvm::raw_svector_ostream os(bitcode.emplace_back());
            llvm::WriteBitcodeToFile(*part, os);
          },
          /*PreserveLocals=*/false, /*RoundRobin=*/true);
    }
    module.reset();
    parts.resize(bitcode.size());
    forEachPart(parts, threads, [&](ModulePart &part) {
      size_t i = &part - parts.data();
      part.context = std::make_unique<llvm::LLVMContext>();
      auto parsed = llvm::parseBitcodeFile(
          llvm::MemoryBufferRef(bitcode[i].str(), "part"), *part.context);
      if (!parsed)
        part.error = llvm::toString(parsed.takeError());
      else
        part.module = std::move(*parsed);
    });
  }
  for (ModulePart &part : parts) {
    if (!part.error.empty())
      return R::error("reading a split module back failed: " + part.error);
    auto machine = makeMachine();
    if (!machine)
      return machine.status();
    part.machine = std::move(*machine);
  }
  {
    ScopedPhase phase(timing, "LLVM optimization");
    forEachPart(parts, threads, [](ModulePart &part) {
      optimizeLLVMModule(*part.module, *part.machine);
    });
  }
  {
    ScopedPhase phase(timing, "code generation");
    forEachPart(parts, threads, [](ModulePart &part) {
      llvm::raw_svector_ostream os(part.object);
      llvm::legacy::PassManager codegen;
      if (part.machine->addPassesToEmitFile(codegen, os, nullptr,
                                            llvm::CodeGenFileType::ObjectFile)) {
        part.error = "the target '" + part.machine->getTargetTriple().str() +
                     "' cannot emit object files";
        return;
      }
      codegen.run(*part.module);
    });
  }
  std::vector<llvm::SmallString<0>> objects;
  for (ModulePart &part : parts) {
    if (!part.error.empty())
      return R::error(part.error);
    objects.push_back(std::move(part.object));
  }
  return objects;
}

std::optional<llvm::ArrayRef<char>>
tessel::detail::getLargeConstantData(mlir::LLVM::GlobalOp global) {
  if (!global.getConstant())
    return std::nullopt;
  std::optional<llvm::ArrayRef<char>> bytes =
      mlir::tessel::getConstantBytes(global.getValueOrNull());
  if (!bytes || bytes->size() < 256)
    return std::nullopt;
  return bytes;
}

ScopedPhase::ScopedPhase(CompileTiming *timing, std::string name)
    : timing(timing), name(std::move(name)), start(std::chrono::steady_clock::now()) {
  if (timing && timing->onPhaseStart)
    timing->onPhaseStart(this->name);
}

ScopedPhase::~ScopedPhase() {
  if (timing)
    timing->phases.push_back(
        {name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                   .count()});
}

double CompileTiming::totalSeconds() const {
  double total = 0;
  for (const Phase &p : phases)
    total += p.seconds;
  return total;
}

std::string CompileTiming::table() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  double total = totalSeconds();
  size_t width = 5;
  for (const Phase &p : phases)
    width = std::max(width, p.name.size());
  auto padded = [&](const std::string &name) {
    return name + std::string(width - name.size(), ' ');
  };
  for (const Phase &p : phases)
    os << llvm::formatv("  {0} {1,8:f3} s {2,5:f1}%\n", padded(p.name), p.seconds,
                        total > 0 ? 100 * p.seconds / total : 0.0);
  os << llvm::formatv("  {0} {1,8:f3} s\n", padded("total"), total);
  if (kernels > 0)
    os << "  (" << kernels << " distinct kernels)\n";
  if (workspaceBytes > 0)
    os << llvm::formatv("  (buffers between kernels: one workspace of {0:f1} MiB)\n",
                        workspaceBytes / double(1 << 20));
  return text;
}

std::string tessel::listNames(const std::vector<TensorInfo> &infos) {
  if (infos.empty())
    return "none";
  std::string text;
  bool unnamed = false;
  for (auto [i, info] : llvm::enumerate(infos)) {
    text += (i == 0 ? "" : i + 1 == infos.size() ? " and " : ", ") + ("'" + info.name + "'");
    unnamed |= info.name == "arg" + std::to_string(i) ||
               info.name == "result" + std::to_string(i);
  }
  if (unnamed)
    text += " (an argument or result without a {tessel.name = \"...\"} attribute is "
            "arg<i> or result<i>)";
  return text;
}

Result<std::unique_ptr<llvm::TargetMachine>>
detail::createTargetMachine(const std::string &tripleName, const std::string &cpu,
                            const std::string &features) {
  using R = Result<std::unique_ptr<llvm::TargetMachine>>;
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
  std::string hostTriple = llvm::sys::getProcessTriple();
  llvm::Triple triple(llvm::Triple::normalize(tripleName.empty() ? hostTriple
                                                                 : tripleName));
  bool isHost = triple.str() == llvm::Triple::normalize(hostTriple);
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return R::error("unknown target triple '" + tripleName + "': " + error);

  llvm::SubtargetFeatures featureSet;
  std::string cpuName = cpu;
  if (cpuName.empty() && isHost) {
    cpuName = llvm::sys::getHostCPUName().str();
    for (const auto &[feature, enabled] : llvm::sys::getHostCPUFeatures())
      featureSet.AddFeature(feature, enabled);
  } else if (cpuName.empty()) {
    cpuName = "generic";
  }

  // Check the CPU and the features on a subtarget without either, before
  // LLVM warns about them and goes on.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpuName))
    return R::error("unknown target CPU '" + cpuName + "' for '" + triple.str() + "'");
  // Named: iterating getFeatures() of a temporary reads a destroyed vector.
  llvm::SubtargetFeatures extra(features);
  for (const std::string &f : extra.getFeatures()) {
    if (f.size() < 2 || (f[0] != '+' && f[0] != '-'))
      return R::error("target feature '" + f +
                      "' needs a sign: +NAME enables it, -NAME disables it (e.g. -avx512f)");
    llvm::StringRef name = llvm::StringRef(f).drop_front();
    if (llvm::none_of(generic->getAllProcessorFeatures(),
                      [&](const llvm::SubtargetFeatureKV &kv) { return name == kv.Key; }))
      return R::error("unknown target feature '" + name.str() + "' for '" + triple.str() +
                      "'");
    featureSet.AddFeature(f);
  }

  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, featureSet.getString(), targetOptions, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return R::error("cannot create a target machine for '" + triple.str() + "'");
  return machine;
}

/// `options` as tessel-opt's --tessel-cpu-pipeline takes them.
static std::string pipelineOptions(const mlir::tessel::CpuPipelineOptions &options) {
  std::string text;
  llvm::raw_string_ostream os(text);
  options.print(os);
  // print() writes "{entry=f threads=1 ...}".
  return llvm::StringRef(text).trim().drop_front().drop_back().trim().str();
}

/// The vector register width the register tiles are sized for.
static int64_t getVectorBits(llvm::TargetMachine &machine) {
  const llvm::Triple &triple = machine.getTargetTriple();
  if (triple.isX86())
    return machine.getMCSubtargetInfo()->checkFeatures("+avx512f") ? 512 : 256;
  return 128; // NEON and the other 128-bit SIMD targets.
}

static_assert(kDefaultMinParallelIterations == mlir::tessel::kDefaultMinParallelIterations,
              "the API's and the pipeline's default min-parallel-iterations differ");

Status detail::lowerToLLVMDialect(mlir::ModuleOp module, llvm::TargetMachine &machine,
                                  const LoweringOptions &lowering) {
  std::string what = "'" + lowering.entry + "'";
  if (lowering.threads > mlir::tessel::kMaxThreads)
    return Status::error("compiling " + what + " for " + std::to_string(lowering.threads) +
                         " threads: at most " +
                         std::to_string(mlir::tessel::kMaxThreads) + " are supported");
  if (lowering.minParallelIterations < 0)
    return Status::error("compiling " + what + ": the fewest iterations worth threads (" +
                         std::to_string(lowering.minParallelIterations) +
                         ") must not be negative");
  DiagnosticCollector diagnostics(module.getContext());
  mlir::tessel::CpuPipelineOptions options;
  options.entry = lowering.entry;
  options.cInterface = lowering.cInterface;
  options.threads = lowering.threads;
  options.minParallelIterations = lowering.minParallelIterations;
  options.vectorBits = getVectorBits(machine);
  switch (lowering.winograd) {
  case Winograd::Off:
    options.winograd = mlir::tessel::WinogradMode::Off;
    break;
  case Winograd::Auto:
    options.winograd = mlir::tessel::WinogradMode::Auto;
    break;
  case Winograd::On:
    options.winograd = mlir::tessel::WinogradMode::On;
    break;
  }
  options.profile = lowering.profile;
  // buildCpuPipeline's five stages, one pass manager each so that each is
  // timed on its own; together they run exactly the passes it adds. The IR
  // is verified once a stage, not after every pass as tessel-opt and the
  // lit tests do: that took a third of DenseNet-121's pipeline.
  for (const mlir::tessel::CpuPipelineStage &stage : mlir::tessel::getCpuPipelineStages()) {
    ScopedPhase phase(lowering.timing, stage.name);
    mlir::PassManager pm(module.getContext());
    pm.enableVerifier(false);
    stage.build(pm, options);
    if (mlir::failed(pm.run(module)))
      return Status::error("compiling " + what + " failed:\n" +
                           diagnostics.str("the lowering pipeline failed without a message"));
    if (mlir::failed(mlir::verify(module)))
      return Status::error("compiling " + what + ": the " + stage.name +
                           " stage left invalid IR (a Tessel bug):\n" +
                           diagnostics.str("no message"));
  }
  if (lowering.timing)
    for (auto fn : module.getOps<mlir::LLVM::LLVMFuncOp>()) {
      lowering.timing->kernels += fn.getName().starts_with(mlir::tessel::kKernelPrefix);
      if (auto bytes = fn->getAttrOfType<mlir::IntegerAttr>(mlir::tessel::kWorkspaceBytesAttrName);
          bytes && !fn.getName().starts_with(mlir::tessel::kKernelPrefix))
        lowering.timing->workspaceBytes =
            std::max<int64_t>(lowering.timing->workspaceBytes, bytes.getInt());
    }
  std::string dumpPath = lowering.dumpIR;
  if (const char *env = std::getenv("TESSEL_DUMP_IR"); dumpPath.empty() && env)
    dumpPath = env;
  if (!dumpPath.empty()) {
    std::error_code error;
    llvm::raw_fd_ostream os(dumpPath, error);
    if (error)
      return Status::error("cannot write the lowered IR to '" + dumpPath +
                           "': " + error.message());
    os << "// tessel-opt --tessel-cpu-pipeline=\"" << pipelineOptions(options) << "\"\n";
    module.print(os);
    os << "\n";
  }
  // The translation to LLVM IR warns of every argument or result attribute
  // outside the llvm dialect (the entry's tessel.name, read into the
  // signature before lowering), and each warning prints the whole function:
  // 4% of a ResNet-18 gradient's compile, printing its entry 105 times.
  auto llvmOnly = [](mlir::DictionaryAttr attrs) {
    llvm::SmallVector<mlir::NamedAttribute> kept;
    for (mlir::NamedAttribute a : attrs)
      if (a.getName().getValue().starts_with("llvm."))
        kept.push_back(a);
    return mlir::DictionaryAttr::get(attrs.getContext(), kept);
  };
  for (auto fn : module.getOps<mlir::LLVM::LLVMFuncOp>()) {
    auto function = llvm::cast<mlir::FunctionOpInterface>(fn.getOperation());
    for (unsigned i = 0; i < function.getNumArguments(); ++i)
      if (mlir::DictionaryAttr attrs = function.getArgAttrDict(i))
        function.setArgAttrs(i, llvmOnly(attrs));
    for (unsigned i = 0; i < function.getNumResults(); ++i)
      if (mlir::DictionaryAttr attrs = function.getResultAttrDict(i))
        function.setResultAttrs(i, llvmOnly(attrs));
  }
  return Status();
}

Result<LoadedModel>
detail::loadModelFile(const std::string &path, bool initializersAsInputs,
                      const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  mlir::DialectRegistry registry;
  mlir::tessel::registerAllDialects(registry);
  LoadedModel model;
  model.context = std::make_unique<mlir::MLIRContext>(registry);
  model.recycling = std::make_unique<mlir::tessel::ConstantRecycling>(model.context.get());
  DiagnosticCollector diagnostics(model.context.get());
  if (isOnnxPath(path)) {
    OnnxImportOptions options;
    options.initializersAsInputs = initializersAsInputs;
    options.inputShapes = inputShapes;
    auto imported = importOnnxFile(*model.context, path, options);
    if (!imported)
      return imported.status();
    model.module = std::move(*imported);
  } else {
    if (!inputShapes.empty())
      return Result<LoadedModel>::error(
          "'" + path + "': input shapes can be given for ONNX models only; a tessel .mlir "
          "function's types fix its shapes");
    model.module = mlir::parseSourceFile<mlir::ModuleOp>(path, model.context.get());
    if (!model.module)
      return Result<LoadedModel>::error(diagnostics.str("cannot read '" + path + "'"));
  }
  return model;
}

Result<std::string> detail::pickFunction(mlir::ModuleOp module, const std::string &path,
                                         const std::string &function) {
  using R = Result<std::string>;
  if (function.empty()) {
    auto functions = llvm::to_vector(module.getOps<mlir::func::FuncOp>());
    if (functions.size() != 1)
      return R::error("'" + path + "' holds " + std::to_string(functions.size()) +
                      " functions; name the one to compile");
    return functions.front().getName().str();
  }
  if (!module.lookupSymbol<mlir::func::FuncOp>(function))
    return R::error("'" + path + "' has no function named '" + function + "'");
  return function;
}
