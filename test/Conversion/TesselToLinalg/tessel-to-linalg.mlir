// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s

// A channels-last conv with an HWIO filter becomes the named NHWC conv, its
// padding a tensor.pad and its bias the broadcast initial accumulator.
// CHECK-LABEL: func @conv_nhwc
// CHECK: %[[PAD:.+]] = tensor.pad %{{.+}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[INIT:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<8xf32>)
// CHECK: linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %{{.+}} : tensor<1x10x10x4xf32>, tensor<3x3x4x8xf32>) outs(%[[INIT]] : tensor<1x4x4x8xf32>)
func.func @conv_nhwc(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x8xf32>, %b: tensor<8xf32>) -> tensor<1x4x4x8xf32> {
  %0 = tessel.conv %x, %w, %b layout nhwc, hwio {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x8x8x4xf32>, tensor<3x3x4x8xf32>, tensor<8xf32>) -> tensor<1x4x4x8xf32>
  return %0 : tensor<1x4x4x8xf32>
}

// -----

// Depthwise channels-last convs use the named depthwise op on the collapsed filter.
// CHECK-LABEL: func @depthwise_nhwc
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<3x3x1x16xf32> into tensor<3x3x16xf32>
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
func.func @depthwise_nhwc(%x: tensor<1x8x8x16xf32>, %w: tensor<3x3x1x16xf32>) -> tensor<1x6x6x16xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {groups = 16 : i64}
         : (tensor<1x8x8x16xf32>, tensor<3x3x1x16xf32>) -> tensor<1x6x6x16xf32>
  return %0 : tensor<1x6x6x16xf32>
}

// -----

// Any other conv is one generic; grouped channel dims are split into
// [groups, channels per group] so that every loop is an operand dim.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 + d7)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func @grouped_nchw
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] {{.*}} : tensor<1x4x9x9xf32> into tensor<1x2x2x9x9xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x4x7xf32> into tensor<1x6x4x7xf32>
func.func @grouped_nchw(%x: tensor<1x4x9x9xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x7xf32> {
  %0 = tessel.conv %x, %w layout nchw, oihw {groups = 2 : i64, strides = array<i64: 2, 1>}
         : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x7xf32>
  return %0 : tensor<1x6x4x7xf32>
}

// -----

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

// Binary ops broadcast through their indexing maps, not through copies.
// CHECK-DAG: #[[FULL:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CHAN:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-LABEL: func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[FULL]], #[[CHAN]], #[[FULL]]]
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<1x64x8x8xf32>, %b: tensor<64x1x1xf32>) -> tensor<1x64x8x8xf32> {
  %0 = tessel.add %a, %b : (tensor<1x64x8x8xf32>, tensor<64x1x1xf32>) -> tensor<1x64x8x8xf32>
  return %0 : tensor<1x64x8x8xf32>
}

// -----

// relayout is a linalg.transpose with the permutation the layouts imply.
// CHECK-LABEL: func @relayout
// CHECK: linalg.transpose ins(%{{.+}} : tensor<2x3x4x5xf32>) outs(%{{.+}} : tensor<2x4x5x3xf32>) permutation = [0, 2, 3, 1]
func.func @relayout(%x: tensor<2x3x4x5xf32>) -> tensor<2x4x5x3xf32> {
  %0 = tessel.relayout %x from nchw to nhwc : tensor<2x3x4x5xf32> -> tensor<2x4x5x3xf32>
  return %0 : tensor<2x4x5x3xf32>
}

