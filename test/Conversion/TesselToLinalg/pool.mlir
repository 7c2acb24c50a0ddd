// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the pool family (PoolToLinalg.cpp): window pools as
// generics over the input and an empty kernel-shaped operand, global pools
// as reductions, adaptive pools and every pool gradient as generics that
// compute their windows from linalg.index.

// Max pooling pads with -inf and bounds its window loops with an empty
// kernel-shaped operand.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[K:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-LABEL: func @maxpool
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %{{.+}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tensor.yield %[[NEGINF]]
// CHECK: %[[WINDOW:.+]] = tensor.empty() : tensor<3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[K]], {{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}}, %[[WINDOW]]
// CHECK: arith.maximumf
func.func @maxpool(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %0 = tessel.pool max %x layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Average pooling divides by a count computed from each window's bounds.
// CHECK-LABEL: func @avgpool
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: linalg.index 2
// CHECK: arith.ceildivsi
// CHECK: arith.floordivsi
// CHECK: arith.sitofp
// CHECK: arith.divf
func.func @avgpool(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %0 = tessel.pool avg %x layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Where every window counts the same positions (no padding, or padding that
// counts, and no ceil-mode overhang), the divisor is a constant: no index
// arithmetic per element.
// CHECK-LABEL: func @avgpool_uniform_count
// CHECK: linalg.generic {{.*}} iterator_types = [{{.*}}"reduction", "reduction"]
// CHECK: linalg.generic
// CHECK-NOT: linalg.index
// CHECK: %[[FOUR:.+]] = arith.constant 4.000000e+00 : f32
// CHECK-NEXT: arith.divf %{{.+}}, %[[FOUR]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = [{{.*}}"reduction", "reduction"]
// CHECK: linalg.generic
// CHECK-NOT: linalg.index
// CHECK: %[[NINE:.+]] = arith.constant 9.000000e+00 : f32
// CHECK-NEXT: arith.divf %{{.+}}, %[[NINE]] : f32
func.func @avgpool_uniform_count(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %0 = tessel.pool avg %x layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
         : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  %1 = tessel.pool avg %x layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad}
         : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %0, %1 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Lp pooling accumulates |x|^p, then takes the p-th root in a second
// elementwise generic (p = 3: powf by 3, then by 1/3).
// CHECK-LABEL: func @lppool
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: %[[ABS:.+]] = math.absf %{{.+}} : f32
// CHECK: %[[P:.+]] = arith.constant 3.000000e+00 : f32
// CHECK: %[[POW:.+]] = math.powf %[[ABS]], %[[P]] : f32
// CHECK: arith.addf %{{.+}}, %[[POW]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK: %[[ROOT:.+]] = arith.constant 0.333333343 : f32
// CHECK: math.powf %{{.+}}, %[[ROOT]] : f32
func.func @lppool(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = tessel.pool lp %x layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, p = 3.0 : f64}
         : tensor<1x2x6x6xf32> -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// ceil_mode's last window runs past the input: the input is padded high by
// one; with count_include_pad the divisor still leaves that ceil-mode
// overhang out, so it is computed per window (floordivsi/ceildivsi on
// linalg.index), not a constant.
// CHECK-LABEL: func @avgpool_include_pad_ceil
// CHECK: tensor.pad %{{.+}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x2x6x6xf32>, tensor<2x2xf32>)
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: linalg.index 2
// CHECK: arith.ceildivsi
// CHECK: arith.floordivsi
// CHECK: linalg.index 3
// CHECK: %[[COUNT:.+]] = arith.sitofp %{{.+}} : i64 to f32
// CHECK: arith.divf %{{.+}}, %[[COUNT]] : f32
func.func @avgpool_include_pad_ceil(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32> {
  %0 = tessel.pool avg %x layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode, count_include_pad}
         : tensor<1x2x5x5xf32> -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Global average pooling reduces the spatial dims into a [N, C, 1, 1]
// accumulator and divides by the constant window size 16.
// CHECK-DAG: #[[ALL:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[KEEP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// CHECK-LABEL: func @global_avg
// CHECK: linalg.generic {indexing_maps = [#[[ALL]], #[[KEEP]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: %[[SIXTEEN:.+]] = arith.constant 1.600000e+01 : f32
// CHECK: arith.divf %{{.+}}, %[[SIXTEEN]] : f32
func.func @global_avg(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x1x1xf32> {
  %0 = tessel.global_pool avg %x layout nchw : tensor<1x3x4x4xf32> -> tensor<1x3x1x1xf32>
  return %0 : tensor<1x3x1x1xf32>
}

// -----

// Adaptive pooling: window o of a dim of 5 pooled to 2 is
// [floor(o * 5 / 2), ceil((o + 1) * 5 / 2)); the window loops run to the
// largest window (3 x 3) and positions past a window's end are skipped.
// CHECK-LABEL: func @adaptive_max
// CHECK: %[[LARGEST:.+]] = tensor.empty() : tensor<3x3xf32>
// CHECK: linalg.generic {{.*}} ins(%[[LARGEST]] : tensor<3x3xf32>)
// CHECK: %[[ROW:.+]] = linalg.index 2 : index
// CHECK: %[[SCALED:.+]] = arith.muli %[[ROW]], %c5 : index
// CHECK: arith.floordivsi %[[SCALED]], %c2 : index
// CHECK: arith.ceildivsi
// CHECK: arith.cmpi slt
// CHECK: %[[X:.+]] = tensor.extract %{{.+}} : tensor<1x3x5x7xf32>
// CHECK: %[[MAX:.+]] = arith.maximumf %{{.+}}, %[[X]] : f32
// CHECK: arith.select %{{.+}}, %[[MAX]], %{{.+}} : f32
func.func @adaptive_max(%x: tensor<1x3x5x7xf32>) -> tensor<1x3x2x3xf32> {
  %0 = tessel.adaptive_pool max %x layout nchw {output_size = array<i64: 2, 3>} : tensor<1x3x5x7xf32> -> tensor<1x3x2x3xf32>
  return %0 : tensor<1x3x2x3xf32>
}

// -----

// The max-pool gradient first finds each window's argmax (a second,
// index-typed accumulator starting at -1; NaN wins as in PyTorch), then
// each input position sums the gradients of the windows whose argmax it is.
// CHECK-LABEL: func @maxpool_backward
// CHECK: %[[NONE:.+]] = linalg.fill ins(%c-1 : index) outs(%{{.+}} : tensor<1x2x2x2xindex>)
// CHECK: %[[ARGMAX:.+]]:2 = linalg.generic {{.*}} outs(%{{.+}}, %[[NONE]] : tensor<1x2x2x2xf32>, tensor<1x2x2x2xindex>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// CHECK: linalg.yield %{{.+}}, %{{.+}} : f32, index
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x4x4xf32>)
// CHECK: arith.floordivsi
// CHECK: %[[DY:.+]] = tensor.extract %{{.+}} : tensor<1x2x2x2xf32>
// CHECK: %[[WINNER:.+]] = tensor.extract %[[ARGMAX]]#1[{{.+}}] : tensor<1x2x2x2xindex>
// CHECK: arith.cmpi eq, %[[WINNER]], %{{.+}} : index
// CHECK: %[[SUM:.+]] = arith.addf %{{.+}}, %[[DY]] : f32
// CHECK: arith.select %{{.+}}, %[[SUM]], %{{.+}} : f32
func.func @maxpool_backward(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32> {
  %0 = tessel.pool_backward max %x, %dy layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
         : (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// The adaptive average gradient: each input position visits the windows
// that may hold it (first one floor(i * 2 / 5)), keeps those whose
// [start, end) holds it, and adds dy divided by that window's size.
// CHECK-LABEL: func @adaptive_avg_backward
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x5x5xf32>)
// CHECK: %[[I:.+]] = linalg.index 2 : index
// CHECK: %[[SCALED:.+]] = arith.muli %[[I]], %c2 : index
// CHECK: arith.floordivsi %[[SCALED]], %c5 : index
// CHECK: arith.cmpi sle
// CHECK: arith.ceildivsi
// CHECK: %[[DY:.+]] = tensor.extract %{{.+}} : tensor<1x2x2x2xf32>
// CHECK: %[[SIZE:.+]] = arith.sitofp %{{.+}} : i64 to f32
// CHECK: %[[SHARE:.+]] = arith.divf %[[DY]], %[[SIZE]] : f32
// CHECK: %[[SUM:.+]] = arith.addf %{{.+}}, %[[SHARE]] : f32
// CHECK: arith.select %{{.+}}, %[[SUM]], %{{.+}} : f32
func.func @adaptive_avg_backward(%x: tensor<1x2x5x5xf32>, %dy: tensor<1x2x2x2xf32>) -> tensor<1x2x5x5xf32> {
  %0 = tessel.adaptive_pool_backward avg %x, %dy layout nchw {output_size = array<i64: 2, 2>}
         : (tensor<1x2x5x5xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

// The max-pool tangent carries each window's running maximum of x with the
// tangent at it (two accumulators; strictly greater or NaN replaces, so the
// first maximum wins as in the gradient) and returns the tangent.
// CHECK-LABEL: func @maxpool_tangent
// CHECK: %[[R:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}} : tensor<2x2xf32>) outs(%{{.+}}, %{{.+}} : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK: %[[T:.+]] = tensor.extract %arg1
// CHECK: %[[X:.+]] = tensor.extract %arg0
// CHECK: arith.cmpf ogt, %[[X]]
// CHECK: %[[TAKE:.+]] = arith.andi
// CHECK: arith.select %[[TAKE]], %[[X]]
// CHECK: arith.select %[[TAKE]], %[[T]]
// CHECK: return %[[R]]#1
func.func @maxpool_tangent(%x: tensor<1x2x4x4xf32>, %t: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %0 = tessel.pool_tangent max %x, %t layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
         : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  return %0 : tensor<1x2x2x2xf32>
}

// -----

// The adaptive average tangent sums each window's tangent divided by the
// window's size; the window loops run to the widest window (3 of 5 -> 2).
// CHECK-LABEL: func @adaptive_avg_tangent
// CHECK: linalg.generic {{.*}} ins(%{{.+}} : tensor<3x3xf32>) outs(%{{.+}} : tensor<1x2x2x2xf32>)
// CHECK: arith.ceildivsi
// CHECK: %[[T:.+]] = tensor.extract %arg1
// CHECK: %[[SIZE:.+]] = arith.sitofp %{{.+}} : i64 to f32
// CHECK: %[[SHARE:.+]] = arith.divf %[[T]], %[[SIZE]] : f32
// CHECK: %[[SUM:.+]] = arith.addf %{{.+}}, %[[SHARE]] : f32
// CHECK: arith.select %{{.+}}, %[[SUM]], %{{.+}} : f32
func.func @adaptive_avg_tangent(%x: tensor<1x2x5x5xf32>, %t: tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32> {
  %0 = tessel.adaptive_pool_tangent avg %x, %t layout nchw {output_size = array<i64: 2, 2>}
         : (tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
  return %0 : tensor<1x2x2x2xf32>
}
