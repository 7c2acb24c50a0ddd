//===- nn.h - tessel::nn, PyTorch-style modules -----------------*- C++ -*-===//
//
// One include for tessel::nn: Module and Sequential, compile/summary/
// save/load (tessel/nn/Module.h), the layers (tessel/nn/Layers.h),
// initialisation (tessel/nn/Init.h) and training loops: Trainer, the
// learning-rate schedulers and DataLoader (tessel/nn/Trainer.h). docs/nn.md maps torch.nn onto it.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_NN_H
#define TESSEL_NN_H

#include "tessel/nn/Init.h"
#include "tessel/nn/Layers.h"
#include "tessel/nn/Module.h"
#include "tessel/nn/Trainer.h"

#endif // TESSEL_NN_H
