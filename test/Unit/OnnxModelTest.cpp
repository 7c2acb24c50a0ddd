//===- OnnxModelTest.cpp - Whole CNNs from ONNX files through the JIT -----===//
//
// ResNet-18, MobileNetV2, EfficientNet-B0, a VGG-style network and a small
// UNet are written as ONNX files (test/Models/OnnxModels.h), compiled with
// compileFile and checked against a naive evaluator of the same ModelProto,
// node by node, on the reference loops of Reference.h. The evaluator reads
// the ONNX graph itself: it shares no code with the importer. Small hand-made
// models check how raw float initializers are read.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "compiler/Import/OnnxImporter.h"
#include "test/Models/OnnxModels.h"
#include "tessel/Compiler.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

using namespace tessel;
using reference::Shape;

namespace {

std::vector<int64_t> intsOf(const onnx::NodeProto &n, const std::string &name,
                            std::vector<int64_t> fallback) {
  for (const onnx::AttributeProto &a : n.attribute())
    if (a.name() == name)
      return std::vector<int64_t>(a.ints().begin(), a.ints().end());
  return fallback;
}
int64_t intOf(const onnx::NodeProto &n, const std::string &name, int64_t fallback) {
  for (const onnx::AttributeProto &a : n.attribute())
    if (a.name() == name)
      return a.i();
  return fallback;
}

/// Evaluates the models of OnnxModels.h (Conv, ConvTranspose, BatchNormalization,
/// Relu, Clip, Sigmoid, MaxPool, AveragePool, Add, Mul, Concat, GlobalAveragePool, Flatten,
/// Gemm with transB) in double precision per output element.
Tensor evaluate(const onnx::ModelProto &model, const Tensor &image) {
  std::map<std::string, Tensor> v;
  for (const onnx::TensorProto &t : model.graph().initializer()) {
    Tensor value = Tensor::zeros(Shape(t.dims().begin(), t.dims().end()));
    std::memcpy(value.data(), t.raw_data().data(), t.raw_data().size());
    v[t.name()] = value;
  }
  v[model.graph().input(0).name()] = image;
  for (const onnx::NodeProto &n : model.graph().node()) {
    const std::string &op = n.op_type();
    const Tensor &x = v.at(n.input(0));
    const Shape &xs = x.shape();
    Tensor y;
    if (op == "Conv" || op == "MaxPool" || op == "AveragePool") {
      Shape k = intsOf(n, "kernel_shape", {}), s = intsOf(n, "strides", {1, 1});
      Shape p = intsOf(n, "pads", {0, 0, 0, 0});
      Shape out = {xs[0], 0, (xs[2] + p[0] + p[2] - k[0]) / s[0] + 1,
                   (xs[3] + p[1] + p[3] - k[1]) / s[1] + 1};
      if (op == "Conv") {
        const Tensor &w = v.at(n.input(1));
        out[1] = w.shape()[0];
        reference::ConvSpec spec{Layout::NCHW, false, s, {1, 1}, {p[0], p[1]}, {p[2], p[3]},
                                 intOf(n, "group", 1)};
        const Tensor *bias = n.input_size() > 2 ? &v.at(n.input(2)) : nullptr;
        y = reference::conv(x, w, bias, spec, out);
      } else {
        out[1] = xs[1];
        reference::PoolSpec spec{op == "MaxPool" ? PoolKind::Max : PoolKind::Avg,
                                 Layout::NCHW, k, s, {1, 1}, {p[0], p[1]}, {p[2], p[3]},
                                 intOf(n, "count_include_pad", 0) != 0, 2.0};
        y = reference::pool(x, spec, out);
      }
    } else if (op == "BatchNormalization") {
      const Tensor &g = v.at(n.input(1)), &b = v.at(n.input(2)), &m = v.at(n.input(3)),
                   &var = v.at(n.input(4));
      y = Tensor::zeros(xs);
      reference::forEachIndex(xs, [&](const Shape &i) {
        int64_t c = i[1];
        y.at(i) = float((x.at(i) - double(m.at({c}))) / std::sqrt(double(var.at({c})) + 1e-5) *
                            g.at({c}) +
                        b.at({c}));
      });
    } else if (op == "Relu") {
      y = reference::mapUnary(x, [](double a) { return std::max(a, 0.0); });
    } else if (op == "Clip") {
      double lo = v.at(n.input(1)).data()[0], hi = v.at(n.input(2)).data()[0];
      y = reference::mapUnary(x, [&](double a) { return std::min(std::max(a, lo), hi); });
    } else if (op == "Add") {
      y = reference::broadcastBinary(x, v.at(n.input(1)), xs, std::plus<double>());
    } else if (op == "Mul") {
      y = reference::broadcastBinary(x, v.at(n.input(1)), xs, std::multiplies<double>());
    } else if (op == "Sigmoid") {
      y = reference::mapUnary(x, [](double a) { return 1.0 / (1.0 + std::exp(-a)); });
    } else if (op == "Concat") { // along the channels
      Shape out = xs;
      for (int i = 1; i < n.input_size(); ++i)
        out[1] += v.at(n.input(i)).shape()[1];
      y = Tensor::zeros(out);
      int64_t offset = 0;
      for (const std::string &name : n.input()) {
        const Tensor &part = v.at(name);
        reference::forEachIndex(part.shape(), [&](const Shape &i) {
          y.at({i[0], i[1] + offset, i[2], i[3]}) = part.at(i);
        });
        offset += part.shape()[1];
      }
    } else if (op == "ConvTranspose") { // kernel == stride, no padding
      const Tensor &w = v.at(n.input(1)), &b = v.at(n.input(2));
      int64_t k = intsOf(n, "kernel_shape", {})[0], outChannels = w.shape()[1];
      EXPECT_EQ(intsOf(n, "strides", {}), Shape({k, k}));
      y = Tensor::zeros({xs[0], outChannels, xs[2] * k, xs[3] * k});
      reference::forEachIndex(y.shape(), [&](const Shape &o) {
        double acc = b.at({o[1]});
        for (int64_t c = 0; c < xs[1]; ++c)
          acc += double(x.at({o[0], c, o[2] / k, o[3] / k})) *
                 w.at({c, o[1], o[2] % k, o[3] % k});
        y.at(o) = float(acc);
      });
    } else if (op == "GlobalAveragePool") {
      y = Tensor::zeros({xs[0], xs[1], 1, 1});
      for (int64_t b = 0; b < xs[0]; ++b)
        for (int64_t c = 0; c < xs[1]; ++c) {
          double sum = 0;
          for (int64_t h = 0; h < xs[2]; ++h)
            for (int64_t w = 0; w < xs[3]; ++w)
              sum += x.at({b, c, h, w});
          y.at({b, c, 0, 0}) = float(sum / double(xs[2] * xs[3]));
        }
    } else if (op == "Flatten") {
      y = Tensor::zeros({xs[0], x.numElements() / xs[0]});
      std::memcpy(y.data(), x.data(), x.numElements() * sizeof(float));
    } else if (op == "Gemm") {
      const Tensor &w = v.at(n.input(1)), &b = v.at(n.input(2));
      int64_t outFeatures = w.shape()[0], in = w.shape()[1];
      y = Tensor::zeros({xs[0], outFeatures});
      for (int64_t r = 0; r < xs[0]; ++r)
        for (int64_t o = 0; o < outFeatures; ++o) {
          double acc = b.at({o});
          for (int64_t i = 0; i < in; ++i)
            acc += double(x.at({r, i})) * w.at({o, i});
          y.at({r, o}) = float(acc);
        }
    } else {
      ADD_FAILURE() << "the test evaluator has no rule for " << op;
      return Tensor();
    }
    v[n.output(0)] = y;
  }
  return v.at(model.graph().output(0).name());
}

void checkModel(const onnx::ModelProto &model, const Shape &imageShape, unsigned threads) {
  std::string path = testing::TempDir() + "/tessel-" + model.graph().name() + ".onnx";
  {
    std::ofstream file(path, std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&file));
  }
  CompileOptions options;
  options.threads = threads;
  options.minParallelIterations = 0; // small layers threaded too: under test
  Result<Executable> exe = compileFile(path, options);
  ASSERT_TRUE(exe.ok()) << exe.message();
  ASSERT_EQ(exe->inputs().size(), 1u);
  EXPECT_EQ(exe->inputs()[0].name, "image");
  EXPECT_EQ(exe->inputs()[0].shape, imageShape);

