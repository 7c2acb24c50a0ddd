//===- tessel-compile.cpp - Compile a model ahead of time ------------------===//
//
// tessel-compile MODEL -o OUT.o [--header OUT.h] [--prefix NAME]
//                [--function NAME] [--target TRIPLE] [--mcpu CPU]
//                [--mattr FEATURES] [--threads N] [--embed NAME=FILE.npy]...
//                [--archive] [--runtime-archive PATH] [--emit-tessel]
//                [--weights=embed|file] [--weights-file PATH]
//
// Writes a relocatable object exporting <prefix>_run and <prefix>_run_tensors
// and a C header declaring them (docs/aot.md); with --weights=file also the
// weights file <prefix>_load_weights reads. On any error it exits non-zero
// and leaves no output file behind.
//
//===----------------------------------------------------------------------===//

#include "tessel/Aot.h"
#include "tessel/Compiler.h"
#include "tessel/Npy.h"
#include "tools/common/ModelOptions.h"
#include "tools/common/Progress.h"
#include "tools/common/ThreadsOption.h"
#include "tools/common/Version.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace cl = llvm::cl;
using namespace tessel::tools;

static cl::opt<std::string> outputPath("o", cl::desc("Object file (or archive) to write"),
                                       cl::value_desc("file"), cl::Required, cl::cat(toolCategory));
static cl::opt<std::string> headerPath(
    "header", cl::desc("C header to write (default: the output with extension .h)"),
    cl::value_desc("file"), cl::init(""), cl::cat(toolCategory));
static cl::opt<std::string> prefix(
    "prefix", cl::desc("Prefix of the exported symbols and header macros "
                       "(default: the function's name)"),
    cl::init(""), cl::cat(toolCategory));
static cl::opt<std::string> targetTriple(
    "target", cl::desc("Target triple, e.g. aarch64-linux-gnu (default: this machine)"),
    cl::init(""), cl::cat(toolCategory));
static cl::list<std::string> embedFiles(
    "embed", cl::desc("Embed the value of input NAME, read from FILE.npy, in the object"),
    cl::value_desc("NAME=FILE.npy"), cl::cat(toolCategory));
static cl::opt<bool> archive(
    "archive", cl::desc("Write a static archive holding the model and the runtime"),
    cl::init(false), cl::cat(toolCategory));
static cl::opt<bool> emitTessel(
    "emit-tessel",
    cl::desc("Write the model's tessel IR (an ONNX model as imported) to -o instead "
             "of compiling it"),
    cl::init(false), cl::cat(toolCategory));
static cl::opt<std::string> runtimeArchive(
    "runtime-archive",
    cl::desc("The runtime archive --archive bundles (default: ../lib/libtessel_runtime.a "
             "beside this executable)"),
    cl::init(""), cl::cat(toolCategory));

static cl::opt<tessel::AotOptions::Weights> weights(
    "weights", cl::desc("Where the weights go"),
    cl::values(clEnumValN(tessel::AotOptions::Weights::Embed, "embed",
                          "into the object (the default)"),
               clEnumValN(tessel::AotOptions::Weights::File, "file",
                          "into a file the program loads with <prefix>_load_weights")),
    cl::init(tessel::AotOptions::Weights::Embed), cl::cat(toolCategory));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("The weights file of --weights=file (default: the output with extension .bin)"),
    cl::value_desc("file"), cl::init(""), cl::cat(toolCategory));

static cl::opt<int64_t> minParallelIterations(
    "min-parallel-iterations",
    cl::desc("With --threads above 1: a model whose layers iterate fewer times than "
             "this on average runs on one thread (default 1048576; 0: always threaded)"),
    cl::init(tessel::kDefaultMinParallelIterations), cl::cat(toolCategory));

static int fail(const std::string &message) {
  llvm::errs() << "tessel-compile: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  std::vector<const char *> args(argv, argv + argc);
  tessel::AotOptions options;
  std::string error;
  if (!tessel::tools::extractThreads(args, options.threads, /*allowZero=*/false,
                                     error))
    return fail(error);
  cl::HideUnrelatedOptions(toolCategory);
  tessel::tools::setVersionPrinter("tessel-compile");
  cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "Tessel ahead-of-time compiler\n\n  --threads N   threads the compiled code "
      "runs on (default 1; more needs libomp)\n");

  auto inputShapes = tessel::tools::parseInputShapes("tessel-compile");
  if (!inputShapes)
    return 1;
  if (emitTessel) {
    tessel::CompileOptions importOptions;
    importOptions.initializersAsInputs = initializersAsInputs;
    importOptions.inputShapes = *inputShapes;
    tessel::Result<std::string> ir = tessel::importToTessel(modelPath, importOptions);
    if (!ir)
      return fail(ir.message());
    std::error_code ec;
    llvm::ToolOutputFile out(outputPath, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + outputPath + "': " + ec.message());
    out.os() << *ir;
    out.keep();
    return 0;
  }

  options.outputPath = outputPath;
  options.headerPath = headerPath;
  options.prefix = prefix;
  options.minParallelIterations = minParallelIterations;
  options.winograd = winograd;
  options.triple = targetTriple;
  options.cpu = targetCpu;
  options.features = targetFeatures;
  options.archive = archive;
  options.initializersAsInputs = initializersAsInputs;
  options.inputShapes = *inputShapes;
  options.dumpIR = dumpIR;
  tessel::CompileTiming compileTiming;
  options.timing = &compileTiming;
  tessel::tools::CompileProgress progress(compileTiming, "tessel-compile");
  options.runtimeArchive = runtimeArchive;
  options.weights = weights;
  if (!weightsFile.empty() && weights != tessel::AotOptions::Weights::File)
    return fail("--weights-file goes with --weights=file");
  options.weightsPath = weightsFile;
  for (const std::string &spec : embedFiles) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail("--embed takes NAME=FILE.npy, got '" + spec + "'");
    if (options.embed.count(spec.substr(0, eq)))
      return fail("--embed names input '" + spec.substr(0, eq) + "' twice");
    tessel::Result<tessel::Tensor> tensor = tessel::readNpy(spec.substr(eq + 1));
    if (!tensor)
      return fail(tensor.message());
    options.embed[spec.substr(0, eq)] = *tensor;
  }
  tessel::Status compiled = tessel::compileFileToObject(modelPath, options, functionName);
  progress.clear();
  if (!compiled)
    return fail(compiled.message());
  if (timing)
    llvm::errs() << "compile time of '" << modelPath << "':\n" << compileTiming.table();
  return 0;
}
