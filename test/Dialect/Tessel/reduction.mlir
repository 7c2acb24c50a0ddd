// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// softmax and log_softmax keep the shape.
// CHECK-LABEL: func @softmax
func.func @softmax(%x: tensor<8x1000xf32>) -> (tensor<8x1000xf32>, tensor<8x1000xf32>) {
  // CHECK: tessel.softmax %{{.+}} {axis = 1 : i64} : tensor<8x1000xf32>
  %0 = tessel.softmax %x {axis = 1 : i64} : tensor<8x1000xf32>
  // CHECK: tessel.log_softmax %{{.+}} {axis = -1 : i64} : tensor<8x1000xf32>
  %1 = tessel.log_softmax %x {axis = -1 : i64} : tensor<8x1000xf32>
  return %0, %1 : tensor<8x1000xf32>, tensor<8x1000xf32>
}

// -----

// Reductions over some axes, with and without keepdims, and over all.
// CHECK-LABEL: func @reduce
func.func @reduce(%x: tensor<8x64x7x7xf32>) -> (tensor<8x64x1x1xf32>, tensor<8x64xf32>, tensor<f32>) {
  // CHECK: tessel.mean %{{.+}} {axes = array<i64: 2, 3>, keepdims} : tensor<8x64x7x7xf32> -> tensor<8x64x1x1xf32>
  %0 = tessel.mean %x {axes = array<i64: 2, 3>, keepdims} : tensor<8x64x7x7xf32> -> tensor<8x64x1x1xf32>
  // CHECK: tessel.sum %{{.+}} {axes = array<i64: -1, -2>} : tensor<8x64x7x7xf32> -> tensor<8x64xf32>
  %1 = tessel.sum %x {axes = array<i64: -1, -2>} : tensor<8x64x7x7xf32> -> tensor<8x64xf32>
  // CHECK: tessel.sum %{{.+}} : tensor<8x64x7x7xf32> -> tensor<f32>
  %2 = tessel.sum %x : tensor<8x64x7x7xf32> -> tensor<f32>
  return %0, %1, %2 : tensor<8x64x1x1xf32>, tensor<8x64xf32>, tensor<f32>
}

// -----

// Losses: cross-entropy with class labels (per-pixel too) and mse.
// CHECK-LABEL: func @losses
func.func @losses(%logits: tensor<32x10xf32>, %labels: tensor<32xi64>, %seg: tensor<4x21x8x8xf32>, %segl: tensor<4x8x8xi32>, %p: tensor<8x10xf32>) -> (tensor<f32>, tensor<4x8x8xf32>, tensor<f32>) {
  // CHECK: tessel.cross_entropy mean %{{.+}}, %{{.+}} : (tensor<32x10xf32>, tensor<32xi64>) -> tensor<f32>
  %0 = tessel.cross_entropy mean %logits, %labels : (tensor<32x10xf32>, tensor<32xi64>) -> tensor<f32>
  // CHECK: tessel.cross_entropy none %{{.+}}, %{{.+}} : (tensor<4x21x8x8xf32>, tensor<4x8x8xi32>) -> tensor<4x8x8xf32>
  %1 = tessel.cross_entropy none %seg, %segl : (tensor<4x21x8x8xf32>, tensor<4x8x8xi32>) -> tensor<4x8x8xf32>
  // CHECK: tessel.mse_loss sum %{{.+}}, %{{.+}} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
  %2 = tessel.mse_loss sum %p, %p : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
  return %0, %1, %2 : tensor<f32>, tensor<4x8x8xf32>, tensor<f32>
}
