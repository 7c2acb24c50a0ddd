//===- Compiler.h - Compile a graph and run it ------------------*- C++ -*-===//

#ifndef TESSEL_COMPILER_H
#define TESSEL_COMPILER_H

#include "tessel/Graph.h"
#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessel {

/// The version of the Tessel library linked into this process, e.g. "0.5.0"
/// (TESSEL_VERSION_STRING in tessel/Version.h is the headers' version).
const char *version();

/// Where the time of one compilation went: the phases in order, each with its
/// wall-clock seconds. Filled when CompileOptions::timing (or
/// AotOptions::timing) points at one.
struct CompileTiming {
  struct Phase {
    std::string name;
    double seconds = 0;
  };
  std::vector<Phase> phases;
  /// Distinct kernel functions the pipeline outlined (layers that are the
  /// same up to their buffers share one).
  int kernels = 0;
  /// Bytes of the workspace the entry function's buffers (the activations
  /// between its kernels) are placed in (tessel-plan-memory); 0 when none.
  int64_t workspaceBytes = 0;
  double totalSeconds() const;
  /// The phases as a table: seconds and share of the total, one per line,
  /// then the total.
  std::string table() const;
  /// When set, called with each phase's name as the phase starts, on the
  /// thread that compiles (the command-line tools show it as progress).
  std::function<void(const std::string &phase)> onPhaseStart;
};

/// Where 3x3 stride-1 convolutions with constant filters use Winograd's
/// minimal filtering, F(4x4, 3x3) or F(2x2, 3x3) (docs/performance.md gives
/// its error against the direct algorithm and where it is faster).
enum class Winograd {
  Off,  ///< Never: every convolution by the direct algorithm.
  Auto, ///< Where the cost model expects it to be faster.
  On,   ///< Wherever it applies (f32, 3x3, unit strides and dilations, a
        ///< constant filter, channel counts that fill vector registers, even
        ///< output sides).
};

/// CompileOptions::minParallelIterations' default: 2^20 loop iterations.
inline constexpr int64_t kDefaultMinParallelIterations = int64_t{1} << 20;

struct CompileOptions {
  /// Threads the parallel tiles run on; 0 means every core of this machine.
  /// At most 256: more is an error (the OpenMP runtime cannot start that many
  /// on every machine).
  unsigned threads = 0;
  /// A model whose layers' loops iterate fewer times than this on average
  /// (the ops of each layer's fusion group summed) runs on one thread: a
  /// parallel region costs microseconds to start and join and moves the
  /// data between cores, more than a small model's layers save (a LeNet).
  /// 0 always uses `threads`; negative is an error.
  int64_t minParallelIterations = kDefaultMinParallelIterations;
  /// 3x3 convolutions by Winograd's algorithm: results differ from the
  /// direct algorithm's by rounding (within 1e-4 of the output's scale).
  Winograd winograd = Winograd::Auto;
  /// Target CPU for code generation, as LLVM names it ("skylake-avx512",
  /// "x86-64-v3", ...); empty means this machine's CPU and features.
  std::string cpu;
  /// Extra LLVM target features, e.g. "-avx512f" to stay on AVX2.
  std::string features;
  /// Threads LLVM optimizes and generates code on: the module is split into
  /// this many parts (the kernels spread by size), compiled concurrently.
  /// 0 means every core of this machine. Results do not depend on it.
  unsigned compileThreads = 0;
  /// ONNX models: initializers become inputs (after the graph's own, under
  /// their ONNX names) instead of constants compiled into the code.
  bool initializersAsInputs = false;
  /// ONNX models: the shapes of graph inputs, by name, fixing their
  /// symbolic dims (a dynamic batch: {{"x", {1, 3, 224, 224}}}). Each must
  /// agree with the model's static dims; an error names the input and dim.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Write the module as the pipeline leaves it (the LLVM dialect) to this
  /// file, headed by the `tessel-opt --tessel-cpu-pipeline` options that
  /// reproduce it; empty: don't. The TESSEL_DUMP_IR environment variable
  /// sets it for every compilation that leaves it empty.
  std::string dumpIR;
  /// Keep the machine code in this directory (created if need be), keyed
  /// by the IR, these options, the target and Tessel's version, so that
  /// compiling the same model in another process loads it instead. Empty:
  /// the TESSEL_CACHE_DIR environment variable, else no disk cache. An
  /// entry that does not check out is ignored and rebuilt; a directory that
  /// cannot be written only costs a warning on stderr.
  std::string cacheDir;
  /// Time every kernel call of every run (Executable::profile()). The
  /// instrumented code is a little slower and never comes from or goes to
  /// the disk cache.
  bool profile = false;
  /// When set, filled with the phases of this compilation (import, the
  /// pipeline's five stages, handing the weights to the executable, LLVM IR
  /// translation, optimization, code generation); a compilation served from the in-process cache has one
  /// phase, "cache hit". Never part of what is cached.
  CompileTiming *timing = nullptr;
};

