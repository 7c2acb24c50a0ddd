// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// Float weights and integer labels as constants.
// CHECK-LABEL: func @constants
func.func @constants() -> (tensor<2x2xf32>, tensor<3xi64>) {
  // CHECK: tessel.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
  %0 = tessel.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // CHECK: tessel.constant dense<[0, 2, 1]> : tensor<3xi64>
  %1 = tessel.constant dense<[0, 2, 1]> : tensor<3xi64>
  return %0, %1 : tensor<2x2xf32>, tensor<3xi64>
}

// -----

// reshape with an inferred -1, PyTorch flatten, transpose.
// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<8x512x1x1xf32>) -> (tensor<8x512xf32>, tensor<8x512xf32>, tensor<1x1x512x8xf32>) {
  // CHECK: tessel.reshape %{{.+}} {shape = array<i64: 8, -1>} : tensor<8x512x1x1xf32> -> tensor<8x512xf32>
  %0 = tessel.reshape %x {shape = array<i64: 8, -1>} : tensor<8x512x1x1xf32> -> tensor<8x512xf32>
  // CHECK: tessel.flatten %{{.+}} : tensor<8x512x1x1xf32> -> tensor<8x512xf32>
  %1 = tessel.flatten %x : tensor<8x512x1x1xf32> -> tensor<8x512xf32>
  // CHECK: tessel.transpose %{{.+}} {perm = array<i64: 3, 2, 1, 0>} : tensor<8x512x1x1xf32> -> tensor<1x1x512x8xf32>
  %2 = tessel.transpose %x {perm = array<i64: 3, 2, 1, 0>} : tensor<8x512x1x1xf32> -> tensor<1x1x512x8xf32>
  return %0, %1, %2 : tensor<8x512xf32>, tensor<8x512xf32>, tensor<1x1x512x8xf32>
}

// -----

// flatten of a middle range; start_dim 1 is the default and is not printed.
// CHECK-LABEL: func @flatten_range
func.func @flatten_range(%x: tensor<2x3x4x5xf32>) -> tensor<2x12x5xf32> {
  // CHECK: tessel.flatten %{{.+}} {end_dim = 2 : i64} :
  %0 = tessel.flatten %x {start_dim = 1 : i64, end_dim = 2 : i64} : tensor<2x3x4x5xf32> -> tensor<2x12x5xf32>
  return %0 : tensor<2x12x5xf32>
}

// -----

// concat along channels, with a negative axis.
// CHECK-LABEL: func @concat
func.func @concat(%a: tensor<1x64x28x28xf32>, %b: tensor<1x32x28x28xf32>) -> tensor<1x128x28x28xf32> {
  // CHECK: tessel.concat %{{.+}}, %{{.+}}, %{{.+}} {axis = -3 : i64} : (tensor<1x64x28x28xf32>, tensor<1x32x28x28xf32>, tensor<1x32x28x28xf32>) -> tensor<1x128x28x28xf32>
  %0 = tessel.concat %a, %b, %b {axis = -3 : i64}
         : (tensor<1x64x28x28xf32>, tensor<1x32x28x28xf32>, tensor<1x32x28x28xf32>) -> tensor<1x128x28x28xf32>
  return %0 : tensor<1x128x28x28xf32>
}

// -----

// relayout is the one op that changes a layout.
// CHECK-LABEL: func @relayout
func.func @relayout(%x: tensor<1x3x224x225xf32>, %y: tensor<2x4x5x6x3xf32>) -> (tensor<1x224x225x3xf32>, tensor<2x3x4x5x6xf32>) {
  // CHECK: tessel.relayout %{{.+}} from nchw to nhwc : tensor<1x3x224x225xf32> -> tensor<1x224x225x3xf32>
  %0 = tessel.relayout %x from nchw to nhwc : tensor<1x3x224x225xf32> -> tensor<1x224x225x3xf32>
  // CHECK: tessel.relayout %{{.+}} from ndhwc to ncdhw : tensor<2x4x5x6x3xf32> -> tensor<2x3x4x5x6xf32>
  %1 = tessel.relayout %y from ndhwc to ncdhw : tensor<2x4x5x6x3xf32> -> tensor<2x3x4x5x6xf32>
  return %0, %1 : tensor<1x224x225x3xf32>, tensor<2x3x4x5x6xf32>
}

// -----

// Strided slices (negative strides walk backwards) and gathers.
// CHECK-LABEL: func @slice_gather
func.func @slice_gather(%x: tensor<2x8xf32>, %i: tensor<3x2xi64>) -> (tensor<2x4xf32>, tensor<2x3x2xf32>) {
  // CHECK: tessel.slice %{{.+}} {offsets = array<i64: 0, 7>, sizes = array<i64: 2, 4>, strides = array<i64: 1, -2>} : tensor<2x8xf32> -> tensor<2x4xf32>
  %0 = tessel.slice %x {offsets = array<i64: 0, 7>, sizes = array<i64: 2, 4>, strides = array<i64: 1, -2>} : tensor<2x8xf32> -> tensor<2x4xf32>
  // CHECK: tessel.gather %{{.+}}, %{{.+}} {axis = -1 : i64} : (tensor<2x8xf32>, tensor<3x2xi64>) -> tensor<2x3x2xf32>
  %1 = tessel.gather %x, %i {axis = -1 : i64} : (tensor<2x8xf32>, tensor<3x2xi64>) -> tensor<2x3x2xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x3x2xf32>
}
