//===- Float64Function.h - Run a graph in double precision ------*- C++ -*-===//
//
// The finite differences of the gradient checks need the forward graph in
// float64: the public API runs float32 graphs only, so this helper takes a
// graph's IR with f32 replaced by f64, lowers it with the same pipeline as
// the JIT and calls it through MLIR's ExecutionEngine directly.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TEST_UNIT_FLOAT64FUNCTION_H
#define TESSEL_TEST_UNIT_FLOAT64FUNCTION_H

#include "compiler/API/Lowering.h"
#include "compiler/Passes.h"
#include "tessel/Runtime.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

/// A compiled function of float64 tensors with one result.
class Float64Function {
public:
  /// Compiles function `name` of `f32Text` (a module of tessel ops on f32)
  /// after switching every f32 to f64. Null on failure (`error` says why).
  static std::unique_ptr<Float64Function> compile(std::string f32Text,
                                                  const std::string &name,
                                                  std::string &error) {
    for (size_t at = f32Text.find("f32"); at != std::string::npos;
         at = f32Text.find("f32", at))
      f32Text.replace(at, 3, "f64");
    llvm::SmallString<64> path;
    int fd;
    if (llvm::sys::fs::createTemporaryFile("tessel-f64", "mlir", fd, path)) {
      error = "no temporary file";
      return nullptr;
    }
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      os << f32Text;
    }
    auto model = tessel::detail::loadModelFile(path.str().str());
    llvm::sys::fs::remove(path);
    if (!model) {
      error = model.status().message();
      return nullptr;
    }
    auto fn = model->module->lookupSymbol<mlir::func::FuncOp>(name);
    auto result = std::unique_ptr<Float64Function>(new Float64Function);
    for (mlir::Type t : fn.getArgumentTypes())
      result->shapes.emplace_back(llvm::cast<mlir::RankedTensorType>(t).getShape().vec());
    auto machine = tessel::detail::createTargetMachine("", "", "");
    if (!machine) {
      error = machine.status().message();
      return nullptr;
    }
    tessel::detail::LoweringOptions lowering;
    lowering.entry = name;
    lowering.cInterface = true;
    if (auto s = tessel::detail::lowerToLLVMDialect(*model->module, **machine, lowering); !s) {
      error = s.message();
      return nullptr;
    }
    mlir::ExecutionEngineOptions options;
    auto engine = mlir::ExecutionEngine::create(*model->module, options);
    if (!engine) {
      error = llvm::toString(engine.takeError());
      return nullptr;
    }
    // Temporary buffers come from the runtime's allocator, as in the JIT.
    (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
      llvm::orc::SymbolMap symbols;
      symbols[interner("_mlir_memref_to_llvm_aligned_alloc")] = {
          llvm::orc::ExecutorAddr::fromPtr(&tessel_runtime_aligned_alloc),
          llvm::JITSymbolFlags::Exported};
      symbols[interner("_mlir_memref_to_llvm_free")] = {
          llvm::orc::ExecutorAddr::fromPtr(&tessel_runtime_free),
          llvm::JITSymbolFlags::Exported};
      return symbols;
    });
    result->model = std::move(*model);
    result->engine = std::move(*engine);
    result->entry = "_mlir_ciface_" + mlir::tessel::getEntrySymbol(name);
    return result;
  }

  /// Runs on row-major inputs; returns the scalar result.
  double run(std::vector<std::vector<double>> &inputs) {
    double output = 0;
    return runInto(inputs, {{&output, {}}}) ? output : std::nan("");
  }

  /// Runs on row-major inputs; returns the results, of `resultShapes` (empty
  /// on failure).
  std::vector<std::vector<double>>
  runTensors(std::vector<std::vector<double>> &inputs,
             const std::vector<std::vector<int64_t>> &resultShapes) {
    std::vector<std::vector<double>> outputs;
    std::vector<std::pair<double *, std::vector<int64_t>>> results;
    for (const auto &shape : resultShapes) {
      int64_t count = 1;
      for (int64_t d : shape)
        count *= d;
      outputs.emplace_back(count);
    }
    for (size_t i = 0; i < outputs.size(); ++i)
      results.emplace_back(outputs[i].data(), resultShapes[i]);
    if (!runInto(inputs, results))
      return {};
    return outputs;
  }

private:
  bool runInto(std::vector<std::vector<double>> &inputs,
               const std::vector<std::pair<double *, std::vector<int64_t>>> &results) {
    std::vector<std::vector<int64_t>> descriptors;
    auto describe = [&](double *data, const std::vector<int64_t> &shape) {
      std::vector<int64_t> d{reinterpret_cast<intptr_t>(data),
                             reinterpret_cast<intptr_t>(data), 0};
      d.insert(d.end(), shape.begin(), shape.end());
      std::vector<int64_t> strides(shape.size(), 1);
      for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
        strides[i] = strides[i + 1] * shape[i + 1];
      d.insert(d.end(), strides.begin(), strides.end());
      descriptors.push_back(d);
    };
    for (size_t i = 0; i < inputs.size(); ++i)
      describe(inputs[i].data(), shapes[i]);
    for (const auto &[data, shape] : results)
      describe(data, shape);
    std::vector<void *> pointers, packed;
    for (auto &d : descriptors)
      pointers.push_back(d.data());
    for (void *&p : pointers)
      packed.push_back(&p);
    if (llvm::Error e = engine->invokePacked(entry, packed)) {
      llvm::consumeError(std::move(e));
      return false;
    }
    return true;
  }

  tessel::detail::LoadedModel model;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::string entry;
  std::vector<std::vector<int64_t>> shapes;
};

#endif // TESSEL_TEST_UNIT_FLOAT64FUNCTION_H
