//===- OnnxModels.h - Whole CNNs written as ONNX files ----------*- C++ -*-===//
//
// ResNet-18, MobileNetV2 and a VGG-style network built with libonnx's
// protobuf classes and random weights (He-scaled, so activations stay in
// range), for the whole-model tests and tessel-bench. Not Tessel code: the
// models are what an exporter would write.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TEST_MODELS_ONNXMODELS_H
#define TESSEL_TEST_MODELS_ONNXMODELS_H

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace tessel::models {

class OnnxModelBuilder {
public:
  explicit OnnxModelBuilder(const std::string &name, unsigned seed = 1) : rng(seed) {
    model.set_ir_version(8);
    model.set_producer_name("tessel-test-models");
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    graph = model.mutable_graph();
    graph->set_name(name);
  }

  std::string input(const std::string &name, const std::vector<int64_t> &shape) {
    onnx::ValueInfoProto *in = graph->add_input();
    in->set_name(name);
    auto *tensor = in->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape)
      tensor->mutable_shape()->add_dim()->set_dim_value(d);
    return name;
  }

  void output(const std::string &name) {
    onnx::ValueInfoProto *out = graph->add_output();
    out->set_name(name);
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }

  /// A float initializer with the given values.
  std::string constant(const std::vector<int64_t> &shape, const std::vector<float> &values) {
    onnx::TensorProto *t = graph->add_initializer();
    std::string name = fresh("w");
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape)
      t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                                values.size() * sizeof(float)));
    return name;
  }

  /// Uniform in [center - scale, center + scale).
  std::string random(const std::vector<int64_t> &shape, float scale, float center = 0.f) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    std::uniform_real_distribution<float> u(center - scale, center + scale);
    std::vector<float> v(n);
    for (float &x : v)
      x = u(rng);
    return constant(shape, v);
  }

  onnx::NodeProto *node(const std::string &op, const std::vector<std::string> &inputs,
                        std::string &out) {
    onnx::NodeProto *n = graph->add_node();
    n->set_op_type(op);
    n->set_name(fresh(op));
    for (const std::string &i : inputs)
      n->add_input(i);
    out = fresh("t");
    n->add_output(out);
    return n;
  }

  static void ints(onnx::NodeProto *n, const std::string &name, std::vector<int64_t> v) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  static void integer(onnx::NodeProto *n, const std::string &name, int64_t v) {
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }

  // --- layers (NCHW) ---
  std::string conv(const std::string &x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                   int64_t groups = 1, bool bias = false) {
    float scale = std::sqrt(6.0f / float(cin / groups * k * k));
    std::vector<std::string> in = {x, random({cout, cin / groups, k, k}, scale)};
    if (bias)
      in.push_back(random({cout}, 0.1f));
    std::string out;
    onnx::NodeProto *n = node("Conv", in, out);
    int64_t p = k / 2;
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {p, p, p, p});
    if (groups != 1)
      integer(n, "group", groups);
    return out;
  }
  std::string batchNorm(const std::string &x, int64_t c) {
    std::string out;
    onnx::NodeProto *n =
        node("BatchNormalization",
             {x, random({c}, 0.1f, 1.0f), random({c}, 0.1f), random({c}, 0.1f),
              random({c}, 0.2f, 1.0f)},
             out);
    (void)n;
    return out;
  }
  std::string relu(const std::string &x) {
    std::string out;
    node("Relu", {x}, out);
    return out;
  }
  std::string relu6(const std::string &x) {
    std::string out;
    node("Clip", {x, constant({}, {0.f}), constant({}, {6.f})}, out);
    return out;
  }
  std::string sigmoid(const std::string &x) {
    std::string out;
    node("Sigmoid", {x}, out);
    return out;
  }
  std::string mul(const std::string &a, const std::string &b) {
    std::string out;
    node("Mul", {a, b}, out);
    return out;
  }
  /// SiLU (swish) as PyTorch exports it: x * sigmoid(x).
  std::string silu(const std::string &x) { return mul(x, sigmoid(x)); }
  /// A k x k transposed conv with stride k (a learned 2x upsampling for k = 2).
  std::string convTranspose(const std::string &x, int64_t cin, int64_t cout, int64_t k) {
    std::string out;
    onnx::NodeProto *n =
        node("ConvTranspose",
             {x, random({cin, cout, k, k}, std::sqrt(6.0f / float(cin * k * k))),
              random({cout}, 0.1f)},
             out);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {k, k});
    return out;
  }
  std::string add(const std::string &a, const std::string &b) {
    std::string out;
    node("Add", {a, b}, out);
    return out;
  }
  std::string maxPool(const std::string &x, int64_t k, int64_t stride, int64_t pad) {
    std::string out;
    onnx::NodeProto *n = node("MaxPool", {x}, out);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {pad, pad, pad, pad});
    return out;
  }
  std::string avgPool(const std::string &x, int64_t k, int64_t stride) {
    std::string out;
    onnx::NodeProto *n = node("AveragePool", {x}, out);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    return out;
  }
  std::string concat(const std::vector<std::string> &xs) {
    std::string out;
    integer(node("Concat", xs, out), "axis", 1);
    return out;
  }
  std::string globalAvgPool(const std::string &x) {
    std::string out;
    node("GlobalAveragePool", {x}, out);
    return out;
  }
  std::string flatten(const std::string &x) {
    std::string out;
    node("Flatten", {x}, out);
    return out;
  }
  /// PyTorch's Linear as exported: Gemm with transB = 1.
  std::string linear(const std::string &x, int64_t in, int64_t outFeatures) {
    std::string out;
    onnx::NodeProto *n = node("Gemm",
                              {x, random({outFeatures, in}, std::sqrt(3.0f / float(in))),
                               random({outFeatures}, 0.1f)},
                              out);
    integer(n, "transB", 1);
    return out;
  }

  /// The ImageNet stem of ResNet and DenseNet: 7x7/2 conv to 64 channels,
  /// batch norm, ReLU, 3x3/2 max pool.
  std::string stem(const std::string &x) {
    return maxPool(relu(batchNorm(conv(x, 3, 64, 7, 2), 64)), 3, 2, 1);
  }
  /// Global average pool, flatten, linear: the classifier of them all.
  std::string classifier(const std::string &x, int64_t channels, int64_t classes) {
    return linear(flatten(globalAvgPool(x)), channels, classes);
  }
  /// VGG's feature stack: for each entry of `config` a 3x3 conv (with bias)
  /// + ReLU to that many channels, or for a 0 a 2x2 max pool.
  std::string vggFeatures(std::string x, int64_t &channels,
                          const std::vector<int64_t> &config) {
    for (int64_t c : config) {
      if (c == 0) {
        x = maxPool(x, 2, 2, 0);
        continue;
      }
      x = relu(conv(x, channels, c, 3, 1, 1, /*bias=*/true));
      channels = c;
    }
    return x;
  }
  /// MobileNetV2's inverted residual (EfficientNet's MBConv with
  /// `squeezeExcite`): 1x1 expansion by `expansion` (none for 1), k x k
  /// depthwise conv, optional squeeze-and-excitation (to a quarter of the
  /// input channels), 1x1 projection to `out`, each conv batch-normed and
  /// the first two followed by `activation`; the input added back when the
  /// shapes allow.
  std::string invertedResidual(const std::string &x, int64_t channels, int64_t out,
                               int64_t expansion, int64_t kernel, int64_t stride,
                               std::string (OnnxModelBuilder::*activation)(const std::string &),
                               bool squeezeExcite) {
    int64_t hidden = channels * expansion;
    std::string y = x;
    if (expansion != 1)
      y = (this->*activation)(batchNorm(conv(y, channels, hidden, 1, 1), hidden));
    y = (this->*activation)(batchNorm(conv(y, hidden, hidden, kernel, stride, hidden), hidden));
    if (squeezeExcite) {
      int64_t squeeze = std::max<int64_t>(1, channels / 4);
      std::string scale = globalAvgPool(y);
      scale = silu(conv(scale, hidden, squeeze, 1, 1, 1, /*bias=*/true));
      scale = sigmoid(conv(scale, squeeze, hidden, 1, 1, 1, /*bias=*/true));
      y = mul(y, scale);
    }
    y = batchNorm(conv(y, hidden, out, 1, 1), out);
    return stride == 1 && channels == out ? add(x, y) : y;
  }

  bool write(const std::string &path) const {
    std::ofstream file(path, std::ios::binary);
    return model.SerializeToOstream(&file);
  }

  onnx::ModelProto model;

