//===- tessel-bench.cpp - Tessel against oneDNN, layer by layer -----------===//
//
// Runs a fixed set of CNN layers through Tessel (JIT, NHWC activations, HWIO
// weights folded at compile time) and through oneDNN (the library PyTorch
// uses on CPU; format_tag::any so it picks its preferred layouts, reorders
// done once outside the timing) in the same process, at 1 thread and at
// every core, and prints median GFLOP/s (GB/s for pooling), the
// Tessel/oneDNN ratio and the share of this machine's fp32 FMA peak, which
// it measures first. Each timing phase starts after a pause long enough for
// the OpenMP worker threads of the previous one to stop spinning.
//
// Whole models (ResNet-18 and MobileNetV2 at batch 1, 224x224, written as
// ONNX files by test/Models/OnnxModels.h) follow: Tessel compiles the ONNX
// file; there is no oneDNN-based ONNX runtime on Debian, so the oneDNN
// column is the sum of its per-layer times for the model's convolutions and
// max pools alone (batch norms, activations and adds not counted, so it is
// a lower bound for a oneDNN-based runtime).
//
// --compile times compilation instead: each model of a fixed set compiled
// once (JIT, every core), its time split into the phases of
// CompileOptions::timing. --keep DIR leaves the ONNX files there, to rerun
// one with `tessel-run --timing`.
//
// --backward times the two gradients of ResNet-50's 3x3 convolutions that
// autodiff emits: backward-data (tessel.conv_transpose of the output
// gradient with the filter) and backward-filter (tessel.conv_backward_filter
// of the input and the output gradient), against oneDNN's
// convolution_backward_data and convolution_backward_weights primitives.
//
// --train times whole training steps of ResNet-18 and MobileNetV2 (batch 16
// at 112x112 unless --batch/--size say otherwise) against PyTorch eager,
// with each one's peak memory (TrainStep.cpp); --model NAME times one of
// the two, --profile prints each Tessel step's kernel profile on stderr.
//
//===----------------------------------------------------------------------===//

#include "TrainStep.h"

#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Training.h"
#include "test/Models/OnnxModels.h"
#include "tools/common/Version.h"

#include "oneapi/dnnl/dnnl.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace tessel;

namespace {

/// --winograd: how Tessel compiles 3x3 convolutions in every table.
Winograd winogradMode = Winograd::Auto;

struct Layer {
  const char *name;
  enum Kind { Conv, MaxPool, AvgPool } kind;
  int64_t channels, outChannels, size, kernel, stride, pad, dilation, groups;
};

const Layer kLayers[] = {
    {"conv 3x3 64->64 @56", Layer::Conv, 64, 64, 56, 3, 1, 1, 1, 1},
    {"conv 3x3 128->128 @28", Layer::Conv, 128, 128, 28, 3, 1, 1, 1, 1},
    {"conv 3x3 256->256 @14", Layer::Conv, 256, 256, 14, 3, 1, 1, 1, 1},
    {"conv 3x3 512->512 @7", Layer::Conv, 512, 512, 7, 3, 1, 1, 1, 1},
    {"conv 1x1 64->256 @56", Layer::Conv, 64, 256, 56, 1, 1, 0, 1, 1},
    {"conv 3x3/2 128->128 @56", Layer::Conv, 128, 128, 56, 3, 2, 1, 1, 1},
    {"conv 3x3/2 256->256 @28", Layer::Conv, 256, 256, 28, 3, 2, 1, 1, 1},
    {"conv 3x3/2 512->512 @14", Layer::Conv, 512, 512, 14, 3, 2, 1, 1, 1},
    {"conv 1x1/2 256->512 @56", Layer::Conv, 256, 512, 56, 1, 2, 0, 1, 1},
    {"conv 7x7/2 3->64 @224", Layer::Conv, 3, 64, 224, 7, 2, 3, 1, 1},
    {"depthwise 3x3 256 @28", Layer::Conv, 256, 256, 28, 3, 1, 1, 1, 256},
    {"dilated(2) 3x3 64 @56", Layer::Conv, 64, 64, 56, 3, 1, 2, 2, 1},
    {"maxpool 3x3/2 64 @112", Layer::MaxPool, 64, 64, 112, 3, 2, 1, 1, 1},
    {"avgpool 2x2/2 256 @56", Layer::AvgPool, 256, 256, 56, 2, 2, 0, 1, 1},
};

int64_t outSize(const Layer &l) {
  int64_t extent = l.dilation * (l.kernel - 1) + 1;
  return (l.size + 2 * l.pad - extent) / l.stride + 1;
}

/// FLOPs of a conv layer, or bytes moved (input + output) of a pool.
double work(const Layer &l, int64_t batch) {
  int64_t out = outSize(l);
  if (l.kind == Layer::Conv)
    return 2.0 * batch * l.outChannels * (l.channels / l.groups) * l.kernel * l.kernel *
           out * out;
  return 4.0 * batch * l.channels * (l.size * l.size + out * out);
}

template <typename F> double medianSeconds(F &&run, int runs) {
  run(); // warm up
  std::vector<double> s;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    run();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                    .count());
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

/// Lets the other OpenMP runtime's worker threads stop spinning.
void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(400)); }

