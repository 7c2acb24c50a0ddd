//===- BasicBlock.h - torchvision's BasicBlock as a tessel::nn module -*- C++ -*-===//
//
// The custom-module example of docs/nn.md, shared by examples/nn_demo.cpp
// (whose small ResNet loads a PyTorch state dict) and test/Unit/NnTest.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_EXAMPLES_BASICBLOCK_H
#define TESSEL_EXAMPLES_BASICBLOCK_H

#include "tessel/nn.h"

namespace resnet {

namespace nn = tessel::nn;
using tessel::Graph;
using tessel::Value;

/// torchvision.models.resnet.BasicBlock: two 3x3 conv-BN pairs and the skip
/// connection, with a 1x1 conv-BN downsample when the shape changes.
struct BasicBlock : nn::Module {
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Sequential> downsample;

  BasicBlock(int64_t in, int64_t out, int64_t stride = 1) : Module("BasicBlock") {
    conv1 = registerModule(
        "conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = registerModule("bn1", nn::BatchNorm2d(out));
    conv2 = registerModule(
        "conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2 = registerModule("bn2", nn::BatchNorm2d(out));
    if (stride != 1 || in != out)
      downsample = registerModule(
          "downsample",
          nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                         nn::BatchNorm2d(out)));
  }

  Value forward(Graph &g, Value x) override {
    Value identity = downsample ? (*downsample)(g, x) : x;
    Value out = g.relu((*bn1)(g, (*conv1)(g, x)));
    out = (*bn2)(g, (*conv2)(g, out));
    return g.relu(g.add(out, identity));
  }
};

} // namespace resnet

#endif // TESSEL_EXAMPLES_BASICBLOCK_H
