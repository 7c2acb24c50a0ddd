// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// The ResNet max pool: 3x3/s2, padding 1, 112 -> 56.
// CHECK-LABEL: func @maxpool
func.func @maxpool(%x: tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32> {
  // CHECK: tessel.pool max %{{.+}} layout nchw {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  %0 = tessel.pool max %x layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  return %0 : tensor<1x64x56x56xf32>
}

// -----

// Average pooling with the stride defaulting to the kernel, ceil mode and
// count_include_pad: ceil((7 - 2) / 2) + 1 = 4.
// CHECK-LABEL: func @avgpool_ceil
func.func @avgpool_ceil(%x: tensor<1x7x7x16xf32>) -> tensor<1x4x4x16xf32> {
  // CHECK: tessel.pool avg %{{.+}} layout nhwc {ceil_mode, count_include_pad, kernel = array<i64: 2, 2>}
  %0 = tessel.pool avg %x layout nhwc {kernel = array<i64: 2, 2>, ceil_mode, count_include_pad}
         : tensor<1x7x7x16xf32> -> tensor<1x4x4x16xf32>
  return %0 : tensor<1x4x4x16xf32>
}

// -----

// 1-D Lp pooling with p = 3.
// CHECK-LABEL: func @lppool1d
func.func @lppool1d(%x: tensor<2x3x10xf32>) -> tensor<2x3x8xf32> {
  // CHECK: tessel.pool lp %{{.+}} layout ncw {kernel = array<i64: 3>, p = 3.000000e+00 : f64, strides = array<i64: 1>}
  %0 = tessel.pool lp %x layout ncw {kernel = array<i64: 3>, strides = array<i64: 1>, p = 3.0 : f64}
         : tensor<2x3x10xf32> -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// 3-D dilated max pooling in channels-last: extent 3, (8 - 3) / 2 + 1 = 3.
// CHECK-LABEL: func @maxpool3d_dilated
func.func @maxpool3d_dilated(%x: tensor<1x8x8x8x4xf32>) -> tensor<1x3x3x3x4xf32> {
  // CHECK: layout ndhwc {dilations = array<i64: 2, 2, 2>, kernel = array<i64: 2, 2, 2>}
  %0 = tessel.pool max %x layout ndhwc {kernel = array<i64: 2, 2, 2>, dilations = array<i64: 2, 2, 2>}
         : tensor<1x8x8x8x4xf32> -> tensor<1x3x3x3x4xf32>
  return %0 : tensor<1x3x3x3x4xf32>
}

// -----

// Adaptive pooling to a fixed size, 2-D and 1-D.
// CHECK-LABEL: func @adaptive
func.func @adaptive(%x: tensor<1x512x14x13xf32>, %y: tensor<2x3x11xf32>) -> (tensor<1x512x7x7xf32>, tensor<2x3x5xf32>) {
  // CHECK: tessel.adaptive_pool avg %{{.+}} layout nchw {output_size = array<i64: 7, 7>} : tensor<1x512x14x13xf32> -> tensor<1x512x7x7xf32>
  %0 = tessel.adaptive_pool avg %x layout nchw {output_size = array<i64: 7, 7>}
         : tensor<1x512x14x13xf32> -> tensor<1x512x7x7xf32>
  // CHECK: tessel.adaptive_pool max %{{.+}} layout ncw {output_size = array<i64: 5>}
  %1 = tessel.adaptive_pool max %y layout ncw {output_size = array<i64: 5>}
         : tensor<2x3x11xf32> -> tensor<2x3x5xf32>
  return %0, %1 : tensor<1x512x7x7xf32>, tensor<2x3x5xf32>
}

// -----

// Global pooling keeps every spatial dim as size 1.
// CHECK-LABEL: func @global
func.func @global(%x: tensor<8x7x7x2048xf32>, %y: tensor<1x4x2x3x5xf32>) -> (tensor<8x1x1x2048xf32>, tensor<1x4x1x1x1xf32>) {
  // CHECK: tessel.global_pool avg %{{.+}} layout nhwc : tensor<8x7x7x2048xf32> -> tensor<8x1x1x2048xf32>
  %0 = tessel.global_pool avg %x layout nhwc : tensor<8x7x7x2048xf32> -> tensor<8x1x1x2048xf32>
  // CHECK: tessel.global_pool lp %{{.+}} layout ncdhw {p = 3.000000e+00 : f64}
  %1 = tessel.global_pool lp %y layout ncdhw {p = 3.0 : f64} : tensor<1x4x2x3x5xf32> -> tensor<1x4x1x1x1xf32>
  return %0, %1 : tensor<8x1x1x2048xf32>, tensor<1x4x1x1x1xf32>
}

// -----

// Pooling tangents (forward mode) have the forward pooling's result shape.
// CHECK-LABEL: func @tangents
func.func @tangents(%x: tensor<1x64x112x112xf32>, %t: tensor<1x64x112x112xf32>,
                   %a: tensor<1x7x7x8xf32>, %s: tensor<1x7x7x8xf32>)
    -> (tensor<1x64x56x56xf32>, tensor<1x3x3x8xf32>) {
  // CHECK: tessel.pool_tangent max %{{.+}}, %{{.+}} layout nchw {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x64x112x112xf32>, tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32>
  %0 = tessel.pool_tangent max %x, %t layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x64x112x112xf32>, tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32>
  // CHECK: tessel.adaptive_pool_tangent avg %{{.+}}, %{{.+}} layout nhwc {output_size = array<i64: 3, 3>} : (tensor<1x7x7x8xf32>, tensor<1x7x7x8xf32>) -> tensor<1x3x3x8xf32>
  %1 = tessel.adaptive_pool_tangent avg %a, %s layout nhwc {output_size = array<i64: 3, 3>}
         : (tensor<1x7x7x8xf32>, tensor<1x7x7x8xf32>) -> tensor<1x3x3x8xf32>
  return %0, %1 : tensor<1x64x56x56xf32>, tensor<1x3x3x8xf32>
}
