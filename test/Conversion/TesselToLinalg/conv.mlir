// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the conv family (ConvToLinalg.cpp): named linalg convs for
// the channels-last forms linalg's vectorizer handles, one generic for every
// other form, a gather for transposed convs, and the filter gradient.

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

// 1-D channels-last with a WIO filter: the named 1-D op, dilation carried
// over; without a bias the accumulator starts at zero (linalg.fill).
// CHECK-LABEL: func @conv1d_nwc
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x6x8xf32>)
// CHECK: linalg.conv_1d_nwc_wcf {dilations = dense<2> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>} ins(%{{.+}}, %{{.+}} : tensor<1x10x4xf32>, tensor<3x4x8xf32>) outs(%[[ZERO]] : tensor<1x6x8xf32>)
func.func @conv1d_nwc(%x: tensor<1x10x4xf32>, %w: tensor<3x4x8xf32>) -> tensor<1x6x8xf32> {
  %0 = tessel.conv %x, %w layout nwc, wio {dilations = array<i64: 2>}
         : (tensor<1x10x4xf32>, tensor<3x4x8xf32>) -> tensor<1x6x8xf32>
  return %0 : tensor<1x6x8xf32>
}

// -----

// 3-D channels-last with a DHWIO filter: the named 3-D op.
// CHECK-LABEL: func @conv3d_ndhwc
// CHECK: linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
// CHECK-NOT: linalg.generic
func.func @conv3d_ndhwc(%x: tensor<1x4x4x4x2xf32>, %w: tensor<2x2x2x2x3xf32>) -> tensor<1x3x3x3x3xf32> {
  %0 = tessel.conv %x, %w layout ndhwc, dhwio
         : (tensor<1x4x4x4x2xf32>, tensor<2x2x2x2x3xf32>) -> tensor<1x3x3x3x3xf32>
  return %0 : tensor<1x3x3x3x3xf32>
}

// -----

// A transposed conv gathers: each output position reads input position
// (o + pad - k * dilation) / stride when that division is exact and inside
// the input, so the body computes the index (floordivsi by the stride 2),
// checks it (cmpi eq after multiplying back, bounds), extracts and selects.
// The filter's input channels are split into [groups, per group].
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d2, d6, d7)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func @conv_transpose_nchw
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3], [4]] output_shape [1, 4, 3, 3, 3]
// CHECK: linalg.generic {indexing_maps = [#[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: arith.floordivsi %{{.+}}, %c2
// CHECK: arith.cmpi eq
// CHECK: %[[X:.+]] = tensor.extract %{{.+}}[{{.+}}] : tensor<1x4x5x5xf32>
// CHECK: %[[PRODUCT:.+]] = arith.mulf %[[X]], %{{.+}} : f32
// CHECK: %[[SUM:.+]] = arith.addf %{{.+}}, %[[PRODUCT]] : f32
// CHECK: arith.select %{{.+}}, %[[SUM]], %{{.+}} : f32
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x3x11x11xf32> into tensor<1x3x11x11xf32>
func.func @conv_transpose_nchw(%x: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x11x11xf32> {
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw {strides = array<i64: 2, 2>}
         : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x11x11xf32>
  return %0 : tensor<1x3x11x11xf32>
}

// -----

// The filter gradient is the forward conv's generic with the filter as the
// accumulator: the batch (d0) and output positions (d3, d4) reduce, the
// filter dims stay parallel.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-DAG: #[[DY:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[DW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-LABEL: func @conv_backward_filter
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[DY]], #[[DW]]], iterator_types = ["reduction", "parallel", "parallel", "reduction", "reduction", "parallel", "parallel", "parallel"]}
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2], [3], [4]] : tensor<1x8x4x3x3xf32> into tensor<8x4x3x3xf32>
func.func @conv_backward_filter(%x: tensor<2x4x6x6xf32>, %dy: tensor<2x8x4x4xf32>) -> tensor<8x4x3x3xf32> {
  %0 = tessel.conv_backward_filter %x, %dy layout nchw, oihw {kernel = array<i64: 3, 3>}
         : (tensor<2x4x6x6xf32>, tensor<2x8x4x4xf32>) -> tensor<8x4x3x3xf32>
  return %0 : tensor<8x4x3x3xf32>
}
