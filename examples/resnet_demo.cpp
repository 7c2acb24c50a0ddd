//===- resnet_demo.cpp - Build, JIT and check a small ResNet --------------===//
//
// The main job of `make demo`: builds a small ResNet-style CNN with the C++
// API (NCHW images; stem, two residual blocks, classifier head), compiles it
// with the JIT, checks its output against the naive reference loops of the
// test suite, and prints the median latency at 1 thread and at every core.
// With --aot DIR it also compiles the network ahead of time to DIR/resnet.o
// and DIR/resnet.h, and writes the image and the reference probabilities as
// raw float32 files there for examples/aot_demo.c (`make demo` links and
// runs it).
//
//===----------------------------------------------------------------------===//

#include "tessel/Aot.h"
#include "tessel/Compiler.h"
#include "tessel/Graph.h"

#include "../test/Unit/Reference.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

using namespace tessel;
using reference::Shape;

namespace {

/// The network, built twice: once as a graph, once as reference calls.
struct Network {
  std::mt19937 rng{42};
  Tensor weight(const Shape &shape, float scale) {
    return reference::randomTensor(shape, rng, -scale, scale);
  }
  struct Conv {
    Tensor w, b;
    int64_t stride, pad;
  };
  std::vector<Conv> convs;
  Tensor fcW, fcB;

  Network() {
    auto add = [&](int64_t cout, int64_t cin, int64_t k, int64_t stride) {
      float scale = 1.0f / std::sqrt(float(cin * k * k));
      convs.push_back({weight({cout, cin, k, k}, scale), weight({cout}, 0.1f), stride,
                       k / 2});
    };
    add(16, 3, 7, 2);  // stem
    add(16, 16, 3, 1); // block 1
    add(16, 16, 3, 1);
    add(32, 16, 3, 2); // block 2 (downsampling)
    add(32, 32, 3, 1);
    add(32, 16, 1, 2); // block 2 projection
    fcW = weight({10, 32}, 0.2f);
    fcB = weight({10}, 0.1f);
  }

  ConvOptions options(const Conv &c) const {
    ConvOptions o;
    o.layout = Layout::NCHW;
    o.filterLayout = FilterLayout::OIHW;
    o.strides = {c.stride, c.stride};
    o.padding = {c.pad, c.pad, c.pad, c.pad};
    return o;
  }

  Graph build(int64_t batch) const {
    Graph g("resnet");
    Value x = g.input("image", {batch, 3, 64, 64});
    auto conv = [&](Value in, int i) {
      return g.conv(in, g.constant(convs[i].w), options(convs[i]), g.constant(convs[i].b));
    };
    PoolOptions pool;
    pool.kernel = {3, 3};
    pool.strides = {2, 2};
    pool.padding = {1, 1, 1, 1};
    Value s = g.maxPool(g.relu(conv(x, 0)), pool);
    Value b1 = g.relu(g.add(conv(g.relu(conv(s, 1)), 2), s));
    Value b2 = g.relu(g.add(conv(g.relu(conv(b1, 3)), 4), conv(b1, 5)));
    Value pooled = g.flatten(g.globalPool(PoolKind::Avg, b2, Layout::NCHW));
    Value logits = g.linear(pooled, g.constant(fcW), g.constant(fcB));
    g.output("probabilities", g.softmax(logits, 1));
    return g;
  }