private:
  std::string fresh(const std::string &prefix) { return prefix + std::to_string(counter++); }
  onnx::GraphProto *graph;
  std::mt19937 rng;
  int counter = 0;
};

/// torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2]) on `size` x `size` images.
inline onnx::ModelProto resnet18(int64_t batch, int64_t size, int64_t classes = 1000) {
  OnnxModelBuilder b("resnet18");
  std::string x = b.input("image", {batch, 3, size, size});
  x = b.stem(x);
  int64_t channels = 64;
  for (int64_t stage = 0; stage < 4; ++stage) {
    int64_t width = 64 << stage;
    for (int block = 0; block < 2; ++block) {
      int64_t stride = stage > 0 && block == 0 ? 2 : 1;
      std::string y = b.relu(b.batchNorm(b.conv(x, channels, width, 3, stride), width));
      y = b.batchNorm(b.conv(y, width, width, 3, 1), width);
      std::string shortcut = x;
      if (stride != 1 || channels != width)
        shortcut = b.batchNorm(b.conv(x, channels, width, 1, stride), width);
      x = b.relu(b.add(y, shortcut));
      channels = width;
    }
  }
  std::string logits = b.classifier(x, channels, classes);
  b.output(logits);
  return b.model;
}

/// torchvision's ResNet-50 (Bottleneck, [3, 4, 6, 3], stride on the 3x3).
inline onnx::ModelProto resnet50(int64_t batch, int64_t size, int64_t classes = 1000) {
  OnnxModelBuilder b("resnet50");
  std::string x = b.input("image", {batch, 3, size, size});
  x = b.stem(x);
  int64_t channels = 64;
  const int blocks[] = {3, 4, 6, 3};
  for (int64_t stage = 0; stage < 4; ++stage) {
    int64_t width = 64 << stage, out = width * 4;
    for (int block = 0; block < blocks[stage]; ++block) {
      int64_t stride = stage > 0 && block == 0 ? 2 : 1;
      std::string y = b.relu(b.batchNorm(b.conv(x, channels, width, 1, 1), width));
      y = b.relu(b.batchNorm(b.conv(y, width, width, 3, stride), width));
      y = b.batchNorm(b.conv(y, width, out, 1, 1), out);
      std::string shortcut = x;
      if (stride != 1 || channels != out)
        shortcut = b.batchNorm(b.conv(x, channels, out, 1, stride), out);
      x = b.relu(b.add(y, shortcut));
      channels = out;
    }
  }
  std::string logits = b.classifier(x, channels, classes);
  b.output(logits);
  return b.model;
}

