// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the linear family (LinearToLinalg.cpp): linear as one
// [M, K] x [N, K]^T contraction on the flattened input, matmul as one
// contraction whose maps broadcast the batch dims.

// linear: the [2, 5] leading dims flatten to M = 10, the bias is broadcast
// into the accumulator, the weight is read transposed (d1, d2) so no
// transpose is materialized, the sum over K may be reassociated (LLVM
// vectorizes it with partial sums), and the result is reshaped back.
// CHECK-DAG: #[[BIAS:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[Y:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @linear_bias
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : tensor<2x5x4xf32> into tensor<10x4xf32>
// CHECK: %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[BIAS]], #{{.+}}], iterator_types = ["parallel", "parallel"]} ins(%{{.+}} : tensor<3xf32>) outs(%{{.+}} : tensor<10x3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[FLAT]], %{{.+}} : tensor<10x4xf32>, tensor<3x4xf32>) outs(%[[INIT]] : tensor<10x3xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf {{.*}} fastmath<reassoc>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2]] output_shape [2, 5, 3] : tensor<10x3xf32> into tensor<2x5x3xf32>
func.func @linear_bias(%x: tensor<2x5x4xf32>, %w: tensor<3x4xf32>, %b: tensor<3xf32>) -> tensor<2x5x3xf32> {
  %0 = tessel.linear %x, %w, %b : (tensor<2x5x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x5x3xf32>
  return %0 : tensor<2x5x3xf32>
}

// -----

// Batched matmul with numpy broadcasting: lhs batch [2, 1] against rhs
// batch [5] gives [2, 5]; the size-1 dim reads index 0 and the missing one
// is dropped from the rhs map, so nothing is copied to broadcast. The loops
// are batch, m, k, n: the innermost walks rows of rhs and of the result.
// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d3)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-LABEL: func @matmul_batch_broadcast
// CHECK: %[[ZERO:.+]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} {{.*}} outs(%[[ZERO]] : tensor<2x5x3x6xf32>)
func.func @matmul_batch_broadcast(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
  %0 = tessel.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
  return %0 : tensor<2x5x3x6xf32>
}

// -----

// A 1-D lhs is promoted to a [1, K] matrix and the 1 is dropped again.
// CHECK-LABEL: func @matmul_vector
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1]] : tensor<1x6xf32> into tensor<6xf32>
func.func @matmul_vector(%a: tensor<4xf32>, %b: tensor<4x6xf32>) -> tensor<6xf32> {
  %0 = tessel.matmul %a, %b : (tensor<4xf32>, tensor<4x6xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}
