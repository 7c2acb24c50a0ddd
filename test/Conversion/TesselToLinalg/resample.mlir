// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the resample family (ResampleToLinalg.cpp): constant
// padding as tensor.pad, the other pad modes and upsampling as generics
// that compute each source index, pixel (un)shuffle as reshape-transpose-
// reshape.

// Constant padding is a tensor.pad yielding the value (1.5).
// CHECK-LABEL: func @pad_constant
// CHECK: %[[V:.+]] = arith.constant 1.500000e+00 : f32
// CHECK: tensor.pad %{{.+}} low[0, 0, 1, 1] high[0, 0, 1, 2]
// CHECK: tensor.yield %[[V]] : f32
func.func @pad_constant(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x5x6xf32> {
  %0 = tessel.pad constant %x {padding = array<i64: 0, 0, 1, 1, 0, 0, 1, 2>, value = 1.5 : f64} : tensor<1x2x3x3xf32> -> tensor<1x2x5x6xf32>
  return %0 : tensor<1x2x5x6xf32>
}

// -----

// reflect: source index i = o - low mirrored at both ends, |i| then
// min(|i|, 2 * (size - 1) - |i|) (here 6 - |i| for a width of 4). Only the
// padded dim gets index arithmetic.
// CHECK-LABEL: func @pad_reflect
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x4x7xf32>)
// CHECK: %[[O:.+]] = linalg.index 3 : index
// CHECK: %[[I:.+]] = arith.subi %[[O]], %c2 : index
// CHECK: %[[NEG:.+]] = arith.subi %c0, %[[I]] : index
// CHECK: %[[ABS:.+]] = arith.maxsi %[[I]], %[[NEG]] : index
// CHECK: %[[FAR:.+]] = arith.subi %c6, %[[ABS]] : index
// CHECK: %[[SRC:.+]] = arith.minsi %[[ABS]], %[[FAR]] : index
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %[[SRC]]] : tensor<1x2x4x4xf32>
func.func @pad_reflect(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x7xf32> {
  %0 = tessel.pad reflect %x {padding = array<i64: 0, 0, 0, 2, 0, 0, 0, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x4x7xf32>
  return %0 : tensor<1x2x4x7xf32>
}

// -----

// replicate: the source index is clamped into [0, size - 1].
// CHECK-LABEL: func @pad_replicate
// CHECK: %[[I:.+]] = arith.subi %{{.+}}, %c1 : index
// CHECK: %[[LOW:.+]] = arith.maxsi %[[I]], %c0 : index
// CHECK: %[[SRC:.+]] = arith.minsi %[[LOW]], %c3 : index
// CHECK: tensor.extract %{{.+}}[%[[SRC]]] : tensor<4xf32>
func.func @pad_replicate(%x: tensor<4xf32>) -> tensor<6xf32> {
  %0 = tessel.pad replicate %x {padding = array<i64: 1, 1>} : tensor<4xf32> -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// circular: the source index wraps, ((i % size) + size) % size so that a
// negative i wraps too.
// CHECK-LABEL: func @pad_circular
// CHECK: %[[I:.+]] = arith.subi %{{.+}}, %c1 : index
// CHECK: %[[R:.+]] = arith.remsi %[[I]], %c4 : index
// CHECK: %[[S:.+]] = arith.addi %[[R]], %c4 : index
// CHECK: %[[SRC:.+]] = arith.remsi %[[S]], %c4 : index
// CHECK: tensor.extract %{{.+}}[%[[SRC]]] : tensor<4xf32>
func.func @pad_circular(%x: tensor<4xf32>) -> tensor<6xf32> {
  %0 = tessel.pad circular %x {padding = array<i64: 1, 1>} : tensor<4xf32> -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// pixel_shuffle (CRD): channels split into [C, r, r], the two factors moved
// after H and W, then merged into them.
// CHECK-LABEL: func @pixel_shuffle
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4], [5]] output_shape [1, 2, 2, 2, 3, 3]
// CHECK: %[[MOVED:.+]] = linalg.transpose ins(%[[SPLIT]] : tensor<1x2x2x2x3x3xf32>) outs(%{{.+}} : tensor<1x2x3x2x3x2xf32>) permutation = [0, 1, 4, 2, 5, 3]
// CHECK: tensor.collapse_shape %[[MOVED]] {{\[}}[0], [1], [2, 3], [4, 5]] : tensor<1x2x3x2x3x2xf32> into tensor<1x2x6x6xf32>
func.func @pixel_shuffle(%x: tensor<1x8x3x3xf32>) -> tensor<1x2x6x6xf32> {
  %0 = tessel.pixel_shuffle %x layout nchw {factor = 2 : i64} : tensor<1x8x3x3xf32> -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// pixel_unshuffle is the inverse: H and W split, factors moved next to C.
// CHECK-LABEL: func @pixel_unshuffle
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2, 3], [4, 5]] output_shape [1, 2, 3, 2, 3, 2]
// CHECK: linalg.transpose {{.*}} permutation = [0, 1, 3, 5, 2, 4]
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4], [5]] : tensor<1x2x2x2x3x3xf32> into tensor<1x8x3x3xf32>
func.func @pixel_unshuffle(%x: tensor<1x2x6x6xf32>) -> tensor<1x8x3x3xf32> {
  %0 = tessel.pixel_unshuffle %x layout nchw {factor = 2 : i64} : tensor<1x2x6x6xf32> -> tensor<1x8x3x3xf32>
  return %0 : tensor<1x8x3x3xf32>
}

// -----

// Nearest: the source index is floor(o * in / out), computed in f64 and
// clamped to in - 1.
// CHECK-LABEL: func @upsample_nearest
// CHECK: %[[O:.+]] = arith.sitofp %{{.+}} : i64 to f64
// CHECK: %[[HALF:.+]] = arith.constant 5.000000e-01 : f64
// CHECK: %[[POS:.+]] = arith.mulf %[[O]], %[[HALF]] : f64
// CHECK: math.floor %[[POS]] : f64
// CHECK: arith.minsi %{{.+}}, %c2 : index
// CHECK: tensor.extract %{{.+}} : tensor<1x2x3x3xf32>
// CHECK-NOT: tensor.extract
func.func @upsample_nearest(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  %0 = tessel.upsample nearest %x layout nchw {size = array<i64: 6, 6>} : tensor<1x2x3x3xf32> -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// Bilinear with align_corners: scale (in - 1) / (out - 1) = 0.5; the
// 2^2 neighbours are blended with weights (1 - f) and f per dim, in f64.
// CHECK-LABEL: func @upsample_linear_align
// CHECK: arith.constant 5.000000e-01 : f64
// CHECK: %[[FLOOR:.+]] = math.floor
// CHECK: %[[NEXT:.+]] = arith.addi %{{.+}}, %c1 : index
// CHECK: arith.minsi %[[NEXT]], %c2 : index
// CHECK: arith.subf %{{.+}}, %[[FLOOR]] : f64
// CHECK-COUNT-4: tensor.extract
// CHECK: arith.truncf %{{.+}} : f64 to f32
func.func @upsample_linear_align(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x5x5xf32> {
  %0 = tessel.upsample linear %x layout nchw {size = array<i64: 5, 5>, align_corners} : tensor<1x2x3x3xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}