/// torchvision's DenseNet-121 (growth 32, blocks [6, 12, 24, 16], each
/// layer BN-ReLU-1x1 conv-BN-ReLU-3x3 conv concatenated to its input).
inline onnx::ModelProto densenet121(int64_t batch, int64_t size, int64_t classes = 1000) {
  OnnxModelBuilder b("densenet121");
  std::string x = b.input("image", {batch, 3, size, size});
  x = b.stem(x);
  int64_t channels = 64;
  const int64_t growth = 32, layers[] = {6, 12, 24, 16};
  for (int stage = 0; stage < 4; ++stage) {
    for (int64_t i = 0; i < layers[stage]; ++i) {
      std::string y = b.conv(b.relu(b.batchNorm(x, channels)), channels, 4 * growth, 1, 1);
      y = b.conv(b.relu(b.batchNorm(y, 4 * growth)), 4 * growth, growth, 3, 1);
      x = b.concat({x, y});
      channels += growth;
    }
    if (stage < 3) {
      x = b.conv(b.relu(b.batchNorm(x, channels)), channels, channels / 2, 1, 1);
      x = b.avgPool(x, 2, 2);
      channels /= 2;
    }
  }
  x = b.relu(b.batchNorm(x, channels));
  std::string logits = b.classifier(x, channels, classes);
  b.output(logits);
  return b.model;
}

/// torchvision's MobileNetV2 (inverted residuals, depthwise 3x3, ReLU6).
inline onnx::ModelProto mobilenetV2(int64_t batch, int64_t size, int64_t classes = 1000) {
  OnnxModelBuilder b("mobilenet_v2");
  std::string x = b.input("image", {batch, 3, size, size});
  x = b.relu6(b.batchNorm(b.conv(x, 3, 32, 3, 2), 32));
  int64_t channels = 32;
  const int64_t settings[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},
                                 {6, 64, 4, 2}, {6, 96, 3, 1},  {6, 160, 3, 2},
                                 {6, 320, 1, 1}};
  for (const auto &s : settings) {
    for (int64_t i = 0; i < s[2]; ++i) {
      x = b.invertedResidual(x, channels, s[1], s[0], 3, i == 0 ? s[3] : 1,
                             &OnnxModelBuilder::relu6, /*squeezeExcite=*/false);
      channels = s[1];
    }
  }
  x = b.relu6(b.batchNorm(b.conv(x, channels, 1280, 1, 1), 1280));
  std::string logits = b.classifier(x, 1280, classes);
  b.output(logits);
  return b.model;
}

