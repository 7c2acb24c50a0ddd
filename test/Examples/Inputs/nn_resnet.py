"""The PyTorch side of nn-port.test: the torchvision-style ResNet of
examples/nn_demo.cpp (SmallResNet), built from torchvision's own BasicBlock,
with random weights and batch-norm statistics, in eval mode. Writes its
state_dict as weights.npz (np.savez, as docs/nn.md tells PyTorch users),
an input and PyTorch's output to the directory given."""

import os
import sys

import numpy as np
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock

out = sys.argv[1]
torch.manual_seed(0)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        downsample = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False),
                                   nn.BatchNorm2d(32))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, stride=2, downsample=downsample))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


model = SmallResNet()
# Batch-norm statistics and affine parameters away from their defaults.
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
        m.weight.data.uniform_(0.5, 1.5)
        m.bias.data.uniform_(-0.5, 0.5)
        m.num_batches_tracked.fill_(7)
model.eval()
x = torch.randn(2, 3, 20, 18)
with torch.no_grad():
    y = model(x)
os.makedirs(out, exist_ok=True)
np.savez(os.path.join(out, "weights.npz"),
         **{k: v.numpy() for k, v in model.state_dict().items()})
np.save(os.path.join(out, "input.npy"), x.numpy())
np.save(os.path.join(out, "output.npy"), y.numpy())
