// RUN: tessel-opt --split-input-file --canonicalize %s | FileCheck %s

// A relayout to the layout the tensor already has is the identity.
// CHECK-LABEL: func @relayout_identity
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x8x8xf32>)
// CHECK-NOT: tessel.relayout
// CHECK: return %[[X]]
func.func @relayout_identity(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %0 = tessel.relayout %x from nchw to nchw : tensor<1x3x8x8xf32> -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// A concatenation whose leading inputs are an earlier one's (same axis, at
// least two) concatenates that earlier result: the longest such one. Another
// axis or a different order is left alone.
// CHECK-LABEL: func @concat_of_concatenated_prefix
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x5x5xf32>, %[[A:.+]]: tensor<1x2x5x5xf32>, %[[B:.+]]: tensor<1x2x5x5xf32>, %[[C:.+]]: tensor<1x2x5x5xf32>)
// CHECK: %[[S:.+]] = tessel.concat %[[X]] {axis = 1
// CHECK: %[[AB:.+]] = tessel.concat %[[X]], %[[A]] {axis = 1
// CHECK: %[[ABB:.+]] = tessel.concat %[[AB]], %[[B]] {axis = 1
// CHECK: %[[ALL:.+]] = tessel.concat %[[ABB]], %[[C]] {axis = 1
// CHECK: %[[OTHER:.+]] = tessel.concat %[[A]], %[[X]], %[[B]] {axis = 1
// CHECK: %[[W:.+]] = tessel.concat %[[X]], %[[X]] {axis = 3
// CHECK: %[[XXX:.+]] = tessel.concat %[[X]], %[[X]], %[[X]] {axis = 1
// CHECK: return %[[S]], %[[AB]], %[[ABB]], %[[ALL]], %[[OTHER]], %[[W]], %[[XXX]]
func.func @concat_of_concatenated_prefix(%x: tensor<1x4x5x5xf32>, %a: tensor<1x2x5x5xf32>, %b: tensor<1x2x5x5xf32>, %c: tensor<1x2x5x5xf32>)
    -> (tensor<1x4x5x5xf32>, tensor<1x6x5x5xf32>, tensor<1x8x5x5xf32>, tensor<1x10x5x5xf32>, tensor<1x8x5x5xf32>, tensor<1x4x5x10xf32>, tensor<1x12x5x5xf32>) {
  %s = tessel.concat %x {axis = 1 : i64} : (tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %0 = tessel.concat %x, %a {axis = 1 : i64} : (tensor<1x4x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x6x5x5xf32>
  %1 = tessel.concat %x, %a, %b {axis = 1 : i64} : (tensor<1x4x5x5xf32>, tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x8x5x5xf32>
  %2 = tessel.concat %x, %a, %b, %c {axis = 1 : i64} : (tensor<1x4x5x5xf32>, tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x10x5x5xf32>
  %3 = tessel.concat %a, %x, %b {axis = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<1x4x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x8x5x5xf32>
  %4 = tessel.concat %x, %x {axis = 3 : i64} : (tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>) -> tensor<1x4x5x10xf32>
  %5 = tessel.concat %x, %x, %x {axis = 1 : i64} : (tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>) -> tensor<1x12x5x5xf32>
  return %s, %0, %1, %2, %3, %4, %5 : tensor<1x4x5x5xf32>, tensor<1x6x5x5xf32>, tensor<1x8x5x5xf32>, tensor<1x10x5x5xf32>, tensor<1x8x5x5xf32>, tensor<1x4x5x10xf32>, tensor<1x12x5x5xf32>
}

// -----

// A relayout that undoes the previous one cancels with it.
// CHECK-LABEL: func @relayout_round_trip
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x8x9xf32>)
// CHECK-NOT: tessel.relayout
// CHECK: return %[[X]]
func.func @relayout_round_trip(%x: tensor<1x3x8x9xf32>) -> tensor<1x3x8x9xf32> {
  %0 = tessel.relayout %x from nchw to nhwc : tensor<1x3x8x9xf32> -> tensor<1x8x9x3xf32>
  %1 = tessel.relayout %0 from nhwc to nchw : tensor<1x8x9x3xf32> -> tensor<1x3x8x9xf32>
  return %1 : tensor<1x3x8x9xf32>
}

// -----

// A relayout followed by an identity relayout: only the real one stays.
// CHECK-LABEL: func @relayout_chain
// CHECK: tessel.relayout %{{.+}} from ncw to nwc
// CHECK-NOT: tessel.relayout
func.func @relayout_chain(%x: tensor<2x3x5xf32>) -> tensor<2x5x3xf32> {
  %0 = tessel.relayout %x from ncw to nwc : tensor<2x3x5xf32> -> tensor<2x5x3xf32>
  %1 = tessel.relayout %0 from nwc to nwc : tensor<2x5x3xf32> -> tensor<2x5x3xf32>
  return %1 : tensor<2x5x3xf32>
}

// -----

// Unused pure ops are erased; constants are deduplicated.
// CHECK-LABEL: func @dead_and_duplicate
// CHECK: %[[C:.+]] = tessel.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NOT: tessel.constant
// CHECK-NOT: tessel.relu
// CHECK: tessel.add %[[C]], %[[C]]
func.func @dead_and_duplicate(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = tessel.constant dense<1.0> : tensor<4xf32>
  %b = tessel.constant dense<1.0> : tensor<4xf32>
  %dead = tessel.relu %x : tensor<4xf32>
  %0 = tessel.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A relayout of 1x1 spatial data moves nothing: it becomes a reshape.
// CHECK-LABEL: func @relayout_unit_spatial
// CHECK-NOT: tessel.relayout
// CHECK: tessel.reshape %{{.+}} {shape = array<i64: 2, 8, 1, 1>} : tensor<2x1x1x8xf32> -> tensor<2x8x1x1xf32>
func.func @relayout_unit_spatial(%x: tensor<2x1x1x8xf32>) -> tensor<2x8x1x1xf32> {
  %0 = tessel.relayout %x from nhwc to nchw : tensor<2x1x1x8xf32> -> tensor<2x8x1x1xf32>
  return %0 : tensor<2x8x1x1xf32>
}

// -----

// Canonicalization never changes the op mix: a stride-1 transposed conv and
// a foldable batch norm stay (tessel-decompose rewrites them).
// CHECK-LABEL: func @no_decomposition
// CHECK: tessel.conv_transpose
// CHECK: tessel.batch_norm
func.func @no_decomposition(%x: tensor<1x2x5x5xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x5x5xf32> {
  %s = tessel.constant dense<1.0> : tensor<3xf32>
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x2x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x5x5xf32>
  %1 = tessel.batch_norm %0, %s, %s, %s, %s layout nchw {epsilon = 1.0e-5 : f64}
         : (tensor<1x3x5x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
  return %1 : tensor<1x3x5x5xf32>
}

// -----

// A transpose of a relayout, or of a transpose, is one transpose of the
// original tensor.
// CHECK-LABEL: func @transpose_of_relayout
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x4x8xf32>, %[[Y:.+]]: tensor<2x3x5xf32>)
// CHECK-NOT: tessel.relayout
// CHECK: tessel.transpose %[[X]] {perm = array<i64: 3, 1, 2, 0>} : tensor<1x4x4x8xf32> -> tensor<8x4x4x1xf32>
// CHECK: tessel.transpose %[[Y]] {perm = array<i64: 2, 0, 1>} : tensor<2x3x5xf32> -> tensor<5x2x3xf32>
func.func @transpose_of_relayout(%x: tensor<1x4x4x8xf32>, %y: tensor<2x3x5xf32>) -> (tensor<8x4x4x1xf32>, tensor<5x2x3xf32>) {
  %0 = tessel.relayout %x from nhwc to nchw : tensor<1x4x4x8xf32> -> tensor<1x8x4x4xf32>
  %1 = tessel.transpose %0 {perm = array<i64: 1, 2, 3, 0>} : tensor<1x8x4x4xf32> -> tensor<8x4x4x1xf32>
  %2 = tessel.transpose %y {perm = array<i64: 1, 2, 0>} : tensor<2x3x5xf32> -> tensor<3x5x2xf32>
  %3 = tessel.transpose %2 {perm = array<i64: 1, 2, 0>} : tensor<3x5x2xf32> -> tensor<5x2x3xf32>
  return %1, %3 : tensor<8x4x4x1xf32>, tensor<5x2x3xf32>
}

// -----

// A transpose that only moves dims of size 1 is a reshape; one that reorders
// two larger dims is not.
// CHECK-LABEL: func @transpose_of_unit_dims
// CHECK: tessel.reshape %{{.+}} {shape = array<i64: 2, 2, 1, 512>} : tensor<1x2x2x512xf32> -> tensor<2x2x1x512xf32>
// CHECK: tessel.transpose %{{.+}} {perm = array<i64: 0, 2, 1>}
func.func @transpose_of_unit_dims(%x: tensor<1x2x2x512xf32>, %y: tensor<1x2x3xf32>) -> (tensor<2x2x1x512xf32>, tensor<1x3x2xf32>) {
  %0 = tessel.transpose %x {perm = array<i64: 1, 2, 0, 3>} : tensor<1x2x2x512xf32> -> tensor<2x2x1x512xf32>
  %1 = tessel.transpose %y {perm = array<i64: 0, 2, 1>} : tensor<1x2x3xf32> -> tensor<1x3x2xf32>
  return %0, %1 : tensor<2x2x1x512xf32>, tensor<1x3x2xf32>
}

// -----

// Constants that are resources (the ONNX importer's weights) fold like dense
// ones: a transpose writes the moved bytes into a new constant, a reshape
// keeps the resource under its new shape. [[1, 2, 3], [4, 5, 6]] as raw f32.
// CHECK-LABEL: func @fold_resources
// CHECK-DAG: tessel.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: tessel.constant dense_resource<w> : tensor<6xf32>
// A rank-3 transpose of 8-byte elements: [[[1, 2], [3, 4], [5, 6]]] with
// perm [2, 0, 1] is [[[1, 3, 5]], [[2, 4, 6]]].
// CHECK-DAG: tessel.constant dense<{{\[\[\[}}1, 3, 5]], {{\[\[}}2, 4, 6]]]> : tensor<2x1x3xi64>
// CHECK-NOT: tessel.transpose
// CHECK-NOT: tessel.reshape
func.func @fold_resources() -> (tensor<3x2xf32>, tensor<6xf32>, tensor<2x1x3xi64>) {
  %w = tessel.constant dense_resource<w> : tensor<2x3xf32>
  %t = tessel.transpose %w {perm = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %r = tessel.reshape %w {shape = array<i64: 6>} : tensor<2x3xf32> -> tensor<6xf32>
  %i = tessel.constant dense<[[[1, 2], [3, 4], [5, 6]]]> : tensor<1x3x2xi64>
  %u = tessel.transpose %i {perm = array<i64: 2, 0, 1>} : tensor<1x3x2xi64> -> tensor<2x1x3xi64>
  return %t, %r, %u : tensor<3x2xf32>, tensor<6xf32>, tensor<2x1x3xi64>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// Slices of constants fold too (a conv gradient's flipped constant filter):
// [[1, 2, 3], [4, 5, 6]] reversed along dim 1 is [[3, 2, 1], [6, 5, 4]]; row
// 1 from column 2 backwards with step 2 is [[6, 4]]; a slice of a splat is
// a splat; a slice of a run-time tensor stays.
// CHECK-LABEL: func @fold_slices
// CHECK-DAG: tessel.constant dense<{{\[\[}}3.000000e+00, 2.000000e+00, 1.000000e+00], [6.000000e+00, 5.000000e+00, 4.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: tessel.constant dense<{{\[\[}}6, 4]]> : tensor<1x2xi64>
// CHECK-DAG: tessel.constant dense<2.500000e-01> : tensor<2x2xf32>
// CHECK: tessel.slice %arg0
// CHECK-NOT: tessel.slice
func.func @fold_slices(%x: tensor<4xf32>) -> (tensor<2x3xf32>, tensor<1x2xi64>, tensor<2x2xf32>, tensor<2xf32>) {
  %w = tessel.constant dense_resource<w> : tensor<2x3xf32>
  %f = tessel.slice %w {offsets = array<i64: 0, 2>, sizes = array<i64: 2, 3>, strides = array<i64: 1, -1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  %i = tessel.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %r = tessel.slice %i {offsets = array<i64: 1, 2>, sizes = array<i64: 1, 2>, strides = array<i64: 1, -2>} : tensor<2x3xi64> -> tensor<1x2xi64>
  %s = tessel.constant dense<0.25> : tensor<3x3xf32>
  %t = tessel.slice %s {offsets = array<i64: 1, 0>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 2>} : tensor<3x3xf32> -> tensor<2x2xf32>
  %u = tessel.slice %x {offsets = array<i64: 3>, sizes = array<i64: 2>, strides = array<i64: -2>} : tensor<4xf32> -> tensor<2xf32>
  return %f, %r, %t, %u : tensor<2x3xf32>, tensor<1x2xi64>, tensor<2x2xf32>, tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}