  std::mt19937 rng(5);
  Tensor image = reference::randomTensor(imageShape, rng);
  Result<std::vector<Tensor>> out = exe->run({image});
  ASSERT_TRUE(out.ok()) << out.message();
  Tensor want = evaluate(model, image);
  double ratio = reference::toleranceRatio((*out)[0], want, 1e-3, 1e-3);
  EXPECT_LE(ratio, 1.0) << model.graph().name() << ": worst error " << ratio
                        << " of the tolerance";
  std::remove(path.c_str());
}

/// Writes `model` to a temporary file and compiles it.
Result<Executable> compileModel(const onnx::ModelProto &model, const std::string &file,
                                const CompileOptions &options = {}) {
  std::string path = testing::TempDir() + "/tessel-" + file + ".onnx";
  {
    std::ofstream out(path, std::ios::binary);
    model.SerializeToOstream(&out);
  }
  Result<Executable> exe = compileFile(path, options);
  std::remove(path.c_str());
  return exe;
}

/// x + w, w, and reshape(w) to [cols, rows] (Reshape folds it at import,
/// decoding w's values), with w = `values` a raw float initializer of shape
/// [rows, cols]. Returns w's name.
std::string rawInitializerModel(models::OnnxModelBuilder &b, int64_t rows, int64_t cols,
                                const std::vector<float> &values) {
  std::string x = b.input("x", {rows, cols});
  std::string w = b.constant({rows, cols}, values);
  std::string sum, reshaped;
  b.node("Add", {x, w}, sum);
  onnx::TensorProto *shape = b.model.mutable_graph()->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(cols);
  shape->add_int64_data(rows);
  b.node("Reshape", {w, "shape"}, reshaped);
  b.output(sum);
  b.output(w);
  b.output(reshaped);
  return w;
}

