//===- tessel-run.cpp - JIT-compile a model and run it --------------------===//
//
// tessel-run MODEL [--input NAME=FILE.npy]... [--input-dir DIR]
//            [--random-inputs [--seed N]] [--output-dir DIR] [--wrt NAME[,NAME...]] [--vjp OUTPUT=FILE.npy]...
//            [--jvp NAME=TANGENT.npy]... [--hvp NAME=V.npy]...
//            [--bench N] [--threads N] [--function NAME] [--mcpu CPU]
//            [--mattr FEATURES] [--dump-ir FILE] [--timing]
//
// Compiles MODEL (a tessel .mlir file or an ONNX model), reads its inputs
// (--input, --input-dir; --random-inputs fills those not given with seeded
// random values in [-1, 1), and says so on stderr), runs it and writes each
// output as DIR/<output-name>.npy. With --wrt it also writes the
// vector-Jacobian product DIR/grad_<name>.npy for each named input or ONNX
// initializer: the gradient of sum over outputs of <cotangent, output>, each
// output's cotangent read with --vjp or ones. With --jvp it writes the
// Jacobian-vector product DIR/jvp_<output>.npy of every output along the
// given tangents; --hvp with --wrt writes DIR/hvp_<name>.npy, the Hessian
// of the same sum times the given vector. --bench N also prints the
// median latency of N runs and the GFLOP/s of the convolutions and matrix
// products.
//
//===----------------------------------------------------------------------===//

#include "tessel/Compiler.h"
#include "tessel/Npy.h"
#include "tessel/Training.h"
#include "tools/common/ModelOptions.h"
#include "tools/common/Progress.h"
#include "tools/common/ThreadsOption.h"
#include "tools/common/Version.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <map>
#include <random>

namespace cl = llvm::cl;
using namespace tessel::tools;

static cl::list<std::string> inputFiles("input",
                                        cl::desc("An input as NAME=FILE.npy"),
                                        cl::value_desc("NAME=FILE.npy"), cl::cat(toolCategory));
static cl::opt<std::string> inputDir(
    "input-dir", cl::desc("Read each input NAME not given by --input from DIR/NAME.npy"),
    cl::value_desc("DIR"), cl::init(""), cl::cat(toolCategory));
static cl::opt<bool> randomInputs(
    "random-inputs",
    cl::desc("Fill the inputs given neither by --input nor by --input-dir with "
             "seeded random values in [-1, 1)"),
    cl::init(false), cl::cat(toolCategory));
static cl::opt<unsigned> seed("seed", cl::desc("Seed of --random-inputs"),
                              cl::init(0), cl::cat(toolCategory));
static cl::opt<std::string> outputDir("output-dir",
                                      cl::desc("Where to write <output>.npy"),
                                      cl::init("."), cl::cat(toolCategory));
static cl::list<std::string>
    wrtNames("wrt",
             cl::desc("Also write grad_<NAME>.npy, the vector-Jacobian product with "
                      "respect to these inputs or ONNX initializers"),
             cl::value_desc("NAME[,NAME...]"), cl::CommaSeparated, cl::cat(toolCategory));
static cl::list<std::string>
    vjpFiles("vjp",
             cl::desc("The cotangent of an output for --wrt (default: ones)"),
             cl::value_desc("OUTPUT=FILE.npy"), cl::cat(toolCategory));
static cl::list<std::string>
    jvpFiles("jvp",
             cl::desc("Give an input or ONNX initializer a tangent and also write "
                      "jvp_<output>.npy, the Jacobian-vector product of every output "
                      "(values not named have tangent zero)"),
             cl::value_desc("NAME=TANGENT.npy"), cl::cat(toolCategory));
static cl::list<std::string>
    hvpFiles("hvp",
             cl::desc("With --wrt: the vector v for one of the --wrt values (zero for "
                      "the others); also writes hvp_<name>.npy, the Hessian of "
                      "sum <cotangent, output> times v"),
             cl::value_desc("NAME=V.npy"), cl::cat(toolCategory));