/// Runs `time` (compile and time Tessel) in a child process and returns its
/// result. oneDNN's OpenMP runtime (GNU libgomp) and the one Tessel's code
/// calls (LLVM's libomp) then never share a process: beside oneDNN's, code
/// with several parallel regions a call (Winograd's transforms and
/// products) ran slower on two threads than on one.
Result<double> isolated(const std::function<Result<double>()> &time) {
  struct Message {
    bool ok;
    double seconds;
    char error[1024];
  } message{};
  int fds[2];
  if (pipe(fds) != 0)
    return Status::error("tessel-bench: cannot create a pipe");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    Result<double> result = time();
    message.ok = result.ok();
    if (result)
      message.seconds = *result;
    else
      std::snprintf(message.error, sizeof message.error, "%s", result.message().c_str());
    ssize_t written = write(fds[1], &message, sizeof message);
    _exit(written == sizeof message ? 0 : 1);
  }
  close(fds[1]);
  bool received = child > 0 && read(fds[0], &message, sizeof message) == sizeof message;
  close(fds[0]);
  int status = 0;
  if (child > 0)
    waitpid(child, &status, 0);
  if (!received)
    return Status::error("tessel-bench: the timing process failed");
  if (!message.ok)
    return Status::error(message.error);
  return message.seconds;
}

/// fp32 FMA peak of `threads` cores, measured: each thread runs independent
/// AVX-512 (or AVX2) FMA chains.
__attribute__((target("avx512f"))) double fmaLoop512(long iterations) {
  typedef float v16 __attribute__((vector_size(64)));
  v16 acc[12];
  v16 a, b;
  for (int j = 0; j < 16; ++j) { a[j] = 1.0f + j * 1e-7f; b[j] = 0.999999f; }
  for (auto &x : acc) x = a;
  for (long i = 0; i < iterations; ++i)
    for (auto &x : acc) x = x * b + a;
  float sum = 0;
  for (auto &x : acc) for (int j = 0; j < 16; ++j) sum += x[j];
  return sum;
}

__attribute__((target("avx2,fma"))) double fmaLoop256(long iterations) {
  typedef float v8 __attribute__((vector_size(32)));
  v8 acc[12];
  v8 a, b;
  for (int j = 0; j < 8; ++j) { a[j] = 1.0f + j * 1e-7f; b[j] = 0.999999f; }
  for (auto &x : acc) x = a;
  for (long i = 0; i < iterations; ++i)
    for (auto &x : acc) x = x * b + a;
  float sum = 0;
  for (auto &x : acc) for (int j = 0; j < 8; ++j) sum += x[j];
  return sum;
}

/// The best of three timed FMA runs on `threads` threads.
double measurePeak(unsigned threads) {
  bool avx512 = __builtin_cpu_supports("avx512f");
  const long iterations = 100'000'000;
  double flopsPerIteration = 12.0 * (avx512 ? 16 : 8) * 2;
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<double> sink(threads);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        sink[t] = avx512 ? fmaLoop512(iterations) : fmaLoop256(iterations);
      });
    for (auto &th : pool) th.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, threads * iterations * flopsPerIteration / seconds * 1e-9);
  }
  return best;
}

Result<double> benchTessel(const Layer &l, int64_t batch, unsigned threads, int runs) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto random = [&](std::vector<int64_t> shape) {
    Tensor t = Tensor::zeros(shape);
    for (int64_t i = 0; i < t.numElements(); ++i) t.data()[i] = dist(rng);
    return t;
  };
  Graph g("layer");
  Tensor x = random({batch, l.size, l.size, l.channels});
  Value in = g.input("x", x.shape());
  if (l.kind == Layer::Conv) {
    ConvOptions o;
    o.layout = Layout::NHWC;
    o.filterLayout = FilterLayout::HWIO;
    o.strides = {l.stride, l.stride};
    o.dilations = {l.dilation, l.dilation};
    o.padding = {l.pad, l.pad, l.pad, l.pad};
    o.groups = l.groups;
    Value w = g.constant(random({l.kernel, l.kernel, l.channels / l.groups, l.outChannels}));
    g.output("y", g.conv(in, w, o));
  } else {
    PoolOptions o;
    o.layout = Layout::NHWC;
    o.kernel = {l.kernel, l.kernel};
    o.strides = {l.stride, l.stride};
    o.padding = {l.pad, l.pad, l.pad, l.pad};
    g.output("y", g.pool(l.kind == Layer::MaxPool ? PoolKind::Max : PoolKind::Avg, in, o));
  }
  CompileOptions options;
  options.threads = threads;
  options.winograd = winogradMode;
  Result<Executable> exe = compile(g, options);
  if (!exe)
    return exe.status();
  std::vector<Tensor> inputs{x};
  if (Result<std::vector<Tensor>> first = exe->run(inputs); !first)
    return first.status();
  pause();
  return medianSeconds([&] { (void)exe->run(inputs); }, runs);
}

