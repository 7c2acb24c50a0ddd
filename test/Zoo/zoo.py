#!/usr/bin/env python3
"""PyTorch as the oracle for Tessel's ONNX import.

  zoo.py generate DIR [--only NAME,...]
      Exports the zoo with Debian's PyTorch/torchvision into DIR: for each
      model MODEL.onnx, MODEL.in.npy (its input) and MODEL.out.npy (PyTorch's
      output); the hand-written models (text_zoo) as MODEL.onnxtxt. Weights are random (seeded) and batch-norm statistics are
      randomized too: with the defaults (mean 0, variance 1) many models'
      outputs are nearly constant and hide errors. Skipped when DIR holds
      the zoo of this very script already (DIR/stamp).
  zoo.py check DIR TESSEL_RUN
      Runs each model through `TESSEL_RUN MODEL.onnx[txt]` and compares with
      PyTorch's output: |tessel - torch| <= 1e-4 * max|torch| elementwise
      (1e-4 relative to the output's scale). The nets exported in training
      mode also run with --wrt (the input and every parameter) and --vjp,
      against PyTorch's autograd, each gradient relative to its own scale
      (at least 1e-3 of the largest gradient's), and with --jvp along a
      random tangent of x and --hvp along a random vector (against central
      differences in float64 of the model and of autograd's gradient).
      Prints one line per run and
      "N passed, M failed"; exits 1 when any fails.
"""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np