/// Name and shape of a compiled function's input or output. Functions read
/// from .mlir files name them by their `tessel.name` argument or result
/// attribute, else `arg<i>` and `result<i>`.
struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  /// For an output that is the new value of an input (a training step's
  /// parameters and optimizer state): that input's index; -1 otherwise.
  int updates = -1;
};

/// "'a', 'b' and 'c'" (or "none"): the names of `infos`, for messages that
/// list the valid names. An `arg<i>` name adds how to name it (a
/// `tessel.name` attribute).
std::string listNames(const std::vector<TensorInfo> &infos);

/// One kernel call site of a profiled Executable (CompileOptions::profile):
/// what its calls took over all runs so far.
struct KernelProfile {
  /// The kernel function, and the ONNX node names ("name (OpType)") of the
  /// layer it computes; empty for graphs built with the C++ API.
  std::string kernel, label;
  int64_t calls = 0;
  double seconds = 0;
  /// Per call: floating-point operations of the layer's convolution or
  /// matrix product (0 for other layers), and bytes of the buffers passed.
  double flops = 0, bytes = 0;
};

/// A graph compiled to machine code in this process. Copies share the code.
/// run() may be called from several threads at once.
class Executable {
public:
  const std::vector<TensorInfo> &inputs() const;
  const std::vector<TensorInfo> &outputs() const;
  /// Floating-point operations of one run, counted on the convolutions and
  /// matrix products (2 per multiply-add), for GFLOP/s figures.
  double flops() const;
  /// The kernel calls' times over every run so far, in call order; empty
  /// unless compiled with CompileOptions::profile.
  std::vector<KernelProfile> profile() const;
  /// Sets profile()'s counts back to zero (e.g. after a warm-up run).
  void resetProfile() const;
  /// profile() as a table sorted by time: share, time per run, GFLOP/s,
  /// GB/s, kernel and layer.
  std::string profileTable() const;

  /// Runs on inputs given in declaration order; returns the outputs in
  /// declaration order. Shapes are checked against the compiled ones.
  Result<std::vector<Tensor>> run(const std::vector<Tensor> &inputs) const;
  /// `exe.run({a, b})`: a braced list of tensors is inputs in declaration
  /// order (this overload keeps it from also matching the map's).
  Result<std::vector<Tensor>> run(std::initializer_list<Tensor> inputs) const {
    return run(std::vector<Tensor>(inputs));
  }
  /// Runs on inputs given by name; returns the outputs by name.
  Result<std::map<std::string, Tensor>>
  run(const std::map<std::string, Tensor> &inputs) const;
  /// As run(), but each output that updates an input (TensorInfo::updates)
  /// is computed in that input's memory, which must be contiguous and not
  /// shared with another input, and returned sharing it: no copy. run()
  /// leaves its inputs unchanged and returns those outputs in memory of
  /// their own.
  Result<std::vector<Tensor>> runInPlace(const std::vector<Tensor> &inputs) const;

  /// Implementation detail: the JIT-compiled code and its signature.
  struct Impl;
  explicit Executable(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

private:
  Result<std::vector<Tensor>> runImpl(const std::vector<Tensor> &inputs,
                                      bool inPlace) const;

  std::shared_ptr<const Impl> impl_;
};

/// Compiles `graph` (its outputs must be declared). Compiling the same graph
/// with the same options again returns the cached executable.
Result<Executable> compile(const Graph &graph, const CompileOptions &options = {});
/// Compiles a function of a tessel .mlir file or an ONNX model (.onnx, or
/// ONNX's text syntax in .onnxtxt): the one named `function`, or the file's
/// only function when `function` is empty. ONNX graph inputs and outputs
/// keep their names; initializers are compiled in as constants.
Result<Executable> compileFile(const std::string &path,
                               const CompileOptions &options = {},
                               const std::string &function = "");

/// The tessel IR of a .mlir file or an imported ONNX model, as text: what
/// compileFile would lower (`tessel-compile --emit-tessel` prints it).
/// Of `options`, the ONNX import's (initializersAsInputs, inputShapes)
/// apply.
Result<std::string> importToTessel(const std::string &path,
                                   const CompileOptions &options = {});

} // namespace tessel

#endif // TESSEL_COMPILER_H