/// Median seconds of oneDNN's `alg` on `l`; NaN where oneDNN has no
/// primitive for it (Winograd on anything but 3x3 stride 1).
double benchOneDnn(const Layer &l, int64_t batch, int runs,
                   dnnl::algorithm alg = dnnl::algorithm::convolution_direct) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  int64_t out = outSize(l);
  memory::dims src{batch, l.channels, l.size, l.size}, dst{batch, l.outChannels, out, out};
  memory::dims strides{l.stride, l.stride}, pad{l.pad, l.pad};
  auto fill = [](memory &m) {
    float *p = static_cast<float *>(m.get_data_handle());
    size_t n = m.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; ++i) p[i] = float((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  };
  primitive prim;
  std::unordered_map<int, memory> args;
  if (l.kind == Layer::Conv) {
    memory::dims weights = l.groups == 1
                               ? memory::dims{l.outChannels, l.channels, l.kernel, l.kernel}
                               : memory::dims{l.groups, l.outChannels / l.groups,
                                              l.channels / l.groups, l.kernel, l.kernel};
    memory::desc srcMd(src, dt::f32, tag::any), weiMd(weights, dt::f32, tag::any),
        dstMd(dst, dt::f32, tag::any);
    convolution_forward::desc desc(prop_kind::forward_inference, alg, srcMd, weiMd, dstMd,
                                   strides, {l.dilation - 1, l.dilation - 1}, pad, pad);
    convolution_forward::primitive_desc pd(desc, eng, /*allow_empty=*/true);
    if (!pd)
      return std::nan("");
    memory srcM(pd.src_desc(), eng), weiM(pd.weights_desc(), eng), dstM(pd.dst_desc(), eng);
    fill(srcM);
    fill(weiM);
    prim = convolution_forward(pd);
    args = {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_WEIGHTS, weiM}, {DNNL_ARG_DST, dstM}};
  } else {
    memory::desc srcMd(src, dt::f32, tag::nhwc), dstMd(dst, dt::f32, tag::nhwc);
    pooling_forward::desc desc(prop_kind::forward_inference,
                               l.kind == Layer::MaxPool ? algorithm::pooling_max
                                                        : algorithm::pooling_avg_exclude_padding,
                               srcMd, dstMd, strides, {l.kernel, l.kernel}, pad, pad);
    pooling_forward::primitive_desc pd(desc, eng);
    memory srcM(pd.src_desc(), eng), dstM(pd.dst_desc(), eng);
    fill(srcM);
    prim = pooling_forward(pd);
    args = {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_DST, dstM}};
    if (pd.workspace_desc().get_size() > 0)
      args.insert({DNNL_ARG_WORKSPACE, memory(pd.workspace_desc(), eng)});
  }
  pause();
  return medianSeconds([&] { prim.execute(s, args); s.wait(); }, runs);
}

/// Compiles the model file at `path` (then removes it), feeds random inputs
/// and returns the median seconds of `runs` runs.
Result<double> timeModelFile(const std::string &path, unsigned threads, int runs) {
  CompileOptions options;
  options.threads = threads;
  options.winograd = winogradMode;
  Result<Executable> exe = compileFile(path, options);
  std::remove(path.c_str());
  if (!exe)
    return exe.status();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<Tensor> inputs;
  for (const TensorInfo &info : exe->inputs()) {
    Tensor v = Tensor::zeros(info.shape);
    for (int64_t i = 0; i < v.numElements(); ++i)
      v.data()[i] = dist(rng);
    inputs.push_back(v);
  }
  if (Result<std::vector<Tensor>> first = exe->run(inputs); !first)
    return first.status();
  pause();
  return medianSeconds([&] { (void)exe->run(inputs); }, runs);
}

