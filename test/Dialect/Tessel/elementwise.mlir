// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// Every unary op keeps its operand's type.
// CHECK-LABEL: func @unary
func.func @unary(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: tessel.relu %{{.+}} : tensor<2x3xf32>
  %0 = tessel.relu %x : tensor<2x3xf32>
  // CHECK: tessel.sigmoid
  %1 = tessel.sigmoid %0 : tensor<2x3xf32>
  // CHECK: tessel.tanh
  %2 = tessel.tanh %1 : tensor<2x3xf32>
  // CHECK: tessel.abs
  %3 = tessel.abs %2 : tensor<2x3xf32>
  // CHECK: tessel.neg
  %4 = tessel.neg %3 : tensor<2x3xf32>
  // CHECK: tessel.sqrt
  %5 = tessel.sqrt %4 : tensor<2x3xf32>
  // CHECK: tessel.exp
  %6 = tessel.exp %5 : tensor<2x3xf32>
  // CHECK: tessel.log
  %7 = tessel.log %6 : tensor<2x3xf32>
  // CHECK: tessel.sign
  %8 = tessel.sign %7 : tensor<2x3xf32>
  // CHECK: tessel.erf
  %9 = tessel.erf %8 : tensor<2x3xf32>
  return %9 : tensor<2x3xf32>
}

// -----

// leaky_relu's alpha defaults to 0.01 and prints only when set; clamp takes either bound.
// CHECK-LABEL: func @parametric
func.func @parametric(%x: tensor<4x16xbf16>) -> tensor<4x16xbf16> {
  // CHECK: tessel.leaky_relu %{{.+}} : tensor<4x16xbf16>
  %0 = tessel.leaky_relu %x : tensor<4x16xbf16>
  // CHECK: tessel.leaky_relu %{{.+}} {alpha = 2.000000e-01 : f64}
  %1 = tessel.leaky_relu %0 {alpha = 0.2 : f64} : tensor<4x16xbf16>
  // CHECK: tessel.clamp %{{.+}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
  %2 = tessel.clamp %1 {min = 0.0 : f64, max = 6.0 : f64} : tensor<4x16xbf16>
  // CHECK: tessel.clamp %{{.+}} {max = 1.000000e+00 : f64}
  %3 = tessel.clamp %2 {max = 1.0 : f64} : tensor<4x16xbf16>
  return %3 : tensor<4x16xbf16>
}

// -----

// Binary ops broadcast like numpy: a per-channel bias, a scalar, a batch.
// CHECK-LABEL: func @binary
func.func @binary(%x: tensor<1x64x56x56xf32>, %b: tensor<64x1x1xf32>, %s: tensor<f32>, %y: tensor<8x1x56x1xf32>) -> tensor<8x64x56x56xf32> {
  // CHECK: tessel.add %{{.+}}, %{{.+}} : (tensor<1x64x56x56xf32>, tensor<64x1x1xf32>) -> tensor<1x64x56x56xf32>
  %0 = tessel.add %x, %b : (tensor<1x64x56x56xf32>, tensor<64x1x1xf32>) -> tensor<1x64x56x56xf32>
  // CHECK: tessel.sub {{.*}} -> tensor<1x64x56x56xf32>
  %1 = tessel.sub %0, %s : (tensor<1x64x56x56xf32>, tensor<f32>) -> tensor<1x64x56x56xf32>
  // CHECK: tessel.mul {{.*}} -> tensor<8x64x56x56xf32>
  %2 = tessel.mul %1, %y : (tensor<1x64x56x56xf32>, tensor<8x1x56x1xf32>) -> tensor<8x64x56x56xf32>
  // CHECK: tessel.div {{.*}} -> tensor<8x64x56x56xf32>
  %3 = tessel.div %2, %b : (tensor<8x64x56x56xf32>, tensor<64x1x1xf32>) -> tensor<8x64x56x56xf32>
  // CHECK: tessel.pow {{.*}} -> tensor<8x64x56x56xf32>
  %4 = tessel.pow %3, %s : (tensor<8x64x56x56xf32>, tensor<f32>) -> tensor<8x64x56x56xf32>
  // CHECK: tessel.maximum {{.*}} -> tensor<8x64x56x56xf32>
  %5 = tessel.maximum %4, %b : (tensor<8x64x56x56xf32>, tensor<64x1x1xf32>) -> tensor<8x64x56x56xf32>
  // CHECK: tessel.minimum {{.*}} -> tensor<8x64x56x56xf32>
  %6 = tessel.minimum %s, %5 : (tensor<f32>, tensor<8x64x56x56xf32>) -> tensor<8x64x56x56xf32>
  return %6 : tensor<8x64x56x56xf32>
}
