// Builds a small graph (3x3 conv with padding 1, then ReLU) with the
// installed C++ API, JIT-compiles it, runs it and compares it with plain
// loops written here.
#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Version.h"

#include <cmath>
#include <cstdio>

int main() {
  tessel::Graph graph("consumer");
  tessel::ConvOptions options;
  options.padding = {1, 1, 1, 1};
  tessel::Value x = graph.input("x", {1, 2, 5, 5});
  tessel::Value w = graph.input("w", {3, 2, 3, 3});
  graph.output("y", graph.relu(graph.conv(x, w, options)));
  tessel::Result<tessel::Executable> exe = tessel::compile(graph);
  if (!exe) {
    std::printf("compile failed: %s\n", exe.message().c_str());
    return 1;
  }
  tessel::Tensor in = tessel::Tensor::zeros({1, 2, 5, 5});
  tessel::Tensor filter = tessel::Tensor::zeros({3, 2, 3, 3});
  for (int64_t i = 0; i < in.numElements(); ++i)
    in.data()[i] = std::sin(0.7 * i);
  for (int64_t i = 0; i < filter.numElements(); ++i)
    filter.data()[i] = std::cos(0.3 * i);
  tessel::Result<std::vector<tessel::Tensor>> out = exe->run({in, filter});
  if (!out) {
    std::printf("run failed: %s\n", out.message().c_str());
    return 1;
  }
  double worst = 0;
  for (int o = 0; o < 3; ++o)
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 5; ++c) {
        double sum = 0;
        for (int i = 0; i < 2; ++i)
          for (int kr = 0; kr < 3; ++kr)
            for (int kc = 0; kc < 3; ++kc) {
              int rr = r + kr - 1, cc = c + kc - 1;
              if (rr >= 0 && rr < 5 && cc >= 0 && cc < 5)
                sum += in.at({0, i, rr, cc}) * filter.at({o, i, kr, kc});
            }
        worst = std::fmax(worst, std::fabs((*out)[0].at({0, o, r, c}) - std::fmax(sum, 0.0)));
      }
  std::printf("Tessel %s (headers %s): y %s, max abs error %.1e\n", tessel::version(),
              TESSEL_VERSION_STRING, (*out)[0].shapeString().c_str(), worst);
  return worst < 1e-4 ? 0 : 1;
}
