//===- nn.h - tessel::nn, PyTorch-style modules -----------------*- C++ -*-===//
//
// One include for tessel::nn: Module and Sequential, compile/summary/
// save/load (tessel/nn/Module.h), the layers (tessel/nn/Layers.h) and
// initialisation (tessel/nn/Init.h). docs/nn.md maps torch.nn onto it.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_NN_H
#define TESSEL_NN_H

#include "tessel/nn/Init.h"
#include "tessel/nn/Layers.h"
#include "tessel/nn/Module.h"

#endif // TESSEL_NN_H
