// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// Every padding mode; pads are the low pads of each dim, then the high pads.
// CHECK-LABEL: func @pad
func.func @pad(%x: tensor<1x3x8x8xf32>) -> (tensor<1x3x12x14xf32>, tensor<1x3x10x10xf32>, tensor<1x3x9x8xf32>, tensor<1x3x16x8xf32>) {
  // CHECK: tessel.pad constant %{{.+}} {padding = array<i64: 0, 0, 1, 2, 0, 0, 3, 4>, value = -1.000000e+00 : f64} : tensor<1x3x8x8xf32> -> tensor<1x3x12x14xf32>
  %0 = tessel.pad constant %x {padding = array<i64: 0, 0, 1, 2, 0, 0, 3, 4>, value = -1.0 : f64} : tensor<1x3x8x8xf32> -> tensor<1x3x12x14xf32>
  // CHECK: tessel.pad reflect
  %1 = tessel.pad reflect %x {padding = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : tensor<1x3x8x8xf32> -> tensor<1x3x10x10xf32>
  // CHECK: tessel.pad replicate
  %2 = tessel.pad replicate %x {padding = array<i64: 0, 0, 1, 0, 0, 0, 0, 0>} : tensor<1x3x8x8xf32> -> tensor<1x3x9x8xf32>
  // CHECK: tessel.pad circular
  %3 = tessel.pad circular %x {padding = array<i64: 0, 0, 8, 0, 0, 0, 0, 0>} : tensor<1x3x8x8xf32> -> tensor<1x3x16x8xf32>
  return %0, %1, %2, %3 : tensor<1x3x12x14xf32>, tensor<1x3x10x10xf32>, tensor<1x3x9x8xf32>, tensor<1x3x16x8xf32>
}

// -----

// Upsampling to a size or by scales (floor(5 * 2.0), floor(7 * 1.5)).
// CHECK-LABEL: func @upsample
func.func @upsample(%x: tensor<1x16x5x7xf32>) -> (tensor<1x16x20x21xf32>, tensor<1x16x10x10xf32>) {
  // CHECK: tessel.upsample nearest %{{.+}} layout nchw {size = array<i64: 20, 21>}
  %0 = tessel.upsample nearest %x layout nchw {size = array<i64: 20, 21>} : tensor<1x16x5x7xf32> -> tensor<1x16x20x21xf32>
  // CHECK: tessel.upsample linear %{{.+}} layout nchw {align_corners, scales = array<f64: 2.000000e+00, 1.500000e+00>}
  %1 = tessel.upsample linear %x layout nchw {scales = array<f64: 2.0, 1.5>, align_corners} : tensor<1x16x5x7xf32> -> tensor<1x16x10x10xf32>
  return %0, %1 : tensor<1x16x20x21xf32>, tensor<1x16x10x10xf32>
}

// -----

// Pixel shuffle and its inverse, in both 2-D layouts.
// CHECK-LABEL: func @pixel_shuffle
func.func @pixel_shuffle(%x: tensor<1x64x16x16xf32>, %y: tensor<1x32x32x16xf32>) -> (tensor<1x16x32x32xf32>, tensor<1x16x16x64xf32>) {
  // CHECK: tessel.pixel_shuffle %{{.+}} layout nchw {factor = 2 : i64} : tensor<1x64x16x16xf32> -> tensor<1x16x32x32xf32>
  %0 = tessel.pixel_shuffle %x layout nchw {factor = 2 : i64} : tensor<1x64x16x16xf32> -> tensor<1x16x32x32xf32>
  // CHECK: tessel.pixel_unshuffle %{{.+}} layout nhwc {factor = 2 : i64} : tensor<1x32x32x16xf32> -> tensor<1x16x16x64xf32>
  %1 = tessel.pixel_unshuffle %y layout nhwc {factor = 2 : i64} : tensor<1x32x32x16xf32> -> tensor<1x16x16x64xf32>
  return %0, %1 : tensor<1x16x32x32xf32>, tensor<1x16x16x64xf32>
}