def zoo():
    """(name, module factory, input shape, opset) of every zoo entry."""
    import torch
    import torch.nn as nn
    import torchvision.models as tv
    import torchvision.models.segmentation as seg
    import torchvision.models.video as video

    class Pads(nn.Module):
        """Every padding layer and padding_mode of torch.nn."""

        def __init__(self):
            super().__init__()
            self.reflect = nn.ReflectionPad2d((1, 2, 3, 0))
            self.replicate = nn.ReplicationPad2d(2)
            self.zero = nn.ZeroPad2d((0, 1, 1, 0))
            self.constant = nn.ConstantPad2d((1, 1, 2, 0), 0.5)
            self.conv_reflect = nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")
            self.conv_replicate = nn.Conv2d(4, 4, 3, padding=2, padding_mode="replicate")
            self.conv_zeros = nn.Conv2d(4, 4, 3, padding=1)
            self.reflect1d = nn.ReflectionPad1d(2)
            self.replicate3d = nn.ReplicationPad3d(1)

        def forward(self, x):
            y = self.constant(self.zero(self.replicate(self.reflect(x))))
            y = self.conv_zeros(self.conv_replicate(self.conv_reflect(y)))
            line = self.reflect1d(y.flatten(2))
            cube = self.replicate3d(y.unsqueeze(1))
            return torch.cat([line.flatten(1), cube.flatten(1)], 1)

    class Activations(nn.Module):
        """The activations of torch.nn around convolutions."""

        def __init__(self, opset):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.acts = nn.ModuleList([
                nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.1), nn.PReLU(8), nn.ELU(0.7),
                nn.SELU(), nn.GELU(), nn.SiLU(), nn.Mish(), nn.Hardswish(),
                nn.Hardsigmoid(), nn.Hardtanh(-0.5, 0.8), nn.Softplus(), nn.Softsign(),
                nn.Sigmoid(), nn.Tanh(), nn.Identity()])
            if opset >= 12:  # PyTorch exports CELU from opset 12 on
                self.acts.append(nn.CELU(1.3))

        def forward(self, x):
            y = self.conv(x) * 2.0
            return torch.cat([a(y) for a in self.acts], 1)

    class Upsampling(nn.Module):
        """Every upsampling mode of nn.Upsample / F.interpolate on 2-D maps."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.ups = nn.ModuleList([
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                nn.Upsample(size=(20, 18), mode="bilinear"),
                nn.Upsample(size=(20, 18), mode="nearest"),
                nn.PixelShuffle(2)])

        def forward(self, x):
            y = self.conv(x)
            return torch.cat([u(y).flatten(1) for u in self.ups], 1)

    class Norms(nn.Module):
        """Batch, instance, group and layer norm, and pools around them."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.inorm = nn.InstanceNorm2d(8, affine=True)
            self.gn = nn.GroupNorm(2, 8)
            self.ln = nn.LayerNorm([8, 10, 10])
            self.pools = nn.ModuleList([
                nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                nn.AvgPool2d(3, ceil_mode=True), nn.LPPool2d(2, 2), nn.AdaptiveAvgPool2d(5),
                nn.AdaptiveMaxPool2d(1)])

        def forward(self, x):
            y = self.ln(self.gn(self.inorm(self.bn(self.conv(x)))))
            return torch.cat([p(y).flatten(1) for p in self.pools], 1)

    def small_head(factory, channels):
        """VGG and AlexNet with global average pooling and a 10-class head:
        their own heads hold hundreds of megabytes of weights, which the zoo
        need not test."""
        def build():
            model = factory()
            model.avgpool = nn.AdaptiveAvgPool2d(1)
            model.classifier = nn.Linear(channels, 10)
            return model
        return build

    # The deep and wide members of a family are its shallow ones with more
    # blocks and weights: each family once, one block per stage, where
    # torchvision's smallest member is large.
    from torchvision.models.resnet import Bottleneck, ResNet
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    from torchvision.models.video.resnet import (BasicBlock as VideoBlock, BasicStem,
                                                 Conv2Plus1D, Conv3DNoTemporal, Conv3DSimple,
                                                 R2Plus1dStem, VideoResNet)
    from torchvision.models.segmentation.fcn import FCN, FCNHead
    from torchvision.models._utils import IntermediateLayerGetter

    def bottleneck_resnet(**kwargs):
        return lambda: ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10, **kwargs)

    def fcn():
        backbone = ResNet(Bottleneck, [1, 1, 1, 1], replace_stride_with_dilation=[False, True, True])
        return FCN(IntermediateLayerGetter(backbone, {"layer4": "out"}), FCNHead(2048, 5))

    def video_resnet(convs, stem):
        return lambda: VideoResNet(VideoBlock, convs, [1, 1, 1, 1], stem, num_classes=10)

    def small_convnext():
        return ConvNeXt([CNBlockConfig(24, 48, 1), CNBlockConfig(48, 96, 1),
                         CNBlockConfig(96, 192, 2), CNBlockConfig(192, None, 1)],
                        num_classes=10)

    image = lambda size: (1, 3, size, size)
    entries = []
    for opset in (11, 13, 17):
        entries += [
            (f"pads_op{opset}", Pads, (1, 3, 8, 9), opset),
            (f"activations_op{opset}", lambda opset=opset: Activations(opset), (1, 3, 10, 10),
             opset),
            (f"upsampling_op{opset}", Upsampling, (1, 3, 10, 9), opset),
            (f"norms_op{opset}", Norms, (1, 3, 10, 10), opset),
        ]
    classification = [
        ("resnet18", tv.resnet18, 64), ("resnet_bottleneck", bottleneck_resnet(), 64),
        ("resnext", bottleneck_resnet(groups=32, width_per_group=4), 64),
        ("wide_resnet", bottleneck_resnet(width_per_group=128), 32),
        ("vgg11_bn", small_head(tv.vgg11_bn, 512), 32),
        ("alexnet", small_head(tv.alexnet, 256), 64),
        ("squeezenet1_1", tv.squeezenet1_1, 64), ("densenet121", tv.densenet121, 32),
        ("googlenet", lambda: tv.googlenet(aux_logits=False, init_weights=True), 32),
        ("inception_v3", lambda: tv.inception_v3(aux_logits=False, init_weights=True), 75),
        ("mobilenet_v2", tv.mobilenet_v2, 32), ("mobilenet_v3_small", tv.mobilenet_v3_small, 64),
        ("mobilenet_v3_large", tv.mobilenet_v3_large, 32), ("mnasnet0_5", tv.mnasnet0_5, 32),
        ("shufflenet_v2_x0_5", tv.shufflenet_v2_x0_5, 32),
        ("efficientnet_b0", tv.efficientnet_b0, 32), ("regnet_y_400mf", tv.regnet_y_400mf, 32),
        ("convnext", small_convnext, 64),
    ]
    models = [(n, f, image(s)) for n, f, s in classification] + [
        ("fcn", fcn, image(32)),
        ("deeplabv3_mobilenet_v3_large",
         lambda: seg.deeplabv3_mobilenet_v3_large(weights_backbone=None, aux_loss=False), image(32)),
        ("lraspp_mobilenet_v3_large",
         lambda: seg.lraspp_mobilenet_v3_large(weights_backbone=None), image(32)),
        ("r3d", video_resnet([Conv3DSimple] * 4, BasicStem), (1, 3, 4, 32, 32)),
        ("mc3", video_resnet([Conv3DSimple] + [Conv3DNoTemporal] * 3, BasicStem),
         (1, 3, 4, 32, 32)),
        ("r2plus1d", video_resnet([Conv2Plus1D] * 4, R2Plus1dStem), (1, 3, 4, 32, 32)),
    ]
    # Every model at opset 13, and at 11 and 17: the exporter's other
    # versions of Resize, Pad, Split, Squeeze, the reductions and LayerNorm.
    for name, factory, shape in models:
        entries.append((name, factory, shape, 13))
        entries += [(f"{name}_op{opset}", factory, shape, opset) for opset in (11, 17)]
    return entries


