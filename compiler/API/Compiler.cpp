//===- Compiler.cpp - Compile with the CPU pipeline, run with the JIT -----===//

#include "tessel/Compiler.h"
#include "tessel/Runtime.h"

#include "compiler/API/GraphImpl.h"
#include "compiler/InitAll.h"
#include "compiler/Pipelines/CpuPipeline.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

using namespace tessel;

struct Executable::Impl {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::string entry;
  std::vector<TensorInfo> inputs, outputs;
  double flops = 0;
};

namespace {

/// Collects the error diagnostics emitted while it lives.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext *context)
      : handler(context, [this](mlir::Diagnostic &diag) {
          if (diag.getSeverity() == mlir::DiagnosticSeverity::Error) {
            std::string text;
            llvm::raw_string_ostream os(text);
            os << diag.getLocation() << ": " << diag;
            messages.push_back(text);
          }
          return mlir::success();
        }) {}

  std::string str(const std::string &fallback) const {
    if (messages.empty())
      return fallback;
    std::string all;
    for (const std::string &m : messages)
      all += (all.empty() ? "" : "\n") + m;
    return all;
  }

private:
  std::vector<std::string> messages;
  mlir::ScopedDiagnosticHandler handler;
};

std::vector<int64_t> toVector(llvm::ArrayRef<int64_t> shape) {
  return std::vector<int64_t>(shape.begin(), shape.end());
}

/// Checks that every argument and result of `fn` is a static f32 tensor and
/// returns their infos.
Result<std::pair<std::vector<TensorInfo>, std::vector<TensorInfo>>>
getSignature(mlir::func::FuncOp fn, const std::vector<std::string> &inputNames,
             const std::vector<std::string> &outputNames) {
  std::vector<TensorInfo> inputs, outputs;
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
      auto attr = isInput ? fn.getArgAttrOfType<mlir::StringAttr>(i, "tessel.name")
                          : fn.getResultAttrOfType<mlir::StringAttr>(i, "tessel.name");
      std::string name = i < names.size() ? names[i]
                         : attr           ? attr.str()
                                          : (isInput ? "arg" : "result") + std::to_string(i);
      infos.push_back({name, toVector(tensor.getShape())});
    }
    return Status();
  };
  if (Status s = describe(true, inputNames, inputs); !s)
    return s;
  if (Status s = describe(false, outputNames, outputs); !s)
    return s;
  return std::make_pair(inputs, outputs);
}

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// 2 * multiply-adds of the convolutions and matrix products of `fn`.
double countFlops(mlir::func::FuncOp fn) {
  double flops = 0;
  auto elements = [](mlir::Value v) {
    return static_cast<double>(
        llvm::cast<mlir::RankedTensorType>(v.getType()).getNumElements());
  };
  fn.walk([&](mlir::Operation *op) {
    if (auto conv = llvm::dyn_cast<mlir::tessel::ConvOp>(op)) {
      // Each output element sums (C_in / groups) * prod(kernel) products:
      // the filter's elements divided by its output channels.
      auto filter = llvm::cast<mlir::RankedTensorType>(conv.getFilter().getType());
      auto layout = mlir::tessel::getFilterFamily(conv.getFilterLayout());
      int64_t outChannels = layout == mlir::tessel::FilterFamily::OutputFirst
                                ? filter.getShape().front()
                                : filter.getShape().back();
      flops += 2 * elements(conv.getResult()) * filter.getNumElements() / outChannels;
    } else if (auto convT = llvm::dyn_cast<mlir::tessel::ConvTransposeOp>(op)) {
      // Every input element meets (C_out / groups) * prod(kernel) weights.
      auto filter = llvm::cast<mlir::RankedTensorType>(convT.getFilter().getType());
      auto layout = mlir::tessel::getFilterFamily(convT.getFilterLayout());
      int64_t inChannels = layout == mlir::tessel::FilterFamily::InputFirst
                               ? filter.getShape().front()
                               : filter.getShape()[filter.getRank() - 2];
      flops += 2 * elements(convT.getInput()) * filter.getNumElements() / inChannels;
    } else if (auto linear = llvm::dyn_cast<mlir::tessel::LinearOp>(op)) {
      auto weight = llvm::cast<mlir::RankedTensorType>(linear.getWeight().getType());
      flops += 2 * elements(linear.getResult()) * weight.getShape().back();
    } else if (auto matmul = llvm::dyn_cast<mlir::tessel::MatmulOp>(op)) {
      auto lhs = llvm::cast<mlir::RankedTensorType>(matmul.getLhs().getType());
      flops += 2 * elements(matmul.getResult()) * lhs.getShape().back();
    }
  });
  return flops;
}