/// ResNet-50's 3x3 convolutions (v1.5: the first block of stages 3-5
/// strides in its 3x3), for the backward rows.
const Layer kBackwardLayers[] = {
    {"3x3 64->64 @56", Layer::Conv, 64, 64, 56, 3, 1, 1, 1, 1},
    {"3x3 128->128 @28", Layer::Conv, 128, 128, 28, 3, 1, 1, 1, 1},
    {"3x3 256->256 @14", Layer::Conv, 256, 256, 14, 3, 1, 1, 1, 1},
    {"3x3 512->512 @7", Layer::Conv, 512, 512, 7, 3, 1, 1, 1, 1},
    {"3x3/2 128->128 @56", Layer::Conv, 128, 128, 56, 3, 2, 1, 1, 1},
    {"3x3/2 256->256 @28", Layer::Conv, 256, 256, 28, 3, 2, 1, 1, 1},
    {"3x3/2 512->512 @14", Layer::Conv, 512, 512, 14, 3, 2, 1, 1, 1},
};

/// One gradient of a conv layer, as autodiff emits it, NHWC/HWIO.
Result<double> benchTesselBackward(const Layer &l, int64_t batch, bool filter,
                                   unsigned threads, int runs) {
  int64_t out = outSize(l);
  auto t = [](std::initializer_list<int64_t> dims) {
    std::string s = "tensor<";
    for (int64_t d : dims)
      s += std::to_string(d) + "x";
    return s + "f32>";
  };
  std::string x = t({batch, l.size, l.size, l.channels});
  std::string dy = t({batch, out, out, l.outChannels});
  std::string w = t({l.kernel, l.kernel, l.channels, l.outChannels});
  std::string attrs = "strides = array<i64: " + std::to_string(l.stride) + ", " +
                      std::to_string(l.stride) + ">, padding = array<i64: " +
                      std::to_string(l.pad) + ", " + std::to_string(l.pad) + ", " +
                      std::to_string(l.pad) + ", " + std::to_string(l.pad) + ">";
  std::string text;
  if (filter)
    text = "func.func @grad(%x: " + x + ", %dy: " + dy + ") -> " + w + " {\n" +
           "  %0 = tessel.conv_backward_filter %x, %dy layout nhwc, hwio {kernel = array<i64: " +
           std::to_string(l.kernel) + ", " + std::to_string(l.kernel) + ">, " + attrs +
           "} : (" + x + ", " + dy + ") -> " + w + "\n  return %0 : " + w + "\n}\n";
  else { // hwio for conv_transpose is [k, k, C_in of the transpose = C_out, C_out / g]
    // output_padding recovers the input rows the forward stride skipped.
    int64_t extra = l.size + 2 * l.pad - (l.kernel - 1) - 1 - (out - 1) * l.stride;
    std::string outputPadding = ", output_padding = array<i64: " + std::to_string(extra) +
                                ", " + std::to_string(extra) + ">";
    text = "func.func @grad(%dy: " + dy + ", %w: " +
           t({l.kernel, l.kernel, l.outChannels, l.channels}) + ") -> " + x + " {\n" +
           "  %0 = tessel.conv_transpose %dy, %w layout nhwc, hwio {" + attrs +
           outputPadding + "} : (" + dy +
           ", " + t({l.kernel, l.kernel, l.outChannels, l.channels}) + ") -> " + x +
           "\n  return %0 : " + x + "\n}\n";
  }
  std::string path = "/tmp/tessel-bench-backward.mlir";
  {
    std::ofstream file(path);
    file << text;
  }
  return timeModelFile(path, threads, runs);
}