def gradient_zoo():
    """(name, module factory, input shape, opset) of the nets exported in
    training mode whose gradients (with respect to the input and every
    parameter) Tessel computes with `tessel-run --wrt` and PyTorch with
    autograd."""
    import torch.nn as nn
    entries = [e for e in zoo() if e[0].split("_op")[0] in ("pads", "upsampling", "activations")
               and e[3] == 13]

    class Pools(nn.Module):
        """Convolutions (strided, dilated, grouped, transposed) and pools,
        with batch norm on batch statistics (training mode)."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
            self.depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
            self.pools = nn.ModuleList([
                nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1), nn.LPPool2d(2, 2),
                nn.AdaptiveAvgPool2d(2), nn.AdaptiveMaxPool2d(1)])

        def forward(self, x):
            y = self.up(self.depthwise(self.dilated(self.bn(self.conv(x)).relu())))
            return torch.cat([p(y).flatten(1) for p in self.pools], 1)

    class Broadcasts(nn.Module):
        """expand and repeat (ONNX Expand and Tile) of run-time tensors."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            return y[:, :1].expand(-1, 3, -1, -1) * y[:, 1:] + y.repeat(1, 1, 2, 3)[:, 1:, :6, :6]

    import torch
    entries.append(("pools_op13", Pools, (2, 3, 12, 12), 13))
    entries.append(("broadcasts_op13", Broadcasts, (1, 3, 6, 6), 13))
    return [("grad_" + n, f, shape, opset) for n, f, shape, opset in entries]