// Float initializers in raw bytes become constants without being decoded,
// unless a converter reads their values: a raw initializer that is a graph
// output, one that is an operand, and one that Reshape folds at import.
TEST(OnnxModels, RawInitializers) {
  models::OnnxModelBuilder b("raw");
  std::vector<float> wValues = {1, -2, 3.5f, 0.25f, 5, -6};
  rawInitializerModel(b, 2, 3, wValues);
  Result<Executable> exe = compileModel(b.model, "raw");
  ASSERT_TRUE(exe.ok()) << exe.message();
  Tensor xValue = Tensor::fromValues({2, 3}, {0.5f, 0.5f, 0.5f, -1, -1, -1});
  Result<std::vector<Tensor>> out = exe->run({xValue});
  ASSERT_TRUE(out.ok()) << out.message();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[1].shape(), (Shape{2, 3}));
  EXPECT_EQ((*out)[2].shape(), (Shape{3, 2}));
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ((*out)[0].data()[i], xValue.data()[i] + wValues[i]);
    EXPECT_EQ((*out)[1].data()[i], wValues[i]);
    EXPECT_EQ((*out)[2].data()[i], wValues[i]);
  }
}

TEST(OnnxModels, RawInitializerOfTheWrongSize) {
  models::OnnxModelBuilder b("short");
  std::string x = b.input("x", {2, 3});
  std::string w = b.constant({2, 3}, {1, 2, 3, 4, 5, 6});
  b.model.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(5 * sizeof(float));
  std::string sum;
  b.node("Add", {x, w}, sum);
  b.output(sum);
  Result<Executable> exe = compileModel(b.model, "short");
  ASSERT_FALSE(exe.ok());
  EXPECT_NE(exe.message().find("initializer '" + w + "' has shape [2, 3] (6 elements) but "
                               "holds 5 values"),
            std::string::npos)
      << exe.message();
}