/// oneDNN's convolution_backward_data or convolution_backward_weights.
double benchOneDnnBackward(const Layer &l, int64_t batch, bool filter, int runs) {
  using namespace dnnl;
  using dt = memory::data_type;
  using tag = memory::format_tag;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  int64_t out = outSize(l);
  memory::dims src{batch, l.channels, l.size, l.size}, dst{batch, l.outChannels, out, out};
  memory::dims weights{l.outChannels, l.channels, l.kernel, l.kernel};
  memory::dims strides{l.stride, l.stride}, pad{l.pad, l.pad}, dil{0, 0};
  memory::desc srcMd(src, dt::f32, tag::any), weiMd(weights, dt::f32, tag::any),
      dstMd(dst, dt::f32, tag::any);
  convolution_forward::desc fwd(prop_kind::forward_training, algorithm::convolution_direct,
                                srcMd, weiMd, dstMd, strides, dil, pad, pad);
  convolution_forward::primitive_desc hint(fwd, eng);
  auto fill = [](memory &m) {
    float *p = static_cast<float *>(m.get_data_handle());
    size_t n = m.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; ++i) p[i] = float((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  };
  primitive prim;
  std::unordered_map<int, memory> args;
  if (filter) {
    convolution_backward_weights::desc desc(algorithm::convolution_direct, srcMd, weiMd,
                                            dstMd, strides, dil, pad, pad);
    convolution_backward_weights::primitive_desc pd(desc, eng, hint);
    memory srcM(pd.src_desc(), eng), dW(pd.diff_weights_desc(), eng),
        dY(pd.diff_dst_desc(), eng);
    fill(srcM);
    fill(dY);
    prim = convolution_backward_weights(pd);
    args = {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_DIFF_WEIGHTS, dW}, {DNNL_ARG_DIFF_DST, dY}};
  } else {
    convolution_backward_data::desc desc(algorithm::convolution_direct, srcMd, weiMd, dstMd,
                                         strides, dil, pad, pad);
    convolution_backward_data::primitive_desc pd(desc, eng, hint);
    memory dX(pd.diff_src_desc(), eng), weiM(pd.weights_desc(), eng),
        dY(pd.diff_dst_desc(), eng);
    fill(weiM);
    fill(dY);
    prim = convolution_backward_data(pd);
    args = {{DNNL_ARG_DIFF_SRC, dX}, {DNNL_ARG_WEIGHTS, weiM}, {DNNL_ARG_DIFF_DST, dY}};
  }
  pause();
  return medianSeconds([&] { prim.execute(s, args); s.wait(); }, runs);
}

/// Sets the thread count oneDNN's parallel regions use. Debian's oneDNN is
/// built against libgomp, but libomp, which Tessel links directly, is found
/// first and also serves the GOMP entry points: both libraries run on libomp,
/// so the count is set through the first omp_set_num_threads in scope.
void setOneDnnThreads(unsigned threads) {
  if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    set(static_cast<int>(threads));
}

/// The conv and max-pool layers of a model from OnnxModels.h, with their
/// square input sizes tracked through the graph.
std::vector<Layer> modelLayers(const onnx::ModelProto &model) {
  std::map<std::string, std::pair<int64_t, int64_t>> shape; // channels, size
  const auto &in = model.graph().input(0).type().tensor_type().shape();
  shape[model.graph().input(0).name()] = {in.dim(1).dim_value(), in.dim(2).dim_value()};
  std::map<std::string, std::vector<int64_t>> dims;
  for (const onnx::TensorProto &t : model.graph().initializer())
    dims[t.name()] = std::vector<int64_t>(t.dims().begin(), t.dims().end());
  auto attr = [](const onnx::NodeProto &n, const char *name, int64_t fallback) {
    for (const onnx::AttributeProto &a : n.attribute())
      if (a.name() == name)
        return a.ints_size() ? a.ints(0) : a.i();
    return fallback;
  };
  std::vector<Layer> layers;
  for (const onnx::NodeProto &n : model.graph().node()) {
    auto it = shape.find(n.input(0));
    if (it == shape.end())
      continue; // past the classifier's Flatten
    auto [channels, size] = it->second;
    if (n.op_type() == "Conv" || n.op_type() == "MaxPool") {
      bool conv = n.op_type() == "Conv";
      int64_t k = attr(n, "kernel_shape", 1), s = attr(n, "strides", 1), p = attr(n, "pads", 0);
      int64_t groups = attr(n, "group", 1);
      int64_t out = conv ? dims[n.input(1)][0] : channels;
      layers.push_back({"", conv ? Layer::Conv : Layer::MaxPool, channels, out, size, k, s, p,
                        1, groups});
      shape[n.output(0)] = {out, (size + 2 * p - k) / s + 1};
    } else if (n.op_type() == "GlobalAveragePool") {
      shape[n.output(0)] = {channels, 1};
    } else if (n.op_type() != "Flatten" && n.op_type() != "Gemm") {
      shape[n.output(0)] = it->second;
    }
  }
  return layers;
}

/// Writes `model` to `dir` (named after the graph and the image size) and
/// returns its path.
Result<std::string> writeModel(const onnx::ModelProto &model,
                               const std::string &dir = "/tmp") {
  int64_t size = model.graph().input(0).type().tensor_type().shape().dim(2).dim_value();
  std::string path =
      dir + "/tessel-bench-" + model.graph().name() + "-" + std::to_string(size) + ".onnx";
  std::ofstream file(path, std::ios::binary);
  if (!model.SerializeToOstream(&file))
    return Result<std::string>::error("cannot write " + path);
  return path;
}

Result<double> benchModel(const onnx::ModelProto &model, unsigned threads, int runs) {
  Result<std::string> path = writeModel(model);
  if (!path)
    return path.status();
  return timeModelFile(*path, threads, runs);
}