/// Compiles function `name` of `module` (which it consumes) to machine code.
Result<Executable> compileModule(mlir::ModuleOp module, const std::string &name,
                                 const std::vector<std::string> &inputNames,
                                 const std::vector<std::string> &outputNames,
                                 const CompileOptions &options) {
  mlir::MLIRContext *context = module.getContext();
  DiagnosticCollector diagnostics(context);
  auto fn = module.lookupSymbol<mlir::func::FuncOp>(name);
  if (!fn)
    return Result<Executable>::error("no function named '" + name + "' to compile");
  auto signature = getSignature(fn, inputNames, outputNames);
  if (!signature)
    return signature.status();
  double flops = countFlops(fn);
  fn->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(context));

  // The target first: its vector width sizes the register tiles.
  initializeNativeTarget();
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return Result<Executable>::error("cannot target this CPU: " +
                                     llvm::toString(machineBuilder.takeError()));
  if (!options.cpu.empty()) {
    machineBuilder->setCPU(options.cpu);
    machineBuilder->getFeatures() = llvm::SubtargetFeatures();
  }
  if (!options.features.empty())
    machineBuilder->addFeatures(llvm::SubtargetFeatures(options.features).getFeatures());
  machineBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = machineBuilder->createTargetMachine();
  if (!machine)
    return Result<Executable>::error("cannot target CPU '" + options.cpu +
                                     "': " + llvm::toString(machine.takeError()));
  if (!options.cpu.empty() &&
      !(*machine)->getMCSubtargetInfo()->isCPUStringValid(options.cpu))
    return Result<Executable>::error("unknown target CPU '" + options.cpu + "'");

  mlir::tessel::CpuPipelineOptions pipelineOptions;
  unsigned threads = options.threads ? options.threads
                                     : std::max(1u, std::thread::hardware_concurrency());
  pipelineOptions.threads = threads;
  pipelineOptions.vectorBits =
      (*machine)->getMCSubtargetInfo()->checkFeatures("+avx512f") ? 512 : 256;
  mlir::PassManager pm(context);
  mlir::tessel::buildCpuPipeline(pm, pipelineOptions);
  if (mlir::failed(pm.run(module)))
    return Result<Executable>::error(
        "compiling '" + name + "' failed:\n" +
        diagnostics.str("the lowering pipeline failed without a message"));
  mlir::ExecutionEngineOptions engineOptions;
  // ExecutionEngineOptions holds a function_ref: keep the transformer alive.
  std::function<llvm::Error(llvm::Module *)> optimize =
      mlir::makeOptimizingTransformer(3, 0, machine->get());
  engineOptions.transformer = optimize;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = mlir::ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return Result<Executable>::error("JIT compilation of '" + name +
                                     "' failed: " + llvm::toString(engine.takeError()));

  // Temporary buffers come from the runtime's caching allocator.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](llvm::StringRef name, auto *function) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("_mlir_memref_to_llvm_alloc", &tessel_runtime_alloc);
    add("_mlir_memref_to_llvm_free", &tessel_runtime_free);
    return symbols;
  });

  auto impl = std::make_shared<Executable::Impl>();
  impl->engine = std::move(*engine);
  impl->entry = "_mlir_ciface_" + name;
  impl->inputs = signature->first;
  impl->outputs = signature->second;
  impl->flops = flops;
  return Executable(std::move(impl));
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

std::string cacheKey(mlir::ModuleOp module, const std::string &name,
                     const std::vector<std::string> &inputNames,
                     const std::vector<std::string> &outputNames,
                     const CompileOptions &options) {
  std::string key;
  llvm::raw_string_ostream os(key);
  module.print(os, mlir::OpPrintingFlags().printGenericOpForm());
  os << "\nfunction=" << name << " threads=" << options.threads
     << " cpu=" << options.cpu << " features=" << options.features;
  for (const std::string &n : inputNames)
    os << "\ninput " << n;
  for (const std::string &n : outputNames)
    os << "\noutput " << n;
  return key;
}