static cl::opt<unsigned> benchRuns("bench",
                                   cl::desc("Time N runs and print the median"),
                                   cl::init(0), cl::cat(toolCategory));

static cl::opt<unsigned> compileThreads(
    "compile-threads",
    cl::desc("Threads LLVM compiles the model's kernels on (default 0: every core)"),
    cl::init(0), cl::cat(toolCategory));

static cl::opt<int64_t> minParallelIterations(
    "min-parallel-iterations",
    cl::desc("A model whose layers iterate fewer times than this on average runs "
             "on one thread (default 1048576; 0: always use --threads)"),
    cl::init(tessel::kDefaultMinParallelIterations), cl::cat(toolCategory));

static cl::opt<std::string> cacheDir(
    "cache-dir",
    cl::desc("Keep compiled models here and reuse them (default: $TESSEL_CACHE_DIR, "
             "else ~/.cache/tessel)"),
    cl::value_desc("DIR"), cl::init(""), cl::cat(toolCategory));
static cl::opt<bool> noCache(
    "no-cache",
    cl::desc("Compile without the disk cache (also when TESSEL_NO_CACHE is set and "
             "--cache-dir is not given)"),
    cl::init(false), cl::cat(toolCategory));

/// The disk cache directory of this run; empty when caching is off.
static std::string chooseCacheDir() {
  if (noCache)
    return "";
  if (!cacheDir.empty())
    return cacheDir;
  if (std::getenv("TESSEL_NO_CACHE"))
    return "";
  if (const char *env = std::getenv("TESSEL_CACHE_DIR"); env && *env)
    return env;
  llvm::SmallString<256> dir;
  if (!llvm::sys::path::cache_directory(dir))
    return "";
  llvm::sys::path::append(dir, "tessel");
  return dir.str().str();
}

static cl::opt<bool> profile(
    "profile",
    cl::desc("Time each kernel call and print a table of where the run time went "
             "(over the --bench runs, else the one run)"),
    cl::init(false), cl::cat(toolCategory));

