//===- ModelOptions.h - Command-line options shared by the tools -*- C++ -*-===//
//
// The model file and how it is compiled, for tessel-run and tessel-compile.
// Each tool includes this header from its one source file.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TOOLS_COMMON_MODELOPTIONS_H
#define TESSEL_TOOLS_COMMON_MODELOPTIONS_H

#include "tessel/Compiler.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tessel::tools {

/// The tools' own options; `--help` lists only these (LLVM registers
/// hundreds of its own).
static llvm::cl::OptionCategory toolCategory("Options");

static llvm::cl::opt<std::string>
    modelPath(llvm::cl::Positional,
              llvm::cl::desc("<model.mlir | model.onnx | model.onnxtxt>"),
              llvm::cl::Required, llvm::cl::cat(toolCategory));
static llvm::cl::opt<std::string> functionName(
    "function",
    llvm::cl::desc("Function of a .mlir file to compile (default: the file's only one)"),
    llvm::cl::init(""), llvm::cl::cat(toolCategory));
static llvm::cl::opt<std::string> targetCpu(
    "mcpu",
    llvm::cl::desc("Target CPU, e.g. x86-64-v3 (default: this machine's for the host "
                   "triple, generic otherwise)"),
    llvm::cl::init(""), llvm::cl::cat(toolCategory));
static llvm::cl::opt<std::string>
    targetFeatures("mattr", llvm::cl::desc("Extra target features, e.g. -avx512f"),
                   llvm::cl::init(""), llvm::cl::cat(toolCategory));
static llvm::cl::opt<bool> initializersAsInputs(
    "initializers-as-inputs",
    llvm::cl::desc("ONNX models: take the initializers as inputs instead of compiling "
                   "them in as constants"),
    llvm::cl::init(false), llvm::cl::cat(toolCategory));
static llvm::cl::opt<tessel::Winograd> winograd(
    "winograd",
    llvm::cl::desc("3x3 stride-1 convolutions with constant filters by Winograd's "
                   "algorithm (default auto)"),
    llvm::cl::values(
        clEnumValN(tessel::Winograd::Off, "off", "never"),
        clEnumValN(tessel::Winograd::Auto, "auto", "where the cost model expects a gain"),
        clEnumValN(tessel::Winograd::On, "on", "wherever it applies")),
    llvm::cl::init(tessel::Winograd::Auto), llvm::cl::cat(toolCategory));
static llvm::cl::list<std::string> inputShapeTexts(
    "input-shape",
    llvm::cl::desc("ONNX models: the shape of input NAME, fixing its symbolic dims "
                   "(repeatable)"),
    llvm::cl::value_desc("NAME=DxDx..."), llvm::cl::cat(toolCategory));

/// The --input-shape options as a map; nullopt, after a message on stderr
/// naming the tool, when one is malformed.
inline std::optional<std::map<std::string, std::vector<int64_t>>>
parseInputShapes(const char *tool) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const std::string &text : inputShapeTexts) {
    auto [name, dims] = llvm::StringRef(text).split('=');
    std::vector<int64_t> shape;
    llvm::SmallVector<llvm::StringRef> parts;
    dims.split(parts, 'x');
    bool ok = !name.empty() && !dims.empty();
    for (llvm::StringRef part : parts) {
      int64_t d = 0;
      ok &= !part.getAsInteger(10, d) && d > 0 && d < (int64_t{1} << 47);
      shape.push_back(d);
    }
    if (!ok || !shapes.emplace(name.str(), shape).second) {
      llvm::errs() << tool << ": --input-shape '" << text
                   << "' is not NAME=DxDx... with positive dims, or names an input twice\n";
      return std::nullopt;
    }
  }
  return shapes;
}

static llvm::cl::opt<bool> timing(
    "timing",
    llvm::cl::desc("Print where the compile time went, phase by phase, on stderr"),
    llvm::cl::init(false), llvm::cl::cat(toolCategory));
static llvm::cl::opt<std::string> dumpIR(
    "dump-ir",
    llvm::cl::desc("Write the module as the pipeline leaves it (LLVM dialect) to FILE, "
                   "headed by the tessel-opt options that reproduce it"),
    llvm::cl::value_desc("FILE"), llvm::cl::init(""), llvm::cl::cat(toolCategory));

} // namespace tessel::tools

#endif // TESSEL_TOOLS_COMMON_MODELOPTIONS_H