Result<Executable> compileCached(mlir::ModuleOp module, const std::string &name,
                                 const std::vector<std::string> &inputNames,
                                 const std::vector<std::string> &outputNames,
                                 const CompileOptions &options) {
  std::string key = cacheKey(module, name, inputNames, outputNames, options);
  Cache &cache = getCache();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.entries.find(key);
    if (it != cache.entries.end())
      return it->second;
  }
  Result<Executable> compiled =
      compileModule(module, name, inputNames, outputNames, options);
  if (compiled) {
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.entries.emplace(key, *compiled);
  }
  return compiled;
}

} // namespace

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

Result<Executable> tessel::compileFile(const std::string &path,
                                       const CompileOptions &options,
                                       const std::string &function) {
  mlir::DialectRegistry registry;
  mlir::tessel::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(&context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
  if (!module)
    return Result<Executable>::error(diagnostics.str("cannot read '" + path + "'"));
  std::string name = function;
  if (name.empty()) {
    auto functions = llvm::to_vector(module->getOps<mlir::func::FuncOp>());
    if (functions.size() != 1)
      return Result<Executable>::error(
          "'" + path + "' holds " + std::to_string(functions.size()) +
          " functions; name the one to compile");
    name = functions.front().getName().str();
  }
  return compileCached(*module, name, {}, {}, options);
}

//===----------------------------------------------------------------------===//
// Executable
//===----------------------------------------------------------------------===//

const std::vector<TensorInfo> &Executable::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo> &Executable::outputs() const { return impl_->outputs; }
double Executable::flops() const { return impl_->flops; }

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
  using R = Result<std::vector<Tensor>>;
  if (inputs.size() != impl_->inputs.size())
    return R::error(llvm::formatv("expected {0} inputs, got {1}",
                                  impl_->inputs.size(), inputs.size())
                        .str());
  std::vector<Tensor> args;
  for (auto [i, tensor] : llvm::enumerate(inputs)) {
    const TensorInfo &info = impl_->inputs[i];
    if (tensor.empty())
      return R::error("input '" + info.name + "' is an empty tensor");
    if (tensor.shape() != info.shape)
      return R::error("input '" + info.name + "' has shape " + tensor.shapeString() +
                      ", the compiled graph expects " +
                      Tensor::borrow(nullptr, info.shape).shapeString());
    // The compiled code reads row-major memory; copy strided views.
    args.push_back(tensor.isContiguous() ? tensor : tensor.clone());
  }
  std::vector<Tensor> outputs;
  for (const TensorInfo &info : impl_->outputs)
    outputs.push_back(Tensor::zeros(info.shape));

  std::vector<std::vector<int64_t>> descriptors;
  for (Tensor &t : args)
    descriptors.push_back(makeDescriptor(t));
  for (Tensor &t : outputs)
    descriptors.push_back(makeDescriptor(t));
  std::vector<void *> pointers, packed;
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  for (void *&p : pointers)
    packed.push_back(&p);
  if (llvm::Error error = impl_->engine->invokePacked(impl_->entry, packed))
    return R::error("running the compiled graph failed: " +
                    llvm::toString(std::move(error)));
  return outputs;
}

Result<std::map<std::string, Tensor>>
Executable::run(const std::map<std::string, Tensor> &inputs) const {
  using R = Result<std::map<std::string, Tensor>>;
  std::vector<Tensor> ordered;
  for (const TensorInfo &info : impl_->inputs) {
    auto it = inputs.find(info.name);
    if (it == inputs.end())
      return R::error("missing input '" + info.name + "'");
    ordered.push_back(it->second);
  }
  if (inputs.size() != impl_->inputs.size())
    for (const auto &entry : inputs)
      if (llvm::none_of(impl_->inputs,
                        [&](const TensorInfo &i) { return i.name == entry.first; }))
        return R::error("no input named '" + entry.first + "'");
  Result<std::vector<Tensor>> results = run(ordered);
  if (!results)
    return results.status();
  std::map<std::string, Tensor> named;
  for (auto [info, tensor] : llvm::zip(impl_->outputs, *results))
    named.emplace(info.name, tensor);
  return named;
}