/// torchvision's VGG-16 (configuration D, no batch norm) on `size` x `size`
/// images, `size` a multiple of 32; the adaptive pool to 7x7 before the
/// classifier is left out, so at 224 the model is torchvision's exactly (138
/// million weights, 528 MB).
inline onnx::ModelProto vgg16(int64_t batch, int64_t size, int64_t classes = 1000) {
  OnnxModelBuilder b("vgg16");
  std::string x = b.input("image", {batch, 3, size, size});
  int64_t channels = 3;
  x = b.vggFeatures(x, channels, {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0,
                                  512, 512, 512, 0});
  int64_t features = 512 * (size / 32) * (size / 32);
  x = b.relu(b.linear(b.flatten(x), features, 4096));
  x = b.relu(b.linear(x, 4096, 4096));
  std::string logits = b.linear(x, 4096, classes);
  b.output(logits);
  return b.model;
}

/// torchvision's EfficientNet-B0: MBConv blocks (1x1 expansion, depthwise
/// k x k, squeeze-and-excitation, 1x1 projection) with SiLU, eval mode.
inline onnx::ModelProto efficientnetB0(int64_t batch, int64_t size, int64_t classes = 1000) {
  OnnxModelBuilder b("efficientnet_b0");
  std::string x = b.input("image", {batch, 3, size, size});
  x = b.silu(b.batchNorm(b.conv(x, 3, 32, 3, 2), 32));
  int64_t channels = 32;
  // expansion, output channels, repeats, first stride, kernel
  const int64_t stages[][5] = {{1, 16, 1, 1, 3},  {6, 24, 2, 2, 3},  {6, 40, 2, 2, 5},
                               {6, 80, 3, 2, 3},  {6, 112, 3, 1, 5}, {6, 192, 4, 2, 5},
                               {6, 320, 1, 1, 3}};
  for (const auto &s : stages) {
    for (int64_t i = 0; i < s[2]; ++i) {
      x = b.invertedResidual(x, channels, s[1], s[0], s[4], i == 0 ? s[3] : 1,
                             &OnnxModelBuilder::silu, /*squeezeExcite=*/true);
      channels = s[1];
    }
  }
  x = b.silu(b.batchNorm(b.conv(x, channels, 1280, 1, 1), 1280));
  std::string logits = b.classifier(x, 1280, classes);
  b.output(logits);
  return b.model;
}

/// A small UNet: two 3x3 conv + ReLU encoder levels (3 -> 8 -> 16 channels)
/// with a 2x2 max pool between, a 2x2 stride-2 transposed conv back up,
/// the skip connection concatenated, a 3x3 conv + ReLU and a 1x1 conv to
/// `classes` channels, on `size` x `size` images (size even).
inline onnx::ModelProto unet(int64_t batch, int64_t size, int64_t classes = 3) {
  OnnxModelBuilder b("unet");
  std::string x = b.input("image", {batch, 3, size, size});
  std::string skip = b.relu(b.conv(x, 3, 8, 3, 1, 1, /*bias=*/true));
  std::string y = b.relu(b.conv(b.maxPool(skip, 2, 2, 0), 8, 16, 3, 1, 1, /*bias=*/true));
  y = b.concat({skip, b.convTranspose(y, 16, 8, 2)});
  y = b.relu(b.conv(y, 16, 8, 3, 1, 1, /*bias=*/true));
  std::string logits = b.conv(y, 8, classes, 1, 1, 1, /*bias=*/true);
  b.output(logits);
  return b.model;
}

/// A VGG-style network: 3x3 conv + ReLU stages with 2x2 max pools, then two
/// fully connected layers, on 32 x 32 images.
inline onnx::ModelProto vgg(int64_t batch) {
  OnnxModelBuilder b("vgg");
  std::string x = b.input("image", {batch, 3, 32, 32});
  int64_t channels = 3;
  x = b.vggFeatures(x, channels, {64, 0, 128, 0, 256, 256, 0, 512, 512, 0});
  x = b.relu(b.linear(b.flatten(x), 512 * 2 * 2, 256));
  std::string logits = b.linear(x, 256, 10);
  b.output(logits);
  return b.model;
}

} // namespace tessel::models

#endif // TESSEL_TEST_MODELS_ONNXMODELS_H