  Tensor reference(const Tensor &image) const {
    auto conv = [&](const Tensor &in, int i) {
      const Conv &c = convs[i];
      int64_t k = c.w.shape()[2];
      reference::ConvSpec spec{Layout::NCHW, false, {c.stride, c.stride}, {1, 1},
                               {c.pad, c.pad}, {c.pad, c.pad}, 1};
      Shape out{in.shape()[0], c.w.shape()[0],
                (in.shape()[2] + 2 * c.pad - k) / c.stride + 1,
                (in.shape()[3] + 2 * c.pad - k) / c.stride + 1};
      return reference::conv(in, c.w, &c.b, spec, out);
    };
    auto relu = [](const Tensor &t) {
      return reference::mapUnary(t, [](double v) { return std::max(v, 0.0); });
    };
    auto add = [](const Tensor &a, const Tensor &b) {
      return reference::broadcastBinary(a, b, a.shape(), std::plus<double>());
    };
    Tensor stem = relu(conv(image, 0));
    reference::PoolSpec pool{PoolKind::Max, Layout::NCHW, {3, 3}, {2, 2}, {1, 1},
                             {1, 1}, {1, 1}, false, 2.0};
    Shape pooledShape{stem.shape()[0], stem.shape()[1], (stem.shape()[2] - 1) / 2 + 1,
                      (stem.shape()[3] - 1) / 2 + 1};
    Tensor s = reference::pool(stem, pool, pooledShape);
    Tensor b1 = relu(add(conv(relu(conv(s, 1)), 2), s));
    Tensor b2 = relu(add(conv(relu(conv(b1, 3)), 4), conv(b1, 5)));
    int64_t n = b2.shape()[0], c = b2.shape()[1], hw = b2.shape()[2] * b2.shape()[3];
    Tensor probabilities = Tensor::zeros({n, 10});
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> logits(10);
      for (int64_t o = 0; o < 10; ++o) {
        double acc = fcB.at({o});
        for (int64_t ch = 0; ch < c; ++ch) {
          double mean = 0;
          for (int64_t y = 0; y < b2.shape()[2]; ++y)
            for (int64_t x = 0; x < b2.shape()[3]; ++x)
              mean += b2.at({i, ch, y, x});
          acc += mean / double(hw) * fcW.at({o, ch});
        }
        logits[o] = acc;
      }
      double top = *std::max_element(logits.begin(), logits.end()), total = 0;
      for (double l : logits)
        total += std::exp(l - top);
      for (int64_t o = 0; o < 10; ++o)
        probabilities.at({i, o}) = float(std::exp(logits[o] - top) / total);
    }
    return probabilities;
  }
};

double medianMs(const Executable &exe, const std::vector<Tensor> &inputs, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    (void)exe.run(inputs);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

bool writeRaw(const std::string &path, const Tensor &t) {
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char *>(t.data()),
             static_cast<std::streamsize>(t.numElements() * sizeof(float)));
  return static_cast<bool>(file);
}

} // namespace

int main(int argc, char **argv) {
  std::string aotDir;
  if (argc == 3 && std::strcmp(argv[1], "--aot") == 0) {
    aotDir = argv[2];
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: %s [--aot DIR]\n", argv[0]);
    return 2;
  }
  const int64_t batch = 2;
  Network net;
  Graph graph = net.build(batch);
  if (!graph.status()) {
    std::fprintf(stderr, "building the graph failed: %s\n",
                 graph.status().message().c_str());
    return 1;
  }
  std::mt19937 rng(7);
  Tensor image = reference::randomTensor({batch, 3, 64, 64}, rng);

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  Tensor first;
  for (unsigned threads : {1u, cores}) {
    CompileOptions options;
    options.threads = threads;
    auto start = std::chrono::steady_clock::now();
    Result<Executable> exe = compile(graph, options);
    double compileMs = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
    if (!exe) {
      std::fprintf(stderr, "compilation failed: %s\n", exe.message().c_str());
      return 1;
    }
    Result<std::vector<Tensor>> out = exe->run({image});
    if (!out) {
      std::fprintf(stderr, "running failed: %s\n", out.message().c_str());
      return 1;
    }
    if (first.empty())
      first = (*out)[0];
    double ms = medianMs(*exe, {image}, 10);
    std::printf("resnet (batch %lld, 3x64x64): %u thread(s): compiled in %.0f ms, "
                "median latency %.2f ms over 10 runs, %.2f GFLOP/s\n",
                (long long)batch, threads, compileMs, ms, exe->flops() / ms * 1e-6);
    if (threads == cores)
      break;
  }

  Tensor want = net.reference(image);
  double ratio = reference::toleranceRatio(first, want, 1e-5, 1e-3);
  std::printf("class probabilities of image 0:");
  for (int64_t o = 0; o < 10; ++o)
    std::printf(" %.4f", first.at({0, o}));
  std::printf("\nmatches the naive reference: %s (worst error %.3g of the tolerance)\n",
              ratio <= 1.0 ? "yes" : "NO", ratio);
  if (ratio > 1.0)
    return 1;

  if (!aotDir.empty()) {
    AotOptions aot;
    aot.outputPath = aotDir + "/resnet.o";
    aot.prefix = "resnet";
    auto start = std::chrono::steady_clock::now();
    if (Status s = compileToObject(graph, aot); !s) {
      std::fprintf(stderr, "AOT compilation failed: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("compiled ahead of time to %s and %s/resnet.h in %.0f ms\n",
                aot.outputPath.c_str(), aotDir.c_str(),
                std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count());
    if (!writeRaw(aotDir + "/image.f32", image) ||
        !writeRaw(aotDir + "/expected.f32", want)) {
      std::fprintf(stderr, "cannot write the demo data to %s\n", aotDir.c_str());
      return 1;
    }
  }
  return 0;
}