static int fail(const std::string &message) {
  llvm::errs() << "tessel-run: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  std::vector<const char *> args(argv, argv + argc);
  unsigned threads = 0;
  std::string error;
  if (!tessel::tools::extractThreads(args, threads, /*allowZero=*/true, error))
    return fail(error);
  cl::HideUnrelatedOptions(toolCategory);
  tessel::tools::setVersionPrinter("tessel-run");
  cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "Tessel JIT runner\n\n  --threads N   threads to run on (default 0: every "
      "core)\n");

  tessel::CompileOptions options;
  options.threads = threads;
  options.compileThreads = compileThreads;
  options.minParallelIterations = minParallelIterations;
  options.winograd = winograd;
  options.cacheDir = chooseCacheDir();
  options.profile = profile;
  options.cpu = targetCpu;
  options.features = targetFeatures;
  options.initializersAsInputs = initializersAsInputs;
  auto inputShapes = tessel::tools::parseInputShapes("tessel-run");
  if (!inputShapes)
    return 1;
  options.inputShapes = *inputShapes;
  options.dumpIR = dumpIR;
  tessel::CompileTiming compileTiming;
  options.timing = &compileTiming;
  tessel::tools::CompileProgress progress(compileTiming, "tessel-run");
  if (!vjpFiles.empty() && wrtNames.empty())
    return fail("--vjp needs --wrt: name the values to differentiate with respect to");
  if (!hvpFiles.empty() && wrtNames.empty())
    return fail("--hvp needs --wrt: name the values whose Hessian to multiply");
  if (!jvpFiles.empty() && !wrtNames.empty())
    return fail("--jvp and --wrt do not combine; for Hessian-vector products give "
                "--wrt with --hvp");
  std::vector<std::string> wrt(wrtNames.begin(), wrtNames.end());

  // Tangents (--jvp, --hvp) are the inputs tangent_<name>.
  std::map<std::string, std::string> tangentFiles;
  std::vector<std::string> jvpNames;
  for (const auto *list : {&jvpFiles, &hvpFiles})
    for (const std::string &spec : *list) {
      const char *flag = list == &jvpFiles ? "--jvp" : "--hvp";
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail(std::string(flag) + " takes NAME=FILE.npy, got '" + spec + "'");
      std::string name = spec.substr(0, eq);
      if (tangentFiles.count("tangent_" + name))
        return fail(std::string(flag) + ": '" + name + "' is given twice");
      if (list == &hvpFiles && std::find(wrt.begin(), wrt.end(), name) == wrt.end())
        return fail("--hvp: '" + name + "' is not one of the --wrt values");
      tangentFiles["tangent_" + name] = spec.substr(eq + 1);
      if (list == &jvpFiles)
        jvpNames.push_back(name);
    }

  tessel::Result<tessel::Executable> exe =
      !jvpNames.empty()  ? tessel::compileFileJvp(modelPath, jvpNames, options, functionName)
      : !hvpFiles.empty() ? tessel::compileFileHvp(modelPath, wrt, options, functionName)
      : !wrt.empty()      ? tessel::compileFileGradient(modelPath, wrt, options, functionName)
                          : tessel::compileFile(modelPath, options, functionName);
  progress.clear();
  if (!exe)
    return fail(exe.message());
  if (timing)
    llvm::errs() << "compile time of '" << modelPath << "':\n" << compileTiming.table();

  std::map<std::string, tessel::Tensor> given;
  for (const auto &[input, file] : tangentFiles) {
    tessel::Result<tessel::Tensor> tensor = tessel::readNpy(file);
    if (!tensor)
      return fail(tensor.message());
    given[input] = *tensor;
  }
  // The --wrt values without an --hvp vector move by zero.
  if (!hvpFiles.empty())
    for (const tessel::TensorInfo &info : exe->inputs())
      if (llvm::StringRef(info.name).starts_with("tangent_") && !given.count(info.name)) {
        tessel::Tensor zeros = tessel::Tensor::zeros(info.shape);
        if (zeros.empty())
          return fail("out of memory for the tangent '" + info.name + "'");
        given[info.name] = zeros;
      }

  // Cotangents are the inputs seed_<output>: from --vjp, else ones.
  for (const std::string &spec : vjpFiles) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos)
      return fail("--vjp takes OUTPUT=FILE.npy, got '" + spec + "'");
    std::string seed = "seed_" + spec.substr(0, eq);
    if (std::none_of(exe->inputs().begin(), exe->inputs().end(),
                     [&](const tessel::TensorInfo &i) { return i.name == seed; }))
      return fail("--vjp: the model has no output named '" + spec.substr(0, eq) +
                  "'; its outputs are " + tessel::listNames(exe->outputs()));
    tessel::Result<tessel::Tensor> tensor = tessel::readNpy(spec.substr(eq + 1));
    if (!tensor)
      return fail(tensor.message());
    given[seed] = *tensor;
  }
  if (!wrt.empty())
    for (const tessel::TensorInfo &info : exe->inputs())
      if (llvm::StringRef(info.name).starts_with("seed_") && !given.count(info.name)) {
        tessel::Tensor ones = tessel::Tensor::zeros(info.shape);
        if (ones.empty())
          return fail("out of memory for the cotangent '" + info.name + "'");
        std::fill(ones.data(), ones.data() + ones.numElements(), 1.f);
        given[info.name] = ones;
      }

  for (const std::string &spec : inputFiles) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos)
      return fail("--input takes NAME=FILE.npy, got '" + spec + "'");
    std::string name = spec.substr(0, eq);
    if (std::none_of(exe->inputs().begin(), exe->inputs().end(),
                     [&](const tessel::TensorInfo &i) { return i.name == name; }))
      return fail("the model has no input named '" + name + "'; its inputs are " +
                  tessel::listNames(exe->inputs()));
    tessel::Result<tessel::Tensor> tensor = tessel::readNpy(spec.substr(eq + 1));
    if (!tensor)
      return fail(tensor.message());
    given[name] = *tensor;
  }

  if (!inputDir.empty()) {
    if (!llvm::sys::fs::is_directory(inputDir))
      return fail("--input-dir: '" + inputDir + "' is not a directory");
    for (const tessel::TensorInfo &info : exe->inputs()) {
      llvm::SmallString<256> path(inputDir);
      llvm::sys::path::append(path, info.name + ".npy");
      if (given.count(info.name) || !llvm::sys::fs::exists(path))
        continue;
      tessel::Result<tessel::Tensor> tensor = tessel::readNpy(path.str().str());
      if (!tensor)
        return fail(tensor.message());
      given[info.name] = *tensor;
    }
  }

  // Inputs nobody gave are an error unless random values were asked for.
  std::vector<std::string> missing;
  for (const tessel::TensorInfo &info : exe->inputs())
    if (!given.count(info.name))
      missing.push_back(inputDir.empty() ? "'" + info.name + "'"
                                         : "'" + info.name + "' (no " + inputDir + "/" +
                                               info.name + ".npy)");
  std::string list;
  for (auto [i, name] : llvm::enumerate(missing))
    list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + name;
  if (!missing.empty() && !randomInputs)
    return fail("no value for input" + std::string(missing.size() > 1 ? "s " : " ") + list +
                ": give it with --input NAME=FILE.npy or --input-dir DIR, or pass "
                "--random-inputs");
  if (!missing.empty())
    llvm::errs() << "tessel-run: random inputs (seed " << seed << ") for " << list << "\n";

  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<tessel::Tensor> inputs;
  for (const tessel::TensorInfo &info : exe->inputs()) {
    auto it = given.find(info.name);
    if (it != given.end()) {
      inputs.push_back(it->second);
      continue;
    }
    tessel::Tensor t = tessel::Tensor::zeros(info.shape);
    if (t.empty())
      return fail("out of memory for input '" + info.name + "' of shape " +
                  tessel::shapeString(info.shape));
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data()[i] = uniform(rng);
    inputs.push_back(t);
  }

  tessel::Result<std::vector<tessel::Tensor>> outputs = exe->run(inputs);
  if (!outputs)
    return fail(outputs.message());
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return fail("cannot create '" + outputDir + "': " + ec.message());
  for (auto [info, tensor] : llvm::zip(exe->outputs(), *outputs)) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, info.name + ".npy");
    if (tessel::Status s = tessel::writeNpy(path.str().str(), tensor); !s)
      return fail(s.message());
    llvm::outs() << "wrote " << path << " " << tensor.shapeString() << "\n";
  }

  if (benchRuns > 0) {
    // The profile covers the timed runs, not the first (threads starting).
    exe->resetProfile();
    std::vector<double> seconds;
    for (unsigned i = 0; i < benchRuns; ++i) {
      auto start = std::chrono::steady_clock::now();
      tessel::Result<std::vector<tessel::Tensor>> r = exe->run(inputs);
      auto stop = std::chrono::steady_clock::now();
      if (!r)
        return fail(r.message());
      seconds.push_back(std::chrono::duration<double>(stop - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    double median = seconds[seconds.size() / 2];
    llvm::outs() << llvm::format("median latency: %.3f ms over %u runs", median * 1e3,
                                 (unsigned)benchRuns);
    if (exe->flops() > 0)
      llvm::outs() << llvm::format(", %.1f GFLOP/s", exe->flops() / median * 1e-9);
    llvm::outs() << "\n";
  }
  if (profile)
    llvm::outs() << "kernel profile over " << std::max(1u, (unsigned)benchRuns) << " run"
                 << (benchRuns > 1 ? "s" : "") << ":\n"
                 << exe->profileTable();
  return 0;
}
