// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// A classifier head with and without bias, on 2-D and 3-D inputs.
// CHECK-LABEL: func @linear
func.func @linear(%x: tensor<8x512xf32>, %w: tensor<1000x512xf32>, %b: tensor<1000xf32>, %y: tensor<2x3x512xf32>) -> (tensor<8x1000xf32>, tensor<2x3x1000xf32>) {
  // CHECK: tessel.linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<8x512xf32>, tensor<1000x512xf32>, tensor<1000xf32>) -> tensor<8x1000xf32>
  %0 = tessel.linear %x, %w, %b : (tensor<8x512xf32>, tensor<1000x512xf32>, tensor<1000xf32>) -> tensor<8x1000xf32>
  // CHECK: tessel.linear %{{.+}}, %{{.+}} : (tensor<2x3x512xf32>, tensor<1000x512xf32>) -> tensor<2x3x1000xf32>
  %1 = tessel.linear %y, %w : (tensor<2x3x512xf32>, tensor<1000x512xf32>) -> tensor<2x3x1000xf32>
  return %0, %1 : tensor<8x1000xf32>, tensor<2x3x1000xf32>
}

// -----

// numpy matmul: batch broadcasting and 1-D operands.
// CHECK-LABEL: func @matmul
func.func @matmul(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>, %v: tensor<8xf32>) -> (tensor<2x3x4x5xf32>, tensor<3x5xf32>) {
  // CHECK: tessel.matmul %{{.+}}, %{{.+}} : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  %0 = tessel.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  // CHECK: tessel.matmul %{{.+}}, %{{.+}} : (tensor<8xf32>, tensor<3x8x5xf32>) -> tensor<3x5xf32>
  %1 = tessel.matmul %v, %b : (tensor<8xf32>, tensor<3x8x5xf32>) -> tensor<3x5xf32>
  return %0, %1 : tensor<2x3x4x5xf32>, tensor<3x5xf32>
}
