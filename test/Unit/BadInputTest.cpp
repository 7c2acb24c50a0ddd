//===- BadInputTest.cpp - The C++ API refuses bad input with a message ----===//
//
// Duplicate names, out-of-range labels, impossible shapes, absurd options:
// each gives an error value naming the rule (never an abort, a signal or a
// silent substitution). Runs that succeed are checked against naive loops.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Training.h"
#include "tessel/Version.h"

#include "gtest/gtest.h"

#include <random>

using namespace tessel;

namespace {

/// Whether `text` contains `part`, with the text in the failure message.
::testing::AssertionResult contains(const std::string &text, const std::string &part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

TEST(BadInput, DuplicateInputAndOutputNames) {
  Graph inputs("inputs");
  inputs.input("x", {2});
  inputs.input("x", {2});
  EXPECT_TRUE(contains(inputs.status().message(),
                       "input 'x' is declared twice; input names must be unique"));
  EXPECT_FALSE(compile(inputs).ok());

  Graph outputs("outputs");
  Value x = outputs.input("x", {2});
  outputs.output("y", outputs.relu(x));
  outputs.output("y", outputs.neg(x));
  EXPECT_TRUE(contains(outputs.status().message(),
                       "output 'y' is declared twice; output names must be unique"));
  EXPECT_FALSE(compile(outputs).ok());
}

TEST(BadInput, EmptyNames) {
  Graph unnamed("");
  EXPECT_TRUE(contains(unnamed.status().message(), "a graph needs a name"));
  Graph g("g");
  g.input("", {2});
  EXPECT_TRUE(contains(g.status().message(), "an input needs a name"));
  Graph h("h");
  h.output("", h.relu(h.input("x", {2})));
  EXPECT_TRUE(contains(h.status().message(), "an output needs a name"));
}

TEST(BadInput, ValuesOfAnotherGraph) {
  // A value of one graph is refused by another, even where that graph has a
  // value at the same position (it was silently used instead).
  Graph a("a"), b("b");
  Value x = a.input("x", {2});
  b.input("y", {2});
  b.relu(x);
  EXPECT_TRUE(contains(b.status().message(),
                       "'tessel.relu' operand #0 is not a value of this graph"));
  Graph c("c");
  c.input("y", {2});
  c.output("z", x);
  EXPECT_TRUE(contains(c.status().message(), "output 'z' is not a value of this graph"));

  // A graph derived by gradient() takes its source's values, but the source
  // does not take the values added to the copy.
  Graph src("src");
  Value in = src.input("x", {3});
  Value loss = src.sum(src.mul(in, in), std::nullopt);
  src.output("loss", loss);
  Result<Graph> derived = gradient(src, loss, {in});
  ASSERT_TRUE(derived.ok()) << derived.message();
  Value twice = derived->add(in, in);
  ASSERT_TRUE(twice.valid()) << derived->status().message();
  derived->output("twice", twice);
  Result<Executable> exe = compile(*derived);
  ASSERT_TRUE(exe.ok()) << exe.message();
  Tensor v = Tensor::fromValues({3}, {1, -2, 3});
  auto out = exe->run(std::map<std::string, Tensor>{{"x", v}});
  ASSERT_TRUE(out.ok()) << out.message();
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_FLOAT_EQ(out->at("grad_x").data()[i], 2 * v.data()[i]);
    EXPECT_FLOAT_EQ(out->at("twice").data()[i], 2 * v.data()[i]);
  }
  src.relu(twice);
  EXPECT_TRUE(contains(src.status().message(), "is not a value of this graph"));
}

TEST(BadInput, OptimizerNamesCollide) {
  // The optimizer's state inputs would have an input's name.
  Graph g("g");
  Value x = g.input("x", {2});
  Value w = g.input("w", {2});
  g.input("w.velocity", {2});
  Value loss = g.sum(g.mul(x, w), std::nullopt);
  g.output("loss", loss);
  Result<Graph> sgd = trainingStep(g, loss, {w}, Optimizer::sgd(0.1, 0.9));
  ASSERT_FALSE(sgd.ok());
  EXPECT_TRUE(contains(sgd.message(), "the optimizer input 'w.velocity' has the name of an "
                                      "input of the graph"));
  Graph h("h");
  Value hx = h.input("x", {2});
  Value hw = h.input("loss", {2});
  Value hloss = h.sum(h.mul(hx, hw), std::nullopt);
  h.output("out", hloss);
  Result<Graph> named = trainingStep(h, hloss, {hw}, Optimizer::adam());
  ASSERT_FALSE(named.ok());
  EXPECT_TRUE(contains(named.message(), "a parameter named 'loss'"));
}

TEST(BadInput, LabelsOutsideTheClasses) {
  for (int64_t label : {3, -1}) {
    Graph g("loss");
    Value logits = g.input("logits", {2, 3});
    g.output("loss", g.crossEntropy(logits, g.labels({2}, {0, label})));
    EXPECT_TRUE(contains(g.status().message(), "label " + std::to_string(label) +
                                                   " is outside [0, 3), the classes of "
                                                   "the logits (dim 1)"));
    EXPECT_FALSE(compile(g).ok());
  }
  Graph count("count");
  count.labels({2, 2}, {0, 1, 2});
  EXPECT_TRUE(contains(count.status().message(), "labels hold 3 values, their shape [2, 2] has 4"));
}

TEST(BadInput, ImpossibleShapes) {
  // A scale whose output size does not fit in int64 (converting it was
  // undefined behaviour).
  Graph up("up");
  up.upsample(up.input("x", {1, 1, 4, 4}), UpsampleMode::Nearest, Layout::NCHW, {},
              {1e30, 1e30});
  EXPECT_TRUE(contains(up.status().message(), "maps input size 4 to more than 2^62 elements"));

  // More than 2^47 bytes, and an element count that overflows int64.
  for (std::vector<int64_t> shape : {std::vector<int64_t>{100000, 1000, 1000, 1000},
                                     std::vector<int64_t>{int64_t(1) << 62, 4}}) {
    Graph g("huge");
    g.input("x", shape);
    EXPECT_TRUE(contains(g.status().message(), "more than the 2^47 bytes a Tessel tensor may hold"));
  }
  Graph negative("negative");
  negative.input("x", {-2, 3});
  EXPECT_TRUE(contains(negative.status().message(), "input 'x' has a negative size"));
}

TEST(BadInput, TensorFactoriesReturnEmptyTensors) {
  EXPECT_TRUE(Tensor::zeros({-2, 3}).empty());
  EXPECT_TRUE(Tensor::zeros({int64_t(1) << 62, 4}).empty());
  EXPECT_TRUE(Tensor::zeros({100000, 1000, 1000, 1000}).empty());
  // Within the size limit but beyond this machine's memory: no bad_alloc.
  EXPECT_TRUE(Tensor::zeros({int64_t(1) << 44}).empty());
  EXPECT_TRUE(Tensor::fromValues({2, 2}, {1, 2, 3}).empty());
  float data[6] = {};
  EXPECT_TRUE(Tensor::borrow(data, {-1, 6}).empty());
  EXPECT_TRUE(Tensor::borrow(data, {2, 3}, {3}).empty());
  EXPECT_TRUE(Tensor::adopt(nullptr, {2, 3}).empty());
  EXPECT_TRUE(Tensor::adopt(std::shared_ptr<float[]>(new float[6]), {-2, 3}).empty());
  Tensor ok = Tensor::zeros({2, 3});
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(ok.numElements(), 6);

  // An adopted buffer is released once, when the last copy goes.
  int released = 0;
  {
    float *buffer = new float[6]{1, 2, 3, 4, 5, 6};
    Tensor adopted = Tensor::adopt(
        std::shared_ptr<float[]>(buffer, [&released](float *p) { ++released, delete[] p; }),
        {3, 2});
    ASSERT_FALSE(adopted.empty());
    EXPECT_TRUE(adopted.ownsMemory());
    EXPECT_EQ(adopted.data(), buffer);
    EXPECT_EQ(adopted.strides(), (std::vector<int64_t>{2, 1}));
    EXPECT_EQ(adopted.at({2, 1}), 6.0f);
    Tensor copy = adopted;
    adopted = Tensor();
    EXPECT_EQ(released, 0);
    EXPECT_EQ(copy.at({0, 1}), 2.0f);
  }
  EXPECT_EQ(released, 1);

  // Running on an empty tensor names the input.
  Graph g("g");
  g.output("y", g.relu(g.input("x", {2, 3})));
  Result<Executable> exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.message();
  Result<std::vector<Tensor>> out = exe->run({Tensor::zeros({-2, 3})});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(contains(out.message(), "input 'x' is an empty tensor"));
}

TEST(BadInput, BracedListOfInputs) {
  Graph g("sum");
  g.output("y", g.add(g.input("a", {2, 3}), g.input("b", {2, 3})));
  Result<Executable> exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.message();
  Tensor a = Tensor::fromValues({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::fromValues({2, 3}, {10, 20, 30, 40, 50, 60});
  Result<std::vector<Tensor>> out = exe->run({a, b});
  ASSERT_TRUE(out.ok()) << out.message();
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ((*out)[0].data()[i], a.data()[i] + b.data()[i]);
}

TEST(BadInput, UnknownNamesListTheValidOnes) {
  Graph g("g");
  g.output("y", g.add(g.input("image", {2}), g.input("bias", {2})));
  Result<Executable> exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.message();
  auto unknown = exe->run(std::map<std::string, Tensor>{{"image", Tensor::zeros({2})},
                                                        {"bias", Tensor::zeros({2})},
                                                        {"scale", Tensor::zeros({2})}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.message(), "no input named 'scale'; the inputs are 'image' and 'bias'");
  auto missing = exe->run(std::map<std::string, Tensor>{{"image", Tensor::zeros({2})}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), "missing input 'bias'; the inputs are 'image' and 'bias'");
}

TEST(BadInput, TargetFeaturesAndThreads) {
  std::mt19937 rng(5);
  Tensor x = reference::randomTensor({1, 6, 6, 16}, rng);
  Tensor w = reference::randomTensor({3, 3, 16, 16}, rng);
  Graph graph("conv");
  ConvOptions o;
  o.layout = Layout::NHWC;
  o.filterLayout = FilterLayout::HWIO;
  graph.output("y", graph.conv(graph.input("x", x.shape()), graph.constant(w), o));

  // -avx512f (it crashed for every value) compiles and computes the conv.
  CompileOptions options;
  options.threads = 1;
  options.features = "-avx512f";
  Result<Executable> exe = compile(graph, options);
  ASSERT_TRUE(exe.ok()) << exe.message();
  Result<std::vector<Tensor>> out = exe->run({x});
  ASSERT_TRUE(out.ok()) << out.message();
  reference::ConvSpec spec{Layout::NHWC, true, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1};
  EXPECT_LE(reference::toleranceRatio((*out)[0], reference::conv(x, w, nullptr, spec, {1, 4, 4, 16}),
                                      1e-4, 1e-4),
            1.0);

  options.features = "avx512f";
  Result<Executable> unsigned_ = compile(graph, options);
  ASSERT_FALSE(unsigned_.ok());
  EXPECT_TRUE(contains(unsigned_.message(), "target feature 'avx512f' needs a sign"));
  options.features = "+warp-drive";
  Result<Executable> unknown = compile(graph, options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(contains(unknown.message(), "unknown target feature 'warp-drive'"));

  options.features = "";
  options.threads = 100000;
  Result<Executable> many = compile(graph, options);
  ASSERT_FALSE(many.ok());
  EXPECT_TRUE(contains(many.message(), "for 100000 threads: at most 256 are supported"));

  options.threads = 2;
  options.minParallelIterations = -1;
  Result<Executable> negative = compile(graph, options);
  ASSERT_FALSE(negative.ok());
  EXPECT_TRUE(contains(negative.message(), "the fewest iterations worth threads (-1) must "
                                           "not be negative"));
}

TEST(BadInput, Version) {
  EXPECT_STREQ(version(), TESSEL_VERSION_STRING);
  EXPECT_EQ(std::string(version()),
            std::to_string(TESSEL_VERSION_MAJOR) + "." + std::to_string(TESSEL_VERSION_MINOR) +
                "." + std::to_string(TESSEL_VERSION_PATCH));
}

} // namespace