// Weights in external files beside the model, as exporters write large
// models: w's values at an offset of a shared file (and a second weight
// filling a file of its own), read back bit for bit through x + w, and the
// errors for a missing file, data beyond its end and a path outside the
// model's directory.
TEST(OnnxModels, ExternalData) {
  std::string dir = testing::TempDir() + "/tessel-external";
  std::filesystem::create_directories(dir);
  std::vector<float> wValues = {1, -2, 3.5f, 0.25f, 5, -6};
  std::vector<float> vValues = {0.5f, 0.75f, -1};
  {
    std::ofstream data(dir + "/weights.data", std::ios::binary);
    data.write("padding!", 8);
    data.write(reinterpret_cast<const char *>(wValues.data()), 6 * sizeof(float));
    std::ofstream own(dir + "/v.data", std::ios::binary);
    own.write(reinterpret_cast<const char *>(vValues.data()), 3 * sizeof(float));
  }
  auto build = [&](const std::string &location, const std::string &offset) {
    models::OnnxModelBuilder b("external");
    std::string x = b.input("x", {2, 3});
    std::string w = b.constant({2, 3}, wValues);
    std::string v = b.constant({3}, vValues);
    for (int i = 0; i < 2; ++i) {
      onnx::TensorProto *init = b.model.mutable_graph()->mutable_initializer(i);
      init->clear_raw_data();
      init->clear_float_data();
      init->set_data_location(onnx::TensorProto::EXTERNAL);
      auto entry = [&](const std::string &key, const std::string &value) {
        onnx::StringStringEntryProto *e = init->add_external_data();
        e->set_key(key);
        e->set_value(value);
      };
      if (i == 0) {
        entry("location", location);
        entry("offset", offset);
        entry("length", std::to_string(6 * sizeof(float)));
      } else {
        entry("location", "v.data");
      }
    }
    std::string sum, out;
    b.node("Add", {x, w}, sum);
    b.node("Add", {sum, v}, out);
    b.output(out);
    std::string path = dir + "/model.onnx";
    std::ofstream file(path, std::ios::binary);
    b.model.SerializeToOstream(&file);
    return path;
  };
  Result<Executable> exe = compileFile(build("weights.data", "8"));
  ASSERT_TRUE(exe.ok()) << exe.message();
  Tensor x = Tensor::fromValues({2, 3}, {0.5f, 0.5f, 0.5f, -1, -1, -1});
  Result<std::vector<Tensor>> out = exe->run({x});
  ASSERT_TRUE(out.ok()) << out.message();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ((*out)[0].data()[i], (x.data()[i] + wValues[i]) + vValues[i % 3]);

  struct Case {
    std::string location, offset, error;
  };
  for (const Case &c : {Case{"missing.data", "0", "cannot read its external data file"},
                        Case{"weights.data", "12", "lies beyond the end of"},
                        Case{"../weights.data", "8", "must be a path inside the model's"},
                        Case{"/etc/passwd", "0", "must be a path inside the model's"}}) {
    Result<Executable> bad = compileFile(build(c.location, c.offset));
    ASSERT_FALSE(bad.ok()) << c.location;
    EXPECT_NE(bad.message().find(c.error), std::string::npos) << bad.message();
    EXPECT_NE(bad.message().find("initializer '"), std::string::npos) << bad.message();
  }
  std::filesystem::remove_all(dir);
}

// Raw float initializers of 16 KiB or more are cut out of the model's bytes
// before protobuf parses it and read where the file holds them: the same
// three uses as above, an initializer of the wrong size, and the
// initializers taken as inputs.
TEST(OnnxModels, LargeRawInitializers) {
  constexpr int64_t rows = 64, cols = 96; // 24 KiB
  models::OnnxModelBuilder b("large");
  std::vector<float> wValues(rows * cols);
  for (size_t i = 0; i < wValues.size(); ++i)
    wValues[i] = static_cast<float>(i % 251) * 0.5f - 60.0f;
  std::string w = rawInitializerModel(b, rows, cols, wValues);
  std::mt19937 rng(3);
  Tensor xValue = reference::randomTensor({rows, cols}, rng);
  auto check = [&](const std::vector<Tensor> &out) {
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2].shape(), (Shape{cols, rows}));
    for (size_t i = 0; i < wValues.size(); ++i) {
      ASSERT_EQ(out[0].data()[i], xValue.data()[i] + wValues[i]) << i;
      ASSERT_EQ(out[1].data()[i], wValues[i]) << i;
      ASSERT_EQ(out[2].data()[i], wValues[i]) << i;
    }
  };
  Result<Executable> exe = compileModel(b.model, "large");
  ASSERT_TRUE(exe.ok()) << exe.message();
  Result<std::vector<Tensor>> out = exe->run({xValue});
  ASSERT_TRUE(out.ok()) << out.message();
  check(*out);

  CompileOptions asInputs;
  asInputs.initializersAsInputs = true;
  Result<Executable> withInputs = compileModel(b.model, "large-inputs", asInputs);
  ASSERT_TRUE(withInputs.ok()) << withInputs.message();
  ASSERT_EQ(withInputs->inputs().size(), 2u);
  out = withInputs->run({xValue, Tensor::fromValues({rows, cols}, wValues)});
  ASSERT_TRUE(out.ok()) << out.message();
  check(*out);

  b.model.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(
      (rows * cols - 1) * sizeof(float));
  exe = compileModel(b.model, "large-short");
  ASSERT_FALSE(exe.ok());
  EXPECT_NE(exe.message().find("initializer '" + w + "' has shape [64, 96] (6144 elements) "
                               "but holds 6143 values"),
            std::string::npos)
      << exe.message();
}

