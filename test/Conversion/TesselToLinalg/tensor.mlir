// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the tensor family (TensorToLinalg.cpp): constants, the
// reshapes, transposes and relayouts, concat, slices (positive and negative
// strides) and gather.

// relayout is a linalg.transpose with the permutation the layouts imply.
// CHECK-LABEL: func @relayout
// CHECK: linalg.transpose ins(%{{.+}} : tensor<2x3x4x5xf32>) outs(%{{.+}} : tensor<2x4x5x3xf32>) permutation = [0, 2, 3, 1]
func.func @relayout(%x: tensor<2x3x4x5xf32>) -> tensor<2x4x5x3xf32> {
  %0 = tessel.relayout %x from nchw to nhwc : tensor<2x3x4x5xf32> -> tensor<2x4x5x3xf32>
  return %0 : tensor<2x4x5x3xf32>
}

// -----

// A constant becomes an arith.constant of the same dense value.
// CHECK-LABEL: func @constant
// CHECK: %[[C:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2xf32> {
  %0 = tessel.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// reshape only reinterprets the row-major order, without a copy: when whole
// dims group into the new ones, one collapse_shape (or expand_shape).
// CHECK-LABEL: func @reshape
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK-NOT: tensor.expand_shape
// CHECK-NOT: linalg.
func.func @reshape(%x: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  %0 = tessel.reshape %x {shape = array<i64: 6, 4>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

// Dims that do not group ([2, 3] -> [3, 2]): collapse to 1-D, then expand.
// CHECK-LABEL: func @reshape_regroup
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
func.func @reshape_regroup(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = tessel.reshape %x {shape = array<i64: 3, 2>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// flatten is the same reinterpretation, to the shape its dims imply.
// CHECK-LABEL: func @flatten
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<2x3x4x5xf32> into tensor<2x60xf32>
func.func @flatten(%x: tensor<2x3x4x5xf32>) -> tensor<2x60xf32> {
  %0 = tessel.flatten %x {start_dim = 1 : i64} : tensor<2x3x4x5xf32> -> tensor<2x60xf32>
  return %0 : tensor<2x60xf32>
}

// -----

// transpose is linalg.transpose with the same permutation.
// CHECK-LABEL: func @transpose
// CHECK: linalg.transpose ins(%{{.+}} : tensor<2x3x4xf32>) outs(%{{.+}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = tessel.transpose %x {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// -----

// concat inserts each input at its running offset along the (normalized,
// here negative) axis of an empty result.
// CHECK-LABEL: func @concat
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<2x8xf32>
// CHECK: %[[FIRST:.+]] = tensor.insert_slice %{{.+}} into %[[EMPTY]][0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %{{.+}} into %[[FIRST]][0, 3] [2, 5] [1, 1]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = tessel.concat %a, %b {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Positive strides are one tensor.extract_slice.
// CHECK-LABEL: func @slice_positive
// CHECK: tensor.extract_slice %{{.+}}[1, 2] [2, 3] [2, 2] : tensor<6x8xf32> to tensor<2x3xf32>
func.func @slice_positive(%x: tensor<6x8xf32>) -> tensor<2x3xf32> {
  %0 = tessel.slice %x {offsets = array<i64: 1, 2>, sizes = array<i64: 2, 3>, strides = array<i64: 2, 2>} : tensor<6x8xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A negative stride (a flip) cannot be an extract_slice: a generic copy
// reads offset + index * stride (7 - 2 * j) through its indexing map.
// CHECK-DAG: #[[READ:.+]] = affine_map<(d0, d1) -> (d0, d1 * -2 + 7)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func @slice_negative
// CHECK: linalg.generic {indexing_maps = [#[[READ]], #[[ID]]], {{.*}}} ins(%arg0 : tensor<6x8xf32>) outs(%{{.+}} : tensor<6x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
func.func @slice_negative(%x: tensor<6x8xf32>) -> tensor<6x4xf32> {
  %0 = tessel.slice %x {offsets = array<i64: 0, 7>, sizes = array<i64: 6, 4>, strides = array<i64: 1, -2>} : tensor<6x8xf32> -> tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

// -----

// gather reads each index, wraps a negative one (+5), clamps it into
// [0, 4] and extracts along the axis.
// CHECK-LABEL: func @gather
// CHECK: linalg.generic {{.*}} ins(%{{.+}} : tensor<4xi64>) outs(%{{.+}} : tensor<4x3xf32>)
// CHECK: %[[I:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[NEG:.+]] = arith.cmpi slt, %[[I]], %c0 : index
// CHECK: %[[WRAPPED:.+]] = arith.addi %[[I]], %c5 : index
// CHECK: %[[SEL:.+]] = arith.select %[[NEG]], %[[WRAPPED]], %[[I]] : index
// CHECK: %[[LOW:.+]] = arith.maxsi %[[SEL]], %c0 : index
// CHECK: %[[ROW:.+]] = arith.minsi %[[LOW]], %c4 : index
// CHECK: tensor.extract %{{.+}}[%[[ROW]], %{{.+}}] : tensor<5x3xf32>
func.func @gather(%x: tensor<5x3xf32>, %i: tensor<4xi64>) -> tensor<4x3xf32> {
  %0 = tessel.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