/// Compiles each model once and prints where the time went: import, the
/// pipeline's five stages together, LLVM IR translation and optimization,
/// code generation; then runs it once (what `tessel-run` adds to the compile,
/// first-touch page faults included). "gradient" compiles the vector-Jacobian product with
/// respect to every initializer (a training step's backward pass).
int benchCompile(const std::string &keepDir) {
  struct Model {
    const char *name;
    onnx::ModelProto proto;
    bool gradient;
  };
  const Model models[] = {{"ResNet-18, 224x224", models::resnet18(1, 224), false},
                          {"ResNet-50, 224x224", models::resnet50(1, 224), false},
                          {"MobileNetV2, 224x224", models::mobilenetV2(1, 224), false},
                          {"EfficientNet-B0, 224x224", models::efficientnetB0(1, 224), false},
                          {"DenseNet-121, 224x224", models::densenet121(1, 224), false},
                          {"VGG-16, 224x224", models::vgg16(1, 224), false},
                          {"UNet, 32x32", models::unet(1, 32), false},
                          {"ResNet-18, 64x64", models::resnet18(1, 64), false},
                          {"ResNet-18 gradient, 64x64", models::resnet18(1, 64), true}};
  // Compiled every time: no disk cache from the environment.
  unsetenv("TESSEL_CACHE_DIR");
  std::printf("| model | ONNX nodes | kernels | import | cache key | MLIR pipeline | "
              "LLVM IR translation | LLVM optimization | code generation | "
              "splitting + linking | compile | first run | end to end |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Model &m : models) {
    Result<std::string> path = writeModel(m.proto, keepDir.empty() ? "/tmp" : keepDir);
    if (!path) {
      std::fprintf(stderr, "%s: %s\n", m.name, path.message().c_str());
      return 1;
    }
    CompileTiming timing;
    CompileOptions options;
    options.timing = &timing;
    options.winograd = winogradMode;
    Result<Executable> exe = [&] {
      if (!m.gradient)
        return compileFile(*path, options);
      std::vector<std::string> wrt;
      for (const onnx::TensorProto &init : m.proto.graph().initializer())
        wrt.push_back(init.name());
      return compileFileGradient(*path, wrt, options);
    }();
    if (keepDir.empty())
      std::remove(path->c_str());
    if (!exe) {
      std::fprintf(stderr, "%s: %s\n", m.name, exe.message().c_str());
      return 1;
    }
    // What `tessel-run` adds: one run, on zeros.
    std::vector<Tensor> inputs;
    for (const auto &input : exe->inputs())
      inputs.push_back(Tensor::zeros(input.shape));
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<Tensor>> outputs = exe->run(inputs);
    double firstRun =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!outputs) {
      std::fprintf(stderr, "%s: %s\n", m.name, outputs.message().c_str());
      return 1;
    }
    std::map<std::string, double> seconds;
    for (const CompileTiming::Phase &p : timing.phases)
      seconds[p.name] += p.seconds;
    // The pipeline's stages are every phase but these (their names are the
    // library's, not repeated here).
    double pipeline = timing.totalSeconds();
    for (const char *other : {"import", "differentiation", "cache key",
                              "translation to LLVM IR", "LLVM optimization",
                              "code generation", "module splitting", "linking"})
      pipeline -= seconds[other];
    std::printf("| %s | %d | %d | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s "
                "| %.2f s | %.3f s | %.2f s |\n",
                m.name, m.proto.graph().node_size(), timing.kernels,
                seconds["import"] + seconds["differentiation"], seconds["cache key"], pipeline,
                seconds["translation to LLVM IR"], seconds["LLVM optimization"],
                seconds["code generation"], seconds["module splitting"] + seconds["linking"],
                timing.totalSeconds(), firstRun, timing.totalSeconds() + firstRun);
    std::fflush(stdout);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  int runs = 20;
  bool modelsOnly = false, backward = false, compileTimes = false, train = false;
  int trainBatch = 16, trainSize = 112;
  std::string keepDir, trainModel;
  bool profile = false;
  std::vector<int64_t> batches{1, 8};
  const char *usage =
      "usage: tessel-bench [--runs N] [--batch N] [--models | --backward | --compile "
      "[--keep DIR] | --train [--size N] [--model resnet18|mobilenet_v2] [--profile]] "
      "[--winograd auto|on|off] [--version]\n";
  // A count in [1, limit]; anything else (0, negative, not a number) is an error.
  auto count = [&](const char *option, const char *text, int limit, int &value) {
    char *end = nullptr;
    long parsed = std::strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || parsed < 1 || parsed > limit) {
      std::fprintf(stderr, "tessel-bench: %s takes a number in [1, %d], got '%s'\n", option,
                   limit, text);
      return false;
    }
    value = static_cast<int>(parsed);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    int batch = 0;
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      if (!count("--runs", argv[++i], 100000, runs))
        return 1;
    } else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) {
      if (!count("--batch", argv[++i], 1024, batch))
        return 1;
      batches = {batch};
      trainBatch = batch;
    } else if (!std::strcmp(argv[i], "--models")) {
      modelsOnly = true;
    } else if (!std::strcmp(argv[i], "--backward")) {
      backward = true;
    } else if (!std::strcmp(argv[i], "--compile")) {
      compileTimes = true;
    } else if (!std::strcmp(argv[i], "--train")) {
      train = true;
    } else if (!std::strcmp(argv[i], "--size") && i + 1 < argc) {
      if (!count("--size", argv[++i], 1024, trainSize))
        return 1;
    } else if (!std::strcmp(argv[i], "--winograd") && i + 1 < argc) {
      std::string mode = argv[++i];
      if (mode == "auto" || mode == "on" || mode == "off") {
        winogradMode = mode == "on" ? Winograd::On : mode == "off" ? Winograd::Off : Winograd::Auto;
      } else {
        std::fprintf(stderr, "tessel-bench: --winograd takes auto, on or off, got '%s'\n",
                     mode.c_str());
        return 1;
      }
    } else if (!std::strcmp(argv[i], "--model") && i + 1 < argc) {
      trainModel = argv[++i];
      if (trainModel != "resnet18" && trainModel != "mobilenet_v2") {
        std::fprintf(stderr, "tessel-bench: --model takes resnet18 or mobilenet_v2, got '%s'\n",
                     trainModel.c_str());
        return 1;
      }
    } else if (!std::strcmp(argv[i], "--profile")) {
      profile = true;
    } else if (!std::strcmp(argv[i], "--keep") && i + 1 < argc) {
      keepDir = argv[++i];
    } else if (!std::strcmp(argv[i], "--version")) {
      tessel::tools::printVersion(llvm::outs(), "tessel-bench");
      return 0;
    } else {
      std::fprintf(stderr, "%s", usage);
      return 1;
    }
  }
  if (modelsOnly + backward + compileTimes + train > 1) {
    std::fprintf(stderr,
                 "tessel-bench: --models, --backward, --compile and --train exclude each other\n%s",
                 usage);
    return 1;
  }
  if (train)
    return benchTrainingSteps(runs == 20 ? 5 : runs, trainBatch, trainSize, "/usr/bin/python3",
                              TESSEL_TRAIN_STEP_SCRIPT, winogradMode, trainModel, profile);
  if (!trainModel.empty() || profile) {
    std::fprintf(stderr, "tessel-bench: --model and --profile go with --train\n%s", usage);
    return 1;
  }
  if (!keepDir.empty() && !compileTimes) {
    std::fprintf(stderr, "tessel-bench: --keep goes with --compile\n%s", usage);
    return 1;
  }
  if (compileTimes)
    return benchCompile(keepDir);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<unsigned> threadCounts{1};
  if (cores > 1)
    threadCounts.push_back(cores);

  if (backward) {
    std::printf("| gradient of conv | batch | threads | Tessel | oneDNN | Tessel/oneDNN |\n");
    std::printf("|---|---|---|---|---|---|\n");
    // Geomeans of Tessel/oneDNN by (batch, threads), the issue-20 target's
    // unit, printed after the rows.
    std::vector<std::string> geomeans;
    for (unsigned threads : threadCounts) {
      setOneDnnThreads(threads);
      for (int64_t batch : batches) {
        double logSum[2] = {0, 0}; // backward-data, backward-filter
        for (bool filter : {false, true})
          for (const Layer &l : kBackwardLayers) {
            Result<double> tessel = isolated(
                [&] { return benchTesselBackward(l, batch, filter, threads, runs); });
            if (!tessel) {
              std::fprintf(stderr, "%s: %s\n", l.name, tessel.message().c_str());
              return 1;
            }
            double dnnl = benchOneDnnBackward(l, batch, filter, runs);
            double w = work(l, batch);
            std::printf("| %s %s | %lld | %u | %.1f GFLOP/s | %.1f GFLOP/s | %.2f |\n",
                        filter ? "backward-filter" : "backward-data", l.name,
                        (long long)batch, threads, w / *tessel * 1e-9, w / dnnl * 1e-9,
                        dnnl / *tessel);
            std::fflush(stdout);
            logSum[filter] += std::log(dnnl / *tessel);
          }
        double rows = std::size(kBackwardLayers);
        char line[160];
        std::snprintf(line, sizeof line,
                      "| geomean | %lld | %u | backward-data %.2f | backward-filter %.2f | %.2f |\n",
                      (long long)batch, threads, std::exp(logSum[0] / rows),
                      std::exp(logSum[1] / rows),
                      std::exp((logSum[0] + logSum[1]) / (2 * rows)));
        geomeans.push_back(line);
      }
    }
    for (const std::string &line : geomeans)
      std::printf("%s", line.c_str());
    return 0;
  }

  // oneDNN best: the faster of its direct and Winograd primitives (oneDNN
  // has Winograd for 3x3 stride-1 layers only).
  if (!modelsOnly)
    std::printf("| layer | batch | threads | Tessel | oneDNN direct | oneDNN Winograd | "
                "Tessel/oneDNN direct | Tessel/oneDNN best | Tessel %% of peak | oneDNN direct %% of "
                "peak |\n");
  if (!modelsOnly)
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> layerGeomeans;
  for (unsigned threads : modelsOnly ? std::vector<unsigned>{} : threadCounts) {
    double peak = measurePeak(threads);
    setOneDnnThreads(threads);
    std::fprintf(stderr, "measured fp32 FMA peak at %u thread(s): %.0f GFLOP/s\n", threads, peak);
    for (int64_t batch : batches) {
      double logDirect = 0, logBest = 0;
      int dense = 0;
      for (const Layer &l : kLayers) {
        Result<double> tessel = isolated([&] { return benchTessel(l, batch, threads, runs); });
        if (!tessel) {
          std::fprintf(stderr, "%s: %s\n", l.name, tessel.message().c_str());
          return 1;
        }
        double dnnl = benchOneDnn(l, batch, runs);
        bool conv = l.kind == Layer::Conv;
        double wino = conv && l.groups == 1
                          ? benchOneDnn(l, batch, runs, dnnl::algorithm::convolution_winograd)
                          : std::nan("");
        double best = std::isnan(wino) ? dnnl : std::min(dnnl, wino);
        double w = work(l, batch);
        double tesselRate = w / *tessel * 1e-9, dnnlRate = w / dnnl * 1e-9;
        const char *unit = conv ? "GFLOP/s" : "GB/s";
        char tp[32] = "-", dp[32] = "-", wp[48] = "-";
        if (conv) {
          std::snprintf(tp, sizeof tp, "%.0f%%", 100 * tesselRate / peak);
          std::snprintf(dp, sizeof dp, "%.0f%%", 100 * dnnlRate / peak);
        }
        if (!std::isnan(wino))
          std::snprintf(wp, sizeof wp, "%.1f %s", w / wino * 1e-9, unit);
        std::printf("| %s | %lld | %u | %.1f %s | %.1f %s | %s | %.2f | %.2f | %s | %s |\n",
                    l.name, (long long)batch, threads, tesselRate, unit, dnnlRate, unit, wp,
                    dnnl / *tessel, best / *tessel, tp, dp);
        std::fflush(stdout);
        // Dense forward rows: convolutions without groups.
        if (conv && l.groups == 1) {
          logDirect += std::log(dnnl / *tessel);
          logBest += std::log(best / *tessel);
          ++dense;
        }
      }
      char line[200];
      std::snprintf(line, sizeof line,
                    "batch %lld, %u thread(s): geomean Tessel/oneDNN-direct %.2f, "
                    "Tessel/oneDNN-best %.2f (%d dense rows)\n",
                    (long long)batch, threads, std::exp(logDirect / dense),
                    std::exp(logBest / dense), dense);
      layerGeomeans.push_back(line);
    }
  }
  for (const std::string &line : layerGeomeans)
    std::printf("%s", line.c_str());

  std::printf("\n| model (batch 1, 224x224) | threads | Tessel | oneDNN, sum of conv + max-pool layers | Tessel/oneDNN |\n");
  std::printf("|---|---|---|---|---|\n");
  const std::pair<const char *, onnx::ModelProto> models[] = {
      {"ResNet-18", models::resnet18(1, 224)}, {"MobileNetV2", models::mobilenetV2(1, 224)}};
  for (unsigned threads : threadCounts) {
    setOneDnnThreads(threads);
    for (const auto &[name, model] : models) {
      Result<double> tessel = isolated([&] { return benchModel(model, threads, runs); });
      if (!tessel) {
        std::fprintf(stderr, "%s: %s\n", name, tessel.message().c_str());
        return 1;
      }
      double dnnl = 0;
      for (const Layer &l : modelLayers(model))
        dnnl += benchOneDnn(l, 1, runs);
      std::printf("| %s | %u | %.2f ms | %.2f ms | %.2f |\n", name, threads, *tessel * 1e3,
                  dnnl * 1e3, dnnl / *tessel);
      std::fflush(stdout);
    }
  }
  return 0;
}
