"""The PyTorch side of nn-port.test: the torchvision-style ResNet of
examples/nn_demo.cpp (SmallResNet), built from torchvision's own BasicBlock,
and torchvision's resnet18 and mobilenet_v2, with random weights and
batch-norm statistics, in eval mode. Writes each one's state_dict as
DIR/<name>/weights.npz (np.savez, as docs/nn.md tells PyTorch users), an
input and PyTorch's output."""

import os
import sys

import numpy as np
import torch
from torch import nn
from torchvision.models import mobilenet_v2, resnet18
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


def save(name, model, shape):
    # Batch-norm statistics and affine parameters away from their defaults.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
            m.num_batches_tracked.fill_(7)
    model.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out, name)
    os.makedirs(path, exist_ok=True)
    np.savez(os.path.join(path, "weights.npz"),
             **{k: v.numpy() for k, v in model.state_dict().items()})
    np.save(os.path.join(path, "input.npy"), x.numpy())
    np.save(os.path.join(path, "output.npy"), y.numpy())


save("small_resnet", SmallResNet(), (2, 3, 20, 18))
save("resnet18", resnet18(), (1, 3, 64, 64))
save("mobilenet_v2", mobilenet_v2(), (1, 3, 64, 64))
