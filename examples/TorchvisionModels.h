//===- TorchvisionModels.h - torchvision's ResNet-18 and MobileNetV2 -*- C++ -*-===//
//
// torchvision.models.resnet18 and mobilenet_v2 written with tessel::nn,
// module for module, so that their state dicts (np.savez of
// model.state_dict()) load by name. tessel-bench --train times their
// training steps against PyTorch's; test/Examples/nn-port.test checks both
// against torchvision's outputs.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_EXAMPLES_TORCHVISIONMODELS_H
#define TESSEL_EXAMPLES_TORCHVISIONMODELS_H

#include "BasicBlock.h"

namespace torchvision {

namespace nn = tessel::nn;
using tessel::Graph;
using tessel::Value;

/// torchvision.models.ResNet with BasicBlocks: resnet18 is {2, 2, 2, 2}.
struct ResNet : nn::Module {
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::MaxPool2d> maxpool;
  std::vector<std::shared_ptr<nn::Sequential>> layers;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Linear> fc;

  explicit ResNet(std::vector<int> blocks = {2, 2, 2, 2}, int64_t classes = 1000)
      : Module("ResNet") {
    conv1 = registerModule(
        "conv1", nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
    bn1 = registerModule("bn1", nn::BatchNorm2d(64));
    maxpool = registerModule("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
    int64_t in = 64;
    for (size_t stage = 0; stage < blocks.size(); ++stage) {
      int64_t out = 64 << stage;
      nn::Sequential layer;
      for (int b = 0; b < blocks[stage]; ++b) {
        layer.push_back(resnet::BasicBlock(in, out, b == 0 && stage > 0 ? 2 : 1));
        in = out;
      }
      layers.push_back(registerModule("layer" + std::to_string(stage + 1), std::move(layer)));
    }
    avgpool = registerModule("avgpool", nn::AdaptiveAvgPool2d(1));
    fc = registerModule("fc", nn::Linear(in, classes));
  }

  Value forward(Graph &g, Value x) override {
    x = (*maxpool)(g, g.relu((*bn1)(g, (*conv1)(g, x))));
    for (auto &layer : layers)
      x = (*layer)(g, x);
    return (*fc)(g, g.flatten((*avgpool)(g, x), 1));
  }
};

/// torchvision's Conv2dNormActivation: conv (no bias), batch norm, ReLU6.
inline nn::Sequential convBnReLU6(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
                                  int64_t groups = 1) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                                       .stride(stride)
                                       .padding((kernel - 1) / 2)
                                       .groups(groups)
                                       .bias(false)),
                        nn::BatchNorm2d(out), nn::ReLU6());
}

/// torchvision.models.mobilenetv2.InvertedResidual.
struct InvertedResidual : nn::Module {
  std::shared_ptr<nn::Sequential> conv;
  bool residual;

  InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand)
      : Module("InvertedResidual"), residual(stride == 1 && in == out) {
    int64_t hidden = in * expand;
    nn::Sequential layers;
    if (expand != 1)
      layers.push_back(convBnReLU6(in, hidden, 1));
    layers.push_back(convBnReLU6(hidden, hidden, 3, stride, hidden));
    layers.push_back(nn::Conv2d(nn::Conv2dOptions(hidden, out, 1).bias(false)));
    layers.push_back(nn::BatchNorm2d(out));
    conv = registerModule("conv", std::move(layers));
  }

  Value forward(Graph &g, Value x) override {
    Value y = (*conv)(g, x);
    return residual ? g.add(x, y) : y;
  }
};

/// torchvision.models.mobilenet_v2 (width 1.0).
struct MobileNetV2 : nn::Module {
  std::shared_ptr<nn::Sequential> features, classifier;
  std::shared_ptr<nn::AdaptiveAvgPool2d> pool;

  explicit MobileNetV2(int64_t classes = 1000) : Module("MobileNetV2") {
    // (expansion, channels, blocks, first stride) per stage.
    const int64_t settings[][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                   {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
    nn::Sequential f;
    f.push_back(convBnReLU6(3, 32, 3, 2));
    int64_t in = 32;
    for (const auto &s : settings)
      for (int64_t b = 0; b < s[2]; ++b) {
        f.push_back(InvertedResidual(in, s[1], b == 0 ? s[3] : 1, s[0]));
        in = s[1];
      }
    f.push_back(convBnReLU6(in, 1280, 1));
    features = registerModule("features", std::move(f));
    // torchvision pools functionally; a registered module (it has no
    // parameters) follows setDataFormat.
    pool = registerModule("pool", nn::AdaptiveAvgPool2d(1));
    classifier =
        registerModule("classifier", nn::Sequential(nn::Dropout(0.2), nn::Linear(1280, classes)));
  }

  Value forward(Graph &g, Value x) override {
    x = (*pool)(g, (*features)(g, x));
    return (*classifier)(g, g.flatten(x, 1));
  }
};

} // namespace torchvision

#endif // TESSEL_EXAMPLES_TORCHVISIONMODELS_H
