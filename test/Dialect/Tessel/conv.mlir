// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// A 1-D conv with stride and asymmetric padding: (10 + 1 + 0 - 3) / 2 + 1 = 5.
// CHECK-LABEL: func @conv1d
func.func @conv1d(%x: tensor<2x4x10xf32>, %w: tensor<6x4x3xf32>) -> tensor<2x6x5xf32> {
  // CHECK: tessel.conv %{{.+}}, %{{.+}} layout ncw, oiw {padding = array<i64: 1, 0>, strides = array<i64: 2>} : (tensor<2x4x10xf32>, tensor<6x4x3xf32>) -> tensor<2x6x5xf32>
  %0 = tessel.conv %x, %w layout ncw, oiw {strides = array<i64: 2>, padding = array<i64: 1, 0>}
         : (tensor<2x4x10xf32>, tensor<6x4x3xf32>) -> tensor<2x6x5xf32>
  return %0 : tensor<2x6x5xf32>
}

// -----

// The ResNet stem with bias: 7x7/s2, padding 3, 224 -> 112.
// CHECK-LABEL: func @stem
func.func @stem(%x: tensor<1x3x224x224xf32>, %w: tensor<64x3x7x7xf32>, %b: tensor<64xf32>) -> tensor<1x64x112x112xf32> {
  // CHECK: tessel.conv %{{.+}}, %{{.+}}, %{{.+}} layout nchw, oihw
  // CHECK-SAME: -> tensor<1x64x112x112xf32>
  %0 = tessel.conv %x, %w, %b layout nchw, oihw {strides = array<i64: 2, 2>, padding = array<i64: 3, 3, 3, 3>}
         : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
  return %0 : tensor<1x64x112x112xf32>
}

// -----

// Channels-last data with an HWIO filter and dilation 2 keeps 56x56.
// CHECK-LABEL: func @dilated_nhwc
func.func @dilated_nhwc(%x: tensor<1x56x56x64xf16>, %w: tensor<3x3x64x64xf16>) -> tensor<1x56x56x64xf16> {
  // CHECK: layout nhwc, hwio {dilations = array<i64: 2, 2>, padding = array<i64: 2, 2, 2, 2>}
  %0 = tessel.conv %x, %w layout nhwc, hwio {dilations = array<i64: 2, 2>, padding = array<i64: 2, 2, 2, 2>}
         : (tensor<1x56x56x64xf16>, tensor<3x3x64x64xf16>) -> tensor<1x56x56x64xf16>
  return %0 : tensor<1x56x56x64xf16>
}

// -----

// Depthwise: groups equal to the channels, low padding only, stride 2.
// CHECK-LABEL: func @depthwise
func.func @depthwise(%x: tensor<1x32x28x28xf32>, %w: tensor<32x1x3x3xf32>) -> tensor<1x32x14x14xf32> {
  // CHECK: {groups = 32 : i64, padding = array<i64: 1, 1, 0, 0>, strides = array<i64: 2, 2>}
  %0 = tessel.conv %x, %w layout nchw, oihw {groups = 32 : i64, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>}
         : (tensor<1x32x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x14x14xf32>
  return %0 : tensor<1x32x14x14xf32>
}

// -----

// Grouped conv: 8 input channels in 2 groups of 4.
// CHECK-LABEL: func @grouped
func.func @grouped(%x: tensor<1x8x10x10xf32>, %w: tensor<12x4x3x3xf32>) -> tensor<1x12x8x8xf32> {
  // CHECK: {groups = 2 : i64} : (tensor<1x8x10x10xf32>, tensor<12x4x3x3xf32>) -> tensor<1x12x8x8xf32>
  %0 = tessel.conv %x, %w layout nchw, oihw {groups = 2 : i64}
         : (tensor<1x8x10x10xf32>, tensor<12x4x3x3xf32>) -> tensor<1x12x8x8xf32>
  return %0 : tensor<1x12x8x8xf32>
}

// -----

// A 3-D conv in channels-last with a DHWIO filter.
// CHECK-LABEL: func @conv3d
func.func @conv3d(%x: tensor<2x8x16x16x3xf64>, %w: tensor<3x3x3x3x16xf64>) -> tensor<2x8x16x16x16xf64> {
  // CHECK: layout ndhwc, dhwio
  %0 = tessel.conv %x, %w layout ndhwc, dhwio {padding = array<i64: 1, 1, 1, 1, 1, 1>}
         : (tensor<2x8x16x16x3xf64>, tensor<3x3x3x3x16xf64>) -> tensor<2x8x16x16x16xf64>
  return %0 : tensor<2x8x16x16x16xf64>
}

// -----

// Transposed conv doubling 28 -> 56: 27 * 2 - 2 + 3 + 1.
// CHECK-LABEL: func @conv_transpose2d
func.func @conv_transpose2d(%x: tensor<1x64x28x28xf32>, %w: tensor<64x32x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x56x56xf32> {
  // CHECK: tessel.conv_transpose %{{.+}}, %{{.+}}, %{{.+}} layout nchw, iohw {output_padding = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %0 = tessel.conv_transpose %x, %w, %b layout nchw, iohw
         {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 1>}
         : (tensor<1x64x28x28xf32>, tensor<64x32x3x3xf32>, tensor<32xf32>) -> tensor<1x32x56x56xf32>
  return %0 : tensor<1x32x56x56xf32>
}

// -----

// 1-D transposed conv in channels-last with a spatial-first filter: 4 * 3 + 3 + 1.
// CHECK-LABEL: func @conv_transpose1d_nwc
func.func @conv_transpose1d_nwc(%x: tensor<1x5x8xf32>, %w: tensor<4x8x3xf32>) -> tensor<1x16x3xf32> {
  // CHECK: layout nwc, wio {strides = array<i64: 3>} : (tensor<1x5x8xf32>, tensor<4x8x3xf32>) -> tensor<1x16x3xf32>
  %0 = tessel.conv_transpose %x, %w layout nwc, wio {strides = array<i64: 3>}
         : (tensor<1x5x8xf32>, tensor<4x8x3xf32>) -> tensor<1x16x3xf32>
  return %0 : tensor<1x16x3xf32>
}

// -----

// Grouped 3-D transposed conv: 2 groups of 3 output channels.
// CHECK-LABEL: func @conv_transpose3d_grouped
func.func @conv_transpose3d_grouped(%x: tensor<1x4x2x3x4xf32>, %w: tensor<4x3x2x2x2xf32>) -> tensor<1x6x3x4x5xf32> {
  // CHECK: layout ncdhw, iodhw {groups = 2 : i64}
  %0 = tessel.conv_transpose %x, %w layout ncdhw, iodhw {groups = 2 : i64}
         : (tensor<1x4x2x3x4xf32>, tensor<4x3x2x2x2xf32>) -> tensor<1x6x3x4x5xf32>
  return %0 : tensor<1x6x3x4x5xf32>
}
