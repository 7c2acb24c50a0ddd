// A ResNet-18-style network in the tessel dialect: the stem, one basic block,
// one downsampling block with a 1x1 projection shortcut, and the classifier
// head. The caller passes NCHW images; the network converts them to NHWC once,
// at the edge, and computes channels-last with HWIO filters from there on.
//
// `make demo` runs `tessel-opt` on this file: every result type written here
// is checked against the type each op infers with PyTorch's shape formulas,
// and the verified IR is printed.

func.func @resnet_block(
    %image: tensor<1x3x224x224xf32>,
    %stem_w: tensor<7x7x3x64xf32>,
    %b1_w1: tensor<3x3x64x64xf32>, %b1_w2: tensor<3x3x64x64xf32>,
    %b2_w1: tensor<3x3x64x128xf32>, %b2_w2: tensor<3x3x128x128xf32>,
    %b2_proj: tensor<1x1x64x128xf32>,
    %bn64_scale: tensor<64xf32>, %bn64_bias: tensor<64xf32>,
    %bn64_mean: tensor<64xf32>, %bn64_var: tensor<64xf32>,
    %bn128_scale: tensor<128xf32>, %bn128_bias: tensor<128xf32>,
    %bn128_mean: tensor<128xf32>, %bn128_var: tensor<128xf32>,
    %fc_w: tensor<10x128xf32>, %fc_b: tensor<10xf32>) -> tensor<1x10xf32> {
  %x = tessel.relayout %image from nchw to nhwc : tensor<1x3x224x224xf32> -> tensor<1x224x224x3xf32>

  // Stem: 7x7/2 conv, batch norm, ReLU, 3x3/2 max pool.
  %s0 = tessel.conv %x, %stem_w layout nhwc, hwio {strides = array<i64: 2, 2>, padding = array<i64: 3, 3, 3, 3>}
          : (tensor<1x224x224x3xf32>, tensor<7x7x3x64xf32>) -> tensor<1x112x112x64xf32>
  %s1 = tessel.batch_norm %s0, %bn64_scale, %bn64_bias, %bn64_mean, %bn64_var layout nhwc
          : (tensor<1x112x112x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x112x112x64xf32>
  %s2 = tessel.relu %s1 : tensor<1x112x112x64xf32>
  %s3 = tessel.pool max %s2 layout nhwc {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
          : tensor<1x112x112x64xf32> -> tensor<1x56x56x64xf32>

  // Basic block, 64 channels at 56x56, identity shortcut.
  %a0 = tessel.conv %s3, %b1_w1 layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
          : (tensor<1x56x56x64xf32>, tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32>
  %a1 = tessel.batch_norm %a0, %bn64_scale, %bn64_bias, %bn64_mean, %bn64_var layout nhwc
          : (tensor<1x56x56x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x56x56x64xf32>
  %a2 = tessel.relu %a1 : tensor<1x56x56x64xf32>
  %a3 = tessel.conv %a2, %b1_w2 layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
          : (tensor<1x56x56x64xf32>, tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32>
  %a4 = tessel.batch_norm %a3, %bn64_scale, %bn64_bias, %bn64_mean, %bn64_var layout nhwc
          : (tensor<1x56x56x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x56x56x64xf32>
  %a5 = tessel.add %a4, %s3 : (tensor<1x56x56x64xf32>, tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  %a6 = tessel.relu %a5 : tensor<1x56x56x64xf32>

  // Downsampling block to 128 channels at 28x28, 1x1/2 projection shortcut.
  %d0 = tessel.conv %a6, %b2_w1 layout nhwc, hwio {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
          : (tensor<1x56x56x64xf32>, tensor<3x3x64x128xf32>) -> tensor<1x28x28x128xf32>
  %d1 = tessel.batch_norm %d0, %bn128_scale, %bn128_bias, %bn128_mean, %bn128_var layout nhwc
          : (tensor<1x28x28x128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<1x28x28x128xf32>
  %d2 = tessel.relu %d1 : tensor<1x28x28x128xf32>
  %d3 = tessel.conv %d2, %b2_w2 layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
          : (tensor<1x28x28x128xf32>, tensor<3x3x128x128xf32>) -> tensor<1x28x28x128xf32>
  %d4 = tessel.batch_norm %d3, %bn128_scale, %bn128_bias, %bn128_mean, %bn128_var layout nhwc
          : (tensor<1x28x28x128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<1x28x28x128xf32>
  %p0 = tessel.conv %a6, %b2_proj layout nhwc, hwio {strides = array<i64: 2, 2>}
          : (tensor<1x56x56x64xf32>, tensor<1x1x64x128xf32>) -> tensor<1x28x28x128xf32>
  %p1 = tessel.batch_norm %p0, %bn128_scale, %bn128_bias, %bn128_mean, %bn128_var layout nhwc
          : (tensor<1x28x28x128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<1x28x28x128xf32>
  %d5 = tessel.add %d4, %p1 : (tensor<1x28x28x128xf32>, tensor<1x28x28x128xf32>) -> tensor<1x28x28x128xf32>
  %d6 = tessel.relu %d5 : tensor<1x28x28x128xf32>

  // Head: global average pool, flatten, linear, softmax.
  %h0 = tessel.global_pool avg %d6 layout nhwc : tensor<1x28x28x128xf32> -> tensor<1x1x1x128xf32>
  %h1 = tessel.flatten %h0 : tensor<1x1x1x128xf32> -> tensor<1x128xf32>
  %h2 = tessel.linear %h1, %fc_w, %fc_b : (tensor<1x128xf32>, tensor<10x128xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  %h3 = tessel.softmax %h2 {axis = 1 : i64} : tensor<1x10xf32>
  return %h3 : tensor<1x10xf32>
}
