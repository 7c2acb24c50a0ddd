// RUN: tessel-opt --split-input-file --tessel-decompose %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-decompose="conv-transpose=false filter-gradient=false fold-batch-norm=false" %s | FileCheck %s --check-prefix=NONE

// RUN: tessel-opt --split-input-file --tessel-cpu-pipeline --mlir-print-ir-after=tessel-decompose %s 2>&1 >/dev/null | FileCheck %s --check-prefix=PIPELINE

// The CPU pipeline runs the pass first, with every decomposition on.
// PIPELINE-LABEL: func.func @fold_batch_norm
// PIPELINE-NOT: tessel.batch_norm
// PIPELINE-LABEL: func.func @keep_batch_norm
// PIPELINE-LABEL: func.func @conv_transpose_stride_one
// PIPELINE-NOT: tessel.conv_transpose
// PIPELINE-LABEL: func.func @conv_transpose_strided(
// PIPELINE-NOT: tessel.conv_transpose
// PIPELINE-LABEL: func.func @conv_transpose_strided_dilated
// PIPELINE-LABEL: func.func @filter_gradient(
// PIPELINE-NOT: tessel.conv_backward_filter
// PIPELINE-LABEL: func.func @filter_gradient_grouped

// With every option off the pass changes nothing.
// NONE-COUNT-2: tessel.batch_norm
// NONE-COUNT-3: tessel.conv_transpose
// NONE-COUNT-3: tessel.conv_backward_filter