// What splitLargeInitializers cuts: the raw_data of float initializers of
// the minimum size or more, not of other types, of smaller ones, of typed
// fields or of external data; everything else is the model as it was.
// Truncated and corrupted bytes are refused or split, never a crash.
TEST(OnnxModels, SplitLargeInitializers) {
  models::OnnxModelBuilder b("split");
  std::string x = b.input("x", {2});
  b.output(x);
  auto add = [&](const std::string &name, int type, size_t bytes) {
    onnx::TensorProto *t = b.model.mutable_graph()->add_initializer();
    t->set_name(name);
    t->add_dims(static_cast<int64_t>(bytes / 4));
    t->set_raw_data(std::string(bytes, static_cast<char>(name.size())));
    t->set_data_type(type); // written after raw_data: the scan reads the whole tensor
    return t;
  };
  add("big", onnx::TensorProto::FLOAT, 4096);
  add("small", onnx::TensorProto::FLOAT, 1024);
  add("ints", onnx::TensorProto::INT32, 4096);
  add("external", onnx::TensorProto::FLOAT, 4096)
      ->set_data_location(onnx::TensorProto::EXTERNAL);
  onnx::TensorProto *typed = b.model.mutable_graph()->add_initializer();
  typed->set_name("typed");
  typed->set_data_type(onnx::TensorProto::FLOAT);
  for (int i = 0; i < 1024; ++i)
    typed->add_float_data(static_cast<float>(i));
  add("big2", onnx::TensorProto::FLOAT, 8192);
  std::string bytes = b.model.SerializeAsString();

  std::optional<detail::SplitModel> split = detail::splitLargeInitializers(bytes, 4096);
  ASSERT_TRUE(split.has_value());
  onnx::ModelProto skeleton;
  ASSERT_TRUE(skeleton.ParseFromString(split->skeleton));
  const auto &original = b.model.graph().initializer();
  ASSERT_EQ(skeleton.graph().initializer_size(), original.size());
  ASSERT_EQ(split->rawData.size(), static_cast<size_t>(original.size()));
  for (int i = 0; i < original.size(); ++i) {
    bool cut = original[i].name() == "big" || original[i].name() == "big2";
    SCOPED_TRACE(original[i].name());
    EXPECT_EQ(skeleton.graph().initializer(i).has_raw_data(), !cut && original[i].has_raw_data());
    if (cut)
      EXPECT_EQ(split->rawData[i].str(), original[i].raw_data());
    else
      EXPECT_TRUE(split->rawData[i].empty());
    onnx::TensorProto expected = original[i];
    if (cut)
      expected.clear_raw_data();
    EXPECT_EQ(skeleton.graph().initializer(i).SerializeAsString(),
              expected.SerializeAsString());
  }
  onnx::ModelProto rest = b.model, skeletonRest = skeleton;
  rest.mutable_graph()->clear_initializer();
  skeletonRest.mutable_graph()->clear_initializer();
  EXPECT_EQ(skeletonRest.SerializeAsString(), rest.SerializeAsString());

  // Whatever a split of `input` cuts lies inside `input`.
  auto checkSplit = [](llvm::StringRef input) {
    std::optional<detail::SplitModel> part = detail::splitLargeInitializers(input, 4096);
    if (part)
      for (llvm::StringRef raw : part->rawData)
        EXPECT_TRUE(raw.empty() || (raw.data() >= input.begin() && raw.end() <= input.end()));
  };
  for (size_t length = 0; length < bytes.size(); length += 1 + length / 64)
    checkSplit(llvm::StringRef(bytes).take_front(length));
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string corrupt = bytes;
    for (int k = 0; k < 3; ++k)
      corrupt[rng() % corrupt.size()] = static_cast<char>(rng());
    checkSplit(corrupt);
  }
}

TEST(OnnxModels, ResNet18) { checkModel(models::resnet18(1, 64), {1, 3, 64, 64}, 2); }

TEST(OnnxModels, MobileNetV2) { checkModel(models::mobilenetV2(1, 96), {1, 3, 96, 96}, 2); }

TEST(OnnxModels, VggBatch2) { checkModel(models::vgg(2), {2, 3, 32, 32}, 1); }

TEST(OnnxModels, EfficientNetB0) {
  checkModel(models::efficientnetB0(1, 64), {1, 3, 64, 64}, 2);
}

TEST(OnnxModels, UNet) { checkModel(models::unet(2, 32), {2, 3, 32, 32}, 2); }

// 58 dense layers whose batch norms, 1x1 convolutions and concatenation
// copies differ only in their input's channel count: tessel-merge-kernels
// makes each kind one kernel that takes the count as an argument.
TEST(OnnxModels, DenseNet121) {
  checkModel(models::densenet121(1, 32), {1, 3, 32, 32}, 2);
}

} // namespace
