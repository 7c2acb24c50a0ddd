//===- Aot.h - Compile a graph to an object file and a C header -*- C++ -*-===//
//
// Ahead-of-time compilation: the graph becomes a relocatable object file
// exporting a C entry point, plus a generated C header declaring it. The
// program that links them needs only the Tessel runtime (libtessel_runtime,
// no MLIR or LLVM) and, for more than one thread, the OpenMP runtime.
// docs/aot.md describes the header and the runtime ABI.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_AOT_H
#define TESSEL_AOT_H

#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <map>
#include <string>

namespace tessel {

struct AotOptions {
  /// Where the object file goes (required). With `archive`, a static archive
  /// holding the model object and the runtime's objects goes there instead.
  std::string outputPath;
  /// Where the generated C header goes; empty: outputPath with extension .h.
  std::string headerPath;
  /// Prefix of the exported symbols (`<prefix>_run`, ...) and of the
  /// header's macros; several models can live in one program under distinct
  /// prefixes. It must be a C identifier (anything else is an error); empty:
  /// the function's name, with other characters replaced by '_'.
  std::string prefix;
  /// LLVM target triple, e.g. "aarch64-linux-gnu"; empty: this machine.
  std::string triple;
  /// Target CPU ("x86-64-v3", "skylake-avx512", ...); empty: this machine's
  /// CPU for the host triple, "generic" for other triples.
  std::string cpu;
  /// Extra target features, e.g. "-avx512f".
  std::string features;
  /// Threads the compiled code runs on. 1 (the default) needs no OpenMP
  /// runtime; more needs libomp at link time. At most 256.
  unsigned threads = 1;
  /// As CompileOptions::minParallelIterations.
  int64_t minParallelIterations = kDefaultMinParallelIterations;
  /// As CompileOptions::winograd.
  Winograd winograd = Winograd::Auto;
  /// Bundle the runtime: write a static archive instead of an object.
  bool archive = false;
  /// The runtime archive bundled with `archive`; empty: libtessel_runtime.a
  /// in ../lib beside the running executable.
  std::string runtimeArchive;
  /// Where the weights (the constants of 256 bytes or more) go: into the
  /// object as one 64-byte-aligned blob (Embed), or into a file of their own
  /// (File) that the program loads at run time with <prefix>_load_weights()
  /// before the first run: smaller objects, weights replaced without
  /// relinking.
  enum class Weights { Embed, File };
  Weights weights = Weights::Embed;
  /// The weights file of Weights::File; empty: outputPath with extension
  /// .bin.
  std::string weightsPath;
  /// Function inputs bound to these values and embedded in the object
  /// (weights read from .npy files); the others stay run-time arguments.
  std::map<std::string, Tensor> embed;
  /// ONNX models: initializers become run-time arguments (after the graph's
  /// inputs) instead of being embedded in the object.
  bool initializersAsInputs = false;
  /// ONNX models: shapes fixing the graph inputs' symbolic dims, as
  /// CompileOptions::inputShapes.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Write the module as the pipeline leaves it to this file, as
  /// CompileOptions::dumpIR does.
  std::string dumpIR;
  /// When set, filled with the phases of this compilation, as
  /// CompileOptions::timing.
  CompileTiming *timing = nullptr;
};

/// Compiles `graph` (its outputs must be declared) to an object file and a
/// header. On error no output file is left behind.
Status compileToObject(const Graph &graph, const AotOptions &options);
/// Compiles a function of a tessel .mlir file: the one named `function`, or
/// the file's only function when `function` is empty.
Status compileFileToObject(const std::string &path, const AotOptions &options,
                           const std::string &function = "");

} // namespace tessel

#endif // TESSEL_AOT_H