// A batch norm with constant statistics after a conv with constant weights
// folds into the conv: factor = scale / sqrt(variance + epsilon) scales each
// output channel's filter, and the bias becomes (b - mean) * factor + bias.
// Channel 0: factor 3 / sqrt(3 + 1) = 1.5, W 2 -> 3, b (1 - 0.5) * 1.5 + 1
// = 1.75; channel 1: factor 1 / sqrt(0 + 1) = 1, W 4 -> 4, b (2 - 1) + 0 = 1.
// CHECK-LABEL: func @fold_batch_norm
// CHECK-DAG: %[[W:.+]] = tessel.constant dense<{{\[\[\[\[}}3.000000e+00, 4.000000e+00]]]]> : tensor<1x1x1x2xf32>
// CHECK-DAG: %[[B:.+]] = tessel.constant dense<[1.750000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.+]] = tessel.conv %{{.+}}, %[[W]], %[[B]] layout nhwc, hwio
// CHECK-NOT: tessel.batch_norm
// CHECK: return %[[Y]]
func.func @fold_batch_norm(%x: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> {
  %w = tessel.constant dense<[[[[2.0, 4.0]]]]> : tensor<1x1x1x2xf32>
  %b = tessel.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %scale = tessel.constant dense<[3.0, 1.0]> : tensor<2xf32>
  %shift = tessel.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %mean = tessel.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %var = tessel.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = tessel.conv %x, %w, %b layout nhwc, hwio : (tensor<1x4x4x1xf32>, tensor<1x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %1 = tessel.batch_norm %0, %scale, %shift, %mean, %var layout nhwc {epsilon = 1.0 : f64}
         : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  return %1 : tensor<1x4x4x2xf32>
}

// -----

// Statistics computed at run time (or a conv used twice) keep the batch norm.
// CHECK-LABEL: func @keep_batch_norm
// CHECK: tessel.batch_norm
func.func @keep_batch_norm(%x: tensor<1x2x4x4xf32>, %mean: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %w = tessel.constant dense<1.0> : tensor<2x2x1x1xf32>
  %c = tessel.constant dense<1.0> : tensor<2xf32>
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = tessel.batch_norm %0, %c, %c, %mean, %c layout nchw
         : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// A stride-1 transposed conv is a conv of the flipped filter with each
// group's channel dims swapped, padded by dilation * (k - 1) - pad. The
// flip comes first, on the filter as given.
// CHECK-LABEL: func @conv_transpose_stride_one
// CHECK: %[[FLIP:.+]] = tessel.slice %arg1 {offsets = array<i64: 0, 0, 2, 2>, sizes = array<i64: 4, 6, 3, 3>, strides = array<i64: 1, 1, -1, -1>}
// CHECK: %[[SPLIT:.+]] = tessel.reshape %[[FLIP]] {shape = array<i64: 2, 2, 6, 3, 3>}
// CHECK: %[[SWAP:.+]] = tessel.transpose %[[SPLIT]] {perm = array<i64: 0, 2, 1, 3, 4>} : tensor<2x2x6x3x3xf32> -> tensor<2x6x2x3x3xf32>
// CHECK: %[[MERGED:.+]] = tessel.reshape %[[SWAP]] {shape = array<i64: 12, 2, 3, 3>}
// CHECK: tessel.conv %arg0, %[[MERGED]] layout nchw, oihw {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 2, 1, 2, 2>} : (tensor<1x4x5x5xf32>, tensor<12x2x3x3xf32>) -> tensor<1x12x7x6xf32>
// CHECK-NOT: tessel.conv_transpose
func.func @conv_transpose_stride_one(%x: tensor<1x4x5x5xf32>, %w: tensor<4x6x3x3xf32>) -> tensor<1x12x7x6xf32> {
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw {groups = 2 : i64, padding = array<i64: 0, 1, 0, 0>} : (tensor<1x4x5x5xf32>, tensor<4x6x3x3xf32>) -> tensor<1x12x7x6xf32>
  return %0 : tensor<1x12x7x6xf32>
}

// -----

// One group: the channel swap is one transpose, without a group dim.
// CHECK-LABEL: func @conv_transpose_one_group
// CHECK: %[[FLIP:.+]] = tessel.slice %arg1 {offsets = array<i64: 0, 0, 2, 2>, sizes = array<i64: 4, 6, 3, 3>, strides = array<i64: 1, 1, -1, -1>}
// CHECK-NOT: tessel.reshape
// CHECK: %[[SWAP:.+]] = tessel.transpose %[[FLIP]] {perm = array<i64: 1, 0, 2, 3>} : tensor<4x6x3x3xf32> -> tensor<6x4x3x3xf32>
// CHECK: tessel.conv %arg0, %[[SWAP]] layout nchw, oihw
func.func @conv_transpose_one_group(%x: tensor<1x4x5x5xf32>, %w: tensor<4x6x3x3xf32>) -> tensor<1x6x7x7xf32> {
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw : (tensor<1x4x5x5xf32>, tensor<4x6x3x3xf32>) -> tensor<1x6x7x7xf32>
  return %0 : tensor<1x6x7x7xf32>
}

// -----

// A strided transposed conv is the interleaving of one stride-1 transposed
// conv per output phase (each then a conv): here phase 0 (even outputs)
// meets tap 1 of the kernel, phase 1 taps 0 and 2 (low padding 1). Both
// phases get ceil(5 / 2) = 3 outputs; concat and reshape interleave them and
// a slice cuts the sixth.
// CHECK-LABEL: func @conv_transpose_strided
// CHECK: %[[W0:.+]] = tessel.slice %arg1 {offsets = array<i64: 0, 0, 1>, sizes = array<i64: 2, 1, 1>, strides = array<i64: 1, 1, 2>}
// CHECK: %[[P0:.+]] = tessel.conv %arg0, %{{.+}} layout ncw, oiw {dilations = array<i64: 1>, padding = array<i64: 0, 0>} : (tensor<1x2x3xf32>, tensor<1x2x1xf32>) -> tensor<1x1x3xf32>
// CHECK: %[[E0:.+]] = tessel.reshape %[[P0]] {shape = array<i64: 1, 1, 3, 1>}
// CHECK: %[[W1:.+]] = tessel.slice %arg1 {offsets = array<i64: 0, 0, 0>, sizes = array<i64: 2, 1, 2>, strides = array<i64: 1, 1, 2>}
// CHECK: %[[P1:.+]] = tessel.conv %arg0, %{{.+}} layout ncw, oiw {dilations = array<i64: 1>, padding = array<i64: 0, 1>} : (tensor<1x2x3xf32>, tensor<1x2x2xf32>) -> tensor<1x1x3xf32>
// CHECK: %[[E1:.+]] = tessel.reshape %[[P1]] {shape = array<i64: 1, 1, 3, 1>}
// CHECK: %[[J:.+]] = tessel.concat %[[E0]], %[[E1]] {axis = 3 : i64} : (tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>) -> tensor<1x1x3x2xf32>
// CHECK: %[[M:.+]] = tessel.reshape %[[J]] {shape = array<i64: 1, 1, 6>}
// CHECK: tessel.slice %[[M]] {offsets = array<i64: 0, 0, 0>, sizes = array<i64: 1, 1, 5>, strides = array<i64: 1, 1, 1>}
// CHECK-NOT: tessel.conv_transpose
func.func @conv_transpose_strided(%x: tensor<1x2x3xf32>, %w: tensor<2x1x3xf32>) -> tensor<1x1x5xf32> {
  %0 = tessel.conv_transpose %x, %w layout ncw, iow {strides = array<i64: 2>, padding = array<i64: 1, 1>} : (tensor<1x2x3xf32>, tensor<2x1x3xf32>) -> tensor<1x1x5xf32>
  return %0 : tensor<1x1x5xf32>
}

// -----

// Dilated strided transposed convs keep their own lowering.
// CHECK-LABEL: func @conv_transpose_strided_dilated
// CHECK: tessel.conv_transpose
func.func @conv_transpose_strided_dilated(%x: tensor<1x4x5x5xf32>, %w: tensor<4x6x3x3xf32>) -> tensor<1x6x13x13xf32> {
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw {strides = array<i64: 2, 2>, dilations = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x6x3x3xf32>) -> tensor<1x6x13x13xf32>
  return %0 : tensor<1x6x13x13xf32>
}

// -----

// An ungrouped filter gradient is a channels-last conv: the input as
// [C_in, H, W, N], the output gradient as an [OH, OW, N, C_out] filter,
// strides and dilations exchanged; the input is cropped to the rows the
// forward conv read (10 -> 9 here), and the result transposed to hwio.
// CHECK-LABEL: func @filter_gradient
// CHECK: %[[CROP:.+]] = tessel.slice %arg0 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 2, 9, 9, 3>, strides = array<i64: 1, 1, 1, 1>}
// CHECK: %[[X:.+]] = tessel.transpose %[[CROP]] {perm = array<i64: 3, 1, 2, 0>} : tensor<2x9x9x3xf32> -> tensor<3x9x9x2xf32>
// CHECK: %[[DY:.+]] = tessel.transpose %arg1 {perm = array<i64: 1, 2, 0, 3>} : tensor<2x4x4x8xf32> -> tensor<4x4x2x8xf32>
// CHECK: %[[C:.+]] = tessel.conv %[[X]], %[[DY]] layout nhwc, hwio {dilations = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x9x9x2xf32>, tensor<4x4x2x8xf32>) -> tensor<3x3x3x8xf32>
// CHECK: tessel.transpose %[[C]] {perm = array<i64: 1, 2, 0, 3>}
func.func @filter_gradient(%x: tensor<2x10x10x3xf32>, %dy: tensor<2x4x4x8xf32>) -> tensor<3x3x3x8xf32> {
  %0 = tessel.conv_backward_filter %x, %dy layout nhwc, hwio {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x10x10x3xf32>, tensor<2x4x4x8xf32>) -> tensor<3x3x3x8xf32>
  return %0 : tensor<3x3x3x8xf32>
}

// -----

// Grouped filter gradients other than depthwise keep their own lowering.
// CHECK-LABEL: func @filter_gradient_grouped
// CHECK: tessel.conv_backward_filter
func.func @filter_gradient_grouped(%x: tensor<1x4x6x6xf32>, %dy: tensor<1x4x4x4xf32>) -> tensor<4x2x3x3xf32> {
  %0 = tessel.conv_backward_filter %x, %dy layout nchw, oihw {kernel = array<i64: 3, 3>, groups = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<1x4x4x4xf32>) -> tensor<4x2x3x3xf32>
  return %0 : tensor<4x2x3x3xf32>
}

// -----

// A depthwise filter gradient is a depthwise conv one spatial rank up, the
// batch its depth: x as [1, N, H, W, C] with the output gradient as an
// [N, OH, OW, 1, C] filter, strides and dilations exchanged (depth 1); its
// [1, 1, 3, 3, C] result is the gradient, transposed to oihw. NCHW x and dy
// are made channels-last first.
// CHECK-LABEL: func @filter_gradient_depthwise
// CHECK: %[[XT:.+]] = tessel.transpose %arg0 {perm = array<i64: 0, 2, 3, 1>} : tensor<2x4x9x9xf32> -> tensor<2x9x9x4xf32>
// CHECK: %[[DYT:.+]] = tessel.transpose %arg1 {perm = array<i64: 0, 2, 3, 1>} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
// CHECK: %[[X:.+]] = tessel.reshape %[[XT]] {{.*}} -> tensor<1x2x9x9x4xf32>
// CHECK: %[[DY:.+]] = tessel.reshape %[[DYT]] {{.*}} -> tensor<2x4x4x1x4xf32>
// CHECK: %[[C:.+]] = tessel.conv %[[X]], %[[DY]] layout ndhwc, dhwio {dilations = array<i64: 1, 2, 2>, groups = 4 : i64, padding = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<1x2x9x9x4xf32>, tensor<2x4x4x1x4xf32>) -> tensor<1x1x3x3x4xf32>
// CHECK: %[[R:.+]] = tessel.reshape %[[C]] {{.*}} -> tensor<3x3x4xf32>
// CHECK: %[[T:.+]] = tessel.transpose %[[R]] {perm = array<i64: 2, 0, 1>} : tensor<3x3x4xf32> -> tensor<4x3x3xf32>
// CHECK: tessel.reshape %[[T]] {{.*}} -> tensor<4x1x3x3xf32>
func.func @filter_gradient_depthwise(%x: tensor<2x4x9x9xf32>, %dy: tensor<2x4x4x4xf32>) -> tensor<4x1x3x3xf32> {
  %0 = tessel.conv_backward_filter %x, %dy layout nchw, oihw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, groups = 4 : i64} : (tensor<2x4x9x9xf32>, tensor<2x4x4x4xf32>) -> tensor<4x1x3x3xf32>
  return %0 : tensor<4x1x3x3xf32>
}

// -----

// Channels-last x and dy are only reshaped (padding moves to the H and W
// dims of the 3-D conv); a spatial-first filter gradient is the result
// reshaped.
// CHECK-LABEL: func @filter_gradient_depthwise_nhwc
// CHECK-NOT: tessel.transpose
// CHECK: %[[X:.+]] = tessel.reshape %arg0 {{.*}} -> tensor<1x2x8x8x16xf32>
// CHECK: %[[DY:.+]] = tessel.reshape %arg1 {{.*}} -> tensor<2x8x8x1x16xf32>
// CHECK: %[[C:.+]] = tessel.conv %[[X]], %[[DY]] layout ndhwc, dhwio {dilations = array<i64: 1, 1, 1>, groups = 16 : i64, padding = array<i64: 0, 1, 1, 0, 1, 1>, strides = array<i64: 1, 1, 1>}
// CHECK-NOT: tessel.transpose
// CHECK: tessel.reshape %[[C]] {{.*}} -> tensor<3x3x1x16xf32>
func.func @filter_gradient_depthwise_nhwc(%x: tensor<2x8x8x16xf32>, %dy: tensor<2x8x8x16xf32>) -> tensor<3x3x1x16xf32> {
  %0 = tessel.conv_backward_filter %x, %dy layout nhwc, hwio {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : (tensor<2x8x8x16xf32>, tensor<2x8x8x16xf32>) -> tensor<3x3x1x16xf32>
  return %0 : tensor<3x3x1x16xf32>
}

// -----

// A 3-D one (a 4-D conv has no op) is a depthwise conv over the 2 x 4
// (batch x channel) channels of the input as [1, D, H, W, N * C], with the
// output gradient as a [OD, OH, OW, 1, N * C] filter; its result is summed
// over the batch.
// CHECK-LABEL: func @filter_gradient_depthwise_3d
// CHECK: tessel.transpose %arg0 {perm = array<i64: 2, 3, 4, 0, 1>} : tensor<2x4x5x5x5xf32> -> tensor<5x5x5x2x4xf32>
// CHECK: tessel.conv {{.*}} layout ndhwc, dhwio {{.*}}groups = 8 : i64{{.*}} -> tensor<1x3x3x3x8xf32>
// CHECK: tessel.sum {{.*}}axes = array<i64: 3>{{.*}} -> tensor<3x3x3x4xf32>
func.func @filter_gradient_depthwise_3d(%x: tensor<2x4x5x5x5xf32>, %dy: tensor<2x4x3x3x3xf32>) -> tensor<4x1x3x3x3xf32> {
  %0 = tessel.conv_backward_filter %x, %dy layout ncdhw, oidhw {kernel = array<i64: 3, 3, 3>, groups = 4 : i64} : (tensor<2x4x5x5x5xf32>, tensor<2x4x3x3x3xf32>) -> tensor<4x1x3x3x3xf32>
  return %0 : tensor<4x1x3x3x3xf32>
}

// -----

// The same fold when the filter is a resource (as the ONNX importer makes
// weights of 16 KiB or more): filter [2, 4] as raw f32 bytes.
// CHECK-LABEL: func @fold_batch_norm_resource_filter
// CHECK-DAG: %[[W:.+]] = tessel.constant dense<{{\[\[\[\[}}3.000000e+00, 4.000000e+00]]]]> : tensor<1x1x1x2xf32>
// CHECK-DAG: %[[B:.+]] = tessel.constant dense<[1.750000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.+]] = tessel.conv %{{.+}}, %[[W]], %[[B]] layout nhwc, hwio
// CHECK-NOT: tessel.batch_norm
// CHECK: return %[[Y]]
func.func @fold_batch_norm_resource_filter(%x: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> {
  %w = tessel.constant dense_resource<filter> : tensor<1x1x1x2xf32>
  %b = tessel.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %scale = tessel.constant dense<[3.0, 1.0]> : tensor<2xf32>
  %shift = tessel.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %mean = tessel.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %var = tessel.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = tessel.conv %x, %w, %b layout nhwc, hwio : (tensor<1x4x4x1xf32>, tensor<1x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %1 = tessel.batch_norm %0, %scale, %shift, %mean, %var layout nhwc {epsilon = 1.0 : f64}
         : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  return %1 : tensor<1x4x4x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      filter: "0x040000000000004000008040"
    }
  }
#-}