def text_zoo():
    """(name, input shape, build) of hand-written ONNX models: the opsets
    18-21 that PyTorch 1.13's exporter does not write, and ops of run-time
    tensors that it writes on constants only. build(torch) gives the model's
    text, its seeded weights by name (float initializers) and the reference:
    reference(x, weights) computes the same with torch; when the entry has
    weights or is marked for gradients, autograd differentiates it."""
    import torch.nn.functional as F

    import torch

    def tensor(name, t):
        """An initializer in ONNX's text syntax."""
        kind = {torch.bool: "bool", torch.int64: "int64"}.get(t.dtype, "float")
        number = "{:.9g}" if kind == "float" else "{:d}"
        values = ", ".join(number.format(v) for v in t.detach().flatten().tolist())
        dims = ",".join(str(d) for d in t.shape)
        return f"{kind}[{dims}] {name} = {{{values}}}"

    def model(opset, signature, inits, body):
        weights = "" if not inits else "<" + ", ".join(tensor(n, t) for n, t in inits) + ">"
        return f'<ir_version: 8, opset_import: ["" : {opset}]>\n{signature}\n{weights}\n{{{body}\n}}\n'

    def flat_cat(parts):
        """torch: the tensors, each flattened, concatenated (flat_concat's)."""
        return torch.cat([p.flatten(1) for p in parts], 1)

    def flat_concat(*names):
        """ONNX text: y = the named values, each flattened, concatenated."""
        lines = [f"  flat_{n} = Flatten ({n})" for n in names]
        return "\n" + "\n".join(lines) + "\n  y = Concat <axis = 1> (" + \
            ", ".join(f"flat_{n}" for n in names) + ")"

    def reductions(torch):
        text = model(18, "g (float[1,3,4,5] x) => (float[1,93] y)", [], """
  axes23 = Constant <value = int64[2] {2, 3}> ()
  last = Constant <value = int64[1] {-1}> ()
  one = Constant <value = int64[1] {1}> ()
  two = Constant <value = int64[1] {2}> ()
  three = Constant <value = int64[1] {3}> ()
  a = ReduceMean (x, axes23)
  b = ReduceL1 <keepdims = 0> (x, last)
  c = ReduceL2 (x, one)
  d = ReduceLogSumExp <keepdims = 0> (x, axes23)
  e = ReduceMax <keepdims = 0> (x, one)
  f = ReduceMin (x)
  g = ReduceSumSquare (x, three)
  ax = Abs (x)
  h = ReduceLogSum (ax, two)
  i = ReduceMean <noop_with_empty_axes = 1> (x)
  i2 = ReduceSum (i, two)""" + flat_concat("a", "b", "c", "d", "e", "f", "g", "h", "i2"))

        def reference(x, w):
            parts = [x.mean((2, 3), keepdim=True), x.abs().sum(-1),
                     x.pow(2).sum(1, keepdim=True).sqrt(), torch.logsumexp(x, (2, 3)),
                     x.amax(1), x.amin().reshape(1, 1, 1, 1), x.pow(2).sum(3, keepdim=True),
                     x.abs().sum(2, keepdim=True).log(), x.sum(2, keepdim=True)]
            return flat_cat(parts)
        return text, {}, reference

    def pad_resize_split(torch):
        text = model(18, "g (float[1,2,5,7] x) => (float[1,334] y)",
                     [("pads", torch.tensor([1, 2, 0, 1])), ("axes", torch.tensor([2, -1])),
                      ("scales", torch.tensor([2.0, 1.5]))], """
  p = Pad <mode = "reflect"> (x, pads, , axes)
  r = Resize <mode = "linear", axes = [2, 3]> (x, , scales)
  a, b, c = Split <axis = 3, num_outputs = 3> (x)
  c2 = Neg (c)""" + flat_concat("p", "r", "c2", "b", "a"))

        def reference(x, w):
            a, b, c = torch.split(x, 3, dim=3)
            parts = [F.pad(x, (2, 1, 1, 0), mode="reflect"),
                     F.interpolate(x, scale_factor=(2.0, 1.5), mode="bilinear",
                                   align_corners=False), -c, b, a]
            return flat_cat(parts)
        return text, {}, reference

    def pools(torch):
        text = model(19, "g (float[1,2,9,9] x) => (float[1,202] y)", [], """
  a = AveragePool <kernel_shape = [3, 3], dilations = [2, 2], pads = [2, 2, 2, 2]> (x)
  l = LpPool <kernel_shape = [2, 2], dilations = [2, 1], strides = [2, 2], ceil_mode = 1> (x)
""".rstrip() + flat_concat("a", "l"))

        def reference(x, w):
            n, c = x.shape[:2]
            # Averages over the window's elements inside the input.
            sums = F.unfold(x, 3, dilation=2, padding=2).view(n, c, 9, -1).sum(2)
            counts = F.unfold(torch.ones_like(x), 3, dilation=2, padding=2).view(n, c, 9, -1).sum(2)
            avg = (sums / counts).view(n, c, 9, 9)
            # ceil_mode: the last window hangs over the right edge (zeros).
            padded = F.pad(x, (0, 1, 0, 0))
            lp = F.unfold(padded * padded, 2, dilation=(2, 1), stride=2).view(n, c, 4, -1)
            lp = lp.sum(2).sqrt().view(n, c, 4, 5)
            return flat_cat([avg, lp])
        return text, {}, reference

    def group_norm(opset):
        def build(torch):
            per = 3 if opset < 21 else 6
            scale, bias = torch.rand(per) + 0.5, torch.rand(per) - 0.5
            text = model(opset, "g (float[1,6,4,4] x) => (float[1,6,4,4] y)",
                         [("scale", scale), ("bias", bias)], """
  y = GroupNormalization <num_groups = 3, epsilon = 0.001> (x, scale, bias)""")

            def reference(x, w):
                s, b = w["scale"], w["bias"]
                if opset < 21:
                    s, b = s.repeat_interleave(2), b.repeat_interleave(2)
                return F.group_norm(x, 3, s, b, eps=0.001)
            return text, {"scale": scale, "bias": bias}, reference
        return build

    def gelu(torch):
        text = model(20, "g (float[2,3,5] x) => (float[2,3,10] y)", [], """
  a = Gelu (x)
  b = Gelu <approximate = "tanh"> (x)
  y = Concat <axis = 2> (a, b)""")
        return text, {}, lambda x, w: torch.cat(
            [F.gelu(x), F.gelu(x, approximate="tanh")], 2)

    def conv(torch):
        weight, bias = torch.randn(4, 2, 3, 3) * 0.3, torch.randn(4)
        text = model(21, "g (float[1,2,6,6] x) => (float[1,64] y)",
                     [("weight", weight), ("bias", bias)], """
  c = Conv <pads = [0, 0, 0, 0], strides = [1, 1]> (x, weight, bias)
  r = Relu (c)
  t = Transpose <perm = [0, 2, 3, 1]> (r)
  y = Flatten (t)""")
        return text, {"weight": weight, "bias": bias}, lambda x, w: F.relu(
            F.conv2d(x, w["weight"], w["bias"])).permute(0, 2, 3, 1).flatten(1)

    def runtime_ops(torch):
        weight, limit = torch.randn(2, 2, 1, 1), torch.randn(1, 1, 1, 5)
        condition = torch.rand(1, 2, 1, 5) > 0.5
        text = model(13, "g (float[1,2,4,5] x) => (float[1,120] y)",
                     [("weight", weight), ("limit", limit), ("cond", condition)], """
  a = Conv (x, weight)
  b = Neg (x)
  m = Max (x, b, limit)
  n = Min (a, limit)
  w = Where (cond, a, b)""" + flat_concat("m", "n", "w"))

        def reference(x, w):
            a = F.conv2d(x, w["weight"])
            m = torch.maximum(torch.maximum(x, -x), w["limit"])
            return flat_cat([m, torch.minimum(a, w["limit"]), torch.where(condition, a, -x)])
        return text, {"weight": weight, "limit": limit}, reference

    return [
        ("text_reductions_op18", (1, 3, 4, 5), reductions, True),
        ("text_pad_resize_split_op18", (1, 2, 5, 7), pad_resize_split, True),
        ("text_pools_op19", (1, 2, 9, 9), pools, True),
        ("text_group_norm_op18", (1, 6, 4, 4), group_norm(18), True),
        ("text_group_norm_op21", (1, 6, 4, 4), group_norm(21), True),
        ("text_gelu_op20", (2, 3, 5), gelu, True),
        ("text_conv_op21", (1, 2, 6, 6), conv, True),
        ("text_runtime_ops_op13", (1, 2, 4, 5), runtime_ops, True),
    ]


def randomize(model, torch):
    """Random batch-norm statistics and affine parameters (seeded)."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                if m.weight is not None:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)


def second_order(model, x, v, tangent, vector, torch, h=1e-6):
    """The Jacobian-vector product of `model` at x along `tangent`, and the
    Hessian of sum(v * model(x)) with respect to x times `vector`, by
    central differences of a float64 copy of the model and of its gradient."""
    import copy
    model = copy.deepcopy(model).double()
    x, v = x.double(), v.double()

    def gradient(at):
        at = at.clone().requires_grad_(True)
        (model(at) * v).sum().backward()
        return at.grad

    with torch.no_grad():
        jvp = (model(x + h * tangent.double()) - model(x - h * tangent.double())) / (2 * h)
    hvp = (gradient(x + h * vector.double()) - gradient(x - h * vector.double())) / (2 * h)
    return jvp.float(), hvp.float()


def stamp():
    with open(__file__, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def generate(out, only):
    import torch
    os.makedirs(out, exist_ok=True)
    stamp_path = os.path.join(out, "stamp")
    if not only and os.path.exists(stamp_path) and open(stamp_path).read() == stamp():
        return 0
    def seeded(factory, shape, training):
        """The model with seeded weights and statistics, and its input."""
        torch.manual_seed(0)
        model = factory()
        randomize(model, torch)
        model.train(training)
        return model, torch.randn(*shape, requires_grad=training)

    manifest = []
    for name, factory, shape, opset in zoo():
        if only and name not in only:
            continue
        model, x = seeded(factory, shape, training=False)
        with torch.no_grad():
            y = model(x)
        if isinstance(y, dict):  # segmentation models
            y = y["out"]
        path = os.path.join(out, name)
        torch.onnx.export(model, x, path + ".onnx", opset_version=opset,
                          input_names=["x"], output_names=["y"])
        np.save(path + ".in.npy", x.numpy())
        np.save(path + ".out.npy", y.numpy())
        manifest.append({"name": name})
    for name, factory, shape, opset in gradient_zoo():
        if only and name not in only:
            continue
        model, x = seeded(factory, shape, training=True)
        path = os.path.join(out, name)
        # Exported before the step below changes the running statistics.
        torch.onnx.export(model, x, path + ".onnx", opset_version=opset,
                          input_names=["x"], output_names=["y"],
                          training=torch.onnx.TrainingMode.TRAINING,
                          do_constant_folding=False)
        y = model(x)
        v = torch.randn(*y.shape)
        (y * v).sum().backward()
        np.save(path + ".in.npy", x.detach().numpy())
        np.save(path + ".out.npy", y.detach().numpy())
        np.save(path + ".vjp.npy", v.numpy())
        wrt = ["x"]
        np.save(path + ".grad.x.npy", x.grad.numpy())
        for param, value in model.named_parameters():
            wrt.append(param)
            np.save(path + ".grad." + param + ".npy", value.grad.numpy())
        # Forward mode along a random tangent of x, and the Hessian of
        # sum(v * y) with respect to x times a random vector: central
        # differences in float64 of the model and of autograd's gradient
        # (PyTorch 1.13 lacks double backward of some activations).
        tangent, vector = torch.randn(*shape), torch.randn(*shape)
        jvp, hvp = second_order(model, x.detach(), v, tangent, vector, torch)
        for suffix, value in (("tangent", tangent), ("jvp", jvp), ("vector", vector),
                              ("hvp", hvp)):
            np.save(path + "." + suffix + ".npy", value.numpy())
        manifest.append({"name": name, "wrt": wrt, "second": True})
    for name, shape, build, gradients in text_zoo():
        if only and name not in only:
            continue
        torch.manual_seed(0)
        text, weights, reference = build(torch)
        path = os.path.join(out, name)
        with open(path + ".onnxtxt", "w") as f:
            f.write(text)
        x = torch.randn(*shape, requires_grad=gradients)
        for w in weights.values():
            w.requires_grad_(gradients)
        y = reference(x, weights)
        np.save(path + ".in.npy", x.detach().numpy())
        np.save(path + ".out.npy", y.detach().numpy())
        entry = {"name": name, "model": name + ".onnxtxt"}
        if gradients:
            v = torch.randn(*y.shape)
            (y * v).sum().backward()
            np.save(path + ".vjp.npy", v.numpy())
            entry["wrt"] = ["x"] + list(weights)
            np.save(path + ".grad.x.npy", x.grad.numpy())
            for wname, w in weights.items():
                np.save(path + ".grad." + wname + ".npy", w.grad.numpy())
        manifest.append(entry)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    if not only:
        with open(stamp_path, "w") as f:
            f.write(stamp())
    return 0


def check(out, tessel_run):
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    failed = 0
    checked = 0
    for entry in manifest:
        path = os.path.join(out, entry["name"])
        # Tessel's file names for the outputs, PyTorch's for the same values.
        compared = [("y", path + ".out.npy")]
        flags = []
        if "wrt" in entry:
            flags = ["--wrt=" + ",".join(entry["wrt"]), "--vjp", "y=" + path + ".vjp.npy"]
            compared += [("grad_" + w, path + ".grad." + w + ".npy") for w in entry["wrt"]]
        runs = [(entry["name"], flags, compared)]
        if entry.get("second"):
            runs.append((entry["name"] + " (jvp)", ["--jvp", "x=" + path + ".tangent.npy"],
                         [("jvp_y", path + ".jvp.npy")]))
            runs.append((entry["name"] + " (hvp)",
                         ["--wrt=x", "--vjp", "y=" + path + ".vjp.npy",
                          "--hvp", "x=" + path + ".vector.npy"],
                         [("hvp_x", path + ".hvp.npy")]))
        for name, flags, compared in runs:
            checked += 1
            failed += check_run(out, tessel_run, entry, name, flags, compared)
    print(f"{checked - failed} passed, {failed} failed")
    return 1 if failed else 0


def check_run(out, tessel_run, entry, name, flags, compared):
    """Runs the entry's model with `flags` and compares the outputs named in
    `compared` with PyTorch's files; returns 1 on a failure."""
    path = os.path.join(out, entry["name"])
    result = os.path.join(out, name.replace(" ", "").replace("(", ".").replace(")", "")
                          + ".result")
    model = os.path.join(out, entry.get("model", entry["name"] + ".onnx"))
    command = [tessel_run, model, "--input", "x=" + path + ".in.npy",
               "--output-dir", result] + flags
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        print(f"FAIL {name}: {run.stderr.strip().splitlines()[-1] if run.stderr else run.returncode}")
        return 1
    errors = []
    worst = (0.0, 1.0)
    wanted = [np.load(torch_path) for _, torch_path in compared]
    # A gradient that is zero analytically (a conv's bias before a batch
    # norm on batch statistics) is rounding noise in both: each tensor's
    # scale is at least 1e-3 of the largest one's.
    floor = 1e-3 * max(float(np.abs(w).max()) for w in wanted)
    for (tessel_name, _), want in zip(compared, wanted):
        got = np.load(os.path.join(result, tessel_name + ".npy"))
        if got.shape != want.shape:
            errors.append(f"{tessel_name}: shape {got.shape}, PyTorch's {want.shape}")
            continue
        scale = max(float(np.abs(want).max()), floor) or 1.0
        error = float(np.abs(got.astype(np.float64) - want).max()) / scale
        if not error <= 1e-4:
            errors.append(f"{tessel_name}: max error {error:.2e} of its scale {scale:.3g}")
        worst = max(worst, (error, scale))
    if errors:
        print(f"FAIL {name}: " + "; ".join(errors))
        return 1
    print(f"PASS {name} ({len(compared)} tensors; max error {worst[0]:.1e} "
          f"of {worst[1]:.3g})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "generate":
        only = sys.argv[4].split(",") if len(sys.argv) > 4 and sys.argv[3] == "--only" else []
        sys.exit(generate(sys.argv[2], only))
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
